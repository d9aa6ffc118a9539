#include "support/raw_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cg::test {

RawConnection::RawConnection(uint16_t port, const char* source) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    if (source != nullptr) {
        sockaddr_in src{};
        src.sin_family = AF_INET;
        ::inet_pton(AF_INET, source, &src.sin_addr);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src);
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0;
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
}

std::string RawConnection::read_until(std::string_view needle, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (in_.find(needle) == std::string::npos && !closed_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            closed_ = true;
            break;
        }
        in_.append(buf, static_cast<size_t>(n));
    }
    return in_;
}

std::string RawConnection::read_all(std::chrono::milliseconds timeout) {
    // A needle no server sends: read until the close or the timeout.
    return read_until(std::string_view("\0never\0", 7), timeout);
}

bool RawConnection::admitted() {
    if (!send("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return false;
    std::string answer = read_until("\r\n\r\n");
    const auto head_end = answer.find("\r\n\r\n");
    if (head_end == std::string::npos || !answer.starts_with("HTTP/1.1 200") || closed_) {
        return false;
    }
    // The whole answer, body included, so that no part of it is read later as another one.
    size_t length = 0;
    if (const auto at = answer.find("\r\nContent-Length: ");
        at != std::string::npos && at < head_end) {
        length = std::stoul(answer.substr(at + 18));
    }
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (in_.size() < head_end + 4 + length && !closed_ &&
           std::chrono::steady_clock::now() < end) {
        read_until(std::string_view("\0never\0", 7), std::chrono::milliseconds(100));
    }
    const bool whole = in_.size() >= head_end + 4 + length;
    in_.erase(0, head_end + 4 + length);
    return whole && !closed_;
}

}  // namespace cg::test
