// Many writers at once: expected-version races, idempotent retries, atomic
// batches and reopening.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration_util.h"

namespace hearth {
namespace {

using testing::ExpectMatches;
using testing::ExpectSameEvent;
using testing::MakeEvent;
using testing::PersonEvent;
using testing::StoreFixture;

class ConcurrencyTest : public StoreFixture {};

// Read-your-writes: a writer whose append was committed as a follower in
// someone else's group commit reads its own events at once, by stream, by
// position and by subject (the commit is published before any writer of the
// group returns).
TEST_F(ConcurrencyTest, EveryWriterReadsItsOwnCommittedEvents) {
  constexpr int kThreads = 8;
  constexpr int kAppends = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "ryw-" + std::to_string(t);
      const std::string subject = "P-ryw-" + std::to_string(t);
      for (int i = 1; i <= kAppends; ++i) {
        ExpectedVersion expected = i == 1 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(uint64_t(i - 1));
        auto res = store_->Append(stream, expected, {MakeEvent("Wrote", subject, "append " + std::to_string(i))});
        if (!res.ok()) {
          ADD_FAILURE() << stream << " append " << i << ": " << res.status().ToString();
          ++failures;
          return;
        }
        auto back = store_->ReadStream(stream, res->last_version, Direction::kForward, 1);
        auto at = store_->ReadAll(res->last_position, 1);
        if (!back.ok() || back->size() != 1 || !at.ok() || at->size() != 1 ||
            (*at)[0].stream != stream) {
          ADD_FAILURE() << stream << ": version " << res->last_version << " at position "
                        << res->last_position << " not readable right after its append";
          ++failures;
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Every thread tries to append version r of the same stream at the same time:
// exactly one wins each round; every other one gets a Conflict that names the
// stream, the version it expected and the actual one, and writes nothing.
TEST_F(ConcurrencyTest, ExactlyOneWinnerPerVersion) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 30;
  struct Outcome {
    Status status;
    AppendResult result;
    EventId id;
  };
  std::vector<std::vector<Outcome>> outcomes(kThreads, std::vector<Outcome>(kRounds + 1));
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 1; r <= kRounds; ++r) {
        NewEvent e = MakeEvent("Race", "P-" + std::to_string(t), "thread " + std::to_string(t));
        ExpectedVersion expected = r == 1 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(r - 1);
        sync.arrive_and_wait();
        auto res = store_->Append("case-race", expected, {e});
        Outcome& o = outcomes[t][r];
        o.id = e.id;
        if (res.ok()) {
          o.result = *res;
        } else {
          o.status = res.status();
        }
        sync.arrive_and_wait();  // every attempt of round r is in before round r + 1
      }
    });
  }
  for (auto& th : threads) th.join();

  std::vector<EventId> winners(kRounds + 1);
  for (int r = 1; r <= kRounds; ++r) {
    int wins = 0;
    for (int t = 0; t < kThreads; ++t) {
      const Outcome& o = outcomes[t][r];
      if (o.status.ok()) {
        ++wins;
        winners[r] = o.id;
        EXPECT_EQ(o.result.first_version, uint64_t(r));
        EXPECT_EQ(o.result.last_version, uint64_t(r));
        EXPECT_EQ(o.result.first_position, uint64_t(r));
        EXPECT_FALSE(o.result.duplicate);
        continue;
      }
      EXPECT_TRUE(o.status.IsConflict()) << o.status.ToString();
      const std::string& m = o.status.message();
      EXPECT_NE(m.find("case-race"), std::string::npos) << m;
      std::string expected = r == 1 ? "no-stream" : std::to_string(r - 1);
      EXPECT_NE(m.find("expected version " + expected), std::string::npos) << m;
      EXPECT_NE(m.find("actual " + std::to_string(r)), std::string::npos) << m;
    }
    EXPECT_EQ(wins, 1) << "round " << r;
  }
  auto stream = store_->ReadStream("case-race", 1, Direction::kForward, 1000);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_EQ(stream->size(), size_t(kRounds));
  for (int r = 1; r <= kRounds; ++r) {
    EXPECT_EQ((*stream)[r - 1].stream_version, uint64_t(r));
    EXPECT_EQ((*stream)[r - 1].id, winners[r]) << "version " << r;
  }
  EXPECT_EQ(Info().last_position, uint64_t(kRounds));
}

// Optimistic writers: read the version, append with it, retry on conflict.
// Every version from 1 to the target is won exactly once, by one thread.
TEST_F(ConcurrencyTest, OptimisticLoopNeverLosesOrDoublesAVersion) {
  constexpr int kThreads = 6;
  constexpr uint64_t kTarget = 120;
  std::mutex mu;
  std::map<uint64_t, int> won;  // version -> thread
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (;;) {
        auto v = store_->StreamVersion("case-optimistic");
        uint64_t current = v.ok() ? *v : 0;
        if (!v.ok() && !v.status().IsNotFound()) {
          ++failures;
          return;
        }
        if (current >= kTarget) return;
        ExpectedVersion expected =
            current == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(current);
        auto r = store_->Append("case-optimistic", expected, {MakeEvent("Tick")});
        if (r.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (r->first_version != current + 1 || !won.emplace(r->first_version, t).second) ++failures;
        } else if (r.status().IsConflict()) {
          ++conflicts;
        } else {
          ++failures;
          ADD_FAILURE() << r.status().ToString();
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(won.size(), size_t(kTarget));
  EXPECT_EQ(won.begin()->first, 1u);
  EXPECT_EQ(won.rbegin()->first, kTarget);
  EXPECT_EQ(*store_->StreamVersion("case-optimistic"), kTarget);
  EXPECT_EQ(Info().last_position, kTarget);
}

// The same batch submitted by many threads at once (a client retrying after
// a timeout while the first attempt is still in flight) is written once.
TEST_F(ConcurrencyTest, ConcurrentRetriesOfOneBatchAreWrittenOnce) {
  MustAppend("case-other", ExpectedVersion::NoStream(), {MakeEvent("Before")});
  std::vector<NewEvent> batch = {MakeEvent("A", "P-1", "one"), MakeEvent("B"), MakeEvent("C")};
  constexpr int kThreads = 8;
  std::vector<Result<AppendResult>> results(kThreads, Status::Busy("not run"));
  std::barrier sync(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      sync.arrive_and_wait();
      results[t] = store_->Append("case-retry", ExpectedVersion::Any(), batch);
    });
  }
  for (auto& th : threads) th.join();
  int originals = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_position, 2u);
    EXPECT_EQ(r->last_position, 4u);
    EXPECT_EQ(r->first_version, 1u);
    EXPECT_EQ(r->last_version, 3u);
    if (!r->duplicate) ++originals;
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(Info().last_position, 4u);
  EXPECT_EQ(*store_->StreamVersion("case-retry"), 3u);
}

// Erasing a person while other threads append and read their data: readers
// never see an error, appends after the erasure are refused, and afterwards
// every personal section of that person reads as erased, whenever written.
TEST_F(ConcurrencyTest, ErasureRacingAppendsAndReads) {
  MustAppend("case-x", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-x", "Synthetic Iota")});
  MustAppend("case-y", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-y", "Synthetic Kappa")});
  std::atomic<bool> erased{false};
  std::atomic<bool> stop{false};
  std::atomic<int> accepted_after_erasure{0};
  std::atomic<int> read_errors{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        bool was_erased = erased.load();
        auto r = store_->Append("case-x", ExpectedVersion::Any(),
                                {MakeEvent("Note", "P-y", "Synthetic Kappa again"),
                                 MakeEvent("Note", "P-x", "Synthetic Iota again")});
        if (r.ok()) {
          if (was_erased) ++accepted_after_erasure;
        } else if (r.status().code() == Status::Code::kErased) {
          ++refused;
        } else {
          ADD_FAILURE() << r.status().ToString();
          return;
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      auto r = store_->ReadSubject("P-x", 1, 100000);
      if (!r.ok()) {
        ++read_errors;
        ADD_FAILURE() << r.status().ToString();
        return;
      }
    }
  });
  while (Info().last_position < 40 && !HasFailure()) std::this_thread::yield();
  auto e = store_->EraseSubject("P-x", Actor{"u-9", "controller", "test"}, "art17");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  erased = true;
  while (refused.load() < 10 && !HasFailure()) std::this_thread::yield();
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted_after_erasure.load(), 0);
  EXPECT_EQ(read_errors.load(), 0);
  for (int round = 0; round < 2; ++round) {
    size_t sections = 0;
    for (const RecordedEvent& ev : All()) {
      for (const auto& p : ev.personal) {
        if (p.subject == "P-x") {
          ++sections;
          EXPECT_TRUE(p.erased) << "position " << ev.position;
          EXPECT_TRUE(p.data.empty()) << "position " << ev.position;
        } else {
          EXPECT_FALSE(p.erased);
          EXPECT_FALSE(p.data.empty());
        }
      }
    }
    EXPECT_GT(sections, 1u);
    Open();
  }
  Close();
  auto raw = testing::RawDb::Open(path_);
  ASSERT_TRUE(raw);
  EXPECT_TRUE(raw->Get("keys", "kP-x").empty()) << "the erased subject has a data key again";
  EXPECT_FALSE(raw->Get("keys", "kP-y").empty());
}

class IdempotencyTest : public StoreFixture {};

TEST_F(IdempotencyTest, RetryReturnsOriginalPositionsAlsoAfterReopen) {
  std::vector<NewEvent> batch = {MakeEvent("A", "P-1", "first"), MakeEvent("B", "P-2", "second"),
                                 MakeEvent("C")};
  MustAppend("case-0", ExpectedVersion::NoStream(), {MakeEvent("Zero")});
  AppendResult first = MustAppend("case-1", ExpectedVersion::NoStream(), batch);
  MustAppend("case-2", ExpectedVersion::NoStream(), {MakeEvent("After")});
  EXPECT_EQ(first.first_position, 2u);
  EXPECT_FALSE(first.duplicate);
  auto tree = *store_->CurrentTree();

  for (int round = 0; round < 2; ++round) {
    // The retry carries the expected version of the first attempt, which is
    // no longer true: a retry is still recognised as one.
    auto again = store_->Append("case-1", ExpectedVersion::NoStream(), batch);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(again->duplicate);
    EXPECT_EQ(again->first_position, first.first_position);
    EXPECT_EQ(again->last_position, first.last_position);
    EXPECT_EQ(again->first_version, first.first_version);
    EXPECT_EQ(again->last_version, first.last_version);
    EXPECT_EQ(Info().last_position, 5u);
    EXPECT_EQ(store_->CurrentTree()->root, tree.root);
    Open();  // the event id index is on disk, not only in memory
  }
}

TEST_F(IdempotencyTest, SameIdWithOtherContentIsRefusedWhateverChanged) {
  std::vector<NewEvent> batch = {MakeEvent("A", "P-1", "first"), MakeEvent("B", "P-2", "second")};
  batch[1].subjects.push_back(SubjectRef{"P-3", SubjectRole::kCarer});
  AppendResult first = MustAppend("case-1", ExpectedVersion::NoStream(), batch);
  auto tree = *store_->CurrentTree();

  std::vector<std::pair<std::string, std::function<void(NewEvent&)>>> changes = {
      {"facts", [](NewEvent& e) { e.facts += " "; }},
      {"type", [](NewEvent& e) { e.type = "Other"; }},
      {"schema version", [](NewEvent& e) { e.schema_version = 2; }},
      {"occurred at", [](NewEvent& e) { e.occurred_at = 12345; }},
      {"actor", [](NewEvent& e) { e.actor.user = "u-2"; }},
      {"correlation id", [](NewEvent& e) { e.correlation_id = EventId::Random(); }},
      {"subject role", [](NewEvent& e) { e.subjects[0].role = SubjectRole::kRelative; }},
      {"personal data", [](NewEvent& e) { e.personal[0].data = "changed"; }},
      {"identifiers", [](NewEvent& e) { e.personal[0].identifiers.push_back({"nhs", "0000000000"}); }},
  };
  for (const auto& [what, change] : changes) {
    std::vector<NewEvent> altered = batch;
    change(altered[1]);
    auto r = store_->Append("case-1", ExpectedVersion::Any(), altered);
    ASSERT_FALSE(r.ok()) << "a retry with other " << what << " was accepted";
    EXPECT_TRUE(r.status().IsInvalidArgument()) << what << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(batch[1].id.ToString()), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("different content"), std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(Info().last_position, first.last_position);
  EXPECT_EQ(store_->CurrentTree()->root, tree.root);
  auto read = store_->ReadStream("case-1", 1, Direction::kForward, 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 2u);
  ExpectMatches(batch[0], (*read)[0]);
  ExpectMatches(batch[1], (*read)[1]);
}

// A retry must repeat the whole batch: mixing old and new ids, dropping some,
// or reordering them is an error and writes nothing.
TEST_F(IdempotencyTest, PartialOrReorderedRetryIsAnError) {
  std::vector<NewEvent> batch = {MakeEvent("A"), MakeEvent("B"), MakeEvent("C")};
  MustAppend("case-1", ExpectedVersion::NoStream(), batch);
  auto before = Info();

  struct Case {
    std::string what;
    std::vector<NewEvent> events;
  };
  std::vector<Case> cases = {
      {"old and new ids", {batch[0], batch[1], MakeEvent("New")}},
      {"a new id first", {MakeEvent("New"), batch[0], batch[1], batch[2]}},
      {"reordered", {batch[1], batch[0], batch[2]}},
      {"the first two of three", {batch[0], batch[1]}},
      {"the last two of three", {batch[1], batch[2]}},
      {"one of three", {batch[1]}},
  };
  for (const auto& c : cases) {
    auto r = store_->Append("case-1", ExpectedVersion::Any(), c.events);
    EXPECT_FALSE(r.ok()) << c.what << ": accepted as " << (r.ok() && r->duplicate ? "a duplicate" : "new")
                         << " at positions " << (r.ok() ? r->first_position : 0) << ".."
                         << (r.ok() ? r->last_position : 0);
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << c.what << ": " << r.status().ToString();
    }
    EXPECT_EQ(Info().last_position, before.last_position) << c.what;
  }
  EXPECT_EQ(*store_->StreamVersion("case-1"), 3u);
}

TEST_F(IdempotencyTest, IdReusedInAnotherStreamIsAnError) {
  std::vector<NewEvent> batch = {MakeEvent("A"), MakeEvent("B")};
  AppendResult first = MustAppend("case-1", ExpectedVersion::NoStream(), batch);
  auto r = store_->Append("case-2", ExpectedVersion::Any(), batch);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("case-1"), std::string::npos) << r.status().message();
  EXPECT_TRUE(store_->StreamVersion("case-2").status().IsNotFound());
  EXPECT_EQ(Info().last_position, first.last_position);
  EXPECT_EQ(Info().streams, 1u);
}

class AtomicBatchTest : public StoreFixture {
 protected:
  Options StoreOptions() override {
    Options o = StoreFixture::StoreOptions();
    o.max_event_bytes = 4096;
    o.max_batch_events = 50;
    return o;
  }
};

// A batch that fails, wherever it fails, leaves no trace: no position, no
// stream or subject, no lookup entry, no data key, no Merkle leaf.
TEST_F(AtomicBatchTest, FailedBatchLeavesNoTrace) {
  MustAppend("case-1", ExpectedVersion::NoStream(),
             {PersonEvent("Contact", "P-1", "Synthetic One", {{"nhs", "999 000 0001"}}),
              MakeEvent("Note", "P-2", "Synthetic Two")});
  MustAppend("case-gone", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-gone", "Synthetic Gone")});
  ASSERT_TRUE(store_->EraseSubject("P-gone", Actor{"u-1", "controller", "test"}, "art17").ok());
  Close();
  auto disk_before = testing::DumpStore(path_);
  ASSERT_FALSE(disk_before.empty());
  Open();
  StoreInfo before = Info();
  TreeHead tree = *store_->CurrentTree();

  // Each bad batch starts with good events that would create a new stream,
  // a new subject with a lookup identifier, and then fails on its last event.
  auto good = [] {
    return std::vector<NewEvent>{
        PersonEvent("Contact", "P-new", "Synthetic New", {{"postcode", "ZZ9 9ZZ"}}),
        MakeEvent("Note", "P-1", "more about one")};
  };
  struct Case {
    std::string stream;
    ExpectedVersion expected;
    std::function<void(std::vector<NewEvent>&)> spoil;
    Status::Code code;
  };
  std::vector<Case> cases = {
      {"case-new", ExpectedVersion::Any(), [](auto& b) { b.push_back(MakeEvent("")); },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X"));
         b.back().schema_version = 0;
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X"));
         b.back().personal.push_back(PersonalSection{"P-unnamed", "x", {}, false});
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X", "P-3", "a"));
         b.back().personal.push_back(PersonalSection{"P-3", "b", {}, false});
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X", "P-3", "a"));
         b.back().personal[0].identifiers.push_back({"", "value"});
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(), [](auto& b) { b.push_back(b[0]); },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X"));
         b.back().subjects.push_back(SubjectRef{"bad subject id", SubjectRole::kClient});
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X"));
         b.back().occurred_at = -1;
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X"));
         for (int i = 0; i < 33; ++i) b.back().subjects.push_back({"P-s" + std::to_string(i), SubjectRole::kOther});
       },
       Status::Code::kInvalidArgument},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         b.push_back(MakeEvent("X"));
         b.back().facts.assign(4097, 'f');
       },
       Status::Code::kTooLarge},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) {
         while (b.size() < 51) b.push_back(MakeEvent("X"));
       },
       Status::Code::kTooLarge},
      {"case-new", ExpectedVersion::Any(),
       [](auto& b) { b.push_back(MakeEvent("X", "P-gone", "about an erased person")); },
       Status::Code::kErased},
      {"case-new", ExpectedVersion::Exact(7), [](auto&) {}, Status::Code::kConflict},
      {"case-1", ExpectedVersion::NoStream(), [](auto&) {}, Status::Code::kConflict},
      {"$erasure", ExpectedVersion::Any(), [](auto&) {}, Status::Code::kInvalidArgument},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    std::vector<NewEvent> batch = good();
    cases[i].spoil(batch);
    auto r = store_->Append(cases[i].stream, cases[i].expected, batch);
    ASSERT_FALSE(r.ok()) << "case " << i << " was accepted";
    EXPECT_EQ(r.status().code(), cases[i].code) << "case " << i << ": " << r.status().ToString();
    StoreInfo after = Info();
    EXPECT_EQ(after.last_position, before.last_position) << "case " << i;
    EXPECT_EQ(after.streams, before.streams) << "case " << i;
    EXPECT_EQ(after.subjects, before.subjects) << "case " << i;
    EXPECT_EQ(after.erased_subjects, before.erased_subjects) << "case " << i;
    EXPECT_EQ(store_->CurrentTree()->size, tree.size) << "case " << i;
    EXPECT_EQ(store_->CurrentTree()->root, tree.root) << "case " << i;
    EXPECT_TRUE(store_->StreamVersion("case-new").status().IsNotFound()) << "case " << i;
    EXPECT_EQ(*store_->StreamVersion("case-1"), 2u) << "case " << i;
    EXPECT_TRUE(store_->ReadSubject("P-new", 1, 10).status().IsNotFound()) << "case " << i;
    auto found = store_->FindSubjects({"postcode", "ZZ9 9ZZ"});
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->empty()) << "case " << i;
    auto tail = store_->ReadAll(before.last_position + 1, 100);
    ASSERT_TRUE(tail.ok());
    EXPECT_TRUE(tail->empty()) << "case " << i;
  }
  Close();
  auto disk_after = testing::DumpStore(path_);
  EXPECT_TRUE(disk_after == disk_before) << "a failed batch changed the store's contents";
  Open();
  // The next good batch takes the next position: no hole was left.
  AppendResult r = MustAppend("case-new", ExpectedVersion::NoStream(), good());
  EXPECT_EQ(r.first_position, before.last_position + 1);
  EXPECT_EQ(r.first_version, 1u);
}

// Good and failing batches share commit groups; the failures leave no holes.
TEST_F(AtomicBatchTest, FailingBatchesInTheSameGroupAsGoodOnes) {
  MustAppend("case-gone", ExpectedVersion::NoStream(), {MakeEvent("Contact", "P-gone", "gone")});
  ASSERT_TRUE(store_->EraseSubject("P-gone", Actor{"u-1", "controller", "test"}, "art17").ok());
  uint64_t base = Info().last_position;
  constexpr int kThreads = 4;
  constexpr int kIterations = 25;
  std::vector<std::vector<std::vector<NewEvent>>> written(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string stream = "case-t" + std::to_string(t);
      uint64_t version = 0;
      for (int i = 0; i < kIterations; ++i) {
        std::vector<NewEvent> batch;
        for (int k = 0; k <= (i + t) % 4; ++k) batch.push_back(MakeEvent("Good", "P-" + std::to_string(t), "ok"));
        auto r = store_->Append(stream, version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(version), batch);
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          return;
        }
        version = r->last_version;
        written[t].push_back(batch);
        auto conflict = store_->Append(stream, ExpectedVersion::Exact(version + 5), {MakeEvent("Bad")});
        EXPECT_TRUE(conflict.status().IsConflict()) << conflict.status().ToString();
        auto erased = store_->Append(stream, ExpectedVersion::Any(),
                                     {MakeEvent("Bad"), MakeEvent("Bad", "P-gone", "refused")});
        EXPECT_EQ(erased.status().code(), Status::Code::kErased) << erased.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t expected_events = 0;
  for (const auto& batches : written) {
    for (const auto& b : batches) expected_events += b.size();
  }
  auto all = All();
  ASSERT_EQ(all.size(), base + expected_events);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].position, i + 1);
  for (int t = 0; t < kThreads; ++t) {
    auto read = store_->ReadStream("case-t" + std::to_string(t), 1, Direction::kForward, 100000);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    size_t k = 0;
    for (const auto& b : written[t]) {
      for (const auto& e : b) {
        ASSERT_LT(k, read->size());
        ExpectMatches(e, (*read)[k]);
        EXPECT_EQ((*read)[k].stream_version, k + 1);
        ++k;
      }
    }
    EXPECT_EQ(k, read->size());
  }
}

class ReopenTest : public StoreFixture {};

TEST_F(ReopenTest, ReopenAfterCloseKeepsEverythingAndContinues) {
  std::vector<NewEvent> batch = {
      PersonEvent("Contact", "P-1", "Synthetic Person One", {{"nhs", "999 000 0001"}}),
      PersonEvent("Contact", "P-2", "Synthetic Person Two", {{"postcode", "ZZ1 1ZZ"}}),
      MakeEvent("Note")};
  MustAppend("case-1", ExpectedVersion::NoStream(), batch);
  std::vector<NewEvent> second = {MakeEvent("Note", "P-1", "second case")};
  MustAppend("case-2", ExpectedVersion::NoStream(), second);
  ASSERT_TRUE(store_->EraseSubject("P-2", Actor{"u-1", "controller", "test"}, "art17").ok());
  ASSERT_TRUE(store_->WriteCheckpoint().ok());
  auto events = All();
  StoreInfo info = Info();
  TreeHead tree = *store_->CurrentTree();
  auto checkpoints = *store_->Checkpoints();

  for (int round = 0; round < 3; ++round) {
    Open();
    auto again = All();
    ASSERT_EQ(again.size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) ExpectSameEvent(events[i], again[i]);
    StoreInfo now = Info();
    EXPECT_EQ(now.last_position, info.last_position);
    EXPECT_EQ(now.streams, info.streams);
    EXPECT_EQ(now.subjects, info.subjects);
    EXPECT_EQ(now.erased_subjects, info.erased_subjects);
    EXPECT_EQ(store_->CurrentTree()->root, tree.root);
    EXPECT_EQ(store_->Checkpoints()->size(), checkpoints.size());
    auto found = store_->FindSubjects({"nhs", "9990000001"});
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, std::vector<std::string>{"P-1"});
    EXPECT_TRUE(store_->FindSubjects({"postcode", "ZZ1 1ZZ"})->empty());
    auto subject = store_->ReadSubject("P-1", 1, 10);
    ASSERT_TRUE(subject.ok());
    EXPECT_EQ(subject->size(), 2u);
    auto retry = store_->Append("case-2", ExpectedVersion::NoStream(), second);
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->first_position, 4u);
    // A retry carrying personal data of the erased P-2 cannot be matched (its
    // digest needs P-2's data key, which erasure deleted): refused, nothing
    // written.
    auto erased = store_->Append("case-1", ExpectedVersion::NoStream(), batch);
    ASSERT_FALSE(erased.ok());
    EXPECT_EQ(erased.status().code(), Status::Code::kErased) << erased.status().ToString();
    EXPECT_EQ(Info().last_position, info.last_position);
  }
  // Appends continue the numbering and the tree.
  auto next = MustAppend("case-1", ExpectedVersion::Exact(3), {MakeEvent("Later", "P-1", "later")});
  EXPECT_EQ(next.first_position, info.last_position + 1);
  EXPECT_EQ(next.first_version, 4u);
  EXPECT_EQ(store_->CurrentTree()->size, info.last_position + 1);
  auto conflict = store_->Append("case-1", ExpectedVersion::Exact(3), {MakeEvent("Stale")});
  EXPECT_TRUE(conflict.status().IsConflict());
  Open();
  EXPECT_EQ(*store_->StreamVersion("case-1"), 4u);
  EXPECT_EQ(Info().last_position, info.last_position + 1);
}

TEST_F(ReopenTest, ManyShortSessionsKeepPositionsDense) {
  uint64_t expected = 0;
  for (int session = 0; session < 12; ++session) {
    std::vector<NewEvent> batch;
    for (int i = 0; i <= session % 5; ++i) {
      batch.push_back(MakeEvent("E", "P-" + std::to_string(session % 3), "s" + std::to_string(session)));
    }
    AppendResult r = MustAppend("case-" + std::to_string(session % 4), ExpectedVersion::Any(), batch);
    EXPECT_EQ(r.first_position, expected + 1);
    expected += batch.size();
    Open();
  }
  auto all = All();
  ASSERT_EQ(all.size(), expected);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].position, i + 1);
  EXPECT_EQ(Info().streams, 4u);
  EXPECT_EQ(Info().subjects, 3u);
}

// An erasure that shares a commit group with appends naming the same person
// (the appends queued first) leaves none of their lookup or reverse-lookup
// keys: the erasure deletes what is only in the group's batch as well as
// what is already in the files.
TEST_F(ConcurrencyTest, ErasureInTheSameCommitGroupAsAppendsLeavesNoLookupKeys) {
  constexpr int kTrials = 30;
  constexpr int kWriters = 6;
  std::vector<std::string> subjects;
  for (int trial = 0; trial < kTrials; ++trial) {
    char subject[32];
    std::snprintf(subject, sizeof subject, "P-race-%03d", trial);
    subjects.push_back(subject);
    // The person exists before the race, so the erasure never finds nobody.
    MustAppend("race-" + subjects.back(), ExpectedVersion::Any(),
               {PersonEvent("Referred", subject, "{\"n\":0}", {{"phone", "0700 000 000"}})});
    std::atomic<bool> erased{false};
    std::atomic<int> refused{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !erased.load() || i < 3; ++i) {
          std::string value = std::to_string(trial) + "-" + std::to_string(w) + "-" + std::to_string(i);
          auto r = store_->Append("race-" + std::string(subject), ExpectedVersion::Any(),
                                  {PersonEvent("Contact", subject, "{\"n\":1}", {{"ref", value}})});
          if (!r.ok()) {
            EXPECT_EQ(r.status().code(), Status::Code::kErased) << r.status().ToString();
            ++refused;
            return;
          }
          if (i > 2000) return;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + trial % 5));
    auto e = store_->EraseSubject(subject, Actor{"u-9", "controller", "test"}, "art17");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    erased = true;
    for (auto& t : writers) t.join();
    EXPECT_GT(refused.load(), 0) << "no writer met the erasure: the race was not run";
  }
  Close();
  auto raw = testing::RawDb::Open(path_);
  ASSERT_TRUE(raw);
  auto lookup = raw->Dump()["lookup"];
  size_t left = 0;
  for (const auto& [key, value] : lookup) {
    for (const auto& subject : subjects) {
      bool forward = key.size() == 1 + 32 + subject.size() && key[0] == 'h' && key.ends_with(subject);
      bool reverse = key.starts_with("r" + subject + std::string(1, '\0'));
      if (forward || reverse) {
        ++left;
        ADD_FAILURE() << (forward ? "lookup" : "reverse-lookup") << " key of erased " << subject
                      << " left in the store";
      }
    }
  }
  EXPECT_EQ(left, 0u);
}

}  // namespace
}  // namespace hearth
