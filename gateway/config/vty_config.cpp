// SPDX-License-Identifier: GPL-2.0-or-later
// Config nodes and show commands on libosmovty. Commands are registered at run time (C++20
// cannot use the DEFUN tables' out-of-order designated initialisers): each cmd_element points
// to one trampoline, which finds the command's std::function by the element's address.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <functional>
#include <unordered_map>

#include "config/timers.hpp"
#include "config/vty.hpp"
#include "config/vty_auth.hpp"
#include "otagw/common/bytes.hpp"
#include "otagw/common/osmo.hpp"
#include "otagw/common/tls_psk.hpp"
#include "otagw/ota/amd_b.hpp"
#include "requests/cap_loads.hpp"

namespace otagw::gateway {

namespace {

enum Node {
    kSmppNode = _LAST_OSMOVTY_NODE + 1,
    kBindNode,
    kDbNode,
    kApiNode,
    kOtaNode,
    kRequestsNode,
    kApplicationNode,
    kProviderNode,
    kRasNode,
};

using Fn = std::function<int(struct vty*, int argc, const char** argv)>;

struct Registry {
    std::deque<cmd_element> elements; // stable addresses: libosmovty keeps pointers
    std::unordered_map<const cmd_element*, Fn> handlers;
};

Registry& registry() {
    static Registry r;
    return r;
}

GatewayConfig* g_config = nullptr;
VtyBackend* g_backend = nullptr;

int trampoline(cmd_element* self, struct vty* vty, int argc, const char* argv[]) {
    return registry().handlers.at(self)(vty, argc, argv);
}

void add(int node, const char* spec, const char* doc, Fn fn) {
    Registry& r = registry();
    cmd_element& e = r.elements.emplace_back();
    e = cmd_element{};
    e.string = spec;
    e.func = trampoline;
    e.doc = doc;
    r.handlers.emplace(&e, std::move(fn));
    install_element(node, &e);
}

int warn(struct vty* vty, const std::string& message) {
    vty_out(vty, "%% %s%s", message.c_str(), VTY_NEWLINE);
    return CMD_WARNING;
}

// A security setting (tokens, keys, secrets, the peers they go to): taken from the config file
// at start only, never changed on a running daemon from a telnet session (doc/security.md).
void add_start_only(int node, const char* spec, const char* doc, Fn fn) {
    const std::string name(spec, std::strcspn(spec, " "));
    add(node, spec, doc, [name, fn = std::move(fn)](struct vty* vty, int argc, const char** argv) {
        if (vty->type == VTY_TERM)
            return warn(vty, name + ": a security setting, read from the config file at start "
                                    "only: edit the file and restart the daemon");
        return fn(vty, argc, argv);
    });
}

void print(struct vty* vty, const std::vector<std::string>& lines) {
    for (const auto& l : lines)
        vty_out(vty, "%s%s", l.c_str(), VTY_NEWLINE);
}

bool hex_ok(std::string_view s, size_t min_bytes, size_t max_bytes) {
    return s.size() % 2 == 0 && s.size() >= 2 * min_bytes && s.size() <= 2 * max_bytes &&
           parse_hex(s).ok();
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

template <typename T>
T* current(struct vty* vty) {
    return static_cast<T*>(vty->index);
}

smpp::BindConfig& bind_named(const std::string& name) {
    auto& binds = g_config->smpp.binds;
    for (auto& b : binds)
        if (b.name == name)
            return b;
    smpp::BindConfig b;
    b.name = name;
    binds.push_back(b);
    return binds.back();
}

db::Application& application_named(const std::string& name) {
    auto& apps = g_config->applications;
    for (auto& a : apps)
        if (a.name == name)
            return a;
    db::Application a;
    a.name = name;
    apps.push_back(a);
    return apps.back();
}

ProviderConfig& provider_named(const std::string& name) {
    auto& ps = g_config->providers;
    for (auto& p : ps)
        if (p.name == name)
            return p;
    ProviderConfig p;
    p.name = name;
    ps.push_back(p);
    return ps.back();
}

const char* mode_name(smpp::BindMode m) {
    switch (m) {
    case smpp::BindMode::Transceiver:
        return "transceiver";
    case smpp::BindMode::TransmitterReceiver:
        return "transmitter-receiver";
    }
    return "transceiver";
}

// ---- config writers (write terminal / write file) ----

#define NL VTY_NEWLINE

int write_smpp(struct vty* vty) {
    if (g_config->smpp.binds.empty())
        return CMD_SUCCESS;
    vty_out(vty, "smpp%s", NL);
    for (const auto& b : g_config->smpp.binds) {
        vty_out(vty, " bind %s%s", b.name.c_str(), NL);
        vty_out(vty, "  remote-ip %s%s", b.host.c_str(), NL);
        vty_out(vty, "  remote-port %u%s", b.port, NL);
        vty_out(vty, "  mode %s%s", mode_name(b.mode), NL);
        if (!b.system_id.empty())
            vty_out(vty, "  system-id %s%s", b.system_id.c_str(), NL);
        // The file keeps the password; a terminal never shows it.
        if (!b.password.empty())
            vty_out(vty, "  password %s%s",
                    vty->type == VTY_FILE ? b.password.c_str() : "<redacted>", NL);
        if (!b.system_type.empty())
            vty_out(vty, "  system-type %s%s", b.system_type.c_str(), NL);
        vty_out(vty, "  window %u%s", b.window, NL);
        vty_out(vty, "  tps %u%s", static_cast<unsigned>(b.tps), NL);
        vty_out(vty, "  enquire-link-interval %u%s", b.enquire_link_ms / 1000, NL);
    }
    return CMD_SUCCESS;
}

int write_db(struct vty* vty) {
    const DbConfig& d = g_config->db;
    vty_out(vty, "db%s", NL);
    vty_out(vty, " path %s%s", d.path.c_str(), NL);
    vty_out(vty, " synchronous %s%s", lower(d.synchronous).c_str(), NL);
    if (d.busy_timeout_ms != DbConfig{}.busy_timeout_ms)
        vty_out(vty, " busy-timeout %d%s", d.busy_timeout_ms, NL);
    if (!d.master_key_file.empty())
        vty_out(vty, " master-key-file %s%s", d.master_key_file.c_str(), NL);
    else
        vty_out(vty, " master-key-env %s%s", d.master_key_env.c_str(), NL);
    return CMD_SUCCESS;
}

int write_api(struct vty* vty) {
    const ApiConfig& a = g_config->api;
    vty_out(vty, "api%s", NL);
    vty_out(vty, " listen %s %u%s", a.ip.c_str(), a.port, NL);
    vty_out(vty, " max-connections %zu%s", a.max_connections, NL);
    const ApiConfig defaults;
    if (a.max_per_address != defaults.max_per_address)
        vty_out(vty, " max-per-address %zu%s", a.max_per_address, NL);
    if (a.head_timeout_s != defaults.head_timeout_s)
        vty_out(vty, " head-timeout %u%s", a.head_timeout_s, NL);
    if (a.body_timeout_s != defaults.body_timeout_s)
        vty_out(vty, " body-timeout %u%s", a.body_timeout_s, NL);
    for (const auto& t : a.tokens)
        vty_out(vty, " token %s sha256 %s%s", t.name.c_str(), t.sha256.c_str(), NL);
    return CMD_SUCCESS;
}

int write_ota(struct vty* vty) {
    const OtaConfig& o = g_config->ota;
    vty_out(vty, "ota%s", NL);
    vty_out(vty, " spi %04x%s", o.spi, NL);
    vty_out(vty, " por-mode %s%s", (o.spi & 0x0020) ? "sms-submit" : "delivery-report", NL);
    vty_out(vty, " kvn %u%s", o.kvn, NL);
    if (o.rc != OtaConfig{}.rc)
        vty_out(vty, " rc %s%s", o.rc == RcType::Crc16 ? "crc16" : "crc32", NL);
    for (const TimerDef& t : timer_defs())
        if (timer_written(o, t))
            vty_out(vty, " timer %s %lld%s", t.name, static_cast<long long>(t.get(o)), NL);
    if (o.max_segments != OtaConfig{}.max_segments)
        vty_out(vty, " max-segments %u%s", o.max_segments, NL);
    if (o.bearer != OtaConfig::Bearer::SmsPp)
        vty_out(vty, " bearer %s%s", o.bearer == OtaConfig::Bearer::Bip ? "bip" : "auto", NL);
    if (o.bip_above_sms != OtaConfig{}.bip_above_sms)
        vty_out(vty, " bip-above-sms %u%s", o.bip_above_sms, NL);
    if (o.load_hash != OtaConfig::LoadHash::None)
        vty_out(vty, " load-hash %s%s",
                o.load_hash == OtaConfig::LoadHash::Sha1 ? "sha1" : "sha256", NL);
    return CMD_SUCCESS;
}

int write_requests(struct vty* vty) {
    const RequestsConfig& r = g_config->requests;
    vty_out(vty, "requests%s", NL);
    if (!r.short_code.empty())
        vty_out(vty, " short-code %s%s", r.short_code.c_str(), NL);
    if (!r.region.empty())
        vty_out(vty, " region %s%s", r.region.c_str(), NL);
    for (const auto& prefix : r.ranges)
        vty_out(vty, " number-range %s%s", prefix.c_str(), NL);
    for (const auto& k : r.keywords)
        for (const auto& [word, op] : k.words)
            vty_out(vty, " keyword %s %s %s%s", k.language.c_str(), operation_name(op),
                    word.c_str(), NL);
    return CMD_SUCCESS;
}

int write_applications(struct vty* vty) {
    for (const auto& a : g_config->applications) {
        vty_out(vty, "application %s%s", a.name.c_str(), NL);
        if (!a.aid.empty())
            vty_out(vty, " aid %s%s", a.aid.c_str(), NL);
        if (!a.code.empty())
            vty_out(vty, " code %s%s", a.code.c_str(), NL);
        if (!a.type.empty())
            vty_out(vty, " type %s%s", a.type.c_str(), NL);
        if (!a.load_file_aid.empty())
            vty_out(vty, " load-file %s%s", a.load_file_aid.c_str(), NL);
        if (!a.module_aid.empty())
            vty_out(vty, " module %s%s", a.module_aid.c_str(), NL);
        if (!a.install_params.empty())
            vty_out(vty, " install-params %s%s", a.install_params.c_str(), NL);
        if (auto cap = g_config->cap_files.find(a.name); cap != g_config->cap_files.end())
            vty_out(vty, " cap %s%s", cap->second.c_str(), NL);
        if (!a.tar.empty())
            vty_out(vty, " tar %s%s", a.tar.c_str(), NL);
        vty_out(vty, " msl %02x%s", a.msl, NL);
        if (!a.provider.empty())
            vty_out(vty, " provider %s%s", a.provider.c_str(), NL);
    }
    return CMD_SUCCESS;
}

int write_providers(struct vty* vty) {
    for (const auto& p : g_config->providers) {
        vty_out(vty, "provider %s%s", p.name.c_str(), NL);
        if (!p.url.empty())
            vty_out(vty, " url %s%s", p.url.c_str(), NL);
        if (!p.secret_file.empty())
            vty_out(vty, " secret-file %s%s", p.secret_file.c_str(), NL);
        if (!p.ca_file.empty())
            vty_out(vty, " ca-file %s%s", p.ca_file.c_str(), NL);
        if (p.insecure_http)
            vty_out(vty, " insecure-http%s", NL);
        vty_out(vty, " timeout %u%s", p.timeout_ms, NL);
        vty_out(vty, " retries %u%s", p.retries, NL);
        if (p.max_answer_bytes != ProviderConfig{}.max_answer_bytes)
            vty_out(vty, " max-answer %zu%s", p.max_answer_bytes, NL);
    }
    return CMD_SUCCESS;
}

std::string tls_version_name(uint16_t v) {
    return v == tls::kTls10 ? "1.0" : v == tls::kTls11 ? "1.1" : "1.2";
}

int write_ras(struct vty* vty) {
    const RasConfig& r = g_config->ras;
    if (!r.enabled())
        return CMD_SUCCESS;
    const RasConfig d;
    vty_out(vty, "ras%s", NL);
    vty_out(vty, " listen %s %u%s", r.ip.c_str(), r.port, NL);
    if (!r.card_ip.empty())
        vty_out(vty, " card-address %s %u%s", r.card_ip.c_str(), r.card_port, NL);
    if (!r.host.empty())
        vty_out(vty, " host %s%s", r.host.c_str(), NL);
    vty_out(vty, " uri %s%s", r.uri.c_str(), NL);
    vty_out(vty, " agent-id %s%s", r.agent_id.c_str(), NL);
    if (!r.apn.empty())
        vty_out(vty, " apn %s%s", r.apn.c_str(), NL);
    if (r.buffer_size != d.buffer_size)
        vty_out(vty, " buffer-size %u%s", r.buffer_size, NL);
    vty_out(vty, " session-timeout %u%s", r.session_timeout_s, NL);
    if (r.handshake_timeout_s != d.handshake_timeout_s)
        vty_out(vty, " handshake-timeout %u%s", r.handshake_timeout_s, NL);
    vty_out(vty, " max-sessions %zu%s", r.max_sessions, NL);
    if (r.suites != d.suites) {
        std::string names;
        for (uint16_t s : r.suites)
            names += " " + tls::suite_name(s);
        vty_out(vty, " suites%s%s", names.c_str(), NL);
    }
    if (r.min_version != d.min_version)
        vty_out(vty, " tls-min-version %s%s", tls_version_name(r.min_version).c_str(), NL);
    if (r.retry_count || r.retry_delay_s)
        vty_out(vty, " session-retry %u %u%s", r.retry_count, r.retry_delay_s, NL);
    return CMD_SUCCESS;
}

cmd_node make_node(int node, const char* prompt) {
    cmd_node n{};
    n.node = node;
    n.prompt = prompt;
    n.vtysh = 1;
    return n;
}

cmd_node g_nodes[] = {
    make_node(kSmppNode, "%s(config-smpp)# "),
    make_node(kBindNode, "%s(config-smpp-bind)# "),
    make_node(kDbNode, "%s(config-db)# "),
    make_node(kApiNode, "%s(config-api)# "),
    make_node(kOtaNode, "%s(config-ota)# "),
    make_node(kRequestsNode, "%s(config-requests)# "),
    make_node(kApplicationNode, "%s(config-application)# "),
    make_node(kProviderNode, "%s(config-provider)# "),
    make_node(kRasNode, "%s(config-ras)# "),
};

void install_config_nodes() {
    install_node(&g_nodes[0], write_smpp);
    install_node(&g_nodes[1], nullptr);
    install_node(&g_nodes[2], write_db);
    install_node(&g_nodes[3], write_api);
    install_node(&g_nodes[4], write_ota);
    install_node(&g_nodes[5], write_requests);
    install_node(&g_nodes[6], write_applications);
    install_node(&g_nodes[7], write_providers);
    install_node(&g_nodes[8], write_ras);

    // smpp / bind NAME
    add(CONFIG_NODE, "smpp", "Configure the SMPP links to the SMSC\n",
        [](struct vty* vty, int, const char**) {
            vty->node = kSmppNode;
            vty->index = nullptr;
            return CMD_SUCCESS;
        });
    add(kSmppNode, "bind NAME", "Configure one ESME bind\nName of the bind\n",
        [](struct vty* vty, int, const char** argv) {
            vty->index = &bind_named(argv[0]);
            vty->node = kBindNode;
            return CMD_SUCCESS;
        });
    add(kSmppNode, "no bind NAME", NO_STR "Remove an ESME bind\nName of the bind\n",
        [](struct vty* vty, int, const char** argv) {
            auto& binds = g_config->smpp.binds;
            auto it = std::find_if(binds.begin(), binds.end(),
                                   [&](const auto& b) { return b.name == argv[0]; });
            if (it == binds.end())
                return warn(vty, std::string("no bind named ") + argv[0]);
            binds.erase(it);
            return CMD_SUCCESS;
        });
    add(kBindNode, "remote-ip A.B.C.D", "SMSC address\nIPv4 address\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->host = argv[0];
            return CMD_SUCCESS;
        });
    add(kBindNode, "remote-port <1-65535>", "SMSC TCP port\nPort\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->port = static_cast<uint16_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kBindNode, "mode (transceiver|transmitter-receiver)",
        "How to bind\nOne bind_transceiver session\nA bind_transmitter and a bind_receiver "
        "session\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->mode = std::string(argv[0]) == "transceiver"
                                                       ? smpp::BindMode::Transceiver
                                                       : smpp::BindMode::TransmitterReceiver;
            return CMD_SUCCESS;
        });
    add(kBindNode, "system-id ID",
        "SMPP system_id (SMPP 3.4 §5.2.1, at most 15 characters)\nThe system_id\n",
        [](struct vty* vty, int, const char** argv) {
            if (strlen(argv[0]) > 15)
                return warn(vty, "system-id: at most 15 characters (SMPP 3.4 §5.2.1)");
            current<smpp::BindConfig>(vty)->system_id = argv[0];
            return CMD_SUCCESS;
        });
    add_start_only(kBindNode, "password PASSWORD",
                   "SMPP password (at most 8 characters)\nThe password\n",
                   [](struct vty* vty, int, const char** argv) {
                       if (strlen(argv[0]) > 8)
                           return warn(vty, "password: at most 8 characters (SMPP 3.4 §5.2.2)");
                       current<smpp::BindConfig>(vty)->password = argv[0];
                       return CMD_SUCCESS;
                   });
    add(kBindNode, "system-type TYPE", "SMPP system_type\nThe system_type\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->system_type = argv[0];
            return CMD_SUCCESS;
        });
    add(kBindNode, "window <1-1000>", "Outstanding submit_sm per session\nCount\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->window = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kBindNode, "tps <0-100000>", "submit_sm per second on this bind\nRate, 0 for no limit\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->tps = atoi(argv[0]);
            return CMD_SUCCESS;
        });
    add(kBindNode, "enquire-link-interval <1-3600>", "Seconds between enquire_link\nSeconds\n",
        [](struct vty* vty, int, const char** argv) {
            current<smpp::BindConfig>(vty)->enquire_link_ms =
                static_cast<uint32_t>(atoi(argv[0])) * 1000;
            return CMD_SUCCESS;
        });

    // db
    add(CONFIG_NODE, "db", "Configure the state store\n", [](struct vty* vty, int, const char**) {
        vty->node = kDbNode;
        return CMD_SUCCESS;
    });
    add(kDbNode, "path PATH", "SQLite database file\nPath\n",
        [](struct vty*, int, const char** argv) {
            g_config->db.path = argv[0];
            return CMD_SUCCESS;
        });
    add(kDbNode, "synchronous (full|normal)",
        "When a commit reaches the disk\nSurvives power loss\nSurvives a process crash (WAL)\n",
        [](struct vty*, int, const char** argv) {
            g_config->db.synchronous = argv[0][0] == 'f' ? "FULL" : "NORMAL";
            return CMD_SUCCESS;
        });
    add(kDbNode, "busy-timeout <0-5000>",
        "How long a write waits for a lock another process holds (the daemon's loop waits with "
        "it)\nMilliseconds\n",
        [](struct vty*, int, const char** argv) {
            g_config->db.busy_timeout_ms = atoi(argv[0]);
            return CMD_SUCCESS;
        });
    add_start_only(kDbNode, "master-key-file PATH",
                   "Read the master key (64 hex digits) from a file\nPath\n",
                   [](struct vty*, int, const char** argv) {
                       g_config->db.master_key_file = argv[0];
                       return CMD_SUCCESS;
                   });
    add_start_only(
        kDbNode, "master-key-env NAME",
        "Read the master key (64 hex digits) from an environment variable\nVariable name\n",
        [](struct vty*, int, const char** argv) {
            g_config->db.master_key_env = argv[0];
            g_config->db.master_key_file.clear();
            return CMD_SUCCESS;
        });

    // api
    add(CONFIG_NODE, "api", "Configure the admin HTTP/JSON API\n",
        [](struct vty* vty, int, const char**) {
            vty->node = kApiNode;
            return CMD_SUCCESS;
        });
    add(kApiNode, "listen A.B.C.D <0-65535>", "Where the API listens\nIPv4 address\nPort\n",
        [](struct vty*, int, const char** argv) {
            g_config->api.ip = argv[0];
            g_config->api.port = static_cast<uint16_t>(atoi(argv[1]));
            return CMD_SUCCESS;
        });
    add(kApiNode, "max-connections <1-1024>", "Concurrent API connections\nCount\n",
        [](struct vty*, int, const char** argv) {
            g_config->api.max_connections = static_cast<size_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kApiNode, "max-per-address <1-1024>",
        "Stalled unauthenticated connections kept from one client address (no whole request "
        "within 250 ms, or idle after an answer); beyond it the oldest are closed\nCount\n",
        [](struct vty*, int, const char** argv) {
            g_config->api.max_per_address = static_cast<size_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kApiNode, "head-timeout <1-600>",
        "Time a request's line and headers may take from their first byte (not reset by each "
        "byte)\nSeconds\n",
        [](struct vty*, int, const char** argv) {
            g_config->api.head_timeout_s = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kApiNode, "body-timeout <1-3600>",
        "Time a buffered request body may take after the head (a streamed upload, which needs "
        "a token, has the idle timeout only)\nSeconds\n",
        [](struct vty*, int, const char** argv) {
            g_config->api.body_timeout_s = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add_start_only(
        kApiNode, "token NAME sha256 HEX",
        "A bearer token that may call the API\nWho holds it (audit log)\nThe token is given "
        "by its SHA-256\n64 hex digits: sha256sum of the token\n",
        [](struct vty* vty, int, const char** argv) {
            if (!hex_ok(argv[1], 32, 32))
                return warn(
                    vty, std::string("token ") + argv[0] +
                             ": sha256 must be 64 hex digits (the token's SHA-256, not the token)");
            auto& tokens = g_config->api.tokens;
            tokens.erase(std::remove_if(tokens.begin(), tokens.end(),
                                        [&](const ApiToken& t) { return t.name == argv[0]; }),
                         tokens.end());
            tokens.push_back({argv[0], lower(argv[1])});
            return CMD_SUCCESS;
        });
    add_start_only(kApiNode, "no token NAME", NO_STR "Remove a bearer token\nWho holds it\n",
                   [](struct vty*, int, const char** argv) {
                       auto& tokens = g_config->api.tokens;
                       tokens.erase(
                           std::remove_if(tokens.begin(), tokens.end(),
                                          [&](const ApiToken& t) { return t.name == argv[0]; }),
                           tokens.end());
                       return CMD_SUCCESS;
                   });

    // ota
    add(CONFIG_NODE, "ota", "Configure OTA defaults\n", [](struct vty* vty, int, const char**) {
        vty->node = kOtaNode;
        return CMD_SUCCESS;
    });
    add(kOtaNode, "spi HEX",
        "Security parameter indicator (ETSI TS 102 225 §5.1.1), 2 bytes\nHex, e.g. 1639\n",
        [](struct vty* vty, int, const char** argv) {
            if (!hex_ok(argv[0], 2, 2))
                return warn(vty, "spi: 2 bytes of hex, e.g. 1639");
            const Bytes b = parse_hex(argv[0]).value();
            g_config->ota.spi = static_cast<uint16_t>(b[0] << 8 | b[1]);
            return CMD_SUCCESS;
        });
    add(kOtaNode, "por-mode (sms-submit|delivery-report)",
        "How the card sends its PoR (SPI2 b6, TS 102 225 §5.1.1)\nIn an MO SMS-SUBMIT (osmo-msc "
        "drops PoRs in delivery reports)\nIn the SMS-DELIVER-REPORT\n",
        [](struct vty*, int, const char** argv) {
            if (argv[0][0] == 's')
                g_config->ota.spi |= 0x0020;
            else
                g_config->ota.spi &= static_cast<uint16_t>(~0x0020);
            return CMD_SUCCESS;
        });
    add(kOtaNode, "rc (crc16|crc32)",
        "The redundancy check the KID names when the SPI asks for RC (TS 102 225 §5.1.3; no KID "
        "key is used)\nCRC-16\nCRC-32\n",
        [](struct vty*, int, const char** argv) {
            g_config->ota.rc = argv[0][3] == '1' ? RcType::Crc16 : RcType::Crc32;
            return CMD_SUCCESS;
        });
    add(kOtaNode, "max-segments <1-16>",
        "Concatenated SMS a secured packet of a CAP load may fill\nSegments\n",
        [](struct vty*, int, const char** argv) {
            g_config->ota.max_segments = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kOtaNode, "load-hash (none|sha1|sha256)",
        "Hash of the load file data block in INSTALL [for load] (GP 2.3 §11.5.2.3.3)\nNo "
        "hash\nSHA-1\nSHA-256\n",
        [](struct vty*, int, const char** argv) {
            const std::string h = argv[0];
            g_config->ota.load_hash = h == "sha1"     ? OtaConfig::LoadHash::Sha1
                                      : h == "sha256" ? OtaConfig::LoadHash::Sha256
                                                      : OtaConfig::LoadHash::None;
            return CMD_SUCCESS;
        });
    add(kOtaNode, "bearer (sms-pp|bip|auto)",
        "How requests reach the cards (a request or campaign may choose its own)\nSecured SMS-PP "
        "packets\nBIP: a push, then the card's SCP81 session with the RAS\nBIP when the scripts "
        "would take more SMS than bip-above-sms, else SMS-PP\n",
        [](struct vty* vty, int, const char** argv) {
            const std::string b = argv[0];
            if (b != "sms-pp" && !g_config->ras.enabled() && vty->type == VTY_TERM)
                return warn(vty, "bearer " + b + ": configure ras first");
            g_config->ota.bearer = b == "bip"    ? OtaConfig::Bearer::Bip
                                   : b == "auto" ? OtaConfig::Bearer::Auto
                                                 : OtaConfig::Bearer::SmsPp;
            return CMD_SUCCESS;
        });
    add(kOtaNode, "bip-above-sms <1-255>",
        "With bearer auto: BIP for requests whose scripts take more SMS than this\nSMS\n",
        [](struct vty*, int, const char** argv) {
            g_config->ota.bip_above_sms = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kOtaNode, "kvn <1-15>", "Key version number of the keyset used by default\nKVN\n",
        [](struct vty*, int, const char** argv) {
            g_config->ota.kvn = static_cast<uint8_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    // Named timers and limits (config/timers.hpp), Osmocom osmo_tdef style.
    static const std::string timer_spec = "timer " + timer_name_choice() + " VALUE";
    static const std::string timer_doc = [] {
        std::string d = "A named timer or limit (show timer lists them)\n";
        for (const TimerDef& t : timer_defs())
            d.append(t.description).append(" (").append(t.unit).append(")\n");
        return d + "The value in the timer's unit, or default\n";
    }();
    add(kOtaNode, timer_spec.c_str(), timer_doc.c_str(),
        [](struct vty* vty, int, const char** argv) {
            if (Status st = set_timer(g_config->ota, argv[0], argv[1]); !st)
                return warn(vty, st.error().message);
            return CMD_SUCCESS;
        });
    // Older spellings of `timer por-timeout` and `timer campaign-retry-delay`.
    add(kOtaNode, "por-timeout <1-86400>", "Same as timer por-timeout\nSeconds\n",
        [](struct vty*, int, const char** argv) {
            (void)set_timer(g_config->ota, "por-timeout", argv[0]); // within its bounds
            return CMD_SUCCESS;
        });
    add(kOtaNode, "campaign-retry-delay <1-3600>", "Same as timer campaign-retry-delay\nSeconds\n",
        [](struct vty*, int, const char** argv) {
            (void)set_timer(g_config->ota, "campaign-retry-delay", argv[0]); // within its bounds
            return CMD_SUCCESS;
        });

    // ras: the Remote Administration Server of the BIP bearer (doc/bip.md)
    add(CONFIG_NODE, "ras", "Configure the Remote Administration Server (SCP81, BIP bearer)\n",
        [](struct vty* vty, int, const char**) {
            vty->node = kRasNode;
            return CMD_SUCCESS;
        });
    add(kRasNode, "listen A.B.C.D <0-65535>",
        "Where the cards' PSK-TLS sessions come in\nIPv4 address\nPort\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.ip = argv[0];
            g_config->ras.port = static_cast<uint16_t>(atoi(argv[1]));
            return CMD_SUCCESS;
        });
    add(kRasNode, "card-address A.B.C.D <1-65535>",
        "The address and port the push tells the cards (default: the listen address)\nIPv4 "
        "address\nPort\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.card_ip = argv[0];
            g_config->ras.card_port = static_cast<uint16_t>(atoi(argv[1]));
            return CMD_SUCCESS;
        });
    add(kRasNode, "host NAME",
        "The Host header the cards send (Administration Host, default: the card address)\n"
        "Name\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.host = argv[0];
            return CMD_SUCCESS;
        });
    add(kRasNode, "uri PATH", "The URI of a session's first POST\nA path, e.g. /ras\n",
        [](struct vty* vty, int, const char** argv) {
            if (argv[0][0] != '/')
                return warn(vty, std::string("uri ") + argv[0] + ": a path starting with /");
            g_config->ras.uri = argv[0];
            return CMD_SUCCESS;
        });
    add(kRasNode, "agent-id TEXT",
        "What the cards send in X-Admin-From ({iccid}: the card's ICCID)\nText\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.agent_id = argv[0];
            return CMD_SUCCESS;
        });
    add(kRasNode, "apn NAME", "The access point the handset opens the channel on\nAPN\n",
        [](struct vty* vty, int, const char** argv) {
            if (auto labels = ota::amdb::apn_labels(argv[0]); !labels)
                return warn(vty, labels.error().message);
            g_config->ras.apn = argv[0];
            return CMD_SUCCESS;
        });
    add(kRasNode, "no apn", NO_STR "The default access point\n",
        [](struct vty*, int, const char**) {
            g_config->ras.apn.clear();
            return CMD_SUCCESS;
        });
    add(kRasNode, "buffer-size <255-65535>", "The channel's buffer size (OPEN CHANNEL)\nBytes\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.buffer_size = static_cast<uint16_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kRasNode, "session-timeout <1-3600>",
        "A session that sends no POST for this long is closed\nSeconds\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.session_timeout_s = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kRasNode, "handshake-timeout <1-600>",
        "From the TCP connection to the end of the TLS handshake\nSeconds\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.handshake_timeout_s = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add(kRasNode, "max-sessions <1-1000000>", "Connections at once; more are refused\nCount\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.max_sessions = static_cast<size_t>(atol(argv[0]));
            return CMD_SUCCESS;
        });
    add(kRasNode, "suites .NAMES",
        "The TLS suites offered, in order of preference\nPSK-AES128-CBC-SHA256, "
        "PSK-AES128-CBC-SHA, PSK-3DES-EDE-CBC-SHA\n",
        [](struct vty* vty, int argc, const char** argv) {
            std::vector<uint16_t> suites;
            for (int i = 0; i < argc; i++) {
                auto id = tls::suite_by_name(argv[i]);
                if (!id)
                    return warn(vty, std::string("suites: ") + argv[i] +
                                         " is none of PSK-AES128-CBC-SHA256, PSK-AES128-CBC-SHA, "
                                         "PSK-3DES-EDE-CBC-SHA (GP Amendment B; no NULL suites, "
                                         "no TLS 1.3 in this build)");
                suites.push_back(*id);
            }
            g_config->ras.suites = suites;
            return CMD_SUCCESS;
        });
    add(kRasNode, "tls-min-version (1.0|1.1|1.2)",
        "The lowest TLS version taken (cards of Amendment B v1.1 speak TLS 1.0)\nTLS 1.0\nTLS "
        "1.1\nTLS 1.2\n",
        [](struct vty*, int, const char** argv) {
            const std::string v = argv[0];
            g_config->ras.min_version = v == "1.0"   ? tls::kTls10
                                        : v == "1.1" ? tls::kTls11
                                                     : tls::kTls12;
            return CMD_SUCCESS;
        });
    add(kRasNode, "session-retry <0-65535> <0-359999>",
        "The Session Retry Policy the push gives the card (GP Amd B §3.8.3)\nRetries\nSeconds "
        "between them\n",
        [](struct vty*, int, const char** argv) {
            g_config->ras.retry_count = static_cast<uint16_t>(atoi(argv[0]));
            g_config->ras.retry_delay_s = static_cast<uint32_t>(atoi(argv[1]));
            return CMD_SUCCESS;
        });

    // requests: short code and keywords (doc/application-requests.md)
    add(CONFIG_NODE, "requests", "Configure application requests by SMS\n",
        [](struct vty* vty, int, const char**) {
            vty->node = kRequestsNode;
            return CMD_SUCCESS;
        });
    add(kRequestsNode, "short-code NUMBER", "The number subscribers send requests to\nDigits\n",
        [](struct vty* vty, int, const char** argv) {
            const std::string n = argv[0];
            if (n.empty() || n.size() > 15 ||
                n.find_first_not_of("0123456789") != std::string::npos)
                return warn(vty, "short-code: 1 to 15 digits");
            g_config->requests.short_code = n;
            return CMD_SUCCESS;
        });
    add(kRequestsNode, "region REGION",
        "Region of numbers written nationally\nISO 3166-1 alpha-2 code, e.g. GB\n",
        [](struct vty* vty, int, const char** argv) {
            const std::string r = argv[0];
            if (r.size() != 2 || !std::isupper(static_cast<unsigned char>(r[0])) ||
                !std::isupper(static_cast<unsigned char>(r[1])))
                return warn(vty, "region: two capital letters (ISO 3166-1), e.g. GB");
            g_config->requests.region = r;
            return CMD_SUCCESS;
        });
    add(kRequestsNode, "number-range PREFIX",
        "An E.164 prefix the operator serves (requests from other numbers are refused)\n"
        "Digits, without '+'\n",
        [](struct vty* vty, int, const char** argv) {
            const std::string p = argv[0];
            if (p.empty() || p.size() > 15 ||
                p.find_first_not_of("0123456789") != std::string::npos)
                return warn(vty, "number-range: 1 to 15 digits");
            g_config->requests.ranges.push_back(p);
            return CMD_SUCCESS;
        });
    add(kRequestsNode, "keyword LANGUAGE (activate|suspend|resume|terminate|query|install) WORD",
        "A keyword of the text grammar\nLanguage of the replies, e.g. en, zh\nActivate\nSuspend\n"
        "Resume\nTerminate\nQuery\nInstall (none by default)\nThe word (any script, no "
        "space)\n",
        [](struct vty*, int, const char** argv) {
            auto& sets = g_config->requests.keywords;
            auto it = std::find_if(sets.begin(), sets.end(),
                                   [&](const Keywords& k) { return k.language == argv[0]; });
            if (it == sets.end()) {
                sets.push_back({argv[0], {}});
                it = sets.end() - 1;
            }
            const Operation op = *operation_named(argv[1]);
            for (auto& k : sets) // a word means one thing
                std::erase_if(k.words, [&](const auto& w) { return w.first == argv[2]; });
            it->words.emplace_back(argv[2], op);
            return CMD_SUCCESS;
        });
    add(kRequestsNode, "no keyword WORD", NO_STR "Remove a keyword\nThe word\n",
        [](struct vty*, int, const char** argv) {
            for (auto& k : g_config->requests.keywords)
                std::erase_if(k.words, [&](const auto& w) { return w.first == argv[0]; });
            return CMD_SUCCESS;
        });
    add(kRequestsNode, "no keywords", NO_STR "Remove every keyword (then configure your own)\n",
        [](struct vty*, int, const char**) {
            g_config->requests.keywords.clear();
            return CMD_SUCCESS;
        });

    // application NAME
    add(CONFIG_NODE, "application NAME", "Configure an application of the catalog\nName\n",
        [](struct vty* vty, int, const char** argv) {
            vty->index = &application_named(argv[0]);
            vty->node = kApplicationNode;
            return CMD_SUCCESS;
        });
    add(CONFIG_NODE, "no application NAME", NO_STR "Remove an application from the catalog\nName\n",
        [](struct vty* vty, int, const char** argv) {
            auto& apps = g_config->applications;
            auto it = std::find_if(apps.begin(), apps.end(),
                                   [&](const auto& a) { return a.name == argv[0]; });
            if (it == apps.end())
                return warn(vty, std::string("no application named ") + argv[0]);
            g_config->cap_files.erase(it->name);
            apps.erase(it);
            return CMD_SUCCESS;
        });
    struct AidField {
        const char* spec;
        const char* doc;
        std::string db::Application::*field;
    };
    static const AidField aid_fields[] = {
        {"aid HEX", "Instance AID (ISO/IEC 7816-5, 5 to 16 bytes)\nHex\n", &db::Application::aid},
        {"load-file HEX", "Executable load file AID\nHex\n", &db::Application::load_file_aid},
        {"module HEX", "Executable module AID\nHex\n", &db::Application::module_aid},
    };
    for (const AidField& f : aid_fields) {
        auto member = f.field;
        const std::string what = std::string(f.spec).substr(0, std::string(f.spec).find(' '));
        add(kApplicationNode, f.spec, f.doc,
            [member, what](struct vty* vty, int, const char** argv) {
                if (!hex_ok(argv[0], 5, 16))
                    return warn(vty, what + ": an AID is 5 to 16 bytes of hex");
                current<db::Application>(vty)->*member = lower(argv[0]);
                return CMD_SUCCESS;
            });
    }
    add(kApplicationNode, "code CODE", "Operator short code used in SMS requests\ne.g. 01\n",
        [](struct vty* vty, int, const char** argv) {
            current<db::Application>(vty)->code = argv[0];
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "type (telecom|bank|transit|campus-wallet|access|loyalty|other)",
        "Application type\nTelecom\nBank card\nTransit card\nCampus wallet\nAccess "
        "control\nLoyalty\nOther\n",
        [](struct vty* vty, int, const char** argv) {
            current<db::Application>(vty)->type = argv[0];
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "install-params HEX",
        "Install parameters (the 'C9' application-specific parameters)\nHex\n",
        [](struct vty* vty, int, const char** argv) {
            if (!hex_ok(argv[0], 0, 255))
                return warn(vty, "install-params: hex, at most 255 bytes");
            current<db::Application>(vty)->install_params = lower(argv[0]);
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "cap FILE",
        "The application's CAP file, loaded onto cards that lack its load file\nPath\n",
        [](struct vty* vty, int, const char** argv) {
            g_config->cap_files[current<db::Application>(vty)->name] = argv[0];
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "no cap", NO_STR "The application's CAP file\n",
        [](struct vty* vty, int, const char**) {
            g_config->cap_files.erase(current<db::Application>(vty)->name);
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "tar HEX",
        "Toolkit application reference (ETSI TS 101 220)\n3 bytes hex\n",
        [](struct vty* vty, int, const char** argv) {
            if (!hex_ok(argv[0], 3, 3))
                return warn(vty, "tar: 3 bytes of hex");
            current<db::Application>(vty)->tar = lower(argv[0]);
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "msl HEX",
        "Minimum security level (coded as SPI byte 1, TS 102 225 §5.1.1)\n1 byte hex, e.g. 12\n",
        [](struct vty* vty, int, const char** argv) {
            if (!hex_ok(argv[0], 1, 1))
                return warn(vty, "msl: 1 byte of hex");
            current<db::Application>(vty)->msl = parse_hex(argv[0]).value()[0];
            return CMD_SUCCESS;
        });
    add(kApplicationNode, "provider NAME", "The provider hosting the application\nProvider name\n",
        [](struct vty* vty, int, const char** argv) {
            current<db::Application>(vty)->provider = argv[0];
            return CMD_SUCCESS;
        });

    // provider NAME
    add(CONFIG_NODE, "provider NAME", "Configure an application provider\nName\n",
        [](struct vty* vty, int, const char** argv) {
            vty->index = &provider_named(argv[0]);
            vty->node = kProviderNode;
            return CMD_SUCCESS;
        });
    add_start_only(kProviderNode, "url URL", "The provider's HTTPS endpoint\nURL\n",
                   [](struct vty* vty, int, const char** argv) {
                       current<ProviderConfig>(vty)->url = argv[0];
                       return CMD_SUCCESS;
                   });
    add_start_only(kProviderNode, "secret-file PATH",
                   "File holding the HMAC-SHA256 shared secret\nPath\n",
                   [](struct vty* vty, int, const char** argv) {
                       current<ProviderConfig>(vty)->secret_file = argv[0];
                       return CMD_SUCCESS;
                   });
    add_start_only(
        kProviderNode, "ca-file PATH",
        "Trust this CA certificate (PEM) for the provider's HTTPS instead of the system's\nPath\n",
        [](struct vty* vty, int, const char** argv) {
            current<ProviderConfig>(vty)->ca_file = argv[0];
            return CMD_SUCCESS;
        });
    add(kProviderNode, "timeout <100-600000>", "Milliseconds to wait for an answer\nMilliseconds\n",
        [](struct vty* vty, int, const char** argv) {
            current<ProviderConfig>(vty)->timeout_ms = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
    add_start_only(
        kProviderNode, "insecure-http",
        "Allow an http:// url: the provider's calls and keys then cross the network in clear "
        "(tests only)\n",
        [](struct vty* vty, int, const char**) {
            current<ProviderConfig>(vty)->insecure_http = true;
            return CMD_SUCCESS;
        });
    add(kProviderNode, "max-answer <1024-1073741824>",
        "Largest answer read from the provider (larger: provider_error)\nBytes\n",
        [](struct vty* vty, int, const char** argv) {
            current<ProviderConfig>(vty)->max_answer_bytes = static_cast<size_t>(atoll(argv[0]));
            return CMD_SUCCESS;
        });
    add(kProviderNode, "retries <0-100>", "Tries after the first\nCount\n",
        [](struct vty* vty, int, const char** argv) {
            current<ProviderConfig>(vty)->retries = static_cast<uint32_t>(atoi(argv[0]));
            return CMD_SUCCESS;
        });
}

#define SHOW_STR_ "Show running system information\n"

void install_show_commands() {
    auto backend_or_warn = [](struct vty* vty) {
        if (!g_backend)
            warn(vty, "the daemon is still starting");
        return g_backend;
    };
    add(VIEW_NODE, "show health", SHOW_STR_ "Daemon state: ok, degraded (and why) or stopping\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_health());
            return CMD_SUCCESS;
        });
    add(VIEW_NODE, "show smpp", SHOW_STR_ "SMPP binds and their state\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_smpp());
            return CMD_SUCCESS;
        });
    auto show_card = [backend_or_warn](struct vty* vty, const char* by, const char* value) {
        auto* b = backend_or_warn(vty);
        if (!b)
            return CMD_WARNING;
        auto lines = b->show_card(by, value);
        if (!lines)
            return warn(vty, lines.error().message);
        print(vty, *lines);
        return CMD_SUCCESS;
    };
    add(VIEW_NODE, "show card ICCID",
        SHOW_STR_ "One card of the inventory\nICCID (18 to 20 digits)\n",
        [show_card](struct vty* vty, int, const char** argv) {
            return show_card(vty, "iccid", argv[0]);
        });
    add(VIEW_NODE, "show card (iccid|msisdn) NUMBER",
        SHOW_STR_ "One card of the inventory\nBy ICCID\nBy MSISDN\nThe number\n",
        [show_card](struct vty* vty, int, const char** argv) {
            return show_card(vty, argv[0], argv[1]);
        });
    add(VIEW_NODE, "show application", SHOW_STR_ "The application catalog\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_applications());
            return CMD_SUCCESS;
        });
    add(VIEW_NODE, "show stats", SHOW_STR_ "Counters of every module\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_stats());
            return CMD_SUCCESS;
        });
    add(VIEW_NODE, "show timer", SHOW_STR_ "The named timers and limits (ota / timer)\n",
        [](struct vty* vty, int, const char**) {
            print(vty, show_timers(g_config->ota));
            return CMD_SUCCESS;
        });
    add(VIEW_NODE, "show requests", SHOW_STR_ "Requests not finished yet\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_requests());
            return CMD_SUCCESS;
        });
    add(VIEW_NODE, "show ras",
        SHOW_STR_ "The Remote Administration Server and the cards' BIP admin channels\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_ras());
            return CMD_SUCCESS;
        });
    add(VIEW_NODE, "show campaigns", SHOW_STR_ "Campaigns running or paused here\n",
        [backend_or_warn](struct vty* vty, int, const char**) {
            if (auto* b = backend_or_warn(vty))
                print(vty, b->show_campaigns());
            return CMD_SUCCESS;
        });
}

} // namespace

void install_vty(GatewayConfig* config) {
    g_config = config;
    install_config_nodes();
    vty_auth::install_writer();
    install_show_commands();
}

void set_vty_backend(VtyBackend* backend) {
    g_backend = backend;
}

Status validate_config(const GatewayConfig& c) {
    for (const auto& b : c.smpp.binds)
        if (b.system_id.empty())
            return make_error("smpp bind " + b.name + ": system-id is missing");
    for (const auto& a : c.applications) {
        if (a.aid.empty() || a.code.empty() || a.tar.empty() || a.type.empty())
            return make_error("application " + a.name + ": aid, code, type and tar are required");
        for (const auto& other : c.applications)
            if (&other != &a && (other.aid == a.aid || other.code == a.code))
                return make_error("applications " + a.name + " and " + other.name + " share an " +
                                  (other.aid == a.aid ? "AID" : "operator code"));
        if (!a.provider.empty() &&
            std::none_of(c.providers.begin(), c.providers.end(),
                         [&](const ProviderConfig& p) { return p.name == a.provider; }))
            return make_error("application " + a.name + ": provider " + a.provider +
                              " is not configured");
    }
    for (const auto& cap : c.cap_files)
        if (std::none_of(c.applications.begin(), c.applications.end(),
                         [&](const db::Application& a) { return a.name == cap.first; }))
            return make_error("cap " + cap.second + " names no application " + cap.first);
    CapLoads caps; // each CAP file read and checked against its catalog entry
    OTAGW_TRY_STATUS(caps.read(c));
    for (const auto& p : c.providers)
        if (!p.url.starts_with("https://") && !p.insecure_http)
            return make_error("provider " + p.name + ": url " + p.url +
                              " is not https:// (its calls carry keys and personalisation data; "
                              "insecure-http allows it, for tests)");
    if (c.api.tokens.empty())
        return make_error("api: no token configured; every API call would get 401");
    if (c.ota.bearer != OtaConfig::Bearer::SmsPp && !c.ras.enabled())
        return make_error("ota: bearer bip or auto needs a ras node (the cards' sessions come "
                          "to it)");
    if (c.ras.enabled()) {
        if ((c.ras.ip == "0.0.0.0" && c.ras.card_ip.empty()) || c.ras.card_ip == "0.0.0.0")
            return make_error("ras: the cards cannot be told 0.0.0.0: set card-address");
        if (c.ras.suites.empty())
            return make_error("ras: no TLS suite");
        if (c.ras.agent_id.empty())
            return make_error("ras: agent-id is empty");
    }
    return {};
}

} // namespace otagw::gateway
