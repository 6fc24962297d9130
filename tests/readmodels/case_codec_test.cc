// The binary form of a CaseState: every field survives, the bytes are
// deterministic, and damaged bytes are refused rather than misread.
#include <gtest/gtest.h>

#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

domain::CaseState Full() {
  domain::CaseState s;
  s.case_id = "case/D3/000123";
  s.version = 42;
  s.last_position = 1234567890123ull;
  s.client = "P-000123";
  s.people = {{"P-000123", "client"}, {"P-000124", "carer"}};
  s.district = "D3";
  s.team = "T-north";
  s.age_band = "75-84";
  s.tenure = "ownerOccupier";
  s.enquiry_on = D("2018-04-03");
  s.channel = "phone";
  s.referrer_type = "occupationalTherapist";
  s.referral_on = D("2018-04-05");
  s.consent_basis = "given";
  s.self_referral = true;
  s.consents = {{"referOn", "", D("2018-04-05")}, {"involveNamedPerson", "P-000124", D("2018-04-06")}};
  s.first_visit_booked_for = D("2018-04-20");
  s.first_visit_confirmed_on = D("2018-04-07");
  s.first_visit_on = D("2018-04-21");
  s.assessed_on = D("2018-04-22");
  s.rights_confirmed_on = D("2018-04-23");
  s.plan_agreed_on = D("2018-04-24");
  s.plan_review_on = D("2018-10-24");
  s.plan_changes = 2;
  domain::ServiceLine l;
  l.line = 1;
  l.element = "mandatoryDfg";
  l.service = "mandatoryDfg";
  l.opened_on = D("2018-04-25");
  l.closed_on = D("2019-01-10");
  l.result = "delivered";
  l.ot_priority = 1;
  l.urgency = "urgent";
  l.means_tested_on = D("2018-05-01");
  l.application_on = D("2018-05-02");
  l.valid_on = D("2018-05-03");
  l.approved_on = D("2018-06-01");
  l.refused_on = D("2018-06-02");
  l.approved_pence = 3200000;
  l.top_up_pence = 200000;
  l.specified_on = D("2018-05-10");
  l.contractor_on = D("2018-06-10");
  l.started_on = D("2018-07-01");
  l.completed_on = D("2018-08-01");
  l.paid_on = D("2018-09-01");
  l.paid_pence = 3100000;
  l.delayed_stage = "works";
  l.land_charge_registered_on = D("2018-08-10");
  l.land_charge_released_on = D("2019-02-01");
  s.lines.push_back(l);
  domain::ServiceLine m;
  m.line = 2;
  m.element = "minorAdaptationsHandyperson";
  m.service = "minorAdaptation";
  m.opened_on = D("1969-12-31");  // before the epoch: negative day numbers
  s.lines.push_back(m);
  s.outcomes = {"remainAtHome", "reduceOrPreventFall"};
  s.complaints = 2;
  domain::Complaint k1;
  k1.number = 1;
  k1.stage = "stage2";
  k1.received_on = D("2018-06-01");
  k1.stage_on = D("2018-07-02");
  k1.responded_on = D("2018-07-20");
  k1.result = "partlyUpheld";
  domain::Complaint k2;
  k2.number = 2;
  k2.stage = "informal";
  k2.received_on = k2.stage_on = D("2018-09-03");
  s.complaint_list = {k1, k2};
  s.compliments = 3;
  s.safeguarding_concerns = 1;
  s.notes = 17;
  s.disclosures = 4;
  s.satisfaction = 5;
  s.closed = true;
  s.closed_on = D("2019-01-11");
  s.closure_reason = "servicesCompleted";
  s.reopened = 1;
  s.last_activity_on = D("2019-01-11");
  s.onward_referrals = {{1, "fallsPrevention", D("2018-04-22"), false, D("2018-04-23"), "accepted"},
                        {2, "benefitsAdvice", D("2018-04-22"), true, std::nullopt, ""}};
  s.safeguarding = {{1, "adult", "financial", D("2018-05-01"), "adultSocialCare", D("2018-05-01"), D("2018-05-02"), "enquiryOpened"},
                    {0, "", "neglect", D("2018-06-01"), "", std::nullopt, std::nullopt, ""}};
  s.questionnaires = {{1, D("2018-07-01"), D("2018-07-20")}, {0, D("2019-01-12"), std::nullopt}};
  s.worker = "S-D3-07";
  s.allocated_on = D("2018-04-04");
  s.first_allocated_on = D("2018-04-03");
  s.deallocated_on = D("2018-04-03");
  s.follow_up_on = D("2018-05-03");
  s.follow_up_set_on = D("2018-04-03");
  s.follow_up_done_on = D("2018-04-20");
  return s;
}

TEST(CaseCodec, EveryFieldSurvivesARoundTrip) {
  domain::CaseState in = Full();
  std::string bytes = EncodeCaseState(in);
  domain::CaseState out;
  ASSERT_TRUE(DecodeCaseState(bytes, &out).ok());
  EXPECT_EQ(EncodeCaseState(out), bytes);
  EXPECT_EQ(out.case_id, in.case_id);
  EXPECT_EQ(out.last_position, in.last_position);
  EXPECT_EQ(out.people.size(), 2u);
  EXPECT_EQ(out.people[1].role, "carer");
  EXPECT_EQ(out.consents, in.consents);
  EXPECT_EQ(out.first_visit_on, in.first_visit_on);
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_EQ(out.lines[0].top_up_pence, 200000u);
  EXPECT_EQ(out.lines[0].delayed_stage, "works");
  EXPECT_EQ(out.lines[0].refused_on, in.lines[0].refused_on);
  EXPECT_EQ(out.lines[1].opened_on, D("1969-12-31"));
  EXPECT_FALSE(out.lines[1].closed_on.has_value());
  EXPECT_EQ(out.lines[0].land_charge_registered_on, in.lines[0].land_charge_registered_on);
  EXPECT_EQ(out.lines[0].land_charge_released_on, in.lines[0].land_charge_released_on);
  EXPECT_FALSE(out.lines[1].land_charge_registered_on.has_value());
  ASSERT_EQ(out.complaint_list.size(), 2u);
  EXPECT_EQ(out.complaint_list[0].stage, "stage2");
  EXPECT_EQ(out.complaint_list[0].stage_on, in.complaint_list[0].stage_on);
  EXPECT_EQ(out.complaint_list[0].responded_on, in.complaint_list[0].responded_on);
  EXPECT_EQ(out.complaint_list[0].result, "partlyUpheld");
  EXPECT_FALSE(out.complaint_list[1].responded_on.has_value());
  EXPECT_EQ(out.closure_reason, "servicesCompleted");
  EXPECT_EQ(out.last_activity_on, in.last_activity_on);
  EXPECT_TRUE(out.self_referral);
  EXPECT_TRUE(out.closed);
  ASSERT_EQ(out.onward_referrals.size(), 2u);
  EXPECT_EQ(out.onward_referrals[0].destination, "fallsPrevention");
  EXPECT_EQ(out.onward_referrals[0].confirmed_on, in.onward_referrals[0].confirmed_on);
  EXPECT_EQ(out.onward_referrals[0].outcome, "accepted");
  EXPECT_TRUE(out.onward_referrals[1].signposted);
  ASSERT_EQ(out.safeguarding.size(), 2u);
  EXPECT_EQ(out.safeguarding[0].acknowledged_on, in.safeguarding[0].acknowledged_on);
  EXPECT_EQ(out.safeguarding[0].outcome, "enquiryOpened");
  EXPECT_FALSE(out.safeguarding[1].referred_on.has_value());
  ASSERT_EQ(out.questionnaires.size(), 2u);
  EXPECT_EQ(out.questionnaires[0].line, 1u);
  EXPECT_EQ(out.questionnaires[0].sent_on, D("2018-07-01"));
  EXPECT_EQ(out.questionnaires[0].returned_on, in.questionnaires[0].returned_on);
  EXPECT_FALSE(out.questionnaires[1].returned_on.has_value());
  EXPECT_EQ(out.worker, "S-D3-07");
  EXPECT_EQ(out.allocated_on, in.allocated_on);
  EXPECT_EQ(out.first_allocated_on, in.first_allocated_on);
  EXPECT_EQ(out.deallocated_on, in.deallocated_on);
  EXPECT_EQ(out.follow_up_on, in.follow_up_on);
  EXPECT_EQ(out.follow_up_set_on, in.follow_up_set_on);
  EXPECT_EQ(out.follow_up_done_on, in.follow_up_done_on);
}

// Issue 17.5 changed the complaints' encoding (6), and
// kCasesProjectionVersion 6 rebuilds the projection: a state of an older
// encoding is refused with that advice, never misread.
TEST(CaseCodec, AStateOfAnOlderEncodingIsRefusedNotMisread) {
  std::string now = EncodeCaseState(Full());
  ASSERT_EQ(int(now[0]), 6);
  for (int older : {4, 5}) {
    std::string bytes = now;
    bytes[0] = char(older);
    domain::CaseState out;
    Status s = DecodeCaseState(bytes, &out);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.message().find("rebuild the cases projection"), std::string::npos) << s.ToString();
  }
}

TEST(CaseCodec, EachFieldChangesTheBytes) {
  // A field the encoder forgot would leave the bytes unchanged.
  std::string base = EncodeCaseState(Full());
  std::vector<void (*)(domain::CaseState&)> changes = {
      [](domain::CaseState& s) { s.team = "T-south"; },
      [](domain::CaseState& s) { s.first_visit_confirmed_on.reset(); },
      [](domain::CaseState& s) { s.rights_confirmed_on.reset(); },
      [](domain::CaseState& s) { s.plan_changes = 3; },
      [](domain::CaseState& s) { s.lines[0].valid_on.reset(); },
      [](domain::CaseState& s) { s.lines[0].contractor_on.reset(); },
      [](domain::CaseState& s) { s.lines[0].paid_pence = 1; },
      [](domain::CaseState& s) { s.lines[0].ot_priority = 2; },
      [](domain::CaseState& s) { s.lines[0].land_charge_registered_on.reset(); },
      [](domain::CaseState& s) { s.lines[0].land_charge_released_on.reset(); },
      [](domain::CaseState& s) { s.compliments = 0; },
      [](domain::CaseState& s) { s.disclosures = 0; },
      [](domain::CaseState& s) { s.reopened = 0; },
      [](domain::CaseState& s) { s.satisfaction = 1; },
      [](domain::CaseState& s) { s.consents[1].named_person = "P-9"; },
      [](domain::CaseState& s) { s.complaint_list[0].stage = "ombudsman"; },
      [](domain::CaseState& s) { s.complaint_list[0].received_on = D("2018-06-02"); },
      [](domain::CaseState& s) { s.complaint_list[0].stage_on = D("2018-07-03"); },
      [](domain::CaseState& s) { s.complaint_list[0].responded_on.reset(); },
      [](domain::CaseState& s) { s.complaint_list[0].result = "upheld"; },
      [](domain::CaseState& s) { s.complaint_list[1].number = 3; },
      [](domain::CaseState& s) { s.onward_referrals[0].outcome = "serviceProvided"; },
      [](domain::CaseState& s) { s.onward_referrals[1].signposted = false; },
      [](domain::CaseState& s) { s.onward_referrals[0].confirmed_on.reset(); },
      [](domain::CaseState& s) { s.safeguarding[0].acknowledged_on.reset(); },
      [](domain::CaseState& s) { s.safeguarding[0].referred_to = "police"; },
      [](domain::CaseState& s) { s.safeguarding[0].person_type = "child"; },
      [](domain::CaseState& s) { s.questionnaires[0].returned_on.reset(); },
      [](domain::CaseState& s) { s.questionnaires[1].line = 2; },
      [](domain::CaseState& s) { s.questionnaires[1].sent_on = D("2019-01-13"); },
      [](domain::CaseState& s) { s.worker = "S-D3-08"; },
      [](domain::CaseState& s) { s.allocated_on.reset(); },
      [](domain::CaseState& s) { s.first_allocated_on.reset(); },
      [](domain::CaseState& s) { s.deallocated_on.reset(); },
      [](domain::CaseState& s) { s.follow_up_on.reset(); },
      [](domain::CaseState& s) { s.follow_up_set_on.reset(); },
      [](domain::CaseState& s) { s.follow_up_done_on.reset(); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    domain::CaseState s = Full();
    changes[i](s);
    EXPECT_NE(EncodeCaseState(s), base) << "change " << i;
  }
}

TEST(CaseCodec, CaseStateLayoutIsTheOneTheEncoderKnows) {
  // When the domain adds a field to CaseState or ServiceLine this fails:
  // add it to EncodeCaseState / DecodeCaseState, to CaseStateJson, bump
  // kCasesProjectionVersion (or read the older encoding, as for the worker),
  // then update the sizes here.
  EXPECT_EQ(sizeof(domain::ServiceLine), 536u);
  EXPECT_EQ(sizeof(domain::CaseState), 888u);
}

TEST(CaseCodec, DamagedBytesAreRefused) {
  std::string bytes = EncodeCaseState(Full());
  domain::CaseState out;
  for (size_t n = 0; n < bytes.size(); ++n) {
    Status s = DecodeCaseState(std::string_view(bytes).substr(0, n), &out);
    EXPECT_TRUE(s.IsCorruption()) << "prefix of " << n << " bytes: " << s.ToString();
  }
  EXPECT_TRUE(DecodeCaseState(bytes + "x", &out).IsCorruption());
  std::string other = bytes;
  other[0] = 9;  // an encoding version this code does not read
  Status s = DecodeCaseState(other, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("rebuild"), std::string::npos) << s.message();
}

// DecodeCaseState decodes in place (a pass reuses one state's buffers):
// decoding into a state that held another case must give what decoding
// into a new one gives, field for field, lists shorter or longer.
TEST(CaseCodec, DecodingIntoAUsedStateGivesWhatANewOneGets) {
  domain::CaseState bigger = Full();
  bigger.lines.push_back(bigger.lines[0]);
  bigger.lines[1].line = 9;
  bigger.people.push_back({"P-77", "carer"});
  for (domain::ServiceLine& l : bigger.lines) {  // fields this encoding does not keep
    l.grant_type = "discretionaryDfg";
    l.means_test_result = "passported";
    l.assessed_contribution_pence = 5;
    l.client_contribution_pence = 6;
    l.varied_pence = -7;
    l.urgent_exemption_on = D("2018-01-02");
    l.contractor_ref = "C-1";
  }
  domain::CaseState smaller;
  smaller.case_id = "case/D1/000002";
  smaller.version = 3;
  smaller.lines.resize(1);
  smaller.lines[0].line = 1;
  const domain::CaseState full = Full();
  for (const domain::CaseState* from : std::initializer_list<const domain::CaseState*>{&smaller, &bigger, &full}) {
    for (const domain::CaseState* into : std::initializer_list<const domain::CaseState*>{&smaller, &bigger}) {
      std::string bytes = EncodeCaseState(*from);
      domain::CaseState fresh, used = *into;
      ASSERT_TRUE(DecodeCaseState(bytes, &fresh).ok());
      ASSERT_TRUE(DecodeCaseState(bytes, &used).ok());
      EXPECT_EQ(EncodeCaseState(used), EncodeCaseState(fresh));
      ASSERT_EQ(used.lines.size(), fresh.lines.size());
      ASSERT_EQ(used.people.size(), fresh.people.size());
      for (size_t i = 0; i < used.lines.size(); ++i) {
        EXPECT_EQ(used.lines[i].grant_type, fresh.lines[i].grant_type);
        EXPECT_EQ(used.lines[i].means_test_result, fresh.lines[i].means_test_result);
        EXPECT_EQ(used.lines[i].assessed_contribution_pence, fresh.lines[i].assessed_contribution_pence);
        EXPECT_EQ(used.lines[i].client_contribution_pence, fresh.lines[i].client_contribution_pence);
        EXPECT_EQ(used.lines[i].varied_pence, fresh.lines[i].varied_pence);
        EXPECT_EQ(used.lines[i].urgent_exemption_on, fresh.lines[i].urgent_exemption_on);
        EXPECT_EQ(used.lines[i].contractor_ref, fresh.lines[i].contractor_ref);
      }
    }
  }
}

TEST(CaseCodec, EmptyStateRoundTrips) {
  domain::CaseState empty;
  domain::CaseState out = Full();
  ASSERT_TRUE(DecodeCaseState(EncodeCaseState(empty), &out).ok());
  EXPECT_EQ(EncodeCaseState(out), EncodeCaseState(empty));
  EXPECT_TRUE(out.lines.empty());
  EXPECT_FALSE(out.enquiry_on.has_value());
}

}  // namespace
}  // namespace hearth::readmodels::testing
