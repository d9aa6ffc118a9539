#pragma once
// The callback body of docs/api.md §2 and the W3C trace context sent with it.
#include <string>
#include <string_view>

#include "store/records.hpp"

namespace cg::delivery {

// {"request_id","station_id","driver_token","status","reason","decided_at"} in that order.
std::string callback_body(const store::DeliveryJob& job);

// A traceparent for an outgoing call: keeps the trace id of a valid incoming `traceparent`
// ("00-<32 hex>-<16 hex>-<2 hex>", ids not all zero) with a new span id, or starts a new trace.
std::string make_traceparent(std::string_view incoming);

// The 32-hex trace id of a valid traceparent, or empty.
std::string trace_id_of(std::string_view traceparent);

}  // namespace cg::delivery
