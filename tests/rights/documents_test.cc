// Documents kept on a case (issue 17.9; docs/domain.md "Documents"): the
// recorder's rules for DocumentAttached, a body checked against the SHA-256
// its event records before it is returned, the documents as files of the
// subject-access pack, erasure, and `hearth attach` / `hearth document`.
// Synthetic people and letters only.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hearth/rights.h"
#include "hearth/read_model.h"
#include "hearth/scoped_reader.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"

namespace hearth::rights {
namespace {

using Json = nlohmann::json;
using readmodels::testing::D;
namespace fs = std::filesystem;

const std::string kLetter =
    "Dear Testina Quillfeather,\nYour grant application FROBNICATE-4471 is approved.\nYours, the agency\n";

class DocumentsTest : public readmodels::testing::ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
    Record("case/D1/1", {Enquiry("2019-03-01", "P-1", "D1")});
  }

  // A DocumentAttached about `subject` with `body`; the personal section
  // gives `sha` (default: the body's) and a file name.
  NewEvent Doc(const std::string& subject, const std::string& body, std::string kind = "letter",
               std::string sha = "", int64_t size = -1, const char* role = "client") {
    if (sha.empty()) sha = domain::Sha256Hex(body);
    NewEvent e = E(R"({"type":"DocumentAttached","actor":{"user":"S-2","role":"caseworker","plugin":"test"},)"
                   R"("facts":{"attachedOn":"2019-03-05","kind":")" + kind + R"(","sizeBytes":)" +
                   std::to_string(size < 0 ? int64_t(body.size()) : size) +
                   R"(,"mediaType":"plainText","subjectRef":")" + subject + R"("},)"
                   R"("personal":[{"subject":")" + subject + R"(","role":")" + role +
                   R"(","details":{"documentSha256":")" + sha + R"(","documentFileName":"letter.txt"}}]})");
    e.documents.push_back(DocumentBody{subject, body});
    return e;
  }

  uint64_t LastPosition() {
    auto info = store_->Info();
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->last_position : 0;
  }

  void ExpectRefused(std::vector<NewEvent> events, const std::string& rule) {
    uint64_t before = LastPosition();
    auto r = recorder_->Record("case/D1/1", std::move(events));
    ASSERT_FALSE(r.ok()) << "accepted; wanted rule " << rule;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_NE(r.status().message().find("rule " + rule), std::string::npos) << r.status().ToString();
    EXPECT_EQ(LastPosition(), before) << "a refused document wrote something";
  }

  Result<std::vector<domain::CaseDocument>> Docs() { return domain::ListDocuments(*store_, *codec_, "case/D1/1"); }
};

TEST_F(DocumentsTest, AnAttachedDocumentIsListedAndReadBackCheckedAgainstItsEvent) {
  Record("case/D1/1", {Doc("P-1", kLetter)});
  auto docs = Docs();
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  const auto& d = docs->front();
  EXPECT_EQ(d.kind, "letter");
  EXPECT_EQ(d.media_type, "plainText");
  EXPECT_EQ(d.size_bytes, kLetter.size());
  EXPECT_EQ(d.subject, "P-1");
  EXPECT_EQ(d.sha256, domain::Sha256Hex(kLetter));
  EXPECT_EQ(d.file_name, "letter.txt");
  auto body = domain::ReadDocumentBody(*store_, d);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, kLetter);
  // The facts hold no hash and no name: they are under the store key only.
  auto events = store_->ReadAllFacts(d.position, 1);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->front().facts.find(domain::Sha256Hex(kLetter)), std::string::npos);
  EXPECT_EQ(events->front().facts.find("letter.txt"), std::string::npos);
}

TEST_F(DocumentsTest, EachDocumentRuleRefusesAndWritesNothing) {
  ExpectRefused({Doc("P-1", kLetter, "unspecified")}, "document-kind");
  ExpectRefused({Doc("P-1", kLetter, "letter", "", int64_t(domain::kMaxDocumentBytes) + 1)}, "document-size");
  ExpectRefused({Doc("P-1", kLetter, "letter", "", int64_t(kLetter.size()) + 1)}, "document-body");
  ExpectRefused({Doc("P-1", kLetter, "letter", domain::Sha256Hex("another letter"))}, "document-body");
  // A person who is not on the case.
  ExpectRefused({Doc("P-77", kLetter, "letter", "", -1, "relative")}, "document-subject");
  // No body: the JSON form (hearth append) cannot carry one.
  NewEvent bare = Doc("P-1", kLetter);
  bare.documents.clear();
  ExpectRefused({bare}, "document-body");
  // A body on another event type.
  NewEvent note = Ev("CaseNoteAdded", R"("writtenOn":"2019-03-05","authorRef":"S-2")");
  note.documents.push_back(DocumentBody{"P-1", kLetter});
  ExpectRefused({note}, "document-body");
  // The body is sealed for another subject than subjectRef.
  NewEvent swapped = Doc("P-1", kLetter);
  swapped.documents[0].subject = "S-2";
  ExpectRefused({swapped}, "document-body");
  EXPECT_TRUE(Docs()->empty());
}

TEST_F(DocumentsTest, ADocumentIsAcceptedOnAClosedCase) {
  Record("case/D1/1", {Ev("CaseClosed", R"("closedOn":"2019-03-02","reason":"adviceOnly")")});
  Record("case/D1/1", {Doc("P-1", kLetter)});
  EXPECT_EQ(Docs()->size(), 1u);
}

// A writer that bypassed the recorder (the store takes opaque events) put a
// body under an event whose hash is another's: the body is never returned.
TEST_F(DocumentsTest, ABodyThatDoesNotMatchItsEventsHashIsNeverReturned) {
  NewEvent e = Doc("P-1", kLetter);
  e.documents[0].bytes = "Dear Testina, a forged letter of the same length as the real one, FROBNICATE-9999!!";
  auto r = store_->Append("case/D1/1", ExpectedVersion::Any(), {e});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto docs = Docs();
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  auto body = domain::ReadDocumentBody(*store_, docs->front());
  ASSERT_FALSE(body.ok()) << "a body that does not match its event was returned";
  EXPECT_TRUE(body.status().IsCorruption()) << body.status().ToString();
  EXPECT_NE(body.status().message().find(domain::Sha256Hex(kLetter)), std::string::npos) << body.status().ToString();
  // The subject-access pack fails loudly too rather than hand it over.
  Rights rights(store_.get(), codec_.get(), {});
  ASSERT_TRUE(rights.SetProcessingRecord(DefaultProcessingRecordJson(), Actor{"S-9", "controller", "test"}).ok());
  auto pack = rights.BuildPack("P-1", {});
  EXPECT_FALSE(pack.ok());
}

TEST_F(DocumentsTest, TheSubjectAccessPackHoldsTheDocumentsAboutThePersonAsFiles) {
  // A carer on the case, with a document of their own.
  Record("case/D1/1", {E(R"({"type":"PersonRegistered","actor":{"user":"S-2","role":"caseworker","plugin":"test"},)"
                         R"("facts":{"registeredOn":"2019-03-02","ageBand":"45-54"},"personal":[{"subject":"P-2","role":"carer",)"
                         R"("details":{"givenName":"Carolus","familyName":"Wimbleby"}}]})")});
  Record("case/D1/1", {Doc("P-1", kLetter), Doc("P-2", "the carer's own letter", "letter", "", -1, "carer")});
  Rights rights(store_.get(), codec_.get(), {});
  ASSERT_TRUE(rights.SetProcessingRecord(DefaultProcessingRecordJson(), Actor{"S-9", "controller", "test"}).ok());
  auto pack = rights.BuildPack("P-1", {});
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  ASSERT_EQ(pack->files.size(), 1u) << "only the documents about the person asking";
  EXPECT_EQ(pack->files[0].bytes, kLetter);
  EXPECT_EQ(pack->files[0].path.rfind("documents/", 0), 0u) << pack->files[0].path;
  EXPECT_EQ(pack->files[0].path.substr(pack->files[0].path.size() - 11), "-letter.txt");
  Json j = Json::parse(pack->json);
  ASSERT_EQ(j["documents"].size(), 1u);
  EXPECT_EQ(j["documents"][0]["sha256"], domain::Sha256Hex(kLetter));
  EXPECT_EQ(j["documents"][0]["file"], pack->files[0].path);
  EXPECT_EQ(j["documents"][0]["kind"], "letter");
  EXPECT_NE(pack->html.find(pack->files[0].path), std::string::npos);
  EXPECT_EQ(pack->json.find("the carer's own letter"), std::string::npos);
}

TEST_F(DocumentsTest, AfterErasureTheDocumentCannotBeReadByAnyone) {
  Record("case/D1/1", {Doc("P-1", kLetter)});
  auto before = Docs();
  ASSERT_TRUE(before.ok());
  uint64_t position = before->front().position;
  auto erased = store_->EraseSubject("P-1", Actor{"S-9", "controller", "test"}, "art17");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  auto docs = Docs();
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_TRUE(docs->front().erased);
  EXPECT_TRUE(docs->front().sha256.empty());
  EXPECT_EQ(domain::ReadDocumentBody(*store_, docs->front()).status().code(), Status::Code::kErased);
  // Not through the store either, even given the hash from before.
  EXPECT_EQ(domain::ReadDocumentBody(*store_, before->front()).status().code(), Status::Code::kErased);
  EXPECT_EQ(store_->ReadDocument(position, 0).status().code(), Status::Code::kErased);
}

// Over the protocol: a Session's append (the server's and the plugin host's
// path) takes a document with the scopes every append needs (the event type,
// the case's district) and the recorder's rules; a body on another stream is
// refused.
TEST_F(DocumentsTest, ASessionAppendsADocumentWithTheAppendPathsScopes) {
  Scopes scopes;
  scopes.append_types = {"DocumentAttached"};
  scopes.read_districts = {"D2"};
  Session elsewhere(store_.get(), Principal{"console", "S-2", "caseworker"}, scopes, [](const std::string&) {});
  uint64_t before = LastPosition();
  auto refused = elsewhere.Append("case/D1/1", ExpectedVersion::Any(), {Doc("P-1", kLetter)});
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  scopes.read_districts = {"D1"};
  scopes.append_types = {"CaseNoteAdded"};
  Session notes_only(store_.get(), Principal{"console", "S-2", "caseworker"}, scopes, [](const std::string&) {});
  refused = notes_only.Append("case/D1/1", ExpectedVersion::Any(), {Doc("P-1", kLetter)});
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  scopes.append_types = {"*"};
  scopes.read_streams = {"*"};
  Session worker(store_.get(), Principal{"console", "S-2", "caseworker"}, scopes, [](const std::string&) {});
  auto other_stream = worker.Append("notes/1", ExpectedVersion::Any(), {Doc("P-1", kLetter)});
  EXPECT_NE(other_stream.status().message().find("rule document-body"), std::string::npos)
      << other_stream.status().ToString();
  auto bad = worker.Append("case/D1/1", ExpectedVersion::Any(), {Doc("P-1", kLetter, "letter", domain::Sha256Hex("x"))});
  EXPECT_NE(bad.status().message().find("rule document-body"), std::string::npos) << bad.status().ToString();
  EXPECT_EQ(LastPosition(), before) << "a refused append wrote something";
  auto ok = worker.Append("case/D1/1", ExpectedVersion::Any(), {Doc("P-1", kLetter)});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto docs = Docs();
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ(*domain::ReadDocumentBody(*store_, docs->front()), kLetter);
}

// Over the protocol, reading: the `document` read model answers the body
// (base64) checked against its event, only to a session with read_personal
// whose districts reach the case, and writes the read to the access log.
TEST_F(DocumentsTest, TheDocumentReadModelNeedsReadPersonalAndTheCasesDistrict) {
  Record("case/D1/1", {Doc("P-1", kLetter)});
  auto docs = Docs();
  ASSERT_EQ(docs->size(), 1u);
  auto model = MakeDocumentModel(codec_.get());
  const std::string params = R"({"case":"case/D1/1","event":2})";
  Scopes scopes;
  scopes.read_districts = {"D1"};
  {
    Session facts_only(store_.get(), Principal{"console", "S-2", "caseworker"}, scopes, [](const std::string&) {});
    ScopedReader reader(facts_only, Reach::kScoped, "document");
    EXPECT_EQ(model->Query(reader, params).status().code(), Status::Code::kPermissionDenied);
  }
  scopes.read_personal = true;
  scopes.read_districts = {"D2"};
  {
    Session elsewhere(store_.get(), Principal{"console", "S-2", "caseworker"}, scopes, [](const std::string&) {});
    ScopedReader reader(elsewhere, Reach::kScoped, "document");
    EXPECT_EQ(model->Query(reader, params).status().code(), Status::Code::kPermissionDenied);
  }
  auto before = store_->AccessLog("P-1");
  ASSERT_TRUE(before.ok());
  scopes.read_districts = {"D1"};
  Session worker(store_.get(), Principal{"console", "S-2", "caseworker"}, scopes, [](const std::string&) {});
  ScopedReader reader(worker, Reach::kScoped, "document");
  auto answer = model->Query(reader, params);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  Json j = Json::parse(*answer);
  EXPECT_EQ(j["sha256"], domain::Sha256Hex(kLetter));
  std::string b64 = j["body"];
  std::string decoded(b64.size(), '\0');
  size_t len = 0;
  ASSERT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), b64.data(), b64.size(),
                              nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL), 0);
  decoded.resize(len);
  EXPECT_EQ(decoded, kLetter);
  auto after = store_->AccessLog("P-1");
  ASSERT_TRUE(after.ok());
  bool logged = false;
  for (const auto& a : *after) logged = logged || (a.purpose == "document" && a.first_position == docs->front().position);
  EXPECT_TRUE(logged) << "the document read is not in the access log";
  EXPECT_TRUE(model->Query(reader, R"({"case":"case/D1/1","event":1})").status().IsNotFound());
}

// ---------------------------------------------------------------- the CLI

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

CliRun Hearth(const std::string& args) {
  CliRun r;
  std::string cmd = std::string(HEARTH_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class DocumentsCliTest : public DocumentsTest {
 protected:
  void SetUp() override {
    DocumentsTest::SetUp();
    Rights rights(store_.get(), codec_.get(), {});
    ASSERT_TRUE(rights.SetProcessingRecord(DefaultProcessingRecordJson(), Actor{"S-9", "controller", "test"}).ok());
    CatchUp();
    recorder_.reset();
    store_.reset();
    store_args_ = "--data " + dir_.sub("store") + " --key-file " + key_;
    letter_ = dir_.sub("decision letter.txt");
    std::ofstream(letter_, std::ios::binary) << kLetter;
  }
  uint64_t CliLastPosition() {
    CliRun info = Hearth("info --json " + store_args_);
    EXPECT_EQ(info.code, 0) << info.out;
    auto j = Json::parse(info.out, nullptr, false);
    return j.is_discarded() ? 0 : j.value("lastPosition", uint64_t(0));
  }
  std::string store_args_;
  std::string letter_;
};

TEST_F(DocumentsCliTest, AttachListGetSarAndEraseFromTheCommandLine) {
  CliRun attached = Hearth("attach " + store_args_ + " --case case/D1/1 --subject P-1 --kind decisionLetter --file '" +
                           letter_ + "' --on 2019-03-05");
  ASSERT_EQ(attached.code, 0) << attached.out;
  Json a = Json::parse(attached.out);
  EXPECT_EQ(a["sha256"], domain::Sha256Hex(kLetter));
  uint64_t event = a["event"];

  CliRun list = Hearth("document list " + store_args_ + " --case case/D1/1");
  ASSERT_EQ(list.code, 0) << list.out;
  Json l = Json::parse(list.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["fileName"], "decision letter.txt");
  EXPECT_EQ(l[0]["mediaType"], "plainText");
  EXPECT_EQ(l[0]["kind"], "decisionLetter");

  std::string out = dir_.sub("out.txt");
  CliRun get = Hearth("document get " + store_args_ + " --case case/D1/1 --event " + std::to_string(event) +
                      " --out " + out);
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_EQ(Slurp(out), kLetter);
  std::string by_hash = dir_.sub("by-hash.txt");
  CliRun get2 = Hearth("document get " + store_args_ + " --case case/D1/1 --sha256 " + domain::Sha256Hex(kLetter) +
                       " --out " + by_hash);
  ASSERT_EQ(get2.code, 0) << get2.out;
  EXPECT_EQ(Slurp(by_hash), kLetter);
  // Not a document event: refused, naming it.
  CliRun not_doc = Hearth("document get " + store_args_ + " --case case/D1/1 --event 1 --out " + dir_.sub("x"));
  EXPECT_EQ(not_doc.code, 1);
  EXPECT_NE(not_doc.out.find("is not a DocumentAttached"), std::string::npos) << not_doc.out;

  // The subject-access pack writes it beside sar.json, listed there.
  std::string pack = dir_.sub("pack");
  CliRun sar = Hearth("sar " + store_args_ + " --user S-9 --subject P-1 --out " + pack);
  ASSERT_EQ(sar.code, 0) << sar.out;
  Json index = Json::parse(Slurp(pack + "/sar.json"));
  ASSERT_EQ(index["documents"].size(), 1u);
  std::string file = index["documents"][0]["file"];
  EXPECT_EQ(Slurp(pack + "/" + file), kLetter);
  EXPECT_EQ(index["documents"][0]["sha256"], domain::Sha256Hex(kLetter));

  // Erased: nobody can read it, and the error says so.
  CliRun erase = Hearth("erase " + store_args_ + " --subject P-1 --reason art17-request");
  ASSERT_EQ(erase.code, 0) << erase.out;
  CliRun gone = Hearth("document get " + store_args_ + " --case case/D1/1 --event " + std::to_string(event) +
                       " --out " + dir_.sub("gone.txt"));
  EXPECT_EQ(gone.code, 1) << gone.out;
  EXPECT_NE(gone.out.find("Erased"), std::string::npos) << gone.out;
  EXPECT_NE(gone.out.find("erased"), std::string::npos) << gone.out;
  EXPECT_FALSE(fs::exists(dir_.sub("gone.txt")));
}

// The JSON form carries a body as "documents" (so `hearth append` and the
// plugin ABI's append, which read the same form, can attach one); without
// it the recorder refuses the event.
TEST_F(DocumentsCliTest, AppendCarriesADocumentBodyInTheJsonForm) {
  std::string b64(sodium_base64_ENCODED_LEN(kLetter.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(kLetter.data()), kLetter.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.size() - 1);
  auto append = [&](const std::string& documents) {
    std::string line = R"({"type":"DocumentAttached","actor":{"user":"S-2","role":"caseworker","plugin":"cli"},)"
                       R"("facts":{"attachedOn":"2019-03-05","kind":"letter","sizeBytes":)" +
                       std::to_string(kLetter.size()) + R"(,"mediaType":"plainText","subjectRef":"P-1"},)"
                       R"("personal":[{"subject":"P-1","role":"client","details":{"documentSha256":")" +
                       domain::Sha256Hex(kLetter) + R"(","documentFileName":"letter.txt"}}])" + documents + "}";
    std::ofstream(dir_.sub("event.jsonl")) << line << "\n";
    return Hearth("append " + store_args_ + " --stream case/D1/1 < " + dir_.sub("event.jsonl"));
  };
  uint64_t before = CliLastPosition();
  CliRun bare = append("");
  EXPECT_EQ(bare.code, 1) << bare.out;
  EXPECT_NE(bare.out.find("rule document-body"), std::string::npos) << bare.out;
  CliRun bad = append(R"(,"documents":[{"subject":"P-1","bodyBase64":"not base64!"}])");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("documents[0].bodyBase64"), std::string::npos) << bad.out;
  EXPECT_EQ(CliLastPosition(), before);
  CliRun ok = append(R"(,"documents":[{"subject":"P-1","bodyBase64":")" + b64 + R"("}])");
  ASSERT_EQ(ok.code, 0) << ok.out;
  std::string out = dir_.sub("appended.txt");
  CliRun get = Hearth("document get " + store_args_ + " --case case/D1/1 --sha256 " + domain::Sha256Hex(kLetter) +
                      " --out " + out);
  ASSERT_EQ(get.code, 0) << get.out;
  EXPECT_EQ(Slurp(out), kLetter);
}

TEST_F(DocumentsCliTest, AnOverSizeFileIsRefusedNamingTheLimitAndNothingIsWritten) {
  std::string big = dir_.sub("big.pdf");
  { std::ofstream(big, std::ios::binary) << "x"; }
  fs::resize_file(big, domain::kMaxDocumentBytes + 1);  // sparse: nothing to write
  uint64_t before = CliLastPosition();
  CliRun r = Hearth("attach " + store_args_ + " --case case/D1/1 --subject P-1 --kind quote --file " + big);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("the limit is 16777216 bytes"), std::string::npos) << r.out;
  EXPECT_EQ(CliLastPosition(), before);
  // An unknown kind is named; a person not on the case is refused by rule.
  CliRun kind = Hearth("attach " + store_args_ + " --case case/D1/1 --subject P-1 --kind poem --file '" + letter_ + "'");
  EXPECT_EQ(kind.code, 1) << kind.out;
  EXPECT_NE(kind.out.find("facts.kind"), std::string::npos) << kind.out;
  CliRun stranger = Hearth("attach " + store_args_ + " --case case/D1/1 --subject P-9 --kind letter --file '" + letter_ + "'");
  EXPECT_EQ(stranger.code, 1) << stranger.out;
  EXPECT_NE(stranger.out.find("rule document-subject"), std::string::npos) << stranger.out;
  EXPECT_EQ(CliLastPosition(), before);
}

}  // namespace
}  // namespace hearth::rights
