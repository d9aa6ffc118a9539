#include "support/redis_server.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/child_process.hpp"
#include "support/tcp_probe.hpp"

namespace cg::test {

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {}

RedisServer::~RedisServer() {
    if (pid_ > 0) stop();
}

std::string RedisServer::log() const {
    std::ifstream in(dir_.path() / "redis.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool RedisServer::ping() const {
    if (port_ == 0) return false;
    // An inline command; a server still loading its append-only file answers -LOADING.
    const auto reply = tcp_exchange(port_, "PING\r\n", "\r\n", std::chrono::milliseconds(500));
    return reply.starts_with("+PONG");
}

void RedisServer::write_config() const {
    std::ofstream conf(dir_.path() / "redis.conf", std::ios::trunc);
    conf << "port " << port_ << "\n"
         << "bind 127.0.0.1\n"
         << "protected-mode no\n"
         << "daemonize no\n"
         << "dir " << (dir_.path() / "data").string() << "\n"
         << "logfile \"\"\n"  // stdout, which goes to redis.log
         << "appendonly " << (options_.appendonly ? "yes" : "no") << "\n"
         << "appendfsync " << options_.appendfsync
         << "\n"
         // No RDB snapshots: the append-only file is the persistence under test, and a
         // snapshot's fork would only compete for the CI machine's two cores.
         << "save \"\"\n"
         << "databases 1\n";
}

bool RedisServer::try_start(std::chrono::milliseconds timeout) {
    write_config();
    SpawnSpec spec;
    spec.argv = {options_.binary, (dir_.path() / "redis.conf").string()};
    spec.log_path = (dir_.path() / "redis.log").string();
    pid_ = spawn_child(spec);
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (wait_child(pid_, std::chrono::milliseconds(0)) != -1) {
            pid_ = -1;
            return false;
        }
        if (ping()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill_child(pid_);
    pid_ = -1;
    throw std::runtime_error("redis-server did not answer PING within " +
                             std::to_string(timeout.count()) + " ms:\n" + log());
}

void RedisServer::start() {
    if (pid_ > 0) return;
    std::filesystem::create_directories(dir_.path() / "data");
    const bool fixed_port = port_ != 0;
    // free_port() can race with another process taking the port: try a few fresh ones at the
    // first start. A restart keeps its port (clients reconnect to it).
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (!fixed_port) port_ = free_port();
        if (try_start(std::chrono::seconds(20))) return;
        if (fixed_port) break;
    }
    throw std::runtime_error("redis-server did not start:\n" + log());
}

void RedisServer::kill9() {
    kill_child(pid_);
    pid_ = -1;
}

void RedisServer::restart() {
    if (pid_ > 0) stop();
    start();
}

void RedisServer::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (wait_child(pid_, std::chrono::seconds(10)) == -1) kill_child(pid_);
    pid_ = -1;
}

}  // namespace cg::test
