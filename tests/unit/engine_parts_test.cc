// The engine's parts that own a column family each, tested on a bare
// RocksDB without the store around them: the tree store (log/tree_store.h)
// against the RFC 9162 reference, and the access log (log/access_log.h).
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "log/access_log.h"
#include "log/format.h"
#include "log/tree_store.h"
#include "../merkle/rfc9162_reference.h"
#include "test_util.h"

namespace hearth::log {
namespace {

// A RocksDB with the named column families, closed on destruction.
class BareDb {
 public:
  BareDb(const std::string& dir, const std::vector<std::string>& names) {
    rocksdb::DBOptions o;
    o.create_if_missing = true;
    o.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{"default", {}}};
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(o, dir, cfs, &handles_, &raw);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    db_.reset(raw);
  }
  ~BareDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(size_t i) { return handles_.at(i + 1); }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

std::string Record(uint64_t position) {
  return "record " + std::to_string(position) + std::string(position % 37, char('a' + position % 26));
}

class TreeStoreTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kRecords = 1100;  // four stored blocks and a tail
  void SetUp() override {
    db_ = std::make_unique<BareDb>(dir_.path(), std::vector<std::string>{"log", "merkle"});
    tree_ = std::make_unique<TreeStore>(db_->db(), db_->cf(0), db_->cf(1));
    std::vector<std::string> inputs;
    merkle::Hasher hasher;
    // Appended in batches of uneven sizes, as commits are.
    for (uint64_t p = 1; p <= kRecords;) {
      rocksdb::WriteBatch batch;
      for (uint64_t end = std::min(kRecords, p + p % 97); p <= end; ++p) {
        batch.Put(db_->cf(0), LogKey(p), Record(p));
        tree_->Append(hasher, Record(p), &frontier_, &batch);
        inputs.push_back(Record(p));
      }
      ASSERT_TRUE(db_->db()->Write(rocksdb::WriteOptions(), &batch).ok());
    }
    reference_ = std::make_unique<reference::Tree>(inputs);
  }
  testing::TempDir dir_;
  std::unique_ptr<BareDb> db_;
  std::unique_ptr<TreeStore> tree_;
  merkle::Frontier frontier_;
  std::unique_ptr<reference::Tree> reference_;
};

TEST_F(TreeStoreTest, StoresEveryCompleteBlockAndTheFrontierMatchesTheReference) {
  merkle::Hasher hasher;
  EXPECT_EQ(frontier_.size(), kRecords);
  EXPECT_EQ(frontier_.Root(hasher), reference_->Root(kRecords));
  for (uint64_t b = 0; b < kRecords / 256; ++b) {
    auto node = tree_->StoredNode(merkle::kStoredLevel, b);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    EXPECT_EQ(*node, reference_->Mth(b * 256, 256)) << "block " << b;
  }
  auto pair = tree_->StoredNode(merkle::kStoredLevel + 1, 1);  // leaves 512..1023
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(*pair, reference_->Mth(512, 512));
  EXPECT_TRUE(tree_->StoredNode(merkle::kStoredLevel, kRecords / 256).status().IsNotFound());  // the tail
}

TEST_F(TreeStoreTest, InclusionProofsMatchTheReference) {
  for (uint64_t size : std::vector<uint64_t>{1, 2, 3, 255, 256, 257, 511, 512, 700, 1024, kRecords}) {
    for (uint64_t pos = 1; pos <= size; pos += (size > 300 ? 13 : 1)) {
      auto proof = tree_->InclusionProof(pos, size);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, reference_->Path(pos - 1, size)) << "position " << pos << " of " << size;
    }
  }
}

TEST_F(TreeStoreTest, ConsistencyProofsMatchTheReference) {
  for (uint64_t to : std::vector<uint64_t>{2, 256, 257, 600, 1024, kRecords}) {
    for (uint64_t from = 1; from < to; from += (to > 300 ? 29 : 1)) {
      auto proof = tree_->ConsistencyProof(from, to);
      ASSERT_TRUE(proof.ok()) << proof.status().ToString();
      EXPECT_EQ(*proof, reference_->Proof(from, to)) << from << " to " << to;
    }
  }
  auto same = tree_->ConsistencyProof(kRecords, kRecords);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->empty());
}

TEST_F(TreeStoreTest, RefusesPositionsOutsideTheTreeAndNamesMissingParts) {
  EXPECT_TRUE(tree_->InclusionProof(0, 10).status().IsInvalidArgument());
  EXPECT_TRUE(tree_->InclusionProof(11, 10).status().IsInvalidArgument());
  EXPECT_TRUE(tree_->ConsistencyProof(10, 9).status().IsInvalidArgument());
  // A stored node gone: a proof that needs it is Corruption, not a wrong proof.
  ASSERT_TRUE(db_->db()->Delete(rocksdb::WriteOptions(), db_->cf(1), MerkleKey(merkle::kStoredLevel, 0)).ok());
  auto proof = tree_->InclusionProof(300, kRecords);  // its sibling at level 8 is block 0
  EXPECT_TRUE(proof.status().IsCorruption()) << proof.status().ToString();
  // A record gone from the block a proof rehashes: Corruption.
  ASSERT_TRUE(db_->db()->Delete(rocksdb::WriteOptions(), db_->cf(0), LogKey(1030)).ok());
  proof = tree_->InclusionProof(1029, kRecords);
  EXPECT_TRUE(proof.status().IsCorruption()) << proof.status().ToString();
}

class AccessLogTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);  // the store does this on open; here there is no store
    db_ = std::make_unique<BareDb>(dir_.path(), std::vector<std::string>{"access"});
    key_ = std::make_unique<crypto::SecretKey>(crypto::SecretKey::Random());
    log_ = std::make_unique<AccessLog>(db_->db(), db_->cf(0), GetParam() ? key_.get() : nullptr, false);
  }
  static AccessRecord Rec(const std::string& subject, Timestamp time, const std::string& action) {
    AccessRecord r;
    r.subject = subject;
    r.time = time;
    r.plugin = "console";
    r.user = "caseworker-7";
    r.role = "caseworker";
    r.action = action;
    r.purpose = "case work";
    r.recipient = "";
    r.first_position = 3;
    r.last_position = 9;
    r.events = 4;
    return r;
  }
  std::vector<std::string> RawValues() {
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(0)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->value().ToString());
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<BareDb> db_;
  std::unique_ptr<crypto::SecretKey> key_;  // made after sodium_init
  std::unique_ptr<AccessLog> log_;
};

TEST_P(AccessLogTest, ReadsBackEachSubjectsRecordsInOrderAndNoOneElses) {
  ASSERT_TRUE(log_->Append({Rec("S-1", 100, "read"), Rec("S-10", 50, "read"), Rec("S-1", 100, "export")}).ok());
  ASSERT_TRUE(log_->Append({Rec("S-1", 90, "timeline")}).ok());
  auto got = log_->Read("S-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].action, "timeline");  // by time, then by the order written
  EXPECT_EQ((*got)[1].action, "read");
  EXPECT_EQ((*got)[2].action, "export");
  const AccessRecord& r = (*got)[2];
  EXPECT_EQ(r.subject, "S-1");
  EXPECT_EQ(r.time, 100);
  EXPECT_EQ(r.user, "caseworker-7");
  EXPECT_EQ(r.role, "caseworker");
  EXPECT_EQ(r.purpose, "case work");
  EXPECT_EQ(r.first_position, 3u);
  EXPECT_EQ(r.last_position, 9u);
  EXPECT_EQ(r.events, 4u);
  auto other = log_->Read("S-10");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->size(), 1u);
  EXPECT_TRUE(log_->Read("S-2")->empty());
}

TEST_P(AccessLogTest, ABatchWithABadRecordWritesNothing) {
  Status s = log_->Append({Rec("S-1", 1, "read"), Rec("S-2", 1, "")});
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.ToString().find("action"), std::string::npos);
  EXPECT_TRUE(log_->Read("S-1")->empty());
  EXPECT_TRUE(RawValues().empty());
}

TEST_P(AccessLogTest, SealedEntriesHideTheirFieldsAndRefuseTampering) {
  ASSERT_TRUE(log_->Append({Rec("S-1", 5, "read")}).ok());
  auto raw = RawValues();
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].find("caseworker-7") == std::string::npos, GetParam());
  // One byte changed at rest.
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->cf(0)));
  it->SeekToFirst();
  std::string key = it->key().ToString(), value = it->value().ToString();
  it.reset();
  value[value.size() / 2] ^= 1;
  ASSERT_TRUE(db_->db()->Put(rocksdb::WriteOptions(), db_->cf(0), key, value).ok());
  auto got = log_->Read("S-1");
  if (GetParam()) {
    EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
  } else {
    EXPECT_TRUE(got.ok() || got.status().IsCorruption());  // a plain store cannot tell a changed letter
  }
}

INSTANTIATE_TEST_SUITE_P(SealedOrPlain, AccessLogTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Sealed" : "Plain"; });

}  // namespace
}  // namespace hearth::log
