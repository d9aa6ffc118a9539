#include "cli/commands.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "app/application.hpp"
#include "app/backends.hpp"
#include "cli/acl_import_command.hpp"
#include "cli/client_commands.hpp"
#include "cli/ops_commands.hpp"
#include "config/config.hpp"
#include "loadtest/loadtest.hpp"

namespace cg::cli {

namespace {

config::Config load_config(const std::string& config_file, const std::string& data_dir) {
    std::map<std::string, std::string> file_values;
    if (!config_file.empty()) file_values = config::read_config_file(config_file);
    auto env = config::environment();
    if (!data_dir.empty()) env["DATA_DIR"] = data_dir;  // the flag beats the environment
    return config::load(file_values, env);
}

std::string read_whole_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int run_loadtest_command(loadtest::LoadOptions load, const std::string& url,
                         const std::string& tokens_file, const std::string& json_path, bool quiet) {
    // http://host:port only: the generator speaks plain HTTP/1.1 to one address.
    constexpr std::string_view kScheme = "http://";
    if (url.rfind(kScheme, 0) != 0) throw std::runtime_error("--url must be http://host:port");
    std::string hostport = url.substr(kScheme.size());
    if (const auto slash = hostport.find('/'); slash != std::string::npos) hostport.resize(slash);
    const auto colon = hostport.rfind(':');
    load.host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
    if (colon != std::string::npos) {
        const int port = std::atoi(hostport.substr(colon + 1).c_str());
        if (port < 1 || port > 65535) throw std::runtime_error("--url has an invalid port");
        load.port = static_cast<uint16_t>(port);
    } else {
        load.port = 80;
    }
    if (load.host == "localhost") load.host = "127.0.0.1";
    // A host name (e.g. a compose service) is resolved once here: the generator's connections
    // all go to that one address (which the Host header then names).
    boost::system::error_code ec;
    boost::asio::ip::make_address(load.host, ec);
    if (ec) {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::resolver resolver(ioc);
        const auto found = resolver.resolve(load.host, std::to_string(load.port), ec);
        if (ec || found.empty()) {
            throw std::runtime_error("--url: cannot resolve " + load.host + ": " + ec.message());
        }
        load.host = found.begin()->endpoint().address().to_string();
    }
    if (!tokens_file.empty()) {
        std::istringstream in(read_whole_file(tokens_file));
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) load.tokens.push_back(line);
        }
        if (load.tokens.empty()) throw std::runtime_error(tokens_file + ": no tokens");
    }
    load.progress = !quiet;
    const auto report = loadtest::run_loadtest(load);
    std::fputs(loadtest::format_table(report).c_str(), stdout);
    if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << loadtest::to_json(report) << "\n";
        if (!out) throw std::runtime_error(json_path + ": cannot be written");
    }
    return 0;
}

// A usage error: one `chargegate: error: ...` line on stderr and exit code 2, the convention of
// getopt-based tools (CLI11's own codes, 105-109, would tell a script nothing it can rely on).
// --help and --version are not errors: CLI11 prints them and exits 0.
int usage_error(CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::string commands;
    bool known = false;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        if (!commands.empty()) commands += ", ";
        commands += sub->get_name();
        if (argc > 1 && sub->get_name() == argv[1]) known = true;
    }
    if (argc > 1 && argv[1][0] != '-' && !known) {
        std::fprintf(stderr, "chargegate: error: unknown command '%s' (commands: %s; see --help)\n",
                     argv[1], commands.c_str());
    } else {
        std::string message = e.what();  // one line, whatever CLI11 put in it
        std::replace(message.begin(), message.end(), '\n', ' ');
        std::fprintf(stderr, "chargegate: error: %s (see --help)\n", message.c_str());
    }
    return 2;
}

}  // namespace

int run(int argc, char** argv) {
    CLI::App app{
        "chargegate: starts EV-charging sessions asynchronously: accept, store durably, "
        "authorize, deliver a signed callback.\nSettings come from environment variables "
        "(see README) and an optional --config file of KEY=VALUE lines; the environment wins."};
    app.set_version_flag("--version", std::string("chargegate ") + CG_VERSION);
    app.require_subcommand(1);

    std::string config_file;
    std::string data_dir;

    auto* serve = app.add_subcommand(
        "serve",
        "Run the service (HTTP API, workers, callback delivery) with the embedded store "
        "in DATA_DIR, or in cluster mode over PostgreSQL and Redis when DATABASE_URL and "
        "REDIS_URL are set (ROLE picks api, worker or all). SIGTERM/SIGINT drain and exit 0.");
    serve->add_option("-c,--config", config_file, "KEY=VALUE settings file")
        ->check(CLI::ExistingFile);
    serve->add_option("--data-dir", data_dir, "Overrides DATA_DIR");

    auto* migrate = app.add_subcommand(
        "migrate",
        "Create or upgrade the store's schema, then exit: the embedded store in DATA_DIR, or the "
        "PostgreSQL database of DATABASE_URL in cluster mode (safe from several instances at "
        "once).");
    migrate->add_option("-c,--config", config_file, "KEY=VALUE settings file")
        ->check(CLI::ExistingFile);
    migrate->add_option("--data-dir", data_dir, "Overrides DATA_DIR");

    auto* acl = app.add_subcommand("acl", "Manage the local authorization list offline.");
    acl->require_subcommand(1);
    std::string import_path;
    std::string import_format;
    auto* import = acl->add_subcommand(
        "import",
        "Add or replace ACL entries from a CSV file (header driver_token,status,stations,"
        "expires_at; stations separated by ';', empty = every station) or a JSON array of "
        "{driver_token,status,stations,expires_at}. All rows are checked before any is written.");
    import->add_option("file", import_path, "CSV or JSON file")
        ->required()
        ->check(CLI::ExistingFile);
    import->add_option("--format", import_format, "csv or json (default: from the file name)")
        ->check(CLI::IsMember({"csv", "json"}));
    import->add_option("-c,--config", config_file, "KEY=VALUE settings file")
        ->check(CLI::ExistingFile);
    import->add_option("--data-dir", data_dir, "Overrides DATA_DIR");
    bool no_progress = false;
    import->add_flag("--no-progress", no_progress,
                     "No progress bar on stderr (shown in place on a terminal, else a line every "
                     "10%)");

    // Store options shared by the credential commands.
    auto store_options = [&](CLI::App* cmd) {
        cmd->add_option("-c,--config", config_file, "KEY=VALUE settings file")
            ->check(CLI::ExistingFile);
        cmd->add_option("--data-dir", data_dir, "Overrides DATA_DIR");
    };
    auto* api_key = app.add_subcommand(
        "api-key",
        "Manage API keys for the public API (API_AUTH=on). Keys are stored hashed; a running "
        "service applies changes within API_KEYS_REFRESH_MS.");
    api_key->require_subcommand(1);
    std::string client_id;
    std::string key_label;
    std::string key_id;
    auto* key_create = api_key->add_subcommand(
        "create", "Create a key for a client and print it (shown this once only).");
    key_create->add_option("--client", client_id, "Client id the key speaks for")->required();
    key_create->add_option("--label", key_label, "Free text shown by list");
    store_options(key_create);
    auto* key_list = api_key->add_subcommand("list", "List keys (never their secrets).");
    store_options(key_list);
    auto* key_revoke = api_key->add_subcommand("revoke", "Revoke a key by its id.");
    key_revoke->add_option("key_id", key_id, "The key's id (from create or list)")->required();
    store_options(key_revoke);

    auto* secrets_cmd = app.add_subcommand(
        "client-secrets",
        "Manage a client's own webhook signing secrets (used instead of "
        "CALLBACK_SIGNING_SECRET for its callbacks; every secret signs, for rotation).");
    secrets_cmd->require_subcommand(1);
    std::vector<std::string> secrets;
    auto* secrets_set =
        secrets_cmd->add_subcommand("set", "Replace the client's secrets with the given ones.");
    secrets_set->add_option("--client", client_id, "Client id")->required();
    secrets_set->add_option("secrets", secrets, "whsec_<base64> secrets")->required();
    store_options(secrets_set);
    auto* secrets_clear = secrets_cmd->add_subcommand("clear", "Remove the client's secrets.");
    secrets_clear->add_option("--client", client_id, "Client id")->required();
    store_options(secrets_clear);
    auto* secrets_list = secrets_cmd->add_subcommand(
        "list", "List clients with their own secrets (how many, never the secrets).");
    store_options(secrets_list);

    loadtest::LoadOptions load;
    std::string load_url = "http://127.0.0.1:8080";
    std::string load_json;
    std::string load_tokens_file;
    bool quiet = false;
    auto* lt = app.add_subcommand(
        "loadtest",
        "Send charging-session requests to a running chargegate and report accept and "
        "end-to-end latency. A built-in receiver answers the callbacks. Closed loop by "
        "default (--connections as fast as possible); open loop with --rate (latency counted "
        "from when each request was due, so queueing is not hidden).");
    lt->add_option("--url", load_url, "Service base URL (http://host:port)");
    lt->add_option("-c,--connections", load.connections, "Keep-alive connections")
        ->check(CLI::Range(1, 100000));
    lt->add_option("-t,--threads", load.threads, "Client event-loop threads")
        ->check(CLI::Range(1, 256));
    lt->add_option("-d,--duration", load.duration_s, "Measured seconds")
        ->check(CLI::PositiveNumber);
    lt->add_option("-n,--requests", load.requests,
                   "Stop after sending this many requests, warm-up included (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    lt->add_option("--warmup", load.warmup_s, "Seconds sent before measuring")
        ->check(CLI::NonNegativeNumber);
    lt->add_option("-r,--rate", load.rate, "Open loop: requests per second in total (0: closed)")
        ->check(CLI::NonNegativeNumber);
    lt->add_option("--receiver-host", load.receiver_host,
                   "Host the service uses to reach the built-in receiver");
    lt->add_option("--receiver-port", load.receiver_port, "Receiver port (0: any free port)");
    auto* receiver_delay =
        lt->add_option("--receiver-delay-ms", load.receiver_delay_ms,
                       "The built-in receiver answers each callback this many ms after reading it")
            ->check(CLI::NonNegativeNumber);
    auto* receiver_capacity =
        lt->add_option(
              "--receiver-capacity", load.receiver_capacity,
              "Built-in receiver with this many workers (0: unlimited): each callback takes "
              "--receiver-delay-ms (1 ms if 0), the rest wait in FIFO order")
            ->check(CLI::Range(0, 1000000));
    lt->add_option("--callback-url", load.callback_url,
                   "Send callbacks to this external receiver (?t=<steady ns> appended) instead "
                   "of the built-in one; callback counts are then unknown")
        ->excludes(receiver_delay)
        ->excludes(receiver_capacity);
    lt->add_option("--drain", load.drain_s, "Seconds to wait for outstanding callbacks")
        ->check(CLI::NonNegativeNumber);
    lt->add_option("--tokens", load_tokens_file, "File with one driver token per line")
        ->check(CLI::ExistingFile);
    lt->add_option("--token-count", load.token_count, "Generated tokens when --tokens is absent")
        ->check(CLI::Range(1, 10000000));
    lt->add_option("--stations", load.station_count, "Distinct random station ids")
        ->check(CLI::Range(1, 10000000));
    lt->add_flag("--seed-acl", load.seed_acl, "Allow every token in the ACL before the run");
    lt->add_option("--admin-token", load.admin_token, "Bearer token for --seed-acl");
    lt->add_option("--api-key", load.api_key, "API key for a service with API_AUTH=on");
    lt->add_option("--json", load_json, "Also write the results as JSON to this file");
    lt->add_flag("-q,--quiet", quiet, "No progress lines");

    // status, dlq, stats: clients of a running service's admin API.
    OpsCommands ops(app, ops_defaults_from_environment());

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return usage_error(app, e, argc, argv);
    }

    try {
        if (lt->parsed())
            return run_loadtest_command(load, load_url, load_tokens_file, load_json, quiet);
        if (const auto code = ops.run()) return *code;
        const auto cfg = load_config(config_file, data_dir);
        if (serve->parsed()) return app::serve(cfg);
        if (migrate->parsed()) {
            std::printf("%s\n", app::migrate(cfg).c_str());
            return 0;
        }
        if (import->parsed()) {
            return import_acl(cfg, import_path, import_format,
                              progress_mode_for(STDERR_FILENO, no_progress));
        }
        if (key_create->parsed()) return create_api_key(cfg, client_id, key_label);
        if (key_list->parsed()) return list_api_keys(cfg);
        if (key_revoke->parsed()) return revoke_api_key(cfg, key_id);
        if (secrets_set->parsed()) return set_client_secrets(cfg, client_id, secrets);
        if (secrets_clear->parsed()) return clear_client_secrets(cfg, client_id);
        if (secrets_list->parsed()) return list_client_secrets(cfg);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chargegate: error: %s\n", e.what());
        return 1;
    }
    return 2;
}

}  // namespace cg::cli
