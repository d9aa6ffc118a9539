#pragma once
// The JSON views of a stored request: docs/api.md §3's status body, and the operators' views
// (docs/operations.md) built on it.
#include <boost/json/object.hpp>

#include "store/records.hpp"

namespace cg::api {

// The state to show: a queued request already handed to a worker (seq <= dispatched_up_to)
// is authorizing.
inline RequestState shown_state(const store::RequestView& v, int64_t dispatched_up_to) {
    if (v.state == RequestState::kQueued && v.seq <= dispatched_up_to) {
        return RequestState::kAuthorizing;
    }
    return v.state;
}

// docs/api.md §3 body (driver token masked) plus `attempts`, every attempt oldest first.
// `state` is the state to show (a queued request already handed to a worker shows as
// authorizing).
boost::json::object request_json(const store::RequestView& v, RequestState state);

// The §3 body plus what only operators see: callback_url, client_id and trace_id.
boost::json::object admin_request_json(const store::RequestView& v, RequestState state);

// One row of the dead-letter list.
boost::json::object dead_letter_json(const store::RequestView& v);

}  // namespace cg::api
