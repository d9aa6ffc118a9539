#include "support/api_record.hpp"

#include <unistd.h>

#include <boost/json.hpp>
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
    boost::json::object headers;
    for (const auto& [k, v] : x.response_headers) headers[k] = v;
    boost::json::object o;
    o["method"] = x.method;
    o["url"] = x.url;
    o["target"] = target_of(x.url);
    o["request_content_type"] = x.request_content_type;
    o["port"] = x.port;
    o["status"] = x.status;
    o["headers"] = std::move(headers);
    o["body"] = x.response_body;
    std::string line = boost::json::serialize(o);
    line += '\n';

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
