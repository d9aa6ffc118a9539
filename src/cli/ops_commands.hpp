#pragma once
// Operator commands that talk to a running service's admin API (docs/operations.md):
//   chargegate status <request_id> [--json]
//   chargegate dlq list [--limit N] [--all] [--json]
//   chargegate dlq redeliver <request_id>... | --all
//   chargegate stats [--interval SECONDS] [--once]
// Each takes --url (default http://127.0.0.1:<PORT or 8080>) and --admin-token (default
// ADMIN_TOKEN), sent as `Authorization: Bearer`. Failures (unreachable, 401/403/404, an answer
// that is not the expected JSON) are one line on stderr and a non-zero exit code.
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace cg::cli {

// Where the commands' defaults come from: the PORT and ADMIN_TOKEN environment variables.
struct OpsDefaults {
    std::string url;
    std::string admin_token;
};
OpsDefaults ops_defaults_from_environment();

// Everything the operator commands were given on the command line.
struct OpsSettings {
    std::string url;
    std::string admin_token;
    std::string ca_file;
    std::string request_id;                  // status
    std::vector<std::string> redeliver_ids;  // dlq redeliver
    bool all = false;                        // dlq list --all, dlq redeliver --all
    bool json = false;                       // status --json, dlq list --json
    int limit = 50;                          // dlq list
    double interval_seconds = 2;             // stats
    bool once = false;                       // stats
};

enum class OpsCommand { kNone, kStatus, kDlqList, kDlqRedeliver, kStats };

class OpsCommands {
  public:
    // Adds `status`, `dlq` and `stats` to `app`.
    OpsCommands(CLI::App& app, OpsDefaults defaults);

    // After app.parse(): which of them was chosen, and with what.
    [[nodiscard]] OpsCommand chosen() const;
    [[nodiscard]] const OpsSettings& settings() const { return s_; }

    // Runs the chosen command and returns its exit code; nullopt when none of them was chosen.
    // Throws AdminError (one line) when the service cannot be asked.
    std::optional<int> run();

  private:
    OpsSettings s_;
    CLI::App* status_ = nullptr;
    CLI::App* dlq_list_ = nullptr;
    CLI::App* dlq_redeliver_ = nullptr;
    CLI::App* stats_ = nullptr;
};

}  // namespace cg::cli
