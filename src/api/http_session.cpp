#include "api/http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

#include "api/session_rules.hpp"

namespace cg::api {

namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

namespace {
constexpr auto kWriteTimeout = 10s;
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
    arm_for_header(*parser_);
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
    // The body shares the deadline set when the request's first byte arrived.
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code e, size_t) { self->on_read(e); });
}

void HttpSession::on_read(beast::error_code ec) {
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

void HttpSession::dispatch() {
    auto req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
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
    shared_.router.handle(std::move(req), peer_, executor, std::move(reply));
}

void HttpSession::write(Response res) {
    const bool close_after = !keep_alive_ || shared_.draining.load();
    finish_response(res, version_, !close_after, head_);
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
    if (status == 413 && parser_ && Router::is_charging_session_target(parser_->get().target())) {
        shared_.metrics.charging_requests.inc("too_large");
    }
    busy_ = true;
    keep_alive_ = false;
    version_ = 11;
    head_ = false;  // the connection closes after the answer, so its body cannot be misread
    write(error_response(status, message));
}

void HttpSession::close() {
    beast::error_code ec;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
}

}  // namespace cg::api
