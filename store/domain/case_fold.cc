// The case fold: CaseState from a case's events, in order.
#include <capnp/any.h>

#include <algorithm>

#include "domain/fold.h"

namespace hearth::domain {

namespace {

using F = cs::Facts;

const char* RoleIn(const std::vector<SubjectRef>& subjects, const std::string& id) {
  for (const auto& s : subjects) {
    if (s.id == id) return SubjectRoleName(s.role);
  }
  return "other";
}

void AddPerson(CaseState* state, const std::string& subject, const std::string& role) {
  for (const auto& p : state->people) {
    if (p.subject == subject) return;
  }
  state->people.push_back(CasePerson{subject, role});
}

template <typename R>
ServiceLine* LineOf(CaseState* state, R reader) {
  return state->FindLine(reader.getLine());
}

void SetIfAbsent(std::optional<Date>* slot, capnp::Text::Reader text) {
  if (!slot->has_value()) *slot = DateOf(text);
}

// The scopes of consent given on a referral become active consents (of the
// client; a named person's involvement is given by ConsentGiven).
void AddConsentsOf(cs::ConsentBasis::Given::Reader given, CaseState* state) {
  auto on = DateOf(given.getGivenOn());
  for (auto scope : given.getScopes()) {
    ActiveConsent c{std::string(EnumName(scope)), "", on.value_or(Date{})};
    if (std::find(state->consents.begin(), state->consents.end(), c) != state->consents.end()) continue;
    bool replaced = false;
    for (auto& existing : state->consents) {
      if (existing.scope == c.scope && existing.named_person.empty()) {
        existing = c;
        replaced = true;
      }
    }
    if (!replaced) state->consents.push_back(c);
  }
}

// A contact, consultation or visit on `on`: a pending follow-up set on or
// before that day is done.
void FollowedUp(CaseState* state, std::optional<Date> on) {
  if (!on || !state->follow_up_on || state->follow_up_done_on) return;
  if (state->follow_up_set_on && *on >= *state->follow_up_set_on) state->follow_up_done_on = on;
}

}  // namespace

bool TakenAfterClosure(cs::Facts::Which which) {
  switch (which) {
    case F::CONSENT_WITHDRAWN:
    case F::PERSON_DETAILS_RECTIFIED:
    case F::COMPLAINT_RECEIVED:
    case F::COMPLAINT_ESCALATED:
    case F::COMPLAINT_RESOLVED:
    case F::PERSONAL_DATA_DISCLOSED:
    case F::SAFEGUARDING_CONCERN_RAISED:
    case F::SATISFACTION_RECORDED:
    case F::QUESTIONNAIRE_SENT:
    case F::LAND_CHARGE_REGISTERED:
    case F::LAND_CHARGE_RELEASED:
    case F::ONWARD_REFERRAL_OUTCOME_RECORDED:
    case F::SAFEGUARDING_REFERRAL_ACKNOWLEDGED:
    case F::SAFEGUARDING_OUTCOME_RECORDED:
    case F::DOCUMENT_ATTACHED:
      return true;
    default:
      return false;
  }
}

std::optional<Date> DateOf(capnp::Text::Reader text) {
  Date d;
  if (ParseDate(std::string_view(text.begin(), text.size()), &d)) return d;
  return std::nullopt;
}

std::optional<Date> MainDate(const TypeEntry& type, cs::Facts::Reader facts) {
  // The first field, read by its place in the member, which the tables
  // found once for every event type (a codec test checks each type has
  // one). A pointer beyond a message's sections (written by an older
  // schema) reads as empty.
  if (type.member_pointer < 0 || type.main_date_pointer < 0) return std::nullopt;
  auto pointers = capnp::AnyStruct::Reader(facts).getPointerSection();
  if (uint32_t(type.member_pointer) >= pointers.size()) return std::nullopt;
  auto member = pointers[type.member_pointer].getAs<capnp::AnyStruct>().getPointerSection();
  if (uint32_t(type.main_date_pointer) >= member.size()) return std::nullopt;
  return DateOf(member[type.main_date_pointer].getAs<capnp::Text>());
}

const ServiceLine* CaseState::FindLine(uint16_t line) const {
  for (const auto& l : lines) {
    if (l.line == line) return &l;
  }
  return nullptr;
}

const OnwardReferral* CaseState::FindOnwardReferral(uint16_t number) const {
  for (const auto& r : onward_referrals) {
    if (r.number == number) return &r;
  }
  return nullptr;
}

const SafeguardingConcern* CaseState::FindSafeguardingConcern(uint16_t number) const {
  if (number == 0) return nullptr;
  for (const auto& c : safeguarding) {
    if (c.number == number) return &c;
  }
  return nullptr;
}

const Questionnaire* CaseState::FindQuestionnaire(uint16_t line) const {
  for (const auto& q : questionnaires) {
    if (q.line == line) return &q;
  }
  return nullptr;
}

bool CaseState::needs_work() const {
  if (!closed) return true;
  for (const auto& c : safeguarding) {
    if (c.awaiting_acknowledgement()) return true;
  }
  for (const auto& c : complaint_list) {
    if (c.awaiting_response() && ComplaintResponseWorkingDays(c.stage) > 0) return true;
  }
  return false;
}

ServiceLine* CaseState::FindLine(uint16_t line) {
  for (auto& l : lines) {
    if (l.line == line) return &l;
  }
  return nullptr;
}

Status FoldFacts(const TypeEntry& type, cs::Facts::Reader facts,
                 const std::vector<SubjectRef>& subjects,
                 const std::vector<PersonalSection>& personal, CaseState* state) {
  try {
    auto main = MainDate(type, facts);
    bool after_closure = state->closed && TakenAfterClosure(facts.which());
    if (main && !after_closure &&
        (!state->last_activity_on || *main > *state->last_activity_on)) {
      state->last_activity_on = main;
    }
    switch (facts.which()) {
      case F::CONTACT_RECORDED: {
        auto c = facts.getContactRecorded();
        if (c.getPurpose() != cs::ContactPurpose::ENQUIRY) FollowedUp(state, DateOf(c.getContactedOn()));
        if (c.getPurpose() == cs::ContactPurpose::ENQUIRY && !state->enquiry_on) {
          state->enquiry_on = DateOf(c.getContactedOn());
          state->district = c.getDistrict().cStr();
          state->channel = EnumName(c.getChannel());
          state->referrer_type = EnumName(c.getReferrerType());
          for (const auto& s : subjects) {
            if (s.role == SubjectRole::kClient) {
              if (state->client.empty()) state->client = s.id;
              AddPerson(state, s.id, "client");
              break;
            }
          }
        }
        break;
      }
      case F::PERSON_REGISTERED: {
        auto p = facts.getPersonRegistered();
        std::string subject = !personal.empty() ? personal[0].subject
                              : !subjects.empty() ? subjects[0].id
                                                  : std::string();
        if (subject.empty()) break;
        std::string role = RoleIn(subjects, subject);
        AddPerson(state, subject, role);
        if (role == "client") {
          if (state->client.empty()) state->client = subject;
          if (subject == state->client) {
            state->age_band = p.getAgeBand().cStr();
            state->tenure = EnumName(p.getTenure());
          }
        }
        break;
      }
      case F::PERSON_DETAILS_RECTIFIED: {
        auto r = facts.getPersonDetailsRectified();
        std::string subject = !personal.empty() ? personal[0].subject
                              : !subjects.empty() ? subjects[0].id
                                                  : std::string();
        if (subject == state->client) {
          if (r.getAgeBand().size() > 0) state->age_band = r.getAgeBand().cStr();
          if (r.getTenure() != cs::Tenure::UNSPECIFIED) state->tenure = EnumName(r.getTenure());
        }
        break;
      }
      case F::REFERRAL_MADE: {
        auto r = facts.getReferralMade();
        // The first referral: the first-visit clock starts there (docs/readmodels.md).
        SetIfAbsent(&state->referral_on, r.getReferredOn());
        state->self_referral = r.getSelfReferral();
        auto basis = r.getConsentBasis();
        switch (basis.which()) {
          case cs::ConsentBasis::NONE:
            state->consent_basis.clear();
            break;
          case cs::ConsentBasis::GIVEN: {
            state->consent_basis = "given";
            AddConsentsOf(basis.getGiven(), state);
            break;
          }
          case cs::ConsentBasis::BEST_INTERESTS:
            state->consent_basis = "bestInterests";
            break;
          case cs::ConsentBasis::RISK_OF_HARM:
            state->consent_basis = "riskOfHarm";
            break;
        }
        break;
      }
      case F::CONSENT_GIVEN: {
        auto c = facts.getConsentGiven();
        ActiveConsent consent{std::string(EnumName(c.getScope())), c.getNamedPerson().cStr(),
                              DateOf(c.getGivenOn()).value_or(Date{})};
        bool replaced = false;
        for (auto& existing : state->consents) {
          if (existing.scope == consent.scope && existing.named_person == consent.named_person) {
            existing = consent;
            replaced = true;
          }
        }
        if (!replaced) state->consents.push_back(consent);
        break;
      }
      case F::CONSENT_WITHDRAWN: {
        auto c = facts.getConsentWithdrawn();
        std::string scope(EnumName(c.getScope()));
        std::string named = c.getNamedPerson().cStr();
        state->consents.erase(std::remove_if(state->consents.begin(), state->consents.end(),
                                             [&](const ActiveConsent& a) {
                                               return a.scope == scope && a.named_person == named;
                                             }),
                              state->consents.end());
        break;
      }
      case F::FIRST_VISIT_SCHEDULED:
        state->first_visit_booked_for = DateOf(facts.getFirstVisitScheduled().getVisitOn());
        break;
      case F::FIRST_VISIT_CONFIRMED_IN_WRITING:
        SetIfAbsent(&state->first_visit_confirmed_on,
                    facts.getFirstVisitConfirmedInWriting().getSentOn());
        break;
      case F::FIRST_VISIT_COMPLETED:
        SetIfAbsent(&state->first_visit_on, facts.getFirstVisitCompleted().getCompletedOn());
        FollowedUp(state, DateOf(facts.getFirstVisitCompleted().getCompletedOn()));
        break;
      case F::ASSESSMENT_RECORDED:
        SetIfAbsent(&state->assessed_on, facts.getAssessmentRecorded().getAssessedOn());
        break;
      case F::RIGHTS_CONFIRMED:
        state->rights_confirmed_on = DateOf(facts.getRightsConfirmed().getConfirmedOn());
        break;
      case F::SUPPORT_PLAN_AGREED: {
        auto p = facts.getSupportPlanAgreed();
        state->plan_agreed_on = DateOf(p.getAgreedOn());
        state->plan_review_on = DateOf(p.getReviewOn());
        break;
      }
      case F::SUPPORT_PLAN_CHANGED: {
        auto p = facts.getSupportPlanChanged();
        ++state->plan_changes;
        if (p.getReviewOn().size() > 0) state->plan_review_on = DateOf(p.getReviewOn());
        break;
      }
      case F::SUPPORT_PLAN_REVIEWED:
        state->plan_review_on = DateOf(facts.getSupportPlanReviewed().getNextReviewOn());
        break;
      case F::SERVICE_ELEMENT_OPENED: {
        auto o = facts.getServiceElementOpened();
        if (state->FindLine(o.getLine()) != nullptr) break;
        ServiceLine line;
        line.line = o.getLine();
        line.element = EnumName(o.getElement());
        line.service = EnumName(o.getService());
        line.opened_on = DateOf(o.getOpenedOn()).value_or(Date{});
        state->lines.push_back(std::move(line));
        break;
      }
      case F::SERVICE_ELEMENT_CLOSED: {
        auto c = facts.getServiceElementClosed();
        if (auto* l = LineOf(state, c)) {
          l->closed_on = DateOf(c.getClosedOn());
          l->result = EnumName(c.getResult());
        }
        break;
      }
      case F::PRIORITY_ASSESSED: {
        auto p = facts.getPriorityAssessed();
        if (auto* l = LineOf(state, p)) {
          l->ot_priority = p.getOtPriority();
          l->urgency = p.getUrgency() == cs::Urgency::UNSPECIFIED ? "" : EnumName(p.getUrgency());
        }
        break;
      }
      case F::MEANS_TEST_COMPLETED: {
        auto m = facts.getMeansTestCompleted();
        if (auto* l = LineOf(state, m)) {
          l->means_tested_on = DateOf(m.getCompletedOn());
          l->means_test_result = EnumName(m.getResult());
          l->assessed_contribution_pence = m.getContributionPence();
        }
        break;
      }
      case F::GRANT_APPLICATION_MADE: {
        auto a = facts.getGrantApplicationMade();
        if (auto* l = LineOf(state, a)) {
          SetIfAbsent(&l->application_on, a.getSubmittedOn());
          l->valid_on = DateOf(a.getValidOn());
          if (a.getGrantType() != cs::GrantType::UNSPECIFIED) l->grant_type = EnumName(a.getGrantType());
        }
        break;
      }
      case F::GRANT_APPROVED: {
        auto a = facts.getGrantApproved();
        if (auto* l = LineOf(state, a)) {
          l->approved_on = DateOf(a.getApprovedOn());
          l->approved_pence = a.getAmountPence();
          l->top_up_pence = a.getDiscretionaryTopUpPence();
          l->client_contribution_pence = a.getClientContributionPence();
          l->varied_pence = 0;  // a new approval supersedes the earlier one and its variations
          if (a.getGrantType() != cs::GrantType::UNSPECIFIED) l->grant_type = EnumName(a.getGrantType());
        }
        break;
      }
      case F::GRANT_VARIATION_APPROVED: {
        auto v = facts.getGrantVariationApproved();
        if (auto* l = LineOf(state, v)) l->varied_pence += v.getAmountPence();
        break;
      }
      case F::URGENT_WORKS_EXEMPTION_RECORDED: {
        auto x = facts.getUrgentWorksExemptionRecorded();
        if (auto* l = LineOf(state, x)) SetIfAbsent(&l->urgent_exemption_on, x.getRecordedOn());
        break;
      }
      case F::GRANT_REFUSED: {
        auto r = facts.getGrantRefused();
        if (auto* l = LineOf(state, r)) l->refused_on = DateOf(r.getRefusedOn());
        break;
      }
      case F::WORKS_SPECIFIED: {
        auto w = facts.getWorksSpecified();
        if (auto* l = LineOf(state, w)) SetIfAbsent(&l->specified_on, w.getSpecifiedOn());
        break;
      }
      case F::CONTRACTOR_CHOSEN: {
        auto w = facts.getContractorChosen();
        if (auto* l = LineOf(state, w)) {
          l->contractor_on = DateOf(w.getChosenOn());
          l->contractor_ref = w.getContractorRef().cStr();
        }
        break;
      }
      case F::WORKS_STARTED: {
        auto w = facts.getWorksStarted();
        if (auto* l = LineOf(state, w)) SetIfAbsent(&l->started_on, w.getStartedOn());
        break;
      }
      case F::WORKS_COMPLETED: {
        auto w = facts.getWorksCompleted();
        if (auto* l = LineOf(state, w)) l->completed_on = DateOf(w.getCompletedOn());
        break;
      }
      case F::LAND_CHARGE_REGISTERED: {
        auto c = facts.getLandChargeRegistered();
        if (auto* l = LineOf(state, c)) {
          l->land_charge_registered_on = DateOf(c.getRegisteredOn());
          l->land_charge_released_on.reset();
        }
        break;
      }
      case F::LAND_CHARGE_RELEASED: {
        auto c = facts.getLandChargeReleased();
        if (auto* l = LineOf(state, c)) l->land_charge_released_on = DateOf(c.getReleasedOn());
        break;
      }
      case F::WORKS_PAID: {
        auto w = facts.getWorksPaid();
        if (auto* l = LineOf(state, w)) {
          l->paid_on = DateOf(w.getPaidOn());
          l->paid_pence += w.getAmountPence();
        }
        break;
      }
      case F::DELAY_RECORDED: {
        auto d = facts.getDelayRecorded();
        if (auto* l = LineOf(state, d)) l->delayed_stage = EnumName(d.getStage());
        break;
      }
      case F::OUTCOME_RECORDED:
        for (auto o : facts.getOutcomeRecorded().getOutcomes()) {
          std::string name(EnumName(o));
          if (std::find(state->outcomes.begin(), state->outcomes.end(), name) ==
              state->outcomes.end()) {
            state->outcomes.push_back(name);
          }
        }
        break;
      case F::SATISFACTION_RECORDED: {
        auto r = facts.getSatisfactionRecorded();
        state->satisfaction = r.getScore();
        // The return of the line's questionnaire, when one was sent and is
        // not yet returned (the recorder allows one return per questionnaire).
        for (auto& q : state->questionnaires) {
          if (q.line == r.getLine() && !q.returned_on) {
            q.returned_on = DateOf(r.getRecordedOn());
            break;
          }
        }
        break;
      }
      case F::QUESTIONNAIRE_SENT: {
        auto q = facts.getQuestionnaireSent();
        state->questionnaires.push_back({q.getLine(), DateOf(q.getSentOn()).value_or(Date{}), std::nullopt});
        break;
      }
      case F::COMPLAINT_RECEIVED:
        ++state->complaints;
        FoldComplaint(facts, &state->complaint_list);
        break;
      case F::COMPLAINT_ESCALATED:
      case F::COMPLAINT_RESOLVED:
        FoldComplaint(facts, &state->complaint_list);
        break;
      case F::COMPLIMENT_RECEIVED:
        ++state->compliments;
        break;
      case F::SAFEGUARDING_CONCERN_RAISED: {
        auto r = facts.getSafeguardingConcernRaised();
        ++state->safeguarding_concerns;
        SafeguardingConcern c;
        c.number = r.getConcern();
        if (r.getPersonType() != cs::SafeguardingPersonType::UNSPECIFIED) c.person_type = EnumName(r.getPersonType());
        c.category = EnumName(r.getCategory());
        c.raised_on = DateOf(r.getRaisedOn()).value_or(Date{});
        if (r.getReferredTo() != cs::SafeguardingAgency::UNSPECIFIED) {
          c.referred_to = EnumName(r.getReferredTo());
          c.referred_on = DateOf(r.getReferredOn());
        } else if (r.getReferredToSocialCare()) {
          c.referred_to = "adultSocialCare";  // recorded before issue 17.2: no date
        }
        state->safeguarding.push_back(std::move(c));
        break;
      }
      case F::SAFEGUARDING_REFERRAL_ACKNOWLEDGED: {
        auto a = facts.getSafeguardingReferralAcknowledged();
        for (auto& c : state->safeguarding) {
          if (c.number != 0 && c.number == a.getConcern()) c.acknowledged_on = DateOf(a.getAcknowledgedOn());
        }
        break;
      }
      case F::SAFEGUARDING_OUTCOME_RECORDED: {
        auto o = facts.getSafeguardingOutcomeRecorded();
        for (auto& c : state->safeguarding) {
          if (c.number != 0 && c.number == o.getConcern()) c.outcome = EnumName(o.getOutcome());
        }
        break;
      }
      case F::CASE_NOTE_ADDED:
        ++state->notes;
        break;
      case F::CASE_TRANSFERRED: {
        auto t = facts.getCaseTransferred();
        state->team = t.getToTeam().cStr();
        if (t.getToDistrict().size() > 0) state->district = t.getToDistrict().cStr();
        break;
      }
      case F::PERSONAL_DATA_DISCLOSED:
        ++state->disclosures;
        break;
      case F::CASE_CLOSED: {
        auto c = facts.getCaseClosed();
        state->closed = true;
        state->closed_on = DateOf(c.getClosedOn());
        state->closure_reason = EnumName(c.getReason());
        break;
      }
      case F::CASE_REOPENED:
        state->closed = false;
        state->closed_on.reset();
        state->closure_reason.clear();
        ++state->reopened;
        break;
      case F::ONWARD_REFERRAL_MADE: {
        auto r = facts.getOnwardReferralMade();
        OnwardReferral o;
        o.number = r.getReferral();
        o.destination = EnumName(r.getDestination());
        o.referred_on = DateOf(r.getReferredOn()).value_or(Date{});
        o.signposted = r.getSignposted();
        o.confirmed_on = DateOf(r.getConfirmedInWritingOn());
        if (r.getOutcome() != cs::OnwardReferralOutcome::UNSPECIFIED) o.outcome = EnumName(r.getOutcome());
        state->onward_referrals.push_back(std::move(o));
        if (r.getConsentBasis().which() == cs::ConsentBasis::GIVEN) {
          AddConsentsOf(r.getConsentBasis().getGiven(), state);
        }
        break;
      }
      case F::ONWARD_REFERRAL_OUTCOME_RECORDED: {
        auto r = facts.getOnwardReferralOutcomeRecorded();
        for (auto& o : state->onward_referrals) {
          if (o.number != r.getReferral()) continue;
          if (r.getOutcome() != cs::OnwardReferralOutcome::UNSPECIFIED) o.outcome = EnumName(r.getOutcome());
          if (auto on = DateOf(r.getConfirmedInWritingOn())) o.confirmed_on = on;
        }
        break;
      }
      case F::CONSULTATION_HELD: {
        auto c = facts.getConsultationHeld();
        auto held = DateOf(c.getHeldOn());
        FollowedUp(state, held);
        if (auto due = DateOf(c.getFollowUpOn())) {
          state->follow_up_on = due;
          state->follow_up_set_on = held;
          state->follow_up_done_on.reset();
        }
        break;
      }
      case F::CASE_ALLOCATED: {
        auto a = facts.getCaseAllocated();
        state->worker = a.getWorkerRef().cStr();
        state->allocated_on = DateOf(a.getAllocatedOn());
        if (!state->first_allocated_on) state->first_allocated_on = state->allocated_on;
        break;
      }
      case F::CASE_DEALLOCATED:
        state->worker.clear();
        state->allocated_on.reset();
        state->deallocated_on = DateOf(facts.getCaseDeallocated().getDeallocatedOn());
        break;
      case F::ELIGIBILITY_DECIDED:
      case F::FUNDING_DECIDED:
      case F::QUOTE_RECEIVED:
      case F::CONTACT_RECORDED_V1:  // never folded: upcast first
      case F::UNSET:
      // Rights, restriction and processing events live in their own streams
      // (store/rights) and never change a case.
      case F::RIGHTS_REQUEST_RECEIVED:
      case F::RIGHTS_IDENTITY_VERIFIED:
      case F::RIGHTS_CLOCK_PAUSED:
      case F::RIGHTS_CLOCK_RESUMED:
      case F::RIGHTS_REQUEST_EXTENDED:
      case F::RIGHTS_REQUEST_FULFILLED:
      case F::RIGHTS_REQUEST_REFUSED:
      case F::ERASURE_DECIDED:
      case F::RESTRICTION_APPLIED:
      case F::RESTRICTION_LIFTED:
      case F::THIRD_PARTY_DISCLOSURE_DECIDED:
      case F::PROCESSING_RECORD_SET:
      case F::TIMESCALES_SET:
      case F::ALLOCATION_SET:
      case F::KPI_RETURN_RELEASED:  // the release ledger (store/exports)
      // The breach register lives in breach/ streams (store/domain/breaches.cc).
      case F::BREACH_RECORDED:
      case F::BREACH_ASSESSED:
      case F::BREACH_NOTIFIED_TO_ICO:
      case F::BREACH_NOT_NOTIFIED:
      case F::BREACH_PEOPLE_INFORMED:
      // A document changes nothing the fold holds: its body and hash are
      // read from the log (domain::ListDocuments).
      case F::DOCUMENT_ATTACHED:
      // The vetted contractors live in their own stream (store/domain/contractors.cc).
      case F::CONTRACTOR_VETTED:
      case F::CONTRACTOR_REMOVED:
        break;
    }
  } catch (const kj::Exception& e) {
    return Status::Corruption(type.name + " facts: " + e.getDescription().cStr());
  }
  return Status::OK();
}

struct CaseFolder::Buffers {
  explicit Buffers(const CodecTables* tables) : decoder(tables) {}
  FactsDecoder decoder;
};

CaseFolder::CaseFolder(const Codec* codec)
    : codec_(codec), buffers_(std::make_unique<Buffers>(&codec->tables())) {}
CaseFolder::~CaseFolder() = default;

Status CaseFolder::Apply(const RecordedEvent& event, CaseState* state) {
  cs::Facts::Reader facts;
  const TypeEntry* type = nullptr;
  Status s = buffers_->decoder.Decode(event, &facts, &type);
  if (!s.ok()) {
    return s.IsCorruption() ? Status::Corruption("position " + std::to_string(event.position) +
                                                 ": " + s.message())
                            : s;
  }
  if (state->case_id.empty()) state->case_id = event.stream;
  s = FoldFacts(*type, facts, event.subjects, event.personal, state);
  if (!s.ok()) {
    return Status::Corruption("position " + std::to_string(event.position) + ": " + s.message());
  }
  state->version = event.stream_version;
  state->last_position = event.position;
  return Status::OK();
}

}  // namespace hearth::domain
