// The store's tree, proofs and checkpoints against the RFC 9162 reference:
// every tree size up to 300 and every index (see kSanitized), then larger
// trees whose proofs come from the stored subtrees of 256 leaves and up.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hearth/store.h"
#include "log/format.h"
#include "merkle/hash.h"
#include "audit/verifier.h"
#include "rfc9162_reference.h"
#include "test_util.h"

namespace hearth {
namespace {

using testing::MakeEvent;
using testing::TempDir;

constexpr uint64_t kExhaustive = 300;  // every (index, size) pair up to here
constexpr uint64_t kTotal = 1100;      // complete subtrees up to level 10

// Under AddressSanitizer a store proof costs about five times as much (the
// proof code opens a RocksDB iterator per subtree below 256 leaves, and each
// allocation is instrumented): all 90,000 pairs would take minutes of the CI's
// two cores. Sanitized builds therefore check every tree size up to 300 with
// every index only up to kAllIndexesUpTo and, above it, the indexes of
// SampleOf(); other builds (build/ without HEARTH_SANITIZE) check every pair.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
constexpr uint64_t kAllIndexesUpTo = 64;

// Values in 1..n that reach every branch of the RFC's recursion: the edges,
// each power of two and its neighbours (the split points), the middle, and a
// spread of others.
std::vector<uint64_t> SampleOf(uint64_t n) {
  std::set<uint64_t> s;
  auto add = [&](uint64_t v) {
    if (v >= 1 && v <= n) s.insert(v);
  };
  for (uint64_t p = 1; p <= n; p *= 2) {
    add(p - 1);
    add(p);
    add(p + 1);
  }
  for (uint64_t v : {uint64_t(2), uint64_t(3), n / 3, n / 2, n / 2 + 1, 2 * n / 3, n - 2, n - 1, n}) add(v);
  for (uint64_t i = 1; i <= 8; ++i) add(1 + (i * 7919 + n * 31) % n);
  return {s.begin(), s.end()};
}

std::vector<uint64_t> IndexesToCheck(uint64_t n) {
  if (kSanitized && n > kAllIndexesUpTo) return SampleOf(n);
  std::vector<uint64_t> all;
  for (uint64_t v = 1; v <= n; ++v) all.push_back(v);
  return all;
}

Options FastPlainOptions() {
  Options o;
  o.create_if_missing = true;
  o.encrypt = false;  // the leaves are the stored bytes either way
  o.sync = false;
  o.checkpoint_interval = 0;
  o.checkpoint_period_ms = 0;
  return o;
}

class StoreProofTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto s = Store::Open(FastPlainOptions(), dir_->sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = s->release();
    // One event per append up to kExhaustive, so each tree size is a head the
    // store really had; then batches.
    for (uint64_t n = 1; n <= kExhaustive; ++n) {
      auto r = store_->Append("case-" + std::to_string(n % 7), ExpectedVersion::Any(),
                              {MakeEvent("ContactRecorded")});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->last_position, n);
      auto head = store_->CurrentTree();
      ASSERT_TRUE(head.ok());
      heads_.push_back(*head);
    }
    while (heads_.size() < kTotal) {
      std::vector<NewEvent> batch;
      for (int i = 0; i < 100 && heads_.size() + batch.size() < kTotal; ++i) {
        batch.push_back(MakeEvent("VisitBooked"));
      }
      auto r = store_->Append("case-batch", ExpectedVersion::Any(), batch);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      auto head = store_->CurrentTree();
      ASSERT_TRUE(head.ok());
      while (heads_.size() < r->last_position) heads_.push_back(TreeHead{});
      heads_.back() = *head;
    }
    std::vector<std::string> records;
    for (uint64_t p = 1; p <= kTotal; ++p) {
      auto raw = store_->RawRecord(p);
      ASSERT_TRUE(raw.ok()) << raw.status().ToString();
      records.push_back(*raw);
    }
    reference_ = new reference::Tree(records);
  }

  void SetUp() override {
    ASSERT_NE(store_, nullptr) << "the suite's store could not be built";
    ASSERT_NE(reference_, nullptr) << "the suite's store could not be read back";
  }

  static void TearDownTestSuite() {
    delete store_;
    delete reference_;
    delete dir_;
    store_ = nullptr;
    reference_ = nullptr;
    dir_ = nullptr;
  }

  static Hash LeafHash(uint64_t position) {
    return reference_->Mth(position - 1, 1);
  }

  // The store's inclusion proof equals PATH and verifies against the head.
  static void CheckInclusion(uint64_t position, uint64_t size) {
    auto proof = store_->InclusionProof(position, size);
    ASSERT_TRUE(proof.ok()) << "position " << position << " size " << size << ": "
                            << proof.status().ToString();
    ASSERT_EQ(*proof, reference_->Path(position - 1, size))
        << "position " << position << " size " << size;
    ASSERT_TRUE(merkle::VerifyInclusion(position - 1, size, LeafHash(position), *proof,
                                        reference_->Root(size)))
        << "position " << position << " size " << size;
  }

  static void CheckConsistency(uint64_t from, uint64_t to) {
    auto proof = store_->ConsistencyProof(from, to);
    ASSERT_TRUE(proof.ok()) << from << " -> " << to << ": " << proof.status().ToString();
    std::vector<Hash> expected;
    if (from > 0 && from < to) expected = reference_->Proof(from, to);
    ASSERT_EQ(*proof, expected) << from << " -> " << to;
    ASSERT_TRUE(merkle::VerifyConsistency(from, to, reference_->Root(from), reference_->Root(to),
                                          *proof))
        << from << " -> " << to;
  }

  static void CheckAllInclusions(uint64_t first_size, uint64_t last_size);
  static void CheckAllConsistencies(uint64_t first_to, uint64_t last_to);

  static TempDir* dir_;
  static Store* store_;
  static reference::Tree* reference_;
  static std::vector<TreeHead> heads_;  // heads_[n - 1]: the head at size n (when seen)
};

TempDir* StoreProofTest::dir_ = nullptr;
Store* StoreProofTest::store_ = nullptr;
reference::Tree* StoreProofTest::reference_ = nullptr;
std::vector<TreeHead> StoreProofTest::heads_;

TEST_F(StoreProofTest, TreeHeadAfterEveryAppendIsTheReferenceRoot) {
  for (uint64_t n = 1; n <= kTotal; ++n) {
    const TreeHead& h = heads_[n - 1];
    if (h.size == 0) continue;  // inside a batch: the store never had this head
    ASSERT_EQ(h.size, n);
    ASSERT_EQ(h.root, reference_->Root(n)) << "size " << n;
  }
  auto now = store_->CurrentTree();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->size, kTotal);
  EXPECT_EQ(now->root, reference_->Root(kTotal));
}

// Every (position, size) and (from, to) pair up to 300 (sampled above
// kAllIndexesUpTo in sanitized builds), in three ranges of about equal cost,
// so that ctest can run them side by side.
void StoreProofTest::CheckAllInclusions(uint64_t first_size, uint64_t last_size) {
  for (uint64_t size = first_size; size <= last_size; ++size) {
    for (uint64_t position : IndexesToCheck(size)) {
      CheckInclusion(position, size);
      if (HasFatalFailure()) return;
    }
  }
}

void StoreProofTest::CheckAllConsistencies(uint64_t first_to, uint64_t last_to) {
  for (uint64_t to = first_to; to <= last_to; ++to) {
    CheckConsistency(0, to);
    for (uint64_t from : IndexesToCheck(to)) {
      CheckConsistency(from, to);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_F(StoreProofTest, InclusionProofsOfSizes1To200MatchTheReference) {
  CheckAllInclusions(1, 200);
}
TEST_F(StoreProofTest, InclusionProofsOfSizes201To256MatchTheReference) {
  CheckAllInclusions(201, 256);
}
TEST_F(StoreProofTest, InclusionProofsOfSizes257To300MatchTheReference) {
  CheckAllInclusions(257, kExhaustive);
}
TEST_F(StoreProofTest, ConsistencyProofsOfSizes1To200MatchTheReference) {
  CheckAllConsistencies(1, 200);
}
TEST_F(StoreProofTest, ConsistencyProofsOfSizes201To256MatchTheReference) {
  CheckAllConsistencies(201, 256);
}
TEST_F(StoreProofTest, ConsistencyProofsOfSizes257To300MatchTheReference) {
  CheckAllConsistencies(257, kExhaustive);
}

// Sizes and indexes around the stored subtrees' edges (256, 512, 1024).
TEST_F(StoreProofTest, ProofsOverStoredSubtreesMatchTheReference) {
  const std::vector<uint64_t> sizes = {255, 256, 257, 300, 511, 512, 513, 767, 768,
                                       769, 1000, 1023, 1024, 1025, 1099, 1100};
  for (uint64_t size : sizes) {
    std::vector<uint64_t> positions = {1, 2, 128, 255, 256, 257, 258, 511, 512, 513,
                                       700, 768, 769, 1023, 1024, 1025, size - 1, size};
    for (uint64_t p : positions) {
      if (p >= 1 && p <= size) CheckInclusion(p, size);
      if (HasFatalFailure()) return;
    }
    for (uint64_t from : sizes) {
      if (from <= size) CheckConsistency(from, size);
      if (HasFatalFailure()) return;
    }
    for (uint64_t from : {uint64_t(1), uint64_t(7), uint64_t(100), uint64_t(129)}) {
      CheckConsistency(from, size);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_F(StoreProofTest, ProofRequestsBeyondTheTreeAreRefusedClearly) {
  auto beyond_log = store_->InclusionProof(kTotal + 1, 0);
  ASSERT_FALSE(beyond_log.ok());
  EXPECT_TRUE(beyond_log.status().IsInvalidArgument()) << beyond_log.status().ToString();
  EXPECT_NE(beyond_log.status().message().find(std::to_string(kTotal + 1)), std::string::npos)
      << beyond_log.status().ToString();

  auto beyond_size = store_->InclusionProof(5, kTotal + 1);
  ASSERT_FALSE(beyond_size.ok());
  EXPECT_TRUE(beyond_size.status().IsInvalidArgument());
  EXPECT_NE(beyond_size.status().message().find("beyond"), std::string::npos)
      << beyond_size.status().ToString();

  auto outside_tree = store_->InclusionProof(11, 10);
  ASSERT_FALSE(outside_tree.ok());
  EXPECT_TRUE(outside_tree.status().IsInvalidArgument());

  auto position_zero = store_->InclusionProof(0, 10);
  ASSERT_FALSE(position_zero.ok());
  EXPECT_TRUE(position_zero.status().IsInvalidArgument());

  auto consistency_beyond = store_->ConsistencyProof(5, kTotal + 1);
  ASSERT_FALSE(consistency_beyond.ok());
  EXPECT_TRUE(consistency_beyond.status().IsInvalidArgument());
  EXPECT_NE(consistency_beyond.status().message().find("beyond"), std::string::npos);

  auto backwards = store_->ConsistencyProof(10, 5);
  ASSERT_FALSE(backwards.ok());
  EXPECT_TRUE(backwards.status().IsInvalidArgument());

  auto raw = store_->RawRecord(kTotal + 1);
  ASSERT_FALSE(raw.ok());
  EXPECT_TRUE(raw.status().IsInvalidArgument());
}

TEST_F(StoreProofTest, CheckpointsAreSignedOverTheDocumentedMessage) {
  auto cp = store_->WriteCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  auto pk = store_->CheckpointPublicKey();
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(cp->size, kTotal);
  EXPECT_EQ(cp->root, reference_->Root(kTotal));

  // "hearth checkpoint v1\n" size(8 BE) root(32) time(8 BE), built by hand.
  std::string expected = "hearth checkpoint v1\n";
  log::PutBE64(&expected, kTotal);
  expected += reference::Bytes(cp->root);
  log::PutBE64(&expected, uint64_t(cp->time));
  EXPECT_EQ(merkle::CheckpointMessage(*cp), expected);
  EXPECT_EQ(merkle::CheckpointMessage(*cp).size(), 21u + 8 + 32 + 8);

  EXPECT_TRUE(merkle::VerifyCheckpointSignature(*cp, *pk));
  SignedCheckpoint altered = *cp;
  altered.size -= 1;
  EXPECT_FALSE(merkle::VerifyCheckpointSignature(altered, *pk));
  altered = *cp;
  altered.time += 1;
  EXPECT_FALSE(merkle::VerifyCheckpointSignature(altered, *pk));
  altered = *cp;
  altered.root[0] ^= 1;
  EXPECT_FALSE(merkle::VerifyCheckpointSignature(altered, *pk));
  altered = *cp;
  altered.signature[63] ^= 1;
  EXPECT_FALSE(merkle::VerifyCheckpointSignature(altered, *pk));
  auto other_key = *pk;
  other_key[0] ^= 1;
  EXPECT_FALSE(merkle::VerifyCheckpointSignature(*cp, other_key));

  auto all = store_->Checkpoints();
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->empty());
  EXPECT_EQ(all->back().size, kTotal);
  EXPECT_EQ(all->back().signature, cp->signature);
}

}  // namespace
}  // namespace hearth
