#pragma once
// The process's own resource use, read from /proc at scrape time (Linux).
#include <cstdint>

namespace cg::obs {

struct ProcessStats {
    int64_t resident_bytes = 0;
    double cpu_seconds = 0;  // user + system
    int64_t open_fds = 0;
    int64_t max_fds = 0;            // the soft RLIMIT_NOFILE
    double start_time_seconds = 0;  // since the Unix epoch
};

// Fields that cannot be read stay 0. Reads a few small /proc files and lists /proc/self/fd:
// cheap, but blocking file I/O, so call it off event-loop threads.
ProcessStats read_process_stats();

}  // namespace cg::obs
