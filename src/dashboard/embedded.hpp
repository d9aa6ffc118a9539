#pragma once
// The table written at build time by cmake/embed_assets.cmake; only assets.cpp reads it.
#include <span>
#include <string_view>

#include "dashboard/assets.hpp"

namespace cg::dashboard {

struct NamedAsset {
    std::string_view name;  // file name under web/dashboard/, e.g. "app.js"
    Asset asset;
};

std::span<const NamedAsset> embedded_assets();

}  // namespace cg::dashboard
