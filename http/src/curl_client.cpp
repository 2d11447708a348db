// SPDX-License-Identifier: GPL-2.0-or-later
#include "otagw/http/curl_client.hpp"

#include <curl/curl.h>

#include <mutex>

namespace otagw::http {

struct CurlClient::Transfer {
    CURL* easy = nullptr;
    curl_slist* headers = nullptr;
    Request request;
    Response response;
    Done done;
    bool too_large = false; // the answer went over request.max_body: cut
    char error[CURL_ERROR_SIZE] = {};
    ~Transfer() {
        curl_slist_free_all(headers);
        if (easy)
            curl_easy_cleanup(easy);
    }
};

// One watched socket; freed in its handle's close callback (libuv's rule).
struct CurlClient::Socket {
    uv_poll_t poll;
    CurlClient* owner;
    int fd;
};

namespace {

size_t on_body(char* data, size_t size, size_t n, void* userp) {
    auto* t = static_cast<CurlClient::Transfer*>(userp);
    const size_t max = t->request.max_body;
    if (max && t->response.body.size() + size * n > max) {
        t->too_large = true;
        return 0; // curl ends the transfer (CURLE_WRITE_ERROR)
    }
    t->response.body.append(data, size * n);
    return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* userp) {
    std::string_view line(data, size * n);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (char& c : name)
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
            value.remove_suffix(1);
        static_cast<CurlClient::Transfer*>(userp)->response.headers.emplace_back(
            std::move(name), std::string(value));
    }
    return size * n;
}

} // namespace

CurlClient::CurlClient(uv_loop_t* loop)
    : loop_(loop),
      timer_(uv::Handle<uv_timer_t>::make({}, [&](auto* h) { return uv_timer_init(loop, h); })) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    timer_->data = this;
    CURLM* m = static_cast<CURLM*>(multi_);
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION,
                      reinterpret_cast<curl_socket_callback>(&CurlClient::on_socket));
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION,
                      reinterpret_cast<curl_multi_timer_callback>(&CurlClient::on_timer));
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, this);
}

CurlClient::~CurlClient() {
    closing_ = true;
    CURLM* m = static_cast<CURLM*>(multi_);
    // Abandon the transfers: remove each easy handle (curl tells on_socket to stop watching).
    for (Transfer* t : transfers_) {
        curl_multi_remove_handle(m, t->easy);
        delete t;
    }
    transfers_.clear();
    curl_multi_cleanup(m);
    // The timer and the sockets close with their Handles.
}

int CurlClient::on_socket(void*, int fd, int what, void* userp, void* socketp) {
    auto* self = static_cast<CurlClient*>(userp);
    auto* s = static_cast<Socket*>(socketp);
    CURLM* m = static_cast<CURLM*>(self->multi_);
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(m, fd, nullptr);
            self->sockets_.erase(fd);
        }
        return 0;
    }
    if (!s) {
        auto h = uv::Handle<Socket>::make({{}, self, fd}, [&](Socket* n) {
            return uv_poll_init_socket(self->loop_, &n->poll, fd);
        });
        if (!h)
            return -1;
        s = h.get();
        s->poll.data = s;
        self->sockets_[fd] = std::move(h);
        curl_multi_assign(m, fd, s);
    }
    const int events =
        (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, events, [](uv_poll_t* h, int status, int ev) {
        auto* sock = static_cast<Socket*>(h->data);
        int flags = 0;
        if (status < 0)
            flags = CURL_CSELECT_ERR;
        if (ev & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (ev & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
        sock->owner->act(sock->fd, flags);
    });
    return 0;
}

int CurlClient::on_timer(void*, long timeout_ms, void* userp) {
    auto* self = static_cast<CurlClient*>(userp);
    if (timeout_ms < 0) {
        uv_timer_stop(self->timer_.get());
        return 0;
    }
    // Never act from inside curl's own callback: a timer of 0 runs it on the next turn.
    uv_timer_start(
        self->timer_.get(),
        [](uv_timer_t* t) { static_cast<CurlClient*>(t->data)->act(CURL_SOCKET_TIMEOUT, 0); },
        static_cast<uint64_t>(timeout_ms), 0);
    return 0;
}

void CurlClient::act(int fd, int flags) {
    int running = 0;
    curl_multi_socket_action(static_cast<CURLM*>(multi_), fd, flags, &running);
    reap();
}

void CurlClient::reap() {
    CURLM* m = static_cast<CURLM*>(multi_);
    // Collect first, call after: a callback may perform() again or destroy the client.
    std::vector<std::pair<Done, Result<Response>>> finished;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        Transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        const CURLcode rc = msg->data.result;
        curl_multi_remove_handle(m, msg->easy_handle);
        transfers_.erase(t);
        if (rc == CURLE_OK) {
            curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
            finished.emplace_back(std::move(t->done), std::move(t->response));
        } else if (t->too_large) {
            finished.emplace_back(std::move(t->done),
                                  make_error(t->request.url + ": the answer is larger than " +
                                                 std::to_string(t->request.max_body) + " bytes",
                                             Errc::Invalid));
        } else {
            finished.emplace_back(
                std::move(t->done),
                make_error(t->request.url + ": " +
                               (t->error[0] ? std::string(t->error) : curl_easy_strerror(rc)),
                           Errc::Io));
        }
        delete t;
    }
    for (auto& [done, result] : finished)
        if (done)
            done(std::move(result));
}

void CurlClient::perform(Request request, Done done) {
    auto* t = new Transfer;
    t->request = std::move(request);
    t->done = std::move(done);
    t->easy = curl_easy_init();
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_URL, t->request.url.c_str());
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->request.method.c_str());
    if (t->request.method == "POST" || t->request.method == "PUT" || !t->request.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(t->request.body.size()));
    }
    for (const auto& [k, v] : t->request.headers)
        t->headers = curl_slist_append(t->headers, (k + ": " + v).c_str());
    t->headers = curl_slist_append(t->headers, "Expect:"); // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t->request.timeout_ms));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!t->request.ca_file.empty())
        curl_easy_setopt(e, CURLOPT_CAINFO, t->request.ca_file.c_str());
    transfers_.insert(t);
    curl_multi_add_handle(static_cast<CURLM*>(multi_), e); // curl sets a timer: work starts there
}

} // namespace otagw::http
