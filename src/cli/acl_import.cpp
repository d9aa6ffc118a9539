#include "cli/acl_import.hpp"

#include <boost/json.hpp>

#include "api/validation.hpp"
#include "common/text.hpp"

namespace cg::cli {

namespace {

store::AclStatus parse_status(std::string_view s, const std::string& where) {
    if (s == "allowed") return store::AclStatus::kAllowed;
    if (s == "blocked") return store::AclStatus::kBlocked;
    throw AclImportError(where + ": status must be \"allowed\" or \"blocked\"");
}

std::string checked_token(std::string_view token, const std::string& where) {
    if (!api::valid_driver_token(token)) {
        throw AclImportError(where +
                             ": driver_token must be 20-80 characters of A-Z a-z 0-9 - . _ ~");
    }
    return std::string(token);
}

std::string checked_station(std::string_view s, const std::string& where) {
    if (!is_canonical_uuid(s))
        throw AclImportError(where + ": station \"" + std::string(s) + "\" is not a UUID");
    return to_lower_ascii(s);
}

int64_t checked_time(std::string_view s, const std::string& where) {
    const auto t = parse_rfc3339_ms(s);
    if (!t) throw AclImportError(where + ": expires_at must be an RFC 3339 time");
    return *t;
}

// Splits one CSV record (RFC 4180 quoting, no embedded newlines).
std::vector<std::string> split_csv(std::string_view line, const std::string& where) {
    std::vector<std::string> out(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                out.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                out.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            out.emplace_back();
        } else {
            out.back() += c;
        }
    }
    if (quoted) throw AclImportError(where + ": unterminated quote");
    return out;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    return std::string(s.substr(b, s.find_last_not_of(" \t\r") - b + 1));
}

}  // namespace

AclFormat acl_format_for(const std::string& path, const std::string& format) {
    if (format == "csv") return AclFormat::kCsv;
    if (format == "json") return AclFormat::kJson;
    if (!format.empty()) throw AclImportError("--format must be csv or json");
    auto ends_with = [&](std::string_view suffix) {
        return path.size() >= suffix.size() &&
               to_lower_ascii(path.substr(path.size() - suffix.size())) == suffix;
    };
    if (ends_with(".csv")) return AclFormat::kCsv;
    if (ends_with(".json")) return AclFormat::kJson;
    throw AclImportError(path + ": cannot tell the format from the name; pass --format csv|json");
}

std::vector<store::AclEntry> parse_acl_csv(std::string_view text, int64_t now_ms) {
    std::vector<store::AclEntry> out;
    size_t pos = 0;
    int lineno = 0;
    bool header_seen = false;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view raw = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineno;
        const std::string where = "line " + std::to_string(lineno);
        if (trim(raw).empty()) continue;
        auto fields = split_csv(raw, where);
        for (auto& f : fields) f = trim(f);
        if (!header_seen) {
            header_seen = true;
            if (fields.size() != 4 || fields[0] != "driver_token" || fields[1] != "status" ||
                fields[2] != "stations" || fields[3] != "expires_at") {
                throw AclImportError(
                    where + ": expected the header driver_token,status,stations,expires_at");
            }
            continue;
        }
        if (fields.size() != 4) throw AclImportError(where + ": expected 4 fields");
        store::AclEntry e;
        e.driver_token = checked_token(fields[0], where);
        e.status = parse_status(fields[1], where);
        if (!fields[2].empty()) {
            std::vector<std::string> stations;
            size_t p = 0;
            while (p <= fields[2].size()) {
                size_t q = fields[2].find(';', p);
                if (q == std::string::npos) q = fields[2].size();
                stations.push_back(checked_station(trim(fields[2].substr(p, q - p)), where));
                p = q + 1;
            }
            e.stations = std::move(stations);
        }
        if (!fields[3].empty()) e.expires_at_ms = checked_time(fields[3], where);
        e.updated_at_ms = now_ms;
        out.push_back(std::move(e));
    }
    if (!header_seen) throw AclImportError("line 1: the file is empty");
    return out;
}

std::vector<store::AclEntry> parse_acl_json(std::string_view text, int64_t now_ms) {
    boost::system::error_code ec;
    const auto doc = boost::json::parse(text, ec);
    if (ec) throw AclImportError("not valid JSON: " + ec.message());
    if (!doc.is_array()) throw AclImportError("expected a JSON array of ACL entries");
    std::vector<store::AclEntry> out;
    out.reserve(doc.as_array().size());
    size_t index = 0;
    for (const auto& v : doc.as_array()) {
        const std::string where = "entry " + std::to_string(index++);
        if (!v.is_object()) throw AclImportError(where + ": expected an object");
        const auto& o = v.as_object();
        store::AclEntry e;
        const auto* token = o.if_contains("driver_token");
        if (!token || !token->is_string()) throw AclImportError(where + ": driver_token missing");
        e.driver_token = checked_token(token->as_string(), where);
        const auto* status = o.if_contains("status");
        if (!status || !status->is_string()) throw AclImportError(where + ": status missing");
        e.status = parse_status(status->as_string(), where);
        if (const auto* st = o.if_contains("stations"); st && !st->is_null()) {
            if (!st->is_array())
                throw AclImportError(where + ": stations must be an array or null");
            std::vector<std::string> stations;
            for (const auto& s : st->as_array()) {
                if (!s.is_string()) throw AclImportError(where + ": stations must be UUID strings");
                stations.push_back(checked_station(s.as_string(), where));
            }
            e.stations = std::move(stations);
        }
        if (const auto* ex = o.if_contains("expires_at"); ex && !ex->is_null()) {
            if (!ex->is_string()) throw AclImportError(where + ": expires_at must be a string");
            e.expires_at_ms = checked_time(ex->as_string(), where);
        }
        e.updated_at_ms = now_ms;
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace cg::cli
