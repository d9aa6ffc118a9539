// docs/operations.md: the admin JSON API (stats, dead letters, request history), the metrics an
// operator needs, trace context through authorizer and callback, and trace ids in the logs.
#include <atomic>
#include <sstream>
#include <thread>

#include "service_fixture.hpp"
#include "support/eventually.hpp"

namespace cg::test {
namespace {

const std::string kTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kTraceparent = "00-" + kTrace + "-00f067aa0ba902b7-01";
// The stats' receiver lists are refreshed at most once a second; a generous bound to see one.
constexpr std::chrono::milliseconds kListRefresh{10000};

class OperatorApiTest : public ServiceTest {
  protected:
    boost::json::object get_json(const std::string& path, const Headers& headers = {}) {
        const auto r = http_get(url(path), headers);
        EXPECT_EQ(r.status, 200) << path << ": " << r.body;
        return parse_object(r.body);
    }

    std::string accept_one(Headers headers = {}) {
        const auto r = post_session(receiver_.url(), std::move(headers));
        EXPECT_EQ(r.status, 200) << r.body;
        return str(parse_object(r.body), "request_id");
    }

    static int64_t int_at(const boost::json::object& o, const char* key) {
        const auto* v = o.if_contains(key);
        return v && v->is_int64()
                   ? v->as_int64()
                   : (v && v->is_uint64() ? static_cast<int64_t>(v->as_uint64()) : -1);
    }

    // The value of an unlabelled series in a /metrics body, or -1 when absent.
    static double series(const std::string& metrics, const std::string& name) {
        std::istringstream in(metrics);
        std::string line;
        while (std::getline(in, line)) {
            if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
        }
        return -1;
    }
};

TEST_F(OperatorApiTest, DeadLettersAreListedNewestFirstInPagesAndLeaveOnRedelivery) {
    env["CALLBACK_MAX_ATTEMPTS"] = "1";
    receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
    start();
    allow(kToken);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        ids.push_back(accept_one());
        ASSERT_TRUE(wait_state(ids.back(), "failed"));
    }
    auto page = get_json("/api/v1/admin/dead-letters?limit=2");
    EXPECT_EQ(int_at(page, "total"), 3);
    auto items = page.at("items").as_array();
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(str(items[0].as_object(), "request_id"), ids[2]);
    EXPECT_EQ(str(items[1].as_object(), "request_id"), ids[1]);
    const auto& first = items[0].as_object();
    EXPECT_EQ(int_at(first, "attempts"), 1);
    EXPECT_EQ(int_at(first, "last_status_code"), 500);
    EXPECT_EQ(str(first, "last_error"), "receiver answered 500");
    EXPECT_EQ(str(first, "callback_url"), receiver_.url());
    EXPECT_EQ(str(first.at("decision").as_object(), "status"), "allowed");
    const auto cursor = str(page, "next_cursor");
    ASSERT_FALSE(cursor.empty());
    page = get_json("/api/v1/admin/dead-letters?limit=2&before=" + cursor);
    items = page.at("items").as_array();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(str(items[0].as_object(), "request_id"), ids[0]);
    EXPECT_TRUE(page.at("next_cursor").is_null());

    receiver_.set_handler([](const Recorded&) { return Reply{200, "ok"}; });
    const auto r = http_request("POST", url("/api/v1/charging-session/" + ids[1] + "/redeliver"));
    ASSERT_EQ(r.status, 202) << r.body;
    ASSERT_TRUE(wait_state(ids[1], "delivered"));
    page = get_json("/api/v1/admin/dead-letters");
    EXPECT_EQ(int_at(page, "total"), 2);
    for (const auto& item : page.at("items").as_array()) {
        EXPECT_NE(str(item.as_object(), "request_id"), ids[1]);
    }
}

TEST_F(OperatorApiTest, DeadLetterParametersAreChecked) {
    start();
    for (const char* q : {"limit=0", "limit=501", "limit=abc", "before=-1", "before=1x"}) {
        const auto r = http_get(url(std::string("/api/v1/admin/dead-letters?") + q));
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_EQ(str(parse_object(r.body), "status"), "error") << q;
    }
    EXPECT_EQ(http_get(url("/api/v1/admin/nothing-here")).status, 404);
    EXPECT_EQ(http_request("POST", url("/api/v1/admin/stats")).status, 405);
}

TEST_F(OperatorApiTest, RequestHistoryShowsEveryAttemptAndTheTrace) {
    env["CALLBACK_MAX_ATTEMPTS"] = "3";
    std::atomic<int> calls{0};
    receiver_.set_handler([&calls](const Recorded&) {
        return ++calls < 3 ? Reply{503, "busy"} : Reply{200, "ok"};
    });
    start();
    allow(kToken);
    const auto id = accept_one({{"traceparent", kTraceparent}});
    ASSERT_TRUE(wait_state(id, "delivered"));
    const auto raw = http_get(url("/api/v1/admin/requests/" + id));
    ASSERT_EQ(raw.status, 200) << raw.body;
    EXPECT_EQ(raw.body.find(kToken), std::string::npos);  // masked here too
    const auto o = parse_object(raw.body);
    EXPECT_EQ(str(o, "state"), "delivered");
    EXPECT_EQ(str(o, "trace_id"), kTrace);
    EXPECT_EQ(str(o, "callback_url"), receiver_.url());
    EXPECT_TRUE(o.at("client_id").is_null());
    const auto& attempts = o.at("attempts").as_array();
    ASSERT_EQ(attempts.size(), 3u);
    EXPECT_EQ(int_at(attempts[0].as_object(), "status_code"), 503);
    EXPECT_EQ(str(attempts[0].as_object(), "error"), "receiver answered 503");
    EXPECT_EQ(int_at(attempts[2].as_object(), "status_code"), 200);
    EXPECT_TRUE(attempts[2].as_object().at("error").is_null());
    EXPECT_EQ(http_get(url("/api/v1/admin/requests/00000000-0000-4000-8000-000000000000")).status,
              404);
    EXPECT_EQ(http_get(url("/api/v1/admin/requests/nope")).status, 404);
}

TEST_F(OperatorApiTest, StatsCountWorkAndNameTheFailingReceiverUntilItRecovers) {
    env["CALLBACK_MAX_ATTEMPTS"] = "1";
    start();
    allow(kToken);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(wait_state(accept_one(), "delivered"));
    auto s = get_json("/api/v1/admin/stats");
    const auto& c = s.at("counters").as_object();
    EXPECT_EQ(int_at(c, "accepted"), 3);
    EXPECT_EQ(int_at(c.at("decided").as_object(), "allowed"), 3);
    EXPECT_EQ(int_at(c, "delivered"), 3);
    EXPECT_EQ(int_at(c, "dead_lettered"), 0);
    const auto& lat = s.at("latency").as_object();
    for (const char* h : {"accept", "authorization", "callback", "end_to_end"}) {
        const auto& o = lat.at(h).as_object();
        EXPECT_EQ(int_at(o, "count"), 3) << h;
        EXPECT_EQ(o.at("buckets").as_array().size(), o.at("bounds").as_array().size() + 1) << h;
    }
    EXPECT_EQ(int_at(s.at("gauges").as_object(), "queue_depth"), 0);
    EXPECT_TRUE(s.at("gauges").as_object().at("circuit_state").is_null());
    EXPECT_TRUE(s.at("receivers").as_array().empty());

    receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
    ASSERT_TRUE(wait_state(accept_one(), "failed"));
    // The failing-receiver list is refreshed at most once a second.
    boost::json::array receivers;
    EXPECT_TRUE(eventually(
        [&] {
            receivers = get_json("/api/v1/admin/stats").at("receivers").as_array();
            return !receivers.empty();
        },
        kListRefresh, std::chrono::milliseconds(100)));
    ASSERT_EQ(receivers.size(), 1u);
    const auto& r = receivers[0].as_object();
    EXPECT_EQ(str(r, "receiver"), receiver_.url(""));  // scheme://host:port
    EXPECT_EQ(int_at(r, "consecutive_failures"), 1);
    EXPECT_EQ(int_at(r, "last_status_code"), 500);
    // No delivery to it is active any more: no limit.
    ASSERT_TRUE(r.contains("concurrency_limit"));
    EXPECT_TRUE(r.at("concurrency_limit").is_null());
    EXPECT_NE(http_get(url("/metrics")).body.find("callback_receivers_failing 1"),
              std::string::npos);

    receiver_.set_handler([](const Recorded&) { return Reply{200, "ok"}; });
    ASSERT_TRUE(wait_state(accept_one(), "delivered"));
    EXPECT_TRUE(eventually(
        [&] {
            receivers = get_json("/api/v1/admin/stats").at("receivers").as_array();
            return receivers.empty();
        },
        kListRefresh, std::chrono::milliseconds(100)))
        << boost::json::serialize(receivers);
}

TEST_F(OperatorApiTest, StatsAndMetricsShowTheFlowToABusyReceiver) {
    env["CALLBACK_MAX_ATTEMPTS"] = "1";
    env["CALLBACK_MAX_PER_HOST"] = "2";
    env["CALLBACK_TIMEOUT_MS"] = "20000";
    receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
    start();
    allow(kToken);
    const std::string receiver = receiver_.url("");  // scheme://host:port
    // Idle: the list is there and empty.
    EXPECT_TRUE(get_json("/api/v1/admin/stats").at("receiver_flow").as_array().empty());
    ASSERT_TRUE(wait_state(accept_one(), "failed"));

    // The receiver now answers after 3 s: four deliveries, two in flight at a time.
    std::atomic<bool> slow{true};
    receiver_.set_handler([&slow](const Recorded&) {
        return Reply{200, "ok", {}, std::chrono::milliseconds(slow ? 3000 : 0)};
    });
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back(accept_one());

    // Refreshed at most once a second.
    boost::json::object stats;
    const boost::json::object* flow = nullptr;  // points into `stats`
    ASSERT_TRUE(eventually(
        [&] {
            stats = get_json("/api/v1/admin/stats");
            flow = nullptr;
            for (const auto& v : stats.at("receiver_flow").as_array()) {
                const auto& f = v.as_object();
                if (str(f, "receiver") == receiver && int_at(f, "in_flight") >= 1) flow = &f;
            }
            return flow != nullptr;
        },
        kListRefresh, std::chrono::milliseconds(100)))
        << boost::json::serialize(stats);
    EXPECT_GE(int_at(*flow, "concurrency_limit"), 1);
    EXPECT_GE(int_at(*flow, "waiting"), 0);
    EXPECT_GE(int_at(*flow, "delivered"), 0);
    ASSERT_TRUE(flow->contains("paused_until"));
    EXPECT_TRUE(flow->at("paused_until").is_null());
    // Its last attempt failed and deliveries to it are active: the failing entry has its limit.
    const auto& failing = stats.at("receivers").as_array();
    ASSERT_EQ(failing.size(), 1u) << boost::json::serialize(stats);
    EXPECT_EQ(str(failing[0].as_object(), "receiver"), receiver);
    EXPECT_GE(int_at(failing[0].as_object(), "concurrency_limit"), 1);

    // The gauges, labelled by receiver.
    const auto metrics = http_get(url("/metrics")).body;
    const std::string label = "{receiver=\"" + receiver + "\"} ";
    EXPECT_NE(metrics.find("# TYPE callback_concurrency_limit gauge"), std::string::npos);
    const auto at = metrics.find("callback_concurrency_limit" + label);
    ASSERT_NE(at, std::string::npos) << metrics;
    EXPECT_GE(std::stod(metrics.substr(at + label.size() + 26)), 1.0);
    EXPECT_NE(metrics.find("callback_receiver_waiting" + label), std::string::npos) << metrics;

    // Once all are delivered the receiver leaves the list and the metrics.
    slow = false;
    for (const auto& id : ids) ASSERT_TRUE(wait_state(id, "delivered"));
    boost::json::array rest;
    EXPECT_TRUE(eventually(
        [&] {
            rest = get_json("/api/v1/admin/stats").at("receiver_flow").as_array();
            return rest.empty();
        },
        kListRefresh, std::chrono::milliseconds(100)))
        << boost::json::serialize(rest);
    EXPECT_EQ(http_get(url("/metrics")).body.find("callback_concurrency_limit{"),
              std::string::npos);
}

TEST_F(OperatorApiTest, MetricsShowTheOldestWaitingRequestAndTheProcess) {
    // The authorizer holds every decision for 3 s: the request waits in the queue meanwhile.
    TestHttpServer authorizer;
    authorizer.set_handler([](const Recorded&) {
        return Reply{
            200, R"({"status":"allowed","reason":"ok"})", {}, std::chrono::milliseconds(3000)};
    });
    env["AUTHORIZER_URL"] = authorizer.url("/authorize");
    env["AUTHORIZATION_TIMEOUT_MS"] = "10000";
    start();
    accept_one({{"traceparent", kTraceparent}, {"tracestate", "vendor=opaque-1"}});
    // Until the request has waited a second (its decision comes at 3 s).
    std::string m;
    EXPECT_TRUE(eventually(
        [&] {
            m = http_get(url("/metrics")).body;
            return series(m, "authorization_queue_oldest_age_seconds") >= 1.0;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(50)))
        << m;
    EXPECT_EQ(series(m, "authorization_queue_size"), 1.0);
    EXPECT_EQ(series(m, "authorizer_circuit_state"), 0.0);
    EXPECT_GE(series(m, "authorizer_cache_misses_total"), 1.0);
    EXPECT_NE(m.find("# TYPE authorizer_cache_hits_total counter"), std::string::npos);
    EXPECT_GT(series(m, "process_open_fds"), 3.0);
    EXPECT_GT(series(m, "process_max_fds"), series(m, "process_open_fds"));
    EXPECT_GT(series(m, "process_resident_memory_bytes"), 1e6);
    EXPECT_GE(series(m, "process_cpu_seconds_total"), 0.0);
    const double now =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    EXPECT_NEAR(series(m, "process_start_time_seconds"), now, 600.0);
    EXPECT_NE(m.find("chargegate_build_info{version=\""), std::string::npos);

    // Same trace at the authorizer and at the receiver, each call its own span.
    ASSERT_TRUE(receiver_.wait_for_count(1, std::chrono::seconds(15)));
    const auto at_authorizer = authorizer.requests().at(0).header("traceparent");
    const auto at_receiver = receiver_.requests().at(0).header("traceparent");
    EXPECT_EQ(at_authorizer.substr(3, 32), kTrace) << at_authorizer;
    EXPECT_EQ(at_receiver.substr(3, 32), kTrace) << at_receiver;
    EXPECT_NE(at_authorizer.substr(36, 16), at_receiver.substr(36, 16));
    // The tracestate travels with the trace to both (W3C Trace Context).
    EXPECT_EQ(authorizer.requests().at(0).header("tracestate"), "vendor=opaque-1");
    EXPECT_EQ(receiver_.requests().at(0).header("tracestate"), "vendor=opaque-1");
    m = http_get(url("/metrics")).body;
    EXPECT_EQ(series(m, "authorization_queue_oldest_age_seconds"), 0.0);
    EXPECT_EQ(series(m, "charging_session_end_to_end_seconds_count"), 1.0);
    EXPECT_GE(series(m, "charging_session_end_to_end_seconds_sum"), 3.0);
}

TEST_F(OperatorApiTest, LogLinesAboutARequestCarryItsTraceId) {
    env["LOG_LEVEL"] = "DEBUG";
    env["CALLBACK_MAX_ATTEMPTS"] = "1";
    receiver_.set_handler([](const Recorded&) { return Reply{500, "down"}; });
    start();
    const auto id = accept_one({{"traceparent", kTraceparent}});
    ASSERT_TRUE(wait_state(id, "failed"));
    service_->terminate();
    ASSERT_EQ(service_->wait_exit(), 0);
    std::istringstream log(service_->log());
    std::string line;
    int about_request = 0;
    while (std::getline(log, line)) {
        const auto o = parse_object(line);
        if (str(o, "request_id") != id) continue;
        ++about_request;
        EXPECT_EQ(str(o, "trace_id"), kTrace) << line;
    }
    EXPECT_GE(about_request, 2);  // decided, dead-lettered
}

TEST_F(OperatorApiTest, AdminCredentialsMayBeBearerOrBasicAndCrossOriginIsRefused) {
    env["ADMIN_TOKEN"] = "operator-secret-token";
    start();
    const std::string path = "/api/v1/admin/stats";
    EXPECT_EQ(http_get(url(path), {{"Authorization", "Bearer operator-secret-token"}}).status, 200);
    // "ops:operator-secret-token" and "ops:wrong"
    EXPECT_EQ(http_get(url(path), {{"Authorization", "Basic b3BzOm9wZXJhdG9yLXNlY3JldC10b2tlbg=="}})
                  .status,
              200);
    const auto wrong = http_get(url(path), {{"Authorization", "Basic b3BzOndyb25n"}});
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(str(parse_object(wrong.body), "message"), "Invalid credentials.");
    EXPECT_EQ(http_get(url(path)).status, 401);
    EXPECT_EQ(http_get(url(path), {{"Authorization", "Basic !!!"}}).status, 401);

    const Headers ok = {{"Authorization", "Bearer operator-secret-token"}};
    auto with_origin = [&](const std::string& origin) {
        Headers h = ok;
        h.emplace_back("Origin", origin);
        return http_get(url(path), h).status;
    };
    EXPECT_EQ(with_origin("http://127.0.0.1:" + std::to_string(port_)), 200);
    EXPECT_EQ(with_origin("https://evil.example"), 403);
    EXPECT_EQ(with_origin("null"), 403);
    // The same rule guards §4's writes.
    Headers cross = ok;
    cross.emplace_back("Origin", "https://evil.example");
    cross.emplace_back("Content-Type", "application/json");
    EXPECT_EQ(http_request("PUT", url("/api/v1/acl/" + kToken), cross,
                           R"({"status":"allowed","stations":null})")
                  .status,
              403);
}

TEST_F(OperatorApiTest, TheDashboardIsServedFromTheBinaryToAdminsOnly) {
    env["ADMIN_TOKEN"] = "operator-secret-token";
    start();
    // No credentials: the browser is asked for a login.
    auto r = http_get(url("/dashboard"));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("www-authenticate"), R"(Basic realm="chargegate-admin")");
    const Headers login = {{"Authorization", "Basic b3BzOm9wZXJhdG9yLXNlY3JldC10b2tlbg=="}};
    r = http_get(url("/dashboard"), login);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"), "text/html; charset=utf-8");
    EXPECT_NE(r.body.find("/dashboard/app.js"), std::string::npos);
    EXPECT_NE(r.header("content-security-policy").find("default-src 'none'"), std::string::npos);
    EXPECT_NE(r.header("content-security-policy").find("frame-ancestors 'none'"),
              std::string::npos);
    // One address for the page (the login must cover /api/ too), even before logging in.
    for (const char* other : {"/dashboard/", "/dashboard/index.html"}) {
        const auto moved = http_get(url(other));
        EXPECT_EQ(moved.status, 308) << other;
        EXPECT_EQ(moved.header("location"), "/dashboard") << other;
    }
    for (const auto& [asset, type] : std::vector<std::pair<std::string, std::string>>{
             {"app.js", "text/javascript"}, {"app.css", "text/css"}}) {
        const auto a = http_get(url("/dashboard/" + asset), login);
        ASSERT_EQ(a.status, 200) << asset;
        EXPECT_EQ(a.header("content-type").rfind(type, 0), 0u) << a.header("content-type");
        EXPECT_GT(a.body.size(), 100u);
        // No file from anywhere else: no CDN, no absolute URL to another host.
        EXPECT_EQ(a.body.find("https://"), std::string::npos) << asset;
        // Unchanged since the last load: 304 without a body.
        Headers again = login;
        again.emplace_back("If-None-Match", a.header("etag"));
        const auto cached = http_get(url("/dashboard/" + asset), again);
        EXPECT_EQ(cached.status, 304);
        EXPECT_TRUE(cached.body.empty());
    }
    EXPECT_EQ(http_get(url("/dashboard/secret.txt"), login).status, 404);
    EXPECT_EQ(http_request("POST", url("/dashboard"), login).status, 405);
}

}  // namespace
}  // namespace cg::test
