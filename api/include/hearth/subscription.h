// hearth: catch-up subscriptions.
//
// A subscription delivers every event from a position onward, first the
// history and then live appends, in position order, with no gap and no
// duplicate, on its own thread. Only events whose append was acknowledged
// (durable) are delivered.
#pragma once

#include <functional>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth {

// Return false from the handler to end the subscription.
using EventHandler = std::function<bool(const RecordedEvent&)>;
// Called once when the subscription ends: OK when stopped or the handler
// returned false, otherwise the error that ended it.
using EndHandler = std::function<void(const Status&)>;

// A running subscription. Destroying it stops it and joins its thread.
// Not copyable. REQUIRES: destroyed before the Store it came from.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Stops delivery; returns after the handler has returned for the last time.
  virtual void Stop() = 0;
  // Position of the last event delivered (0 before the first).
  virtual uint64_t last_position() const = 0;
};

}  // namespace hearth
