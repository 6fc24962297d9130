// The `timeline` and `worklist` read models behind ReadModels: parameters,
// scopes (district, personal data) and their JSON answers.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "hearth/exports.h"
#include "hearth/rights.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

class ModelsTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    CasesProjectionOptions o;
    o.mode = ProjectionMode::kInline;
    Open({MakeCasesProjection(codec_.get(), o)});
    ASSERT_TRUE(models_.Add(MakeTimelineModel(codec_.get())).ok());
    ASSERT_TRUE(models_.Add(MakeWorklistModel(&calendar_, codec_.get())).ok());
    Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
    Record("case/D2/1", {Enquiry("2018-04-02", "P-2", "D2")});
  }
  Scopes ScopesFor(std::vector<std::string> districts, bool personal) {
    Scopes s;
    s.read_districts = std::move(districts);
    s.read_models = {"timeline", "worklist"};
    s.read_personal = personal;
    return s;
  }
  domain::Calendar calendar_ = domain::Calendar::EnglandAndWales();
  ReadModels models_;
};

TEST_F(ModelsTest, TimelineAnswersWithinTheSessionsScopes) {
  Session d1(store_.get(), Principal{"web", "S-1", "caseworker"}, ScopesFor({"D1"}, false), [](const std::string&) {});
  auto ok = models_.Query(d1, "timeline", R"({"case":"case/D1/1"})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto j = nlohmann::json::parse(*ok);
  EXPECT_EQ(j["case"], "case/D1/1");
  EXPECT_FALSE(j["personalShown"].get<bool>());
  EXPECT_EQ(ok->find("Quillfeather"), std::string::npos);
  EXPECT_TRUE(j["events"][0].contains("proof"));
  auto other = models_.Query(d1, "timeline", R"({"case":"case/D2/1"})");
  EXPECT_EQ(other.status().code(), Status::Code::kPermissionDenied);

  Session personal(store_.get(), Principal{"web", "S-1", "caseworker"}, ScopesFor({"D1"}, true),
                   [](const std::string&) {});
  auto with = models_.Query(personal, "timeline", R"({"case":"D1/1","at":1,"proofs":false})");
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  EXPECT_NE(with->find("Quillfeather"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(*with)["events"][0].contains("proof"));

  EXPECT_TRUE(models_.Query(d1, "timeline", R"({})").status().IsInvalidArgument());
  EXPECT_TRUE(models_.Query(d1, "timeline", R"({"case":"case/D1/1","color":"red"})").status().IsInvalidArgument());
  EXPECT_TRUE(models_.Query(d1, "timeline", R"({"case":"case/D1/1","asOf":"31/01/2019"})").status().IsInvalidArgument());
  EXPECT_TRUE(models_.Query(d1, "timeline", R"({"case":"case/D1/1","at":-3})").status().IsInvalidArgument());
  EXPECT_TRUE(models_.Query(d1, "timeline", R"({"case":"case/D1/404"})").status().IsNotFound());
  EXPECT_TRUE(models_.Query(d1, "timeline", "not json").status().IsInvalidArgument());
}

TEST_F(ModelsTest, WorklistShowsOnlyTheDistrictsTheSessionMayRead) {
  Session d1(store_.get(), Principal{"web", "S-1", "caseworker"}, ScopesFor({"D1"}, false), [](const std::string&) {});
  auto all = models_.Query(d1, "worklist", R"({"asOf":"2018-06-01"})");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  auto j = nlohmann::json::parse(*all);
  EXPECT_EQ(j["casesConsidered"], 1);
  // The first visit overdue, and (issue 17.7) the case awaiting allocation to a worker.
  ASSERT_EQ(j["items"].size(), 2u);
  EXPECT_EQ(j["items"][0]["case"], "case/D1/1");
  EXPECT_EQ(j["items"][0]["kind"], "first-visit");
  EXPECT_EQ(j["items"][0]["status"], "overdue");
  EXPECT_EQ(j["items"][1]["case"], "case/D1/1");
  EXPECT_EQ(j["items"][1]["kind"], "allocation");
  EXPECT_EQ(models_.Query(d1, "worklist", R"({"district":"D2"})").status().code(),
            Status::Code::kPermissionDenied);
  auto mine = models_.Query(d1, "worklist",
                            R"({"district":"D1","asOf":"2018-04-29","dueSoonDays":0,"allocationGraceWorkingDays":100})");
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(nlohmann::json::parse(*mine)["items"].empty());
  EXPECT_TRUE(models_.Query(d1, "worklist", R"({"stallWorkingDays":0})").status().IsInvalidArgument());
  // A page larger than the model's bound is refused, naming the bound; a
  // continuation it did not give is refused too.
  auto big = models_.Query(d1, "worklist", R"({"limit":1001})");
  ASSERT_TRUE(big.status().IsInvalidArgument());
  EXPECT_NE(big.status().message().find("limit must be an integer from 1 to 1000"), std::string::npos)
      << big.status().ToString();
  EXPECT_TRUE(models_.Query(d1, "worklist", R"({"after":"nowhere"})").status().IsInvalidArgument());
  auto one = models_.Query(d1, "worklist", R"({"asOf":"2018-06-01","limit":1})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  auto first = nlohmann::json::parse(*one);
  EXPECT_LE(first["items"].size(), 1u);
  if (first["totalItems"].get<int>() > 1) {
    ASSERT_TRUE(first.contains("next"));
    auto second = models_.Query(d1, "worklist",
                                R"({"asOf":"2018-06-01","limit":1,"after":")" + first["next"].get<std::string>() + R"("})");
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    EXPECT_NE(nlohmann::json::parse(*second)["items"], first["items"]);
  }
  EXPECT_TRUE(models_.Query(d1, "worklist", R"({"allocationGraceWorkingDays":101})").status().IsInvalidArgument());
  EXPECT_TRUE(models_.Query(d1, "worklist", R"({"worker":"Testina"})").status().IsInvalidArgument());
  auto nobody = models_.Query(d1, "worklist", R"({"asOf":"2018-06-01","worker":"S-D1-99"})");
  ASSERT_TRUE(nobody.ok()) << nobody.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(*nobody)["casesConsidered"], 0) << "no case is allocated to S-D1-99";
  // A principal without the worklist scope is refused by the collection.
  Scopes none = ScopesFor({"D1"}, false);
  none.read_models = {"timeline"};
  Session no_model(store_.get(), Principal{"web", "S-1", "caseworker"}, none, [](const std::string&) {});
  EXPECT_EQ(models_.Query(no_model, "worklist", "{}").status().code(), Status::Code::kPermissionDenied);
}

// The served worklist evaluates the targets kept in the store (`hearth
// export timescales`), not built-in ones, although a caseworker's scopes
// name no config stream; and its first-visit clock starts at the referral
// when the case came by referral, as the return's does (docs/exports.md).
TEST_F(ModelsTest, TheServedWorklistUsesTheStoresTargetsAndTheReferralsClock) {
  Session d1(store_.get(), Principal{"web", "S-1", "caseworker"}, ScopesFor({"D1"}, false), [](const std::string&) {});
  auto first_visits = [&](const std::string& params) {
    auto answer = models_.Query(d1, "worklist", params);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    std::map<std::string, nlohmann::json> out;
    if (!answer.ok()) return out;
    nlohmann::json j = nlohmann::json::parse(*answer);
    for (const auto& item : j["items"]) {
      if (item["kind"] == "first-visit") out[item["case"].get<std::string>()] = item;
    }
    return out;
  };
  // A second case, enquiry on 2 April, referred on 9 April.
  Record("case/D1/2", {Enquiry("2018-04-02", "P-3", "D1"),
                       Ev("ReferralMade", R"("referredOn":"2018-04-09","referrerType":"occupationalTherapist",)"
                                          R"("service":"minorAdaptation","consentBasis":{"given":{"givenOn":"2018-04-09",)"
                                          R"("method":"written","scopes":["referOn"]}})")});
  const std::string params = R"({"asOf":"2018-04-13","dueSoonDays":0})";
  // Built-in 28 days: nothing is due on 13 April.
  EXPECT_TRUE(first_visits(params).empty());
  exports::Timescales t;
  t.first_visit_days = 10;
  ASSERT_TRUE(exports::SetTimescales(*store_, *codec_, t, D("2018-04-01"), Actor{"S-9", "controller", "test"}).ok());
  auto items = first_visits(params);
  // The enquiry's clock ran out on 12 April; the referred case's runs to 19 April.
  ASSERT_EQ(items.size(), 1u) << nlohmann::json(items).dump();
  ASSERT_TRUE(items.count("case/D1/1"));
  EXPECT_EQ(items["case/D1/1"]["status"], "overdue");
  EXPECT_EQ(items["case/D1/1"]["target"], 10);
  EXPECT_EQ(items["case/D1/1"]["due"], "2018-04-12");
  items = first_visits(R"({"asOf":"2018-04-20","dueSoonDays":0})");
  ASSERT_TRUE(items.count("case/D1/2"));
  EXPECT_EQ(items["case/D1/2"]["due"], "2018-04-19");
  EXPECT_EQ(items["case/D1/2"]["since"], "2018-04-09");
  // The call's own target still overrides the store's.
  EXPECT_TRUE(first_visits(R"({"asOf":"2018-04-13","dueSoonDays":0,"firstVisitDays":28})").empty());
}

// UK GDPR Art. 18: the worklist model of `hearth serve` leaves restricted
// people out, as `hearth worklist` does, from the same view of the
// restrictions (rights::ActiveRestrictions).
TEST_F(ModelsTest, TheWorklistModelLeavesRestrictedPeopleOut) {
  Session both(store_.get(), Principal{"web", "S-1", "caseworker"}, ScopesFor({"D1", "D2"}, false),
               [](const std::string&) {});
  auto cases_of = [&](const std::string& params) {
    auto answer = models_.Query(both, "worklist", params);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    std::set<std::string> out;
    if (!answer.ok()) return out;
    nlohmann::json j = nlohmann::json::parse(*answer);
    for (const auto& item : j["items"]) out.insert(item["case"].get<std::string>());
    return out;
  };
  EXPECT_EQ(cases_of(R"({"asOf":"2018-06-01"})"), (std::set<std::string>{"case/D1/1", "case/D2/1"}));
  rights::RightsOptions ro;
  ro.today = [] { return D("2019-12-31"); };
  rights::Rights r(store_.get(), codec_.get(), ro);
  ASSERT_TRUE(r.Restrict("P-1", "", "accuracyContested", Actor{"S-9", "controller", "test"}).ok());
  auto restricted = rights::ActiveRestrictions::Read(*store_, *codec_);
  ASSERT_TRUE(restricted.ok()) << restricted.status().ToString();
  EXPECT_TRUE(restricted->Contains("P-1"));
  EXPECT_EQ(restricted->Since("P-1"), D("2019-12-31"));
  EXPECT_FALSE(restricted->Since("P-2").has_value());
  EXPECT_EQ(cases_of(R"({"asOf":"2018-06-01"})"), (std::set<std::string>{"case/D2/1"}));
  EXPECT_TRUE(cases_of(R"({"asOf":"2018-06-01","district":"D1"})").empty());
  // The same as the command's worklist, built from the same view.
  WorklistOptions cli;
  cli.as_of = D("2018-06-01");
  cli.allocation_grace_working_days = 100;  // the first visits only
  auto wl = BuildWorklist(*store_, calendar_, cli);
  ASSERT_TRUE(wl.ok()) << wl.status().ToString();
  ASSERT_EQ(wl->items.size(), 1u);
  EXPECT_EQ(wl->items[0].case_id, "case/D2/1");
  // Lifted: back on the list.
  ASSERT_TRUE(r.LiftRestriction("P-1", "accuracyVerified", Actor{"S-9", "controller", "test"}).ok());
  EXPECT_EQ(cases_of(R"({"asOf":"2018-06-01"})"), (std::set<std::string>{"case/D1/1", "case/D2/1"}));
}

}  // namespace
}  // namespace hearth::readmodels::testing
