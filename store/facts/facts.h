// The dated facts of a case that the monitoring exports count
// (docs/exports.md) and the `cases` projection keeps beside each case's
// state (docs/readmodels.md, "Dated facts"): their types, the fold that
// takes them from a case's events, and their binary form. A layer of its
// own, below the read models and the exports, because both use it: the
// projection writes the facts, the exports' passes read them. (Namespace
// hearth::exports: they are the exports' facts wherever they are kept.)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/tables.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
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

// --- what the `cases` projection keeps of them (facts/facts_codec.cc) ---

// Its keys (docs/readmodels.md "Dated facts"), beside the states ('c') and
// the district indexes ('d', 'o'):
inline constexpr char kStateTag = 'c';      // 'c' case-id   -> readmodels::EncodeCaseState (the state's own key)
inline constexpr char kFactsTag = 'f';      // 'f' case-id   -> EncodeCaseFacts
inline constexpr char kComplaintTag = 'k';  // 'k' stream-id -> EncodeCaseFacts (a complaint with no case)
inline constexpr char kPersonTag = 'p';     // 'p' subject   -> EncodePersonCodes (clients only)
inline constexpr char kDistrictTag = 'a';   // 'a' district  -> varint: the cases and complaint streams
                                            //                  that count it in DistrictsOf

// Folds one event of a case stream into `c` (its state, then its dated
// facts) as Collect does, after decoding it with `decoder`; `person` is
// called for a client's codes that the event sets or corrects (nullptr when
// the caller keeps none): `create` false for a correction, which changes
// only codes already recorded (nullptr returned: none are).
using PersonCodesOf = std::function<PersonCodes*(const std::string& subject, bool create)>;
Status FoldCaseEvent(domain::FactsDecoder* decoder, const RecordedEvent& event, CaseFacts* c,
                     const PersonCodesOf& person);
// Folds one event of a complaint's own stream (complaint/K-<n>).
Status FoldComplaintStreamEvent(domain::FactsDecoder* decoder, const RecordedEvent& event, CaseFacts* c);
inline bool IsComplaintStream(std::string_view stream) { return stream.starts_with(domain::kComplaintStreamPrefix); }

// The binary form of a case's dated facts (every list of CaseFacts; not the
// state, which the projection keeps under its own key, nor client details,
// which are never kept). Deterministic. Corruption for bytes of another form.
std::string EncodeCaseFacts(const CaseFacts& c);
Status DecodeCaseFacts(std::string_view bytes, CaseFacts* c);
std::string EncodePersonCodes(const PersonCodes& p);
Status DecodePersonCodes(std::string_view bytes, PersonCodes* p);
// The districts a case or complaint stream counts in the return's areas:
// its state's district and its enquiries' (empty ones left out).
std::set<std::string> DistrictsOf(const CaseFacts& c);
// The key of a case's state, facts, complaint stream or client: the tag,
// then the id (kStateTag, kFactsTag, kComplaintTag, kPersonTag, kDistrictTag).
std::string TagKey(char tag, std::string_view id);

// --- a case's money (facts/money.cc; docs/exports.md "Money") ---

// How many of a case's money facts a computation sees: a prefix of each list
// (the lists only grow, so the case as an earlier batch wrote it is a prefix).
struct MoneyLists {
  size_t grants = 0, payments = 0, variations = 0;
  bool operator==(const MoneyLists&) const = default;
};
MoneyLists MoneyListsOf(const CaseFacts& c);
// The funds, in schema order (every GrantType enumerant but unspecified).
std::vector<std::string> FundNames();
bool IsFund(std::string_view service);

// One case's money in the financial year that begins on `year_first`, as of
// `as_of`, counting only the records at or before log position `up_to`
// (the rules of docs/exports.md, "Money"), from the first `n` of each list:
// `committed(approval, pence)` for each grant (line) with money committed
// (its last approval up to as_of, given in this year, plus the variations
// approved after it, less everything paid on the line by as_of, when that is
// above zero; the approval's district and fund count it), then
// `spent(payment, first)` for each payment in the year up to as_of on a fund
// (`first`: the first counted on its district, fund and line).
void VisitCaseMoney(const CaseFacts& c, const MoneyLists& n, Date year_first, Date as_of, uint64_t up_to,
                    const std::function<void(const LineFact& approval, int64_t pence)>& committed,
                    const std::function<void(const LineFact& payment, bool first)>& spent);

// The money totals the `cases` projection keeps (docs/readmodels.md, "The
// money totals"): per financial year, district, fund and day, what every
// case's money changed by on that day, so that a year's money as of a day
// is the sum of its keys up to that day, whatever the store's size.
struct MoneyTotals {
  int64_t committed = 0, committed_grants = 0, spent = 0, spent_grants = 0;
  bool zero() const { return committed == 0 && committed_grants == 0 && spent == 0 && spent_grants == 0; }
  void Add(const MoneyTotals& o, int64_t sign = 1) {
    committed += sign * o.committed;
    committed_grants += sign * o.committed_grants;
    spent += sign * o.spent;
    spent_grants += sign * o.spent_grants;
  }
};
inline constexpr char kMoneyTotalsTag = 'm';  // 'm' year district 0x00 fund 0x00 day -> EncodeMoneyTotals
// 'm', the year as 4 digits, district, NUL, fund, NUL, the day
// as 4 bytes big-endian (days since 1970 + 2^31): keys sort by day.
std::string MoneyTotalsKey(int first_year, std::string_view district, std::string_view fund, Date day);
// The key's parts; Corruption for another form.
Status ParseMoneyTotalsKey(std::string_view key, int* first_year, std::string_view* district,
                           std::string_view* fund, Date* day);
// Four zigzag varints.
std::string EncodeMoneyTotals(const MoneyTotals& t);
Status DecodeMoneyTotals(std::string_view bytes, MoneyTotals* t);
// Adds `sign` times the case's steps (the first `n` of its lists) to
// `deltas`, by MoneyTotalsKey: for every financial year with an approval or
// a payment, and every day of that year on which a money fact of the case
// is dated, the change of each district's and fund's totals since the day
// before (VisitCaseMoney on each such day; between them nothing changes).
void AddMoneySteps(const CaseFacts& c, const MoneyLists& n, int64_t sign, std::map<std::string, MoneyTotals>* deltas);

// Replaces *out with a TimescalesSet's targets (facts/timescales.cc); Corruption
// for a recorded target out of its range.
Status ApplyTimescalesSet(const domain::cs::TimescalesSet::Reader& f, uint64_t position, Timescales* out);

}  // namespace hearth::exports
