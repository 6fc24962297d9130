// The read-ahead between a producer thread and its consumer
// (store/base/read_ahead.h): order, the bound on slots, an early stop, and
// an exception from the producer.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "base/read_ahead.h"

namespace hearth {
namespace {

struct Slot {
  std::vector<int> values;
  int first = 0;
};

TEST(ReadAheadTest, EverySlotArrivesOnceInOrderAndNoMoreThanTheSlotsAreOut) {
  constexpr int kSlots = 3, kBatches = 200, kPer = 17;
  std::atomic<int> out{0}, most{0};
  base::ReadAhead<Slot> pipe(kSlots);
  pipe.Start([&](base::ReadAhead<Slot>& p) {
    for (int b = 0; b < kBatches; ++b) {
      Slot* s = p.NextFree();
      ASSERT_NE(s, nullptr);
      int now = ++out;
      for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
      }
      s->first = b * kPer;
      s->values.clear();
      for (int i = 0; i < kPer; ++i) s->values.push_back(b * kPer + i);
      p.Hand(s);
    }
  });
  int expect = 0;
  while (Slot* s = pipe.NextFull()) {
    EXPECT_EQ(s->first, expect);
    for (int v : s->values) EXPECT_EQ(v, expect++);
    --out;
    pipe.GiveBack(s);
  }
  EXPECT_EQ(expect, kBatches * kPer);
  EXPECT_LE(most.load(), kSlots);
}

TEST(ReadAheadTest, AConsumerThatStopsEarlyStopsTheProducer) {
  std::atomic<int> produced{0};
  bool told_to_stop = false;
  {
    base::ReadAhead<Slot> pipe(2);
    pipe.Start([&](base::ReadAhead<Slot>& p) {
      for (int b = 0;; ++b) {
        Slot* s = p.NextFree();
        if (s == nullptr) {
          told_to_stop = true;
          return;
        }
        s->first = b;
        ++produced;
        p.Hand(s);
      }
    });
    Slot* s = pipe.NextFull();
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->first, 0);
    // Leaving the scope without giving the slot back: the destructor stops
    // the producer (it waits for a free slot) and joins it.
  }
  EXPECT_TRUE(told_to_stop);
  EXPECT_LE(produced.load(), 2);
}

TEST(ReadAheadTest, AnExceptionFromTheProducerReachesTheConsumerAfterItsSlots) {
  base::ReadAhead<Slot> pipe(2);
  pipe.Start([](base::ReadAhead<Slot>& p) {
    Slot* s = p.NextFree();
    s->first = 7;
    p.Hand(s);
    throw std::runtime_error("the log is unreadable");
  });
  Slot* s = pipe.NextFull();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->first, 7);
  pipe.GiveBack(s);
  try {
    pipe.NextFull();
    ADD_FAILURE() << "the producer's exception was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "the log is unreadable");
  }
  EXPECT_EQ(pipe.NextFull(), nullptr) << "the stream ends once the exception is thrown";
}

}  // namespace
}  // namespace hearth
