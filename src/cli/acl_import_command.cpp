#include "cli/acl_import_command.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>

#include "app/backends.hpp"
#include "cli/acl_import.hpp"
#include "common/clock.hpp"
#include "obs/log.hpp"

namespace cg::cli {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int import_acl(const config::Config& cfg, const std::string& path, const std::string& format,
               ProgressMode progress) {
    SystemClock clock;
    const auto started = std::chrono::steady_clock::now();
    const std::string text = read_file(path);
    auto entries = acl_format_for(path, format) == AclFormat::kCsv
                       ? parse_acl_csv(text, clock.now_ms())
                       : parse_acl_json(text, clock.now_ms());
    const double checked_s = seconds_since(started);
    obs::init_logging(config::LogLevel::kWarn);
    auto backends = app::open_store(cfg, nullptr);
    auto& store = backends.store;
    const auto writing = std::chrono::steady_clock::now();
    ProgressBar bar(stderr, progress, entries.size(), "rows", writing);
    // Chunks keep each transaction (and the writer's memory) bounded on very large files.
    constexpr size_t kChunk = 50'000;
    size_t done = 0;
    while (done < entries.size()) {
        const size_t n = std::min(kChunk, entries.size() - done);
        std::vector<store::AclEntry> chunk(std::make_move_iterator(entries.begin() + done),
                                           std::make_move_iterator(entries.begin() + done + n));
        std::promise<store::WriteStatus> result;
        store->put_acl_bulk(std::move(chunk),
                            [&result](store::WriteStatus s) { result.set_value(s); });
        if (result.get_future().get() != store::WriteStatus::kOk) {
            bar.finish();
            store->close();
            throw std::runtime_error("writing to the store failed after " + std::to_string(done) +
                                     " entries");
        }
        done += n;
        bar.update(done);
    }
    bar.finish();
    store->close();
    std::printf(
        "imported %zu ACL entries into %s in %.2f s (checked in %.2f s, written in %.2f s)\n",
        entries.size(), cfg.cluster() ? "the cluster database" : cfg.data_dir.c_str(),
        seconds_since(started), checked_s, seconds_since(writing));
    return 0;
}

}  // namespace cg::cli
