// Private to store/exports: one pass over the log up to a position, folding
// every case (domain::FoldFacts) and keeping the dated facts the exports
// count. Reads facts only, except the client's name and address when asked
// (the identifiable export), which are kept in memory and never written
// anywhere but that export.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/tables.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::exports {

using domain::Date;

// A fact with the date that decides its period and the district the case was
// in when it happened.
struct Dated {
  Date on{};
  std::string district;
};

struct EnquiryFact : Dated {
  std::string channel;
  std::string referrer_type;
};
struct LineFact : Dated {
  uint16_t line = 0;
  std::string service;  // ServiceElementOpened: service; GrantApproved: grant type; WorksPaid: the
                        // grant type of the line's last approval before it ("" when none)
  int64_t pence = 0;    // GrantApproved: amountPence; WorksPaid: amountPence
  uint64_t position = 0;  // GrantApproved, WorksPaid: the event's log position
};
struct OutcomeFact : Dated {
  std::vector<std::string> outcomes;
};
struct ComplaintFact : Dated {
  uint16_t number = 0;
  std::string stage;
};
struct SafeguardingFact : Dated {
  std::string category;  // SafeguardingCategory enumerant
};
struct ScoreFact : Dated {
  int score = 0;
  bool returns_questionnaire = false;  // the return of a QuestionnaireSent (its line's)
  std::string quality_of_life;         // QualityOfLifeChange enumerant
  std::vector<std::string> impacts;    // ImpactReported enumerants
};
struct OnwardFact : Dated {
  std::string destination;  // OnwardDestination enumerant
  bool signposted = false;
};

// What the identifiable export may show of a client.
struct ClientDetails {
  std::string given_name;
  std::string family_name;
  std::vector<std::string> address_lines;
  std::string postcode;
  bool erased = false;  // the personal sections were crypto-shredded
};

struct CaseFacts {
  domain::CaseState state;
  std::vector<EnquiryFact> enquiries;        // ContactRecorded, purpose enquiry
  std::vector<Dated> consultations;          // ConsultationHeld
  std::vector<LineFact> lines_opened;        // ServiceElementOpened
  std::vector<LineFact> grants_approved;     // GrantApproved
  std::vector<LineFact> works_completed;     // WorksCompleted
  std::vector<LineFact> payments;            // WorksPaid
  std::vector<LineFact> variations;          // GrantVariationApproved (pence signed; service: the line's grant type)
  std::optional<Dated> first_visit;          // the first FirstVisitCompleted
  std::optional<Date> first_referral_on;     // the first ReferralMade's referredOn
  std::optional<Date> first_visit_scheduled_on; // the first FirstVisitScheduled's scheduledOn
  std::vector<OnwardFact> onward_referrals;  // OnwardReferralMade
  std::vector<OutcomeFact> outcomes;         // OutcomeRecorded
  std::vector<ComplaintFact> complaints_received;
  std::vector<ComplaintFact> complaints_resolved;
  std::vector<ComplaintFact> complaints_escalated;  // stage: the stage it was taken to
  std::vector<Dated> compliments;
  std::vector<SafeguardingFact> safeguarding;
  std::vector<ScoreFact> satisfaction;
  std::vector<Dated> questionnaires_sent;    // QuestionnaireSent
  std::optional<ClientDetails> client;       // only with CollectOptions::client_details
};

struct CollectOptions {
  uint64_t position = 0;        // the last position read; 0: the log's end when the pass starts
  bool client_details = false;  // decode the client's name and address
  // Called after each batch read: the last position folded, of `position`.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// A client's target-group and equality codes (PersonRegistered as a client,
// corrected by PersonDetailsRectified), as last recorded for that subject on
// any case up to the collection's position: one value per person, whatever
// case is counted. Carers' and relatives' codes are counted nowhere and not kept.
// Enumerant numbers of the schema's lists; 0 is unspecified (not recorded).
struct PersonCodes {
  std::string age_band;  // "" when not recorded
  uint16_t gender = 0;
  uint16_t disability = 0;
  uint16_t ethnicity = 0;
  uint16_t main_language = 0;
  uint16_t interpreter_needed = 0;
  uint16_t unpaid_carer = 0;
  uint16_t mental_health = 0;
  uint16_t learning_disability = 0;
};

// One AllocationSet (config/allocations).
struct AllocationFact {
  int64_t pence = 0;
  uint64_t position = 0;
};

struct Collection {
  uint64_t position = 0;                  // the log position the facts are as of
  Timescales timescales;                  // the targets in force at `position`
  // (financial year, district, fund) -> the last AllocationSet for it up to `position`
  std::map<std::tuple<std::string, std::string, std::string>, AllocationFact> allocations;
  std::map<std::string, CaseFacts> cases; // by case id
  // Complaints with no case, by stream (complaint/K-<n>): only their
  // complaint facts, dated in the district their ComplaintReceived names.
  std::map<std::string, CaseFacts> complaint_streams;
  std::unordered_map<std::string, PersonCodes> people; // clients, by subject id
};

// Reads events 1..position of the log. InvalidArgument for a position beyond
// the log's end; the codec's and the store's errors otherwise.
// Replaces *out with a TimescalesSet's targets (timescales.cc); Corruption
// for a recorded target out of its range.
Status ApplyTimescalesSet(const domain::cs::TimescalesSet::Reader& f, uint64_t position, Timescales* out);

// The money of one financial year up to `as_of` (money.cc, docs/exports.md
// "Money"): per district and fund.
struct FundMoney {
  bool allocated = false;
  int64_t allocation = 0;
  int64_t committed = 0;          // approved this year up to as_of, not yet paid by as_of
  int64_t spent = 0;              // paid this year up to as_of
  int64_t committed_grants = 0;   // grants (lines) with something committed
  int64_t spent_grants = 0;       // grants (lines) with a payment counted in spent
  // What each grant adds to committed and to spent, by "<case id>#<line>":
  // the coordination across returns compares them between two returns.
  std::map<std::string, int64_t> committed_by_grant;
  std::map<std::string, int64_t> spent_by_grant;
};
using MoneyByDistrict = std::map<std::string, std::map<std::string, FundMoney>>;
// `up_to`: only the approvals and payments recorded at or before that log
// position (the money as a return taken there saw it); `all` must reach it.
MoneyByDistrict ComputeMoney(const Collection& all, const std::string& financial_year, Date year_first, Date as_of,
                             uint64_t up_to = UINT64_MAX);
// The funds, in schema order (every GrantType enumerant but unspecified).
std::vector<std::string> FundNames();

Result<Collection> Collect(LogReader& store, const domain::Codec& codec, const CollectOptions& options);

}  // namespace hearth::exports
