#pragma once
// Waits on a condition instead of a fixed sleep: a fixed sleep either wastes its time (the thing
// happened sooner) or is too short (it happened later, and the test flakes). Header-only.
#include <chrono>
#include <functional>
#include <thread>

namespace cg::test {

// Polls `pred` every `step` until it holds or `timeout` has passed; returns its last answer (so
// a condition that comes true just at the deadline still counts). The caller asserts on the
// result with a message saying what never happened. `pred` runs on the calling thread.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(step);
    }
    return pred();
}

}  // namespace cg::test
