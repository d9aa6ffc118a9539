#pragma once
// The W3C trace context (traceparent, tracestate) a request is accepted with, stored with it and
// sent on with its callback and its authorizer call (docs/api.md §2).
#include <string>
#include <string_view>

namespace cg::obs {

// A request's stored trace context (W3C Trace Context, docs/api.md §2): its `traceparent`, and
// when the request also carried a valid `tracestate`, one space and that tracestate. One text, so
// the stores keep it in their existing traceparent column (a traceparent never holds a space, and
// rows stored before tracestate was kept read as a traceparent alone).
// `incoming_traceparent` must be valid (see trace_id_of); an invalid `tracestate` is dropped.
std::string stored_trace_context(std::string_view incoming_traceparent,
                                 std::string_view incoming_tracestate);
// The traceparent part of a stored trace context.
std::string_view traceparent_of(std::string_view stored);
// The tracestate part of a stored trace context, forwarded as is on every outgoing call; empty
// when the request carried none.
std::string_view tracestate_of(std::string_view stored);

// True when `tracestate` may be forwarded: at most 512 characters (what every participant must
// pass on) and 32 list members, each `key=value` with a W3C key (lower-case letters, digits,
// `_-*/`, optionally `tenant@system`) and a value of printable ASCII without `,` and `=`.
bool valid_tracestate(std::string_view tracestate);

// A traceparent for an outgoing call: keeps the trace id of a valid incoming `traceparent`
// ("00-<32 hex>-<16 hex>-<2 hex>", ids not all zero) with a new span id, or starts a new trace.
// A stored trace context may be given: its tracestate part is ignored.
std::string make_traceparent(std::string_view incoming);

// The 32-hex trace id of a valid traceparent (or of a stored trace context's), or empty.
std::string trace_id_of(std::string_view traceparent);

}  // namespace cg::obs
