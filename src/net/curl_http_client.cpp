#include "net/curl_http_client.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <chrono>
#include <deque>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include "common/thread_name.hpp"
#include "net/origin.hpp"
#include "net/ssrf_guard.hpp"
#include "obs/log.hpp"

namespace cg::net {

namespace {

constexpr size_t kMaxKeptBody = 64 * 1024;

// libcurl needs one global initialisation per process.
void global_init() {
    static const bool ok = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
    if (!ok) throw std::runtime_error("curl_global_init failed");
}

struct Transfer {
    HttpRequest request;
    std::function<void(HttpResponse)> done;
    HttpResponse response;
    curl_slist* headers = nullptr;
    bool blocked = false;
    std::chrono::steady_clock::time_point started;
    CURL* easy = nullptr;
    std::string host;         // connection pool key (scheme://host:port)
    bool holds_slot = false;  // counted in its host's active transfers
    // curl's detailed reason for a failure ("SSL certificate problem: ..."), often more useful
    // to a receiver's operator than curl_easy_strerror's summary.
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
};

// The key of the connections a URL can use (net/origin.hpp); a URL without one keys alone, and
// curl refuses it when the transfer starts.
std::string host_key(const std::string& url) {
    std::string key;
    if (!origin_of(url, key)) key = url;
    return key;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t len = size * n;
    const size_t room = kMaxKeptBody - std::min(kMaxKeptBody, t->response.body.size());
    t->response.body.append(data, std::min(len, room));
    return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t len = size * n;
    std::string_view line(data, len);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size()) {
        bool match = true;
        for (size_t i = 0; i < kName.size(); ++i) {
            if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
                match = false;
                break;
            }
        }
        if (match) {
            auto value = line.substr(kName.size());
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
                value.remove_prefix(1);
            }
            while (!value.empty() &&
                   (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
                value.remove_suffix(1);
            }
            const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
            t->response.retry_after_ms = parse_retry_after_ms(value, now_s);
        }
    }
    return len;
}

// Checks the address curl is about to connect to (after DNS), so a name that resolves to a
// private address is refused too.
curl_socket_t open_socket(void* user, curlsocktype purpose, curl_sockaddr* addr) {
    auto* t = static_cast<Transfer*>(user);
    if (purpose == CURLSOCKTYPE_IPCXN && t->request.block_private_addresses &&
        is_blocked_address(&addr->addr)) {
        t->blocked = true;
        return CURL_SOCKET_BAD;
    }
    return ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

HttpError map_error(CURLcode code, bool blocked) {
    if (blocked) return HttpError::kBlockedAddress;
    switch (code) {
        case CURLE_OK:
            return HttpError::kNone;
        case CURLE_OPERATION_TIMEDOUT:
            return HttpError::kTimeout;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return HttpError::kDns;
        case CURLE_COULDNT_CONNECT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
            return HttpError::kConnect;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
            return HttpError::kTls;
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_HTTP2:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return HttpError::kProtocol;
        default:
            return HttpError::kOther;
    }
}

}  // namespace

const char* to_string(HttpError e) {
    switch (e) {
        case HttpError::kNone:
            return "none";
        case HttpError::kTimeout:
            return "timeout";
        case HttpError::kConnect:
            return "connect_failed";
        case HttpError::kDns:
            return "dns_failed";
        case HttpError::kBlockedAddress:
            return "address_blocked";
        case HttpError::kTls:
            return "tls_failed";
        case HttpError::kProtocol:
            return "protocol_error";
        case HttpError::kCancelled:
            return "cancelled";
        case HttpError::kOther:
            return "other";
    }
    return "other";
}

std::optional<int64_t> parse_retry_after_ms(std::string_view value, int64_t now_s) {
    if (value.empty()) return std::nullopt;
    bool digits = true;
    for (const char c : value) {
        if (!std::isdigit(static_cast<unsigned char>(c))) digits = false;
    }
    if (digits) {
        if (value.size() > 9) return std::nullopt;
        return std::stoll(std::string(value)) * 1000;
    }
    const time_t t = curl_getdate(std::string(value).c_str(), nullptr);
    if (t < 0) return std::nullopt;
    return std::max<int64_t>(0, static_cast<int64_t>(t) - now_s) * 1000;
}

struct CurlHttpClient::Impl {
    CurlOptions options;
    std::atomic<size_t>& in_flight;
    CURLM* multi = nullptr;
    std::mutex mu;  // guards inbox and stopping
    std::vector<std::unique_ptr<Transfer>> inbox;
    bool stopping = false;
    std::vector<CURL*> free_handles;  // loop thread only
    std::vector<std::unique_ptr<Transfer>> active;
    // Per host: transfers handed to curl, and those waiting for one of its connections. The
    // limit is applied here rather than left to CURLMOPT_MAX_HOST_CONNECTIONS, whose queue
    // would run each waiting transfer's deadline (CURLOPT_TIMEOUT_MS) before it is even sent.
    struct HostSlots {
        size_t active = 0;
        std::deque<std::unique_ptr<Transfer>> waiting;
    };
    std::unordered_map<std::string, HostSlots> hosts;  // loop thread only
    std::thread thread;

    Impl(CurlOptions o, std::atomic<size_t>& counter) : options(std::move(o)), in_flight(counter) {
        global_init();
        multi = curl_multi_init();
        if (!multi) throw std::runtime_error("curl_multi_init failed");
        curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          static_cast<long>(options.max_connections_per_host));
        curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          static_cast<long>(options.max_total_connections));
        curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                          static_cast<long>(options.max_total_connections));
        thread = std::thread([this] {
            name_this_thread("cg-curl");
            loop();
        });
    }

    ~Impl() {
        for (CURL* e : free_handles) curl_easy_cleanup(e);
        if (multi) curl_multi_cleanup(multi);
    }

    void finish(std::unique_ptr<Transfer> t) {
        if (t->holds_slot) {
            // Only counted down here: entries are erased in start_waiting(), which may be
            // iterating over them when a start fails and finishes at once.
            auto it = hosts.find(t->host);
            if (it != hosts.end() && it->second.active > 0) --it->second.active;
            t->holds_slot = false;
        }
        t->response.duration = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - t->started);
        if (t->headers) curl_slist_free_all(t->headers);
        t->headers = nullptr;
        if (t->easy) {
            curl_multi_remove_handle(multi, t->easy);
            curl_easy_reset(t->easy);
            free_handles.push_back(t->easy);
            t->easy = nullptr;
        }
        in_flight.fetch_sub(1);
        try {
            t->done(std::move(t->response));
        } catch (const std::exception& e) {
            obs::log_error("http completion threw").kv("error", e.what());
        }
    }

    void start(std::unique_ptr<Transfer> t) {
        CURL* e = nullptr;
        if (!free_handles.empty()) {
            e = free_handles.back();
            free_handles.pop_back();
        } else {
            e = curl_easy_init();
        }
        if (!e) {
            t->response.error = HttpError::kOther;
            t->response.error_message = "curl_easy_init failed";
            finish(std::move(t));
            return;
        }
        t->easy = e;
        t->started = std::chrono::steady_clock::now();
        for (const auto& [name, value] : t->request.headers) {
            t->headers = curl_slist_append(t->headers, (name + ": " + value).c_str());
        }
        t->headers = curl_slist_append(t->headers, "Expect:");
        auto* raw = t.get();
        curl_easy_setopt(e, CURLOPT_URL, raw->request.url.c_str());
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, raw->request.body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(raw->request.body.size()));
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, raw->headers);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(raw->request.timeout.count()));
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);  // redirects are never followed
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        // No proxy, whatever http_proxy/https_proxy/all_proxy say: through a proxy the address
        // open_socket() checks would be the proxy's, and the receiver's would go unchecked.
        curl_easy_setopt(e, CURLOPT_PROXY, "");
        raw->error_buffer[0] = '\0';
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, raw->error_buffer.data());
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (!options.ca_bundle.empty()) {
            curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_bundle.c_str());
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, raw);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, raw);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, raw);
        curl_easy_setopt(e, CURLOPT_PRIVATE, raw);
        if (curl_multi_add_handle(multi, e) != CURLM_OK) {
            t->response.error = HttpError::kOther;
            t->response.error_message = "curl_multi_add_handle failed";
            curl_easy_reset(e);
            free_handles.push_back(e);
            t->easy = nullptr;
            finish(std::move(t));
            return;
        }
        active.push_back(std::move(t));
    }

    // Queues `t` behind its host's connections; start_waiting() sends it when one is free.
    void admit(std::unique_ptr<Transfer> t) {
        t->host = host_key(t->request.url);
        hosts[t->host].waiting.push_back(std::move(t));
    }

    // Starts waiting transfers while their host has a free connection, oldest first, and
    // forgets hosts with nothing left.
    void start_waiting() {
        const size_t limit = options.max_connections_per_host == 0
                                 ? std::numeric_limits<size_t>::max()
                                 : options.max_connections_per_host;
        for (auto it = hosts.begin(); it != hosts.end();) {
            auto& slots = it->second;
            while (!slots.waiting.empty() && slots.active < limit) {
                auto t = std::move(slots.waiting.front());
                slots.waiting.pop_front();
                ++slots.active;
                t->holds_slot = true;
                start(std::move(t));
            }
            it = slots.active == 0 && slots.waiting.empty() ? hosts.erase(it) : std::next(it);
        }
    }

    std::unique_ptr<Transfer> take_active(Transfer* raw) {
        for (auto it = active.begin(); it != active.end(); ++it) {
            if (it->get() == raw) {
                auto t = std::move(*it);
                *it = std::move(active.back());
                active.pop_back();
                return t;
            }
        }
        return nullptr;
    }

    void loop() {
        std::vector<std::unique_ptr<Transfer>> incoming;
        for (;;) {
            bool stop = false;
            {
                std::lock_guard lock(mu);
                incoming.swap(inbox);
                stop = stopping;
            }
            if (stop) {
                for (auto& t : incoming) {
                    t->response.error = HttpError::kCancelled;
                    t->response.error_message = "client stopped";
                    finish(std::move(t));
                }
                while (!active.empty()) {
                    auto t = std::move(active.back());
                    active.pop_back();
                    t->response.error = HttpError::kCancelled;
                    t->response.error_message = "client stopped";
                    finish(std::move(t));
                }
                for (auto& [host, slots] : hosts) {
                    for (auto& t : slots.waiting) {
                        t->response.error = HttpError::kCancelled;
                        t->response.error_message = "client stopped";
                        finish(std::move(t));
                    }
                }
                hosts.clear();
                return;
            }
            for (auto& t : incoming) admit(std::move(t));
            incoming.clear();
            start_waiting();
            int running = 0;
            curl_multi_perform(multi, &running);
            int left = 0;
            while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
                if (msg->msg != CURLMSG_DONE) continue;
                Transfer* raw = nullptr;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
                const CURLcode code = msg->data.result;
                auto t = take_active(raw);
                if (!t) continue;
                long status = 0;
                curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
                t->response.error = map_error(code, t->blocked);
                if (t->response.error == HttpError::kNone) {
                    t->response.status = static_cast<int>(status);
                } else {
                    t->response.status = 0;
                    t->response.error_message = t->blocked ? "address not allowed"
                                                : t->error_buffer[0] != '\0'
                                                    ? std::string(t->error_buffer.data())
                                                    : std::string(curl_easy_strerror(code));
                }
                finish(std::move(t));
            }
            start_waiting();  // connections freed by the transfers just finished
            curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
        }
    }
};

CurlHttpClient::CurlHttpClient(CurlOptions options)
    : impl_(std::make_unique<Impl>(std::move(options), in_flight_)) {}

CurlHttpClient::~CurlHttpClient() { stop(); }

void CurlHttpClient::post(HttpRequest request, std::function<void(HttpResponse)> done) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->done = std::move(done);
    in_flight_.fetch_add(1);
    bool wake = false;
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->stopping) {
            // The loop takes the whole inbox at once: only the first request of a batch needs to
            // wake it (one syscall per batch rather than per request).
            wake = impl_->inbox.empty();
            impl_->inbox.push_back(std::move(t));
            t = nullptr;
        }
    }
    if (t) {
        in_flight_.fetch_sub(1);
        HttpResponse r;
        r.error = HttpError::kCancelled;
        r.error_message = "client stopped";
        t->done(std::move(r));
        return;
    }
    if (wake) curl_multi_wakeup(impl_->multi);
}

void CurlHttpClient::stop() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->stopping = true;
    }
    curl_multi_wakeup(impl_->multi);
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace cg::net
