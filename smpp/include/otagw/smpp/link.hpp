// SPDX-License-Identifier: GPL-2.0-or-later
// One SMPP connection, either side: frames PDUs out of the TCP stream, numbers requests and
// matches their responses (or generic_nack) by sequence_number, with a timeout each, and hands
// incoming requests to its owner. A PDU it cannot read is answered with generic_nack carrying
// the status decode() gave; a command_length outside 16..65536 ends the connection (the stream
// cannot be resynchronised).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "otagw/common/counters.hpp"
#include "otagw/common/uv.hpp"
#include "otagw/smpp/pdu.hpp"

namespace otagw::smpp {

enum class LinkError { None, Timeout, Closed, Nack };

// The outcome of one request: the response (also a generic_nack, as LinkError::Nack), or none.
struct Response {
    LinkError error = LinkError::None;
    const Pdu* pdu = nullptr; // valid during the callback only
};

class Link {
public:
    struct Handlers {
        std::function<void(Pdu)> on_request; // the owner answers with respond()
        std::function<void(int uv_error, const std::string& why)> on_closed; // once
    };
    using ResponseCb = std::function<void(const Response&)>;

    Link(uv_loop_t* loop, std::unique_ptr<uv::TcpStream> stream, Handlers handlers,
         Counters* counters = nullptr, std::string name = "smpp");
    ~Link(); // closes; outstanding callbacks get LinkError::Closed

    // Sends a request with a fresh sequence_number (returned); `cb` runs exactly once.
    uint32_t request(Pdu pdu, uint64_t timeout_ms, ResponseCb cb);
    // Sends a response (its sequence_number copied from the request by the caller).
    void respond(const Pdu& pdu);
    // Sends any PDU as is (tests use it to send what a peer should not).
    void send_raw(ByteView bytes);

    size_t outstanding() const { return pending_.size(); }
    size_t pending_write_bytes() const { return stream_ ? stream_->pending_write_bytes() : 0; }
    bool is_open() const { return stream_ && stream_->is_open(); }
    std::string peer() const { return stream_ ? stream_->peer() : "?"; }
    // Closes now; outstanding callbacks get LinkError::Closed; on_closed is not called.
    void close();

private:
    struct Pending {
        uint32_t command_id;
        uint64_t deadline;
        ResponseCb cb;
    };
    void on_data(ByteView data);
    void on_pdu(ByteView bytes);
    void fail(int uv_error, const std::string& why);
    void fail_all(LinkError error);
    void arm_timer();
    void on_timer();
    uint32_t next_sequence();

    uv_loop_t* loop_;
    std::unique_ptr<uv::TcpStream> stream_;
    Handlers handlers_;
    Counters* counters_;
    std::string name_;
    Bytes rx_;
    size_t rx_start_ = 0;
    uint32_t sequence_ = 0;
    std::map<uint32_t, Pending> pending_;
    std::set<std::pair<uint64_t, uint32_t>> deadlines_;
    uv::Timer timer_;
    Bytes tx_;
    std::shared_ptr<bool> alive_;
};

} // namespace otagw::smpp
