#pragma once
// Starting and stopping the real servers tests depend on (redis-server, postgres): fork/exec
// with an optional switch to another user, so that PostgreSQL (which refuses to run as root)
// can be started from tests that run as root in CI.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/service_process.hpp"

namespace cg::test {

// A system user to run a child as.
struct RunAs {
    uid_t uid = 0;
    gid_t gid = 0;
};

// The user `name` from the password database; nullopt if there is none.
std::optional<RunAs> lookup_user(const std::string& name);

struct SpawnSpec {
    std::vector<std::string> argv;  // argv[0] is the absolute path of the binary
    Env env;                        // the whole environment of the child (PATH is added)
    std::string log_path;           // stdout (and stderr, without err_path) are appended here
    std::string err_path;           // stderr, when it is to be kept apart
    std::optional<RunAs> run_as;    // switch user in the child before exec (needs root)
};

// Starts the child; throws std::runtime_error when fork fails. An exec failure shows as exit
// code 127 of the child, with a line in its log.
pid_t spawn_child(const SpawnSpec& spec);

// Waits for `pid` to end: its exit code, 128+signal, or -1 if it is still running after
// `timeout` (it is then left running).
int wait_child(pid_t pid, std::chrono::milliseconds timeout);

// Sends SIGKILL to `pid` and reaps it.
void kill_child(pid_t pid);

// Runs a command to completion as `run_as` (or as ourselves), killing it after `timeout`.
CommandResult run_as_user(const std::vector<std::string>& argv, const std::optional<RunAs>& run_as,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Processes whose parent is `pid`, read from /proc.
std::vector<pid_t> children_of(pid_t pid);

// True while `pid` exists and is not a zombie (a zombie holds no memory, sockets or shared
// memory attachments any more).
bool process_alive(pid_t pid);

}  // namespace cg::test
