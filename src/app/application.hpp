#pragma once
// Wires the service together as a list of components (app/service.hpp: store → credentials →
// queue → authorizer → callback client → rate limiter → delivery → workers → HTTP), runs it
// until SIGTERM/SIGINT and drains it in the reverse order. Every dependency is built here and
// passed down by reference; nothing registers itself globally.
#include "config/config.hpp"

namespace cg::app {

// Runs `chargegate serve`. Returns the process exit code: 0 after a clean drain. Throws
// std::runtime_error (one-line message) when start-up fails (bad data dir, port in use, ...).
int serve(const config::Config& config);

}  // namespace cg::app
