// The projection runtime: inline and asynchronous folds, checkpoints,
// rebuilds, failures; and the access log.
#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "hearth/store.h"
#include "test_util.h"

namespace hearth {
namespace {

using testing::MakeEvent;
using testing::MakeKeyFile;
using testing::TempDir;
using testing::TestOptions;

// Counts events per type and remembers the last position per stream.
class CountingProjection : public Projection {
 public:
  CountingProjection(std::string name, ProjectionMode mode, uint32_t version = 1)
      : name_(std::move(name)), mode_(mode), version_(version) {}
  std::string name() const override { return name_; }
  uint32_t version() const override { return version_; }
  ProjectionMode mode() const override { return mode_; }
  Status Apply(const RecordedEvent& e, ProjectionState& state) override {
    if (e.type == fail_on_type) throw std::runtime_error("cannot fold " + e.type);
    if (!e.personal.empty()) return Status::InvalidArgument("projections must not see personal data");
    std::string count;
    Status s = state.Get("count/" + e.type, &count);
    uint64_t n = s.ok() ? std::stoull(count) : 0;
    state.Put("count/" + e.type, std::to_string(n + 1));
    state.Put("last/" + e.stream, std::to_string(e.position));
    return Status::OK();
  }
  std::string fail_on_type;

 private:
  std::string name_;
  ProjectionMode mode_;
  uint32_t version_;
};

std::map<std::string, std::string> Dump(Store& store, const std::string& name) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(store
                  .ScanProjection(name, "",
                                  [&](std::string_view k, std::string_view v) {
                                    out.emplace(std::string(k), std::string(v));
                                    return true;
                                  })
                  .ok());
  return out;
}

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override { key_ = MakeKeyFile(dir_.sub("root.key")); }
  std::unique_ptr<Store> Open(std::vector<std::shared_ptr<Projection>> projections) {
    Options o = TestOptions(key_);
    o.projections = std::move(projections);
    auto s = Store::Open(o, dir_.sub("store"));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  void AppendSome(Store& store, int streams, int per_stream) {
    for (int i = 0; i < streams; ++i) {
      std::vector<NewEvent> batch;
      for (int j = 0; j < per_stream; ++j) {
        batch.push_back(MakeEvent(j % 2 ? "NoteAdded" : "ContactRecorded", "P-" + std::to_string(i), "secret"));
      }
      ASSERT_TRUE(store.Append("case/D1/" + std::to_string(i), ExpectedVersion::Any(), batch).ok());
    }
  }
  TempDir dir_;
  std::string key_;
};

TEST_F(ProjectionTest, InlineProjectionIsNeverBehindAndSeesFactsOnly) {
  auto p = std::make_shared<CountingProjection>("counts", ProjectionMode::kInline);
  auto store = Open({p});
  AppendSome(*store, 3, 4);
  auto statuses = store->Projections();
  ASSERT_TRUE(statuses.ok());
  EXPECT_EQ((*statuses)[0].position, 12u);
  EXPECT_FALSE((*statuses)[0].stopped) << (*statuses)[0].error;
  std::string v;
  ASSERT_TRUE(store->GetProjectionValue("counts", "count/NoteAdded", &v).ok());
  EXPECT_EQ(v, "6");
}

// A multi-key read gives what reading each key gives (any order, absent
// keys, repeats), and a scan from a key gives the tail of the scan of its
// prefix; neither reaches another projection's keys (the same keys here).
TEST_F(ProjectionTest, MultiKeyReadsAndScansFromAKeyStayInTheirProjection) {
  auto a = std::make_shared<CountingProjection>("a", ProjectionMode::kInline);
  auto b = std::make_shared<CountingProjection>("b", ProjectionMode::kInline);
  auto store = Open({a, b});
  AppendSome(*store, 6, 3);
  std::vector<std::string> keys = {"last/case/D1/4", "count/NoteAdded", "absent", "last/case/D1/0",
                                   "count/NoteAdded", "count/ContactRecorded"};
  std::vector<std::optional<std::string>> values;
  ASSERT_TRUE(store->GetProjectionValues("a", keys, &values).ok());
  ASSERT_EQ(values.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    std::string one;
    Status s = store->GetProjectionValue("a", keys[i], &one);
    if (s.IsNotFound()) {
      EXPECT_FALSE(values[i].has_value()) << keys[i];
    } else {
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_TRUE(values[i].has_value()) << keys[i];
      EXPECT_EQ(*values[i], one) << keys[i];
    }
  }
  EXPECT_EQ(*values[1], "6");  // one NoteAdded in each of the six streams
  ASSERT_TRUE(store->GetProjectionValues("a", {}, &values).ok());
  EXPECT_TRUE(values.empty());
  EXPECT_EQ(store->GetProjectionValues("nope", keys, &values).code(), Status::Code::kNotFound);

  auto all = Dump(*store, "a");
  for (const char* prefix : {"", "last/"}) {
    for (const std::string& from : {std::string(prefix), std::string("last/case/D1/3"), std::string("last/case/D1/31")}) {
      std::vector<std::string> want, got;
      for (const auto& [k, v] : all) {
        if (k.starts_with(prefix) && k >= from) want.push_back(k);
      }
      ASSERT_TRUE(store->ScanProjectionFrom("a", prefix, from, [&](std::string_view k, std::string_view) {
        got.emplace_back(k);
        return true;
      }).ok());
      EXPECT_EQ(got, want) << "prefix '" << prefix << "' from " << from;
    }
  }
  EXPECT_EQ(store->ScanProjectionFrom("a", "last/", "count/", [](std::string_view, std::string_view) {
    return true;
  }).code(), Status::Code::kInvalidArgument);
}

TEST_F(ProjectionTest, RebuildGivesByteIdenticalState) {
  auto inl = std::make_shared<CountingProjection>("inline-counts", ProjectionMode::kInline);
  auto asy = std::make_shared<CountingProjection>("async-counts", ProjectionMode::kAsync);
  auto store = Open({inl, asy});
  AppendSome(*store, 20, 7);
  ASSERT_TRUE(store->WaitForProjection("async-counts", 0, 10000).ok());
  auto before_inline = Dump(*store, "inline-counts");
  auto before_async = Dump(*store, "async-counts");
  EXPECT_EQ(before_inline, before_async);
  ASSERT_TRUE(store->RebuildProjection("inline-counts").ok());
  ASSERT_TRUE(store->RebuildProjection("async-counts").ok());
  EXPECT_EQ(Dump(*store, "inline-counts"), before_inline);
  EXPECT_EQ(Dump(*store, "async-counts"), before_async);
  EXPECT_EQ(store->RebuildProjection("nope").code(), Status::Code::kNotFound);
}

// Several projections rebuilt in one pass over the log (`hearth rebuild`)
// end as each rebuilt alone does, over more than two pages of the fold (so
// the read-ahead runs). An unknown name resets nothing; one that stops on an
// event stops alone, named in the error, and the others are rebuilt.
TEST_F(ProjectionTest, RebuildingSeveralInOnePassGivesWhatEachAloneGives) {
  auto inl = std::make_shared<CountingProjection>("inline-counts", ProjectionMode::kInline);
  auto asy = std::make_shared<CountingProjection>("async-counts", ProjectionMode::kAsync);
  auto fragile = std::make_shared<CountingProjection>("fragile", ProjectionMode::kInline);
  auto store = Open({inl, asy, fragile});
  AppendSome(*store, 50, 51);  // 2,550 events
  ASSERT_TRUE(store->WaitForProjection("async-counts", 0, 10000).ok());
  const uint64_t last = 2550;
  auto before_inline = Dump(*store, "inline-counts");
  auto before_async = Dump(*store, "async-counts");
  auto position_of = [&](const std::string& name) -> ProjectionStatus {
    auto statuses = store->Projections();
    EXPECT_TRUE(statuses.ok());
    for (const auto& p : *statuses) {
      if (p.name == name) return p;
    }
    ADD_FAILURE() << "no status for " << name;
    return {};
  };

  ASSERT_TRUE(store->RebuildProjections({"inline-counts", "async-counts"}).ok());
  EXPECT_EQ(Dump(*store, "inline-counts"), before_inline);
  EXPECT_EQ(Dump(*store, "async-counts"), before_async);
  EXPECT_EQ(position_of("inline-counts").position, last);
  EXPECT_EQ(position_of("async-counts").position, last);
  // The same as one at a time.
  ASSERT_TRUE(store->RebuildProjection("async-counts").ok());
  EXPECT_EQ(Dump(*store, "async-counts"), before_async);

  Status unknown = store->RebuildProjections({"inline-counts", "nope"});
  EXPECT_EQ(unknown.code(), Status::Code::kNotFound) << unknown.ToString();
  EXPECT_NE(unknown.message().find("nope"), std::string::npos) << unknown.ToString();
  EXPECT_EQ(position_of("inline-counts").position, last) << "an unknown name reset a projection";
  EXPECT_EQ(Dump(*store, "inline-counts"), before_inline);
  EXPECT_EQ(store->RebuildProjections({}).code(), Status::Code::kInvalidArgument);

  // The first NoteAdded is position 2 (AppendSome alternates the types).
  fragile->fail_on_type = "NoteAdded";
  Status stopped = store->RebuildProjections({"fragile", "inline-counts", "async-counts"});
  EXPECT_EQ(stopped.code(), Status::Code::kCorruption) << stopped.ToString();
  EXPECT_NE(stopped.message().find("projection fragile stopped at position 2"), std::string::npos)
      << stopped.ToString();
  EXPECT_EQ(stopped.message().find("inline-counts"), std::string::npos) << stopped.ToString();
  ProjectionStatus f = position_of("fragile");
  EXPECT_TRUE(f.stopped);
  EXPECT_EQ(f.failed_position, 2u);
  EXPECT_EQ(f.position, 0u);
  EXPECT_TRUE(Dump(*store, "fragile").empty()) << "the page it stopped on was written";
  EXPECT_EQ(Dump(*store, "inline-counts"), before_inline);
  EXPECT_EQ(Dump(*store, "async-counts"), before_async);
  EXPECT_EQ(position_of("inline-counts").position, last);
  EXPECT_EQ(position_of("async-counts").position, last);
  EXPECT_FALSE(position_of("inline-counts").stopped);
  fragile->fail_on_type.clear();
  ASSERT_TRUE(store->RebuildProjections({"fragile"}).ok());
  EXPECT_EQ(Dump(*store, "fragile"), before_inline);
}

// Projections at different positions fold in the same pass, each from its
// own checkpoint: an open that brings a new inline projection level leaves
// the current one as it was, and a new asynchronous projection catches up
// beside one that is current, neither folding an event twice.
TEST_F(ProjectionTest, ProjectionsAtDifferentPositionsFoldTogetherEachFromItsOwn) {
  std::map<std::string, std::string> inline_before, async_before;
  {
    auto store = Open({std::make_shared<CountingProjection>("a", ProjectionMode::kInline),
                       std::make_shared<CountingProjection>("c", ProjectionMode::kAsync)});
    AppendSome(*store, 30, 50);  // 1,500 events: two pages
    ASSERT_TRUE(store->WaitForProjection("c", 0, 10000).ok());
    inline_before = Dump(*store, "a");
    async_before = Dump(*store, "c");
  }
  auto store = Open({std::make_shared<CountingProjection>("a", ProjectionMode::kInline),
                     std::make_shared<CountingProjection>("b", ProjectionMode::kInline),
                     std::make_shared<CountingProjection>("c", ProjectionMode::kAsync),
                     std::make_shared<CountingProjection>("d", ProjectionMode::kAsync)});
  EXPECT_EQ(Dump(*store, "a"), inline_before);
  EXPECT_EQ(Dump(*store, "b"), inline_before);
  ASSERT_TRUE(store->WaitForProjection("d", 0, 10000).ok());
  EXPECT_EQ(Dump(*store, "c"), async_before);
  EXPECT_EQ(Dump(*store, "d"), async_before);
  EXPECT_EQ(inline_before, async_before);
}

TEST_F(ProjectionTest, AsyncCatchesUpAfterReopenAndVersionBumpRebuilds) {
  {
    auto store = Open({});
    AppendSome(*store, 10, 10);
  }
  auto p = std::make_shared<CountingProjection>("late", ProjectionMode::kAsync);
  {
    auto store = Open({p});
    ASSERT_TRUE(store->WaitForProjection("late", 100, 10000).ok());
    std::string v;
    ASSERT_TRUE(store->GetProjectionValue("late", "count/ContactRecorded", &v).ok());
    EXPECT_EQ(v, "50");
    AppendSome(*store, 1, 2);
  }
  auto p2 = std::make_shared<CountingProjection>("late", ProjectionMode::kAsync, 2);
  auto store = Open({p2});
  ASSERT_TRUE(store->WaitForProjection("late", 0, 10000).ok());
  std::string v;
  ASSERT_TRUE(store->GetProjectionValue("late", "count/ContactRecorded", &v).ok());
  EXPECT_EQ(v, "51");
  auto st = store->Projections();
  EXPECT_EQ((*st)[0].version, 2u);
}

TEST_F(ProjectionTest, AFailingProjectionStopsAndIsReportedNotSkipped) {
  auto inl = std::make_shared<CountingProjection>("inl", ProjectionMode::kInline);
  auto asy = std::make_shared<CountingProjection>("asy", ProjectionMode::kAsync);
  inl->fail_on_type = "Poison";
  asy->fail_on_type = "Poison";
  auto store = Open({inl, asy});
  AppendSome(*store, 1, 2);
  auto r = store->Append("case/D1/x", ExpectedVersion::Any(), {MakeEvent("Poison")});
  ASSERT_TRUE(r.ok()) << "a failing projection must not block the log";
  AppendSome(*store, 1, 2);
  Status w = store->WaitForProjection("asy", 0, 10000);
  EXPECT_TRUE(w.IsCorruption()) << w.ToString();
  EXPECT_NE(w.message().find("stopped at position 3"), std::string::npos) << w.message();
  auto st = store->Projections();
  for (const auto& s : *st) {
    EXPECT_TRUE(s.stopped) << s.name;
    EXPECT_EQ(s.failed_position, 3u) << s.name;
    // Inline: each append is its own batch. Async: 1..3 may share a page,
    // which is then dropped whole.
    if (s.mode == ProjectionMode::kInline) {
      EXPECT_EQ(s.position, 2u) << s.name;
    }
    EXPECT_LE(s.position, 2u) << s.name;
    EXPECT_NE(s.error.find("cannot fold Poison"), std::string::npos) << s.error;
  }
  std::string v;
  ASSERT_TRUE(store->GetProjectionValue("inl", "count/ContactRecorded", &v).ok());
  EXPECT_EQ(v, "1");
  // Still failing on rebuild: reported again, not skipped.
  EXPECT_FALSE(store->RebuildProjection("inl").ok());
  inl->fail_on_type.clear();
  EXPECT_TRUE(store->RebuildProjection("inl").ok());
  ASSERT_TRUE(store->GetProjectionValue("inl", "count/ContactRecorded", &v).ok());
  EXPECT_EQ(v, "2");
}

// Folds of more than a page (1,000 events) read the next page on a second
// thread while the one before is folded: every event is folded once, in
// order, and a failure in a later page stops the projection at the
// checkpoint before that page.
TEST_F(ProjectionTest, FoldsOfManyPagesSeeEveryEventOnceAndStopAtTheFailingPage) {
  {
    auto store = Open({});
    AppendSome(*store, 35, 100);  // positions 1..3500
    ASSERT_TRUE(store->Append("case/D1/poison", ExpectedVersion::Any(), {MakeEvent("Poison")}).ok());
    AppendSome(*store, 5, 100);  // 3502..4001
  }
  auto inl = std::make_shared<CountingProjection>("inl", ProjectionMode::kInline);
  auto asy = std::make_shared<CountingProjection>("asy", ProjectionMode::kAsync);
  auto whole = std::make_shared<CountingProjection>("whole", ProjectionMode::kAsync);
  inl->fail_on_type = "Poison";
  asy->fail_on_type = "Poison";
  auto store = Open({inl, asy, whole});  // the inline one folds all 4,001 at open
  ASSERT_TRUE(store->WaitForProjection("whole", 0, 30000).ok());
  EXPECT_TRUE(store->WaitForProjection("asy", 0, 30000).IsCorruption());
  auto st = store->Projections();
  ASSERT_TRUE(st.ok());
  for (const auto& s : *st) {
    if (s.name == "whole") {
      EXPECT_FALSE(s.stopped);
      EXPECT_EQ(s.position, 4001u);
      continue;
    }
    EXPECT_TRUE(s.stopped) << s.name;
    EXPECT_EQ(s.failed_position, 3501u) << s.name;
    EXPECT_EQ(s.position, 3000u) << s.name << ": the failing page is dropped whole";
    std::string v;
    ASSERT_TRUE(store->GetProjectionValue(s.name, "count/ContactRecorded", &v).ok());
    EXPECT_EQ(v, "1500") << s.name << ": 30 streams of 100 events, half of them contacts";
  }
  std::string v;
  ASSERT_TRUE(store->GetProjectionValue("whole", "count/ContactRecorded", &v).ok());
  EXPECT_EQ(v, "2000");
  ASSERT_TRUE(store->GetProjectionValue("whole", "count/Poison", &v).ok());
  EXPECT_EQ(v, "1");
  ASSERT_TRUE(store->GetProjectionValue("whole", "last/case/D1/34", &v).ok());
  EXPECT_EQ(v, "3500");
  ASSERT_TRUE(store->GetProjectionValue("whole", "last/case/D1/4", &v).ok());
  EXPECT_EQ(v, "4001");
  auto before = Dump(*store, "whole");
  ASSERT_TRUE(store->RebuildProjection("whole").ok());
  EXPECT_EQ(Dump(*store, "whole"), before);
  inl->fail_on_type.clear();
  ASSERT_TRUE(store->RebuildProjection("inl").ok());
  EXPECT_EQ(Dump(*store, "inl"), before) << "the same events folded by an inline projection";
}

TEST_F(ProjectionTest, AccessLogKeepsWhoReadWhatPerSubject) {
  auto store = Open({});
  AccessRecord r;
  r.subject = "P-7";
  r.plugin = "web";
  r.user = "u-3";
  r.role = "caseworker";
  r.action = "read";
  r.purpose = "home visit preparation";
  r.first_position = 4;
  r.last_position = 9;
  r.events = 3;
  ASSERT_TRUE(store->LogAccess({r}).ok());
  r.action = "disclosure";
  r.recipient = "OT team, County Council";
  ASSERT_TRUE(store->LogAccess({r}).ok());
  store.reset();
  store = Open({});
  auto log = store->AccessLog("P-7");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].action, "read");
  EXPECT_EQ((*log)[0].purpose, "home visit preparation");
  EXPECT_EQ((*log)[1].recipient, "OT team, County Council");
  EXPECT_EQ((*log)[1].events, 3u);
  EXPECT_GT((*log)[0].time, 0);
  EXPECT_TRUE(store->AccessLog("P-8")->empty());
  EXPECT_FALSE(store->LogAccess({AccessRecord{}}).ok());
}

}  // namespace
}  // namespace hearth
