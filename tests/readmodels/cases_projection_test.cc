// The `cases` projection: rebuilds are byte-identical to the incremental
// state, inline and asynchronous folds agree, every state equals an
// independent fold of its stream, the district indexes follow transfers and
// closures, and clear errors for cases that do not exist.
#include <gtest/gtest.h>

#include <set>

#include "county.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

// The cases projection under another name, so one store can hold several
// variants side by side.
class Renamed final : public Projection {
 public:
  Renamed(std::string name, std::shared_ptr<Projection> inner) : name_(std::move(name)), inner_(std::move(inner)) {}
  std::string name() const override { return name_; }
  uint32_t version() const override { return inner_->version(); }
  ProjectionMode mode() const override { return inner_->mode(); }
  Status Apply(const RecordedEvent& e, ProjectionState& s) override { return inner_->Apply(e, s); }
  Status Flush(ProjectionState& s) override { return inner_->Flush(s); }
  void Discard() override { inner_->Discard(); }

 private:
  std::string name_;
  std::shared_ptr<Projection> inner_;
};

class CasesProjectionTest : public ReadModelTest {
 protected:
  void GenerateCounty(uint32_t cases_per_district) {
    demo::CountyOptions o;
    o.seed = 7;
    o.limit_cases = cases_per_district;
    o.threads = 2;
    auto report = demo::GenerateCounty(recorder_.get(), calendar_, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    ASSERT_EQ(report->cases, 6u * cases_per_district);
  }
  std::set<std::string> CaseStreams() {
    std::set<std::string> out;
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      EXPECT_TRUE(page.ok());
      if (!page.ok() || page->empty()) break;
      for (const auto& e : *page) {
        if (e.stream.starts_with("case/")) out.insert(e.stream);
      }
      from = page->back().position + 1;
    }
    return out;
  }
  domain::Calendar calendar_ = domain::Calendar::EnglandAndWales();
};

TEST_F(CasesProjectionTest, RebuildGivesTheIncrementalStateByteForByte) {
  Open();
  GenerateCounty(12);
  CatchUp();
  auto incremental = DumpProjection(*store_, kCasesProjection);
  ASSERT_GT(incremental.size(), 72u * 2);
  ASSERT_TRUE(store_->RebuildProjection(kCasesProjection).ok());
  auto rebuilt = DumpProjection(*store_, kCasesProjection);
  EXPECT_EQ(rebuilt.size(), incremental.size());
  EXPECT_TRUE(rebuilt == incremental);
  // And again after reopening (a rebuild on open: the version is unchanged,
  // so this resumes; then an explicit rebuild).
  Open();
  CatchUp();
  EXPECT_TRUE(DumpProjection(*store_, kCasesProjection) == incremental);
  ASSERT_TRUE(store_->RebuildProjection(kCasesProjection).ok());
  EXPECT_TRUE(DumpProjection(*store_, kCasesProjection) == incremental);
}

TEST_F(CasesProjectionTest, InlineAsyncAndUncachedFoldsAgree) {
  CasesProjectionOptions inline_options;
  inline_options.mode = ProjectionMode::kInline;
  CasesProjectionOptions uncached;
  uncached.cache_cases = 0;
  CasesProjectionOptions tiny;
  tiny.cache_cases = 3;  // forgets often, mid-stream
  Open({MakeCasesProjection(codec_.get()),
        std::make_shared<Renamed>("cases_inline", MakeCasesProjection(codec_.get(), inline_options)),
        std::make_shared<Renamed>("cases_uncached", MakeCasesProjection(codec_.get(), uncached)),
        std::make_shared<Renamed>("cases_tiny", MakeCasesProjection(codec_.get(), tiny))});
  GenerateCounty(8);
  CatchUp();
  for (const char* name : {"cases_uncached", "cases_tiny"}) {
    ASSERT_TRUE(store_->WaitForProjection(name, 0, 60000).ok());
  }
  auto a = DumpProjection(*store_, kCasesProjection);
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(DumpProjection(*store_, "cases_inline") == a);
  EXPECT_TRUE(DumpProjection(*store_, "cases_uncached") == a);
  EXPECT_TRUE(DumpProjection(*store_, "cases_tiny") == a);
}

TEST_F(CasesProjectionTest, EveryStateEqualsAnIndependentFoldOfItsStream) {
  Open();
  GenerateCounty(10);
  CatchUp();
  auto streams = CaseStreams();
  ASSERT_EQ(streams.size(), 60u);
  for (const std::string& id : streams) {
    auto folded = recorder_->Load(id);
    ASSERT_TRUE(folded.ok()) << folded.status().ToString();
    auto projected = GetCase(*store_, id);
    ASSERT_TRUE(projected.ok()) << projected.status().ToString();
    EXPECT_EQ(EncodeCaseState(*projected), EncodeCaseState(*folded)) << id;
  }
}

TEST_F(CasesProjectionTest, IndexesListOpenCasesAndEveryCaseByDistrict) {
  Open();
  GenerateCounty(10);
  CatchUp();
  std::set<std::string> all, open;
  std::map<std::string, std::set<std::string>> by_district;
  ASSERT_TRUE(ScanCases(*store_, CaseScan{}, [&](const domain::CaseState& c) {
                all.insert(c.case_id);
                if (!c.closed) open.insert(c.case_id);
                by_district[c.district].insert(c.case_id);
                return true;
              }).ok());
  EXPECT_EQ(all, CaseStreams());
  EXPECT_FALSE(open.empty());
  EXPECT_LT(open.size(), all.size());  // the demo closes most cases in the year
  std::set<std::string> open_scanned;
  ASSERT_TRUE(ScanCases(*store_, CaseScan{"", true, std::nullopt}, [&](const domain::CaseState& c) {
                open_scanned.insert(c.case_id);
                return true;
              }).ok());
  EXPECT_EQ(open_scanned, open);
  for (const auto& [district, ids] : by_district) {
    std::set<std::string> scanned, scanned_open;
    ASSERT_TRUE(ScanCases(*store_, CaseScan{district, false, std::nullopt}, [&](const domain::CaseState& c) {
                  scanned.insert(c.case_id);
                  return true;
                }).ok());
    ASSERT_TRUE(ScanCases(*store_, CaseScan{district, true, std::nullopt}, [&](const domain::CaseState& c) {
                  scanned_open.insert(c.case_id);
                  return true;
                }).ok());
    EXPECT_EQ(scanned, ids) << district;
    for (const auto& id : scanned_open) EXPECT_TRUE(open.count(id) && ids.count(id)) << id;
  }
}

TEST_F(CasesProjectionTest, TransfersAndClosuresMoveTheIndexKeys) {
  CasesProjectionOptions o;
  o.mode = ProjectionMode::kInline;  // never behind: each step is visible at once
  Open({MakeCasesProjection(codec_.get(), o)});
  const std::string id = "case/D1/T-1";
  auto keys = [&] {
    std::set<std::string> out;
    for (const auto& [k, v] : DumpProjection(*store_, kCasesProjection)) {
      if (k[0] == 'd' || k[0] == 'o') out.insert(k[0] + std::string("|") + k.substr(1, k.find('\0') - 1));
    }
    return out;
  };
  Record(id, {Enquiry("2018-05-01", "P-T1", "D1")});
  EXPECT_EQ(keys(), (std::set<std::string>{"d|D1", "o|D1"}));
  Record(id, {Ev("CaseTransferred", R"("transferredOn":"2018-05-02","fromTeam":"A","toTeam":"B","toDistrict":"D2")")});
  EXPECT_EQ(keys(), (std::set<std::string>{"d|D2", "o|D2"}));
  Record(id, {Ev("CaseClosed", R"("closedOn":"2018-05-03","reason":"adviceOnly")")});
  EXPECT_EQ(keys(), (std::set<std::string>{"d|D2"}));
  Record(id, {Ev("CaseReopened", R"("reopenedOn":"2018-05-04","reasonCode":"newNeed")")});
  EXPECT_EQ(keys(), (std::set<std::string>{"d|D2", "o|D2"}));
  auto c = GetCase(*store_, id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->district, "D2");
  EXPECT_EQ(c->reopened, 1u);
  EXPECT_EQ(c->version, 4u);
}

TEST_F(CasesProjectionTest, ACaseThatDoesNotExistIsAClearError) {
  Open();
  Record("case/D1/1", {Enquiry("2018-05-01", "P-1", "D1")});
  CatchUp();
  auto missing = GetCase(*store_, "case/D1/404");
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("no case case/D1/404"), std::string::npos)
      << missing.status().message();
  EXPECT_TRUE(GetCase(*store_, "case/D1/1").ok());

  // A store opened without the projection says so.
  Open({});
  auto without = GetCase(*store_, "case/D1/1");
  ASSERT_FALSE(without.ok());
  EXPECT_NE(without.status().message().find("without the cases projection"), std::string::npos)
      << without.status().message();
}

TEST_F(CasesProjectionTest, AnEventItCannotFoldStopsItAndIsReported) {
  Open();
  Record("case/D1/1", {Enquiry("2018-05-01", "P-1", "D1")});
  CatchUp();
  auto before = DumpProjection(*store_, kCasesProjection);
  // Written past the recorder, straight to the log: a type the domain does not know.
  NewEvent bogus = hearth::testing::MakeEvent("NoSuchDomainEvent", "P-1");
  auto appended = store_->Append("case/D1/1", ExpectedVersion::Any(), {bogus});
  ASSERT_TRUE(appended.ok());
  Status s = store_->WaitForProjection(kCasesProjection, 0, 60000);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("NoSuchDomainEvent"), std::string::npos) << s.ToString();
  auto statuses = store_->Projections();
  ASSERT_TRUE(statuses.ok());
  ASSERT_EQ(statuses->size(), 1u);
  EXPECT_TRUE((*statuses)[0].stopped);
  EXPECT_EQ((*statuses)[0].failed_position, appended->first_position);
  // The state stays as it was before the event: nothing skipped, nothing half-folded.
  EXPECT_TRUE(DumpProjection(*store_, kCasesProjection) == before);
}

TEST_F(CasesProjectionTest, OtherStreamsArePassedOver) {
  Open();
  auto appended = store_->Append("notes/elsewhere", ExpectedVersion::Any(),
                                 {hearth::testing::MakeEvent("AnythingAtAll", "P-9")});
  ASSERT_TRUE(appended.ok());
  Record("case/D4/1", {Enquiry("2018-05-01", "P-1", "D4")});
  CatchUp();
  auto dump = DumpProjection(*store_, kCasesProjection);
  // The case's state, its two index keys, its dated facts, its district's
  // count (the enquiry registers nobody: no client's codes), its two work
  // index entries (a first visit and an allocation to come) and the work
  // index's settled day.
  std::set<char> tags;
  for (const auto& [k, v] : dump) tags.insert(k[0]);
  EXPECT_EQ(tags, (std::set<char>{'c', 'd', 'o', 'f', 'a', 'u', 'U'}));
  EXPECT_EQ(dump.size(), 8u);
  auto c = GetCase(*store_, "case/D4/1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->last_position, appended->last_position + 1);
}

}  // namespace
}  // namespace hearth::readmodels::testing
