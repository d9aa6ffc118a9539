// The test servers themselves: a real Redis and a real PostgreSQL start, survive a kill -9 with
// what their persistence promises, and are gone after their destructor.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/tcp_probe.hpp"

namespace cg::test {
namespace {

using namespace std::chrono_literals;

// A RESP command, as redis-cli would send it.
std::string resp(const std::vector<std::string>& args) {
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on "*" + std::string.
    std::string out = "*";
    out += std::to_string(args.size());
    out += "\r\n";
    for (const auto& a : args) {
        out += '$';
        out += std::to_string(a.size());
        out += "\r\n";
        out += a;
        out += "\r\n";
    }
    return out;
}

// An open, idle PostgreSQL session (its own backend process), as a connection pool keeps one.
class IdleSession {
  public:
    explicit IdleSession(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
        const std::string params("user\0postgres\0database\0postgres\0\0", 33);
        std::string msg;
        for (const uint32_t v : {static_cast<uint32_t>(8 + params.size()), 196608U}) {
            for (int shift = 24; shift >= 0; shift -= 8)
                msg.push_back(static_cast<char>(v >> shift));
        }
        msg += params;
        if (::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(msg.size())) {
            return;
        }
        std::string in;
        const std::string_view ready("Z\0\0\0\x05", 5);
        while (in.find(ready) == std::string::npos) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 5000) <= 0) return;
            char buf[1024];
            const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
            if (n <= 0) return;
            in.append(buf, static_cast<size_t>(n));
        }
        ready_ = true;
    }
    ~IdleSession() { ::close(fd_); }
    IdleSession(const IdleSession&) = delete;
    IdleSession& operator=(const IdleSession&) = delete;
    [[nodiscard]] bool ready() const { return ready_; }

  private:
    int fd_;
    bool ready_ = false;
};

TEST(SupportTest, RedisKeepsAcknowledgedWritesAcrossKillNine) {
    pid_t first_pid = -1;
    {
        RedisServer redis;
        redis.start();
        EXPECT_TRUE(redis.ping());
        EXPECT_EQ(redis.url(), "redis://127.0.0.1:" + std::to_string(redis.port()));
        first_pid = redis.pid();
        EXPECT_EQ(tcp_exchange(redis.port(), resp({"SET", "k", "v1"}), "\r\n", 2s), "+OK\r\n");

        redis.kill9();
        EXPECT_FALSE(redis.ping());
        const uint16_t port = redis.port();
        redis.restart();
        EXPECT_EQ(redis.port(), port);
        // appendfsync always: the acknowledged SET was on disk before +OK.
        EXPECT_EQ(tcp_exchange(redis.port(), resp({"GET", "k"}), "v1\r\n", 2s), "$2\r\nv1\r\n");

        redis.stop();
        EXPECT_FALSE(redis.running());
        redis.start();
        EXPECT_TRUE(redis.ping());
        first_pid = redis.pid();
    }
    EXPECT_NE(::kill(first_pid, 0), 0);  // the destructor stopped it
}

TEST(SupportTest, PostgresStartsKillsAndRestarts) {
    const auto t0 = std::chrono::steady_clock::now();
    std::filesystem::path data;
    pid_t pid = -1;
    {
        PostgresServer pg;
        pg.start();
        std::cout << "[ postgres ] started in "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - t0)
                         .count()
                  << " ms\n";
        ASSERT_TRUE(pg.accepting());
        pg.create_database("app");
        EXPECT_EQ(pg.url("app"),
                  "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/app");
        auto r = pg.psql("app", "CREATE TABLE t (v int); INSERT INTO t VALUES (42);");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        r = pg.psql("app", "SHOW fsync; SHOW synchronous_commit;");
        EXPECT_EQ(r.out, "on\non\n") << r.err;
        // A session that stays open: its backend must die with the postmaster, or it would
        // keep the shared memory and the next postmaster would refuse to start.
        IdleSession idle(pg.port());
        ASSERT_TRUE(idle.ready());

        const uint16_t port = pg.port();
        pg.kill9();
        EXPECT_FALSE(pg.accepting());
        pg.restart();  // crash recovery on the same data directory and port
        EXPECT_EQ(pg.port(), port);
        r = pg.psql("app", "SELECT v FROM t");
        EXPECT_EQ(r.out, "42\n") << r.err;

        pg.kill9();
        pg.restart();
        pg.stop();
        EXPECT_FALSE(pg.accepting());
        pg.start();
        r = pg.psql("app", "SELECT v FROM t");
        EXPECT_EQ(r.out, "42\n") << r.err;
        pid = pg.pid();
    }
    EXPECT_NE(::kill(pid, 0), 0);
}

TEST(SupportTest, TwoPostgresServersRunSideBySide) {
    PostgresServer a;
    PostgresServer b;
    a.start();
    b.start();
    EXPECT_NE(a.port(), b.port());
    a.create_database("same");
    b.create_database("same");
    EXPECT_EQ(a.psql("same", "SELECT 1").out, "1\n");
    EXPECT_EQ(b.psql("same", "SELECT 1").out, "1\n");
}

}  // namespace
}  // namespace cg::test
