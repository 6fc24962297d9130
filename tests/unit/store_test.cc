// The event log: appends, reads, expected versions, idempotency, reopen.
#include <gtest/gtest.h>

#include "hearth/read_tier.h"
#include "hearth/store.h"
#include "test_util.h"

namespace hearth {
namespace {

using testing::MakeEvent;
using testing::MakeKeyFile;
using testing::TempDir;
using testing::TestOptions;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = MakeKeyFile(dir_.sub("root.key"));
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open(TestOptions(key_), dir_.sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  TempDir dir_;
  std::string key_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, AppendAndReadBack) {
  std::vector<NewEvent> events = {MakeEvent("ContactRecorded", "P-1", "{\"name\":\"Ada Synth\"}"),
                                  MakeEvent("NoteAdded", "P-1", "{\"text\":\"visited\"}")};
  auto r = store_->Append("case-1", ExpectedVersion::NoStream(), events);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_position, 1u);
  EXPECT_EQ(r->last_position, 2u);
  EXPECT_EQ(r->last_version, 2u);
  auto read = store_->ReadStream("case-1", 1, Direction::kForward, 10);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].type, "ContactRecorded");
  EXPECT_EQ((*read)[0].personal.at(0).data, "{\"name\":\"Ada Synth\"}");
  EXPECT_EQ((*read)[1].stream_version, 2u);
  EXPECT_EQ((*read)[1].id, events[1].id);
}

// A stream written in three batches, between batches of two neighbouring
// streams whose names extend it: every page, either way, holds exactly the
// stream's own versions in order, from any starting version.
TEST_F(StoreTest, PagesOfAStreamWrittenInSeveralBatchesEitherWay) {
  auto append = [&](const std::string& stream, int n) {
    std::vector<NewEvent> batch;
    for (int i = 0; i < n; ++i) batch.push_back(MakeEvent("E", "P-" + stream, "{}"));
    auto r = store_->Append(stream, ExpectedVersion::Any(), batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  };
  append("case-10", 2);
  append("case-1", 3);
  append("case-0", 1);
  append("case-1", 1);
  append("case-10", 4);
  append("case-1", 2);  // case-1: versions 1..6 in entries of 3, 1 and 2
  auto versions = [&](uint64_t from, Direction d, size_t max) {
    std::vector<uint64_t> out;
    auto page = store_->ReadStream("case-1", from, d, max);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    for (const auto& e : *page) {
      EXPECT_EQ(e.stream, "case-1");
      out.push_back(e.stream_version);
    }
    return out;
  };
  using V = std::vector<uint64_t>;
  EXPECT_EQ(versions(1, Direction::kForward, 100), (V{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(versions(0, Direction::kForward, 2), (V{1, 2}));
  EXPECT_EQ(versions(3, Direction::kForward, 2), (V{3, 4}));
  EXPECT_EQ(versions(4, Direction::kForward, 1), (V{4}));
  EXPECT_EQ(versions(5, Direction::kForward, 100), (V{5, 6}));
  EXPECT_EQ(versions(7, Direction::kForward, 100), V{});
  EXPECT_EQ(versions(0, Direction::kBackward, 100), (V{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(versions(0, Direction::kBackward, 2), (V{6, 5}));
  EXPECT_EQ(versions(4, Direction::kBackward, 2), (V{4, 3}));
  EXPECT_EQ(versions(2, Direction::kBackward, 100), (V{2, 1}));
  EXPECT_EQ(versions(99, Direction::kBackward, 3), (V{6, 5, 4}));
  EXPECT_TRUE(store_->ReadStream("case-", 1, Direction::kForward, 10).status().IsNotFound());
  EXPECT_TRUE(store_->ReadStream("case-", 0, Direction::kBackward, 10).status().IsNotFound());
  EXPECT_TRUE(store_->ReadStream("bad id!", 1, Direction::kForward, 10).status().IsInvalidArgument());
}

// A read that may not wait for the disk (hearth/read_tier.h): after a
// reopen, nothing is in memory, so a stream read and a subject read in a
// CacheOnlyReads scope stop as Busy and say they missed; read once outside
// the scope (which loads the blocks and the data key), the same reads are
// answered in the scope, with the same events and their personal data.
TEST_F(StoreTest, ACacheOnlyReadStopsAtTheDiskAndIsAnsweredOnceCached) {
  std::vector<NewEvent> events;
  for (int i = 0; i < 20; ++i) events.push_back(MakeEvent("E", "P-1", "{\"name\":\"Synth " + std::to_string(i) + "\"}"));
  ASSERT_TRUE(store_->Append("case-1", ExpectedVersion::NoStream(), events).ok());
  Reopen();  // the memtables are flushed at close: the events are in SST files now

  {
    CacheOnlyReads cache_only;
    auto cold = store_->ReadStream("case-1", 3, Direction::kForward, 2);
    EXPECT_TRUE(cold.status().code() == Status::Code::kBusy) << cold.status().ToString();
    EXPECT_TRUE(cache_only.missed());
    auto version = store_->StreamVersion("case-1");
    EXPECT_TRUE(version.status().code() == Status::Code::kBusy) << version.status().ToString();
  }
  {
    CacheOnlyReads cache_only;
    auto cold = store_->ReadSubject("P-1", 1, 2);
    EXPECT_TRUE(cold.status().code() == Status::Code::kBusy) << cold.status().ToString();
    EXPECT_TRUE(cache_only.missed());
  }
  auto warm = store_->ReadStream("case-1", 3, Direction::kForward, 2);
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  ASSERT_TRUE(store_->ReadSubject("P-1", 1, 2).ok());
  {
    CacheOnlyReads cache_only;
    auto again = store_->ReadStream("case-1", 3, Direction::kForward, 2);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_FALSE(cache_only.missed());
    ASSERT_EQ(again->size(), 2u);
    EXPECT_EQ((*again)[0].id, (*warm)[0].id);
    EXPECT_EQ((*again)[1].personal.at(0).data, "{\"name\":\"Synth 3\"}");
    auto subject = store_->ReadSubject("P-1", 1, 2);
    ASSERT_TRUE(subject.ok()) << subject.status().ToString();
    EXPECT_FALSE(cache_only.missed());
  }
  // Outside a scope, reads wait for the disk as ever.
  Reopen();
  auto cold = store_->ReadStream("case-1", 20, Direction::kForward, 1);
  ASSERT_TRUE(cold.ok()) << cold.status().ToString();
  EXPECT_EQ(cold->at(0).personal.at(0).data, "{\"name\":\"Synth 19\"}");
}

TEST_F(StoreTest, WrongExpectedVersionIsAConflictAndWritesNothing) {
  ASSERT_TRUE(store_->Append("case-1", ExpectedVersion::NoStream(), {MakeEvent("A")}).ok());
  auto r = store_->Append("case-1", ExpectedVersion::Exact(5), {MakeEvent("B")});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsConflict());
  EXPECT_NE(r.status().message().find("case-1"), std::string::npos);
  EXPECT_NE(r.status().message().find("expected version 5, actual 1"), std::string::npos);
  EXPECT_EQ(*store_->StreamVersion("case-1"), 1u);
}

TEST_F(StoreTest, RetryReturnsOriginalPositions) {
  std::vector<NewEvent> events = {MakeEvent("A"), MakeEvent("B")};
  auto first = store_->Append("case-1", ExpectedVersion::NoStream(), events);
  ASSERT_TRUE(first.ok());
  auto again = store_->Append("case-1", ExpectedVersion::NoStream(), events);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->first_position, first->first_position);
  events[1].facts = "{\"other\":1}";
  auto clash = store_->Append("case-1", ExpectedVersion::NoStream(), events);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("different content"), std::string::npos);
}

// A checkpoint once signed is kept: asking again at the same tree size
// returns it (same time and signature) instead of replacing it.
TEST_F(StoreTest, CheckpointsAreKeptWhenAskedAgainAtTheSameSize) {
  ASSERT_TRUE(store_->Append("case-1", ExpectedVersion::Any(), {MakeEvent("NoteAdded")}).ok());
  auto first = store_->WriteCheckpoint();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = store_->WriteCheckpoint();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->size, first->size);
  EXPECT_EQ(again->time, first->time);
  EXPECT_EQ(again->signature, first->signature);
  ASSERT_TRUE(store_->Append("case-1", ExpectedVersion::Any(), {MakeEvent("NoteAdded")}).ok());
  auto next = store_->WriteCheckpoint();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->size, first->size + 1);
  Reopen();
  auto all = store_->Checkpoints();
  ASSERT_TRUE(all.ok());
  size_t at_first = 0;
  for (const auto& cp : *all) {
    if (cp.size == first->size) {
      ++at_first;
      EXPECT_EQ(cp.signature, first->signature);
      EXPECT_EQ(cp.time, first->time);
    }
  }
  EXPECT_EQ(at_first, 1u);
  EXPECT_EQ(all->back().size, next->size);
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->Append("case-" + std::to_string(i), ExpectedVersion::Any(),
                               {MakeEvent("A", "P-" + std::to_string(i), "x")}).ok());
  }
  auto tree = store_->CurrentTree();
  Reopen();
  auto info = store_->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_position, 5u);
  EXPECT_EQ(info->streams, 5u);
  EXPECT_EQ(info->subjects, 5u);
  EXPECT_EQ(info->tree.root, tree->root);
  auto all = store_->ReadAll(1, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);
  auto subj = store_->ReadSubject("P-3", 1, 10);
  ASSERT_TRUE(subj.ok());
  ASSERT_EQ(subj->size(), 1u);
  EXPECT_EQ((*subj)[0].stream, "case-3");
}

TEST_F(StoreTest, BackupOpensWithTheSameKeyAndHoldsEverything) {
  ASSERT_TRUE(store_->Append("case-1", ExpectedVersion::NoStream(),
                             {MakeEvent("A", "P-1", "{\"name\":\"Bea Synth\"}")}).ok());
  auto pos = store_->Backup(dir_.sub("backup"));
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  EXPECT_EQ(*pos, 1u);
  EXPECT_FALSE(store_->Backup(dir_.sub("backup")).ok());  // exists: refused
  ASSERT_TRUE(store_->Append("case-1", ExpectedVersion::Exact(1), {MakeEvent("B")}).ok());
  Options o = TestOptions(key_);
  o.create_if_missing = false;
  auto copy = Store::Open(o, dir_.sub("backup"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto events = (*copy)->ReadStream("case-1", 1, Direction::kForward, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].personal.at(0).data, "{\"name\":\"Bea Synth\"}");
  EXPECT_EQ((*copy)->CurrentTree()->size, 1u);
}

}  // namespace
}  // namespace hearth
