// Suite `append`: hearth against raw RocksDB and SQLite, batches of 100 to one
// stream and single events from 16 writers, all synced (DESIGN.md section 4).
#include <iostream>

#include "contenders.h"
#include "suites.h"

namespace hearth::bench {

namespace {

std::string Fmt(double eps) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f events/s", eps);
  return buf;
}

}  // namespace

void Progress(const SuiteOptions& options, const std::string& line) {
  if (options.progress) std::cerr << "hearth-bench: " << line << std::endl;
}

double Rate(uint64_t events, double seconds) {
  return seconds > 0 ? Round(double(events) / seconds, 1) : 0;
}

double Round(double value, int digits) {
  double scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  return std::round(value * scale) / scale;
}

Result<Json> RunAppendSuite(const SuiteOptions& options, const RunDir& dir) {
  const uint64_t n = options.events;
  const uint64_t cn =
      options.concurrent_events ? std::min(options.concurrent_events, n) : std::min<uint64_t>(n, 40000);
  Workload workload(n, options.seed);
  Progress(options, "append: generating " + std::to_string(n) + " events (" +
                        std::to_string(kEventBytes) + " B payload, " +
                        std::to_string(workload.streams()) + " streams, batches of " +
                        std::to_string(workload.batch_size()) + ")");
  std::vector<Batch> batches =
      workload.MakeBatches(0, workload.batches(), Shape::kWithPersonal, /*with_blobs=*/true);
  auto work = SplitForThreads(batches, cn, options.threads);

  Json out;
  out["events"] = n;
  out["event_bytes"] = kEventBytes;
  out["concurrent_events"] = cn;
  out["concurrent_threads"] = options.threads;

  // --- batches of 100, synced ---
  double hearth_batch = 0, rocks_batch = 0, sqlite_batch = 0;
  {
    HearthSetup setup{dir.Sub("hearth-batch"), dir.key_file(), true, true};
    auto store = OpenHearth(setup, true);
    if (!store.ok()) return store.status();
    auto t = HearthAppendBatches(store->get(), batches);
    if (!t.ok()) return t.status();
    auto info = (*store)->Info();
    if (!info.ok()) return info.status();
    if (info->last_position != n) {
      return Status::Corruption("hearth holds " + std::to_string(info->last_position) +
                                " events, expected " + std::to_string(n));
    }
    out["hearth_disk_bytes"] = info->disk_bytes;
    hearth_batch = Rate(n, *t);
    Progress(options, "append: hearth, batches of 100, synced: " + Fmt(hearth_batch));
  }
  {
    auto db = RocksBaseline::Open(dir.Sub("rocksdb-batch"));
    if (!db.ok()) return db.status();
    auto t = (*db)->AppendBatches(batches);
    if (!t.ok()) return t.status();
    auto count = (*db)->CountLog();
    if (!count.ok()) return count.status();
    if (*count != n) return Status::Corruption("rocksdb baseline holds the wrong number of events");
    rocks_batch = Rate(n, *t);
    Progress(options, "append: raw RocksDB, batches of 100, synced: " + Fmt(rocks_batch));
  }
  {
    auto db = SqliteBaseline::Open(dir.Sub("sqlite-batch.db"));
    if (!db.ok()) return db.status();
    auto t = (*db)->AppendBatches(batches);
    if (!t.ok()) return t.status();
    auto count = (*db)->CountRows();
    if (!count.ok()) return count.status();
    if (*count != n) return Status::Corruption("sqlite baseline holds the wrong number of events");
    sqlite_batch = Rate(n, *t);
    Progress(options, "append: SQLite WAL FULL, batches of 100: " + Fmt(sqlite_batch));
  }

  // --- single events from N writers, synced ---
  double hearth_conc = 0, rocks_conc = 0, sqlite_conc = 0;
  {
    HearthSetup setup{dir.Sub("hearth-concurrent"), dir.key_file(), true, true};
    auto store = OpenHearth(setup, true);
    if (!store.ok()) return store.status();
    auto t = HearthAppendSingles(store->get(), work);
    if (!t.ok()) return t.status();
    auto info = (*store)->Info();
    if (!info.ok()) return info.status();
    if (info->last_position != cn) return Status::Corruption("hearth lost concurrent appends");
    hearth_conc = Rate(cn, *t);
    Progress(options, "append: hearth, single events from " + std::to_string(options.threads) +
                          " threads, synced: " + Fmt(hearth_conc));
  }
  {
    auto db = RocksBaseline::Open(dir.Sub("rocksdb-concurrent"));
    if (!db.ok()) return db.status();
    auto t = (*db)->AppendSingles(work);
    if (!t.ok()) return t.status();
    auto count = (*db)->CountLog();
    if (!count.ok()) return count.status();
    if (*count != cn) return Status::Corruption("rocksdb baseline lost concurrent appends");
    rocks_conc = Rate(cn, *t);
    Progress(options, "append: raw RocksDB, single events from " + std::to_string(options.threads) +
                          " threads: " + Fmt(rocks_conc));
  }
  {
    auto db = SqliteBaseline::Open(dir.Sub("sqlite-concurrent.db"));
    if (!db.ok()) return db.status();
    auto t = (*db)->AppendSingles(work);
    if (!t.ok()) return t.status();
    auto count = (*db)->CountRows();
    if (!count.ok()) return count.status();
    if (*count != cn) return Status::Corruption("sqlite baseline lost concurrent appends");
    sqlite_conc = Rate(cn, *t);
    Progress(options, "append: SQLite, single events from " + std::to_string(options.threads) +
                          " connections: " + Fmt(sqlite_conc));
  }

  auto ratio = [](double a, double b) { return b > 0 ? Round(a / b, 3) : 0.0; };
  out["hearth_batch_eps"] = hearth_batch;
  out["rocksdb_batch_eps"] = rocks_batch;
  out["sqlite_batch_eps"] = sqlite_batch;
  out["ratio_rocksdb"] = ratio(hearth_batch, rocks_batch);
  out["ratio_sqlite"] = ratio(hearth_batch, sqlite_batch);
  out["hearth_concurrent_eps"] = hearth_conc;
  out["rocksdb_concurrent_eps"] = rocks_conc;
  out["sqlite_concurrent_eps"] = sqlite_conc;
  out["ratio_concurrent_rocksdb"] = ratio(hearth_conc, rocks_conc);
  out["ratio_concurrent_sqlite"] = ratio(hearth_conc, sqlite_conc);
  return out;
}

}  // namespace hearth::bench
