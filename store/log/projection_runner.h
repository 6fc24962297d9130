// The projection runner (api/include/hearth/projection.h, docs/format.md
// "projections"): each registered projection's state in the `projections`
// column family under "name 0x00", its checkpoint in the metadata under
// "proj/name". Inline projections fold in the commit's own batch (FoldInline,
// then CommitInline once the batch is written); asynchronous ones catch up
// on a thread of their own from their checkpoints; a rebuild starts one
// again from the first event. A projection that fails stops where it failed
// and says so; the log is never held back by it.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hearth/projection.h"
#include "hearth/status.h"
#include "log/commit_queue.h"

namespace hearth::log {

// What the runner needs of the engine: the committed log, read in order.
class CommittedLog {
 public:
  virtual ~CommittedLog() = default;
  virtual uint64_t Committed() = 0;
  // Events [from, from + max_count) of the committed log, facts only, into
  // `out` (reused); with `cursor`, one iterator kept from call to call.
  virtual Status ReadFactsInto(uint64_t from, size_t max_count, std::vector<RecordedEvent>* out,
                               std::unique_ptr<rocksdb::Iterator>* cursor) = 0;
  // Blocks until the log passes `position`, `timeout_ms` pass or the store closes.
  virtual void WaitPast(uint64_t position, int timeout_ms) = 0;
  virtual bool Closing() = 0;
};

class ProjectionRunner {
  struct Slot;  // one registered projection (projection_runner.cc)

 public:
  // `commits`: held while an inline projection is rebuilt, so that no
  // append folds into it meanwhile.
  ProjectionRunner(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* state, rocksdb::ColumnFamilyHandle* meta,
                   CommittedLog* log, CommitQueue* commits);
  ~ProjectionRunner();  // stops the asynchronous thread

  // Registers the projections (names checked, each once), resets the ones
  // whose stored version differs, brings the inline ones up to the log and
  // starts the asynchronous thread when any is asynchronous.
  Status Start(const std::vector<std::shared_ptr<Projection>>& projections);
  // Stops the asynchronous thread between pages; `wake` wakes it if it
  // waits for the log to grow.
  void Stop(const std::function<void()>& wake = nullptr);
  bool has_inline() const { return has_inline_; }

  // The inline projections' folds of one commit's events, into its batch.
  struct InlineOutcome {
    Slot* slot;
    ProjectionStatus status;
  };
  std::vector<InlineOutcome> FoldInline(const std::vector<RecordedEvent>& events, rocksdb::WriteBatch* batch);
  // After that batch is written: the statuses it carried become current.
  void CommitInline(const std::vector<InlineOutcome>& outcomes);

  // Every checkpoint in the metadata, registered projections as they stand.
  Status Stored(std::vector<ProjectionStatus>* out);
  std::vector<ProjectionStatus> Statuses();
  // Resets the named projections and folds the whole log into them, in one
  // pass. NotFound, with nothing reset, when a name is unknown; Corruption
  // naming each projection that stopped on an event (the others rebuilt).
  Status Rebuild(const std::vector<std::string>& names);
  Status WaitFor(const std::string& name, uint64_t position, int timeout_ms);
  Status Get(const std::string& name, std::string_view key, std::string* value);
  Status GetMany(const std::string& name, const std::vector<std::string>& keys,
                 std::vector<std::optional<std::string>>* values);
  Status Scan(const std::string& name, std::string_view prefix, std::string_view from,
              const std::function<bool(std::string_view key, std::string_view value)>& fn);

 private:
  Slot* Find(const std::string& name);
  void RunAsync();
  Status FoldFrom(const std::vector<Slot*>& slots, uint64_t from, uint64_t to, bool sync);
  Status Reset(Slot* slot);
  void PutCheckpoint(rocksdb::WriteBatch* batch, const ProjectionStatus& status);

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* state_;
  rocksdb::ColumnFamilyHandle* meta_;
  CommittedLog* log_;
  CommitQueue* commits_;
  // Slots are made by Start and never removed.
  std::vector<std::unique_ptr<Slot>> slots_;
  bool has_inline_ = false;
  mutable std::mutex mu_;       // guards every slot's status
  std::condition_variable cv_;  // a projection advanced or stopped
  std::mutex run_mu_;           // held while folding asynchronously or rebuilding
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace hearth::log
