#include "support/child_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cg::test {

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Closes every descriptor from 3 up, so no socket or file of the test process leaks into a
// server that may outlive it (a leaked listening socket would keep a port bound).
void close_inherited_fds() {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
    const long max_fd = ::sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max_fd > 0 ? max_fd : 1024); ++fd) ::close(static_cast<int>(fd));
}

}  // namespace

std::optional<RunAs> lookup_user(const std::string& name) {
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found) {
        return std::nullopt;
    }
    return RunAs{pw.pw_uid, pw.pw_gid};
}

pid_t spawn_child(const SpawnSpec& spec) {
    if (spec.argv.empty()) throw std::runtime_error("spawn_child: empty argv");
    // Everything the child needs is prepared before fork: between fork and exec only
    // async-signal-safe calls are allowed (the test process has other threads).
    std::vector<std::string> argv_s = spec.argv;
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    if (const char* path = std::getenv("PATH"); path && !spec.env.contains("PATH")) {
        env_s.push_back(std::string("PATH=") + path);
    }
    for (const auto& [k, v] : spec.env) env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    const std::string out_path = spec.log_path.empty() ? "/dev/null" : spec.log_path;
    const std::string err_path = spec.err_path.empty() ? out_path : spec.err_path;
    const bool switch_user = spec.run_as.has_value();
    const RunAs user = spec.run_as.value_or(RunAs{});

    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        const int in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        const int err = err_path == out_path
                            ? out
                            : ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0 || err < 0) ::_exit(126);
        ::dup2(in, 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        close_inherited_fds();
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        if (::chdir("/") != 0) ::_exit(126);
        if (switch_user) {
            if (::setgroups(1, &user.gid) != 0 || ::setgid(user.gid) != 0 ||
                ::setuid(user.uid) != 0) {
                constexpr char kMsg[] = "spawn_child: cannot switch user\n";
                [[maybe_unused]] auto n = ::write(2, kMsg, sizeof(kMsg) - 1);
                ::_exit(126);
            }
        }
        ::execve(argv[0], argv.data(), envp.data());
        constexpr char kMsg[] = "spawn_child: exec failed\n";
        [[maybe_unused]] auto n = ::write(2, kMsg, sizeof(kMsg) - 1);
        ::_exit(127);
    }
    return pid;
}

int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return -1;
        }
        if (r < 0) return -1;  // not our child (or already reaped)
        if (std::chrono::steady_clock::now() >= end) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void kill_child(pid_t pid) {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
}

CommandResult run_as_user(const std::vector<std::string>& argv, const std::optional<RunAs>& run_as,
                          std::chrono::milliseconds timeout) {
    char out_t[] = "/tmp/cg-cmd-out-XXXXXX";
    char err_t[] = "/tmp/cg-cmd-err-XXXXXX";
    ::close(::mkstemp(out_t));
    ::close(::mkstemp(err_t));
    SpawnSpec spec;
    spec.argv = argv;
    spec.env = {{"LC_ALL", "C"}};
    spec.log_path = out_t;
    spec.err_path = err_t;
    spec.run_as = run_as;
    CommandResult r;
    const pid_t pid = spawn_child(spec);
    r.exit_code = wait_child(pid, timeout);
    if (r.exit_code == -1) kill_child(pid);
    r.out = slurp(out_t);
    r.err = slurp(err_t);
    ::unlink(out_t);
    ::unlink(err_t);
    return r;
}

std::vector<pid_t> children_of(pid_t pid) {
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses,
        // so the fields are read after the last ')'.
        const std::string stat = slurp(entry.path().string() + "/stat");
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos) continue;
        std::istringstream rest(stat.substr(paren + 1));
        std::string state;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid == pid) out.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return out;
}

bool process_alive(pid_t pid) {
    const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) return false;
    std::istringstream rest(stat.substr(paren + 1));
    std::string state;
    rest >> state;
    return state != "Z" && state != "X";
}

}  // namespace cg::test
