// Group commit on its own (log/commit_queue.h): every request committed once,
// one leader at a time, a writer back only after its group is published,
// requeued requests in the next group, and the leader's place held
// exclusively by Lead.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "log/commit_queue.h"

namespace hearth::log {
namespace {

struct Req : CommitQueue::Entry {
  int id = 0;
  bool published = false;  // set by the commit, before the queue marks it done
  int commits = 0;
};

TEST(CommitQueueTest, EveryRequestIsCommittedOnceByOneLeaderAtATime) {
  std::atomic<int> leaders{0}, overlaps{0};
  std::atomic<uint64_t> committed{0};
  CommitQueue q([&](std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>*) {
    if (leaders.fetch_add(1) != 0) overlaps.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // let others queue behind
    for (auto* e : group) {
      auto* r = static_cast<Req*>(e);
      ++r->commits;
      r->published = true;
      r->status = r->id % 7 == 0 ? Status::Conflict("seven") : Status::OK();
    }
    committed.fetch_add(group.size());
    leaders.fetch_sub(1);
  });
  constexpr int kThreads = 8, kEach = 200;
  // Entries are not copied (each waits on its own semaphore): built in place.
  std::vector<std::vector<Req>> reqs(kThreads);
  for (auto& v : reqs) v = std::vector<Req>(kEach);
  std::atomic<int> unpublished_returns{0}, wrong_status{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Req& r = reqs[t][i];
        r.id = t * kEach + i;
        Status s = q.Submit(&r);
        if (!r.published) unpublished_returns.fetch_add(1);
        if (s.IsConflict() != (r.id % 7 == 0)) wrong_status.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(unpublished_returns.load(), 0);
  EXPECT_EQ(wrong_status.load(), 0);
  EXPECT_EQ(committed.load(), uint64_t(kThreads * kEach));
  for (auto& v : reqs) {
    for (auto& r : v) EXPECT_EQ(r.commits, 1) << r.id;
  }
  WriterStats st = q.Stats();
  EXPECT_EQ(st.grouped_appends, uint64_t(kThreads * kEach));
  EXPECT_LT(st.groups, uint64_t(kThreads * kEach));  // writers were grouped
  EXPECT_EQ(st.group_sizes.back(), st.groups);         // every group <= 128 (8 writers)
  EXPECT_EQ(st.queue_depth, 0u);
}

TEST(CommitQueueTest, ARequeuedRequestWaitsForTheNextGroup) {
  // The first group holds two requests; the commit takes the first and
  // sends the second back: its writer returns only after a later group.
  std::vector<std::vector<int>> groups;
  CommitQueue q([&](std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>* requeue) {
    std::vector<int> ids;
    for (size_t i = 0; i < group.size(); ++i) {
      auto* r = static_cast<Req*>(group[i]);
      if (i > 0 && groups.empty()) {
        requeue->push_back(r);
        continue;
      }
      ids.push_back(r->id);
      r->published = true;
    }
    groups.push_back(ids);
  });
  Req a, b;
  a.id = 1;
  b.id = 2;
  // Queue both before anyone leads: hold the leader's place meanwhile.
  auto lead = std::make_unique<CommitQueue::Lead>(q);
  std::thread ta([&] { EXPECT_TRUE(q.Submit(&a).ok()); });
  std::thread tb([&] { EXPECT_TRUE(q.Submit(&b).ok()); });
  while (q.Stats().queue_depth < 2) std::this_thread::yield();
  lead.reset();
  ta.join();
  tb.join();
  EXPECT_TRUE(a.published);
  EXPECT_TRUE(b.published);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].size(), 1u);
  EXPECT_EQ(groups[1].size(), 1u);
  EXPECT_NE(groups[0][0], groups[1][0]);
}

TEST(CommitQueueTest, NoGroupIsCommittedWhileTheLeadersPlaceIsHeld) {
  std::atomic<int> commits{0};
  CommitQueue q([&](std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>*) {
    commits.fetch_add(int(group.size()));
  });
  Req r;
  std::thread writer;
  {
    CommitQueue::Lead lead(q);
    writer = std::thread([&] { EXPECT_TRUE(q.Submit(&r).ok()); });
    while (q.Stats().queue_depth < 1) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(commits.load(), 0);
    EXPECT_FALSE(r.done);
    // WhenIdle waits for the place too: here it would block, so it is
    // checked after the release below.
  }
  writer.join();
  EXPECT_EQ(commits.load(), 1);
  EXPECT_EQ(q.WhenIdle([&] { return commits.load(); }), 1);
}

// Exclusive work is not starved by writers that keep coming: a Lead asked
// for while eight writers append without pause gets the place, and no group
// is committed while it holds it.
TEST(CommitQueueTest, ALeadGetsThePlaceWhileWritersKeepComing) {
  std::atomic<int> commits{0};
  std::atomic<bool> held{false};
  std::atomic<int> committed_while_held{0};
  CommitQueue q([&](std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>*) {
    if (held) committed_while_held.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    commits.fetch_add(int(group.size()));
  });
  std::atomic<bool> stop{false};
  std::atomic<int> submitted{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&] {
      while (!stop) {
        Req r;
        EXPECT_TRUE(q.Submit(&r).ok());
        EXPECT_TRUE(r.done);
        submitted.fetch_add(1);
      }
    });
  }
  while (commits.load() < 200) std::this_thread::yield();
  auto took = std::async(std::launch::async, [&] {
    for (int round = 0; round < 5; ++round) {
      CommitQueue::Lead lead(q);
      held = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      held = false;
    }
    return q.WhenIdle([&] { return commits.load(); });
  });
  const bool got_it = took.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_TRUE(got_it) << "a Lead waited 30 s behind the writers";
  EXPECT_GT(took.get(), 0);
  EXPECT_EQ(committed_while_held.load(), 0);
  EXPECT_EQ(commits.load(), submitted.load());
}

// Writers queued while exclusive work waited are handed the place once it
// is done, after a WhenIdle as after a Lead: none is left asleep.
TEST(CommitQueueTest, WritersQueuedBehindExclusiveWorkAreCommittedAfterIt) {
  std::atomic<int> commits{0};
  CommitQueue q([&](std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>*) {
    commits.fetch_add(int(group.size()));
  });
  auto lead = std::make_unique<CommitQueue::Lead>(q);
  std::atomic<int> looked{0};
  // A look waits behind the Lead; writers queue behind both.
  auto look = std::async(std::launch::async, [&] { return q.WhenIdle([&] { return looked.fetch_add(1) + 1; }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<Req> reqs(4);
  std::vector<std::future<Status>> done;
  for (Req& r : reqs) done.push_back(std::async(std::launch::async, [&q, &r] { return q.Submit(&r); }));
  while (q.Stats().queue_depth < reqs.size()) std::this_thread::yield();
  EXPECT_EQ(commits.load(), 0);
  lead.reset();
  ASSERT_EQ(look.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(look.get(), 1);
  for (auto& d : done) {
    ASSERT_EQ(d.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "a writer was left asleep";
    EXPECT_TRUE(d.get().ok());
  }
  EXPECT_EQ(commits.load(), 4);
  for (Req& r : reqs) EXPECT_TRUE(r.done);
}

}  // namespace
}  // namespace hearth::log
