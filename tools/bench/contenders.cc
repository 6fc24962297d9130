#include "contenders.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

namespace hearth::bench {

namespace {

// Runs `body(t)` on one thread per element of `work`, all released at once;
// returns the wall time from the release to the last thread's end, or the
// first error a thread reported.
template <typename Body>
Result<double> RunThreads(size_t threads, Body body) {
  std::latch ready(ptrdiff_t(threads) + 1);
  std::atomic<bool> go{false};
  std::mutex error_mu;
  Status first_error;
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.count_down();
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      Status s = body(t);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = s;
      }
    });
  }
  ready.arrive_and_wait();
  Stopwatch clock;
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  double seconds = clock.Seconds();
  if (!first_error.ok()) return first_error;
  return seconds;
}

void PutBE64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
}

std::string LogKey(uint64_t position) {
  std::string k;
  PutBE64(&k, position);
  return k;
}

std::string StreamKey(uint32_t stream, uint64_t version) {
  std::string k = Workload::StreamName(stream);
  k.push_back('\0');
  PutBE64(&k, version);
  return k;
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  return Status::IOError("rocksdb baseline: " + what + ": " + s.ToString());
}

}  // namespace

// ------------------------------------------------------------- hearth ----

Result<std::unique_ptr<Store>> OpenHearth(const HearthSetup& setup, bool create) {
  Options options;
  options.create_if_missing = create;
  options.encrypt = setup.encrypt;
  options.sync = setup.sync;
  if (setup.encrypt) options.key = KeySource::File(setup.key_file);
  return Store::Open(options, setup.path);
}

Result<double> HearthAppendBatches(Store* store, std::span<const Batch> batches) {
  std::string name;
  Stopwatch clock;
  for (const Batch& b : batches) {
    name = Workload::StreamName(b.stream);
    ExpectedVersion expected = b.first_version == 1 ? ExpectedVersion::NoStream()
                                                    : ExpectedVersion::Exact(b.first_version - 1);
    auto r = store->Append(name, expected, b.events);
    if (!r.ok()) return r.status();
  }
  return clock.Seconds();
}

Result<double> HearthAppendSingles(Store* store,
                                   const ThreadWork& work) {
  return RunThreads(work.size(), [&](size_t t) -> Status {
    std::string name;
    for (const SingleAppend& a : work[t]) {
      name = Workload::StreamName(a.stream);
      auto r = store->Append(name, ExpectedVersion::Any(), a.event);
      if (!r.ok()) return r.status();
    }
    return Status::OK();
  });
}

// ------------------------------------------------------------ RocksDB ----

Result<std::unique_ptr<RocksBaseline>> RocksBaseline::Open(const std::string& path, bool sync) {
  // The same engine settings hearth gives its own log and stream index
  // (store/log/store_impl.cc), so the comparison is of the work per append,
  // not of tuning.
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.db_write_buffer_size = 128ull << 20;
  auto cache = rocksdb::NewLRUCache(64ull << 20);
  auto make_cf = [&](bool compress, size_t write_buffer) {
    rocksdb::ColumnFamilyOptions cf;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf.compression = compress ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
    cf.write_buffer_size = write_buffer;
    cf.max_write_buffer_number = 3;
    return cf;
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, make_cf(true, 16ull << 20));
  cfs.emplace_back("log", make_cf(false, 64ull << 20));
  cfs.emplace_back("streams", make_cf(true, 16ull << 20));
  std::unique_ptr<RocksBaseline> out(new RocksBaseline());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, cfs, &out->handles_, &raw);
  if (!s.ok()) return FromRocks(s, "opening " + path);
  out->db_.reset(raw);
  out->sync_ = sync;
  return out;
}

RocksBaseline::~RocksBaseline() {
  if (!db_) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  db_->Close();
}

Result<double> RocksBaseline::AppendBatches(std::span<const Batch> batches) {
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  rocksdb::ColumnFamilyHandle* log = handles_[1];
  rocksdb::ColumnFamilyHandle* streams = handles_[2];
  Stopwatch clock;
  for (const Batch& b : batches) {
    rocksdb::WriteBatch batch;
    for (size_t k = 0; k < b.blobs.size(); ++k) {
      std::string key = LogKey(next_position_);
      batch.Put(log, key, b.blobs[k]);
      batch.Put(streams, StreamKey(b.stream, b.first_version + k), key);
      ++next_position_;
    }
    rocksdb::Status s = db_->Write(wo, &batch);
    if (!s.ok()) return FromRocks(s, "writing a batch");
  }
  return clock.Seconds();
}

Result<double> RocksBaseline::AppendSingles(const ThreadWork& work) {
  std::atomic<uint64_t> position{next_position_};
  rocksdb::ColumnFamilyHandle* log = handles_[1];
  rocksdb::ColumnFamilyHandle* streams = handles_[2];
  auto r = RunThreads(work.size(), [&](size_t t) -> Status {
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    for (const SingleAppend& a : work[t]) {
      rocksdb::WriteBatch batch;
      std::string key = LogKey(position.fetch_add(1));
      batch.Put(log, key, a.blob);
      batch.Put(streams, StreamKey(a.stream, a.version), key);
      rocksdb::Status s = db_->Write(wo, &batch);
      if (!s.ok()) return FromRocks(s, "writing one event");
    }
    return Status::OK();
  });
  next_position_ = position.load();
  return r;
}

Result<uint64_t> RocksBaseline::CountLog() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[1]));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  if (!it->status().ok()) return FromRocks(it->status(), "counting");
  return n;
}

// ------------------------------------------------------------- SQLite ----

namespace {

Status SqliteError(sqlite3* db, const std::string& what) {
  return Status::IOError("sqlite baseline: " + what + ": " + (db ? sqlite3_errmsg(db) : "no handle"));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError(std::string("sqlite baseline: ") + sql + ": " + msg);
  }
  return Status::OK();
}

// A connection with the durability settings of the benchmark.
Result<sqlite3*> Connect(const std::string& path, bool sync) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, "opening " + path);
    sqlite3_close(db);
    return s;
  }
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF"}) {
    Status s = Exec(db, pragma);
    if (!s.ok()) {
      sqlite3_close(db);
      return s;
    }
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

// An owned prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

const char kInsert[] = "INSERT INTO events(stream, version, data) VALUES (?1, ?2, ?3)";

Status Insert(sqlite3* db, sqlite3_stmt* stmt, const std::string& stream, uint64_t version,
              const std::string& blob) {
  sqlite3_reset(stmt);
  sqlite3_bind_text(stmt, 1, stream.data(), int(stream.size()), SQLITE_STATIC);
  sqlite3_bind_int64(stmt, 2, sqlite3_int64(version));
  sqlite3_bind_blob(stmt, 3, blob.data(), int(blob.size()), SQLITE_STATIC);
  // With 16 writers a connection can lose the write lock for longer than the
  // busy timeout (SQLite's busy handler sleeps and is not fair); an
  // application retries, and so does the benchmark.
  for (int attempt = 0;; ++attempt) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return Status::OK();
    if ((rc & 0xff) != SQLITE_BUSY || attempt >= 100) return SqliteError(db, "inserting an event");
    sqlite3_reset(stmt);
  }
}

}  // namespace

Result<std::unique_ptr<SqliteBaseline>> SqliteBaseline::Open(const std::string& path, bool sync) {
  auto db = Connect(path, sync);
  if (!db.ok()) return db.status();
  std::unique_ptr<SqliteBaseline> out(new SqliteBaseline());
  out->path_ = path;
  out->sync_ = sync;
  out->db_ = *db;
  Status s = Exec(out->db_,
                  "CREATE TABLE IF NOT EXISTS events("
                  "position INTEGER PRIMARY KEY, stream TEXT NOT NULL, version INTEGER NOT NULL, "
                  "data BLOB NOT NULL, UNIQUE(stream, version))");
  if (!s.ok()) return s;
  return out;
}

SqliteBaseline::~SqliteBaseline() { sqlite3_close(db_); }

Result<double> SqliteBaseline::AppendBatches(std::span<const Batch> batches) {
  Statement insert(db_, kInsert);
  if (insert.get() == nullptr) return SqliteError(db_, "preparing the insert");
  std::string name;
  Stopwatch clock;
  for (const Batch& b : batches) {
    name = Workload::StreamName(b.stream);
    Status s = Exec(db_, "BEGIN");
    for (size_t k = 0; s.ok() && k < b.blobs.size(); ++k) {
      s = Insert(db_, insert.get(), name, b.first_version + k, b.blobs[k]);
    }
    if (s.ok()) s = Exec(db_, "COMMIT");
    if (!s.ok()) return s;
  }
  return clock.Seconds();
}

Result<double> SqliteBaseline::AppendSingles(const ThreadWork& work) {
  std::vector<sqlite3*> connections;
  for (size_t t = 0; t < work.size(); ++t) {
    auto c = Connect(path_, sync_);
    if (!c.ok()) {
      for (sqlite3* db : connections) sqlite3_close(db);
      return c.status();
    }
    connections.push_back(*c);
  }
  auto r = RunThreads(work.size(), [&](size_t t) -> Status {
    sqlite3* db = connections[t];
    Statement insert(db, kInsert);
    if (insert.get() == nullptr) return SqliteError(db, "preparing the insert");
    std::string name;
    for (const SingleAppend& a : work[t]) {
      name = Workload::StreamName(a.stream);
      Status s = Insert(db, insert.get(), name, a.version, a.blob);
      if (!s.ok()) return s;
    }
    return Status::OK();
  });
  for (sqlite3* db : connections) sqlite3_close(db);
  return r;
}

Result<uint64_t> SqliteBaseline::CountRows() {
  Statement count(db_, "SELECT count(*) FROM events");
  if (count.get() == nullptr || sqlite3_step(count.get()) != SQLITE_ROW) {
    return SqliteError(db_, "counting");
  }
  return uint64_t(sqlite3_column_int64(count.get(), 0));
}

}  // namespace hearth::bench
