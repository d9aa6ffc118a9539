#pragma once
// Wires the single-machine service together (config → store → queue → authorizer → workers →
// delivery → HTTP) and runs it until SIGTERM/SIGINT. Every dependency is built here and passed
// down by reference; nothing registers itself globally.
#include "config/config.hpp"

namespace cg::app {

// Runs `chargegate serve`. Returns the process exit code: 0 after a clean drain. Throws
// std::runtime_error (one-line message) when start-up fails (bad data dir, port in use, ...).
int serve(const config::Config& config);

}  // namespace cg::app
