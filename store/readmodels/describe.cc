// Plain English for the timeline: one line per event, from its facts, and
// each event type's own date (its business date). Codes are turned into
// words (occupationalTherapist -> "occupational therapist") with a few
// spelled out by hand (GP, DFG, Age UK ...).
#include "readmodels/describe.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <map>

namespace hearth::readmodels {

namespace {

using Json = nlohmann::json;

const std::map<std::string, std::string, std::less<>>& Overrides() {
  static const auto* kWords = new std::map<std::string, std::string, std::less<>>{
      {"gp", "GP"},
      {"ot", "OT"},
      {"ageUk", "Age UK"},
      {"citizensAdvice", "Citizens Advice"},
      {"mandatoryDfg", "mandatory DFG"},
      {"discretionaryDfg", "discretionary DFG"},
      {"otTrustedAssessor", "OT / trusted assessor"},
      {"otAssessment", "OT assessment"},
      {"informationAdvice", "information and advice"},
      {"minorAdaptationsHandyperson", "minor adaptations and handyperson"},
      {"healthierSaferHomes", "healthier and safer homes"},
      {"socialCare", "adult social care"},
      {"stage1", "stage 1"},
      {"stage2", "stage 2"},
      {"inPerson", "in person"},
      {"friendOrFamily", "a friend or relative"},
      {"self", "the person themselves"},
      {"nonUrgent", "not urgent"},
      {"bestInterests", "best interests"},
      {"dataSubject", "the person themselves"},
      {"notNecessaryAndAppropriate", "not necessary and appropriate"},
      {"notReasonableAndPracticable", "not reasonable and practicable"},
      {"equityReleaseAndLoans", "equity release and loans"},
      {"fireSafetyCheck", "home fire safety check"},
      {"childrensServices", "children's services"},
      {"adultSocialCare", "adult social care"},
      {"childSexualExploitation", "child sexual exploitation"},
      {"childCriminalExploitation", "child criminal exploitation"},
      {"prevent", "Prevent (radicalisation)"},
      {"hospital", "in hospital"},
  };
  return *kWords;
}

}  // namespace

std::string Words(std::string_view code) {
  auto it = Overrides().find(code);
  if (it != Overrides().end()) return it->second;
  std::string out;
  for (char c : code) {
    if (c >= 'A' && c <= 'Z') {
      out.push_back(' ');
      out.push_back(char(c - 'A' + 'a'));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Money(uint64_t pence) {
  std::string whole = std::to_string(pence / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(whole[i]);
  }
  char cents[4];
  std::snprintf(cents, sizeof cents, "%02u", unsigned(pence % 100));
  return "\xC2\xA3" + grouped + "." + cents;
}

namespace {

std::string Str(const Json& f, const char* key) {
  auto it = f.find(key);
  if (it == f.end() || !it->is_string()) return std::string();
  return it->get<std::string>();
}

// An enumerant in words, or "" when absent or unspecified.
std::string Code(const Json& f, const char* key) {
  std::string v = Str(f, key);
  if (v.empty() || v == "unspecified") return std::string();
  return Words(v);
}

uint64_t Num(const Json& f, const char* key) {
  auto it = f.find(key);
  if (it == f.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) return uint64_t(std::max<int64_t>(0, it->get<int64_t>()));
  if (it->is_string()) {
    try {
      return std::stoull(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

bool Flag(const Json& f, const char* key) {
  auto it = f.find(key);
  return it != f.end() && it->is_boolean() && it->get<bool>();
}

// A list of enumerants (or texts) in words, joined with ", ".
std::string List(const Json& f, const char* key, bool codes = true) {
  auto it = f.find(key);
  if (it == f.end() || !it->is_array()) return std::string();
  std::string out;
  for (const auto& v : *it) {
    if (!v.is_string()) continue;
    std::string s = v.get<std::string>();
    if (s.empty() || s == "unspecified") continue;
    if (!out.empty()) out += ", ";
    out += codes ? Words(s) : s;
  }
  return out;
}

std::string Line(const Json& f) { return "Line " + std::to_string(Num(f, "line")) + ": "; }

// " (x)" when x is not empty.
std::string Paren(const std::string& x) { return x.empty() ? std::string() : " (" + x + ")"; }
// prefix + x when x is not empty.
std::string With(const char* prefix, const std::string& x) {
  return x.empty() ? std::string() : prefix + x;
}

}  // namespace

std::string Article(const std::string& noun) {
  if (noun.empty()) return noun;
  if (noun.starts_with("the ") || noun.starts_with("a ") || noun.starts_with("an ")) return noun;
  if (noun == "GP") return "a GP";
  if (noun == "OT" || noun.starts_with("OT ")) return "an " + noun;
  if (noun == "Age UK" || noun == "Citizens Advice" || noun == "police" || noun == "adult social care") {
    return noun;
  }
  char c = noun[0];
  bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return (vowel ? "an " : "a ") + noun;
}

namespace {

std::string Needs(const Json& f) {
  static const char* kAreas[][2] = {{"healthAndWellbeing", "health and wellbeing"},
                                    {"abilityToManage", "ability to manage"},
                                    {"incomeAndSavings", "income and savings"},
                                    {"propertyCondition", "property condition"},
                                    {"socialSupport", "social support"}};
  std::string out;
  for (const auto& area : kAreas) {
    std::string level = Code(f, area[0]);
    if (level.empty()) continue;
    if (!out.empty()) out += ", ";
    out += area[1] + std::string(" ") + level;
  }
  return out;
}

std::string Consent(const Json& basis) {
  if (!basis.is_object()) return "no consent basis";
  if (basis.contains("given")) {
    const Json& g = basis["given"];
    return "consent given" + Paren(Code(g, "method")) + With(" to ", List(g, "scopes"));
  }
  if (basis.contains("bestInterests")) {
    return "on a best-interests decision" + With(" by ", Str(basis["bestInterests"], "decisionMaker"));
  }
  if (basis.contains("riskOfHarm")) {
    return std::string("on risk of harm") +
           (Flag(basis["riskOfHarm"], "safeguardingRaised") ? ", safeguarding raised" : "");
  }
  return "no consent basis";
}

struct TypeText {
  const char* date_field;
  std::string (*describe)(const Json& f);
};

const std::map<std::string, TypeText, std::less<>>& Types() {
  static const auto* kTypes = new std::map<std::string, TypeText, std::less<>>{
      {"PersonRegistered",
       {"registeredOn",
        [](const Json& f) {
          std::string d = "Person registered";
          std::string parts = With("age band ", Str(f, "ageBand"));
          std::string tenure = Code(f, "tenure");
          if (!tenure.empty()) parts += (parts.empty() ? "" : ", ") + tenure;
          if (Flag(f, "livesAlone")) parts += (parts.empty() ? "" : ", ") + std::string("lives alone");
          if (Flag(f, "hasCarer")) parts += (parts.empty() ? "" : ", ") + std::string("has a carer");
          return d + Paren(parts);
        }}},
      {"PersonDetailsRectified",
       {"rectifiedOn",
        [](const Json& f) {
          return "Details rectified" + With(": ", List(f, "fields", false)) +
                 (Flag(f, "requestedBySubject") ? " (at the person's request)" : "");
        }}},
      {"ContactRecorded",
       {"contactedOn",
        [](const Json& f) {
          std::string purpose = Str(f, "purpose");
          std::string d = purpose == "enquiry" ? "Enquiry"
                          : purpose.empty() || purpose == "unspecified"
                              ? "Contact"
                              : "Contact (" + Words(purpose) + ")";
          d += With(" by ", Code(f, "channel"));
          d += With(" from ", Article(Code(f, "referrerType")));
          d += With(", about ", List(f, "topics"));
          d += With(", district ", Str(f, "district"));
          return d;
        }}},
      {"ConsultationHeld",
       {"heldOn",
        [](const Json& f) {
          std::string d = "Consultation" + With(" by ", Code(f, "channel"));
          if (Num(f, "minutes") > 0) d += ", " + std::to_string(Num(f, "minutes")) + " minutes";
          d += With("; advice given: ", List(f, "adviceGiven"));
          if (Flag(f, "referralNeeded")) d += "; a referral is needed";
          d += With("; follow up by ", Str(f, "followUpOn"));
          return d;
        }}},
      {"ReferralMade",
       {"referredOn",
        [](const Json& f) {
          std::string d = Flag(f, "selfReferral") ? "Self-referral" : "Referral";
          d += With(" for ", Code(f, "service"));
          if (!Flag(f, "selfReferral")) d += With(" by ", Article(Code(f, "referrerType")));
          auto it = f.find("consentBasis");
          d += "; " + Consent(it == f.end() ? Json() : *it);
          return d;
        }}},
      {"ConsentGiven",
       {"givenOn",
        [](const Json& f) {
          return "Consent given" + Paren(Code(f, "method")) + With(": ", Code(f, "scope")) +
                 Paren(Str(f, "namedPerson"));
        }}},
      {"ConsentWithdrawn",
       {"withdrawnOn",
        [](const Json& f) {
          return "Consent withdrawn" + With(": ", Code(f, "scope")) + Paren(Str(f, "namedPerson"));
        }}},
      {"FirstVisitScheduled",
       {"scheduledOn",
        [](const Json& f) {
          return "First visit booked" + With(" for ", Str(f, "visitOn")) + Paren(Code(f, "mode"));
        }}},
      {"FirstVisitConfirmedInWriting",
       {"sentOn",
        [](const Json& f) { return "First visit confirmed in writing" + With(" by ", Code(f, "channel")); }}},
      {"FirstVisitCompleted",
       {"completedOn",
        [](const Json& f) {
          return "First visit made" + Paren(Code(f, "mode")) +
                 With(" by ", Article(Words(Str(f, "visitorRole"))));
        }}},
      {"AssessmentRecorded",
       {"assessedOn",
        [](const Json& f) {
          std::string d = "Assessment" + With(": needs ", Needs(f));
          if (Flag(f, "wishesRecorded")) d += "; the person's wishes recorded";
          if (Num(f, "hazards") > 0) d += "; " + std::to_string(Num(f, "hazards")) + " hazards found";
          return d;
        }}},
      {"RightsConfirmed",
       {"confirmedOn",
        [](const Json& f) {
          std::string known;
          for (const char* k : {"review", "termination", "privacy", "access", "handbook"}) {
            if (!Flag(f, k)) continue;
            if (!known.empty()) known += ", ";
            known += k;
          }
          return "The person confirmed they know their rights" + With(": ", known);
        }}},
      {"SupportPlanAgreed",
       {"agreedOn",
        [](const Json& f) {
          size_t n = f.contains("actions") && f["actions"].is_array() ? f["actions"].size() : 0;
          return "Support plan agreed: " + std::to_string(n) + (n == 1 ? " action" : " actions") +
                 With("; review due ", Str(f, "reviewOn"));
        }}},
      {"SupportPlanChanged",
       {"changedOn",
        [](const Json& f) {
          size_t n = f.contains("actions") && f["actions"].is_array() ? f["actions"].size() : 0;
          return "Support plan changed" + Paren(Words(Str(f, "reasonCode"))) + ": " +
                 std::to_string(n) + (n == 1 ? " action" : " actions") +
                 With("; review due ", Str(f, "reviewOn"));
        }}},
      {"SupportPlanReviewed",
       {"reviewedOn",
        [](const Json& f) {
          return std::string("Support plan reviewed") + (Flag(f, "changed") ? " and changed" : "") +
                 With("; next review ", Str(f, "nextReviewOn"));
        }}},
      {"ServiceElementOpened",
       {"openedOn",
        [](const Json& f) {
          return "Service line " + std::to_string(Num(f, "line")) + " opened: " +
                 Code(f, "element") + With(" \xE2\x80\x94 ", Code(f, "service"));
        }}},
      {"ServiceElementClosed",
       {"closedOn",
        [](const Json& f) {
          return "Service line " + std::to_string(Num(f, "line")) + " closed" +
                 With(": ", Code(f, "result"));
        }}},
      {"PriorityAssessed",
       {"assessedOn",
        [](const Json& f) {
          std::string d = Line(f) + "OT priority " + std::to_string(Num(f, "otPriority"));
          return d + With(", ", Code(f, "urgency"));
        }}},
      {"EligibilityDecided",
       {"decidedOn",
        [](const Json& f) {
          if (Flag(f, "eligible")) return Line(f) + "eligible";
          return Line(f) + "not eligible" + Paren(Code(f, "reason")) +
                 (Flag(f, "appealRightsGiven") ? "; the right to appeal explained" : "");
        }}},
      {"MeansTestCompleted",
       {"completedOn",
        [](const Json& f) {
          std::string d = Line(f) + "means test" + With(": ", Code(f, "result"));
          if (Num(f, "contributionPence") > 0) d += ", contribution " + Money(Num(f, "contributionPence"));
          return d;
        }}},
      {"GrantApplicationMade",
       {"submittedOn",
        [](const Json& f) {
          std::string d = Line(f) + "application for " + Code(f, "grantType") + " submitted";
          if (Num(f, "requestedPence") > 0) d += ", " + Money(Num(f, "requestedPence")) + " requested";
          return d + With("; valid from ", Str(f, "validOn"));
        }}},
      {"GrantApproved",
       {"approvedOn",
        [](const Json& f) {
          std::string d = Line(f) + Code(f, "grantType") + " approved, " + Money(Num(f, "amountPence"));
          if (Num(f, "discretionaryTopUpPence") > 0) {
            d += " (of which discretionary top-up " + Money(Num(f, "discretionaryTopUpPence")) + ")";
          }
          if (Num(f, "clientContributionPence") > 0) {
            d += "; client's contribution " + Money(Num(f, "clientContributionPence"));
          }
          return d + With(", funded by ", Code(f, "fundingSource")) +
                 Paren(Words(Str(f, "rationaleCode")));
        }}},
      {"GrantVariationApproved",
       {"approvedOn",
        [](const Json& f) {
          auto it = f.find("amountPence");
          int64_t pence = it != f.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
          return Line(f) + "grant varied: " + (pence < 0 ? "decreased by " : "increased by ") +
                 Money(uint64_t(pence < 0 ? -pence : pence)) + Paren(Words(Str(f, "reasonCode")));
        }}},
      {"UrgentWorksExemptionRecorded",
       {"recordedOn",
        [](const Json& f) {
          return Line(f) + "works may start before approval (urgent works)" +
                 Paren(Words(Str(f, "reasonCode")) + With(", agreed by ", Words(Str(f, "authorisedByRole"))));
        }}},
      {"GrantRefused",
       {"refusedOn",
        [](const Json& f) {
          return Line(f) + Code(f, "grantType") + " refused" + Paren(List(f, "reasons")) +
                 (Flag(f, "appealRightsGiven") ? "; the right to appeal explained" : "") +
                 With(", appeal by ", Str(f, "appealBy"));
        }}},
      {"FundingDecided",
       {"decidedOn",
        [](const Json& f) {
          return Line(f) + "funding" + With(" from ", Code(f, "source")) + ", " +
                 Money(Num(f, "amountPence")) + Paren(Words(Str(f, "rationaleCode")));
        }}},
      {"WorksSpecified",
       {"specifiedOn",
        [](const Json& f) {
          std::string d = Line(f) + "works specified" + Paren(List(f, "workCodes"));
          if (Num(f, "estimatePence") > 0) d += ", estimate " + Money(Num(f, "estimatePence"));
          return d;
        }}},
      {"QuoteReceived",
       {"receivedOn",
        [](const Json& f) {
          return Line(f) + "quote of " + Money(Num(f, "amountPence")) +
                 With(" from contractor ", Str(f, "contractorRef"));
        }}},
      {"ContractorChosen",
       {"chosenOn",
        [](const Json& f) {
          return Line(f) + "contractor " + Str(f, "contractorRef") + " chosen at " +
                 Money(Num(f, "amountPence")) + Paren(Words(Str(f, "reasonCode")));
        }}},
      {"WorksStarted", {"startedOn", [](const Json& f) { return Line(f) + "works started"; }}},
      {"WorksCompleted",
       {"completedOn",
        [](const Json& f) {
          std::string d = Line(f) + "works completed";
          if (Num(f, "finalCostPence") > 0) d += ", final cost " + Money(Num(f, "finalCostPence"));
          return d;
        }}},
      {"WorksPaid",
       {"paidOn",
        [](const Json& f) {
          std::string to = Code(f, "payee");
          std::string ref = Str(f, "payeeRef");
          return Line(f) + Money(Num(f, "amountPence")) + " paid" + With(" to ", to) +
                 (ref.empty() ? std::string() : (to.empty() ? " to " : " ") + ref);
        }}},
      {"LandChargeRegistered",
       {"registeredOn",
        [](const Json& f) {
          std::string d = Line(f) + "local land charge registered";
          if (Num(f, "amountPence") > 0) d += " for " + Money(Num(f, "amountPence"));
          return d + Paren(Str(f, "registerRef"));
        }}},
      {"LandChargeReleased",
       {"releasedOn",
        [](const Json& f) {
          return Line(f) + "local land charge released" + Paren(Words(Str(f, "reasonCode")));
        }}},
      {"OutcomeRecorded",
       {"recordedOn",
        [](const Json& f) {
          std::string d = "Outcomes" + With(": ", List(f, "outcomes"));
          if (Num(f, "line") > 0) d += " (line " + std::to_string(Num(f, "line")) + ")";
          return d;
        }}},
      {"SatisfactionRecorded",
       {"recordedOn",
        [](const Json& f) {
          std::string d = Num(f, "line") > 0 ? Line(f) : std::string();
          d += (d.empty() ? "Satisfaction " : "satisfaction ") + std::to_string(Num(f, "score")) + " of 5" +
               (Flag(f, "wouldRecommend") ? ", would recommend the service" : "");
          d += With("; quality of life: ", Code(f, "qualityOfLife"));
          d += With("; impact: ", List(f, "impacts"));
          return d;
        }}},
      {"QuestionnaireSent",
       {"sentOn",
        [](const Json& f) {
          std::string about = Num(f, "line") > 0 ? "line " + std::to_string(Num(f, "line")) : "the case";
          return "Satisfaction and impact questionnaire about " + about + " sent" + With(" by ", Code(f, "channel"));
        }}},
      {"ComplaintReceived",
       {"receivedOn",
        [](const Json& f) {
          std::string about = Words(Str(f, "categoryCode"));
          return "Complaint " + std::to_string(Num(f, "complaint")) + " received" +
                 Paren(Code(f, "stage")) + With(" about ", about) + With(", district ", Str(f, "district"));
        }}},
      {"ComplaintEscalated",
       {"escalatedOn",
        [](const Json& f) {
          return "Complaint " + std::to_string(Num(f, "complaint")) + " escalated" + With(" to ", Code(f, "toStage"));
        }}},
      {"ComplaintResolved",
       {"resolvedOn",
        [](const Json& f) {
          return "Complaint " + std::to_string(Num(f, "complaint")) + " resolved" +
                 With(" at ", Code(f, "stage")) + With(": ", Code(f, "result"));
        }}},
      {"ComplimentReceived",
       {"receivedOn",
        [](const Json& f) { return "Compliment" + With(" about ", Code(f, "aboutService")); }}},
      {"SafeguardingConcernRaised",
       {"raisedOn",
        [](const Json& f) {
          std::string n = Num(f, "concern") > 0 ? " " + std::to_string(Num(f, "concern")) : std::string();
          std::string to = Code(f, "referredTo");
          return "Safeguarding concern" + n + With(": ", Code(f, "category")) + Paren(Code(f, "personType")) +
                 (Flag(f, "urgent") ? ", immediate risk" : "") +
                 (!to.empty() ? "; referred to " + Article(to) + With(" on ", Str(f, "referredOn"))
                  : Flag(f, "referredToSocialCare") ? "; referred to adult social care"
                                                    : "");
        }}},
      {"SafeguardingReferralAcknowledged",
       {"acknowledgedOn",
        [](const Json& f) {
          return "Safeguarding referral " + std::to_string(Num(f, "concern")) + " acknowledged" +
                 Paren(Str(f, "agencyRef"));
        }}},
      {"SafeguardingOutcomeRecorded",
       {"recordedOn",
        [](const Json& f) {
          return "Safeguarding concern " + std::to_string(Num(f, "concern")) + With(": outcome ", Code(f, "outcome"));
        }}},
      {"CaseNoteAdded",
       {"writtenOn",
        [](const Json& f) {
          return "Case note" + Paren(Code(f, "category")) + With(" by ", Str(f, "authorRef")) +
                 (Flag(f, "mentionsThirdParty") ? "; mentions someone else" : "");
        }}},
      {"CaseTransferred",
       {"transferredOn",
        [](const Json& f) {
          return "Transferred" + With(" from team ", Str(f, "fromTeam")) +
                 With(" to team ", Str(f, "toTeam")) + With(", district ", Str(f, "toDistrict")) +
                 Paren(Words(Str(f, "reasonCode")));
        }}},
      {"DelayRecorded",
       {"recordedOn",
        [](const Json& f) {
          return Line(f) + "delay" + With(" at ", Code(f, "stage")) + With(": ", Code(f, "reason")) +
                 With(", expected to clear by ", Str(f, "expectedUntil"));
        }}},
      {"PersonalDataDisclosed",
       {"disclosedOn",
        [](const Json& f) {
          return "Personal data disclosed" + With(" to ", Article(Code(f, "recipientType"))) +
                 Paren(Str(f, "recipientRef")) + With(" for ", Words(Str(f, "purposeCode"))) +
                 With("; basis: ", Code(f, "lawfulBasis")) + With("; categories: ", List(f, "categories", false));
        }}},
      {"OnwardReferralMade",
       {"referredOn",
        [](const Json& f) {
          std::string d = (Flag(f, "signposted") ? "Signposted to " : "Referred on to ") +
                          Article(Code(f, "destination")) + Paren(Str(f, "organisationRef"));
          if (Num(f, "referral") > 0) d += " (onward referral " + std::to_string(Num(f, "referral")) + ")";
          if (!Flag(f, "signposted")) {
            auto it = f.find("consentBasis");
            d += "; " + Consent(it == f.end() ? Json() : *it);
          }
          d += With("; confirmed in writing on ", Str(f, "confirmedInWritingOn")) +
               With(" by ", Code(f, "confirmationChannel"));
          d += With("; outcome: ", Code(f, "outcome"));
          return d;
        }}},
      {"OnwardReferralOutcomeRecorded",
       {"recordedOn",
        [](const Json& f) {
          return "Onward referral " + std::to_string(Num(f, "referral")) + With(": outcome ", Code(f, "outcome")) +
                 With("; confirmed in writing on ", Str(f, "confirmedInWritingOn")) +
                 With(" by ", Code(f, "confirmationChannel"));
        }}},
      {"CaseAllocated",
       {"allocatedOn",
        [](const Json& f) {
          return "Case allocated to " + Str(f, "workerRef") + Paren(Words(Str(f, "roleCode"))) +
                 With(", team ", Str(f, "teamCode")) + With("; reason: ", Words(Str(f, "reasonCode")));
        }}},
      {"CaseDeallocated",
       {"deallocatedOn",
        [](const Json& f) {
          return "Case taken off " + Str(f, "workerRef") + Paren(Words(Str(f, "reasonCode"))) +
                 "; awaiting allocation";
        }}},
      {"CaseClosed",
       {"closedOn", [](const Json& f) { return "Case closed" + With(": ", Code(f, "reason")); }}},
      {"CaseReopened",
       {"reopenedOn",
        [](const Json& f) { return "Case reopened" + Paren(Words(Str(f, "reasonCode"))); }}},
      {"DocumentAttached",
       {"attachedOn",
        [](const Json& f) {
          return "Document kept on the case" + With(": ", Code(f, "kind")) + With(", ", Code(f, "mediaType")) +
                 ", " + std::to_string(Num(f, "sizeBytes")) + " bytes" + With(", about ", Str(f, "subjectRef"));
        }}},
      // The vetted contractors (register/contractors, not a case).
      {"ContractorVetted",
       {"vettedOn",
        [](const Json& f) {
          return "Contractor " + Str(f, "contractorRef") + " vetted" + With(" for ", List(f, "trades", false)) +
                 With(" until ", Str(f, "expiresOn")) + Paren(List(f, "checks"));
        }}},
      {"ContractorRemoved",
       {"removedOn",
        [](const Json& f) {
          return "Contractor " + Str(f, "contractorRef") + " removed from the vetted list" +
                 Paren(Words(Str(f, "reasonCode")));
        }}},
      // The breach register (breach/ streams, not cases).
      {"BreachRecorded",
       {"discoveredOn",
        [](const Json& f) {
          return "Personal data breach " + Str(f, "breachRef") + " recorded" + With(": ", Code(f, "kind")) +
                 With(", ", Code(f, "cause")) + "; about " + std::to_string(Num(f, "approxPeople")) +
                 " people affected";
        }}},
      {"BreachAssessed",
       {"assessedOn", [](const Json& f) { return "Breach assessed" + With(": ", Code(f, "risk")); }}},
      {"BreachNotifiedToIco",
       {"notifiedOn",
        [](const Json& f) { return "Breach notified to the ICO" + With(", reference ", Str(f, "icoReference")); }}},
      {"BreachNotNotified",
       {"decidedOn",
        [](const Json& f) { return "Decided not to notify the ICO" + Paren(Words(Str(f, "reasonCode"))); }}},
      {"BreachPeopleInformed",
       {"decidedOn",
        [](const Json& f) {
          return f.value("informed", false) ? "The people affected were informed" + With(" by ", Code(f, "channel"))
                                            : "The people affected were not informed" + Paren(Words(Str(f, "reasonCode")));
        }}},
  };
  return *kTypes;
}

}  // namespace

std::string DescribeFacts(const std::string& type, const nlohmann::json& facts) {
  auto it = Types().find(type);
  if (it == Types().end() || !facts.is_object()) return type;
  return it->second.describe(facts);
}

std::optional<domain::Date> BusinessDateOf(const std::string& type, const nlohmann::json& facts) {
  auto it = Types().find(type);
  if (it == Types().end() || !facts.is_object()) return std::nullopt;
  std::string text = Str(facts, it->second.date_field);
  domain::Date d;
  if (!domain::ParseDate(text, &d)) return std::nullopt;
  return d;
}

std::string DescribeEvent(const std::string& type, const std::string& facts_json) {
  Json facts = Json::parse(facts_json, nullptr, /*allow_exceptions=*/false);
  if (facts.is_discarded()) return type;
  return DescribeFacts(type, facts);
}

}  // namespace hearth::readmodels
