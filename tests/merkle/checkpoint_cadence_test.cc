// The store signs checkpoints by itself: every Options::checkpoint_interval
// events, and on a time cadence (Options::checkpoint_period_ms) with the
// first commit of a store that has none and the first commit after each
// period, so the unsigned tail stays short while appends happen.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "hearth/store.h"
#include "test_util.h"

namespace hearth {
namespace {

using testing::MakeEvent;
using testing::TempDir;

std::vector<uint64_t> CheckpointSizes(Store& store) {
  auto cps = store.Checkpoints();
  EXPECT_TRUE(cps.ok()) << cps.status().ToString();
  std::vector<uint64_t> sizes;
  if (cps.ok()) {
    for (const SignedCheckpoint& cp : *cps) sizes.push_back(cp.size);
  }
  return sizes;
}

void AppendOne(Store& store) {
  auto r = store.Append("case-1", ExpectedVersion::Any(), {MakeEvent("NoteAdded")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

Options Unencrypted(uint64_t period_ms) {
  Options o;
  o.create_if_missing = true;
  o.encrypt = false;
  o.sync = false;
  o.checkpoint_interval = 0;  // the time cadence alone
  o.checkpoint_period_ms = period_ms;
  return o;
}

TEST(CheckpointCadenceTest, TheDefaultIsHourly) {
  EXPECT_EQ(Options().checkpoint_period_ms, 3600u * 1000u);
  EXPECT_EQ(Options().checkpoint_interval, 100000u);
}

TEST(CheckpointCadenceTest, TheFirstCommitIsSignedThenOncePerPeriod) {
  TempDir dir;
  {
    auto s = Store::Open(Unencrypted(3600u * 1000u), dir.sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    AppendOne(**s);
    EXPECT_EQ(CheckpointSizes(**s), std::vector<uint64_t>{1});
    // Within the hour: nothing more is signed.
    for (int i = 0; i < 5; ++i) AppendOne(**s);
    EXPECT_EQ(CheckpointSizes(**s), std::vector<uint64_t>{1});
  }
  // Reopened with a short period: the newest checkpoint's time comes from
  // the files, and the first commit after the period is signed.
  {
    auto s = Store::Open(Unencrypted(20), dir.sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    AppendOne(**s);
    EXPECT_EQ(CheckpointSizes(**s), (std::vector<uint64_t>{1, 7}));
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    AppendOne(**s);
    AppendOne(**s);  // may or may not fall in a new period: at most one more
    std::vector<uint64_t> sizes = CheckpointSizes(**s);
    ASSERT_GE(sizes.size(), 3u);
    EXPECT_EQ(sizes[2], 8u);
  }
}

TEST(CheckpointCadenceTest, PeriodZeroSignsOnlyByCountAndOnDemand) {
  TempDir dir;
  Options o = Unencrypted(0);
  o.checkpoint_interval = 4;
  auto s = Store::Open(o, dir.sub("store"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (int i = 0; i < 3; ++i) AppendOne(**s);
  EXPECT_TRUE(CheckpointSizes(**s).empty());
  AppendOne(**s);
  EXPECT_EQ(CheckpointSizes(**s), std::vector<uint64_t>{4});
}

}  // namespace
}  // namespace hearth
