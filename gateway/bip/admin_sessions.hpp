// SPDX-License-Identifier: GPL-2.0-or-later
// The shell of the cards' BIP admin channels (admin_session_fsm.hpp) on the daemon's loop: it
// is the RAS's handler (the card's TLS session, its POSTs, its connection's end), runs each
// card's machine, and carries out its actions: the push (secured by the request pipeline, which
// owns the counters), the answers on the RAS, and what became of each script, told to the
// request that queued it (BipScripts). Channels with nothing to do are dropped from memory.
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>

#include "bip/admin_session_fsm.hpp"
#include "bip/ras_server.hpp"
#include "config/config.hpp"
#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/db/store.hpp"

namespace otagw::gateway::bip {

// What the requests do for the channels, and hear from them.
class BipScripts {
public:
    virtual ~BipScripts() = default;
    // Secures and sends the push (`trigger`, the '81' template) to the card's ISD, once what
    // is being written now is written: `written` with its message, then `submitted` with the
    // SMSC's verdict (empty: taken), or `submitted` alone with why it could not be made.
    virtual void send_push(int64_t card_id, Bytes trigger, int64_t for_message,
                           std::function<void(int64_t message_id)> written,
                           std::function<void(std::string error)> submitted) = 0;
    virtual void delivered(int64_t message_id) = 0;
    virtual void answered(int64_t message_id, const ota::ram::ExpandedResponse& results) = 0;
    virtual void lost(int64_t message_id) = 0;
    virtual void failed(int64_t message_id, const Reason& reason, const std::string& why) = 0;
};

class AdminSessions final : public RasHandler {
public:
    AdminSessions(uv_loop_t* loop, db::Store& store, const GatewayConfig& config);
    ~AdminSessions() override;

    void set_scripts(BipScripts* scripts) { scripts_ = scripts; }
    void set_server(RasServer* ras) { ras_ = ras; }

    // A request's script for the card: queued now, may go once written (ready()).
    void queue(int64_t card_id, int64_t message_id);
    void ready(int64_t card_id, int64_t message_id, Bytes script);
    void withdraw(int64_t card_id, int64_t message_id);
    // The card answered the push with a PoR: an error (the push asked for PoR on error only).
    void push_refused(int64_t card_id, int64_t push_message_id, const Reason& reason);
    bool is_push(int64_t message_id) const { return push_cards_.count(message_id) != 0; }

    // RasHandler
    bool opened(ConnectionId id, const RasCard& card) override;
    void posted(ConnectionId id, const RasCard& card, AdminPost&& post,
                std::function<void(AdminReply)> answer) override;
    void closed(ConnectionId id, const RasCard& card, const std::string& why) override;
    void tls_failed(const std::optional<RasCard>& card, const std::string& why) override;

    // The '81' trigger for a card (its SCP81 keyset and the ras config).
    Result<Bytes> trigger_for(int64_t card_id) const;
    size_t channels() const { return channels_.size(); }
    const Counters& counters() const { return counters_; }
    std::vector<std::string> show() const;

    struct Channel;

private:
    Channel& channel(int64_t card_id);
    void handle(Channel& c, SessionEventData event);
    void execute(Channel& c, const SessionAction& a);
    void push(Channel& c);
    void drop_if_idle(int64_t card_id);

    uv_loop_t* loop_;
    db::Store& store_;
    const GatewayConfig& config_;
    SessionFsm fsm_;
    BipScripts* scripts_ = nullptr;
    RasServer* ras_ = nullptr;
    std::unordered_map<int64_t, std::unique_ptr<Channel>> channels_;
    std::unordered_map<int64_t, int64_t> push_cards_; // push message id -> card
    Counters counters_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace otagw::gateway::bip
