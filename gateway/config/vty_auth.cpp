// SPDX-License-Identifier: GPL-2.0-or-later
#include "config/vty_auth.hpp"

#include <arpa/inet.h>
#include <crypt.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

extern "C" {
#include <osmocom/core/select.h>
#include <osmocom/core/signal.h>
#include <osmocom/vty/buffer.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/vty.h>
}

#include "otagw/common/log.hpp"

extern struct host host; // libosmovty's (command.h): the passwords set by the config

namespace otagw::gateway::vty_auth {

namespace {

constexpr const char* kLog = "vty";
constexpr size_t kMaxPassword = 256;
// Hash checks cost milliseconds of the one loop each: a token bucket bounds them.
constexpr double kChecksPerSecond = 5;
constexpr double kCheckBurst = 10;

// RFC 854 telnet command bytes.
constexpr unsigned char kIac = 255, kSb = 250, kSe = 240, kWill = 251, kDont = 254;

void wipe(std::string& s) {
    volatile char* p = s.data();
    for (size_t i = 0; i < s.size(); i++)
        p[i] = 0;
    s.clear();
}

// The typed line of each telnet session at a password prompt, by its vty.
std::map<const struct vty*, LineCollector>& collectors() {
    static std::map<const struct vty*, LineCollector> m;
    return m;
}

// libosmovty's own telnet callback, which every telnet connection is created with.
int (*g_libosmovty_cb)(struct osmo_fd*, unsigned int) = nullptr;

bool allow_check() {
    using Clock = std::chrono::steady_clock;
    static double tokens = kCheckBurst;
    static Clock::time_point last = Clock::now();
    const Clock::time_point now = Clock::now();
    tokens = std::min(kCheckBurst, tokens + std::chrono::duration<double>(now - last).count() *
                                                kChecksPerSecond);
    last = now;
    if (tokens < 1)
        return false;
    tokens -= 1;
    return true;
}

std::string peer_of(int fd) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    char text[INET6_ADDRSTRLEN] = "?";
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
        if (a.ss_family == AF_INET)
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&a)->sin_addr, text, sizeof text);
        else if (a.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&a)->sin6_addr, text, sizeof text);
    }
    return text;
}

void prompt(struct vty* vty) {
    const char* name = host.app_info && host.app_info->name ? host.app_info->name : "vty";
    if (vty->node == AUTH_NODE || vty->node == AUTH_ENABLE_NODE)
        vty_out(vty, "Password: ");
    else
        vty_out(vty, "%s%s", name, vty->node == ENABLE_NODE ? "# " : "> ");
}

// Ends the session (libosmovty frees the connection); -EBADF as vty_read() would return.
int close_session(struct vty* vty) {
    collectors().erase(vty);
    buffer_flush_all(vty->obuf, vty->fd); // the last words: vty_close() closes the socket first
    vty->status = vty::VTY_CLOSE;
    vty_close(vty);
    return -EBADF;
}

// The typed password is checked here, not by libosmovty (which compares in clear).
int check(struct vty* vty, std::string typed) {
    const bool enabling = vty->node == AUTH_ENABLE_NODE;
    const char* hash = enabling ? host.enable_encrypt : host.password_encrypt;
    const std::string peer = peer_of(vty->fd);
    if (!allow_check()) {
        wipe(typed);
        log::notice(kLog, "password from " + peer + " not checked: too many attempts a second");
        vty_out(vty, "%% Too many password attempts, try again later%s", VTY_NEWLINE);
        return close_session(vty);
    }
    const bool ok = hash && verify(typed, hash);
    wipe(typed);
    if (ok) {
        vty->fail = 0;
        vty->node = enabling ? ENABLE_NODE : VIEW_NODE;
        log::info(kLog, std::string(enabling ? "enable" : "login") + " from " + peer);
        prompt(vty);
        return 0;
    }
    vty->fail++;
    log::notice(kLog, std::string("wrong ") + (enabling ? "enable " : "") + "password from " +
                          peer + " (" + std::to_string(vty->fail) + " of 3)");
    if (vty->fail < 3) {
        prompt(vty);
        return 0;
    }
    if (!enabling) {
        vty_out(vty, "%% Bad passwords, too many failures!%s", VTY_NEWLINE);
        return close_session(vty);
    }
    vty->fail = 0;
    vty_out(vty, "%% Bad enable passwords, too many failures!%s", VTY_NEWLINE);
    vty->node = VIEW_NODE;
    prompt(vty);
    return 0;
}

// At a password prompt: the bytes of the line are taken from the socket here (those after it
// stay there for libosmovty), the line checked when whole.
int read_password(struct vty* vty) {
    unsigned char buf[512];
    const ssize_t n = recv(vty->fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0)
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : 1; // 1: let libosmovty close
    LineCollector& line = collectors()[vty];
    size_t used = 0;
    bool whole = false;
    while (used < static_cast<size_t>(n) && !whole)
        whole = line.feed(buf[used++]);
    // A CR is followed by LF or NUL (RFC 854): both end the one line.
    if (whole && used < static_cast<size_t>(n) && buf[used - 1] == '\r' &&
        (buf[used] == '\n' || buf[used] == 0))
        used++;
    if (read(vty->fd, buf, used) != static_cast<ssize_t>(used))
        return 1;
    std::memset(buf, 0, sizeof buf);
    if (!whole)
        return 0;
    vty_out(vty, "%s", VTY_NEWLINE);
    return check(vty, line.take());
}

int telnet_data(struct osmo_fd* fd, unsigned int what) {
    auto* conn = static_cast<telnet_connection*>(fd->data);
    struct vty* vty = conn->vty;
    if ((what & OSMO_FD_READ) && vty && (vty->node == AUTH_NODE || vty->node == AUTH_ENABLE_NODE)) {
        const int rc = read_password(vty);
        if (rc < 0)
            return rc; // closed: conn and vty are gone
        if (rc == 0)
            what &= ~OSMO_FD_READ;
        if (!what)
            return 0;
    }
    return g_libosmovty_cb(fd, what);
}

// Each new telnet session (its first VTY event) reads through telnet_data.
int on_vty_signal(unsigned int subsys, unsigned int signal, void*, void* signal_data) {
    if (subsys != SS_L_VTY || signal != S_VTY_EVENT)
        return 0;
    auto* d = static_cast<vty_signal_data*>(signal_data);
    if (!d->vty)
        return 0;
    if (d->event == VTY_CLOSED) {
        collectors().erase(d->vty);
        return 0;
    }
    auto* conn = static_cast<telnet_connection*>(d->vty->priv);
    if (d->vty->type != VTY_TERM || !conn || conn->fd.cb == telnet_data)
        return 0;
    if (!g_libosmovty_cb)
        g_libosmovty_cb = conn->fd.cb;
    if (conn->fd.cb == g_libosmovty_cb)
        conn->fd.cb = telnet_data;
    return 0;
}

bool loopback(std::string_view address) {
    return address.starts_with("127.") || address == "::1" || address == "localhost";
}

// An explicit `no login` line (libosmovty keeps its login flag to itself).
bool says_no_login(std::string_view config_text) {
    std::istringstream in{std::string(config_text)};
    std::string line;
    while (std::getline(in, line)) {
        const size_t b = line.find_first_not_of(" \t");
        const size_t e = line.find_last_not_of(" \t\r");
        if (b != std::string::npos && line.substr(b, e - b + 1) == "no login")
            return true;
    }
    return false;
}

// `typed` hashed with the settings of `hash`; nothing when crypt(3) cannot use that hash (it
// answers "*0" or "*1" then).
std::optional<std::string> crypt_with(const std::string& typed, const char* hash) {
    if (!hash || hash[0] != '$')
        return std::nullopt;
    auto data = std::make_unique<crypt_data>(); // 32 KiB: not on the stack
    const char* out = crypt_r(typed.c_str(), hash, data.get());
    std::optional<std::string> result;
    if (out && out[0] == '$')
        result = out;
    std::memset(data.get(), 0, sizeof(crypt_data));
    return result;
}

bool hash_ok(const char* hash) {
    return hash && std::strlen(hash) <= 512 && crypt_with("", hash).has_value();
}

int write_hashes(struct vty* vty) {
    if (host.password_encrypt)
        vty_out(vty, "password 8 %s%s", host.password_encrypt, VTY_NEWLINE);
    if (host.enable_encrypt)
        vty_out(vty, "enable password 8 %s%s", host.enable_encrypt, VTY_NEWLINE);
    return CMD_SUCCESS;
}

// A node only for writing the hashes (they are CONFIG_NODE lines: no command enters it).
cmd_node g_hash_node = [] {
    cmd_node n{};
    n.node = _LAST_OSMOVTY_NODE + 40;
    n.prompt = "%s# ";
    n.vtysh = 1;
    return n;
}();

} // namespace

bool LineCollector::feed(unsigned char c) {
    switch (state_) {
    case State::Iac:
        state_ = c == kSb ? State::Sub : c >= kWill && c <= kDont ? State::Option : State::Text;
        return false;
    case State::Option:
        state_ = State::Text;
        return false;
    case State::Sub:
        if (c == kIac)
            state_ = State::SubIac;
        return false;
    case State::SubIac:
        state_ = c == kSe ? State::Text : State::Sub;
        return false;
    case State::Escape:
        state_ = c == '[' ? State::EscapeBracket : State::Text;
        return false;
    case State::EscapeBracket:
        state_ = State::Text;
        return false;
    case State::Text:
        break;
    }
    if (c == kIac)
        state_ = State::Iac;
    else if (c == 0x1b)
        state_ = State::Escape;
    else if (c == '\r' || c == '\n')
        return true;
    else if ((c == 0x08 || c == 0x7f) && !line_.empty())
        line_.pop_back();
    else if (c == 0x15) // ^U
        wipe(line_);
    else if (c > 31 && c < 127 && line_.size() < kMaxPassword)
        line_.push_back(static_cast<char>(c));
    return false;
}

std::string LineCollector::take() {
    std::string out = std::move(line_);
    line_.clear();
    state_ = State::Text;
    return out;
}

LineCollector::~LineCollector() {
    wipe(line_);
}

bool verify(const std::string& typed, const char* hash) {
    const std::optional<std::string> out = crypt_with(typed, hash);
    if (!out)
        return false;
    const size_t b = std::strlen(hash);
    unsigned char diff = out->size() == b ? 0 : 1; // compared in constant time
    for (size_t i = 0; i < out->size() && i < b; i++)
        diff |= static_cast<unsigned char>((*out)[i] ^ hash[i]);
    return diff == 0;
}

void install_writer() {
    install_node(&g_hash_node, write_hashes);
}

Status arm(std::string_view config_text) {
    if (host.password || host.enable)
        return make_error(std::string("VTY: ") + (host.password ? "password" : "enable password") +
                          " given in clear: give its crypt(3) hash instead, `password 8 HASH` "
                          "and `enable password 8 HASH` (HASH from `openssl passwd -6`)");
    for (const auto& [what, hash] : {std::pair{"password 8", host.password_encrypt},
                                     std::pair{"enable password 8", host.enable_encrypt}})
        if (hash && !hash_ok(hash))
            return make_error(std::string("VTY: ") + what +
                              ": not a crypt(3) hash ($6$... from `openssl passwd -6`, $y$... "
                              "from `mkpasswd`)");
    const std::string address = vty_get_bind_addr();
    if (!host.password_encrypt) {
        if (!loopback(address))
            return make_error("VTY: line vty binds " + address +
                              ", not a loopback address, and no password is set: add "
                              "`password 8 HASH` and `enable password 8 HASH`");
        if (!says_no_login(config_text))
            return make_error("VTY: no password is set: add `password 8 HASH` and `enable "
                              "password 8 HASH` (HASH from `openssl passwd -6`), or `no login` "
                              "under `line vty` for a VTY on loopback without one");
        log::notice(kLog, "no VTY password (`no login`): anyone on this host may configure it");
    } else {
        if (!host.enable_encrypt)
            return make_error("VTY: a login password is set but no `enable password 8 HASH`");
        // Password checking on, whatever the file said about `login`.
        const std::string on = "line vty\n login\n";
        FILE* f = fmemopen(const_cast<char*>(on.data()), on.size(), "r");
        if (!f || vty_read_config_filep(f, nullptr) < 0) {
            if (f)
                std::fclose(f);
            return make_error("VTY: cannot turn password checking on");
        }
        std::fclose(f);
    }
    static bool registered = false;
    if (!registered)
        osmo_signal_register_handler(SS_L_VTY, on_vty_signal, nullptr);
    registered = true;
    return {};
}

} // namespace otagw::gateway::vty_auth
