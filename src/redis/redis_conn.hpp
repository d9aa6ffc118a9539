#pragma once
// A thin RAII layer over hiredis (synchronous API): connect from a redis:// URL, run commands
// given as argument vectors (binary-safe, no string formatting), pipeline several at once.
// hiredis does the protocol; this manages lifetimes, timeouts and errors.
#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace cg::redis {

class RedisError : public std::runtime_error {
  public:
    RedisError(const std::string& message, bool connection)
        : std::runtime_error(message), connection_(connection) {}
    // True when the connection failed (it is dropped and re-opened by the next command); false
    // for an error reply (e.g. NOGROUP), after which the connection stays usable.
    [[nodiscard]] bool connection() const { return connection_; }

  private:
    bool connection_;
};

struct Reply {
    std::unique_ptr<redisReply, void (*)(void*)> r{nullptr, &freeReplyObject};
    [[nodiscard]] const redisReply* get() const { return r.get(); }
};

// redis://[:password@]host[:port][/db] → its parts; throws std::invalid_argument.
struct RedisAddress {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string password;
    int db = 0;
};
RedisAddress parse_redis_url(const std::string& url);

class RedisConnection {
  public:
    // Does not connect yet: the first command does (so a process can start while Redis is down).
    RedisConnection(RedisAddress address, std::chrono::milliseconds timeout);
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    // Runs one command. `timeout` overrides the socket timeout for this call (for BLOCK reads).
    Reply command(const std::vector<std::string>& argv);
    // Sends every command, then reads every reply (one round trip). Error replies are returned
    // as replies (type REDIS_REPLY_ERROR), not thrown; connection failures throw.
    std::vector<Reply> pipeline(const std::vector<std::vector<std::string>>& commands);
    void set_timeout(std::chrono::milliseconds timeout);
    [[nodiscard]] bool connected() const { return ctx_ != nullptr; }

  private:
    void connect();
    [[noreturn]] void fail(const std::string& what);
    void append(const std::vector<std::string>& argv);
    Reply read_reply();

    RedisAddress address_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<redisContext, void (*)(redisContext*)> ctx_{nullptr, &redisFree};
};

}  // namespace cg::redis
