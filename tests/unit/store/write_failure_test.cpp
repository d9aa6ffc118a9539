// A commit that cannot reach the disk fails every operation of its batch, marks the store not
// writable, and the store recovers by itself once writes work again.
//
// The failure is real: the file-size limit (RLIMIT_FSIZE) is lowered below the size the WAL
// must grow to, so SQLite's write() gets EFBIG, the same path as a full disk. The limit is
// per process and would also hit the test runner's own output files, so the scenario runs in a
// forked child (forked before any store thread exists) that reports back through a file.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "store_fixture.hpp"

namespace cg::store::sqlite::test {
namespace {

// The scenario, run in the child. Returns "" on success, "SKIP: why" when the environment
// cannot produce a write failure, otherwise what went wrong.
std::string failing_disk_scenario(const std::string& data_dir) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of being killed
    obs::Metrics metrics;
    SqliteOptions o;
    o.data_dir = data_dir;
    auto s = open_sqlite_store(o, &metrics);
    Waiter<AcceptResult> first;
    submit_accept(*s, make_request("id-1"), first.cb());
    const auto r1 = first.get();
    if (r1.status != AcceptStatus::kStored) return "the first accept was not stored";

    rlimit saved{};
    if (::getrlimit(RLIMIT_FSIZE, &saved) != 0) return "SKIP: getrlimit failed";
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;  // below the end of the WAL's first frame: every WAL write fails
    if (::setrlimit(RLIMIT_FSIZE, &tiny) != 0) return "SKIP: cannot lower RLIMIT_FSIZE";

    // Only operations that write: a batch that changes nothing commits without touching the
    // disk, and would (rightly) report the store writable again.
    Waiter<AcceptResult> accept_w;
    Waiter<bool> decide_w;
    Waiter<WriteStatus> acl_w;
    submit_accept(*s, make_request("id-2"), accept_w.cb());
    submit_decision(*s, r1.seq, decide_w.cb());
    AclEntry e;
    e.driver_token = kToken;
    submit_put_acl(*s, e, acl_w.cb());
    const auto r2 = accept_w.get();
    const bool decided = decide_w.get();
    const auto acl = acl_w.get();
    const auto during = s->counters();
    if (::setrlimit(RLIMIT_FSIZE, &saved) != 0) return "cannot restore RLIMIT_FSIZE";

    if (r2.status == AcceptStatus::kStored && during.writable) {
        return "SKIP: lowering RLIMIT_FSIZE did not make the commit fail here";
    }
    std::ostringstream err;
    if (r2.status != AcceptStatus::kUnavailable) err << "accept was not kUnavailable; ";
    if (!r2.request_id.empty() || r2.seq != 0) err << "a failed accept carried an id or seq; ";
    if (decided) err << "record_decisions reported success; ";
    if (acl != WriteStatus::kUnavailable) err << "put_acl was not kUnavailable; ";
    if (during.writable) err << "counters().writable stayed true; ";
    if (during.last_error.empty()) err << "counters().last_error is empty; ";
    if (during.queued != 1) err << "queued counter changed by a failed batch; ";
    if (metrics.store_errors.value() == 0) err << "store_errors metric not counted; ";

    // Writes work again: the next commit succeeds and clears the failure.
    Waiter<AcceptResult> again;
    submit_accept(*s, make_request("id-3"), again.cb());
    if (again.get().status != AcceptStatus::kStored) err << "accept after recovery failed; ";
    const auto after = s->counters();
    if (!after.writable) err << "counters().writable not true after recovery; ";
    if (after.queued != 2) err << "queued is " << after.queued << " after recovery, want 2; ";
    auto reader = s->open_reader();
    if (reader->find_request("id-2")) err << "the failed accept was stored; ";
    if (!reader->find_request("id-1") || !reader->find_request("id-3")) {
        err << "committed requests are missing; ";
    }
    if (reader->find_acl(kToken)) err << "the failed put_acl was stored; ";
    const auto v1 = reader->find_request("id-1");
    if (v1 && v1->state != RequestState::kQueued) err << "the failed decision was stored; ";
    reader.reset();
    s->close();
    s.reset();
    // What was acknowledged is what a restart finds.
    const auto reopened = open_sqlite_store(o, nullptr);
    if (reopened->counters().queued != 2) err << "after a restart queued is not 2; ";
    if (reopened->open_reader()->find_request("id-2")) err << "the failed accept reappeared; ";
    return err.str();
}

// Start-up recovery the disk refuses: recover_in_flight does not throw, the store is not
// writable, and once writes work the recovery is applied by itself (the writer probes every
// second), to the deliveries resident before the start only.
std::string refused_recovery_scenario(const std::string& data_dir) {
    ::signal(SIGXFSZ, SIG_IGN);
    SqliteOptions o;
    o.data_dir = data_dir;
    int64_t resident = 0;
    int64_t later = 0;
    {
        auto s = open_sqlite_store(o, nullptr);
        Waiter<AcceptResult> a1;
        Waiter<AcceptResult> a2;
        submit_accept(*s, make_request("id-resident"), a1.cb());
        submit_accept(*s, make_request("id-later"), a2.cb());
        resident = a1.get().seq;
        later = a2.get().seq;
        Waiter<bool> d;
        submit_decision(*s, resident, d.cb());
        if (resident == 0 || later == 0 || !d.get()) return "setting up failed";
        s->close();  // the process "dies" with id-resident in flight
    }
    auto s = open_sqlite_store(o, nullptr);
    rlimit saved{};
    if (::getrlimit(RLIMIT_FSIZE, &saved) != 0) return "SKIP: getrlimit failed";
    rlimit tiny = saved;
    tiny.rlim_cur = 4096;
    if (::setrlimit(RLIMIT_FSIZE, &tiny) != 0) return "SKIP: cannot lower RLIMIT_FSIZE";
    try {
        recover(*s, 7000);
    } catch (const std::exception& e) {
        ::setrlimit(RLIMIT_FSIZE, &saved);
        return std::string("recover_in_flight threw: ") + e.what();
    }
    const auto during = s->counters();
    if (during.writable) {
        ::setrlimit(RLIMIT_FSIZE, &saved);
        return "SKIP: lowering RLIMIT_FSIZE did not make the commit fail here";
    }
    std::ostringstream err;
    auto reader = s->open_reader();
    if (!take_due_at(*s, 1'000'000, 10).empty()) err << "a refused recovery was applied; ";
    if (::setrlimit(RLIMIT_FSIZE, &saved) != 0) return "cannot restore RLIMIT_FSIZE";

    // Writes work again. A delivery that becomes resident now must not be touched by the
    // recovery, whichever commit carries it.
    Waiter<bool> d;
    submit_decision(*s, later, d.cb());
    if (!d.get()) err << "the first write after the disk came back failed; ";
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (take_due_at(*s, 1'000'000, 10).empty() && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto due = take_due_at(*s, 1'000'000, 10);
    if (due.size() != 1 || due[0].seq != resident) {
        err << due.size() << " deliveries due after recovery, want id-resident alone; ";
    }
    const auto v = reader->find_request("id-resident");
    if (!v || v->next_attempt_at_ms != 7000) err << "id-resident is not due at 7000; ";
    if (!s->counters().writable) err << "counters().writable not true after recovery; ";
    reader.reset();
    s->close();
    return err.str();
}

// Runs `scenario` in a forked child (the file-size limit is per process) and checks its result.
void run_in_child(const std::function<std::string(const std::string&)>& scenario,
                  const std::string& data_dir, const std::filesystem::path& result_file) {
    const pid_t pid = ::fork();
    ASSERT_NE(pid, -1);
    if (pid == 0) {
        std::string result;
        try {
            result = scenario(data_dir);
        } catch (const std::exception& e) {
            result = std::string("exception: ") + e.what();
        }
        std::ofstream(result_file) << (result.empty() ? "OK" : result);
        ::_exit(0);
    }
    // Bounded wait for the child.
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    pid_t done = 0;
    while ((done = ::waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (done == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        FAIL() << "the failing-disk scenario did not finish within 60 s";
    }
    ASSERT_TRUE(WIFEXITED(status)) << "child died, status " << status;
    std::ifstream in(result_file);
    std::string result((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (result.rfind("SKIP: ", 0) == 0) GTEST_SKIP() << result.substr(6);
    EXPECT_EQ(result, "OK");
}

TEST_F(StoreTest, FailedCommitIsReportedAndTheStoreRecovers) {
    run_in_child(failing_disk_scenario, data_dir(), dir_.path() / "child-result.txt");
}

TEST_F(StoreTest, RefusedStartUpRecoveryIsAppliedOnceWritesWork) {
    run_in_child(refused_recovery_scenario, data_dir(), dir_.path() / "child-result.txt");
}

}  // namespace
}  // namespace cg::store::sqlite::test
