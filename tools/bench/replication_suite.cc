// Suite `replication`: what replication on NATS JetStream costs the append
// path, and how far the cluster falls behind (docs/operations.md,
// "Replication on NATS JetStream"; issue 18's "replica lag under the append
// benchmark").
//
// The append suite's batches of 100, synced, go interleaved into three
// stores: a plain one, one replicated with `--replication-ack cluster` (an
// append returns once it is synced here AND stored by a quorum of the
// cluster) and one with `--replication-ack local` (synced here; the cluster
// follows behind, bounded). The cluster is a real 3-node nats-server
// JetStream cluster that the suite starts on free loopback ports and stops.
// For `local`, the lag (events committed here and not yet acknowledged by
// the cluster) is sampled after every batch, and the time the publisher
// takes to drain it once the appends stop is measured.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include "contenders.h"
#include "nats_cluster.h"
#include "replication/replication.h"
#include "suites.h"

namespace hearth::bench {

namespace {

using replication::AckMode;
using replication::PublisherOptions;
using replication::ReplicatedStore;

// The cluster elects its JetStream leaders after it starts: retried until
// it answers (30 s at most).
Result<std::unique_ptr<ReplicatedStore>> OpenReplicated(const HearthSetup& setup, const std::string& urls,
                                                        const std::string& stream, AckMode ack) {
  Options options;
  options.create_if_missing = true;
  options.encrypt = setup.encrypt;
  options.sync = setup.sync;
  if (setup.encrypt) options.key = KeySource::File(setup.key_file);
  PublisherOptions p;
  p.target = {urls, stream};
  p.ack = ack;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto s = ReplicatedStore::Open(options, setup.path, p);
    if (s.ok() || std::chrono::steady_clock::now() > deadline) return s;
    // Start again from nothing: the store and the erasure ledger beside it
    // (a new store's keys would not match the old ledger).
    std::filesystem::remove_all(setup.path);
    std::filesystem::remove(setup.path + ".erasures");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

// The value at quantile q of sorted samples (nearest rank).
uint64_t Quantile(const std::vector<uint64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = size_t(std::ceil(q * double(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

}  // namespace

Result<Json> RunReplicationSuite(const SuiteOptions& options, const RunDir& dir) {
  const uint64_t n = options.events;
  const uint32_t rounds = uint32_t(std::min<uint64_t>(options.rounds, std::max<uint64_t>(1, n / 100)));
  Workload workload(n, options.seed);
  Progress(options, "replication: generating " + std::to_string(n) + " events, starting a 3-node nats-server "
                    "JetStream cluster on loopback");
  std::vector<Batch> batches =
      workload.MakeBatches(0, workload.batches(), Shape::kWithPersonal, /*with_blobs=*/true);
  std::filesystem::create_directories(dir.Sub("nats"));
  testing::NatsCluster cluster(dir.Sub("nats"));

  auto plain = OpenHearth({dir.Sub("plain"), dir.key_file(), true, options.sync}, true);
  if (!plain.ok()) return plain.status();
  auto cluster_ack = OpenReplicated({dir.Sub("cluster-ack"), dir.key_file(), true, options.sync}, cluster.Urls(),
                                    "bench-cluster", AckMode::kCluster);
  if (!cluster_ack.ok()) return Status::IOError("the cluster never became ready: " + cluster_ack.status().ToString());
  auto local_ack = OpenReplicated({dir.Sub("local-ack"), dir.key_file(), true, options.sync}, cluster.Urls(),
                                  "bench-local", AckMode::kLocal);
  if (!local_ack.ok()) return local_ack.status();

  // The local-ack store's lag after every batch it appends.
  std::vector<uint64_t> lag;
  lag.reserve(batches.size());
  auto local_batches = [&](uint32_t r) -> Result<double> {
    auto slice = Slice(batches, r, rounds);
    double seconds = 0;
    for (size_t i = 0; i < slice.size(); ++i) {
      auto t = HearthAppendBatches(local_ack->get(), slice.subspan(i, 1));
      if (!t.ok()) return t.status();
      seconds += *t;
      lag.push_back((*local_ack)->Replication().lag());
    }
    return seconds;
  };
  std::vector<Contender> runs = {
      {"plain", [&](uint32_t r) { return HearthAppendBatches(plain->get(), Slice(batches, r, rounds)); }},
      {"cluster", [&](uint32_t r) { return HearthAppendBatches(cluster_ack->get(), Slice(batches, r, rounds)); }},
      {"local", local_batches},
  };
  Progress(options, "replication: batches of 100" + std::string(options.sync ? ", synced" : ", NOT synced") +
                        ", " + std::to_string(rounds) + " interleaved rounds");
  Status s = RunInterleaved(rounds, &runs);
  if (!s.ok()) return s;
  // Draining: from the last append until the cluster holds the whole log.
  auto drain_start = std::chrono::steady_clock::now();
  s = (*local_ack)->WaitReplicated(0, 120000);
  if (!s.ok()) return s;
  double drain_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - drain_start).count();
  s = (*cluster_ack)->WaitReplicated(0, 10000);
  if (!s.ok()) return s;
  for (auto* store : {static_cast<Store*>(plain->get()), static_cast<Store*>(cluster_ack->get()),
                      static_cast<Store*>(local_ack->get())}) {
    auto info = store->Info();
    if (!info.ok()) return info.status();
    if (info->last_position != n) return Status::Corruption("a store holds the wrong number of events");
  }
  auto cluster_status = (*cluster_ack)->Replication();
  auto local_status = (*local_ack)->Replication();
  if (!local_status.last_error.empty()) return Status::IOError("publishing: " + local_status.last_error);
  std::sort(lag.begin(), lag.end());

  Json out;
  out["replication_events"] = n;
  out["replication_synced"] = options.sync;
  double plain_eps = Rate(n, runs[0].seconds);
  double cluster_eps = Rate(n, runs[1].seconds);
  double local_eps = Rate(n, runs[2].seconds);
  out["replication_plain_eps"] = plain_eps;
  out["replication_cluster_ack_eps"] = cluster_eps;
  out["replication_local_ack_eps"] = local_eps;
  out["replication_cluster_ratio"] = plain_eps > 0 ? Round(cluster_eps / plain_eps, 3) : 0;
  out["replication_local_ratio"] = plain_eps > 0 ? Round(local_eps / plain_eps, 3) : 0;
  out["replication_cluster_lag_max"] = cluster_status.max_lag_seen;
  out["replication_local_lag_p50"] = Quantile(lag, 0.50);
  out["replication_local_lag_p99"] = Quantile(lag, 0.99);
  out["replication_local_lag_max"] = local_status.max_lag_seen;
  out["replication_local_drain_ms"] = Round(drain_ms, 1);
  Progress(options, "replication: plain " + std::to_string(int64_t(plain_eps)) + " ev/s, cluster ack " +
                        std::to_string(int64_t(cluster_eps)) + " ev/s, local ack " +
                        std::to_string(int64_t(local_eps)) + " ev/s (lag p99 " +
                        std::to_string(Quantile(lag, 0.99)) + " events, drained in " +
                        std::to_string(int64_t(drain_ms)) + " ms)");
  return out;
}

}  // namespace hearth::bench
