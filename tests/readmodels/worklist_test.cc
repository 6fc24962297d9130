// Worklist rules on hand-made cases around their thresholds: first visits at
// 27 / 28 / 29 days; DFG lines at 55 / 56 working days across Christmas 2018
// and Easter 2019 (counted by hand below, not with the calendar under test);
// stalled lines at 20 / 21 working days; reviews; districts, closures,
// restrictions and bad options.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "county.h"
#include "hearth/rights.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

class WorklistTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    CasesProjectionOptions o;
    o.mode = ProjectionMode::kInline;
    Open({MakeCasesProjection(codec_.get(), o)});
  }

  // Every list is built twice: as asked (from the work index when it can
  // answer) and with every open case evaluated (full_scan); both must give
  // the same document, but for the count of cases considered.
  Worklist Build(const char* as_of, WorklistOptions o = {}) {
    o.as_of = D(as_of);
    auto wl = BuildWorklist(*store_, calendar_, o);
    EXPECT_TRUE(wl.ok()) << wl.status().ToString();
    if (!wl.ok()) return Worklist{};
    ExpectTheSameAsEveryCaseGives(*wl, o);
    return *wl;
  }

  void ExpectTheSameAsEveryCaseGives(const Worklist& wl, WorklistOptions o) {
    o.full_scan = true;
    auto full = BuildWorklist(*store_, calendar_, o);
    ASSERT_TRUE(full.ok()) << full.status().ToString();
    EXPECT_FALSE(full->indexed);
    auto doc = [](const Worklist& w) {
      auto j = nlohmann::json::parse(WorklistToJson(w));
      j.erase("casesConsidered");
      return j.dump(1);
    };
    EXPECT_EQ(doc(wl), doc(*full)) << "as of " << domain::FormatDate(wl.as_of) << (wl.indexed ? ", indexed" : "");
    ++(wl.indexed ? indexed_ : scanned_);
  }

  int indexed_ = 0;  // lists Build gave from the work index
  int scanned_ = 0;  // ... and from every case

  // The items of one kind for one case.
  static std::vector<WorkItem> Items(const Worklist& wl, WorkKind kind, const std::string& id) {
    std::vector<WorkItem> out;
    for (const auto& w : wl.items) {
      if (w.kind == kind && w.case_id == id) out.push_back(w);
    }
    return out;
  }

  // An urgent (or not) DFG case: enquiry, then line 1 opened the same day.
  void DfgCase(const std::string& id, const std::string& enquiry, const std::string& urgency) {
    Record(id, {Enquiry(enquiry, "P-" + id.substr(id.rfind('/') + 1), "D1"),
                Ev("ServiceElementOpened", R"("openedOn":")" + enquiry +
                                               R"(","line":1,"element":"mandatoryDfg","service":"mandatoryDfg")")});
    if (!urgency.empty()) {
      Record(id, {Ev("PriorityAssessed", R"("assessedOn":")" + enquiry +
                                             R"(","line":1,"otPriority":1,"urgency":")" + urgency + R"(")")});
    }
  }

  domain::Calendar calendar_ = domain::Calendar::EnglandAndWales();
};

TEST_F(WorklistTest, FirstVisitIsOverdueOnTheTwentyNinthDay) {
  Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
  WorklistOptions quiet;
  quiet.due_soon_days = 0;  // only items due today or overdue
  // 27 days: not yet due (and not within 0 days of it).
  EXPECT_TRUE(Items(Build("2018-04-29", quiet), WorkKind::kFirstVisit, "case/D1/1").empty());
  // 28 days: due today, not overdue.
  auto on_day = Items(Build("2018-04-30", quiet), WorkKind::kFirstVisit, "case/D1/1");
  ASSERT_EQ(on_day.size(), 1u);
  EXPECT_EQ(on_day[0].status, "due-soon");
  EXPECT_EQ(on_day[0].due, D("2018-04-30"));
  EXPECT_EQ(on_day[0].elapsed, 28);
  // 29 days: overdue.
  auto late = Items(Build("2018-05-01", quiet), WorkKind::kFirstVisit, "case/D1/1");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].status, "overdue");
  EXPECT_EQ(late[0].elapsed, 29);
  // With the default warning window, 27 days is listed as due soon.
  auto soon = Items(Build("2018-04-29"), WorkKind::kFirstVisit, "case/D1/1");
  ASSERT_EQ(soon.size(), 1u);
  EXPECT_EQ(soon[0].status, "due-soon");
}

TEST_F(WorklistTest, AVisitCountsFromItsOwnDateOn) {
  Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
  Record("case/D1/1", {Ev("FirstVisitCompleted", R"("completedOn":"2018-05-02","mode":"home","visitorRole":"ot")")});
  // Made on day 30: before it, the case was overdue; from that day on it is off the list.
  EXPECT_EQ(Items(Build("2018-05-01"), WorkKind::kFirstVisit, "case/D1/1").size(), 1u);
  EXPECT_TRUE(Items(Build("2018-05-02"), WorkKind::kFirstVisit, "case/D1/1").empty());
  Record("case/D1/2", {Enquiry("2018-04-02", "P-2", "D1"),
                       Ev("FirstVisitCompleted", R"("completedOn":"2018-04-30","mode":"home","visitorRole":"ot")")});
  EXPECT_TRUE(Items(Build("2018-05-10"), WorkKind::kFirstVisit, "case/D1/2").empty());
}

TEST_F(WorklistTest, UrgentDfgAcrossChristmas2018) {
  // Enquiry Thursday 15 November 2018. Working days after it, by hand:
  // Nov 16 = 1; Nov 19-23 = 2-6; Nov 26-30 = 7-11; Dec 3-7 = 12-16;
  // Dec 10-14 = 17-21; Dec 17-21 = 22-26; Dec 24 = 27; Dec 25, 26 bank
  // holidays; Dec 27 = 28; Dec 28 = 29; Dec 31 = 30; Jan 1 bank holiday;
  // Jan 2-4 = 31-33; Jan 7-11 = 34-38; Jan 14-18 = 39-43; Jan 21-25 = 44-48;
  // Jan 28 - Feb 1 = 49-53; Feb 4 = 54; Feb 5 = 55; Feb 6 = 56.
  DfgCase("case/D1/X", "2018-11-15", "urgent");
  auto at55 = Items(Build("2019-02-05"), WorkKind::kDfg, "case/D1/X");
  ASSERT_EQ(at55.size(), 1u);
  EXPECT_EQ(at55[0].elapsed, 55);
  EXPECT_EQ(at55[0].target, 55);
  EXPECT_EQ(at55[0].due, D("2019-02-05"));
  EXPECT_EQ(at55[0].status, "due-soon");
  auto at56 = Items(Build("2019-02-06"), WorkKind::kDfg, "case/D1/X");
  ASSERT_EQ(at56.size(), 1u);
  EXPECT_EQ(at56[0].elapsed, 56);
  EXPECT_EQ(at56[0].status, "overdue");
  // Well before the target it is on track.
  auto early = Items(Build("2018-12-24"), WorkKind::kDfg, "case/D1/X");
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].elapsed, 27);
  EXPECT_EQ(early[0].status, "on-track");
}

TEST_F(WorklistTest, UrgentDfgAcrossEaster2019) {
  // Enquiry Friday 15 March 2019. By hand: Mar 18-22 = 1-5; Mar 25-29 = 6-10;
  // Apr 1-5 = 11-15; Apr 8-12 = 16-20; Apr 15-18 = 21-24; Apr 19 Good Friday
  // and Apr 22 Easter Monday; Apr 23-26 = 25-28; Apr 29 - May 3 = 29-33;
  // May 6 bank holiday; May 7-10 = 34-37; May 13-17 = 38-42; May 20-24 =
  // 43-47; May 27 bank holiday; May 28-31 = 48-51; Jun 3-6 = 52-55; Jun 7 = 56.
  DfgCase("case/D1/E", "2019-03-15", "urgent");
  Record("case/D1/E", {Ev("AssessmentRecorded", R"("assessedOn":"2019-03-22","healthAndWellbeing":"high")"),
                       Ev("GrantApplicationMade", R"("submittedOn":"2019-04-18","line":1,"grantType":"mandatoryDfg","validOn":"2019-04-18","requestedPence":1200000)"),
                       Ev("GrantApproved", R"("approvedOn":"2019-04-23","line":1,"grantType":"mandatoryDfg","amountPence":1200000,"fundingSource":"mandatoryDfg")")});
  auto at55 = Items(Build("2019-06-06"), WorkKind::kDfg, "case/D1/E");
  ASSERT_EQ(at55.size(), 1u);
  EXPECT_EQ(at55[0].elapsed, 55);
  EXPECT_NE(at55[0].status, "overdue");
  // Per stage: first contact -> assessment 5; -> application (Apr 18) 19;
  // -> approval (Apr 23, over Easter) 1; approval -> Jun 6 (completion not
  // reached) 30.
  ASSERT_EQ(at55[0].stages.size(), 5u);
  EXPECT_EQ(at55[0].stages[1].working_days, 5);
  EXPECT_EQ(at55[0].stages[2].working_days, 19);
  EXPECT_EQ(at55[0].stages[3].working_days, 1);
  EXPECT_EQ(at55[0].stages[4].name, "completion");
  EXPECT_FALSE(at55[0].stages[4].on.has_value());
  EXPECT_EQ(at55[0].stages[4].working_days, 30);
  EXPECT_EQ(at55[0].stage, "completion");
  auto at56 = Items(Build("2019-06-07"), WorkKind::kDfg, "case/D1/E");
  ASSERT_EQ(at56.size(), 1u);
  EXPECT_EQ(at56[0].elapsed, 56);
  EXPECT_EQ(at56[0].status, "overdue");
  // Evaluated before the approval, the approval is not yet reached.
  auto before = Items(Build("2019-04-22"), WorkKind::kDfg, "case/D1/E");
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].stage, "approval");
  EXPECT_FALSE(before[0].stages[3].on.has_value());
  // Completed works take the line off the list.
  Record("case/D1/E", {Ev("WorksCompleted", R"("completedOn":"2019-06-03","line":1,"finalCostPence":1100000)")});
  EXPECT_TRUE(Items(Build("2019-06-07"), WorkKind::kDfg, "case/D1/E").empty());
}

TEST_F(WorklistTest, NonUrgentAndUndecidedDfgUseTheHundredAndFiftyDayTarget) {
  DfgCase("case/D1/N", "2018-11-15", "nonUrgent");
  DfgCase("case/D1/U", "2018-11-15", "");
  // 150 working days after 15 November 2018 (the calendar's own count here;
  // the hand count is in the urgent tests).
  auto due = calendar_.AddWorkingDays(D("2018-11-15"), 150);
  ASSERT_TRUE(due.ok());
  std::string on = domain::FormatDate(*due);
  std::string after = domain::FormatDate(*calendar_.AddWorkingDays(*due, 1));
  for (const char* id : {"case/D1/N", "case/D1/U"}) {
    auto at = Items(Build(on.c_str()), WorkKind::kDfg, id);
    ASSERT_EQ(at.size(), 1u) << id;
    EXPECT_EQ(at[0].target, 150);
    EXPECT_EQ(at[0].elapsed, 150);
    EXPECT_NE(at[0].status, "overdue");
    auto late = Items(Build(after.c_str()), WorkKind::kDfg, id);
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(late[0].status, "overdue");
  }
  EXPECT_EQ(Items(Build(on.c_str()), WorkKind::kDfg, "case/D1/U")[0].urgency, "");
  // At 56 working days neither is overdue (urgent would be).
  EXPECT_EQ(Items(Build("2019-02-06"), WorkKind::kDfg, "case/D1/N")[0].status, "on-track");
}

TEST_F(WorklistTest, StalledAfterTwentyWorkingDaysWithoutActivity) {
  Record("case/D1/S", {Enquiry("2018-06-01", "P-S", "D1"),
                       Ev("ServiceElementOpened", R"("openedOn":"2018-06-01","line":1,"element":"minorAdaptationsHandyperson","service":"minorAdaptation")"),
                       Ev("FirstVisitCompleted", R"("completedOn":"2018-06-04","mode":"home","visitorRole":"ot")")});
  // Last activity Monday 4 June 2018. 20 working days later is 2 July
  // (June 5-8 = 4, 11-15 = 9, 18-22 = 14, 25-29 = 19, July 2 = 20).
  EXPECT_TRUE(Items(Build("2018-07-02"), WorkKind::kStalled, "case/D1/S").empty());
  auto stalled = Items(Build("2018-07-03"), WorkKind::kStalled, "case/D1/S");
  ASSERT_EQ(stalled.size(), 1u);
  EXPECT_EQ(stalled[0].elapsed, 21);
  EXPECT_EQ(stalled[0].since, D("2018-06-04"));
  EXPECT_EQ(stalled[0].stage, "works specification");
  EXPECT_EQ(stalled[0].line, 1);
  WorklistOptions patient;
  patient.stall_working_days = 30;
  EXPECT_TRUE(Items(Build("2018-07-03", patient), WorkKind::kStalled, "case/D1/S").empty());
  // New activity restarts the clock.
  Record("case/D1/S", {Ev("WorksSpecified", R"("specifiedOn":"2018-07-02","line":1,"workCodes":["grabRail"],"estimatePence":12000)")});
  EXPECT_TRUE(Items(Build("2018-07-03"), WorkKind::kStalled, "case/D1/S").empty());
}

TEST_F(WorklistTest, ReviewsDueAndOverdue) {
  Record("case/D1/R", {Enquiry("2018-04-02", "P-R", "D1"),
                       Ev("FirstVisitCompleted", R"("completedOn":"2018-04-10","mode":"home","visitorRole":"ot")"),
                       Ev("SupportPlanAgreed", R"("agreedOn":"2018-04-12","reviewOn":"2018-06-01","actions":[{"service":"minorAdaptation","byRole":"technicalOfficer","dueOn":"2018-05-01"}])")});
  EXPECT_TRUE(Items(Build("2018-05-01"), WorkKind::kReview, "case/D1/R").empty());  // 31 days ahead
  auto soon = Items(Build("2018-05-20"), WorkKind::kReview, "case/D1/R");
  ASSERT_EQ(soon.size(), 1u);
  EXPECT_EQ(soon[0].status, "due-soon");
  auto late = Items(Build("2018-06-02"), WorkKind::kReview, "case/D1/R");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].status, "overdue");
  EXPECT_EQ(late[0].elapsed, 1);
  Record("case/D1/R", {Ev("SupportPlanReviewed", R"("reviewedOn":"2018-06-03","changed":false,"nextReviewOn":"2018-12-01")")});
  EXPECT_TRUE(Items(Build("2018-06-04"), WorkKind::kReview, "case/D1/R").empty());
}

// Issue 17.2: a safeguarding referral is on the worklist until the agency
// acknowledges it, on a closed case too (today's worklist reads the open
// index, which keeps such a case).
TEST_F(WorklistTest, ASafeguardingReferralStaysListedUntilAcknowledgedEvenOnAClosedCase) {
  Record("case/D1/G", {Enquiry("2019-12-02", "P-G", "D1"),
                       Ev("SafeguardingConcernRaised", R"("raisedOn":"2019-12-02","concern":1,"personType":"adult",
                           "category":"financial","referredTo":"adultSocialCare","referredOn":"2019-12-02")"),
                       Ev("CaseClosed", R"("closedOn":"2019-12-03","reason":"referredElsewhere")")});
  Record("case/D1/H", {Enquiry("2019-12-02", "P-H", "D1"),
                       Ev("CaseClosed", R"("closedOn":"2019-12-03","reason":"adviceOnly")")});
  auto on_day = Items(Build("2019-12-02"), WorkKind::kSafeguarding, "case/D1/G");
  ASSERT_EQ(on_day.size(), 1u);
  EXPECT_EQ(on_day[0].status, "due-soon");
  EXPECT_EQ(domain::FormatDate(*on_day[0].due), "2019-12-03");
  WorklistOptions today;  // as of today: the open index only
  auto wl = BuildWorklist(*store_, calendar_, today);
  ASSERT_TRUE(wl.ok()) << wl.status().ToString();
  auto items = Items(*wl, WorkKind::kSafeguarding, "case/D1/G");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].status, "overdue");
  EXPECT_NE(items[0].detail.find("the case is closed"), std::string::npos) << items[0].detail;
  EXPECT_EQ(wl->cases_considered, 1u) << "the other closed case is not in the open index";
  EXPECT_NE(WorklistToJson(*wl, false).find("\"safeguarding\":{\"overdue\":1}"), std::string::npos);
  Record("case/D1/G", {Ev("SafeguardingReferralAcknowledged", R"("acknowledgedOn":"2019-12-04","concern":1)")});
  wl = BuildWorklist(*store_, calendar_, today);
  ASSERT_TRUE(wl.ok());
  EXPECT_TRUE(Items(*wl, WorkKind::kSafeguarding, "case/D1/G").empty());
  EXPECT_EQ(wl->cases_considered, 0u);
}

// An acknowledged safeguarding referral leaves the worklist of a case that
// stays open (the closed case above leaves the open index as well, so it
// alone cannot tell an acknowledgement from a closure).
TEST_F(WorklistTest, AnAcknowledgedSafeguardingReferralLeavesTheWorklistOfAnOpenCase) {
  Record("case/D1/J", {Enquiry("2019-12-02", "P-J", "D1"),
                       Ev("SafeguardingConcernRaised", R"("raisedOn":"2019-12-02","concern":1,"personType":"adult",
                           "category":"financial","referredTo":"adultSocialCare","referredOn":"2019-12-02")")});
  ASSERT_EQ(Items(Build("2019-12-03"), WorkKind::kSafeguarding, "case/D1/J").size(), 1u);
  Record("case/D1/J", {Ev("SafeguardingReferralAcknowledged", R"("acknowledgedOn":"2019-12-04","concern":1)")});
  // Before the acknowledgement's day it is still due; from that day on, gone.
  EXPECT_EQ(Items(Build("2019-12-03"), WorkKind::kSafeguarding, "case/D1/J").size(), 1u);
  EXPECT_TRUE(Items(Build("2019-12-04"), WorkKind::kSafeguarding, "case/D1/J").empty());
  WorklistOptions today;
  auto wl = BuildWorklist(*store_, calendar_, today);
  ASSERT_TRUE(wl.ok()) << wl.status().ToString();
  EXPECT_EQ(wl->cases_considered, 1u) << "the case is open";
  EXPECT_TRUE(Items(*wl, WorkKind::kSafeguarding, "case/D1/J").empty());
}

// A past day's worklist considers the cases that may have had work that
// day (docs/readmodels.md, the quiet index): those open now, and those
// closed after it or whose referral was acknowledged after it; not the cases
// quiet since before it.
TEST_F(WorklistTest, APastDayConsidersOnlyTheCasesThatMayHaveHadWorkThen) {
  Record("case/D1/A", {Enquiry("2018-04-02", "P-A", "D1"),
                       Ev("CaseClosed", R"("closedOn":"2018-06-01","reason":"adviceOnly")")});
  Record("case/D1/B", {Enquiry("2018-04-02", "P-B", "D1"),
                       Ev("CaseClosed", R"("closedOn":"2018-09-03","reason":"adviceOnly")")});
  Record("case/D1/C", {Enquiry("2018-04-02", "P-C", "D1"),
                       Ev("SafeguardingConcernRaised", R"("raisedOn":"2018-04-03","concern":1,"personType":"adult",
                           "category":"financial","referredTo":"adultSocialCare","referredOn":"2018-04-03")"),
                       Ev("CaseClosed", R"("closedOn":"2018-05-01","reason":"referredElsewhere")")});
  Record("case/D1/C", {Ev("SafeguardingReferralAcknowledged", R"("acknowledgedOn":"2018-08-01","concern":1)")});
  Record("case/D1/D", {Enquiry("2018-04-02", "P-D", "D1")});
  Record("case/D2/E", {Enquiry("2018-04-02", "P-E", "D2"),
                       Ev("CaseClosed", R"("closedOn":"2018-09-03","reason":"adviceOnly")")});
  auto considered = [&](const char* day, const char* district) {
    WorklistOptions o;
    o.district = district;
    return Build(day, o).cases_considered;
  };
  // 2018-07-02: B closed after, C acknowledged after, D open; A quiet since June.
  EXPECT_EQ(considered("2018-07-02", "D1"), 3u);
  auto c = Items(Build("2018-07-02"), WorkKind::kSafeguarding, "case/D1/C");
  ASSERT_EQ(c.size(), 1u) << "closed, but its referral was not acknowledged until August";
  EXPECT_EQ(c[0].status, "overdue");
  EXPECT_FALSE(Items(Build("2018-07-02"), WorkKind::kFirstVisit, "case/D1/B").empty()) << "open that day";
  EXPECT_EQ(considered("2018-07-02", ""), 4u) << "every district: E too";
  // 2018-08-15: C is quiet since its acknowledgement.
  EXPECT_EQ(considered("2018-08-15", "D1"), 2u);
  EXPECT_TRUE(Items(Build("2018-08-15"), WorkKind::kSafeguarding, "case/D1/C").empty());
  // On the day B closed it is quiet; the day before it is not.
  EXPECT_EQ(considered("2018-09-02", "D1"), 2u);
  EXPECT_EQ(considered("2018-09-03", "D1"), 1u);
  EXPECT_EQ(considered("2018-09-03", ""), 1u);
  // Reopened, A is an open case again, and considered on any day.
  Record("case/D1/A", {Ev("CaseReopened", R"("reopenedOn":"2018-10-01","reasonCode":"newNeed")")});
  EXPECT_EQ(considered("2018-07-02", "D1"), 4u);
  // Closed again, it is quiet from its new closure.
  Record("case/D1/A", {Ev("CaseClosed", R"("closedOn":"2018-10-05","reason":"adviceOnly")")});
  EXPECT_EQ(considered("2018-10-04", "D1"), 2u);
  EXPECT_EQ(considered("2018-10-05", "D1"), 1u);
}

TEST_F(WorklistTest, DistrictsClosuresAndRestrictions) {
  Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
  Record("case/D2/1", {Enquiry("2018-04-02", "P-2", "D2")});
  Record("case/D2/2", {Enquiry("2018-04-02", "P-3", "D2"),
                       Ev("CaseClosed", R"("closedOn":"2018-05-15","reason":"adviceOnly")")});
  WorklistOptions d2;
  d2.district = "D2";
  auto wl = Build("2018-06-01", d2);
  EXPECT_EQ(Items(wl, WorkKind::kFirstVisit, "case/D1/1").size(), 0u);
  EXPECT_EQ(Items(wl, WorkKind::kFirstVisit, "case/D2/1").size(), 1u);
  EXPECT_EQ(Items(wl, WorkKind::kFirstVisit, "case/D2/2").size(), 0u);  // closed by then
  // Before its closure, the closed case was overdue too.
  auto earlier = Build("2018-05-14", d2);
  EXPECT_EQ(Items(earlier, WorkKind::kFirstVisit, "case/D2/2").size(), 1u);
  // A restricted client's case is left out: the worklist takes the
  // restrictions from the store's one view, whoever calls it.
  rights::Rights rights(store_.get(), codec_.get(), rights::RightsOptions{});
  ASSERT_TRUE(rights.Restrict("P-2", "", "accuracyContested", Actor{"S-9", "controller", "test"}).ok());
  auto r = Build("2018-06-01");
  EXPECT_EQ(Items(r, WorkKind::kFirstVisit, "case/D2/1").size(), 0u);
  EXPECT_EQ(Items(r, WorkKind::kFirstVisit, "case/D1/1").size(), 1u);
  // Cases whose enquiry is after the day are not there yet.
  EXPECT_TRUE(Build("2018-04-01").items.empty());
}

// Issue 17.7 (000 "Responsibility for files"): an open case with no
// responsible worker is listed once the grace period (2 working days by
// default) has passed, from the enquiry or from the day its worker was taken
// off; an allocation takes it off the list from its own day.
TEST_F(WorklistTest, AnOpenCaseWithoutAWorkerAwaitsAllocationAfterTheGracePeriod) {
  Record("case/D1/A", {Enquiry("2018-04-02", "P-A", "D1")});  // a Monday
  // Tuesday 3 = 1 working day, Wednesday 4 = 2: within the grace period.
  EXPECT_TRUE(Items(Build("2018-04-04"), WorkKind::kAllocation, "case/D1/A").empty());
  auto late = Items(Build("2018-04-05"), WorkKind::kAllocation, "case/D1/A");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].status, "overdue");
  EXPECT_EQ(late[0].since, D("2018-04-02"));
  EXPECT_EQ(late[0].due, D("2018-04-04"));
  EXPECT_EQ(late[0].elapsed, 3);
  EXPECT_EQ(late[0].target, 2);
  WorklistOptions patient;
  patient.allocation_grace_working_days = 3;
  EXPECT_TRUE(Items(Build("2018-04-05", patient), WorkKind::kAllocation, "case/D1/A").empty());
  Record("case/D1/A", {Ev("CaseAllocated", R"("allocatedOn":"2018-04-06","workerRef":"S-D1-01","roleCode":"caseworker")")});
  // Before the allocation's day it was awaiting; from that day on it is not.
  EXPECT_EQ(Items(Build("2018-04-05"), WorkKind::kAllocation, "case/D1/A").size(), 1u);
  EXPECT_TRUE(Items(Build("2018-04-06"), WorkKind::kAllocation, "case/D1/A").empty());
  EXPECT_TRUE(Items(Build("2018-06-01"), WorkKind::kAllocation, "case/D1/A").empty());
  // The worker leaves on Friday 20 April: the case awaits allocation again,
  // counted from that day (23 = 1, 24 = 2, 25 = 3 working days).
  Record("case/D1/A", {Ev("CaseDeallocated", R"("deallocatedOn":"2018-04-20","workerRef":"S-D1-01","reasonCode":"workerLeft")")});
  EXPECT_TRUE(Items(Build("2018-04-10"), WorkKind::kAllocation, "case/D1/A").empty()) << "allocated then";
  EXPECT_TRUE(Items(Build("2018-04-24"), WorkKind::kAllocation, "case/D1/A").empty());
  auto again = Items(Build("2018-04-25"), WorkKind::kAllocation, "case/D1/A");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].since, D("2018-04-20"));
  EXPECT_NE(again[0].detail.find("worker taken off"), std::string::npos) << again[0].detail;
  // A closed case awaits nothing.
  Record("case/D1/A", {Ev("CaseClosed", R"("closedOn":"2018-04-26","reason":"adviceOnly")")});
  EXPECT_TRUE(Items(Build("2018-05-01"), WorkKind::kAllocation, "case/D1/A").empty());
}

// Issue 17.7 (Care Act guidance 004 s.3): information and advice with a
// follow-up date is due soon within due_soon_days of it, overdue after it,
// until a later contact follows it up.
TEST_F(WorklistTest, AdviceFollowUpIsDueUntilALaterContact) {
  Record("case/D1/F", {Enquiry("2018-04-02", "P-F", "D1"),
                       Ev("ConsultationHeld", R"("heldOn":"2018-04-02","channel":"phone","adviceGiven":["informationAdvice"],"followUpOn":"2018-04-16")")});
  EXPECT_TRUE(Items(Build("2018-04-05"), WorkKind::kFollowUp, "case/D1/F").empty());  // 11 days ahead
  auto soon = Items(Build("2018-04-10"), WorkKind::kFollowUp, "case/D1/F");
  ASSERT_EQ(soon.size(), 1u);
  EXPECT_EQ(soon[0].status, "due-soon");
  EXPECT_EQ(soon[0].due, D("2018-04-16"));
  EXPECT_EQ(soon[0].since, D("2018-04-02"));
  auto late = Items(Build("2018-04-17"), WorkKind::kFollowUp, "case/D1/F");
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].status, "overdue");
  Record("case/D1/F", {Ev("ContactRecorded", R"("contactedOn":"2018-04-18","channel":"phone","purpose":"followUp")")});
  EXPECT_EQ(Items(Build("2018-04-17"), WorkKind::kFollowUp, "case/D1/F").size(), 1u) << "not yet followed up then";
  EXPECT_TRUE(Items(Build("2018-04-18"), WorkKind::kFollowUp, "case/D1/F").empty());
  // A consultation without a follow-up date leaves nothing to follow up.
  Record("case/D1/N", {Enquiry("2018-04-02", "P-N", "D1"),
                       Ev("ConsultationHeld", R"("heldOn":"2018-04-02","channel":"phone","adviceGiven":["informationAdvice"])")});
  EXPECT_TRUE(Items(Build("2018-06-01"), WorkKind::kFollowUp, "case/D1/N").empty());
}

// Issue 17.7: `hearth worklist --worker S-..`: a worker's own list has the
// cases allocated to them now, and nothing of anyone else's.
TEST_F(WorklistTest, AWorkersOwnListHasTheirCasesOnly) {
  Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1"),
                       Ev("CaseAllocated", R"("allocatedOn":"2018-04-02","workerRef":"S-D1-01")")});
  Record("case/D1/2", {Enquiry("2018-04-02", "P-2", "D1"),
                       Ev("CaseAllocated", R"("allocatedOn":"2018-04-02","workerRef":"S-D1-02")")});
  Record("case/D1/3", {Enquiry("2018-04-02", "P-3", "D1")});
  WorklistOptions mine;
  mine.worker = "S-D1-01";
  mine.breaches.push_back(domain::BreachState{});
  mine.breaches.back().stream = "breach/B-1";
  mine.breaches.back().ref = "B-1";
  mine.breaches.back().discovered_on = D("2018-05-30");
  auto wl = Build("2018-06-01", mine);
  EXPECT_EQ(wl.cases_considered, 1u);
  ASSERT_FALSE(wl.items.empty());
  for (const auto& w : wl.items) {
    EXPECT_EQ(w.case_id, "case/D1/1") << WorkKindName(w.kind);
    EXPECT_EQ(w.worker, "S-D1-01");
  }
  EXPECT_EQ(Items(wl, WorkKind::kFirstVisit, "case/D1/1").size(), 1u);
  // Everyone's list has all three, the unallocated one awaiting allocation, and the breach.
  WorklistOptions all;
  all.breaches = mine.breaches;
  auto everyone = Build("2018-06-01", all);
  EXPECT_EQ(everyone.cases_considered, 3u);
  EXPECT_EQ(Items(everyone, WorkKind::kFirstVisit, "case/D1/2").size(), 1u);
  EXPECT_EQ(Items(everyone, WorkKind::kAllocation, "case/D1/3").size(), 1u);
  EXPECT_TRUE(Items(everyone, WorkKind::kAllocation, "case/D1/1").empty());
  EXPECT_EQ(Items(everyone, WorkKind::kBreach, "breach/B-1").size(), 1u);
  auto j = nlohmann::json::parse(WorklistToJson(wl));
  EXPECT_EQ(j["worker"], "S-D1-01");
  EXPECT_NE(WorklistToText(wl).find("worker S-D1-01"), std::string::npos);
  // A worker is named by a staff reference, never a name.
  WorklistOptions bad;
  bad.worker = "Testina Quillfeather";
  bad.as_of = D("2018-06-01");
  auto refused = BuildWorklist(*store_, calendar_, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument());
  EXPECT_NE(refused.status().message().find("staff reference"), std::string::npos);
}

// Over the protocol: a Session's case appends go through the recorder, so an
// allocation is recorded there with its rules, and a worker whose append
// types do not include CaseAllocated cannot allocate.
TEST_F(WorklistTest, AnAllocationThroughASessionKeepsItsRulesAndScope) {
  Record("case/D1/S", {Enquiry("2018-04-02", "P-S", "D1")});
  Scopes scopes;
  scopes.append_types = {"CaseAllocated", "CaseDeallocated"};
  scopes.read_districts = {"D1"};
  Session manager(store_.get(), Principal{"console", "S-D1-MGR", "teamManager"}, scopes, [](const std::string&) {});
  auto named = manager.Append("case/D1/S", ExpectedVersion::Any(),
                              {Ev("CaseAllocated", R"("allocatedOn":"2018-04-03","workerRef":"Testina")")});
  EXPECT_EQ(named.status().message().rfind("rule case-allocation-worker:", 0), 0u) << named.status().ToString();
  auto early = manager.Append("case/D1/S", ExpectedVersion::Any(),
                              {Ev("CaseAllocated", R"("allocatedOn":"2018-04-01","workerRef":"S-D1-01")")});
  EXPECT_EQ(early.status().message().rfind("rule case-allocation-date:", 0), 0u) << early.status().ToString();
  ASSERT_EQ(*store_->StreamVersion("case/D1/S"), 1u) << "a refused allocation wrote nothing";
  auto ok = manager.Append("case/D1/S", ExpectedVersion::Any(),
                           {Ev("CaseAllocated", R"("allocatedOn":"2018-04-03","workerRef":"S-D1-01")")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(Items(Build("2018-06-01"), WorkKind::kAllocation, "case/D1/S").empty());
  WorklistOptions mine;
  mine.worker = "S-D1-01";
  EXPECT_EQ(Build("2018-06-01", mine).cases_considered, 1u);
  Scopes caseworker = scopes;
  caseworker.append_types = {"CaseNoteAdded"};
  Session worker(store_.get(), Principal{"console", "S-D1-02", "caseworker"}, caseworker, [](const std::string&) {});
  auto denied = worker.Append("case/D1/S", ExpectedVersion::Any(),
                              {Ev("CaseAllocated", R"("allocatedOn":"2018-04-04","workerRef":"S-D1-02")")});
  EXPECT_EQ(denied.status().code(), Status::Code::kPermissionDenied) << denied.status().ToString();
  EXPECT_EQ(*store_->StreamVersion("case/D1/S"), 2u);
}

TEST_F(WorklistTest, BadOptionsAreRefused) {
  WorklistOptions o;
  o.as_of = D("2040-01-01");  // outside the calendar
  auto far = BuildWorklist(*store_, calendar_, o);
  ASSERT_FALSE(far.ok());
  EXPECT_TRUE(far.status().IsInvalidArgument());
  EXPECT_NE(far.status().message().find("calendar"), std::string::npos);
  o.as_of.reset();
  o.stall_working_days = 0;
  EXPECT_TRUE(BuildWorklist(*store_, calendar_, o).status().IsInvalidArgument());
  Open({});
  auto without = BuildWorklist(*store_, calendar_, WorklistOptions{});
  ASSERT_FALSE(without.ok());
  EXPECT_TRUE(without.status().IsNotFound());
}

// A page at a time: following each page's `next` gives the whole list, in
// its order, once; ties (two referrals of one case on one day) are split
// between pages without losing or repeating either; counts are always the
// whole list's; a continuation the worklist did not give is refused.
TEST_F(WorklistTest, PagesFollowedByTheirContinuationGiveTheWholeListOnce) {
  for (int i = 0; i < 7; ++i) {
    DfgCase("case/D1/P" + std::to_string(i), "2018-11-" + std::to_string(10 + i), i % 2 ? "urgent" : "");
  }
  Record("case/D1/T", {Enquiry("2019-01-07", "P-T", "D1"),
                       Ev("SafeguardingConcernRaised", R"("raisedOn":"2019-01-07","concern":1,"personType":"adult",
                           "category":"financial","referredTo":"adultSocialCare","referredOn":"2019-01-07")"),
                       Ev("SafeguardingConcernRaised", R"("raisedOn":"2019-01-07","concern":2,"personType":"adult",
                           "category":"neglect","referredTo":"adultSocialCare","referredOn":"2019-01-07")")});
  Worklist whole = Build("2019-02-06");
  ASSERT_GE(whole.items.size(), 17u);
  ASSERT_EQ(Items(whole, WorkKind::kSafeguarding, "case/D1/T").size(), 2u);
  auto key = [](const WorkItem& w) { return std::to_string(int(w.kind)) + " " + w.case_id + " " + w.detail; };
  for (size_t limit : {1u, 2u, 3u, 5u, 100u}) {
    WorklistOptions o;
    o.limit = limit;
    std::vector<std::string> seen;
    int pages = 0;
    for (;;) {
      Worklist page = Build("2019-02-06", o);
      ++pages;
      ASSERT_LE(page.items.size(), limit);
      EXPECT_EQ(page.total_items, whole.items.size());
      EXPECT_EQ(page.counts, whole.counts);
      for (const auto& w : page.items) seen.push_back(key(w));
      if (page.next.empty()) break;
      EXPECT_EQ(page.items.size(), limit) << "only the last page is short";
      o.after = page.next;
      ASSERT_LT(pages, 100) << "the continuation does not move on";
    }
    std::vector<std::string> expected;
    for (const auto& w : whole.items) expected.push_back(key(w));
    EXPECT_EQ(seen, expected) << "limit " << limit;
    EXPECT_EQ(size_t(pages), (whole.items.size() + limit - 1) / limit) << "limit " << limit;
  }
  WorklistOptions two;
  two.limit = 2;
  auto j = nlohmann::json::parse(WorklistToJson(Build("2019-02-06", two)));
  EXPECT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["totalItems"], whole.items.size());
  EXPECT_TRUE(j.contains("next"));
  EXPECT_EQ(j["counts"]["safeguarding"]["overdue"], 2) << "counts are the whole list's";
  for (const char* bad : {"x", "1.2.3", "1.2.3.4.five.case/D1/T", "99999.0.0.0.0.c", "1.0.17900.0.0."}) {
    WorklistOptions o;
    o.as_of = D("2019-02-06");
    o.after = bad;
    o.limit = 2;
    auto r = BuildWorklist(*store_, calendar_, o);
    if (std::string(bad) == "1.0.17900.0.0.") {  // well formed: a place before every DFG item of 2019
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      continue;
    }
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find("continuation"), std::string::npos) << r.status().ToString();
  }
}

TEST_F(WorklistTest, JsonAndTextForms) {
  DfgCase("case/D1/X", "2018-11-15", "urgent");
  auto wl = Build("2019-02-06");
  auto j = nlohmann::json::parse(WorklistToJson(wl));
  EXPECT_EQ(j["asOf"], "2019-02-06");
  EXPECT_EQ(j["counts"]["dfg"]["overdue"], 1);
  EXPECT_EQ(j["counts"]["first-visit"]["overdue"], 1);
  bool found = false;
  for (const auto& item : j["items"]) {
    if (item["kind"] == "dfg") {
      found = true;
      EXPECT_EQ(item["elapsed"], 56);
      EXPECT_EQ(item["unit"], "workingDays");
      EXPECT_EQ(item["stages"].size(), 5u);
    }
  }
  EXPECT_TRUE(found);
  std::string text = WorklistToText(wl);
  EXPECT_NE(text.find("case/D1/X line 1"), std::string::npos) << text;
  EXPECT_NE(text.find("56 of 55 working days"), std::string::npos) << text;
}

// The items are written into the text one at a time (a county's whole list
// is never one JSON tree): the text is still exactly what one dump of the
// parsed document gives, compact and indented, with and without items and
// a continuation.
TEST_F(WorklistTest, TheJsonIsOneDocumentWrittenItemByItem) {
  DfgCase("case/D1/X", "2018-11-15", "urgent");
  DfgCase("case/D1/Y", "2018-12-03", "");
  WorklistOptions page;
  page.limit = 2;
  WorklistOptions later;  // on a day before every case: no items
  for (const Worklist& wl : {Build("2019-02-06"), Build("2019-02-06", page), Build("2018-01-02", later)}) {
    for (bool pretty : {false, true}) {
      const std::string text = WorklistToJson(wl, pretty);
      auto j = nlohmann::ordered_json::parse(text, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << text;
      EXPECT_EQ(pretty ? j.dump(2) : j.dump(), text);
      ASSERT_TRUE(j["items"].is_array()) << text;
      EXPECT_EQ(j["items"].size(), wl.items.size());
      EXPECT_EQ(j.contains("next"), !wl.next.empty());
      EXPECT_EQ(text.find("\\u0001"), std::string::npos) << "the marker is replaced";
    }
  }
  EXPECT_FALSE(Build("2019-02-06", page).next.empty()) << "the page has a continuation to write";
  EXPECT_TRUE(Build("2018-01-02", later).items.empty());
}

// The work index (docs/readmodels.md): on any day from the latest date any
// case holds, a worklist is read from the index's entries and only the
// page's cases are read and evaluated; it gives what evaluating every open
// case gives (ExpectTheSameAsEveryCaseGives, in Build), over a demo county,
// on days from the index's first to years later, for every district and for
// one, with the windows changed (applied when the index is read), for a
// worker's own list, and page by page. An earlier day, or other targets,
// evaluate every case.
TEST_F(WorklistTest, TheWorkIndexGivesWhatEveryCaseGivesPageByPage) {
  demo::CountyOptions county;
  county.seed = 11;
  county.limit_cases = 150;
  ASSERT_TRUE(demo::GenerateCounty(recorder_.get(), calendar_, county).ok());
  std::string bytes;
  ASSERT_TRUE(store_->GetProjectionValue(kCasesProjection, "U", &bytes).ok());
  WorklistOptions probe;
  probe.as_of = D("2019-03-31");
  // The settled day: the first day the index answers.
  Date settled{};
  for (Date d = D("2019-01-01"); d <= D("2019-12-31"); d += std::chrono::days(1)) {
    probe.as_of = d;
    auto wl = BuildWorklist(*store_, calendar_, probe);
    ASSERT_TRUE(wl.ok());
    if (wl->indexed) {
      settled = d;
      break;
    }
  }
  ASSERT_NE(settled, Date{}) << "the index never answered";
  std::string worker;
  ASSERT_TRUE(ScanCases(*store_, CaseScan{}, [&](const domain::CaseState& c) {
    if (!c.closed && !c.worker.empty()) worker = c.worker;
    return worker.empty();
  }).ok());
  ASSERT_FALSE(worker.empty());
  uint64_t items_seen = 0;
  for (int later : {0, 1, 6, 30, 91, 200, 400, 1500}) {
    const std::string day = domain::FormatDate(settled + std::chrono::days(later));
    for (const char* district : {"", "D1", "D4"}) {
      WorklistOptions o;
      o.district = district;
      Worklist whole = Build(day.c_str(), o);
      EXPECT_TRUE(whole.indexed) << day;
      items_seen += whole.total_items;
      WorklistOptions narrow = o;
      narrow.due_soon_days = 0;
      narrow.review_due_days = 40;
      EXPECT_TRUE(Build(day.c_str(), narrow).indexed);
      WorklistOptions mine = o;
      mine.worker = worker;
      EXPECT_TRUE(Build(day.c_str(), mine).indexed);
      // Page by page: each page reads the states of its own cases only.
      WorklistOptions paged = o;
      paged.limit = 9;
      std::vector<std::string> pages;
      for (int n = 0;; ++n) {
        ASSERT_LT(n, 1000);
        Worklist page = Build(day.c_str(), paged);
        EXPECT_TRUE(page.indexed);
        EXPECT_LE(page.states_read, paged.limit);
        EXPECT_EQ(page.total_items, whole.total_items);
        EXPECT_EQ(page.counts, whole.counts);
        for (const WorkItem& w : page.items) pages.push_back(w.case_id + " " + w.detail);
        if (page.next.empty()) break;
        paged.after = page.next;
      }
      std::vector<std::string> expected;
      for (const WorkItem& w : whole.items) expected.push_back(w.case_id + " " + w.detail);
      EXPECT_EQ(pages, expected) << day << " " << district;
    }
  }
  EXPECT_GT(items_seen, 500u) << "a county with work to list";
  // The day before the settled day, and other targets: every case.
  probe.as_of = settled - std::chrono::days(1);
  EXPECT_FALSE(BuildWorklist(*store_, calendar_, probe)->indexed);
  EXPECT_FALSE(Build(domain::FormatDate(settled - std::chrono::days(1)).c_str()).indexed);
  WorklistOptions slower;
  slower.stall_working_days = 30;
  EXPECT_FALSE(Build(domain::FormatDate(settled).c_str(), slower).indexed);
  // Another calendar (the same years, no bank holidays): the entries' working
  // days are not its own, so the index does not answer for it.
  auto plain = domain::Calendar::FromText("coverage 2015 2027\n");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  probe.as_of = settled + std::chrono::days(30);
  auto other = BuildWorklist(*store_, *plain, probe);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_FALSE(other->indexed);
  EXPECT_GT(indexed_, 100);
}

}  // namespace
}  // namespace hearth::readmodels::testing
