// hearth-bench scale: every command of docs/cli.md that reads a store, run
// as the operator runs it (bin/hearth, a process of its own), on two demo
// counties of different sizes; for each, its wall time and peak resident
// memory at both sizes and how much they grew (issue 22, docs/benchmarks.md).
//
// The bulk load is measured the same way: `hearth demo` as a process. A
// command whose peak memory grows more than --max-rss-growth times between
// the sizes is named in `scale_rss_over` and fails the run (main.cc).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "suites.h"

namespace hearth::bench {

namespace fs = std::filesystem;

namespace {

struct Run {
  double seconds = 0;
  double rss_mib = 0;  // peak resident set of the process (and any child it waited for)
  std::string out;     // standard output, when kept
};

std::string Tail(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 600 ? s.substr(s.size() - 600) : s;
}

// Runs bin/hearth with `args`, standard output to `out_file` ("" : kept in
// Run::out), standard error to `err_file`. Under AddressSanitizer, freed
// memory waits in a quarantine of up to 256 MiB that is counted as resident:
// the child runs without one, so that its peak is its live memory.
Result<Run> RunHearth(const std::string& hearth, const std::vector<std::string>& args,
                      const std::string& out_file, const std::string& err_file) {
  std::string out_path = out_file.empty() ? err_file + ".out" : out_file;
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0) ::_exit(126);
    ::dup2(out, 1);
    ::dup2(err, 2);
    const char* asan = ::getenv("ASAN_OPTIONS");
    std::string asan_options = std::string(asan ? asan : "") + (asan && *asan ? ":" : "") +
                               "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
    ::setenv("ASAN_OPTIONS", asan_options.c_str(), 1);
    std::vector<std::string> all = {hearth};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(hearth.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return Status::IOError(std::string("wait4 failed: ") + std::strerror(errno));
  }
  Run run;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.rss_mib = double(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  std::string line = "hearth";
  for (const auto& a : args) line += " " + a;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::IOError("`" + line + "` failed (" +
                           (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                              : "signal " + std::to_string(WTERMSIG(status))) +
                           "): " + Tail(err_file));
  }
  if (out_file.empty()) {
    std::ifstream f(out_path);
    std::stringstream ss;
    ss << f.rdbuf();
    run.out = ss.str();
    fs::remove(out_path);
  }
  return run;
}

// One command of the table: a name for the JSON keys and the arguments after
// `hearth`, with {data}, {key}, {out} and {last} filled in per store.
struct Command {
  const char* name;
  std::vector<std::string> args;
};

// Read-only first, then the commands that write to the store (a checkpoint,
// a rebuild, a backup), so that every reader sees the county as generated.
std::vector<Command> Commands() {
  const std::string store = "--data={data}", key = "--key-file={key}";
  return {
      {"info", {"info", store, key, "--json"}},
      {"read_stream", {"read", store, key, "--stream", "case/D1/000001"}},
      {"read_subject", {"read", store, key, "--subject", "P-D1-000001"}},
      {"read_log", {"read", store, key}},
      {"timeline", {"timeline", store, key, "--case", "case/D1/000001", "--json"}},
      {"worklist_d1", {"worklist", store, key, "--district", "D1", "--json"}},
      {"worklist_all", {"worklist", store, key, "--json"}},
      // A page, as the console asks for one: from the work index, it reads
      // the page's cases, whatever the county's size.
      {"worklist_d1_page", {"worklist", store, key, "--district", "D1", "--limit", "200", "--json"}},
      {"sar", {"sar", store, key, "--subject", "P-D1-000001", "--out", "{out}"}},
      {"disclosures", {"disclosures", store, key, "--subject", "P-D1-000001"}},
      {"rights_list", {"rights", "list", store, key, "--all", "--json"}},
      {"retention_review", {"retention", "review", store, key, "--format", "jsonl"}},
      {"prove_inclusion", {"prove", store, key, "--position", "1"}},
      {"prove_consistency", {"prove", store, key, "--from", "1", "--to", "{last}"}},
      {"complaint_list", {"complaint", "list", store, key, "--json"}},
      {"breach_list", {"breach", "list", store, key, "--json"}},
      {"document_list", {"document", "list", store, key, "--case", "case/D1/000001"}},
      {"export_kpi_year", {"export", "kpi", store, key, "--year", "2018/19", "--policy", "none", "--quiet",
                           "--out", "{out}"}},
      {"export_cases_q1", {"export", "cases", store, key, "--quarter", "2018/19-Q1", "--recipient", "bench",
                           "--quiet", "--out", "{out}"}},
      {"checkpoint", {"checkpoint", store, key}},
      {"keys_export_public", {"keys", "export-public", store, key, "--out", "{pub}"}},
      {"verify", {"verify", store, "--public-key", "{pub}", "--quiet"}},
      {"backup", {"backup", store, key, "--out", "{out}", "--quiet"}},
      {"rebuild", {"rebuild", store, key}},
  };
}

std::string Fill(std::string arg, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    std::string token = "{" + name + "}";
    for (size_t at = arg.find(token); at != std::string::npos; at = arg.find(token, at + value.size())) {
      arg.replace(at, token.size(), value);
    }
  }
  return arg;
}

// One number of `hearth info --json` for the store.
Result<uint64_t> InfoNumber(const std::string& hearth, const std::string& data, const std::string& key,
                            const std::string& err, const char* field) {
  auto info = RunHearth(hearth, {"info", "--data=" + data, "--key-file=" + key, "--json"}, "", err);
  if (!info.ok()) return info.status();
  try {
    return nlohmann::json::parse(info->out).at(field).get<uint64_t>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("hearth info --json: ") + field + ": " + e.what());
  }
}

struct Size {
  std::string label;  // "small" or "large"
  uint32_t scale = 1;
  uint32_t cases = 0;  // cases per district (0: the county's volumes)
  uint64_t events = 0;
  uint64_t disk_bytes = 0;
  Run demo;
  std::vector<Run> runs;  // one per command, in Commands() order
};

}  // namespace

Result<DemoCounty> EnsureDemoCounty(const SuiteOptions& options, const RunDir& dir, const std::string& hearth,
                                    uint32_t scale, uint32_t cases, const std::string& label) {
  // With --county DIR the counties are generated once and kept there, with
  // the demo's figures beside them, and reused by later runs with the same
  // seed and sizes: a 10-million-event county takes a while to build.
  const std::string tag = "scale-seed" + std::to_string(options.seed % 1000000) + "-scale" +
                          std::to_string(scale) + (cases ? "-cases" + std::to_string(cases) : "");
  DemoCounty county;
  county.kept = !options.county_dir.empty();
  county.base = county.kept ? (fs::path(options.county_dir) / tag).string() : dir.Sub(tag);
  county.data = county.base + "/store";
  county.key = county.kept ? (fs::path(options.county_dir) / "scale.key").string() : dir.key_file();
  const std::string err = county.base + "/stderr.txt", done = county.base + "/demo.json";
  if (county.kept) fs::create_directories(options.county_dir);
  if (county.kept && !fs::exists(county.key)) fs::copy_file(dir.key_file(), county.key);
  if (county.kept && fs::exists(done)) {
    Progress(options, label + ": reusing " + county.data);
    try {
      std::ifstream f(done);
      auto j = nlohmann::json::parse(f);
      county.demo_seconds = j.at("seconds").get<double>();
      county.demo_rss_mib = j.at("rssMib").get<double>();
    } catch (const std::exception& e) {
      return Status::Corruption(done + ": " + e.what());
    }
    return county;
  }
  fs::remove_all(county.base);
  fs::create_directories(county.base);
  std::vector<std::string> demo = {"demo", "--data=" + county.data, "--key-file=" + county.key,
                                   "--seed=" + std::to_string(options.seed % 1000000),
                                   "--scale=" + std::to_string(scale), "--quiet"};
  if (cases) demo.push_back("--cases-per-district=" + std::to_string(cases));
  Progress(options, label + ": hearth demo --scale " + std::to_string(scale) +
                        (cases ? " --cases-per-district " + std::to_string(cases) : ""));
  auto d = RunHearth(hearth, demo, "", err);
  if (!d.ok()) return d.status();
  county.demo_seconds = d->seconds;
  county.demo_rss_mib = d->rss_mib;
  if (county.kept) {
    std::ofstream(done) << nlohmann::json{{"seconds", d->seconds}, {"rssMib", d->rss_mib}}.dump() << "\n";
  }
  return county;
}

namespace {

Status Measure(const SuiteOptions& options, const RunDir& dir, const std::string& hearth, Size* size) {
  auto county = EnsureDemoCounty(options, dir, hearth, size->scale, size->cases, "scale " + size->label);
  if (!county.ok()) return county.status();
  const bool kept = county->kept;
  const std::string base = county->base, data = county->data, key = county->key;
  const std::string err = base + "/stderr.txt";
  size->demo.seconds = county->demo_seconds;
  size->demo.rss_mib = county->demo_rss_mib;
  auto events = InfoNumber(hearth, data, key, err, "lastPosition");
  if (!events.ok()) return events.status();
  size->events = *events;
  std::map<std::string, std::string> values = {
      {"data", data}, {"key", key}, {"last", std::to_string(size->events)}, {"pub", base + "/public.key"}};
  int n = 0;
  for (const Command& c : Commands()) {
    values["out"] = base + "/out-" + std::to_string(n++);
    std::vector<std::string> args;
    for (const auto& a : c.args) args.push_back(Fill(a, values));
    Progress(options, "scale " + size->label + ": " + c.name);
    auto r = RunHearth(hearth, args, "/dev/null", err);  // the answer itself is thrown away
    if (!r.ok()) return r.status();
    size->runs.push_back(*r);
    fs::remove_all(values["out"]);
  }
  // Disk after the commands (a checkpoint and a rebuild's writes included).
  auto disk = InfoNumber(hearth, data, key, err, "diskBytes");
  if (!disk.ok()) return disk.status();
  size->disk_bytes = *disk;
  if (!kept && !options.keep_stores) fs::remove_all(data);
  return Status::OK();
}

}  // namespace

Result<Json> RunScaleSuite(const SuiteOptions& options, const RunDir& dir) {
  auto found = SiblingProgram("hearth", "hearth_cli");
  if (!found.ok()) return found.status();
  const std::string& hearth = *found;
  Size small, large;
  small.label = "small";
  small.scale = options.small_scale;
  small.cases = options.small_cases;
  large.label = "large";
  large.scale = options.scale;
  large.cases = options.large_cases;
  if (Status s = Measure(options, dir, hearth, &small); !s.ok()) return s;
  if (Status s = Measure(options, dir, hearth, &large); !s.ok()) return s;

  Json out = Json::object();
  out["scale_small_events"] = small.events;
  out["scale_large_events"] = large.events;
  out["scale_events_ratio"] = Round(double(large.events) / double(std::max<uint64_t>(small.events, 1)), 2);
  for (const Size* s : {&small, &large}) {
    out["scale_demo_" + s->label + "_eps"] = Rate(s->events, s->demo.seconds);
    out["scale_demo_" + s->label + "_rss_mib"] = Round(s->demo.rss_mib, 1);
    out["scale_disk_" + s->label + "_bytes_per_event"] =
        Round(double(s->disk_bytes) / double(std::max<uint64_t>(s->events, 1)), 1);
  }
  Json over = Json::array();
  double worst = small.demo.rss_mib > 0 ? large.demo.rss_mib / std::max(small.demo.rss_mib, 1.0) : 0;
  double largest = large.demo.rss_mib;
  out["scale_demo_rss_growth"] = Round(worst, 2);
  if (worst > options.max_rss_growth) over.push_back("demo");
  auto commands = Commands();
  for (size_t i = 0; i < commands.size(); ++i) {
    const std::string k = std::string("scale_") + commands[i].name;
    const Run& a = small.runs[i];
    const Run& b = large.runs[i];
    out[k + "_small_s"] = Round(a.seconds, 3);
    out[k + "_large_s"] = Round(b.seconds, 3);
    out[k + "_small_rss_mib"] = Round(a.rss_mib, 1);
    out[k + "_large_rss_mib"] = Round(b.rss_mib, 1);
    double growth = b.rss_mib / std::max(a.rss_mib, 1.0);
    out[k + "_rss_growth"] = Round(growth, 2);
    worst = std::max(worst, growth);
    largest = std::max(largest, b.rss_mib);
    if (growth > options.max_rss_growth) over.push_back(commands[i].name);
  }
  out["scale_rss_growth_max"] = Round(worst, 2);
  out["scale_large_rss_mib_max"] = Round(largest, 1);
  out["scale_max_rss_growth_allowed"] = options.max_rss_growth;
  out["scale_rss_over"] = over;
  return out;
}

}  // namespace hearth::bench
