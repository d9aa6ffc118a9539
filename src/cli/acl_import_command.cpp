#include "cli/acl_import_command.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <future>
#include <limits>
#include <memory>
#include <stdexcept>

#include "app/backends.hpp"
#include "cli/acl_import.hpp"
#include "common/clock.hpp"
#include "obs/log.hpp"

namespace cg::cli {

namespace {

// The whole file in one read (a stringstream copy of a 70 MB file costs a second).
std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    const auto size = in.tellg();
    if (size < 0) throw std::runtime_error(path + ": cannot be read");
    std::string text(static_cast<size_t>(size), '\0');
    in.seekg(0);
    if (!in.read(text.data(), size)) throw std::runtime_error(path + ": cannot be read");
    return text;
}

// Which entries to write, in which order: by driver token, and for a token that appears more
// than once only its last row (it would replace the others anyway, and PostgreSQL refuses an
// upsert that touches one row twice). The ACL table is a B-tree keyed by the token; rows in
// random order touch pages all over it in every chunk, and each commit writes all of them to the
// WAL again (a million random rows: 1.7 GB written and 26 s; in token order: 160 MB).
std::vector<uint32_t> write_order(const std::vector<store::AclEntry>& entries) {
    // Sorting keys that carry 8 bytes of the token (after the prefix all tokens share, such
    // as "FLEET-") decides most comparisons without following a pointer to the token (a cache
    // miss each).
    struct Key {
        uint64_t prefix;
        uint32_t index;
    };
    size_t common = entries.empty() ? 0 : entries[0].driver_token.size();
    for (const auto& e : entries) {
        const std::string& first = entries[0].driver_token;
        size_t n = 0;
        while (n < common && n < e.driver_token.size() && e.driver_token[n] == first[n]) ++n;
        common = n;
    }
    std::vector<Key> keys(entries.size());
    for (uint32_t i = 0; i < keys.size(); ++i) {
        const std::string& t = entries[i].driver_token;
        uint64_t prefix = 0;
        for (size_t b = common; b < common + 8; ++b) {
            const auto byte = b < t.size() ? static_cast<unsigned char>(t[b]) : 0U;
            prefix = (prefix << 8) | byte;
        }
        keys[i] = Key{prefix, i};
    }
    auto before = [&entries](const Key& a, const Key& b) {
        if (a.prefix != b.prefix) return a.prefix < b.prefix;
        const int c = entries[a.index].driver_token.compare(entries[b.index].driver_token);
        return c != 0 ? c < 0 : a.index < b.index;
    };
    if (!std::is_sorted(keys.begin(), keys.end(), before)) {
        std::sort(keys.begin(), keys.end(), before);
    }
    // Ties are in file order, so the last key of a run of equal tokens is the row that wins.
    std::vector<uint32_t> order;
    order.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
        const bool repeated_later =
            i + 1 < keys.size() && keys[i + 1].prefix == keys[i].prefix &&
            entries[keys[i + 1].index].driver_token == entries[keys[i].index].driver_token;
        if (!repeated_later) order.push_back(keys[i].index);
    }
    return order;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int import_acl(const config::Config& cfg, const std::string& path, const std::string& format,
               ProgressMode progress) {
    SystemClock clock;
    const auto started = std::chrono::steady_clock::now();
    if (progress == ProgressMode::kRedraw) {
        // Reading and checking a million rows takes a second or two before the bar can start.
        std::fprintf(stderr, "\rchecking %s ...\x1b[K", path.c_str());
        std::fflush(stderr);
    }
    const std::string text = read_file(path);
    auto entries = acl_format_for(path, format) == AclFormat::kCsv
                       ? parse_acl_csv(text, clock.now_ms())
                       : parse_acl_json(text, clock.now_ms());
    if (entries.size() > std::numeric_limits<uint32_t>::max()) {
        throw std::runtime_error(path + ": more than 4 billion rows");
    }
    const auto order = write_order(entries);
    const size_t repeats = entries.size() - order.size();
    const std::string repeated =
        repeats == 0 ? ""
                     : " (" + std::to_string(entries.size()) + " rows; " + std::to_string(repeats) +
                           " repeated a token, the last row of each token wins)";
    const double checked_s = seconds_since(started);
    obs::init_logging(config::LogLevel::kWarn);
    auto backends = app::open_store(cfg, nullptr);
    auto& store = backends.store;
    const auto writing = std::chrono::steady_clock::now();
    ProgressBar bar(stderr, progress, order.size(), "rows", writing);
    // Chunks keep each transaction (and the writer's memory) bounded on very large files. Two
    // are in flight, so the next one is gathered while the writer stores the previous one.
    constexpr size_t kChunk = 50'000;
    std::deque<std::pair<size_t, std::future<store::WriteStatus>>> in_flight;  // (end row, result)
    size_t done = 0;
    size_t submitted = 0;
    while (done < order.size()) {
        if (submitted < order.size() && in_flight.size() < 2) {
            const size_t n = std::min(kChunk, order.size() - submitted);
            std::vector<store::AclEntry> chunk;
            chunk.reserve(n);
            for (size_t i = submitted; i < submitted + n; ++i) {
                chunk.push_back(std::move(entries[order[i]]));
            }
            auto result = std::make_shared<std::promise<store::WriteStatus>>();
            submitted += n;
            in_flight.emplace_back(submitted, result->get_future());
            store->put_acl_bulk(std::move(chunk),
                                [result](store::WriteStatus s) { result->set_value(s); });
            continue;
        }
        auto [end, result] = std::move(in_flight.front());
        in_flight.pop_front();
        if (result.get() != store::WriteStatus::kOk) {
            // Chunks are transactions of their own: the ones that committed stay. Importing
            // the file again is harmless (each row replaces its token's entry).
            size_t stored = done;
            for (auto& later : in_flight) {
                if (later.second.get() == store::WriteStatus::kOk) stored += kChunk;
            }
            bar.finish();
            store->close();
            throw std::runtime_error(
                "writing to the store failed; " + std::to_string(std::min(stored, order.size())) +
                " of " + std::to_string(order.size()) + " rows were stored, run the import again");
        }
        done = end;
        bar.update(done);
    }
    bar.finish();
    store->close();
    std::printf(
        "imported %zu ACL entries%s into %s in %.2f s (checked in %.2f s, written in %.2f s)\n",
        order.size(), repeated.c_str(),
        cfg.cluster() ? "the cluster database" : cfg.data_dir.c_str(), seconds_since(started),
        checked_s, seconds_since(writing));
    return 0;
}

}  // namespace cg::cli
