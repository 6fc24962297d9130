// Helpers for the integration suite: a store fixture, event comparison, and
// direct RocksDB access to a closed store's files (for tampering, and for
// reading what hearth never exposes, such as wrapped keys).
#pragma once

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hearth/store.h"
#include "test_util.h"

namespace hearth::testing {

// A RocksDB handle on a store directory with every column family open.
// REQUIRES: the hearth Store on that directory is closed.
class RawDb {
 public:
  static std::unique_ptr<RawDb> Open(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::DBOptions db_options;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, path, &names);
    if (!s.ok()) {
      ADD_FAILURE() << "listing column families of " << path << ": " << s.ToString();
      return nullptr;
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::unique_ptr<RawDb> raw(new RawDb);
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(db_options, path, cfs, &raw->handles_, &db);
    if (!s.ok()) {
      ADD_FAILURE() << "opening " << path << " with RocksDB: " << s.ToString();
      return nullptr;
    }
    raw->db_.reset(db);
    raw->names_ = names;
    return raw;
  }

  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }

  rocksdb::ColumnFamilyHandle* cf(const std::string& name) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return handles_[i];
    }
    ADD_FAILURE() << "no column family " << name;
    return handles_[0];
  }

  // The value, or "" when absent.
  std::string Get(const std::string& cf_name, const std::string& key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(cf_name), key, &v);
    if (!s.ok()) return "";
    return v;
  }

  void Put(const std::string& cf_name, const std::string& key, const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Put(wo, cf(cf_name), key, value);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Every key and value of every column family: "nothing changed" compares two.
  std::map<std::string, std::map<std::string, std::string>> Dump() {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (size_t i = 0; i < names_.size(); ++i) {
      auto& m = out[names_[i]];
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), handles_[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) m[it->key().ToString()] = it->value().ToString();
      EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    }
    return out;
  }

  rocksdb::DB* db() { return db_.get(); }

 private:
  RawDb() = default;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

inline std::map<std::string, std::map<std::string, std::string>> DumpStore(const std::string& path) {
  auto raw = RawDb::Open(path);
  if (!raw) return {};
  return raw->Dump();
}

// The log key of a position (docs/format.md: 8 bytes big-endian).
inline std::string LogKeyOf(uint64_t position) {
  std::string k;
  for (int i = 7; i >= 0; --i) k.push_back(char((position >> (8 * i)) & 0xff));
  return k;
}

inline void ExpectSameEvent(const RecordedEvent& a, const RecordedEvent& b) {
  EXPECT_EQ(a.position, b.position);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.stream_version, b.stream_version);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.schema_version, b.schema_version);
  EXPECT_EQ(a.recorded_at, b.recorded_at);
  EXPECT_EQ(a.occurred_at, b.occurred_at);
  EXPECT_EQ(a.actor, b.actor);
  EXPECT_EQ(a.correlation_id, b.correlation_id);
  EXPECT_EQ(a.causation_id, b.causation_id);
  EXPECT_EQ(a.subjects, b.subjects);
  EXPECT_EQ(a.facts, b.facts);
  EXPECT_EQ(a.personal, b.personal);
}

// True when every field a reader sees is equal.
inline bool SameEvent(const RecordedEvent& a, const RecordedEvent& b) {
  return a.position == b.position && a.stream == b.stream &&
         a.stream_version == b.stream_version && a.id == b.id && a.type == b.type &&
         a.schema_version == b.schema_version && a.recorded_at == b.recorded_at &&
         a.occurred_at == b.occurred_at && a.actor == b.actor &&
         a.correlation_id == b.correlation_id && a.causation_id == b.causation_id &&
         a.subjects == b.subjects && a.facts == b.facts && a.personal == b.personal;
}

// An event as written compared with the event as read back.
inline void ExpectMatches(const NewEvent& in, const RecordedEvent& out) {
  EXPECT_EQ(in.id, out.id);
  EXPECT_EQ(in.type, out.type);
  EXPECT_EQ(in.schema_version, out.schema_version);
  if (in.occurred_at != 0) {
    EXPECT_EQ(in.occurred_at, out.occurred_at);
  }
  EXPECT_EQ(in.actor, out.actor);
  EXPECT_EQ(in.correlation_id, out.correlation_id);
  EXPECT_EQ(in.causation_id, out.causation_id);
  EXPECT_EQ(in.subjects, out.subjects);
  EXPECT_EQ(in.facts, out.facts);
  ASSERT_EQ(in.personal.size(), out.personal.size());
  for (size_t i = 0; i < in.personal.size(); ++i) {
    EXPECT_EQ(in.personal[i].subject, out.personal[i].subject);
    EXPECT_EQ(in.personal[i].data, out.personal[i].data);
    EXPECT_FALSE(out.personal[i].erased);
  }
}

// A store in a fresh directory, opened with a fresh 0600 key file.
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = HexKeyFile(dir_.sub("root.key"));
    path_ = dir_.sub("store");
    Open();
  }

  virtual Options StoreOptions() { return TestOptions(key_); }

  void Open() {
    store_.reset();
    auto s = Store::Open(StoreOptions(), path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Close() { store_.reset(); }

  StoreInfo Info() {
    auto info = store_->Info();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return info.ok() ? *info : StoreInfo{};
  }

  std::vector<RecordedEvent> All() {
    auto all = store_->ReadAll(1, 1u << 30);
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    return all.ok() ? *all : std::vector<RecordedEvent>{};
  }

  AppendResult MustAppend(const std::string& stream, ExpectedVersion expected,
                          const std::vector<NewEvent>& events) {
    auto r = store_->Append(stream, expected, events);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : AppendResult{};
  }

  TempDir dir_;
  std::string key_;
  std::string path_;
  std::unique_ptr<Store> store_;
};

// An event with one personal section carrying natural identifiers.
inline NewEvent PersonEvent(const std::string& type, const std::string& subject,
                            const std::string& personal, std::vector<Identifier> identifiers) {
  NewEvent e = MakeEvent(type, subject, personal);
  e.personal.at(0).identifiers = std::move(identifiers);
  return e;
}

}  // namespace hearth::testing
