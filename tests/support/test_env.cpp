#include "support/test_env.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace cg::test {

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/chargegate-test-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp");
    }
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

namespace {

// Binds 127.0.0.1:`port` (0: the kernel chooses) and returns the port bound, or 0.
uint16_t try_bind(uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    socklen_t len = sizeof(addr);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    return ok ? ntohs(addr.sin_port) : 0;
}

// The lowest port of the kernel's ephemeral range (32768 when it cannot be read).
int ephemeral_low() {
    std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    if (in >> low && low > 0 && low < 65536) return low;
    return 32768;
}

// Claims `port` for this process among test processes: creates its reservation file, or takes
// over one older than ten minutes (its owner has long bound the port, or is gone).
bool reserve(const std::filesystem::path& dir, uint16_t port) {
    const auto file = dir / std::to_string(port);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
        ::close(fd);
        return true;
    }
    std::error_code ec;
    const auto written = std::filesystem::last_write_time(file, ec);
    if (ec || std::filesystem::file_time_type::clock::now() - written < std::chrono::minutes(10)) {
        return false;
    }
    std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now(), ec);
    return !ec;
}

}  // namespace

uint16_t free_port() {
    constexpr int kLowest = 10000;
    const int high = ephemeral_low();  // exclusive
    if (high - kLowest < 1000) {
        if (const uint16_t p = try_bind(0)) return p;
        throw std::system_error(errno, std::generic_category(), "bind");
    }
    const char* base = std::getenv("TMPDIR");
    const std::filesystem::path dir =
        std::filesystem::path(base && *base ? base : "/tmp") / "chargegate-test-ports";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    static std::mutex mu;
    const std::lock_guard lock(mu);
    static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
    std::uniform_int_distribution<int> pick(kLowest, high - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto port = static_cast<uint16_t>(pick(rng));
        if (try_bind(port) == port && reserve(dir, port)) return port;
    }
    throw std::runtime_error("no free loopback port below the ephemeral range after 200 tries");
}

std::string loopback_host_name() {
    std::vector<std::string> candidates;
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) == 0 && name[0] != '\0') {
        candidates.emplace_back(name.data());
    }
    candidates.emplace_back("ip6-localhost");
    for (const auto& host : candidates) {
        if (host == "localhost") continue;
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) continue;
        bool all_loopback = res != nullptr;
        for (auto* a = res; a != nullptr; a = a->ai_next) {
            if (a->ai_family == AF_INET) {
                const auto* in4 = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
                all_loopback = all_loopback && (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
            } else if (a->ai_family == AF_INET6) {
                const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
                all_loopback = all_loopback && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
            } else {
                all_loopback = false;
            }
        }
        ::freeaddrinfo(res);
        if (all_loopback) return host;
    }
    return {};
}

}  // namespace cg::test
