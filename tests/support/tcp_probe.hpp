#pragma once
// A one-shot TCP exchange with a server on 127.0.0.1, to ask servers without an HTTP interface
// (Redis, PostgreSQL) whether they are up.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cg::test {

// Connects to 127.0.0.1:`port`, sends `request` and reads until `terminator` was received, the
// peer closed, or `timeout` passed. Returns what was read; empty when nothing could be read
// (connection refused, timeout).
std::string tcp_exchange(uint16_t port, std::string_view request, std::string_view terminator,
                         std::chrono::milliseconds timeout);

}  // namespace cg::test
