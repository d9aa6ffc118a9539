#pragma once
// Where the worker pool hands decided requests: the delivery engine in production (see
// app/), a recorder in tests.
#include <vector>

#include "store/records.hpp"

namespace cg::pipeline {

class DeliverySink {
  public:
    virtual ~DeliverySink() = default;
    // Takes decided requests whose decision is durable. Never blocks. Thread-safe.
    virtual void submit(std::vector<store::DeliveryJob> jobs) = 0;
    // False while the sink holds as much as it should; the pool then takes no new work.
    [[nodiscard]] virtual bool has_capacity() const = 0;
};

}  // namespace cg::pipeline
