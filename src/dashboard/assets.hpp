#pragma once
// The operator dashboard's files (web/dashboard/), built into the binary at build time so that
// /dashboard needs nothing on disk and no CDN. Thread-safe: the assets are immutable statics.
#include <string_view>

namespace cg::dashboard {

struct Asset {
    std::string_view content_type;  // e.g. "text/html; charset=utf-8"
    std::string_view body;
    std::string_view etag;  // quoted strong ETag, a hash of the body: "\"3f1c...\""
};

// name: "" or "index.html", "app.js", "app.css"; null when unknown. The returned asset lives as
// long as the program.
const Asset* find_asset(std::string_view name);

}  // namespace cg::dashboard
