// SPDX-License-Identifier: GPL-2.0-or-later
// The HTTP/1.1 client: one request per connection, response framing by libhttp-parser.
#include <http_parser.h>

#include <memory>

#include "otagw/common/uv.hpp"
#include "otagw/http/http.hpp"

namespace otagw::http {

namespace {

constexpr size_t kUploadHighWater = 1 << 20; // queued upload bytes before waiting for a drain

struct Fetch : std::enable_shared_from_this<Fetch> {
    uv_loop_t* loop;
    ClientRequest request;
    std::function<void(Result<ClientResponse>)> done;
    uv::TcpStream stream;
    uv::Timer timer;
    http_parser parser;
    http_parser_settings settings;
    ClientResponse response;
    std::string field, value;
    bool in_value = false;
    bool complete = false;
    bool uploading = false;
    std::shared_ptr<Fetch> self; // alive until finished

    Fetch(uv_loop_t* l, ClientRequest r, std::function<void(Result<ClientResponse>)> d)
        : loop(l), request(std::move(r)), done(std::move(d)), stream(l), timer(l) {
        http_parser_init(&parser, HTTP_RESPONSE);
        parser.data = this;
        http_parser_settings_init(&settings);
        settings.on_header_field = [](http_parser* p, const char* at, size_t n) {
            auto* f = static_cast<Fetch*>(p->data);
            if (f->in_value)
                f->end_header();
            f->field.append(at, n);
            return 0;
        };
        settings.on_header_value = [](http_parser* p, const char* at, size_t n) {
            auto* f = static_cast<Fetch*>(p->data);
            f->in_value = true;
            f->value.append(at, n);
            return 0;
        };
        settings.on_headers_complete = [](http_parser* p) {
            auto* f = static_cast<Fetch*>(p->data);
            f->end_header();
            f->response.status = static_cast<int>(p->status_code);
            return 0;
        };
        settings.on_body = [](http_parser* p, const char* at, size_t n) {
            static_cast<Fetch*>(p->data)->response.body.append(at, n);
            return 0;
        };
        settings.on_message_complete = [](http_parser* p) {
            static_cast<Fetch*>(p->data)->complete = true;
            return 0;
        };
    }

    void end_header() {
        if (!field.empty() || in_value) {
            for (char& c : field)
                if (c >= 'A' && c <= 'Z')
                    c = static_cast<char>(c - 'A' + 'a');
            response.headers.emplace_back(std::move(field), std::move(value));
        }
        field.clear();
        value.clear();
        in_value = false;
    }

    void finish(Result<ClientResponse> r) {
        if (!done)
            return;
        auto cb = std::move(done);
        done = nullptr;
        timer.stop();
        stream.set_drained_callback(nullptr);
        stream.close();
        auto keep = std::move(self);
        uv::defer(loop, [keep] {}); // freed outside its own callbacks
        cb(std::move(r));
    }

    void start(const std::string& host, uint16_t port, uint64_t timeout_ms) {
        self = shared_from_this();
        const std::string where = host + ":" + std::to_string(port);
        timer.start(timeout_ms, [this, where, timeout_ms] {
            finish(make_error("no answer from " + where + " within " + std::to_string(timeout_ms) +
                              " ms"));
        });
        const int rc = stream.connect(host, port, [this, where, host](int status) {
            if (status < 0) {
                finish(make_error("cannot connect to " + where + ": " + uv::error_name(status)));
                return;
            }
            on_connected(host);
        });
        if (rc < 0)
            finish(make_error("cannot connect to " + where + ": " + uv::error_name(rc)));
    }

    void on_connected(const std::string& host) {
        stream.start(
            [this](ByteView data) {
                const size_t n = http_parser_execute(
                    &parser, &settings, reinterpret_cast<const char*>(data.data()), data.size());
                if (HTTP_PARSER_ERRNO(&parser) != HPE_OK || n != data.size()) {
                    finish(make_error(std::string("malformed HTTP response: ") +
                                      http_errno_description(HTTP_PARSER_ERRNO(&parser))));
                    return;
                }
                if (complete)
                    finish(std::move(response));
            },
            [this](int) {
                // The server closed: a response framed by the close ends here.
                http_parser_execute(&parser, &settings, nullptr, 0);
                if (complete)
                    finish(std::move(response));
                else
                    finish(make_error("the server closed the connection before answering"));
            });
        std::string head = request.method + " " + request.target + " HTTP/1.1\r\nHost: " + host +
                           "\r\nConnection: close\r\n";
        for (const auto& [k, v] : request.headers)
            head.append(k).append(": ").append(v).append("\r\n");
        if (request.next_chunk)
            head += "Transfer-Encoding: chunked\r\n\r\n";
        else
            head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n\r\n" +
                    request.body;
        write(head);
        if (request.next_chunk) {
            uploading = true;
            stream.set_drained_callback([this] { upload(); });
            upload();
        }
    }

    void write(const std::string& s) {
        stream.write(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    }

    void upload() {
        while (uploading && !complete && stream.pending_write_bytes() < kUploadHighWater) {
            auto chunk = request.next_chunk();
            if (!chunk) {
                finish(make_error(chunk.error().message));
                return;
            }
            char size[20];
            std::snprintf(size, sizeof size, "%zx\r\n", chunk->size());
            if (chunk->empty()) {
                write("0\r\n\r\n");
                uploading = false;
                return;
            }
            write(size + *chunk + "\r\n");
        }
    }
};

} // namespace

void fetch(uv_loop_t* loop, const std::string& host, uint16_t port, ClientRequest request,
           uint64_t timeout_ms, std::function<void(Result<ClientResponse>)> done) {
    auto f = std::make_shared<Fetch>(loop, std::move(request), std::move(done));
    f->start(host, port, timeout_ms);
}

} // namespace otagw::http
