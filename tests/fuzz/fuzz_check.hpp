#pragma once
// Invariant checks of the fuzz targets. A violation prints what failed and aborts, which
// libFuzzer records as a crash and saves the input that caused it (crash-<sha1>).
#include <cstdio>
#include <cstdlib>

#define CG_FUZZ_CHECK(cond)                                                                \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", #cond, __FILE__, \
                         __LINE__);                                                        \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)
