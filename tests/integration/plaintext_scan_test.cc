// No plaintext personal data at rest: write synthetic people, close the
// store, and search every file under its directory (SSTs, WAL, MANIFEST, LOG,
// OPTIONS) for them in the common encodings. After an erasure, search for the
// erased person's data key as well.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sodium.h>

#include "crypto/keyring.h"
#include "integration_util.h"
#include "scan_util.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;
using testing::LogKeyOf;
using testing::MakeEvent;
using testing::PersonEvent;
using testing::RawDb;
using testing::StoreFixture;
using namespace testing::scan;  // NOLINT: the scan helpers

class PlaintextScanTest : public StoreFixture {};

TEST_F(PlaintextScanTest, NoPersonalDataInAnyFileOfTheStore) {
  // First part: reopened, so RocksDB's recovery moves it into SST files.
  for (int i = 0; i < 20; ++i) {
    MustAppend("case-PlainControl-4471", ExpectedVersion::Any(),
               {EventAbout(kZebedee, "Contact"), EventAbout(kPhilomena, "Referral")});
  }
  Open();
  // Second part: left in the write-ahead log.
  for (int i = 0; i < 20; ++i) {
    MustAppend("case-WalControl-5582", ExpectedVersion::Any(),
               {EventAbout(kZebedee, "Visit"), EventAbout(kPhilomena, "Assessment")});
  }
  auto found = store_->FindSubjects({"nhs", "9434765919"});
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(*found, std::vector<std::string>{kZebedee.subject});
  // The files as they are while the store is open (the second part still in
  // the write-ahead log), and after closing (the store flushes on close).
  auto files = ReadEveryFile(path_);
  for (auto& f : files) f.name = "while open: " + f.name;
  Close();
  auto closed = ReadEveryFile(path_);
  ASSERT_FALSE(closed.empty());
  files.insert(files.end(), closed.begin(), closed.end());
  files.push_back(LogicalContents(path_));
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.name);
  ASSERT_TRUE(AnyHitEndsWith(names, ".sst"));
  ASSERT_TRUE(AnyHitEndsWith(names, ".log"));
  ASSERT_TRUE(std::find(names.begin(), names.end(), "LOG") != names.end());

  // Controls: the scan does see what is plain by design (stream ids), in the
  // SSTs and in the WAL, so a miss below means absent, not unread.
  auto sst_control = Hits(files, {"control", "case-plaincontrol-4471", true});
  EXPECT_TRUE(AnyHitEndsWith(sst_control, ".sst")) << "the scan does not reach the SST files";
  auto wal_control = Hits(files, {"control", "case-walcontrol-5582", true});
  EXPECT_TRUE(AnyHitEndsWith(wal_control, ".log")) << "the scan does not reach the WAL";
  auto utf16_control = Encodings("control", "case-PlainControl-4471");
  std::string probe = "xx" + Utf16("CASE-plaincontrol-4471", true) + "xx";
  EXPECT_NE(Lower(probe).find(utf16_control[1].bytes), std::string::npos) << "UTF-16 needle is wrong";

  size_t needles = 0;
  for (const Person* p : {&kZebedee, &kPhilomena}) {
    for (const Needle& n : NeedlesFor(*p)) {
      ++needles;
      auto hits = Hits(files, n);
      std::string where;
      for (const auto& h : hits) where += " " + h;
      EXPECT_TRUE(hits.empty()) << n.what << " found in" << where;
    }
  }
  EXPECT_GT(needles, 100u);
}

// Document bodies (docs/format.md "documents") are in no file either: in
// the write-ahead log, in the SSTs after closing, after a full compaction of
// every column family, and after the subject's erasure. The body is highly
// compressible, so a compressed but unsealed body would show in the logical
// contents too.
TEST_F(PlaintextScanTest, NoDocumentBodyInAnyFileBeforeOrAfterCompaction) {
  const std::string name = "Quillifer Snodgrass-Vantablack";
  const std::string marker = "DOCSCAN-55821-FLUMMOX";
  std::string body;
  for (int i = 0; i < 200; ++i) body += "Dear " + name + ", decision " + marker + " line " + std::to_string(i) + "\n";
  for (int i = 0; i < 5; ++i) {
    NewEvent e = EventAbout(kZebedee, "DocumentAttached");
    e.documents.push_back(DocumentBody{kZebedee.subject, body});
    MustAppend("case-DocControl-6693", ExpectedVersion::Any(), {e});
  }
  ASSERT_EQ(store_->ReadDocument(1, 0)->bytes, body);  // control: the body is there to find
  std::vector<Needle> needles = Encodings("document name", name);
  for (const Needle& n : Encodings("document marker", marker)) needles.push_back(n);
  auto expect_absent = [&](const std::vector<FileBytes>& files, const std::string& when) {
    auto control = Hits(files, {"control", "case-doccontrol-6693", true});
    EXPECT_FALSE(control.empty()) << when << ": the scan does not reach the log";
    for (const Needle& n : needles) {
      auto hits = Hits(files, n);
      std::string where;
      for (const auto& h : hits) where += " " + h;
      EXPECT_TRUE(hits.empty()) << when << ": " << n.what << " found in" << where;
    }
  };
  expect_absent(ReadEveryFile(path_), "while open (write-ahead log)");
  Close();
  auto closed = ReadEveryFile(path_);
  ASSERT_TRUE(AnyHitEndsWith(Hits(closed, {"control", "case-doccontrol-6693", true}), ".sst"));
  closed.push_back(LogicalContents(path_));
  expect_absent(closed, "closed");
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    rocksdb::CompactRangeOptions co;
    co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    ASSERT_TRUE(raw->db()->CompactRange(co, raw->cf("documents"), nullptr, nullptr).ok());
    ASSERT_TRUE(raw->db()->CompactRange(co, raw->cf("log"), nullptr, nullptr).ok());
  }
  auto compacted = ReadEveryFile(path_);
  compacted.push_back(LogicalContents(path_));
  expect_absent(compacted, "after compaction");
  Open();
  auto erased = store_->EraseSubject(kZebedee.subject, Actor{"u-9", "controller", "test"}, "art17");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  EXPECT_EQ(store_->ReadDocument(1, 0).status().code(), Status::Code::kErased);
  Close();
  auto after = ReadEveryFile(path_);
  after.push_back(LogicalContents(path_));
  expect_absent(after, "after erasure");
}

// The lookup hashes of a person's identifiers, computed here with libsodium
// from the construction docs/format.md and docs/keys.md give, not with the
// store's code: root = BLAKE2b-256(key = key file, salt from "kdf");
// store key = "keys: s" opened with XChaCha20-Poly1305 under the root key,
// associated data "hearth.wrap.v1:store"; lookup key = crypto_kdf subkey 2 of
// the store key, context "hlookup_"; hash = BLAKE2b-256(lookup key,
// kind || 0x00 || normalise(value)). REQUIRES: the store is closed.
std::string LookupKeyFromTheDocs(const std::string& path, const std::string& key_file) {
  std::ifstream in(key_file, std::ios::binary);
  std::string hex(std::istreambuf_iterator<char>(in), {});
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
  unsigned char file_key[32];
  size_t n = 0;
  if (hex.size() != 64 ||
      sodium_hex2bin(file_key, sizeof file_key, hex.data(), hex.size(), nullptr, &n, nullptr) != 0) {
    ADD_FAILURE() << "the test's key file is not 64 hex digits";
    return "";
  }
  auto raw = RawDb::Open(path);
  if (!raw) return "";
  std::string kdf = raw->Get("default", "kdf");
  std::string wrapped = raw->Get("keys", "s");
  raw.reset();
  // kdf := kind:u8 || opslimit:u64 || memlimit:u64 || salt:bytes(16)
  if (kdf.size() != 1 + 8 + 8 + 16 || wrapped.size() != 24 + 32 + 16) {
    ADD_FAILURE() << "kdf (" << kdf.size() << " bytes) or wrapped store key (" << wrapped.size()
                  << " bytes) not as docs/format.md describes";
    return "";
  }
  unsigned char root[32];
  crypto_generichash(root, sizeof root, reinterpret_cast<const unsigned char*>(kdf.data() + 17), 16,
                     file_key, sizeof file_key);
  const std::string aad = "hearth.wrap.v1:store";
  unsigned char store_key[32];
  unsigned long long len = 0;
  const auto* w = reinterpret_cast<const unsigned char*>(wrapped.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          store_key, &len, nullptr, w + 24, wrapped.size() - 24,
          reinterpret_cast<const unsigned char*>(aad.data()), aad.size(), w, root) != 0 ||
      len != 32) {
    ADD_FAILURE() << "the store key does not open under the root key derived from the docs";
    return "";
  }
  std::string lookup_key(32, '\0');
  crypto_kdf_derive_from_key(reinterpret_cast<unsigned char*>(lookup_key.data()), 32, 2, "hlookup_",
                             store_key);
  sodium_memzero(store_key, sizeof store_key);
  sodium_memzero(root, sizeof root);
  return lookup_key;
}

// docs/format.md: lower-case, trim, runs of white space folded to one space;
// for nhs, postcode and phone all white space removed.
std::string NormaliseFromTheDocs(const std::string& kind, const std::string& value) {
  bool strip = kind == "nhs" || kind == "postcode" || kind == "phone";
  std::string words, out;
  std::istringstream in(Lower(value));
  while (in >> words) {
    if (!out.empty() && !strip) out += ' ';
    out += words;
  }
  return out;
}

std::string LookupHashFromTheDocs(const std::string& lookup_key, const std::string& kind,
                                  const std::string& value) {
  std::string material = kind;
  material.push_back('\0');
  material += NormaliseFromTheDocs(kind, value);
  std::string h(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(h.data()), h.size(),
                     reinterpret_cast<const unsigned char*>(material.data()), material.size(),
                     reinterpret_cast<const unsigned char*>(lookup_key.data()), lookup_key.size());
  return h;
}

// The identifiers EventAbout gives the store, with their hashes.
std::vector<std::pair<std::string, std::string>> LookupHashesOf(const Person& p,
                                                                const std::string& lookup_key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [label, text] : p.details) {
    if (label == "nhs" || label == "postcode" || label == "name" || label == "phone" || label == "email") {
      out.emplace_back(label + " '" + text + "'", LookupHashFromTheDocs(lookup_key, label, text));
    }
  }
  return out;
}

class ErasureScanTest : public StoreFixture {
 protected:
  // Writes both people so that their keys and records are in SSTs and in
  // the WAL; with `rotate`, the keys are also rewrapped once in between.
  void Fill(bool rotate, std::vector<std::string>* wrapped_before_rotation) {
    for (int i = 0; i < 10; ++i) {
      MustAppend("case-z", ExpectedVersion::Any(), {EventAbout(kZebedee, "Contact")});
      MustAppend("case-p", ExpectedVersion::Any(), {EventAbout(kPhilomena, "Contact")});
    }
    Open();  // into SSTs
    if (rotate) {
      Close();
      wrapped_before_rotation->push_back(ReadSubjectKey(path_, key_, kZebedee.subject).wrapped);
      Open();
      std::string new_key = testing::HexKeyFile(dir_.sub("new.key"));
      ASSERT_TRUE(store_->RotateRootKey(KeySource::File(new_key)).ok());
      key_ = new_key;
      Open();  // the rewrapped keys into SSTs too
    }
    for (int i = 0; i < 10; ++i) {
      MustAppend("case-z", ExpectedVersion::Any(), {EventAbout(kZebedee, "Visit")});
      MustAppend("case-p", ExpectedVersion::Any(), {EventAbout(kPhilomena, "Visit")});
    }
    Close();
  }

  void EraseAndScan(const std::vector<std::string>& older_wrapped) {
    SubjectKeyBytes zebedee = ReadSubjectKey(path_, key_, kZebedee.subject);
    SubjectKeyBytes philomena = ReadSubjectKey(path_, key_, kPhilomena.subject);
    ASSERT_EQ(zebedee.wrapped.size(), 32u + 40u);
    ASSERT_EQ(zebedee.plain.size(), 32u);
    std::vector<Needle> key_needles = {{"wrapped data key", zebedee.wrapped, false},
                                       {"data key", zebedee.plain, false},
                                       {"data key (hex)", Hex(zebedee.plain), true}};
    for (size_t i = 0; i < older_wrapped.size(); ++i) {
      ASSERT_FALSE(older_wrapped[i].empty());
      key_needles.push_back({"wrapped data key before rotation", older_wrapped[i], false});
    }

    // Before erasure the wrapped keys are in the files (the scan can see
    // them); the unwrapped key never is.
    auto files = ReadEveryFile(path_);
    EXPECT_FALSE(Hits(files, key_needles[0]).empty()) << "control: wrapped key not found before erasure";
    EXPECT_TRUE(Hits(files, key_needles[1]).empty()) << "an unwrapped data key is on disk";

    Open();
    auto erased = store_->EraseSubject(kZebedee.subject, Actor{"u-9", "controller", "test"}, "art17");
    ASSERT_TRUE(erased.ok()) << erased.status().ToString();
    // Scan while the store is still open (what a copy of the disk taken now
    // would show), and again after closing.
    for (int pass = 0; pass < 2; ++pass) {
      SCOPED_TRACE(pass == 0 ? "store open" : "store closed");
      if (pass == 1) Close();
      files = ReadEveryFile(path_);
      for (const Needle& n : key_needles) {
        auto hits = Hits(files, n);
        std::string where;
        for (const auto& h : hits) where += " " + h;
        EXPECT_TRUE(hits.empty()) << n.what << " of the erased subject still in" << where;
      }
      for (const Needle& n : NeedlesFor(kZebedee)) {
        EXPECT_TRUE(Hits(files, n).empty()) << n.what;
      }
      // The other person's key is untouched (and the scan still reads the
      // keys' files).
      EXPECT_FALSE(Hits(files, {"other wrapped key", philomena.wrapped, false}).empty());
    }
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    EXPECT_TRUE(raw->Get("keys", "k" + kZebedee.subject).empty());
    raw.reset();

    // Reads show the sections as erased, the other person's intact.
    Open();
    auto z = store_->ReadStream("case-z", 1, Direction::kForward, 100);
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    ASSERT_EQ(z->size(), 20u);
    for (const auto& e : *z) {
      ASSERT_EQ(e.personal.size(), 1u);
      EXPECT_TRUE(e.personal[0].erased);
      EXPECT_TRUE(e.personal[0].data.empty());
    }
    auto p = store_->ReadStream("case-p", 1, Direction::kForward, 100);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const auto& e : *p) EXPECT_EQ(e.personal.at(0).data, PersonalJson(kPhilomena));
  }
};

TEST_F(ErasureScanTest, ErasedKeyAndPlaintextAreInNoFile) {
  std::vector<std::string> none;
  Fill(false, &none);
  EraseAndScan(none);
}

TEST_F(ErasureScanTest, ErasedKeyIsInNoFileAfterARotation) {
  std::vector<std::string> before_rotation;
  Fill(true, &before_rotation);
  EraseAndScan(before_rotation);
}

// docs/keys.md, erasure step 1: the keyed hashes of the erased person's
// identifiers are deleted, so nobody holding the store key can test an NHS
// number or a name against the store afterwards. Reads already hide an erased
// person, so only the files can show this: after the erasure, no key of the
// lookup family, and no byte of any file, holds one of those hashes.
TEST_F(ErasureScanTest, NoLookupHashOfTheErasedPersonRemains) {
  std::vector<std::string> none;
  Fill(false, &none);
  std::string lookup_key = LookupKeyFromTheDocs(path_, key_);
  ASSERT_EQ(lookup_key.size(), 32u);
  auto zebedee = LookupHashesOf(kZebedee, lookup_key);
  auto philomena = LookupHashesOf(kPhilomena, lookup_key);
  ASSERT_EQ(zebedee.size(), 5u);

  auto lookup_keys = [&] {
    std::vector<std::string> keys;
    auto raw = RawDb::Open(path_);
    if (!raw) return keys;
    auto dump = raw->Dump();
    for (const auto& [k, v] : dump["lookup"]) keys.push_back(k);
    return keys;
  };
  auto holding = [](const std::vector<std::string>& keys, const std::string& hash) {
    return std::count_if(keys.begin(), keys.end(), [&](const std::string& k) {
      return k.find(hash) != std::string::npos;
    });
  };
  // Control: before the erasure both people's hashes are there, as an "h"
  // and an "r" entry each, so the computation above is the store's.
  auto before = lookup_keys();
  for (const auto& [what, hash] : zebedee) EXPECT_EQ(holding(before, hash), 2) << what;
  for (const auto& [what, hash] : philomena) EXPECT_EQ(holding(before, hash), 2) << what;

  Open();
  auto erased = store_->EraseSubject(kZebedee.subject, Actor{"u-9", "controller", "test"}, "art17");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  Close();

  auto after = lookup_keys();
  for (const auto& [what, hash] : zebedee) {
    EXPECT_EQ(holding(after, hash), 0) << "the lookup hash of the erased person's " << what
                                       << " is still in the lookup family";
  }
  for (const auto& [what, hash] : philomena) EXPECT_EQ(holding(after, hash), 2) << what;
  auto files = ReadEveryFile(path_);
  for (const auto& [what, hash] : zebedee) {
    auto hits = Hits(files, {what, hash, false});
    std::string where;
    for (const auto& h : hits) where += " " + h;
    EXPECT_TRUE(hits.empty()) << "the lookup hash of the erased person's " << what
                              << " is still in" << where;
  }
  // And through the API, nobody is found by the erased person's details.
  Open();
  for (const auto& [label, text] : kZebedee.details) {
    if (label != "nhs" && label != "name") continue;
    auto found = store_->FindSubjects({label, text});
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    EXPECT_TRUE(found->empty()) << label;
  }
}

std::string WhereFound(const std::vector<FileBytes>& files, const Needle& n) {
  std::string where;
  for (const auto& h : Hits(files, n)) where += " " + h;
  return where;
}

// An erasure whose process dies after the commit, before the flush and
// compaction: the next open finishes them (the "compact-pending" marker), so
// the wrapped and the plain data key are in no file once the store is open.
TEST_F(ErasureScanTest, ErasureCompactionResumesOnOpenAfterACrash) {
  std::vector<std::string> none;
  Fill(false, &none);
  SubjectKeyBytes zebedee = ReadSubjectKey(path_, key_, kZebedee.subject);
  ASSERT_EQ(zebedee.plain.size(), 32u);
  std::vector<Needle> needles = {{"wrapped data key", zebedee.wrapped, false},
                                 {"data key", zebedee.plain, false}};
  ASSERT_TRUE(CrashAfterKeyCommit(path_, key_, "erase", kZebedee.subject))
      << "the helper did not die at the crash point";
  // Control: the crash left the wrapped key in the files.
  EXPECT_FALSE(Hits(ReadEveryFile(path_), needles[0]).empty())
      << "control: the wrapped key is already gone after the crash";
  Open();
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "store open" : "store closed");
    if (pass == 1) Close();
    auto files = ReadEveryFile(path_);
    for (const Needle& n : needles) {
      EXPECT_TRUE(Hits(files, n).empty()) << n.what << " of the erased subject still in"
                                          << WhereFound(files, n);
    }
  }
  auto raw = RawDb::Open(path_);
  ASSERT_TRUE(raw);
  EXPECT_TRUE(raw->Get("default", "compact-pending").empty()) << "marker not cleared";
  EXPECT_FALSE(raw->Get("keys", "x" + kZebedee.subject).empty()) << "the erasure was not committed";
}

// The wrappings of every key under the old root key (store key, checkpoint
// key, data keys): after a rotation none is in any file of the store, while
// it is open and after it is closed — and also when the rotating process dies
// after its commit and the store is reopened.
class RotationScanTest : public ErasureScanTest {
 protected:
  std::vector<Needle> OldWrappings() {
    auto raw = RawDb::Open(path_);
    EXPECT_TRUE(raw);
    if (!raw) return {};
    std::vector<Needle> out;
    for (const std::string& key :
         std::vector<std::string>{"s", "c", "k" + kZebedee.subject, "k" + kPhilomena.subject}) {
      std::string wrapped = raw->Get("keys", key);
      EXPECT_EQ(wrapped.size(), 32u + 40u) << key;
      out.push_back({"old wrapping of keys:" + key, wrapped, false});
    }
    return out;
  }
  void ExpectNoneInFiles(const std::vector<Needle>& needles) {
    auto files = ReadEveryFile(path_);
    for (const Needle& n : needles) {
      EXPECT_TRUE(Hits(files, n).empty()) << n.what << " still in" << WhereFound(files, n);
    }
  }
};

TEST_F(RotationScanTest, RotationLeavesNoWrappingUnderTheOldRootKeyInAnyFile) {
  std::vector<std::string> none;
  Fill(false, &none);
  auto old = OldWrappings();
  ASSERT_EQ(old.size(), 4u);
  ASSERT_FALSE(Hits(ReadEveryFile(path_), old[2]).empty()) << "control: the scan misses the keys";
  Open();
  std::string new_key = testing::HexKeyFile(dir_.sub("new.key"));
  ASSERT_TRUE(store_->RotateRootKey(KeySource::File(new_key)).ok());
  key_ = new_key;
  {
    SCOPED_TRACE("store open");
    ExpectNoneInFiles(old);
  }
  Close();
  {
    SCOPED_TRACE("store closed");
    ExpectNoneInFiles(old);
  }
  Open();  // the new key opens it
}

TEST_F(RotationScanTest, RotationCompactionResumesOnOpenAfterACrash) {
  std::vector<std::string> none;
  Fill(false, &none);
  auto old = OldWrappings();
  ASSERT_EQ(old.size(), 4u);
  std::string new_key = testing::HexKeyFile(dir_.sub("new.key"));
  ASSERT_TRUE(CrashAfterKeyCommit(path_, key_, "rotate", new_key))
      << "the helper did not die at the crash point";
  EXPECT_FALSE(Hits(ReadEveryFile(path_), old[2]).empty())
      << "control: the old wrapping is already gone after the crash";
  key_ = new_key;
  Open();
  {
    SCOPED_TRACE("store open");
    ExpectNoneInFiles(old);
  }
  Close();
  ExpectNoneInFiles(old);
}

}  // namespace
}  // namespace hearth
