#include "obs/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace cg::obs {

namespace {

// Seconds since the epoch at which the system booted (/proc/stat's btime).
int64_t boot_time_seconds() {
    std::ifstream in("/proc/stat");
    std::string key;
    while (in >> key) {
        if (key == "btime") {
            int64_t v = 0;
            in >> v;
            return v;
        }
        in.ignore(1 << 20, '\n');
    }
    return 0;
}

}  // namespace

ProcessStats read_process_stats() {
    ProcessStats s;
    const long page = sysconf(_SC_PAGESIZE);
    const long ticks = sysconf(_SC_CLK_TCK);
    {
        std::ifstream statm("/proc/self/statm");
        int64_t total = 0;
        int64_t resident = 0;
        if (statm >> total >> resident) s.resident_bytes = resident * page;
    }
    {
        // /proc/self/stat: "pid (comm) state ..." where comm may hold spaces; fields after the
        // closing parenthesis are numbered from 3 (state). utime is 14, stime 15, starttime 22.
        std::ifstream stat("/proc/self/stat");
        const std::string text((std::istreambuf_iterator<char>(stat)),
                               std::istreambuf_iterator<char>());
        const auto close = text.rfind(')');
        if (close != std::string::npos && ticks > 0) {
            std::istringstream fields(text.substr(close + 1));
            std::string f;
            double utime = 0;
            double stime = 0;
            double start = 0;
            for (int i = 3; i <= 22 && (fields >> f); ++i) {
                if (i == 14) utime = std::stod(f);
                if (i == 15) stime = std::stod(f);
                if (i == 22) start = std::stod(f);
            }
            s.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
            s.start_time_seconds =
                static_cast<double>(boot_time_seconds()) + start / static_cast<double>(ticks);
        }
    }
    std::error_code ec;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++s.open_fds;
    }
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) s.max_fds = static_cast<int64_t>(lim.rlim_cur);
    return s;
}

}  // namespace cg::obs
