// Fuzz target: the bytes a client sends on one connection → the session's HTTP rules → the
// Router and its handlers. The input goes through what HttpSession does, minus the socket: a
// fresh Beast request parser per request armed by arm_for_header (8 KiB of headers), the
// framing, Host, Content-Encoding and Expect rules, per-route body limit and Content-Length
// refusal of after_header, after_body, then
// Router::handle for a complete request, and finish_response on the answer. Pipelined requests
// are read from the same buffer until one asks to close, as on a keep-alive connection.
//
// The router runs on real in-process services, as in the service: the embedded SQLite store
// in a temp dir ($TMPDIR, scripts/fuzz.sh puts it on /dev/shm), the store-backed queue, a reader
// pool, metrics. So inputs change state that later inputs see (an idempotency key, an ACL entry);
// a crash found that way may need the inputs before it to reproduce. Nothing is delivered: no
// workers or delivery engine run.
//
// Invariants: every dispatched request is answered exactly once, within 10 s; a refused
// request gets 400, 413, 415, 417 or 431; a request dispatched to POST /api/v1/charging-session
// carries at most 16 KiB of body; an error answer carries the contract's JSON error body; 405 names
// the allowed methods and 401 the auth scheme; every answer serializes to a well-formed HTTP
// response that a client reads back with nothing left over.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "api/handlers.hpp"
#include "api/reader_pool.hpp"
#include "api/router.hpp"
#include "api/session_rules.hpp"
#include "common/clock.hpp"
#include "common/text.hpp"
#include "config/config.hpp"
#include "fuzz/fuzz_check.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "queue/store_backed_queue.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using cg::api::ReadStep;
using cg::api::Response;

constexpr size_t kMaxRequestsPerInput = 8;
constexpr size_t kChargingBodyLimit = 16 * 1024;  // docs/api.md §1: larger bodies get 413
constexpr auto kAnswerTimeout = std::chrono::seconds(10);
// The outcomes counted once per call of the charging-session create handler (docs/api.md §5).
constexpr std::array<std::string_view, 8> kChargingOutcomes = {
    "accepted",  "replayed", "invalid",     "unsupported_media_type",
    "too_large", "conflict", "unavailable", "other"};

// A connection's bytes as a SyncReadStream. Reads return at most `chunk` bytes, as TCP
// segments would, so the parser also resumes in the middle of a header or chunk; the end of
// the input is the peer closing the connection.
class InputStream {
  public:
    InputStream(std::string_view bytes, size_t chunk) : bytes_(bytes), chunk_(chunk) {}

    template <typename MutableBufferSequence>
    size_t read_some(const MutableBufferSequence& buffers, beast::error_code& ec) {
        ec = {};
        if (bytes_.empty()) {
            ec = asio::error::eof;
            return 0;
        }
        const size_t n = asio::buffer_copy(
            buffers, asio::buffer(bytes_.data(), std::min(bytes_.size(), chunk_)));
        bytes_.remove_prefix(n);
        return n;
    }

    template <typename MutableBufferSequence>
    size_t read_some(const MutableBufferSequence& buffers) {
        beast::error_code ec;
        const size_t n = read_some(buffers, ec);
        if (ec) throw beast::system_error(ec);
        return n;
    }

  private:
    std::string_view bytes_;
    size_t chunk_;
};

// Collects what the session would write to the socket. A SyncWriteStream.
class OutputStream {
  public:
    template <typename ConstBufferSequence>
    size_t write_some(const ConstBufferSequence& buffers, beast::error_code& ec) {
        ec = {};
        const size_t n = asio::buffer_size(buffers);
        const size_t old = out_.size();
        out_.resize(old + n);
        asio::buffer_copy(asio::buffer(out_.data() + old, n), buffers);
        return n;
    }

    template <typename ConstBufferSequence>
    size_t write_some(const ConstBufferSequence& buffers) {
        beast::error_code ec;
        return write_some(buffers, ec);
    }

    std::string& bytes() { return out_; }

  private:
    std::string out_;
};

// The API's services, wired as app/ wires them, on a store in a fresh temp dir.
struct Service {
    std::filesystem::path dir;
    cg::config::Config config;
    cg::ManualClock clock{1'767'225'600'000};  // 2026-01-01T00:00:00Z
    cg::obs::Metrics metrics;
    std::unique_ptr<cg::store::sqlite::SqliteStore> store;
    std::unique_ptr<cg::queue::StoreBackedQueue> queue;
    std::unique_ptr<cg::api::ApiServices> services;
    std::unique_ptr<cg::api::ReaderPool> readers;
    cg::api::PendingKeys pending_keys;
    std::atomic<bool> draining{false};
    std::unique_ptr<cg::api::HandlerContext> ctx;
    std::unique_ptr<cg::api::Router> router;

    Service() {
        const char* tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/cg-http-fuzz-XXXXXX";
        CG_FUZZ_CHECK(mkdtemp(templ.data()) != nullptr);
        dir = templ;
        config.data_dir = dir.string();
        config.admin_token = "fuzz-admin-token-0123456789";
        config.max_queue_depth = 20000;  // bounds the database: nothing dequeues
        cg::store::sqlite::SqliteOptions options;
        options.data_dir = config.data_dir;
        store = cg::store::sqlite::open_sqlite_store(options, &metrics);
        queue = std::make_unique<cg::queue::StoreBackedQueue>(*store);
        services.reset(new cg::api::ApiServices{
            config, clock, *store, *queue, metrics, [] {},  // on_redeliver
            [] {},                                          // on_authorization_data_changed
            [this] {
                const auto c = store->counters();
                using cg::obs::HealthStatus;
                std::vector<cg::obs::HealthReport> out;
                out.push_back({"queue", HealthStatus::kOk, {{"depth", c.queued}}});
                out.push_back({"store",
                               c.writable ? HealthStatus::kOk : HealthStatus::kDown,
                               {{"type", "sqlite"}}});
                return out;
            },
            [] { return std::vector<cg::obs::GaugeSample>{}; },
            [] { return cg::api::LiveFigures{}; },
            nullptr,  // authenticator: API_AUTH off
            nullptr,  // rate_limiter: off
        });
        readers = std::make_unique<cg::api::ReaderPool>(*store, 1);
        ctx.reset(new cg::api::HandlerContext{*services, *readers, pending_keys, draining});
        router = std::make_unique<cg::api::Router>(*ctx);
    }

    ~Service() {
        readers->stop();
        store->close();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    uint64_t charging_requests() const {
        uint64_t n = 0;
        for (const auto outcome : kChargingOutcomes) n += metrics.charging_requests.value(outcome);
        return n;
    }

    // Dispatches like HttpSession::dispatch and waits for the answer, which may come from the
    // store's writer or the reader pool.
    Response dispatch(const cg::api::Request& req) {
        struct Answer {
            std::mutex mu;
            std::condition_variable cv;
            std::optional<Response> res;
            int calls = 0;
        };
        auto answer = std::make_shared<Answer>();
        const auto peer = asio::ip::make_address("203.0.113.9");
        // No rate limiter here, so the loop executor is never used; any executor will do.
        const asio::any_io_executor loop = asio::system_executor();
        router->handle(req, peer, loop, [answer](Response res) {
            std::lock_guard lock(answer->mu);
            CG_FUZZ_CHECK(++answer->calls == 1);  // a handler answers exactly once
            answer->res = std::move(res);
            answer->cv.notify_all();
        });
        std::unique_lock lock(answer->mu);
        CG_FUZZ_CHECK(
            answer->cv.wait_for(lock, kAnswerTimeout, [&] { return answer->res.has_value(); }));
        return std::move(*answer->res);
    }
};

Service* g_service = nullptr;

void stop_service() {
    delete g_service;
    g_service = nullptr;
}

// What a client reads back: one well-formed response with nothing left over (a HEAD answer has
// no body, whatever its Content-Length says).
void check_wire(const std::string& wire, unsigned status, bool head) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.skip(head);
    beast::error_code ec;
    size_t used = 0;
    while (!ec && !parser.is_done() && used < wire.size()) {
        const size_t n = parser.put(asio::buffer(wire.data() + used, wire.size() - used), ec);
        used += n;
        if (n == 0 && !ec) break;
    }
    CG_FUZZ_CHECK(!ec && parser.is_done());
    CG_FUZZ_CHECK(used == wire.size());
    CG_FUZZ_CHECK(parser.get().result_int() == status);
}

// An error answer carries {"status":"error"|"invalid","message":...} (docs/api.md §1).
void check_error_body(const Response& res) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(res.body(), ec);
    CG_FUZZ_CHECK(!ec && v.is_object());
    const auto* status = v.as_object().if_contains("status");
    const auto* message = v.as_object().if_contains("message");
    CG_FUZZ_CHECK(status && status->is_string() &&
                  (status->as_string() == "error" || status->as_string() == "invalid"));
    CG_FUZZ_CHECK(message && message->is_string() && !message->as_string().empty());
}

void check_answer(const cg::api::Request& req, const Response& res, bool created) {
    const unsigned status = res.result_int();
    CG_FUZZ_CHECK(status >= 200 && status <= 599);
    if (status >= 400 && status < 500) check_error_body(res);
    if (status == 405) CG_FUZZ_CHECK(!res[http::field::allow].empty());
    if (status == 401) CG_FUZZ_CHECK(!res[http::field::www_authenticate].empty());
    if (created) {
        CG_FUZZ_CHECK(req.method() == http::verb::post);
        CG_FUZZ_CHECK(req.body().size() <= kChargingBodyLimit);
        if (status == 200) {
            const std::string_view location = res[http::field::location];
            constexpr std::string_view kPrefix = "/api/v1/charging-session/";
            CG_FUZZ_CHECK(location.starts_with(kPrefix) &&
                          cg::is_canonical_uuid(location.substr(kPrefix.size())));
        }
    }
}

// The answer as HttpSession::write sends it, checked on the wire.
void send(Response res, unsigned version, bool keep_alive, bool head) {
    cg::api::finish_response(res, version, keep_alive, head);
    OutputStream out;
    beast::error_code ec;
    http::write(out, res, ec);
    CG_FUZZ_CHECK(!ec);
    check_wire(out.bytes(), res.result_int(), head);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    cg::obs::init_logging(cg::config::LogLevel::kError);
    g_service = new Service();
    std::atexit(stop_service);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto& svc = *g_service;
    // Segment size from the input's length: deterministic for an input, varied across inputs.
    InputStream stream(std::string_view(reinterpret_cast<const char*>(data), size), 1 + size % 251);
    beast::flat_buffer buffer;  // reused across the connection's requests, as in the session
    for (size_t n = 0; n < kMaxRequestsPerInput; ++n) {
        cg::api::RequestParser parser;
        cg::api::arm_for_header(parser);
        beast::error_code ec;
        http::read_header(stream, buffer, parser, ec);
        ReadStep step = cg::api::after_header(parser, ec);
        if (step.action == ReadStep::Action::kContinue) {
            // The session writes `100 Continue` here; only a request with a body to come asks.
            if (step.send_continue) CG_FUZZ_CHECK(!parser.is_done());
            http::read(stream, buffer, parser, ec);
            step = cg::api::after_body(ec);
        }
        if (step.action == ReadStep::Action::kClose) break;
        if (step.action == ReadStep::Action::kRefuse) {
            CG_FUZZ_CHECK(step.status == 400 || step.status == 413 || step.status == 415 ||
                          step.status == 417 || step.status == 431);
            CG_FUZZ_CHECK(!step.message.empty());
            send(cg::api::error_response(step.status, step.message), 11, false, false);
            break;
        }
        CG_FUZZ_CHECK(parser.is_done());
        auto req = parser.release();
        CG_FUZZ_CHECK(req.body().size() <= cg::api::Router::kMaxBodyLimit);
        const uint64_t charging_before = svc.charging_requests();
        Response res = svc.dispatch(req);
        const bool created = svc.charging_requests() != charging_before;
        check_answer(req, res, created);
        send(std::move(res), req.version(), req.keep_alive(), req.method() == http::verb::head);
        if (!req.keep_alive()) break;
    }
    return 0;
}
