#include "cli/commands.hpp"

int main(int argc, char** argv) { return cg::cli::run(argc, argv); }
