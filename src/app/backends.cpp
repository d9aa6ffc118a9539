#include "app/backends.hpp"

#include <unistd.h>

#include "store/postgres/pg_credentials.hpp"
#include "store/postgres/pg_migrations.hpp"
#include "store/postgres/pg_store.hpp"
#include "store/sqlite/sqlite_credentials.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cg::app {

std::string instance_name(const config::Config& cfg) {
    if (!cfg.instance_id.empty()) return cfg.instance_id;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host[0] ? host : "chargegate") + "-" + std::to_string(::getpid());
}

Backends open_store(const config::Config& cfg, obs::Metrics* metrics) {
    Backends b;
    if (cfg.cluster()) {
        store::postgres::PgOptions o;
        o.database_url = cfg.database_url;
        o.owner = instance_name(cfg);
        o.lease_ms = cfg.cluster_takeover_ms;
        o.idempotency_ttl_ms = cfg.idempotency_ttl_ms;
        o.migrate = cfg.migrate_on_start;
        o.commit_interval_us = cfg.commit_interval();
        // Only an API process acts on the counts (MAX_QUEUE_DEPTH refuses new sessions); a
        // worker process shows them in /health and its gauges, where 5 s old is fine. Each
        // count cost ~7 µs of PostgreSQL CPU per session at 1 API x 2 workers.
        if (!cfg.runs_api()) o.counts_every_ms = 5000;
        auto pg = store::postgres::open_pg_store(o, metrics);
        b.ledger = pg.get();
        b.store = std::move(pg);
        b.store_type = "postgresql";
        return b;
    }
    store::sqlite::SqliteOptions o;
    o.data_dir = cfg.data_dir;
    o.commit_interval_us = cfg.commit_interval();
    o.idempotency_ttl_ms = cfg.idempotency_ttl_ms;
    b.store = store::sqlite::open_sqlite_store(o, metrics);
    b.store_type = "sqlite";
    return b;
}

std::unique_ptr<store::CredentialStore> open_credentials(const config::Config& cfg, bool writable) {
    if (cfg.cluster()) return std::make_unique<store::postgres::PgCredentials>(cfg.database_url);
    return std::make_unique<store::sqlite::SqliteCredentials>(cfg.data_dir, writable);
}

std::string migrate(const config::Config& cfg) {
    if (cfg.cluster()) {
        store::postgres::migrate_pg(cfg.database_url);
        return "database schema is up to date (version " +
               std::to_string(store::postgres::pg_schema_version(cfg.database_url)) + ")";
    }
    store::sqlite::migrate_sqlite(cfg.data_dir);
    return "store in " + cfg.data_dir + " is up to date";
}

}  // namespace cg::app
