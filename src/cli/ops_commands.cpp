#include "cli/ops_commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cli/admin_client.hpp"
#include "cli/json_fields.hpp"
#include "cli/ops_format.hpp"
#include "cli/stats_view.hpp"

namespace cg::cli {

namespace {

constexpr int kMaxPage = 500;  // the dead-letter list's largest `limit`

// ---- status -------------------------------------------------------------------------------

int run_status(AdminClient& client, const OpsSettings& s) {
    const std::string path = "/api/v1/admin/requests/" + escape_path_segment(s.request_id);
    const auto answer = client.request("GET", path);
    if (answer.status == 404) {
        throw AdminError("no request " + s.request_id + " on " + client.base_url());
    }
    if (answer.status != 200) {
        throw AdminError("GET " + path + ": " + describe_http_failure(answer.status, answer.body));
    }
    boost::system::error_code ec;
    const auto v = boost::json::parse(answer.body, ec);
    if (ec || !v.is_object()) throw AdminError("GET " + path + ": the answer is not JSON");
    if (s.json) {
        std::printf("%s\n", answer.body.c_str());
    } else {
        std::fputs(format_request_history(v.as_object()).c_str(), stdout);
    }
    return 0;
}

// ---- dead letters ---------------------------------------------------------------------------

struct DeadLetterPage {
    int64_t total = 0;
    std::vector<boost::json::object> items;
    std::optional<std::string> next_cursor;  // nullopt: the last page was read
};

// Reads the newest `want` dead letters (every one when `want` is nullopt), page by page.
DeadLetterPage read_dead_letters(AdminClient& client, std::optional<int64_t> want) {
    DeadLetterPage result;
    std::optional<std::string> cursor;
    while (true) {
        const int64_t missing =
            want ? *want - static_cast<int64_t>(result.items.size()) : int64_t{kMaxPage};
        if (missing <= 0) break;
        std::string path = "/api/v1/admin/dead-letters?limit=" +
                           std::to_string(std::min<int64_t>(missing, kMaxPage));
        if (cursor) path += "&before=" + escape_path_segment(*cursor);
        const auto page = client.get_object(path);
        const auto* items = json::array(page, "items");
        if (items == nullptr || !json::has_number(page, "total")) {
            throw AdminError("GET " + path + ": not a dead-letter list (no items or total)");
        }
        result.total = json::integer(page, "total");
        for (const auto& item : *items) {
            if (item.is_object()) result.items.push_back(item.as_object());
        }
        std::optional<std::string> next;
        if (const auto* c = json::field(page, "next_cursor")) {
            if (c->is_string()) next = std::string(c->as_string());
            if (c->is_int64()) next = std::to_string(c->as_int64());
        }
        result.next_cursor = next;
        // The last page, or a service that does not move on: stop rather than loop forever.
        if (!next || items->empty() || next == cursor) break;
        cursor = next;
    }
    return result;
}

int run_dlq_list(AdminClient& client, const OpsSettings& s) {
    const auto list =
        read_dead_letters(client, s.all ? std::nullopt : std::optional<int64_t>(s.limit));
    if (s.json) {
        boost::json::object o;
        o["total"] = list.total;
        boost::json::array items;
        for (const auto& i : list.items) items.push_back(i);
        o["items"] = std::move(items);
        o["next_cursor"] = list.next_cursor ? boost::json::value(*list.next_cursor) : nullptr;
        std::printf("%s\n", boost::json::serialize(o).c_str());
    } else {
        std::fputs(format_dead_letters(list.items, list.total).c_str(), stdout);
        if (!s.all && list.next_cursor && static_cast<int64_t>(list.items.size()) < list.total) {
            std::puts("(--all or a larger --limit shows more)");
        }
    }
    return 0;
}

int run_dlq_redeliver(AdminClient& client, const OpsSettings& s) {
    std::vector<std::string> ids = s.redeliver_ids;
    if (s.all) {
        // A snapshot first: each redelivered request leaves the list while we go.
        for (const auto& item : read_dead_letters(client, std::nullopt).items) {
            const auto id = json::text(item, "request_id");
            if (!id.empty()) ids.push_back(id);
        }
        if (ids.empty()) {
            std::puts("no dead letters to redeliver");
            return 0;
        }
    }
    size_t scheduled = 0;
    for (const auto& id : ids) {
        const std::string path =
            "/api/v1/charging-session/" + escape_path_segment(id) + "/redeliver";
        AdminAnswer answer;
        try {
            answer = client.request("POST", path);
        } catch (const AdminError& e) {
            throw AdminError(std::string(e.what()) + " (redelivery scheduled for " +
                             std::to_string(scheduled) + " of " + std::to_string(ids.size()) +
                             " before that)");
        }
        if (answer.status == 202) {
            ++scheduled;
            std::printf("%s  redelivery scheduled\n", id.c_str());
        } else {
            std::printf("%s  FAILED: %s\n", id.c_str(),
                        describe_http_failure(answer.status, answer.body).c_str());
        }
        std::fflush(stdout);
    }
    if (ids.size() > 1 || s.all) {
        std::printf("redelivery scheduled for %zu of %zu request%s\n", scheduled, ids.size(),
                    ids.size() == 1 ? "" : "s");
    }
    if (scheduled < ids.size()) {
        std::fprintf(stderr, "chargegate: error: %zu redeliver%s failed\n", ids.size() - scheduled,
                     ids.size() - scheduled == 1 ? "y" : "ies");
        return 1;
    }
    return 0;
}

// ---- stats ----------------------------------------------------------------------------------

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int /*signal*/) { g_interrupted = 1; }

// SIGINT/SIGTERM set g_interrupted while this lives (no SA_RESTART: sleeps end early).
class InterruptGuard {
  public:
    InterruptGuard() {
        g_interrupted = 0;
        struct sigaction sa {};
        sa.sa_handler = on_interrupt;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~InterruptGuard() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

// Writes one screen: on a terminal over the previous one (home, each line erased to its end,
// the rest of the screen erased), elsewhere as a block after a blank line.
void draw_screen(const std::string& text, bool terminal) {
    if (!terminal) {
        std::printf("%s\n", text.c_str());
    } else {
        std::string out = "\x1b[H";
        size_t pos = 0;
        while (pos < text.size()) {
            size_t end = text.find('\n', pos);
            if (end == std::string::npos) end = text.size();
            out.append(text, pos, end - pos);
            out += "\x1b[K\n";
            pos = end + 1;
        }
        out += "\x1b[J";
        std::fputs(out.c_str(), stdout);
    }
    std::fflush(stdout);
}

int run_stats(AdminClient& client, const OpsSettings& s) {
    const StatsScreenOptions options{client.base_url(), s.interval_seconds, s.once};
    constexpr const char* kPath = "/api/v1/admin/stats";
    if (s.once) {
        const auto now = parse_stats(client.get_object(kPath));
        std::fputs(render_stats(now, nullptr, options).c_str(), stdout);
        return 0;
    }
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    InterruptGuard guard;
    client.set_cancel([] { return g_interrupted != 0; });
    // The first read fails loudly (a wrong --url or token); later ones are shown and retried.
    std::optional<StatsSnapshot> earlier;
    StatsSnapshot now;
    try {
        now = parse_stats(client.get_object(kPath));
    } catch (const AdminError&) {
        if (g_interrupted != 0) return 0;  // Ctrl-C while the first read waited
        throw;
    }
    if (terminal) std::fputs("\x1b[2J\x1b[?25l", stdout);  // clear once, hide the cursor
    std::string screen = render_stats(now, nullptr, options);
    draw_screen(screen, terminal);
    while (g_interrupted == 0) {
        const auto until = std::chrono::steady_clock::now() +
                           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                               std::chrono::duration<double>(s.interval_seconds));
        while (g_interrupted == 0 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (g_interrupted != 0) break;
        try {
            earlier = std::move(now);
            now = parse_stats(client.get_object(kPath));
            screen = render_stats(now, &*earlier, options);
        } catch (const AdminError& e) {
            if (g_interrupted != 0) break;
            now = std::move(*earlier);
            screen = render_stats(now, nullptr, options) + "\n" + e.what() + " (retrying)\n";
        }
        draw_screen(screen, terminal);
    }
    if (terminal) std::fputs("\x1b[?25h", stdout);
    std::fflush(stdout);
    return 0;
}

}  // namespace

OpsDefaults ops_defaults_from_environment() {
    const char* token = std::getenv("ADMIN_TOKEN");
    return OpsDefaults{default_admin_url(std::getenv("PORT")), token != nullptr ? token : ""};
}

OpsCommands::OpsCommands(CLI::App& app, OpsDefaults defaults) {
    s_.url = std::move(defaults.url);
    s_.admin_token = std::move(defaults.admin_token);
    auto common = [this](CLI::App* cmd) {
        cmd->add_option("--url", s_.url, "Service base URL (default http://127.0.0.1:<PORT>)")
            ->capture_default_str();
        // No default shown: it is a secret.
        cmd->add_option("--admin-token", s_.admin_token,
                        "Admin API bearer token (default: ADMIN_TOKEN)");
        cmd->add_option("--ca-file", s_.ca_file, "https:// only: PEM CAs to trust")
            ->check(CLI::ExistingFile);
    };

    status_ = app.add_subcommand(
        "status",
        "Show one request's full history from a running service: state, station, masked "
        "driver token, decision, callback URL, trace id and every callback attempt.");
    status_->add_option("request_id", s_.request_id, "The request's id")->required();
    status_->add_flag("--json", s_.json, "Print the service's JSON answer as is");
    common(status_);

    auto* dlq = app.add_subcommand(
        "dlq", "The dead-letter list of a running service: requests whose callback failed.");
    dlq->require_subcommand(1);
    dlq_list_ = dlq->add_subcommand("list", "List dead letters, newest first, and their total.");
    dlq_list_->add_option("--limit", s_.limit, "Show at most this many")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000'000));
    dlq_list_->add_flag("--all", s_.all, "Show every dead letter (pages through the list)");
    dlq_list_->add_flag("--json", s_.json, "Print {total, items, next_cursor} as JSON");
    common(dlq_list_);

    dlq_redeliver_ = dlq->add_subcommand(
        "redeliver",
        "Send dead letters' callbacks again (same decision). Prints the outcome per request; "
        "exits non-zero if any redelivery was refused.");
    auto* target = dlq_redeliver_->add_option_group("target", "What to redeliver");
    target->add_option("request_id", s_.redeliver_ids, "Request ids");
    target->add_flag("--all", s_.all, "Every request in the dead-letter list");
    target->require_option(1);
    common(dlq_redeliver_);

    stats_ = app.add_subcommand(
        "stats",
        "A live one-screen view of a running service, redrawn in place: rates, queue, "
        "latency percentiles of the last interval, failing receivers. Ctrl-C quits.");
    stats_->add_option("--interval", s_.interval_seconds, "Seconds between reads")
        ->capture_default_str()
        ->check(CLI::Range(0.1, 3600.0));
    stats_->add_flag("--once", s_.once, "Print one snapshot (totals, no rates) and exit");
    common(stats_);
}

OpsCommand OpsCommands::chosen() const {
    if (status_->parsed()) return OpsCommand::kStatus;
    if (dlq_list_->parsed()) return OpsCommand::kDlqList;
    if (dlq_redeliver_->parsed()) return OpsCommand::kDlqRedeliver;
    if (stats_->parsed()) return OpsCommand::kStats;
    return OpsCommand::kNone;
}

std::optional<int> OpsCommands::run() {
    const auto which = chosen();
    if (which == OpsCommand::kNone) return std::nullopt;
    AdminClient client(AdminEndpoint{s_.url, s_.admin_token, s_.ca_file, 10000});
    switch (which) {
        case OpsCommand::kStatus:
            return run_status(client, s_);
        case OpsCommand::kDlqList:
            return run_dlq_list(client, s_);
        case OpsCommand::kDlqRedeliver:
            return run_dlq_redeliver(client, s_);
        case OpsCommand::kStats:
            return run_stats(client, s_);
        case OpsCommand::kNone:
            break;
    }
    return std::nullopt;
}

}  // namespace cg::cli
