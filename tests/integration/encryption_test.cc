// Encryption at rest, tampering, erasure and root-key rotation (issue 3).
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <filesystem>
#include <functional>
#include <set>

#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "envelope.capnp.h"
#include "integration_util.h"
#include "log/format.h"
#include "log/record.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;
using testing::DumpStore;
using testing::ExpectMatches;
using testing::ExpectSameEvent;
using testing::LogKeyOf;
using testing::MakeEvent;
using testing::HexKeyFile;
using testing::PersonEvent;
using testing::RawDb;
using testing::SameEvent;
using testing::StoreFixture;
using testing::TempDir;
using testing::TestOptions;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const Actor kController{"u-9", "controller", "test"};

// The store key as an attacker holding the files and the root key (a key
// file) would unwrap it; false in *ok when any step fails.
crypto::SecretKey StoreKeyOf(RawDb& raw, const std::string& key_file, bool* ok) {
  *ok = false;
  crypto::KdfParams params;
  if (!crypto::KdfParams::Decode(raw.Get("default", "kdf"), &params)) return {};
  auto root = crypto::DeriveRootKey(KeySource::File(key_file), params);
  if (!root.ok()) return {};
  std::string secret;
  if (!crypto::Unwrap(*root, "store", raw.Get("keys", "s"), &secret)) return {};
  *ok = secret.size() == crypto::kKeyBytes;
  return *ok ? crypto::SecretKey::FromBytes(reinterpret_cast<const uint8_t*>(secret.data()))
             : crypto::SecretKey{};
}

// --------------------------------------------------------------- keys ----

class KeyTest : public StoreFixture {
 protected:
  void Fill() {
    MustAppend("case-1", ExpectedVersion::NoStream(),
               {PersonEvent("Contact", "P-1", "Synthetic Alpha", {{"nhs", "999 111 2222"}}),
                MakeEvent("Note", "P-2", "Synthetic Beta")});
  }
};

TEST_F(KeyTest, WrongKeyFileIsWrongKeyAndWritesNothing) {
  Fill();
  Close();
  auto before = DumpStore(path_);
  std::string other = HexKeyFile(dir_.sub("other.key"));
  Options o = TestOptions(other);
  o.create_if_missing = false;
  auto s = Store::Open(o, path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kWrongKey) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), "wrong key")) << s.status().message();
  EXPECT_FALSE(Contains(s.status().message(), "before a rotation")) << s.status().message();
  // create_if_missing with the wrong key does not make anything either.
  s = Store::Open(TestOptions(other), path_);
  EXPECT_EQ(s.status().code(), Status::Code::kWrongKey) << s.status().ToString();
  EXPECT_TRUE(DumpStore(path_) == before) << "a refused open changed the store";
  Open();
  EXPECT_EQ(All().size(), 2u);
}

TEST(PassphraseTest, WrongPassphraseIsWrongKeyAndWritesNothing) {
  TempDir dir;
  auto options = [](const std::string& passphrase) {
    Options o;
    o.create_if_missing = true;
    o.key = KeySource::Passphrase(passphrase);
    o.key.argon2_opslimit = 1;  // cheap for tests; stored with the salt
    o.key.argon2_memlimit = 8ull << 20;
    return o;
  };
  std::string path = dir.sub("store");
  {
    auto s = Store::Open(options("correct horse battery staple"), path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->Append("case-1", ExpectedVersion::NoStream(),
                             {MakeEvent("Contact", "P-1", "Synthetic Gamma")}).ok());
  }
  auto before = DumpStore(path);
  for (std::string wrong : {"correct horse battery stapl", "Correct horse battery staple", "x"}) {
    auto s = Store::Open(options(wrong), path);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), Status::Code::kWrongKey) << s.status().ToString();
    EXPECT_TRUE(Contains(s.status().message(), "wrong key")) << s.status().message();
  }
  Options by_file = TestOptions(HexKeyFile(dir.sub("root.key")));
  auto s = Store::Open(by_file, path);
  EXPECT_EQ(s.status().code(), Status::Code::kWrongKey) << s.status().ToString();
  EXPECT_TRUE(DumpStore(path) == before) << "a refused open changed the store";
  s = Store::Open(options("correct horse battery staple"), path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto read = (*s)->ReadStream("case-1", 1, Direction::kForward, 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->at(0).personal.at(0).data, "Synthetic Gamma");
}

// A new passphrase shorter than 12 characters (or empty) is refused with a
// clear error, for a new store and for a rotation, and nothing is written.
TEST(PassphraseTest, EmptyOrShortPassphraseIsRefusedForANewStoreAndARotation) {
  TempDir dir;
  auto options = [](const std::string& passphrase) {
    Options o;
    o.create_if_missing = true;
    o.key = KeySource::Passphrase(passphrase);
    o.key.argon2_opslimit = 1;
    o.key.argon2_memlimit = 8ull << 20;
    return o;
  };
  for (std::string weak : {std::string("x"), std::string("elevenchars"), std::string("")}) {
    auto s = Store::Open(options(weak), dir.sub("store"));
    ASSERT_FALSE(s.ok()) << "'" << weak << "' was accepted";
    EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument) << s.status().ToString();
    if (!weak.empty()) {
      EXPECT_TRUE(Contains(s.status().message(), "passphrase is too short")) << s.status().message();
      EXPECT_TRUE(Contains(s.status().message(), "12")) << s.status().message();
    }
    EXPECT_FALSE(fs::exists(dir.sub("store"))) << "a refused store was left behind";
  }
  auto s = Store::Open(options("twelve chars"), dir.sub("store"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  KeySource weak = KeySource::Passphrase("short");
  Status r = (*s)->RotateRootKey(weak);
  EXPECT_EQ(r.code(), Status::Code::kInvalidArgument) << r.ToString();
  EXPECT_TRUE(Contains(r.message(), "passphrase is too short")) << r.message();
  s->reset();
  EXPECT_TRUE(Store::Open(options("twelve chars"), dir.sub("store")).ok());
}

// The passphrase is held in guarded memory (sodium_malloc puts a PROT_NONE
// guard page right after the buffer), never in ordinary heap memory, and the
// std::string it was given is wiped.
TEST(PassphraseTest, PassphraseIsHeldInGuardedMemoryAndItsSourceWiped) {
  std::string given = "synthetic passphrase for the guard test";
  const size_t size = given.size();
  KeySource key = KeySource::Passphrase(std::move(given));
  EXPECT_TRUE(given.empty());
  ASSERT_EQ(key.passphrase.size(), size);
  auto end = reinterpret_cast<uintptr_t>(key.passphrase.data()) + size;
  const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
  uintptr_t guard = (end + page - 1) / page * page;
  std::ifstream maps("/proc/self/maps");
  bool guarded = false;
  for (std::string line; std::getline(maps, line);) {
    uintptr_t lo = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    std::string perms = line.substr(line.find(' ') + 1, 4);
    if (lo == guard && perms.substr(0, 3) == "---") guarded = true;
  }
  EXPECT_TRUE(guarded) << "no guard page follows the passphrase: it is in ordinary memory";
  // Copies (Options are copied into the store) are guarded as well.
  KeySource copy = key;
  EXPECT_NE(copy.passphrase.data(), key.passphrase.data());
  EXPECT_EQ(std::string(copy.passphrase.data(), copy.passphrase.size()),
            std::string(key.passphrase.data(), key.passphrase.size()));
}

TEST(KeyFileTest, KeyFileOpenToGroupOrOthersIsRefused) {
  TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602}) {
    std::string key = HexKeyFile(dir.sub("open.key"));
    ASSERT_EQ(::chmod(key.c_str(), mode), 0);
    std::string path = dir.sub("store");
    auto s = Store::Open(TestOptions(key), path);
    ASSERT_FALSE(s.ok()) << "mode " << std::oct << mode;
    EXPECT_NE(s.status().code(), Status::Code::kWrongKey) << s.status().ToString();
    EXPECT_TRUE(Contains(s.status().message(), key)) << s.status().message();
    EXPECT_TRUE(Contains(s.status().message(), "group or others")) << s.status().message();
    EXPECT_TRUE(!fs::exists(path) || fs::is_empty(path)) << "a store was created with mode " << std::oct << mode;
  }
  // An existing store: the key file becomes too open later.
  std::string key = HexKeyFile(dir.sub("root.key"));
  std::string path = dir.sub("store2");
  ASSERT_TRUE(Store::Open(TestOptions(key), path).ok());
  auto before = DumpStore(path);
  ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
  auto s = Store::Open(TestOptions(key), path);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.status().message(), "group or others")) << s.status().message();
  EXPECT_TRUE(DumpStore(path) == before);
  ASSERT_EQ(::chmod(key.c_str(), 0400), 0);  // owner-only read is enough
  EXPECT_TRUE(Store::Open(TestOptions(key), path).ok());
}

// A key file of 32 raw bytes is a key whatever its bytes are: one that ends
// in a newline, carriage return or space byte (1 random key in 85) must not
// be trimmed into a 31-byte file and refused.
TEST(KeyFileTest, RawKeyEndingInWhitespace) {
  for (unsigned char last : {'\n', '\r', ' ', '\0', 'A'}) {
    TempDir dir;
    std::string key = dir.sub("root.key");
    std::string bytes(32, '\0');
    randombytes_buf(bytes.data(), bytes.size());
    bytes[31] = char(last);
    std::ofstream(key, std::ios::binary) << bytes;
    ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
    {
      auto s = Store::Open(TestOptions(key), dir.sub("store"));
      EXPECT_TRUE(s.ok()) << "raw key ending in byte " << int(last) << ": " << s.status().ToString();
      if (!s.ok()) continue;
      EXPECT_TRUE((*s)->Append("case-1", ExpectedVersion::NoStream(), {MakeEvent("E", "P-1", "x")}).ok());
    }
    Options o = TestOptions(key);
    o.create_if_missing = false;
    EXPECT_TRUE(Store::Open(o, dir.sub("store")).ok()) << "byte " << int(last);
  }
}

// ------------------------------------------------------------- tamper ----

// Cap'n Proto access to one stored record, for editing it field by field.
std::string EditRecord(const std::string& bytes,
                       const std::function<void(schema::StoredRecord::Builder)>& edit) {
  auto words = kj::heapArray<capnp::word>((bytes.size() + 7) / 8);
  std::memset(words.begin(), 0, words.size() * sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  capnp::MallocMessageBuilder builder;
  builder.setRoot(reader.getRoot<schema::StoredRecord>());
  edit(builder.getRoot<schema::StoredRecord>());
  auto flat = capnp::messageToFlatArray(builder);
  return std::string(reinterpret_cast<const char*>(flat.asBytes().begin()), flat.asBytes().size());
}

class TamperTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    for (int i = 1; i <= 5; ++i) {
      std::string n = std::to_string(i);
      NewEvent e = MakeEvent("Note", "P-1", "note " + n + " about Synthetic Delta");
      e.subjects.push_back(SubjectRef{"P-2", SubjectRole::kCarer});
      e.personal.push_back(PersonalSection{"P-2", "carer note " + n, {}, false});
      e.facts = "{\"district\":\"D1\",\"n\":" + n + "}";
      MustAppend("case-1", ExpectedVersion::Any(), {e});
    }
    original_ = All();
    ASSERT_EQ(original_.size(), 5u);
    Close();
  }

  // Opening checks the log's tail (the records after the last complete block
  // of 256) and refuses damage there (docs/operations.md). These tests damage
  // records before it, to show that every read refuses them as well: 256
  // events of another stream push the records under test out of the tail.
  void PushPastTheOpenCheck() {
    Open();
    std::vector<NewEvent> filler;
    for (int i = 0; i < 256; ++i) filler.push_back(MakeEvent("Filler"));
    MustAppend("filler", ExpectedVersion::Any(), filler);
    Close();
  }

  std::string Raw(uint64_t position) {
    auto raw = RawDb::Open(path_);
    return raw ? raw->Get("log", LogKeyOf(position)) : "";
  }
  void Write(uint64_t position, const std::string& bytes) {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    raw->Put("log", LogKeyOf(position), bytes);
  }

  // Every way of reading `position` reports Corruption: reading it alone
  // names it; reads that cover several records name the first bad one.
  void ExpectCorruptionAt(uint64_t position, const std::string& what, uint64_t first_bad = 0) {
    std::string name = "position " + std::to_string(position);
    std::string first_name = "position " + std::to_string(first_bad == 0 ? position : first_bad);
    auto one = store_->ReadAll(position, 1);
    ASSERT_FALSE(one.ok()) << what << ": served as " << (one.ok() && !one->empty() ? one->at(0).facts : "");
    EXPECT_TRUE(one.status().IsCorruption()) << what << ": " << one.status().ToString();
    EXPECT_TRUE(Contains(one.status().message(), name)) << what << ": " << one.status().message();
    auto all = store_->ReadAll(1, 100);
    EXPECT_TRUE(all.status().IsCorruption()) << what;
    auto stream = store_->ReadStream("case-1", 1, Direction::kForward, 100);
    EXPECT_TRUE(stream.status().IsCorruption()) << what;
    EXPECT_TRUE(Contains(stream.status().message(), first_name)) << what << ": " << stream.status().message();
    auto back = store_->ReadStream("case-1", 0, Direction::kBackward, 100);
    EXPECT_TRUE(back.status().IsCorruption()) << what;
    auto subject = store_->ReadSubject("P-2", 1, 100);
    EXPECT_TRUE(subject.status().IsCorruption()) << what;
    EXPECT_TRUE(Contains(subject.status().message(), first_name)) << what << ": " << subject.status().message();
    // Other positions still read.
    uint64_t other = position == 1 ? 2 : 1;
    auto fine = store_->ReadAll(other, 1);
    ASSERT_TRUE(fine.ok()) << fine.status().ToString();
    ExpectSameEvent(original_[other - 1], fine->at(0));
  }

  std::vector<RecordedEvent> original_;
};

TEST_F(TamperTest, FlippedCiphertextByteIsCorruptionNamingThePosition) {
  PushPastTheOpenCheck();
  std::string bytes = Raw(3);
  ASSERT_FALSE(bytes.empty());
  // Locate the sealed sections through the schema, then flip one byte in each.
  auto words = kj::heapArray<capnp::word>((bytes.size() + 7) / 8);
  std::memset(words.begin(), 0, words.size() * sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  capnp::FlatArrayMessageReader reader(words);
  auto r = reader.getRoot<schema::StoredRecord>();
  const char* base = reinterpret_cast<const char*>(words.begin());
  struct Target {
    std::string what;
    size_t offset;
  };
  std::vector<Target> targets = {
      {"facts nonce", size_t(reinterpret_cast<const char*>(r.getFacts().begin()) - base)},
      {"facts ciphertext", size_t(reinterpret_cast<const char*>(r.getFacts().begin()) - base) + 30},
      {"facts tag", size_t(reinterpret_cast<const char*>(r.getFacts().end()) - base) - 1},
      {"personal section of P-1",
       size_t(reinterpret_cast<const char*>(r.getPersonal()[0].getSealed().begin()) - base) + 26},
      {"personal section of P-2",
       size_t(reinterpret_cast<const char*>(r.getPersonal()[1].getSealed().end()) - base) - 3},
      {"type (associated data)", size_t(reinterpret_cast<const char*>(r.getType().begin()) - base)},
      {"stream (associated data)", size_t(reinterpret_cast<const char*>(r.getStream().begin()) - base) + 2},
  };
  for (const auto& t : targets) {
    SCOPED_TRACE(t.what);
    ASSERT_LT(t.offset, bytes.size());
    std::string tampered = bytes;
    tampered[t.offset] = char(tampered[t.offset] ^ 0x04);
    Write(3, tampered);
    Open();
    ExpectCorruptionAt(3, t.what);
    Close();
  }
  Write(3, bytes);
  Open();
  auto all = All();
  ASSERT_EQ(all.size(), 5u + 256u);  // and the filler
  for (size_t i = 0; i < original_.size(); ++i) ExpectSameEvent(original_[i], all[i]);
}

TEST_F(TamperTest, SchemaVersionChangeIsCorruption) {
  PushPastTheOpenCheck();
  std::string bytes = Raw(2);
  Write(2, EditRecord(bytes, [](auto r) { r.setSchemaVersion(r.getSchemaVersion() + 1); }));
  Open();
  ExpectCorruptionAt(2, "schema version");
}

TEST_F(TamperTest, SwappedRecordsAreCorruption) {
  PushPastTheOpenCheck();
  std::string two = Raw(2), three = Raw(3);
  Write(2, three);
  Write(3, two);
  Open();
  ExpectCorruptionAt(2, "record 3 stored at position 2");
  ExpectCorruptionAt(3, "record 2 stored at position 3", 2);
  Close();
  // The same swap, with each envelope rewritten to claim its new position:
  // the sealed sections still carry the old one in their associated data.
  Write(2, EditRecord(three, [](auto r) { r.setPosition(2); }));
  Write(3, EditRecord(two, [](auto r) { r.setPosition(3); }));
  Open();
  ExpectCorruptionAt(2, "record 3 relabelled as position 2");
  ExpectCorruptionAt(3, "record 2 relabelled as position 3", 2);
}

TEST_F(TamperTest, SealedSectionsMovedBetweenRecordsAreCorruption) {
  PushPastTheOpenCheck();
  std::string two = Raw(2), three = Raw(3);
  std::string sealed_facts, sealed_personal;
  EditRecord(three, [&](auto r) {
    sealed_facts = std::string(reinterpret_cast<const char*>(r.getFacts().begin()), r.getFacts().size());
    auto p = r.getPersonal()[0].getSealed();
    sealed_personal = std::string(reinterpret_cast<const char*>(p.begin()), p.size());
  });
  auto as_data = [](const std::string& s) {
    return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
  };
  Write(2, EditRecord(two, [&](auto r) { r.setFacts(as_data(sealed_facts)); }));
  Open();
  ExpectCorruptionAt(2, "facts of position 3 moved into position 2");
  Close();
  Write(2, EditRecord(two, [&](auto r) { r.getPersonal()[0].setSealed(as_data(sealed_personal)); }));
  Open();
  ExpectCorruptionAt(2, "personal section of position 3 moved into position 2");
  Close();
  // A personal section relabelled as another subject's.
  Write(2, EditRecord(two, [&](auto r) {
    auto p = r.getPersonal();
    std::string a = p[0].getSubject().cStr(), b = p[1].getSubject().cStr();
    p[0].setSubject(b.c_str());
    p[1].setSubject(a.c_str());
  }));
  Open();
  ExpectCorruptionAt(2, "personal sections relabelled");
}

// A record is decoded in place when its bytes are word-aligned, otherwise
// through one buffer per thread that every decode reuses. It must read the
// same at every alignment, into a used event as into a new one, and when a
// section opener decodes another record in the middle of it.
TEST_F(TamperTest, ARecordDecodesTheSameAtEveryAlignmentAndInsideAnotherDecode) {
  auto raw = RawDb::Open(path_);
  ASSERT_TRUE(raw);
  bool unwrapped = false;
  crypto::SecretKey store_key = StoreKeyOf(*raw, key_, &unwrapped);
  ASSERT_TRUE(unwrapped);
  const std::string first = raw->Get("log", LogKeyOf(1));
  const std::string second = raw->Get("log", LogKeyOf(2));
  raw.reset();
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(first.size() % 8, 0u);

  // Opens nothing: answers with what it was given, so the sections' order,
  // subjects, sealed bytes and associated data all show in the result.
  log::SectionOpener echo = [](const std::string& subject, std::string_view aad,
                               std::string_view sealed, std::string* out, bool* erased) {
    *out = subject + "|" + std::string(aad) + "|" + std::string(sealed);
    *erased = false;
    return Status::OK();
  };
  auto decode = [&](std::string_view bytes, uint64_t position, const log::SectionOpener& opener,
                    RecordedEvent* out) {
    return log::DecodeRecord(bytes, position, &store_key, opener, out);
  };
  RecordedEvent reference;
  ASSERT_TRUE(decode(first, 1, echo, &reference).ok());
  ASSERT_EQ(reference.personal.size(), 2u);
  EXPECT_EQ(reference.facts, original_[0].facts);
  EXPECT_EQ(reference.type, original_[0].type);
  EXPECT_EQ(reference.subjects, original_[0].subjects);

  // Every offset from a word boundary, into one event used again and again
  // (it last held the second record).
  std::vector<uint64_t> storage(first.size() / 8 + 2);
  char* base = reinterpret_cast<char*>(storage.data());
  RecordedEvent used;
  for (size_t offset = 0; offset < 8; ++offset) {
    ASSERT_TRUE(decode(second, 2, echo, &used).ok());
    std::memcpy(base + offset, first.data(), first.size());
    ASSERT_TRUE(decode(std::string_view(base + offset, first.size()), 1, echo, &used).ok())
        << "offset " << offset;
    EXPECT_TRUE(SameEvent(reference, used)) << "offset " << offset;
    log::EnvelopeView envelope;
    ASSERT_TRUE(log::DecodeEnvelope(std::string_view(base + offset, first.size()), 1, &envelope).ok());
    EXPECT_EQ(envelope.stream, reference.stream);
    EXPECT_EQ(envelope.id, reference.id);
  }

  // The opener decodes the second record (unaligned too) before it answers.
  std::string shifted = " " + second;
  size_t inner_decodes = 0;
  log::SectionOpener nested = [&](const std::string& subject, std::string_view aad,
                                  std::string_view sealed, std::string* out, bool* erased) {
    RecordedEvent inner;
    Status s = decode(std::string_view(shifted).substr(1), 2, echo, &inner);
    if (!s.ok()) return s;
    ++inner_decodes;
    EXPECT_EQ(inner.position, 2u);
    return echo(subject, aad, sealed, out, erased);
  };
  std::memcpy(base + 1, first.data(), first.size());
  RecordedEvent outer;
  Status s = decode(std::string_view(base + 1, first.size()), 1, nested, &outer);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(inner_decodes, 2u);
  EXPECT_TRUE(SameEvent(reference, outer));
}

TEST_F(TamperTest, TruncatedOrMissingRecordIsCorruption) {
  PushPastTheOpenCheck();
  std::string bytes = Raw(4);
  Write(4, bytes.substr(0, bytes.size() / 2));
  Open();
  ExpectCorruptionAt(4, "truncated record");
  Close();
  Write(4, "");
  Open();
  ExpectCorruptionAt(4, "empty record");
}

// Every single-byte change to a stored record must be caught on read, or be
// invisible to readers. A read that serves altered envelope fields (actor,
// times, ids, stream version, subject references) as if they were genuine is
// the failure issue 3 forbids ("never garbage").
TEST_F(TamperTest, NoSingleByteChangeIsServedAsGenuine) {
  // Records of the same layout; each round flips a different offset in each
  // record, so one reopen checks many offsets.
  constexpr uint64_t kRecords = 60;
  Open();
  for (uint64_t i = 6; i <= kRecords; ++i) {
    std::string n = std::to_string(i % 10);
    NewEvent e = MakeEvent("Note", "P-1", "note " + n + " about Synthetic Delta");
    e.subjects.push_back(SubjectRef{"P-2", SubjectRole::kCarer});
    e.personal.push_back(PersonalSection{"P-2", "carer note " + n, {}, false});
    e.facts = "{\"district\":\"D1\",\"n\":" + n + "}";
    MustAppend("case-1", ExpectedVersion::Any(), {e});
  }
  original_ = All();
  Close();
  PushPastTheOpenCheck();
  std::vector<std::string> originals;
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    for (uint64_t p = 1; p <= kRecords; ++p) originals.push_back(raw->Get("log", LogKeyOf(p)));
  }
  size_t size = originals[0].size();
  for (const auto& o : originals) ASSERT_EQ(o.size(), size) << "records differ in layout";
  std::map<std::string, std::vector<size_t>> served;  // field -> offsets
  size_t detected = 0, invisible = 0;
  for (size_t round = 0; round * kRecords < size; ++round) {
    {
      auto raw = RawDb::Open(path_);
      ASSERT_TRUE(raw);
      for (uint64_t p = 1; p <= kRecords; ++p) {
        size_t offset = round * kRecords + (p - 1);
        std::string bytes = originals[p - 1];
        if (offset < size) bytes[offset] = char(bytes[offset] ^ 0x01);
        raw->Put("log", LogKeyOf(p), bytes);
      }
    }
    Open();
    for (uint64_t p = 1; p <= kRecords; ++p) {
      size_t offset = round * kRecords + (p - 1);
      if (offset >= size) continue;
      auto r = store_->ReadAll(p, 1);
      if (!r.ok()) {
        EXPECT_TRUE(r.status().IsCorruption()) << "offset " << offset << ": " << r.status().ToString();
        EXPECT_TRUE(Contains(r.status().message(), "position " + std::to_string(p)))
            << r.status().message();
        ++detected;
        continue;
      }
      ASSERT_EQ(r->size(), 1u);
      const RecordedEvent& got = r->at(0);
      const RecordedEvent& want = original_[p - 1];
      if (SameEvent(got, want)) {
        ++invisible;
        continue;
      }
      std::string field = got.stream_version != want.stream_version ? "stream_version"
                          : got.id != want.id                        ? "event id"
                          : got.recorded_at != want.recorded_at      ? "recorded_at"
                          : got.occurred_at != want.occurred_at      ? "occurred_at"
                          : !(got.actor == want.actor)               ? "actor"
                          : got.correlation_id != want.correlation_id ? "correlation id"
                          : got.causation_id != want.causation_id    ? "causation id"
                          : !(got.subjects == want.subjects)         ? "subjects"
                                                                     : "other";
      served[field].push_back(offset);
    }
    Close();
  }
  std::string report;
  for (const auto& [field, offsets] : served) {
    report += "\n  " + field + ": " + std::to_string(offsets.size()) + " offsets, first " +
              std::to_string(offsets.front());
  }
  EXPECT_TRUE(served.empty()) << "altered records served as genuine (" << detected << " detected, "
                              << invisible << " invisible):" << report;
}

// ------------------------------------------------------------ erasure ----

class ErasureTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    // P-1 is erased later; P-2 shares an event and a postcode with P-1.
    NewEvent both = PersonEvent("Referral", "P-1", "Synthetic Epsilon, 1 Test Row",
                                {{"nhs", "999 222 3333"}, {"postcode", "ZZ3 3ZZ"},
                                 {"name", "Synthetic Epsilon"}});
    both.subjects.push_back(SubjectRef{"P-2", SubjectRole::kCarer});
    both.personal.push_back(PersonalSection{"P-2", "Synthetic Zeta, carer", {{"postcode", "ZZ3 3ZZ"}}, false});
    both.facts = "{\"district\":\"D2\",\"element\":5}";
    MustAppend("case-1", ExpectedVersion::NoStream(),
               {both, MakeEvent("Visit", "P-1", "visited Synthetic Epsilon")});
    MustAppend("case-2", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-2", "Synthetic Zeta")});
  }
};

// What someone holding the store key (the root key file, so the store key and
// its digest key) can compute for a guessed event: the keyed digest over the
// event with its personal sections in the clear (the form the digest had
// before personal sections entered only through macs under their subjects'
// data keys).
std::string DigestOfGuess(const crypto::SecretKey& digest_key, const NewEvent& e) {
  auto field = [](std::string* s, const std::string& x) {
    log::PutBE32(s, uint32_t(x.size()));
    s->append(x);
  };
  std::string s;
  s.append(reinterpret_cast<const char*>(e.id.bytes.data()), 16);
  field(&s, e.type);
  log::PutBE32(&s, e.schema_version);
  log::PutBE64(&s, uint64_t(e.occurred_at));
  field(&s, e.actor.user);
  field(&s, e.actor.role);
  field(&s, e.actor.plugin);
  s.append(reinterpret_cast<const char*>(e.correlation_id.bytes.data()), 16);
  s.append(reinterpret_cast<const char*>(e.causation_id.bytes.data()), 16);
  log::PutBE32(&s, uint32_t(e.subjects.size()));
  for (const auto& r : e.subjects) {
    field(&s, r.id);
    s.push_back(char(r.role));
  }
  field(&s, e.facts);
  log::PutBE32(&s, uint32_t(e.personal.size()));
  for (const auto& p : e.personal) {
    field(&s, p.subject);
    field(&s, p.data);
    log::PutBE32(&s, uint32_t(p.identifiers.size()));
    for (const auto& id : p.identifiers) {
      field(&s, id.kind);
      field(&s, id.value);
    }
  }
  return crypto::KeyedHash(digest_key, s);
}

// The idempotency digest stored with each record cannot be used, with the
// store key alone, to confirm a guess about an erased person's personal data:
// personal sections enter it only through macs under the subject's data key,
// which erasure deletes.
TEST_F(ErasureTest, IdempotencyDigestConfirmsNoGuessAboutAnErasedPerson) {
  NewEvent guessed = PersonEvent("Contact", "P-3", "Synthetic Theta, 9 Test Row",
                                 {{"nhs", "999 444 5555"}, {"name", "Synthetic Theta"}});
  NewEvent plain = MakeEvent("Contact", "P-3");  // no personal section
  AppendResult r = MustAppend("case-3", ExpectedVersion::NoStream(), {guessed, plain});
  // A retry of the same batch is still told apart from a clash while the
  // subject's key exists.
  auto retry = store_->Append("case-3", ExpectedVersion::Any(), {guessed, plain});
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_TRUE(retry->duplicate);
  NewEvent changed = guessed;
  changed.personal[0].data = "Synthetic Theta, 10 Test Row";
  auto clash = store_->Append("case-3", ExpectedVersion::Any(), {changed, plain});
  ASSERT_FALSE(clash.ok());
  EXPECT_TRUE(Contains(clash.status().message(), "different content")) << clash.status().ToString();
  ASSERT_TRUE(store_->EraseSubject("P-3", kController, "art17").ok());
  Close();

  // The attacker's view: the files and the root key.
  auto raw = RawDb::Open(path_);
  ASSERT_TRUE(raw);
  bool unwrapped = false;
  crypto::SecretKey store_key = StoreKeyOf(*raw, key_, &unwrapped);
  ASSERT_TRUE(unwrapped);
  crypto::SecretKey digest_key = crypto::DeriveSubkey(store_key, 1, "hdigest_");
  auto stored_digest = [&](uint64_t position) {
    log::EnvelopeView env;
    Status s = log::DecodeEnvelope(raw->Get("log", LogKeyOf(position)), position, &env);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return env.digest;
  };
  // The recomputation is faithful where there is nothing personal...
  EXPECT_EQ(stored_digest(r.last_position), DigestOfGuess(digest_key, plain));
  // ...and the exact guess of the erased person's data does not match.
  EXPECT_NE(stored_digest(r.first_position), DigestOfGuess(digest_key, guessed));
  raw.reset();

  // After erasure a retry cannot be matched against the stored digest: it is
  // refused as concerning an erased person, and nothing is written.
  Open();
  uint64_t last = Info().last_position;
  auto late = store_->Append("case-3", ExpectedVersion::Any(), {guessed, plain});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), Status::Code::kErased) << late.status().ToString();
  EXPECT_EQ(Info().last_position, last);
}

TEST_F(ErasureTest, ErasingAnUnknownSubjectIsNotFoundAndWritesNothing) {
  StoreInfo before = Info();
  auto r = store_->EraseSubject("P-nobody", kController, "art17");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "P-nobody")) << r.status().message();
  EXPECT_EQ(Info().last_position, before.last_position);
  EXPECT_EQ(Info().erased_subjects, 0u);
  EXPECT_TRUE(store_->EraseSubject("P-1", kController, "free text with spaces")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(store_->EraseSubject("", kController, "art17").status().IsInvalidArgument());
}

TEST_F(ErasureTest, ErasingTwiceReportsTheFirstErasure) {
  auto first = store_->EraseSubject("P-1", kController, "art17");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->first_position, 4u);
  StoreInfo after = Info();
  for (int round = 0; round < 2; ++round) {
    auto again = store_->EraseSubject("P-1", kController, "art17");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->first_position, first->first_position);
    EXPECT_EQ(Info().last_position, after.last_position);
    EXPECT_EQ(Info().erased_subjects, 1u);
    Open();
  }
}

TEST_F(ErasureTest, PersonalDataForAnErasedSubjectIsRefused) {
  ASSERT_TRUE(store_->EraseSubject("P-1", kController, "art17").ok());
  for (int round = 0; round < 2; ++round) {
    StoreInfo before = Info();
    auto r = store_->Append("case-1", ExpectedVersion::Any(),
                            {MakeEvent("Note", "P-2", "fine"), MakeEvent("Note", "P-1", "refused")});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kErased) << r.status().ToString();
    EXPECT_TRUE(Contains(r.status().message(), "P-1")) << r.status().message();
    EXPECT_EQ(Info().last_position, before.last_position);
    EXPECT_EQ(Info().subjects, before.subjects);
    Open();  // the erased set survives a reopen
  }
}

TEST_F(ErasureTest, AfterErasureFactsAndCountsStayPersonalSectionsAreErased) {
  auto before_events = All();
  StoreInfo before = Info();
  auto before_subject = *store_->ReadSubject("P-1", 1, 100);
  ASSERT_EQ(before_subject.size(), 2u);
  auto erased = store_->EraseSubject("P-1", kController, "art17");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();

  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "same session" : "after reopen");
    auto events = All();
    ASSERT_EQ(events.size(), before_events.size() + 1);
    for (size_t i = 0; i < before_events.size(); ++i) {
      const RecordedEvent& was = before_events[i];
      const RecordedEvent& now = events[i];
      EXPECT_EQ(now.facts, was.facts);
      EXPECT_EQ(now.type, was.type);
      EXPECT_EQ(now.subjects, was.subjects);
      EXPECT_EQ(now.stream_version, was.stream_version);
      ASSERT_EQ(now.personal.size(), was.personal.size());
      for (size_t k = 0; k < now.personal.size(); ++k) {
        if (now.personal[k].subject == "P-1") {
          EXPECT_TRUE(now.personal[k].erased);
          EXPECT_TRUE(now.personal[k].data.empty());
        } else {
          EXPECT_FALSE(now.personal[k].erased);
          EXPECT_EQ(now.personal[k].data, was.personal[k].data);
        }
      }
    }
    const RecordedEvent& erasure = events.back();
    EXPECT_EQ(erasure.position, erased->first_position);
    EXPECT_EQ(erasure.type, "SubjectErased");
    EXPECT_EQ(erasure.stream, "$erasure");
    EXPECT_TRUE(erasure.personal.empty());
    EXPECT_FALSE(Contains(erasure.facts, "Epsilon"));
    EXPECT_EQ(erasure.actor, kController);

    StoreInfo now = Info();
    EXPECT_EQ(now.last_position, before.last_position + 1);
    EXPECT_EQ(now.subjects, before.subjects);  // the case still counts
    EXPECT_EQ(now.erased_subjects, 1u);
    EXPECT_EQ(*store_->StreamVersion("case-1"), 2u);
    // The subject's events still count and carry their facts.
    auto subject = store_->ReadSubject("P-1", 1, 100);
    ASSERT_TRUE(subject.ok()) << subject.status().ToString();
    ASSERT_GE(subject->size(), before_subject.size());
    for (size_t i = 0; i < before_subject.size(); ++i) {
      EXPECT_EQ((*subject)[i].position, before_subject[i].position);
      EXPECT_EQ((*subject)[i].facts, before_subject[i].facts);
    }
    Open();
  }
}

TEST_F(ErasureTest, FindSubjectsByNaturalIdentifierUntilErased) {
  struct Lookup {
    Identifier id;
    std::vector<std::string> before, after;
  };
  std::vector<Lookup> lookups = {
      {{"nhs", "999 222 3333"}, {"P-1"}, {}},
      {{"nhs", "9992223333"}, {"P-1"}, {}},
      {{"postcode", "zz3 3zz"}, {"P-1", "P-2"}, {"P-2"}},
      {{"postcode", "ZZ33ZZ"}, {"P-1", "P-2"}, {"P-2"}},
      {{"name", "synthetic  EPSILON"}, {"P-1"}, {}},
      {{"name", "Synthetic Zeta"}, {}, {}},  // not given as an identifier
      {{"postcode", "999 222 3333"}, {}, {}},  // kinds do not mix
  };
  auto check = [&](bool erased) {
    for (const auto& l : lookups) {
      auto found = store_->FindSubjects(l.id);
      ASSERT_TRUE(found.ok()) << found.status().ToString();
      std::set<std::string> got(found->begin(), found->end());
      const auto& want = erased ? l.after : l.before;
      EXPECT_EQ(got, std::set<std::string>(want.begin(), want.end()))
          << l.id.kind << " '" << l.id.value << "'" << (erased ? " after erasure" : "");
    }
  };
  check(false);
  ASSERT_TRUE(store_->EraseSubject("P-1", kController, "art17").ok());
  check(true);
  Open();
  check(true);
}

// ----------------------------------------------------------- rotation ----

class RotationTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    for (int i = 0; i < 4; ++i) {
      std::string n = std::to_string(i);
      MustAppend("case-" + n, ExpectedVersion::NoStream(),
                 {PersonEvent("Contact", "P-" + n, "Synthetic Eta " + n, {{"nhs", "999 333 000" + n}})});
    }
    ASSERT_TRUE(store_->EraseSubject("P-3", kController, "art17").ok());
    before_ = All();
  }

  Result<std::unique_ptr<Store>> OpenWith(const KeySource& key) {
    Options o;
    o.key = key;
    return Store::Open(o, path_);
  }

  void ExpectAllReadable(Store* store) {
    auto all = store->ReadAll(1, 1000);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), before_.size());
    for (size_t i = 0; i < all->size(); ++i) ExpectSameEvent(before_[i], (*all)[i]);
    auto found = store->FindSubjects({"nhs", "9993330001"});
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, std::vector<std::string>{"P-1"});
  }

  std::vector<RecordedEvent> before_;
};

TEST_F(RotationTest, NewKeyOpensOldKeyIsWrongKeyNamingTheRotation) {
  std::string new_key = HexKeyFile(dir_.sub("new.key"));
  ASSERT_TRUE(store_->RotateRootKey(KeySource::File(new_key)).ok());
  ExpectAllReadable(store_.get());
  // New subjects get keys wrapped under the new root.
  MustAppend("case-9", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-9", "Synthetic Theta")});
  before_ = All();
  Close();

  auto old = OpenWith(KeySource::File(key_));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), Status::Code::kWrongKey) << old.status().ToString();
  EXPECT_TRUE(Contains(old.status().message(), "before a rotation"))
      << "the pre-rotation key is not recognised as such: " << old.status().message();

  auto unrelated = OpenWith(KeySource::File(HexKeyFile(dir_.sub("unrelated.key"))));
  EXPECT_EQ(unrelated.status().code(), Status::Code::kWrongKey);
  EXPECT_FALSE(Contains(unrelated.status().message(), "before a rotation"))
      << unrelated.status().message();

  auto opened = OpenWith(KeySource::File(new_key));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ExpectAllReadable(opened->get());
  auto r = (*opened)->Append("case-0", ExpectedVersion::Exact(1), {MakeEvent("Note", "P-0", "after")});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(RotationTest, RotateToAPassphraseAndOnToAnotherKeyFile) {
  KeySource pass = KeySource::Passphrase("synthetic rotation passphrase");
  pass.argon2_opslimit = 1;
  pass.argon2_memlimit = 8ull << 20;
  ASSERT_TRUE(store_->RotateRootKey(pass).ok());
  Close();
  EXPECT_EQ(OpenWith(KeySource::File(key_)).status().code(), Status::Code::kWrongKey);
  {
    auto s = OpenWith(pass);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ExpectAllReadable(s->get());
    std::string third = HexKeyFile(dir_.sub("third.key"));
    ASSERT_TRUE((*s)->RotateRootKey(KeySource::File(third)).ok());
    s->reset();
    auto wrong = OpenWith(pass);
    EXPECT_EQ(wrong.status().code(), Status::Code::kWrongKey) << wrong.status().ToString();
    auto t = OpenWith(KeySource::File(third));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    ExpectAllReadable(t->get());
  }
}

TEST_F(RotationTest, RotationToAnUnusableKeyChangesNothing) {
  std::string loose = HexKeyFile(dir_.sub("loose.key"));
  ASSERT_EQ(::chmod(loose.c_str(), 0644), 0);
  EXPECT_FALSE(store_->RotateRootKey(KeySource::File(loose)).ok());
  EXPECT_FALSE(store_->RotateRootKey(KeySource::File(dir_.sub("missing.key"))).ok());
  EXPECT_FALSE(store_->RotateRootKey(KeySource{}).ok());
  ExpectAllReadable(store_.get());
  Close();
  auto s = OpenWith(KeySource::File(key_));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ExpectAllReadable(s->get());
}

}  // namespace
}  // namespace hearth
