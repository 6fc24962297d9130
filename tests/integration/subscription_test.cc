// Catch-up subscriptions while writers append: every position exactly once,
// in order, across the switch from history to live.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "integration_util.h"

namespace hearth {
namespace {

using testing::MakeEvent;
using testing::StoreFixture;

// What one subscription saw.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> positions;
  std::vector<EventId> ids;
  int ends = 0;
  Status end_status;
  uint64_t stop_after = 0;  // return false from the handler at this position (0: never)

  EventHandler Handler() {
    return [this](const RecordedEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      positions.push_back(e.position);
      ids.push_back(e.id);
      cv.notify_all();
      return stop_after == 0 || e.position < stop_after;
    };
  }
  EndHandler OnEnd() {
    return [this](const Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      ++ends;
      end_status = s;
      cv.notify_all();
    };
  }
  // Waits (bounded, so a bug cannot hang the suite) until `position` arrived.
  bool WaitFor(uint64_t position) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] {
      return !positions.empty() && positions.back() >= position;
    });
  }
  bool WaitForEnd() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(60), [&] { return ends > 0; });
  }
};

void ExpectExactly(const Seen& seen, uint64_t from, uint64_t to, const std::vector<RecordedEvent>& log,
                   const std::string& who) {
  ASSERT_EQ(seen.positions.size(), to - from + 1) << who;
  for (uint64_t p = from; p <= to; ++p) {
    ASSERT_EQ(seen.positions[p - from], p) << who << ": gap or duplicate at index " << (p - from);
    EXPECT_EQ(seen.ids[p - from], log[p - 1].id) << who << " position " << p;
  }
}

class SubscriptionTest : public StoreFixture {};

TEST_F(SubscriptionTest, SubscriptionsRacingAppendsSeeEveryPositionOnce) {
  // Some history before anyone subscribes.
  for (int i = 0; i < 20; ++i) {
    MustAppend("case-history", ExpectedVersion::Any(), {MakeEvent("Old", "P-0", "history")});
  }
  Seen from_start, midway_from_one, midway_from_now;
  auto sub_a = store_->Subscribe(1, from_start.Handler(), from_start.OnEnd());
  ASSERT_TRUE(sub_a.ok()) << sub_a.status().ToString();

  constexpr int kWriters = 4;
  constexpr int kBatchesPerWriter = 40;
  std::atomic<int> batches_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(unsigned(w) * 7919u + 1u);
      for (int b = 0; b < kBatchesPerWriter; ++b) {
        std::vector<NewEvent> batch;
        int n = 1 + int(rng() % 12);
        for (int i = 0; i < n; ++i) batch.push_back(MakeEvent("Live", "P-" + std::to_string(w), "live"));
        auto r = store_->Append("case-w" + std::to_string(w), ExpectedVersion::Any(), batch);
        if (!r.ok()) ADD_FAILURE() << r.status().ToString();
        ++batches_done;
      }
    });
  }
  // Two more subscriptions join while the writers are busy: one replays
  // everything, one starts at the end of the log as it is now.
  while (batches_done.load() < kWriters * kBatchesPerWriter / 2) std::this_thread::yield();
  auto sub_b = store_->Subscribe(1, midway_from_one.Handler(), midway_from_one.OnEnd());
  ASSERT_TRUE(sub_b.ok()) << sub_b.status().ToString();
  uint64_t midway = Info().last_position + 1;
  auto sub_c = store_->Subscribe(midway, midway_from_now.Handler(), midway_from_now.OnEnd());
  ASSERT_TRUE(sub_c.ok()) << sub_c.status().ToString();
  for (auto& th : writers) th.join();

  auto log = All();
  uint64_t last = log.size();
  ASSERT_GE(last, uint64_t(20 + kWriters * kBatchesPerWriter));
  ASSERT_TRUE(from_start.WaitFor(last)) << "subscription from 1 stalled";
  ASSERT_TRUE(midway_from_one.WaitFor(last)) << "subscription started midway from 1 stalled";
  ASSERT_TRUE(midway_from_now.WaitFor(last)) << "subscription started midway stalled";
  (*sub_a)->Stop();
  sub_b->reset();  // destroying stops it too
  (*sub_c)->Stop();
  (*sub_c)->Stop();  // a second Stop is harmless

  ExpectExactly(from_start, 1, last, log, "from start");
  ExpectExactly(midway_from_one, 1, last, log, "midway from 1");
  ExpectExactly(midway_from_now, midway, last, log, "midway from the end");
  EXPECT_EQ((*sub_a)->last_position(), last);
  EXPECT_EQ((*sub_c)->last_position(), last);
  for (Seen* s : {&from_start, &midway_from_one, &midway_from_now}) {
    EXPECT_EQ(s->ends, 1);
    EXPECT_TRUE(s->end_status.ok()) << s->end_status.ToString();
  }
}

TEST_F(SubscriptionTest, HandlerReturningFalseEndsTheSubscriptionOnce) {
  for (int i = 0; i < 10; ++i) MustAppend("case-1", ExpectedVersion::Any(), {MakeEvent("E")});
  Seen seen;
  seen.stop_after = 4;
  auto sub = store_->Subscribe(2, seen.Handler(), seen.OnEnd());
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(seen.WaitForEnd());
  MustAppend("case-1", ExpectedVersion::Any(), {MakeEvent("After")});
  sub->reset();
  EXPECT_EQ(seen.positions, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(seen.ends, 1);
  EXPECT_TRUE(seen.end_status.ok());
}

TEST_F(SubscriptionTest, SubscriptionBeyondTheEndWaitsForLiveAppends) {
  MustAppend("case-1", ExpectedVersion::Any(), {MakeEvent("E"), MakeEvent("E")});
  Seen seen;
  auto sub = store_->Subscribe(4, seen.Handler(), seen.OnEnd());
  ASSERT_TRUE(sub.ok());
  MustAppend("case-1", ExpectedVersion::Any(), {MakeEvent("E3")});
  MustAppend("case-2", ExpectedVersion::Any(), {MakeEvent("E4"), MakeEvent("E5")});
  ASSERT_TRUE(seen.WaitFor(5));
  sub->reset();
  EXPECT_EQ(seen.positions, (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(seen.ends, 1);
}

// Stopping or destroying a subscription while writers keep appending is
// clean: no more calls after Stop returns, the end handler runs once.
TEST_F(SubscriptionTest, StopWhileLiveIsClean) {
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    while (writing.load()) {
      auto r = store_->Append("case-1", ExpectedVersion::Any(), {MakeEvent("E"), MakeEvent("E")});
      if (!r.ok()) {
        ADD_FAILURE() << r.status().ToString();
        return;
      }
    }
  });
  for (int round = 0; round < 5; ++round) {
    Seen seen;
    std::atomic<bool> stopped{false};
    std::atomic<int> calls_after_stop{0};
    EventHandler inner = seen.Handler();
    auto sub = store_->Subscribe(1, [&](const RecordedEvent& e) {
      if (stopped.load()) ++calls_after_stop;
      return inner(e);
    }, seen.OnEnd());
    ASSERT_TRUE(sub.ok());
    ASSERT_TRUE(seen.WaitFor(uint64_t(round + 1) * 3));
    if (round % 2 == 0) {
      (*sub)->Stop();
    } else {
      sub->reset();
    }
    stopped = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(calls_after_stop.load(), 0);
    EXPECT_EQ(seen.ends, 1);
    for (size_t i = 0; i < seen.positions.size(); ++i) ASSERT_EQ(seen.positions[i], i + 1);
  }
  writing = false;
  writer.join();
}

}  // namespace
}  // namespace hearth
