// Power loss, not only process death. SIGKILL (crash_test.cc) keeps the
// kernel's page cache, so an append that was written but never synced still
// survives it. Here RocksDB runs on PowerCutFileSystem (fault_fs.h): at a
// random moment the power is cut while writers append, and on "restart" every
// byte not yet synced is dropped (and, every other round, every directory
// entry not yet synced). docs/format.md and docs/operations.md promise that
// an append returns only once it is synced: everything acknowledged must be
// there after the restart, whole, in order, with a Merkle tree that verifies.
//
// HEARTH_POWER_SEED=<n> replays a run; HEARTH_POWER_CUTS=<n> sets the number
// of cuts (default 8).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "crash_events.h"
#include "fault_fs.h"
#include "hearth/store.h"
#include "log/store_impl.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "audit/verifier.h"
#include "test_util.h"

namespace hearth {
namespace {

using testing::HexKeyFile;
using testing::PowerCutFileSystem;
using testing::TempDir;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Ack {
  uint64_t seed;
  uint64_t first_position, last_position;
};

Options StoreOptions(const std::string& key, bool create, bool sync) {
  Options o;
  o.create_if_missing = create;
  o.key = KeySource::File(key);
  o.sync = sync;
  o.checkpoint_interval = 0;
  return o;
}

// What the reopened store holds, checked against itself: dense positions,
// every record one of the generated batches byte for byte, no torn batch,
// and the tree head recomputed from the raw records.
struct Survivors {
  uint64_t last = 0;
  std::map<uint64_t, std::vector<uint64_t>> batch_positions;  // seed -> positions
  std::vector<uint64_t> order;                                // seeds, in log order
};

void ReadBack(Store* store, Survivors* out) {
  auto info = store->Info();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  out->last = info->last_position;
  std::map<uint64_t, crash::Batch> batches;
  uint64_t expect = 1;
  while (expect <= out->last) {
    auto chunk = store->ReadAll(expect, 2000);
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    ASSERT_FALSE(chunk->empty()) << "the log ends at " << expect - 1 << " but Info says " << out->last;
    for (const RecordedEvent& e : *chunk) {
      ASSERT_EQ(e.position, expect) << "positions are not dense";
      ++expect;
      uint64_t seed = 0;
      size_t index = 0;
      ASSERT_TRUE(crash::ParseFacts(e.facts, &seed, &index)) << "position " << e.position;
      auto it = batches.find(seed);
      if (it == batches.end()) it = batches.emplace(seed, crash::MakeBatch(seed)).first;
      ASSERT_LT(index, it->second.events.size());
      const NewEvent& want = it->second.events[index];
      EXPECT_EQ(e.stream, it->second.stream);
      EXPECT_EQ(e.id, want.id) << "position " << e.position;
      ASSERT_EQ(e.personal.size(), want.personal.size()) << "position " << e.position;
      for (size_t k = 0; k < want.personal.size(); ++k) {
        EXPECT_EQ(e.personal[k].data, want.personal[k].data) << "position " << e.position;
      }
      auto& positions = out->batch_positions[seed];
      EXPECT_EQ(positions.size(), index) << "batch " << seed << " out of order at " << e.position;
      if (positions.empty()) out->order.push_back(seed);
      positions.push_back(e.position);
    }
  }
  for (const auto& [seed, positions] : out->batch_positions) {
    EXPECT_EQ(positions.size(), batches.at(seed).events.size()) << "batch " << seed << " is torn";
  }
  merkle::Hasher hasher;
  merkle::Frontier frontier;
  for (uint64_t p = 1; p <= out->last; ++p) {
    auto raw = store->RawRecord(p);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    frontier.Append(hasher, hasher.Leaf(*raw), nullptr);
  }
  auto tree = store->CurrentTree();
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->size, out->last);
  EXPECT_EQ(tree->root, frontier.Root(hasher)) << "the tree head does not match the records";
}

// The store's own files, checked offline as `hearth verify` does.
void VerifyFiles(const std::string& path, const std::array<uint8_t, 32>& pk) {
  auto report = merkle::VerifyStoreFiles(path, pk);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->failure << " at position " << report->failure_position;
}

TEST(PowerLossTest, EveryAcknowledgedAppendSurvivesAPowerCut) {
  const uint64_t seed = EnvOr("HEARTH_POWER_SEED", std::random_device{}());
  const uint64_t cuts = EnvOr("HEARTH_POWER_CUTS", 8);
  std::printf("PowerLossTest: HEARTH_POWER_SEED=%llu, %llu cuts\n", (unsigned long long)seed,
              (unsigned long long)cuts);
  SCOPED_TRACE("HEARTH_POWER_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  std::string key = HexKeyFile(dir.sub("root.key"));
  std::string path = dir.sub("store");
  std::array<uint8_t, 32> pk{};
  std::vector<Ack> acked;  // over all rounds
  uint64_t dropped_bytes = 0, lost_entries = 0;

  for (uint64_t round = 0; round < cuts; ++round) {
    const bool lose_entries = round % 2 == 1;
    const uint64_t cut_after = 2 + rng() % 30;  // acknowledged batches before the cut
    auto fs = std::make_shared<PowerCutFileSystem>();
    std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
    auto opened = log::StoreImpl::OpenWithEnv(StoreOptions(key, round == 0, true), path, env.get());
    ASSERT_TRUE(opened.ok()) << "round " << round << ": " << opened.status().ToString();
    std::unique_ptr<Store> store = std::move(*opened);
    if (round == 0) {
      auto k = store->CheckpointPublicKey();
      ASSERT_TRUE(k.ok());
      pk = *k;
    }
    // A signed checkpoint each round, so the offline verification checks
    // signatures and consistency across the cuts too.
    if (store->Info()->last_position > 0) {
      ASSERT_TRUE(store->WriteCheckpoint().ok());
    }

    std::mutex mu;
    std::vector<Ack> round_acks;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (uint64_t w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        for (uint64_t n = 0; !stop.load(); ++n) {
          uint64_t s = crash::BatchSeed(round, w, n);
          crash::Batch b = crash::MakeBatch(s);
          auto r = store->Append(b.stream, ExpectedVersion::Any(), b.events);
          if (!r.ok()) return;  // the power is off: the store refuses from now on
          std::lock_guard<std::mutex> lock(mu);
          round_acks.push_back(Ack{s, r->first_position, r->last_position});
        }
      });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (round_acks.size() >= cut_after) break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "round " << round << ": writers stalled";
      std::this_thread::sleep_for(std::chrono::microseconds(200 + rng() % 2000));
    }
    fs->CutPower();
    stop = true;
    for (auto& t : writers) t.join();
    // A write the disk refused is an error, never an acknowledgement.
    crash::Batch late = crash::MakeBatch(crash::BatchSeed(round, 9, 0));
    auto refused = store->Append(late.stream, ExpectedVersion::Any(), late.events);
    EXPECT_FALSE(refused.ok()) << "an append was acknowledged with the power off";
    EXPECT_EQ(refused.status().code(), Status::Code::kIOError) << refused.status().ToString();
    store.reset();  // the process goes down with the machine
    auto report = fs->Restart(lose_entries);
    dropped_bytes += report.bytes_dropped;
    lost_entries += report.entries_lost;
    acked.insert(acked.end(), round_acks.begin(), round_acks.end());

    auto reopened = Store::Open(StoreOptions(key, false, true), path);
    ASSERT_TRUE(reopened.ok()) << "round " << round << ": " << reopened.status().ToString();
    Survivors survivors;
    ReadBack(reopened->get(), &survivors);
    if (::testing::Test::HasFatalFailure()) return;
    for (const Ack& a : acked) {
      auto it = survivors.batch_positions.find(a.seed);
      ASSERT_NE(it, survivors.batch_positions.end())
          << "round " << round << ": acknowledged batch " << a.seed << " (positions "
          << a.first_position << ".." << a.last_position << ") was lost in the power cut";
      EXPECT_EQ(it->second.front(), a.first_position);
      EXPECT_EQ(it->second.back(), a.last_position);
    }
    reopened->reset();
    VerifyFiles(path, pk);
    std::printf("cut %llu (%s): %zu batches acknowledged this round, log at %llu; restart dropped "
                "%llu unsynced bytes in %llu files, %llu directory entries\n",
                (unsigned long long)round, lose_entries ? "bytes + dir entries" : "bytes",
                round_acks.size(), (unsigned long long)survivors.last,
                (unsigned long long)report.bytes_dropped, (unsigned long long)report.files_truncated,
                (unsigned long long)report.entries_lost);
    std::fflush(stdout);
  }
  std::printf("PowerLossTest: %zu acknowledged batches survived %llu cuts (%llu unsynced bytes and "
              "%llu directory entries dropped in all)\n",
              acked.size(), (unsigned long long)cuts, (unsigned long long)dropped_bytes,
              (unsigned long long)lost_entries);
}

// The harness is not vacuous: with Options::sync off (documented as "a crash
// may lose the last appends, never the order, never half a batch") the same
// cut loses acknowledged appends, and what survives is still a whole prefix.
TEST(PowerLossTest, WithoutSyncAPowerCutLosesAcknowledgedAppendsButNeverTheOrder) {
  TempDir dir;
  std::string key = HexKeyFile(dir.sub("root.key"));
  std::string path = dir.sub("store");
  auto fs = std::make_shared<PowerCutFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  std::vector<Ack> acked;
  {
    auto opened = log::StoreImpl::OpenWithEnv(StoreOptions(key, true, false), path, env.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    for (uint64_t n = 0; n < 20; ++n) {
      uint64_t s = crash::BatchSeed(7, 0, n);
      crash::Batch b = crash::MakeBatch(s);
      auto r = (*opened)->Append(b.stream, ExpectedVersion::Any(), b.events);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      acked.push_back(Ack{s, r->first_position, r->last_position});
    }
    fs->CutPower();
  }
  auto report = fs->Restart(false);
  EXPECT_GT(report.bytes_dropped, 0u) << "nothing was left unsynced";
  auto reopened = Store::Open(StoreOptions(key, false, true), path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Survivors survivors;
  ReadBack(reopened->get(), &survivors);
  EXPECT_LT(survivors.order.size(), acked.size()) << "an unsynced append survived the power cut";
  for (size_t i = 0; i < survivors.order.size(); ++i) {
    EXPECT_EQ(survivors.order[i], acked[i].seed) << "survivors are not a prefix of the appends";
  }
}

}  // namespace
}  // namespace hearth
