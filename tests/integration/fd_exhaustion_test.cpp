// Issue 12, out of file descriptors: with every descriptor taken by idle connections, accept()
// fails with EMFILE while the connection stays queued, so the listener stays readable. The
// service must back off instead of retrying at once (which burnt a core and wrote 56 MB of log
// in 3 s), log a count per interval, count the errors in a metric, and serve again as soon as
// descriptors are free.
//
// The limit is real: the binary is started through prlimit(1) with a soft limit of 128 and a
// hard limit of 256; the service raises the soft limit to the hard one at start.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "service_fixture.hpp"

namespace cg::test {
namespace {

constexpr const char* kPrlimit = "/usr/bin/prlimit";

// User plus system CPU time of `pid` so far, in seconds (/proc/<pid>/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) return -1;
    std::istringstream fields(line.substr(close_paren + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i >= 14) ticks += std::stod(field);
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// A connected, idle TCP connection to 127.0.0.1:port (-1 if connect failed).
int open_idle(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

class FdExhaustionTest : public ServiceTest {
  protected:
    void TearDown() override {
        for (const int fd : idle_) ::close(fd);
        ServiceTest::TearDown();
    }
    std::vector<int> idle_;
};

TEST_F(FdExhaustionTest, OutOfDescriptorsTheListenerBacksOffAndRecovers) {
    if (!std::filesystem::exists(kPrlimit)) GTEST_SKIP() << kPrlimit << " is not installed";
    // Enough descriptors in this process for the idle connections.
    rlimit own{};
    ::getrlimit(RLIMIT_NOFILE, &own);
    if (own.rlim_max < 1024) GTEST_SKIP() << "this process may not open 400 sockets";
    if (own.rlim_cur < 1024) {
        own.rlim_cur = 1024;
        ::setrlimit(RLIMIT_NOFILE, &own);
    }
    env["MAX_CONNECTIONS_PER_CLIENT"] = "0";  // every idle connection comes from 127.0.0.1
    service_ =
        std::make_unique<ServiceProcess>(binary(), env, (dir_.path() / "service.log").string());
    service_->launch_with({kPrlimit, "--nofile=128:256"});
    service_->start();
    ASSERT_TRUE(service_->wait_ready()) << service_->log();
    const pid_t pid = service_->pid();

    // At start: the soft limit was raised to the hard one, and MAX_CONNECTIONS (10000 by
    // default) was reported as more than 256 descriptors can hold.
    auto log = service_->log();
    EXPECT_NE(log.find("raised the open-file limit to the hard limit"), std::string::npos) << log;
    EXPECT_NE(log.find(R"("to":256)"), std::string::npos) << log;
    EXPECT_NE(log.find("MAX_CONNECTIONS exceeds what the open-file limit allows"),
              std::string::npos)
        << log;

    // More idle connections than the limit allows: the kernel queues them all (the listen
    // backlog is large), the service accepts until its descriptors run out.
    for (int i = 0; i < 400; ++i) {
        const int fd = open_idle(port_);
        ASSERT_GE(fd, 0) << "connect " << i << " failed: " << std::strerror(errno);
        idle_.push_back(fd);
    }
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (service_->log().find("accept failed") == std::string::npos &&
           std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_NE(service_->log().find("accept failed"), std::string::npos)
        << "the descriptors never ran out";

    // Out of descriptors for 2 s: the process stays nearly idle (retrying at once spends the
    // whole 2 s of a core) and logs a handful of lines, not one per failed accept.
    const double cpu_before = cpu_seconds(pid);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double cpu_used = cpu_seconds(pid) - cpu_before;
    std::cout << "[ measured ] CPU while out of descriptors: " << cpu_used << " s in 2 s\n";
    EXPECT_LT(cpu_used, 0.5);
    log = service_->log();
    EXPECT_LE(count_of(log, "accept failed"), 3u) << tail_of(log);
    EXPECT_NE(log.find("Too many open files"), std::string::npos) << tail_of(log);

    // Descriptors free again: the service answers without a restart.
    for (const int fd : idle_) ::close(fd);
    idle_.clear();
    int ready = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ready != 200 && std::chrono::steady_clock::now() < until) {
        ready = http_request("GET", url("/health/ready"), {}, {}, 1000).status;
        if (ready != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(ready, 200);
    const auto metrics = http_get(url("/metrics"));
    ASSERT_EQ(metrics.status, 200);
    const std::string series = R"(http_accept_errors_total{error="emfile"} )";
    const auto at = metrics.body.find(series);
    ASSERT_NE(at, std::string::npos) << metrics.body;
    const long counted = std::stol(metrics.body.substr(at + series.size()));
    std::cout << "[ measured ] http_accept_errors_total{error=\"emfile\"} " << counted << "\n";
    EXPECT_GE(counted, 1);
    EXPECT_NE(metrics.body.find(R"(http_accept_errors_total{error="enfile"} 0)"),
              std::string::npos);
}

}  // namespace
}  // namespace cg::test
