// The binary form of a CaseState in the `cases` projection (docs/readmodels.md).
//
// Why not JSON or Cap'n Proto: a rebuild encodes a state for every case
// touched in every batch of 1,000 events, and worklists decode every open
// case; a flat varint form is a few hundred bytes, has exactly one encoding
// per state (so rebuilds are byte-identical) and costs well under a
// microsecond each way.
#include <cstring>

#include "base/varint_codec.h"
#include "hearth/domain.h"

namespace hearth::domain {

using base::Reader;
using base::Writer;

namespace {

using domain::CaseState;
using domain::Date;
using domain::ServiceLine;

constexpr uint8_t kFormat = 6;  // 2: the lines' land charge dates; 3: onward referrals; 4: safeguarding concerns;
                                // 5: questionnaires, the worker and the follow-up; 6: each complaint's stage
                                // and dates (kCasesProjectionVersion 6 rebuilds the older ones)

void EncodeLine(Writer& w, const ServiceLine& l) {
  w.Var(l.line);
  w.Str(l.element);
  w.Str(l.service);
  w.Day(l.opened_on);
  w.OptDay(l.closed_on);
  w.Str(l.result);
  w.Var(uint64_t(l.ot_priority));
  w.Str(l.urgency);
  w.OptDay(l.means_tested_on);
  w.OptDay(l.application_on);
  w.OptDay(l.valid_on);
  w.OptDay(l.approved_on);
  w.OptDay(l.refused_on);
  w.Var(l.approved_pence);
  w.Var(l.top_up_pence);
  w.OptDay(l.specified_on);
  w.OptDay(l.contractor_on);
  w.OptDay(l.started_on);
  w.OptDay(l.completed_on);
  w.OptDay(l.paid_on);
  w.Var(l.paid_pence);
  w.Str(l.delayed_stage);
  w.OptDay(l.land_charge_registered_on);
  w.OptDay(l.land_charge_released_on);
}

// Into a line that may hold another's values: every field is set.
void DecodeLine(Reader& r, ServiceLine* l) {
  l->line = uint16_t(r.Var());
  r.Str(&l->element);
  r.Str(&l->service);
  l->opened_on = r.Day();
  l->closed_on = r.OptDay();
  r.Str(&l->result);
  l->ot_priority = int(r.Var());
  r.Str(&l->urgency);
  l->means_tested_on = r.OptDay();
  l->application_on = r.OptDay();
  l->valid_on = r.OptDay();
  l->approved_on = r.OptDay();
  l->refused_on = r.OptDay();
  l->approved_pence = uint32_t(r.Var());
  l->top_up_pence = uint32_t(r.Var());
  l->specified_on = r.OptDay();
  l->contractor_on = r.OptDay();
  l->started_on = r.OptDay();
  l->completed_on = r.OptDay();
  l->paid_on = r.OptDay();
  l->paid_pence = uint32_t(r.Var());
  r.Str(&l->delayed_stage);
  l->land_charge_registered_on = r.OptDay();
  l->land_charge_released_on = r.OptDay();
  // Not in this encoding (format 6): left as a new line has them.
  l->grant_type.clear();
  l->means_test_result.clear();
  l->assessed_contribution_pence = 0;
  l->client_contribution_pence = 0;
  l->varied_pence = 0;
  l->urgent_exemption_on.reset();
  l->contractor_ref.clear();
}

}  // namespace

std::string EncodeCaseState(const CaseState& s) {
  std::string out;
  out.reserve(256);
  Writer w(&out);
  w.U8(kFormat);
  w.Str(s.case_id);
  w.Var(s.version);
  w.Var(s.last_position);
  w.Str(s.client);
  w.Var(s.people.size());
  for (const auto& p : s.people) {
    w.Str(p.subject);
    w.Str(p.role);
  }
  w.Str(s.district);
  w.Str(s.team);
  w.Str(s.age_band);
  w.Str(s.tenure);
  w.OptDay(s.enquiry_on);
  w.Str(s.channel);
  w.Str(s.referrer_type);
  w.OptDay(s.referral_on);
  w.Str(s.consent_basis);
  w.U8(s.self_referral ? 1 : 0);
  w.Var(s.consents.size());
  for (const auto& c : s.consents) {
    w.Str(c.scope);
    w.Str(c.named_person);
    w.Day(c.given_on);
  }
  w.OptDay(s.first_visit_booked_for);
  w.OptDay(s.first_visit_confirmed_on);
  w.OptDay(s.first_visit_on);
  w.OptDay(s.assessed_on);
  w.OptDay(s.rights_confirmed_on);
  w.OptDay(s.plan_agreed_on);
  w.OptDay(s.plan_review_on);
  w.Var(s.plan_changes);
  w.Var(s.lines.size());
  for (const auto& l : s.lines) EncodeLine(w, l);
  w.Var(s.outcomes.size());
  for (const auto& o : s.outcomes) w.Str(o);
  w.Var(s.complaints);
  w.Var(s.complaint_list.size());
  for (const auto& c : s.complaint_list) {
    w.Var(c.number);
    w.Str(c.stage);
    w.Day(c.received_on);
    w.Day(c.stage_on);
    w.OptDay(c.responded_on);
    w.Str(c.result);
  }
  w.Var(s.compliments);
  w.Var(s.safeguarding_concerns);
  w.Var(s.notes);
  w.Var(s.disclosures);
  w.Var(uint64_t(s.satisfaction));
  w.U8(s.closed ? 1 : 0);
  w.OptDay(s.closed_on);
  w.Str(s.closure_reason);
  w.Var(s.reopened);
  w.OptDay(s.last_activity_on);
  w.Var(s.onward_referrals.size());
  for (const auto& o : s.onward_referrals) {
    w.Var(o.number);
    w.Str(o.destination);
    w.Day(o.referred_on);
    w.U8(o.signposted ? 1 : 0);
    w.OptDay(o.confirmed_on);
    w.Str(o.outcome);
  }
  w.Var(s.safeguarding.size());
  for (const auto& c : s.safeguarding) {
    w.Var(c.number);
    w.Str(c.person_type);
    w.Str(c.category);
    w.Day(c.raised_on);
    w.Str(c.referred_to);
    w.OptDay(c.referred_on);
    w.OptDay(c.acknowledged_on);
    w.Str(c.outcome);
  }
  w.Var(s.questionnaires.size());
  for (const auto& q : s.questionnaires) {
    w.Var(q.line);
    w.Day(q.sent_on);
    w.OptDay(q.returned_on);
  }
  w.Str(s.worker);
  w.OptDay(s.allocated_on);
  w.OptDay(s.first_allocated_on);
  w.OptDay(s.deallocated_on);
  w.OptDay(s.follow_up_on);
  w.OptDay(s.follow_up_set_on);
  w.OptDay(s.follow_up_done_on);
  return out;
}

// Into `out` in place: its strings and vectors keep their buffers, so a pass
// that decodes state after state into one object allocates little.
Status DecodeCaseState(std::string_view bytes, CaseState* out) {
  Reader r(bytes);
  uint8_t format = r.U8();
  if (!r.ok() || format != kFormat) {
    return Status::Corruption("case state: encoding " + std::to_string(format) +
                              " is not the one this code reads (" + std::to_string(kFormat) +
                              "); rebuild the cases projection");
  }
  CaseState& s = *out;
  r.Str(&s.case_id);
  s.version = r.Var();
  s.last_position = r.Var();
  r.Str(&s.client);
  s.people.resize(r.Count());
  for (domain::CasePerson& p : s.people) {
    r.Str(&p.subject);
    r.Str(&p.role);
  }
  r.Str(&s.district);
  r.Str(&s.team);
  r.Str(&s.age_band);
  r.Str(&s.tenure);
  s.enquiry_on = r.OptDay();
  r.Str(&s.channel);
  r.Str(&s.referrer_type);
  s.referral_on = r.OptDay();
  r.Str(&s.consent_basis);
  s.self_referral = r.U8() != 0;
  s.consents.resize(r.Count());
  for (domain::ActiveConsent& c : s.consents) {
    r.Str(&c.scope);
    r.Str(&c.named_person);
    c.given_on = r.Day();
  }
  s.first_visit_booked_for = r.OptDay();
  s.first_visit_confirmed_on = r.OptDay();
  s.first_visit_on = r.OptDay();
  s.assessed_on = r.OptDay();
  s.rights_confirmed_on = r.OptDay();
  s.plan_agreed_on = r.OptDay();
  s.plan_review_on = r.OptDay();
  s.plan_changes = uint32_t(r.Var());
  s.lines.resize(r.Count());
  for (ServiceLine& l : s.lines) DecodeLine(r, &l);
  s.outcomes.resize(r.Count());
  for (std::string& o : s.outcomes) r.Str(&o);
  s.complaints = uint32_t(r.Var());
  s.complaint_list.resize(r.Count());
  for (domain::Complaint& c : s.complaint_list) {
    c.number = uint16_t(r.Var());
    r.Str(&c.stage);
    c.received_on = r.Day();
    c.stage_on = r.Day();
    c.responded_on = r.OptDay();
    r.Str(&c.result);
  }
  s.compliments = uint32_t(r.Var());
  s.safeguarding_concerns = uint32_t(r.Var());
  s.notes = uint32_t(r.Var());
  s.disclosures = uint32_t(r.Var());
  s.satisfaction = int(r.Var());
  s.closed = r.U8() != 0;
  s.closed_on = r.OptDay();
  r.Str(&s.closure_reason);
  s.reopened = uint32_t(r.Var());
  s.last_activity_on = r.OptDay();
  s.onward_referrals.resize(r.Count());
  for (domain::OnwardReferral& o : s.onward_referrals) {
    o.number = uint16_t(r.Var());
    r.Str(&o.destination);
    o.referred_on = r.Day();
    o.signposted = r.U8() != 0;
    o.confirmed_on = r.OptDay();
    r.Str(&o.outcome);
  }
  s.safeguarding.resize(r.Count());
  for (domain::SafeguardingConcern& c : s.safeguarding) {
    c.number = uint16_t(r.Var());
    r.Str(&c.person_type);
    r.Str(&c.category);
    c.raised_on = r.Day();
    r.Str(&c.referred_to);
    c.referred_on = r.OptDay();
    c.acknowledged_on = r.OptDay();
    r.Str(&c.outcome);
  }
  s.questionnaires.resize(r.Count());
  for (domain::Questionnaire& q : s.questionnaires) {
    q.line = uint16_t(r.Var());
    q.sent_on = r.Day();
    q.returned_on = r.OptDay();
  }
  r.Str(&s.worker);
  s.allocated_on = r.OptDay();
  s.first_allocated_on = r.OptDay();
  s.deallocated_on = r.OptDay();
  s.follow_up_on = r.OptDay();
  s.follow_up_set_on = r.OptDay();
  s.follow_up_done_on = r.OptDay();
  if (!r.done()) {
    return Status::Corruption("case state: " + std::string(r.ok() ? "trailing bytes" : "truncated") +
                              (s.case_id.empty() ? std::string() : " (" + s.case_id + ")"));
  }
  return Status::OK();
}

}  // namespace hearth::domain
