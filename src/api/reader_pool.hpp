#pragma once
// Runs store reads off the event loops: a small thread pool in which every thread owns its own
// StoreReader (readers are single-threaded by contract).
#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "store/store.hpp"

namespace cg::api {

class ReaderPool {
  public:
    ReaderPool(store::Store& store, int threads);
    ~ReaderPool();
    ReaderPool(const ReaderPool&) = delete;
    ReaderPool& operator=(const ReaderPool&) = delete;

    // Runs `fn` on a pool thread with that thread's reader. `fn` must not throw past itself;
    // exceptions from the store are caught and passed as a null reader... so `fn` receives
    // nullptr when no reader could be opened.
    void run(std::function<void(store::StoreReader*)> fn);
    void stop();

  private:
    store::Store& store_;
    boost::asio::thread_pool pool_;
    const uint64_t id_;
};

}  // namespace cg::api
