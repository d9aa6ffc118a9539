#pragma once
// Decides with the local authorization list kept in the store (docs/api.md §4). Every decision
// reads the store, so an ACL or station change applies to every decision made after the change
// was acknowledged (writes are acknowledged only once committed, and readers see every commit).
//
// Cluster mode adds a lookup cache (cache_entries > 0): the ACL entries read per driver token
// and the stations read per station id are kept and reused until invalidate_cache(), which the
// worker pool calls before each batch when the store's authorization generation moved (bumped in
// the same transaction as every ACL or station change). A change acknowledged by any instance
// thus reaches every worker's next batch, as with the remote authorizer's decision cache; expiry
// and the rules are still applied at each decision (entries are cached, not decisions). Tokens
// and stations are cached apart because a driver charges at many stations. It saves a database
// round trip per session: the lookup cost 75 µs of PostgreSQL CPU per session in
// `bench/cluster.sh` (1 API x 2 workers); the generation read costs one per batch.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "authz/authorizer.hpp"
#include "common/clock.hpp"
#include "store/store.hpp"

namespace cg::authz {

class AclAuthorizer final : public Authorizer {
  public:
    // `cache_entries` 0: no cache (every decision reads the store). Otherwise the cache holds
    // at most that many pairs and is emptied when full.
    AclAuthorizer(store::Store& store, const Clock& clock, size_t cache_entries = 0);
    // Completes synchronously on the calling thread. Each calling thread gets its own store
    // reader (created on first use), so concurrent workers never share a connection.
    void authorize(const AuthorizationRequest& request, DecisionCallback done) override;
    [[nodiscard]] bool healthy() const override { return healthy_.load(); }
    [[nodiscard]] const char* kind() const override { return "acl"; }
    // Forgets every cached lookup; lookups that started before it are not stored. Thread-safe.
    void invalidate_cache();

  private:
    store::StoreReader& reader();

    store::Store& store_;
    const Clock& clock_;
    const uint64_t instance_id_;
    std::atomic<bool> healthy_{true};
    const size_t cache_entries_;
    std::mutex cache_mu_;
    // Absent entries and stations are cached too (as nullopt). Guarded by cache_mu_.
    std::unordered_map<std::string, std::optional<store::AclEntry>> tokens_;
    std::unordered_map<std::string, std::optional<store::StationEntry>> stations_;
    uint64_t cache_epoch_ = 0;  // guarded by cache_mu_; +1 per invalidation
};

}  // namespace cg::authz
