// app/service.hpp: the one list of components starts in order, drains and then closes in
// reverse order, and gathers every component's own reports.
#include "app/service.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace cg::app {
namespace {

using Log = std::vector<std::string>;

class Recording final : public Component {
  public:
    Recording(std::string name, Log& log, obs::HealthStatus status = obs::HealthStatus::kOk)
        : name_(std::move(name)), log_(log), status_(status) {}
    [[nodiscard]] std::string_view name() const override { return name_; }
    void start() override { log_.push_back("start " + name_); }
    void tick() override { log_.push_back("tick " + name_); }
    void drain(const Deadline& /*deadline*/) override { log_.push_back("drain " + name_); }
    void close() override { log_.push_back("close " + name_); }
    void health(std::vector<obs::HealthReport>& out) const override {
        out.push_back({name_, status_, {{"n", 1}}});
    }
    void gauges(std::vector<obs::GaugeSample>& out) const override {
        out.push_back({name_ + "_gauge", "help", 1.0, ""});
    }
    void live(api::LiveFigures& out) const override { ++out.queued; }

  private:
    std::string name_;
    Log& log_;
    obs::HealthStatus status_;
};

class Failing final : public Component {
  public:
    [[nodiscard]] std::string_view name() const override { return "failing"; }
    void start() override { throw std::runtime_error("port in use"); }
};

Deadline in_ms(int64_t ms) {
    return Deadline(std::chrono::steady_clock::now() + std::chrono::milliseconds(ms));
}

TEST(Service, StartsInListOrderDrainsAllInReverseThenClosesInReverse) {
    Log log;
    Service service;
    service.set_components(std::make_unique<Recording>("store", log),
                           std::make_unique<Recording>("queue", log),
                           std::unique_ptr<Recording>(),  // a component this mode lacks
                           std::make_unique<Recording>("http", log));
    service.start();
    service.tick();
    service.stop(in_ms(1000));
    EXPECT_EQ(log, (Log{"start store", "start queue", "start http", "tick store", "tick queue",
                        "tick http", "drain http", "drain queue", "drain store", "close http",
                        "close queue", "close store"}));
}

TEST(Service, AStartFailurePropagates) {
    Log log;
    Service service;
    service.set_components(std::make_unique<Recording>("store", log), std::make_unique<Failing>(),
                           std::make_unique<Recording>("http", log));
    EXPECT_THROW(service.start(), std::runtime_error);
    EXPECT_EQ(log, (Log{"start store"}));
}

TEST(Service, GathersEachComponentsOwnReportsInListOrder) {
    Log log;
    Service service;
    service.set_components(std::make_unique<Recording>("store", log),
                           std::make_unique<Recording>("broker", log, obs::HealthStatus::kDegraded),
                           std::make_unique<Recording>("queue", log, obs::HealthStatus::kDown));
    const auto health = service.health();
    ASSERT_EQ(health.size(), 3U);
    EXPECT_EQ(health[0].name, "store");
    EXPECT_TRUE(health[0].up());
    EXPECT_FALSE(health[1].up());               // shown DOWN on /health ...
    EXPECT_FALSE(health[1].fails_readiness());  // ... but /health/ready stays 200
    EXPECT_FALSE(health[2].up());
    EXPECT_TRUE(health[2].fails_readiness());

    const auto gauges = service.gauges();
    ASSERT_GE(gauges.size(), 3U);
    EXPECT_EQ(gauges[0].name, "store_gauge");
    EXPECT_EQ(gauges[2].name, "queue_gauge");
    EXPECT_EQ(service.live().queued, 3);
}

TEST(Deadline, RemainingIsZeroOncePassed) {
    EXPECT_EQ(in_ms(-5).remaining_ms(), 0);
    EXPECT_GT(in_ms(60'000).remaining_ms(), 50'000);
}

}  // namespace
}  // namespace cg::app
