#include "store/postgres/pg_reader.hpp"

#include "store/state_sql.hpp"
#include "store/stations_json.hpp"

namespace cg::store::postgres {

DeliveryJob delivery_job_at(const PgResult& r, int i) {
    DeliveryJob j;
    j.seq = r.int64(i, 0);
    j.id = r.text(i, 1);
    j.station_id = r.text(i, 2);
    j.driver_token = r.text(i, 3);
    j.callback_url = r.text(i, 4);
    j.traceparent = r.text(i, 5);
    j.decision.status = static_cast<DecisionStatus>(r.opt_int64(i, 6).value_or(2));
    j.decision.reason = r.opt_text(i, 7).value_or("authorizer_error");
    j.decision.decided_at_ms = r.opt_int64(i, 8).value_or(0);
    j.attempts = static_cast<int>(r.int64(i, 9));
    j.round_attempts = static_cast<int>(r.int64(i, 10));
    j.client_id = r.opt_text(i, 11).value_or("");
    j.created_at_ms = r.int64(i, 12);
    return j;
}

QueuedRequest queued_request_at(const PgResult& r, int row, int first) {
    QueuedRequest q;
    q.seq = r.int64(row, first);
    q.id = r.text(row, first + 1);
    q.station_id = r.text(row, first + 2);
    q.driver_token = r.text(row, first + 3);
    q.callback_url = r.text(row, first + 4);
    q.traceparent = r.text(row, first + 5);
    q.created_at_ms = r.int64(row, first + 6);
    q.client_id = r.opt_text(row, first + 7).value_or("");
    return q;
}

namespace {
// A request row in the column order of find_request / dead_letters.
RequestView request_view_at(const PgResult& r, int row) {
    RequestView v;
    v.seq = r.int64(row, 0);
    v.id = r.text(row, 1);
    v.station_id = r.text(row, 2);
    v.driver_token = r.text(row, 3);
    v.callback_url = r.text(row, 4);
    v.state = static_cast<RequestState>(r.int64(row, 5));
    v.created_at_ms = r.int64(row, 6);
    if (!r.is_null(row, 7)) {
        Decision d;
        d.status = static_cast<DecisionStatus>(r.int64(row, 7));
        d.reason = r.text(row, 8);
        d.decided_at_ms = r.int64(row, 9);
        v.decision = std::move(d);
    }
    v.attempts = static_cast<int>(r.int64(row, 10));
    if (auto code = r.opt_int64(row, 11)) v.last_status_code = static_cast<int>(*code);
    v.last_error = r.opt_text(row, 12);
    v.next_attempt_at_ms = r.opt_int64(row, 13);
    v.delivered_at_ms = r.opt_int64(row, 14);
    v.client_id = r.opt_text(row, 15).value_or("");
    v.traceparent = r.text(row, 16);
    return v;
}
}  // namespace

PgReader::PgReader(std::string database_url) : url_(std::move(database_url)) {}

PgConnection& PgReader::conn() {
    // Reads, and the leases of due deliveries: a lease lost in a database crash only means the
    // delivery is taken again (at-least-once), so these commits need not wait for the disk.
    if (!conn_) conn_ = std::make_unique<PgConnection>(url_, false);
    return *conn_;
}

std::optional<RequestView> PgReader::find_request(std::string_view request_id) {
    auto& c = conn();
    // A queued request under a live lease is being authorized.
    const auto r =
        c.exec(state_sql("SELECT seq, id, station_id, driver_token, callback_url,"
                         " CASE WHEN state = {queued} AND lease_until >= cg_now_ms() THEN "
                         "{authorizing} ELSE state END,"
                         " created_at, decision_status, decision_reason, decided_at, attempts,"
                         " last_status_code, last_error, CASE WHEN state = {delivering} THEN "
                         "next_attempt_at END,"
                         " delivered_at, client_id, traceparent FROM requests WHERE id = $1"),
               {std::string(request_id)});
    if (r.rows() == 0) return std::nullopt;
    RequestView v = request_view_at(r, 0);
    const auto a = c.exec(
        "SELECT attempt_no, started_at, duration_ms, http_status, error FROM ("
        " SELECT * FROM delivery_attempts WHERE request_seq = $1"
        " ORDER BY attempt_no DESC LIMIT 100) t ORDER BY attempt_no",
        {std::to_string(v.seq)});
    for (int i = 0; i < a.rows(); ++i) {
        AttemptView av;
        av.attempt_no = static_cast<int>(a.int64(i, 0));
        av.started_at_ms = a.int64(i, 1);
        av.duration_ms = a.int64(i, 2);
        av.http_status = static_cast<int>(a.opt_int64(i, 3).value_or(0));
        av.error = a.opt_text(i, 4).value_or("");
        v.attempt_log.push_back(std::move(av));
    }
    return v;
}

std::vector<QueuedRequest> PgReader::load_queued(int64_t after_seq, size_t limit) {
    const auto r = conn().exec(
        state_sql(
            "SELECT seq, id, station_id, driver_token, callback_url, traceparent, created_at,"
            " client_id FROM requests WHERE state = {queued} AND seq > $1 ORDER BY seq LIMIT $2"),
        {std::to_string(after_seq), std::to_string(limit)});
    std::vector<QueuedRequest> out;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(queued_request_at(r, i));
    }
    return out;
}

std::optional<AclEntry> PgReader::find_acl(std::string_view driver_token) {
    const auto r = conn().exec(
        "SELECT status, stations, expires_at, updated_at FROM acl WHERE driver_token = $1",
        {std::string(driver_token)});
    if (r.rows() == 0) return std::nullopt;
    AclEntry e;
    e.driver_token = std::string(driver_token);
    e.status = r.int64(0, 0) == 0 ? AclStatus::kAllowed : AclStatus::kBlocked;
    e.stations = stations_from_json(r.opt_text(0, 1));
    e.expires_at_ms = r.opt_int64(0, 2);
    e.updated_at_ms = r.int64(0, 3);
    return e;
}

std::optional<StationEntry> PgReader::find_station(std::string_view station_id) {
    const auto r = conn().exec("SELECT active, updated_at FROM stations WHERE station_id = $1",
                               {std::string(station_id)});
    if (r.rows() == 0) return std::nullopt;
    return StationEntry{std::string(station_id), r.text(0, 0) == "t", r.int64(0, 1)};
}

int64_t PgReader::authorization_generation() {
    return conn().exec("SELECT generation FROM authz_state WHERE id = 1").int64(0, 0);
}

std::optional<int64_t> PgReader::oldest_queued_at() {
    const auto r = conn().exec(
        state_sql("SELECT created_at FROM requests WHERE state = {queued} ORDER BY seq LIMIT 1"));
    if (r.rows() == 0) return std::nullopt;
    return r.int64(0, 0);
}

DeadLetterPage PgReader::dead_letters(std::optional<int64_t> before_seq, size_t limit) {
    auto& c = conn();
    const auto r = c.exec(
        state_sql(
            "SELECT seq, id, station_id, driver_token, callback_url, state, created_at,"
            " decision_status, decision_reason, decided_at, attempts, last_status_code, last_error,"
            " NULL, delivered_at, client_id, traceparent FROM requests"
            " WHERE state = {failed} AND seq < $1 ORDER BY seq DESC LIMIT $2"),
        {std::to_string(before_seq.value_or(INT64_MAX)), std::to_string(limit)});
    DeadLetterPage page;
    for (int i = 0; i < r.rows(); ++i) page.items.push_back(request_view_at(r, i));
    page.total =
        c.exec(state_sql("SELECT count(*) FROM requests WHERE state = {failed}")).int64(0, 0);
    return page;
}

std::optional<int64_t> PgReader::next_due_at() {
    const auto r = conn().exec(
        state_sql("SELECT min(next_attempt_at) FROM requests WHERE state = {delivering}"));
    return r.opt_int64(0, 0);
}

std::pair<std::optional<AclEntry>, std::optional<StationEntry>> PgReader::find_acl_and_station(
    std::string_view driver_token, std::string_view station_id) {
    const auto r = conn().exec(
        "SELECT a.status, a.stations, a.expires_at, a.updated_at, s.active, s.updated_at"
        " FROM (SELECT 1) one LEFT JOIN acl a ON a.driver_token = $1"
        " LEFT JOIN stations s ON s.station_id = $2",
        {std::string(driver_token), std::string(station_id)});
    std::optional<AclEntry> entry;
    std::optional<StationEntry> station;
    if (r.rows() == 1 && !r.is_null(0, 0)) {
        AclEntry e;
        e.driver_token = std::string(driver_token);
        e.status = r.int64(0, 0) == 0 ? AclStatus::kAllowed : AclStatus::kBlocked;
        e.stations = stations_from_json(r.opt_text(0, 1));
        e.expires_at_ms = r.opt_int64(0, 2);
        e.updated_at_ms = r.int64(0, 3);
        if (e.status == AclStatus::kAllowed && !r.is_null(0, 4)) {
            station = StationEntry{std::string(station_id), r.text(0, 4) == "t", r.int64(0, 5)};
        }
        entry = std::move(e);
    }
    return {std::move(entry), std::move(station)};
}

}  // namespace cg::store::postgres
