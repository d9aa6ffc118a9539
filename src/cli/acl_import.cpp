#include "cli/acl_import.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "api/validation.hpp"
#include "common/text.hpp"

namespace cg::cli {

namespace {

// Where a row is, for error messages ("line 12", "entry 3"); only formatted when a row is bad,
// so that a million good rows cost no string each.
struct Where {
    const char* kind;
    size_t index;
    [[nodiscard]] std::string str() const {
        return std::string(kind) + " " + std::to_string(index);
    }
};

store::AclStatus parse_status(std::string_view s, const Where& where) {
    if (s == "allowed") return store::AclStatus::kAllowed;
    if (s == "blocked") return store::AclStatus::kBlocked;
    throw AclImportError(where.str() + ": status must be \"allowed\" or \"blocked\"");
}

std::string checked_token(std::string_view token, const Where& where) {
    if (!api::valid_driver_token(token)) {
        throw AclImportError(where.str() +
                             ": driver_token must be 20-80 characters of A-Z a-z 0-9 - . _ ~");
    }
    return std::string(token);
}

std::string checked_station(std::string_view s, const Where& where) {
    if (!is_canonical_uuid(s))
        throw AclImportError(where.str() + ": station \"" + std::string(s) + "\" is not a UUID");
    return to_lower_ascii(s);
}

int64_t checked_time(std::string_view s, const Where& where) {
    const auto t = parse_rfc3339_ms(s);
    if (!t) throw AclImportError(where.str() + ": expires_at must be an RFC 3339 time");
    return *t;
}

std::string_view trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Splits one CSV record (RFC 4180 quoting, no embedded newlines) into trimmed fields. Fields
// without quotes are views of `line`; a quoted field is unescaped into `storage`, which must
// not change while the fields are used.
std::vector<std::string_view> split_csv(std::string_view line, const Where& where,
                                        std::vector<std::string>& storage) {
    std::vector<std::string_view> fields;
    if (line.find('"') == std::string_view::npos) {  // the common case: no quotes, no copies
        size_t pos = 0;
        while (true) {
            const size_t comma = line.find(',', pos);
            fields.push_back(trim(line.substr(pos, comma - pos)));
            if (comma == std::string_view::npos) break;
            pos = comma + 1;
        }
        return fields;
    }
    storage.assign(1, std::string());
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                storage.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                storage.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            storage.emplace_back();
        } else {
            storage.back() += c;
        }
    }
    if (quoted) throw AclImportError(where.str() + ": unterminated quote");
    for (const auto& f : storage) fields.push_back(trim(f));
    return fields;
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
    // One entry per line at most: reserving once spares a million-row file the vector's
    // growth (each step moves every entry so far).
    out.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
    std::vector<std::string> storage;  // unescaped quoted fields of the current line
    size_t pos = 0;
    size_t lineno = 0;
    bool header_seen = false;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view raw = text.substr(pos, end - pos);
        pos = end + 1;
        const Where where{"line", ++lineno};
        if (trim(raw).empty()) continue;
        const auto fields = split_csv(raw, where, storage);
        if (!header_seen) {
            header_seen = true;
            if (fields.size() != 4 || fields[0] != "driver_token" || fields[1] != "status" ||
                fields[2] != "stations" || fields[3] != "expires_at") {
                throw AclImportError(
                    where.str() + ": expected the header driver_token,status,stations,expires_at");
            }
            continue;
        }
        if (fields.size() != 4) throw AclImportError(where.str() + ": expected 4 fields");
        store::AclEntry& e = out.emplace_back();
        e.driver_token = checked_token(fields[0], where);
        e.status = parse_status(fields[1], where);
        if (!fields[2].empty()) {
            std::vector<std::string> stations;
            const std::string_view list = fields[2];
            size_t p = 0;
            while (true) {
                const size_t q = list.find(';', p);
                stations.push_back(checked_station(trim(list.substr(p, q - p)), where));
                if (q == std::string_view::npos) break;
                p = q + 1;
            }
            e.stations = std::move(stations);
        }
        if (!fields[3].empty()) e.expires_at_ms = checked_time(fields[3], where);
        e.updated_at_ms = now_ms;
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
        const Where where{"entry", index++};
        if (!v.is_object()) throw AclImportError(where.str() + ": expected an object");
        const auto& o = v.as_object();
        store::AclEntry e;
        const auto* token = o.if_contains("driver_token");
        if (!token || !token->is_string())
            throw AclImportError(where.str() + ": driver_token missing");
        e.driver_token = checked_token(token->as_string(), where);
        const auto* status = o.if_contains("status");
        if (!status || !status->is_string()) throw AclImportError(where.str() + ": status missing");
        e.status = parse_status(status->as_string(), where);
        if (const auto* st = o.if_contains("stations"); st && !st->is_null()) {
            if (!st->is_array())
                throw AclImportError(where.str() + ": stations must be an array or null");
            std::vector<std::string> stations;
            for (const auto& s : st->as_array()) {
                if (!s.is_string())
                    throw AclImportError(where.str() + ": stations must be UUID strings");
                stations.push_back(checked_station(s.as_string(), where));
            }
            e.stations = std::move(stations);
        }
        if (const auto* ex = o.if_contains("expires_at"); ex && !ex->is_null()) {
            if (!ex->is_string())
                throw AclImportError(where.str() + ": expires_at must be a string");
            e.expires_at_ms = checked_time(ex->as_string(), where);
        }
        e.updated_at_ms = now_ms;
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace cg::cli
