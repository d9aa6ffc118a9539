#include "api/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <type_traits>

#include "api/session_rules.hpp"
#include "obs/log.hpp"

namespace cg::api {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {
constexpr auto kWriteTimeout = 10s;

PlainStream make_stream(boost::asio::ip::tcp::socket socket, PlainStream*, SessionShared&) {
    return PlainStream(std::move(socket));
}

TlsStream make_stream(boost::asio::ip::tcp::socket socket, TlsStream*, SessionShared& shared) {
    return TlsStream(std::move(socket), *shared.tls);
}
}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(boost::asio::ip::tcp::socket socket, boost::asio::ip::address peer,
                                 SessionShared& shared)
    : stream_(make_stream(std::move(socket), static_cast<Stream*>(nullptr), shared)),
      shared_(shared),
      peer_(std::move(peer)) {
    beast::error_code ec;
    tcp().socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
    shared_.limiter.release(peer_);
}

template <class Stream>
void HttpSession<Stream>::start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        // A client that connects and never completes the handshake (or speaks plain HTTP to
        // this port) holds the connection at most the request timeout, then it is closed.
        boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            self->tcp().expires_after(self->shared_.request_timeout);
            self->stream_.async_handshake(boost::asio::ssl::stream_base::server,
                                          [self](beast::error_code ec) { self->on_handshake(ec); });
        });
    } else {
        boost::asio::dispatch(stream_.get_executor(),
                              [self = shared_from_this()] { self->do_read(); });
    }
}

template <class Stream>
void HttpSession<Stream>::on_handshake(beast::error_code ec) {
    if (ec) {
        shared_.metrics.tls_handshake_failures.inc();
        obs::log_debug("TLS handshake failed")
            .kv("peer", peer_.to_string())
            .kv("error", ec.message());
        close();
        return;
    }
    do_read();
}

template <class Stream>
void HttpSession<Stream>::close_if_idle() {
    if (!busy_) close();
}

template <class Stream>
void HttpSession<Stream>::do_read() {
    if (shared_.draining.load()) {
        close();
        return;
    }
    parser_.emplace();
    arm_for_header(*parser_);
    if (buffer_.size() > 0) {  // a pipelined request has started already
        read_header();
        return;
    }
    // Wait for the first byte under the idle timeout; the request's own clock starts then.
    tcp().expires_after(shared_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                                self->on_first_bytes(ec, n);
                            });
}

template <class Stream>
void HttpSession<Stream>::on_first_bytes(beast::error_code ec, size_t n) {
    buffer_.commit(n);
    if (ec) {
        close();
        return;
    }
    read_header();
}

template <class Stream>
void HttpSession<Stream>::read_header() {
    tcp().expires_after(shared_.request_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

template <class Stream>
void HttpSession<Stream>::on_header(beast::error_code ec) {
    const ReadStep step = after_header(*parser_, ec);
    if (step.action == ReadStep::Action::kClose) {
        close();
        return;
    }
    if (step.action == ReadStep::Action::kRefuse) {
        fail_and_close(step.status, step.message);
        return;
    }
    busy_ = true;
    if (step.send_continue) {
        // The route may refuse from the headers alone (credentials, content type): then the
        // final answer goes instead of `100 Continue`, and the connection closes, as the unread
        // body would otherwise be read as the next request.
        if (auto refusal = shared_.router.refusal_before_body(parser_->get(), peer_)) {
            keep_alive_ = false;
            version_ = parser_->get().version();
            head_ = false;
            write(std::move(*refusal));
            return;
        }
        // The client holds the body back until told to send it. The interim answer shares the
        // request's deadline; the member outlives the write (one request at a time).
        continue_.version(parser_->get().version());
        http::async_write(stream_, continue_,
                          [self = shared_from_this()](beast::error_code e, size_t) {
                              if (e) {
                                  self->close();
                                  return;
                              }
                              self->read_body();
                          });
        return;
    }
    read_body();
}

template <class Stream>
void HttpSession<Stream>::read_body() {
    // The body shares the deadline set when the request's first byte arrived.
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code e, size_t) { self->on_read(e); });
}

template <class Stream>
void HttpSession<Stream>::on_read(beast::error_code ec) {
    const ReadStep step = after_body(ec);
    if (step.action == ReadStep::Action::kClose) {
        close();
        return;
    }
    if (step.action == ReadStep::Action::kRefuse) {
        fail_and_close(step.status, step.message);
        return;
    }
    dispatch();
}

template <class Stream>
void HttpSession<Stream>::dispatch() {
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    shared_.pending.fetch_add(1);
    tcp().expires_never();  // the handler's answer may take a commit; no read is pending
    auto executor = stream_.get_executor();
    // The reply may run on any thread: it posts the answer back to this session's loop.
    Reply reply = [self = shared_from_this(), executor](Response res) {
        boost::asio::post(executor, [self, res = std::move(res)]() mutable {
            self->shared_.pending.fetch_sub(1);
            self->write(std::move(res));
        });
    };
    shared_.router.handle(std::move(req), peer_, executor, std::move(reply));
}

template <class Stream>
void HttpSession<Stream>::write(Response res) {
    const bool close_after = !keep_alive_ || shared_.draining.load();
    finish_response(res, version_, !close_after, head_);
    auto msg = std::make_shared<Response>(std::move(res));
    tcp().expires_after(kWriteTimeout);
    http::async_write(stream_, *msg,
                      [self = shared_from_this(), msg, close_after](beast::error_code ec, size_t) {
                          self->on_write(close_after, ec);
                      });
}

template <class Stream>
void HttpSession<Stream>::on_write(bool close_after, beast::error_code ec) {
    busy_ = false;
    if (ec || close_after) {
        close();
        return;
    }
    do_read();
}

template <class Stream>
void HttpSession<Stream>::fail_and_close(unsigned status, std::string_view message) {
    // Answered before routing: counted here so that /metrics shows refused requests too.
    shared_.metrics.http_requests.inc("other", static_cast<int>(status));
    // A refused POST to §1 is one of its answers too (charging_requests_total counts them all).
    if (parser_ && parser_->get().method() == http::verb::post &&
        Router::is_charging_session_target(parser_->get().target())) {
        shared_.metrics.charging_requests.inc(status == 413   ? "too_large"
                                              : status == 415 ? "unsupported_media_type"
                                                              : "malformed");
    }
    busy_ = true;
    keep_alive_ = false;
    version_ = 11;
    head_ = false;  // the connection closes after the answer, so its body cannot be misread
    auto res = error_response(status, message);
    // RFC 9110 §12.5.3: a refused Content-Encoding is answered with the ones accepted.
    if (status == 415) res.set(http::field::accept_encoding, "identity");
    write(std::move(res));
}

template <class Stream>
void HttpSession<Stream>::close() {
    // A TLS connection is closed without a close_notify: every answer carries its length, so
    // the client cannot mistake a cut answer for a whole one.
    beast::error_code ec;
    tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    tcp().socket().close(ec);
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace cg::api
