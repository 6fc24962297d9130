// Suite `append`: hearth against raw RocksDB and SQLite, batches of 100 to one
// stream and single events from 16 writers, all synced (DESIGN.md section 4).
#include <cmath>
#include <iostream>

#include "contenders.h"
#include "suites.h"

namespace hearth::bench {

void Progress(const SuiteOptions& options, const std::string& line) {
  if (options.progress) std::cerr << "hearth-bench: " << line << std::endl;
}

double Rate(uint64_t events, double seconds) {
  return seconds > 0 ? Round(double(events) / seconds, 1) : 0;
}

double Round(double value, int digits) {
  double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

Status RunInterleaved(uint32_t rounds, std::vector<Contender>* contenders) {
  const size_t n = contenders->size();
  for (uint32_t r = 0; r < rounds; ++r) {
    for (size_t k = 0; k < n; ++k) {
      Contender& c = (*contenders)[(r + k) % n];
      double cpu = ProcessCpuSeconds();
      auto t = c.run(r);
      c.cpu_seconds += ProcessCpuSeconds() - cpu;
      if (!t.ok()) return Status::IOError(c.name + ": " + t.status().ToString());
      c.seconds += *t;
    }
  }
  return Status::OK();
}

namespace {

// Slice r of every thread's work.
ThreadWork SliceWork(const std::vector<std::vector<SingleAppend>>& work, uint32_t r,
                     uint32_t rounds) {
  ThreadWork out;
  for (const auto& w : work) out.push_back(Slice(w, r, rounds));
  return out;
}

std::string Eps(double eps) { return std::to_string(int64_t(eps)) + " events/s"; }

}  // namespace

Result<Json> RunAppendSuite(const SuiteOptions& options, const RunDir& dir) {
  const uint64_t n = options.events;
  const uint64_t cn = options.concurrent_events ? std::min(options.concurrent_events, n)
                                                : std::min<uint64_t>(n, 40000);
  const uint32_t rounds = uint32_t(std::min<uint64_t>(options.rounds, std::max<uint64_t>(1, n / 100)));
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
  out["rounds"] = rounds;
  out["synced"] = options.sync;

  // --- batches of 100 ---
  HearthSetup batch_setup{dir.Sub("hearth-batch"), dir.key_file(), true, options.sync};
  auto hearth = OpenHearth(batch_setup, true);
  if (!hearth.ok()) return hearth.status();
  auto rocks = RocksBaseline::Open(dir.Sub("rocksdb-batch"), options.sync);
  if (!rocks.ok()) return rocks.status();
  auto sqlite = SqliteBaseline::Open(dir.Sub("sqlite-batch.db"), options.sync);
  if (!sqlite.ok()) return sqlite.status();
  std::vector<Contender> batch_runs = {
      {"hearth", [&](uint32_t r) { return HearthAppendBatches(hearth->get(), Slice(batches, r, rounds)); }},
      {"rocksdb", [&](uint32_t r) { return (*rocks)->AppendBatches(Slice(batches, r, rounds)); }},
      {"sqlite", [&](uint32_t r) { return (*sqlite)->AppendBatches(Slice(batches, r, rounds)); }},
  };
  Progress(options, "append: batches of 100" + std::string(options.sync ? ", synced" : ", NOT synced") +
                        ", " + std::to_string(rounds) + " interleaved rounds");
  Status s = RunInterleaved(rounds, &batch_runs);
  if (!s.ok()) return s;
  {
    auto info = (*hearth)->Info();
    if (!info.ok()) return info.status();
    if (info->last_position != n) return Status::Corruption("hearth holds the wrong number of events");
    out["hearth_disk_bytes"] = info->disk_bytes;
    auto rc = (*rocks)->CountLog();
    if (!rc.ok()) return rc.status();
    auto sc = (*sqlite)->CountRows();
    if (!sc.ok()) return sc.status();
    if (*rc != n || *sc != n) return Status::Corruption("a baseline holds the wrong number of events");
  }
  hearth->reset();
  rocks->reset();
  sqlite->reset();
  double hearth_batch = Rate(n, batch_runs[0].seconds);
  double rocks_batch = Rate(n, batch_runs[1].seconds);
  double sqlite_batch = Rate(n, batch_runs[2].seconds);
  Progress(options, "append: hearth " + Eps(hearth_batch) + ", raw RocksDB " + Eps(rocks_batch) +
                        ", SQLite " + Eps(sqlite_batch));

  // --- single events from N writers ---
  HearthSetup conc_setup{dir.Sub("hearth-concurrent"), dir.key_file(), true, options.sync};
  hearth = OpenHearth(conc_setup, true);
  if (!hearth.ok()) return hearth.status();
  rocks = RocksBaseline::Open(dir.Sub("rocksdb-concurrent"), options.sync);
  if (!rocks.ok()) return rocks.status();
  sqlite = SqliteBaseline::Open(dir.Sub("sqlite-concurrent.db"), options.sync);
  if (!sqlite.ok()) return sqlite.status();
  const uint32_t crounds = uint32_t(std::min<uint64_t>(rounds, std::max<uint64_t>(1, cn / 1000)));
  std::vector<Contender> single_runs = {
      {"hearth", [&](uint32_t r) { return HearthAppendSingles(hearth->get(), SliceWork(work, r, crounds)); }},
      {"rocksdb", [&](uint32_t r) { return (*rocks)->AppendSingles(SliceWork(work, r, crounds)); }},
      {"sqlite", [&](uint32_t r) { return (*sqlite)->AppendSingles(SliceWork(work, r, crounds)); }},
  };
  Progress(options, "append: single events from " + std::to_string(options.threads) + " writers, " +
                        std::to_string(crounds) + " interleaved rounds");
  s = RunInterleaved(crounds, &single_runs);
  if (!s.ok()) return s;
  {
    auto info = (*hearth)->Info();
    if (!info.ok()) return info.status();
    auto rc = (*rocks)->CountLog();
    if (!rc.ok()) return rc.status();
    auto sc = (*sqlite)->CountRows();
    if (!sc.ok()) return sc.status();
    if (info->last_position != cn || *rc != cn || *sc != cn) {
      return Status::Corruption("a contender lost single-event appends");
    }
  }
  double hearth_conc = Rate(cn, single_runs[0].seconds);
  double rocks_conc = Rate(cn, single_runs[1].seconds);
  double sqlite_conc = Rate(cn, single_runs[2].seconds);
  Progress(options, "append: hearth " + Eps(hearth_conc) + ", raw RocksDB " + Eps(rocks_conc) +
                        ", SQLite " + Eps(sqlite_conc));

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
  // CPU per event (whole process while each contender ran): shows the work
  // each does apart from waiting for fsync, and is not disturbed by other
  // processes competing for the cores.
  auto cpu_us = [](const Contender& c, uint64_t events) { return Round(c.cpu_seconds / double(events) * 1e6, 2); };
  out["hearth_batch_cpu_us_per_event"] = cpu_us(batch_runs[0], n);
  out["rocksdb_batch_cpu_us_per_event"] = cpu_us(batch_runs[1], n);
  out["sqlite_batch_cpu_us_per_event"] = cpu_us(batch_runs[2], n);
  out["hearth_concurrent_cpu_us_per_event"] = cpu_us(single_runs[0], cn);
  out["rocksdb_concurrent_cpu_us_per_event"] = cpu_us(single_runs[1], cn);
  out["sqlite_concurrent_cpu_us_per_event"] = cpu_us(single_runs[2], cn);
  return out;
}

}  // namespace hearth::bench
