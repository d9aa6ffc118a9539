#pragma once
// Runs the real chargegate binary for integration tests.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace cg::test {

using Env = std::map<std::string, std::string>;

struct CommandResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs the binary with `args` and `env` (plus PATH) to completion, killing it after `timeout`.
CommandResult run_command(const std::string& binary, const std::vector<std::string>& args,
                          const Env& env,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

class ServiceProcess {
  public:
    // Starts `binary serve` with `env`; stderr and stdout go to `log_path`.
    ServiceProcess(std::string binary, Env env, std::string log_path);
    ~ServiceProcess();
    ServiceProcess(const ServiceProcess&) = delete;
    ServiceProcess& operator=(const ServiceProcess&) = delete;

    void start();
    // The service serves HTTPS (TLS_CERT_FILE): base_url() is https:// and wait_ready() verifies
    // the server against `ca_file`. Call before start().
    void use_tls(std::string ca_file) { tls_ca_file_ = std::move(ca_file); }
    // Starts the binary through `launcher` (an absolute path and its arguments, e.g.
    // {"/usr/bin/prlimit", "--nofile=256:256"}), which execs `binary serve`. Call before start();
    // pid() is then the launcher's, which is the service once it has exec'd.
    void launch_with(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }
    // Polls GET /health/ready until 200; false on timeout or if the process exited.
    bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(15));
    void kill9();
    void terminate();
    // Exit code, or -1 on timeout (the process is then killed), or 128+signal.
    int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    [[nodiscard]] bool running() const { return pid_ > 0; }
    // The process id while running, else -1 (e.g. to sample /proc/<pid>/status).
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] std::string base_url() const;
    [[nodiscard]] std::string log() const;

  private:
    std::string binary_;
    Env env_;
    std::string log_path_;
    std::string tls_ca_file_;  // empty: plain HTTP
    std::vector<std::string> launcher_;
    pid_t pid_ = -1;
};

}  // namespace cg::test
