#include "api/reader_pool.hpp"

#include <boost/asio/post.hpp>
#include <memory>
#include <unordered_map>

#include "obs/log.hpp"

namespace cg::api {

namespace {
std::atomic<uint64_t> g_next_pool{1};
}

ReaderPool::ReaderPool(store::Store& store, int threads)
    : store_(store),
      pool_(static_cast<size_t>(threads < 1 ? 1 : threads)),
      id_(g_next_pool.fetch_add(1)) {}

ReaderPool::~ReaderPool() { stop(); }

void ReaderPool::run(std::function<void(store::StoreReader*)> fn) {
    boost::asio::post(pool_, [this, fn = std::move(fn)] {
        thread_local std::unordered_map<uint64_t, std::unique_ptr<store::StoreReader>> readers;
        auto& slot = readers[id_];
        try {
            if (!slot) slot = store_.open_reader();
        } catch (const std::exception& e) {
            obs::log_error("opening a store reader failed").kv("error", e.what());
        }
        fn(slot.get());
    });
}

void ReaderPool::stop() { pool_.join(); }

}  // namespace cg::api
