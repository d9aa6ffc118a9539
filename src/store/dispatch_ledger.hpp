#pragma once
// What a distributed work queue needs from the system of record (cluster mode): the durable
// truth about which queued request belongs to which worker. The queue (Redis Streams) only
// carries hints — request seqs — and may lose or repeat them; this ledger decides.
// Implemented by the PostgreSQL store.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace cg::store {

struct ClaimResult {
    // Requests now leased to the caller until the given time: authorize them.
    std::vector<QueuedRequest> claimed;
    // The rest: decided already, unknown, or leased to another live worker (which holds a hint
    // of its own). Their hints can be acknowledged: should that worker die, its own hint is
    // taken over, and the relay publishes again whatever is left queued without a lease.
    std::vector<int64_t> settled;
    // The authorization generation (StoreReader::authorization_generation) as the claim saw
    // it, read in the same statement; none when nothing was claimed.
    std::optional<int64_t> authorization_generation;
};

class DispatchLedger {
  public:
    virtual ~DispatchLedger() = default;
    // Leases the queued requests among `seqs` whose lease is free or expired to this process
    // for `lease_ms` (the ledger's clock). Thread-safe; blocks on the database. Throws on a
    // database failure.
    virtual ClaimResult claim(const std::vector<int64_t>& seqs, int64_t lease_ms) = 0;
    // The outbox relay: queued requests without a live lease that were last published more than
    // `older_than_ms` ago, marked as published now and returned (oldest first, at most `limit`)
    // so they can be published again. Throws on a database failure.
    virtual std::vector<int64_t> take_unpublished(int64_t older_than_ms, size_t limit) = 0;
    // Gives up this process's leases on still-queued requests (a worker stopping with claimed
    // requests it never started), so others may take them at once. Throws on a database failure.
    virtual void release(const std::vector<int64_t>& seqs) = 0;
    // The highest authorization generation any claim of this process has seen; none before the
    // first claim that leased something. Every request is claimed before it is authorized, so
    // a worker that reads this after its batch was claimed sees every ACL or station change
    // acknowledged before that claim, without a database round trip of its own. Thread-safe.
    [[nodiscard]] virtual std::optional<int64_t> claimed_authorization_generation() const = 0;
};

}  // namespace cg::store
