#pragma once
// Starts the real chargegate binary on a fresh data dir and free port, with a real callback
// receiver on loopback.
//
// One suite, two backends: with CG_TEST_BACKEND=cluster (ctest's `cluster.` copy of these
// tests) every test also gets its own real Redis and PostgreSQL (fresh database), and the
// service runs in cluster mode on them. They keep running across a restart of the service, so
// restart tests work in both modes. Tests about the embedded SQLite store only skip there.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <string>

#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/service_process.hpp"
#include "support/test_env.hpp"
#include "support/test_http_server.hpp"

namespace cg::test {

inline const std::string kStation = "123e4567-e89b-12d3-a456-426614174000";
inline const std::string kToken = "ABCD-efgh1234567890_~valid.token";
inline const std::string kSecret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM=";

inline std::string binary() { return CG_BINARY_PATH; }

// True when this run tests cluster mode (CG_TEST_BACKEND=cluster).
inline bool cluster_mode() {
    const char* backend = std::getenv("CG_TEST_BACKEND");
    return backend != nullptr && std::string(backend) == "cluster";
}

// The end of a log, for failure messages.
inline std::string tail_of(const std::string& log, size_t bytes = 4000) {
    return log.substr(log.size() > bytes ? log.size() - bytes : 0);
}

inline boost::json::object parse_object(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    if (ec || !v.is_object()) return {};
    return v.as_object();
}

inline std::string str(const boost::json::object& o, const char* key) {
    const auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

class ServiceTest : public ::testing::Test {
  protected:
    // Extra settings for the service under test; call before start().
    Env env;

    void SetUp() override {
        port_ = free_port();
        env = {{"PORT", std::to_string(port_)},
               {"BIND_ADDRESS", "127.0.0.1"},
               {"DATA_DIR", (dir_.path() / "data").string()},
               {"CALLBACK_ALLOW_PRIVATE_NETWORKS", "true"},
               {"CALLBACK_RETRY_BASE_MS", "50"},
               {"CALLBACK_RETRY_MAX_MS", "200"},
               {"CALLBACK_TIMEOUT_MS", "2000"},
               {"LOG_LEVEL", "INFO"},
               {"WORKERS", "2"},
               {"DRAIN_TIMEOUT_MS", "5000"}};
        if (cluster_mode()) start_cluster_backend();
    }

    void TearDown() override {
        if (!HasFailure()) return;
        if (service_) {
            std::cerr << "---- service log (last 4000 bytes) ----\n"
                      << tail_of(service_->log()) << "\n";
        }
        if (redis_) std::cerr << "---- redis log ----\n" << tail_of(redis_->log(), 2000) << "\n";
        if (postgres_) {
            std::cerr << "---- postgres log ----\n" << tail_of(postgres_->log(), 2000) << "\n";
        }
    }

    // Cluster mode: a real Redis and PostgreSQL for this test, and the settings that point the
    // service at them. CLUSTER_TAKEOVER_MS is short so a killed worker's claims move on soon.
    void start_cluster_backend() {
        redis_ = std::make_unique<RedisServer>();
        redis_->start();
        postgres_ = std::make_unique<PostgresServer>();
        postgres_->start();
        postgres_->create_database("chargegate");
        env["DATABASE_URL"] = postgres_->url("chargegate");
        env["REDIS_URL"] = redis_->url();
        env["MIGRATE_ON_START"] = "true";
        env["CLUSTER_TAKEOVER_MS"] = "3000";
    }

    void start() {
        service_ =
            std::make_unique<ServiceProcess>(binary(), env, (dir_.path() / "service.log").string());
        if (!tls_ca_file_.empty()) service_->use_tls(tls_ca_file_);
        service_->start();
        ASSERT_TRUE(service_->wait_ready()) << service_->log();
    }

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

    std::string body(const std::string& station, const std::string& token,
                     const std::string& callback) const {
        return R"({"station_id":")" + station + R"(","driver_token":")" + token +
               R"(","callback_url":")" + callback + R"("})";
    }

    HttpResult post_session(const std::string& callback, Headers headers = {},
                            const std::string& token = kToken) {
        return post_json(url("/api/v1/charging-session"), body(kStation, token, callback),
                         std::move(headers));
    }

    void allow(const std::string& token, const std::string& extra = R"("stations":null)") {
        const auto r =
            http_request("PUT", url("/api/v1/acl/" + token), {{"Content-Type", "application/json"}},
                         R"({"status":"allowed",)" + extra + "}");
        ASSERT_EQ(r.status, 200) << r.body;
    }

    boost::json::object status_of(const std::string& id) {
        const auto r = http_get(url("/api/v1/charging-session/" + id));
        EXPECT_EQ(r.status, 200) << r.body;
        return parse_object(r.body);
    }

    // Waits until the request reaches `state` (bounded).
    bool wait_state(const std::string& id, const std::string& state,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        return eventually([&] { return str(status_of(id), "state") == state; }, timeout);
    }

    TempDir dir_;
    uint16_t port_ = 0;
    // Set when the service serves HTTPS (TLS_CERT_FILE): readiness is polled over https and the
    // server verified against this CA.
    std::string tls_ca_file_;
    TestHttpServer receiver_;
    // Cluster mode only; declared before service_ so they outlive it.
    std::unique_ptr<RedisServer> redis_;
    std::unique_ptr<PostgresServer> postgres_;
    std::unique_ptr<ServiceProcess> service_;
};

}  // namespace cg::test
