// Target groups and equality (issue 16.3; docs/exports.md "Target groups and
// equality", docs/domain.md "Equality codes"): the KPI return breaks
// enquiries, DFGs approved and minor-adaptation households down by each
// person's codes, counting "declined" (preferNotToSay) and "not recorded"
// (unspecified, what an event written before the fields existed reads as) as
// categories of their own, on a county whose people the test knows.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include "domain.capnp.h"
#include "domain/tables.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "readmodels_test_util.h"

namespace hearth::exports {
namespace {

namespace cs = ::hearth::schema::domain;

class EqualityTest : public readmodels::testing::ReadModelTest {
 protected:
  // A client's registration with `codes` (the inside of a JSON object, or
  // empty for none of the equality fields).
  NewEvent Registered(const std::string& client, const std::string& age_band, const std::string& codes) {
    return E(R"({"type":"PersonRegistered","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
             R"("facts":{"registeredOn":"2018-04-11","ageBand":")" + age_band + "\"" +
             (codes.empty() ? "" : "," + codes) + R"(},"personal":[{"subject":")" + client +
             R"(","role":"client","details":{"givenName":"Testina"}}]})");
  }

  // D1, 2018/19-Q1:
  //   P-1 codes recorded, with a DFG approved;
  //   P-2 declined every question, with a minor adaptation completed;
  //   P-3 registered by an older writer: none of the equality fields;
  //   P-4 never registered;
  //   P-2 again, on a second case with another minor adaptation completed
  //   (the same household: counted once, under the codes P-2 gave on the
  //   first case).
  void BuildCounty() {
    Open();
    Record("case/D1/1",
           {Enquiry("2018-04-10", "P-1", "D1"),
            Registered("P-1", "75-84",
                       R"("gender":"female","disability":"limitedALot","ethnicity":"asianIndian",)"
                       R"("mainLanguage":"urdu","interpreterNeeded":"yes","unpaidCarer":"no",)"
                       R"("mentalHealth":"no","learningDisability":"no")"),
            Ev("ServiceElementOpened", R"("openedOn":"2018-04-12","line":1,"element":"mandatoryDfg",)"
                                       R"("service":"mandatoryDfg")"),
            Ev("GrantApproved", R"("approvedOn":"2018-05-01","line":1,"grantType":"mandatoryDfg",)"
                                R"("amountPence":500000,"fundingSource":"mandatoryDfg")")});
    Record("case/D1/2",
           {Enquiry("2018-04-10", "P-2", "D1"),
            Registered("P-2", "85+",
                       R"("gender":"preferNotToSay","disability":"preferNotToSay","ethnicity":"preferNotToSay",)"
                       R"("mainLanguage":"preferNotToSay","interpreterNeeded":"preferNotToSay",)"
                       R"("unpaidCarer":"preferNotToSay","mentalHealth":"preferNotToSay",)"
                       R"("learningDisability":"preferNotToSay")"),
            Ev("ServiceElementOpened", R"("openedOn":"2018-04-12","line":1,"element":"minorAdaptationsHandyperson",)"
                                       R"("service":"minorAdaptation")"),
            Ev("WorksCompleted", R"("completedOn":"2018-05-02","line":1,"finalCostPence":12000)")});
    Record("case/D1/3", {Enquiry("2018-04-10", "P-3", "D1"), OldRegistration("P-3")});
    Record("case/D1/4", {Enquiry("2018-04-10", "P-4", "D1")});
    Record("case/D1/5",
           {Enquiry("2018-05-10", "P-2", "D1"),
            Ev("ServiceElementOpened", R"("openedOn":"2018-05-12","line":1,"element":"minorAdaptationsHandyperson",)"
                                       R"("service":"minorAdaptation")"),
            Ev("WorksCompleted", R"("completedOn":"2018-06-02","line":1,"finalCostPence":9000)")});
  }

  // PersonRegistered as a writer that predates the equality fields encodes
  // it: only registeredOn, ageBand, gender, tenure, livesAlone, hasCarer.
  NewEvent OldRegistration(const std::string& client) {
    NewEvent e = Registered(client, "65-74", R"("gender":"male","tenure":"councilTenant")");
    capnp::MallocMessageBuilder m(128);
    auto p = m.initRoot<cs::Facts>().initPersonRegistered();
    p.setRegisteredOn("2018-04-11");
    p.setAgeBand("65-74");
    p.setGender(cs::Gender::MALE);
    p.setTenure(cs::Tenure::COUNCIL_TENANT);
    e.facts = domain::ToPacked(m);
    return e;
  }

  KpiReturn Kpi() {
    auto kpi = BuildKpiReturn(*store_, *codec_, domain::Calendar::EnglandAndWales(), *ParsePeriod("2018/19-Q1"),
                              *ParsePolicy("none"), KpiOptions{});
    EXPECT_TRUE(kpi.ok()) << kpi.status().ToString();
    return kpi.ok() ? *kpi : KpiReturn{};
  }

  static int64_t Value(const KpiReturn& kpi, const std::string& figure, const std::string& area = "D1") {
    size_t a = std::find(kpi.areas.begin(), kpi.areas.end(), area) - kpi.areas.begin();
    for (const auto& t : kpi.tables) {
      for (const auto& f : t.figures) {
        if (f.id == figure && a < f.cells.size()) return f.cells[a].value;
      }
    }
    ADD_FAILURE() << "no figure " << figure << " in " << area;
    return -1;
  }
};

const char* const kFlags[] = {"interpreterNeeded", "unpaidCarer", "mentalHealth", "learningDisability"};

TEST_F(EqualityTest, DeclinedIsCountedAsItsOwnCategory) {
  BuildCounty();
  KpiReturn kpi = Kpi();
  EXPECT_EQ(Value(kpi, "enquiries.total"), 5);
  // P-2 declined every question: two enquiries in each "declined" (the
  // second case has no registration of its own: a person's codes are the
  // person's, whichever case is counted).
  for (const char* field : {"gender", "disability", "ethnicGroup", "mainLanguage", "interpreterNeeded",
                            "unpaidCarer", "mentalHealth", "learningDisability"}) {
    EXPECT_EQ(Value(kpi, std::string("enquiries.") + field + ".declined"), 2) << field;
  }
  EXPECT_EQ(Value(kpi, "enquiries.disability.limitedALot"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.ethnicGroup.asian"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.mainLanguage.urdu"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.interpreterNeeded.yes"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.unpaidCarer.no"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.ageBand.85+"), 2);
  EXPECT_EQ(Value(kpi, "enquiries.gender.female"), 1);
  // The household with two minor adaptations declined, and counts once; the
  // DFG's client did not decline.
  EXPECT_EQ(Value(kpi, "services.minorAdaptationHouseholds"), 1);
  EXPECT_EQ(Value(kpi, "services.minorAdaptations.ethnicGroup.declined"), 1);
  EXPECT_EQ(Value(kpi, "services.minorAdaptations.ethnicGroup.notRecorded"), 0);
  EXPECT_EQ(Value(kpi, "services.minorAdaptations.ageBand.85+"), 1);
  EXPECT_EQ(Value(kpi, "dfg.approved.total"), 1);
  EXPECT_EQ(Value(kpi, "dfg.approved.disability.limitedALot"), 1);
  EXPECT_EQ(Value(kpi, "dfg.approved.disability.declined"), 0);
  EXPECT_EQ(Value(kpi, "dfg.approved.mainLanguage.urdu", "county"), 1);
}

TEST_F(EqualityTest, AnOlderRegistrationWithoutTheFieldsReadsAsNotRecorded) {
  BuildCounty();
  // Read back, the older event has every equality code unspecified.
  auto events = store_->ReadStream("case/D1/3", 1, Direction::kForward, 10);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  domain::FactsDecoder decoder(&codec_->tables());
  cs::Facts::Reader facts;
  const domain::TypeEntry* type = nullptr;
  ASSERT_TRUE(decoder.Decode((*events)[1], &facts, &type).ok());
  auto p = facts.getPersonRegistered();
  EXPECT_EQ(p.getEthnicity(), cs::Ethnicity::UNSPECIFIED);
  EXPECT_EQ(p.getDisability(), cs::Disability::UNSPECIFIED);
  EXPECT_EQ(p.getLearningDisability(), cs::YesNo::UNSPECIFIED);
  KpiReturn kpi = Kpi();
  // P-3 (older registration) and P-4 (none): not recorded; P-3's age band
  // and gender are.
  for (const char* field : {"disability", "ethnicGroup", "mainLanguage", "interpreterNeeded", "unpaidCarer",
                            "mentalHealth", "learningDisability"}) {
    EXPECT_EQ(Value(kpi, std::string("enquiries.") + field + ".notRecorded"), 2) << field;
  }
  EXPECT_EQ(Value(kpi, "enquiries.ageBand.65-74"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.ageBand.notRecorded"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.gender.male"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.gender.notRecorded"), 1);
  for (const char* flag : kFlags) EXPECT_EQ(Value(kpi, std::string("enquiries.") + flag + ".yes") +
                                                Value(kpi, std::string("enquiries.") + flag + ".no"),
                                            1)
      << flag;
}

// A correction moves a person between categories (PersonDetailsRectified
// names only the codes it changes); the breakdown still adds up.
TEST_F(EqualityTest, ACorrectionMovesThePersonToTheCorrectedCategory) {
  BuildCounty();
  Record("case/D1/1",
         {E(R"({"type":"PersonDetailsRectified","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
            R"("subjects":[{"id":"P-1","role":"client"}],)"
            R"("facts":{"rectifiedOn":"2018-06-01","fields":["disability"],"disability":"preferNotToSay"}})")});
  KpiReturn kpi = Kpi();
  EXPECT_EQ(Value(kpi, "enquiries.disability.limitedALot"), 0);
  EXPECT_EQ(Value(kpi, "enquiries.disability.declined"), 3);
  EXPECT_EQ(Value(kpi, "dfg.approved.disability.declined"), 1);
  EXPECT_EQ(Value(kpi, "enquiries.ethnicGroup.asian"), 1);  // unchanged
}

}  // namespace
}  // namespace hearth::exports
