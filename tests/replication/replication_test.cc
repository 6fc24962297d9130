// Replication on a real 3-node NATS JetStream cluster (docs/operations.md,
// "Replication"): nothing acknowledged is lost when a node dies, a lost
// machine is rebuilt from the stream, and a stream that was altered or
// truncated is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "merkle/proof_json.h"
#include "audit/verifier.h"
#include "nats_cluster.h"
#include "replication/nats_link.h"
#include "replication/replication.h"
#include "replication/wire.h"
#include "test_util.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;
using replication::AckMode;
using replication::FollowOptions;
using replication::PublisherOptions;
using replication::ReplicatedStore;
using testing::MakeEvent;
using testing::NatsCluster;
using testing::TempDir;

constexpr const char* kStream = "county";

// An acknowledged event: where it is and what its personal section says.
struct Acked {
  std::string stream;
  uint64_t position;
  EventId id;
  std::string subject;
  std::string personal;
};

class ReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.sub("nats"));
    cluster_ = std::make_unique<NatsCluster>(tmp_.sub("nats"));
    key_file_ = testing::HexKeyFile(tmp_.sub("root.key"));
  }

  PublisherOptions Pub(size_t message_bytes = 4096) {
    PublisherOptions p;
    p.target = {cluster_->Urls(), kStream};
    p.ack = AckMode::kCluster;
    p.ack_timeout_ms = 5000;
    p.max_message_bytes = message_bytes;  // small: several messages per test
    return p;
  }

  // The cluster elects its JetStream leaders after start: retry until ready.
  std::unique_ptr<ReplicatedStore> OpenPrimary(const std::string& dir, size_t message_bytes = 4096) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto s = ReplicatedStore::Open(testing::TestOptions(key_file_), dir, Pub(message_bytes));
      if (s.ok()) return std::move(*s);
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the cluster never became ready: " << s.status().ToString();
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }

  FollowOptions Follow(const std::string& dir, const std::array<uint8_t, 32>& pk,
                       const std::string& stream = kStream) {
    FollowOptions f;
    f.target = {cluster_->Urls(), stream};
    f.data = dir;
    f.key = KeySource::File(key_file_);
    f.public_key = pk;
    f.until_caught_up = true;
    return f;
  }

  // Appends one event, retrying the same batch while the cluster is busy
  // (an append is idempotent by its event ids). False when never acknowledged.
  bool AppendAcked(Store* store, const std::string& stream, const std::string& subject,
                   const std::string& personal, std::vector<Acked>* acked) {
    std::vector<NewEvent> batch{MakeEvent("NoteRecorded", subject, personal)};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto r = store->Append(stream, ExpectedVersion::Any(), batch);
      if (r.ok()) {
        acked->push_back({stream, r->first_position, batch[0].id, subject, personal});
        return true;
      }
      if (!(r.status().code() == Status::Code::kBusy) || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << r.status().ToString();
        return false;
      }
    }
  }

  // Every acknowledged event is in `store`, at its position, with its
  // personal section (or erased, for the erased subjects).
  void ExpectAll(Store* store, const std::vector<Acked>& acked,
                 const std::set<std::string>& erased = {}) {
    for (const Acked& a : acked) {
      auto got = store->ReadAll(a.position, 1);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), 1u) << "position " << a.position << " is missing";
      const RecordedEvent& e = got->front();
      EXPECT_EQ(e.id, a.id);
      EXPECT_EQ(e.stream, a.stream);
      ASSERT_EQ(e.personal.size(), 1u);
      if (erased.count(a.subject) != 0) {
        EXPECT_TRUE(e.personal[0].erased);
      } else {
        EXPECT_FALSE(e.personal[0].erased);
        EXPECT_EQ(e.personal[0].data, a.personal);
      }
    }
  }

  TempDir tmp_;
  std::unique_ptr<NatsCluster> cluster_;
  std::string key_file_;
};

TEST_F(ReplicationTest, NodeKilledDuringAppendsLosesNothingAcknowledgedAndReplicaRootsAgree) {
  std::vector<Acked> acked;
  TreeHead primary_tree;
  std::array<uint8_t, 32> pk{};
  {
    auto store = OpenPrimary(tmp_.sub("primary"));
    ASSERT_NE(store, nullptr);
    pk = *store->CheckpointPublicKey();
    for (int i = 0; i < 120; ++i) {
      if (i == 40) cluster_->Kill(0);  // a node of the cluster dies mid-run
      ASSERT_TRUE(AppendAcked(store.get(), "case-" + std::to_string(i % 7),
                              "s-" + std::to_string(i % 11), "synthetic note " + std::to_string(i),
                              &acked));
    }
    auto cp = store->WriteCheckpoint();
    for (int i = 0; !cp.ok() && cp.status().code() == Status::Code::kBusy && i < 20; ++i) cp = store->WriteCheckpoint();
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    primary_tree = *store->CurrentTree();
    EXPECT_EQ(store->Replication().lag(), 0u);
  }
  auto report = replication::Follow(Follow(tmp_.sub("replica"), pk));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->imported, primary_tree.size);
  Options o;
  o.key = KeySource::File(key_file_);
  auto replica = Store::Open(o, tmp_.sub("replica"));
  ASSERT_TRUE(replica.ok()) << replica.status().ToString();
  auto tree = (*replica)->CurrentTree();
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->size, primary_tree.size);
  EXPECT_EQ(tree->root, primary_tree.root);
  ExpectAll(replica->get(), acked);
  // The replica's indexes were rebuilt: a stream reads in order.
  auto stream = (*replica)->ReadStream("case-3", 1, Direction::kForward, 1000);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(stream->size(), size_t(std::count_if(acked.begin(), acked.end(),
                                                 [](const Acked& a) { return a.stream == "case-3"; })));
}

TEST_F(ReplicationTest, FollowerTakesOnlyCheckpointedRecordsAndContinuesWhereItsReplicaEnds) {
  std::array<uint8_t, 32> pk{};
  std::vector<Acked> acked;
  {  // A store that ran without replication: 10 events, a checkpoint, 10 more.
    auto plain = Store::Open(testing::TestOptions(key_file_), tmp_.sub("primary"));
    ASSERT_TRUE(plain.ok());
    for (int i = 0; i < 20; ++i) {
      if (i == 10) {
        ASSERT_TRUE((*plain)->WriteCheckpoint().ok());
      }
      ASSERT_TRUE(AppendAcked(plain->get(), "case-1", "s-" + std::to_string(i % 3),
                              "note " + std::to_string(i), &acked));
    }
    pk = *(*plain)->CheckpointPublicKey();
  }
  // One message for all 20: the checkpoint at 10 falls inside it.
  auto store = OpenPrimary(tmp_.sub("primary"), 1 << 20);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->WaitReplicated(0, 10000).ok());
  auto first = replication::Follow(Follow(tmp_.sub("replica"), pk));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->imported, 10u);  // the unsigned ten wait for a checkpoint
  EXPECT_EQ(first->pending, 10u);
  ASSERT_TRUE(store->WriteCheckpoint().ok());
  auto second = replication::Follow(Follow(tmp_.sub("replica"), pk));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->imported, 20u);
  auto primary_tree = *store->CurrentTree();
  store.reset();
  Options o;
  o.key = KeySource::File(key_file_);
  auto replica = Store::Open(o, tmp_.sub("replica"));
  ASSERT_TRUE(replica.ok());
  EXPECT_EQ((*replica)->CurrentTree()->root, primary_tree.root);
  ExpectAll(replica->get(), acked);
  // A replica is read-only: its log is the primary's.
  auto write = (*replica)->Append("case-1", ExpectedVersion::Any(), {MakeEvent("NoteRecorded")});
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.status().code(), Status::Code::kNotSupported) << write.status().ToString();
  EXPECT_NE(write.status().message().find("read-only replica of stream county"), std::string::npos);
  EXPECT_EQ((*replica)->WriteCheckpoint().status().code(), Status::Code::kNotSupported);
}

TEST_F(ReplicationTest, LocalAckLagIsBoundedAndReportedAndDrainsWhenTheClusterIsBack) {
  std::vector<Acked> acked;
  std::array<uint8_t, 32> pk{};
  std::unique_ptr<ReplicatedStore> store;
  {
    PublisherOptions p = Pub();
    p.ack = AckMode::kLocal;
    p.max_lag_events = 5;
    p.ack_timeout_ms = 300;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto s = ReplicatedStore::Open(testing::TestOptions(key_file_), tmp_.sub("primary"), p);
      if (s.ok()) {
        store = std::move(*s);
        break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << s.status().ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  pk = *store->CheckpointPublicKey();
  ASSERT_TRUE(store->WaitReplicated(0, 10000).ok());
  for (int i = 0; i < NatsCluster::kNodes; ++i) cluster_->Kill(i);  // the whole cluster is gone
  // Appends go on locally until the lag reaches its bound, then are refused.
  int taken = 0;
  Status refused;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    std::vector<NewEvent> batch{MakeEvent("NoteRecorded", "s-1", "note " + std::to_string(i))};
    auto r = store->Append("case-1", ExpectedVersion::Any(), batch);
    if (r.ok()) {
      ++taken;
      acked.push_back({"case-1", r->first_position, batch[0].id, "s-1", batch[0].personal[0].data});
    } else {
      refused = r.status();
    }
  }
  EXPECT_EQ(refused.code(), Status::Code::kBusy) << refused.ToString();
  EXPECT_NE(refused.message().find("replication lag"), std::string::npos) << refused.ToString();
  EXPECT_LE(taken, 5 + 1);
  auto status = store->Replication();
  EXPECT_GE(status.lag(), 5u);
  EXPECT_LE(status.lag(), 6u);
  // The publisher reports why (once its first publish to the dead cluster fails).
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store->Replication().last_error.empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(store->Replication().last_error.empty());
  // The cluster comes back: the lag drains and appends are taken again.
  for (int i = 0; i < NatsCluster::kNodes; ++i) cluster_->Start(i);
  Status drained = store->WaitReplicated(0, 30000);
  ASSERT_TRUE(drained.ok()) << drained.ToString();
  EXPECT_EQ(store->Replication().lag(), 0u);
  EXPECT_GE(store->Replication().max_lag_seen, 5u);
  ASSERT_TRUE(AppendAcked(store.get(), "case-1", "s-1", "after", &acked));
  auto cp = store->WriteCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  ASSERT_TRUE(store->WaitReplicated(0, 10000).ok());
  store.reset();
  fs::remove_all(tmp_.sub("primary"));
  FollowOptions f = Follow(tmp_.sub("restored"), pk);
  auto report = replication::RestoreFromStream(f);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  Options o;
  o.key = KeySource::File(key_file_);
  auto restored = Store::Open(o, tmp_.sub("restored"));
  ASSERT_TRUE(restored.ok());
  ExpectAll(restored->get(), acked);
}

TEST_F(ReplicationTest, CommandLineReplicatesAStoreAndFollowsItsStreamAndAnOlderCopyIsRefused) {
  std::vector<Acked> acked;
  std::array<uint8_t, 32> pk{};
  {
    auto plain = Store::Open(testing::TestOptions(key_file_), tmp_.sub("primary"));
    ASSERT_TRUE(plain.ok());
    for (int i = 0; i < 8; ++i) {
      if (i == 4) {
        ASSERT_TRUE((*plain)->Backup(tmp_.sub("old-copy")).ok());
      }
      ASSERT_TRUE(AppendAcked(plain->get(), "case-9", "s-" + std::to_string(i % 2),
                              "note " + std::to_string(i), &acked));
    }
    pk = *(*plain)->CheckpointPublicKey();
  }
  std::string pk_file = tmp_.sub("county.pub");
  std::ofstream(pk_file) << merkle::ToHex(pk.data(), pk.size()) << "\n";
  std::string common = " --key-file " + key_file_ + " --nats " + cluster_->Urls() + " --stream cli";
  std::string replicate = std::string(HEARTH_CLI) + " replicate --data " + tmp_.sub("primary") +
                          common + " >" + tmp_.sub("out.txt") + " 2>&1";
  int rc = -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {  // until the cluster is ready
    rc = std::system(replicate.c_str());
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::ifstream out(tmp_.sub("out.txt"));
  std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << text;
  EXPECT_NE(text.find("holds the log of"), std::string::npos) << text;
  std::string follow = std::string(HEARTH_CLI) + " follow --data " + tmp_.sub("replica") + common +
                       " --public-key " + pk_file + " --until-caught-up >/dev/null";
  rc = std::system(follow.c_str());
  ASSERT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << rc;
  Options o;
  o.key = KeySource::File(key_file_);
  auto replica = Store::Open(o, tmp_.sub("replica"));
  ASSERT_TRUE(replica.ok()) << replica.status().ToString();
  ExpectAll(replica->get(), acked);
  auto primary = Store::Open(o, tmp_.sub("primary"));
  ASSERT_TRUE(primary.ok());
  EXPECT_EQ((*replica)->CurrentTree()->root, (*primary)->CurrentTree()->root);
  primary->reset();
  // An older copy of the store is not the stream's writer: behind it, or
  // written since and so diverged from it, it is refused.
  PublisherOptions p = Pub();
  p.target.stream = "cli";
  auto behind = ReplicatedStore::Open(o, tmp_.sub("old-copy"), p);
  ASSERT_FALSE(behind.ok());
  EXPECT_NE(behind.status().message().find("holds the log up to position 8 but this store ends at 4"),
            std::string::npos) << behind.status().ToString();
  {
    auto old = Store::Open(o, tmp_.sub("old-copy"));
    ASSERT_TRUE(old.ok());
    std::vector<Acked> ignored;
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(AppendAcked(old->get(), "case-9", "", "", &ignored));
  }
  auto diverged = ReplicatedStore::Open(o, tmp_.sub("old-copy"), p);
  ASSERT_FALSE(diverged.ok());
  EXPECT_NE(diverged.status().message().find("diverged"), std::string::npos)
      << diverged.status().ToString();
}

// True when any file under `dir` contains `needle`.
// The cluster's nodes keep writing and removing files meanwhile: a file
// that vanishes is skipped.
bool AnyFileContains(const std::string& dir, const std::string& needle) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    if (!entry.is_regular_file(ec)) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST_F(ReplicationTest, LostMachineIsRestoredFromStreamWithEveryAcknowledgedEventAndErasureKept) {
  std::vector<Acked> acked;
  SignedCheckpoint auditor;
  std::array<uint8_t, 32> pk{};
  {
    auto store = OpenPrimary(tmp_.sub("primary"));
    ASSERT_NE(store, nullptr);
    pk = *store->CheckpointPublicKey();
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(AppendAcked(store.get(), "case-" + std::to_string(i % 5),
                              "s-" + std::to_string(i % 10),
                              "Synthetic Person " + std::to_string(i % 10) + " of 1 Test Lane", &acked));
    }
    auto erased = store->EraseSubject("s-3", Actor{"u-1", "dpo", "test"}, "art17");
    ASSERT_TRUE(erased.ok()) << erased.status().ToString();
    auto cp = store->WriteCheckpoint();
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    auditor = *cp;  // the auditor's last checkpoint
    for (int i = 50; i < 70; ++i) {  // acknowledged after it: the unsigned tail
      ASSERT_TRUE(AppendAcked(store.get(), "case-" + std::to_string(i % 5),
                              "t-" + std::to_string(i % 10),
                              "Synthetic Person " + std::to_string(i % 10) + " of 1 Test Lane", &acked));
    }
  }
  // The cluster holds no plaintext, and no key of the erased subject.
  for (int i = 0; i < NatsCluster::kNodes; ++i) {
    EXPECT_FALSE(AnyFileContains(cluster_->StoreDir(i), "Synthetic Person")) << "node " << i;
  }
  {
    replication::NatsLink link;
    ASSERT_TRUE(link.Connect(cluster_->Urls()).ok());
    auto key = link.LastMsg(kStream, std::string(kStream) + ".key." + replication::wire::HexSubject("s-3"));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(key->get(), nullptr) << "the erased subject's key is still in the stream";
    auto other = link.LastMsg(kStream, std::string(kStream) + ".key." + replication::wire::HexSubject("s-4"));
    ASSERT_TRUE(other.ok());
    EXPECT_NE(other->get(), nullptr);
  }
  // The machine is lost.
  fs::remove_all(tmp_.sub("primary"));

  FollowOptions f = Follow(tmp_.sub("restored"), pk);
  f.held = {auditor};
  auto report = replication::RestoreFromStream(f);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(fs::exists(tmp_.sub("restored") + ".restoring"));
  merkle::VerifyOptions vo;
  vo.held = {{"auditor", auditor}};
  auto verified = merkle::VerifyStoreFiles(tmp_.sub("restored"), pk, vo);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ok) << verified->failure;
  EXPECT_EQ(verified->held_extended, 1u);

  Options o;
  o.key = KeySource::File(key_file_);
  auto restored = Store::Open(o, tmp_.sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ExpectAll(restored->get(), acked, {"s-3"});
  auto info = (*restored)->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_position, 71u);  // 70 appends and the erasure
  EXPECT_EQ(info->erased_subjects, 1u);
  EXPECT_FALSE(AnyFileContains(tmp_.sub("restored"), "Synthetic Person 3 "));
  // The restored store takes writes again, where the lost one stopped.
  auto next = (*restored)->Append("case-0", ExpectedVersion::Any(), {MakeEvent("NoteRecorded")});
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->first_position, 72u);
}

// Copies stream `from` to a new stream `to` message by message, letting
// `edit` change or drop (return false) each one.
void CopyStream(replication::NatsLink& link, const std::string& from, const std::string& to,
                const std::function<bool(uint64_t seq, std::string& kind, std::string& data)>& edit) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = jsErrCode(0);
  ASSERT_EQ(js_GetStreamInfo(&si, link.js(), from.c_str(), nullptr, &code), NATS_OK);
  uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  std::string subjects = to + ".>";
  const char* list[] = {subjects.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = to.c_str();
  cfg.Subjects = list;
  cfg.SubjectsLen = 1;
  cfg.Replicas = 3;
  ASSERT_EQ(js_AddStream(&si, link.js(), &cfg, nullptr, &code), NATS_OK);
  jsStreamInfo_Destroy(si);
  for (uint64_t seq = 1; seq <= last; ++seq) {
    natsMsg* m = nullptr;
    if (js_GetMsg(&m, link.js(), from.c_str(), seq, nullptr, &code) != NATS_OK) continue;
    replication::MsgPtr msg(m);
    std::string kind = std::string(natsMsg_GetSubject(m)).substr(from.size() + 1);
    std::string data(natsMsg_GetData(m), size_t(natsMsg_GetDataLength(m)));
    if (!edit(seq, kind, data)) continue;
    ASSERT_TRUE(link.Publish(to + "." + kind, data, to + "-" + std::to_string(seq), 5000).ok());
  }
}

TEST_F(ReplicationTest, AlteredOrTruncatedStreamIsRefusedAndNothingIsWritten) {
  std::vector<Acked> acked;
  SignedCheckpoint auditor;
  std::array<uint8_t, 32> pk{};
  {
    auto store = OpenPrimary(tmp_.sub("primary"));
    ASSERT_NE(store, nullptr);
    pk = *store->CheckpointPublicKey();
    for (int i = 0; i < 30; ++i) {
      ASSERT_TRUE(AppendAcked(store.get(), "case-1", "s-" + std::to_string(i % 4), "note " + std::to_string(i), &acked));
    }
    ASSERT_TRUE(store->WriteCheckpoint().ok());
    for (int i = 30; i < 40; ++i) {
      ASSERT_TRUE(AppendAcked(store.get(), "case-2", "s-" + std::to_string(i % 4), "note " + std::to_string(i), &acked));
    }
    auto cp = store->WriteCheckpoint();
    ASSERT_TRUE(cp.ok());
    auditor = *cp;
  }
  replication::NatsLink link;
  ASSERT_TRUE(link.Connect(cluster_->Urls()).ok());

  // One byte of one stored record changed in the stream.
  int logs = 0;
  CopyStream(link, kStream, "altered", [&](uint64_t, std::string& kind, std::string& data) {
    if (kind == "log" && ++logs == 2) {
      std::vector<log::ReplicatedRecord> records;
      EXPECT_TRUE(replication::wire::DecodeLog(data, &records));
      records[0].bytes[records[0].bytes.size() / 2] ^= 0x01;
      data = replication::wire::EncodeLog(records);
    }
    return true;
  });
  // The last log message and the checkpoint after it left out.
  uint64_t last_log = 0;
  CopyStream(link, kStream, "scan", [&](uint64_t seq, std::string& kind, std::string&) {
    if (kind == "log") last_log = seq;
    return false;
  });
  CopyStream(link, kStream, "truncated", [&](uint64_t seq, std::string&, std::string&) {
    return seq < last_log;
  });
  // A log message removed from the middle.
  logs = 0;
  CopyStream(link, kStream, "gapped", [&](uint64_t, std::string& kind, std::string&) {
    return !(kind == "log" && ++logs == 2);
  });

  struct Case {
    const char* stream;
    const char* says;
  } cases[] = {{"altered", "refused"},
               {"truncated", "before the checkpoint you hold"},
               {"gapped", "skips from position"}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.stream);
    std::string dir = tmp_.sub(std::string("restored-") + c.stream);
    FollowOptions f = Follow(dir, pk, c.stream);
    f.held = {auditor};
    auto r = replication::RestoreFromStream(f);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << r.status().ToString();
    EXPECT_FALSE(fs::exists(dir));
    EXPECT_FALSE(fs::exists(dir + ".restoring"));
  }
  // The command line says it in one line, exit 3, and writes nothing.
  {
    std::string pk_file = tmp_.sub("county.pub"), cp_file = tmp_.sub("auditor.json");
    std::ofstream(pk_file) << merkle::ToHex(pk.data(), pk.size()) << "\n";
    std::ofstream(cp_file) << merkle::CheckpointToJson(auditor).dump() << "\n";
    std::string dir = tmp_.sub("restored-cli");
    std::string cmd = std::string(HEARTH_CLI) + " restore --from-stream --nats " +
                      cluster_->Urls() + " --stream altered --data " + dir + " --key-file " +
                      key_file_ + " --public-key " + pk_file + " --checkpoint " + cp_file +
                      " 2>" + tmp_.sub("stderr.txt");
    int rc = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 3) << rc;
    std::ifstream err(tmp_.sub("stderr.txt"));
    std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(text.starts_with("hearth: Corruption: ")) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    EXPECT_FALSE(fs::exists(dir));
    cmd = std::string(HEARTH_CLI) + " restore --from-stream --nats " + cluster_->Urls() +
          " --stream " + kStream + " --data " + dir + " --key-file " + key_file_ +
          " --public-key " + pk_file + " --checkpoint " + cp_file + " >/dev/null";
    rc = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << rc;
    EXPECT_TRUE(fs::exists(dir + "/CURRENT"));
  }
  // A follower takes nothing from the altered stream past the last verified checkpoint.
  auto followed = replication::Follow(Follow(tmp_.sub("replica"), pk, "altered"));
  ASSERT_FALSE(followed.ok());
  EXPECT_TRUE(followed.status().IsCorruption()) << followed.status().ToString();
  Options o;
  o.key = KeySource::File(key_file_);
  auto replica = Store::Open(o, tmp_.sub("replica"));
  ASSERT_TRUE(replica.ok());
  EXPECT_LT((*replica)->CurrentTree()->size, auditor.size);
  // The untouched stream restores.
  FollowOptions good = Follow(tmp_.sub("restored-good"), pk);
  good.held = {auditor};
  auto ok = replication::RestoreFromStream(good);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->imported, auditor.size);
}

}  // namespace
}  // namespace hearth
