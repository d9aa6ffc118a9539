#include "redis/redis_conn.hpp"

#include <sys/time.h>

#include <boost/url/parse.hpp>

namespace cg::redis {

namespace {
timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
    return tv;
}
}  // namespace

RedisAddress parse_redis_url(const std::string& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "redis") {
        throw std::invalid_argument("REDIS_URL: expected redis://[:password@]host[:port][/db]");
    }
    RedisAddress a;
    if (!parsed->host().empty())
        a.host = std::string(parsed->host_name().empty() ? parsed->host() : parsed->host_name());
    if (parsed->has_port()) {
        const auto p = parsed->port_number();
        if (p == 0) throw std::invalid_argument("REDIS_URL: bad port");
        a.port = p;
    }
    if (parsed->has_password()) a.password = std::string(parsed->password());
    const auto path = std::string(parsed->path());
    if (path.size() > 1) {
        try {
            a.db = std::stoi(path.substr(1));
        } catch (const std::exception&) {
            throw std::invalid_argument("REDIS_URL: the path must be a database number");
        }
    }
    return a;
}

RedisConnection::RedisConnection(RedisAddress address, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout) {}

void RedisConnection::connect() {
    ctx_.reset(redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(timeout_)));
    if (!ctx_ || ctx_->err) {
        const std::string why = ctx_ ? ctx_->errstr : "out of memory";
        ctx_.reset();
        throw RedisError("cannot connect to Redis at " + address_.host + ":" +
                             std::to_string(address_.port) + ": " + why,
                         true);
    }
    redisSetTimeout(ctx_.get(), to_timeval(timeout_));
    redisEnableKeepAlive(ctx_.get());
    if (!address_.password.empty()) {
        auto r = command({"AUTH", address_.password});
        (void)r;
    }
    if (address_.db != 0) {
        auto r = command({"SELECT", std::to_string(address_.db)});
        (void)r;
    }
}

void RedisConnection::set_timeout(std::chrono::milliseconds timeout) {
    timeout_ = timeout;
    if (ctx_) redisSetTimeout(ctx_.get(), to_timeval(timeout_));
}

void RedisConnection::fail(const std::string& what) {
    const std::string why = ctx_ && ctx_->errstr[0] ? ctx_->errstr : "connection lost";
    ctx_.reset();
    throw RedisError("Redis " + what + ": " + why, true);
}

void RedisConnection::append(const std::vector<std::string>& argv) {
    std::vector<const char*> args;
    std::vector<size_t> lens;
    args.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
        args.push_back(a.data());
        lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(args.size()), args.data(),
                               lens.data()) != REDIS_OK) {
        fail("write failed");
    }
}

Reply RedisConnection::read_reply() {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || raw == nullptr) fail("read failed");
    Reply out;
    out.r.reset(static_cast<redisReply*>(raw));
    return out;
}

Reply RedisConnection::command(const std::vector<std::string>& argv) {
    if (!ctx_) connect();
    append(argv);
    auto reply = read_reply();
    if (reply.get()->type == REDIS_REPLY_ERROR) {
        throw RedisError(std::string(reply.get()->str, reply.get()->len), false);
    }
    return reply;
}

std::vector<Reply> RedisConnection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
    if (!ctx_) connect();
    for (const auto& c : commands) append(c);
    std::vector<Reply> out;
    out.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) out.push_back(read_reply());
    return out;
}

}  // namespace cg::redis
