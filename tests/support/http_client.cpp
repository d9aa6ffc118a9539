#include "support/http_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <cstdlib>

#include "support/api_record.hpp"

namespace cg::test {

namespace {
size_t on_body(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    std::string line(data, size * n);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
        (*headers)[name] = value;
    }
    return size * n;
}
}  // namespace

namespace {
std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Runs one request on `e`, which keeps its connection cache between calls.
HttpResult perform(CURL* e, const std::string& method, const std::string& url,
                   const Headers& headers, const std::string& body, long timeout_ms,
                   const std::string& ca_file = {}) {
    HttpResult r;
    curl_slist* list = nullptr;
    for (const auto& [k, v] : headers) list = curl_slist_append(list, (k + ": " + v).c_str());
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOBODY, 0L);  // a reused handle may come from a HEAD
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST" || method == "PUT" || !body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, nullptr);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    // HEAD: the answer has headers only; without NOBODY libcurl would wait for the body that
    // its Content-Length announces.
    if (method == "HEAD") curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (!ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &r.headers);
    const CURLcode rc = curl_easy_perform(e);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
    } else {
        r.error = curl_easy_strerror(rc);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);
    if (r.status != 0 && std::getenv("CG_API_RECORD_DIR") != nullptr) {
        RecordedExchange x{method, url, 0, {}, r.status, r.headers, r.body};
        curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &x.port);
        for (const auto& [k, v] : headers) {
            if (lower(k) == "content-type") x.request_content_type = v;
        }
        record_exchange(x);
    }
    return r;
}
}  // namespace

HttpResult http_request(const std::string& method, const std::string& url, const Headers& headers,
                        const std::string& body, long timeout_ms, const std::string& ca_file) {
    CURL* e = curl_easy_init();
    HttpResult r = perform(e, method, url, headers, body, timeout_ms, ca_file);
    curl_easy_cleanup(e);
    return r;
}

HttpConnection::HttpConnection() : handle_(curl_easy_init()) {}

HttpConnection::~HttpConnection() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

HttpResult HttpConnection::request(const std::string& method, const std::string& url,
                                   const Headers& headers, const std::string& body,
                                   long timeout_ms) {
    return perform(static_cast<CURL*>(handle_), method, url, headers, body, timeout_ms);
}

HttpResult HttpConnection::post_json(const std::string& url, const std::string& body,
                                     Headers headers) {
    headers.emplace_back("Content-Type", "application/json");
    return request("POST", url, headers, body);
}

}  // namespace cg::test
