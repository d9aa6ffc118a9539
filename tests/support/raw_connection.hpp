#pragma once
// One raw TCP connection to a server on 127.0.0.1, for tests that must see the bytes on the wire
// (status lines, interim answers, whether a pipelined request is answered, whether the server
// closed) or hold connections open without speaking. Not thread-safe.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cg::test {

class RawConnection {
  public:
    // Connects to 127.0.0.1:`port`, from loopback address `source` when given (e.g. 127.0.0.2,
    // to look like another client).
    explicit RawConnection(uint16_t port, const char* source = nullptr);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }
    bool send(std::string_view bytes);

    // Reads until what was received so far contains `needle`, the peer closes, or `timeout`
    // passes. Returns everything received on this connection so far.
    std::string read_until(std::string_view needle,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Reads until the peer closes or `timeout` passes (closed() tells which). Returns everything
    // received on this connection so far.
    std::string read_all(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // True once the peer has closed the connection (seen by a read).
    [[nodiscard]] bool closed() const { return closed_; }
    // Everything received on this connection so far.
    [[nodiscard]] const std::string& received() const { return in_; }

    // Proves the server has admitted this connection (accept is asynchronous, so a connect()
    // that returned says nothing yet): one keep-alive GET /health/live answered with a 200.
    // Forgets that answer, so later reads start after it.
    bool admitted();

  private:
    int fd_ = -1;
    bool connected_ = false;
    bool closed_ = false;
    std::string in_;
};

}  // namespace cg::test
