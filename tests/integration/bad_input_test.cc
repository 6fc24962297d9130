// Bad input and faults of the event log (issue 2): each gets a clear status
// and changes nothing.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "integration_util.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;
using testing::DumpStore;
using testing::MakeEvent;
using testing::HexKeyFile;
using testing::RawDb;
using testing::StoreFixture;
using testing::TempDir;
using testing::TestOptions;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Names and contents of every file under `dir`.
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    out[entry.path().string()] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  return out;
}

class BadInputTest : public StoreFixture {};

TEST_F(BadInputTest, UnknownStreamOrSubjectIsNotFound) {
  MustAppend("case-1", ExpectedVersion::NoStream(), {MakeEvent("E", "P-1", "x")});
  auto read = store_->ReadStream("case-unknown", 1, Direction::kForward, 10);
  EXPECT_TRUE(read.status().IsNotFound()) << read.status().ToString();
  EXPECT_TRUE(Contains(read.status().message(), "case-unknown")) << read.status().message();
  auto back = store_->ReadStream("case-unknown", 0, Direction::kBackward, 10);
  EXPECT_TRUE(back.status().IsNotFound()) << back.status().ToString();
  EXPECT_TRUE(store_->StreamVersion("case-unknown").status().IsNotFound());
  auto subject = store_->ReadSubject("P-unknown", 1, 10);
  EXPECT_TRUE(subject.status().IsNotFound()) << subject.status().ToString();
  // Beyond the end of the log is not an error: there is just nothing yet.
  auto tail = store_->ReadAll(2, 10);
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->empty());
  EXPECT_TRUE(store_->ReadAll(0, 10).status().IsInvalidArgument());
  EXPECT_TRUE(store_->Subscribe(0, [](const RecordedEvent&) { return true; }, nullptr)
                  .status()
                  .IsInvalidArgument());
}

TEST_F(BadInputTest, EmptyBatchIsRefused) {
  auto r = store_->Append("case-1", ExpectedVersion::Any(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_TRUE(Contains(r.status().message(), "empty")) << r.status().message();
  EXPECT_EQ(Info().last_position, 0u);
  EXPECT_EQ(Info().streams, 0u);
  EXPECT_TRUE(store_->StreamVersion("case-1").status().IsNotFound());
}

TEST_F(BadInputTest, MalformedRequestsAreRefused) {
  MustAppend("case-1", ExpectedVersion::NoStream(), {MakeEvent("E")});
  struct Case {
    std::string what;
    std::string stream;
    ExpectedVersion expected;
    NewEvent event;
  };
  NewEvent no_id = MakeEvent("E");
  no_id.id = EventId{};
  std::vector<Case> cases = {
      {"empty stream id", "", ExpectedVersion::Any(), MakeEvent("E")},
      {"stream id with a space", "case 1", ExpectedVersion::Any(), MakeEvent("E")},
      {"stream id with a NUL", std::string("case\0x", 6), ExpectedVersion::Any(), MakeEvent("E")},
      {"stream id too long", std::string(201, 'c'), ExpectedVersion::Any(), MakeEvent("E")},
      {"reserved stream", "$erasure", ExpectedVersion::Any(), MakeEvent("E")},
      {"expected version 0", "case-1", ExpectedVersion::Exact(0), MakeEvent("E")},
      {"event without id", "case-1", ExpectedVersion::Any(), no_id},
      {"type too long", "case-1", ExpectedVersion::Any(), MakeEvent(std::string(129, 't'))},
      {"type with a space", "case-1", ExpectedVersion::Any(), MakeEvent("Contact Recorded")},
  };
  for (const auto& c : cases) {
    auto r = store_->Append(c.stream, c.expected, {c.event});
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << c.what << ": " << r.status().ToString();
  }
  EXPECT_EQ(Info().last_position, 1u);
  EXPECT_EQ(Info().streams, 1u);
}

class SmallLimitTest : public StoreFixture {
 protected:
  Options StoreOptions() override {
    Options o = StoreFixture::StoreOptions();
    o.max_event_bytes = 1000;
    return o;
  }
};

TEST_F(SmallLimitTest, OversizedEventIsTooLargeAndWritesNothing) {
  NewEvent at_limit = MakeEvent("E");
  at_limit.facts.assign(1000, 'f');
  MustAppend("case-1", ExpectedVersion::NoStream(), {at_limit});

  NewEvent facts_over = MakeEvent("E");
  facts_over.facts.assign(1001, 'f');
  // The limit counts facts and personal sections together.
  NewEvent sum_over = MakeEvent("E", "P-1", std::string(600, 'p'));
  sum_over.facts.assign(401, 'f');
  for (const NewEvent& big : {facts_over, sum_over}) {
    auto r = store_->Append("case-1", ExpectedVersion::Any(), {MakeEvent("Small"), big});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kTooLarge) << r.status().ToString();
    EXPECT_TRUE(Contains(r.status().message(), "1000")) << r.status().message();
    EXPECT_EQ(Info().last_position, 1u);
    EXPECT_EQ(Info().subjects, 0u);
    EXPECT_EQ(*store_->StreamVersion("case-1"), 1u);
  }
  // The limit is an option of the open store, not of the files: a store
  // reopened with the default limit takes the bigger event.
  Close();
  Options o = TestOptions(key_);
  auto s = Store::Open(o, path_);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->Append("case-1", ExpectedVersion::Any(), {facts_over}).ok());
}

TEST(OpenTest, ZeroLimitsAreInvalid) {
  TempDir dir;
  Options o = TestOptions(HexKeyFile(dir.sub("root.key")));
  o.max_event_bytes = 0;
  EXPECT_TRUE(Store::Open(o, dir.sub("store")).status().IsInvalidArgument());
  EXPECT_FALSE(fs::exists(dir.sub("store")));
}

TEST(OpenTest, MissingStoreIsNotFoundAndNothingIsCreated) {
  TempDir dir;
  Options o = TestOptions(HexKeyFile(dir.sub("root.key")));
  o.create_if_missing = false;
  auto s = Store::Open(o, dir.sub("nothing-here"));
  EXPECT_TRUE(s.status().IsNotFound()) << s.status().ToString();
  EXPECT_FALSE(fs::exists(dir.sub("nothing-here")));
}

TEST(OpenTest, CreatingWithoutAKeyIsRefusedAndLeavesNothing) {
  TempDir dir;
  Options o;
  o.create_if_missing = true;
  auto s = Store::Open(o, dir.sub("store"));
  EXPECT_TRUE(s.status().IsInvalidArgument()) << s.status().ToString();
  EXPECT_TRUE(!fs::exists(dir.sub("store")) || fs::is_empty(dir.sub("store")));
}

// A directory of other files, a plain file and someone else's RocksDB are not
// hearth stores: NotFound (or InvalidArgument when asked to create there), and
// their files are left exactly as they were.
TEST(OpenTest, PathThatIsNotAHearthStore) {
  TempDir dir;
  std::string key = HexKeyFile(dir.sub("root.key"));
  Options open = TestOptions(key);
  open.create_if_missing = false;
  Options create = TestOptions(key);

  std::string other = dir.sub("other");
  fs::create_directories(other);
  std::ofstream(other + "/notes.txt") << "not a store\n";
  auto before = Snapshot(other);
  auto s = Store::Open(open, other);
  EXPECT_TRUE(s.status().IsNotFound()) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), "not a hearth store")) << s.status().message();
  s = Store::Open(create, other);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.status().message(), "not a hearth store")) << s.status().message();
  EXPECT_EQ(Snapshot(other), before);

  std::string file = dir.sub("plain-file");
  std::ofstream(file) << "hello\n";
  s = Store::Open(open, file);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.status().message(), "not a hearth store")) << s.status().ToString();
  s = Store::Open(create, file);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(fs::is_regular_file(file));

  // A RocksDB database that is not hearth's.
  std::string foreign = dir.sub("foreign-rocksdb");
  {
    rocksdb::Options ro;
    ro.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(ro, foreign, &db).ok());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Put(wo, "their-key", "their-value").ok());
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }
  before = Snapshot(foreign);
  s = Store::Open(open, foreign);
  EXPECT_TRUE(s.status().IsNotFound()) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), "not a hearth store")) << s.status().message();
  s = Store::Open(create, foreign);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.status().message(), "not a hearth store")) << s.status().message();
  EXPECT_EQ(Snapshot(foreign), before);
}

TEST_F(BadInputTest, NewerFormatVersionIsNotSupportedAndChangesNothing) {
  MustAppend("case-1", ExpectedVersion::NoStream(), {MakeEvent("E", "P-1", "x")});
  Close();
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    ASSERT_EQ(raw->Get("default", "format"), std::string("\0\0\0\1", 4));
    raw->Put("default", "format", std::string("\0\0\0\2", 4));
  }
  auto before = DumpStore(path_);
  Options o = TestOptions(key_);
  o.create_if_missing = false;
  auto s = Store::Open(o, path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kNotSupported) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), "version 2")) << s.status().message();
  s = Store::Open(TestOptions(key_), path_);  // create_if_missing changes nothing here
  EXPECT_EQ(s.status().code(), Status::Code::kNotSupported) << s.status().ToString();
  EXPECT_TRUE(DumpStore(path_) == before) << "a refused open changed the store";
  {
    auto raw = RawDb::Open(path_);
    ASSERT_TRUE(raw);
    raw->Put("default", "format", std::string("\0\0\0\1", 4));
  }
  Open();
  EXPECT_EQ(Info().last_position, 1u);
}

TEST_F(BadInputTest, SecondOpenInTheSameProcessIsLocked) {
  auto s = Store::Open(TestOptions(key_), path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kLocked) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), "locked")) << s.status().message();
  // The first handle is unharmed.
  MustAppend("case-1", ExpectedVersion::NoStream(), {MakeEvent("E")});
}

// A helper process holds the store; this one gets Locked until it lets go.
TEST_F(BadInputTest, StoreHeldByAnotherProcessIsLocked) {
  MustAppend("case-1", ExpectedVersion::NoStream(), {MakeEvent("E")});
  Close();
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    ::close(to_child[1]);
    ::close(from_child[0]);
    ::execl(HEARTH_HOLD_STORE, HEARTH_HOLD_STORE, path_.c_str(), key_.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  std::string line;
  char c;
  while (::read(from_child[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  ::close(from_child[0]);
  ASSERT_EQ(line, "ready") << "the helper did not open the store";

  auto s = Store::Open(TestOptions(key_), path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kLocked) << s.status().ToString();
  EXPECT_TRUE(Contains(s.status().message(), "another process")) << s.status().message();
  EXPECT_TRUE(Contains(s.status().message(), path_)) << s.status().message();

  ::close(to_child[1]);  // the helper closes the store and exits
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  Open();
  EXPECT_EQ(Info().last_position, 1u);
}

}  // namespace
}  // namespace hearth
