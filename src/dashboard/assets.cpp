#include "dashboard/assets.hpp"

#include "dashboard/embedded.hpp"

namespace cg::dashboard {

const Asset* find_asset(std::string_view name) {
    if (name.empty()) name = "index.html";
    // Three entries: a linear scan beats any index.
    for (const auto& entry : embedded_assets()) {
        if (entry.name == name) return &entry.asset;
    }
    return nullptr;
}

}  // namespace cg::dashboard
