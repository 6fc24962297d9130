// A restore cannot bring back the erased (docs/operations.md, "Restoring"):
// every erasure is also written to the erasure ledger beside the store, and
// `hearth restore` re-applies the ledger to the backup before the store is in
// place. Bad input (another key, a ledger that fails its signatures, a ledger
// of another store, a --data that is not empty) is one clear error, and
// nothing is created or changed.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "integration_util.h"
#include "log/erasure_ledger.h"
#include "scan_util.h"

extern char** environ;

namespace hearth {
namespace {

namespace fs = std::filesystem;
using testing::StoreFixture;
using namespace testing::scan;  // NOLINT: the scan helpers

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

struct Output {
  int code = -1;
  std::string out, err;
};

// Runs the `hearth` binary with no HEARTH_* variable in its environment.
Output Hearth(const std::string& dir, std::vector<std::string> args) {
  std::string out_path = dir + "/cli.out", err_path = dir + "/cli.err";
  args.insert(args.begin(), HEARTH_CLI);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("HEARTH_", 0) != 0) env_s.push_back(*e);
  }
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  Output o;
  if (rc != 0) return o;
  int status = 0;
  waitpid(pid, &status, 0);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.out = Slurp(out_path);
  o.err = Slurp(err_path);
  return o;
}

// Every file under `dir` with its bytes: "nothing changed" compares two.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[e.path().string()] = Slurp(e.path().string());
  }
  return out;
}

class RestoreTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    backup_ = dir_.sub("backup");
    ledger_ = log::DefaultErasureLedgerPath(path_);
    for (int i = 0; i < 10; ++i) {
      MustAppend("case-z", ExpectedVersion::Any(), {EventAbout(kZebedee, "Visit")});
      MustAppend("case-p", ExpectedVersion::Any(), {EventAbout(kPhilomena, "Visit")});
    }
    auto at = store_->Backup(backup_);
    ASSERT_TRUE(at.ok()) << at.status().ToString();
    backup_position_ = *at;
    // After the backup: more work, then Zebedee is erased.
    MustAppend("case-p", ExpectedVersion::Any(), {EventAbout(kPhilomena, "Review")});
    auto erased = store_->EraseSubject(kZebedee.subject, Actor{"u-9", "controller", "test"}, "art17");
    ASSERT_TRUE(erased.ok()) << erased.status().ToString();
    erasure_position_ = erased->first_position;
    pk_ = *store_->CheckpointPublicKey();
    Close();
  }

  // The damaged store moved aside, as the runbook says.
  void MoveStoreAside() { fs::rename(path_, path_ + ".damaged"); }

  Output Restore(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"restore", "--from", backup_, "--data", path_, "--key-file",
                                     key_};
    args.insert(args.end(), extra.begin(), extra.end());
    return Hearth(dir_.path(), args);
  }

  // True when stderr is one line "hearth: ..." holding `needle`.
  static ::testing::AssertionResult OneLineError(const Output& o, int code,
                                                 const std::string& needle) {
    if (o.code != code) {
      return ::testing::AssertionFailure() << "exit " << o.code << " (wanted " << code
                                           << "): " << o.err;
    }
    if (o.err.rfind("hearth: ", 0) != 0 || std::count(o.err.begin(), o.err.end(), '\n') != 1) {
      return ::testing::AssertionFailure() << "not one line: " << o.err;
    }
    if (o.err.find(needle) == std::string::npos) {
      return ::testing::AssertionFailure() << "no '" << needle << "' in " << o.err;
    }
    return ::testing::AssertionSuccess();
  }

  // A failed restore made no store, left no staging copy, and changed
  // neither the backup nor the ledger.
  void ExpectNothingChanged(const std::map<std::string, std::string>& backup_before,
                            const std::string& ledger_before) {
    EXPECT_FALSE(fs::exists(path_)) << "a store was made at --data";
    EXPECT_FALSE(fs::exists(path_ + ".restoring")) << "the staging copy was left behind";
    EXPECT_FALSE(fs::exists(path_ + ".restoring.erasures")) << "the staging ledger was left behind";
    EXPECT_EQ(Snapshot(backup_), backup_before) << "the backup changed";
    EXPECT_EQ(Slurp(ledger_), ledger_before) << "the ledger changed";
  }

  std::string backup_;
  std::string ledger_;
  uint64_t backup_position_ = 0;
  uint64_t erasure_position_ = 0;
  std::array<uint8_t, 32> pk_{};
};

TEST_F(RestoreTest, EveryErasureIsWrittenToTheSignedLedgerBesideTheStore) {
  EXPECT_EQ(fs::path(ledger_).parent_path(), fs::path(path_).parent_path());
  auto ledger = log::ReadErasureLedger(ledger_, pk_);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ASSERT_EQ(ledger->entries.size(), 1u);
  EXPECT_EQ(ledger->entries[0].subject, kZebedee.subject);
  EXPECT_EQ(ledger->entries[0].position, erasure_position_);
  // It names the subject and the position, never what the store held.
  std::vector<FileBytes> files = {{"ledger", Slurp(ledger_), Lower(Slurp(ledger_))}};
  for (const Needle& n : NeedlesFor(kZebedee)) EXPECT_TRUE(Hits(files, n).empty()) << n.what;
  // The backup does not hold the ledger: it is outside the store directory.
  for (const auto& [name, bytes] : Snapshot(backup_)) {
    EXPECT_EQ(bytes.find("hearth-erasure-ledger"), std::string::npos) << name;
  }
}

TEST_F(RestoreTest, RestoreReappliesErasuresMadeAfterTheBackup) {
  // Control: the backup still holds Zebedee's wrapped data key and reads.
  SubjectKeyBytes zebedee = ReadSubjectKey(backup_, key_, kZebedee.subject);
  SubjectKeyBytes philomena = ReadSubjectKey(backup_, key_, kPhilomena.subject);
  ASSERT_FALSE(zebedee.wrapped.empty());
  MoveStoreAside();

  Output o = Restore();
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("1 after the backup; re-applied 1"), std::string::npos) << o.out;
  EXPECT_FALSE(fs::exists(path_ + ".restoring"));

  // No file of the restored store holds the erased person's key or details;
  // the other person's key is still there (the scan reads the key files).
  auto files = ReadEveryFile(path_);
  files.push_back(LogicalContents(path_));
  for (const Needle& n : {Needle{"wrapped data key", zebedee.wrapped, false},
                          Needle{"data key", zebedee.plain, false}}) {
    EXPECT_TRUE(Hits(files, n).empty()) << n.what << " of the erased person is in the restored store";
  }
  for (const Needle& n : NeedlesFor(kZebedee)) EXPECT_TRUE(Hits(files, n).empty()) << n.what;
  EXPECT_FALSE(Hits(files, {"other wrapped key", philomena.wrapped, false}).empty());

  // Reads see Zebedee erased, Philomena as she was at the backup; nobody is
  // found by Zebedee's details.
  Open();
  auto z = store_->ReadStream("case-z", 1, Direction::kForward, 100);
  ASSERT_TRUE(z.ok()) << z.status().ToString();
  ASSERT_EQ(z->size(), 10u);
  for (const auto& e : *z) EXPECT_TRUE(e.personal.at(0).erased);
  auto p = store_->ReadStream("case-p", 1, Direction::kForward, 100);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 10u);
  for (const auto& e : *p) EXPECT_EQ(e.personal.at(0).data, PersonalJson(kPhilomena));
  auto found = store_->FindSubjects({"nhs", "943 476 5919"});
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  Close();

  // The verifier passes on the restored store.
  Output v = Hearth(dir_.path(), {"keys", "export-public", "--data", path_, "--key-file", key_,
                                  "--out", dir_.sub("pub.hex")});
  ASSERT_EQ(v.code, 0) << v.err;
  v = Hearth(dir_.path(), {"verify", "--data", path_, "--public-key", dir_.sub("pub.hex")});
  EXPECT_EQ(v.code, 0) << v.out << v.err;

  // A second restore from the same backup (the restored store kept the same
  // ledger) erases Zebedee again.
  fs::rename(path_, dir_.sub("restored-once"));
  o = Restore();
  ASSERT_EQ(o.code, 0) << o.err;
  Open();
  z = store_->ReadStream("case-z", 1, Direction::kForward, 100);
  ASSERT_TRUE(z.ok());
  for (const auto& e : *z) EXPECT_TRUE(e.personal.at(0).erased);
}

// Documents (docs/format.md "documents") travel with a backup: `hearth
// restore` brings a store back whose document reads back, while the erased
// person's document stays unreadable.
TEST_F(RestoreTest, ARestoredStoreReturnsItsDocuments) {
  Open();
  NewEvent letter = EventAbout(kPhilomena, "DocumentAttached");
  letter.documents.push_back(DocumentBody{kPhilomena.subject, "Dear Ms Gristlethorpe, your ramp is approved."});
  auto kept = MustAppend("case-p", ExpectedVersion::Any(), {letter});
  std::string backup = dir_.sub("backup-with-document");
  ASSERT_TRUE(store_->Backup(backup).ok());
  Close();
  MoveStoreAside();
  Output o = Hearth(dir_.path(), {"restore", "--from", backup, "--data", path_, "--key-file", key_});
  ASSERT_EQ(o.code, 0) << o.err;
  Open();
  auto doc = store_->ReadDocument(kept.first_position, 0);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->bytes, "Dear Ms Gristlethorpe, your ramp is approved.");
  EXPECT_EQ(doc->subject, kPhilomena.subject);
}

TEST_F(RestoreTest, AnErasureCutShortBeforeItsLedgerWriteIsWrittenOnTheNextOpen) {
  // Philomena's erasure is committed; the process is killed before the ledger
  // write (hearth_key_crash dies right after the commit).
  ASSERT_TRUE(CrashAfterKeyCommit(path_, key_, "erase", kPhilomena.subject));
  auto before = log::ReadErasureLedger(ledger_, pk_);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->entries.size(), 1u) << "the ledger was written before the kill";
  Open();
  Close();
  auto after = log::ReadErasureLedger(ledger_, pk_);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  ASSERT_EQ(after->entries.size(), 2u);
  EXPECT_EQ(after->entries[1].subject, kPhilomena.subject);
}

TEST_F(RestoreTest, ABackupOpenedWithAnotherKeyIsRefusedAndNothingIsWritten) {
  MoveStoreAside();
  auto backup_before = Snapshot(backup_);
  std::string ledger_before = Slurp(ledger_);
  std::string other = testing::HexKeyFile(dir_.sub("other.key"));
  Output o = Hearth(dir_.path(), {"restore", "--from", backup_, "--data", path_, "--key-file", other});
  EXPECT_TRUE(OneLineError(o, 1, "wrong key"));
  ExpectNothingChanged(backup_before, ledger_before);
}

TEST_F(RestoreTest, ALedgerWhoseSignatureFailsIsRefusedAndNothingIsWritten) {
  MoveStoreAside();
  std::string ledger = Slurp(ledger_);
  // Name another subject in the entry: the signature no longer covers it.
  size_t at = ledger.find(" " + kZebedee.subject + " ");
  ASSERT_NE(at, std::string::npos);
  ledger.replace(at + 1, kZebedee.subject.size(), "P-999");
  Spit(ledger_, ledger);
  auto backup_before = Snapshot(backup_);
  Output o = Restore();
  EXPECT_TRUE(OneLineError(o, 3, "signature fails"));
  ExpectNothingChanged(backup_before, ledger);
}

TEST_F(RestoreTest, ALedgerWithAnEntryRemovedIsRefused) {
  ASSERT_TRUE(CrashAfterKeyCommit(path_, key_, "erase", kPhilomena.subject));
  Open();  // writes Philomena's entry
  Close();
  MoveStoreAside();
  std::string ledger = Slurp(ledger_);
  size_t first = ledger.find('\n') + 1;
  size_t second = ledger.find('\n', first) + 1;
  ledger.erase(first, second - first);  // Zebedee's entry goes
  Spit(ledger_, ledger);
  auto backup_before = Snapshot(backup_);
  EXPECT_TRUE(OneLineError(Restore(), 3, "erasure ledger"));
  ExpectNothingChanged(backup_before, ledger);
}

TEST_F(RestoreTest, AnotherStoresLedgerIsRefused) {
  MoveStoreAside();
  // A second store with its own erasure and ledger.
  std::string other_path = dir_.sub("other");
  {
    Options options = testing::TestOptions(key_);
    options.create_if_missing = true;
    auto other = Store::Open(options, other_path);
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    ASSERT_TRUE((*other)->Append("case-z", ExpectedVersion::Any(), {EventAbout(kZebedee, "Visit")}).ok());
    ASSERT_TRUE((*other)->EraseSubject(kZebedee.subject, Actor{"u", "controller", "t"}, "art17").ok());
  }
  std::string other_ledger = log::DefaultErasureLedgerPath(other_path);
  auto backup_before = Snapshot(backup_);
  std::string ledger_before = Slurp(other_ledger);
  Output o = Restore({"--ledger", other_ledger});
  EXPECT_TRUE(OneLineError(o, 3, "another store"));
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_FALSE(fs::exists(path_ + ".restoring"));
  EXPECT_EQ(Snapshot(backup_), backup_before);
  EXPECT_EQ(Slurp(other_ledger), ledger_before);
}

TEST_F(RestoreTest, RestoreOverAnExistingStoreOrWithoutALedgerIsRefused) {
  auto store_before = Snapshot(path_);
  std::string ledger_before = Slurp(ledger_);
  EXPECT_TRUE(OneLineError(Restore(), 1, "move the damaged store aside"));
  EXPECT_EQ(Snapshot(path_), store_before);
  MoveStoreAside();
  fs::rename(ledger_, ledger_ + ".elsewhere");
  EXPECT_TRUE(OneLineError(Restore(), 1, "no erasure ledger"));
  EXPECT_FALSE(fs::exists(path_));
  // Given explicitly, the copy kept elsewhere works.
  Output o = Restore({"--ledger", ledger_ + ".elsewhere"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(Slurp(ledger_ + ".elsewhere"), ledger_before);
  // The restored store's ledger is beside it again, with the same entries.
  EXPECT_EQ(Slurp(ledger_), ledger_before);
}

}  // namespace
}  // namespace hearth
