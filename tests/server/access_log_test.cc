// The access log records what left the server: a page cut to the message
// budget is logged as cut, once per delivered page, and an answer that is not
// sent leaves no record (docs/plugins.md, "The access log").
#include "server_util.h"

#include <atomic>

#include "io_fault_fs.h"
#include "log/store_impl.h"

namespace hearth::testing {
namespace {

constexpr const char* kNorth = "case/north/C-000700";

class AccessLogTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    auto config = Config();
    config.limits.max_message_bytes = 64 * 1024;
    Start(config);
  }
  void Seed(std::vector<NewEvent> events) {
    auto r = store_->Append(kNorth, ExpectedVersion::Any(), events);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::vector<AccessRecord> LogOf(const std::string& subject) {
    auto log = store_->AccessLog(subject);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? *log : std::vector<AccessRecord>{};
  }
};

TEST_F(AccessLogTest, PageCutToTheMessageBudgetIsLoggedAsDeliveredOncePerPage) {
  // Three events of ~25 KB of personal data each: a 64 KiB message holds two.
  const std::string note(25000, 'n');
  Seed({MakeEvent("NoteAdded", "P-71", note), MakeEvent("NoteAdded", "P-71", note),
        MakeEvent("NoteAdded", "P-71", note)});
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto page = client->ReadStream(kNorth, 1, Direction::kForward, 0, "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_TRUE(page->more);
  auto log = LogOf("P-71");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].first_position, 1u);
  EXPECT_EQ(log[0].last_position, 2u);
  EXPECT_EQ(log[0].events, 2u) << "the event cut from the page was logged as read";

  page = client->ReadStream(kNorth, 3, Direction::kForward, 0, "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 1u);
  log = LogOf("P-71");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].first_position, 3u);
  EXPECT_EQ(log[1].events, 1u);
}

TEST_F(AccessLogTest, AnswerTooLargeToSendLeavesNoAccessRecord) {
  Seed({MakeEvent("NoteAdded", "P-72", std::string(70000, 'y'))});
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto page = client->ReadStream(kNorth, 1, Direction::kForward, 0, "first-visit");
  EXPECT_EQ(page.status().code(), Status::Code::kTooLarge) << page.status().ToString();
  auto subject = client->ReadSubject("P-72", 0, 0, "first-visit");
  EXPECT_EQ(subject.status().code(), Status::Code::kTooLarge) << subject.status().ToString();
  EXPECT_TRUE(LogOf("P-72").empty()) << "an answer that was not sent is in the access log";
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(AccessLogTest, RefusedReadLeavesNoAccessRecord) {
  Seed({MakeEvent("NoteAdded", "P-73", "Dee Placeholder")});
  auto limited = Connect("limited", "u-0043", "caseworker");
  ASSERT_TRUE(limited);
  auto page = limited->ReadAll(1, 0, "first-visit");
  EXPECT_FALSE(page.ok());
  EXPECT_TRUE(LogOf("P-73").empty());
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->ReadStream(kNorth, 1, Direction::kForward, 0, "first-visit").ok());
  EXPECT_EQ(LogOf("P-73").size(), 1u);
}

// The server writes the access records of concurrent reads in one synced
// write of its own (docs/operations.md, "Durability"): when that write
// fails, no data of those reads leaves. The faults come from a file system
// RocksDB writes through (tests/crash/io_fault_fs.h).
class AccessLogFaultTest : public ServerFixture {
 protected:
  void SetUp() override {
    pki_ = Pki::Get();
    fs_ = std::make_shared<IoFaultFileSystem>();
    env_ = rocksdb::NewCompositeEnv(fs_);
    Options o = TestOptions(MakeHexKeyFile(dir_.sub("root.key")));
    o.projections = {readmodels::MakeRightsRequestsProjection()};
    auto store = log::StoreImpl::OpenWithEnv(o, dir_.sub("store"), env_.get());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    ASSERT_TRUE(models_.Add(MakeInfoModel()).ok());
    auto r = store_->Append(kNorth, ExpectedVersion::Any(),
                            {MakeEvent("NoteAdded", "P-74", "Dee Placeholder"),
                             MakeEvent("NoteAdded", "P-74", "Dee Placeholder")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Start(Config());
  }
  void TearDown() override {
    fs_->Clear();
    ServerFixture::TearDown();
  }
  std::shared_ptr<IoFaultFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
};

TEST_F(AccessLogFaultTest, AReadWhoseAccessRecordCannotBeSyncedSendsNoData) {
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  fs_->Set(IoFaultFileSystem::Fault::kSyncError);
  auto page = client->ReadStream(kNorth, 1, Direction::kForward, 0, "first-visit");
  ASSERT_FALSE(page.ok()) << "personal data left with its access record unsynced";
  EXPECT_EQ(page.status().code(), Status::Code::kIOError) << page.status().ToString();
  auto subject = client->ReadSubject("P-74", 0, 0, "first-visit");
  EXPECT_FALSE(subject.ok()) << "personal data left with its access record unsynced";
  // The connection stays, and says why; the failure is in the server's log.
  EXPECT_TRUE(client->Ping().ok());
  EXPECT_TRUE(Eventually([&] { return LogContains("read failed"); })) << Log();
}

TEST_F(AccessLogFaultTest, ASubscriptionWhoseAccessRecordCannotBeSyncedEndsWithNoEvents) {
  auto client = Connect("auditor", "u-0044", "auditor");  // read_log: may subscribe
  ASSERT_TRUE(client);
  fs_->Set(IoFaultFileSystem::Fault::kSyncError);
  std::atomic<int> delivered{0};
  std::atomic<bool> ended{false};
  Status why;
  std::mutex mu;
  auto sub = client->Subscribe(
      1, "first-visit",
      [&](const RecordedEvent&) {
        delivered.fetch_add(1);
        return true;
      },
      [&](const Status& s) {
        std::lock_guard<std::mutex> lock(mu);
        why = s;
        ended = true;
      });
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(Eventually([&] { return ended.load(); })) << "the subscription went on";
  EXPECT_EQ(delivered.load(), 0) << "events left with their access records unsynced";
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(why.code(), Status::Code::kIOError) << why.ToString();
}

}  // namespace
}  // namespace hearth::testing
