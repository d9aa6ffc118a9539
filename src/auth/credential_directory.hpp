#pragma once
// What the API needs to know about clients, kept in memory so that checking a key never waits
// on storage: every API key (by key id) and every client's own webhook secrets. A thread
// re-reads both tables every API_KEYS_REFRESH_MS, so a key created or revoked with the CLI (in
// any process, any instance) applies within that time. Readers use an immutable snapshot that
// each thread keeps and swaps only when a refresh published a new one (a version number), so a
// request's check takes no lock.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "store/credential_store.hpp"

namespace cg::auth {

class CredentialDirectory {
  public:
    using Opener = std::function<std::unique_ptr<store::CredentialStore>()>;

    CredentialDirectory(Opener open, std::chrono::milliseconds refresh);
    ~CredentialDirectory();
    CredentialDirectory(const CredentialDirectory&) = delete;
    CredentialDirectory& operator=(const CredentialDirectory&) = delete;

    // Loads both tables once (throws StoreError when that fails) and starts refreshing.
    void start();
    void stop();

    // The client a presented API key speaks for; nullopt for an unknown, revoked or wrong key.
    [[nodiscard]] std::optional<std::string> client_for_key(std::string_view key) const;
    // A client's own webhook secrets (space-separated `whsec_...`); empty when it has none.
    [[nodiscard]] std::string secrets_of(std::string_view client_id) const;
    // Number of keys that are not revoked (for the start-up log and /health).
    [[nodiscard]] size_t active_keys() const;
    // Loads both tables now; false (and the last good snapshot kept) when storage fails. The
    // refresher thread calls it; call it from elsewhere only while that is stopped.
    bool refresh();

  private:
    struct Snapshot {
        std::unordered_map<std::string, store::ApiKeyRecord> keys;  // by key id
        std::unordered_map<std::string, std::string> secrets;       // by client id
        size_t active = 0;
    };
    [[nodiscard]] std::shared_ptr<const Snapshot> snapshot() const;
    // Reads both tables (opening the store first if needed); throws StoreError.
    std::shared_ptr<const Snapshot> load();
    void run();

    Opener open_;
    std::chrono::milliseconds refresh_;
    std::unique_ptr<store::CredentialStore> store_;  // refresher thread only (after start)
    // The published snapshot. Written by the refresher under snap_mu_, read under it only when
    // `version_` moved since the reading thread last looked.
    mutable std::mutex snap_mu_;
    std::shared_ptr<const Snapshot> snap_;
    std::atomic<uint64_t> version_{1};
    const uint64_t id_;  // tells thread-local caches of different directories apart
    void publish(std::shared_ptr<const Snapshot> fresh);
    bool failing_ = false;  // refresher thread only: logs one line per outage

    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace cg::auth
