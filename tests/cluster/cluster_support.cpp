#include "cluster/cluster_support.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"

namespace cg::test::cluster {

namespace {

std::string tail(const std::string& text, size_t bytes) {
    return text.substr(text.size() > bytes ? text.size() - bytes : 0);
}

}  // namespace

Cluster::Cluster(Env common, RedisServer::Options redis_options)
    : redis_(std::move(redis_options)), common_(std::move(common)) {}

Cluster::~Cluster() {
    // Service processes first: they are the clients of Redis and PostgreSQL.
    for (auto& [name, m] : processes_) m.process->kill9();
}

void Cluster::start_backends() {
    redis_.start();
    postgres_.start();
    postgres_.create_database("chargegate");
}

Env Cluster::command_env() const {
    return {{"DATABASE_URL", database_url()},
            {"REDIS_URL", redis_.url()},
            {"DATA_DIR", (dir_.path() / "command-data").string()},  // ignored: cluster mode
            {"LOG_LEVEL", "INFO"}};
}

ServiceProcess& Cluster::launch(const std::string& name, const std::string& role, Env extra) {
    if (processes_.contains(name)) throw std::logic_error("process " + name + " exists");
    Env env = {{"PORT", std::to_string(free_port())},
               {"BIND_ADDRESS", "127.0.0.1"},
               {"DATA_DIR", (dir_.path() / (name + "-data")).string()},  // ignored: cluster mode
               {"DATABASE_URL", database_url()},
               {"REDIS_URL", redis_.url()},
               {"ROLE", role},
               {"INSTANCE_ID", name},
               {"MIGRATE_ON_START", "true"},
               {"CLUSTER_TAKEOVER_MS", "3000"},
               {"CALLBACK_ALLOW_PRIVATE_NETWORKS", "true"},
               {"LOG_LEVEL", "INFO"},
               {"WORKERS", "2"},
               {"DRAIN_TIMEOUT_MS", "5000"}};
    for (const auto& [k, v] : common_) env[k] = v;
    for (const auto& [k, v] : extra) env[k] = v;
    auto process =
        std::make_unique<ServiceProcess>(binary(), env, (dir_.path() / (name + ".log")).string());
    process->start();
    auto& m = processes_[name];
    m.env = std::move(env);
    m.process = std::move(process);
    return *m.process;
}

ServiceProcess& Cluster::add(const std::string& name, const std::string& role, Env extra) {
    auto& p = launch(name, role, std::move(extra));
    if (!p.wait_ready(std::chrono::seconds(60))) {
        throw std::runtime_error(name + " did not become ready:\n" + tail(p.log(), 3000));
    }
    return p;
}

bool Cluster::wait_all_ready(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (auto& [name, m] : processes_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (!m.process->wait_ready(std::max(left, std::chrono::milliseconds(1)))) return false;
    }
    return true;
}

std::string Cluster::url(const std::string& name, const std::string& path) const {
    return "http://127.0.0.1:" + processes_.at(name).env.at("PORT") + path;
}

std::vector<std::string> Cluster::sanitizer_reports() const {
    std::vector<std::string> out;
    for (const auto& [name, m] : processes_) {
        std::istringstream log(m.process->log());
        std::string line;
        while (std::getline(log, line)) {
            for (const char* marker : {"ERROR: AddressSanitizer", "WARNING: ThreadSanitizer",
                                       "ERROR: LeakSanitizer", "runtime error:"}) {
                if (line.find(marker) != std::string::npos) {
                    out.push_back(name + ": " + line);
                    break;
                }
            }
        }
    }
    return out;
}

std::string Cluster::logs(size_t bytes_each) const {
    std::ostringstream out;
    for (const auto& [name, m] : processes_) {
        out << "---- " << name << " log ----\n" << tail(m.process->log(), bytes_each) << "\n";
    }
    out << "---- redis log ----\n" << tail(redis_.log(), bytes_each) << "\n";
    out << "---- postgres log ----\n" << tail(postgres_.log(), bytes_each) << "\n";
    return out.str();
}

int64_t metric_sum(const std::string& exposition, const std::string& name,
                   const std::string& labels) {
    int64_t sum = 0;
    std::istringstream in(exposition);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || !line.starts_with(name)) continue;
        const char next = line.size() > name.size() ? line[name.size()] : '\0';
        if (next != ' ' && next != '{') continue;  // another metric with this prefix
        if (!labels.empty()) {
            const auto close = line.find('}');
            if (next != '{' || close == std::string::npos ||
                line.substr(0, close).find(labels) == std::string::npos) {
                continue;
            }
        }
        const auto space = line.rfind(' ');
        sum += static_cast<int64_t>(std::stod(line.substr(space + 1)));
    }
    return sum;
}

int connections_to(pid_t pid, uint16_t port) {
    const std::string proc = "/proc/" + std::to_string(pid);
    std::set<std::string> inodes;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(proc + "/fd", ec)) {
        std::error_code link_ec;
        const auto target = std::filesystem::read_symlink(fd.path(), link_ec).string();
        if (!link_ec && target.starts_with("socket:[")) {
            inodes.insert(target.substr(8, target.size() - 9));
        }
    }
    // /proc/<pid>/net/tcp: "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...",
    // addresses as hex "0100007F:1F90"; state 01 is ESTABLISHED.
    std::ifstream table(proc + "/net/tcp");
    std::string line;
    std::getline(table, line);  // header
    int count = 0;
    char want[8];
    std::snprintf(want, sizeof(want), ":%04X", port);
    while (std::getline(table, line)) {
        std::istringstream f(line);
        std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        f >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
            inode;
        if (state == "01" && remote.ends_with(want) && inodes.contains(inode)) ++count;
    }
    return count;
}

}  // namespace cg::test::cluster
