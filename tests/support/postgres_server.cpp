#include "support/postgres_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/tcp_probe.hpp"

namespace cg::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Changes whenever the template's initdb options change, so an old template is not reused.
constexpr const char* kTemplateFormat =
    "initdb -A trust -U postgres -E UTF8 --locale=C --wal-segsize=1 v2";

uint64_t fnv1a(const std::string& text) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::string hex(uint64_t v) {
    std::ostringstream out;
    out << std::hex << v;
    return out.str();
}

fs::path tmp_base() {
    const char* base = std::getenv("TMPDIR");
    return base && *base ? fs::path(base) : fs::path("/tmp");
}

void give_to(const fs::path& path, const std::optional<RunAs>& run_as) {
    if (run_as && ::chown(path.c_str(), run_as->uid, run_as->gid) != 0) {
        throw std::runtime_error("chown " + path.string() + " failed");
    }
}

// Holds an exclusive flock on a file for its lifetime.
class FileLock {
  public:
    explicit FileLock(const fs::path& path)
        : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600)) {
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
            throw std::runtime_error("cannot lock " + path.string());
        }
    }
    ~FileLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    int fd_;
};

// The initdb'd template for this PostgreSQL version and user, created on first use. Test
// processes run in parallel (ctest -j): a lock file makes one of them run initdb while the
// others wait, and the template appears under its final name only when complete (rename).
fs::path ensure_template(const fs::path& bindir, const std::optional<RunAs>& run_as) {
    const auto version = run_as_user({(bindir / "postgres").string(), "--version"}, std::nullopt);
    if (version.exit_code != 0) {
        throw std::runtime_error("postgres --version failed: " + version.err);
    }
    const std::string key = hex(fnv1a(version.out + kTemplateFormat));
    const fs::path path =
        tmp_base() / ("chargegate-pg-template-" + std::to_string(::geteuid()) + "-" + key);
    if (fs::exists(path / "PG_VERSION")) return path;
    const FileLock lock(fs::path(path.string() + ".lock"));
    if (fs::exists(path / "PG_VERSION")) return path;
    const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    fs::permissions(tmp, fs::perms::owner_all, fs::perm_options::replace);
    give_to(tmp, run_as);
    const auto r = run_as_user({(bindir / "initdb").string(), "-D", tmp.string(), "-U", "postgres",
                                "-A", "trust", "-E", "UTF8", "--locale=C", "--no-instructions",
                                // 1 MiB WAL segments instead of 16: less to copy per server.
                                "--wal-segsize=1"},
                               run_as, std::chrono::seconds(120));
    if (r.exit_code != 0) {
        fs::remove_all(tmp);
        throw std::runtime_error("initdb failed (" + std::to_string(r.exit_code) + "): " + r.err +
                                 r.out);
    }
    fs::rename(tmp, path);
    return path;
}

// postgres -c settings of every test server.
constexpr const char* kServerSettings[] = {
    "listen_addresses=127.0.0.1",
    // PostgreSQL's defaults, stated: a commit is on disk before it is acknowledged.
    "fsync=on",
    "synchronous_commit=on",
    "full_page_writes=on",
    // Several service processes with connection pools share one server.
    "max_connections=200",
    "shared_buffers=32MB",
    "logging_collector=off",
};

// The ReadyForQuery message a server sends when a session is ready: 'Z', length 5, 'I'.
constexpr std::string_view kReadyForQuery("Z\0\0\0\x05", 5);

// A protocol-3.0 startup message for user and database `postgres`, followed by Terminate, so
// the probe's session ends cleanly (no "unexpected EOF" lines in the server log).
std::string startup_and_terminate() {
    std::string params("user\0postgres\0database\0postgres\0\0", 33);
    std::string msg;
    const auto put32 = [&msg](uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) msg.push_back(static_cast<char>(v >> shift));
    };
    put32(static_cast<uint32_t>(8 + params.size()));
    put32(196608);  // protocol 3.0
    msg += params;
    msg.push_back('X');
    put32(4);
    return msg;
}

std::string process_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return {};
    std::istringstream rest(stat.substr(paren + 1));
    std::string state;
    rest >> state;
    return state;
}

}  // namespace

fs::path PostgresServer::bindir() {
    if (const char* dir = std::getenv("CG_PG_BINDIR"); dir && *dir) return dir;
    const fs::path root = "/usr/lib/postgresql";
    if (fs::exists(root / "15" / "bin" / "postgres")) return root / "15" / "bin";
    std::vector<int> versions;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
            fs::exists(entry.path() / "bin" / "postgres")) {
            versions.push_back(std::stoi(name));
        }
    }
    if (versions.empty()) {
        throw std::runtime_error("PostgreSQL server binaries not found under " + root.string() +
                                 " (Debian package postgresql; or set CG_PG_BINDIR)");
    }
    return root / std::to_string(*std::max_element(versions.begin(), versions.end())) / "bin";
}

PostgresServer::PostgresServer() : bindir_(bindir()) {
    if (::geteuid() == 0) {
        run_as_ = lookup_user("postgres");
        if (!run_as_) {
            throw std::runtime_error(
                "running as root, but there is no `postgres` user to run "
                "PostgreSQL as (Debian package postgresql creates it)");
        }
    }
    // Backends of a killed postmaster are re-parented; as a subreaper this process inherits
    // and reaps them instead of leaving zombies with an init that may not reap.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    const fs::path tmpl = ensure_template(bindir_, run_as_);
    give_to(dir_.path(), run_as_);
    // cp -a keeps the owner (postgres) and the 0700 mode postgres insists on.
    const auto r = run_as_user({"/bin/cp", "-a", tmpl.string(), (dir_.path() / "data").string()},
                               std::nullopt);
    if (r.exit_code != 0) throw std::runtime_error("copying the template failed: " + r.err);
    fs::create_directories(dir_.path() / "sock");
    give_to(dir_.path() / "sock", run_as_);
}

PostgresServer::~PostgresServer() {
    try {
        if (pid_ > 0) stop();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
}

std::string PostgresServer::log() const {
    std::ifstream in(dir_.path() / "postgres.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool PostgresServer::accepting() const {
    if (port_ == 0) return false;
    const auto reply =
        tcp_exchange(port_, startup_and_terminate(), kReadyForQuery, std::chrono::seconds(2));
    // 'R' AuthenticationOk first; a server starting up or recovering answers 'E' and closes.
    return reply.starts_with('R') && reply.find(kReadyForQuery) != std::string::npos;
}

bool PostgresServer::try_start(std::chrono::milliseconds timeout) {
    SpawnSpec spec;
    spec.argv = {(bindir_ / "postgres").string(),
                 "-D",
                 (dir_.path() / "data").string(),
                 "-p",
                 std::to_string(port_),
                 "-c",
                 "unix_socket_directories=" + (dir_.path() / "sock").string()};
    for (const char* setting : kServerSettings) {
        spec.argv.emplace_back("-c");
        spec.argv.emplace_back(setting);
    }
    spec.env = {{"LC_ALL", "C"}, {"TZ", "UTC"}};
    spec.log_path = (dir_.path() / "postgres.log").string();
    spec.run_as = run_as_;
    pid_ = spawn_child(spec);
    const auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
        if (wait_child(pid_, std::chrono::milliseconds(0)) != -1) {
            pid_ = -1;
            return false;
        }
        if (accepting()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill9();
    throw std::runtime_error("postgres did not accept connections within " +
                             std::to_string(timeout.count()) + " ms:\n" + log());
}

void PostgresServer::start() {
    if (pid_ > 0) return;
    const bool fixed_port = port_ != 0;
    for (int attempt = 0; attempt < 5; ++attempt) {
        if (!fixed_port) port_ = free_port();
        if (try_start(std::chrono::seconds(60))) return;
        if (fixed_port) break;
    }
    throw std::runtime_error("postgres did not start:\n" + log());
}

void PostgresServer::kill9() {
    if (pid_ <= 0) return;
    // Stop the postmaster first so it forks no backend between the listing and the kill, then
    // kill it and every backend: a surviving backend would keep the shared memory attached and
    // the next postmaster would refuse to start.
    ::kill(pid_, SIGSTOP);
    const auto stop_deadline = Clock::now() + std::chrono::seconds(5);
    while (process_state(pid_) != "T" && Clock::now() < stop_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto backends = children_of(pid_);
    kill_child(pid_);
    pid_ = -1;
    for (const pid_t b : backends) ::kill(b, SIGKILL);
    const auto end = Clock::now() + std::chrono::seconds(10);
    for (const pid_t b : backends) {
        while (Clock::now() < end) {
            int status = 0;
            if (::waitpid(b, &status, WNOHANG) == b || !process_alive(b)) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        int status = 0;
        ::waitpid(b, &status, WNOHANG);  // reap it if it has become our child since
    }
}

void PostgresServer::restart() {
    if (pid_ > 0) stop();
    start();
}

void PostgresServer::stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGINT);  // fast shutdown
    if (wait_child(pid_, std::chrono::seconds(20)) != -1) {
        pid_ = -1;
        return;
    }
    kill9();
}

CommandResult PostgresServer::psql(const std::string& dbname, const std::string& sql) const {
    return run_as_user(
        {(bindir_ / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
         "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", "-d", dbname, "-c", sql},
        std::nullopt, std::chrono::seconds(30));
}

void PostgresServer::create_database(const std::string& name) {
    const auto r = run_as_user({(bindir_ / "createdb").string(), "-h", "127.0.0.1", "-p",
                                std::to_string(port_), "-U", "postgres", name},
                               std::nullopt, std::chrono::seconds(30));
    if (r.exit_code != 0) {
        throw std::runtime_error("createdb " + name + " failed (" + std::to_string(r.exit_code) +
                                 "): " + r.err);
    }
}

}  // namespace cg::test
