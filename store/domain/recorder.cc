// Command validation: domain events checked against their case's history,
// then appended with the expected version that history was read at.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "domain/fold.h"

namespace hearth::domain {

namespace {

using F = cs::Facts;

constexpr uint32_t kMandatoryDfgCapPence = 3000000;  // £30,000

// A refusal: InvalidArgument "rule <name>: <why>".
Status Rule(const char* name, const std::string& why) {
  return Status::InvalidArgument(std::string("rule ") + name + ": " + why);
}

bool Names(const NewEvent& e, const std::string& subject) {
  for (const auto& s : e.subjects) {
    if (s.id == subject) return true;
  }
  return false;
}

Status CheckLine(const CaseState& state, uint16_t line, bool zero_allowed) {
  if (line == 0 && zero_allowed) return Status::OK();
  if (state.FindLine(line) == nullptr) {
    return Rule("service-line", "service element line " + std::to_string(line) +
                                    " was never opened on this case (ServiceElementOpened)");
  }
  return Status::OK();
}

Status CheckRefusal(bool appeal_rights_given) {
  if (!appeal_rights_given) {
    return Rule("refusal-appeal-rights",
                "a refusal must record that the right to appeal was explained "
                "(appealRightsGiven)");
  }
  return Status::OK();
}

// A written confirmation: no earlier than the referral it confirms, and in
// writing (letter, email, web or text message).
Status CheckWrittenConfirmation(capnp::Text::Reader on_text, cs::Channel channel,
                                std::optional<Date> referred_on) {
  if (on_text.size() == 0) return Status::OK();
  auto on = DateOf(on_text);
  if (on && referred_on && *on < *referred_on) {
    return Rule("onward-referral-confirmation", "confirmed in writing on " + FormatDate(*on) +
                                                    ", before the referral on " +
                                                    FormatDate(*referred_on));
  }
  if (channel != cs::Channel::LETTER && channel != cs::Channel::EMAIL &&
      channel != cs::Channel::WEB && channel != cs::Channel::TEXT_MESSAGE) {
    return Rule("onward-referral-confirmation",
                "a written confirmation is sent by letter, email, web or textMessage "
                "(confirmationChannel), not " + std::string(EnumName(channel)));
  }
  return Status::OK();
}

// Every code field of a person's details (gender, tenure and the equality
// codes) holds a value of its list: the JSON form refuses an unknown name, and
// this refuses an unknown number in facts given as bytes (a plugin, or
// `hearth append` with factsBase64), which no report could count.
Status CheckCodeLists(capnp::DynamicStruct::Reader member) {
  for (auto field : member.getSchema().getNonUnionFields()) {
    if (field.getType().which() != capnp::schema::Type::ENUM) continue;
    auto value = member.get(field).as<capnp::DynamicEnum>();
    if (value.getEnumerant() != nullptr) continue;
    std::string codes;
    for (auto e : value.getSchema().getEnumerants()) {
      codes += (codes.empty() ? "" : ", ") + std::string(e.getProto().getName().cStr());
    }
    return Rule("code-list", std::string("facts.") + field.getProto().getName().cStr() + " holds " +
                                 std::to_string(value.getRaw()) + ", which is not one of its codes (" + codes +
                                 ")");
  }
  return Status::OK();
}

// DocumentAttached: the body it carries (NewEvent::documents) is the one its
// facts and its subject's personal section describe.
Status CheckDocument(cs::DocumentAttached::Reader d, const NewEvent& e, const CaseState& state) {
  if (d.getKind() == cs::DocumentKind::UNSPECIFIED || d.getMediaType() == cs::MediaType::UNSPECIFIED) {
    return Rule("document-kind", "say what the document is (kind) and its format (mediaType)");
  }
  if (d.getSizeBytes() > kMaxDocumentBytes) {
    return Rule("document-size", "the document is " + std::to_string(d.getSizeBytes()) +
                                     " bytes; the limit is " + std::to_string(kMaxDocumentBytes) +
                                     " bytes (16 MiB)");
  }
  std::string subject = d.getSubjectRef().cStr();
  if (subject.empty() || !Names(e, subject)) {
    return Rule("document-subject", "subjectRef must name one of the event's subjects (got \"" +
                                        subject + "\")");
  }
  bool on_case = subject == state.client ||
                 std::any_of(state.people.begin(), state.people.end(),
                             [&](const CasePerson& p) { return p.subject == subject; });
  if (!on_case) {
    return Rule("document-subject", subject + " is not a person on this case: register them first");
  }
  if (e.documents.size() != 1 || e.documents[0].subject != subject) {
    return Rule("document-body", "DocumentAttached carries exactly one document body, for subjectRef " +
                                     subject + " (record it with hearth attach)");
  }
  const std::string& body = e.documents[0].bytes;
  if (body.size() != d.getSizeBytes()) {
    return Rule("document-body", "sizeBytes says " + std::to_string(d.getSizeBytes()) +
                                     ", the body has " + std::to_string(body.size()) + " bytes");
  }
  std::string sha;
  bool named = false;
  PackedDecoder decoder;
  for (const PersonalSection& p : e.personal) {
    if (p.subject != subject) continue;
    cs::Personal::Reader personal;
    Status s = decoder.Decode<cs::Personal>(p.data, &personal);
    if (!s.ok()) return Rule("malformed-personal", s.message());
    sha = personal.getDocumentSha256().cStr();
    named = personal.getDocumentFileName().size() > 0;
  }
  std::string actual = Sha256Hex(body);
  if (sha != actual) {
    return Rule("document-body", "the personal section of " + subject +
                                     " must give the body's SHA-256 (documentSha256 " + actual +
                                     "), got \"" + sha + "\"");
  }
  if (!named) return Rule("document-body", "the personal section of " + subject + " gives no documentFileName");
  return Status::OK();
}

std::string Pounds(int64_t pence) { return std::to_string(pence) + " pence"; }

// The vetted contractors, read from their stream once per batch and only
// when an event of the batch needs them (a ContractorChosen, a WorksStarted).
using ContractorsFn = std::function<Result<const ContractorList*>()>;

// Whether `ref` is on the vetted list on `day` (rule `contractor-not-vetted`).
Status CheckVetted(const ContractorsFn& contractors, const std::string& ref, std::optional<Date> day,
                   const std::string& what) {
  auto list = contractors();
  if (!list.ok()) return list.status();
  if (!day || (*list)->VettedOn(ref, *day)) return Status::OK();
  return Rule("contractor-not-vetted",
              what + ": contractor \"" + ref + "\" is not on the vetted list on " + FormatDate(*day) +
                  ((*list)->contractors.count(ref) == 0 ? " (never vetted: hearth contractor vet)"
                                                        : " (removed, expired, or not yet vetted then)"));
}

// The case-level rules for one event, against the state before it.
Status CheckCaseRules(const TypeEntry& type, F::Reader facts, const NewEvent& e,
                      const CaseState& state, const ContractorsFn& contractors) {
  auto which = facts.which();
  if (!e.documents.empty() && which != F::DOCUMENT_ATTACHED) {
    return Rule("document-body", type.name + " carries no document body (only DocumentAttached does)");
  }
  if (!state.exists()) {
    if (which != F::CONTACT_RECORDED ||
        facts.getContactRecorded().getPurpose() != cs::ContactPurpose::ENQUIRY) {
      return Rule("case-opens-with-enquiry",
                  "a case's first event must be a ContactRecorded with purpose \"enquiry\", not " +
                      type.name);
    }
  }
  // A closed case still takes what people have a right to, and a land
  // charge outlives the casework (TakenAfterClosure); anything else needs
  // the case reopened first.
  if (state.closed && which != F::CASE_REOPENED && !TakenAfterClosure(which)) {
    return Rule("case-closed", "the case was closed on " +
                                   (state.closed_on ? FormatDate(*state.closed_on) : "?") +
                                   "; record CaseReopened before " + type.name);
  }
  switch (which) {
    case F::CONTACT_RECORDED: {
      auto c = facts.getContactRecorded();
      if (c.getPurpose() == cs::ContactPurpose::ENQUIRY) {
        if (state.exists()) {
          return Rule("enquiry-on-open-case",
                      "a new enquiry opens a new case; on this case record a followUp contact");
        }
        std::string_view district(c.getDistrict().cStr());
        if (!IsDistrictCode(district)) {
          return Rule("district-code", "an enquiry needs a district code of 1 to 16 letters, "
                                       "digits, '-' or '_' (got \"" +
                                           std::string(district) + "\")");
        }
        bool client = std::any_of(e.subjects.begin(), e.subjects.end(),
                                  [](const SubjectRef& s) { return s.role == SubjectRole::kClient; });
        if (!client) {
          return Rule("enquiry-names-client",
                      "an enquiry must name the client among its subjects (role client)");
        }
      } else if (c.getDistrict().size() > 0 && c.getDistrict().cStr() != state.district) {
        return Rule("district-code", "a later contact cannot change the district (use CaseTransferred)");
      }
      break;
    }
    case F::PERSON_REGISTERED: {
      auto p = facts.getPersonRegistered();
      if (e.personal.size() != 1) {
        return Rule("person-section", "PersonRegistered carries exactly one personal section, "
                                      "that of the person registered (got " +
                                          std::to_string(e.personal.size()) + ")");
      }
      if (!IsAgeBand(p.getAgeBand().cStr())) {
        return Rule("age-band", "ageBand must be one of 0-17, 18-24, 25-34, 35-44, 45-54, "
                                "55-64, 65-74, 75-84, 85+ (got \"" +
                                    std::string(p.getAgeBand().cStr()) + "\")");
      }
      if (Status s = CheckCodeLists(capnp::toDynamic(p)); !s.ok()) return s;
      break;
    }
    case F::PERSON_DETAILS_RECTIFIED: {
      auto r = facts.getPersonDetailsRectified();
      if (r.getAgeBand().size() > 0 && !IsAgeBand(r.getAgeBand().cStr())) {
        return Rule("age-band", "ageBand must be empty or one of 0-17 ... 85+ (got \"" +
                                    std::string(r.getAgeBand().cStr()) + "\")");
      }
      if (Status s = CheckCodeLists(capnp::toDynamic(r)); !s.ok()) return s;
      break;
    }
    case F::REFERRAL_MADE: {
      auto basis = facts.getReferralMade().getConsentBasis();
      if (basis.which() == cs::ConsentBasis::NONE) {
        return Rule("referral-consent-basis",
                    "a referral needs a consent basis: consent given (when, how, scope), a "
                    "best-interests decision, or risk of harm");
      }
      if (basis.which() == cs::ConsentBasis::GIVEN) {
        auto given = basis.getGiven();
        if (given.getScopes().size() == 0 || given.getMethod() == cs::ConsentMethod::UNSPECIFIED) {
          return Rule("referral-consent-basis",
                      "consent given must say how it was given (method) and what it covers "
                      "(scopes)");
        }
        for (auto scope : given.getScopes()) {
          if (scope == cs::ConsentScope::UNSPECIFIED) {
            return Rule("referral-consent-basis", "a consent scope is unspecified");
          }
        }
      }
      break;
    }
    case F::ONWARD_REFERRAL_MADE: {
      auto r = facts.getOnwardReferralMade();
      uint16_t n = r.getReferral();
      if (n == 0 || state.FindOnwardReferral(n) != nullptr) {
        return Rule("onward-referral-number",
                    "onward referral " + std::to_string(n) +
                        (n == 0 ? " is not a number (from 1)" : " was already made on this case"));
      }
      if (r.getDestination() == cs::OnwardDestination::UNSPECIFIED) {
        return Rule("onward-referral-destination",
                    "say where the person was referred or signposted to (destination)");
      }
      auto basis = r.getConsentBasis();
      if (!r.getSignposted()) {
        if (basis.which() == cs::ConsentBasis::NONE) {
          return Rule("onward-referral-consent",
                      "a referral passes the person's details on: it needs the consent it rests on "
                      "(when, how, scope referOn), a best-interests decision or risk of harm; "
                      "signposting (signposted) needs none");
        }
        if (basis.which() == cs::ConsentBasis::GIVEN) {
          auto given = basis.getGiven();
          bool refer_on = false;
          for (auto scope : given.getScopes()) refer_on = refer_on || scope == cs::ConsentScope::REFER_ON;
          if (given.getMethod() == cs::ConsentMethod::UNSPECIFIED || !refer_on) {
            return Rule("onward-referral-consent",
                        "consent to an onward referral must say how it was given (method) and "
                        "cover referring on (scopes: referOn)");
          }
        }
      }
      Status s = CheckWrittenConfirmation(r.getConfirmedInWritingOn(), r.getConfirmationChannel(),
                                          DateOf(r.getReferredOn()));
      if (!s.ok()) return s;
      break;
    }
    case F::ONWARD_REFERRAL_OUTCOME_RECORDED: {
      auto r = facts.getOnwardReferralOutcomeRecorded();
      const OnwardReferral* made = state.FindOnwardReferral(r.getReferral());
      if (made == nullptr) {
        return Rule("onward-referral-number", "onward referral " + std::to_string(r.getReferral()) +
                                                  " was never made on this case (OnwardReferralMade)");
      }
      if (r.getOutcome() == cs::OnwardReferralOutcome::UNSPECIFIED &&
          r.getConfirmedInWritingOn().size() == 0) {
        return Rule("onward-referral-outcome",
                    "record an outcome, a written confirmation (confirmedInWritingOn), or both");
      }
      auto on = DateOf(r.getRecordedOn());
      if (on && *on < made->referred_on) {
        return Rule("onward-referral-outcome", "recorded on " + FormatDate(*on) +
                                                   ", before the referral on " +
                                                   FormatDate(made->referred_on));
      }
      return CheckWrittenConfirmation(r.getConfirmedInWritingOn(), r.getConfirmationChannel(),
                                      made->referred_on);
    }
    case F::CONSENT_GIVEN: {
      auto c = facts.getConsentGiven();
      if (c.getScope() == cs::ConsentScope::UNSPECIFIED ||
          c.getMethod() == cs::ConsentMethod::UNSPECIFIED) {
        return Rule("consent-scope", "consent needs a scope and a method");
      }
      std::string named = c.getNamedPerson().cStr();
      if (c.getScope() == cs::ConsentScope::INVOLVE_NAMED_PERSON) {
        if (named.empty() || !Names(e, named)) {
          return Rule("consent-named-person",
                      "consent to involve a named person must name that person (namedPerson) and "
                      "list them among the event's subjects");
        }
      } else if (!named.empty()) {
        return Rule("consent-named-person", "only involveNamedPerson consent names a person");
      }
      break;
    }
    case F::PERSONAL_DATA_DISCLOSED: {
      auto d = facts.getPersonalDataDisclosed();
      if (d.getLawfulBasis() == cs::LawfulBasis::UNSPECIFIED) {
        return Rule("disclosure-lawful-basis",
                    "a disclosure records its lawful basis (lawfulBasis): consent, or the basis that "
                    "stands without it (contract, legalObligation, vitalInterests, publicTask, "
                    "legitimateInterests)");
      }
      if (d.getLawfulBasis() != cs::LawfulBasis::CONSENT) {
        if (d.getConsentScope() != cs::ConsentScope::UNSPECIFIED) {
          return Rule("disclosure-consent", "consentScope is recorded only for a disclosure whose "
                                            "lawfulBasis is consent");
        }
        break;
      }
      std::string scope(EnumName(d.getConsentScope()));
      if (d.getConsentScope() == cs::ConsentScope::UNSPECIFIED) {
        return Rule("disclosure-consent",
                    "a disclosure on consent names the consent it rests on (consentScope)");
      }
      bool health = false;
      for (auto c : d.getCategories()) health = health || std::string_view(c.cStr()) == "health";
      if (health && d.getConsentScope() != cs::ConsentScope::SHARE_HEALTH_INFORMATION) {
        return Rule("disclosure-consent",
                    "health information is disclosed on consent only under the consent to share it "
                    "(consentScope shareHealthInformation), not " + scope);
      }
      auto on = DateOf(d.getDisclosedOn());
      bool active = std::any_of(state.consents.begin(), state.consents.end(), [&](const ActiveConsent& a) {
        return a.scope == scope && a.named_person.empty() && (!on || a.given_on <= *on);
      });
      if (!active) {
        return Rule("disclosure-consent",
                    "no active consent " + scope + " on this case" +
                        (on ? " on " + FormatDate(*on) : std::string()) +
                        " (never given, or withdrawn): record the consent first, or the lawful "
                        "basis that stands without it");
      }
      break;
    }
    case F::CONSENT_WITHDRAWN: {
      auto c = facts.getConsentWithdrawn();
      std::string scope(EnumName(c.getScope()));
      std::string named = c.getNamedPerson().cStr();
      bool active = std::any_of(state.consents.begin(), state.consents.end(),
                                [&](const ActiveConsent& a) {
                                  return a.scope == scope && a.named_person == named;
                                });
      if (!active) {
        return Rule("consent-not-active", "no active consent with scope " + scope +
                                              (named.empty() ? "" : " for " + named) +
                                              " to withdraw");
      }
      break;
    }
    case F::FIRST_VISIT_COMPLETED: {
      auto on = DateOf(facts.getFirstVisitCompleted().getCompletedOn());
      if (on && state.enquiry_on && *on < *state.enquiry_on) {
        return Rule("visit-before-enquiry", "first visit on " + FormatDate(*on) +
                                                " is before the enquiry on " +
                                                FormatDate(*state.enquiry_on));
      }
      break;
    }
    case F::SERVICE_ELEMENT_OPENED: {
      auto o = facts.getServiceElementOpened();
      if (o.getLine() == 0 || state.FindLine(o.getLine()) != nullptr) {
        return Rule("service-line", "line " + std::to_string(o.getLine()) +
                                        (o.getLine() == 0 ? " is not a line number (from 1)"
                                                          : " is already open on this case"));
      }
      if (o.getElement() == cs::ServiceElement::UNSPECIFIED ||
          ElementOfService(o.getService()) != o.getElement()) {
        return Rule("element-service", "service " + std::string(EnumName(o.getService())) +
                                           " does not belong to element " +
                                           std::string(EnumName(o.getElement())));
      }
      break;
    }
    case F::SERVICE_ELEMENT_CLOSED:
      return CheckLine(state, facts.getServiceElementClosed().getLine(), false);
    case F::PRIORITY_ASSESSED: {
      auto p = facts.getPriorityAssessed();
      Status s = CheckLine(state, p.getLine(), false);
      if (!s.ok()) return s;
      if (p.getOtPriority() < 1 || p.getOtPriority() > 3) {
        return Rule("ot-priority", "OT priority must be 1, 2 or 3 (got " +
                                       std::to_string(p.getOtPriority()) + ")");
      }
      break;
    }
    case F::ELIGIBILITY_DECIDED: {
      auto d = facts.getEligibilityDecided();
      Status s = CheckLine(state, d.getLine(), false);
      if (!s.ok()) return s;
      if (!d.getEligible()) return CheckRefusal(d.getAppealRightsGiven());
      break;
    }
    case F::MEANS_TEST_COMPLETED:
      return CheckLine(state, facts.getMeansTestCompleted().getLine(), false);
    case F::URGENT_WORKS_EXEMPTION_RECORDED: {
      auto x = facts.getUrgentWorksExemptionRecorded();
      Status s = CheckLine(state, x.getLine(), false);
      if (!s.ok()) return s;
      const ServiceLine& l = *state.FindLine(x.getLine());
      if (x.getReasonCode().size() == 0 || x.getAuthorisedByRole().size() == 0) {
        return Rule("urgent-exemption", "an urgent-works exemption records why (reasonCode) and who agreed it "
                                        "(authorisedByRole)");
      }
      if (l.started_on) {
        return Rule("urgent-exemption", "the works on line " + std::to_string(x.getLine()) + " started on " +
                                            FormatDate(*l.started_on) + ": an exemption is agreed before they start");
      }
      break;
    }
    case F::GRANT_VARIATION_APPROVED: {
      auto v = facts.getGrantVariationApproved();
      Status s = CheckLine(state, v.getLine(), false);
      if (!s.ok()) return s;
      const ServiceLine& l = *state.FindLine(v.getLine());
      std::string line = "line " + std::to_string(v.getLine());
      if (!l.approved_on) {
        return Rule("grant-variation", "no grant is approved on " + line + " to vary (GrantApproved first)");
      }
      auto on = DateOf(v.getApprovedOn());
      if (on && *on < *l.approved_on) {
        return Rule("grant-variation", "varied on " + FormatDate(*on) + ", before the grant on " + line +
                                           " was approved (" + FormatDate(*l.approved_on) + ")");
      }
      if (v.getAmountPence() == 0) {
        return Rule("grant-variation", "a variation changes the amount: amountPence is positive (an increase) or "
                                       "negative (a decrease), not 0");
      }
      if (v.getReasonCode().size() == 0) {
        return Rule("grant-variation", "say why the grant was varied (reasonCode: unforeseenWorks, revisedQuote ...)");
      }
      int64_t after = l.granted_pence() + v.getAmountPence();
      if (after < static_cast<int64_t>(l.paid_pence)) {
        return Rule("payment-over-approved",
                    "the variation takes the grant on " + line + " to " + Pounds(after) + ", below the " +
                        Pounds(l.paid_pence) + " already paid");
      }
      break;
    }
    case F::GRANT_APPLICATION_MADE:
      return CheckLine(state, facts.getGrantApplicationMade().getLine(), false);
    case F::GRANT_APPROVED: {
      auto a = facts.getGrantApproved();
      Status s = CheckLine(state, a.getLine(), false);
      if (!s.ok()) return s;
      if (a.getDiscretionaryTopUpPence() > a.getAmountPence()) {
        return Rule("dfg-mandatory-cap", "the discretionary top-up exceeds the amount approved");
      }
      const ServiceLine& l = *state.FindLine(a.getLine());
      bool dfg = a.getGrantType() == cs::GrantType::MANDATORY_DFG ||
                 a.getGrantType() == cs::GrantType::DISCRETIONARY_DFG;
      if (dfg && l.means_test_result == "contribution" && l.assessed_contribution_pence > 0 &&
          (a.getClientContributionPence() == 0 || a.getClientContributionPence() > l.assessed_contribution_pence)) {
        return Rule("client-contribution",
                    "the means test on line " + std::to_string(a.getLine()) + " assessed a contribution of " +
                        Pounds(l.assessed_contribution_pence) +
                        ": the approval records the client's contribution (clientContributionPence, 1 to " +
                        std::to_string(l.assessed_contribution_pence) + ")");
      }
      if (l.paid_pence > a.getAmountPence()) {
        return Rule("payment-over-approved", "the approval of " + Pounds(a.getAmountPence()) + " on line " +
                                                 std::to_string(a.getLine()) + " is below the " +
                                                 Pounds(l.paid_pence) + " already paid");
      }
      if (a.getGrantType() == cs::GrantType::MANDATORY_DFG &&
          a.getAmountPence() - a.getDiscretionaryTopUpPence() > kMandatoryDfgCapPence) {
        return Rule("dfg-mandatory-cap",
                    "the mandatory DFG is capped at £30,000 (3000000 pence): approved " +
                        std::to_string(a.getAmountPence()) + " pence with a discretionary top-up of " +
                        std::to_string(a.getDiscretionaryTopUpPence()) +
                        "; record the excess as discretionaryTopUpPence");
      }
      break;
    }
    case F::GRANT_REFUSED: {
      auto r = facts.getGrantRefused();
      Status s = CheckLine(state, r.getLine(), false);
      if (!s.ok()) return s;
      return CheckRefusal(r.getAppealRightsGiven());
    }
    case F::FUNDING_DECIDED:
      return CheckLine(state, facts.getFundingDecided().getLine(), false);
    case F::WORKS_SPECIFIED:
      return CheckLine(state, facts.getWorksSpecified().getLine(), false);
    case F::QUOTE_RECEIVED:
      return CheckLine(state, facts.getQuoteReceived().getLine(), false);
    case F::CONTRACTOR_CHOSEN: {
      auto c = facts.getContractorChosen();
      Status s = CheckLine(state, c.getLine(), false);
      if (!s.ok()) return s;
      return CheckVetted(contractors, c.getContractorRef().cStr(), DateOf(c.getChosenOn()),
                         "chosen on line " + std::to_string(c.getLine()));
    }
    case F::WORKS_STARTED: {
      auto w = facts.getWorksStarted();
      Status s = CheckLine(state, w.getLine(), false);
      if (!s.ok()) return s;
      const ServiceLine& l = *state.FindLine(w.getLine());
      std::string line = "line " + std::to_string(w.getLine());
      auto on = DateOf(w.getStartedOn());
      // HGCRA 1996 s.29: works begun before the approval of the application
      // are not grant-aided unless the authority is satisfied there were
      // good reasons (urgent works): recorded as an exemption before them.
      if (l.dfg()) {
        bool exempt = l.urgent_exemption_on && (!on || *l.urgent_exemption_on <= *on);
        bool approved = l.approved_on && (!on || *l.approved_on <= *on);
        if (!approved && !exempt) {
          return Rule("works-before-approval",
                      "works on the DFG " + line + " start on " + (on ? FormatDate(*on) : std::string("?")) +
                          (l.approved_on ? ", before its approval on " + FormatDate(*l.approved_on)
                                         : ", before its approval (no GrantApproved)") +
                          "; record UrgentWorksExemptionRecorded first if the authority agreed (HGCRA 1996 s.29)");
        }
      }
      // The contractor doing the works is still vetted when they start.
      if (!l.contractor_ref.empty()) {
        return CheckVetted(contractors, l.contractor_ref, on, "works starting on " + line);
      }
      break;
    }
    case F::WORKS_COMPLETED:
      return CheckLine(state, facts.getWorksCompleted().getLine(), false);
    case F::WORKS_PAID: {
      auto p = facts.getWorksPaid();
      Status s = CheckLine(state, p.getLine(), false);
      if (!s.ok()) return s;
      const ServiceLine& l = *state.FindLine(p.getLine());
      std::string line = "line " + std::to_string(p.getLine());
      if (p.getPayee() == cs::Payee::UNSPECIFIED) {
        return Rule("payment-payee", "say who was paid (payee: contractor, client, agent, supplier, other)");
      }
      if (static_cast<uint16_t>(p.getPayee()) >= capnp::Schema::from<cs::Payee>().getEnumerants().size()) {
        return Rule("code-list", "facts.payee holds " + std::to_string(static_cast<uint16_t>(p.getPayee())) +
                                     ", which is not one of its codes");
      }
      bool needs_ref = p.getPayee() != cs::Payee::CLIENT;
      if (needs_ref && p.getPayeeRef().size() == 0) {
        return Rule("payment-payee", "a payment to a " + std::string(EnumName(p.getPayee())) +
                                         " names them (payeeRef)");
      }
      if (p.getPayee() == cs::Payee::CONTRACTOR && !l.contractor_ref.empty() &&
          l.contractor_ref != p.getPayeeRef().cStr()) {
        return Rule("payment-payee", "paid to contractor \"" + std::string(p.getPayeeRef().cStr()) +
                                         "\", not the contractor chosen on " + line + " (\"" + l.contractor_ref +
                                         "\")");
      }
      // A grant line (a grant applied for or approved, or a DFG) is paid at
      // most the approved amount plus its variations.
      if (l.dfg() || !l.grant_type.empty() || l.approved_on) {
        int64_t after = static_cast<int64_t>(l.paid_pence) + p.getAmountPence();
        if (!l.approved_on) {
          return Rule("payment-over-approved", "no grant is approved on " + line + " (GrantApproved first)");
        }
        if (after > l.granted_pence()) {
          return Rule("payment-over-approved",
                      "payments on " + line + " would total " + Pounds(after) + ", over the " +
                          Pounds(l.granted_pence()) + " approved" +
                          (l.varied_pence != 0 ? " with its variations" : "") +
                          " (record GrantVariationApproved first)");
        }
      }
      break;
    }
    case F::LAND_CHARGE_REGISTERED: {
      auto c = facts.getLandChargeRegistered();
      Status s = CheckLine(state, c.getLine(), false);
      if (!s.ok()) return s;
      const ServiceLine& l = *state.FindLine(c.getLine());
      std::string line = "line " + std::to_string(c.getLine());
      auto on = DateOf(c.getRegisteredOn());
      if (!l.completed_on) {
        return Rule("land-charge-after-completion",
                    "a land charge secures a grant whose works are certified complete: " + line +
                        " has no WorksCompleted");
      }
      if (on && *on < *l.completed_on) {
        return Rule("land-charge-after-completion",
                    "registered on " + FormatDate(*on) + ", before the works on " + line +
                        " were completed (" + FormatDate(*l.completed_on) + ")");
      }
      if (state.tenure != "ownerOccupier") {
        return Rule("land-charge-owner-occupier",
                    "a grant's land charge is registered on an owner-occupier's home; the client's "
                    "tenure is " +
                        (state.tenure.empty() ? std::string("not recorded") : state.tenure));
      }
      if (l.land_charge_active()) {
        return Rule("land-charge-already-registered",
                    "a land charge on " + line + " was registered on " +
                        FormatDate(*l.land_charge_registered_on) + " and is not released");
      }
      break;
    }
    case F::LAND_CHARGE_RELEASED: {
      auto c = facts.getLandChargeReleased();
      Status s = CheckLine(state, c.getLine(), false);
      if (!s.ok()) return s;
      const ServiceLine& l = *state.FindLine(c.getLine());
      std::string line = "line " + std::to_string(c.getLine());
      if (!l.land_charge_active()) {
        return Rule("land-charge-not-registered",
                    "no land charge stands on " + line +
                        (l.land_charge_released_on
                             ? " (the last one was released on " + FormatDate(*l.land_charge_released_on) + ")"
                             : " (record LandChargeRegistered first)"));
      }
      auto on = DateOf(c.getReleasedOn());
      if (on && *on < *l.land_charge_registered_on) {
        return Rule("land-charge-not-registered",
                    "released on " + FormatDate(*on) + ", before the charge on " + line +
                        " was registered (" + FormatDate(*l.land_charge_registered_on) + ")");
      }
      if (c.getReasonCode().size() == 0) {
        return Rule("land-charge-release-reason",
                    "say why the charge was released (reasonCode: expired, repaid, waived ...)");
      }
      break;
    }
    case F::DELAY_RECORDED:
      return CheckLine(state, facts.getDelayRecorded().getLine(), false);
    case F::OUTCOME_RECORDED:
      return CheckLine(state, facts.getOutcomeRecorded().getLine(), true);
    case F::SATISFACTION_RECORDED: {
      auto r = facts.getSatisfactionRecorded();
      auto score = r.getScore();
      if (score < 1 || score > 5) {
        return Rule("satisfaction-score",
                    "score must be 1 to 5 (got " + std::to_string(score) + ")");
      }
      Status s = CheckLine(state, r.getLine(), true);
      if (!s.ok()) return s;
      std::vector<cs::ImpactReported> seen;
      for (auto impact : r.getImpacts()) {
        if (impact == cs::ImpactReported::UNSPECIFIED) {
          return Rule("satisfaction-impacts", "impacts lists \"unspecified\": name the impacts reported");
        }
        if (std::find(seen.begin(), seen.end(), impact) != seen.end()) {
          return Rule("satisfaction-impacts",
                      "impacts lists \"" + std::string(EnumName(impact)) + "\" twice");
        }
        seen.push_back(impact);
      }
      // The return of the line's questionnaire, when one was sent: once,
      // and not before it was sent. An answer about a line without a
      // questionnaire (given by phone, say) is a response, not a return.
      if (const Questionnaire* q = state.FindQuestionnaire(r.getLine())) {
        std::string which = r.getLine() == 0 ? std::string("the case")
                                             : "line " + std::to_string(r.getLine());
        if (q->returned_on) {
          return Rule("questionnaire-return", "the questionnaire about " + which + " sent on " +
                                                  FormatDate(q->sent_on) + " was already returned on " +
                                                  FormatDate(*q->returned_on));
        }
        auto on = DateOf(r.getRecordedOn());
        if (on && *on < q->sent_on) {
          return Rule("questionnaire-return", "returned on " + FormatDate(*on) +
                                                  ", before the questionnaire about " + which +
                                                  " was sent (" + FormatDate(q->sent_on) + ")");
        }
      }
      break;
    }
    case F::QUESTIONNAIRE_SENT: {
      auto q = facts.getQuestionnaireSent();
      Status s = CheckLine(state, q.getLine(), true);
      if (!s.ok()) return s;
      std::string which = q.getLine() == 0 ? std::string("the case")
                                           : "line " + std::to_string(q.getLine());
      if (const Questionnaire* earlier = state.FindQuestionnaire(q.getLine())) {
        return Rule("questionnaire-sent", "a questionnaire about " + which + " was already sent on " +
                                              FormatDate(earlier->sent_on) +
                                              " (one per line: a reminder is not a second questionnaire)");
      }
      auto on = DateOf(q.getSentOn());
      if (q.getLine() != 0) {
        // "On completion of these works": after the line's works were
        // completed, or the line closed (advice, a withdrawn line).
        const ServiceLine& l = *state.FindLine(q.getLine());
        std::optional<Date> done = l.completed_on ? l.completed_on : l.closed_on;
        if (!done) {
          return Rule("questionnaire-sent", "line " + std::to_string(q.getLine()) +
                                                " is not finished: a questionnaire is sent once its works "
                                                "are completed (WorksCompleted) or it is closed");
        }
        if (on && *on < *done) {
          return Rule("questionnaire-sent", "sent on " + FormatDate(*on) + ", before line " +
                                                std::to_string(q.getLine()) + " was finished (" +
                                                FormatDate(*done) + ")");
        }
      } else {
        // About the case as a whole: once its services are finished, when
        // it is closed or every line is.
        bool finished = state.closed;
        if (!finished && !state.lines.empty()) {
          finished = std::all_of(state.lines.begin(), state.lines.end(), [](const ServiceLine& l) {
            return l.completed_on.has_value() || l.closed_on.has_value();
          });
        }
        if (!finished) {
          return Rule("questionnaire-sent", "the case is open with services not finished: a questionnaire "
                                                "about the case as a whole is sent once it is closed or "
                                                "every line is finished");
        }
      }
      break;
    }
    case F::COMPLAINT_RECEIVED:
      if (facts.getComplaintReceived().getDistrict().size() > 0) {
        return Rule("complaint-district", "facts.district is for a complaint with no case (complaint/K-<n>); "
                                          "a complaint on a case takes the case's district");
      }
      return CheckComplaintFacts(facts, state.complaint_list);
    case F::COMPLAINT_ESCALATED:
    case F::COMPLAINT_RESOLVED:
      return CheckComplaintFacts(facts, state.complaint_list);
    case F::SAFEGUARDING_CONCERN_RAISED: {
      auto r = facts.getSafeguardingConcernRaised();
      uint16_t n = r.getConcern();
      if (n == 0 || state.FindSafeguardingConcern(n) != nullptr) {
        return Rule("safeguarding-concern-number",
                    "safeguarding concern " + std::to_string(n) +
                        (n == 0 ? " is not a number (from 1)" : " was already raised on this case"));
      }
      if (r.getPersonType() == cs::SafeguardingPersonType::UNSPECIFIED) {
        return Rule("safeguarding-person", "say whether an adult or a child is at risk (personType)");
      }
      auto category = r.getCategory();
      if (category == cs::SafeguardingCategory::UNSPECIFIED) {
        return Rule("safeguarding-category", "say what kind of abuse or neglect (category)");
      }
      if ((category == cs::SafeguardingCategory::CHILD_SEXUAL_EXPLOITATION ||
           category == cs::SafeguardingCategory::CHILD_CRIMINAL_EXPLOITATION) &&
          r.getPersonType() != cs::SafeguardingPersonType::CHILD) {
        return Rule("safeguarding-category",
                    std::string(EnumName(category)) + " concerns a child (personType child)");
      }
      bool to = r.getReferredTo() != cs::SafeguardingAgency::UNSPECIFIED;
      bool on = r.getReferredOn().size() > 0;
      if (to != on) {
        return Rule("safeguarding-referral",
                    "a referral records both to whom (referredTo) and when (referredOn)");
      }
      if (r.getReferredToSocialCare() && !to) {
        return Rule("safeguarding-referral",
                    "referredToSocialCare needs the referral itself: referredTo and referredOn");
      }
      auto raised = DateOf(r.getRaisedOn());
      auto referred = DateOf(r.getReferredOn());
      if (raised && referred && *referred < *raised) {
        return Rule("safeguarding-referral", "referred on " + FormatDate(*referred) +
                                                 ", before the concern was raised on " +
                                                 FormatDate(*raised));
      }
      break;
    }
    case F::SAFEGUARDING_REFERRAL_ACKNOWLEDGED: {
      auto a = facts.getSafeguardingReferralAcknowledged();
      const SafeguardingConcern* c = state.FindSafeguardingConcern(a.getConcern());
      if (c == nullptr) {
        return Rule("safeguarding-concern-number", "safeguarding concern " + std::to_string(a.getConcern()) +
                                                       " was never raised on this case");
      }
      if (!c->referred_on) {
        return Rule("safeguarding-acknowledgement", "concern " + std::to_string(c->number) +
                                                        " was not referred to an agency");
      }
      if (c->acknowledged_on) {
        return Rule("safeguarding-acknowledgement", "concern " + std::to_string(c->number) +
                                                        " was already acknowledged on " +
                                                        FormatDate(*c->acknowledged_on));
      }
      auto on = DateOf(a.getAcknowledgedOn());
      if (on && *on < *c->referred_on) {
        return Rule("safeguarding-acknowledgement", "acknowledged on " + FormatDate(*on) +
                                                        ", before the referral on " +
                                                        FormatDate(*c->referred_on));
      }
      break;
    }
    case F::SAFEGUARDING_OUTCOME_RECORDED: {
      auto o = facts.getSafeguardingOutcomeRecorded();
      if (state.FindSafeguardingConcern(o.getConcern()) == nullptr) {
        return Rule("safeguarding-concern-number", "safeguarding concern " + std::to_string(o.getConcern()) +
                                                       " was never raised on this case");
      }
      if (o.getOutcome() == cs::SafeguardingOutcome::UNSPECIFIED) {
        return Rule("safeguarding-outcome", "say what was done (outcome)");
      }
      break;
    }
    case F::CASE_TRANSFERRED: {
      auto t = facts.getCaseTransferred();
      if (t.getToDistrict().size() > 0 && !IsDistrictCode(t.getToDistrict().cStr())) {
        return Rule("district-code", "toDistrict must be a district code");
      }
      break;
    }
    case F::CASE_REOPENED:
      if (!state.closed) return Rule("case-not-closed", "only a closed case can be reopened");
      break;
    case F::CONSULTATION_HELD: {
      auto c = facts.getConsultationHeld();
      auto held = DateOf(c.getHeldOn());
      auto due = DateOf(c.getFollowUpOn());
      if (held && due && *due < *held) {
        return Rule("follow-up-date", "follow-up due on " + FormatDate(*due) + ", before the consultation on " +
                                          FormatDate(*held));
      }
      break;
    }
    case F::CASE_ALLOCATED: {
      auto a = facts.getCaseAllocated();
      std::string worker = a.getWorkerRef().cStr();
      if (!IsStaffRef(worker)) {
        return Rule("case-allocation-worker",
                    "workerRef must be a staff reference, S- then 1 to 30 of A-Z a-z 0-9 - (e.g. S-D3-07), "
                    "never a name");
      }
      if (worker == state.worker) {
        return Rule("case-allocation-worker", "the case is already allocated to " + worker + " (since " +
                                                  (state.allocated_on ? FormatDate(*state.allocated_on) : "?") +
                                                  ")");
      }
      auto on = DateOf(a.getAllocatedOn());
      if (on && state.enquiry_on && *on < *state.enquiry_on) {
        return Rule("case-allocation-date", "allocated on " + FormatDate(*on) + ", before the enquiry on " +
                                                FormatDate(*state.enquiry_on));
      }
      if (on && state.allocated_on && *on < *state.allocated_on) {
        return Rule("case-allocation-date", "allocated on " + FormatDate(*on) + ", before the current allocation to " +
                                                state.worker + " on " + FormatDate(*state.allocated_on));
      }
      if (on && state.deallocated_on && *on < *state.deallocated_on) {
        return Rule("case-allocation-date", "allocated on " + FormatDate(*on) + ", before the last worker was taken "
                                                "off the case on " + FormatDate(*state.deallocated_on));
      }
      break;
    }
    case F::CASE_DEALLOCATED: {
      auto d = facts.getCaseDeallocated();
      std::string worker = d.getWorkerRef().cStr();
      if (state.worker.empty()) {
        return Rule("case-deallocation", "the case has no worker to take off (record CaseAllocated first)");
      }
      if (worker != state.worker) {
        return Rule("case-deallocation", "the case is allocated to " + state.worker + ", not to " +
                                             (worker.empty() ? std::string("(no workerRef)") : worker));
      }
      auto on = DateOf(d.getDeallocatedOn());
      if (on && state.allocated_on && *on < *state.allocated_on) {
        return Rule("case-allocation-date", "taken off on " + FormatDate(*on) + ", before the allocation to " +
                                                worker + " on " + FormatDate(*state.allocated_on));
      }
      break;
    }
    case F::DOCUMENT_ATTACHED: {
      Status s = CheckDocument(facts.getDocumentAttached(), e, state);
      if (!s.ok()) return s;
      break;
    }
    default:
      break;
  }
  return Status::OK();
}

}  // namespace

CaseRecorder::CaseRecorder(Store* store, const Codec* codec, RecorderOptions options)
    : store_(store), codec_(codec), options_(std::move(options)) {}
CaseRecorder::~CaseRecorder() = default;

Status CaseRecorder::ValidCaseId(const std::string& case_id) {
  if (case_id.size() < 6 || case_id.size() > 200 || case_id.compare(0, 5, "case/") != 0) {
    return Status::InvalidArgument("case id \"" + case_id +
                                   "\": expected \"case/\" and an opaque reference, e.g. "
                                   "case/D3/000123");
  }
  for (char c : case_id) {
    if (!isalnum(static_cast<unsigned char>(c)) && std::string_view("._:/@+-").find(c) ==
                                                       std::string_view::npos) {
      return Status::InvalidArgument("case id \"" + case_id +
                                     "\": only letters, digits and ._:/@+- are allowed");
    }
  }
  return Status::OK();
}

Result<CaseState> CaseRecorder::Load(const std::string& case_id, uint64_t up_to) {
  return LoadCase(case_id, up_to, nullptr, nullptr);
}

Result<CaseState> CaseRecorder::LoadCase(const std::string& case_id, uint64_t up_to,
                                         const std::vector<NewEvent>* batch,
                                         uint64_t* repeated_version) {
  Status s = ValidCaseId(case_id);
  if (!s.ok()) return s;
  CaseState state;
  state.case_id = case_id;
  CaseFolder folder(codec_);
  uint64_t from = 1;
  for (;;) {
    auto batch_read = store_->ReadStream(case_id, from, Direction::kForward, 1024);
    if (!batch_read.ok()) {
      if (batch_read.status().IsNotFound() && from > 1) break;
      if (batch_read.status().IsNotFound()) return Status::NotFound("no case " + case_id);
      return batch_read.status();
    }
    if (batch_read->empty()) break;
    for (const auto& e : *batch_read) {
      if (up_to != 0 && e.stream_version > up_to) return state;
      if (batch != nullptr && *repeated_version == 0) {
        for (const NewEvent& n : *batch) {
          if (n.id == e.id) {
            *repeated_version = e.stream_version;
            break;
          }
        }
      }
      s = folder.Apply(e, &state);
      if (!s.ok()) return s;
    }
    from = batch_read->back().stream_version + 1;
    if (batch_read->size() < 1024) break;
  }
  return state;
}

Status CaseRecorder::Validate(const std::string& case_id, CaseState state,
                              std::vector<NewEvent>* events, CaseFolder* folder) {
  (void)folder;
  const CodecTables& t = codec_->tables();
  FactsDecoder decoder(&t);
  PackedDecoder personal_decoder;
  Date today = options_.today ? options_.today() : UkDate(Now());
  std::optional<ActiveRestrictions> restricted;  // read once, when needed
  std::optional<ContractorList> vetted;                  // read once, when needed
  ContractorsFn contractors = [&]() -> Result<const ContractorList*> {
    if (!vetted) {
      auto read = ReadContractors(*store_, *codec_);
      if (!read.ok()) return read.status();
      vetted = std::move(*read);
    }
    return &*vetted;
  };
  const bool opens = !state.exists();
  if (options_.authorise && !opens) {
    Status s = options_.authorise(state);
    if (!s.ok()) return s;
  }
  for (size_t i = 0; i < events->size(); ++i) {
    NewEvent& e = (*events)[i];
    auto where = [&] {
      return " (case " + case_id + ", event " + std::to_string(i + 1) + " of " +
             std::to_string(events->size()) + ", " + e.type + ")";
    };
    auto refuse = [&](const Status& s) { return Status::InvalidArgument(s.message() + where()); };
    const TypeEntry* type = t.Find(e.type);
    if (type == nullptr) {
      return refuse(Rule("unknown-event-type", "\"" + e.type + "\" is not an event type"));
    }
    if (e.schema_version > type->version) {
      return refuse(Rule("newer-schema-version",
                         type->name + " schema version " + std::to_string(e.schema_version) +
                             " is newer than this code knows (" + std::to_string(type->version) +
                             ")"));
    }
    if (e.schema_version < type->version) {
      RecordedEvent r;
      r.stream = case_id;
      r.type = e.type;
      r.schema_version = e.schema_version;
      r.facts = std::move(e.facts);
      r.personal = std::move(e.personal);
      r.subjects = e.subjects;
      Status s = UpcastEvent(t, &r);
      if (!s.ok()) return refuse(Rule("unknown-schema-version", s.message()));
      e.schema_version = r.schema_version;
      e.facts = std::move(r.facts);
      e.personal = std::move(r.personal);
    }
    cs::Facts::Reader facts;
    Status s = decoder.DecodeCurrent(*type, e.facts, &facts);
    if (!s.ok()) return refuse(Rule("malformed-facts", s.message()));

    // Dates: well formed, present where required, not in the future.
    try {
      auto member = capnp::DynamicStruct::Reader(facts).get(type->field).as<capnp::DynamicStruct>();
      auto fields = type->schema.getFields();
      if (fields.size() > 0 && !member.has(fields[0])) {
        return refuse(Rule("date-required",
                           std::string("facts.") + fields[0].getProto().getName().cStr() +
                               " (the date of the event) is required"));
      }
      s = VisitDates(type->dates, member, [&](const DateField& df, std::string_view value) {
        Date d;
        if (value.empty() && &df != &type->dates.front()) return Status::OK();
        if (!ParseDate(value, &d)) {
          return Rule("invalid-date", "facts." + df.name + " \"" + std::string(value) +
                                          "\" is not a YYYY-MM-DD date");
        }
        if (df.past && d > today) {
          return Rule("date-in-future", "facts." + df.name + " " + FormatDate(d) +
                                            " is after today (" + FormatDate(today) + ")");
        }
        return Status::OK();
      });
      if (!s.ok()) return refuse(s);
      s = CheckCodes(*type, member);  // codes, not free text
      if (!s.ok()) return refuse(Rule("code-field", s.message()));
    } catch (const kj::Exception& ex) {
      return refuse(Rule("malformed-facts", ex.getDescription().cStr()));
    }

    // Personal sections: decodable Personal messages with well-formed dates;
    // their identifiers are indexed.
    for (auto& p : e.personal) {
      capnp::DynamicStruct::Reader personal;
      s = personal_decoder.Decode(p.data, t.personal, &personal);
      if (!s.ok()) {
        return refuse(Rule("malformed-personal", "section of " + p.subject + ": " + s.message()));
      }
      try {
        s = VisitDates(t.personal_dates, personal, [&](const DateField& df, std::string_view value) {
          Date d;
          if (!value.empty() && !ParseDate(value, &d)) {
            return Rule("invalid-date", "personal " + p.subject + " " + df.name +
                                            " is not a YYYY-MM-DD date");
          }
          return Status::OK();
        });
        if (!s.ok()) return refuse(s);
        if (p.identifiers.empty()) p.identifiers = IdentifiersOf(personal.as<cs::Personal>());
      } catch (const kj::Exception& ex) {
        return refuse(Rule("malformed-personal", ex.getDescription().cStr()));
      }
    }

    // Every event on a case concerns its client.
    if (state.exists() && !state.client.empty() && !Names(e, state.client)) {
      e.subjects.push_back(SubjectRef{state.client, SubjectRole::kClient});
    }

    // UK GDPR Art. 18: while a person's processing is restricted, only a
    // writer with the controller's power records new events about them
    // (store/rights). The power comes from the options (a Session's
    // controller scope), never from the role an event's actor names.
    if (!options_.controller) {
      if (!restricted) {
        auto read = ActiveRestrictions::Read(*store_, *codec_);
        if (!read.ok()) return read.status();
        restricted = std::move(*read);
      }
      for (const auto& s : e.subjects) {
        if (auto since = restricted->Since(s.id)) {
          return refuse(Rule("subject-restricted", "processing of " + s.id + " is restricted since " +
                                                       FormatDate(*since) +
                                                       "; only the data controller (controller scope) may record events about them"));
        }
      }
    }

    try {
      s = CheckCaseRules(*type, facts, e, state, contractors);
    } catch (const kj::Exception& ex) {
      s = Rule("malformed-facts", ex.getDescription().cStr());
    }
    if (!s.ok()) return s.IsInvalidArgument() ? refuse(s) : s;  // a rule, or the store's error

    s = FoldFacts(*type, facts, e.subjects, e.personal, &state);
    if (!s.ok()) return refuse(Rule("malformed-facts", s.message()));
    ++state.version;
    if (options_.authorise && opens && i == 0) {
      s = options_.authorise(state);
      if (!s.ok()) return s;
    }
  }
  return Status::OK();
}

Status CaseRecorder::Check(const std::string& case_id, const std::vector<NewEvent>& events) {
  Status s = ValidCaseId(case_id);
  if (!s.ok()) return s;
  if (events.empty()) return Status::InvalidArgument("no events to record");
  CaseState state;
  auto loaded = Load(case_id);
  if (loaded.ok()) {
    state = std::move(*loaded);
  } else if (!loaded.status().IsNotFound()) {
    return loaded.status();
  }
  std::vector<NewEvent> copy = events;
  CaseFolder folder(codec_);
  return Validate(case_id, std::move(state), &copy, &folder);
}

Result<AppendResult> CaseRecorder::Record(const std::string& case_id,
                                          std::vector<NewEvent> events) {
  return Record(case_id, ExpectedVersion::Any(), std::move(events));
}

Result<AppendResult> CaseRecorder::Record(const std::string& case_id, ExpectedVersion expected,
                                          std::vector<NewEvent> events) {
  Status s = ValidCaseId(case_id);
  if (!s.ok()) return s;
  if (events.empty()) return Status::InvalidArgument("no events to record");
  if (expected.kind == ExpectedVersion::Kind::kExact && expected.version == 0) {
    return Status::InvalidArgument("expected version 0 is not a version: use no-stream");
  }
  const bool any = expected.kind == ExpectedVersion::Kind::kAny;
  CaseFolder folder(codec_);
  // Only an append that may land at any version is re-read and retried: with
  // an expectation, the caller validated its command against that version.
  int attempts = any ? std::max(1, options_.max_attempts) : 1;
  Status last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    CaseState state;
    uint64_t repeated = 0;
    auto loaded = LoadCase(case_id, 0, &events, &repeated);
    if (loaded.ok()) {
      state = std::move(*loaded);
    } else if (!loaded.status().IsNotFound()) {
      return loaded.status();
    }
    if (repeated != 0) {
      // A retry of a batch already on the case: it is validated against the
      // state its original was validated against (so it gets the same added
      // subjects and upcasting), and the store returns the original positions
      // (duplicate), or refuses a batch that is not the same; it writes nothing.
      CaseState before;
      if (repeated > 1) {
        auto earlier = LoadCase(case_id, repeated - 1, nullptr, nullptr);
        if (!earlier.ok()) return earlier.status();
        before = std::move(*earlier);
      }
      std::vector<NewEvent> batch = events;
      s = Validate(case_id, std::move(before), &batch, &folder);
      if (!s.ok()) return s;
      return store_->Append(case_id, expected, batch);
    }
    if (!any) {
      bool conflict = expected.kind == ExpectedVersion::Kind::kNoStream
                          ? state.exists()
                          : state.version != expected.version;
      if (conflict) {
        return Status::Conflict("stream " + case_id + ": expected version " + expected.ToString() +
                                ", actual " +
                                (state.exists() ? std::to_string(state.version)
                                                : std::string("no-stream")));
      }
    }
    std::vector<NewEvent> batch = events;
    s = Validate(case_id, state, &batch, &folder);
    if (!s.ok()) return s;
    // The expected version is the version validated against.
    ExpectedVersion validated =
        state.exists() ? ExpectedVersion::Exact(state.version) : ExpectedVersion::NoStream();
    auto appended = store_->Append(case_id, validated, batch);
    if (appended.ok() || !appended.status().IsConflict() || !any) return appended;
    last = appended.status();
  }
  return Status::Conflict("case " + case_id + ": still conflicting after " +
                          std::to_string(attempts) + " attempts: " + last.message());
}

}  // namespace hearth::domain
