// hearth-bench contenders: hearth through its public API, and the two
// baselines it is measured against (raw RocksDB and SQLite) doing the same
// appends with the same durability. Every Append* call returns the wall time
// of its whole loop in seconds; event generation is done before it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hearth/store.h"
#include "workload.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb
struct sqlite3;

namespace hearth::bench {

// Per writer thread, the single appends it makes in one timed slice.
using ThreadWork = std::vector<std::span<const SingleAppend>>;

// ---- hearth ----

struct HearthSetup {
  std::string path;
  std::string key_file;  // ignored when !encrypt
  bool encrypt = true;
  bool sync = true;
};
Result<std::unique_ptr<Store>> OpenHearth(const HearthSetup& setup, bool create);

// One Append per batch, expecting the stream's exact version (no-stream for
// its first batch), as an application using optimistic concurrency does.
Result<double> HearthAppendBatches(Store* store, std::span<const Batch> batches);

// One thread per element of `work`, each appending its events one per call
// with ExpectedVersion::Any.
Result<double> HearthAppendSingles(Store* store,
                                   const ThreadWork& work);

// ---- raw RocksDB: one log key (position -> event) and one stream-index key
// (stream 0x00 version -> position) per event, column families and table
// options as hearth's own log and stream index; WriteOptions.sync = true.

class RocksBaseline {
 public:
  // sync: WriteOptions.sync (the benchmark's durability; false only for --no-sync).
  static Result<std::unique_ptr<RocksBaseline>> Open(const std::string& path, bool sync);
  ~RocksBaseline();
  RocksBaseline(const RocksBaseline&) = delete;
  RocksBaseline& operator=(const RocksBaseline&) = delete;

  // One WriteBatch per batch.
  Result<double> AppendBatches(std::span<const Batch> batches);
  // One WriteBatch per event, one thread per element of `work`.
  Result<double> AppendSingles(const ThreadWork& work);
  // Keys in the log column family (a check, outside any timing).
  Result<uint64_t> CountLog();

 private:
  RocksBaseline() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  uint64_t next_position_ = 1;
  bool sync_ = true;
};

// ---- SQLite: WAL, synchronous=FULL, table
// events(position INTEGER PRIMARY KEY, stream TEXT, version INTEGER, data BLOB,
//        UNIQUE(stream, version)).

class SqliteBaseline {
 public:
  // sync: synchronous=FULL (the benchmark's durability), else OFF (--no-sync).
  static Result<std::unique_ptr<SqliteBaseline>> Open(const std::string& path, bool sync);
  ~SqliteBaseline();
  SqliteBaseline(const SqliteBaseline&) = delete;
  SqliteBaseline& operator=(const SqliteBaseline&) = delete;

  // One transaction per batch, one prepared INSERT per event.
  Result<double> AppendBatches(std::span<const Batch> batches);
  // One connection per thread (busy_timeout 10 s, then retried), one autocommit
  // INSERT per event.
  Result<double> AppendSingles(const ThreadWork& work);
  Result<uint64_t> CountRows();

 private:
  SqliteBaseline() = default;
  std::string path_;
  bool sync_ = true;
  sqlite3* db_ = nullptr;  // owned; closed in the destructor
};

}  // namespace hearth::bench
