// The subject-access pack, the disclosure log and the monitoring exports over
// the protocol (query with models sar, disclosures, kpi, cases): the answers
// are the library's, scopes are enforced per model, and a pack taken over the
// network is recorded as a disclosure with the plugin and the asserted user.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "county.h"
#include "hearth/exports.h"
#include "hearth/rights.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

using Json = nlohmann::json;

// portal: a council's data-protection console; its controller role may take
// packs, its caseworker role may not. intake: a partner that may query the
// exports only.
constexpr const char* kModelsConfig = R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "CA", "cert": "CERT", "key": "KEY"},
  "threads": 2,
  "workers": 4,
  "plugins": {
    "portal": {
      "scopes": {"read_districts": ["*"], "read_models": ["*"], "read_personal": true, "controller": true},
      "roles": {"controller": {}, "caseworker": {"controller": false}}
    },
    "intake": {
      "scopes": {"read_models": ["kpi", "cases"], "read_districts": ["*"]}
    },
    "limited": {
      "scopes": {"read_models": ["cases"], "read_districts": ["D1"]}
    },
    "auditor": {
      "scopes": {"read_models": ["info"], "read_personal": true, "controller": true}
    }
  }
})";

domain::Date Day(const char* text) {
  domain::Date d;
  EXPECT_TRUE(domain::ParseDate(text, &d)) << text;
  return d;
}

class ModelsTest : public ServerFixture {
 protected:
  static void SetUpTestSuite() {
    static domain::UpcasterRegistry upcasters;
    domain::AddBuiltinUpcasters(&upcasters);
    codec_ = domain::Codec::Create(&upcasters).value().release();
  }

  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    // A small demo county (synthetic people only) and the default record of
    // processing, which the pack's Art. 15 information comes from.
    domain::RecorderOptions ro;
    ro.today = [] { return Day("2019-12-31"); };
    domain::CaseRecorder recorder(store_.get(), codec_, ro);
    demo::CountyOptions options;
    options.limit_cases = 10;
    options.threads = 1;
    auto report = demo::GenerateCounty(&recorder, domain::Calendar::EnglandAndWales(), options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    // A complaint with no case (complaint/K-1): the served return counts it
    // as the library's does.
    NewEvent complaint;
    ASSERT_TRUE(codec_->FromJson(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-06-01","complaint":1,)"
                                 R"("stage":"stage1","district":"D1"}})", &complaint).ok());
    ASSERT_TRUE(domain::RecordComplaint(*store_, *codec_, "complaint/K-1", ExpectedVersion::NoStream(), {complaint},
                                        Day("2019-12-31")).ok());
    rights::RightsOptions rop;
    rop.today = [] { return Day("2019-12-31"); };
    rights_ = std::make_unique<rights::Rights>(store_.get(), codec_, rop);
    ASSERT_TRUE(rights_->SetProcessingRecord(rights::DefaultProcessingRecordJson(),
                                             Actor{"S-9", "controller", "test"}).ok());
    // A client of the county, found by scanning the log.
    for (uint64_t from = 1; client_.empty();) {
      auto page = store_->ReadAll(from, 1000);
      ASSERT_TRUE(page.ok());
      ASSERT_FALSE(page->empty()) << "no client in the demo county";
      for (const auto& e : *page) {
        for (const auto& s : e.subjects) {
          if (s.role == SubjectRole::kClient && client_.empty()) client_ = s.id;
        }
      }
      from = page->back().position + 1;
    }
    ASSERT_TRUE(models_.Add(rights::MakeSarModel(codec_, rop)).ok());
    ASSERT_TRUE(models_.Add(rights::MakeDisclosuresModel(codec_, rop)).ok());
    ASSERT_TRUE(models_.Add(exports::MakeKpiModel(codec_)).ok());
    ASSERT_TRUE(models_.Add(exports::MakeCasesModel(codec_)).ok());
    Start(Config(kModelsConfig));
  }
  void TearDown() override {
    rights_.reset();
    ServerFixture::TearDown();
  }

  // The partner plugin's return for 2018/19 under ons, at `position`.
  Result<std::string> PartnersYear(uint64_t position) {
    auto partner = Connect("intake", "u-1", "partner");
    if (!partner) return Status::IOError("the partner could not connect");
    return partner->Query("kpi", Json{{"period", "2018/19"}, {"policy", "ons"}, {"position", position}}.dump());
  }

  // The `kpi` model's answer is the library's return from the whole store,
  // byte for byte.
  void ExpectTheLibrarysReturn(const std::string& answer, const char* period_text, const char* policy_text,
                               uint64_t position) {
    auto period = exports::ParsePeriod(period_text);
    auto policy = exports::ParsePolicy(policy_text);
    ASSERT_TRUE(period.ok() && policy.ok());
    exports::KpiOptions ko;
    ko.position = position;
    auto kpi = exports::BuildKpiReturn(*store_, *codec_, domain::Calendar::EnglandAndWales(), *period, *policy, ko);
    ASSERT_TRUE(kpi.ok()) << kpi.status().ToString();
    EXPECT_EQ(answer, exports::KpiToJson(*kpi));
  }

  static const domain::Codec* codec_;
  std::unique_ptr<rights::Rights> rights_;
  std::string client_;
};

const domain::Codec* ModelsTest::codec_ = nullptr;

void ExpectCode(const Status& s, Status::Code code, const std::string& text) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(text), std::string::npos) << s.ToString();
}

TEST_F(ModelsTest, TheControllerTakesAPackOverTheNetworkAndItIsRecorded) {
  auto client = Connect("portal", "S-0042", "controller");
  ASSERT_TRUE(client);
  auto answer = client->Query("sar", Json{{"subject", client_}, {"html", true}}.dump());
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  Json got = Json::parse(*answer);
  // The same pack the library builds (generated time and disclosures aside).
  rights::PackOptions po;
  po.record_disclosure = false;
  auto direct = rights_->BuildPack(client_, po);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(got["subject"], client_);
  EXPECT_EQ(got["events"].get<uint32_t>(), direct->events);
  EXPECT_EQ(got["withheldSections"].get<uint32_t>(), direct->withheld_sections);
  EXPECT_FALSE(got["erased"].get<bool>());
  Json pack = Json::parse(direct->json);
  ASSERT_TRUE(got["pack"].contains("events"));
  EXPECT_EQ(got["pack"]["events"].size(), pack["events"].size());
  EXPECT_EQ(got["pack"]["events"], pack["events"]);
  ASSERT_TRUE(got["html"].is_string());
  EXPECT_EQ(got["html"].get<std::string>().rfind("<!DOCTYPE html>", 0), 0u);
  // The generation is a disclosure to the data subject, by this plugin and user.
  auto log = rights_->DisclosuresJson(client_);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("\"portal\""), std::string::npos) << *log;
  EXPECT_NE(log->find("S-0042"), std::string::npos) << *log;
  // And the disclosure log over the network shows it too.
  auto disclosures = client->Query("disclosures", Json{{"subject", client_}}.dump());
  ASSERT_TRUE(disclosures.ok()) << disclosures.status().ToString();
  EXPECT_NE(disclosures->find("S-0042"), std::string::npos) << *disclosures;
}

TEST_F(ModelsTest, APackNeedsTheControllerAndPersonalScopes) {
  uint64_t last = store_->Info()->last_position;
  auto caseworker = Connect("portal", "S-0043", "caseworker");
  ASSERT_TRUE(caseworker);
  ExpectCode(caseworker->Query("sar", Json{{"subject", client_}}.dump()).status(),
             Status::Code::kPermissionDenied, "controller");
  ExpectCode(caseworker->Query("disclosures", Json{{"subject", client_}}.dump()).status(),
             Status::Code::kPermissionDenied, "controller");
  auto partner = Connect("intake", "u-1", "partner");
  ASSERT_TRUE(partner);
  ExpectCode(partner->Query("sar", Json{{"subject", client_}}.dump()).status(),
             Status::Code::kPermissionDenied, "read_models");
  // The auditor is a controller but may not query the sar model.
  auto auditor = Connect("auditor", "u-2", "audit");
  ASSERT_TRUE(auditor);
  ExpectCode(auditor->Query("sar", Json{{"subject", client_}}.dump()).status(),
             Status::Code::kPermissionDenied, "read_models");
  // Nothing was disclosed, nothing written.
  EXPECT_EQ(store_->Info()->last_position, last);
  auto log = rights_->DisclosuresJson(client_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->find("\"sar\""), std::string::npos) << *log;
}

TEST_F(ModelsTest, BadPackQueriesNameTheProblem) {
  auto client = Connect("portal", "S-0042", "controller");
  ASSERT_TRUE(client);
  ExpectCode(client->Query("sar", "{}").status(), Status::Code::kInvalidArgument, "subject is required");
  ExpectCode(client->Query("sar", R"({"subject":"P-000001","colour":"red"})").status(),
             Status::Code::kInvalidArgument, "unknown parameter \"colour\"");
  ExpectCode(client->Query("sar", R"({"subject":"nobody-here"})").status(), Status::Code::kNotFound,
             "no data subject nobody-here");
  ExpectCode(client->Query("sar", R"({"subject":"P-1","html":"yes"})").status(),
             Status::Code::kInvalidArgument, "html must be true or false");
  ExpectCode(client->Query("sar", Json{{"subject", client_}, {"request", "R-99"}}.dump()).status(),
             Status::Code::kNotFound, "R-99");
}

TEST_F(ModelsTest, TheKpiReturnOverTheNetworkIsTheLibrarysBytes) {
  uint64_t position = store_->Info()->last_position;
  auto answer = PartnersYear(position);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  ExpectTheLibrarysReturn(*answer, "2018/19", "ons", position);
  Json j = Json::parse(*answer);
  EXPECT_EQ(j["position"].get<uint64_t>(), position);
  EXPECT_EQ(j["policy"]["name"], "ons");
}

// The targets and allocations kept in the store (config/timescales,
// config/allocations) are the service's published configuration: a
// partner's return over the network uses them, as `hearth export kpi` does,
// although its stream scopes name neither stream (docs/exports.md).
TEST_F(ModelsTest, APartnersReturnUsesTheTargetsAndAllocationsKeptInTheStore) {
  exports::Timescales t;
  t.first_visit_days = 21;
  ASSERT_TRUE(exports::SetTimescales(*store_, *codec_, t, Day("2018-04-01"), Actor{"S-9", "controller", "test"}).ok());
  NewEvent allocation;
  ASSERT_TRUE(codec_->FromJson(
      R"({"type":"AllocationSet","actor":{"user":"S-9","role":"controller","plugin":"test"},)"
      R"("facts":{"setOn":"2018-03-01","district":"D1","financialYear":"2018/19","fund":"mandatoryDfg",)"
      R"("amountPence":123400000}})", &allocation).ok());
  auto recorded = domain::RecordAllocations(*store_, *codec_, ExpectedVersion::Any(), {allocation}, Day("2019-12-31"));
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();

  uint64_t position = store_->Info()->last_position;
  auto answer = PartnersYear(position);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  Json j = Json::parse(*answer);
  EXPECT_EQ(j["timescales"]["firstVisitDays"], 21);
  std::vector<std::string> areas = j["areas"].get<std::vector<std::string>>();
  size_t d1 = std::find(areas.begin(), areas.end(), "D1") - areas.begin();
  ASSERT_LT(d1, areas.size());
  bool found = false;
  for (const auto& f : j["money"]["figures"]) {
    if (f["id"] != "money.mandatoryDfg.allocation") continue;
    found = true;
    EXPECT_EQ(f["values"][d1], 123400000);
  }
  EXPECT_TRUE(found) << j["money"].dump();
  ExpectTheLibrarysReturn(*answer, "2018/19", "ons", position);
}

// A front end can ask for a year, its quarters and any position, with no
// release ledger between its answers (docs/exports.md, "Coordination across
// returns"): under nhs or threshold:K an interval attack on such a set
// recovers small counts, so a front end takes ons only, and the controller
// releases the others to a named recipient through the ledger.
TEST_F(ModelsTest, AFrontEndTakesOnlyThePolicyThatResistsDifferencingAcrossReturns) {
  auto partner = Connect("intake", "u-1", "partner");
  ASSERT_TRUE(partner);
  for (const char* policy : {"nhs", "threshold:3", "threshold:12"}) {
    for (const char* period : {"2018/19", "2018/19-Q2"}) {
      ExpectCode(partner->Query("kpi", Json{{"period", period}, {"policy", policy}}.dump()).status(),
                 Status::Code::kPermissionDenied, "hearth export kpi --recipient");
    }
  }
  auto ons = partner->Query("kpi", R"({"period":"2018/19-Q2"})");
  ASSERT_TRUE(ons.ok()) << ons.status().ToString();
  EXPECT_EQ(Json::parse(*ons)["policy"]["name"], "ons");  // the default
  auto controller = Connect("portal", "S-0042", "controller");
  ASSERT_TRUE(controller);
  auto nhs = controller->Query("kpi", R"({"period":"2018/19","policy":"nhs"})");
  ASSERT_TRUE(nhs.ok()) << nhs.status().ToString();
  EXPECT_EQ(Json::parse(*nhs)["policy"]["name"], "nhs");
}

TEST_F(ModelsTest, AnUncontrolledReturnNeedsTheController) {
  auto partner = Connect("intake", "u-1", "partner");
  ASSERT_TRUE(partner);
  ExpectCode(partner->Query("kpi", R"({"period":"2018/19","policy":"none"})").status(),
             Status::Code::kPermissionDenied, "controller");
  ExpectCode(partner->Query("kpi", R"({"period":"2018/19-Q5"})").status(), Status::Code::kInvalidArgument,
             "2018/19-Q5");
  ExpectCode(partner->Query("kpi", R"({"period":"2018/19","policy":"threshold:1"})").status(),
             Status::Code::kInvalidArgument, "threshold");
  ExpectCode(partner->Query("kpi", R"({"policy":"nhs"})").status(), Status::Code::kInvalidArgument,
             "period is required");
  auto controller = Connect("portal", "S-0042", "controller");
  ASSERT_TRUE(controller);
  auto none = controller->Query("kpi", R"({"period":"2018/19","policy":"none"})");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(Json::parse(*none)["policy"]["name"], "none");
}

TEST_F(ModelsTest, TheCaseExtractIsKeyedForTheCallingPlugin) {
  auto partner = Connect("intake", "u-1", "partner");
  ASSERT_TRUE(partner);
  auto mine = partner->Query("cases", R"({"period":"2018/19","k":2})");
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  Json j = Json::parse(*mine);
  EXPECT_EQ(j["recipient"], "intake");
  // The same rows as the library's extract for that recipient.
  auto period = exports::ParsePeriod("2018/19");
  exports::ExtractOptions eo;
  eo.recipient = "intake";
  eo.k = 2;
  eo.position = j["position"].get<uint64_t>();
  auto direct = exports::BuildCaseExtract(*store_, *codec_, *period, eo);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(j["csv"].get<std::string>(), exports::ExtractToCsv(*direct));
  EXPECT_GT(direct->rows.size(), 0u);
  // Another recipient's references need the controller.
  ExpectCode(partner->Query("cases", R"({"period":"2018/19","recipient":"portal"})").status(),
             Status::Code::kPermissionDenied, "controller");
  ExpectCode(partner->Query("cases", R"({"period":"2018/19","k":1})").status(), Status::Code::kInvalidArgument,
             "k must be");
  auto controller = Connect("portal", "S-0042", "controller");
  ASSERT_TRUE(controller);
  auto theirs = controller->Query("cases", R"({"period":"2018/19","k":2,"recipient":"intake"})");
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_EQ(Json::parse(*theirs)["csv"], j["csv"]);
  auto own = controller->Query("cases", R"({"period":"2018/19","k":2})");
  ASSERT_TRUE(own.ok());
  EXPECT_NE(Json::parse(*own)["csv"], j["csv"]);  // keyed for "portal": other references
}

// The `cases` model applies read_districts: a plugin scoped to D1 receives
// only D1's rows (keyed for it, k-anonymised among them).
TEST_F(ModelsTest, TheCaseExtractHoldsOnlyTheCallersDistricts) {
  auto d1 = Connect("limited", "u-1", "analyst");
  ASSERT_TRUE(d1);
  auto answer = d1->Query("cases", R"({"period":"2018/19","k":2})");
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  Json j = Json::parse(*answer);
  auto period = exports::ParsePeriod("2018/19");
  ASSERT_TRUE(period.ok());
  exports::ExtractOptions eo;
  eo.recipient = "limited";
  eo.k = 2;
  eo.position = j["position"].get<uint64_t>();
  auto all = exports::BuildCaseExtract(*store_, *codec_, *period, eo);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  eo.include = [](const domain::CaseState& c) { return c.district == "D1"; };
  auto mine = exports::BuildCaseExtract(*store_, *codec_, *period, eo);
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(j["csv"].get<std::string>(), exports::ExtractToCsv(*mine));
  EXPECT_EQ(j["candidateRows"].get<uint64_t>(), mine->candidate_rows);
  EXPECT_LT(mine->candidate_rows, all->candidate_rows) << "the county has more than D1";
  EXPECT_GT(mine->candidate_rows, 0u);
  for (const auto& row : mine->rows) EXPECT_EQ(row.district, "D1");
}

// An earlier position shows cases where they were then: the controller's only.
TEST_F(ModelsTest, OnlyTheControllerTakesTheCaseExtractAtAnEarlierPosition) {
  uint64_t last = store_->Info()->last_position;
  auto partner = Connect("intake", "u-1", "partner");
  ASSERT_TRUE(partner);
  ExpectCode(partner->Query("cases", Json{{"period", "2018/19"}, {"k", 2}, {"position", last - 1}}.dump()).status(),
             Status::Code::kPermissionDenied, "controller");
  auto now = partner->Query("cases", Json{{"period", "2018/19"}, {"k", 2}, {"position", last}}.dump());
  EXPECT_TRUE(now.ok()) << now.status().ToString();
  auto controller = Connect("portal", "S-0042", "controller");
  ASSERT_TRUE(controller);
  auto earlier = controller->Query("cases", Json{{"period", "2018/19"}, {"k", 2}, {"position", last - 1}}.dump());
  ASSERT_TRUE(earlier.ok()) << earlier.status().ToString();
  EXPECT_EQ(Json::parse(*earlier)["position"].get<uint64_t>(), last - 1);
}

}  // namespace
}  // namespace hearth::testing
