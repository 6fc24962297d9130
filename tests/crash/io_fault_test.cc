// Disk full and I/O errors (docs/operations.md, "Disk full and I/O errors").
//
// On a full disk (less free than the store's reserve) appends are refused
// with a clear error, reads go on, nothing acknowledged is lost, and appends
// resume once space is freed, without reopening the store. On an I/O error in a write or a sync the store stops
// taking writes and says so, and nothing acknowledged is lost. Faults come
// from a file system RocksDB writes through (io_fault_fs.h), and from a
// small tmpfs the test mounts and fills (when it may: root).
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "hearth/store.h"
#include "io_fault_fs.h"
#include "log/store_impl.h"
#include "audit/verifier.h"
#include "test_util.h"

namespace hearth {
namespace {

namespace fs = std::filesystem;
using testing::HexKeyFile;
using testing::IoFaultFileSystem;
using testing::MakeEvent;
using testing::TempDir;
using Fault = IoFaultFileSystem::Fault;

// What the test has been told was written: the events of every
// acknowledged append, by id, and the ids of every refused one.
struct Ledger {
  std::vector<NewEvent> acknowledged;
  std::vector<EventId> refused;
};

Result<AppendResult> AppendOne(Store* store, Ledger* ledger, const std::string& stream,
                               size_t personal_bytes = 40) {
  NewEvent e = MakeEvent("Visit", "P-" + stream, std::string(personal_bytes, 'x'));
  auto r = store->Append(stream, ExpectedVersion::Any(), {e});
  if (r.ok()) {
    ledger->acknowledged.push_back(e);
  } else {
    ledger->refused.push_back(e.id);
  }
  return r;
}

// Reopens the store with the ordinary file system: every acknowledged event
// is there, in order with no gap, the verifier passes, and (when
// `refused_absent`) no refused event is.
void ExpectNothingAcknowledgedLost(const std::string& path, const std::string& key,
                                   const Ledger& ledger, bool refused_absent) {
  auto opened = Store::Open(testing::TestOptions(key), path);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto all = (*opened)->ReadAll(1, 1u << 20);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::set<std::string> ids;
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].position, i + 1) << "a gap in the log";
    ids.insert((*all)[i].id.ToString());
  }
  for (const NewEvent& e : ledger.acknowledged) {
    EXPECT_EQ(ids.count(e.id.ToString()), 1u) << "acknowledged event " << e.id.ToString() << " lost";
  }
  if (refused_absent) {
    for (const EventId& id : ledger.refused) {
      EXPECT_EQ(ids.count(id.ToString()), 0u) << "a refused append is in the log";
    }
  }
  auto pk = (*opened)->CheckpointPublicKey();
  ASSERT_TRUE(pk.ok());
  ASSERT_TRUE((*opened)->WriteCheckpoint().ok());
  opened->reset();
  auto report = merkle::VerifyStoreFiles(path, *pk);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->failure;
}

class IoFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = HexKeyFile(dir_.sub("root.key"));
    path_ = dir_.sub("store");
    fs_ = std::make_shared<IoFaultFileSystem>();
    env_ = rocksdb::NewCompositeEnv(fs_);
    auto opened = log::StoreImpl::OpenWithEnv(testing::TestOptions(key_), path_, env_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendOne(store_.get(), &ledger_, "case-" + std::to_string(i % 4)).ok());
  }
  void TearDown() override {
    fs_->Clear();
    store_.reset();
  }

  // Reads go on: every acknowledged event reads back, by the log and by stream.
  void ExpectReadsGoOn() {
    auto all = store_->ReadAll(1, 1u << 20);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), ledger_.acknowledged.size());
    for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].id, ledger_.acknowledged[i].id);
    auto stream = store_->ReadStream("case-1", 1, Direction::kForward, 1000);
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    EXPECT_FALSE(stream->empty());
    EXPECT_TRUE(store_->Info().ok());
  }

  TempDir dir_;
  std::string key_, path_;
  std::shared_ptr<IoFaultFileSystem> fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<Store> store_;
  Ledger ledger_;
};

// ENOSPC inside RocksDB (the store's free-space check passed, then the disk
// filled, e.g. from another process): the append is refused, saying the disk
// is full; reads go on; RocksDB 7.8 cannot resume after a failed
// write-ahead-log write, so writes stay refused until a reopen, after which
// nothing acknowledged is lost and appends go on.
TEST_F(IoFaultTest, NoSpaceInsideRocksDbRefusesAppendsKeepsReadsAndLosesNothing) {
  fs_->Set(Fault::kNoSpace);
  auto r = AppendOne(store_.get(), &ledger_, "case-1");
  ASSERT_FALSE(r.ok()) << "an append was acknowledged on a full disk";
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_NE(r.status().message().find("the disk is full"), std::string::npos) << r.status().ToString();
  EXPECT_GT(fs_->refused(), 0u);
  ExpectReadsGoOn();
  fs_->Clear();
  r = AppendOne(store_.get(), &ledger_, "case-1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("reopen"), std::string::npos) << r.status().ToString();
  ExpectReadsGoOn();
  store_.reset();
  ExpectNothingAcknowledgedLost(path_, key_, ledger_, /*refused_absent=*/true);
  // Reopened, it takes appends again.
  auto opened = Store::Open(testing::TestOptions(key_), path_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(AppendOne(opened->get(), &ledger_, "case-1").ok());
}

TEST_F(IoFaultTest, AnIOErrorOnWriteStopsWritesSaysSoAndLosesNothingAcknowledged) {
  fs_->Set(Fault::kIOError);
  auto r = AppendOne(store_.get(), &ledger_, "case-1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  fs_->Clear();
  // The device is back, but an I/O error leaves the disk's state unknown:
  // the store takes no more writes until it is reopened, and says so.
  r = AppendOne(store_.get(), &ledger_, "case-1");
  ASSERT_FALSE(r.ok()) << "the store took a write after an I/O error without a reopen";
  EXPECT_NE(r.status().message().find("stopped accepting writes"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("reopen"), std::string::npos);
  ExpectReadsGoOn();
  store_.reset();
  ExpectNothingAcknowledgedLost(path_, key_, ledger_, /*refused_absent=*/true);
}

TEST_F(IoFaultTest, AnIOErrorOnSyncStopsWritesAndLosesNothingAcknowledged) {
  fs_->Set(Fault::kSyncError);
  auto r = AppendOne(store_.get(), &ledger_, "case-1");
  ASSERT_FALSE(r.ok()) << "an append was acknowledged although its sync failed";
  fs_->Clear();
  r = AppendOne(store_.get(), &ledger_, "case-2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("stopped accepting writes"), std::string::npos)
      << r.status().ToString();
  ExpectReadsGoOn();
  store_.reset();
  // The write whose sync failed may have reached the disk (its outcome is
  // unknown, as after a crash); the acknowledged ones are all there.
  ExpectNothingAcknowledgedLost(path_, key_, ledger_, /*refused_absent=*/false);
}

// An I/O error names the file it met, and so the store's path: a store under
// a directory whose name contains "lock" (here "blocklists") still reports
// an I/O error as an I/O error, not as "another process has it open". The
// LOCK file held by a second handle is still Locked, on the same path.
TEST(IoFaultPathTest, AnIOErrorUnderAPathContainingLockIsNotReportedAsLocked) {
  TempDir dir;
  std::string key = HexKeyFile(dir.sub("root.key"));
  fs::create_directories(dir.sub("blocklists"));
  std::string path = dir.sub("blocklists/store");
  auto fault_fs = std::make_shared<IoFaultFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fault_fs);
  auto opened = log::StoreImpl::OpenWithEnv(testing::TestOptions(key), path, env.get());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Ledger ledger;
  ASSERT_TRUE(AppendOne(opened->get(), &ledger, "case-1").ok());

  auto second = Store::Open(testing::TestOptions(key), path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kLocked) << second.status().ToString();

  fault_fs->Set(Fault::kIOError);
  auto r = AppendOne(opened->get(), &ledger, "case-1");
  fault_fs->Clear();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError) << r.status().ToString();
  EXPECT_EQ(r.status().message().find("another process"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("blocklists"), std::string::npos)
      << "the error should name the file it met: " << r.status().ToString();
}

// A real small file system: the store on a 256 MiB tmpfs (RocksDB preallocates ~70 MiB of write-ahead log) the test mounts,
// filled by another file until less than the store's reserve
// (StoreImpl::kMinFreeBytes) is free, then freed. Appends are refused with a
// clear error while it is full, reads go on, and appends resume once space
// is freed, without reopening; nothing acknowledged is lost.
TEST(DiskFullTest, OnARealFullFileSystemAppendsResumeOnceSpaceIsFreed) {
  TempDir dir;
  std::string mnt = dir.sub("small");
  fs::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno)
                 << "): the fault-injecting tests above cover ENOSPC; run as root for this one";
  }
  struct Unmount {
    std::string at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};
  std::string key = HexKeyFile(dir.sub("root.key"));
  std::string path = mnt + "/store";
  Ledger ledger;
  {
    auto opened = Store::Open(testing::TestOptions(key), path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    std::unique_ptr<Store> store = std::move(*opened);
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(AppendOne(store.get(), &ledger, "case-a").ok());
    // Fill the file system until 16 MiB are left.
    std::string filler = mnt + "/filler";
    {
      std::ofstream out(filler, std::ios::binary);
      std::string chunk(1 << 20, 'f');
      for (;;) {
        std::error_code ec;
        if (fs::space(mnt, ec).available <= (16u << 20) || ec) break;
        if (!out.write(chunk.data(), chunk.size()) || !out.flush()) break;
      }
    }
    ASSERT_LT(fs::space(mnt).available, log::StoreImpl::kMinFreeBytes);
    for (int i = 0; i < 3; ++i) {
      auto r = AppendOne(store.get(), &ledger, "case-a");
      ASSERT_FALSE(r.ok()) << "an append was taken on a full file system";
      EXPECT_EQ(r.status().code(), Status::Code::kIOError);
      EXPECT_NE(r.status().message().find("the disk is full"), std::string::npos)
          << r.status().ToString();
    }
    auto all = store->ReadAll(1, 1u << 20);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    EXPECT_EQ(all->size(), ledger.acknowledged.size());
    fs::remove(filler);
    auto r = AppendOne(store.get(), &ledger, "case-a");
    ASSERT_TRUE(r.ok()) << "appends did not resume after space was freed: " << r.status().ToString();
    EXPECT_EQ(r->first_position, ledger.acknowledged.size());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(AppendOne(store.get(), &ledger, "case-b").ok());
  }
  ExpectNothingAcknowledgedLost(path, key, ledger, true);
}

}  // namespace
}  // namespace hearth
