// Complaints (issue 17.5; docs/domain.md "Complaints", docs/readmodels.md
// "Complaint", docs/exports.md "Complaints"): escalation through stage 1,
// stage 2 and the Ombudsman with dates, each rule refused by name with
// nothing written; a complaint with no case on a stream of its own; the
// response deadline in the worklist; the stage reached in the return; the
// complainant's subject-access pack and erasure; a scoped session; and
// `hearth complaint` end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

using hearth::testing::CliRun;
using hearth::testing::Hearth;

constexpr const char* kCase = "case/D1/1";
constexpr const char* kK1 = "complaint/K-1";

class ComplaintTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
  }

  // A complaint event by a complaints officer; `words`, when given, in the
  // complainant's section.
  NewEvent C(const std::string& type, const std::string& facts, const std::string& complainant = "",
             const std::string& words = "") {
    std::string subjects, personal;
    if (!complainant.empty()) {
      subjects = R"(,"subjects":[{"id":")" + complainant + R"(","role":"other"}])";
      if (!words.empty()) {
        personal = R"(,"personal":[{"subject":")" + complainant + R"(","role":"other","details":{"freeText":")" +
                   words + R"("}}])";
      }
    }
    return E(R"({"type":")" + type + R"(","actor":{"user":"S-CO-1","role":"complaintsOfficer","plugin":"test"},)"
             R"("facts":{)" + facts + "}" + subjects + personal + "}");
  }
  NewEvent Received(const std::string& on, int n, const std::string& stage, const std::string& district = "") {
    return C("ComplaintReceived", R"("receivedOn":")" + on + R"(","complaint":)" + std::to_string(n) +
                                      R"(,"stage":")" + stage + R"(","channel":"email","categoryCode":"delay")" +
                                      (district.empty() ? std::string() : R"(,"district":")" + district + "\""));
  }
  NewEvent Escalated(const std::string& on, int n, const std::string& to) {
    return C("ComplaintEscalated",
             R"("escalatedOn":")" + on + R"(","complaint":)" + std::to_string(n) + R"(,"toStage":")" + to + "\"");
  }
  NewEvent Resolved(const std::string& on, int n, const std::string& stage, const std::string& result = "notUpheld") {
    return C("ComplaintResolved", R"("resolvedOn":")" + on + R"(","complaint":)" + std::to_string(n) +
                                      R"(,"stage":")" + stage + R"(","result":")" + result + "\"");
  }

  uint64_t Version(const std::string& stream) {
    auto v = store_->StreamVersion(stream);
    return v.ok() ? *v : 0;
  }
  void ExpectRule(const Result<AppendResult>& r, const std::string& rule) {
    ASSERT_FALSE(r.ok()) << "accepted; expected rule " << rule;
    EXPECT_EQ(r.status().message().rfind("rule " + rule + ":", 0), 0u) << r.status().ToString();
  }
  // On the case: refused by `rule`, nothing written.
  void CaseRefused(NewEvent e, const std::string& rule) {
    uint64_t before = Version(kCase);
    ExpectRule(recorder_->Record(kCase, {std::move(e)}), rule);
    EXPECT_EQ(Version(kCase), before) << "a refused batch wrote something";
  }
  Result<AppendResult> Own(const std::string& stream, std::vector<NewEvent> events) {
    return domain::RecordComplaint(*store_, *codec_, stream, ExpectedVersion::Any(), std::move(events),
                                   D("2019-12-31"));
  }
  void OwnRefused(const std::string& stream, std::vector<NewEvent> events, const std::string& rule) {
    uint64_t before = Version(stream);
    ExpectRule(Own(stream, std::move(events)), rule);
    EXPECT_EQ(Version(stream), before) << "a refused batch wrote something";
  }
  domain::CaseState Case() {
    auto s = recorder_->Load(kCase);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : domain::CaseState{};
  }

  std::vector<WorkItem> ComplaintItems(const char* as_of, const std::string& district = "",
                                       const std::string& worker = "") {
    return ComplaintItemsOn(D(as_of), district, worker);
  }
  std::vector<WorkItem> ComplaintItemsOn(domain::Date as_of, const std::string& district = "",
                                         const std::string& worker = "") {
    CatchUp();
    auto complaints = domain::ReadComplaints(*store_, *codec_);
    EXPECT_TRUE(complaints.ok()) << complaints.status().ToString();
    WorklistOptions w;
    w.as_of = as_of;
    w.district = district;
    w.worker = worker;
    w.complaints = *complaints;
    auto wl = BuildWorklist(*store_, domain::Calendar::EnglandAndWales(), w);
    EXPECT_TRUE(wl.ok()) << wl.status().ToString();
    std::vector<WorkItem> out;
    if (!wl.ok()) return out;
    for (const auto& i : wl->items) {
      if (i.kind == WorkKind::kComplaint) out.push_back(i);
    }
    return out;
  }
};

TEST_F(ComplaintTest, OnACaseAComplaintIsEscalatedStageByStageAndAnsweredWhereItStands) {
  Record(kCase, {Enquiry("2019-03-01", "P-1", "D1")});
  CaseRefused(Escalated("2019-03-05", 1, "stage2"), "complaint-number");  // never received
  CaseRefused(Received("2019-03-04", 1, "stage1", "D1"), "complaint-district");
  Record(kCase, {Received("2019-03-04", 1, "stage1")});
  CaseRefused(Received("2019-03-05", 1, "stage1"), "complaint-number");          // number used
  CaseRefused(Resolved("2019-03-10", 1, "stage2"), "complaint-stage");           // it stands at stage 1
  CaseRefused(Resolved("2019-03-01", 1, "stage1"), "complaint-stage");           // before it was received
  CaseRefused(Escalated("2019-03-06", 1, "stage1"), "complaint-escalation");     // not higher
  CaseRefused(Escalated("2019-03-06", 1, "informal"), "complaint-escalation");   // not a formal stage
  CaseRefused(Escalated("2019-03-03", 1, "stage2"), "complaint-escalation");     // before it reached stage 1
  Record(kCase, {Resolved("2019-03-15", 1, "stage1")});
  CaseRefused(Resolved("2019-03-16", 1, "stage1"), "complaint-number");          // answered already
  CaseRefused(Escalated("2019-03-14", 1, "stage2"), "complaint-escalation");     // before the answer
  Record(kCase, {Escalated("2019-03-20", 1, "stage2")});
  domain::CaseState s = Case();
  ASSERT_EQ(s.complaint_list.size(), 1u);
  const domain::Complaint& c = s.complaint_list[0];
  EXPECT_EQ(c.stage, "stage2");
  EXPECT_EQ(domain::FormatDate(c.received_on), "2019-03-04");
  EXPECT_EQ(domain::FormatDate(c.stage_on), "2019-03-20");
  EXPECT_TRUE(c.awaiting_response());
  // A closed case still takes the complaint's escalation and answers
  // (issue 17.1), and stays closed.
  Record(kCase, {Ev("CaseClosed", R"("closedOn":"2019-03-25","reason":"adviceOnly")")});
  Record(kCase, {Resolved("2019-04-10", 1, "stage2"), Escalated("2019-05-01", 1, "ombudsman")});
  s = Case();
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.complaint_list[0].stage, "ombudsman");
  CaseRefused(Escalated("2019-05-02", 1, "stage2"), "complaint-escalation");     // back down
  Record(kCase, {Resolved("2019-09-01", 1, "ombudsman", "partlyUpheld")});
  s = Case();
  EXPECT_EQ(s.complaint_list[0].result, "partlyUpheld");
  EXPECT_FALSE(s.complaint_list[0].awaiting_response());
  // A second complaint on the case.
  Record(kCase, {Received("2019-09-10", 2, "informal")});
  EXPECT_EQ(Case().complaint_list.size(), 2u);
}

TEST_F(ComplaintTest, JsonFormRefusesUnknownKeysAndStagesNamingTheField) {
  NewEvent e;
  Status s = codec_->FromJson(
      R"({"type":"ComplaintEscalated","facts":{"escalatedOn":"2019-03-04","complaint":1,"toStage":"council"}})", &e);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("facts.toStage"), std::string::npos) << s.ToString();
  s = codec_->FromJson(
      R"({"type":"ComplaintEscalated","facts":{"escalatedOn":"2019-03-04","complaint":1,"why":"x"}})", &e);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("facts.why"), std::string::npos) << s.ToString();
}

TEST_F(ComplaintTest, AComplaintWithNoCaseHasAGaplessStreamOfItsOwn) {
  OwnRefused("complaint/K-2", {Received("2019-03-04", 1, "stage1", "D1")}, "complaint-ref");  // K-1 missing
  OwnRefused("complaint/X-1", {Received("2019-03-04", 1, "stage1", "D1")}, "complaint-ref");
  OwnRefused(kK1, {Received("2019-03-04", 1, "stage1")}, "complaint-district");
  OwnRefused(kK1, {Received("2019-03-04", 1, "stage1", "north/east")}, "complaint-district");
  OwnRefused(kK1, {Received("2019-03-04", 2, "stage1", "D1")}, "complaint-number");
  OwnRefused(kK1, {Escalated("2019-03-05", 1, "stage2")}, "complaint-stream");  // never received
  OwnRefused(kK1, {Ev("CaseNoteAdded", R"("writtenOn":"2019-03-04")")}, "complaint-stream");
  OwnRefused(kK1, {Received("2020-03-04", 1, "stage1", "D1")}, "date-in-future");
  // A batch whose second event breaks a rule writes nothing.
  OwnRefused(kK1, {Received("2019-03-04", 1, "stage1", "D1"), Resolved("2019-03-05", 1, "stage2")},
             "complaint-stage");
  auto ok = Own(kK1, {C("ComplaintReceived",
                        R"("receivedOn":"2019-03-04","complaint":1,"stage":"stage1","channel":"phone",)"
                        R"("categoryCode":"noCallBack","district":"D1")",
                        "P-K-1", "Nobody called me back.")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  OwnRefused(kK1, {Received("2019-03-05", 1, "stage1", "D1")}, "complaint-stream");  // received twice
  OwnRefused(kK1, {Resolved("2019-03-06", 2, "stage1")}, "complaint-number");
  ASSERT_TRUE(Own(kK1, {Resolved("2019-03-08", 1, "stage1"), Escalated("2019-03-12", 1, "stage2")}).ok());
  auto next = domain::NextComplaintRef(*store_);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "K-2");
  ASSERT_TRUE(Own("complaint/K-2", {Received("2019-04-01", 1, "informal", "D2")}).ok());
  auto all = domain::ReadComplaints(*store_, *codec_);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 2u);
  const domain::ComplaintState& k = (*all)[0];
  EXPECT_EQ(k.ref, "K-1");
  EXPECT_EQ(k.district, "D1");
  EXPECT_EQ(k.category, "noCallBack");
  EXPECT_EQ(k.complainants, std::vector<std::string>{"P-K-1"});
  EXPECT_EQ(k.complaint.stage, "stage2");
  EXPECT_EQ(domain::FormatDate(k.complaint.stage_on), "2019-03-12");
  EXPECT_TRUE(k.complaint.awaiting_response());
  EXPECT_EQ((*all)[1].district, "D2");
  // The words are personal: in the complainant's section, never the facts.
  auto events = store_->ReadStream(kK1, 1, Direction::kForward, 10);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ((*events)[0].facts.find("called"), std::string::npos);
  ASSERT_EQ((*events)[0].personal.size(), 1u);
  EXPECT_EQ((*events)[0].personal[0].subject, "P-K-1");
}

// The response deadline: 10 working days at entry and stage 1, 20 at stage
// 2, none of the agency's at the Ombudsman; open, due soon, overdue; off
// once answered; a closed case's complaint and one with no case too.
TEST_F(ComplaintTest, WorklistListsEachComplaintAwaitingAResponseWithItsDeadline) {
  Record(kCase, {Enquiry("2019-03-01", "P-1", "D1"), Received("2019-03-04", 1, "stage1")});
  EXPECT_TRUE(ComplaintItems("2019-03-03").empty());  // not yet received
  auto open = ComplaintItems("2019-03-05");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].case_id, kCase);
  EXPECT_EQ(open[0].status, "open");
  ASSERT_TRUE(open[0].due.has_value());
  EXPECT_EQ(domain::FormatDate(*open[0].due), "2019-03-18");  // 10 working days after Monday 4 March
  EXPECT_EQ(open[0].target, 10);
  EXPECT_EQ(ComplaintItems("2019-03-12")[0].status, "due-soon");
  EXPECT_EQ(ComplaintItems("2019-03-18")[0].status, "due-soon");
  EXPECT_EQ(ComplaintItems("2019-03-19")[0].status, "overdue");
  Record(kCase, {Resolved("2019-03-15", 1, "stage1")});
  EXPECT_TRUE(ComplaintItems("2019-03-19").empty());
  // Escalated to stage 2 on a closed case: 20 working days (Easter 2019 falls
  // after the deadline).
  Record(kCase, {Ev("CaseClosed", R"("closedOn":"2019-03-18","reason":"adviceOnly")"),
                 Escalated("2019-03-20", 1, "stage2")});
  auto stage2 = ComplaintItems("2019-03-21");
  ASSERT_EQ(stage2.size(), 1u);
  EXPECT_EQ(domain::FormatDate(*stage2[0].due), "2019-04-17");
  EXPECT_EQ(stage2[0].target, 20);
  EXPECT_NE(stage2[0].detail.find("(the case is closed)"), std::string::npos) << stage2[0].detail;
  Record(kCase, {Resolved("2019-04-10", 1, "stage2"), Escalated("2019-05-01", 1, "ombudsman")});
  EXPECT_TRUE(ComplaintItems("2019-05-02").empty());  // the Ombudsman's timetable, not the agency's
  // A complaint with no case is in its district's list, not another's, and
  // not in a worker's own list.
  ASSERT_TRUE(Own(kK1, {Received("2019-06-03", 1, "informal", "D1")}).ok());
  auto none = ComplaintItems("2019-06-04");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].case_id, kK1);
  EXPECT_EQ(none[0].district, "D1");
  EXPECT_EQ(ComplaintItems("2019-06-04", "D1").size(), 1u);
  EXPECT_TRUE(ComplaintItems("2019-06-04", "D2").empty());
  EXPECT_TRUE(ComplaintItems("2019-06-04", "", "S-D1-01").empty());
  auto json = nlohmann::json::parse(WorklistToJson(
      *BuildWorklist(*store_, domain::Calendar::EnglandAndWales(),
                     [&] {
                       WorklistOptions w;
                       w.as_of = D("2019-06-04");
                       w.complaints = *domain::ReadComplaints(*store_, *codec_);
                       return w;
                     }())));
  bool found = false;
  for (const auto& i : json["items"]) {
    if (i["kind"] == "complaint") {
      found = true;
      EXPECT_EQ(i["complaint"], kK1);
      EXPECT_EQ(i["unit"], "workingDays");
    }
  }
  EXPECT_TRUE(found) << json.dump();
  EXPECT_EQ(json["counts"]["complaint"]["open"], 1);
}

// Today's worklist reads only the cases that need work (the projection's
// index): a closed case with a complaint awaiting the agency's response is
// among them, and leaves once the complaint is answered.
TEST_F(ComplaintTest, AClosedCaseAwaitingAComplaintResponseStaysOnTodaysWorklist) {
  Record(kCase, {Enquiry("2019-03-01", "P-1", "D1"),
                 Ev("CaseClosed", R"("closedOn":"2019-03-02","reason":"adviceOnly")"),
                 Received("2019-03-04", 1, "stage1")});
  Record("case/D1/2", {Enquiry("2019-03-01", "P-2", "D1"),
                       Ev("CaseClosed", R"("closedOn":"2019-03-02","reason":"adviceOnly")")});
  domain::Date today = domain::UkDate(domain::Now());
  auto items = ComplaintItemsOn(today);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].case_id, kCase);
  EXPECT_EQ(items[0].status, "overdue");
  Record(kCase, {Resolved("2019-03-08", 1, "stage1")});
  EXPECT_TRUE(ComplaintItemsOn(today).empty());
}

// The served `worklist` model: a complaints officer whose scope reads
// complaint/ streams sees the complaints with no case; a caseworker whose
// scope does not sees none of them (and no refusal is logged for it), but
// sees the complaints on the cases it may read.
TEST_F(ComplaintTest, TheServedWorklistListsComplaintsWithNoCaseOnlyForAScopeThatReadsThem) {
  Record(kCase, {Enquiry("2019-03-01", "P-1", "D1"), Received("2019-03-04", 1, "stage1")});
  ASSERT_TRUE(Own(kK1, {Received("2019-03-05", 1, "stage1", "D1")}).ok());
  CatchUp();
  domain::Calendar calendar = domain::Calendar::EnglandAndWales();
  ReadModels models;
  ASSERT_TRUE(models.Add(MakeWorklistModel(&calendar, codec_.get())).ok());
  auto kinds = [&](Session& session) {
    auto r = models.Query(session, "worklist", R"({"asOf":"2019-03-06"})");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    auto j = nlohmann::json::parse(*r);
    for (const auto& i : j["items"]) {
      if (i["kind"] == "complaint") out.push_back(i.contains("complaint") ? i["complaint"] : i["case"]);
    }
    return out;
  };
  Scopes caseworker;
  caseworker.read_streams = {"case/*"};
  caseworker.read_models = {"worklist"};
  std::vector<std::string> refusals;
  Session worker(store_.get(), Principal{"web", "S-1", "caseworker"}, caseworker,
                 [&](const std::string& line) { refusals.push_back(line); });
  EXPECT_EQ(kinds(worker), std::vector<std::string>{kCase});
  EXPECT_TRUE(refusals.empty()) << refusals.front();
  Scopes officer = caseworker;
  officer.read_streams = {"case/*", "complaint/*"};
  Session co(store_.get(), Principal{"web", "S-CO-1", "complaintsOfficer"}, officer);
  auto seen = kinds(co);
  EXPECT_EQ(seen, (std::vector<std::string>{kCase, kK1}));
}

// 003 9.1 "number, stage": the return counts the complaints that reached
// each formal stage in the period, at entry or by escalation, with no case
// too; received by the stage at entry as before.
TEST_F(ComplaintTest, TheReturnCountsTheStageReachedInThePeriod) {
  Record(kCase, {Enquiry("2018-04-02", "P-1", "D1"), Received("2018-05-01", 1, "stage1"),
                 Resolved("2018-05-10", 1, "stage1"), Escalated("2018-07-02", 1, "stage2"),
                 Resolved("2018-07-20", 1, "stage2"), Escalated("2018-08-01", 1, "ombudsman")});
  Record("case/D2/1", {Enquiry("2018-04-03", "P-2", "D2"), Received("2018-04-20", 1, "informal")});
  ASSERT_TRUE(Own(kK1, {Received("2018-06-01", 1, "stage1", "D2"), Resolved("2018-06-05", 1, "stage1"),
                        Escalated("2018-06-20", 1, "stage2")})
                  .ok());
  auto policy = exports::ParsePolicy("none");
  ASSERT_TRUE(policy.ok());
  auto value = [&](const char* period_text, const std::string& id, const std::string& area) -> int64_t {
    auto period = exports::ParsePeriod(period_text);
    EXPECT_TRUE(period.ok());
    auto kpi = exports::BuildKpiReturn(*store_, *codec_, domain::Calendar::EnglandAndWales(), *period, *policy, {});
    EXPECT_TRUE(kpi.ok()) << kpi.status().ToString();
    if (!kpi.ok()) return -1;
    size_t a = std::find(kpi->areas.begin(), kpi->areas.end(), area) - kpi->areas.begin();
    for (const auto& t : kpi->tables) {
      for (const auto& f : t.figures) {
        if (f.id == id && a < f.cells.size()) return f.cells[a].value;
      }
    }
    ADD_FAILURE() << "no figure " << id << " in " << area;
    return -1;
  };
  EXPECT_EQ(value("2018/19", "complaints.received.total", "county"), 3);
  EXPECT_EQ(value("2018/19", "complaints.received.stage.stage1", "county"), 2);
  EXPECT_EQ(value("2018/19", "complaints.reached.stage1", "county"), 2);
  EXPECT_EQ(value("2018/19", "complaints.reached.stage2", "county"), 2);
  EXPECT_EQ(value("2018/19", "complaints.reached.stage2", "D2"), 1);  // the one with no case
  EXPECT_EQ(value("2018/19", "complaints.reached.ombudsman", "D1"), 1);
  EXPECT_EQ(value("2018/19-Q1", "complaints.reached.stage2", "county"), 1);  // K-1 in June
  EXPECT_EQ(value("2018/19-Q2", "complaints.reached.stage2", "county"), 1);  // the case's in July
  EXPECT_EQ(value("2018/19-Q2", "complaints.reached.stage1", "county"), 0);
  EXPECT_EQ(value("2018/19", "complaints.resolved", "county"), 3);
}

// The complainant's words are in their subject-access pack, and erasure
// makes them unreadable while the complaint's facts stay counted.
TEST_F(ComplaintTest, TheComplainantsPackHoldsTheirComplaintAndErasureShredsTheirWords) {
  ASSERT_TRUE(Own(kK1, {C("ComplaintReceived",
                          R"("receivedOn":"2019-03-04","complaint":1,"stage":"stage1","district":"D1")", "P-K-1",
                          "The van blocked my drive all week.")})
                  .ok());
  ASSERT_TRUE(Own(kK1, {C("ComplaintEscalated", R"("escalatedOn":"2019-03-20","complaint":1,"toStage":"stage2")",
                          "P-K-1", "The answer missed the point.")})
                  .ok());
  rights::Rights r(store_.get(), codec_.get(), rights::RightsOptions{});
  ASSERT_TRUE(r.SetProcessingRecord(rights::DefaultProcessingRecordJson(),
                                    Actor{"S-9", rights::kControllerRole, "test"})
                  .ok());
  auto pack = r.BuildPack("P-K-1", {});
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_NE(pack->json.find("blocked my drive"), std::string::npos);
  EXPECT_NE(pack->json.find("ComplaintEscalated"), std::string::npos);
  EXPECT_NE(pack->json.find("missed the point"), std::string::npos);
  ASSERT_TRUE(store_->EraseSubject("P-K-1", Actor{"S-DPO-1", "controller", "test"}, "erasureRequest").ok());
  auto events = store_->ReadStream(kK1, 1, Direction::kForward, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  for (const auto& e : *events) {
    ASSERT_EQ(e.personal.size(), 1u);
    EXPECT_TRUE(e.personal[0].erased);
  }
  auto k = domain::LoadComplaint(*store_, *codec_, kK1);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->complaint.stage, "stage2");
}

// Over the protocol's session: complaint/ streams take a complaints
// officer's scope (the types and the streams), and the complaint's rules.
TEST_F(ComplaintTest, ASessionAppendsToAComplaintStreamWithinItsScopesAndRules) {
  Scopes scopes;
  scopes.append_types = {"ComplaintReceived", "ComplaintEscalated", "ComplaintResolved"};
  scopes.read_streams = {"case/*"};
  Session outside(store_.get(), Principal{"console", "S-CO-1", "complaintsOfficer"}, scopes,
                  [](const std::string&) {});
  auto refused = outside.Append(kK1, ExpectedVersion::Any(), {Received("2019-03-04", 1, "stage1", "D1")});
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  EXPECT_EQ(Version(kK1), 0u);
  scopes.read_streams = {"complaint/*"};
  Session officer(store_.get(), Principal{"console", "S-CO-1", "complaintsOfficer"}, scopes);
  auto rule = officer.Append(kK1, ExpectedVersion::Any(), {Received("2019-03-04", 1, "stage1")});
  EXPECT_EQ(rule.status().message().rfind("rule complaint-district:", 0), 0u) << rule.status().ToString();
  EXPECT_EQ(Version(kK1), 0u);
  auto ok = officer.Append(kK1, ExpectedVersion::Any(), {Received("2019-03-04", 1, "stage1", "D1")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto note = officer.Append(kK1, ExpectedVersion::Any(), {Ev("CaseNoteAdded", R"("writtenOn":"2019-03-04")")});
  EXPECT_FALSE(note.ok());
  EXPECT_EQ(Version(kK1), 1u);
}

// `hearth complaint record | escalate | resolve | list`, `hearth append` to a
// complaint's stream, and the worklist's item.
TEST_F(ComplaintTest, CommandLineRecordsEscalatesResolvesAndLists) {
  Record(kCase, {Enquiry("2019-03-01", "P-1", "D1")});
  CatchUp();
  recorder_.reset();
  store_.reset();  // the command line opens it itself
  std::string args = "--data " + dir_.sub("store") + " --key-file " + key_;
  CliRun rec = Hearth("complaint record " + args +
                      " --district D1 --on 2019-03-04 --stage stage1 --channel phone --category noCallBack"
                      " --complainant P-K-1 --text 'nobody called me back'");
  ASSERT_EQ(rec.code, 0) << rec.out;
  EXPECT_EQ(nlohmann::json::parse(rec.out)["stream"], kK1);
  CliRun bad = Hearth("complaint record " + args + " --district D1 --on 2019-03-04 --stage council");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("facts.stage"), std::string::npos) << bad.out;
  CliRun on_case = Hearth("complaint record " + args + " --case " + kCase + " --on 2019-03-05");
  ASSERT_EQ(on_case.code, 0) << on_case.out;
  CliRun wrong = Hearth("complaint resolve " + args + " --case " + kCase + " --number 1 --on 2019-03-06"
                        " --stage stage2 --result upheld");
  EXPECT_EQ(wrong.code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("rule complaint-stage"), std::string::npos) << wrong.out;
  CliRun answered = Hearth("complaint resolve K-1 " + args + " --on 2019-03-08 --result notUpheld");
  ASSERT_EQ(answered.code, 0) << answered.out;
  CliRun up = Hearth("complaint escalate K-1 " + args + " --on 2019-03-12 --to stage2");
  ASSERT_EQ(up.code, 0) << up.out;
  CliRun down = Hearth("complaint escalate K-1 " + args + " --on 2019-03-13 --to stage1");
  EXPECT_EQ(down.code, 1) << down.out;
  EXPECT_NE(down.out.find("rule complaint-escalation"), std::string::npos) << down.out;
  // `hearth append` takes the same route and rules.
  CliRun gap = Hearth("append " + args + " --stream complaint/K-3 2>&1 <<'EOF'\n"
                      R"({"type":"ComplaintReceived","facts":{"receivedOn":"2019-03-04","complaint":1,"district":"D1"}})"
                      "\nEOF\nexit $?");
  EXPECT_EQ(gap.code, 1) << gap.out;
  EXPECT_NE(gap.out.find("rule complaint-ref"), std::string::npos) << gap.out;

  CliRun list = Hearth("complaint list " + args + " --as-of 2019-04-16 --json");
  ASSERT_EQ(list.code, 0) << list.out;
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j["complaints"].size(), 1u);
  EXPECT_EQ(j["complaints"][0]["stage"], "stage2");
  EXPECT_EQ(j["complaints"][0]["respondBy"], "2019-04-09");  // 20 working days after 12 March
  EXPECT_EQ(j["complaints"][0]["overdue"], true);

  CliRun wl = Hearth("worklist " + args + " --as-of 2019-03-13 --json");
  ASSERT_EQ(wl.code, 0) << wl.out;
  auto w = nlohmann::json::parse(wl.out);
  int seen = 0;
  for (const auto& i : w["items"]) {
    if (i["kind"] != "complaint") continue;
    ++seen;
    if (i.contains("complaint")) {
      EXPECT_EQ(i["complaint"], kK1);
      EXPECT_EQ(i["due"], "2019-04-09");
    } else {
      EXPECT_EQ(i["case"], kCase);
      EXPECT_EQ(i["due"], "2019-03-19");
    }
  }
  EXPECT_EQ(seen, 2) << wl.out;
}

// With the passphrase in $HEARTH_PASSPHRASE (wiped once read), a command
// that reads the store before it records (the next K-<n>, the next B-<n>)
// opens it once: it once opened it twice and failed with "no root key".
TEST(ComplaintCliTest, RecordingWithAPassphraseOpensTheStoreOnce) {
  hearth::testing::TempDir dir;
  std::string with = "HEARTH_PASSPHRASE=a-test-passphrase-of-enough-length " + std::string(HEARTH_CLI);
  std::string data = " --data " + dir.sub("store");
  CliRun init = hearth::testing::RunCli(with, "init" + data);
  ASSERT_EQ(init.code, 0) << init.out;
  CliRun complaint = hearth::testing::RunCli(with, "complaint record" + data + " --district D1 --on 2019-03-04");
  ASSERT_EQ(complaint.code, 0) << complaint.out;
  EXPECT_EQ(nlohmann::json::parse(complaint.out)["stream"], kK1);
  CliRun breach = hearth::testing::RunCli(
      with, "breach record" + data + " --on 2019-03-04 --kind availability --cause other --categories contact");
  ASSERT_EQ(breach.code, 0) << breach.out;
  EXPECT_EQ(nlohmann::json::parse(breach.out)["breach"], "B-1");
}

}  // namespace
}  // namespace hearth::readmodels::testing
