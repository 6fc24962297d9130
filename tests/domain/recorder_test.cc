// CaseRecorder: every validation rule refuses with its name and writes nothing.
#include <atomic>
#include <thread>

#include <capnp/dynamic.h>
#include <capnp/message.h>

#include "domain.capnp.h"
#include "domain/tables.h"
#include "domain_test_util.h"
#include "hearth/event_json.h"

namespace hearth::domain::testing {
namespace {

constexpr const char* kCase = "case/D3/000001";

class RecorderTest : public DomainTest {
 protected:
  // Opens kCase with an enquiry and a DFG line (line 1).
  void OpenDfgCase() {
    ASSERT_TRUE(Record(kCase, {Enquiry(),
                               E(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-20",
                                     "line":1,"element":"mandatoryDfg","service":"mandatoryDfg"}})")})
                    .ok());
  }

  // Expects `events` to be refused by `rule` with nothing written.
  void ExpectRefused(const std::string& rule, std::vector<NewEvent> events,
                     const std::string& case_id = kCase) {
    uint64_t before = Version(case_id);
    Status s = Record(case_id, std::move(events));
    EXPECT_EQ(RuleOf(s), rule) << s.ToString();
    EXPECT_NE(s.message().find(case_id), std::string::npos) << s.ToString();
    EXPECT_EQ(Version(case_id), before) << "a refused command wrote events";
  }
};

TEST_F(RecorderTest, AValidPathwayIsRecorded) {
  OpenDfgCase();
  Status s = Record(kCase, {E(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-05",
       "referrerType":"occupationalTherapist","service":"mandatoryDfg",
       "consentBasis":{"given":{"givenOn":"2018-04-05","method":"verbal","scopes":["referOn"]}}}})"),
                          E(R"({"type":"FirstVisitCompleted","facts":{"completedOn":"2018-04-25","mode":"home"}})"),
                          E(R"({"type":"PriorityAssessed","facts":{"assessedOn":"2018-04-25","line":1,"otPriority":2,"urgency":"urgent"}})")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->version, 5u);
  EXPECT_EQ(state->district, "D3");
  EXPECT_EQ(state->client, "P-1");
  EXPECT_EQ(FormatDate(*state->enquiry_on), "2018-04-03");
  EXPECT_EQ(FormatDate(*state->first_visit_on), "2018-04-25");
  EXPECT_EQ(state->consent_basis, "given");
  ASSERT_EQ(state->consents.size(), 1u);
  EXPECT_EQ(state->consents[0].scope, "referOn");
  ASSERT_EQ(state->lines.size(), 1u);
  EXPECT_EQ(state->lines[0].service, "mandatoryDfg");
  EXPECT_EQ(state->lines[0].ot_priority, 2);
  EXPECT_EQ(state->lines[0].urgency, "urgent");
}

TEST_F(RecorderTest, EveryEventNamesTheClient) {
  OpenDfgCase();
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01","authorRef":"S-1"}})")}).ok());
  auto events = store_->ReadStream(kCase, 1, Direction::kForward, 100);
  ASSERT_TRUE(events.ok());
  for (const auto& e : *events) {
    bool named = false;
    for (const auto& s : e.subjects) named = named || (s.id == "P-1" && s.role == SubjectRole::kClient);
    EXPECT_TRUE(named) << e.type;
  }
  auto about = store_->ReadSubject("P-1", 1, 100);
  ASSERT_TRUE(about.ok());
  EXPECT_EQ(about->size(), 3u);
}

TEST_F(RecorderTest, ReferralWithoutConsentBasisIsRefused) {
  OpenDfgCase();
  ExpectRefused("referral-consent-basis",
                {E(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-05","service":"mandatoryDfg"}})")});
  ExpectRefused("referral-consent-basis",
                {E(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-05","service":"mandatoryDfg",
                       "consentBasis":{"given":{"givenOn":"2018-04-05","method":"verbal"}}}})")});
  // Best interests and risk of harm stand without consent.
  EXPECT_TRUE(Record(kCase, {E(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-05",
       "consentBasis":{"bestInterests":{"decidedOn":"2018-04-05","decisionMaker":"ot"}}}})")}).ok());
  EXPECT_TRUE(Record(kCase, {E(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-06",
       "consentBasis":{"riskOfHarm":{"assessedOn":"2018-04-06","safeguardingRaised":true}}}})")}).ok());
}

TEST_F(RecorderTest, ClosedCaseRefusesEventsUntilReopened) {
  OpenDfgCase();
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"servicesCompleted"}})")}).ok());
  ExpectRefused("case-closed", {E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-06-02","authorRef":"S-1"}})")});
  // A batch that reopens first is accepted whole.
  Status s = Record(kCase, {E(R"({"type":"CaseReopened","facts":{"reopenedOn":"2018-06-03","reasonCode":"newNeed"}})"),
                            E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-06-03","authorRef":"S-1"}})")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectRefused("case-not-closed", {E(R"({"type":"CaseReopened","facts":{"reopenedOn":"2018-06-04"}})")});
  auto state = recorder_->Load(kCase);
  EXPECT_FALSE(state->closed);
  EXPECT_EQ(state->reopened, 1u);
}

// Issue 17.1: what people have a right to after the casework is recorded on
// the closed case as it is: it stays closed, on the same day, with the same
// last activity (the retention clock), and everything else still needs a
// reopening.
TEST_F(RecorderTest, ClosedCaseTakesWhatPeopleHaveARightToWithoutReopening) {
  OpenDfgCase();
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ConsentGiven","facts":{"givenOn":"2018-05-01","scope":"identifiableMonitoring","method":"written"}})"),
                             E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"servicesCompleted"}})")})
                  .ok());
  auto before = recorder_->Load(kCase);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(before->closed);
  std::vector<std::string> rights = {
      R"({"type":"ConsentWithdrawn","facts":{"withdrawnOn":"2018-07-01","scope":"identifiableMonitoring"}})",
      R"({"type":"PersonDetailsRectified","facts":{"rectifiedOn":"2018-07-02","fields":["phone"],"requestedBySubject":true},
          "personal":[{"subject":"P-1","role":"client","details":{"phone":"01632 960001"}}]})",
      R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-07-03","complaint":1,"stage":"stage1","categoryCode":"works"}})",
      R"({"type":"ComplaintResolved","facts":{"resolvedOn":"2018-07-20","complaint":1,"stage":"stage1","result":"upheld"}})",
      R"({"type":"PersonalDataDisclosed","facts":{"disclosedOn":"2018-07-21","recipientType":"ombudsman",
          "recipientRef":"ORG-LGSCO","purposeCode":"complaint","lawfulBasis":"legalObligation","categories":["contact"]}})",
      R"({"type":"SafeguardingConcernRaised","facts":{"raisedOn":"2018-07-22","category":"financial","personType":"adult","concern":1}})",
      R"({"type":"SatisfactionRecorded","facts":{"recordedOn":"2018-07-23","score":4,"channel":"letter"}})",
  };
  for (const auto& json : rights) {
    Status s = Record(kCase, {E(json)});
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << json;
  }
  auto after = recorder_->Load(kCase);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->version, before->version + rights.size());
  EXPECT_TRUE(after->closed);
  EXPECT_EQ(after->closed_on, before->closed_on);
  EXPECT_EQ(after->closure_reason, "servicesCompleted");
  EXPECT_EQ(after->reopened, 0u);
  EXPECT_EQ(after->last_activity_on, before->last_activity_on) << "a right exercised after closure moved the retention clock";
  EXPECT_TRUE(after->consents.empty());
  EXPECT_EQ(after->complaints, 1u);
  ASSERT_EQ(after->complaint_list.size(), 1u);
  EXPECT_FALSE(after->complaint_list[0].awaiting_response());
  EXPECT_EQ(after->satisfaction, 4);
  EXPECT_EQ(after->safeguarding_concerns, 1u);
  EXPECT_EQ(after->disclosures, 1u);
  // The casework itself still needs a reopening.
  ExpectRefused("case-closed", {E(R"({"type":"WorksStarted","facts":{"startedOn":"2018-08-01","line":1}})")});
  ExpectRefused("case-closed", {E(R"({"type":"ConsentGiven","facts":{"givenOn":"2018-08-01","scope":"referOn","method":"verbal"}})")});
  ExpectRefused("case-closed", {E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-08-01","authorRef":"S-1"}})")});
  // The rules of each type still apply on the closed case.
  ExpectRefused("consent-not-active", {E(R"({"type":"ConsentWithdrawn","facts":{"withdrawnOn":"2018-08-01","scope":"identifiableMonitoring"}})")});
  ExpectRefused("satisfaction-score", {E(R"({"type":"SatisfactionRecorded","facts":{"recordedOn":"2018-08-01","score":9}})")});
  // Reopened, the same events move the last activity again.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseReopened","facts":{"reopenedOn":"2018-09-01","reasonCode":"newNeed"}})"),
                             E(R"({"type":"SatisfactionRecorded","facts":{"recordedOn":"2018-09-02","score":5}})")})
                  .ok());
  EXPECT_EQ(FormatDate(*recorder_->Load(kCase)->last_activity_on), "2018-09-02");
}

// Issue 17.3: an onward referral records where to, when, the consent it
// rests on, the written confirmation and the outcome; signposting passes
// nothing on and needs no consent basis.
TEST_F(RecorderTest, OnwardReferralsRestOnConsentAndAreConfirmedInWriting) {
  OpenDfgCase();
  const std::string consent = R"("consentBasis":{"given":{"givenOn":"2018-05-01","method":"verbal","scopes":["referOn"]}})";
  ExpectRefused("onward-referral-number", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01",
       "destination":"fallsPrevention",)" + consent + "}}")});
  ExpectRefused("onward-referral-destination", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01",
       "referral":1,)" + consent + "}}")});
  ExpectRefused("onward-referral-consent", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01",
       "referral":1,"destination":"fallsPrevention"}})")});
  ExpectRefused("onward-referral-consent", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01",
       "referral":1,"destination":"fallsPrevention","consentBasis":{"given":{"givenOn":"2018-05-01","method":"verbal",
       "scopes":["identifiableMonitoring"]}}}})")});
  ExpectRefused("onward-referral-confirmation", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01",
       "referral":1,"destination":"fallsPrevention",)" + consent + R"(,"confirmedInWritingOn":"2018-04-30","confirmationChannel":"letter"}})")});
  ExpectRefused("onward-referral-confirmation", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01",
       "referral":1,"destination":"fallsPrevention",)" + consent + R"(,"confirmedInWritingOn":"2018-05-02","confirmationChannel":"phone"}})")});
  Status s = Record(kCase, {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01","referral":1,
       "destination":"fallsPrevention","organisationRef":"ORG-FALLS",)" + consent + R"(,
       "confirmedInWritingOn":"2018-05-02","confirmationChannel":"letter"}})"),
                            // Signposting: nothing passed on, no consent needed.
                            E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-01","referral":2,
       "destination":"benefitsAdvice","signposted":true}})")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  ExpectRefused("onward-referral-number", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-03","referral":2,
       "destination":"energyEfficiency","signposted":true}})")});
  ExpectRefused("onward-referral-number", {E(R"({"type":"OnwardReferralOutcomeRecorded","facts":{"recordedOn":"2018-05-20",
       "referral":3,"outcome":"accepted"}})")});
  ExpectRefused("onward-referral-outcome", {E(R"({"type":"OnwardReferralOutcomeRecorded","facts":{"recordedOn":"2018-05-20","referral":1}})")});
  ExpectRefused("onward-referral-outcome", {E(R"({"type":"OnwardReferralOutcomeRecorded","facts":{"recordedOn":"2018-04-20",
       "referral":1,"outcome":"accepted"}})")});
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->onward_referrals.size(), 2u);
  EXPECT_EQ(state->onward_referrals[0].destination, "fallsPrevention");
  EXPECT_EQ(FormatDate(*state->onward_referrals[0].confirmed_on), "2018-05-02");
  EXPECT_TRUE(state->onward_referrals[1].signposted);
  EXPECT_EQ(state->consents.size(), 1u);  // referOn, from the referral's consent
  // The outcome arrives after the case is closed: recorded without reopening.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-05-10","reason":"adviceOnly"}})"),
                             E(R"({"type":"OnwardReferralOutcomeRecorded","facts":{"recordedOn":"2018-05-20","referral":1,"outcome":"serviceProvided"}})"),
                             E(R"({"type":"OnwardReferralOutcomeRecorded","facts":{"recordedOn":"2018-05-21","referral":2,
                                   "confirmedInWritingOn":"2018-05-21","confirmationChannel":"email"}})")})
                  .ok());
  ExpectRefused("case-closed", {E(R"({"type":"OnwardReferralMade","facts":{"referredOn":"2018-05-22","referral":3,
       "destination":"telecare","signposted":true}})")});
  state = recorder_->Load(kCase);
  EXPECT_TRUE(state->closed);
  EXPECT_EQ(state->onward_referrals[0].outcome, "serviceProvided");
  EXPECT_EQ(FormatDate(*state->onward_referrals[1].confirmed_on), "2018-05-21");
  EXPECT_EQ(FormatDate(*state->last_activity_on), "2018-05-10");
}

// Issue 17.4: a disclosure rests on a lawful basis; on consent, on that
// consent being active (health information only under the consent to share
// it); a withdrawal, on the closed case too, stops every later one.
TEST_F(RecorderTest, DisclosureOnConsentNeedsThatConsentActive) {
  OpenDfgCase();
  auto disclose = [&](const std::string& on, const std::string& rest) {
    return E(R"({"type":"PersonalDataDisclosed","facts":{"disclosedOn":")" + on +
             R"(","recipientType":"gp","recipientRef":"ORG-GP",)" + rest + "}}");
  };
  ExpectRefused("disclosure-lawful-basis", {disclose("2018-05-01", R"("categories":["contact"])")});
  ExpectRefused("disclosure-consent", {disclose("2018-05-01", R"("lawfulBasis":"consent","categories":["contact"])")});
  ExpectRefused("disclosure-consent",
                {disclose("2018-05-01", R"("lawfulBasis":"consent","consentScope":"shareHealthInformation","categories":["health"])")});
  ExpectRefused("disclosure-consent",
                {disclose("2018-05-01", R"("lawfulBasis":"publicTask","consentScope":"actOnMyBehalf","categories":["contact"])")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ConsentGiven","facts":{"givenOn":"2018-05-02","scope":"actOnMyBehalf","method":"written"}})"),
                             E(R"({"type":"ConsentGiven","facts":{"givenOn":"2018-05-02","scope":"shareHealthInformation","method":"written"}})")})
                  .ok());
  // Health information under the consent to act on their behalf: refused.
  ExpectRefused("disclosure-consent",
                {disclose("2018-05-03", R"("lawfulBasis":"consent","consentScope":"actOnMyBehalf","categories":["contact","health"])")});
  // Dated before the consent was given: refused.
  ExpectRefused("disclosure-consent",
                {disclose("2018-05-01", R"("lawfulBasis":"consent","consentScope":"shareHealthInformation","categories":["health"])")});
  Status s = Record(kCase, {disclose("2018-05-03", R"("lawfulBasis":"consent","consentScope":"shareHealthInformation","categories":["health"])"),
                            disclose("2018-05-03", R"("lawfulBasis":"consent","consentScope":"actOnMyBehalf","categories":["contact"])")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  // Closed, then the consent to share health information withdrawn (no reopening).
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"servicesCompleted"}})"),
                             E(R"({"type":"ConsentWithdrawn","facts":{"withdrawnOn":"2018-06-05","scope":"shareHealthInformation"}})")})
                  .ok());
  ExpectRefused("disclosure-consent",
                {disclose("2018-06-10", R"("lawfulBasis":"consent","consentScope":"shareHealthInformation","categories":["health"])")});
  // The other consent stands; a basis other than consent stands without any.
  EXPECT_TRUE(Record(kCase, {disclose("2018-06-10", R"("lawfulBasis":"consent","consentScope":"actOnMyBehalf","categories":["contact"])"),
                             disclose("2018-06-11", R"("lawfulBasis":"vitalInterests","categories":["health"])")})
                  .ok());
  EXPECT_EQ(recorder_->Load(kCase)->disclosures, 4u);
}

// Issue 17.2: a safeguarding concern says who is at risk (adult or child),
// the category, to whom and when it was referred; the agency's
// acknowledgement and the outcome follow, on the closed case too.
TEST_F(RecorderTest, SafeguardingConcernsAreReferredAcknowledgedAndConcluded) {
  OpenDfgCase();
  auto raise = [&](const std::string& facts) {
    return E(R"({"type":"SafeguardingConcernRaised","facts":{"raisedOn":"2018-05-01",)" + facts + "}}");
  };
  ExpectRefused("safeguarding-concern-number", {raise(R"("category":"financial","personType":"adult")")});
  ExpectRefused("safeguarding-person", {raise(R"("concern":1,"category":"financial")")});
  ExpectRefused("safeguarding-category", {raise(R"("concern":1,"personType":"adult")")});
  ExpectRefused("safeguarding-category", {raise(R"("concern":1,"personType":"adult","category":"childCriminalExploitation")")});
  ExpectRefused("safeguarding-referral", {raise(R"("concern":1,"personType":"child","category":"prevent","referredTo":"police")")});
  ExpectRefused("safeguarding-referral", {raise(R"("concern":1,"personType":"child","category":"prevent","referredOn":"2018-05-01")")});
  ExpectRefused("safeguarding-referral", {raise(R"("concern":1,"personType":"adult","category":"domestic","referredToSocialCare":true)")});
  ExpectRefused("safeguarding-referral", {raise(R"("concern":1,"personType":"adult","category":"domestic",
                                                  "referredTo":"adultSocialCare","referredOn":"2018-04-30")")});
  ASSERT_TRUE(Record(kCase, {raise(R"("concern":1,"personType":"child","category":"childSexualExploitation",
                                      "referredTo":"childrensServices","referredOn":"2018-05-01","urgent":true)"),
                             raise(R"("concern":2,"personType":"adult","category":"selfNeglect")")})
                  .ok());
  ExpectRefused("safeguarding-concern-number", {raise(R"("concern":2,"personType":"adult","category":"neglect")")});
  const std::string ack = R"({"type":"SafeguardingReferralAcknowledged","facts":{"acknowledgedOn":"2018-05-02","concern":)";
  ExpectRefused("safeguarding-concern-number", {E(ack + R"(3}})")});
  ExpectRefused("safeguarding-acknowledgement", {E(ack + R"(2}})")});  // never referred
  ExpectRefused("safeguarding-acknowledgement",
                {E(R"({"type":"SafeguardingReferralAcknowledged","facts":{"acknowledgedOn":"2018-04-30","concern":1}})")});
  auto state = recorder_->Load(kCase);
  ASSERT_EQ(state->safeguarding.size(), 2u);
  EXPECT_TRUE(state->safeguarding[0].awaiting_acknowledgement());
  EXPECT_FALSE(state->safeguarding[1].awaiting_acknowledgement());
  // Closed with the referral unacknowledged: the case still needs work.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-05-01","reason":"referredElsewhere"}})")}).ok());
  EXPECT_TRUE(recorder_->Load(kCase)->needs_work());
  ASSERT_TRUE(Record(kCase, {E(ack + R"(1,"agencyRef":"MASH-0042"}})")}).ok());
  ExpectRefused("safeguarding-acknowledgement", {E(ack + R"(1}})")});  // already
  ExpectRefused("safeguarding-outcome",
                {E(R"({"type":"SafeguardingOutcomeRecorded","facts":{"recordedOn":"2018-05-20","concern":1}})")});
  ExpectRefused("safeguarding-concern-number",
                {E(R"({"type":"SafeguardingOutcomeRecorded","facts":{"recordedOn":"2018-05-20","concern":9,"outcome":"noFurtherAction"}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"SafeguardingOutcomeRecorded","facts":{"recordedOn":"2018-05-20","concern":1,"outcome":"enquiryOpened"}})"),
                             raise(R"("concern":3,"personType":"adult","category":"domestic","referredTo":"police","referredOn":"2018-05-21")")})
                  .ok());
  state = recorder_->Load(kCase);
  EXPECT_TRUE(state->closed);
  ASSERT_EQ(state->safeguarding.size(), 3u);
  EXPECT_EQ(FormatDate(*state->safeguarding[0].acknowledged_on), "2018-05-02");
  EXPECT_EQ(state->safeguarding[0].outcome, "enquiryOpened");
  EXPECT_EQ(state->safeguarding[0].referred_to, "childrensServices");
  EXPECT_EQ(state->safeguarding[0].person_type, "child");
  EXPECT_TRUE(state->needs_work());  // the late concern's referral awaits acknowledgement
  EXPECT_EQ(state->safeguarding_concerns, 3u);
}

// Issue 17.7: a case is allocated to a named responsible worker (a staff
// reference), reallocated by another CaseAllocated, and taken off a worker
// who leaves; the fold keeps the current worker.
TEST_F(RecorderTest, CaseAllocationNamesAStaffReferenceInDateOrder) {
  OpenDfgCase();  // enquiry 2018-04-03
  auto allocated = [](const char* on, const char* worker) {
    return std::string(R"({"type":"CaseAllocated","facts":{"allocatedOn":")") + on + R"(","workerRef":")" + worker +
           R"(","teamCode":"T-north","roleCode":"caseworker","reasonCode":"newCase"}})";
  };
  ExpectRefused("case-allocation-worker", {E(allocated("2018-04-04", "Testina"))});
  ExpectRefused("case-allocation-worker", {E(allocated("2018-04-04", "S-"))});
  ExpectRefused("case-allocation-worker", {E(allocated("2018-04-04", "P-1"))});
  ExpectRefused("case-allocation-date", {E(allocated("2018-04-02", "S-D3-07"))});
  ExpectRefused("case-deallocation",
                {E(R"({"type":"CaseDeallocated","facts":{"deallocatedOn":"2018-04-05","workerRef":"S-D3-07"}})")});
  ASSERT_TRUE(Record(kCase, {E(allocated("2018-04-04", "S-D3-07"))}).ok());
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->worker, "S-D3-07");
  EXPECT_EQ(state->allocated_on, D("2018-04-04"));
  // Reallocating to the same worker, or to another before the current allocation, is refused.
  ExpectRefused("case-allocation-worker", {E(allocated("2018-04-10", "S-D3-07"))});
  ExpectRefused("case-allocation-date", {E(allocated("2018-04-03", "S-D3-09"))});
  ASSERT_TRUE(Record(kCase, {E(allocated("2018-04-10", "S-D3-09"))}).ok());
  // Only the current worker is taken off, not before their allocation.
  ExpectRefused("case-deallocation",
                {E(R"({"type":"CaseDeallocated","facts":{"deallocatedOn":"2018-05-01","workerRef":"S-D3-07"}})")});
  ExpectRefused("case-allocation-date",
                {E(R"({"type":"CaseDeallocated","facts":{"deallocatedOn":"2018-04-09","workerRef":"S-D3-09"}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseDeallocated","facts":{"deallocatedOn":"2018-05-01","workerRef":"S-D3-09","reasonCode":"workerLeft"}})")}).ok());
  state = recorder_->Load(kCase);
  EXPECT_EQ(state->worker, "");
  EXPECT_EQ(state->first_allocated_on, D("2018-04-04"));
  EXPECT_EQ(state->deallocated_on, D("2018-05-01"));
  ExpectRefused("case-allocation-date", {E(allocated("2018-04-30", "S-D3-11"))});
  ASSERT_TRUE(Record(kCase, {E(allocated("2018-05-02", "S-D3-11"))}).ok());
  EXPECT_EQ(recorder_->Load(kCase)->worker, "S-D3-11");
  // A closed case is not allocated.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"servicesCompleted"}})")}).ok());
  ExpectRefused("case-closed", {E(allocated("2018-06-02", "S-D3-12"))});
}

// Issue 17.7: information and advice gets a follow-up date (not before the
// consultation); a later contact, consultation or visit follows it up.
TEST_F(RecorderTest, AdviceFollowUpIsDatedAfterItsConsultationAndDoneByALaterContact) {
  OpenDfgCase();
  ExpectRefused("follow-up-date", {E(R"({"type":"ConsultationHeld","facts":{"heldOn":"2018-04-05","followUpOn":"2018-04-04"}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ConsultationHeld","facts":{"heldOn":"2018-04-05","adviceGiven":["informationAdvice"],"followUpOn":"2018-05-05"}})")}).ok());
  auto state = recorder_->Load(kCase);
  EXPECT_EQ(state->follow_up_on, D("2018-05-05"));
  EXPECT_EQ(state->follow_up_set_on, D("2018-04-05"));
  EXPECT_FALSE(state->follow_up_done_on.has_value());
  // A back-dated contact from before the consultation does not follow it up.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-04-04","channel":"phone","purpose":"followUp"}})")}).ok());
  EXPECT_FALSE(recorder_->Load(kCase)->follow_up_done_on.has_value());
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-04-20","channel":"phone","purpose":"followUp"}})")}).ok());
  EXPECT_EQ(recorder_->Load(kCase)->follow_up_done_on, D("2018-04-20"));
  // A visit in hospital (003 Element 1) is a mode of its own.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"FirstVisitCompleted","facts":{"completedOn":"2018-04-21","mode":"hospital","visitorRole":"ot"}})")}).ok());
}

TEST_F(RecorderTest, MandatoryDfgCapNeedsADiscretionaryTopUp) {
  OpenDfgCase();
  ExpectRefused("dfg-mandatory-cap",
                {E(R"({"type":"GrantApproved","facts":{"approvedOn":"2018-07-01","line":1,
                       "grantType":"mandatoryDfg","amountPence":3000001}})")});
  ExpectRefused("dfg-mandatory-cap",
                {E(R"({"type":"GrantApproved","facts":{"approvedOn":"2018-07-01","line":1,
                       "grantType":"mandatoryDfg","amountPence":3600000,"discretionaryTopUpPence":500000}})")});
  ExpectRefused("dfg-mandatory-cap",
                {E(R"({"type":"GrantApproved","facts":{"approvedOn":"2018-07-01","line":1,
                       "grantType":"mandatoryDfg","amountPence":100,"discretionaryTopUpPence":200}})")});
  EXPECT_TRUE(Record(kCase, {E(R"({"type":"GrantApproved","facts":{"approvedOn":"2018-07-01","line":1,
                       "grantType":"mandatoryDfg","amountPence":3000000}})")}).ok());
  Status s = Record(kCase, {E(R"({"type":"GrantApproved","facts":{"approvedOn":"2018-07-02","line":1,
                       "grantType":"mandatoryDfg","amountPence":3600000,"discretionaryTopUpPence":600000}})")});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(recorder_->Load(kCase)->lines[0].top_up_pence, 600000u);
}

TEST_F(RecorderTest, DatesThatCannotBeInTheFutureAreRefused) {
  today_ = D("2018-06-01");
  OpenDfgCase();
  ExpectRefused("date-in-future",
                {E(R"({"type":"FirstVisitCompleted","facts":{"completedOn":"2018-06-02"}})")});
  ExpectRefused("date-in-future",
                {E(R"({"type":"ReferralMade","facts":{"referredOn":"2018-05-01",
                       "consentBasis":{"given":{"givenOn":"2018-06-05","method":"written","scopes":["referOn"]}}}})")});
  // A visit booked for a future day is fine; completed today is fine.
  EXPECT_TRUE(Record(kCase, {E(R"({"type":"FirstVisitScheduled","facts":{"scheduledOn":"2018-05-30","visitOn":"2018-06-20"}})"),
                             E(R"({"type":"FirstVisitCompleted","facts":{"completedOn":"2018-06-01"}})")}).ok());
  ExpectRefused("invalid-date", {E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-02-30"}})")});
  ExpectRefused("date-required", {E(R"({"type":"CaseNoteAdded","facts":{"authorRef":"S-1"}})")});
}

TEST_F(RecorderTest, FirstVisitBeforeTheEnquiryIsRefused) {
  OpenDfgCase();
  ExpectRefused("visit-before-enquiry",
                {E(R"({"type":"FirstVisitCompleted","facts":{"completedOn":"2018-04-02"}})")});
  // Within one batch, too.
  ExpectRefused("visit-before-enquiry",
                {Enquiry("2018-05-10", "P-2"),
                 E(R"({"type":"FirstVisitCompleted","facts":{"completedOn":"2018-05-09"}})")},
                "case/D3/000002");
}

TEST_F(RecorderTest, UnknownTypesAndNewerVersionsAreRefused) {
  OpenDfgCase();
  NewEvent unknown = E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})");
  unknown.type = "CaseNoteScribbled";
  ExpectRefused("unknown-event-type", {unknown});
  NewEvent newer = E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})");
  newer.schema_version = 2;
  uint64_t before = Version(kCase);
  Status s = Record(kCase, {newer});
  EXPECT_EQ(RuleOf(s), "newer-schema-version");
  EXPECT_NE(s.message().find("CaseNoteAdded schema version 2"), std::string::npos) << s.ToString();
  EXPECT_EQ(Version(kCase), before);
  NewEvent garbage = E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})");
  garbage.facts = "not capnp at all";
  ExpectRefused("malformed-facts", {garbage});
  // Facts of another type than the envelope says.
  NewEvent mismatched = E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})");
  mismatched.type = "CaseClosed";
  ExpectRefused("malformed-facts", {mismatched});
}

TEST_F(RecorderTest, ACaseOpensWithAnEnquiryNamingTheClient) {
  ExpectRefused("case-opens-with-enquiry",
                {E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})")});
  ExpectRefused("enquiry-names-client",
                {E(R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-04-03","district":"D3","purpose":"enquiry"}})")});
  ExpectRefused("district-code",
                {E(R"({"type":"ContactRecorded","subjects":[{"id":"P-1"}],"facts":{"contactedOn":"2018-04-03","district":"D3.north","purpose":"enquiry"}})")});
  OpenDfgCase();
  ExpectRefused("enquiry-on-open-case", {Enquiry("2018-05-01")});
  EXPECT_TRUE(recorder_->Record("not-a-case", {Enquiry()}).status().IsInvalidArgument());
}

TEST_F(RecorderTest, ServiceLinesPrioritiesAndRefusals) {
  OpenDfgCase();
  ExpectRefused("service-line", {E(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-21",
       "line":1,"element":"minorAdaptationsHandyperson","service":"minorAdaptation"}})")});
  ExpectRefused("element-service", {E(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-21",
       "line":2,"element":"mandatoryDfg","service":"handyperson"}})")});
  ExpectRefused("service-line", {E(R"({"type":"WorksCompleted","facts":{"completedOn":"2018-05-01","line":7}})")});
  ExpectRefused("ot-priority", {E(R"({"type":"PriorityAssessed","facts":{"assessedOn":"2018-04-25","line":1,"otPriority":4}})")});
  ExpectRefused("ot-priority", {E(R"({"type":"PriorityAssessed","facts":{"assessedOn":"2018-04-25","line":1}})")});
  ExpectRefused("refusal-appeal-rights", {E(R"({"type":"GrantRefused","facts":{"refusedOn":"2018-05-01","line":1,
       "grantType":"mandatoryDfg","reasons":["overMeansTest"]}})")});
  ExpectRefused("refusal-appeal-rights", {E(R"({"type":"EligibilityDecided","facts":{"decidedOn":"2018-05-01","line":1}})")});
  EXPECT_TRUE(Record(kCase, {E(R"({"type":"GrantRefused","facts":{"refusedOn":"2018-05-01","line":1,
       "grantType":"mandatoryDfg","reasons":["overMeansTest"],"appealRightsGiven":true,"appealBy":"2018-07-01"}})")}).ok());
}

// Issue 17.6: the satisfaction and impact questionnaire is sent about a
// finished line (or a finished case), once, and returned once, not before it
// was sent; the impact answers are real codes, each once.
TEST_F(RecorderTest, QuestionnaireIsSentOnCompletionAndReturnedOnce) {
  ASSERT_TRUE(Record(kCase, {Enquiry(),
                             E(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-20",
                                   "line":1,"element":"minorAdaptationsHandyperson","service":"minorAdaptation"}})"),
                             E(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-20",
                                   "line":2,"element":"minorAdaptationsHandyperson","service":"handyperson"}})")})
                  .ok());
  auto sent = [&](int line, const char* on) {
    return E(std::string(R"({"type":"QuestionnaireSent","facts":{"sentOn":")") + on + R"(","line":)" +
             std::to_string(line) + R"(,"channel":"letter"}})");
  };
  auto answer = [&](int line, const char* on, const char* more = "") {
    return E(std::string(R"({"type":"SatisfactionRecorded","facts":{"recordedOn":")") + on +
             R"(","score":4,"channel":"letter","line":)" + std::to_string(line) + more + "}}");
  };
  // Not before the works are finished, not about a line never opened, not
  // about the case as a whole while a line is open.
  ExpectRefused("questionnaire-sent", {sent(1, "2018-05-01")});
  ExpectRefused("service-line", {sent(3, "2018-05-01")});
  ExpectRefused("questionnaire-sent", {sent(0, "2018-05-01")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"WorksStarted","facts":{"startedOn":"2018-05-10","line":1}})"),
                             E(R"({"type":"WorksCompleted","facts":{"completedOn":"2018-05-11","line":1}})")})
                  .ok());
  ExpectRefused("questionnaire-sent", {sent(1, "2018-05-10")});  // the day before completion
  ExpectRefused("questionnaire-sent", {sent(0, "2018-05-12")});  // line 2 not finished
  ASSERT_TRUE(Record(kCase, {sent(1, "2018-05-11")}).ok());
  ExpectRefused("questionnaire-sent", {sent(1, "2018-05-20")});  // a second one about line 1
  // The return: not before the questionnaire was sent, once.
  ExpectRefused("questionnaire-return", {answer(1, "2018-05-10")});
  ExpectRefused("satisfaction-impacts", {answer(1, "2018-05-20", R"(,"impacts":["saferAtHome","unspecified"])")});
  ExpectRefused("satisfaction-impacts", {answer(1, "2018-05-20", R"(,"impacts":["fewerFalls","fewerFalls"])")});
  ExpectRefused("service-line", {answer(3, "2018-05-20")});
  ASSERT_TRUE(Record(kCase, {answer(1, "2018-05-20", R"(,"qualityOfLife":"muchBetter","impacts":["saferAtHome","fewerFalls"])")}).ok());
  ExpectRefused("questionnaire-return", {answer(1, "2018-05-25")});
  // An answer about a line with no questionnaire is a response, not a return.
  ASSERT_TRUE(Record(kCase, {answer(2, "2018-05-25")}).ok());
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->questionnaires.size(), 1u);
  EXPECT_EQ(state->questionnaires[0].line, 1u);
  EXPECT_EQ(FormatDate(state->questionnaires[0].sent_on), "2018-05-11");
  ASSERT_TRUE(state->questionnaires[0].returned_on.has_value());
  EXPECT_EQ(FormatDate(*state->questionnaires[0].returned_on), "2018-05-20");
  // About the case as a whole, once it is closed: taken on the closed case.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"servicesCompleted"}})")}).ok());
  ASSERT_TRUE(Record(kCase, {sent(0, "2018-06-02"), answer(0, "2018-06-20", R"(,"qualityOfLife":"better")")}).ok());
  state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->closed);
  ASSERT_EQ(state->questionnaires.size(), 2u);
  EXPECT_TRUE(state->questionnaires[1].returned_on.has_value());
  // The JSON form names an impact or answer outside the lists.
  NewEvent bad;
  Status s = codec_->FromJson(R"({"type":"SatisfactionRecorded","facts":{"recordedOn":"2018-06-21","score":4,"impacts":["happier"]}})", &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("impacts"), std::string::npos) << s.ToString();
  s = codec_->FromJson(R"({"type":"QuestionnaireSent","facts":{"sentOn":"2018-06-21","line":1,"via":"letter"}})", &bad);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("via"), std::string::npos) << s.ToString();
}

TEST_F(RecorderTest, ConsentsComplaintsSatisfactionAndRegistration) {
  OpenDfgCase();
  ExpectRefused("consent-not-active", {E(R"({"type":"ConsentWithdrawn","facts":{"withdrawnOn":"2018-05-01","scope":"identifiableMonitoring"}})")});
  ExpectRefused("consent-named-person", {E(R"({"type":"ConsentGiven","facts":{"givenOn":"2018-05-01",
       "scope":"involveNamedPerson","method":"verbal","namedPerson":"P-9"}})")});
  ExpectRefused("consent-scope", {E(R"({"type":"ConsentGiven","facts":{"givenOn":"2018-05-01","method":"verbal"}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ConsentGiven","subjects":[{"id":"P-9","role":"carer"}],"facts":{"givenOn":"2018-05-01",
       "scope":"involveNamedPerson","method":"verbal","namedPerson":"P-9"}})"),
                             E(R"({"type":"ConsentWithdrawn","facts":{"withdrawnOn":"2018-05-02","scope":"involveNamedPerson","namedPerson":"P-9"}})")}).ok());
  EXPECT_TRUE(recorder_->Load(kCase)->consents.empty());
  ExpectRefused("complaint-number", {E(R"({"type":"ComplaintResolved","facts":{"resolvedOn":"2018-05-02","complaint":1}})")});
  ExpectRefused("complaint-number", {E(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-05-02"}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-05-02","complaint":1,"stage":"stage1"}})")}).ok());
  ExpectRefused("complaint-number", {E(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-05-03","complaint":1}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"ComplaintResolved","facts":{"resolvedOn":"2018-05-09","complaint":1,"result":"upheld"}})")}).ok());
  ExpectRefused("satisfaction-score", {E(R"({"type":"SatisfactionRecorded","facts":{"recordedOn":"2018-05-02","score":6}})")});
  ExpectRefused("age-band", {E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"77"},
       "personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina"}}]})")});
  ExpectRefused("person-section", {E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"75-84"}})")});
  ExpectRefused("invalid-date", {E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"75-84"},
       "personal":[{"subject":"P-1","role":"client","details":{"dateOfBirth":"1941-02-30"}}]})")});
  Status s = Record(kCase, {E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"75-84","tenure":"ownerOccupier"},
       "personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina","dateOfBirth":"1941-02-03"}}]})")});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto state = recorder_->Load(kCase);
  EXPECT_EQ(state->age_band, "75-84");
  EXPECT_EQ(state->tenure, "ownerOccupier");
  EXPECT_EQ(state->complaints, 1u);
  ASSERT_EQ(state->complaint_list.size(), 1u);
  EXPECT_FALSE(state->complaint_list[0].awaiting_response());
}

// The equality codes (docs/domain.md, "Equality codes") hold values of their
// lists. In the JSON form (hearth append, plugins) an unknown name or a
// number is refused by the codec naming the field; in facts given as bytes
// an unknown number is refused by rule code-list naming the field; nothing
// is written either way.
TEST_F(RecorderTest, EqualityCodesOutsideTheirListsAreRefusedNamingTheField) {
  OpenDfgCase();
  const char* const kFields[] = {"disability",  "ethnicity",    "mainLanguage",      "interpreterNeeded",
                                 "unpaidCarer", "mentalHealth", "learningDisability", "gender"};
  for (const char* field : kFields) {
    SCOPED_TRACE(field);
    for (const char* value : {R"("martian")", "99"}) {
      std::string json = std::string(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03",)") +
                         R"("ageBand":"75-84",")" + field + "\":" + value +
                         R"(},"personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina"}}]})";
      NewEvent e;
      Status s = event_json::Parse(json, codec_.get(), &e);
      EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
      EXPECT_NE(s.message().find(std::string("facts.") + field), std::string::npos) << s.ToString();
    }
    // As bytes: one past the end of the field's list.
    for (bool rectified : {false, true}) {
      NewEvent e = rectified
                       ? E(R"({"type":"PersonDetailsRectified","subjects":[{"id":"P-1","role":"client"}],)"
                           R"("facts":{"rectifiedOn":"2018-04-04","fields":["ethnicity"]}})")
                       : E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"75-84"},
                              "personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina"}}]})");
      if (rectified && std::string(field) == "gender") continue;  // not a field of a correction
      capnp::MallocMessageBuilder m(128);
      auto root = m.initRoot<cs::Facts>();
      capnp::DynamicStruct::Builder member =
          rectified ? capnp::toDynamic(root.initPersonDetailsRectified()) : capnp::toDynamic(root.initPersonRegistered());
      member.set(rectified ? "rectifiedOn" : "registeredOn", rectified ? "2018-04-04" : "2018-04-03");
      if (!rectified) member.set("ageBand", "75-84");
      auto f = member.getSchema().getFieldByName(field);
      uint16_t past_end = uint16_t(f.getType().asEnum().getEnumerants().size());
      member.set(f, capnp::DynamicEnum(f.getType().asEnum(), past_end));
      e.facts = ToPacked(m);
      uint64_t before = Version(kCase);
      Status r = Record(kCase, {e});
      EXPECT_EQ(RuleOf(r), "code-list") << r.ToString();
      EXPECT_NE(r.message().find(std::string("facts.") + field + " holds " + std::to_string(past_end)),
                std::string::npos)
          << r.ToString();
      EXPECT_EQ(Version(kCase), before) << "a refused command wrote events";
    }
  }
  // Every value of each list is accepted, declined included.
  Status ok = Record(kCase, {E(R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"75-84",
       "disability":"preferNotToSay","ethnicity":"whiteRoma","mainLanguage":"bsl","interpreterNeeded":"yes",
       "unpaidCarer":"preferNotToSay","mentalHealth":"no","learningDisability":"preferNotToSay"},
       "personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina"}}]})")});
  EXPECT_TRUE(ok.ok()) << ok.ToString();
}

// A local land charge: only on a line whose works are certified complete, only
// on an owner-occupier's home, once until released; then folded per line.
TEST_F(RecorderTest, LandChargeRulesAndFold) {
  OpenDfgCase();
  const std::string charge = R"({"type":"LandChargeRegistered","facts":{"registeredOn":"2018-09-10",
       "line":1,"amountPence":450000,"registerRef":"LLC-D3-000001"}})";
  const std::string release = R"({"type":"LandChargeReleased","facts":{"releasedOn":"2018-12-03",
       "line":1,"reasonCode":"repaid"}})";
  // Before the works are complete (and on a line never opened).
  ExpectRefused("land-charge-after-completion", {E(charge)});
  ExpectRefused("service-line", {E(R"({"type":"LandChargeRegistered","facts":{"registeredOn":"2018-09-10","line":2}})")});
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"WorksCompleted","facts":{"completedOn":"2018-09-03","line":1,"finalCostPence":950000}})")}).ok());
  // Registered before the completion date.
  ExpectRefused("land-charge-after-completion",
                {E(R"({"type":"LandChargeRegistered","facts":{"registeredOn":"2018-09-01","line":1,"amountPence":450000}})")});
  // The client's tenure: not recorded, then a tenant.
  ExpectRefused("land-charge-owner-occupier", {E(charge)});
  const std::string registered = R"({"type":"PersonRegistered","facts":{"registeredOn":"2018-04-03","ageBand":"75-84","tenure":")";
  const std::string person = R"("},"personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina"}}]})";
  ASSERT_TRUE(Record(kCase, {E(registered + "councilTenant" + person)}).ok());
  ExpectRefused("land-charge-owner-occupier", {E(charge)});
  ASSERT_TRUE(Record(kCase, {E(registered + "ownerOccupier" + person)}).ok());
  // Nothing to release yet.
  ExpectRefused("land-charge-not-registered", {E(release)});

  ASSERT_TRUE(Record(kCase, {E(charge)}).ok());
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(FormatDate(*state->lines[0].land_charge_registered_on), "2018-09-10");
  EXPECT_FALSE(state->lines[0].land_charge_released_on.has_value());
  EXPECT_TRUE(state->lines[0].land_charge_active());
  ExpectRefused("land-charge-already-registered", {E(charge)});
  // A release needs its reason and cannot come before the registration.
  ExpectRefused("land-charge-release-reason",
                {E(R"({"type":"LandChargeReleased","facts":{"releasedOn":"2018-12-03","line":1}})")});
  ExpectRefused("land-charge-not-registered",
                {E(R"({"type":"LandChargeReleased","facts":{"releasedOn":"2018-09-09","line":1,"reasonCode":"waived"}})")});

  // A charge outlives the casework: released on the closed case.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-10-01","reason":"servicesCompleted"}})")}).ok());
  ExpectRefused("case-closed", {E(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-12-03","authorRef":"S-1"}})")});
  ASSERT_TRUE(Record(kCase, {E(release)}).ok());
  state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(FormatDate(*state->lines[0].land_charge_released_on), "2018-12-03");
  EXPECT_FALSE(state->lines[0].land_charge_active());
  EXPECT_TRUE(state->closed);
  ExpectRefused("land-charge-not-registered", {E(release)});
  // Registered again (a new charge): the release is forgotten.
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"LandChargeRegistered","facts":{"registeredOn":"2019-01-07","line":1,"amountPence":450000}})")}).ok());
  state = recorder_->Load(kCase);
  EXPECT_TRUE(state->lines[0].land_charge_active());
  EXPECT_FALSE(state->lines[0].land_charge_released_on.has_value());
}

TEST_F(RecorderTest, ConcurrentWritersAreRetriedOnConflict) {
  OpenDfgCase();
  RecorderOptions ro;
  ro.today = [this] { return today_; };
  ro.max_attempts = 1000;
  CaseRecorder recorder(store_.get(), codec_.get(), ro);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        NewEvent note;
        if (!codec_->FromJson(R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})", &note).ok() ||
            !recorder.Record(kCase, {note}).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Version(kCase), 2u + 40u);
  EXPECT_EQ(recorder.Load(kCase)->notes, 40u);
}

TEST_F(RecorderTest, LoadAsOfAVersionAndCheckWithoutWriting) {
  OpenDfgCase();
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"servicesCompleted"}})")}).ok());
  EXPECT_FALSE(recorder_->Load(kCase, 2)->closed);
  EXPECT_TRUE(recorder_->Load(kCase)->closed);
  EXPECT_TRUE(recorder_->Load("case/none").status().IsNotFound());
  Status s = recorder_->Check(kCase, {E(R"({"type":"CaseReopened","facts":{"reopenedOn":"2018-06-03"}})")});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Version(kCase), 3u);
}

TEST_F(RecorderTest, AnExpectedVersionIsTheVersionValidatedAgainst) {
  const std::string note = R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})";
  // NoStream: a new case, validated as one (the first event must be an enquiry).
  auto r = recorder_->Record(kCase, ExpectedVersion::NoStream(), {E(note)});
  EXPECT_EQ(RuleOf(r.status()), "case-opens-with-enquiry") << r.status().ToString();
  r = recorder_->Record(kCase, ExpectedVersion::NoStream(), {Enquiry()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->last_version, 1u);
  r = recorder_->Record(kCase, ExpectedVersion::NoStream(), {Enquiry()});
  ASSERT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_EQ(r.status().message(), std::string("stream ") + kCase + ": expected version no-stream, actual 1");

  // Exact, at the case's version: validated against it and appended after it.
  NewEvent first = E(note);
  r = recorder_->Record(kCase, ExpectedVersion::Exact(1), {first});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_version, 2u);
  EXPECT_FALSE(r->duplicate);
  // Stale: Conflict, before any rule runs (this one would break case-closed
  // only if validated against a state it was not written after), nothing written.
  ASSERT_TRUE(recorder_->Record(kCase, ExpectedVersion::Exact(2),
                                {E(R"({"type":"CaseClosed","facts":{"closedOn":"2018-06-01","reason":"adviceOnly"}})")})
                  .ok());
  r = recorder_->Record(kCase, ExpectedVersion::Exact(2), {E(note)});
  ASSERT_TRUE(r.status().IsConflict()) << r.status().ToString();
  EXPECT_EQ(r.status().message(), std::string("stream ") + kCase + ": expected version 2, actual 3");
  r = recorder_->Record("case/D3/000404", ExpectedVersion::Exact(1), {Enquiry()});
  EXPECT_EQ(r.status().message(), "stream case/D3/000404: expected version 1, actual no-stream");
  EXPECT_EQ(recorder_->Record(kCase, ExpectedVersion::Exact(0), {E(note)}).status().code(),
            Status::Code::kInvalidArgument);
  // At the right version the rules still apply.
  r = recorder_->Record(kCase, ExpectedVersion::Exact(3), {E(note)});
  EXPECT_EQ(RuleOf(r.status()), "case-closed") << r.status().ToString();
  EXPECT_EQ(Version(kCase), 3u);
  EXPECT_EQ(Version("case/D3/000404"), 0u);

  // A retry of the note (same id, same expectation) gets the original
  // positions, though the case has moved on (and is closed) since.
  auto again = recorder_->Record(kCase, ExpectedVersion::Exact(1), {first});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->first_version, 2u);
  // A retry that is not the same batch is refused by the store.
  NewEvent changed = first;
  changed.occurred_at += 1;
  EXPECT_TRUE(recorder_->Record(kCase, ExpectedVersion::Any(), {changed}).status().IsInvalidArgument());
  EXPECT_EQ(Version(kCase), 3u);
}

}  // namespace
}  // namespace hearth::domain::testing
