// The breach register (issue 17.10; docs/domain.md "The breach register",
// docs/readmodels.md "Breach"): the rules of a breach's stream (each refused
// by name, nothing written), the controller scope over the protocol, the
// 72-hour clock in the worklist, and `hearth breach` end to end.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>

#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>

#include "domain.capnp.h"

#include "hearth/domain.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "hearth/session.h"
#include "cli_run.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

constexpr const char* kB1 = "breach/B-1";

class BreachTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
  }

  // A breach event: `facts` is a JSON object's inside; the free text, when
  // given, is in the recording staff member's section.
  NewEvent B(const std::string& type, const std::string& facts, const std::string& text = "") {
    std::string personal;
    if (!text.empty()) {
      personal = R"(,"personal":[{"subject":"S-DPO-1","role":"staff","details":{"freeText":")" + text + R"("}}])";
    }
    return E(R"({"type":")" + type + R"(","actor":{"user":"S-DPO-1","role":"controller","plugin":"test"},)"
             R"("facts":{)" + facts + "}" + personal + "}");
  }

  NewEvent Recorded(const std::string& ref = "B-1", const std::string& on = "2019-03-04") {
    return B("BreachRecorded", R"("discoveredOn":")" + on + R"(","breachRef":")" + ref +
                                   R"(","discoveredTime":"10:15","kind":"availability","cause":"lostOrStolenPaperwork",)"
                                   R"("categories":["identity","health"],"approxPeople":1,"approxRecords":1)",
             "a DFG file was left on a bus");
  }

  Result<AppendResult> Put(const std::string& stream, std::vector<NewEvent> events) {
    return domain::RecordBreach(*store_, *codec_, stream, ExpectedVersion::Any(), std::move(events), D("2019-12-31"));
  }

  // The batch is refused by rule `rule` and nothing of it is written.
  void ExpectRefused(const std::string& stream, std::vector<NewEvent> events, const std::string& rule) {
    uint64_t before = Version(stream);
    auto r = Put(stream, std::move(events));
    ASSERT_FALSE(r.ok()) << "accepted; expected rule " << rule;
    EXPECT_EQ(r.status().message().rfind("rule " + rule + ":", 0), 0u) << r.status().ToString();
    EXPECT_EQ(Version(stream), before) << "a refused batch wrote something";
  }

  uint64_t Version(const std::string& stream) {
    auto v = store_->StreamVersion(stream);
    return v.ok() ? *v : 0;
  }

  std::vector<WorkItem> BreachItems(const char* as_of) {
    CatchUp();
    auto breaches = domain::ReadBreaches(*store_, *codec_);
    EXPECT_TRUE(breaches.ok()) << breaches.status().ToString();
    WorklistOptions w;
    w.as_of = D(as_of);
    w.breaches = *breaches;
    auto wl = BuildWorklist(*store_, domain::Calendar::EnglandAndWales(), w);
    EXPECT_TRUE(wl.ok()) << wl.status().ToString();
    std::vector<WorkItem> out;
    for (const auto& i : wl->items) {
      if (i.kind == WorkKind::kBreach) out.push_back(i);
    }
    return out;
  }
};

TEST_F(BreachTest, RecordAssessNotifyInformFoldsIntoTheRegister) {
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ASSERT_TRUE(Put(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"highRisk","assessorRef":"S-DPO-1")",
                          "health details of one client")})
                  .ok());
  ASSERT_TRUE(Put(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-06","icoReference":"IC-123456")")}).ok());
  ASSERT_TRUE(Put(kB1, {B("BreachPeopleInformed",
                          R"("decidedOn":"2019-03-07","informed":true,"channel":"letter","peopleInformed":1)")})
                  .ok());
  auto b = domain::LoadBreach(*store_, *codec_, kB1);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->ref, "B-1");
  EXPECT_EQ(b->kind, "availability");
  EXPECT_EQ(b->categories, (std::vector<std::string>{"identity", "health"}));
  EXPECT_EQ(b->risk, "highRisk");
  ASSERT_TRUE(b->notified_on.has_value());
  EXPECT_EQ(domain::FormatDate(*b->notified_on), "2019-03-06");
  EXPECT_EQ(b->ico_reference, "IC-123456");
  EXPECT_TRUE(b->people_informed);
  EXPECT_FALSE(b->ClockRunning());
  // The narrative is personal: in the staff member's section, never in the facts.
  auto events = store_->ReadStream(kB1, 1, Direction::kForward, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[0].facts.find("bus"), std::string::npos);
  ASSERT_EQ((*events)[0].personal.size(), 1u);
  EXPECT_EQ((*events)[0].personal[0].subject, "S-DPO-1");
}

// A retry of a stored batch (a reply lost) is answered with the original
// positions, not refused as a second record.
TEST_F(BreachTest, ARetriedBatchIsADuplicateNotASecondRecord) {
  NewEvent e = Recorded();
  auto first = Put(kB1, {e});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto again = Put(kB1, {e});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->first_position, first->first_position);
  EXPECT_EQ(Version(kB1), 1u);
}

TEST_F(BreachTest, AssessOrNotifyBeforeTheBreachIsRecordedIsRefused) {
  ExpectRefused(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"risk")")}, "breach-recorded");
  ExpectRefused(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-05")")}, "breach-recorded");
  ExpectRefused(kB1, {B("BreachNotNotified", R"("decidedOn":"2019-03-05","reasonCode":"x")")}, "breach-recorded");
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ExpectRefused(kB1, {Recorded()}, "breach-recorded");  // recorded twice
}

TEST_F(BreachTest, AStreamTakesOnlyBreachEventsUnderItsOwnGaplessReference) {
  ExpectRefused("breach/first", {Recorded("first")}, "breach-ref");
  ExpectRefused(kB1, {Recorded("B-2")}, "breach-ref");             // facts and stream disagree
  ExpectRefused("breach/B-2", {Recorded("B-2")}, "breach-ref");    // B-1 missing: a gap
  ExpectRefused(kB1, {Ev("CaseNoteAdded", R"("writtenOn":"2019-03-04","authorRef":"S-1")")}, "breach-stream");
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ASSERT_TRUE(Put("breach/B-2", {Recorded("B-2")}).ok());
}

TEST_F(BreachTest, ABreachNamesOnlyStaffNeverThePeopleAffected) {
  NewEvent e = Recorded();
  e.subjects.push_back(SubjectRef{"P-1", SubjectRole::kClient});
  ExpectRefused(kB1, {e}, "breach-subjects");
}

TEST_F(BreachTest, KindCauseAndCategoriesAreRequired) {
  ExpectRefused(kB1, {B("BreachRecorded", R"("discoveredOn":"2019-03-04","breachRef":"B-1","cause":"other","categories":["contact"])")},
                "breach-kind");
  ExpectRefused(kB1, {B("BreachRecorded", R"("discoveredOn":"2019-03-04","breachRef":"B-1","kind":"integrity","categories":["contact"])")},
                "breach-kind");
  ExpectRefused(kB1, {B("BreachRecorded", R"("discoveredOn":"2019-03-04","breachRef":"B-1","kind":"integrity","cause":"other")")},
                "breach-categories");
  ExpectRefused(kB1, {B("BreachRecorded", R"("discoveredOn":"2019-03-04","breachRef":"B-1","kind":"integrity","cause":"other","categories":["contact"],"discoveredTime":"25:00")")},
                "breach-time");
}

TEST_F(BreachTest, DatesAreNotInTheFutureNorBeforeDiscovery) {
  ExpectRefused(kB1, {Recorded("B-1", "2020-01-01")}, "date-in-future");
  ExpectRefused(kB1, {B("BreachRecorded", R"("discoveredOn":"2019-03-04","breachRef":"B-1","occurredOn":"2019-03-05","kind":"integrity","cause":"other","categories":["contact"])")},
                "breach-before-discovery");
  ExpectRefused(kB1, {B("BreachRecorded", R"("breachRef":"B-1","kind":"integrity","cause":"other","categories":["contact"])")},
                "date-required");
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ExpectRefused(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-03","risk":"risk")")}, "breach-before-discovery");
  ExpectRefused(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-01")")}, "breach-before-discovery");
  ExpectRefused(kB1, {B("BreachAssessed", R"("assessedOn":"2020-03-05","risk":"risk")")}, "date-in-future");
  ExpectRefused(kB1, {B("BreachPeopleInformed", R"("decidedOn":"2019-03-02","informed":true,"channel":"letter")")},
                "breach-before-discovery");
}

TEST_F(BreachTest, AnAssessmentNamesItsRisk) {
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ExpectRefused(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-05")")}, "breach-risk");
}

TEST_F(BreachTest, ABreachIsNotifiedOnceAndNeverUnnotifiedAfterwards) {
  ASSERT_TRUE(Put(kB1, {Recorded(), B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-05","icoReference":"IC-1")")}).ok());
  ExpectRefused(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-06","icoReference":"IC-2")")}, "breach-notified");
  ExpectRefused(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-06","risk":"unlikely")"),
                      B("BreachNotNotified", R"("decidedOn":"2019-03-06","reasonCode":"x")")},
                "breach-notified");
}

TEST_F(BreachTest, ALateNotificationGivesItsReason) {
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());  // discovered 2019-03-04: due by 2019-03-07
  ExpectRefused(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-08")")}, "breach-late-reason");
  ASSERT_TRUE(Put(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-07")")}).ok());  // the third day is in time
}

TEST_F(BreachTest, OnlyABreachAssessedUnlikelyGoesUnnotifiedAndWithAReason) {
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ExpectRefused(kB1, {B("BreachNotNotified", R"("decidedOn":"2019-03-05","reasonCode":"recoveredUnread")")},
                "breach-not-notified");  // not assessed
  ASSERT_TRUE(Put(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"risk")")}).ok());
  ExpectRefused(kB1, {B("BreachNotNotified", R"("decidedOn":"2019-03-05","reasonCode":"recoveredUnread")")},
                "breach-not-notified");  // assessed a risk
  ASSERT_TRUE(Put(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"unlikely")")}).ok());
  ExpectRefused(kB1, {B("BreachNotNotified", R"("decidedOn":"2019-03-05")")}, "breach-not-notified");
  ASSERT_TRUE(Put(kB1, {B("BreachNotNotified", R"("decidedOn":"2019-03-05","reasonCode":"recoveredUnread")",
                          "the file was found sealed at the depot")})
                  .ok());
  ExpectRefused(kB1, {B("BreachNotNotified", R"("decidedOn":"2019-03-06","reasonCode":"again")")},
                "breach-not-notified");
}

TEST_F(BreachTest, PeopleNotInformedNeedAGroundAndAreInformedOnce) {
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  ExpectRefused(kB1, {B("BreachPeopleInformed", R"("decidedOn":"2019-03-05","informed":false)")}, "breach-informed");
  ExpectRefused(kB1, {B("BreachPeopleInformed", R"("decidedOn":"2019-03-05","informed":true)")}, "breach-informed");
  ASSERT_TRUE(Put(kB1, {B("BreachPeopleInformed", R"("decidedOn":"2019-03-05","informed":true,"channel":"phone","peopleInformed":1)")}).ok());
  ExpectRefused(kB1, {B("BreachPeopleInformed", R"("decidedOn":"2019-03-06","informed":true,"channel":"letter")")},
                "breach-informed");
}

// Free text in a code field is refused by the JSON form and, in facts given
// as bytes (the protocol), by the rule.
TEST_F(BreachTest, FreeTextAndNumbersOutsideTheListsAreRefusedInFacts) {
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  NewEvent json;
  Status s = codec_->FromJson(
      R"({"type":"BreachNotifiedToIco","facts":{"notifiedOn":"2019-03-05","icoReference":"rang the ICO helpline"}})",
      &json);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("facts.icoReference"), std::string::npos) << s.ToString();
  capnp::MallocMessageBuilder m;
  auto n = m.initRoot<schema::domain::Facts>().initBreachNotifiedToIco();
  n.setNotifiedOn("2019-03-05");
  n.setIcoReference("rang the ICO helpline");
  kj::VectorOutputStream out;
  capnp::writePackedMessage(out, m);
  NewEvent e = B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-05")");
  e.facts.assign(reinterpret_cast<const char*>(out.getArray().begin()), out.getArray().size());
  ExpectRefused(kB1, {e}, "code-field");
  // And an enum number outside its list, naming the field.
  capnp::MallocMessageBuilder m2;
  auto a = m2.initRoot<schema::domain::Facts>().initBreachAssessed();
  a.setAssessedOn("2019-03-05");
  a.setRisk(static_cast<schema::domain::BreachRisk>(9));
  kj::VectorOutputStream out2;
  capnp::writePackedMessage(out2, m2);
  NewEvent bad = B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"risk")");
  bad.facts.assign(reinterpret_cast<const char*>(out2.getArray().begin()), out2.getArray().size());
  ExpectRefused(kB1, {bad}, "code-list");
}

// The JSON form refuses unknown keys and codes outside their lists, naming
// the field.
TEST_F(BreachTest, JsonFormRefusesUnknownKeysAndCodesNamingTheField) {
  NewEvent e;
  Status s = codec_->FromJson(R"({"type":"BreachRecorded","facts":{"discoveredOn":"2019-03-04","breachRef":"B-1","kind":"leak"}})", &e);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("facts.kind"), std::string::npos) << s.ToString();
  s = codec_->FromJson(R"({"type":"BreachAssessed","facts":{"assessedOn":"2019-03-04","risk":"risk","what":"x"}})", &e);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("facts.what"), std::string::npos) << s.ToString();
  s = codec_->FromJson(R"({"type":"BreachRecorded","facts":{"discoveredOn":"2019-03-04","categories":["gossip"]}})", &e);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("facts.categories"), std::string::npos) << s.ToString();
}

// docs/domain.md, "Timeline and subject access": a breach names only the
// staff whose sections hold its narrative, so it is in their pack (their own
// section with the facts) and in no client's.
TEST_F(BreachTest, ABreachIsInTheStaffMembersSubjectAccessPackAndNoClients) {
  Record("case/D1/1", {Enquiry("2019-03-01", "P-1", "D1")});
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  rights::Rights r(store_.get(), codec_.get(), rights::RightsOptions{});
  ASSERT_TRUE(r.SetProcessingRecord(rights::DefaultProcessingRecordJson(),
                                    Actor{"S-9", rights::kControllerRole, "test"})
                  .ok());
  auto staff = r.BuildPack("S-DPO-1", {});
  ASSERT_TRUE(staff.ok()) << staff.status().ToString();
  EXPECT_NE(staff->json.find("BreachRecorded"), std::string::npos);
  EXPECT_NE(staff->json.find("left on a bus"), std::string::npos);
  auto client = r.BuildPack("P-1", {});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ(client->json.find("BreachRecorded"), std::string::npos);
  EXPECT_EQ(client->json.find("left on a bus"), std::string::npos);
}

// Over the protocol: breach/ streams are the controller's. A session without
// the controller scope is refused and nothing is written; with it, the
// breach's rules apply as on the command line.
TEST_F(BreachTest, OnlyAControllerSessionAppendsToABreachStream) {
  Scopes scopes;
  scopes.append_types = {"*"};
  scopes.read_streams = {"*"};
  Session worker(store_.get(), Principal{"console", "S-1", "caseworker"}, scopes, [](const std::string&) {});
  auto refused = worker.Append(kB1, ExpectedVersion::Any(), {Recorded()});
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  EXPECT_EQ(Version(kB1), 0u);
  scopes.controller = true;
  Session controller(store_.get(), Principal{"console", "S-DPO-1", "controller"}, scopes);
  auto early = controller.Append(kB1, ExpectedVersion::Any(), {B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"risk")")});
  EXPECT_EQ(early.status().message().rfind("rule breach-recorded:", 0), 0u) << early.status().ToString();
  auto ok = controller.Append(kB1, ExpectedVersion::Any(), {Recorded()});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Version(kB1), 1u);
  auto twice = controller.Append(kB1, ExpectedVersion::Any(), {Recorded()});
  EXPECT_EQ(twice.status().message().rfind("rule breach-recorded:", 0), 0u) << twice.status().ToString();
  EXPECT_EQ(Version(kB1), 1u);
}

// Art. 33(1): a breach not notified is on the worklist, due 72 hours after
// discovery (the third day after it), overdue after; notified, decided not
// to notify (assessed unlikely), it is off.
TEST_F(BreachTest, WorklistShowsTheSeventyTwoHourClockUntilNotified) {
  Record("case/D1/1", {Enquiry("2019-03-01", "P-1", "D1")});
  ASSERT_TRUE(Put(kB1, {Recorded()}).ok());
  EXPECT_TRUE(BreachItems("2019-03-03").empty());  // before discovery
  auto due = BreachItems("2019-03-05");
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].case_id, kB1);
  EXPECT_EQ(due[0].status, "due-soon");
  ASSERT_TRUE(due[0].due.has_value());
  EXPECT_EQ(domain::FormatDate(*due[0].due), "2019-03-07");
  EXPECT_EQ(domain::FormatDate(due[0].since), "2019-03-04");
  auto overdue = BreachItems("2019-03-08");
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0].status, "overdue");
  // Assessed as a risk: still on the list, awaiting the notification.
  ASSERT_TRUE(Put(kB1, {B("BreachAssessed", R"("assessedOn":"2019-03-05","risk":"risk")")}).ok());
  auto assessed = BreachItems("2019-03-05");
  ASSERT_EQ(assessed.size(), 1u);
  EXPECT_EQ(assessed[0].stage, "ICO notification");
  ASSERT_TRUE(Put(kB1, {B("BreachNotifiedToIco", R"("notifiedOn":"2019-03-06","icoReference":"IC-1")")}).ok());
  EXPECT_TRUE(BreachItems("2019-03-08").empty());
  // A second breach assessed unlikely leaves the list.
  ASSERT_TRUE(Put("breach/B-2", {Recorded("B-2", "2019-04-01")}).ok());
  ASSERT_EQ(BreachItems("2019-04-02").size(), 1u);
  ASSERT_TRUE(Put("breach/B-2", {B("BreachAssessed", R"("assessedOn":"2019-04-02","risk":"unlikely")")}).ok());
  EXPECT_TRUE(BreachItems("2019-04-02").empty());
}

using hearth::testing::CliRun;
using hearth::testing::Hearth;

// `hearth breach record | assess | notify | list`, and the worklist's item.
TEST_F(BreachTest, CommandLineRecordsAssessesNotifiesAndLists) {
  Record("case/D1/1", {Enquiry("2019-03-01", "P-1", "D1")});
  CatchUp();
  recorder_.reset();
  store_.reset();  // the command line opens it itself
  std::string args = "--data " + dir_.sub("store") + " --key-file " + key_;
  CliRun rec = Hearth("breach record " + args +
                      " --on 2019-03-04 --time 10:15 --kind availability --cause lostOrStolenPaperwork"
                      " --categories identity,health --people 1 --records 1 --user S-DPO-1"
                      " --text 'a DFG file left on a bus'");
  ASSERT_EQ(rec.code, 0) << rec.out;
  EXPECT_EQ(nlohmann::json::parse(rec.out)["breach"], "B-1");
  CliRun bad = Hearth("breach record " + args + " --on 2019-03-04 --kind leak --cause other --categories contact");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("facts.kind"), std::string::npos) << bad.out;

  CliRun list = Hearth("breach list " + args + " --as-of 2019-03-05 --json");
  ASSERT_EQ(list.code, 0) << list.out;
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j["breaches"].size(), 1u);
  EXPECT_EQ(j["breaches"][0]["clock"], "running");
  EXPECT_EQ(j["breaches"][0]["notifyBy"], "2019-03-07");
  EXPECT_EQ(j["breaches"][0]["risk"], "notAssessed");

  CliRun wl = Hearth("worklist " + args + " --as-of 2019-03-08 --json");
  ASSERT_EQ(wl.code, 0) << wl.out;
  auto w = nlohmann::json::parse(wl.out);
  bool found = false;
  for (const auto& i : w["items"]) {
    if (i["kind"] == "breach") {
      found = true;
      EXPECT_EQ(i["breach"], "breach/B-1");
      EXPECT_EQ(i["status"], "overdue");
      EXPECT_EQ(i["due"], "2019-03-07");
    }
  }
  EXPECT_TRUE(found) << wl.out;

  CliRun early = Hearth("breach notify B-2 " + args + " --on 2019-03-05 --ico-ref IC-9");
  EXPECT_EQ(early.code, 1) << early.out;
  EXPECT_NE(early.out.find("rule breach-recorded"), std::string::npos) << early.out;
  CliRun assess = Hearth("breach assess B-1 " + args + " --on 2019-03-05 --risk highRisk --user S-DPO-1"
                         " --text 'health details of one client'");
  ASSERT_EQ(assess.code, 0) << assess.out;
  CliRun late = Hearth("breach notify B-1 " + args + " --on 2019-03-08 --ico-ref IC-123456");
  EXPECT_EQ(late.code, 1) << late.out;
  EXPECT_NE(late.out.find("rule breach-late-reason"), std::string::npos) << late.out;
  CliRun notify = Hearth("breach notify B-1 " + args + " --on 2019-03-06 --ico-ref IC-123456");
  ASSERT_EQ(notify.code, 0) << notify.out;
  CliRun again = Hearth("breach notify B-1 " + args + " --on 2019-03-06 --ico-ref IC-123457");
  EXPECT_EQ(again.code, 1) << again.out;
  EXPECT_NE(again.out.find("rule breach-notified"), std::string::npos) << again.out;
  CliRun inform = Hearth("breach inform B-1 " + args + " --on 2019-03-07 --channel letter --count 1");
  ASSERT_EQ(inform.code, 0) << inform.out;

  CliRun text = Hearth("breach list " + args + " --as-of 2019-03-08");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("B-1  discovered 2019-03-04 10:15"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("clock met"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ICO 2019-03-06 IC-123456"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("bus"), std::string::npos) << text.out;  // the narrative is not in the register's facts
  CliRun after = Hearth("worklist " + args + " --as-of 2019-03-08 --json");
  ASSERT_EQ(after.code, 0) << after.out;
  EXPECT_EQ(nlohmann::json::parse(after.out)["counts"]["breach"].size(), 0u) << after.out;
}

}  // namespace
}  // namespace hearth::readmodels::testing
