#include "support/test_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

namespace cg::test {

namespace http = boost::beast::http;

TestHttpServer::TestHttpServer() : handler_([](const Recorded&) { return Reply{}; }) {
    port_ = listen_on(0);
    acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::TestHttpServer(ServerOptions options)
    : options_(options), handler_([](const Recorded&) { return Reply{}; }) {
    port_ = listen_on(0);
    acceptor_ = std::thread([this] { accept_loop(); });
}

TestHttpServer::TestHttpServer(const CertFiles& tls)
    : handler_([](const Recorded&) { return Reply{}; }) {
    tls_ = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    tls_->use_certificate_chain_file(tls.cert);
    tls_->use_private_key_file(tls.key, boost::asio::ssl::context::pem);
    port_ = listen_on(0);
    acceptor_ = std::thread([this] { accept_loop(); });
}

uint16_t TestHttpServer::listen_on(uint16_t port) {
    listen_fd_ = ::socket(options_.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    // SO_REUSEADDR: the connections this server closed sit in TIME_WAIT on its port, which must
    // not stop reopen_listener() from binding it again.
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage storage{};
    socklen_t len = 0;
    if (options_.ipv6) {
        auto* addr = reinterpret_cast<sockaddr_in6*>(&storage);
        addr->sin6_family = AF_INET6;
        addr->sin6_addr = in6addr_loopback;
        addr->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
    } else {
        auto* addr = reinterpret_cast<sockaddr_in*>(&storage);
        addr->sin_family = AF_INET;
        addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr->sin_port = htons(port);
        len = sizeof(sockaddr_in);
    }
    auto* addr = reinterpret_cast<sockaddr*>(&storage);
    if (listen_fd_ < 0 || ::bind(listen_fd_, addr, len) != 0 || ::listen(listen_fd_, 512) != 0 ||
        ::getsockname(listen_fd_, addr, &len) != 0) {
        if (listen_fd_ >= 0) ::close(listen_fd_);
        listen_fd_ = -1;
        throw std::runtime_error("test server cannot listen");
    }
    return options_.ipv6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port)
                         : ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

TestHttpServer::~TestHttpServer() { stop(); }

std::string TestHttpServer::url(const std::string& path) const {
    return url_for_host(options_.ipv6 ? "[::1]" : "127.0.0.1", path);
}

std::string TestHttpServer::url_for_host(const std::string& host, const std::string& path) const {
    return (tls_ ? "https://" : "http://") + host + ":" + std::to_string(port_) + path;
}

void TestHttpServer::set_handler(std::function<Reply(const Recorded&)> handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
}

std::vector<Recorded> TestHttpServer::requests() const {
    std::lock_guard lock(mu_);
    return log_;
}

size_t TestHttpServer::count() const {
    std::lock_guard lock(mu_);
    return log_.size();
}

bool TestHttpServer::wait_for_count(size_t n, std::chrono::milliseconds timeout) const {
    return wait_for([n](const std::vector<Recorded>& log) { return log.size() >= n; }, timeout);
}

bool TestHttpServer::wait_for(const std::function<bool(const std::vector<Recorded>&)>& pred,
                              std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(log_); });
}

void TestHttpServer::accept_loop() {
    while (!stopping_.load() && !down_.load()) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        connections_.fetch_add(1);
        std::lock_guard lock(mu_);
        const int id = ++next_connection_;
        fds_.push_back(fd);
        workers_.emplace_back([this, fd, id] { serve(fd, id); });
    }
}

void TestHttpServer::serve(int fd, int connection) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket socket(ioc);
    boost::system::error_code ec;
    socket.assign(options_.ipv6 ? boost::asio::ip::tcp::v6() : boost::asio::ip::tcp::v4(), fd, ec);
    if (ec) {
        std::lock_guard lock(mu_);
        std::erase(fds_, fd);
        ::close(fd);
        return;
    }
    if (tls_) {
        boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream(socket, *tls_);
        stream.handshake(boost::asio::ssl::stream_base::server, ec);
        if (ec) {
            failed_handshakes_.fetch_add(1);
        } else {
            serve_requests(stream, fd, connection);
        }
    } else {
        serve_requests(socket, fd, connection);
    }
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    {
        // Forget the descriptor before closing it, so drop_connections() never shuts down a
        // descriptor number that has meanwhile been reused elsewhere in the process.
        std::lock_guard lock(mu_);
        std::erase(fds_, fd);
    }
    socket.close(ec);
}

template <class Stream>
void TestHttpServer::serve_requests(Stream& stream, int fd, int connection) {
    boost::system::error_code ec;
    boost::beast::flat_buffer buffer;
    const auto ending = [this] { return stopping_.load() || down_.load(); };
    int served = 0;  // close_idle_after applies between requests, not before the first
    while (!ending()) {
        if (options_.close_idle_after.count() > 0 && served > 0 && buffer.size() == 0) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(options_.close_idle_after.count())) <= 0) break;
        }
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        if (ec) break;
        Recorded r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        for (const auto& f : req) {
            std::string name(f.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = std::string(f.value());
        }
        r.body = req.body();
        r.at = std::chrono::steady_clock::now();
        r.connection = connection;
        std::function<Reply(const Recorded&)> handler;
        {
            std::lock_guard lock(mu_);
            handler = handler_;
        }
        const Reply reply = handler(r);
        {
            std::lock_guard lock(mu_);
            log_.push_back(r);
        }
        cv_.notify_all();
        if (reply.delay.count() > 0) {
            const auto until = std::chrono::steady_clock::now() + reply.delay;
            while (!ending() && std::chrono::steady_clock::now() < until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            if (ending()) break;
        }
        if (reply.status == 0) break;  // hang up without an answer
        http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
        res.set(http::field::content_type, "application/json");
        for (const auto& [k, v] : reply.headers) res.set(k, v);
        res.body() = reply.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        http::write(stream, res, ec);
        ++served;
        if (ec || !req.keep_alive()) break;
    }
}

void TestHttpServer::drop_connections() {
    std::vector<std::thread> workers;
    {
        std::lock_guard lock(mu_);
        for (const int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // unblocks reads
        workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
}

void TestHttpServer::close_listener() {
    if (stopping_.load() || down_.exchange(true)) return;
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
    drop_connections();
}

void TestHttpServer::reopen_listener() {
    if (stopping_.load() || !down_.load()) return;
    listen_on(port_);  // port_ stays as it is: other threads read it without a lock
    down_ = false;
    acceptor_ = std::thread([this] { accept_loop(); });
}

void TestHttpServer::stop() {
    if (stopping_.exchange(true)) return;
    if (acceptor_.joinable()) acceptor_.join();
    drop_connections();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
}

}  // namespace cg::test
