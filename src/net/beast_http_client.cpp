#include "net/beast_http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/text.hpp"
#include "common/thread_name.hpp"
#include "net/curl_http_client.hpp"  // parse_retry_after_ms
#include "net/origin.hpp"
#include "net/ssrf_guard.hpp"
#include "obs/log.hpp"

namespace cg::net {

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr size_t kMaxBody = 64 * 1024;        // kept in HttpResponse::body
constexpr size_t kMaxReadBody = 1024 * 1024;  // read (and dropped past kMaxBody) on keep-alive
constexpr size_t kRequestHeadReserve = 512;

// Headers the client writes itself; a caller's copy would conflict with them.
bool reserved_header(std::string_view name) {
    return iequals_ascii(name, "host") || iequals_ascii(name, "content-length") ||
           iequals_ascii(name, "transfer-encoding") || iequals_ascii(name, "connection");
}

bool has_line_break(std::string_view s) {
    for (const char c : s) {
        if (c == '\r' || c == '\n') return true;
    }
    return false;
}

// One post() from acceptance to completion.
struct Request {
    HttpRequest request;
    std::function<void(HttpResponse)> done;
    HttpResponse response;
    std::string host;         // for DNS, SNI and name verification (IPv6 without brackets)
    std::string host_header;  // Host: value (brackets, port when non-default)
    std::string port;
    std::string_view target;  // into request.url
    bool tls = false;
    bool ip_literal = false;
    bool retried = false;  // already sent once more after a reused connection failed
    Clock::time_point assigned;
};

struct Origin;

// One connection of an origin's pool. Lives in Origin::conns while open; handlers hold a
// shared_ptr so a closed connection outlives its last completion. Loop thread only.
struct Connection {
    enum class State { kFresh, kActive, kIdle, kClosed };

    Connection(asio::io_context& ioc, Origin* o)
        : socket(ioc), resolver(ioc), timer(ioc), origin(o) {}

    tcp::socket socket;
    tcp::resolver resolver;
    asio::steady_timer timer;  // the attempt's deadline, or the idle expiry
    std::optional<ssl::stream<tcp::socket&>> tls;
    boost::beast::flat_buffer buffer;  // reused for every answer on this connection
    std::optional<http::response_parser<http::string_body>> parser;
    std::string head;  // request line and headers, capacity reused
    std::vector<tcp::endpoint> endpoints;
    Origin* origin;
    size_t slot = 0;  // index in origin->conns
    State state = State::kFresh;
    std::unique_ptr<Request> req;
    uint64_t generation = 0;  // bumped per attempt and per idle period; stale handlers see it
    bool reused = false;      // has completed an exchange before the current one
    bool timed_out = false;
    bool name_mismatch = false;
    bool peer_blocked = false;  // connected to an address the SSRF guard would refuse
    Clock::time_point last_used;

    template <class F>
    void with_stream(F&& f) {
        if (tls) {
            f(*tls);
        } else {
            f(socket);
        }
    }
};

struct Origin {
    std::string key;
    std::vector<std::shared_ptr<Connection>> conns;  // every open connection (any state)
    std::vector<Connection*> idle;                   // LIFO: back is the most recently used
    std::deque<std::unique_ptr<Request>> waiting;    // FIFO for a connection
    bool starved = false;  // queued in Impl::starved (waits on max_total_connections)
};

}  // namespace

struct BeastHttpClient::Impl {
    BeastOptions options;
    std::atomic<size_t>& in_flight;
    ssl::context tls_ctx{ssl::context::tls_client};
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::mutex mu;          // guards stopping (post() vs stop())
    bool stopping = false;  // guarded by mu
    // Loop thread only:
    bool stopped = false;
    std::unordered_map<std::string, std::unique_ptr<Origin>> origins;
    std::deque<Origin*> starved;
    size_t total_connections = 0;
    std::string key_scratch;
    std::thread thread;

    Impl(BeastOptions o, std::atomic<size_t>& counter) : options(std::move(o)), in_flight(counter) {
        tls_ctx.set_verify_mode(ssl::verify_peer);
        SSL_CTX_set_min_proto_version(tls_ctx.native_handle(), TLS1_2_VERSION);
        if (options.ca_bundle.empty()) {
            tls_ctx.set_default_verify_paths();
        } else {
            tls_ctx.load_verify_file(options.ca_bundle);
        }
        thread = std::thread([this] {
            name_this_thread("cg-callbacks");
            ioc.run();
        });
    }

    size_t per_host_limit() const {
        return options.max_connections_per_host == 0 ? SIZE_MAX : options.max_connections_per_host;
    }
    size_t total_limit() const {
        return options.max_total_connections == 0 ? SIZE_MAX : options.max_total_connections;
    }

    // ---- completion -------------------------------------------------------------------------

    void complete(std::unique_ptr<Request> r) {
        if (r->assigned != Clock::time_point{}) {
            r->response.duration =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - r->assigned);
        }
        in_flight.fetch_sub(1);
        try {
            r->done(std::move(r->response));
        } catch (const std::exception& e) {
            obs::log_error("http completion threw").kv("error", e.what());
        }
    }

    void fail(std::unique_ptr<Request> r, HttpError error, std::string message) {
        r->response.status = 0;
        r->response.error = error;
        r->response.error_message = std::move(message);
        r->response.body.clear();
        complete(std::move(r));
    }

    // ---- admission --------------------------------------------------------------------------

    void admit(std::unique_ptr<Request> r) {
        if (stopped) {
            fail(std::move(r), HttpError::kCancelled, "client stopped");
            return;
        }
        auto parsed = boost::urls::parse_uri(r->request.url);
        if (!parsed) {
            fail(std::move(r), HttpError::kProtocol, "malformed URL");
            return;
        }
        const auto& u = *parsed;
        const auto scheme = u.scheme_id();
        if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) {
            fail(std::move(r), HttpError::kProtocol, "unsupported scheme (only http and https)");
            return;
        }
        r->tls = scheme == boost::urls::scheme::https;
        r->host = to_lower_ascii(u.host_address());
        if (r->host.empty()) {
            fail(std::move(r), HttpError::kProtocol, "URL without a host");
            return;
        }
        const auto ht = u.host_type();
        r->ip_literal = ht == boost::urls::host_type::ipv4 || ht == boost::urls::host_type::ipv6;
        const uint16_t default_port = r->tls ? 443 : 80;
        uint16_t port = default_port;
        if (u.has_port() && !u.port().empty()) {
            const auto text = u.port();  // port_number() wraps values past 65535
            unsigned value = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
                value > 65535) {
                fail(std::move(r), HttpError::kProtocol, "invalid port");
                return;
            }
            port = static_cast<uint16_t>(value);
        }
        r->port = std::to_string(port);
        r->host_header.reserve(r->host.size() + 8);
        if (ht == boost::urls::host_type::ipv6) r->host_header.push_back('[');
        r->host_header.append(r->host);
        if (ht == boost::urls::host_type::ipv6) r->host_header.push_back(']');
        if (port != default_port) {
            r->host_header.push_back(':');
            r->host_header.append(r->port);
        }
        // path + query, straight out of the URL (no copy); send() adds a '/' before a bare query
        const auto path = u.encoded_path();
        if (u.has_query()) {
            const auto query = u.encoded_query();
            const char* begin = path.empty() ? query.data() - 1 : path.data();
            r->target = std::string_view(begin, query.data() + query.size() - begin);
        } else {
            r->target = path.empty() ? std::string_view("/") : std::string_view(path);
        }
        for (const auto& [name, value] : r->request.headers) {
            if (has_line_break(name) || has_line_break(value)) {
                fail(std::move(r), HttpError::kProtocol, "header with a line break");
                return;
            }
        }

        format_origin(r->tls, r->host, ht == boost::urls::host_type::ipv6, port, key_scratch);
        auto it = origins.find(key_scratch);
        if (it == origins.end()) {
            auto o = std::make_unique<Origin>();
            o->key = key_scratch;
            it = origins.emplace(o->key, std::move(o)).first;
        }
        Origin& origin = *it->second;
        origin.waiting.push_back(std::move(r));
        pump(origin);
        forget_if_unused(origin);
    }

    // Hands waiting requests of `origin` to idle or new connections, oldest first.
    void pump(Origin& origin) {
        while (!origin.waiting.empty() && !stopped) {
            std::shared_ptr<Connection> c;
            while (!origin.idle.empty() && !c) {
                Connection* idle = origin.idle.back();
                origin.idle.pop_back();
                auto sp = origin.conns[idle->slot];
                if (Clock::now() - idle->last_used >= options.idle_timeout) {
                    close(*sp);
                    continue;
                }
                if (sp->peer_blocked && origin.waiting.front()->request.block_private_addresses) {
                    // Opened for a request that allowed private addresses; this one does not.
                    origin.idle.push_back(idle);
                    auto r = std::move(origin.waiting.front());
                    origin.waiting.pop_front();
                    fail(std::move(r), HttpError::kBlockedAddress, "address not allowed");
                    break;
                }
                c = std::move(sp);
            }
            if (!c && !origin.idle.empty()) continue;  // the front request was refused above
            if (!c) {
                if (origin.conns.size() >= per_host_limit()) break;
                if (total_connections >= total_limit() && !evict_idle_elsewhere(origin)) {
                    if (!origin.starved) {
                        origin.starved = true;
                        starved.push_back(&origin);
                    }
                    break;
                }
                c = std::make_shared<Connection>(ioc, &origin);
                c->slot = origin.conns.size();
                origin.conns.push_back(c);
                ++total_connections;
            }
            auto r = std::move(origin.waiting.front());
            origin.waiting.pop_front();
            assign(c, std::move(r));
        }
    }

    // At max_total_connections: closes the oldest idle connection of another origin, if any.
    // A scan over origins, but only on this rare path.
    bool evict_idle_elsewhere(const Origin& except) {
        Connection* oldest = nullptr;
        for (const auto& [key, o] : origins) {
            if (o.get() == &except || o->idle.empty()) continue;
            Connection* c = o->idle.front();
            if (!oldest || c->last_used < oldest->last_used) oldest = c;
        }
        if (!oldest) return false;
        Origin* o = oldest->origin;
        close(*o->conns[oldest->slot]);
        forget_if_unused(*o);
        return true;
    }

    void forget_if_unused(Origin& origin) {
        if (!origin.conns.empty() || !origin.waiting.empty() || origin.starved) return;
        origins.erase(origins.find(origin.key));  // destroys `origin` (and the key looked up)
    }

    // ---- one attempt ------------------------------------------------------------------------

    void assign(const std::shared_ptr<Connection>& c, std::unique_ptr<Request> r) {
        r->assigned = Clock::now();
        c->req = std::move(r);
        ++c->generation;
        c->timed_out = false;
        const bool fresh = c->state == State::kFresh;
        if (!fresh) {
            error_code ec;
            c->socket.cancel(ec);  // ends the idle wait; its handler sees a new generation
        }
        c->state = fresh ? State::kFresh : State::kActive;
        arm_deadline(c);
        if (fresh) {
            resolve(c);
        } else {
            send(c);
        }
    }

    using State = Connection::State;

    // One deadline per attempt, from the connection's assignment; none when timeout <= 0
    // (as CURLOPT_TIMEOUT_MS 0).
    void arm_deadline(const std::shared_ptr<Connection>& c) {
        if (c->req->request.timeout.count() <= 0) {
            c->timer.cancel();  // ends an idle expiry
            return;
        }
        c->timer.expires_after(c->req->request.timeout);
        c->timer.async_wait([c, gen = c->generation](error_code ec) {
            if (ec || c->generation != gen || !c->req) return;
            c->timed_out = true;
            error_code ignored;
            c->resolver.cancel();
            c->socket.close(ignored);  // the pending operation completes with an error
        });
    }

    void resolve(const std::shared_ptr<Connection>& c) {
        const Request& r = *c->req;
        const auto flags = r.ip_literal ? tcp::resolver::numeric_host : tcp::resolver::flags{};
        c->resolver.async_resolve(
            r.host, r.port, flags,
            [this, c, gen = c->generation](error_code ec, const tcp::resolver::results_type& res) {
                if (c->generation != gen || !c->req) return;
                if (c->timed_out) return attempt_failed(c, HttpError::kTimeout, "timed out", false);
                if (ec) {
                    std::string m = "could not resolve ";
                    m.append(c->req->host).append(": ").append(ec.message());
                    return attempt_failed(c, HttpError::kDns, std::move(m), false);
                }
                c->endpoints.clear();
                for (const auto& e : res) {
                    if (c->req->request.block_private_addresses &&
                        is_blocked_address(e.endpoint().data())) {
                        continue;
                    }
                    c->endpoints.push_back(e.endpoint());
                }
                if (c->endpoints.empty()) {
                    return attempt_failed(c, HttpError::kBlockedAddress, "address not allowed",
                                          false);
                }
                connect(c);
            });
    }

    void connect(const std::shared_ptr<Connection>& c) {
        asio::async_connect(
            c->socket, c->endpoints,
            [this, c, gen = c->generation](error_code ec, const tcp::endpoint& peer) {
                if (c->generation != gen || !c->req) return;
                if (c->timed_out) return attempt_failed(c, HttpError::kTimeout, "timed out", false);
                if (ec) {
                    std::string m = "connect failed: ";
                    m.append(ec.message());
                    return attempt_failed(c, HttpError::kConnect, std::move(m), false);
                }
                c->peer_blocked = is_blocked_address(peer.data());
                error_code ignored;
                c->socket.set_option(tcp::no_delay(true), ignored);
                c->socket.set_option(asio::socket_base::keep_alive(true), ignored);
                if (c->req->tls) {
                    handshake(c);
                } else {
                    c->state = State::kActive;
                    send(c);
                }
            });
    }

    void handshake(const std::shared_ptr<Connection>& c) {
        const Request& r = *c->req;
        try {
            c->tls.emplace(c->socket, tls_ctx);
        } catch (const std::exception& e) {
            return attempt_failed(c, HttpError::kTls, e.what(), false);
        }
        if (!r.ip_literal) {
            // SNI. SSL_set_tlsext_host_name is a macro with a C-style cast; this is what it does.
            SSL_ctrl(c->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                     TLSEXT_NAMETYPE_host_name, const_cast<char*>(r.host.c_str()));
        }
        c->tls->set_verify_callback([c = c.get(), check = ssl::host_name_verification(r.host)](
                                        bool preverified, ssl::verify_context& ctx) mutable {
            const bool ok = check(preverified, ctx);
            if (preverified && !ok) c->name_mismatch = true;
            return ok;
        });
        c->tls->async_handshake(
            ssl::stream_base::client, [this, c, gen = c->generation](error_code ec) {
                if (c->generation != gen || !c->req) return;
                if (c->timed_out) return attempt_failed(c, HttpError::kTimeout, "timed out", false);
                if (ec) {
                    std::string m = "TLS handshake failed: ";
                    const long verify = SSL_get_verify_result(c->tls->native_handle());
                    if (c->name_mismatch) {
                        m.append("SSL certificate problem: certificate does not match host name ");
                        m.append(c->req->host);
                    } else if (verify != X509_V_OK) {
                        m.append("SSL certificate problem: ");
                        m.append(X509_verify_cert_error_string(verify));
                    } else {
                        m.append(ec.message());
                    }
                    return attempt_failed(c, HttpError::kTls, std::move(m), false);
                }
                c->state = State::kActive;
                send(c);
            });
    }

    void send(const std::shared_ptr<Connection>& c) {
        const Request& r = *c->req;
        std::string& h = c->head;
        h.clear();
        h.reserve(kRequestHeadReserve);
        h.append("POST ");
        if (r.target.front() == '?') h.push_back('/');
        h.append(r.target).append(" HTTP/1.1\r\nHost: ").append(r.host_header);
        h.append("\r\n");
        for (const auto& [name, value] : r.request.headers) {
            if (reserved_header(name)) continue;
            h.append(name).append(": ").append(value).append("\r\n");
        }
        h.append("Content-Length: ").append(std::to_string(r.request.body.size()));
        h.append("\r\n\r\n");
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(h),
                                                        asio::buffer(r.request.body)};
        c->with_stream([&](auto& stream) {
            asio::async_write(
                stream, buffers, [this, c, gen = c->generation](error_code ec, size_t) {
                    if (c->generation != gen || !c->req) return;
                    if (c->timed_out) {
                        return attempt_failed(c, HttpError::kTimeout, "timed out", false);
                    }
                    if (ec) {
                        std::string m = "send failed: ";
                        m.append(ec.message());
                        return attempt_failed(c, HttpError::kConnect, std::move(m), true);
                    }
                    receive(c);
                });
        });
    }

    void receive(const std::shared_ptr<Connection>& c) {
        c->parser.emplace();
        c->parser->body_limit(kMaxReadBody);
        c->with_stream([&](auto& stream) {
            http::async_read(stream, c->buffer, *c->parser,
                             [this, c, gen = c->generation](error_code ec, size_t) {
                                 if (c->generation != gen || !c->req) return;
                                 on_answer(c, ec);
                             });
        });
    }

    static bool closed_before_answer(const error_code& ec) {
        return ec == http::error::end_of_stream || ec == asio::error::eof ||
               ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
               ec == ssl::error::stream_truncated;
    }

    void on_answer(const std::shared_ptr<Connection>& c, error_code ec) {
        auto& parser = *c->parser;
        if (c->timed_out) return attempt_failed(c, HttpError::kTimeout, "timed out", false);
        const bool too_big = ec == http::error::body_limit && parser.is_header_done();
        if (ec && !too_big) {
            if (!parser.got_some() && closed_before_answer(ec)) {
                return attempt_failed(c, HttpError::kConnect, "connection closed before an answer",
                                      true);
            }
            if (&ec.category() == &http::make_error_code(http::error::end_of_stream).category() ||
                ec == http::error::partial_message) {
                std::string m = "malformed answer: ";
                m.append(ec.message());
                const auto kind =
                    ec == http::error::partial_message ? HttpError::kConnect : HttpError::kProtocol;
                return attempt_failed(c, kind, std::move(m), false);
            }
            std::string m = "receive failed: ";
            m.append(ec.message());
            return attempt_failed(c, HttpError::kConnect, std::move(m), false);
        }
        auto r = std::move(c->req);
        auto& msg = parser.get();
        r->response.status = static_cast<int>(msg.result_int());
        r->response.error = HttpError::kNone;
        r->response.error_message.clear();
        auto& body = msg.body();
        if (body.size() > kMaxBody) body.resize(kMaxBody);
        r->response.body = std::move(body);
        const auto ra = msg.find(http::field::retry_after);
        if (ra != msg.end()) {
            const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
            const auto v = ra->value();
            r->response.retry_after_ms =
                parse_retry_after_ms(std::string_view(v.data(), v.size()), now_s);
        }
        const bool reusable = !too_big && msg.keep_alive() && c->socket.is_open() &&
                              c->buffer.size() == 0 && !stopped;
        c->parser.reset();
        if (c->buffer.capacity() > kMaxBody) c->buffer.shrink_to_fit();  // after a big answer
        Origin& origin = *c->origin;
        if (reusable) {
            make_idle(c);
        } else {
            close(*c);
        }
        complete(std::move(r));
        after_release(origin);
    }

    // The attempt on `c` failed; `c` is closed. A request that failed on a reused connection
    // before any answer (`before_answer`) is sent once more on a fresh connection.
    void attempt_failed(const std::shared_ptr<Connection>& c, HttpError error, std::string msg,
                        bool before_answer) {
        auto r = std::move(c->req);
        const bool retry = before_answer && c->reused && !r->retried && !stopped;
        Origin& origin = *c->origin;
        close(*c);
        if (retry) {
            r->retried = true;
            // A fresh connection now: its slot was just freed, and the request goes first.
            auto fresh = std::make_shared<Connection>(ioc, &origin);
            fresh->slot = origin.conns.size();
            origin.conns.push_back(fresh);
            ++total_connections;
            assign(fresh, std::move(r));
        } else {
            fail(std::move(r), error, std::move(msg));
        }
        after_release(origin);
    }

    // A connection of `origin` finished or closed: waiting requests go on, `origin` is forgotten
    // when nothing uses it (not to be touched afterwards), and so do origins that waited for
    // max_total_connections.
    void after_release(Origin& origin) {
        pump(origin);
        forget_if_unused(origin);
        pump_starved();
    }

    // ---- pool -------------------------------------------------------------------------------

    void make_idle(const std::shared_ptr<Connection>& c) {
        c->state = State::kIdle;
        c->reused = true;
        c->last_used = Clock::now();
        ++c->generation;
        Origin& origin = *c->origin;
        origin.idle.push_back(c.get());
        const auto gen = c->generation;
        // Readable while idle: the server closed it (FIN/RST) or sent bytes nobody asked for.
        c->socket.async_wait(tcp::socket::wait_read, [this, c, gen](error_code ec) {
            if (ec || c->generation != gen || c->state != State::kIdle) return;
            discard_idle(c);
        });
        c->timer.expires_after(options.idle_timeout);
        c->timer.async_wait([this, c, gen](error_code ec) {
            if (ec || c->generation != gen || c->state != State::kIdle) return;
            discard_idle(c);
        });
    }

    void discard_idle(const std::shared_ptr<Connection>& c) {
        Origin& origin = *c->origin;
        std::erase(origin.idle, c.get());
        close(*c);
        after_release(origin);
    }

    // Closes `c` and forgets it; its pending operations complete with errors and find no
    // request. Does not touch c.req.
    void close(Connection& c) {
        if (c.state == State::kClosed) return;
        Origin& origin = *c.origin;
        if (c.state == State::kIdle) std::erase(origin.idle, &c);
        c.state = State::kClosed;
        ++c.generation;
        error_code ignored;
        c.resolver.cancel();
        c.timer.cancel();
        c.socket.close(ignored);
        // swap-remove from the origin's list
        auto keep = origin.conns[c.slot];  // `c` must outlive the swap
        const size_t slot = c.slot;
        if (slot + 1 != origin.conns.size()) {
            origin.conns[slot] = std::move(origin.conns.back());
            origin.conns[slot]->slot = slot;
        }
        origin.conns.pop_back();
        --total_connections;
    }

    // A connection closed or became idle somewhere: origins waiting on max_total_connections
    // may go on, on a free place or by closing an idle connection of another origin (pump).
    void pump_starved() {
        while (!starved.empty()) {
            Origin* o = starved.front();
            starved.pop_front();
            o->starved = false;
            pump(*o);
            const bool still_starved = o->starved;
            forget_if_unused(*o);
            if (still_starved) break;  // nothing free and nothing idle: wait for the next release
        }
    }

    // ---- stop -------------------------------------------------------------------------------

    void stop_on_loop() {
        stopped = true;
        std::vector<std::unique_ptr<Request>> cancelled;
        for (auto& [key, o] : origins) {
            for (auto& r : o->waiting) cancelled.push_back(std::move(r));
            o->waiting.clear();
            while (!o->conns.empty()) {
                auto c = o->conns.back();
                if (c->req) cancelled.push_back(std::move(c->req));
                close(*c);
            }
        }
        starved.clear();
        origins.clear();
        for (auto& r : cancelled) fail(std::move(r), HttpError::kCancelled, "client stopped");
        work.reset();
        ioc.stop();  // a resolve in progress need not be waited for
    }
};

BeastHttpClient::BeastHttpClient(BeastOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), in_flight_)) {}

BeastHttpClient::~BeastHttpClient() { stop(); }

void BeastHttpClient::post(HttpRequest request, std::function<void(HttpResponse)> done) {
    auto r = std::make_unique<Request>();
    r->request = std::move(request);
    r->done = std::move(done);
    in_flight_.fetch_add(1);
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->stopping) {
            // Posted under the lock: stop() posts its own task after this one.
            asio::post(impl_->ioc, [impl = impl_.get(), r = std::move(r)]() mutable {
                impl->admit(std::move(r));
            });
            return;
        }
    }
    in_flight_.fetch_sub(1);
    HttpResponse resp;
    resp.error = HttpError::kCancelled;
    resp.error_message = "client stopped";
    r->done(std::move(resp));
}

void BeastHttpClient::stop() {
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->stopping) {
            impl_->stopping = true;
            asio::post(impl_->ioc, [impl = impl_.get()] { impl->stop_on_loop(); });
        }
    }
    if (impl_->thread.joinable() && impl_->thread.get_id() != std::this_thread::get_id()) {
        impl_->thread.join();
    }
}

}  // namespace cg::net
