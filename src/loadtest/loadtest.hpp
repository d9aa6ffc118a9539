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
    int threads = 1;         // client event loops
    double duration_s = 10;  // measured phase
    double warmup_s = 1;     // sent but not measured
    double rate = 0;         // requests/s in total; 0 = closed loop
    int64_t requests = 0;    // > 0: stop after sending this many (warm-up included)
    std::string receiver_host = "127.0.0.1";  // how the service reaches the receiver
    uint16_t receiver_port = 0;               // 0: any free port
    double drain_s = 15;  // wait this long for outstanding callbacks after the load
    // The built-in receiver answers each callback this many ms after reading it.
    double receiver_delay_ms = 0;
    // > 0: the built-in receiver has this many workers; each callback takes receiver_delay_ms
    // (1 ms when that is 0) and the rest wait in a FIFO for a worker. 0: no limit.
    int receiver_capacity = 0;
    // Not empty: callbacks go to this external receiver (?t=<steady ns> appended) and the
    // built-in receiver is not started; callback counts are then unknown.
    std::string callback_url;
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

    // The built-in receiver's side (all zero with an external receiver).
    bool builtin_receiver = true;  // false: --callback-url; callback counts are unknown
    std::string callback_url;      // where the callbacks went (without ?t=)
    double receiver_delay_ms = 0;
    int receiver_capacity = 0;
    int64_t receiver_connections = 0;     // TCP connections it accepted
    int64_t receiver_peak_in_flight = 0;  // most callbacks read but not yet answered at once
    int64_t receiver_last_unique_ns = 0;  // steady ns of the newest first-time callback
    LatencyHistogram receiver_latency;    // µs, request read → answer written (with queueing)
    // CLOCK_MONOTONIC ns (std::chrono::steady_clock) of the first send and of the end of the
    // load, so an external receiver's timestamps can be compared with them.
    int64_t start_steady_ns = 0;
    int64_t end_steady_ns = 0;
};

// Runs the load and returns the figures. Throws std::runtime_error on set-up failures
// (service unreachable, receiver port taken).
LoadReport run_loadtest(const LoadOptions& options);

std::string format_table(const LoadReport& report);
std::string to_json(const LoadReport& report);

}  // namespace cg::loadtest
