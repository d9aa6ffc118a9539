// Issue 4, storage faults: when the disk refuses writes, accepting answers 503 with Retry-After
// and /health shows the store DOWN; nothing acknowledged is lost or corrupted, and the service
// recovers by itself once writes work again.
//
// The fault is real: the service's file-size limit (RLIMIT_FSIZE, changed from outside with
// prlimit(2)) is lowered below the size of its write-ahead log, so SQLite's writes fail with
// EFBIG — the same error path as a full disk.
#include <sys/resource.h>

#include <atomic>
#include <filesystem>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

bool set_file_size_limit(pid_t pid, rlim_t limit) {
    rlimit current{};
    if (::prlimit(pid, RLIMIT_FSIZE, nullptr, &current) != 0) return false;
    rlimit next = current;
    next.rlim_cur = std::min(limit, current.rlim_max);
    return ::prlimit(pid, RLIMIT_FSIZE, &next, nullptr) == 0;
}

std::string component_status(const std::string& health_body, const char* name) {
    const auto o = parse_object(health_body);
    const auto* comps = o.if_contains("components");
    if (!comps || !comps->is_object()) return {};
    const auto* c = comps->as_object().if_contains(name);
    return c && c->is_object() ? str(c->as_object(), "status") : std::string();
}

class StorageFaultTest : public ServiceTest {};

TEST_F(StorageFaultTest, RefusedWritesGive503AndTheServiceRecoversWithoutLoss) {
    if (cluster_mode()) {
        GTEST_SKIP() << "EFBIG on the SQLite data dir; cluster_tests kill PostgreSQL";
    }
    start();
    allow(kToken);
    auto r = post_session(receiver_.url());
    ASSERT_EQ(r.status, 200) << r.body;
    const auto before = str(parse_object(r.body), "request_id");
    ASSERT_TRUE(wait_state(before, "delivered"));

    ASSERT_TRUE(set_file_size_limit(service_->pid(), 4096)) << "prlimit failed";
    bool refused = false;
    for (int i = 0; i < 20 && !refused; ++i) {  // the first write past the limit fails
        r = post_session(receiver_.url());
        if (r.status == 503) refused = true;
    }
    if (!refused) {
        set_file_size_limit(service_->pid(), RLIM_INFINITY);
        GTEST_SKIP() << "this file system did not fail writes past RLIMIT_FSIZE";
    }
    EXPECT_EQ(r.header("retry-after"), "1");
    EXPECT_EQ(str(parse_object(r.body), "status"), "error");
    auto health = http_get(url("/health"));
    EXPECT_EQ(health.status, 503);
    EXPECT_EQ(component_status(health.body, "store"), "DOWN") << health.body;
    EXPECT_EQ(http_get(url("/health/ready")).status, 503);
    EXPECT_EQ(http_get(url("/health/live")).status, 200);

    // Space returns: the next write succeeds and the store is UP again.
    ASSERT_TRUE(set_file_size_limit(service_->pid(), RLIM_INFINITY));
    std::string after;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (after.empty() && std::chrono::steady_clock::now() < end) {
        r = post_session(receiver_.url());
        if (r.status == 200) after = str(parse_object(r.body), "request_id");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_FALSE(after.empty()) << "no recovery: " << r.status << " " << r.body;
    EXPECT_TRUE(wait_state(after, "delivered"));
    health = http_get(url("/health"));
    EXPECT_EQ(health.status, 200) << health.body;

    // Nothing acknowledged was lost, and the database is intact after a hard kill.
    service_->kill9();
    service_->wait_exit();
    const auto check = run_command(
        "/usr/bin/sqlite3",
        {(dir_.path() / "data" / "chargegate.db").string(), "PRAGMA integrity_check;"}, {});
    EXPECT_EQ(check.out, "ok\n") << check.err;
    start();
    EXPECT_EQ(str(status_of(before), "state"), "delivered");
    EXPECT_EQ(str(status_of(after), "state"), "delivered");
}

// Issue 12: after a kill -9 while the disk was full, start-up recovery cannot write. The service
// starts anyway with the store DOWN (503 to accepting, reads served), writes the recovery by
// itself once the disk takes writes again, and delivers what was in flight at the kill.
TEST_F(StorageFaultTest, StartsOnAFullDiskAndCatchesUpWhenSpaceReturns) {
    if (cluster_mode()) GTEST_SKIP() << "RLIMIT_FSIZE on the SQLite data dir";
    constexpr const char* kPrlimit = "/usr/bin/prlimit";
    if (!std::filesystem::exists(kPrlimit)) GTEST_SKIP() << kPrlimit << " is not installed";
    // The receiver holds its answers (30 s) until `hold` is cleared, so deliveries stay in flight.
    auto hold = std::make_shared<std::atomic<bool>>(true);
    receiver_.set_handler([hold](const Recorded&) {
        return hold->load() ? Reply(200, "{}", {}, std::chrono::seconds(30)) : Reply{};
    });
    env["CALLBACK_TIMEOUT_MS"] = "20000";  // the held attempts stay in flight until the kill
    start();
    allow(kToken);
    std::vector<std::string> ids;
    for (int i = 0; i < 2; ++i) {
        const auto r = post_session(receiver_.url());
        ASSERT_EQ(r.status, 200) << r.body;
        ids.push_back(str(parse_object(r.body), "request_id"));
    }
    ASSERT_TRUE(receiver_.wait_for_count(2, std::chrono::seconds(10)));  // both in flight
    service_->kill9();

    // A limit of 32 KiB lets SQLite rebuild its 32 KiB shared-memory index but refuses every
    // frame appended to the write-ahead log, which is longer than that after the first run.
    const auto wal = dir_.path() / "data" / "chargegate.db-wal";
    ASSERT_TRUE(std::filesystem::exists(wal));
    if (std::filesystem::file_size(wal) <= 40960) {
        GTEST_SKIP() << "the WAL is too short to fail appends at 32 KiB";
    }
    service_ =
        std::make_unique<ServiceProcess>(binary(), env, (dir_.path() / "service2.log").string());
    service_->launch_with({kPrlimit, "--fsize=32768:unlimited"});
    service_->start();

    // It runs: /health answers, with the store DOWN.
    HttpResult health;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (health.status == 0 && std::chrono::steady_clock::now() < end && service_->running()) {
        health = http_request("GET", url("/health"), {}, {}, 500);
        if (health.status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_EQ(health.status, 503) << health.body << "\n" << service_->log();
    EXPECT_EQ(component_status(health.body, "store"), "DOWN") << health.body;
    EXPECT_EQ(http_get(url("/health/ready")).status, 503);
    auto r = post_session(receiver_.url());
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_EQ(r.header("retry-after"), "1");
    for (const auto& id : ids) {
        const auto s = status_of(id);
        EXPECT_EQ(str(s, "request_id"), id);
        EXPECT_NE(str(s, "state"), "delivered");
    }
    EXPECT_EQ(service_->log().find("write failed during start-up recovery"), std::string::npos);

    // Space returns: without any request, the store comes back and the deliveries in flight at
    // the kill are made.
    hold->store(false);
    ASSERT_TRUE(set_file_size_limit(service_->pid(), RLIM_INFINITY));
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
        health = http_get(url("/health"));
        if (health.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (health.status != 200 && std::chrono::steady_clock::now() < until);
    EXPECT_EQ(health.status, 200) << health.body;
    for (const auto& id : ids) EXPECT_TRUE(wait_state(id, "delivered")) << id;
    r = post_session(receiver_.url());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(wait_state(str(parse_object(r.body), "request_id"), "delivered"));
    const auto log = service_->log();
    EXPECT_NE(log.find("start-up recovery could not be written"), std::string::npos) << log;
    EXPECT_NE(log.find("start-up recovery written now that the store takes writes"),
              std::string::npos)
        << log;
}

}  // namespace
}  // namespace cg::test
