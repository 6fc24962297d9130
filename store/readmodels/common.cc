#include "readmodels/common.h"

#include <ctime>

#include "readmodels/describe.h"

namespace hearth::readmodels {

using domain::CaseState;
using domain::FormatDate;

std::string FormatTimestamp(Timestamp t) {
  int64_t secs = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
  int64_t micros = t - secs * 1000000;
  std::time_t tt = std::time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

std::string HexOf(const Hash& hash) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

Status NormaliseCaseId(const std::string& in, std::string* out) {
  std::string id = in.starts_with("case/") ? in : "case/" + in;
  Status s = domain::CaseRecorder::ValidCaseId(id);
  if (!s.ok()) return Status::InvalidArgument("case id '" + in + "': " + s.message());
  *out = std::move(id);
  return Status::OK();
}

namespace {

void PutDate(OJson& j, const char* key, const std::optional<domain::Date>& d) {
  if (d) j[key] = FormatDate(*d);
}
void PutStr(OJson& j, const char* key, const std::string& s) {
  if (!s.empty()) j[key] = s;
}

}  // namespace

OJson CaseStateJson(const CaseState& s) {
  OJson j = OJson::object();
  j["case"] = s.case_id;
  j["version"] = s.version;
  j["lastPosition"] = s.last_position;
  PutStr(j, "district", s.district);
  PutStr(j, "team", s.team);
  PutStr(j, "client", s.client);
  OJson people = OJson::array();
  for (const auto& p : s.people) people.push_back({{"subject", p.subject}, {"role", p.role}});
  j["people"] = std::move(people);
  PutStr(j, "ageBand", s.age_band);
  PutStr(j, "tenure", s.tenure);
  PutDate(j, "enquiryOn", s.enquiry_on);
  PutStr(j, "channel", s.channel);
  PutStr(j, "referrerType", s.referrer_type);
  PutDate(j, "referralOn", s.referral_on);
  PutStr(j, "consentBasis", s.consent_basis);
  j["selfReferral"] = s.self_referral;
  OJson consents = OJson::array();
  for (const auto& c : s.consents) {
    OJson e = {{"scope", c.scope}, {"givenOn", FormatDate(c.given_on)}};
    if (!c.named_person.empty()) e["namedPerson"] = c.named_person;
    consents.push_back(std::move(e));
  }
  j["consents"] = std::move(consents);
  PutDate(j, "firstVisitBookedFor", s.first_visit_booked_for);
  PutDate(j, "firstVisitConfirmedOn", s.first_visit_confirmed_on);
  PutDate(j, "firstVisitOn", s.first_visit_on);
  PutDate(j, "assessedOn", s.assessed_on);
  PutDate(j, "rightsConfirmedOn", s.rights_confirmed_on);
  PutDate(j, "planAgreedOn", s.plan_agreed_on);
  PutDate(j, "planReviewOn", s.plan_review_on);
  j["planChanges"] = s.plan_changes;
  OJson lines = OJson::array();
  for (const auto& l : s.lines) {
    OJson e = OJson::object();
    e["line"] = l.line;
    PutStr(e, "element", l.element);
    PutStr(e, "service", l.service);
    e["openedOn"] = FormatDate(l.opened_on);
    PutDate(e, "closedOn", l.closed_on);
    PutStr(e, "result", l.result);
    if (l.ot_priority > 0) e["otPriority"] = l.ot_priority;
    PutStr(e, "urgency", l.urgency);
    PutDate(e, "meansTestedOn", l.means_tested_on);
    PutDate(e, "applicationOn", l.application_on);
    PutDate(e, "validOn", l.valid_on);
    PutDate(e, "approvedOn", l.approved_on);
    PutDate(e, "refusedOn", l.refused_on);
    if (l.approved_pence > 0) e["approvedPence"] = l.approved_pence;
    if (l.top_up_pence > 0) e["topUpPence"] = l.top_up_pence;
    PutDate(e, "specifiedOn", l.specified_on);
    PutDate(e, "contractorOn", l.contractor_on);
    PutDate(e, "startedOn", l.started_on);
    PutDate(e, "completedOn", l.completed_on);
    PutDate(e, "paidOn", l.paid_on);
    if (l.paid_pence > 0) e["paidPence"] = l.paid_pence;
    PutStr(e, "delayedStage", l.delayed_stage);
    PutDate(e, "landChargeRegisteredOn", l.land_charge_registered_on);
    PutDate(e, "landChargeReleasedOn", l.land_charge_released_on);
    lines.push_back(std::move(e));
  }
  j["lines"] = std::move(lines);
  j["outcomes"] = s.outcomes;
  j["complaints"] = s.complaints;
  OJson complaint_list = OJson::array();
  for (const auto& c : s.complaint_list) {
    OJson x;
    x["complaint"] = c.number;
    x["stage"] = c.stage;
    x["receivedOn"] = domain::FormatDate(c.received_on);
    x["stageOn"] = domain::FormatDate(c.stage_on);
    if (c.responded_on) {
      x["respondedOn"] = domain::FormatDate(*c.responded_on);
      x["result"] = c.result;
    }
    complaint_list.push_back(std::move(x));
  }
  j["complaintList"] = std::move(complaint_list);
  j["compliments"] = s.compliments;
  j["safeguardingConcerns"] = s.safeguarding_concerns;
  j["notes"] = s.notes;
  j["disclosures"] = s.disclosures;
  if (s.satisfaction > 0) j["satisfaction"] = s.satisfaction;
  j["closed"] = s.closed;
  PutDate(j, "closedOn", s.closed_on);
  PutStr(j, "closureReason", s.closure_reason);
  j["reopened"] = s.reopened;
  PutDate(j, "lastActivityOn", s.last_activity_on);
  if (!s.onward_referrals.empty()) {
    OJson onward = OJson::array();
    for (const auto& o : s.onward_referrals) {
      OJson e = {{"referral", o.number}, {"destination", o.destination}, {"referredOn", FormatDate(o.referred_on)}};
      if (o.signposted) e["signposted"] = true;
      PutDate(e, "confirmedInWritingOn", o.confirmed_on);
      PutStr(e, "outcome", o.outcome);
      onward.push_back(std::move(e));
    }
    j["onwardReferrals"] = std::move(onward);
  }
  if (!s.safeguarding.empty()) {
    OJson concerns = OJson::array();
    for (const auto& c : s.safeguarding) {
      OJson e = {{"concern", c.number}, {"category", c.category}, {"raisedOn", FormatDate(c.raised_on)}};
      PutStr(e, "personType", c.person_type);
      PutStr(e, "referredTo", c.referred_to);
      PutDate(e, "referredOn", c.referred_on);
      PutDate(e, "acknowledgedOn", c.acknowledged_on);
      PutStr(e, "outcome", c.outcome);
      concerns.push_back(std::move(e));
    }
    j["safeguarding"] = std::move(concerns);
  }
  if (!s.questionnaires.empty()) {
    OJson sent = OJson::array();
    for (const auto& q : s.questionnaires) {
      OJson e = {{"line", q.line}, {"sentOn", FormatDate(q.sent_on)}};
      PutDate(e, "returnedOn", q.returned_on);
      sent.push_back(std::move(e));
    }
    j["questionnaires"] = std::move(sent);
  }
  PutStr(j, "worker", s.worker);
  PutDate(j, "allocatedOn", s.allocated_on);
  PutDate(j, "firstAllocatedOn", s.first_allocated_on);
  PutDate(j, "deallocatedOn", s.deallocated_on);
  PutDate(j, "followUpOn", s.follow_up_on);
  PutDate(j, "followUpSetOn", s.follow_up_set_on);
  PutDate(j, "followUpDoneOn", s.follow_up_done_on);
  return j;
}

namespace {

std::string D(const std::optional<domain::Date>& d) { return d ? FormatDate(*d) : "-"; }

}  // namespace

std::string CaseStateText(const CaseState& s, const std::string& in) {
  std::string out;
  out += in + "district " + (s.district.empty() ? "-" : s.district) +
         (s.team.empty() ? "" : ", team " + s.team) + "; client " +
         (s.client.empty() ? "-" : s.client) +
         (s.age_band.empty() ? "" : " (age band " + s.age_band + ")") + "\n";
  out += in + "enquiry " + D(s.enquiry_on) +
         (s.channel.empty() ? "" : " by " + Words(s.channel)) +
         (s.referrer_type.empty() || s.referrer_type == "unspecified"
              ? ""
              : " from " + Article(Words(s.referrer_type))) +
         "; referral " + D(s.referral_on) +
         (s.consent_basis.empty() ? "" : " (" + Words(s.consent_basis) + ")") + "\n";
  out += in + "first visit " + D(s.first_visit_on) +
         (s.first_visit_on || !s.first_visit_booked_for
              ? ""
              : " (booked for " + FormatDate(*s.first_visit_booked_for) + ")") +
         "; assessment " + D(s.assessed_on) + "; support plan " + D(s.plan_agreed_on) +
         (s.plan_review_on ? ", review due " + FormatDate(*s.plan_review_on) : "") + "\n";
  for (const auto& l : s.lines) {
    out += in + "line " + std::to_string(l.line) + ": " + Words(l.service);
    if (!l.urgency.empty()) out += ", " + Words(l.urgency);
    if (l.ot_priority > 0) out += ", OT priority " + std::to_string(l.ot_priority);
    out += "; opened " + FormatDate(l.opened_on);
    if (l.application_on) out += ", application " + FormatDate(*l.application_on);
    if (l.approved_on) out += ", approved " + FormatDate(*l.approved_on) + " (" + Money(l.approved_pence) + ")";
    if (l.refused_on) out += ", refused " + FormatDate(*l.refused_on);
    if (l.started_on) out += ", works started " + FormatDate(*l.started_on);
    if (l.completed_on) out += ", completed " + FormatDate(*l.completed_on);
    if (l.land_charge_registered_on) {
      out += ", land charge registered " + FormatDate(*l.land_charge_registered_on);
      if (l.land_charge_released_on) out += " (released " + FormatDate(*l.land_charge_released_on) + ")";
    }
    if (l.closed_on) out += ", closed " + FormatDate(*l.closed_on) + (l.result.empty() ? "" : " (" + Words(l.result) + ")");
    out += "\n";
  }
  std::string extras;
  if (!s.outcomes.empty()) {
    extras += "outcomes:";
    for (size_t i = 0; i < s.outcomes.size(); ++i) extras += (i ? ", " : " ") + Words(s.outcomes[i]);
    extras += "; ";
  }
  if (s.complaints > 0) extras += std::to_string(s.complaints) + " complaint(s); ";
  if (s.safeguarding_concerns > 0) extras += std::to_string(s.safeguarding_concerns) + " safeguarding concern(s); ";
  extras += std::to_string(s.notes) + " note(s)";
  out += in + extras + "\n";
  out += in + (s.closed ? "closed " + D(s.closed_on) +
                              (s.closure_reason.empty() ? "" : " (" + Words(s.closure_reason) + ")")
                        : std::string("open")) +
         "\n";
  return out;
}

}  // namespace hearth::readmodels
