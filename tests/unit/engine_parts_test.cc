// The engine's parts that own column families, tested on a bare RocksDB
// without the store around them: the tree store (log/tree_store.h) against
// the RFC 9162 reference, the access log (log/access_log.h) and the keyring
// (log/keyring.h).
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "log/access_log.h"
#include "log/keyring.h"
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
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles() const { return handles_; }

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

// ---- the keyring: meta, keys and lookup on a bare RocksDB ----

class KeyringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testing::HexKeyFile(dir_.sub("root.key"));
    db_ = std::make_unique<BareDb>(dir_.sub("db"), std::vector<std::string>{"meta", "keys", "lookup"});
    rocksdb::WriteBatch batch;
    ASSERT_TRUE(Keyring::WriteNew(true, KeySource::File(key_), meta(), keys(), &batch).ok());
    ASSERT_TRUE(db_->db()->Write(rocksdb::WriteOptions(), &batch).ok());
    ring_ = Loaded(key_);
    ASSERT_NE(ring_, nullptr);
  }
  rocksdb::ColumnFamilyHandle* meta() { return db_->cf(0); }
  rocksdb::ColumnFamilyHandle* keys() { return db_->cf(1); }
  rocksdb::ColumnFamilyHandle* lookup() { return db_->cf(2); }
  std::unique_ptr<Keyring> Make() {
    return std::make_unique<Keyring>(db_->db(), meta(), keys(), lookup(), &db_->handles(), "the test store");
  }
  std::unique_ptr<Keyring> Loaded(const std::string& key_file) {
    auto ring = Make();
    Status s = ring->Load(KeySource::File(key_file));
    EXPECT_TRUE(s.ok()) << s.ToString();
    return s.ok() ? std::move(ring) : nullptr;
  }
  // One commit group: `fn` writes into the batch, which is then written.
  template <typename Fn>
  void Group(Fn fn) {
    rocksdb::WriteBatch batch;
    ring_->BeginGroup();
    fn(&batch);
    ASSERT_TRUE(db_->db()->Write(rocksdb::WriteOptions(), &batch).ok());
  }
  std::string Key(Keyring& ring, const std::string& subject, rocksdb::WriteBatch* batch = nullptr) {
    uint8_t k[crypto::kKeyBytes];
    Status s = ring.DataKeyOf(subject, batch, k);
    return s.ok() ? std::string(reinterpret_cast<char*>(k), sizeof k) : "error: " + s.ToString();
  }
  // Every key of a family, as stored.
  std::vector<std::string> RawKeys(rocksdb::ColumnFamilyHandle* cf) {
    std::vector<std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
    return out;
  }
  // Whether any file of the database holds `bytes`.
  bool FilesHold(const std::string& bytes) {
    for (const auto& f : std::filesystem::directory_iterator(dir_.sub("db"))) {
      std::ifstream in(f.path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (content.find(bytes) != std::string::npos) return true;
    }
    return false;
  }
  static Identifier Nhs(const std::string& value) { return Identifier{"nhs", value}; }

  testing::TempDir dir_;
  std::string key_;
  std::unique_ptr<BareDb> db_;
  std::unique_ptr<Keyring> ring_;
};

TEST_F(KeyringTest, OpensWithItsRootKeyOnlyAndSealsFacts) {
  EXPECT_TRUE(ring_->encrypted());
  ASSERT_NE(ring_->facts_key(), nullptr);
  auto other = Make();
  Status s = other->Load(KeySource::File(testing::HexKeyFile(dir_.sub("other.key"))));
  EXPECT_EQ(s.code(), Status::Code::kWrongKey) << s.ToString();
  EXPECT_NE(s.message().find("the test store"), std::string::npos) << s.message();
  // The same key file again gives the same store key and signing key.
  auto again = Loaded(key_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(ring_->RecipientKey("district-1"), again->RecipientKey("district-1"));
  EXPECT_EQ(ring_->signing_public_key(), again->signing_public_key());
  std::array<uint8_t, 64> sig{};
  ring_->Sign("a checkpoint", &sig);
  EXPECT_EQ(crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>("a checkpoint"), 12,
                                        ring_->signing_public_key().data()),
            0);
}

TEST_F(KeyringTest, ADataKeyIsMadeOnceInItsGroupAndOpensAfterReload) {
  std::string first, sealed;
  Group([&](rocksdb::WriteBatch* batch) {
    first = Key(*ring_, "P-1", batch);
    EXPECT_EQ(first.size(), crypto::kKeyBytes) << first;
    EXPECT_EQ(Key(*ring_, "P-1", batch), first);  // the group's, not a second one
    EXPECT_EQ(ring_->TakeNewKeyCount(), 1u);
    EXPECT_TRUE(*ring_->HasKey("P-1"));
    EXPECT_FALSE(*ring_->HasStoredKey("P-1"));  // not committed yet
    ASSERT_TRUE(ring_->Seal("P-1", "aad", "a synthetic note", &sealed, batch).ok());
    EXPECT_EQ(ring_->TakeNewKeyCount(), 0u);
  });
  // Without a batch nothing is made.
  EXPECT_NE(Key(*ring_, "P-2").find("NotFound"), std::string::npos) << Key(*ring_, "P-2");
  // Stored wrapped, never as the key itself.
  auto wrapped = ring_->Wrapped("P-1");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->find(first), std::string::npos);
  auto again = Loaded(key_);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Key(*again, "P-1"), first);
  std::string plain;
  bool erased = true;
  ASSERT_TRUE(again->Open("P-1", "aad", sealed, &plain, &erased).ok());
  EXPECT_FALSE(erased);
  EXPECT_EQ(plain, "a synthetic note");
  // Another subject's key does not open it; a changed byte does not either.
  Group([&](rocksdb::WriteBatch* batch) { Key(*ring_, "P-2", batch); });
  std::string other;
  EXPECT_TRUE(again->Open("P-2", "aad", sealed, &other, &erased).IsCorruption());
  sealed[sealed.size() / 2] ^= 1;
  EXPECT_TRUE(again->Open("P-1", "aad", sealed, &other, &erased).IsCorruption());
}

TEST_F(KeyringTest, AGroupHasRoomForABoundedNumberOfNewKeys) {
  ring_->BeginGroup();
  EXPECT_TRUE(ring_->GroupIsEmpty());
  EXPECT_TRUE(ring_->GroupHasRoom(Keyring::kGroupNewKeyCapacity));
  EXPECT_FALSE(ring_->GroupHasRoom(Keyring::kGroupNewKeyCapacity + 1));
  rocksdb::WriteBatch batch;
  Key(*ring_, "P-1", &batch);
  EXPECT_FALSE(ring_->GroupIsEmpty());
  EXPECT_FALSE(ring_->GroupHasRoom(Keyring::kGroupNewKeyCapacity));
  ring_->BeginGroup();  // the next group: the key is forgotten (not committed)
  EXPECT_TRUE(ring_->GroupIsEmpty());
  EXPECT_FALSE(*ring_->HasKey("P-1"));
}

TEST_F(KeyringTest, AnErasureTakesTheKeyAndEveryLookupAndLeavesAMarker) {
  std::string sealed, wrapped;
  Group([&](rocksdb::WriteBatch* batch) {
    ASSERT_TRUE(ring_->Seal("P-1", "aad", "a synthetic note", &sealed, batch).ok());
    ring_->IndexIdentifiers("P-1", {Nhs("999 000 0001")}, batch);
    ring_->IndexIdentifiers("P-2", {Nhs("9990000001")}, batch);  // another person, same number
    Key(*ring_, "P-2", batch);
  });
  wrapped = *ring_->Wrapped("P-1");
  EXPECT_EQ(*ring_->FindSubjects(Nhs("9990000001")), (std::vector<std::string>{"P-1", "P-2"}));
  Group([&](rocksdb::WriteBatch* batch) {
    // An identifier indexed earlier in the erasure's own group goes too.
    ring_->IndexIdentifiers("P-1", {Nhs("9990000002")}, batch);
    ASSERT_TRUE(ring_->Erase("P-1", 42, 1700000000000000, batch).ok());
    ring_->MarkErased("P-1");
  });
  EXPECT_TRUE(ring_->IsErased("P-1"));
  EXPECT_EQ(*ring_->ErasedAt("P-1"), 42u);
  EXPECT_TRUE(ring_->ErasedAt("P-2").status().IsNotFound());
  EXPECT_FALSE(*ring_->HasStoredKey("P-1"));
  EXPECT_EQ(*ring_->FindSubjects(Nhs("9990000001")), (std::vector<std::string>{"P-2"}));
  EXPECT_TRUE(ring_->FindSubjects(Nhs("9990000002"))->empty());
  for (const auto& k : RawKeys(lookup())) EXPECT_EQ(k.find("P-1"), std::string::npos) << k;
  std::string plain = "left over";
  bool erased = false;
  ASSERT_TRUE(ring_->Open("P-1", "aad", sealed, &plain, &erased).ok());
  EXPECT_TRUE(erased);
  auto erasures = ring_->Erasures();
  ASSERT_TRUE(erasures.ok());
  EXPECT_EQ(*erasures, (std::vector<std::pair<uint64_t, std::string>>{{42, "P-1"}}));
  // A reload knows it, and the old wrapped key leaves the files.
  auto again = Loaded(key_);
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->IsErased("P-1"));
  std::string pending;
  EXPECT_TRUE(db_->db()->Get(rocksdb::ReadOptions(), meta(), kCompactPending, &pending).ok());
  ASSERT_TRUE(ring_->ResumeKeyCompaction().ok());
  EXPECT_TRUE(db_->db()->Get(rocksdb::ReadOptions(), meta(), kCompactPending, &pending).IsNotFound());
  EXPECT_FALSE(FilesHold(wrapped));
  EXPECT_TRUE(FilesHold(*ring_->Wrapped("P-2")));  // the check can see a key that is there
}

TEST_F(KeyringTest, ARotationRewrapsEveryKeyAndKnowsTheOldRootAfterwards) {
  std::string sealed;
  Group([&](rocksdb::WriteBatch* batch) {
    ASSERT_TRUE(ring_->Seal("P-1", "aad", "a synthetic note", &sealed, batch).ok());
  });
  std::string before = *ring_->Wrapped("P-1");
  std::string data_key = Key(*ring_, "P-1");
  std::string new_key = testing::HexKeyFile(dir_.sub("new.key"));
  auto root = Keyring::DeriveNewRoot(KeySource::File(new_key));
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(ring_->Rotate(std::move(*root)).ok());
  EXPECT_NE(*ring_->Wrapped("P-1"), before);
  ASSERT_TRUE(ring_->CompactKeyFiles("the test's rotation").ok());
  EXPECT_FALSE(FilesHold(before));
  // The old root: refused, and named as the key from before the rotation.
  auto old = Make();
  Status s = old->Load(KeySource::File(key_));
  EXPECT_EQ(s.code(), Status::Code::kWrongKey);
  EXPECT_NE(s.message().find("before a rotation"), std::string::npos) << s.message();
  // The new root opens the same data key, and what it sealed.
  auto fresh = Loaded(new_key);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(Key(*fresh, "P-1"), data_key);
  std::string plain;
  bool erased = false;
  ASSERT_TRUE(fresh->Open("P-1", "aad", sealed, &plain, &erased).ok());
  EXPECT_EQ(plain, "a synthetic note");
  // New keys of the rotated keyring are wrapped under the new root.
  Group([&](rocksdb::WriteBatch* batch) { Key(*ring_, "P-3", batch); });
  EXPECT_EQ(Key(*Loaded(new_key), "P-3"), Key(*ring_, "P-3"));
}

TEST_F(KeyringTest, AReplicatedKeyMustOpenUnderThisRoot) {
  Group([&](rocksdb::WriteBatch* batch) { Key(*ring_, "P-1", batch); });
  std::string wrapped = *ring_->Wrapped("P-1");
  // A second keyring under another root refuses it and writes nothing.
  testing::TempDir other_dir;
  BareDb other_db(other_dir.sub("db"), {"meta", "keys", "lookup"});
  std::string other_key = testing::HexKeyFile(other_dir.sub("other.key"));
  rocksdb::WriteBatch init;
  ASSERT_TRUE(Keyring::WriteNew(true, KeySource::File(other_key), other_db.cf(0), other_db.cf(1), &init).ok());
  ASSERT_TRUE(other_db.db()->Write(rocksdb::WriteOptions(), &init).ok());
  Keyring other(other_db.db(), other_db.cf(0), other_db.cf(1), other_db.cf(2), &other_db.handles(), "other");
  ASSERT_TRUE(other.Load(KeySource::File(other_key)).ok());
  rocksdb::WriteBatch batch;
  bool added = true;
  EXPECT_TRUE(other.ImportWrapped("P-1", wrapped, &batch, &added).IsCorruption());
  EXPECT_FALSE(added);
  EXPECT_EQ(batch.Count(), 0u);
  // A replica: its own database, with this store's identity (the same root
  // key's derivation, the same wrapped store and checkpoint keys).
  ReplicaIdentity identity;
  ASSERT_TRUE(ring_->ReadIdentityKeys(&identity).ok());
  BareDb replica_db(other_dir.sub("replica"), {"meta", "keys", "lookup"});
  rocksdb::WriteBatch made;
  ASSERT_TRUE(Keyring::WriteNew(true, KeySource::File(key_), replica_db.cf(0), replica_db.cf(1), &made).ok());
  Keyring replica(replica_db.db(), replica_db.cf(0), replica_db.cf(1), replica_db.cf(2), &replica_db.handles(),
                  "replica");
  replica.PutIdentityKeys(identity, &made);
  ASSERT_TRUE(replica_db.db()->Write(rocksdb::WriteOptions(), &made).ok());
  ASSERT_TRUE(replica.Load(KeySource::File(key_)).ok());
  EXPECT_EQ(replica.RecipientKey("r"), ring_->RecipientKey("r"));  // the same store key
  rocksdb::WriteBatch b2;
  // The label binds the subject: P-1's wrapped key is not P-9's.
  EXPECT_TRUE(replica.ImportWrapped("P-9", wrapped, &b2, &added).IsCorruption());
  EXPECT_EQ(b2.Count(), 0u);
  ASSERT_TRUE(replica.ImportWrapped("P-1", wrapped, &b2, &added).ok());
  EXPECT_TRUE(added);
  ASSERT_TRUE(replica_db.db()->Write(rocksdb::WriteOptions(), &b2).ok());
  EXPECT_EQ(Key(replica, "P-1"), Key(*ring_, "P-1"));
  rocksdb::WriteBatch b3;
  ASSERT_TRUE(replica.ImportWrapped("P-1", wrapped, &b3, &added).ok());
  EXPECT_FALSE(added);  // already there
  // An erased subject's key is never brought back.
  Group([&](rocksdb::WriteBatch* batch) { Key(*ring_, "P-2", batch); });
  replica.MarkErased("P-2");
  ASSERT_TRUE(replica.ImportWrapped("P-2", *ring_->Wrapped("P-2"), &b3, &added).ok());
  EXPECT_FALSE(added);
  EXPECT_EQ(b3.Count(), 0u);
}

}  // namespace
}  // namespace hearth::log
