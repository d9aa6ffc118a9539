#pragma once
// Records the test HTTP client's exchanges with the service under test, for the check that real
// answers conform to docs/openapi.yaml (tests/api/conformance.mjs, scripts/api-check.sh).
//
// Off unless CG_API_RECORD_DIR is set. Then every exchange with a port registered by
// note_service_port() (ServiceProcess does it for the service it starts; receivers and fake
// authorizers are never registered) is appended as one JSON line to
// $CG_API_RECORD_DIR/exchanges-<pid>.jsonl: one file per process, so parallel ctest runs never
// interleave. Thread-safe.
#include <cstdint>
#include <map>
#include <string>

namespace cg::test {

// The service under test listens on `port` (127.0.0.1).
void note_service_port(uint16_t port);

struct RecordedExchange {
    std::string method;
    std::string url;  // as requested: scheme://host:port/path?query
    long port = 0;    // the port connected to
    std::string request_content_type;
    long status = 0;
    std::map<std::string, std::string> response_headers;  // names lower-cased
    std::string response_body;
};

// Appends `x` when recording is on and its port is a registered service port.
void record_exchange(const RecordedExchange& x);

}  // namespace cg::test
