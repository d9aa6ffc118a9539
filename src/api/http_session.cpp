#include "api/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

namespace cg::api {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {
constexpr auto kWriteTimeout = 10s;
constexpr uint32_t kHeaderLimit = 8 * 1024;
}  // namespace

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, boost::asio::ip::address peer,
                         SessionShared& shared)
    : stream_(std::move(socket)), shared_(shared), peer_(std::move(peer)) {
    beast::error_code ec;
    stream_.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

HttpSession::~HttpSession() { shared_.limiter.release(peer_); }

void HttpSession::start() {
    boost::asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::close_if_idle() {
    if (!busy_) close();
}

void HttpSession::do_read() {
    if (shared_.draining.load()) {
        close();
        return;
    }
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Raised per route once the request line is known (see on_header); the largest limit is
    // allowed here so that the header phase does not reject an admin body.
    parser_->body_limit(Router::kMaxBodyLimit);
    if (buffer_.size() > 0) {  // a pipelined request has started already
        read_header();
        return;
    }
    // Wait for the first byte under the idle timeout; the request's own clock starts then.
    stream_.expires_after(shared_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                                self->on_first_bytes(ec, n);
                            });
}

void HttpSession::on_first_bytes(beast::error_code ec, size_t n) {
    buffer_.commit(n);
    if (ec) {
        close();
        return;
    }
    read_header();
}

void HttpSession::read_header() {
    stream_.expires_after(shared_.request_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
}

void HttpSession::on_header(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::operation_aborted || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
        close();
        return;
    }
    if (ec == http::error::header_limit) {
        fail_and_close(431, "Request headers are too large.");
        return;
    }
    if (ec == http::error::body_limit) {
        fail_and_close(413, "The request body is too large.");
        return;
    }
    if (ec) {
        fail_and_close(400, "Malformed HTTP request.");
        return;
    }
    busy_ = true;
    const auto& h = parser_->get();
    const size_t limit = Router::body_limit_for(h.method(), h.target());
    parser_->body_limit(limit);
    if (const auto len = parser_->content_length(); len && *len > limit) {
        fail_and_close(413, "The request body is too large.");
        return;
    }
    // The body shares the deadline set when the request's first byte arrived.
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code e, size_t) { self->on_read(e); });
}

void HttpSession::on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
        fail_and_close(413, "The request body is too large.");
        return;
    }
    if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
        ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
        ec == boost::asio::error::operation_aborted || ec == http::error::partial_message) {
        close();
        return;
    }
    if (ec) {
        fail_and_close(400, "Malformed HTTP request.");
        return;
    }
    dispatch();
}

void HttpSession::dispatch() {
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    shared_.pending.fetch_add(1);
    stream_.expires_never();  // the handler's answer may take a commit; no read is pending
    auto executor = stream_.get_executor();
    // The reply may run on any thread: it posts the answer back to this session's loop.
    Reply reply = [self = shared_from_this(), executor](Response res) {
        boost::asio::post(executor, [self, res = std::move(res)]() mutable {
            self->shared_.pending.fetch_sub(1);
            self->write(std::move(res));
        });
    };
    shared_.router.handle(req, peer_, std::move(reply));
}

void HttpSession::write(Response res) {
    const bool close_after = !keep_alive_ || shared_.draining.load();
    res.version(version_);
    res.keep_alive(!close_after);
    res.set(http::field::server, "chargegate");
    if (res.body().empty() && res.result() != http::status::no_content) res.prepare_payload();
    auto msg = std::make_shared<Response>(std::move(res));
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *msg,
                      [self = shared_from_this(), msg, close_after](beast::error_code ec, size_t) {
                          self->on_write(close_after, ec);
                      });
}

void HttpSession::on_write(bool close_after, beast::error_code ec) {
    busy_ = false;
    if (ec || close_after) {
        close();
        return;
    }
    do_read();
}

void HttpSession::fail_and_close(unsigned status, std::string_view message) {
    // Answered before routing: counted here so that /metrics shows refused requests too.
    shared_.metrics.http_requests.inc("other", static_cast<int>(status));
    if (status == 413 && parser_ &&
        parser_->get().target().starts_with("/api/v1/charging-session")) {
        shared_.metrics.charging_requests.inc("too_large");
    }
    busy_ = true;
    keep_alive_ = false;
    version_ = 11;
    write(error_response(status, message));
}

void HttpSession::close() {
    beast::error_code ec;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
}

}  // namespace cg::api
