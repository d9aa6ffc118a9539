// Issue 4, storage faults: when the disk refuses writes, accepting answers 503 with Retry-After
// and /health shows the store DOWN; nothing acknowledged is lost or corrupted, and the service
// recovers by itself once writes work again.
//
// The fault is real: the service's file-size limit (RLIMIT_FSIZE, changed from outside with
// prlimit(2)) is lowered below the size of its write-ahead log, so SQLite's writes fail with
// EFBIG — the same error path as a full disk.
#include <sys/resource.h>

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

}  // namespace
}  // namespace cg::test
