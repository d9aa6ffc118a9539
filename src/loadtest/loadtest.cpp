#include "loadtest/loadtest.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "loadtest/capacity_queue.hpp"

namespace cg::loadtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;

namespace {

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               SteadyClock::now().time_since_epoch())
        .count();
}

// Per client thread: its own histograms and counters, merged at the end (no sharing).
struct ClientStats {
    LatencyHistogram accept;
    int64_t sent = 0;
    int64_t accepted = 0;
    int64_t accepted_total = 0;
    std::map<std::string, int64_t> errors;
};

// The built-in receiver: answers 200 to every callback and records the end-to-end latency
// from the send time the load generator put into the callback URL (?t=<steady ns>). It can
// answer after a delay, and in capacity mode it behaves like a server with K workers.
// All coroutines run on the one thread of `ioc`; `mu` is for the main thread's reads.
struct Receiver {
    explicit Receiver(const LoadOptions& o)
        : delay(std::chrono::duration_cast<SteadyClock::duration>(
              std::chrono::duration<double, std::milli>(
                  o.receiver_capacity > 0 && o.receiver_delay_ms <= 0 ? 1.0
                                                                      : o.receiver_delay_ms))),
          capacity_mode(o.receiver_capacity > 0),
          workers(static_cast<size_t>(std::max(0, o.receiver_capacity))) {}

    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    const SteadyClock::duration delay;  // before each answer (the work, in capacity mode)
    const bool capacity_mode;
    CapacityQueue<asio::steady_timer*> workers;  // ioc thread only; a waiter's timer is
                                                 // cancelled to hand it a worker
    std::mutex mu;  // guards the fields below; callbacks are counted once each
    LatencyHistogram e2e;
    LatencyHistogram latency;  // read → answer written
    std::unordered_set<std::string> ids;
    int64_t callbacks = 0;
    int64_t measure_from_ns = 0;
    int64_t connections = 0;
    int64_t in_flight = 0;
    int64_t peak_in_flight = 0;
    int64_t last_unique_ns = 0;  // when the newest new webhook-id arrived
    std::atomic<int64_t> count{0};

    // Waits out the callback's processing: a worker (capacity mode) and the delay.
    awaitable<void> process() {
        auto ex = co_await asio::this_coro::executor;
        if (capacity_mode) {
            asio::steady_timer wake(ex, SteadyClock::time_point::max());
            if (!workers.acquire(&wake)) {
                boost::system::error_code ec;  // operation_aborted: a worker is ours
                co_await wake.async_wait(asio::redirect_error(use_awaitable, ec));
            }
        }
        if (delay.count() > 0) {
            asio::steady_timer work(ex, delay);
            co_await work.async_wait(use_awaitable);
        }
        if (capacity_mode) {
            if (const auto next = workers.release()) (*next)->cancel();
        }
    }

    awaitable<void> serve(tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        beast::flat_buffer buffer;
        bool counted = false;  // this connection's request is in `in_flight`
        try {
            for (;;) {
                http::request<http::string_body> req;
                co_await http::async_read(stream, buffer, req, use_awaitable);
                const int64_t at = now_ns();
                const std::string_view target = req.target();
                int64_t sent = 0;
                if (const auto p = target.find("t="); p != std::string_view::npos) {
                    sent = std::strtoll(std::string(target.substr(p + 2)).c_str(), nullptr, 10);
                }
                {
                    std::lock_guard lock(mu);
                    ++callbacks;
                    peak_in_flight = std::max(peak_in_flight, ++in_flight);
                    counted = true;
                    const bool first = ids.emplace(req["webhook-id"]).second;
                    if (first) last_unique_ns = at;
                    if (first && sent >= measure_from_ns && sent > 0)
                        e2e.record((at - sent) / 1000);
                }
                count.fetch_add(1, std::memory_order_relaxed);
                co_await process();
                http::response<http::string_body> res{http::status::ok, req.version()};
                res.set(http::field::content_type, "application/json");
                res.body() = "{}";
                res.keep_alive(req.keep_alive());
                res.prepare_payload();
                co_await http::async_write(stream, res, use_awaitable);
                {
                    std::lock_guard lock(mu);
                    --in_flight;
                    counted = false;
                    latency.record((now_ns() - at) / 1000);
                }
                if (!req.keep_alive()) break;
            }
        } catch (const std::exception&) {  // the service closed the connection
        }
        if (counted) {
            std::lock_guard lock(mu);
            --in_flight;
        }
    }

    awaitable<void> accept_loop() {
        for (;;) {
            auto socket = co_await acceptor.async_accept(use_awaitable);
            {
                std::lock_guard lock(mu);
                ++connections;
            }
            asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
        }
    }
};

struct Shared {
    const LoadOptions& o;
    std::vector<std::string> tokens;
    std::vector<std::string> stations;
    std::string callback_base;
    int64_t start_ns = 0;
    int64_t measure_from_ns = 0;
    int64_t end_ns = 0;
    std::atomic<int64_t> sent{0};
    std::atomic<int64_t> ok{0};
    std::atomic<int64_t> failed{0};
    std::atomic<int64_t> claimed{0};  // requests started, for LoadOptions::requests
    std::atomic<int> running{0};      // clients not finished yet
};

std::string random_uuid(std::mt19937_64& rng) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(36, '-');
    for (size_t i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) continue;
        s[i] = kHex[rng() & 15];
    }
    s[14] = '4';
    return s;
}

awaitable<void> client(Shared& sh, ClientStats& stats, int index, double per_conn_rate) {
    auto ex = co_await asio::this_coro::executor;
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
    beast::flat_buffer buffer;
    std::optional<beast::tcp_stream> stream;
    const auto endpoint = tcp::endpoint(asio::ip::make_address(sh.o.host), sh.o.port);
    const int64_t interval_ns = per_conn_rate > 0 ? static_cast<int64_t>(1e9 / per_conn_rate) : 0;
    // Open loop: connections start spread over one interval so sends do not come in waves.
    int64_t due =
        sh.start_ns +
        (interval_ns > 0 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(interval_ns)) : 0);
    asio::steady_timer timer(ex);
    http::request<http::string_body> req{http::verb::post, "/api/v1/charging-session", 11};
    req.set(http::field::host, sh.o.host);
    req.set(http::field::content_type, "application/json");
    if (!sh.o.api_key.empty()) req.set("X-API-Key", sh.o.api_key);
    req.keep_alive(true);
    for (;;) {
        int64_t t0 = now_ns();
        if (interval_ns > 0) {
            if (due > t0) {
                timer.expires_at(SteadyClock::time_point(std::chrono::nanoseconds(due)));
                co_await timer.async_wait(use_awaitable);
            }
            t0 = due;  // latency counts from when the request was due
            due += interval_ns;
        }
        if (t0 >= sh.end_ns) break;
        if (sh.o.requests > 0 && sh.claimed.fetch_add(1) >= sh.o.requests) break;
        const bool measured = t0 >= sh.measure_from_ns;
        bool pause = false;
        try {
            if (!stream) {
                stream.emplace(ex);
                co_await stream->async_connect(endpoint, use_awaitable);
                stream->socket().set_option(tcp::no_delay(true));
                buffer.clear();
            }
            const auto& token = sh.tokens[rng() % sh.tokens.size()];
            const auto& station = sh.stations[rng() % sh.stations.size()];
            req.body() = R"({"station_id":")" + station + R"(","driver_token":")" + token +
                         R"(","callback_url":")" + sh.callback_base + std::to_string(t0) + "\"}";
            req.prepare_payload();
            stream->expires_after(std::chrono::seconds(30));
            co_await http::async_write(*stream, req, use_awaitable);
            http::response<http::string_body> res;
            co_await http::async_read(*stream, buffer, res, use_awaitable);
            const int64_t t1 = now_ns();
            ++stats.sent;
            sh.sent.fetch_add(1, std::memory_order_relaxed);
            if (res.result_int() == 200) {
                ++stats.accepted_total;
                sh.ok.fetch_add(1, std::memory_order_relaxed);
                if (measured) {
                    ++stats.accepted;
                    stats.accept.record((t1 - t0) / 1000);
                }
            } else {
                sh.failed.fetch_add(1, std::memory_order_relaxed);
                if (measured) ++stats.errors["http_" + std::to_string(res.result_int())];
            }
            if (!res.keep_alive()) stream.reset();
        } catch (const boost::system::system_error&) {
            sh.failed.fetch_add(1, std::memory_order_relaxed);
            const bool connect = !stream || !stream->socket().is_open();
            if (measured) ++stats.errors[connect ? "connect" : "io"];
            stream.reset();
            pause = interval_ns == 0;  // closed loop: do not spin on a dead server
        }
        if (pause) {
            timer.expires_after(std::chrono::milliseconds(10));
            co_await timer.async_wait(use_awaitable);
        }
    }
    sh.running.fetch_sub(1);
}

void seed_acl(const LoadOptions& o, const std::vector<std::string>& tokens) {
    asio::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(asio::ip::make_address(o.host), o.port));
    beast::flat_buffer buffer;
    for (const auto& t : tokens) {
        http::request<http::string_body> req{http::verb::put, "/api/v1/acl/" + t, 11};
        req.set(http::field::host, o.host);
        req.set(http::field::content_type, "application/json");
        if (!o.admin_token.empty()) req.set(http::field::authorization, "Bearer " + o.admin_token);
        req.body() = R"({"status":"allowed","stations":null,"expires_at":null})";
        req.prepare_payload();
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buffer, res);
        if (res.result_int() != 200) {
            throw std::runtime_error("seeding the ACL failed: PUT /api/v1/acl answered " +
                                     std::to_string(res.result_int()));
        }
    }
}

}  // namespace

double LoadReport::e2e_throughput() const {
    return callback_window_s > 0 ? static_cast<double>(callbacks_unique) / callback_window_s : 0;
}

LoadReport run_loadtest(const LoadOptions& o) {
    if (o.connections < 1 || o.threads < 1 || o.duration_s <= 0) {
        throw std::runtime_error("connections, threads and duration must be positive");
    }
    Shared sh{o, o.tokens, {}, {}};
    if (sh.tokens.empty()) {
        for (int i = 0; i < std::max(1, o.token_count); ++i) {
            char buf[40];
            std::snprintf(buf, sizeof(buf), "LOADTEST-token-%012d", i);
            sh.tokens.emplace_back(buf);
        }
    }
    std::mt19937_64 rng(42);
    for (int i = 0; i < std::max(1, o.station_count); ++i) sh.stations.push_back(random_uuid(rng));
    if (o.seed_acl) seed_acl(o, sh.tokens);

    if (o.receiver_delay_ms < 0 || o.receiver_capacity < 0) {
        throw std::runtime_error("receiver delay and capacity must not be negative");
    }
    const bool builtin = o.callback_url.empty();
    Receiver receiver(o);
    std::thread receiver_thread;
    if (builtin) {
        const tcp::endpoint rep(asio::ip::make_address("0.0.0.0"), o.receiver_port);
        receiver.acceptor.open(rep.protocol());
        receiver.acceptor.set_option(asio::socket_base::reuse_address(true));
        receiver.acceptor.bind(rep);
        receiver.acceptor.listen(asio::socket_base::max_listen_connections);
        const uint16_t rport = receiver.acceptor.local_endpoint().port();
        sh.callback_base = "http://";
        sh.callback_base += o.receiver_host;
        sh.callback_base += ':';
        sh.callback_base += std::to_string(rport);
        sh.callback_base += "/callback";
        asio::co_spawn(receiver.ioc, receiver.accept_loop(), asio::detached);
        receiver_thread = std::thread([&] { receiver.ioc.run(); });
    } else {
        sh.callback_base = o.callback_url;
    }
    const std::string callback_url = sh.callback_base;
    sh.callback_base += sh.callback_base.find('?') == std::string::npos ? "?t=" : "&t=";

    sh.start_ns = now_ns();
    sh.measure_from_ns = sh.start_ns + static_cast<int64_t>(o.warmup_s * 1e9);
    sh.end_ns = sh.measure_from_ns + static_cast<int64_t>(o.duration_s * 1e9);
    {
        std::lock_guard lock(receiver.mu);
        receiver.measure_from_ns = sh.measure_from_ns;
    }
    const double per_conn_rate = o.rate > 0 ? o.rate / o.connections : 0;
    std::vector<std::unique_ptr<asio::io_context>> loops;
    std::vector<ClientStats> stats(static_cast<size_t>(o.connections));
    for (int t = 0; t < o.threads; ++t) loops.push_back(std::make_unique<asio::io_context>(1));
    sh.running = o.connections;
    for (int c = 0; c < o.connections; ++c) {
        asio::co_spawn(*loops[static_cast<size_t>(c % o.threads)],
                       client(sh, stats[static_cast<size_t>(c)], c, per_conn_rate), asio::detached);
    }
    std::vector<std::thread> threads;
    for (auto& l : loops) threads.emplace_back([&l] { l->run(); });

    // Progress while the load runs, then while callbacks drain.
    const auto run_end = SteadyClock::time_point(std::chrono::nanoseconds(sh.end_ns));
    int64_t last_ok = 0;
    auto next_line = SteadyClock::now() + std::chrono::seconds(1);
    while (SteadyClock::now() < run_end && sh.running.load() > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (SteadyClock::now() < next_line) continue;
        next_line += std::chrono::seconds(1);
        const int64_t ok = sh.ok.load();
        if (o.progress) {
            std::fprintf(stderr, "  %5.1fs  accepted %lld (%lld/s)  errors %lld  callbacks %s\n",
                         static_cast<double>(now_ns() - sh.start_ns) / 1e9,
                         static_cast<long long>(ok), static_cast<long long>(ok - last_ok),
                         static_cast<long long>(sh.failed.load()),
                         builtin ? std::to_string(receiver.count.load()).c_str() : "-");
        }
        last_ok = ok;
    }
    for (auto& t : threads) t.join();
    LoadReport report;
    report.mode = o.rate > 0 ? "open" : "closed";
    report.start_steady_ns = sh.start_ns;
    report.end_steady_ns = now_ns();
    // Shorter than asked when --requests ran out first.
    report.measured_s = std::clamp(
        static_cast<double>(report.end_steady_ns - sh.measure_from_ns) / 1e9, 0.0, o.duration_s);
    report.builtin_receiver = builtin;
    report.callback_url = callback_url;
    for (auto& s : stats) {
        report.sent += s.sent;
        report.accepted += s.accepted;
        report.accepted_total += s.accepted_total;
        report.accept_latency.merge(s.accept);
        for (const auto& [k, v] : s.errors) report.errors[k] += v;
    }
    if (!builtin) return report;  // the external receiver knows what arrived
    report.receiver_delay_ms = o.receiver_delay_ms;
    report.receiver_capacity = o.receiver_capacity;
    const auto drain_end = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                    std::chrono::duration<double>(o.drain_s));
    auto next_progress = SteadyClock::now();
    for (;;) {
        size_t unique = 0;
        {
            std::lock_guard lock(receiver.mu);
            unique = receiver.ids.size();
        }
        if (static_cast<int64_t>(unique) >= report.accepted_total ||
            SteadyClock::now() >= drain_end) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (o.progress && SteadyClock::now() >= next_progress) {
            std::fprintf(stderr, "  waiting for callbacks: %zu of %lld\n", unique,
                         static_cast<long long>(report.accepted_total));
            next_progress = SteadyClock::now() + std::chrono::seconds(1);
        }
    }
    const int64_t callbacks_done_ns = now_ns();
    receiver.ioc.stop();
    receiver_thread.join();
    {
        std::lock_guard lock(receiver.mu);
        report.e2e_latency = receiver.e2e;
        report.callbacks = receiver.callbacks;
        report.callbacks_unique = static_cast<int64_t>(receiver.ids.size());
        report.receiver_connections = receiver.connections;
        report.receiver_peak_in_flight = receiver.peak_in_flight;
        report.receiver_latency = receiver.latency;
        report.receiver_last_unique_ns = receiver.last_unique_ns;
        // All arrived: the window ends at the last one, not at the drain loop's next poll.
        const bool all = report.callbacks_unique >= report.accepted_total;
        report.callback_window_s =
            static_cast<double>((all ? receiver.last_unique_ns : callbacks_done_ns) - sh.start_ns) /
            1e9;
    }
    return report;
}

namespace {
std::string ms(int64_t micros) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", static_cast<double>(micros) / 1000.0);
    return buf;
}
}  // namespace

std::string format_table(const LoadReport& r) {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof(line), "mode %s, %.1f s measured\n", r.mode.c_str(), r.measured_s);
    out += line;
    std::snprintf(line, sizeof(line), "accepted      %lld  (%.0f requests/s)\n",
                  static_cast<long long>(r.accepted), r.throughput());
    out += line;
    int64_t errors = 0;
    for (const auto& [k, v] : r.errors) errors += v;
    out += "errors        " + std::to_string(errors);
    for (const auto& [k, v] : r.errors) out += "  " + k + "=" + std::to_string(v);
    out += "\n";
    out += "latency (ms)      p50     p90     p99   p99.9     max\n";
    auto row = [&](const char* name, const LatencyHistogram& h) {
        std::snprintf(line, sizeof(line), "%-12s %7s %7s %7s %7s %7s\n", name,
                      ms(h.quantile(0.5)).c_str(), ms(h.quantile(0.9)).c_str(),
                      ms(h.quantile(0.99)).c_str(), ms(h.quantile(0.999)).c_str(),
                      ms(h.max()).c_str());
        out += line;
    };
    row("accept", r.accept_latency);
    if (!r.builtin_receiver) {
        out += "callbacks     unknown: sent to the external receiver ";
        out += r.callback_url;
        out += '\n';
        return out;
    }
    row("end-to-end", r.e2e_latency);
    row("receiver", r.receiver_latency);
    std::snprintf(
        line, sizeof(line),
        "callbacks     %lld received, %lld unique, %lld duplicates, %lld missing "
        "(%.0f sessions/s end to end)\n",
        static_cast<long long>(r.callbacks), static_cast<long long>(r.callbacks_unique),
        static_cast<long long>(r.callbacks - r.callbacks_unique),
        static_cast<long long>(std::max<int64_t>(0, r.accepted_total - r.callbacks_unique)),
        r.e2e_throughput());
    out += line;
    std::string setup = "answers at once";
    if (r.receiver_capacity > 0) {
        setup = std::to_string(r.receiver_capacity);
        setup += " workers, ";
        setup += ms(static_cast<int64_t>(std::max(1.0, r.receiver_delay_ms) * 1000));
        setup += " ms each";
    } else if (r.receiver_delay_ms > 0) {
        setup = "answers after ";
        setup += ms(static_cast<int64_t>(r.receiver_delay_ms * 1000));
        setup += " ms";
    }
    std::snprintf(line, sizeof(line),
                  "receiver      %lld connections accepted, peak %lld callbacks in flight (%s)\n",
                  static_cast<long long>(r.receiver_connections),
                  static_cast<long long>(r.receiver_peak_in_flight), setup.c_str());
    out += line;
    return out;
}

std::string to_json(const LoadReport& r) {
    auto hist = [](const LatencyHistogram& h) {
        return boost::json::object{{"count", h.count()},
                                   {"mean_ms", h.mean() / 1000.0},
                                   {"p50_ms", static_cast<double>(h.quantile(0.5)) / 1000.0},
                                   {"p90_ms", static_cast<double>(h.quantile(0.9)) / 1000.0},
                                   {"p99_ms", static_cast<double>(h.quantile(0.99)) / 1000.0},
                                   {"p999_ms", static_cast<double>(h.quantile(0.999)) / 1000.0},
                                   {"max_ms", static_cast<double>(h.max()) / 1000.0}};
    };
    boost::json::object errors;
    for (const auto& [k, v] : r.errors) errors[k] = v;
    boost::json::object o{{"mode", r.mode},
                          {"measured_s", r.measured_s},
                          {"sent", r.sent},
                          {"accepted", r.accepted},
                          {"throughput_rps", r.throughput()},
                          {"errors", std::move(errors)},
                          {"accept_latency", hist(r.accept_latency)},
                          {"accepted_total", r.accepted_total},
                          {"start_steady_ns", r.start_steady_ns},
                          {"end_steady_ns", r.end_steady_ns}};
    boost::json::object receiver{{"builtin", r.builtin_receiver}, {"callback_url", r.callback_url}};
    if (r.builtin_receiver) {
        o["e2e_latency"] = hist(r.e2e_latency);
        o["callbacks"] = r.callbacks;
        o["callbacks_unique"] = r.callbacks_unique;
        o["e2e_throughput"] = r.e2e_throughput();
        receiver["delay_ms"] = r.receiver_delay_ms;
        receiver["capacity"] = r.receiver_capacity;
        receiver["connections"] = r.receiver_connections;
        receiver["peak_in_flight"] = r.receiver_peak_in_flight;
        receiver["latency"] = hist(r.receiver_latency);
        receiver["last_unique_steady_ns"] = r.receiver_last_unique_ns;
    } else {  // unknown here: the external receiver counts them
        o["e2e_latency"] = nullptr;
        o["callbacks"] = nullptr;
        o["callbacks_unique"] = nullptr;
        o["e2e_throughput"] = nullptr;
    }
    o["receiver"] = std::move(receiver);
    return boost::json::serialize(o);
}

}  // namespace cg::loadtest
