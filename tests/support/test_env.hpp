#pragma once
// Helpers every test may use: temporary directories and free loopback ports.
#include <cstdint>
#include <filesystem>
#include <string>

namespace cg::test {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 for a server a test is about to start.
//
// It is taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range), so no
// outgoing connection (a service's own connection to PostgreSQL, a client's socket) can be
// handed the same number between this call and the server's bind: port 0's answer is an
// ephemeral port and raced exactly that way. It was free a moment ago, and a reservation file
// under $TMPDIR/chargegate-test-ports keeps other test processes from picking it for ten
// minutes. Falls back to the kernel's choice when that range is too small.
uint16_t free_port();

// A host name (not "localhost", which curl resolves by itself) that the system resolver maps
// to loopback addresses only: the machine's own name (Debian's /etc/hosts lists it as
// 127.0.1.1) or ip6-localhost. Empty when none does. For tests of the connect-time SSRF check.
std::string loopback_host_name();

}  // namespace cg::test
