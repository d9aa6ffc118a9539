#pragma once
#include <stdexcept>

namespace cg::store {

// Start-up failure of a store (unreadable, corrupt or foreign file, newer schema, ...). The
// message is one line meant for the operator.
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace cg::store
