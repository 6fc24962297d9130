// The fold of a case's events into its dated facts (facts/facts.h), shared by
// the `cases` projection and the exports' pass over the log.
#include "facts/facts.h"

#include <algorithm>

#include "domain/fold.h"
#include "domain/tables.h"

namespace hearth::exports {

namespace {

using domain::cs::Facts;
using domain::DateOf;
using domain::EnumName;

Status Capture(const RecordedEvent& event, Facts::Reader facts, CaseFacts* c) {
  const std::string& district = c->state.district;
  switch (facts.which()) {
    case Facts::CONTACT_RECORDED: {
      auto f = facts.getContactRecorded();
      if (f.getPurpose() != domain::cs::ContactPurpose::ENQUIRY) break;
      auto on = DateOf(f.getContactedOn());
      if (!on) break;
      EnquiryFact e;
      e.on = *on;
      e.district = f.getDistrict().cStr();
      e.channel = EnumName(f.getChannel());
      e.referrer_type = EnumName(f.getReferrerType());
      c->enquiries.push_back(std::move(e));
      break;
    }
    case Facts::CONSULTATION_HELD:
      if (auto on = DateOf(facts.getConsultationHeld().getHeldOn())) {
        c->consultations.push_back({*on, district});
      }
      break;
    case Facts::SERVICE_ELEMENT_OPENED: {
      auto f = facts.getServiceElementOpened();
      if (auto on = DateOf(f.getOpenedOn())) {
        c->lines_opened.push_back({{*on, district}, f.getLine(), std::string(EnumName(f.getService()))});
      }
      break;
    }
    case Facts::GRANT_APPROVED: {
      auto f = facts.getGrantApproved();
      if (auto on = DateOf(f.getApprovedOn())) {
        c->grants_approved.push_back(
            {{*on, district}, f.getLine(), std::string(EnumName(f.getGrantType())), int64_t(f.getAmountPence()),
             event.position});
      }
      break;
    }
    case Facts::WORKS_PAID: {
      auto f = facts.getWorksPaid();
      if (auto on = DateOf(f.getPaidOn())) {
        std::string fund;
        for (const auto& g : c->grants_approved) {
          if (g.line == f.getLine()) fund = g.service;
        }
        c->payments.push_back({{*on, district}, f.getLine(), fund, int64_t(f.getAmountPence()), event.position});
      }
      break;
    }
    case Facts::GRANT_VARIATION_APPROVED: {
      auto f = facts.getGrantVariationApproved();
      if (auto on = DateOf(f.getApprovedOn())) {
        std::string fund;
        for (const auto& g : c->grants_approved) {
          if (g.line == f.getLine()) fund = g.service;
        }
        c->variations.push_back({{*on, district}, f.getLine(), fund, int64_t(f.getAmountPence()), event.position});
      }
      break;
    }
    case Facts::WORKS_COMPLETED: {
      auto f = facts.getWorksCompleted();
      if (auto on = DateOf(f.getCompletedOn())) {
        c->works_completed.push_back({{*on, district}, f.getLine(), std::string()});
      }
      break;
    }
    case Facts::REFERRAL_MADE:
      if (!c->first_referral_on) c->first_referral_on = DateOf(facts.getReferralMade().getReferredOn());
      break;
    case Facts::FIRST_VISIT_SCHEDULED:
      if (!c->first_visit_scheduled_on) {
        c->first_visit_scheduled_on = DateOf(facts.getFirstVisitScheduled().getScheduledOn());
      }
      break;
    case Facts::ONWARD_REFERRAL_MADE: {
      auto f = facts.getOnwardReferralMade();
      if (auto on = DateOf(f.getReferredOn())) {
        c->onward_referrals.push_back(
            {{*on, district}, std::string(EnumName(f.getDestination())), f.getSignposted()});
      }
      break;
    }
    case Facts::FIRST_VISIT_COMPLETED:
      if (!c->first_visit) {
        if (auto on = DateOf(facts.getFirstVisitCompleted().getCompletedOn())) {
          c->first_visit = Dated{*on, district};
        }
      }
      break;
    case Facts::OUTCOME_RECORDED: {
      auto f = facts.getOutcomeRecorded();
      if (auto on = DateOf(f.getRecordedOn())) {
        OutcomeFact o;
        o.on = *on;
        o.district = district;
        for (auto x : f.getOutcomes()) o.outcomes.emplace_back(EnumName(x));
        c->outcomes.push_back(std::move(o));
      }
      break;
    }
    case Facts::COMPLAINT_RECEIVED: {
      auto f = facts.getComplaintReceived();
      if (auto on = DateOf(f.getReceivedOn())) {
        c->complaints_received.push_back({{*on, district}, f.getComplaint(), std::string(EnumName(f.getStage()))});
      }
      break;
    }
    case Facts::COMPLAINT_ESCALATED: {
      auto f = facts.getComplaintEscalated();
      if (auto on = DateOf(f.getEscalatedOn())) {
        c->complaints_escalated.push_back(
            {{*on, district}, f.getComplaint(), std::string(EnumName(f.getToStage()))});
      }
      break;
    }
    case Facts::COMPLAINT_RESOLVED: {
      auto f = facts.getComplaintResolved();
      if (auto on = DateOf(f.getResolvedOn())) {
        c->complaints_resolved.push_back({{*on, district}, f.getComplaint(), std::string(EnumName(f.getStage()))});
      }
      break;
    }
    case Facts::COMPLIMENT_RECEIVED:
      if (auto on = DateOf(facts.getComplimentReceived().getReceivedOn())) {
        c->compliments.push_back({*on, district});
      }
      break;
    case Facts::SAFEGUARDING_CONCERN_RAISED:
      if (auto on = DateOf(facts.getSafeguardingConcernRaised().getRaisedOn())) {
        c->safeguarding.push_back(
            {{*on, district}, std::string(EnumName(facts.getSafeguardingConcernRaised().getCategory()))});
      }
      break;
    case Facts::SATISFACTION_RECORDED: {
      auto f = facts.getSatisfactionRecorded();
      if (auto on = DateOf(f.getRecordedOn())) {
        ScoreFact x;
        x.on = *on;
        x.district = district;
        x.score = static_cast<int>(f.getScore());
        // Folded already: the line's questionnaire is returned on this day
        // by this event (the recorder takes one return per questionnaire and
        // refuses any answer about the line after it).
        const domain::Questionnaire* q = c->state.FindQuestionnaire(f.getLine());
        x.returns_questionnaire = q != nullptr && q->returned_on == on;
        x.quality_of_life = EnumName(f.getQualityOfLife());
        for (auto i : f.getImpacts()) x.impacts.emplace_back(EnumName(i));
        c->satisfaction.push_back(std::move(x));
      }
      break;
    }
    case Facts::QUESTIONNAIRE_SENT:
      if (auto on = DateOf(facts.getQuestionnaireSent().getSentOn())) {
        c->questionnaires_sent.push_back({*on, district});
      }
      break;
    default:
      break;
  }
  (void)event;
  return Status::OK();
}

// The subject a PersonRegistered or PersonDetailsRectified is about (as the
// case fold reads it: facts-only reads carry no personal sections).
std::string SubjectOf(const RecordedEvent& event) {
  if (!event.personal.empty()) return event.personal[0].subject;
  return event.subjects.empty() ? std::string() : event.subjects[0].id;
}

// A person's codes: a registration sets all of them (an older event without
// the equality fields reads as not recorded); a rectification changes only
// the codes it gives.
void CapturePerson(const RecordedEvent& event, Facts::Reader facts, const PersonCodesOf& person) {
  if (facts.which() == Facts::PERSON_REGISTERED) {
    std::string subject = SubjectOf(event);
    bool client = std::any_of(event.subjects.begin(), event.subjects.end(), [&](const SubjectRef& s) {
      return s.id == subject && s.role == SubjectRole::kClient;
    });
    if (subject.empty() || !client) return;
    auto p = facts.getPersonRegistered();
    PersonCodes& c = *person(subject, true);
    c.age_band = p.getAgeBand().cStr();
    c.gender = uint16_t(p.getGender());
    c.disability = uint16_t(p.getDisability());
    c.ethnicity = uint16_t(p.getEthnicity());
    c.main_language = uint16_t(p.getMainLanguage());
    c.interpreter_needed = uint16_t(p.getInterpreterNeeded());
    c.unpaid_carer = uint16_t(p.getUnpaidCarer());
    c.mental_health = uint16_t(p.getMentalHealth());
    c.learning_disability = uint16_t(p.getLearningDisability());
  } else if (facts.which() == Facts::PERSON_DETAILS_RECTIFIED) {
    PersonCodes* found = person(SubjectOf(event), false);
    if (found == nullptr) return;
    auto r = facts.getPersonDetailsRectified();
    PersonCodes& c = *found;
    if (r.getAgeBand().size() > 0) c.age_band = r.getAgeBand().cStr();
    auto set = [](uint16_t* field, auto value) {
      if (uint16_t(value) != 0) *field = uint16_t(value);
    };
    set(&c.disability, r.getDisability());
    set(&c.ethnicity, r.getEthnicity());
    set(&c.main_language, r.getMainLanguage());
    set(&c.interpreter_needed, r.getInterpreterNeeded());
    set(&c.unpaid_carer, r.getUnpaidCarer());
    set(&c.mental_health, r.getMentalHealth());
    set(&c.learning_disability, r.getLearningDisability());
  }
}

Status AtPosition(const RecordedEvent& event, const Status& s) {
  return Status::Corruption("position " + std::to_string(event.position) + ": " + s.message());
}

// Folds a decoded case event (FoldCaseEvent, and Collect, which also keeps
// the client's name and address).
Status FoldDecoded(const domain::TypeEntry& type, Facts::Reader facts, const RecordedEvent& event, CaseFacts* c,
                   const PersonCodesOf& person) {
  if (c->state.case_id.empty()) c->state.case_id = event.stream;
  Status s;
  try {
    s = domain::FoldFacts(type, facts, event.subjects, event.personal, &c->state);
    if (s.ok()) s = Capture(event, facts, c);
    if (s.ok() && person) CapturePerson(event, facts, person);
  } catch (const kj::Exception& e) {
    s = Status::Corruption(type.name + " facts: " + e.getDescription().cStr());
  }
  if (!s.ok()) return AtPosition(event, s);
  c->state.version = event.stream_version;
  c->state.last_position = event.position;
  return Status::OK();
}

Status DecodeAt(domain::FactsDecoder* decoder, const RecordedEvent& event, Facts::Reader* facts,
                const domain::TypeEntry** type) {
  Status s = decoder->Decode(event, facts, type);
  if (!s.ok() && s.IsCorruption()) return AtPosition(event, s);
  return s;
}

}  // namespace

Status FoldCaseEvent(domain::FactsDecoder* decoder, const RecordedEvent& event, CaseFacts* c,
                     const PersonCodesOf& person) {
  Facts::Reader facts;
  const domain::TypeEntry* type = nullptr;
  Status s = DecodeAt(decoder, event, &facts, &type);
  if (!s.ok()) return s;
  return FoldDecoded(*type, facts, event, c, person);
}

Status FoldComplaintStreamEvent(domain::FactsDecoder* decoder, const RecordedEvent& event, CaseFacts* c) {
  // A complaint with no case: its district is the one it names.
  Facts::Reader facts;
  const domain::TypeEntry* type = nullptr;
  Status s = decoder->Decode(event, &facts, &type);
  if (!s.ok()) return AtPosition(event, s);
  try {
    if (facts.which() == Facts::COMPLAINT_RECEIVED) {
      c->state.district = facts.getComplaintReceived().getDistrict().cStr();
    }
    s = Capture(event, facts, c);
  } catch (const kj::Exception& e) {
    s = Status::Corruption(type->name + " facts: " + e.getDescription().cStr());
  }
  if (!s.ok()) return AtPosition(event, s);
  return Status::OK();
}

}  // namespace hearth::exports
