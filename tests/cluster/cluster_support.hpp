#pragma once
// Cluster mode under test: one real Redis, one real PostgreSQL and several chargegate processes
// (ROLE=api / worker / all), each on its own port with its own log and INSTANCE_ID.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"
#include "support/service_process.hpp"
#include "support/test_env.hpp"

namespace cg::test::cluster {

inline std::string binary() { return CG_BINARY_PATH; }

class Cluster {
  public:
    // `common`: settings every process gets on top of the cluster ones (DATABASE_URL,
    // REDIS_URL, MIGRATE_ON_START=true, CLUSTER_TAKEOVER_MS=3000, loopback, private callbacks).
    explicit Cluster(Env common = {}, RedisServer::Options redis_options = {});
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    // Starts Redis and PostgreSQL and creates the (empty) database.
    void start_backends();

    // Starts process `name` with ROLE=`role` on a free port; does not wait for readiness.
    ServiceProcess& launch(const std::string& name, const std::string& role, Env extra = {});
    // launch() and wait until /health/ready answers 200; throws if it does not.
    ServiceProcess& add(const std::string& name, const std::string& role, Env extra = {});
    // Waits until every process answers /health/ready; false if one does not in time.
    bool wait_all_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));

    ServiceProcess& process(const std::string& name) { return *processes_.at(name).process; }
    [[nodiscard]] std::string url(const std::string& name, const std::string& path) const;
    [[nodiscard]] const Env& env_of(const std::string& name) const {
        return processes_.at(name).env;
    }
    RedisServer& redis() { return redis_; }
    PostgresServer& postgres() { return postgres_; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_.path(); }
    [[nodiscard]] std::string database_url() const { return postgres_.url("chargegate"); }
    // The settings a `chargegate` command (e.g. migrate) needs to reach the backends.
    [[nodiscard]] Env command_env() const;

    // Sanitizer findings in the processes' logs ("<name>: <line>"). A sanitized service does not
    // stop at a ThreadSanitizer or UBSan report (the options of the test run are not its
    // environment), so tests look for them here.
    [[nodiscard]] std::vector<std::string> sanitizer_reports() const;

    // The end of every log (each process, Redis, PostgreSQL), for a failing test's output.
    [[nodiscard]] std::string logs(size_t bytes_each = 3000) const;

  private:
    struct Member {
        Env env;
        std::unique_ptr<ServiceProcess> process;
    };

    TempDir dir_;
    RedisServer redis_;
    PostgresServer postgres_;
    Env common_;
    std::map<std::string, Member> processes_;
};

// The sum of every sample of metric `name` in a Prometheus text exposition, whatever its
// labels; with `labels` (e.g. R"(result="delivered")") only samples that carry them.
int64_t metric_sum(const std::string& exposition, const std::string& name,
                   const std::string& labels = {});

// Established TCP connections that process `pid` holds to 127.0.0.1:`port` now (from /proc):
// which worker is talking to a receiver.
int connections_to(pid_t pid, uint16_t port);

}  // namespace cg::test::cluster
