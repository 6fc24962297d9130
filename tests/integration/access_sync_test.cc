// The access log is durable before a read's answer leaves: Store::LogAccess
// syncs the write-ahead log. This binary counts the syncs of the store's WAL
// files by interposing fdatasync/fsync (it exports its own definitions, which
// the dynamic linker prefers to the C library's for RocksDB's calls too).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "hearth/session.h"
#include "integration_util.h"

namespace {

std::atomic<int> g_wal_syncs{0};

bool IsWal(int fd) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[4096];
  ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return false;
  std::string path(target, size_t(n));
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".log") == 0;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
  if (IsWal(fd)) ++g_wal_syncs;
  return real(fd);
}

extern "C" int fsync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fsync"));
  if (IsWal(fd)) ++g_wal_syncs;
  return real(fd);
}

namespace hearth {
namespace {

using testing::MakeEvent;
using testing::StoreFixture;

class AccessSyncTest : public StoreFixture {};

TEST_F(AccessSyncTest, AccessRecordIsSyncedToTheWalBeforeLogAccessReturns) {
  MustAppend("case-1", ExpectedVersion::Any(), {MakeEvent("Contact", "P-1", "Synthetic Delta")});
  // Control: the interposer sees the store's syncs (every append syncs).
  int before_append = g_wal_syncs.load();
  MustAppend("case-1", ExpectedVersion::Any(), {MakeEvent("Contact", "P-1", "Synthetic Delta")});
  ASSERT_GT(g_wal_syncs.load(), before_append) << "the test does not see the WAL syncs";

  AccessRecord r;
  r.subject = "P-1";
  r.plugin = "portal";
  r.user = "u-1";
  r.role = "caseworker";
  r.action = "read";
  r.purpose = "first-visit";
  r.first_position = 1;
  r.last_position = 2;
  r.events = 2;
  int before = g_wal_syncs.load();
  ASSERT_TRUE(store_->LogAccess({r}).ok());
  EXPECT_GT(g_wal_syncs.load(), before) << "the access record was not synced before LogAccess returned";
}

TEST_F(AccessSyncTest, SessionReadOfPersonalDataSyncsItsAccessRecord) {
  MustAppend("case/north/C-1", ExpectedVersion::Any(),
             {MakeEvent("Contact", "P-2", "Synthetic Epsilon")});
  Scopes scopes;
  scopes.read_districts = {"north"};
  scopes.read_personal = true;
  Session session(store_.get(), Principal{"portal", "u-1", "caseworker"}, scopes);
  int before = g_wal_syncs.load();
  auto page = session.ReadStream("case/north/C-1", 1, Direction::kForward, 10, "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->at(0).personal.size(), 1u);
  EXPECT_GT(g_wal_syncs.load(), before);
  auto log = store_->AccessLog("P-2");
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u);
}

// The access log records what leaves, not what was read: a page cut to a
// byte budget (the server's message size) is logged as cut, and an answer
// that cannot be sent at all leaves no record.
class AccessBudgetTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    scopes_.read_districts = {"north"};
    scopes_.read_personal = true;
    scopes_.read_log = true;
  }
  static Session::PageLimit Budget(size_t max_bytes) {
    // The test's measure: the bytes of an event's personal sections.
    return Session::PageLimit{10, max_bytes, [](const RecordedEvent& e) {
                                size_t n = 0;
                                for (const auto& p : e.personal) n += p.data.size();
                                return n;
                              }};
  }
  Scopes scopes_;
};

TEST_F(AccessBudgetTest, PageCutToItsBudgetIsLoggedAsDelivered) {
  const std::string note(1000, 'n');
  MustAppend("case/north/C-2", ExpectedVersion::Any(),
             {MakeEvent("Note", "P-3", note), MakeEvent("Note", "P-3", note),
              MakeEvent("Note", "P-4", note)});
  Session session(store_.get(), Principal{"portal", "u-1", "caseworker"}, scopes_);
  auto page = session.ReadStreamPage("case/north/C-2", 1, Direction::kForward, Budget(2500), "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_TRUE(page->cut);
  auto log = store_->AccessLog("P-3");
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].events, 2u);
  EXPECT_TRUE(store_->AccessLog("P-4")->empty()) << "the event cut from the page was logged";
  // The rest, read as the next page, is logged with that page, once.
  page = session.ReadAllPage(3, Budget(2500), "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_FALSE(page->cut);
  EXPECT_EQ(store_->AccessLog("P-4")->size(), 1u);
  EXPECT_EQ(store_->AccessLog("P-3")->size(), 1u);
}

// A page read with PageLimit::access_due writes nothing: its records, as the
// write would have had them (principal included, the cut page's events
// only), are handed to the caller, who owes the access log them (the plugin
// server writes many reads' records in one synced write).
TEST_F(AccessBudgetTest, APageWithAccessDueHandsItsRecordsToTheCallerAndWritesNothing) {
  const std::string note(1000, 'n');
  MustAppend("case/north/C-4", ExpectedVersion::Any(),
             {MakeEvent("Note", "P-6", note), MakeEvent("Note", "P-6", note),
              MakeEvent("Note", "P-7", note)});
  Session session(store_.get(), Principal{"portal", "u-1", "caseworker"}, scopes_);
  std::vector<AccessRecord> due;
  Session::PageLimit limit = Budget(2500);
  limit.access_due = &due;
  const int syncs = g_wal_syncs.load();
  auto page = session.ReadStreamPage("case/north/C-4", 1, Direction::kForward, limit, "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(g_wal_syncs.load(), syncs) << "the page wrote its access record itself";
  EXPECT_TRUE(store_->AccessLog("P-6")->empty());
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].subject, "P-6");
  EXPECT_EQ(due[0].plugin, "portal");
  EXPECT_EQ(due[0].user, "u-1");
  EXPECT_EQ(due[0].role, "caseworker");
  EXPECT_EQ(due[0].action, "read");
  EXPECT_EQ(due[0].purpose, "first-visit");
  EXPECT_EQ(due[0].first_position, page->events[0].position);
  EXPECT_EQ(due[0].last_position, page->events[1].position);
  EXPECT_EQ(due[0].events, 2u);
  // The next page adds its own records to the same list.
  page = session.ReadAllPage(page->events[1].position + 1, limit, "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[1].subject, "P-7");
  ASSERT_TRUE(store_->LogAccess(due).ok());
  EXPECT_EQ(store_->AccessLog("P-6")->size(), 1u);
  EXPECT_EQ(store_->AccessLog("P-7")->size(), 1u);
}

TEST_F(AccessBudgetTest, AnswerThatDoesNotFitLeavesNoAccessRecord) {
  MustAppend("case/north/C-3", ExpectedVersion::Any(),
             {MakeEvent("Note", "P-5", std::string(5000, 'y'))});
  Session session(store_.get(), Principal{"portal", "u-1", "caseworker"}, scopes_);
  auto page = session.ReadStreamPage("case/north/C-3", 1, Direction::kForward, Budget(2500), "first-visit");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->events.empty());
  EXPECT_NE(page->too_large, 0u);
  auto subject = session.ReadSubjectPage("P-5", 1, Budget(2500), "first-visit");
  ASSERT_TRUE(subject.ok()) << subject.status().ToString();
  EXPECT_TRUE(subject->events.empty());
  EXPECT_NE(subject->too_large, 0u);
  EXPECT_TRUE(store_->AccessLog("P-5")->empty()) << "an answer that was not sent is in the access log";
  // A refused read leaves none either; a delivered one leaves exactly one.
  Scopes south;
  south.read_districts = {"south"};
  south.read_personal = true;
  Session other(store_.get(), Principal{"portal", "u-2", "caseworker"}, south,
                [](const std::string&) {});
  EXPECT_FALSE(other.ReadStream("case/north/C-3", 1, Direction::kForward, 10, "x").ok());
  EXPECT_TRUE(store_->AccessLog("P-5")->empty());
  page = session.ReadStreamPage("case/north/C-3", 1, Direction::kForward, Budget(6000), "first-visit");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 1u);
  EXPECT_EQ(store_->AccessLog("P-5")->size(), 1u);
}

}  // namespace
}  // namespace hearth
