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
#include <atomic>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <fstream>
#include <random>
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
std::string ConfigJson(const RunDir& dir) {
  return R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": ")" + dir.Sub("ca/ca.pem") + R"(", "cert": ")" + dir.Sub("ca/server.pem") +
         R"(", "key": ")" + dir.Sub("ca/server.key") + R"("},
  "threads": 2,
  "workers": 64,
  "limits": {"max_connections": 2000, "max_connections_per_peer": 2000, "max_handshakes": 2000,
             "requests_per_second": 1000000, "burst": 1000000},
  "plugins": {
    "bench": {"scopes": {"append_types": ["*"], "read_streams": ["bench/*"], "read_personal": true}}
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

Result<uint16_t> SpawnServer(const RunDir& dir, Child* child) {
  auto found = SiblingProgram("hearth", "hearth_cli");
  if (!found.ok()) return found.status();
  const std::string& hearth = *found;
  std::string config = dir.Sub("server.json");
  {
    std::ofstream f(config);
    f << ConfigJson(dir);
  }
  std::string data = dir.Sub("server-store"), log = dir.Sub("server.log");
  std::vector<std::string> args = {hearth, "serve", "--data", data, "--key-file", dir.key_file(),
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
  auto port = SpawnServer(dir, &child);
  if (!port.ok()) return port.status();
  Progress(options, "server: hearth serve listening on 127.0.0.1:" + std::to_string(*port) +
                        " (pid " + std::to_string(child.pid) + ", log " + dir.Sub("server.log") + ")");

  sdk::ClientOptions co;
  co.port = *port;
  co.ca_file = dir.Sub("ca/ca.pem");
  co.cert_file = dir.Sub("ca/bench.pem");
  co.key_file = dir.Sub("ca/bench.key");
  co.user = "u-bench";
  co.role = "caseworker";
  co.client_name = "hearth-bench";
  sdk::ClientContext context(2);

  std::vector<std::unique_ptr<sdk::Client>> clients;
  for (uint32_t i = 0; i < kConnections; ++i) {
    auto c = sdk::Client::Connect(co, &context);
    if (!c.ok()) return c.status();
    clients.push_back(std::move(c.value()));
  }

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

}  // namespace hearth::bench
