// Outbound callback clients compared: N POSTs over keep-alive (HTTP, or HTTPS with a
// self-signed certificate made by the openssl tool) to a local receiver through
// CurlHttpClient and BeastHttpClient, `in_flight` requests at a time (the next is posted from
// the completion, on the client's thread, as the delivery engine does).
//
// The receiver runs in a forked child process, so this process's CPU time (getrusage) is the
// client's own: counters `cpu_us_per_req` (user + system, all threads of this process) and
// items_per_second (requests/s, wall clock).
// Run: build/micro_bench --benchmark_filter=HttpClient
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "net/http_client_factory.hpp"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

template <class Stream>
void serve(Stream& s) {
    boost::beast::flat_buffer buffer;
    boost::system::error_code e;
    http::response<http::string_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.body() = "{}";
    res.prepare_payload();
    for (;;) {
        http::request<http::string_body> req;
        http::read(s, buffer, req, e);
        if (e) break;
        res.keep_alive(req.keep_alive());
        http::write(s, res, e);
        if (e || !req.keep_alive()) break;
    }
}

// A minimal HTTP/1.1 receiver: a thread per connection, 200 {} with keep-alive; HTTPS when
// `tls` is set.
[[noreturn]] void run_receiver(int port_pipe, const std::shared_ptr<asio::ssl::context>& tls) {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const uint16_t port = acceptor.local_endpoint().port();
    if (::write(port_pipe, &port, sizeof(port)) != sizeof(port)) ::_exit(1);
    ::close(port_pipe);
    for (;;) {
        tcp::socket socket(ioc);
        boost::system::error_code ec;
        acceptor.accept(socket, ec);
        if (ec) continue;
        std::thread([s = std::move(socket), tls]() mutable {
            if (!tls) return serve(s);
            asio::ssl::stream<tcp::socket&> stream(s, *tls);
            boost::system::error_code e;
            stream.handshake(asio::ssl::stream_base::server, e);
            if (!e) serve(stream);
        }).detach();
    }
}

// A self-signed certificate for 127.0.0.1 (the openssl command line tool), trusted by the
// clients as their CA bundle.
struct SelfSigned {
    std::string dir;
    std::string cert;
    std::string key;
    SelfSigned() {
        dir = (std::filesystem::temp_directory_path() /
               ("cg-http-bench-" + std::to_string(::getpid())))
                  .string();
        std::filesystem::create_directories(dir);
        cert = dir + "/cert.pem";
        key = dir + "/key.pem";
        std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 1 ";
        cmd.append("-keyout ").append(key).append(" -out ").append(cert).append(" 2>/dev/null");
        if (std::system(cmd.c_str()) != 0) std::abort();
    }
    ~SelfSigned() { std::filesystem::remove_all(dir); }
    SelfSigned(const SelfSigned&) = delete;
    SelfSigned& operator=(const SelfSigned&) = delete;
};

SelfSigned& self_signed() {
    static SelfSigned s;
    return s;
}

class ForkedReceiver {
  public:
    explicit ForkedReceiver(bool tls) {
        std::shared_ptr<asio::ssl::context> ctx;
        if (tls) {
            ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
            ctx->use_certificate_chain_file(self_signed().cert);
            ctx->use_private_key_file(self_signed().key, asio::ssl::context::pem);
        }
        int fds[2];
        if (::pipe(fds) != 0) std::abort();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(fds[0]);
            run_receiver(fds[1], ctx);
        }
        ::close(fds[1]);
        if (::read(fds[0], &port_, sizeof(port_)) != sizeof(port_)) std::abort();
        ::close(fds[0]);
    }
    ~ForkedReceiver() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    ForkedReceiver(const ForkedReceiver&) = delete;
    ForkedReceiver& operator=(const ForkedReceiver&) = delete;
    [[nodiscard]] uint16_t port() const { return port_; }

  private:
    pid_t pid_ = -1;
    uint16_t port_ = 0;
};

ForkedReceiver& receiver(bool tls) {
    static ForkedReceiver plain(false);
    if (!tls) return plain;
    static ForkedReceiver secure(true);
    return secure;
}

cg::net::HttpRequest callback_request(const std::string& url) {
    cg::net::HttpRequest req;
    req.url = url;
    req.body = R"({"type":"charging.decision","request_id":"01J8ZK3V9Q8X4T2M7N5P6R1S0A",)"
               R"("station_id":"123e4567-e89b-12d3-a456-426614174000",)"
               R"("driver_token":"ABCD-efgh1234567890_~valid.token",)"
               R"("decision":{"status":"allowed","reason":"acl_allowed"},)"
               R"("decided_at":"2026-12-06T22:00:00.123Z"})";
    req.headers = {{"Content-Type", "application/json"},
                   {"webhook-id", "01J8ZK3V9Q8X4T2M7N5P6R1S0A"},
                   {"webhook-timestamp", "1796594400"},
                   {"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}};
    req.timeout = std::chrono::milliseconds(10000);
    req.block_private_addresses = false;
    return req;
}

// Sends `total` requests keeping `concurrency` in flight; returns when all have completed.
void run_batch(cg::net::HttpClient& client, const cg::net::HttpRequest& proto, int total,
               int concurrency, std::atomic<int>& errors) {
    struct Batch {
        cg::net::HttpClient& client;
        const cg::net::HttpRequest& proto;
        std::atomic<int>& errors;
        std::atomic<int> to_send;
        std::atomic<int> to_finish;
        std::promise<void> finished;
        void send() {
            client.post(proto, [this](const cg::net::HttpResponse& r) {
                if (r.status != 200) errors.fetch_add(1);
                if (to_send.fetch_sub(1) > 0) send();
                if (to_finish.fetch_sub(1) == 1) finished.set_value();
            });
        }
    };
    Batch batch{client, proto, errors, {total - concurrency}, {total}, {}};
    auto done = batch.finished.get_future();
    for (int i = 0; i < concurrency; ++i) batch.send();
    done.wait();
}

double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto tv = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return tv(u.ru_utime) + tv(u.ru_stime);
}

template <cg::net::HttpClientKind K>
void BM_HttpClientKeepAlive(benchmark::State& state) {
    constexpr int kBatch = 2000;
    const int concurrency = static_cast<int>(state.range(0));
    const bool tls = state.range(1) != 0;
    std::string url = tls ? "https://127.0.0.1:" : "http://127.0.0.1:";
    url.append(std::to_string(receiver(tls).port())).append("/cb");
    cg::net::HttpClientOptions options;
    options.kind = K;
    if (tls) options.ca_bundle = self_signed().cert;
    options.max_connections_per_host = 32;
    auto client = cg::net::make_http_client(options);
    const auto proto = callback_request(url);
    std::atomic<int> errors{0};
    run_batch(*client, proto, 2 * concurrency, concurrency, errors);  // connections opened
    const double cpu0 = cpu_seconds();
    for (auto _ : state) run_batch(*client, proto, kBatch, concurrency, errors);
    const double cpu = cpu_seconds() - cpu0;
    const auto requests = static_cast<double>(state.iterations()) * kBatch;
    state.SetItemsProcessed(static_cast<int64_t>(requests));
    state.counters["cpu_us_per_req"] = cpu * 1e6 / requests;
    state.counters["errors"] = errors.load();
    client->stop();
}

constexpr auto kCurl = cg::net::HttpClientKind::kCurl;
constexpr auto kBeast = cg::net::HttpClientKind::kBeast;
BENCHMARK(BM_HttpClientKeepAlive<kCurl>)
    ->Name("net::HttpClient/curl")
    ->ArgNames({"in_flight", "tls"})
    ->ArgsProduct({{1, 16}, {0, 1}})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HttpClientKeepAlive<kBeast>)
    ->Name("net::HttpClient/beast")
    ->ArgNames({"in_flight", "tls"})
    ->ArgsProduct({{1, 16}, {0, 1}})
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
