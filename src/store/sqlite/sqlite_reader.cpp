#include "store/sqlite/sqlite_reader.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "store/sqlite/schema.hpp"
#include "store/state_sql.hpp"
#include "store/stations_json.hpp"

namespace cg::store::sqlite {

SqliteReader::SqliteReader(const std::string& path) : db_(path) {
    configure_connection(db_, path, false);
    auto* h = db_.handle();
    request_ =
        Statement(h,
                  "SELECT seq, id, station_id, driver_token, callback_url, state, created_at,"
                  " decision_status, decision_reason, decided_at, attempts,"
                  " last_status_code, last_error, next_attempt_at, delivered_at, client_id,"
                  " traceparent FROM requests WHERE id = ?");
    attempts_ = Statement(h,
                          "SELECT attempt_no, started_at, duration_ms, http_status, error"
                          " FROM delivery_attempts WHERE request_seq = ?"
                          " ORDER BY attempt_no DESC LIMIT 100");
    queued_ = Statement(
        h, state_sql("SELECT seq, id, station_id, driver_token, callback_url, traceparent,"
                     " created_at, client_id FROM requests WHERE state = {queued} AND seq > ?"
                     " ORDER BY seq LIMIT ?"));
    due_ = Statement(h,
                     "SELECT seq, id, station_id, driver_token, callback_url, traceparent,"
                     " decision_status, decision_reason, decided_at, attempts, round_attempts,"
                     " client_id, created_at FROM requests"
                     " WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?"
                     " ORDER BY next_attempt_at, seq LIMIT ?");
    acl_ = Statement(h,
                     "SELECT status, stations, expires_at, updated_at FROM acl"
                     " WHERE driver_token = ?");
    station_ = Statement(h, "SELECT active, updated_at FROM stations WHERE station_id = ?");
    next_due_ = Statement(h,
                          "SELECT min(next_attempt_at) FROM requests"
                          " WHERE next_attempt_at IS NOT NULL");
    oldest_queued_ = Statement(
        h,
        state_sql("SELECT created_at FROM requests WHERE state = {queued} ORDER BY seq LIMIT 1"));
    dead_letters_ = Statement(
        h, state_sql("SELECT seq, id, station_id, driver_token, callback_url, state, created_at,"
                     " decision_status, decision_reason, decided_at, attempts,"
                     " last_status_code, last_error, next_attempt_at, delivered_at, client_id,"
                     " traceparent FROM requests WHERE state = {failed} AND seq < ? ORDER BY seq "
                     "DESC LIMIT ?"));
    failed_count_ = Statement(h, state_sql("SELECT count(*) FROM requests WHERE state = {failed}"));
}

namespace {
// A request row in the column order of find_request / dead_letters.
RequestView request_view_at(Statement& st) {
    RequestView v;
    v.seq = st.int64(0);
    v.id = st.text(1);
    v.station_id = st.text(2);
    v.driver_token = st.text(3);
    v.callback_url = st.text(4);
    v.state = static_cast<RequestState>(st.int64(5));
    v.created_at_ms = st.int64(6);
    if (!st.is_null(7)) {
        Decision d;
        d.status = static_cast<DecisionStatus>(st.int64(7));
        d.reason = st.text(8);
        d.decided_at_ms = st.int64(9);
        v.decision = std::move(d);
    }
    v.attempts = static_cast<int>(st.int64(10));
    if (auto code = st.opt_int64(11)) v.last_status_code = static_cast<int>(*code);
    v.last_error = st.opt_text(12);
    v.next_attempt_at_ms = st.opt_int64(13);
    v.delivered_at_ms = st.opt_int64(14);
    v.client_id = st.opt_text(15).value_or("");
    v.traceparent = st.text(16);
    return v;
}
}  // namespace

std::optional<RequestView> SqliteReader::find_request(std::string_view request_id) {
    RequestView v;
    {
        Reset guard(request_);
        request_.bind(1, request_id);
        if (!request_.step()) return std::nullopt;
        v = request_view_at(request_);
    }
    Reset guard(attempts_);
    attempts_.bind(1, v.seq);
    while (attempts_.step()) {
        AttemptView a;
        a.attempt_no = static_cast<int>(attempts_.int64(0));
        a.started_at_ms = attempts_.int64(1);
        a.duration_ms = attempts_.int64(2);
        a.http_status = static_cast<int>(attempts_.opt_int64(3).value_or(0));
        a.error = attempts_.opt_text(4).value_or("");
        v.attempt_log.push_back(std::move(a));
    }
    std::reverse(v.attempt_log.begin(), v.attempt_log.end());
    return v;
}

std::vector<QueuedRequest> SqliteReader::load_queued(int64_t after_seq, size_t limit) {
    std::vector<QueuedRequest> out;
    Reset guard(queued_);
    queued_.bind(1, after_seq).bind(2, static_cast<int64_t>(limit));
    while (queued_.step()) {
        QueuedRequest r;
        r.seq = queued_.int64(0);
        r.id = queued_.text(1);
        r.station_id = queued_.text(2);
        r.driver_token = queued_.text(3);
        r.callback_url = queued_.text(4);
        r.traceparent = queued_.text(5);
        r.created_at_ms = queued_.int64(6);
        r.client_id = queued_.opt_text(7).value_or("");
        out.push_back(std::move(r));
    }
    return out;
}

std::vector<DeliveryJob> SqliteReader::load_due(int64_t now_ms, size_t limit) {
    std::vector<DeliveryJob> out;
    Reset guard(due_);
    due_.bind(1, now_ms).bind(2, static_cast<int64_t>(limit));
    while (due_.step()) {
        DeliveryJob j;
        j.seq = due_.int64(0);
        j.id = due_.text(1);
        j.station_id = due_.text(2);
        j.driver_token = due_.text(3);
        j.callback_url = due_.text(4);
        j.traceparent = due_.text(5);
        j.decision.status = static_cast<DecisionStatus>(due_.opt_int64(6).value_or(2));
        j.decision.reason = due_.opt_text(7).value_or("authorizer_error");
        j.decision.decided_at_ms = due_.opt_int64(8).value_or(0);
        j.attempts = static_cast<int>(due_.int64(9));
        j.round_attempts = static_cast<int>(due_.int64(10));
        j.client_id = due_.opt_text(11).value_or("");
        j.created_at_ms = due_.int64(12);
        out.push_back(std::move(j));
    }
    return out;
}

std::optional<AclEntry> SqliteReader::find_acl(std::string_view driver_token) {
    Reset guard(acl_);
    acl_.bind(1, driver_token);
    if (!acl_.step()) return std::nullopt;
    AclEntry e;
    e.driver_token = std::string(driver_token);
    e.status = acl_.int64(0) == 0 ? AclStatus::kAllowed : AclStatus::kBlocked;
    e.stations = stations_from_json(acl_.opt_text(1));
    e.expires_at_ms = acl_.opt_int64(2);
    e.updated_at_ms = acl_.int64(3);
    return e;
}

std::optional<StationEntry> SqliteReader::find_station(std::string_view station_id) {
    Reset guard(station_);
    station_.bind(1, station_id);
    if (!station_.step()) return std::nullopt;
    return StationEntry{std::string(station_id), station_.int64(0) != 0, station_.int64(1)};
}

std::optional<int64_t> SqliteReader::oldest_queued_at() {
    Reset guard(oldest_queued_);
    if (!oldest_queued_.step()) return std::nullopt;
    return oldest_queued_.int64(0);
}

DeadLetterPage SqliteReader::dead_letters(std::optional<int64_t> before_seq, size_t limit) {
    DeadLetterPage page;
    {
        Reset guard(dead_letters_);
        dead_letters_.bind(1, before_seq.value_or(INT64_MAX)).bind(2, static_cast<int64_t>(limit));
        while (dead_letters_.step()) page.items.push_back(request_view_at(dead_letters_));
    }
    Reset guard(failed_count_);
    if (failed_count_.step()) page.total = failed_count_.int64(0);
    return page;
}

std::optional<int64_t> SqliteReader::next_due_at() {
    Reset guard(next_due_);
    if (!next_due_.step()) return std::nullopt;
    return next_due_.opt_int64(0);
}

}  // namespace cg::store::sqlite
