#include "cli/admin_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <cstdlib>

namespace cg::cli {

namespace {

// libcurl needs one global initialisation per process.
void global_init() {
    static const bool ok = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    if (!ok) throw AdminError("libcurl could not be initialised");
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* cancelled = static_cast<const std::function<bool()>*>(user);
    return *cancelled && (*cancelled)() ? 1 : 0;
}

// The service's own message from an error-shaped body, or empty.
std::string message_of(const std::string& body) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return {};
    const auto* m = v.as_object().if_contains("message");
    return m != nullptr && m->is_string() ? std::string(m->as_string()) : std::string();
}

}  // namespace

std::string default_admin_url(const char* port_env) {
    std::string port = "8080";
    if (port_env != nullptr && *port_env != '\0') port = port_env;
    return "http://127.0.0.1:" + port;
}

std::string escape_path_segment(std::string_view segment) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(segment.size());
    for (const char c : segment) {
        const auto u = static_cast<unsigned char>(c);
        const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
                                (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' ||
                                c == '~';
        if (unreserved) {
            out += c;
        } else {
            out += '%';
            out += kHex[u >> 4];
            out += kHex[u & 0xF];
        }
    }
    return out;
}

std::string describe_http_failure(long status, const std::string& body) {
    std::string what = "HTTP " + std::to_string(status);
    switch (status) {
        case 401:
            what +=
                " Unauthorized: the admin token is missing or wrong (--admin-token or "
                "ADMIN_TOKEN)";
            break;
        case 403:
            what += " Forbidden";
            break;
        case 404:
            what += " Not Found";
            break;
        case 409:
            what += " Conflict";
            break;
        case 503:
            what += " Service Unavailable";
            break;
        default:
            break;
    }
    if (const auto m = message_of(body); !m.empty() && status != 401) what += ": " + m;
    return what;
}

AdminClient::AdminClient(AdminEndpoint endpoint) : endpoint_(std::move(endpoint)) {
    while (!endpoint_.base_url.empty() && endpoint_.base_url.back() == '/') {
        endpoint_.base_url.pop_back();
    }
    if (endpoint_.base_url.rfind("http://", 0) != 0 &&
        endpoint_.base_url.rfind("https://", 0) != 0) {
        throw AdminError("--url must start with http:// or https:// (got \"" + endpoint_.base_url +
                         "\")");
    }
    global_init();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) throw AdminError("libcurl could not create a handle");
}

AdminClient::~AdminClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

AdminAnswer AdminClient::request(const std::string& method, const std::string& path,
                                 const std::string& body) {
    auto* e = static_cast<CURL*>(curl_);
    const std::string url = endpoint_.base_url + path;
    AdminAnswer answer;
    std::array<char, CURL_ERROR_SIZE> error{};
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!endpoint_.admin_token.empty()) {
        headers =
            curl_slist_append(headers, ("Authorization: Bearer " + endpoint_.admin_token).c_str());
    }
    if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    if (method == "GET") {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, nullptr);
    } else {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, endpoint_.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, std::min(endpoint_.timeout_ms, 5000L));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "chargegate-cli/" CG_VERSION);
    if (!endpoint_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, endpoint_.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error.data());
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, cancelled_ ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &cancelled_);
    const CURLcode rc = curl_easy_perform(e);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        if (rc == CURLE_ABORTED_BY_CALLBACK) throw AdminError("interrupted");
        const std::string detail = error[0] != '\0' ? error.data() : curl_easy_strerror(rc);
        throw AdminError("cannot reach " + endpoint_.base_url + ": " + detail);
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &answer.status);
    return answer;
}

boost::json::object AdminClient::get_object(const std::string& path) {
    const auto answer = request("GET", path);
    if (answer.status != 200) {
        throw AdminError("GET " + path + ": " + describe_http_failure(answer.status, answer.body));
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(answer.body, ec);
    if (ec || !v.is_object()) {
        throw AdminError("GET " + path + ": the answer is not a JSON object (is " +
                         endpoint_.base_url + " a chargegate service?)");
    }
    return std::move(v.as_object());
}

}  // namespace cg::cli
