// hearth-bench suites. Each runs its contenders in one process, on the same
// generated events, and returns its figures as one flat JSON object
// (docs/benchmarks.md says what every key means).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "county.h"
#include "hearth/status.h"
#include "workload.h"

namespace hearth::bench {

// Keys keep the order they were set in, so the output reads like the suite ran.
using Json = nlohmann::ordered_json;

struct SuiteOptions {
  uint64_t events = 200000;          // events per contender (--events)
  uint64_t concurrent_events = 0;    // single-event phase; 0: min(events, 40000)
  uint32_t threads = 16;             // writers in the single-event phase
  uint64_t seed = 20261123;          // workload seed
  uint64_t synced_events = 200000;   // merkle: events appended synced; the rest bulk-loaded
  uint32_t proof_samples = 1000;     // merkle: proofs of each kind timed
  uint32_t rounds = 10;              // slices the contenders take turns on
  bool sync = true;                  // false (--no-sync): durability off for every contender
  uint32_t scale = 4;                // projections: demo county scale of the large store (--scale)
  std::string county_dir;            // sar, exports: keep the large county here and reuse it (--county)
  bool progress = true;              // progress lines on stderr
  // scale: the two counties compared (the large one is `scale`).
  uint32_t small_scale = 1;          // --small-scale
  uint32_t small_cases = 0;          // --small-cases: cases per district of the small county (0: all)
  uint32_t large_cases = 0;          // --large-cases: ... of the large one
  double max_rss_growth = 1.5;       // --max-rss-growth: a command growing more fails the run
  bool keep_stores = false;          // --keep
  // soak: how long `hearth serve` runs under mixed load, and how fast.
  double minutes = 60;               // --minutes
  uint32_t rate = 100;               // --rate: requests a second over all connections
};

// A contender in an interleaved measurement: `run(r)` does slice r of its
// work and returns the wall seconds it took.
struct Contender {
  std::string name;
  std::function<Result<double>(uint32_t round)> run;
  double seconds = 0;      // wall time, summed over rounds
  double cpu_seconds = 0;  // CPU time of the whole process meanwhile (all threads,
                           // RocksDB's background work included)
};

// The contenders take turns, slice by slice, in an order that rotates every
// round, so that a slow spell of the shared disk (fsync latency here varies
// by several times from minute to minute) falls on all of them alike rather
// than on whichever ran in that minute.
Status RunInterleaved(uint32_t rounds, std::vector<Contender>* contenders);

// Slice r of `rounds` equal slices of [0, n).
inline std::pair<size_t, size_t> SliceOf(size_t n, uint32_t r, uint32_t rounds) {
  return {n * r / rounds, n * (r + 1) / rounds};
}
template <typename T>
std::span<const T> Slice(const std::vector<T>& v, uint32_t r, uint32_t rounds) {
  auto [b, e] = SliceOf(v.size(), r, rounds);
  return std::span<const T>(v.data() + b, e - b);
}

// Logs one progress line to stderr when options.progress.
void Progress(const SuiteOptions& options, const std::string& line);

Result<Json> RunAppendSuite(const SuiteOptions& options, const RunDir& dir);
Result<Json> RunCryptoSuite(const SuiteOptions& options, const RunDir& dir);
Result<Json> RunMerkleSuite(const SuiteOptions& options, const RunDir& dir);
Result<Json> RunProjectionsSuite(const SuiteOptions& options, const RunDir& dir);
Result<Json> RunServerSuite(const SuiteOptions& options, const RunDir& dir);  // server_suite.cc
Result<Json> RunSarSuite(const SuiteOptions& options, const RunDir& dir);     // sar_suite.cc
Result<Json> RunExportsSuite(const SuiteOptions& options, const RunDir& dir);  // exports_suite.cc
Result<Json> RunConsoleSuite(const SuiteOptions& options, const RunDir& dir);  // console_suite.cc
Result<Json> RunSoakSuite(const SuiteOptions& options, const RunDir& dir);  // server_suite.cc
Result<Json> RunReplicationSuite(const SuiteOptions& options, const RunDir& dir);  // replication_suite.cc
Result<Json> RunScaleSuite(const SuiteOptions& options, const RunDir& dir);        // scale_suite.cc

// The large demo county of the sar and exports suites: generated under the
// run directory, or with --county DIR generated once into DIR (with its own
// key file, DIR/county.key) and reused by later runs with the same seed and
// scale, so that a 10-million-event store is built only once.
struct CountyStore {
  std::string path;
  std::string key_file;
};
Result<CountyStore> LargeCounty(const SuiteOptions& options, const RunDir& dir, const std::string& name,
                                const demo::CountyOptions& county);

// events / seconds, rounded to 0.1.
double Rate(uint64_t events, double seconds);
// Rounded to `digits` decimals, for readable JSON.
double Round(double value, int digits);

// A demo county made by `hearth demo` as a process (scale_suite.cc): with
// --county D, D/scale-seed<S>-scale<K>[-cases<N>]/store with the key
// D/scale.key, generated once and reused; without, in the run's directory.
struct DemoCounty {
  std::string base, data, key;
  bool kept = false;
  double demo_seconds = 0, demo_rss_mib = 0;  // the generation's (stored with a kept county)
};
Result<DemoCounty> EnsureDemoCounty(const SuiteOptions& options, const RunDir& dir, const std::string& hearth,
                                    uint32_t scale, uint32_t cases, const std::string& label);

}  // namespace hearth::bench
