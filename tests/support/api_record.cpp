#include "support/api_record.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

namespace cg::test {

namespace {

std::mutex& record_mutex() {
    static std::mutex mu;
    return mu;
}

std::set<long>& service_ports() {  // guarded by record_mutex()
    static std::set<long> ports;
    return ports;
}

// A JSON string literal; bytes >= 0x80 pass through (the reader decodes UTF-8 leniently).
void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
}

void append_field(std::string& out, const char* name, const std::string& value) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name);
    out += ':';
    append_json_string(out, value);
}

// The path and query of a URL: from the first '/' after "scheme://".
std::string target_of(const std::string& url) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
}

}  // namespace

void note_service_port(uint16_t port) {
    std::lock_guard lock(record_mutex());
    service_ports().insert(port);
}

void record_exchange(const RecordedExchange& x) {
    const char* dir = std::getenv("CG_API_RECORD_DIR");
    if (dir == nullptr || *dir == '\0' || x.status == 0) return;
    std::string line = "{";
    append_field(line, "method", x.method);
    append_field(line, "url", x.url);
    append_field(line, "target", target_of(x.url));
    append_field(line, "request_content_type", x.request_content_type);
    line += ",\"port\":" + std::to_string(x.port);
    line += ",\"status\":" + std::to_string(x.status);
    line += ",\"headers\":{";
    bool first = true;
    for (const auto& [k, v] : x.response_headers) {
        if (!first) line += ',';
        first = false;
        append_json_string(line, k);
        line += ':';
        append_json_string(line, v);
    }
    line += '}';
    append_field(line, "body", x.response_body);
    line += "}\n";

    std::lock_guard lock(record_mutex());
    if (service_ports().count(x.port) == 0) return;
    const std::string path =
        std::string(dir) + "/exchanges-" + std::to_string(::getpid()) + ".jsonl";
    if (FILE* f = std::fopen(path.c_str(), "a")) {
        std::fwrite(line.data(), 1, line.size(), f);
        std::fclose(f);
    }
}

}  // namespace cg::test
