#pragma once
// Request handlers, grouped by docs/api.md section. Each answers through `reply`, exactly once,
// possibly from another thread; none blocks the calling event-loop thread.
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

#include "api/reader_pool.hpp"
#include "api/responses.hpp"
#include "api/services.hpp"

namespace cg::api {

using Reply = std::function<void(Response)>;

// Idempotency keys whose first request is still being stored (→ 409 for a second one). Only
// requests that carry a key touch it.
class PendingKeys {
  public:
    bool try_add(const std::string& key);
    void remove(const std::string& key);

  private:
    std::mutex mu_;
    std::unordered_set<std::string> keys_;
};

struct HandlerContext {
    ApiServices& services;
    ReaderPool& readers;
    PendingKeys& pending_keys;
    const std::atomic<bool>& draining;
};

// Reads request `id` on the reader pool: 404 for a malformed or unknown id, 503 when the store
// cannot be read, else `found` answers (on the reader thread).
void with_request(HandlerContext& ctx, std::string id, Reply reply,
                  std::function<void(const store::RequestView&, Reply&)> found);

// True for a Content-Type naming application/json (any parameters, any case): what §1 accepts.
bool is_json_content_type(std::string_view value);

// §1, §3, §4 redeliver
// `client_id`: the authenticated caller (empty while API authentication is off). Its requests
// and idempotency keys are its own: another client's request id answers 404.
void create_charging_session(HandlerContext& ctx, const Request& req, std::string client_id,
                             Reply reply);
void get_charging_session(HandlerContext& ctx, std::string id, std::string client_id, Reply reply);
void redeliver_charging_session(HandlerContext& ctx, std::string id, Reply reply);

// §4 ACL and stations
void put_acl(HandlerContext& ctx, std::string token, const Request& req, Reply reply);
void get_acl(HandlerContext& ctx, std::string token, Reply reply);
void delete_acl(HandlerContext& ctx, std::string token, Reply reply);
void put_station(HandlerContext& ctx, std::string station_id, const Request& req, Reply reply);
void get_station(HandlerContext& ctx, std::string station_id, Reply reply);

// §5
void health(HandlerContext& ctx, Reply reply);
void health_live(Reply reply);
void health_ready(HandlerContext& ctx, Reply reply);
void metrics(HandlerContext& ctx, Reply reply);

// docs/operations.md: the admin JSON API (admin-protected like §4)
void admin_stats(HandlerContext& ctx, Reply reply);
// `limit_text` / `before_text`: the raw query parameters (empty when absent); 400 when malformed.
void admin_dead_letters(HandlerContext& ctx, std::string_view limit_text,
                        std::string_view before_text, Reply reply);
void admin_get_request(HandlerContext& ctx, std::string id, Reply reply);
// The dashboard's files: `name` is "" (the page), "app.js", ...; 304 when If-None-Match holds
// the asset's ETag.
void dashboard_asset(const Request& req, std::string_view name, Reply reply);

}  // namespace cg::api
