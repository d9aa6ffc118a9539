#pragma once
#include <string>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store.hpp"

namespace cg::store::sqlite {

// A StoreReader on its own read-only connection. Single-threaded, like every reader.
class SqliteReader final : public StoreReader {
  public:
    explicit SqliteReader(const std::string& path);

    std::optional<RequestView> find_request(std::string_view request_id) override;
    std::vector<QueuedRequest> load_queued(int64_t after_seq, size_t limit) override;
    // Deliveries parked for a later attempt whose time has come (next attempt <= now_ms),
    // earliest first; a plain read, for SqliteStore::take_due (only this process delivers).
    std::vector<DeliveryJob> load_due(int64_t now_ms, size_t limit);
    std::optional<AclEntry> find_acl(std::string_view driver_token) override;
    std::optional<StationEntry> find_station(std::string_view station_id) override;
    std::optional<int64_t> next_due_at() override;
    std::optional<int64_t> oldest_queued_at() override;
    DeadLetterPage dead_letters(std::optional<int64_t> before_seq, size_t limit) override;

  private:
    Database db_;
    Statement request_;
    Statement attempts_;
    Statement queued_;
    Statement due_;
    Statement acl_;
    Statement station_;
    Statement next_due_;
    Statement oldest_queued_;
    Statement dead_letters_;
    Statement failed_count_;
};

}  // namespace cg::store::sqlite
