// hearth: projections — deterministic folds of the log into read-model state.
//
// A projection sees events in position order, facts only (personal sections
// are never given to projections, so no read model holds personal data), and
// writes its state through a ProjectionState. Its state and its checkpoint
// (the last position folded) are written in one RocksDB batch, so after a
// crash a projection resumes exactly where its state ends. State can always be
// rebuilt from the log: RebuildProjection produces byte-identical state.
//
// Projections are passed in Options::projections when the store is opened;
// main() builds them (no global registry).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth {

// A projection's own key space. Reads see the writes of the current batch.
class ProjectionState {
 public:
  virtual ~ProjectionState() = default;
  // NotFound when absent.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
};

enum class ProjectionMode : uint8_t {
  kInline,  // folded in the append's own batch: never behind the log
  kAsync,   // folded by a background catch-up from its checkpoint
};

class Projection {
 public:
  virtual ~Projection() = default;
  // Unique and stable: 1 to 64 of [a-z0-9_-]. Names the state's key space.
  virtual std::string name() const = 0;
  // Bump when Apply changes meaning: the store then rebuilds the state on open.
  virtual uint32_t version() const = 0;
  virtual ProjectionMode mode() const { return ProjectionMode::kAsync; }
  // Folds one event. REQUIRES: deterministic — the same events in the same
  // order give the same state bytes. An error status or an exception stops
  // the projection at this event: it is reported (ProjectionStatus), never
  // skipped, and stays stopped until rebuilt.
  virtual Status Apply(const RecordedEvent& event, ProjectionState& state) = 0;

  // Batches: the runtime folds events in batches (an append group, or a page
  // of up to 1,000 events when catching up or rebuilding) and calls Flush
  // once before it writes a batch, so a projection may keep decoded state in
  // memory across the Apply calls of one batch and write it out here. When a
  // batch is dropped (an Apply failed), Discard is called instead and the
  // batch's writes are not kept. Both run on the thread that called Apply.
  virtual Status Flush(ProjectionState& state) { return Status::OK(); }
  virtual void Discard() {}
};

struct ProjectionStatus {
  std::string name;
  uint32_t version = 0;
  ProjectionMode mode = ProjectionMode::kAsync;
  uint64_t position = 0;         // last position folded into the state
  bool stopped = false;          // true after a failure, until rebuilt
  uint64_t failed_position = 0;  // the event it failed on
  std::string error;             // why
};

}  // namespace hearth
