#pragma once
// Reads of the cluster store, one PostgreSQL connection per reader (per thread). Reads only:
// leasing due deliveries is PgStore::take_due's write.
#include <memory>
#include <string>

#include "store/postgres/pg_conn.hpp"
#include "store/store.hpp"

namespace cg::store::postgres {

// A queued request from a row whose columns are, from `first`: seq, id, station_id, driver_token,
// callback_url, traceparent, created_at (the order every query of them selects).
QueuedRequest queued_request_at(const PgResult& r, int row, int first = 0);
// A delivery job from a row whose columns are: seq, id, station_id, driver_token, callback_url,
// traceparent, decision_status, decision_reason, decided_at, attempts, round_attempts, client_id,
// created_at.
DeliveryJob delivery_job_at(const PgResult& r, int row);

class PgReader final : public StoreReader {
  public:
    explicit PgReader(std::string database_url);

    std::optional<RequestView> find_request(std::string_view request_id) override;
    std::vector<QueuedRequest> load_queued(int64_t after_seq, size_t limit) override;
    std::optional<AclEntry> find_acl(std::string_view driver_token) override;
    std::optional<StationEntry> find_station(std::string_view station_id) override;
    std::optional<int64_t> next_due_at() override;
    std::optional<int64_t> oldest_queued_at() override;
    DeadLetterPage dead_letters(std::optional<int64_t> before_seq, size_t limit) override;
    int64_t authorization_generation() override;
    std::pair<std::optional<AclEntry>, std::optional<StationEntry>> find_acl_and_station(
        std::string_view driver_token, std::string_view station_id) override;

  private:
    PgConnection& conn();  // connects lazily, so a reader can be made while the server is down

    std::string url_;
    std::unique_ptr<PgConnection> conn_;
};

}  // namespace cg::store::postgres
