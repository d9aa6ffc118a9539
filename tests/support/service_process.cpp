#include "support/service_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/api_record.hpp"
#include "support/http_client.hpp"

extern char** environ;

namespace cg::test {

namespace {

std::vector<std::string> env_strings(const Env& env) {
    std::vector<std::string> out;
    if (const char* path = std::getenv("PATH")) out.push_back(std::string("PATH=") + path);
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

pid_t spawn(const std::string& binary, const std::vector<std::string>& args, const Env& env,
            const std::string& out_path, const std::string& err_path) {
    std::vector<std::string> argv_s{binary};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    auto envs = env_strings(env);
    std::vector<char*> envp;
    for (auto& s : envs) envp.push_back(s.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn failed for " + binary);
    return pid;
}

int wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return -1;
        }
        if (std::chrono::steady_clock::now() >= end) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string read_whole_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const Env& env, std::chrono::milliseconds timeout) {
    char out_t[] = "/tmp/cg-cmd-out-XXXXXX";
    char err_t[] = "/tmp/cg-cmd-err-XXXXXX";
    ::close(mkstemp(out_t));
    ::close(mkstemp(err_t));
    CommandResult r;
    const pid_t pid = spawn(binary, args, env, out_t, err_t);
    r.exit_code = wait_pid(pid, timeout);
    r.out = read_whole_file(out_t);
    r.err = read_whole_file(err_t);
    ::unlink(out_t);
    ::unlink(err_t);
    return r;
}

ServiceProcess::ServiceProcess(std::string binary, Env env, std::string log_path)
    : binary_(std::move(binary)), env_(std::move(env)), log_path_(std::move(log_path)) {}

ServiceProcess::~ServiceProcess() {
    if (pid_ > 0) kill9();
}

void ServiceProcess::start() {
    if (const auto it = env_.find("PORT"); it != env_.end()) {
        note_service_port(static_cast<uint16_t>(std::stoul(it->second)));
    }
    if (launcher_.empty()) {
        pid_ = spawn(binary_, {"serve"}, env_, log_path_, log_path_);
        return;
    }
    std::vector<std::string> args(launcher_.begin() + 1, launcher_.end());
    args.push_back(binary_);
    args.emplace_back("serve");
    pid_ = spawn(launcher_.front(), args, env_, log_path_, log_path_);
}

std::string ServiceProcess::base_url() const {
    return (tls_ca_file_.empty() ? "http://127.0.0.1:" : "https://127.0.0.1:") + env_.at("PORT");
}

bool ServiceProcess::wait_ready(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        int status = 0;
        if (pid_ <= 0 || ::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        if (http_request("GET", base_url() + "/health/ready", {}, {}, 500, tls_ca_file_).status ==
            200) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

void ServiceProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

void ServiceProcess::terminate() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
}

int ServiceProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (pid_ <= 0) return -1;
    const int code = wait_pid(pid_, timeout);
    pid_ = -1;
    return code;
}

std::string ServiceProcess::log() const { return read_whole_file(log_path_); }

}  // namespace cg::test
