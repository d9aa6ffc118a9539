#pragma once
// The callback body of docs/api.md §2 (its trace context headers: obs/trace.hpp).
#include <string>
#include <string_view>

#include "store/records.hpp"

namespace cg::delivery {

// {"request_id","station_id","driver_token","status","reason","decided_at"} in that order.
std::string callback_body(const store::DeliveryJob& job);

}  // namespace cg::delivery
