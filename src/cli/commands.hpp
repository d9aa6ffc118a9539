#pragma once

namespace cg::cli {

// Parses the command line and runs the chosen command; returns the process exit code.
// Errors are printed as one line on stderr with a non-zero exit code.
int run(int argc, char** argv);

}  // namespace cg::cli
