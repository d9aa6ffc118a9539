#include "auth/credential_directory.hpp"

#include "auth/api_key.hpp"
#include "common/thread_name.hpp"
#include "obs/log.hpp"
#include "store/store_error.hpp"

namespace cg::auth {

namespace {
std::atomic<uint64_t> next_directory_id{1};
}  // namespace

CredentialDirectory::CredentialDirectory(Opener open, std::chrono::milliseconds refresh)
    : open_(std::move(open)),
      refresh_(refresh),
      snap_(std::make_shared<const Snapshot>()),
      id_(next_directory_id.fetch_add(1)) {}

void CredentialDirectory::publish(std::shared_ptr<const Snapshot> fresh) {
    {
        std::lock_guard lock(snap_mu_);
        snap_ = std::move(fresh);
    }
    version_.fetch_add(1, std::memory_order_release);
}

CredentialDirectory::~CredentialDirectory() { stop(); }

std::shared_ptr<const CredentialDirectory::Snapshot> CredentialDirectory::load() {
    if (!store_) store_ = open_();
    auto fresh = std::make_shared<Snapshot>();
    for (auto& k : store_->api_keys()) {
        if (!k.revoked_at_ms) ++fresh->active;
        fresh->keys.emplace(k.key_id, std::move(k));
    }
    for (auto& s : store_->client_secrets()) fresh->secrets.emplace(s.client_id, s.secrets);
    return fresh;
}

void CredentialDirectory::start() {
    publish(load());
    thread_ = std::thread([this] {
        name_this_thread("cg-credentials");
        run();
    });
}

void CredentialDirectory::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool CredentialDirectory::refresh() {
    try {
        publish(load());
        if (failing_) obs::log_info("API keys and client secrets are read again");
        failing_ = false;
        return true;
    } catch (const std::exception& e) {
        if (!failing_) {
            obs::log_warn("cannot re-read API keys and client secrets; the last ones read apply")
                .kv("error", e.what());
        }
        failing_ = true;
        store_.reset();  // a fresh connection next time
        return false;
    }
}

void CredentialDirectory::run() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait_for(lock, refresh_, [this] { return stopping_; });
        if (stopping_) break;
        lock.unlock();
        refresh();
        lock.lock();
    }
}

std::shared_ptr<const CredentialDirectory::Snapshot> CredentialDirectory::snapshot() const {
    struct Cached {
        uint64_t directory = 0;
        uint64_t version = 0;
        std::shared_ptr<const Snapshot> snap;
    };
    thread_local Cached cached;
    const uint64_t version = version_.load(std::memory_order_acquire);
    if (cached.directory != id_ || cached.version != version || !cached.snap) {
        std::lock_guard lock(snap_mu_);
        cached.snap = snap_;
        cached.directory = id_;
        cached.version = version;
    }
    return cached.snap;
}

std::optional<std::string> CredentialDirectory::client_for_key(std::string_view key) const {
    const auto parsed = parse_api_key(key);
    if (!parsed) return std::nullopt;
    const auto snap = snapshot();
    const auto it = snap->keys.find(parsed->key_id);
    if (it == snap->keys.end()) return std::nullopt;
    // The secret is compared even for a revoked key, so timing tells nothing about revocation.
    const bool match = secret_matches(it->second, parsed->secret);
    if (!match || it->second.revoked_at_ms) return std::nullopt;
    return it->second.client_id;
}

std::string CredentialDirectory::secrets_of(std::string_view client_id) const {
    const auto snap = snapshot();
    const auto it = snap->secrets.find(std::string(client_id));
    return it == snap->secrets.end() ? std::string() : it->second;
}

size_t CredentialDirectory::active_keys() const { return snapshot()->active; }

}  // namespace cg::auth
