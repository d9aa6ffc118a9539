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

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
uint16_t free_port();

}  // namespace cg::test
