#pragma once
// The progress bar of long CLI jobs (`acl import`): rows done of total, rate and ETA.
//   kRedraw: one line redrawn in place (carriage return, erase to end of line), for a terminal;
//   kLines:  a plain line at every tenth of the work, for a log file or a pipe;
//   kOff:    nothing.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace cg::cli {

enum class ProgressMode { kOff, kRedraw, kLines };

// kOff when `disabled`, kRedraw when `fd` is a terminal, else kLines.
ProgressMode progress_mode_for(int fd, bool disabled);

// One line, e.g. "[##########..........]  500,000/1,000,000  50%  250,000 rows/s  ETA 2s".
// `elapsed_seconds` is the time since the work started; rate and ETA show "-" until some rows
// are done.
std::string render_progress(size_t done, size_t total, double elapsed_seconds,
                            const char* unit = "rows", size_t bar_width = 24);

// "2s", "1m05s", "2h03m".
std::string format_eta(double seconds);

// Writes the progress of one job to `out`. Not thread-safe.
class ProgressBar {
  public:
    using Clock = std::chrono::steady_clock;

    ProgressBar(std::FILE* out, ProgressMode mode, size_t total, const char* unit = "rows",
                Clock::time_point started = Clock::now());

    // Reports `done` rows. kRedraw redraws at most every 100 ms (and always at the total); kLines
    // writes a line when `done` crosses the next tenth.
    void update(size_t done, Clock::time_point now = Clock::now());
    // Ends the bar: kRedraw draws the final state and a newline; kLines writes the last line
    // if it was not written yet.
    void finish(Clock::time_point now = Clock::now());

  private:
    void draw(size_t done, Clock::time_point now);

    std::FILE* out_;
    ProgressMode mode_;
    size_t total_;
    const char* unit_;
    Clock::time_point started_;
    Clock::time_point last_draw_{};
    bool drawn_ = false;
    bool finished_ = false;
    size_t done_ = 0;
    size_t next_tenth_ = 1;  // kLines: the next tenth of total that earns a line
};

}  // namespace cg::cli
