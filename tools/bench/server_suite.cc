// Suite `server`: the plugin server over TLS on loopback (issue 8's targets).
//
// The server is the real `hearth serve` (bin/hearth beside hearth-bench), in
// its own process, so that its resident memory is its own; the clients run
// here through the C++ SDK.
//   - reads: 64 connections, each reading one event of a random stream per
//     request (personal sections included, so every read writes its
//     access-log record, as a caseworker's would); reads/s and p99 latency;
//   - appends: 64 connections, single synced events (group commit) to their
//     own streams; appends/s;
//   - idle: 1,000 connections after hello, idle; the server's VmRSS.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "ca.h"
#include "client.h"
#include "server.h"
#include "suites.h"

namespace hearth::bench {
namespace {

constexpr uint32_t kConnections = 64;
constexpr uint32_t kIdleConnections = 1000;
constexpr uint32_t kStreams = 1000;
constexpr uint32_t kEventsPerStream = 10;

// Raises the soft limit on open files to the hard limit (1,000 connections
// on each side).
void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// VmRSS of `pid` in MiB, or -1.
double RssMib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

// CPU seconds (user + system) used so far by `pid`, or 0.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t end = stat.rfind(')');
  if (end == std::string::npos) return 0;
  std::istringstream fields(stat.substr(end + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state; 14 utime, 15 stime
    if (i == 14) utime = std::stod(f);
    if (i == 15) {
      stime = std::stod(f);
      break;
    }
  }
  return (utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// Every client of the benchmark is one loopback address: the per-peer caps
// (docs/plugins.md) are raised, or they would refuse the 1,000 idle connections.
// The server's configuration; `scopes` is the bench plugin's (docs/plugins.md).
std::string ConfigJson(const RunDir& dir, const std::string& scopes) {
  return R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": ")" + dir.Sub("ca/ca.pem") + R"(", "cert": ")" + dir.Sub("ca/server.pem") +
         R"(", "key": ")" + dir.Sub("ca/server.key") + R"("},
  "threads": 2,
  "workers": 64,
  "limits": {"max_connections": 2000, "max_connections_per_peer": 2000, "max_handshakes": 2000,
             "requests_per_second": 1000000, "burst": 1000000},
  "plugins": {
    "bench": {"scopes": )" + scopes + R"(}
  }
})";
}

// `hearth serve` as a child: stdout to a pipe (its first line names the
// port), stderr (the server's log) to a file.
struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
};

const char kBenchScopes[] = R"({"append_types": ["*"], "read_streams": ["bench/*"], "read_personal": true})";

Result<uint16_t> SpawnServer(const RunDir& dir, Child* child, const std::string& data, const std::string& key_file,
                             const std::string& scopes) {
  auto found = SiblingProgram("hearth", "hearth_cli");
  if (!found.ok()) return found.status();
  const std::string& hearth = *found;
  std::string config = dir.Sub("server.json");
  {
    std::ofstream f(config);
    f << ConfigJson(dir, scopes);
  }
  std::string log = dir.Sub("server.log");
  std::vector<std::string> args = {hearth, "serve", "--data", data, "--key-file", key_file,
                                   "--config", config, "--port", "0"};
  int out[2];
  if (::pipe(out) != 0) return Status::IOError("pipe failed");
  child->pid = ::fork();
  if (child->pid < 0) return Status::IOError("fork failed");
  if (child->pid == 0) {
    ::dup2(out[1], 1);
    int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) ::dup2(err, 2);
    ::close(out[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(hearth.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  size_t at = line.find("127.0.0.1:");
  if (at == std::string::npos) {
    return Status::IOError("hearth serve did not start (" + line + "); see " + log);
  }
  return uint16_t(std::stoi(line.substr(at + 10)));
}

Status MakePki(const RunDir& dir) {
  std::string ca = dir.Sub("ca");
  if (Status s = server::CreateCa(ca, "hearth-bench CA", 1); !s.ok()) return s;
  server::CertRequest srv;
  srv.common_name = "localhost";
  srv.server = true;
  srv.ip_addresses = {"127.0.0.1"};
  if (Status s = server::IssueCertificate(ca, srv, ca + "/server.pem", ca + "/server.key"); !s.ok()) {
    return s;
  }
  server::CertRequest plugin;
  plugin.common_name = "bench";
  return server::IssueCertificate(ca, plugin, ca + "/bench.pem", ca + "/bench.key");
}

// The bench plugin's client (its certificate from MakePki) as `user`.
sdk::ClientOptions BenchClient(const RunDir& dir, uint16_t port, const std::string& user) {
  sdk::ClientOptions co;
  co.port = port;
  co.ca_file = dir.Sub("ca/ca.pem");
  co.cert_file = dir.Sub("ca/bench.pem");
  co.key_file = dir.Sub("ca/bench.key");
  co.user = user;
  co.role = "caseworker";
  co.client_name = "hearth-bench";
  return co;
}

// `n` connections, all or an error.
Status ConnectAll(const sdk::ClientOptions& co, sdk::ClientContext* context, uint32_t n,
                  std::vector<std::unique_ptr<sdk::Client>>* out) {
  for (uint32_t i = 0; i < n; ++i) {
    auto c = sdk::Client::Connect(co, context);
    if (!c.ok()) return c.status();
    out->push_back(std::move(c.value()));
  }
  return Status::OK();
}

std::string StreamOf(uint32_t s) { return "bench/B-" + std::to_string(s); }

// Runs `per_connection(i, client)` on `clients.size()` threads; returns seconds.
template <typename Fn>
double RunOnAll(std::vector<std::unique_ptr<sdk::Client>>& clients, Fn&& per_connection) {
  std::vector<std::thread> threads;
  Stopwatch watch;
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] { per_connection(i, *clients[i]); });
  }
  for (auto& t : threads) t.join();
  return watch.Seconds();
}

}  // namespace

Result<Json> RunServerSuite(const SuiteOptions& options, const RunDir& dir) {
  RaiseFileLimit();
  if (Status s = MakePki(dir); !s.ok()) return s;

  // The store exists before the server opens it.
  {
    Options o;
    o.create_if_missing = true;
    o.key = KeySource::File(dir.key_file());
    auto store = Store::Open(o, dir.Sub("server-store"));
    if (!store.ok()) return store.status();
  }
  Child child;
  auto port = SpawnServer(dir, &child, dir.Sub("server-store"), dir.key_file(), kBenchScopes);
  if (!port.ok()) return port.status();
  Progress(options, "server: hearth serve listening on 127.0.0.1:" + std::to_string(*port) +
                        " (pid " + std::to_string(child.pid) + ", log " + dir.Sub("server.log") + ")");

  const sdk::ClientOptions co = BenchClient(dir, *port, "u-bench");
  sdk::ClientContext context(2);

  std::vector<std::unique_ptr<sdk::Client>> clients;
  if (Status s = ConnectAll(co, &context, kConnections, &clients); !s.ok()) return s;

  // Seed: kStreams streams of kEventsPerStream 600-byte events (personal
  // section included), appended through the server in batches.
  Workload workload(uint64_t(kStreams) * kEventsPerStream, options.seed, kStreams, kEventsPerStream);
  Progress(options, "server: seeding " + std::to_string(workload.events()) + " events");
  {
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    Status first_error;
    std::mutex mu;
    RunOnAll(clients, [&](size_t, sdk::Client& c) {
      for (uint64_t b = next++; b < workload.batches() && !failed; b = next++) {
        Batch batch = workload.MakeBatch(b, Shape::kWithPersonal, false);
        auto r = c.Append(StreamOf(batch.stream), ExpectedVersion::Any(), batch.events);
        if (!r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) first_error = r.status();
        }
      }
    });
    if (failed) return first_error;
  }

  Json out = Json::object();
  out["server_connections"] = kConnections;

  // Reads: one event each, random stream and version.
  const uint64_t reads = std::max<uint64_t>(options.events, kConnections);
  {
    Progress(options, "server: " + std::to_string(reads) + " small reads over " +
                          std::to_string(kConnections) + " connections");
    std::vector<std::vector<double>> latencies(kConnections);
    std::atomic<uint64_t> errors{0};
    double server_cpu = CpuSeconds(child.pid), client_cpu = ProcessCpuSeconds();
    double seconds = RunOnAll(clients, [&](size_t i, sdk::Client& c) {
      std::mt19937_64 rng(options.seed + i);
      uint64_t mine = reads / kConnections + (i < reads % kConnections ? 1 : 0);
      latencies[i].reserve(mine);
      for (uint64_t k = 0; k < mine; ++k) {
        uint32_t s = uint32_t(rng() % kStreams);
        uint64_t v = 1 + rng() % kEventsPerStream;
        Stopwatch one;
        auto page = c.ReadStream(StreamOf(s), v, Direction::kForward, 1, "bench");
        latencies[i].push_back(one.Micros() / 1000.0);
        if (!page.ok() || page->events.size() != 1) ++errors;
      }
    });
    if (errors > 0) return Status::IOError(std::to_string(errors.load()) + " reads failed");
    std::vector<double> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    out["server_reads"] = reads;
    out["server_reads_per_s"] = Rate(reads, seconds);
    out["server_read_p50_ms"] = Round(Percentile(all, 50), 3);
    out["server_read_p99_ms"] = Round(Percentile(all, 99), 3);
    // CPU per read on each side: what the figures would be on an idle machine.
    out["server_cpu_us_per_read"] = Round((CpuSeconds(child.pid) - server_cpu) * 1e6 / reads, 1);
    out["client_cpu_us_per_read"] = Round((ProcessCpuSeconds() - client_cpu) * 1e6 / reads, 1);
  }

  // Appends: single events, synced, each connection to its own streams.
  const uint64_t appends = std::max<uint64_t>(
      options.concurrent_events ? options.concurrent_events : std::min<uint64_t>(options.events, 40000),
      kConnections);
  {
    Progress(options, "server: " + std::to_string(appends) + " synced single-event appends over " +
                          std::to_string(kConnections) + " connections");
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> index{0};
    double server_cpu = CpuSeconds(child.pid), client_cpu = ProcessCpuSeconds();
    double seconds = RunOnAll(clients, [&](size_t i, sdk::Client& c) {
      uint64_t mine = appends / kConnections + (i < appends % kConnections ? 1 : 0);
      std::string stream = "bench/W-" + std::to_string(i);
      for (uint64_t k = 0; k < mine; ++k) {
        NewEvent e = workload.MakeEvent(index++ % workload.events(), uint32_t(i), Shape::kWithPersonal);
        e.id = EventId::Random();
        auto r = c.Append(stream, k == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(k),
                          {e});
        if (!r.ok()) ++errors;
      }
    });
    if (errors > 0) return Status::IOError(std::to_string(errors.load()) + " appends failed");
    out["server_appends"] = appends;
    out["server_appends_per_s"] = Rate(appends, seconds);
    out["server_cpu_us_per_append"] = Round((CpuSeconds(child.pid) - server_cpu) * 1e6 / appends, 1);
    out["client_cpu_us_per_append"] = Round((ProcessCpuSeconds() - client_cpu) * 1e6 / appends, 1);
  }
  clients.clear();

  // Idle connections: the server's memory with 1,000 of them open.
  {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    double before = RssMib(child.pid);
    Progress(options, "server: opening " + std::to_string(kIdleConnections) + " idle connections");
    std::vector<std::unique_ptr<sdk::Client>> idle;
    for (uint32_t i = 0; i < kIdleConnections; ++i) {
      auto c = sdk::Client::Connect(co, &context);
      if (!c.ok()) return Status::IOError("idle connection " + std::to_string(i) + ": " + c.status().ToString());
      idle.push_back(std::move(c.value()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double with = RssMib(child.pid);
    out["server_rss_mib_before_idle"] = Round(before, 1);
    out["server_idle_connections"] = kIdleConnections;
    out["server_rss_mib_1000_idle"] = Round(with, 1);
    idle.clear();
  }
  return out;
}

// Suite `soak` (issue 22 item 3): the real `hearth serve` on a demo county
// for --minutes under a mixed load, and its resident memory over the run.
// The county (EnsureDemoCounty: with --county D and --scale 88, the 10 M one)
// is served from a copy made by an online backup (hard links: the county
// itself is left as it was). kSoakConnections connections share --rate
// requests a second, each request drawn at random: a page of a case's stream
// (personal sections, so each writes its access record), a client's events,
// a case's timeline with proofs, a district's worklist page, or a synced
// append of one event with a personal section to the connection's own
// stream. The server's VmRSS is sampled every kSoakSampleSeconds.
namespace {

constexpr uint32_t kSoakConnections = 8;
constexpr double kSoakSampleSeconds = 5;
constexpr size_t kSoakSamples = 200;  // case streams and clients drawn from the county

const char kSoakScopes[] =
    R"({"append_types": ["*"], "read_streams": ["*"], "read_districts": ["*"], "read_models": ["*"], "read_personal": true})";

enum SoakOp : int { kStreamPage, kSubjectPage, kTimeline, kWorklist, kAppend, kSoakOps };
const char* const kSoakOpNames[kSoakOps] = {"stream_page", "subject_page", "timeline", "worklist", "append"};
// Out of 100 requests.
const int kSoakWeights[kSoakOps] = {40, 15, 15, 5, 25};

SoakOp DrawOp(std::mt19937_64& rng) {
  int x = int(rng() % 100);
  for (int op = 0; op < kSoakOps; ++op) {
    if (x < kSoakWeights[op]) return SoakOp(op);
    x -= kSoakWeights[op];
  }
  return kAppend;
}

}  // namespace

Result<Json> RunSoakSuite(const SuiteOptions& options, const RunDir& dir) {
  RaiseFileLimit();
  if (options.minutes <= 0 || options.rate == 0) {
    return Status::InvalidArgument("soak: --minutes and --rate must be above 0");
  }
  auto found = SiblingProgram("hearth", "hearth_cli");
  if (!found.ok()) return found.status();
  auto county = EnsureDemoCounty(options, dir, *found, options.scale, options.large_cases, "soak");
  if (!county.ok()) return county.status();
  if (Status s = MakePki(dir); !s.ok()) return s;

  // The copy, and what the load asks for: case streams, their districts and
  // clients, drawn at random positions of the log.
  const std::string data = dir.Sub("soak-store");
  std::vector<std::string> cases, clients, districts;
  uint64_t events = 0;
  {
    Options o;
    o.key = KeySource::File(county->key);
    auto store = Store::Open(o, county->data);
    if (!store.ok()) return store.status();
    auto copied = (*store)->Backup(data);
    if (!copied.ok()) return copied.status();
    events = *copied;
    std::mt19937_64 rng(options.seed);
    std::set<std::string> seen;
    for (int tries = 0; tries < 20000 && (cases.size() < kSoakSamples || clients.size() < kSoakSamples); ++tries) {
      auto page = (*store)->ReadAll(1 + rng() % events, 1);
      if (!page.ok()) return page.status();
      const RecordedEvent& e = page->front();
      if (e.stream.starts_with("case/") && seen.insert(e.stream).second && cases.size() < kSoakSamples) {
        cases.push_back(e.stream);
        std::string district = e.stream.substr(5, e.stream.find('/', 5) - 5);
        if (std::find(districts.begin(), districts.end(), district) == districts.end()) {
          districts.push_back(district);
        }
      }
      for (const auto& ref : e.subjects) {
        if (ref.role == SubjectRole::kClient && seen.insert(ref.id).second && clients.size() < kSoakSamples) {
          clients.push_back(ref.id);
        }
      }
    }
    if (cases.empty() || clients.empty()) {
      return Status::InvalidArgument("soak: the county " + county->data + " names no cases or no clients");
    }
  }
  Child child;
  auto port = SpawnServer(dir, &child, data, county->key, kSoakScopes);
  if (!port.ok()) return port.status();
  Progress(options, "soak: hearth serve on a copy of " + county->data + " (" + std::to_string(events) +
                        " events), pid " + std::to_string(child.pid) + ", for " + Json(Round(options.minutes, 2)).dump() +
                        " minutes at " + std::to_string(options.rate) + " requests/s");

  sdk::ClientContext context(2);
  std::vector<std::unique_ptr<sdk::Client>> connections;
  if (Status s = ConnectAll(BenchClient(dir, *port, "u-soak"), &context, kSoakConnections, &connections); !s.ok()) {
    return s;
  }

  Workload workload(10000, options.seed, 100, 100);
  std::array<std::atomic<uint64_t>, kSoakOps> done{};
  std::array<std::atomic<uint64_t>, kSoakOps> failed{};
  // Each connection's latencies by kind (ms), merged at the end.
  std::vector<std::array<std::vector<double>, kSoakOps>> latencies(kSoakConnections);
  std::mutex mu;
  std::string first_error;
  std::vector<std::pair<double, double>> rss;  // (seconds since start, MiB)
  std::atomic<bool> over{false};
  const double seconds = options.minutes * 60;
  const double server_cpu = CpuSeconds(child.pid);
  Stopwatch watch;
  std::thread sampler([&] {
    for (double next = 0; !over; next += kSoakSampleSeconds) {
      double mib = RssMib(child.pid);
      {
        std::lock_guard<std::mutex> lock(mu);
        rss.emplace_back(watch.Seconds(), mib);
      }
      while (!over && watch.Seconds() < next + kSoakSampleSeconds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  });
  RunOnAll(connections, [&](size_t i, sdk::Client& c) {
    std::mt19937_64 rng(options.seed * 1000 + i);
    const double interval = double(kSoakConnections) / options.rate;  // this connection's pace
    const std::string own = "soak/W-" + std::to_string(i);
    uint64_t appended = 0;
    for (double due = 0; watch.Seconds() < seconds; due += interval) {
      double now = watch.Seconds();
      if (now < due) std::this_thread::sleep_for(std::chrono::duration<double>(due - now));
      if (now > due + 1) due = now;  // fell behind (a slow request): no burst to catch up
      SoakOp op = DrawOp(rng);
      Status st;
      Stopwatch one;
      switch (op) {
        case kStreamPage: {
          auto page = c.ReadStream(cases[rng() % cases.size()], 1, Direction::kForward, 20, "soak");
          st = page.status();
          break;
        }
        case kSubjectPage: {
          auto page = c.ReadSubject(clients[rng() % clients.size()], 1, 50, "soak");
          st = page.status();
          break;
        }
        case kTimeline: {
          Json params = {{"case", cases[rng() % cases.size()]}, {"proofs", true}};
          st = c.Query("timeline", params.dump()).status();
          break;
        }
        case kWorklist: {
          Json params = {{"district", districts[rng() % districts.size()]}, {"limit", 50}};
          st = c.Query("worklist", params.dump()).status();
          break;
        }
        case kAppend:
        case kSoakOps: {
          NewEvent e = workload.MakeEvent(rng() % workload.events(), uint32_t(i), Shape::kWithPersonal);
          e.id = EventId::Random();
          auto r = c.Append(own, appended == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(appended), {e});
          if (r.ok()) ++appended;
          st = r.status();
          break;
        }
      }
      latencies[i][op].push_back(one.Micros() / 1000.0);
      ++done[op];
      if (!st.ok()) {
        ++failed[op];
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.empty()) first_error = std::string(kSoakOpNames[op]) + ": " + st.ToString();
      }
    }
  });
  const double elapsed = watch.Seconds();
  over = true;
  sampler.join();
  const double cpu = CpuSeconds(child.pid) - server_cpu;
  const double end_mib = RssMib(child.pid);
  connections.clear();

  Json out = Json::object();
  out["soak_events"] = events;
  out["soak_minutes"] = Round(elapsed / 60, 2);
  out["soak_connections"] = kSoakConnections;
  uint64_t total = 0, errors = 0;
  for (int op = 0; op < kSoakOps; ++op) {
    out[std::string("soak_") + kSoakOpNames[op]] = done[op].load();
    total += done[op];
    errors += failed[op];
    std::vector<double> all;
    for (const auto& mine : latencies) all.insert(all.end(), mine[op].begin(), mine[op].end());
    if (all.empty()) continue;
    out[std::string("soak_") + kSoakOpNames[op] + "_ms_p50"] = Round(Percentile(all, 50), 2);
    out[std::string("soak_") + kSoakOpNames[op] + "_ms_p99"] = Round(Percentile(all, 99), 2);
  }
  out["soak_requests"] = total;
  out["soak_requests_per_s"] = Rate(total, elapsed);
  out["soak_errors"] = errors;
  if (errors > 0) out["soak_first_error"] = first_error;
  out["soak_server_cpu_s"] = Round(cpu, 1);
  double max_mib = end_mib, first_minute = 0;
  for (const auto& [at, mib] : rss) {
    max_mib = std::max(max_mib, mib);
    if (at <= 60) first_minute = std::max(first_minute, mib);
  }
  out["soak_rss_mib_first_minute_max"] = Round(first_minute, 1);
  out["soak_rss_mib_max"] = Round(max_mib, 1);
  out["soak_rss_mib_end"] = Round(end_mib, 1);
  // The curve at a few points: the sample nearest each minute mark.
  Json curve = Json::object();
  for (double minute : {1.0, 5.0, 10.0, 15.0, 30.0, 45.0, 60.0, 90.0, 120.0}) {
    if (minute * 60 > elapsed + kSoakSampleSeconds) break;
    double best = -1, mib = 0;
    for (const auto& [at, m] : rss) {
      if (best < 0 || std::abs(at - minute * 60) < best) {
        best = std::abs(at - minute * 60);
        mib = m;
      }
    }
    curve[std::to_string(int(minute)) + "min"] = Round(mib, 1);
  }
  out["soak_rss_mib_curve"] = curve;
  return out;  // main.cc fails the run, after printing, when soak_errors > 0
}

}  // namespace hearth::bench
