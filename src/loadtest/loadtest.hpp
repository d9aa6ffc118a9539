#pragma once
// `chargegate loadtest`: a load generator for a chargegate deployment, with a built-in
// callback receiver so it measures both the accept latency and the end-to-end latency
// (accept → callback received).
//   closed loop: `connections` keep-alive connections send as fast as answers come back;
//   open loop:   a fixed total `rate` of requests per second; latency is measured from the
//                moment each request was due, so a stalled server cannot hide its queueing
//                (coordinated omission is corrected).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "loadtest/latency_histogram.hpp"

namespace cg::loadtest {

struct LoadOptions {
    std::string host = "127.0.0.1";
    uint16_t port = 8080;
    int connections = 64;
    int threads = 1;                          // client event loops
    double duration_s = 10;                   // measured phase
    double warmup_s = 1;                      // sent but not measured
    double rate = 0;                          // requests/s in total; 0 = closed loop
    std::string receiver_host = "127.0.0.1";  // how the service reaches the receiver
    uint16_t receiver_port = 0;               // 0: any free port
    double drain_s = 15;              // wait this long for outstanding callbacks after the load
    std::vector<std::string> tokens;  // empty: `token_count` generated tokens
    int token_count = 1000;
    int station_count = 1000;
    bool seed_acl = false;    // PUT an `allowed` ACL entry for every token first
    std::string admin_token;  // for seed_acl when the service has ADMIN_TOKEN set
    std::string api_key;      // sent as X-API-Key when the service has API_AUTH=on
    bool progress = true;     // a line per second on stderr
};

struct LoadReport {
    std::string mode;  // "closed" or "open"
    double measured_s = 0;
    int64_t sent = 0;
    int64_t accepted = 0;                   // 200 answers (measured phase)
    std::map<std::string, int64_t> errors;  // by kind: http_503, connect, io, ...
    LatencyHistogram accept_latency;        // µs
    LatencyHistogram e2e_latency;           // µs, accept sent → callback received
    int64_t accepted_total = 0;             // including warm-up
    int64_t callbacks = 0;
    int64_t callbacks_unique = 0;
    [[nodiscard]] double throughput() const {
        return measured_s > 0 ? static_cast<double>(accepted) / measured_s : 0;
    }
    [[nodiscard]] double e2e_throughput() const;  // unique callbacks per second of the run
    double callback_window_s = 0;
};

// Runs the load and returns the figures. Throws std::runtime_error on set-up failures
// (service unreachable, receiver port taken).
LoadReport run_loadtest(const LoadOptions& options);

std::string format_table(const LoadReport& report);
std::string to_json(const LoadReport& report);

}  // namespace cg::loadtest
