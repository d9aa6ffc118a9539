#pragma once
// What a distributed work queue needs from the system of record (cluster mode): the durable
// truth about which queued request belongs to which worker. The queue (Redis Streams) only
// carries hints — request seqs — and may lose or repeat them; this ledger decides.
// Implemented by the PostgreSQL store.
#include <cstdint>
#include <string>
#include <vector>

#include "store/records.hpp"

namespace cg::store {

struct ClaimResult {
    // Requests now leased to the caller until the given time: authorize them.
    std::vector<QueuedRequest> claimed;
    // Seqs that need no more work from this hint: decided already, or unknown. Acknowledge them.
    std::vector<int64_t> settled;
    // The rest are still queued but leased to another live worker: leave their hints pending.
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
};

}  // namespace cg::store
