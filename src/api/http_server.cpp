#include "api/http_server.hpp"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "api/http_session.hpp"
#include "api/reader_pool.hpp"
#include "api/router.hpp"
#include "common/thread_name.hpp"
#include "obs/log.hpp"

namespace cg::api {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
// SO_REUSEPORT lets every event loop own an acceptor on the same port; the kernel spreads
// incoming connections across them. Asio has no named option for it.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// After a failed accept the loop pauses before the next one: 10 ms, doubling up to 1 s, back
// to none after an accept succeeds. A pending connection the kernel could not hand over (out of
// descriptors: EMFILE) keeps the listener readable, so retrying at once would spin a core.
constexpr std::chrono::milliseconds kAcceptPauseFirst{10};
constexpr std::chrono::milliseconds kAcceptPauseMax{1000};
// At most one "accept failed" line per interval (with the count since the last line).
constexpr std::chrono::seconds kAcceptLogInterval{10};

const char* accept_error_label(const boost::system::error_code& ec) {
    if (ec.category() != boost::system::system_category()) return "other";
    switch (ec.value()) {
        case EMFILE:
            return "emfile";
        case ENFILE:
            return "enfile";
        case ENOMEM:
        case ENOBUFS:
            return "enomem";
        default:
            return "other";
    }
}
}  // namespace

std::chrono::milliseconds next_accept_pause(std::chrono::milliseconds previous) {
    if (previous.count() <= 0) return kAcceptPauseFirst;
    return std::min(previous * 2, kAcceptPauseMax);
}

std::optional<asio::ip::address> peer_of(const tcp::socket& socket) {
    boost::system::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (ec) return std::nullopt;
    return ep.address();
}

// One event loop: its io_context, acceptor and the sessions it owns.
struct Loop {
    asio::io_context ioc{1};
    std::optional<tcp::acceptor> acceptor;
    asio::steady_timer accept_pause{ioc};          // waits out a pause after a failed accept
    std::chrono::milliseconds accept_backoff{0};   // the last pause; 0 after a good accept
    std::vector<std::weak_ptr<Session>> sessions;  // this loop's thread only
    std::thread thread;
};

struct HttpServer::Impl {
    ServerOptions options;
    ApiServices services;
    std::atomic<bool> draining{false};
    ConnectionLimiter limiter;
    std::atomic<int64_t> pending{0};
    ReaderPool readers;
    PendingKeys pending_keys;
    HandlerContext ctx;
    Router router;
    SessionShared shared;
    std::vector<std::unique_ptr<Loop>> loops;
    uint16_t bound_port = 0;
    bool stopped = false;

    // Accept failures since the last "accept failed" line, shared by every loop.
    std::mutex accept_log_mu;
    int64_t accept_failures_unlogged = 0;                     // guarded by accept_log_mu
    std::chrono::steady_clock::time_point accept_log_next{};  // guarded by accept_log_mu

    Impl(ServerOptions o, ApiServices s)
        : options(std::move(o)),
          services(std::move(s)),
          limiter(options.limits),
          readers(services.store, options.reader_threads),
          ctx{services, readers, pending_keys, draining},
          router(ctx),
          shared{router,
                 services.metrics,
                 draining,
                 limiter,
                 pending,
                 options.idle_timeout,
                 options.request_timeout,
                 options.tls.get()} {}

    // Answers a connection over the limits with 503 and closes it. The answer is a few bytes
    // on a fresh socket, so a non-blocking write completes or is dropped; never waited for.
    // An HTTPS connection is only closed: a TLS handshake for one answer would cost the CPU the
    // limit is there to protect, and plain bytes would be garbage to a TLS client.
    void refuse(tcp::socket& socket, const char* why) {
        static constexpr std::string_view kAnswer =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            "Retry-After: 1\r\nConnection: close\r\nContent-Length: 52\r\n\r\n"
            R"({"status":"error","message":"Too many connections."})";
        boost::system::error_code ignored;
        socket.non_blocking(true, ignored);
        if (!options.tls) socket.write_some(asio::buffer(kAnswer), ignored);
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        socket.close(ignored);
        services.metrics.connections_refused.inc(why);
    }

    template <class Stream>
    void start_session(Loop& loop, tcp::socket socket, const asio::ip::address& peer) {
        auto session = std::make_shared<HttpSession<Stream>>(std::move(socket), peer, shared);
        loop.sessions.push_back(session);
        session->start();
    }

    // Counts a failed accept and writes one warn line per kAcceptLogInterval at most: the first
    // failure at once, then the count of those in between (a burst never floods the log).
    void note_accept_failure(const boost::system::error_code& ec) {
        services.metrics.accept_errors.inc(accept_error_label(ec));
        const auto now = std::chrono::steady_clock::now();
        int64_t count = 0;
        {
            std::lock_guard lock(accept_log_mu);
            ++accept_failures_unlogged;
            if (now < accept_log_next) return;
            count = accept_failures_unlogged;
            accept_failures_unlogged = 0;
            accept_log_next = now + kAcceptLogInterval;
        }
        obs::log_warn("accept failed " + std::to_string(count) + " times: " + ec.message())
            .kv("error", ec.message())
            .kv("count", count)
            .kv("interval_s", static_cast<int64_t>(kAcceptLogInterval.count()));
    }

    // Pauses this loop's accepting (never blocking the loop: a timer on it), then accepts again.
    void pause_accepting(Loop& loop) {
        loop.accept_backoff = next_accept_pause(loop.accept_backoff);
        loop.accept_pause.expires_after(loop.accept_backoff);
        loop.accept_pause.async_wait([this, &loop](boost::system::error_code ec) {
            if (ec || !loop.acceptor->is_open()) return;
            do_accept(loop);
        });
    }

    void do_accept(Loop& loop) {
        loop.acceptor->async_accept(loop.ioc, [this, &loop](boost::system::error_code ec,
                                                            tcp::socket socket) {
            if (ec) {
                if (ec == asio::error::operation_aborted || !loop.acceptor->is_open()) return;
                note_accept_failure(ec);
                pause_accepting(loop);
                return;
            }
            loop.accept_backoff = std::chrono::milliseconds(0);
            if (draining.load()) {
                boost::system::error_code ignored;
                socket.close(ignored);
            } else if (auto peer = peer_of(socket); !peer) {
                boost::system::error_code ignored;
                socket.close(ignored);  // already gone
            } else if (const auto verdict = limiter.try_admit(*peer);
                       verdict != ConnectionLimiter::Verdict::kAdmitted) {
                refuse(socket, verdict == ConnectionLimiter::Verdict::kTooManyTotal ? "total"
                                                                                    : "per_client");
            } else {
                if (loop.sessions.size() > 64 && loop.sessions.size() % 64 == 0) {
                    std::erase_if(loop.sessions, [](const auto& w) { return w.expired(); });
                }
                if (shared.tls != nullptr) {
                    start_session<TlsStream>(loop, std::move(socket), *peer);
                } else {
                    start_session<PlainStream>(loop, std::move(socket), *peer);
                }
            }
            if (loop.acceptor->is_open()) do_accept(loop);
        });
    }
};

HttpServer::HttpServer(ServerOptions options, ApiServices services)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(services))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
    auto& im = *impl_;
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(im.options.bind_address, ec);
    if (ec)
        throw std::runtime_error("BIND_ADDRESS " + im.options.bind_address +
                                 " is not an IP address");
    uint16_t port = im.options.port;
    const int n = std::max(1, im.options.threads);
    for (int i = 0; i < n; ++i) {
        auto loop = std::make_unique<Loop>();
        tcp::endpoint ep(address, port);
        auto& acc = loop->acceptor.emplace(loop->ioc);
        acc.open(ep.protocol(), ec);
        if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acc.set_option(reuse_port(true), ec);
        if (!ec) acc.bind(ep, ec);
        if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            throw std::runtime_error("cannot listen on " + im.options.bind_address + ":" +
                                     std::to_string(port) + ": " + ec.message());
        }
        if (port == 0) port = acc.local_endpoint().port();  // the others join the same port
        im.loops.push_back(std::move(loop));
    }
    im.bound_port = port;
    for (auto& loop : im.loops) {
        im.do_accept(*loop);
        loop->thread = std::thread([l = loop.get()] {
            name_this_thread("cg-http");
            l->ioc.run();
        });
    }
}

uint16_t HttpServer::port() const { return impl_->bound_port; }

void HttpServer::stop_accepting() {
    auto& im = *impl_;
    im.draining.store(true);
    for (auto& loop : im.loops) {
        asio::post(loop->ioc, [l = loop.get()] {
            boost::system::error_code ec;
            if (l->acceptor) l->acceptor->close(ec);
            l->accept_pause.cancel();
            for (auto& w : l->sessions) {
                if (auto s = w.lock()) s->close_if_idle();
            }
        });
    }
}

bool HttpServer::idle() const { return impl_->pending.load() == 0; }

void HttpServer::stop() {
    auto& im = *impl_;
    if (im.stopped) return;
    im.stopped = true;
    im.readers.stop();
    for (auto& loop : im.loops) loop->ioc.stop();
    for (auto& loop : im.loops) {
        if (loop->thread.joinable()) loop->thread.join();
    }
}

}  // namespace cg::api
