#pragma once
// Picks the storage backend from the configuration: embedded (SQLite) or cluster (PostgreSQL).
// The queue over it is the queue component's choice (queue_component.hpp).
#include <memory>
#include <string>

#include "config/config.hpp"
#include "obs/metrics.hpp"
#include "store/credential_store.hpp"
#include "store/dispatch_ledger.hpp"
#include "store/store.hpp"

namespace cg::app {

struct Backends {
    std::unique_ptr<store::Store> store;
    store::DispatchLedger* ledger = nullptr;  // cluster mode only; owned by `store`
    std::string store_type;                   // "sqlite" or "postgresql"
};

// The name this process uses in leases and as its Redis consumer (INSTANCE_ID or hostname-pid).
std::string instance_name(const config::Config& cfg);

// Opens the store (migrating the embedded one; the cluster one when MIGRATE_ON_START). Throws
// StoreError with a one-line message.
Backends open_store(const config::Config& cfg, obs::Metrics* metrics);

// The API clients' credentials in the configured store. `writable` (the CLI) creates and migrates
// the embedded store if needed. Throws StoreError.
std::unique_ptr<store::CredentialStore> open_credentials(const config::Config& cfg, bool writable);

// Creates or upgrades the schema of the configured store (`chargegate migrate`); returns a line
// for the operator. Throws StoreError.
std::string migrate(const config::Config& cfg);

}  // namespace cg::app
