// DFG order and money rules (issue 17.8; docs/domain.md "DFG order and
// money"): works start after approval unless an urgent exemption is
// recorded, payments stay within the approved amount plus variations, a
// payment names its payee and an approval the client's contribution, and the
// contractor chosen is on the vetted list kept in the store. Every refusal
// names its rule and writes nothing.
#include "domain_test_util.h"

namespace hearth::domain::testing {
namespace {

constexpr const char* kCase = "case/D3/000001";

class DfgRulesTest : public DomainTest {
 protected:
  // Opens kCase with an enquiry and a mandatory DFG line (line 1), and vets
  // contractor C-ACME from 2018-01-01 to 2019-12-31.
  void SetUp() override {
    DomainTest::SetUp();
    ASSERT_TRUE(Vet("C-ACME", "2018-01-01", "2019-12-31").ok());
    ASSERT_TRUE(Record(kCase, {Enquiry(), Line(1, "mandatoryDfg", "mandatoryDfg")}).ok());
  }

  NewEvent Line(int line, const std::string& element, const std::string& service) {
    return E(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-20","line":)" + std::to_string(line) +
             R"(,"element":")" + element + R"(","service":")" + service + R"("}})");
  }
  Status Vet(const std::string& ref, const std::string& on, const std::string& expires) {
    auto r = RecordContractors(*store_, *codec_, ExpectedVersion::Any(),
                               {E(R"({"type":"ContractorVetted","facts":{"vettedOn":")" + on +
                                  R"(","contractorRef":")" + ref + R"(","trades":["stairlift"],)"
                                  R"("checks":["publicLiability","references"],"expiresOn":")" + expires + R"("}})")},
                               today_);
    return r.ok() ? Status::OK() : r.status();
  }
  Status Remove(const std::string& ref, const std::string& on, const std::string& reason = "insuranceLapsed") {
    auto r = RecordContractors(*store_, *codec_, ExpectedVersion::Any(),
                               {E(R"({"type":"ContractorRemoved","facts":{"removedOn":")" + on +
                                  R"(","contractorRef":")" + ref + R"(","reasonCode":")" + reason + R"("}})")},
                               today_);
    return r.ok() ? Status::OK() : r.status();
  }
  NewEvent Approved(const std::string& on, int64_t pence, const std::string& extra = "") {
    return E(R"({"type":"GrantApproved","facts":{"approvedOn":")" + on +
             R"(","line":1,"grantType":"mandatoryDfg","amountPence":)" + std::to_string(pence) + extra + "}}");
  }
  NewEvent Chosen(const std::string& on, const std::string& ref = "C-ACME") {
    return E(R"({"type":"ContractorChosen","facts":{"chosenOn":")" + on + R"(","line":1,"contractorRef":")" + ref +
             R"(","amountPence":500000}})");
  }
  NewEvent Started(const std::string& on) {
    return E(R"({"type":"WorksStarted","facts":{"startedOn":")" + on + R"(","line":1}})");
  }
  NewEvent Paid(const std::string& on, int64_t pence, const std::string& payee = R"("contractor","payeeRef":"C-ACME")") {
    return E(R"({"type":"WorksPaid","facts":{"paidOn":")" + on + R"(","line":1,"amountPence":)" +
             std::to_string(pence) + (payee.empty() ? "" : R"(,"payee":)" + payee) + "}}");
  }
  NewEvent Variation(const std::string& on, int64_t pence, const std::string& reason = "unforeseenWorks") {
    return E(R"({"type":"GrantVariationApproved","facts":{"approvedOn":")" + on + R"(","line":1,"amountPence":)" +
             std::to_string(pence) + (reason.empty() ? "" : R"(,"reasonCode":")" + reason + "\"") + "}}");
  }
  NewEvent Exemption(const std::string& on, const std::string& role = "manager") {
    return E(R"({"type":"UrgentWorksExemptionRecorded","facts":{"recordedOn":")" + on +
             R"(","line":1,"reasonCode":"hospitalDischarge","authorisedByRole":")" + role + R"("}})");
  }

  // Expects `events` to be refused by `rule` with nothing written.
  void ExpectRefused(const std::string& rule, std::vector<NewEvent> events) {
    uint64_t before = Version(kCase);
    Status s = Record(kCase, std::move(events));
    EXPECT_EQ(RuleOf(s), rule) << s.ToString();
    EXPECT_NE(s.message().find(kCase), std::string::npos) << s.ToString();
    EXPECT_EQ(Version(kCase), before) << "a refused command wrote events";
  }
};

// --- works before approval (HGCRA 1996 s.29) ---

TEST_F(DfgRulesTest, DfgWorksStartedBeforeApprovalAreRefused) {
  ASSERT_TRUE(Record(kCase, {Chosen("2018-05-01")}).ok());
  ExpectRefused("works-before-approval", {Started("2018-05-10")});
  // Nor may works be dated before an approval recorded after them.
  ASSERT_TRUE(Record(kCase, {Approved("2018-06-01", 500000)}).ok());
  ExpectRefused("works-before-approval", {Started("2018-05-20")});
  Status s = Record(kCase, {Started("2018-06-01")});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DfgRulesTest, AnUrgentExemptionRecordedBeforeLetsWorksStartBeforeApproval) {
  ASSERT_TRUE(Record(kCase, {Chosen("2018-05-01")}).ok());
  // Dated after the works: it does not cover them.
  ASSERT_TRUE(Record(kCase, {Exemption("2018-05-12")}).ok());
  ExpectRefused("works-before-approval", {Started("2018-05-10")});
  Status s = Record(kCase, {Started("2018-05-12")});
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(FormatDate(*state->lines[0].urgent_exemption_on), "2018-05-12");
}

TEST_F(DfgRulesTest, AnUrgentExemptionNeedsItsReasonAndWhoAgreedAndComesBeforeTheWorks) {
  ExpectRefused("urgent-exemption", {Exemption("2018-05-01", "")});
  ExpectRefused("service-line", {E(R"({"type":"UrgentWorksExemptionRecorded","facts":{"recordedOn":"2018-05-01",
                                      "line":2,"reasonCode":"endOfLife","authorisedByRole":"manager"}})")});
  ASSERT_TRUE(Record(kCase, {Approved("2018-05-01", 500000), Started("2018-05-02")}).ok());
  ExpectRefused("urgent-exemption", {Exemption("2018-05-03")});
}

TEST_F(DfgRulesTest, AGrantTypeDecidesWhetherALineIsADfg) {
  // A discretionary DFG applied for on an adaptations line is a DFG line.
  ASSERT_TRUE(Record(kCase, {Line(2, "healthierSaferHomes", "standardAdaptation"),
                             E(R"({"type":"GrantApplicationMade","facts":{"submittedOn":"2018-05-01","line":2,
                                   "grantType":"discretionaryDfg","validOn":"2018-05-01"}})")})
                  .ok());
  ExpectRefused("works-before-approval",
                {E(R"({"type":"WorksStarted","facts":{"startedOn":"2018-05-10","line":2}})")});
  // A dementia dwelling grant (the authority's own assistance, RRO 2002) is
  // not under s.29: its works may start when the authority's policy says.
  ASSERT_TRUE(Record(kCase, {Line(3, "healthierSaferHomes", "dementiaDwellingGrant"),
                             E(R"({"type":"WorksStarted","facts":{"startedOn":"2018-05-10","line":3}})")})
                  .ok());
  // A minor adaptation line has no grant.
  EXPECT_TRUE(Record(kCase, {Line(4, "minorAdaptationsHandyperson", "minorAdaptation"),
                             E(R"({"type":"WorksStarted","facts":{"startedOn":"2018-05-10","line":4}})")})
                  .ok());
}

// --- payments within the approved amount plus variations ---

TEST_F(DfgRulesTest, PaymentsOverTheApprovedAmountAreRefused) {
  ExpectRefused("payment-over-approved", {Paid("2018-05-01", 100)});  // nothing approved yet
  ASSERT_TRUE(Record(kCase, {Approved("2018-05-01", 500000), Paid("2018-06-01", 300000)}).ok());
  ExpectRefused("payment-over-approved", {Paid("2018-07-01", 200001)});
  // Two payments of one batch are added up.
  ExpectRefused("payment-over-approved", {Paid("2018-07-01", 100000), Paid("2018-07-02", 100001)});
  Status s = Record(kCase, {Paid("2018-07-01", 200000)});
  EXPECT_TRUE(s.ok()) << s.ToString();
  // A new approval below what was paid is refused too.
  ExpectRefused("payment-over-approved", {Approved("2018-07-05", 400000)});
}

TEST_F(DfgRulesTest, AVariationRaisesTheCeilingAndCannotTakeItBelowWhatWasPaid) {
  ASSERT_TRUE(Record(kCase, {Approved("2018-05-01", 500000), Paid("2018-06-01", 450000)}).ok());
  ExpectRefused("payment-over-approved", {Paid("2018-07-01", 100000)});
  ASSERT_TRUE(Record(kCase, {Variation("2018-06-20", 60000)}).ok());
  Status s = Record(kCase, {Paid("2018-07-01", 100000)});
  EXPECT_TRUE(s.ok()) << s.ToString();
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->lines[0].granted_pence(), 560000);
  EXPECT_EQ(state->lines[0].paid_pence, 550000u);
  // A decrease below the 550,000 paid is refused; to 550,000 is allowed.
  ExpectRefused("payment-over-approved", {Variation("2018-07-10", -10001, "worksReduced")});
  s = Record(kCase, {Variation("2018-07-10", -10000, "worksReduced")});
  EXPECT_TRUE(s.ok()) << s.ToString();
  ExpectRefused("payment-over-approved", {Paid("2018-07-11", 1)});
}

TEST_F(DfgRulesTest, AVariationNeedsAnApprovalAnAmountAndAReason) {
  ExpectRefused("grant-variation", {Variation("2018-05-01", 1000)});  // nothing approved
  ASSERT_TRUE(Record(kCase, {Approved("2018-05-01", 500000)}).ok());
  ExpectRefused("grant-variation", {Variation("2018-04-30", 1000)});  // before the approval
  ExpectRefused("grant-variation", {Variation("2018-05-02", 0)});
  ExpectRefused("grant-variation", {Variation("2018-05-02", 1000, "")});
}

// --- payee and client contribution ---

TEST_F(DfgRulesTest, APaymentNamesItsPayee) {
  ASSERT_TRUE(Record(kCase, {Approved("2018-05-01", 500000), Chosen("2018-05-02")}).ok());
  ExpectRefused("payment-payee", {Paid("2018-06-01", 1000, "")});
  ExpectRefused("payment-payee", {Paid("2018-06-01", 1000, R"("agent")")});  // no payeeRef
  // To a contractor: the one chosen on the line.
  ExpectRefused("payment-payee", {Paid("2018-06-01", 1000, R"("contractor","payeeRef":"C-OTHER")")});
  EXPECT_TRUE(Record(kCase, {Paid("2018-06-01", 1000, R"("client")")}).ok());
  EXPECT_TRUE(Record(kCase, {Paid("2018-06-02", 1000)}).ok());
}

TEST_F(DfgRulesTest, ADfgApprovalRecordsTheContributionTheMeansTestAssessed) {
  ASSERT_TRUE(Record(kCase, {E(R"({"type":"MeansTestCompleted","facts":{"completedOn":"2018-04-25","line":1,
                                   "result":"contribution","contributionPence":120000}})")})
                  .ok());
  ExpectRefused("client-contribution", {Approved("2018-05-01", 500000)});
  ExpectRefused("client-contribution", {Approved("2018-05-01", 500000, R"(,"clientContributionPence":120001)")});
  Status s = Record(kCase, {Approved("2018-05-01", 500000, R"(,"clientContributionPence":120000)")});
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(recorder_->Load(kCase)->lines[0].client_contribution_pence, 120000u);
}

// --- the vetted contractors ---

TEST_F(DfgRulesTest, AContractorNotVettedOnTheDayIsRefused) {
  ExpectRefused("contractor-not-vetted", {Chosen("2018-05-01", "C-NEVER")});
  ExpectRefused("contractor-not-vetted", {Chosen("2017-12-31")});  // before its vetting
  ASSERT_TRUE(Vet("C-SHORT", "2018-01-01", "2018-04-30").ok());
  ExpectRefused("contractor-not-vetted", {Chosen("2018-05-01", "C-SHORT")});  // expired
  Status s = Record(kCase, {Chosen("2018-04-30", "C-SHORT")});
  EXPECT_TRUE(s.ok()) << s.ToString();
  // The works start after the vetting expired: refused too.
  ASSERT_TRUE(Record(kCase, {Approved("2018-04-30", 500000)}).ok());
  ExpectRefused("contractor-not-vetted", {Started("2018-05-01")});
  // Vetted again (renewed insurance): the works may start.
  ASSERT_TRUE(Vet("C-SHORT", "2018-05-01", "2019-04-30").ok());
  s = Record(kCase, {Started("2018-05-01")});
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DfgRulesTest, ARemovedContractorIsRefusedFromTheDayOfRemoval) {
  ASSERT_TRUE(Remove("C-ACME", "2018-06-01").ok());
  EXPECT_TRUE(Record(kCase, {Chosen("2018-05-31")}).ok());  // chosen before the removal
  ExpectRefused("contractor-not-vetted", {Chosen("2018-06-01")});
}

TEST_F(DfgRulesTest, TheContractorListTakesOnlyWellFormedVettingsAndRemovals) {
  auto refused = [&](const std::string& rule, const std::string& json) {
    uint64_t before = Version(kContractorsStream);
    auto r = RecordContractors(*store_, *codec_, ExpectedVersion::Any(), {E(json)}, today_);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(RuleOf(r.status()), rule) << r.status().ToString();
    EXPECT_NE(r.status().message().find(kContractorsStream), std::string::npos) << r.status().ToString();
    EXPECT_EQ(Version(kContractorsStream), before);
  };
  refused("contractor-vetting",
          R"({"type":"ContractorVetted","facts":{"vettedOn":"2018-01-01","contractorRef":"C-1","expiresOn":"2019-01-01"}})");
  refused("contractor-vetting",
          R"({"type":"ContractorVetted","facts":{"vettedOn":"2018-01-01","contractorRef":"C-1","checks":["references"]}})");
  refused("contractor-vetting", R"({"type":"ContractorVetted","facts":{"vettedOn":"2018-01-01","contractorRef":"C-1",
                                    "checks":["references"],"expiresOn":"2017-12-31"}})");
  refused("contractor-vetting", R"({"type":"ContractorVetted","facts":{"vettedOn":"2018-01-01",
                                    "checks":["references"],"expiresOn":"2019-12-31"}})");
  refused("date-in-future", R"({"type":"ContractorVetted","facts":{"vettedOn":"2019-04-01","contractorRef":"C-1",
                                "checks":["references"],"expiresOn":"2020-12-31"}})");
  refused("contractor-not-listed",
          R"({"type":"ContractorRemoved","facts":{"removedOn":"2018-06-01","contractorRef":"C-NEVER","reasonCode":"poorWork"}})");
  refused("contractor-removal-reason",
          R"({"type":"ContractorRemoved","facts":{"removedOn":"2018-06-01","contractorRef":"C-ACME"}})");
  refused("contractor-stream", R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2018-05-01"}})");
  ASSERT_TRUE(Remove("C-ACME", "2018-06-01").ok());
  refused("contractor-not-listed",  // already removed
          R"({"type":"ContractorRemoved","facts":{"removedOn":"2018-07-01","contractorRef":"C-ACME","reasonCode":"poorWork"}})");
  // The JSON form refuses a check outside its list, naming the field.
  NewEvent e;
  Status s = codec_->FromJson(R"({"type":"ContractorVetted","facts":{"vettedOn":"2018-01-01","contractorRef":"C-1",
                                  "checks":["goodVibes"],"expiresOn":"2019-12-31"}})",
                              &e);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("facts.checks"), std::string::npos) << s.ToString();
  s = codec_->FromJson(R"({"type":"WorksPaid","facts":{"paidOn":"2018-01-01","line":1,"payee":"cousin"}})", &e);
  EXPECT_NE(s.message().find("facts.payee"), std::string::npos) << s.ToString();
  s = codec_->FromJson(R"({"type":"GrantVariationApproved","facts":{"approvedOn":"2018-01-01","line":1,"why":"x"}})", &e);
  EXPECT_NE(s.message().find("facts.why"), std::string::npos) << s.ToString();
}

// Events written before the payee, the contribution and the variations were
// kept fold as before: absent is unspecified and 0.
TEST_F(DfgRulesTest, EventsWithoutTheNewFieldsStillFold) {
  ASSERT_TRUE(Record(kCase, {Approved("2018-05-01", 500000)}).ok());
  // A payment as an older writer stored it: no payee (appended directly,
  // as it was before the rule).
  NewEvent old = Paid("2018-06-01", 200000, "");
  ASSERT_TRUE(store_->Append(kCase, ExpectedVersion::Any(), {old}).ok());
  auto state = recorder_->Load(kCase);
  ASSERT_TRUE(state.ok()) << state.status().ToString();
  EXPECT_EQ(state->lines[0].paid_pence, 200000u);
  EXPECT_EQ(state->lines[0].client_contribution_pence, 0u);
  EXPECT_EQ(state->lines[0].granted_pence(), 500000);
  // ... and the case goes on under the rules.
  EXPECT_TRUE(Record(kCase, {Paid("2018-07-01", 300000, R"("client")")}).ok());
}

}  // namespace
}  // namespace hearth::domain::testing
