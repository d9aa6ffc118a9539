#pragma once
// A real redis-server (Debian package redis-server) on 127.0.0.1 for tests, in a temp dir,
// with append-only-file persistence so that a kill -9 and restart shows what Redis itself keeps.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "support/test_env.hpp"

namespace cg::test {

class RedisServer {
  public:
    struct Options {
        // "always": every write is fsynced before Redis answers (nothing acknowledged is lost
        // by a kill -9); "everysec" or "no" to see what a weaker setting loses.
        std::string appendfsync = "always";
        bool appendonly = true;
        std::string binary = "/usr/bin/redis-server";
    };

    RedisServer();
    explicit RedisServer(Options options);
    // Stops the server (kill -9 if it does not stop in time) and removes its directory.
    ~RedisServer();
    RedisServer(const RedisServer&) = delete;
    RedisServer& operator=(const RedisServer&) = delete;

    // Starts on a free port (chosen at the first start, kept afterwards) and waits until it
    // answers PING; throws std::runtime_error with the end of its log when it does not.
    void start();
    // SIGKILL, no shutdown: data survives only as far as the append-only file has it.
    void kill9();
    // Starts again on the same port and directory (kill9() or stop() first if running).
    void restart();
    // SIGTERM (Redis writes its files and exits), SIGKILL after 10 s.
    void stop();

    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    // True when the server answers PING with PONG now.
    [[nodiscard]] bool ping() const;
    [[nodiscard]] std::string log() const;

  private:
    // One attempt to start on port_; false if the process exited (e.g. the port was taken).
    bool try_start(std::chrono::milliseconds timeout);
    void write_config() const;

    Options options_;
    TempDir dir_;
    uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace cg::test
