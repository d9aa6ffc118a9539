#pragma once
// The open-file limit at start-up: every connection, store file and outgoing socket is a
// descriptor, and running out makes accept() fail (the HTTP server then backs off, see
// api/http_server.cpp). So the soft RLIMIT_NOFILE is raised to the hard limit, and a
// MAX_CONNECTIONS the limit cannot hold is reported once at start.
#include <cstdint>

#include "config/config.hpp"

namespace cg::app {

// Descriptors kept for everything but client connections: a fixed share for the store (the
// writer's and each reader's database, WAL and shared-memory files), the event loops' epoll,
// eventfd and timer descriptors, listeners, logs, the resolver and the Redis/PostgreSQL
// connections of cluster mode; plus the callback client's pool (2 × CALLBACK_MAX_CONCURRENCY)
// and the remote authorizer's (AUTHORIZER_MAX_CONCURRENCY) when one is configured.
inline constexpr int64_t kFdFixedHeadroom = 128;
int64_t fd_headroom(const config::Config& cfg);

// Raises the soft RLIMIT_NOFILE to the hard limit (logged when it changed), then warns when
// MAX_CONNECTIONS + fd_headroom(cfg) exceeds the soft limit. Returns the soft limit in force.
// Never throws: a limit that cannot be read or raised is logged and left as it is.
int64_t prepare_fd_limit(const config::Config& cfg);

}  // namespace cg::app
