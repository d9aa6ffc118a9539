// The group-commit writer on its own, with a backend that records what it was asked to apply:
// completion order, a failed batch, the DOWN state and its recovery, batching limits and probes.
#include "store/group_commit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace cg::store {
namespace {

class RecordingOp final : public WriteOp {
  public:
    RecordingOp(int id, std::vector<std::pair<int, bool>>& out, std::mutex& mu)
        : id_(id), out_(out), mu_(mu) {}
    void complete(bool stored) override {
        std::lock_guard lock(mu_);
        out_.emplace_back(id_, stored);
    }
    int id() const { return id_; }

  private:
    int id_;
    std::vector<std::pair<int, bool>>& out_;
    std::mutex& mu_;
};

class FakeBackend final : public BatchBackend {
  public:
    std::string apply_batch(WriteBatch batch) override {
        std::lock_guard lock(mu);
        batch_sizes.push_back(batch.size());
        if (batch.empty()) ++probes;
        for (const auto& op : batch) {
            op->d_queued = 1;
            if (static_cast<const RecordingOp&>(*op).id() == fail_alone) op->failed = true;
        }
        if (fail_next > 0) {
            --fail_next;
            return "disk full";
        }
        if (batch.empty()) probe.store(false);
        return {};
    }
    [[nodiscard]] bool probe_pending() const override { return probe.load(); }

    std::mutex mu;
    std::vector<size_t> batch_sizes;
    int fail_next = 0;
    int fail_alone = -1;
    int probes = 0;
    std::atomic<bool> probe{false};
};

class GroupCommitTest : public ::testing::Test {
  protected:
    std::unique_ptr<WriteOp> op(int id) { return std::make_unique<RecordingOp>(id, done_, mu_); }
    std::vector<std::pair<int, bool>> completions() {
        std::lock_guard lock(mu_);
        return done_;
    }

    std::mutex mu_;
    std::vector<std::pair<int, bool>> done_;
    FakeBackend backend_;
};

TEST_F(GroupCommitTest, CompletesEveryOperationInSubmissionOrderAfterTheCommit) {
    GroupCommitWriter w(backend_, {}, nullptr);
    for (int i = 0; i < 100; ++i) w.submit(op(i));
    w.close();
    const auto done = completions();
    ASSERT_EQ(done.size(), 100U);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(done[static_cast<size_t>(i)].first, i);
        EXPECT_TRUE(done[static_cast<size_t>(i)].second);
    }
    EXPECT_EQ(w.counters().queued, 100);
    EXPECT_TRUE(w.counters().writable);
}

TEST_F(GroupCommitTest, AFailedBatchFailsEachOperationAndMarksTheStoreDownUntilTheNextCommit) {
    backend_.fail_next = 1;
    GroupCommitWriter w(backend_, {}, nullptr);
    w.submit(op(1));
    w.close();
    EXPECT_EQ(completions(), (std::vector<std::pair<int, bool>>{{1, false}}));
    const auto down = w.counters();
    EXPECT_FALSE(down.writable);
    EXPECT_EQ(down.last_error, "disk full");
    EXPECT_EQ(down.queued, 0);  // nothing of a failed batch counts

    GroupCommitWriter again(backend_, {}, nullptr);
    again.set_error("disk full");
    again.submit(op(2));
    again.close();
    EXPECT_TRUE(again.counters().writable);
}

TEST_F(GroupCommitTest, AnOperationFailedAloneCompletesFalseWhileTheRestIsStored) {
    backend_.fail_alone = 2;
    GroupCommitWriter w(backend_, {}, nullptr);
    for (int i = 1; i <= 3; ++i) w.submit(op(i));
    w.close();
    const auto done = completions();
    ASSERT_EQ(done.size(), 3U);
    EXPECT_TRUE(done[0].second);
    EXPECT_FALSE(done[1].second);
    EXPECT_TRUE(done[2].second);
    EXPECT_TRUE(w.counters().writable);
}

TEST_F(GroupCommitTest, NoBatchIsLargerThanMaxBatch) {
    GroupCommitOptions o;
    o.max_batch = 3;
    o.commit_interval_us = 2000;
    GroupCommitWriter w(backend_, o, nullptr);
    for (int i = 0; i < 20; ++i) w.submit(op(i));
    w.close();
    EXPECT_EQ(completions().size(), 20U);
    std::lock_guard lock(backend_.mu);
    for (const size_t n : backend_.batch_sizes) EXPECT_LE(n, 3U);
}

TEST_F(GroupCommitTest, AfterCloseASubmittedOperationCompletesFalseAtOnce) {
    GroupCommitWriter w(backend_, {}, nullptr);
    w.close();
    w.submit(op(7));
    EXPECT_EQ(completions(), (std::vector<std::pair<int, bool>>{{7, false}}));
}

TEST_F(GroupCommitTest, APendingProbeIsOfferedAnEmptyBatchUntilItIsStored) {
    backend_.fail_next = 1;  // the first probe fails, the second (a second later) succeeds
    GroupCommitWriter w(backend_, {}, nullptr);
    backend_.probe.store(true);
    w.wake();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (backend_.probe.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    w.close();
    EXPECT_FALSE(backend_.probe.load());
    std::lock_guard lock(backend_.mu);
    EXPECT_EQ(backend_.probes, 2);
    EXPECT_TRUE(w.counters().writable);
}

}  // namespace
}  // namespace cg::store
