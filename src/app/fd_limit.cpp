#include "app/fd_limit.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "obs/log.hpp"

namespace cg::app {

namespace {
int64_t as_count(rlim_t v) {
    if (v == RLIM_INFINITY || v > static_cast<rlim_t>(std::numeric_limits<int64_t>::max())) {
        return std::numeric_limits<int64_t>::max();
    }
    return static_cast<int64_t>(v);
}
}  // namespace

int64_t fd_headroom(const config::Config& cfg) {
    int64_t n = kFdFixedHeadroom + 2 * static_cast<int64_t>(cfg.callback_max_concurrency);
    if (!cfg.authorizer_url.empty()) n += cfg.authorizer_max_concurrency;
    return n;
}

int64_t prepare_fd_limit(const config::Config& cfg) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        obs::log_warn("cannot read the open-file limit").kv("error", std::strerror(errno));
        return -1;
    }
    if (lim.rlim_cur < lim.rlim_max) {
        const rlim_t before = lim.rlim_cur;
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            lim = raised;
            obs::log_info("raised the open-file limit to the hard limit")
                .kv("from", as_count(before))
                .kv("to", as_count(lim.rlim_cur));
        } else {
            obs::log_warn("cannot raise the open-file limit")
                .kv("soft", as_count(lim.rlim_cur))
                .kv("hard", as_count(lim.rlim_max))
                .kv("error", std::strerror(errno));
        }
    }
    const int64_t soft = as_count(lim.rlim_cur);
    const int64_t headroom = fd_headroom(cfg);
    if (soft - headroom < cfg.max_connections) {
        obs::log_warn(
            "MAX_CONNECTIONS exceeds what the open-file limit allows: past the limit new "
            "connections wait in the listen queue and accept errors are counted "
            "(http_accept_errors_total); raise the hard limit (ulimit -n, LimitNOFILE=) or lower "
            "MAX_CONNECTIONS")
            .kv("max_connections", cfg.max_connections)
            .kv("open_file_limit", soft)
            .kv("reserved", headroom)
            .kv("connections_that_fit", std::max<int64_t>(0, soft - headroom));
    }
    return soft;
}

}  // namespace cg::app
