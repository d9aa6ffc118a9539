#pragma once
// `chargegate acl import FILE`: checks every row of a CSV or JSON file (acl_import.hpp), then
// writes them to the configured store in chunks, with a progress bar on stderr.
#include <string>

#include "cli/progress.hpp"
#include "config/config.hpp"

namespace cg::cli {

// Returns the exit code; throws (one-line message) on a bad file or a failed write. Nothing is
// written when any row is bad. Rows are written in driver-token order, in chunks of one
// transaction each; a failed write leaves the chunks that committed in place and says how many
// rows that was.
int import_acl(const config::Config& cfg, const std::string& path, const std::string& format,
               ProgressMode progress);

}  // namespace cg::cli
