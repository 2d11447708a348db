// SPDX-License-Identifier: GPL-2.0-or-later
// Child processes for interop tests: start with arguments, environment and a working folder,
// output to a log file, wait for a port or a log line, stop (SIGTERM, then SIGKILL). Every
// process is stopped when its object goes, so a failed test leaves nothing running.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace interop {

inline bool have_program(const std::string& name) {
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Peers missing: skip (exit 77) unless OTAGW_REQUIRE_INTEROP=1 (CI), where it is a failure.
inline void require_or_skip(const std::vector<std::string>& programs) {
    for (const auto& p : programs) {
        if (have_program(p))
            continue;
        const char* required = std::getenv("OTAGW_REQUIRE_INTEROP");
        std::fprintf(stderr, "%s: %s is not installed\n", required ? "FAILED" : "SKIPPED",
                     p.c_str());
        std::exit(required ? 1 : 77);
    }
}

inline uint16_t free_port() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

inline bool port_open(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Every child still running, so that a test that fails half way (CMocka leaves the test by
// longjmp, skipping destructors) still leaves nothing behind: kill_all() runs at exit.
inline std::vector<pid_t>& live_children() {
    static std::vector<pid_t> pids;
    return pids;
}
inline void kill_all() {
    for (pid_t pid : live_children()) {
        kill(-pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    live_children().clear();
}

class Process {
public:
    Process(const std::string& name, std::vector<std::string> argv, const std::string& cwd,
            std::vector<std::string> env = {})
        : name_(name), log_(cwd + "/" + name + ".log") {
        pid_ = fork();
        if (pid_ == 0) {
            setpgid(0, 0);
            if (chdir(cwd.c_str()) != 0)
                _exit(126);
            int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            for (const auto& e : env)
                putenv(const_cast<char*>(e.c_str()));
            std::vector<char*> args;
            for (auto& a : argv)
                args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execvp(args[0], args.data());
            _exit(127);
        }
        static const bool registered = std::atexit(kill_all) == 0;
        (void)registered;
        live_children().push_back(pid_);
    }
    ~Process() { stop(); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    bool running() {
        if (pid_ <= 0)
            return false;
        int st;
        if (waitpid(pid_, &st, WNOHANG) == pid_) {
            std::erase(live_children(), pid_);
            pid_ = -1;
            return false;
        }
        return true;
    }
    bool wait_port(uint16_t port, int seconds = 15) {
        for (int i = 0; i < seconds * 20; i++) {
            if (port_open(port))
                return true;
            if (!running())
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    bool wait_log(const std::string& text, int seconds = 15) {
        for (int i = 0; i < seconds * 20; i++) {
            if (log().find(text) != std::string::npos)
                return true;
            if (!running())
                return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return false;
    }
    std::string log() const { return read_file(log_); }
    void stop(int signal = SIGTERM) {
        if (pid_ <= 0)
            return;
        std::erase(live_children(), pid_);
        kill(-pid_, signal);
        for (int i = 0; i < 100; i++) {
            int st;
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    std::string name_;
    std::string log_;
    pid_t pid_ = -1;
};

// A loopback capture of the given ports with tshark, checked once stopped: every TCP payload is
// SMPP, and no SMPP frame is malformed or carries an expert warning or error.
class Capture {
public:
    Capture(const std::string& dir, std::vector<uint16_t> ports)
        : dir_(dir), ports_(std::move(ports)) {
        pcap_ = dir + "/smpp.pcap";
        std::string filter;
        for (uint16_t p : ports_)
            filter += (filter.empty() ? "" : " or ") + std::string("tcp port ") + std::to_string(p);
        proc_ = std::make_unique<Process>(
            "tshark", std::vector<std::string>{"tshark", "-i", "lo", "-f", filter, "-w", pcap_},
            dir);
        ready_ = proc_->wait_log("Capturing on", 15);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    bool ready() const { return ready_; }
    // Returns "" when the capture is clean, else what is wrong.
    std::string check() {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        proc_->stop(SIGINT);
        std::string decode;
        for (uint16_t p : ports_)
            decode += " -d tcp.port==" + std::to_string(p) + ",smpp";
        auto count = [&](const std::string& filter) {
            std::string out = dir_ + "/tshark-count.txt";
            std::string cmd = "tshark -r " + pcap_ + decode + " -Y '" + filter +
                              "' -T fields -e frame.number > " + out + " 2>/dev/null";
            if (std::system(cmd.c_str()) != 0)
                return -1;
            std::string text = read_file(out);
            int n = 0;
            for (char c : text)
                n += c == '\n';
            return n;
        };
        const int smpp = count("smpp");
        const int not_smpp = count("tcp.len > 0 && !smpp");
        const int bad = count("smpp && (_ws.malformed || _ws.expert.severity >= \"Warning\")");
        if (smpp <= 0)
            return "no SMPP PDU captured";
        if (not_smpp != 0)
            return std::to_string(not_smpp) + " TCP payloads not decoded as SMPP";
        if (bad != 0)
            return std::to_string(bad) + " SMPP frames malformed or with expert warnings";
        frames_ = smpp;
        return "";
    }
    int frames() const { return frames_; }

private:
    std::string dir_, pcap_;
    std::vector<uint16_t> ports_;
    std::unique_ptr<Process> proc_;
    bool ready_ = false;
    int frames_ = 0;
};

} // namespace interop
