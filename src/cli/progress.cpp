#include "cli/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "cli/text_table.hpp"

namespace cg::cli {

ProgressMode progress_mode_for(int fd, bool disabled) {
    if (disabled) return ProgressMode::kOff;
    return ::isatty(fd) == 1 ? ProgressMode::kRedraw : ProgressMode::kLines;
}

std::string format_eta(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "-";
    const auto s = static_cast<long long>(std::ceil(seconds));
    if (s < 60) return strf("%llds", s);
    if (s < 3600) return strf("%lldm%02llds", s / 60, s % 60);
    return strf("%lldh%02lldm", s / 3600, s % 3600 / 60);
}

std::string render_progress(size_t done, size_t total, double elapsed_seconds, const char* unit,
                            size_t bar_width) {
    done = std::min(done, total);
    const double fraction =
        total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    const auto filled = static_cast<size_t>(fraction * static_cast<double>(bar_width));
    std::string out = "[";
    out.append(filled, '#');
    out.append(bar_width - filled, '.');
    out += "]  ";
    out += group_thousands(done) + "/" + group_thousands(total);
    out += strf("  %3d%%", static_cast<int>(fraction * 100));
    if (done > 0 && elapsed_seconds > 0) {
        const double rate = static_cast<double>(done) / elapsed_seconds;
        out += "  " + group_thousands(static_cast<uint64_t>(rate)) + " " + unit + "/s";
        out += "  ETA " + format_eta(static_cast<double>(total - done) / rate);
    } else {
        out += strf("  - %s/s  ETA -", unit);
    }
    return out;
}

ProgressBar::ProgressBar(std::FILE* out, ProgressMode mode, size_t total, const char* unit,
                         Clock::time_point started)
    : out_(out), mode_(mode), total_(total), unit_(unit), started_(started) {}

void ProgressBar::draw(size_t done, Clock::time_point now) {
    const double elapsed = std::chrono::duration<double>(now - started_).count();
    const std::string line = render_progress(done, total_, elapsed, unit_);
    if (mode_ == ProgressMode::kRedraw) {
        std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    } else {
        std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
    last_draw_ = now;
    drawn_ = true;
}

void ProgressBar::update(size_t done, Clock::time_point now) {
    done_ = std::min(done, total_);
    switch (mode_) {
        case ProgressMode::kOff:
            return;
        case ProgressMode::kRedraw:
            if (!drawn_ || done_ == total_ || now - last_draw_ >= std::chrono::milliseconds(100)) {
                draw(done_, now);
            }
            return;
        case ProgressMode::kLines: {
            if (total_ == 0) return;
            // Crossing several tenths at once earns one line.
            bool crossed = false;
            while (next_tenth_ <= 10 && done_ * 10 >= next_tenth_ * total_) {
                ++next_tenth_;
                crossed = true;
            }
            if (crossed) draw(done_, now);
            return;
        }
    }
}

void ProgressBar::finish(Clock::time_point now) {
    if (finished_) return;
    finished_ = true;
    if (mode_ == ProgressMode::kRedraw) {
        draw(done_, now);
        std::fputc('\n', out_);
        std::fflush(out_);
    } else if (mode_ == ProgressMode::kLines && !drawn_) {
        draw(done_, now);
    }
}

}  // namespace cg::cli
