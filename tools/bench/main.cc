// hearth-bench: hearth against its baselines, in one process run, on the same
// events. See docs/benchmarks.md.
//
//   hearth-bench append|crypto|merkle|all [--events N] [--json] [--dir D]
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "suites.h"

namespace {

using hearth::bench::Json;

struct Target {
  const char* key;
  bool at_least;  // true: value >= limit; false: value <= limit
  double limit;
  const char* what;
};

// DESIGN.md section 4 and issues 2-4. Printed for people; never asserted.
const Target kTargets[] = {
    {"hearth_batch_eps", true, 100000, "batches of 100, synced"},
    {"ratio_sqlite", true, 1.0, "ahead of SQLite on the same batches"},
    {"hearth_concurrent_eps", true, 20000, "16 single-event writers, synced"},
    {"ratio_concurrent_sqlite", true, 5.0, "16 writers: 5x SQLite"},
    {"append_cost_pct", false, 25, "encryption's cost to appends"},
    {"read_cost_pct", false, 35, "encryption's cost to full reads"},
    {"merkle_overhead_pct", false, 10, "incremental tree's share of append time"},
    {"verify_leaves_per_s", true, 1000000, "full verification"},
    {"inclusion_proof_us_p99", false, 1000, "inclusion proof, p99"},
    {"consistency_proof_us_p99", false, 1000, "consistency proof, p99"},
    {"rebuild_eps", true, 300000, "projection rebuild"},
    {"replay_eps", true, 300000, "projection replay (async catch-up from zero)"},
    {"timeline_ms_p99", false, 20, "one case's timeline with proofs"},
    {"server_reads_per_s", true, 20000, "TLS, 64 connections, one-event reads"},
    {"server_appends_per_s", true, 10000, "TLS, 64 connections, synced single events"},
    {"server_read_p99_ms", false, 5, "read latency under that load, p99"},
    {"server_rss_mib_1000_idle", false, 300, "hearth serve with 1,000 idle connections"},
    {"console_worklist_ms_p99", false, 300, "console: a district's worklist, server time"},
    {"console_timeline100_ms_p99", false, 300, "console: a 100-event timeline with proofs"},
    {"scale_demo_large_eps", true, 150000, "scale: the bulk load (hearth demo)"},
    {"scale_worklist_d1_large_s", false, 0.3, "scale: a district's worklist, large county"},
    {"scale_export_kpi_year_large_s", false, 2, "scale: a year's KPI return, large county"},
    {"scale_export_cases_q1_large_s", false, 5, "scale: a quarter's case extract, large county"},
    {"scale_large_rss_mib_max", false, 300, "scale: the largest peak memory of a command, large county"},
    {"scale_rss_growth_max", false, 1.5, "scale: peak memory growth, small to large county"},
    {"soak_rss_mib_max", false, 300, "soak: hearth serve's peak memory under mixed load"},
};

void PrintHuman(const Json& figures) {
  for (const auto& [key, value] : figures.items()) {
    std::printf("  %-32s %s\n", key.c_str(), value.dump().c_str());
  }
  bool header = false;
  for (const Target& t : kTargets) {
    if (!figures.contains(t.key)) continue;
    if (!header) {
      std::printf("targets:\n");
      header = true;
    }
    double v = figures[t.key].get<double>();
    bool hit = t.at_least ? v >= t.limit : v <= t.limit;
    std::printf("  %-4s %-26s %s %g (%s): %g\n", hit ? "hit" : "MISS", t.key,
                t.at_least ? ">=" : "<=", t.limit, t.what, v);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hearth-bench: hearth against raw RocksDB and SQLite on the same events"};
  std::string suite;
  std::string dir;
  bool json = false, keep = false, quiet = false;
  hearth::bench::SuiteOptions options;
  app.add_option("suite", suite,
                 "append | crypto | merkle | projections | server | sar | exports | console | replication | scale | soak | all")
      ->required()
      ->check(CLI::IsMember(
          {"append", "crypto", "merkle", "projections", "server", "sar", "exports", "console", "replication", "scale",
                         "soak", "all"}));
  app.add_option("--events", options.events, "events per contender")
      ->check(CLI::Range(uint64_t(1), uint64_t(1) << 40));
  app.add_option("--concurrent-events", options.concurrent_events,
                 "events in the single-event writer phase (default: min(events, 40000))");
  app.add_option("--threads", options.threads, "writers in the single-event phase")
      ->check(CLI::Range(1, 1024));
  app.add_option("--seed", options.seed, "workload seed");
  app.add_option("--synced-events", options.synced_events,
                 "merkle: events appended synced and timed; the rest are bulk-loaded with sync off");
  app.add_option("--proof-samples", options.proof_samples, "merkle: proofs of each kind timed")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--rounds", options.rounds,
                 "slices the contenders take turns on (interleaved, rotating order)")
      ->check(CLI::Range(1, 1000));
  bool no_sync = false;
  app.add_flag("--no-sync", no_sync,
               "diagnostic: durability off for every contender (shows CPU cost without fsync); "
               "never for the targets");
  app.add_option("--scale", options.scale, "projections, scale, soak: demo county scale of the large store")
      ->check(CLI::Range(1, 1000));
  app.add_option("--small-scale", options.small_scale, "scale: demo county scale of the small store (default 1)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--small-cases", options.small_cases,
                 "scale: at most this many cases per district in the small county (default: all)");
  app.add_option("--large-cases", options.large_cases,
                 "scale, soak: at most this many cases per district in the large county (default: all)");
  app.add_option("--minutes", options.minutes, "soak: how long hearth serve runs under load (default 60)")
      ->check(CLI::Range(0.05, 24.0 * 60));
  app.add_option("--rate", options.rate, "soak: requests a second over all connections (default 100)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-rss-growth", options.max_rss_growth,
                 "scale: a command whose peak memory grows more than this many times from the small "
                 "county to the large one fails the run (default 1.5)")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--county", options.county_dir,
                 "projections, sar, exports, scale, soak: generate the large demo county once into this directory and reuse it");
  app.add_option("--dir", dir, "parent of the run's store directories (default: the temp dir)");
  app.add_flag("--json", json, "print one JSON object with every figure");
  app.add_flag("--keep", keep, "keep the stores after the run");
  app.add_flag("--quiet", quiet, "no progress lines on stderr");
  CLI11_PARSE(app, argc, argv);
  options.progress = !quiet;
  options.keep_stores = keep;
  options.sync = !no_sync;

  auto run_dir = hearth::bench::RunDir::Create(dir, keep);
  if (!run_dir.ok()) {
    std::cerr << "hearth-bench: " << run_dir.status().ToString() << "\n";
    return 1;
  }
  hearth::bench::Progress(options, "stores under " + (*run_dir)->path() +
                                       (keep ? " (kept)" : " (removed at the end)"));
  Json figures = Json::object();
  auto run = [&](const std::string& name, auto fn) -> bool {
    if (suite != name && suite != "all") return true;
    auto r = fn(options, **run_dir);
    if (!r.ok()) {
      std::cerr << "hearth-bench " << name << ": " << r.status().ToString() << "\n";
      return false;
    }
    figures.update(*r);
    return true;
  };
  bool ok = run("append", hearth::bench::RunAppendSuite) &&
            run("crypto", hearth::bench::RunCryptoSuite) &&
            run("merkle", hearth::bench::RunMerkleSuite) &&
            run("projections", hearth::bench::RunProjectionsSuite) &&
            run("server", hearth::bench::RunServerSuite) &&
            run("sar", hearth::bench::RunSarSuite) &&
            run("exports", hearth::bench::RunExportsSuite) &&
            run("console", hearth::bench::RunConsoleSuite) &&
            run("replication", hearth::bench::RunReplicationSuite) &&
            run("scale", hearth::bench::RunScaleSuite) &&
            // An hour by default: only when asked for by name, never in `all`.
            (suite != "soak" || run("soak", hearth::bench::RunSoakSuite));
  if (!ok) return 1;
  if (json) {
    std::cout << figures.dump() << std::endl;
  } else {
    std::printf("hearth-bench %s:\n", suite.c_str());
    PrintHuman(figures);
  }
  // The scale suite's memory rule: the run fails, after printing every figure.
  if (figures.contains("scale_rss_over") && !figures["scale_rss_over"].empty()) {
    std::cerr << "hearth-bench scale: peak memory grew more than " << options.max_rss_growth
              << " times from the small county to the large one: " << figures["scale_rss_over"].dump() << "\n";
    return 3;
  }
  // The soak's rule: every request of the hour answered.
  if (figures.contains("soak_errors") && figures["soak_errors"].get<uint64_t>() > 0) {
    std::cerr << "hearth-bench soak: " << figures["soak_errors"] << " requests failed; the first: "
              << figures["soak_first_error"].get<std::string>() << "\n";
    return 3;
  }
  return 0;
}
