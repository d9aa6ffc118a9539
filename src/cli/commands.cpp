#include "cli/commands.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include "app/application.hpp"
#include "cli/acl_import.hpp"
#include "common/clock.hpp"
#include "config/config.hpp"
#include "obs/log.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace cg::cli {

namespace {

config::Config load_config(const std::string& config_file, const std::string& data_dir) {
    std::map<std::string, std::string> file_values;
    if (!config_file.empty()) file_values = config::read_config_file(config_file);
    auto env = config::environment();
    if (!data_dir.empty()) env["DATA_DIR"] = data_dir;  // the flag beats the environment
    return config::load(file_values, env);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int import_acl(const config::Config& cfg, const std::string& path, const std::string& format) {
    SystemClock clock;
    const auto started = std::chrono::steady_clock::now();
    const std::string text = read_file(path);
    auto entries = acl_format_for(path, format) == AclFormat::kCsv
                       ? parse_acl_csv(text, clock.now_ms())
                       : parse_acl_json(text, clock.now_ms());
    obs::init_logging(config::LogLevel::kWarn);
    store::sqlite::SqliteOptions options;
    options.data_dir = cfg.data_dir;
    auto store = store::sqlite::open_sqlite_store(options, nullptr);
    // Chunks keep each transaction (and the writer's memory) bounded on very large files.
    constexpr size_t kChunk = 50'000;
    size_t done = 0;
    while (done < entries.size()) {
        const size_t n = std::min(kChunk, entries.size() - done);
        std::vector<store::AclEntry> chunk(std::make_move_iterator(entries.begin() + done),
                                           std::make_move_iterator(entries.begin() + done + n));
        std::promise<store::WriteStatus> result;
        store->put_acl_bulk(std::move(chunk),
                            [&result](store::WriteStatus s) { result.set_value(s); });
        if (result.get_future().get() != store::WriteStatus::kOk) {
            store->close();
            throw std::runtime_error("writing to the store in " + cfg.data_dir + " failed after " +
                                     std::to_string(done) + " entries");
        }
        done += n;
        if (entries.size() > kChunk) {
            std::fprintf(stderr, "\rimported %zu/%zu", done, entries.size());
        }
    }
    store->close();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (entries.size() > kChunk) std::fprintf(stderr, "\n");
    std::printf("imported %zu ACL entries into %s in %.2f s\n", entries.size(),
                cfg.data_dir.c_str(), secs);
    return 0;
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
        "in DATA_DIR. SIGTERM/SIGINT drain and exit 0.");
    serve->add_option("-c,--config", config_file, "KEY=VALUE settings file")
        ->check(CLI::ExistingFile);
    serve->add_option("--data-dir", data_dir, "Overrides DATA_DIR");

    auto* migrate = app.add_subcommand(
        "migrate", "Create or upgrade the embedded store's schema in DATA_DIR, then exit.");
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    try {
        const auto cfg = load_config(config_file, data_dir);
        if (serve->parsed()) return app::serve(cfg);
        if (migrate->parsed()) {
            store::sqlite::migrate_sqlite(cfg.data_dir);
            std::printf("store in %s is up to date\n", cfg.data_dir.c_str());
            return 0;
        }
        if (import->parsed()) return import_acl(cfg, import_path, import_format);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chargegate: error: %s\n", e.what());
        return 1;
    }
    return 2;
}

}  // namespace cg::cli
