// The JSON forms of checkpoints and proofs (merkle/proof_json.h), and the
// offline check an auditor runs on them (`hearth verify-proof`).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "hearth/store.h"
#include "merkle/hash.h"
#include "merkle/proof_json.h"
#include "audit/verifier.h"
#include "rfc9162_reference.h"
#include "test_util.h"

namespace hearth {
namespace {

using nlohmann::json;
using testing::MakeEvent;
using testing::TempDir;

const char kRoot[] = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

SignedCheckpoint SampleCheckpoint() {
  SignedCheckpoint cp;
  cp.size = 8;
  cp.root = reference::FromHex(kRoot);
  cp.time = 1795428000000000 + 123456;  // 2026-11-23T10:00:00.123456Z
  for (size_t i = 0; i < cp.signature.size(); ++i) cp.signature[i] = uint8_t(i * 3);
  return cp;
}

void ExpectNamesField(const Status& st, const std::string& field) {
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("\"" + field + "\""), std::string::npos)
      << "message does not name " << field << ": " << st.ToString();
}

TEST(ProofJson, HexRoundTripAndRefusals) {
  uint8_t bytes[] = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(merkle::ToHex(bytes, 4), "0001abff");
  uint8_t out[4];
  ASSERT_TRUE(merkle::FromHex("0001ABff", out, 4));
  EXPECT_EQ(0, memcmp(out, bytes, 4));
  EXPECT_FALSE(merkle::FromHex("0001abf", out, 4));
  EXPECT_FALSE(merkle::FromHex("0001abfff0", out, 4));
  EXPECT_FALSE(merkle::FromHex("0001abfg", out, 4));
}

TEST(ProofJson, CheckpointHasTheDocumentedForm) {
  json j = merkle::CheckpointToJson(SampleCheckpoint());
  EXPECT_EQ(j["size"], 8);
  EXPECT_EQ(j["root"], kRoot);
  EXPECT_EQ(j["time"], "2026-11-23T10:00:00.123456Z");
  std::string sig = j["signature"];
  EXPECT_EQ(sig.size(), 128u);
  EXPECT_EQ(sig.substr(0, 8), "00030609");

  auto back = merkle::CheckpointFromJson(json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->size, 8u);
  EXPECT_EQ(back->root, SampleCheckpoint().root);
  EXPECT_EQ(back->time, SampleCheckpoint().time);
  EXPECT_EQ(back->signature, SampleCheckpoint().signature);

  SignedCheckpoint epoch = SampleCheckpoint();
  epoch.time = 1;
  EXPECT_EQ(merkle::CheckpointToJson(epoch)["time"], "1970-01-01T00:00:00.000001Z");
  epoch.time = 951782400000000;  // a leap day
  EXPECT_EQ(merkle::CheckpointToJson(epoch)["time"], "2000-02-29T00:00:00.000000Z");
}

TEST(ProofJson, CheckpointTimesWithFewerDigitsAreRead) {
  json j = merkle::CheckpointToJson(SampleCheckpoint());
  j["time"] = "2026-11-23T10:00:00Z";
  auto a = merkle::CheckpointFromJson(j);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->time, 1795428000000000);
  j["time"] = "2026-11-23T10:00:00.5Z";
  auto b = merkle::CheckpointFromJson(j);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->time, 1795428000500000);
}

TEST(ProofJson, BadCheckpointsNameTheField) {
  json good = merkle::CheckpointToJson(SampleCheckpoint());
  auto with = [&](const char* field, json value) {
    json j = good;
    j[field] = std::move(value);
    return merkle::CheckpointFromJson(j).status();
  };
  auto without = [&](const char* field) {
    json j = good;
    j.erase(field);
    return merkle::CheckpointFromJson(j).status();
  };
  ExpectNamesField(without("size"), "size");
  ExpectNamesField(without("root"), "root");
  ExpectNamesField(without("time"), "time");
  ExpectNamesField(without("signature"), "signature");
  ExpectNamesField(with("size", -1), "size");
  ExpectNamesField(with("size", "8"), "size");
  ExpectNamesField(with("size", 8.5), "size");
  ExpectNamesField(with("root", "abc"), "root");
  ExpectNamesField(with("root", 7), "root");
  ExpectNamesField(with("time", "2026-11-23 10:00:00Z"), "time");
  ExpectNamesField(with("time", "2026-02-30T10:00:00.000000Z"), "time");
  ExpectNamesField(with("time", "2026-11-23T10:00:00.000000+01:00"), "time");
  ExpectNamesField(with("time", "2026-11-23T10:00:00.1234567Z"), "time");
  ExpectNamesField(with("signature", std::string(126, 'a')), "signature");
  EXPECT_TRUE(merkle::CheckpointFromJson(json::array()).status().IsInvalidArgument());
}

TEST(ProofJson, InclusionHasTheDocumentedForm) {
  merkle::InclusionProofDoc doc;
  doc.position = 6;
  doc.tree_size = 8;
  doc.record = std::string("\x00\x01\x02\xff\xfe\x3e\x3f", 7);
  merkle::Hasher hasher;
  doc.leaf_hash = hasher.Leaf(doc.record);
  doc.path = {reference::FromHex(kRoot), reference::FromHex(kRoot)};
  json j = merkle::InclusionToJson(doc);
  EXPECT_EQ(j["type"], "inclusion");
  EXPECT_EQ(j["position"], 6);
  EXPECT_EQ(j["leafIndex"], 5);
  EXPECT_EQ(j["treeSize"], 8);
  EXPECT_EQ(j["leafHash"], merkle::ToHex(doc.leaf_hash.data(), 32));
  EXPECT_EQ(j["record"], "AAEC//4+Pw==");  // standard base64 with padding
  ASSERT_EQ(j["path"].size(), 2u);
  EXPECT_EQ(j["path"][1], kRoot);

  auto back = merkle::InclusionFromJson(json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->position, 6u);
  EXPECT_EQ(back->tree_size, 8u);
  EXPECT_EQ(back->leaf_hash, doc.leaf_hash);
  EXPECT_EQ(back->record, doc.record);
  EXPECT_EQ(back->path, doc.path);

  // A proof may leave the record out: then the leaf hash is taken as given.
  j["record"] = "";
  auto no_record = merkle::InclusionFromJson(j);
  ASSERT_TRUE(no_record.ok());
  EXPECT_TRUE(no_record->record.empty());
  j.erase("record");
  EXPECT_TRUE(merkle::InclusionFromJson(j).ok());
}

TEST(ProofJson, BadInclusionProofsNameTheField) {
  merkle::InclusionProofDoc doc;
  doc.position = 3;
  doc.tree_size = 4;
  doc.record = "abc";
  doc.path = {reference::FromHex(kRoot)};
  json good = merkle::InclusionToJson(doc);
  auto with = [&](const char* field, json value) {
    json j = good;
    j[field] = std::move(value);
    return merkle::InclusionFromJson(j).status();
  };
  auto without = [&](const char* field) {
    json j = good;
    j.erase(field);
    return merkle::InclusionFromJson(j).status();
  };
  ExpectNamesField(without("type"), "type");
  ExpectNamesField(with("type", "consistency"), "type");
  ExpectNamesField(without("position"), "position");
  ExpectNamesField(with("position", 0), "position");
  ExpectNamesField(with("leafIndex", 3), "leafIndex");
  ExpectNamesField(without("treeSize"), "treeSize");
  ExpectNamesField(with("treeSize", 2), "treeSize");
  ExpectNamesField(without("leafHash"), "leafHash");
  ExpectNamesField(with("leafHash", std::string(64, 'z')), "leafHash");
  ExpectNamesField(with("record", "not base64!"), "record");
  ExpectNamesField(with("record", "YWJj="), "record");
  ExpectNamesField(without("path"), "path");
  ExpectNamesField(with("path", "abc"), "path");
  ExpectNamesField(with("path", json::array({kRoot, "00"})), "path");
  ExpectNamesField(with("path", json::array({kRoot, 5})), "path");
}

TEST(ProofJson, ConsistencyHasTheDocumentedForm) {
  merkle::ConsistencyProofDoc doc;
  doc.from = 6;
  doc.to = 8;
  doc.path = {reference::FromHex(kRoot)};
  json j = merkle::ConsistencyToJson(doc);
  EXPECT_EQ(j, json::parse(std::string(R"({"type":"consistency","from":6,"to":8,"path":[")") +
                           kRoot + "\"]}"));
  auto back = merkle::ConsistencyFromJson(json::parse(j.dump()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->from, 6u);
  EXPECT_EQ(back->to, 8u);
  EXPECT_EQ(back->path, doc.path);

  json bad = j;
  bad["from"] = 9;
  ExpectNamesField(merkle::ConsistencyFromJson(bad).status(), "from");
  bad = j;
  bad.erase("to");
  ExpectNamesField(merkle::ConsistencyFromJson(bad).status(), "to");
  bad = j;
  bad["type"] = "inclusion";
  ExpectNamesField(merkle::ConsistencyFromJson(bad).status(), "type");
}

// The auditor's offline path, end to end: the store exports proofs and
// checkpoints as JSON text; only the text and the public key are used after.
class OfflineProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options o;
    o.create_if_missing = true;
    o.encrypt = false;
    o.sync = false;
    o.checkpoint_interval = 0;
    o.checkpoint_period_ms = 0;
    auto s = Store::Open(o, dir_.sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    for (int i = 0; i < 3; ++i) {
      std::vector<NewEvent> batch;
      for (int k = 0; k < 100; ++k) batch.push_back(MakeEvent("NoteAdded"));
      ASSERT_TRUE(store_->Append("case-" + std::to_string(i), ExpectedVersion::NoStream(), batch).ok());
      auto cp = store_->WriteCheckpoint();
      ASSERT_TRUE(cp.ok());
      checkpoints_.push_back(Reparse(merkle::CheckpointToJson(*cp)));
    }
    auto pk = store_->CheckpointPublicKey();
    ASSERT_TRUE(pk.ok());
    public_key_ = *pk;
  }

  static SignedCheckpoint Reparse(const json& j) {
    auto cp = merkle::CheckpointFromJson(json::parse(j.dump()));
    EXPECT_TRUE(cp.ok()) << cp.status().ToString();
    return cp.ok() ? *cp : SignedCheckpoint{};
  }

  merkle::InclusionProofDoc ExportInclusion(uint64_t position, uint64_t size) {
    merkle::InclusionProofDoc doc;
    doc.position = position;
    doc.tree_size = size;
    auto raw = store_->RawRecord(position);
    EXPECT_TRUE(raw.ok());
    doc.record = *raw;
    merkle::Hasher hasher;
    doc.leaf_hash = hasher.Leaf(doc.record);
    auto path = store_->InclusionProof(position, size);
    EXPECT_TRUE(path.ok()) << path.status().ToString();
    doc.path = *path;
    auto back = merkle::InclusionFromJson(json::parse(merkle::InclusionToJson(doc).dump()));
    EXPECT_TRUE(back.ok());
    return *back;
  }

  merkle::ConsistencyProofDoc ExportConsistency(uint64_t from, uint64_t to) {
    merkle::ConsistencyProofDoc doc;
    doc.from = from;
    doc.to = to;
    auto path = store_->ConsistencyProof(from, to);
    EXPECT_TRUE(path.ok()) << path.status().ToString();
    doc.path = *path;
    auto back = merkle::ConsistencyFromJson(json::parse(merkle::ConsistencyToJson(doc).dump()));
    EXPECT_TRUE(back.ok());
    return *back;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<SignedCheckpoint> checkpoints_;  // sizes 100, 200, 300
  std::array<uint8_t, 32> public_key_{};
};

TEST_F(OfflineProofTest, InclusionProofChecksOutAgainstTheSignedCheckpoint) {
  for (uint64_t position : {1, 77, 100}) {
    for (const SignedCheckpoint& cp : checkpoints_) {
      std::string what;
      Status st = merkle::VerifyInclusionDoc(ExportInclusion(position, cp.size), cp, public_key_, &what);
      EXPECT_TRUE(st.ok()) << st.ToString();
      EXPECT_NE(what.find("position " + std::to_string(position)), std::string::npos) << what;
    }
  }
  // Without the record, the leaf hash stands for it.
  auto doc = ExportInclusion(150, 300);
  doc.record.clear();
  EXPECT_TRUE(merkle::VerifyInclusionDoc(doc, checkpoints_[2], public_key_).ok());
}

TEST_F(OfflineProofTest, ATamperedProofOrCheckpointIsRefusedAndSaysWhy) {
  const SignedCheckpoint& cp = checkpoints_[2];

  auto changed_record = ExportInclusion(150, 300);
  changed_record.record[changed_record.record.size() / 2] ^= 1;
  Status st = merkle::VerifyInclusionDoc(changed_record, cp, public_key_);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("hashes to"), std::string::npos) << st.ToString();

  auto changed_leaf = ExportInclusion(150, 300);
  changed_leaf.record.clear();
  changed_leaf.leaf_hash[0] ^= 1;
  st = merkle::VerifyInclusionDoc(changed_leaf, cp, public_key_);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("does not lead to"), std::string::npos) << st.ToString();

  auto moved = ExportInclusion(150, 300);
  moved.position = 151;
  EXPECT_TRUE(merkle::VerifyInclusionDoc(moved, cp, public_key_).IsCorruption());

  SignedCheckpoint forged = cp;
  forged.signature[10] ^= 1;
  st = merkle::VerifyInclusionDoc(ExportInclusion(150, 300), forged, public_key_);
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("signature"), std::string::npos) << st.ToString();

  st = merkle::VerifyInclusionDoc(ExportInclusion(150, 200), cp, public_key_);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_NE(st.message().find("--size 300"), std::string::npos) << st.ToString();
}

TEST_F(OfflineProofTest, ConsistencyBetweenSignedCheckpoints) {
  std::string what;
  Status st = merkle::VerifyConsistencyDoc(ExportConsistency(100, 300), checkpoints_[0],
                                           checkpoints_[2], public_key_, &what);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(what.find("extends"), std::string::npos);
  EXPECT_TRUE(merkle::VerifyConsistencyDoc(ExportConsistency(200, 300), checkpoints_[1],
                                           checkpoints_[2], public_key_)
                  .ok());

  // A forged proof: one hash replaced.
  auto forged = ExportConsistency(100, 300);
  ASSERT_FALSE(forged.path.empty());
  forged.path.back()[5] ^= 0x40;
  st = merkle::VerifyConsistencyDoc(forged, checkpoints_[0], checkpoints_[2], public_key_);
  EXPECT_TRUE(st.IsCorruption()) << st.ToString();
  EXPECT_NE(st.message().find("does not show"), std::string::npos) << st.ToString();

  // A proof for other sizes, or a checkpoint whose signature fails.
  st = merkle::VerifyConsistencyDoc(ExportConsistency(100, 200), checkpoints_[0], checkpoints_[2],
                                    public_key_);
  EXPECT_TRUE(st.IsInvalidArgument()) << st.ToString();
  SignedCheckpoint rewritten = checkpoints_[2];
  rewritten.root[0] ^= 1;
  st = merkle::VerifyConsistencyDoc(ExportConsistency(100, 300), checkpoints_[0], rewritten,
                                    public_key_);
  EXPECT_TRUE(st.IsCorruption());
  EXPECT_NE(st.message().find("signature"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace hearth
