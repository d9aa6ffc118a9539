#pragma once
// Names the calling thread (at most 15 characters), so `top -H`, `ps -T` and perf show which
// part of chargegate a thread is.
#include <pthread.h>

namespace cg {

inline void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace cg
