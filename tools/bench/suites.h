// hearth-bench suites. Each runs its contenders in one process, on the same
// generated events, and returns its figures as one flat JSON object
// (docs/benchmarks.md says what every key means).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

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
  bool progress = true;              // progress lines on stderr
};

// Logs one progress line to stderr when options.progress.
void Progress(const SuiteOptions& options, const std::string& line);

Result<Json> RunAppendSuite(const SuiteOptions& options, const RunDir& dir);
Result<Json> RunCryptoSuite(const SuiteOptions& options, const RunDir& dir);
Result<Json> RunMerkleSuite(const SuiteOptions& options, const RunDir& dir);

// events / seconds, rounded to 0.1.
double Rate(uint64_t events, double seconds);
// Rounded to `digits` decimals, for readable JSON.
double Round(double value, int digits);

}  // namespace hearth::bench
