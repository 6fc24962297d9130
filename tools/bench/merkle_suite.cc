// Suite `merkle`: what tamper evidence costs. (a) The incremental tree's share
// of append time; (b) full verification from the files; (c) proof latency.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <random>

#include "contenders.h"
#include "log/format.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "audit/verifier.h"
#include "suites.h"

namespace hearth::bench {

namespace {

constexpr uint64_t kChunkBatches = 1000;  // batches generated at a time (100,000 events)

// Appends batches [first, end) in chunks, timing only the Append calls.
Result<double> AppendRange(Store* store, const Workload& workload, uint64_t first, uint64_t end,
                           const SuiteOptions& options, const char* what, double* cpu_seconds) {
  double seconds = 0;
  uint64_t next_report = first + 10 * kChunkBatches;  // a line per million events
  for (uint64_t b = first; b < end; b += kChunkBatches) {
    auto batches = workload.MakeBatches(b, std::min(kChunkBatches, end - b), Shape::kWithPersonal, false);
    double cpu = ProcessCpuSeconds();
    auto t = HearthAppendBatches(store, batches);
    if (!t.ok()) return t.status();
    *cpu_seconds += ProcessCpuSeconds() - cpu;
    seconds += *t;
    if (b + kChunkBatches >= next_report) {
      Progress(options, std::string("merkle: ") + what + " " +
                            std::to_string(std::min(end, b + kChunkBatches) * workload.batch_size()) +
                            " events, " + std::to_string(int64_t(seconds)) + " s appending");
      next_report += 10 * kChunkBatches;
    }
  }
  return seconds;
}

// The tree's share of an append, replayed on the same stored records: per
// event, the leaf hash and Frontier::Append (with a WriteBatch Put for every
// stored interior node it completes); per append (one commit group in a
// single-writer run), the new tree head and the frontier encoding that the
// head record carries. This is the work ApplyAppend and ProcessGroup do for
// the tree (store/log/store_impl.cc).
struct TreeTime {
  double wall = 0;
  double cpu = 0;  // of this thread
};
TreeTime TreeSeconds(const std::vector<std::string>& records, uint32_t batch_size) {
  merkle::Hasher hasher;
  merkle::Frontier frontier;
  rocksdb::WriteBatch scratch;
  std::string head;
  // Every call below goes into libhearth or OpenSSL, so none is optimised away.
  double cpu = ThreadCpuSeconds();
  Stopwatch clock;
  for (size_t i = 0; i < records.size(); ++i) {
    frontier.Append(hasher, hasher.Leaf(records[i]), [&](const merkle::Node& n) {
      scratch.Put(log::MerkleKey(n.level, n.index),
                  rocksdb::Slice(reinterpret_cast<const char*>(n.hash.data()), n.hash.size()));
    });
    if ((i + 1) % batch_size == 0 || i + 1 == records.size()) {
      Hash root = frontier.Root(hasher);
      head = frontier.Encode();
      head.append(reinterpret_cast<const char*>(root.data()), root.size());
      scratch.Clear();
    }
  }
  return TreeTime{clock.Seconds(), ThreadCpuSeconds() - cpu};
}

}  // namespace

Result<Json> RunMerkleSuite(const SuiteOptions& options, const RunDir& dir) {
  const uint64_t n = options.events;
  const uint64_t synced = std::min(n, options.synced_events);
  Workload workload(n, options.seed);
  const uint64_t synced_batches = (synced + workload.batch_size() - 1) / workload.batch_size();
  HearthSetup setup{dir.Sub("merkle"), dir.key_file(), true, options.sync};
  Json out;
  out["merkle_events"] = n;
  out["merkle_synced_events"] = synced;

  // (a) append synced, then replay the tree's work on the same record bytes.
  std::vector<std::string> records;
  double append_seconds = 0, append_cpu = 0;
  {
    Progress(options, "merkle: appending " + std::to_string(synced) + " events synced");
    auto store = OpenHearth(setup, true);
    if (!store.ok()) return store.status();
    auto t = AppendRange(store->get(), workload, 0, synced_batches, options, "synced", &append_cpu);
    if (!t.ok()) return t.status();
    append_seconds = *t;
    records.reserve(size_t(synced));
    for (uint64_t p = 1; p <= synced; ++p) {
      auto r = (*store)->RawRecord(p);
      if (!r.ok()) return r.status();
      records.push_back(std::move(*r));
    }
  }
  std::vector<double> tree_runs, tree_cpu_runs;
  for (int i = 0; i < 3; ++i) {
    TreeTime t = TreeSeconds(records, workload.batch_size());
    tree_runs.push_back(t.wall);
    tree_cpu_runs.push_back(t.cpu);
  }
  double tree_seconds = Percentile(tree_runs, 50);
  double tree_cpu = Percentile(tree_cpu_runs, 50);
  records.clear();
  records.shrink_to_fit();
  out["merkle_append_eps"] = Rate(synced, append_seconds);
  out["merkle_append_seconds"] = Round(append_seconds, 3);
  out["merkle_tree_seconds"] = Round(tree_seconds, 4);
  out["merkle_overhead_pct"] = Round(tree_seconds / append_seconds * 100.0, 2);
  // The same share in CPU time: what the tree would cost if fsync were free.
  out["merkle_tree_cpu_us_per_event"] = Round(tree_cpu / double(synced) * 1e6, 2);
  out["merkle_append_cpu_us_per_event"] = Round(append_cpu / double(synced) * 1e6, 2);
  out["merkle_overhead_cpu_pct"] = Round(tree_cpu / append_cpu * 100.0, 2);
  Progress(options, "merkle: tree work " + std::to_string(tree_seconds) + " s of " +
                        std::to_string(append_seconds) + " s appending");

  // The rest of the store, bulk-loaded (sync = false) so that large stores
  // build quickly.
  if (n > synced) {
    Progress(options, "merkle: bulk-loading " + std::to_string(n - synced) + " more events (sync off)");
    HearthSetup bulk = setup;
    bulk.sync = false;
    auto store = OpenHearth(bulk, false);
    if (!store.ok()) return store.status();
    Stopwatch wall;
    double bulk_cpu = 0;
    auto t = AppendRange(store->get(), workload, synced_batches, workload.batches(), options, "bulk",
                         &bulk_cpu);
    if (!t.ok()) return t.status();
    out["merkle_bulk_load_eps"] = Rate(n - synced, *t);
    store->reset();  // close: flushes memtables
    out["merkle_bulk_load_wall_seconds"] = Round(wall.Seconds(), 1);
  }

  // (c) proofs against the full tree, on a reopened store.
  std::array<uint8_t, 32> public_key{};
  {
    auto store = OpenHearth(setup, false);
    if (!store.ok()) return store.status();
    auto pk = (*store)->CheckpointPublicKey();
    if (!pk.ok()) return pk.status();
    public_key = *pk;
    auto tree = (*store)->CurrentTree();
    if (!tree.ok()) return tree.status();
    if (tree->size != n) return Status::Corruption("the tree does not cover every event");
    std::mt19937_64 rng(options.seed);
    std::uniform_int_distribution<uint64_t> position(1, n);
    const uint32_t warmup = 10;
    std::vector<double> inclusion, consistency, inclusion_cpu, consistency_cpu;
    for (uint32_t i = 0; i < options.proof_samples + warmup; ++i) {
      uint64_t p = position(rng);
      double cpu = ThreadCpuSeconds();
      Stopwatch clock;
      auto proof = (*store)->InclusionProof(p, 0);
      double us = clock.Micros();
      double cpu_us = (ThreadCpuSeconds() - cpu) * 1e6;
      if (!proof.ok()) return proof.status();
      if (i >= warmup) {
        inclusion.push_back(us);
        inclusion_cpu.push_back(cpu_us);
      }
      if (i % 50 == 0) {  // a proof that does not verify is not a proof
        auto record = (*store)->RawRecord(p);
        if (!record.ok()) return record.status();
        merkle::Hasher hasher;
        if (!merkle::VerifyInclusion(p - 1, n, hasher.Leaf(*record), *proof, tree->root)) {
          return Status::Corruption("inclusion proof of position " + std::to_string(p) +
                                    " does not verify");
        }
      }
    }
    for (uint32_t i = 0; n > 1 && i < options.proof_samples + warmup; ++i) {
      uint64_t m = 1 + position(rng) % (n - 1);
      double cpu = ThreadCpuSeconds();
      Stopwatch clock;
      auto proof = (*store)->ConsistencyProof(m, n);
      double us = clock.Micros();
      double cpu_us = (ThreadCpuSeconds() - cpu) * 1e6;
      if (!proof.ok()) return proof.status();
      if (i >= warmup) {
        consistency.push_back(us);
        consistency_cpu.push_back(cpu_us);
      }
    }
    out["proof_tree_size"] = n;
    out["inclusion_proof_us_p50"] = Round(Percentile(inclusion, 50), 1);
    out["inclusion_proof_us_p99"] = Round(Percentile(inclusion, 99), 1);
    out["consistency_proof_us_p50"] = Round(Percentile(consistency, 50), 1);
    out["consistency_proof_us_p99"] = Round(Percentile(consistency, 99), 1);
    out["inclusion_proof_cpu_us_p50"] = Round(Percentile(inclusion_cpu, 50), 1);
    out["inclusion_proof_cpu_us_p99"] = Round(Percentile(inclusion_cpu, 99), 1);
    out["consistency_proof_cpu_us_p50"] = Round(Percentile(consistency_cpu, 50), 1);
    out["consistency_proof_cpu_us_p99"] = Round(Percentile(consistency_cpu, 99), 1);
    Progress(options, "merkle: inclusion proof p50 " + out["inclusion_proof_us_p50"].dump() +
                          " us, p99 " + out["inclusion_proof_us_p99"].dump() + " us");
  }

  // (b) full verification from the closed store's files.
  {
    Progress(options, "merkle: verifying " + std::to_string(n) + " leaves from the files");
    double cpu = ProcessCpuSeconds();
    Stopwatch clock;
    auto report = merkle::VerifyStoreFiles(setup.path, public_key);
    double seconds = clock.Seconds();
    cpu = ProcessCpuSeconds() - cpu;
    if (!report.ok()) return report.status();
    if (!report->ok) return Status::Corruption("verification failed: " + report->failure);
    if (report->leaves != n) {
      return Status::Corruption("the verifier hashed " + std::to_string(report->leaves) +
                                " leaves, expected " + std::to_string(n));
    }
    out["verify_seconds"] = Round(seconds, 3);
    out["verify_checkpoints"] = report->checkpoints;
    out["verify_leaves_per_s"] = Rate(report->leaves, seconds);
    out["verify_leaves_per_cpu_s"] = Rate(report->leaves, cpu);
  }
  return out;
}

}  // namespace hearth::bench
