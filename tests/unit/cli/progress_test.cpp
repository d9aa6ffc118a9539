#include "cli/progress.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace cg::cli {
namespace {

TEST(RenderProgress, ShowsDoneOfTotalRateAndEta) {
    const auto line = render_progress(500'000, 1'000'000, 2.0, "rows", 10);
    EXPECT_EQ(line, "[#####.....]  500,000/1,000,000   50%  250,000 rows/s  ETA 2s");
}

TEST(RenderProgress, StartAndEnd) {
    EXPECT_EQ(render_progress(0, 100, 0.0, "rows", 4), "[....]  0/100    0%  - rows/s  ETA -");
    EXPECT_EQ(render_progress(100, 100, 0.5, "rows", 4),
              "[####]  100/100  100%  200 rows/s  ETA 0s");
    // More than the total is shown as the total; an empty job is complete.
    EXPECT_EQ(render_progress(7, 5, 1.0, "rows", 2), "[##]  5/5  100%  5 rows/s  ETA 0s");
    EXPECT_EQ(render_progress(0, 0, 0.0, "rows", 2), "[##]  0/0  100%  - rows/s  ETA -");
}

TEST(FormatEta, RoundsUpToWholeSeconds) {
    EXPECT_EQ(format_eta(0.2), "1s");
    EXPECT_EQ(format_eta(65), "1m05s");
    EXPECT_EQ(format_eta(7380), "2h03m");
    EXPECT_EQ(format_eta(-1), "-");
}

// Runs `body` with a bar writing into a temporary file and returns what it wrote.
template <class F>
std::string captured(F body) {
    std::FILE* f = std::tmpfile();
    body(f);
    std::fflush(f);
    std::rewind(f);
    std::string out;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
}

using Clock = ProgressBar::Clock;

TEST(ProgressBar, LinesModeWritesOneLinePerTenth) {
    const auto t0 = Clock::now();
    const auto out = captured([&](std::FILE* f) {
        ProgressBar bar(f, ProgressMode::kLines, 100, "rows", t0);
        for (size_t i = 1; i <= 100; ++i) bar.update(i, t0 + std::chrono::milliseconds(i * 10));
        bar.finish(t0 + std::chrono::seconds(1));
    });
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 10) << out;
    EXPECT_EQ(out.find('\r'), std::string::npos);
    EXPECT_NE(out.find("100/100  100%"), std::string::npos) << out;
}

TEST(ProgressBar, LinesModeJumpsEarnOneLine) {
    const auto t0 = Clock::now();
    const auto out = captured([&](std::FILE* f) {
        ProgressBar bar(f, ProgressMode::kLines, 1000, "rows", t0);
        bar.update(450, t0 + std::chrono::seconds(1));  // crosses 10..40 %
        bar.update(1000, t0 + std::chrono::seconds(2));
        bar.finish(t0 + std::chrono::seconds(2));
    });
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
}

TEST(ProgressBar, RedrawModeRedrawsInPlaceAtMostEvery100ms) {
    const auto t0 = Clock::now();
    const auto out = captured([&](std::FILE* f) {
        ProgressBar bar(f, ProgressMode::kRedraw, 1000, "rows", t0);
        for (size_t i = 1; i <= 1000; ++i) {
            bar.update(i, t0 + std::chrono::milliseconds(i));  // 1 s in all
        }
        bar.finish(t0 + std::chrono::seconds(1));
    });
    const auto redraws = std::count(out.begin(), out.end(), '\r');
    EXPECT_GE(redraws, 10);
    EXPECT_LE(redraws, 13);
    EXPECT_NE(out.find("\x1b[K"), std::string::npos);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);  // only the final newline
    EXPECT_EQ(out.back(), '\n');
    EXPECT_NE(out.find("1,000/1,000  100%"), std::string::npos);
}

TEST(ProgressBar, OffWritesNothing) {
    const auto out = captured([](std::FILE* f) {
        ProgressBar bar(f, ProgressMode::kOff, 10);
        bar.update(5);
        bar.update(10);
        bar.finish();
    });
    EXPECT_TRUE(out.empty());
}

TEST(ProgressMode, NoProgressWinsAndAPipeIsNotATerminal) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    EXPECT_EQ(progress_mode_for(fds[1], false), ProgressMode::kLines);
    EXPECT_EQ(progress_mode_for(fds[1], true), ProgressMode::kOff);
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace
}  // namespace cg::cli
