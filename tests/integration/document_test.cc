// Document bodies (docs/format.md "documents"; issue 17.9): kept beside the
// event that refers to them, in the same atomic batch, sealed under the data
// key of their subject and bound to their event's position; over-size ones
// refused naming the limit; unreadable once the subject is erased; carried by
// a backup; and a store written before the column family existed takes them.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "integration_util.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;
using testing::MakeEvent;
using testing::RawDb;
using testing::StoreFixture;

const char kLetter[] = "Dear Mr Quortlewaite, your grant of 4,200 pounds is approved. Ref WIBBLESTONE-8812.";

// docs/format.md: documents key := position:u64 || index:u32.
std::string DocKey(uint64_t position, uint32_t index) {
  std::string k = testing::LogKeyOf(position);
  for (int i = 3; i >= 0; --i) k.push_back(char((index >> (8 * i)) & 0xff));
  return k;
}

NewEvent WithDocument(const std::string& subject, const std::string& body) {
  NewEvent e = MakeEvent("DocumentAttached", subject, "{\"sha256\":\"given by the domain\"}");
  e.documents.push_back(DocumentBody{subject, body});
  return e;
}

class DocumentStoreTest : public StoreFixture {
 protected:
  Options StoreOptions() override {
    Options o = StoreFixture::StoreOptions();
    o.max_document_bytes = 4096;
    return o;
  }
};

TEST_F(DocumentStoreTest, BodyIsReadBackAndStoredOnlyAsCiphertext) {
  auto r = MustAppend("case/D1/1", ExpectedVersion::NoStream(),
                      {MakeEvent("Contact", "P-1", "{}"), WithDocument("P-1", kLetter)});
  auto doc = store_->ReadDocument(r.first_position + 1, 0);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->subject, "P-1");
  EXPECT_EQ(doc->bytes, kLetter);
  // The first event has none, nor has a second document of the event.
  EXPECT_TRUE(store_->ReadDocument(r.first_position, 0).status().IsNotFound());
  EXPECT_TRUE(store_->ReadDocument(r.first_position + 1, 1).status().IsNotFound());
  EXPECT_TRUE(store_->ReadDocument(r.last_position + 1, 0).status().IsNotFound());
  Close();
  auto raw = RawDb::Open(path_);
  ASSERT_TRUE(raw);
  std::string value = raw->Get("documents", DocKey(r.first_position + 1, 0));
  // len:u32 || subject || nonce(24) || ciphertext || tag(16)
  ASSERT_EQ(value.size(), 4 + 3 + 24 + sizeof kLetter - 1 + 16);
  EXPECT_EQ(value.substr(4, 3), "P-1");
  EXPECT_EQ(value.find("WIBBLESTONE"), std::string::npos);
  EXPECT_EQ(value.find("Quortlewaite"), std::string::npos);
}

TEST_F(DocumentStoreTest, AnOverSizeDocumentIsRefusedNamingTheLimitAndNothingIsWritten) {
  MustAppend("case/D1/1", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-1", "{}")});
  uint64_t before = Info().last_position;
  auto r = store_->Append("case/D1/1", ExpectedVersion::Any(), {WithDocument("P-1", std::string(4097, 'x'))});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == Status::Code::kTooLarge) << r.status().ToString();
  EXPECT_NE(r.status().message().find("4097 bytes; the limit is 4096 bytes"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(Info().last_position, before);
  // At the limit it is taken.
  MustAppend("case/D1/1", ExpectedVersion::Any(), {WithDocument("P-1", std::string(4096, 'x'))});
  Close();
  auto raw = RawDb::Open(path_);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->Dump()["documents"].size(), 1u);
}

TEST_F(DocumentStoreTest, ADocumentForASubjectTheEventDoesNotNameIsRefused) {
  NewEvent e = WithDocument("P-1", kLetter);
  e.documents[0].subject = "P-2";
  auto r = store_->Append("case/D1/1", ExpectedVersion::Any(), {e});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("document for subject P-2"), std::string::npos);
  EXPECT_EQ(Info().last_position, 0u);
}

TEST_F(DocumentStoreTest, AfterErasureTheDocumentCannotBeReadAndStaysOnlyAsCiphertext) {
  auto r = MustAppend("case/D1/1", ExpectedVersion::NoStream(),
                      {WithDocument("P-1", kLetter), WithDocument("P-2", "the other person's letter")});
  ASSERT_TRUE(store_->ReadDocument(r.first_position, 0).ok());
  auto erased = store_->EraseSubject("P-1", Actor{"u-9", "controller", "test"}, "art17");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  auto doc = store_->ReadDocument(r.first_position, 0);
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(doc.status().code() == Status::Code::kErased) << doc.status().ToString();
  // The other person's document is untouched.
  auto other = store_->ReadDocument(r.first_position + 1, 0);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->bytes, "the other person's letter");
  // A new document about the erased person is refused.
  auto again = store_->Append("case/D1/1", ExpectedVersion::Any(), {WithDocument("P-1", kLetter)});
  EXPECT_TRUE(again.status().code() == Status::Code::kErased) << again.status().ToString();
  // Reopened (no key in any cache), still unreadable; the body is still there, as ciphertext.
  Open();
  EXPECT_TRUE(store_->ReadDocument(r.first_position, 0).status().code() == Status::Code::kErased);
  Close();
  auto raw = RawDb::Open(path_);
  ASSERT_TRUE(raw);
  std::string value = raw->Get("documents", DocKey(r.first_position, 0));
  EXPECT_EQ(value.size(), 4 + 3 + 24 + sizeof kLetter - 1 + 16);
  EXPECT_EQ(value.find("WIBBLESTONE"), std::string::npos);
}

TEST_F(DocumentStoreTest, ACorruptedStoredBodyFailsAuthentication) {
  auto r = MustAppend("case/D1/1", ExpectedVersion::NoStream(), {WithDocument("P-1", kLetter)});
  Close();
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    std::string value = raw->Get("documents", DocKey(r.first_position, 0));
    ASSERT_FALSE(value.empty());
    value[value.size() / 2] ^= 0x01;
    raw->Put("documents", DocKey(r.first_position, 0), value);
  }
  Open();
  auto doc = store_->ReadDocument(r.first_position, 0);
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(doc.status().IsCorruption()) << doc.status().ToString();
  EXPECT_NE(doc.status().message().find("position " + std::to_string(r.first_position)), std::string::npos);
}

TEST_F(DocumentStoreTest, ABodyMovedToAnotherEventFailsToOpen) {
  auto r = MustAppend("case/D1/1", ExpectedVersion::NoStream(),
                      {WithDocument("P-1", kLetter), WithDocument("P-1", "a quote for a stairlift")});
  Close();
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    // The letter's body put where the quote's was: same subject, same key.
    raw->Put("documents", DocKey(r.first_position + 1, 0), raw->Get("documents", DocKey(r.first_position, 0)));
  }
  Open();
  auto doc = store_->ReadDocument(r.first_position + 1, 0);
  ASSERT_FALSE(doc.ok());
  EXPECT_TRUE(doc.status().IsCorruption()) << doc.status().ToString();
  EXPECT_TRUE(store_->ReadDocument(r.first_position, 0).ok());
}

TEST_F(DocumentStoreTest, ARetryWithAnotherBodyIsAClashAndTheSameBodyADuplicate) {
  NewEvent e = WithDocument("P-1", kLetter);
  auto first = MustAppend("case/D1/1", ExpectedVersion::Any(), {e});
  auto same = store_->Append("case/D1/1", ExpectedVersion::Any(), {e});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_TRUE(same->duplicate);
  EXPECT_EQ(same->first_position, first.first_position);
  NewEvent other = e;
  other.documents[0].bytes = "a different letter";
  auto clash = store_->Append("case/D1/1", ExpectedVersion::Any(), {other});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("different content"), std::string::npos) << clash.status().ToString();
  EXPECT_EQ(store_->ReadDocument(first.first_position, 0)->bytes, kLetter);
}

TEST_F(DocumentStoreTest, ABackupCarriesTheDocuments) {
  auto r = MustAppend("case/D1/1", ExpectedVersion::NoStream(), {WithDocument("P-1", kLetter)});
  std::string backup = dir_.sub("backup");
  auto at = store_->Backup(backup);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  Close();
  auto copy = Store::Open(StoreOptions(), backup);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto doc = (*copy)->ReadDocument(r.first_position, 0);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->bytes, kLetter);
}

TEST_F(DocumentStoreTest, AStoreWrittenBeforeDocumentsOpensAndTakesThem) {
  MustAppend("case/D1/1", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-1", "{}")});
  Close();
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    ASSERT_TRUE(raw->db()->DropColumnFamily(raw->cf("documents")).ok());
  }
  Open();
  auto r = MustAppend("case/D1/1", ExpectedVersion::Any(), {WithDocument("P-1", kLetter)});
  EXPECT_EQ(store_->ReadDocument(r.first_position, 0)->bytes, kLetter);
}

TEST_F(DocumentStoreTest, NineDocumentsOnOneEventAreRefused) {
  NewEvent e = WithDocument("P-1", "a");
  for (int i = 0; i < 8; ++i) e.documents.push_back(DocumentBody{"P-1", "b"});
  auto r = store_->Append("case/D1/1", ExpectedVersion::Any(), {e});
  EXPECT_TRUE(r.status().code() == Status::Code::kTooLarge) << r.status().ToString();
  EXPECT_EQ(Info().last_position, 0u);
}

// `hearth document get` fails loudly on a stored body that was changed: exit
// code 3 (Corruption, naming the position), and no output file.
TEST_F(DocumentStoreTest, DocumentGetFailsLoudlyOnACorruptedBody) {
  Close();
  auto run = [&](const std::string& args) {
    std::string cmd = std::string(HEARTH_CLI) + " " + args + " --data " + path_ + " --key-file " + key_ + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return std::make_pair(-1, out);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int status = ::pclose(p);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  std::string enquiry = dir_.sub("enquiry.jsonl");
  std::ofstream(enquiry) << R"({"type":"ContactRecorded","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
                            R"("facts":{"contactedOn":"2019-03-01","district":"D1","channel":"phone",)"
                            R"("referrerType":"self","purpose":"enquiry"},"personal":[{"subject":"P-1","role":"client",)"
                            R"("details":{"givenName":"Testina","familyName":"Quillfeather"}}]})"
                         << "\n";
  auto appended = run("append --stream case/D1/1 < " + enquiry);
  ASSERT_EQ(appended.first, 0) << appended.second;
  std::string letter = dir_.sub("letter.txt");
  std::ofstream(letter) << kLetter;
  auto attached = run("attach --case case/D1/1 --subject P-1 --kind letter --on 2019-03-05 --file " + letter);
  ASSERT_EQ(attached.first, 0) << attached.second;
  std::string out = dir_.sub("out.txt");
  auto good = run("document get --case case/D1/1 --event 2 --out " + out);
  ASSERT_EQ(good.first, 0) << good.second;
  fs::remove(out);
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    std::string value = raw->Get("documents", DocKey(2, 0));
    ASSERT_FALSE(value.empty());
    value[value.size() - 20] ^= 0x40;
    raw->Put("documents", DocKey(2, 0), value);
  }
  auto bad = run("document get --case case/D1/1 --event 2 --out " + out);
  EXPECT_EQ(bad.first, 3) << bad.second;
  EXPECT_NE(bad.second.find("Corruption"), std::string::npos) << bad.second;
  EXPECT_NE(bad.second.find("position 2"), std::string::npos) << bad.second;
  EXPECT_FALSE(fs::exists(out)) << "a corrupted body was written out";
}

}  // namespace
}  // namespace hearth
