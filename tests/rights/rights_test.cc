// The rights workflow end to end on a synthetic store: request rules, the
// subject-access pack checked against an independent scan of the whole log,
// rectification, restriction, erasure under and without a legal hold.
// Synthetic people only (tools/demo and invented test names).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "county.h"
#include "hearth/exports.h"
#include "hearth/rights.h"
#include "readmodels_test_util.h"
#include "rights/pack.h"

namespace hearth::rights {
namespace {

using Json = nlohmann::json;
using readmodels::testing::D;

class RightsTest : public readmodels::testing::ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open(readmodels::MakeProjections(codec_.get()));  // cases and rights_requests
    MakeRights("2019-12-31");
    ASSERT_TRUE(rights_->SetProcessingRecord(DefaultProcessingRecordJson(), controller_).ok());
  }
  void TearDown() override {
    rights_.reset();
    ReadModelTest::TearDown();
  }

  void MakeRights(const std::string& today) {
    RightsOptions o;
    Date d = D(today.c_str());
    o.today = [d] { return d; };
    rights_ = std::make_unique<Rights>(store_.get(), codec_.get(), o);
  }

  NewEvent Req(const std::string& type, const std::string& facts, const std::string& subject = "") {
    std::string subjects = subject.empty() ? "" : R"(,"subjects":[{"id":")" + subject + R"(","role":"client"}])";
    return E(R"({"type":")" + type + R"(","actor":{"user":"S-9","role":"controller","plugin":"test"},)"
             R"("facts":{)" + facts + "}" + subjects + "}");
  }

  uint64_t LastPosition() {
    auto info = store_->Info();
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->last_position : 0;
  }

  // Every personal string value of `subject` anywhere in the log.
  std::set<std::string> PersonalValues(const std::string& subject) {
    std::set<std::string> out;
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      EXPECT_TRUE(page.ok());
      if (!page.ok() || page->empty()) break;
      for (const auto& e : *page) {
        if (codec_->FindType(e.type) == nullptr) continue;
        auto j = codec_->ToJson(e);
        EXPECT_TRUE(j.ok());
        Json ev = Json::parse(*j);
        for (const auto& p : ev["personal"]) {
          if (p["subject"] != subject || !p.contains("details")) continue;
          for (const auto& [k, v] : p["details"].items()) {
            // A relationship ("friend", "son") is a common word: it cannot be
            // searched for as bytes; the withheld marker covers it.
            if (k == "relationship") continue;
            if (v.is_string() && v.get<std::string>().size() >= 4) out.insert(v.get<std::string>());
            if (v.is_array()) {
              for (const auto& x : v) {
                if (x.is_string() && x.get<std::string>().size() >= 4) out.insert(x.get<std::string>());
              }
            }
          }
        }
      }
      from = page->back().position + 1;
    }
    return out;
  }

  Actor controller_{"S-9", "controller", "test"};
  std::unique_ptr<Rights> rights_;
};

// ------------------------------------------------------------ request rules

TEST_F(RightsTest, RequestWithoutReceiptDateIsRefusedAndNothingWritten) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  uint64_t before = LastPosition();
  auto r = rights_->Record("R-1", {Req("RightsRequestReceived", R"("kind":"access")", "P-T1")});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("rule rights-receipt-date"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(LastPosition(), before);
  EXPECT_TRUE(rights_->LoadRequest("R-1").status().IsNotFound());
}

TEST_F(RightsTest, FulfilmentBeforeIdentityVerificationIsRefused) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived",
                                          R"("receivedOn":"2019-11-29","kind":"access","identityNeeded":true)",
                                          "P-T1")}).ok());
  uint64_t before = LastPosition();
  auto r = rights_->Record("R-1", {Req("RightsRequestFulfilled", R"("fulfilledOn":"2019-12-02","actionCode":"packSent")")});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rule rights-identity-before-fulfilment"), std::string::npos);
  EXPECT_EQ(LastPosition(), before);

  // Verified, paused for clarification, resumed, then fulfilled.
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsIdentityVerified",
                                          R"("verifiedOn":"2019-12-02","method":"documentSeen","verifiedBy":"S-9")")}).ok());
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsClockPaused", R"("pausedOn":"2019-12-03","reason":"clarification")")}).ok());
  auto twice = rights_->Record("R-1", {Req("RightsClockPaused", R"("pausedOn":"2019-12-04","reason":"clarification")")});
  EXPECT_NE(twice.status().message().find("rule rights-clock-paused"), std::string::npos);
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsClockResumed", R"("resumedOn":"2019-12-10")")}).ok());
  auto state = rights_->LoadRequest("R-1");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->subject, "P-T1");
  ASSERT_EQ(state->stops.size(), 1u);
  auto due = ComputeDueDate(*state, domain::Calendar::EnglandAndWales(), D("2019-12-31"));
  ASSERT_TRUE(due.ok());
  // 29 Dec (Sunday) + 7 days stopped = 5 Jan 2020 (Sunday) -> Monday 6 January.
  EXPECT_EQ(domain::FormatDate(due->due), "2020-01-06");
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestFulfilled", R"("fulfilledOn":"2019-12-20","actionCode":"packSent")")}).ok());
  auto after = rights_->Record("R-1", {Req("RightsClockPaused", R"("pausedOn":"2019-12-21","reason":"clarification")")});
  EXPECT_NE(after.status().message().find("rule rights-request-closed"), std::string::npos);
}

TEST_F(RightsTest, ExtensionMustBeToldWithinTheFirstMonthAndAtMostTwoMonths) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived", R"("receivedOn":"2019-10-31","kind":"access")", "P-T1")}).ok());
  auto late = rights_->Record("R-1", {Req("RightsRequestExtended",
                                          R"("extendedOn":"2019-12-03","months":2,"reasonCode":"complex","personToldOn":"2019-12-03")")});
  // The first month ended on Monday 2 December (30 November is a Saturday).
  EXPECT_NE(late.status().message().find("rule rights-extension"), std::string::npos) << late.status().ToString();
  auto three = rights_->Record("R-1", {Req("RightsRequestExtended",
                                           R"("extendedOn":"2019-11-20","months":3,"reasonCode":"complex","personToldOn":"2019-11-20")")});
  EXPECT_NE(three.status().message().find("rule rights-extension"), std::string::npos);
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestExtended",
                                          R"("extendedOn":"2019-11-20","months":2,"reasonCode":"complex","personToldOn":"2019-11-20")")}).ok());
  RequestPageOptions every;
  every.open_only = false;
  auto all = rights_->RequestsPage(every);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->requests.size(), 1u);
  auto due = ComputeDueDate(all->requests.front(), domain::Calendar::EnglandAndWales(), D("2019-12-31"));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(domain::FormatDate(due->due), "2020-01-31");  // 31 Oct + 3 months, a Friday
  auto next = rights_->NextRequestRef();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "R-2");
}

// ------------------------------------------------------------ the pack

class DemoPackTest : public RightsTest {
 protected:
  void SetUp() override {
    RightsTest::SetUp();
    auto calendar = domain::Calendar::EnglandAndWales();
    demo::CountyOptions options;
    options.limit_cases = 12;
    options.threads = 1;
    auto report = demo::GenerateCounty(recorder_.get(), calendar, options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    // A client with both a carer and a relative, found by scanning the log.
    std::map<std::string, std::set<SubjectRole>> roles;  // case -> roles
    std::map<std::string, std::string> client_of;
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      for (const auto& e : *page) {
        for (const auto& s : e.subjects) {
          roles[e.stream].insert(s.role);
          if (s.role == SubjectRole::kClient) client_of[e.stream] = s.id;
        }
      }
      from = page->back().position + 1;
    }
    for (const auto& [stream, r] : roles) {
      if (r.count(SubjectRole::kCarer) && r.count(SubjectRole::kRelative)) {
        case_id_ = stream;
        client_ = client_of[stream];
        break;
      }
    }
    ASSERT_FALSE(client_.empty()) << "no demo client with a carer and a relative";
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      for (const auto& e : *page) {
        if (e.stream != case_id_) continue;
        for (const auto& s : e.subjects) {
          if (s.role == SubjectRole::kCarer || s.role == SubjectRole::kRelative) others_.insert(s.id);
        }
      }
      from = page->back().position + 1;
    }
  }

  // Positions of every event naming `subject`, from a scan of the whole log.
  std::vector<uint64_t> ScanPositions(const std::string& subject) {
    std::vector<uint64_t> out;
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      EXPECT_TRUE(page.ok());
      if (!page.ok() || page->empty()) break;
      for (const auto& e : *page) {
        for (const auto& s : e.subjects) {
          if (s.id == subject) {
            out.push_back(e.position);
            break;
          }
        }
      }
      from = page->back().position + 1;
    }
    return out;
  }

  std::string case_id_;
  std::string client_;
  std::set<std::string> others_;
};

// Tags open and close in order (void elements aside); no scripts, no
// external resources.
void ExpectSelfContainedHtml(const std::string& html) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find(" href="), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  std::vector<std::string> stack;
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "link", "input"};
  for (size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    if (html.compare(i, 2, "<!") == 0) continue;
    size_t end = html.find('>', i);
    ASSERT_NE(end, std::string::npos);
    bool closing = html[i + 1] == '/';
    size_t start = i + (closing ? 2 : 1);
    size_t name_end = html.find_first_of(" >", start);
    std::string name = html.substr(start, name_end - start);
    if (kVoid.count(name)) continue;
    if (closing) {
      ASSERT_FALSE(stack.empty()) << "</" << name << "> closes nothing at " << i;
      ASSERT_EQ(stack.back(), name) << "at " << i;
      stack.pop_back();
    } else {
      stack.push_back(name);
    }
  }
  EXPECT_TRUE(stack.empty());
}

// The documented schema (docs/sar-format.md), checked field by field.
void ExpectPackSchema(const Json& j) {
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.at("format"), "hearth-sar");
  EXPECT_EQ(j.at("formatVersion"), 1);
  EXPECT_TRUE(j.at("subject").is_string());
  EXPECT_TRUE(j.at("generatedOn").is_string());
  EXPECT_TRUE(j.at("erased").is_boolean());
  if (j["erased"].get<bool>()) {
    EXPECT_TRUE(j.at("erasedOn").is_string());
    EXPECT_TRUE(j.at("statement").is_string());
    return;
  }
  EXPECT_TRUE(j.at("restricted").is_boolean());
  EXPECT_TRUE(j.at("controller").at("name").is_string());
  EXPECT_TRUE(j.at("currentDetails").is_object());
  for (const char* list : {"events", "withheld", "heldForReview", "rectifications", "disclosures",
                           "accessLog", "requests"}) {
    EXPECT_TRUE(j.at(list).is_array()) << list;
  }
  for (const auto& e : j["events"]) {
    EXPECT_TRUE(e.at("position").is_number_unsigned());
    EXPECT_TRUE(e.at("date").is_string());
    EXPECT_TRUE(e.at("type").is_string());
    EXPECT_TRUE(e.at("description").is_string());
    EXPECT_TRUE(e.at("record").is_string());
    EXPECT_TRUE(e.at("yourRole").is_string());
    EXPECT_TRUE(e.at("by").at("staffRef").is_string());
    EXPECT_TRUE(e.at("facts").is_object());
    for (const auto& p : e.at("personal")) {
      EXPECT_TRUE(p.at("role").is_string());
      EXPECT_TRUE(p.contains("withheld") || p.contains("details") || p.contains("erased"));
    }
  }
  const Json& a = j.at("article15");
  for (const char* list : {"purposes", "categories", "recipients", "recipientsActual", "retentionRules",
                           "sources", "rights"}) {
    EXPECT_TRUE(a.at(list).is_array()) << list;
  }
  for (const auto& p : a["purposes"]) {
    EXPECT_TRUE(p.at("code").is_string());
    EXPECT_TRUE(p.at("lawfulBasis").is_string());
    EXPECT_TRUE(p.at("applies").is_boolean());
  }
  EXPECT_TRUE(a.at("retention").is_object());
  EXPECT_TRUE(a.at("complaint").is_string());
  EXPECT_NE(a["complaint"].get<std::string>().find("Information Commissioner"), std::string::npos);
  EXPECT_TRUE(a.at("automatedDecisions").is_string());
}

TEST_F(DemoPackTest, PackHoldsEveryEventNoThirdPartyDataAndEveryDisclosure) {
  // A reader's access, logged, to appear in the pack.
  ASSERT_TRUE(store_->LogAccess({AccessRecord{0, client_, "test", "S-4", "caseworker", "read",
                                              "timeline", "", 0, 0, 0}}).ok());
  PackOptions po;
  po.user = "S-9";
  auto pack = rights_->BuildPack(client_, po);
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  Json j = Json::parse(pack->json);
  ExpectPackSchema(j);
  ExpectSelfContainedHtml(pack->html);

  // Every event about them, no other.
  std::vector<uint64_t> in_pack;
  for (const auto& e : j["events"]) in_pack.push_back(e["position"].get<uint64_t>());
  EXPECT_EQ(in_pack, ScanPositions(client_));
  EXPECT_FALSE(in_pack.empty());

  // None of the carer's or relative's personal values (those they do not
  // share with the client, such as a household address).
  std::set<std::string> mine = PersonalValues(client_);
  EXPECT_FALSE(mine.empty());
  ASSERT_EQ(others_.size(), 2u);
  size_t checked = 0;
  for (const auto& other : others_) {
    for (const auto& v : PersonalValues(other)) {
      if (mine.count(v)) continue;
      ++checked;
      EXPECT_EQ(pack->json.find(v), std::string::npos) << "third-party value in JSON: " << v;
      EXPECT_EQ(pack->html.find(v), std::string::npos) << "third-party value in HTML: " << v;
    }
  }
  EXPECT_GT(checked, 0u);
  EXPECT_GT(pack->withheld_sections, 0u);
  EXPECT_EQ(j["withheld"].size(), pack->withheld_sections);
  EXPECT_NE(pack->html.find("Withheld: third-party data"), std::string::npos);
  // The client's own details are there.
  size_t own_found = 0;
  for (const auto& v : mine) own_found += pack->json.find(v) != std::string::npos;
  EXPECT_GT(own_found, 0u);

  // Every disclosure event about them, and the access log.
  size_t disclosures = 0;
  for (uint64_t pos : ScanPositions(client_)) {
    auto e = store_->ReadAll(pos, 1);
    ASSERT_TRUE(e.ok());
    disclosures += e->front().type == "PersonalDataDisclosed";
    // A referral on (not signposting) passes the details to a recipient too.
    if (e->front().type == "OnwardReferralMade") {
      auto facts = Json::parse(*codec_->FactsToJson(e->front()));
      disclosures += !facts.value("signposted", false);
    }
  }
  EXPECT_EQ(j["disclosures"].size(), disclosures);
  bool read_logged = false;
  for (const auto& a : j["accessLog"]) read_logged = read_logged || (a["by"] == "S-4" && a["action"] == "read");
  EXPECT_TRUE(read_logged);
  EXPECT_FALSE(j["article15"]["sources"].empty());

  // Generating the pack was itself logged as a disclosure to the person.
  auto log = store_->AccessLog(client_);
  ASSERT_TRUE(log.ok());
  ASSERT_FALSE(log->empty());
  EXPECT_EQ(log->back().action, "sar");
  EXPECT_EQ(log->back().recipient, "dataSubject");
  EXPECT_EQ(log->back().events, pack->events);
  auto disclosed = rights_->DisclosuresJson(client_);
  ASSERT_TRUE(disclosed.ok());
  EXPECT_EQ(Json::parse(*disclosed).size(), disclosures + 2);
}

// docs/sar-format.md, for every person of a small demo county (each client,
// carer and relative): the JSON and the HTML hold exactly what the format
// promises, computed here from a raw scan of the log in the codec's JSON form
// (not through the pack code): every event naming the person in log order
// with its facts, their own sections in full, staff sections, every other
// person's section withheld, a note that mentions someone else held without
// its text, the latest details, every correction, disclosure, referral on
// and source. The pack is a value rendered twice (rights/pack.h): the same
// bytes each time, and BuildPack's bytes are the renderings of CollectPack.
std::string EscHtml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

TEST_F(DemoPackTest, PackHoldsWhatTheFormatPromisesForEveryDemoPerson) {
  struct Raw {
    RecordedEvent e;
    Json j;  // the codec's JSON form
  };
  std::vector<Raw> log;
  std::set<std::string> people;
  for (uint64_t from = 1;;) {
    auto page = store_->ReadAll(from, 1000);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& e : *page) {
      if (codec_->FindType(e.type) == nullptr) continue;
      auto text = codec_->ToJson(e);
      ASSERT_TRUE(text.ok()) << text.status().ToString();
      log.push_back(Raw{e, Json::parse(*text)});
      ASSERT_NE(e.type, "ThirdPartyDisclosureDecided") << "the demo county records no reviewer's decision";
      for (const auto& s : e.subjects) {
        if (s.role != SubjectRole::kStaff) people.insert(s.id);
      }
    }
    from = page->back().position + 1;
  }
  ASSERT_GE(people.size(), 12u);

  size_t events = 0, withheld = 0, held = 0, disclosures = 0, rectifications = 0, sources = 0, own = 0;
  for (const auto& person : people) {
    SCOPED_TRACE(person);
    PackOptions po;
    po.record_disclosure = false;
    auto pack = rights_->BuildPack(person, po);
    ASSERT_TRUE(pack.ok()) << pack.status().ToString();
    Json j = Json::parse(pack->json);
    ExpectPackSchema(j);
    ExpectSelfContainedHtml(pack->html);

    // The pack is a value: rendered again, the same bytes.
    auto again = rights_->BuildPack(person, po);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->json, pack->json);
    EXPECT_EQ(again->html, pack->html);
    auto content = internal::CollectPack(*rights_, *store_, *codec_, person, rights_->Today());
    ASSERT_TRUE(content.ok()) << content.status().ToString();
    EXPECT_EQ(internal::PackJson(*content), pack->json);
    EXPECT_EQ(internal::PackHtml(*content), pack->html);

    // What the format promises, from the raw scan.
    Json want_events = Json::array();
    Json want_withheld = Json::array();  // {position, role}
    Json want_held = Json::array();      // positions
    Json want_rectifications = Json::array();
    Json want_disclosures = Json::array();
    Json want_sources = Json::array();   // {event, from, channel, organisation}
    Json want_current = Json::object();
    std::vector<std::string> shown_text;   // own values the HTML shows as written
    std::vector<std::string> hidden_text;  // held notes' text
    for (const Raw& r : log) {
      const RecordedEvent& e = r.e;
      std::string my_role;
      for (const auto& s : e.subjects) {
        if (s.id == person) my_role = SubjectRoleName(s.role);
      }
      if (my_role.empty()) continue;
      const Json& f = r.j["facts"];
      bool mentions = e.type == "CaseNoteAdded" && f.value("mentionsThirdParty", false);
      Json personal = Json::array();
      for (const auto& p : r.j["personal"]) {
        std::string role = p["role"];
        if (p["subject"] != person && role != "staff") {
          personal.push_back(Json{{"role", role}, {"withheld", "third-party data"}});
          want_withheld.push_back(Json{{"position", e.position}, {"role", role}});
          continue;
        }
        Json entry{{"role", role}, {"whose", p["subject"] == person ? "yours" : "staff"}};
        if (p.value("erased", false)) {
          entry["erased"] = true;
          personal.push_back(entry);
          continue;
        }
        Json details = p["details"];
        if (p["subject"] == person && mentions && details.contains("freeText")) {
          hidden_text.push_back(details["freeText"]);
          details.erase("freeText");
          entry["heldForReview"] = true;
          want_held.push_back(e.position);
        }
        if (p["subject"] == person) {
          for (const auto& [k, v] : details.items()) {
            if (v.is_string() && v.get<std::string>().size() >= 4 &&
                !std::islower(static_cast<unsigned char>(v.get<std::string>()[0]))) {
              shown_text.push_back(v);
            }
          }
          if (e.type == "PersonRegistered" || e.type == "PersonDetailsRectified") {
            for (const auto& [k, v] : details.items()) want_current[k] = v;
          }
        }
        entry["details"] = details;
        personal.push_back(entry);
      }
      want_events.push_back(Json{{"position", e.position},
                                 {"recordedOn", domain::FormatDate(domain::UkDate(e.recorded_at))},
                                 {"type", e.type},
                                 {"record", e.stream},
                                 {"yourRole", my_role},
                                 {"by", Json{{"staffRef", e.actor.user}, {"role", e.actor.role}}},
                                 {"facts", f},
                                 {"personal", personal}});
      if (e.type == "PersonDetailsRectified" && my_role != "other") {
        want_rectifications.push_back(Json{{"date", f["rectifiedOn"]},
                                           {"fields", f.value("fields", Json::array())},
                                           {"atYourRequest", f.value("requestedBySubject", false)}});
      }
      if (e.type == "PersonalDataDisclosed") {
        want_disclosures.push_back(Json{{"date", f["disclosedOn"]}, {"kind", "disclosure"},
                                        {"recipientType", f.value("recipientType", "")},
                                        {"recipientRef", f.value("recipientRef", "")},
                                        {"purpose", f.value("purposeCode", "")},
                                        {"lawfulBasis", f.value("lawfulBasis", "")},
                                        {"categories", f.value("categories", Json::array())}});
      }
      if (e.type == "OnwardReferralMade" && !f.value("signposted", false)) {
        want_disclosures.push_back(Json{{"date", f["referredOn"]}, {"kind", "onwardReferral"},
                                        {"destination", f.value("destination", "")},
                                        {"recipientRef", f.value("organisationRef", "")},
                                        {"purpose", "onwardReferral"}});
      }
      if ((e.type == "ContactRecorded" && f.value("purpose", "") == "enquiry") || e.type == "ReferralMade") {
        want_sources.push_back(Json{{"event", e.type}, {"from", f.value("referrerType", "")},
                                    {"channel", f.value("channel", "")},
                                    {"organisation", f.value("referrerOrganisation", "")}});
      }
    }

    // The JSON: every event, in log order, as the format says.
    ASSERT_EQ(j["events"].size(), want_events.size());
    for (size_t i = 0; i < want_events.size(); ++i) {
      Json got = j["events"][i];
      EXPECT_TRUE(got["date"].is_string());
      EXPECT_FALSE(got["description"].get<std::string>().empty());
      got.erase("date");
      got.erase("description");
      EXPECT_EQ(got, want_events[i]) << "event " << i;
    }
    ASSERT_EQ(j["withheld"].size(), want_withheld.size());
    for (size_t i = 0; i < want_withheld.size(); ++i) {
      EXPECT_EQ(j["withheld"][i]["position"], want_withheld[i]["position"]);
      EXPECT_EQ(j["withheld"][i]["role"], want_withheld[i]["role"]);
    }
    EXPECT_EQ(pack->withheld_sections, want_withheld.size());
    Json got_held = Json::array();
    for (const auto& h : j["heldForReview"]) got_held.push_back(h["position"]);
    EXPECT_EQ(got_held, want_held);
    EXPECT_EQ(pack->held_for_review, want_held.size());
    EXPECT_EQ(j["currentDetails"], want_current);
    EXPECT_EQ(j["rectifications"], want_rectifications);
    EXPECT_EQ(j["disclosures"], want_disclosures);
    EXPECT_EQ(j["article15"]["recipientsActual"], want_disclosures);
    Json got_sources = j["article15"]["sources"];
    for (auto& s : got_sources) s.erase("date");
    EXPECT_EQ(got_sources, want_sources);

    // The HTML: one row per event, in the same order, with the JSON's date
    // and description; the counts; the person's own details; every
    // recipient; never a held note's text.
    size_t at = 0;
    for (const auto& ev : j["events"]) {
      std::string row = "<tr><td>" + EscHtml(ev["date"]) + "</td><td>" + EscHtml(ev["description"]) +
                        "<div class=\"by\">Recorded by staff ";
      size_t found = pack->html.find(row, at);
      ASSERT_NE(found, std::string::npos) << "no row for the event at " << ev["position"];
      at = found + row.size();
    }
    EXPECT_NE(pack->html.find("<p>" + std::to_string(want_events.size()) + " entries. " +
                              std::to_string(want_withheld.size()) + " sections about other people"),
              std::string::npos);
    EXPECT_NE(pack->html.find(std::to_string(want_held.size()) + " notes are held for a reviewer"),
              std::string::npos);
    for (const auto& v : shown_text) {
      EXPECT_NE(pack->html.find(EscHtml(v)), std::string::npos) << "own value not in the HTML: " << v;
    }
    for (const auto& d : want_disclosures) {
      std::string what = d["kind"] == "onwardReferral" ? "Referred on to " : "Disclosed to ";
      EXPECT_NE(pack->html.find("<tr><td>" + d["date"].get<std::string>() + "</td><td>" + what),
                std::string::npos);
    }
    for (const auto& t : hidden_text) {
      EXPECT_EQ(pack->json.find(t), std::string::npos) << "a held note's text is in the JSON";
      EXPECT_EQ(pack->html.find(EscHtml(t)), std::string::npos) << "a held note's text is in the HTML";
    }
    events += want_events.size();
    withheld += want_withheld.size();
    held += want_held.size();
    disclosures += want_disclosures.size();
    rectifications += want_rectifications.size();
    sources += want_sources.size();
    own += shown_text.size();
  }
  // The county exercises every part.
  EXPECT_GT(events, 100u);
  EXPECT_GT(withheld, 0u);
  EXPECT_GT(held, 0u);
  EXPECT_GT(disclosures, 0u);
  EXPECT_GT(sources, 0u);
  EXPECT_GT(rectifications, 0u);
  EXPECT_GT(own, 0u);
}

TEST_F(DemoPackTest, ReviewerDecisionReleasesAThirdPartysSection) {
  std::string carer;
  for (const auto& o : others_) {
    auto r = store_->ReadSubject(o, 1, 100);
    ASSERT_TRUE(r.ok());
    for (const auto& e : *r) {
      for (const auto& s : e.subjects) {
        if (s.id == o && s.role == SubjectRole::kCarer) carer = o;
      }
    }
  }
  ASSERT_FALSE(carer.empty());
  auto before = rights_->BuildPack(client_, PackOptions{});
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived", R"("receivedOn":"2019-12-02","kind":"access")", client_)}).ok());
  NewEvent decision = E(R"({"type":"ThirdPartyDisclosureDecided","actor":{"user":"S-9","role":"controller","plugin":"test"},)"
                        R"("facts":{"decidedOn":"2019-12-03","thirdParty":")" + carer +
                        R"(","basis":"thirdPartyConsented","reasonCode":"carerAgreedInWriting","reviewerRef":"S-9"},)"
                        R"("subjects":[{"id":")" + carer + R"(","role":"carer"}]})");
  // No reason: refused by its rule.
  NewEvent no_reason = decision;
  {
    Json j = Json::parse(*codec_->ToJson(decision));
    j["facts"]["reasonCode"] = "";
    ASSERT_TRUE(codec_->FromJson(j.dump(), &no_reason).ok());
  }
  EXPECT_NE(rights_->Record("R-1", {no_reason}).status().message().find("rule rights-third-party"), std::string::npos);
  ASSERT_TRUE(rights_->Record("R-1", {decision}).ok());
  auto after = rights_->BuildPack(client_, PackOptions{});
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->withheld_sections, before->withheld_sections);
  EXPECT_NE(after->json.find("carerAgreedInWriting"), std::string::npos);
}

TEST_F(RightsTest, UnknownSubjectGivesAClearErrorAndNothingIsLogged) {
  auto pack = rights_->BuildPack("P-NOBODY", PackOptions{});
  ASSERT_FALSE(pack.ok());
  EXPECT_TRUE(pack.status().IsNotFound());
  EXPECT_NE(pack.status().message().find("no data subject P-NOBODY"), std::string::npos);
  auto log = store_->AccessLog("P-NOBODY");
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(log->empty());
}

// ------------------------------------------------------------ rectification

TEST_F(RightsTest, RectificationShowsTheCorrectedValueAndWhen) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  Record("case/T/1", {E(R"({"type":"PersonRegistered","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
                        R"("facts":{"registeredOn":"2019-03-02","ageBand":"75-84","tenure":"ownerOccupier"},)"
                        R"("personal":[{"subject":"P-T1","role":"client","details":{"givenName":"Testina",)"
                        R"("familyName":"Quillfeather","postcode":"ZZ3 1AB"}}]})")});
  Record("case/T/1", {E(R"({"type":"PersonDetailsRectified","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
                        R"("facts":{"rectifiedOn":"2019-06-05","fields":["postcode"],"ageBand":"85+","requestedBySubject":true},)"
                        R"("personal":[{"subject":"P-T1","role":"client","details":{"postcode":"ZZ3 9XY"}}]})")});
  auto pack = rights_->BuildPack("P-T1", PackOptions{});
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  Json j = Json::parse(pack->json);
  EXPECT_EQ(j["currentDetails"]["postcode"], "ZZ3 9XY");
  EXPECT_EQ(j["currentDetails"]["givenName"], "Testina");
  ASSERT_EQ(j["rectifications"].size(), 1u);
  EXPECT_EQ(j["rectifications"][0]["date"], "2019-06-05");
  EXPECT_NE(pack->html.find("On 2019-06-05 we corrected: postcode (at your request)"), std::string::npos);
  // The read model shows the corrected age band.
  CatchUp();
  auto c = readmodels::GetCase(*store_, "case/T/1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->age_band, "85+");
}

// Issue 17.7: the person's pack shows who was responsible for their case and
// the follow-up of the advice they were given, in plain English.
TEST_F(RightsTest, PackShowsTheCasesAllocationAndFollowUp) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  Record("case/T/1", {E(R"({"type":"ConsultationHeld","actor":{"user":"S-1","role":"caseworker","plugin":"test"},)"
                        R"("facts":{"heldOn":"2019-03-01","channel":"phone","followUpOn":"2019-03-15"}})"),
                      E(R"({"type":"CaseAllocated","actor":{"user":"S-1","role":"teamManager","plugin":"test"},)"
                        R"("facts":{"allocatedOn":"2019-03-02","workerRef":"S-D1-07","roleCode":"caseworker"}})"),
                      E(R"({"type":"CaseDeallocated","actor":{"user":"S-1","role":"teamManager","plugin":"test"},)"
                        R"("facts":{"deallocatedOn":"2019-03-20","workerRef":"S-D1-07","reasonCode":"workerLeft"}})")});
  auto pack = rights_->BuildPack("P-T1", PackOptions{});
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_NE(pack->json.find("Case allocated to S-D1-07 (caseworker)"), std::string::npos);
  EXPECT_NE(pack->json.find("Case taken off S-D1-07 (worker left)"), std::string::npos);
  EXPECT_NE(pack->json.find("follow up by 2019-03-15"), std::string::npos);
  EXPECT_NE(pack->html.find("Case allocated to S-D1-07"), std::string::npos);
}

// docs/sar-format.md: the free text of a CaseNoteAdded with
// mentionsThirdParty is removed from the pack and listed in heldForReview for
// a reviewer to redact (neither released nor silently withheld); a note
// without the flag is sent whole.
TEST_F(RightsTest, ANoteThatMentionsSomeoneElseIsHeldForReviewNotSent) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  auto note = [&](bool mentions, const std::string& text) {
    return E(R"({"type":"CaseNoteAdded","actor":{"user":"S-2","role":"caseworker","plugin":"test"},)"
             R"("facts":{"writtenOn":"2019-04-01","authorRef":"S-2","category":"general","mentionsThirdParty":)" +
             std::string(mentions ? "true" : "false") +
             R"(},"personal":[{"subject":"P-T1","role":"client","details":{"freeText":")" + text + R"("}}]})");
  };
  const std::string held_text = "Neighbour Ambrose Quibbleton says the client falls often";
  const std::string sent_text = "Client asked about a grab rail by the bath";
  Record("case/T/1", {note(true, held_text)});
  uint64_t held_position = LastPosition();
  Record("case/T/1", {note(false, sent_text)});
  auto pack = rights_->BuildPack("P-T1", PackOptions{});
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_EQ(pack->json.find("Quibbleton"), std::string::npos) << "a held note's text is in the pack";
  EXPECT_EQ(pack->html.find("Quibbleton"), std::string::npos) << "a held note's text is in the pack";
  EXPECT_NE(pack->json.find(sent_text), std::string::npos) << "a note without the flag is not sent";
  Json j = Json::parse(pack->json);
  ASSERT_EQ(j["heldForReview"].size(), 1u) << j["heldForReview"].dump();
  EXPECT_EQ(j["heldForReview"][0]["position"], held_position);
  EXPECT_NE(pack->html.find("held for a reviewer"), std::string::npos);
}

// docs/rights.md, docs/sar-format.md: a reviewer decides about a note held
// for review by its position: sent whole (the other person consented, or it
// is reasonable without consent), sent redacted (the reviewer's text in the
// person's own section), or withheld. On a note of the demo county, which
// names the client's carer: the carer's name is in no pack until a reviewer
// releases the note, the redacted text replaces it, and a withheld note's
// text stays out.
TEST_F(RightsTest, ADemoNoteNamingTheCarerIsSentOnlyAsAReviewerDecides) {
  demo::CountyOptions options;
  options.seed = 11;
  options.limit_cases = 20;
  options.threads = 1;
  auto report = demo::GenerateCounty(recorder_.get(), domain::Calendar::EnglandAndWales(), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  // The held notes, found by a raw scan: position, client, text.
  struct Held {
    uint64_t position;
    std::string client, text;
  };
  std::vector<Held> notes;
  for (uint64_t from = 1;;) {
    auto page = store_->ReadAll(from, 1000);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& e : *page) {
      if (e.type != "CaseNoteAdded") continue;
      Json j = Json::parse(*codec_->ToJson(e));
      if (!j["facts"].value("mentionsThirdParty", false)) continue;
      ASSERT_EQ(j["personal"].size(), 1u);
      notes.push_back({e.position, j["personal"][0]["subject"], j["personal"][0]["details"]["freeText"]});
    }
    from = page->back().position + 1;
  }
  ASSERT_GE(notes.size(), 3u) << "the demo county has too few notes that mention someone else";
  // Three notes of three different clients.
  std::vector<Held> picked;
  for (const auto& n : notes) {
    if (std::none_of(picked.begin(), picked.end(), [&](const Held& h) { return h.client == n.client; })) {
      picked.push_back(n);
    }
  }
  ASSERT_GE(picked.size(), 3u);
  picked.resize(3);
  auto name_in = [](const std::string& text) {
    // "Spoke with <given> <family>, who cares ...": the carer's name.
    const std::string lead = "Spoke with ";
    EXPECT_TRUE(text.starts_with(lead)) << text;
    return text.substr(lead.size(), text.find(',') - lead.size());
  };
  auto pack_of = [&](const std::string& subject) {
    auto pack = rights_->BuildPack(subject, PackOptions{});
    EXPECT_TRUE(pack.ok()) << pack.status().ToString();
    return pack.ok() ? *pack : Pack{};
  };
  int request = 0;
  auto decide = [&](const Held& n, const std::string& basis, const std::string& redacted) {
    std::string ref = "R-" + std::to_string(++request);
    EXPECT_TRUE(rights_->Record(ref, {Req("RightsRequestReceived",
                                          R"("receivedOn":"2019-12-02","kind":"access")", n.client)})
                    .ok());
    std::string personal = redacted.empty() ? "" : R"(,"personal":[{"subject":")" + n.client +
                                                       R"(","role":"client","details":{"freeText":")" + redacted + R"("}}])";
    auto ev = E(R"({"type":"ThirdPartyDisclosureDecided","actor":{"user":"S-9","role":"controller","plugin":"test"},)"
                R"("facts":{"decidedOn":"2019-12-10","basis":")" + basis +
                R"(","reasonCode":"reviewed","reviewerRef":"S-9","notePosition":)" + std::to_string(n.position) +
                R"(},"subjects":[{"id":")" + n.client + R"(","role":"client"}])" + personal + "}");
    auto r = rights_->Record(ref, {ev});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  };

  // Before any decision: neither the text nor the carer's name is in the pack.
  for (const auto& n : picked) {
    Pack pack = pack_of(n.client);
    std::string name = name_in(n.text);
    EXPECT_EQ(pack.json.find(name), std::string::npos) << "a held note's name is in the pack";
    EXPECT_EQ(pack.html.find(name), std::string::npos) << "a held note's name is in the pack";
    EXPECT_GE(pack.held_for_review, 1u);
    Json j = Json::parse(pack.json);
    bool listed = false;
    for (const auto& h : j["heldForReview"]) listed = listed || h["position"] == n.position;
    EXPECT_TRUE(listed) << "the note at " << n.position << " is not listed as held";
  }

  // Released whole: the text is in the pack, and the note is no longer held.
  decide(picked[0], "reasonableWithoutConsent", "");
  {
    Pack pack = pack_of(picked[0].client);
    EXPECT_NE(pack.json.find(picked[0].text), std::string::npos) << "a released note is not sent";
    Json j = Json::parse(pack.json);
    for (const auto& h : j["heldForReview"]) EXPECT_NE(h["position"], picked[0].position);
  }
  // Released redacted: the reviewer's text, never the name.
  const std::string redacted = "Spoke with the client's carer, who asked to be kept informed of visit dates.";
  decide(picked[1], "releaseRedacted", redacted);
  {
    Pack pack = pack_of(picked[1].client);
    std::string name = name_in(picked[1].text);
    EXPECT_EQ(pack.json.find(name), std::string::npos) << "a redacted note's name is in the pack";
    EXPECT_EQ(pack.html.find(name), std::string::npos);
    EXPECT_NE(pack.json.find(redacted), std::string::npos) << "the redacted text is not sent";
  }
  // Withheld: the text stays out, and the note is listed as withheld, not held.
  decide(picked[2], "withhold", "");
  {
    Pack pack = pack_of(picked[2].client);
    EXPECT_EQ(pack.json.find(name_in(picked[2].text)), std::string::npos) << "a withheld note is sent";
    Json j = Json::parse(pack.json);
    for (const auto& h : j["heldForReview"]) EXPECT_NE(h["position"], picked[2].position);
    bool withheld = false;
    for (const auto& w : j["withheld"]) withheld = withheld || w["position"] == picked[2].position;
    EXPECT_TRUE(withheld) << j["withheld"].dump();
  }
}

// rule rights-held-note: a decision about a note names a note held for review
// about the person asking, and only a redacted release carries text; each
// refusal writes nothing.
TEST_F(RightsTest, ADecisionAboutAHeldNoteMustNameOneAndCarryTextOnlyWhenRedacted) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  uint64_t enquiry = LastPosition();
  auto note = [&](bool mentions) {
    return E(R"({"type":"CaseNoteAdded","actor":{"user":"S-2","role":"caseworker","plugin":"test"},)"
             R"("facts":{"writtenOn":"2019-04-01","authorRef":"S-2","category":"general","mentionsThirdParty":)" +
             std::string(mentions ? "true" : "false") +
             R"(},"personal":[{"subject":"P-T1","role":"client","details":{"freeText":"Some words"}}]})");
  };
  Record("case/T/1", {note(false)});
  uint64_t plain = LastPosition();
  Record("case/T/1", {note(true)});
  uint64_t held = LastPosition();
  Record("case/T/2", {Enquiry("2019-03-01", "P-T2", "D1")});
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived", R"("receivedOn":"2019-12-02","kind":"access")", "P-T2")}).ok());
  ASSERT_TRUE(rights_->Record("R-2", {Req("RightsRequestReceived", R"("receivedOn":"2019-12-02","kind":"access")", "P-T1")}).ok());
  auto decision = [&](uint64_t position, const std::string& basis) {
    return Req("ThirdPartyDisclosureDecided", R"("decidedOn":"2019-12-10","basis":")" + basis +
                                                  R"(","reasonCode":"reviewed","notePosition":)" +
                                                  std::to_string(position));
  };
  auto with_text = [&](uint64_t position, const std::string& basis) {
    return E(R"({"type":"ThirdPartyDisclosureDecided","actor":{"user":"S-9","role":"controller","plugin":"test"},)"
             R"("facts":{"decidedOn":"2019-12-10","basis":")" + basis +
             R"(","reasonCode":"reviewed","notePosition":)" + std::to_string(position) +
             R"(},"subjects":[{"id":"P-T1","role":"client"}],)"
             R"("personal":[{"subject":"P-T1","role":"client","details":{"freeText":"Redacted"}}]})");
  };
  uint64_t before = LastPosition();
  auto refused = [&](const std::string& ref, NewEvent e, const std::string& why) {
    auto r = rights_->Record(ref, {std::move(e)});
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_NE(r.status().message().find("rule rights-held-note"), std::string::npos)
        << why << ": " << r.status().ToString();
    EXPECT_EQ(LastPosition(), before) << why << ": something was written";
  };
  refused("R-2", decision(enquiry, "reasonableWithoutConsent"), "not a note");
  refused("R-2", decision(plain, "reasonableWithoutConsent"), "a note that is sent whole");
  refused("R-2", decision(before + 100, "withhold"), "no event there");
  refused("R-1", decision(held, "withhold"), "a note about someone else than the person asking");
  refused("R-2", decision(held, "releaseRedacted"), "a redacted release without its text");
  refused("R-2", with_text(held, "withhold"), "text with a decision that is not a redacted release");
  ASSERT_TRUE(rights_->Record("R-2", {with_text(held, "releaseRedacted")}).ok());
  auto pack = rights_->BuildPack("P-T1", PackOptions{});
  ASSERT_TRUE(pack.ok());
  EXPECT_EQ(pack->held_for_review, 0u);
  EXPECT_NE(pack->json.find("Redacted"), std::string::npos);
}

// ------------------------------------------------------------ restriction

TEST_F(RightsTest, RestrictionRefusesNewEventsExceptByTheControllerUntilLifted) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  uint64_t before = LastPosition();
  EXPECT_TRUE(rights_->Restrict("P-WRONG", "", "accuracyContested", controller_).IsNotFound());
  EXPECT_EQ(LastPosition(), before);
  ASSERT_TRUE(rights_->Restrict("P-T1", "", "accuracyContested", controller_).ok());
  EXPECT_NE(rights_->Restrict("P-T1", "", "again", controller_).message().find("rule restriction-active"),
            std::string::npos);
  auto note = Ev("CaseNoteAdded", R"("writtenOn":"2019-04-01","authorRef":"S-2","category":"general")");
  auto refused = recorder_->Record("case/T/1", {note});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("rule subject-restricted"), std::string::npos)
      << refused.status().ToString();
  // A writer with the controller's power (the scope a Session passes) records.
  domain::RecorderOptions ro;
  ro.today = [] { return D("2019-12-31"); };
  ro.controller = true;
  domain::CaseRecorder as_controller(store_.get(), codec_.get(), ro);
  NewEvent by_controller = note;
  by_controller.id = Id128::Random();
  ASSERT_TRUE(as_controller.Record("case/T/1", {by_controller}).ok());
  auto restricted = rights_->RestrictedSubjects();
  ASSERT_TRUE(restricted.ok());
  ASSERT_EQ(restricted->size(), 1u);
  // The worklist leaves them out when given the restricted subjects.
  ASSERT_TRUE(rights_->LiftRestriction("P-T1", "accuracyVerified", controller_).ok());
  EXPECT_NE(rights_->LiftRestriction("P-T1", "again", controller_).message().find("rule restriction-not-active"),
            std::string::npos);
  note.id = Id128::Random();
  EXPECT_TRUE(recorder_->Record("case/T/1", {note}).ok());
}

// The recorder takes the controller's power from its options (a Session's
// controller scope), never from the role an event's actor names.
TEST_F(RightsTest, ARoleNameGivesTheRecorderNoControllerPower) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1")});
  ASSERT_TRUE(rights_->Restrict("P-T1", "", "accuracyContested", controller_).ok());
  uint64_t before = LastPosition();
  for (const char* role : {"controller", "Controller", "dataController"}) {
    NewEvent note = Ev("CaseNoteAdded", R"("writtenOn":"2019-04-01","authorRef":"S-2","category":"general")");
    note.actor.role = role;
    auto refused = recorder_->Record("case/T/1", {note});
    ASSERT_FALSE(refused.ok()) << role;
    EXPECT_NE(refused.status().message().find("rule subject-restricted"), std::string::npos)
        << refused.status().ToString();
    EXPECT_TRUE(recorder_->Check("case/T/1", {note}).IsInvalidArgument()) << role;
  }
  EXPECT_EQ(LastPosition(), before);
  auto version = store_->StreamVersion("case/T/1");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 1u);
}

// ------------------------------------------------------------ erasure

TEST_F(RightsTest, ErasureUnderALegalHoldIsRefusedNamingTheRule) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1"),
                      Ev("ServiceElementOpened", R"("openedOn":"2019-03-02","line":1,"element":"mandatoryDfg","service":"mandatoryDfg")")});
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived", R"("receivedOn":"2019-12-02","kind":"erasure")", "P-T1")}).ok());
  EXPECT_TRUE(rights_->DecideErasure("R-1", Actor{"S-2", "caseworker", "test"}).status().code() ==
              Status::Code::kPermissionDenied);
  auto r = rights_->DecideErasure("R-1", controller_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rule legal-hold"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find("housing-grant-file"), std::string::npos) << r.status().ToString();
  auto state = rights_->LoadRequest("R-1");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, "refused");
  EXPECT_NE(state->exemption.find("Art. 17(3)(b)"), std::string::npos);
  // Still readable.
  auto pack = rights_->BuildPack("P-T1", PackOptions{});
  ASSERT_TRUE(pack.ok());
  EXPECT_FALSE(pack->erased);
  EXPECT_NE(pack->json.find("Quillfeather"), std::string::npos);
}

TEST_F(RightsTest, ErasureAfterRetentionShredsAndThePackSaysOnlyThat) {
  Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1"),
                      Ev("ServiceElementOpened", R"("openedOn":"2019-03-02","line":1,"element":"informationAdvice","service":"informationAdvice")"),
                      Ev("CaseClosed", R"("closedOn":"2019-03-05","reason":"adviceOnly")")});
  std::set<std::string> values = PersonalValues("P-T1");
  ASSERT_FALSE(values.empty());
  MakeRights("2021-06-01");  // two years after the last contact: advice-only rule ended
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived",
                                          R"("receivedOn":"2021-05-20","kind":"erasure","identityNeeded":true)", "P-T1")}).ok());
  auto early = rights_->DecideErasure("R-1", controller_);
  EXPECT_NE(early.status().message().find("rule rights-identity-before-fulfilment"), std::string::npos);
  ASSERT_TRUE(rights_->Record("R-1", {Req("RightsIdentityVerified",
                                          R"("verifiedOn":"2021-05-21","method":"knownToStaff","verifiedBy":"S-9")")}).ok());
  auto r = rights_->DecideErasure("R-1", controller_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto state = rights_->LoadRequest("R-1");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->status, "fulfilled");
  EXPECT_EQ(state->outcome, "erased");

  auto pack = rights_->BuildPack("P-T1", PackOptions{});
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  EXPECT_TRUE(pack->erased);
  Json j = Json::parse(pack->json);
  ExpectPackSchema(j);
  ExpectSelfContainedHtml(pack->html);
  EXPECT_FALSE(j.contains("events"));
  for (const auto& v : values) {
    EXPECT_EQ(pack->json.find(v), std::string::npos) << v;
    EXPECT_EQ(pack->html.find(v), std::string::npos) << v;
  }
  EXPECT_NE(pack->html.find("was erased on"), std::string::npos);
}

// Erasure cut short after its decision (a crash between DecideErasure's
// writes): the request knows the erasure was decided, and DecideErasure
// completes it without deciding again.
class ErasureRetryTest : public RightsTest {
 protected:
  void SetUp() override {
    RightsTest::SetUp();
    Record("case/T/1", {Enquiry("2019-03-01", "P-T1", "D1"),
                        Ev("ServiceElementOpened", R"("openedOn":"2019-03-02","line":1,"element":"informationAdvice","service":"informationAdvice")"),
                        Ev("CaseClosed", R"("closedOn":"2019-03-05","reason":"adviceOnly")")});
    MakeRights("2021-06-01");
    ASSERT_TRUE(rights_->Record("R-1", {Req("RightsRequestReceived", R"("receivedOn":"2021-05-20","kind":"erasure")", "P-T1")}).ok());
    // The decision as DecideErasure writes it, then nothing more.
    auto decided = rights_->Record("R-1", {Req("ErasureDecided",
        R"("decidedOn":"2021-05-28","erase":true,"ruleApplied":"advice-only","reasonCode":"retentionEnded")")});
    ASSERT_TRUE(decided.ok()) << decided.status().ToString();
    auto state = rights_->LoadRequest("R-1");
    ASSERT_TRUE(state.ok());
    EXPECT_TRUE(state->erasure_pending());
    EXPECT_EQ(domain::FormatDate(*state->erasure_decided_on), "2021-05-28");
    EXPECT_EQ(state->erasure_rule, "advice-only");
    EXPECT_EQ(state->status, "open");
  }

  // The types on request R-1's stream, in order.
  std::vector<std::string> RequestTypes() {
    std::vector<std::string> out;
    auto events = store_->ReadStream("rights/R-1", 1, Direction::kForward, 100);
    EXPECT_TRUE(events.ok());
    if (events.ok()) {
      for (const auto& e : *events) out.push_back(e.type);
    }
    return out;
  }

  uint64_t Erasures() {
    auto events = store_->ReadStream("$erasure", 1, Direction::kForward, 100);
    return events.ok() ? events->size() : 0;
  }

  void ExpectFulfilledAndErased() {
    auto state = rights_->LoadRequest("R-1");
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->status, "fulfilled");
    EXPECT_EQ(state->outcome, "erased");
    EXPECT_FALSE(state->erasure_pending());
    EXPECT_EQ(RequestTypes(), (std::vector<std::string>{"RightsRequestReceived", "ErasureDecided",
                                                        "RightsRequestFulfilled"}));
    EXPECT_EQ(Erasures(), 1u);
    auto pack = rights_->BuildPack("P-T1", PackOptions{});
    ASSERT_TRUE(pack.ok()) << pack.status().ToString();
    EXPECT_TRUE(pack->erased);
    EXPECT_EQ(pack->json.find("Quillfeather"), std::string::npos);
  }
};

TEST_F(ErasureRetryTest, DecidedButNotExecutedIsErasedAndFulfilled) {
  EXPECT_EQ(Erasures(), 0u);
  auto r = rights_->DecideErasure("R-1", controller_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->duplicate);
  ExpectFulfilledAndErased();
}

TEST_F(ErasureRetryTest, AlreadyErasedIsOnlyFulfilled) {
  auto shredded = store_->EraseSubject("P-T1", controller_, "erasureRequest");
  ASSERT_TRUE(shredded.ok()) << shredded.status().ToString();
  auto r = rights_->DecideErasure("R-1", controller_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->last_position, shredded->last_position);
  ExpectFulfilledAndErased();
}

TEST_F(ErasureRetryTest, AFulfilledRequestIsClosed) {
  ASSERT_TRUE(rights_->DecideErasure("R-1", controller_).ok());
  uint64_t before = LastPosition();
  auto again = rights_->DecideErasure("R-1", controller_);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsInvalidArgument());
  EXPECT_NE(again.status().message().find("rule rights-request-closed"), std::string::npos)
      << again.status().ToString();
  EXPECT_EQ(LastPosition(), before);
  ExpectFulfilledAndErased();
}

// ------------------------------------------------------------ retention

TEST_F(RightsTest, RetentionReviewAppliesTheRulePerRecordClass) {
  Record("case/T/1", {Enquiry("2015-03-01", "P-T1", "D1"),
                      Ev("CaseClosed", R"("closedOn":"2015-03-05","reason":"adviceOnly")")});
  Record("case/T/2", {Enquiry("2019-03-01", "P-T2", "D1"),
                      Ev("ServiceElementOpened", R"("openedOn":"2019-03-02","line":1,"element":"mandatoryDfg","service":"mandatoryDfg")")});
  Record("case/T/3", {Enquiry("2019-03-01", "P-T3", "D1"),
                      Ev("ServiceElementOpened", R"("openedOn":"2019-03-02","line":1,"element":"minorAdaptationsHandyperson","service":"minorAdaptation")")});
  auto items = rights_->RetentionReview(D("2019-12-31"));
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  std::map<std::string, RetentionItem> by_case;
  for (const auto& i : *items) by_case[i.case_id] = i;
  ASSERT_EQ(by_case.size(), 3u);
  EXPECT_EQ(by_case["case/T/1"].rule, "advice-only");
  EXPECT_EQ(by_case["case/T/1"].action, "erase");
  EXPECT_EQ(domain::FormatDate(by_case["case/T/1"].keep_until), "2017-03-05");
  EXPECT_EQ(by_case["case/T/2"].rule, "housing-grant-file");
  EXPECT_EQ(by_case["case/T/2"].action, "keep");
  EXPECT_TRUE(by_case["case/T/2"].legal_hold);
  EXPECT_EQ(by_case["case/T/3"].rule, "care-record");
  EXPECT_EQ(domain::FormatDate(by_case["case/T/3"].keep_until), "2027-03-02");
}

// docs/rights.md: the class's rule "gives the date it may be erased": the
// review proposes erasure on that date, and keeps the case the day before.
TEST_F(RightsTest, RetentionProposesErasureOnTheDayTheRuleGivesNotBefore) {
  Record("case/T/1", {Enquiry("2015-03-01", "P-T1", "D1"),
                      Ev("CaseClosed", R"("closedOn":"2015-03-05","reason":"adviceOnly")")});
  for (const auto& [day, action] : {std::pair<const char*, const char*>{"2017-03-04", "keep"},
                                    {"2017-03-05", "erase"}, {"2017-03-06", "erase"}}) {
    auto items = rights_->RetentionReview(D(day));
    ASSERT_TRUE(items.ok()) << items.status().ToString();
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ(domain::FormatDate((*items)[0].keep_until), "2017-03-05");
    EXPECT_EQ((*items)[0].action, action) << "as of " << day;
  }
}

// Issue 17.1: rights exercised on a closed advice-only case (a consent
// withdrawal, a rectification, a complaint, the questionnaire returned) are
// recorded without reopening it and leave its retention where the casework
// put it: two years from the last contact, not from the last complaint.
TEST_F(RightsTest, RightsExercisedOnAClosedCaseLeaveItsRetentionAlone) {
  Record("case/T/1", {Enquiry("2015-03-01", "P-T1", "D1"),
                      Ev("ConsentGiven", R"("givenOn":"2015-03-02","scope":"identifiableMonitoring","method":"written")"),
                      Ev("CaseClosed", R"("closedOn":"2015-03-05","reason":"adviceOnly")")});
  Record("case/T/1", {Ev("ConsentWithdrawn", R"("withdrawnOn":"2016-01-04","scope":"identifiableMonitoring")"),
                      Ev("ComplaintReceived", R"("receivedOn":"2016-02-01","complaint":1,"stage":"stage1")"),
                      Ev("SatisfactionRecorded", R"("recordedOn":"2016-02-02","score":2)")});
  auto items = rights_->RetentionReview(D("2017-03-05"));
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].rule, "advice-only");
  EXPECT_EQ(domain::FormatDate((*items)[0].keep_until), "2017-03-05") << (*items)[0].explanation;
  EXPECT_EQ((*items)[0].action, "erase");
}

// Issue 17.4: a consent withdrawn (on the closed case, without reopening it)
// takes effect in every later export and disclosure: the identifiable
// monitoring export leaves the person out, a disclosure on the withdrawn
// consent is refused with nothing written, and the subject-access pack says
// the consent-based purpose no longer applies to them.
TEST_F(RightsTest, AConsentWithdrawalTakesEffectInEveryLaterExportAndDisclosure) {
  Record("case/T/1", {Enquiry("2018-05-01", "P-T1", "D1"),
                      Ev("ConsentGiven", R"("givenOn":"2018-05-02","scope":"identifiableMonitoring","method":"written")"),
                      Ev("ConsentGiven", R"("givenOn":"2018-05-02","scope":"shareHealthInformation","method":"written")"),
                      Ev("PersonalDataDisclosed", R"("disclosedOn":"2018-05-03","recipientType":"gp","recipientRef":"ORG-GP",
                          "purposeCode":"healthInformation","lawfulBasis":"consent","consentScope":"shareHealthInformation",
                          "categories":["health"])"),
                      Ev("CaseClosed", R"("closedOn":"2018-06-01","reason":"adviceOnly")")});
  auto period = exports::ParsePeriod("2018/19");
  ASSERT_TRUE(period.ok());
  exports::IdentifiableOptions io;
  io.recipient = "partnership";
  io.as_of = D("2019-06-30");
  auto applies = [&](const std::string& code) {
    PackOptions po;
    po.user = "S-9";
    po.record_disclosure = false;
    auto pack = rights_->BuildPack("P-T1", po);
    EXPECT_TRUE(pack.ok()) << pack.status().ToString();
    Json j = Json::parse(pack->json);
    for (const auto& p : j["article15"]["purposes"]) {
      if (p["code"] == code) return p["applies"].get<bool>();
    }
    ADD_FAILURE() << "no purpose " << code;
    return false;
  };
  auto before = exports::BuildIdentifiableExport(*store_, *codec_, *period, io);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_EQ(before->clients.size(), 1u);
  EXPECT_TRUE(applies("identifiableMonitoring"));

  Record("case/T/1", {Ev("ConsentWithdrawn", R"("withdrawnOn":"2019-01-10","scope":"identifiableMonitoring")"),
                      Ev("ConsentWithdrawn", R"("withdrawnOn":"2019-01-10","scope":"shareHealthInformation")")});
  auto after = exports::BuildIdentifiableExport(*store_, *codec_, *period, io);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->clients.empty());
  EXPECT_EQ(after->without_consent, 1u);
  EXPECT_FALSE(applies("identifiableMonitoring"));
  uint64_t last = LastPosition();
  auto refused = recorder_->Record(
      "case/T/1", {Ev("PersonalDataDisclosed", R"("disclosedOn":"2019-02-01","recipientType":"gp","recipientRef":"ORG-GP",
                      "purposeCode":"healthInformation","lawfulBasis":"consent","consentScope":"shareHealthInformation",
                      "categories":["health"])")});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message().rfind("rule disclosure-consent:", 0), 0u) << refused.status().ToString();
  EXPECT_EQ(LastPosition(), last) << "a refused disclosure wrote events";
}

// A DFG file of an owner-occupier: the completion clause of the grant rule
// runs only while a land charge registered by an event is not released; a
// grant above the old threshold without a registration is not guessed to
// have one.
TEST_F(RightsTest, RetentionFollowsLandChargeEvents) {
  auto dfg_case = [&](const std::string& id, const std::string& client, std::vector<NewEvent> extra) {
    std::vector<NewEvent> events = {
        Enquiry("2019-01-02", client, "D1"),
        E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2019-01-02","ageBand":"75-84","tenure":"ownerOccupier"},)"
          R"("subjects":[{"id":")" + client + R"(","role":"client"}],)"
          R"("personal":[{"subject":")" + client + R"(","role":"client","details":{"givenName":"Testina"}}]})"),
        Ev("ServiceElementOpened", R"("openedOn":"2019-01-03","line":1,"element":"mandatoryDfg","service":"mandatoryDfg")"),
        Ev("GrantApproved", R"("approvedOn":"2019-02-01","line":1,"grantType":"mandatoryDfg","amountPence":900000)"),
        Ev("WorksCompleted", R"("completedOn":"2019-03-01","line":1,"finalCostPence":900000)")};
    for (auto& e : extra) events.push_back(std::move(e));
    Record(id, std::move(events));
  };
  NewEvent charge = Ev("LandChargeRegistered", R"("registeredOn":"2019-03-11","line":1,"amountPence":400000,"registerRef":"LLC-T-1")");
  NewEvent closed = Ev("CaseClosed", R"("closedOn":"2019-04-01","reason":"servicesCompleted")");
  dfg_case("case/T/1", "P-T1", {charge, closed});
  charge.id = Id128::Random();
  closed.id = Id128::Random();
  dfg_case("case/T/2", "P-T2", {charge, closed});
  // Released (repaid on a sale) after the case closed.
  Record("case/T/2", {Ev("LandChargeReleased", R"("releasedOn":"2019-06-03","line":1,"reasonCode":"repaid")")});
  closed.id = Id128::Random();
  dfg_case("case/T/3", "P-T3", {closed});

  // Past closure + 7 years, before completion + 10 years.
  auto items = rights_->RetentionReview(D("2027-01-04"));
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  std::map<std::string, RetentionItem> by_case;
  for (const auto& i : *items) by_case[i.case_id] = i;
  ASSERT_EQ(by_case.size(), 3u);
  const RetentionItem& held = by_case["case/T/1"];
  EXPECT_EQ(held.rule, "housing-grant-file");
  EXPECT_EQ(domain::FormatDate(held.keep_until), "2029-03-01");
  EXPECT_EQ(held.action, "keep");
  EXPECT_TRUE(held.legal_hold);
  EXPECT_NE(held.explanation.find("works completed 2019-03-01 + 10 years"), std::string::npos) << held.explanation;
  EXPECT_NE(held.explanation.find("land charge registered on 2019-03-11 on line 1 is not released"), std::string::npos)
      << held.explanation;
  const RetentionItem& released = by_case["case/T/2"];
  EXPECT_EQ(domain::FormatDate(released.keep_until), "2026-04-01");
  EXPECT_EQ(released.action, "erase");
  EXPECT_NE(released.explanation.find("closed 2019-04-01 + 7 years"), std::string::npos) << released.explanation;
  EXPECT_NE(released.explanation.find("released on 2019-06-03"), std::string::npos) << released.explanation;
  const RetentionItem& none = by_case["case/T/3"];
  EXPECT_EQ(domain::FormatDate(none.keep_until), "2026-04-01");
  EXPECT_EQ(none.action, "erase");
  EXPECT_EQ(none.explanation.find("land charge"), std::string::npos) << none.explanation;

  // The erasure decision follows the same rule: held while the charge stands.
  MakeRights("2027-01-04");
  auto r1 = rights_->RetentionOf("P-T1", D("2027-01-04"));
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(domain::FormatDate(r1->keep_until), "2029-03-01");
  auto r2 = rights_->RetentionOf("P-T2", D("2027-01-04"));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->action, "erase");
}

TEST_F(RightsTest, ProcessingRecordKeepsItsHistoryAndRefusesBadInput) {
  uint64_t before = LastPosition();
  EXPECT_TRUE(rights_->SetProcessingRecord("{\"purposes\":[]}", controller_).IsInvalidArgument());
  Json bad = Json::parse(DefaultProcessingRecordJson());
  bad["purposes"][0]["retentionRule"] = "no-such-rule";
  EXPECT_TRUE(rights_->SetProcessingRecord(bad.dump(), controller_).IsInvalidArgument());
  EXPECT_EQ(LastPosition(), before);
  Json changed = Json::parse(DefaultProcessingRecordJson());
  changed["retention"][2]["afterLastContactYears"] = 3;
  ASSERT_TRUE(rights_->SetProcessingRecord(changed.dump(), controller_).ok());
  auto history = rights_->ProcessingHistory();
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(Json::parse(*history).size(), 2u);
  auto current = rights_->ProcessingRecord();
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(Json::parse(*current)["retention"][2]["afterLastContactYears"], 3);
}

}  // namespace
}  // namespace hearth::rights
