// hearth: the case domain of a Home Improvement Agency (docs/domain.md).
//
// The event types and their fields are defined by api/schema/domain.capnp;
// this header gives what a front end, a tool or a read model needs on top:
//
//   hearth::domain::UpcasterRegistry upcasters;
//   hearth::domain::AddBuiltinUpcasters(&upcasters);
//   auto codec = hearth::domain::Codec::Create(&upcasters);        // schema tables
//   hearth::domain::CaseRecorder recorder(store, codec->get(), {});
//   hearth::NewEvent e;
//   (*codec)->FromJson(R"({"type":"ContactRecorded","facts":{...}})", &e);
//   recorder.Record("case/D3/000123", {e});   // validated, then appended
//
// - dates and the England and Wales working-day calendar (bank holidays as
//   data: store/domain/bank_holidays_england_wales.txt);
// - the codec: domain event JSON <-> NewEvent (facts and personal sections as
//   packed Cap'n Proto messages), RecordedEvent -> JSON;
// - upcasters: older schema versions of an event type read as the current one;
// - the case fold (CaseState) and the CaseRecorder, which validates every
//   command against the case's history before appending it.
//
// Nothing here is global: main() builds the registry, the codec and the
// calendar and passes them in.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/event.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::domain {

// ---------------------------------------------------------------------------
// Dates

// A calendar day (no time, no zone).
using Date = std::chrono::sys_days;

// Strict ISO 8601 calendar date "YYYY-MM-DD" (years 1900..2999). False when
// malformed or not a real day (2019-02-29).
bool ParseDate(std::string_view text, Date* out);
std::string FormatDate(Date date);

// The date in the United Kingdom (GMT, or BST from 01:00 UTC on the last
// Sunday of March to 01:00 UTC on the last Sunday of October) at `moment`.
Date UkDate(Timestamp moment);
// Microseconds since the epoch, now.
Timestamp Now();
// Midnight UTC at the start of `date`, in microseconds.
Timestamp StartOfDay(Date date);

// The age band of someone born on `birth` on day `on`: "0-17", "18-24",
// "25-34", "35-44", "45-54", "55-64", "65-74", "75-84" or "85+".
std::string AgeBand(Date birth, Date on);
// True for one of the bands above.
bool IsAgeBand(std::string_view band);
// A staff reference: "S-" then 1 to 30 of A-Z a-z 0-9 '-' (e.g. S-D3-07);
// never a name (CaseAllocated.workerRef, `hearth worklist --worker`).
bool IsStaffRef(std::string_view ref);

// ---------------------------------------------------------------------------
// The working-day calendar

// Working days are Monday to Friday that are not bank holidays. A Calendar is
// a value: copy it freely.
class Calendar {
 public:
  // England and Wales, from the list built into the library
  // (store/domain/bank_holidays_england_wales.txt).
  static Calendar EnglandAndWales();
  // Parses a list in that file's format: "YYYY-MM-DD name" lines, '#'
  // comments, and one "coverage FIRST LAST" line (calendar years the list is
  // complete for). InvalidArgument naming the line on any error (a bad date,
  // a date outside the coverage, a holiday on a weekend, a duplicate).
  static Result<Calendar> FromText(std::string_view text);

  int first_year() const { return first_year_; }
  int last_year() const { return last_year_; }
  // True when `date` lies within the covered years.
  bool Covers(Date date) const;

  bool IsBankHoliday(Date date) const;
  bool IsWorkingDay(Date date) const;  // REQUIRES nothing: weekends are never working days
  // The bank holidays of one calendar year, in order.
  std::vector<Date> BankHolidays(int year) const;

  // The number of working days d with from < d <= to (0 when to <= from):
  // Friday to the next Monday is 1 working day. InvalidArgument when a date in
  // the range lies outside the coverage.
  Result<int> WorkingDaysBetween(Date from, Date to) const;
  // The working day `n` working days after `from` (n >= 0; 0 gives `from`
  // itself). InvalidArgument for n < 0 or past the coverage.
  Result<Date> AddWorkingDays(Date from, int n) const;
  // The first working day on or after `date`.
  Result<Date> NextWorkingDay(Date date) const;

 private:
  int first_year_ = 0;
  int last_year_ = -1;
  std::vector<int32_t> holidays_;  // days since the epoch, sorted
};

// ---------------------------------------------------------------------------
// Event types and upcasters

struct EventTypeInfo {
  std::string name;         // e.g. "ContactRecorded"
  uint32_t version = 1;     // the current schema version this code writes
  std::vector<uint32_t> older_versions;  // versions it can still read (through upcasters)
};

// Turns one event of schema version v (its facts and personal sections, still
// encoded) into version v + 1, setting event->schema_version. Must be
// deterministic; returns InvalidArgument or Corruption naming the problem.
using UpcastFn = std::function<Status(RecordedEvent* event)>;

// The upcasters known to a codec, one per (type, from_version). Built by the
// caller and passed to Codec::Create; not copyable (owns functions).
class UpcasterRegistry {
 public:
  UpcasterRegistry() = default;
  UpcasterRegistry(const UpcasterRegistry&) = delete;
  UpcasterRegistry& operator=(const UpcasterRegistry&) = delete;

  // InvalidArgument when one is already registered for (type, from_version).
  Status Add(const std::string& type, uint32_t from_version, UpcastFn fn);
  // Null when none is registered.
  const UpcastFn* Find(const std::string& type, uint32_t from_version) const;
  size_t size() const { return fns_.size(); }

 private:
  std::map<std::pair<std::string, uint32_t>, UpcastFn> fns_;
};

// Registers the upcasters shipped with this version of hearth
// (ContactRecorded 1 -> 2, docs/domain.md).
void AddBuiltinUpcasters(UpcasterRegistry* registry);

// ---------------------------------------------------------------------------
// The codec

class CodecTables;  // private: schema tables built from domain.capnp

// Converts between the JSON form of a domain event (docs/domain.md) and the
// stored form (NewEvent / RecordedEvent with packed Cap'n Proto facts and
// personal sections). Immutable after Create: one codec may be shared by any
// number of threads.
class Codec {
 public:
  // REQUIRES: `upcasters` (may be null: no upcasting) outlives the codec.
  static Result<std::unique_ptr<Codec>> Create(const UpcasterRegistry* upcasters);
  ~Codec();
  Codec(const Codec&) = delete;
  Codec& operator=(const Codec&) = delete;

  // Every event type, in schema order.
  const std::vector<EventTypeInfo>& types() const;
  // Null for an unknown type.
  const EventTypeInfo* FindType(std::string_view name) const;

  // One event from its JSON form: {"type", "facts", "personal", ...}. The id
  // is generated when absent. Personal sections get their identifiers
  // (nhs, postcode, name) from their fields. InvalidArgument naming the field
  // (e.g. "facts.channel: unknown value \"fax\"") on any error; an unknown
  // type or a newer schema version than this code knows is named too.
  Status FromJson(std::string_view json, NewEvent* out) const;
  // A JSON array of events, or one event object.
  Status FromJsonList(std::string_view json, std::vector<NewEvent>* out) const;

  // The JSON form of an event read from the store, upcast to the current
  // version ("upcastFrom" then names the stored version). Erased personal
  // sections appear as {"subject", "role", "erased": true}. NotSupported for
  // a newer schema version, Corruption for facts that do not decode.
  Result<std::string> ToJson(const RecordedEvent& event, bool pretty = false) const;
  // The JSON form of a proposed event (what FromJson accepts), without
  // upcasting; for tools and tests.
  Result<std::string> ToJson(const NewEvent& event, bool pretty = false) const;

  // Upcasts `event` in place to the current version of its type. OK and
  // unchanged when it already is. NotSupported (naming type and version) for
  // an unknown type, a newer version, or an older version with no upcaster.
  Status Upcast(RecordedEvent* event) const;

  // Checks a proposed event's facts against the schema, whatever front end
  // encoded them: they decode as the type's facts (upcast when older), every
  // date field holds a date, and every code field a code or reference, never
  // free text (docs/domain.md, "Codes, not free text"). InvalidArgument naming
  // the field.
  Status CheckFacts(const NewEvent& event) const;

  // Facts of one event as JSON (upcast first when needed).
  Result<std::string> FactsToJson(const RecordedEvent& event) const;

  // The codec's schema tables; for store/domain's own readers.
  const CodecTables& tables() const { return *tables_; }

 private:
  explicit Codec(std::unique_ptr<CodecTables> tables);
  std::unique_ptr<CodecTables> tables_;
};

// ---------------------------------------------------------------------------
// The case fold

// One service element opened on a case (ServiceElementOpened `line`).
struct ServiceLine {
  uint16_t line = 0;
  std::string element;     // ServiceElement enumerant, e.g. "mandatoryDfg"
  std::string service;     // Service enumerant, e.g. "minorAdaptation"
  Date opened_on{};
  std::optional<Date> closed_on;
  std::string result;      // ElementResult when closed
  int ot_priority = 0;     // 1..3, 0 when not assessed
  std::string urgency;     // "urgent", "nonUrgent" or ""
  std::optional<Date> means_tested_on;
  std::optional<Date> application_on;  // GrantApplicationMade submittedOn
  std::optional<Date> valid_on;        // ... validOn
  std::optional<Date> approved_on;
  std::optional<Date> refused_on;
  uint32_t approved_pence = 0;
  uint32_t top_up_pence = 0;
  std::optional<Date> specified_on;
  std::optional<Date> contractor_on;
  std::optional<Date> started_on;
  std::optional<Date> completed_on;
  std::optional<Date> paid_on;
  uint32_t paid_pence = 0;
  std::string delayed_stage;           // last DelayRecorded stage, "" when none
  // The local land charge securing the line's grant: the last
  // LandChargeRegistered, and its LandChargeReleased (reset by a new
  // registration). Registered and not released: the charge stands.
  std::optional<Date> land_charge_registered_on;
  std::optional<Date> land_charge_released_on;
  bool land_charge_active() const { return land_charge_registered_on && !land_charge_released_on; }
  // DFG order and money (issue 17.8; docs/domain.md "DFG order and money").
  std::string grant_type;              // GrantType of the last application or approval, "" when none
  std::string means_test_result;       // MeansTestResult of the last means test, "" when none
  uint32_t assessed_contribution_pence = 0;  // ... its contributionPence
  uint32_t client_contribution_pence = 0;    // the last GrantApproved's clientContributionPence
  int64_t varied_pence = 0;            // GrantVariationApproved since the last GrantApproved (signed)
  std::optional<Date> urgent_exemption_on;   // UrgentWorksExemptionRecorded
  std::string contractor_ref;          // the last ContractorChosen's contractor
  // A Disabled Facilities Grant line: its grant (applied for or approved)
  // is a mandatory or discretionary DFG, or, before either, its service is
  // the mandatory DFG.
  bool dfg() const {
    return grant_type == "mandatoryDfg" || grant_type == "discretionaryDfg" ||
           (grant_type.empty() && service == "mandatoryDfg");
  }
  // The grant as it stands: the last approval plus the variations since.
  int64_t granted_pence() const { return static_cast<int64_t>(approved_pence) + varied_pence; }
};

// A person named on the case, with the role they were registered in.
struct CasePerson {
  std::string subject;
  std::string role;  // SubjectRoleName: client, carer, relative, referrer ...
};

// An active consent: scope, and for involveNamedPerson the person.
struct ActiveConsent {
  std::string scope;
  std::string named_person;
  Date given_on{};
  friend bool operator==(const ActiveConsent&, const ActiveConsent&) = default;
};

// An onward referral or signposting made from the case (OnwardReferralMade),
// with its latest outcome and written confirmation.
struct OnwardReferral {
  uint16_t number = 0;
  std::string destination;  // OnwardDestination enumerant, e.g. "fallsPrevention"
  Date referred_on{};
  bool signposted = false;
  std::optional<Date> confirmed_on;  // written confirmation sent
  std::string outcome;               // OnwardReferralOutcome, "" while not known
};

// A safeguarding concern raised on the case (SafeguardingConcernRaised), its
// referral, acknowledgement and outcome. A concern recorded before issue 17.2
// has number 0 and no referral date (it cannot be acknowledged).
struct SafeguardingConcern {
  uint16_t number = 0;
  std::string person_type;  // "adult", "child" or ""
  std::string category;     // SafeguardingCategory enumerant
  Date raised_on{};
  std::string referred_to;  // SafeguardingAgency, "" when not referred
  std::optional<Date> referred_on;
  std::optional<Date> acknowledged_on;
  std::string outcome;      // SafeguardingOutcome, "" while not known
  bool awaiting_acknowledgement() const { return referred_on && !acknowledged_on; }
};

// A satisfaction and impact questionnaire sent about a service line (0: the
// case as a whole), QuestionnaireSent, and its return (the line's next
// SatisfactionRecorded).
struct Questionnaire {
  uint16_t line = 0;
  Date sent_on{};
  std::optional<Date> returned_on;
};

// A complaint (ComplaintReceived, ComplaintEscalated, ComplaintResolved; 003
// 9.1 "number, stage, time taken to resolve"), on a case or on its own
// complaint/K-<n> stream: the stage it stands at and whether the agency's
// response at that stage is awaited. A response (ComplaintResolved) answers
// the stage; an escalation takes the complaint to a higher stage and awaits
// a response again (docs/domain.md, "Complaints").
struct Complaint {
  uint16_t number = 0;
  std::string stage;                  // ComplaintStage enumerant name it stands at ("unspecified" when not recorded)
  Date received_on{};
  Date stage_on{};                    // the day it reached its stage (received there, or escalated to it)
  std::optional<Date> responded_on;   // the response at its stage; none while one is awaited
  std::string result;                 // ComplaintResult name of that response, "" when none
  bool awaiting_response() const { return !responded_on; }
};
// The order of the stages: unspecified 0, informal 1, stage1 2, stage2 3,
// ombudsman 4 (an escalation goes to a higher one); -1 for another name.
int ComplaintStageRank(std::string_view stage);
// Working days the agency has to respond at a stage (docs/domain.md,
// "Complaints"): 10 for a complaint at entry (unspecified, informal, stage
// 1), 20 at stage 2; 0 at the Ombudsman (its own timetable: no deadline of
// the agency's).
int ComplaintResponseWorkingDays(std::string_view stage);

// The state of one case after folding its events in order: deterministic,
// built from facts and envelopes only (never personal sections).
struct CaseState {
  std::string case_id;
  uint64_t version = 0;        // stream version of the last event folded
  uint64_t last_position = 0;  // its global position (0 for proposed events)
  bool exists() const { return version > 0; }

  std::string client;          // subject ref of the client
  std::vector<CasePerson> people;
  std::string district;        // current district code
  std::string team;            // current team code, "" until a transfer
  std::string age_band;        // client's, from PersonRegistered / rectification
  std::string tenure;
  std::optional<Date> enquiry_on;
  std::string channel;         // of the enquiry
  std::string referrer_type;   // of the enquiry
  std::optional<Date> referral_on;  // the case's first ReferralMade.referredOn
  std::string consent_basis;   // "given", "bestInterests", "riskOfHarm" or ""
  bool self_referral = false;
  std::vector<ActiveConsent> consents;
  std::optional<Date> first_visit_booked_for;
  std::optional<Date> first_visit_confirmed_on;
  std::optional<Date> first_visit_on;
  std::optional<Date> assessed_on;
  std::optional<Date> rights_confirmed_on;
  std::optional<Date> plan_agreed_on;
  std::optional<Date> plan_review_on;
  uint32_t plan_changes = 0;
  std::vector<ServiceLine> lines;
  std::vector<std::string> outcomes;  // distinct Outcome enumerants, in order first recorded
  uint32_t complaints = 0;
  std::vector<Complaint> complaint_list;    // every complaint, in the order received
  uint32_t compliments = 0;
  uint32_t safeguarding_concerns = 0;
  uint32_t notes = 0;
  uint32_t disclosures = 0;
  int satisfaction = 0;        // last score 1..5, 0 when none
  bool closed = false;
  std::optional<Date> closed_on;
  std::string closure_reason;
  uint32_t reopened = 0;
  std::optional<Date> last_activity_on;  // latest business date seen
  std::vector<OnwardReferral> onward_referrals;  // in the order made
  std::vector<SafeguardingConcern> safeguarding; // in the order raised
  std::vector<Questionnaire> questionnaires;     // in the order sent
  // The responsible worker (CaseAllocated, CaseDeallocated; 000
  // "Responsibility for files").
  std::string worker;                      // staff ref of the current worker, "" when none
  std::optional<Date> allocated_on;        // the current allocation's date
  std::optional<Date> first_allocated_on;  // the case's first allocation
  std::optional<Date> deallocated_on;      // the last CaseDeallocated (awaiting allocation since)
  // Information and advice to follow up (ConsultationHeld.followUpOn): due
  // until a contact, consultation or visit dated on or after the
  // consultation that set it.
  std::optional<Date> follow_up_on;        // the follow-up's due date
  std::optional<Date> follow_up_set_on;    // the consultation that set it
  std::optional<Date> follow_up_done_on;   // the contact that followed it up, when there was one

  // The line with that number, or null.
  const ServiceLine* FindLine(uint16_t line) const;
  // The onward referral with that number, or null.
  const OnwardReferral* FindOnwardReferral(uint16_t number) const;
  // The safeguarding concern with that number (from 1), or null.
  const SafeguardingConcern* FindSafeguardingConcern(uint16_t number) const;
  // The questionnaire sent about that line (0: the case as a whole), or null.
  const Questionnaire* FindQuestionnaire(uint16_t line) const;
  // The complaint with that number, or null.
  const Complaint* FindComplaint(uint16_t number) const;
  // Open, or closed with work still due: a safeguarding referral that the
  // agency has not acknowledged, or a complaint awaiting the agency's
  // response (such a case stays on the worklists).
  bool needs_work() const;
  ServiceLine* FindLine(uint16_t line);
};

// The binary form of a CaseState, as the `cases` projection keeps it
// (docs/readmodels.md has the grammar; store/domain/case_codec.cc).
// Deterministic: equal states give equal bytes.
std::string EncodeCaseState(const CaseState& state);
// Corruption when the bytes are not a state of this encoding version.
Status DecodeCaseState(std::string_view bytes, CaseState* state);

// Folds events into CaseState. Holds a decoding buffer: one per thread.
class CaseFolder {
 public:
  // REQUIRES: `codec` outlives the folder.
  explicit CaseFolder(const Codec* codec);
  ~CaseFolder();
  CaseFolder(const CaseFolder&) = delete;
  CaseFolder& operator=(const CaseFolder&) = delete;

  // Folds one stored event of the case (upcast as needed). NotSupported for an
  // unknown type or newer version, Corruption for facts that do not decode.
  Status Apply(const RecordedEvent& event, CaseState* state);

 private:
  const Codec* codec_;
  struct Buffers;
  std::unique_ptr<Buffers> buffers_;
};

// ---------------------------------------------------------------------------
// Restriction (UK GDPR Art. 18): the one view of the restrictions in force

// The stream of RestrictionApplied and RestrictionLifted events (the rights
// workflow appends them: hearth/rights.h).
inline constexpr const char* kRestrictionStream = "rights/restrictions";

// The restrictions in force, folded from kRestrictionStream in one read:
// RestrictionApplied starts one for the person it names, RestrictionLifted
// ends it. Every reader that leaves restricted people out takes its answer
// from here: the CaseRecorder's `subject-restricted` rule, worklists (the
// `hearth worklist` command and the `worklist` read model), the case extract
// and the identifiable export (docs/rights.md).
class ActiveRestrictions {
 public:
  // Reads the restriction stream once. Corruption for facts that do not
  // decode; the store's errors.
  static Result<ActiveRestrictions> Read(Store& store, const Codec& codec);

  bool empty() const { return active_.empty(); }
  bool Contains(const std::string& subject) const { return active_.count(subject) != 0; }
  // The day the restriction of `subject` started; nullopt when none is in force.
  std::optional<Date> Since(const std::string& subject) const;
  // Every restricted person and the day it started, by subject.
  const std::map<std::string, Date>& all() const { return active_; }
  std::set<std::string> Subjects() const;

 private:
  std::map<std::string, Date> active_;
};

// ---------------------------------------------------------------------------
// Recording commands

struct RecorderOptions {
  // Appends that meet a concurrent writer (Conflict) are re-read, re-validated
  // and retried up to this many times in all. Default: 5.
  int max_attempts = 5;
  // Today's date for the `date-in-future` rule. Default (empty): UkDate(Now()).
  std::function<Date()> today;
  // The writer holds the data controller's power (a Session passes its
  // Scopes::controller): it may record events about a person whose
  // processing is restricted (UK GDPR Art. 18, rule `subject-restricted`).
  // Never taken from an event's actor: a role name grants nothing.
  bool controller = false;
  // When set, called inside each attempt with the case's state before the
  // batch (for a new case: after the batch's first event, so that the
  // district it opens in is known), the state the batch is validated against
  // and appended at. A non-OK status is returned as it is; nothing is
  // written. A Session checks its district scopes here (hearth/session.h).
  std::function<Status(const CaseState& state)> authorise;
};

// Validates domain events against the history of their case and appends them.
//
// A case is one stream, "case/" followed by an opaque reference (e.g.
// "case/D3/000123"; never a name). For each Record call the recorder reads the
// case's stream, folds it (CaseFolder), checks every new event in order
// against the state so far, and appends them in one batch with the expected
// version it read (NoStream for a new case); on Conflict it starts again, at
// most options.max_attempts times. Every refusal is InvalidArgument whose
// message starts "rule <name>: " (the rules are listed in docs/domain.md);
// nothing is written. An event of an older schema version is upcast before it
// is stored. Every event names the case's client among its subjects (added
// when the writer did not).
//
// Thread-safe: concurrent Record calls on one case serialise through the
// store's expected-version check.
class CaseRecorder {
 public:
  // REQUIRES: store and codec outlive the recorder.
  CaseRecorder(Store* store, const Codec* codec, RecorderOptions options);
  ~CaseRecorder();
  CaseRecorder(const CaseRecorder&) = delete;
  CaseRecorder& operator=(const CaseRecorder&) = delete;

  // Validates and appends `events` to case `case_id` atomically.
  // Returns: InvalidArgument (a rule, or a malformed case id or event),
  // Conflict (still conflicting after max_attempts), and the store's errors.
  Result<AppendResult> Record(const std::string& case_id, std::vector<NewEvent> events);

  // As Record, with the caller's expectation of the case's version. With
  // Any, exactly Record above (re-read and retried on Conflict). With
  // NoStream or Exact, the case is read once: Conflict ("stream <case>:
  // expected version E, actual A", as the store's) when its version is not
  // the one expected, otherwise the events are validated against exactly that
  // state and appended with that expected version (a concurrent writer gives
  // the store's Conflict; nothing is retried). A batch whose event ids are
  // already on the case is a retry: it is validated against the state its
  // original was, and the store returns the original positions (duplicate)
  // or refuses it, writing nothing.
  Result<AppendResult> Record(const std::string& case_id, ExpectedVersion expected,
                              std::vector<NewEvent> events);

  // Checks `events` against the case as it stands without writing anything.
  Status Check(const std::string& case_id, const std::vector<NewEvent>& events);

  // The case's state folded from its stream (optionally only up to stream
  // version `up_to`, 0 meaning all). NotFound for a case with no events.
  Result<CaseState> Load(const std::string& case_id, uint64_t up_to = 0);

  // InvalidArgument unless `case_id` is "case/" plus 1..195 of [A-Za-z0-9._:/@+-].
  static Status ValidCaseId(const std::string& case_id);

  // The store and codec it records with (the demo county vets its
  // contractors through them before its cases).
  Store* store() const { return store_; }
  const Codec* codec() const { return codec_; }

 private:
  Status Validate(const std::string& case_id, CaseState state, std::vector<NewEvent>* events,
                  CaseFolder* folder);
  // Load, also setting *repeated_version (when batch is not null and it is
  // still 0) to the stream version of the first event whose id is in `batch`.
  Result<CaseState> LoadCase(const std::string& case_id, uint64_t up_to,
                             const std::vector<NewEvent>* batch, uint64_t* repeated_version);
  Store* store_;
  const Codec* codec_;
  RecorderOptions options_;
};

// ---------------------------------------------------------------------------
// Annual allocations (docs/domain.md, "Allocations")

// The controller's stream of AllocationSet events: a district's allocation of
// one fund for one financial year; a later one for the same district, year
// and fund supersedes the earlier.
inline constexpr const char* kAllocationsStream = "config/allocations";
inline constexpr int64_t kMaxAllocationPence = 2000000000;  // £20m

// "2018/19" -> 2018 (years 2000/01 to 2098/99, the second following the
// first). False when malformed.
bool ParseFinancialYearLabel(std::string_view text, int* first_year);

// Checks events bound for config/allocations: only AllocationSet, at its
// current version, no personal sections; refusals are InvalidArgument "rule
// <name>: ..." naming the field (allocation-stream, date-required,
// invalid-date, date-in-future, code-field, allocation-district (not a code,
// or no case of the log is in it), allocation-year, allocation-fund
// (unspecified or outside GrantType), allocation-amount (negative or above
// kMaxAllocationPence)), with the event's place in the batch.
Status CheckAllocations(LogReader& store, const Codec& codec, std::vector<NewEvent>* events, Date today);

// CheckAllocations, then one append of the whole batch to config/allocations;
// nothing of a refused batch is written.
Result<AppendResult> RecordAllocations(Store& store, const Codec& codec, ExpectedVersion expected,
                                       std::vector<NewEvent> events, Date today);

// ---------------------------------------------------------------------------
// The vetted contractors (docs/domain.md, "The vetted contractors")

// The stream of ContractorVetted and ContractorRemoved events: the list of
// contractors a case may choose (rule `contractor-not-vetted`). Not under
// config/: a manager keeps it with append_types ContractorVetted and
// ContractorRemoved and read_streams on it, without the controller's power.
inline constexpr const char* kContractorsStream = "register/contractors";

// The list folded from the stream (store/domain/contractors.cc): per
// contractor, the periods it was vetted.
struct ContractorList {
  struct Period {
    Date from{};                     // vettedOn
    Date until{};                    // expiresOn (the last day it holds)
    std::optional<Date> removed_on;  // ContractorRemoved: not vetted from this day
  };
  struct Contractor {
    std::string ref;
    std::vector<Period> periods;      // in the order recorded
    std::vector<std::string> trades;  // of the last vetting
    std::vector<std::string> checks;  // of the last vetting (ContractorCheck names)
    std::string removal_reason;       // of the last removal
  };
  std::map<std::string, Contractor> contractors;
  uint64_t version = 0;  // stream version folded up to

  // Whether `ref` is vetted on `day`: inside a vetting period (from vettedOn
  // to expiresOn) and not removed on or before `day`.
  bool VettedOn(const std::string& ref, Date day) const;
  // Whether `ref` holds a vetting not removed (whatever its expiry).
  bool Listed(const std::string& ref) const;
};

// The list as the stream holds it (empty when it was never written).
Result<ContractorList> ReadContractors(LogReader& store, const Codec& codec);

// Checks events bound for the contractors stream against `list` (as read)
// and folds them into it: only
// ContractorVetted and ContractorRemoved at their current version, no
// personal sections; refusals are InvalidArgument "rule <name>: ..." with the
// event's place in the batch (contractor-stream, contractor-vetting,
// contractor-not-listed, contractor-removal-reason, date-required,
// invalid-date, date-in-future, code-field, code-list, malformed-facts,
// malformed-personal, unknown-schema-version).
Status CheckContractors(const Codec& codec, ContractorList* list, std::vector<NewEvent>* events, Date today);

// CheckContractors, then one append of the whole batch at the version the
// list was read at (with Any, re-read and retried on Conflict up to 5 times);
// nothing of a refused batch is written. Every front end's appends to the
// stream come here (the command line, hearth::Session, the demo).
Result<AppendResult> RecordContractors(Store& store, const Codec& codec, ExpectedVersion expected,
                                       std::vector<NewEvent> events, Date today);

// ---------------------------------------------------------------------------
// The breach register (UK GDPR Art. 33(5); docs/domain.md, "The breach
// register")

// One stream per breach, "breach/B-<n>" (a controller's stream), numbered
// from 1 without gaps, opened by BreachRecorded.
inline constexpr const char* kBreachStreamPrefix = "breach/";
// Art. 33(1): the ICO is notified within 72 hours of the controller becoming
// aware; the register keeps the day of discovery, so the notification is
// due by the end of the third day after it.
inline constexpr int kBreachNotifyDays = 3;

// A breach folded from its stream (facts only).
struct BreachState {
  std::string stream;                       // breach/B-1
  std::string ref;                          // B-1
  uint64_t version = 0;                     // stream version folded up to
  Date discovered_on{};
  std::string discovered_time;              // HH:MM, or empty
  std::optional<Date> occurred_on;
  std::string kind;                         // BreachKind enumerant name
  std::string cause;                        // BreachCause enumerant name
  std::vector<std::string> categories;      // BreachDataCategory enumerant names
  uint32_t approx_people = 0;
  uint32_t approx_records = 0;
  bool contained = false;
  std::string risk;                         // latest assessment: unlikely, risk, highRisk; "" not assessed
  std::optional<Date> assessed_on;
  std::optional<Date> notified_on;          // BreachNotifiedToIco
  std::string ico_reference;
  std::string late_reason;
  std::optional<Date> not_notified_on;      // BreachNotNotified
  std::string not_notified_reason;
  std::optional<Date> people_decided_on;    // BreachPeopleInformed
  bool people_informed = false;
  uint32_t people_informed_count = 0;
  std::string people_reason;

  bool exists() const { return version != 0; }
  // The last day the ICO may be notified within 72 hours of discovery.
  Date NotifyBy() const { return discovered_on + std::chrono::days{kBreachNotifyDays}; }
  // The 72-hour clock runs: not notified, no decision not to notify, and not
  // assessed as unlikely to result in a risk (not yet assessed counts as a
  // risk).
  bool ClockRunning() const { return !notified_on && !not_notified_on && risk != "unlikely"; }
  // "awaiting assessment", "notify ICO", "notified", "not notified",
  // "no notification needed (unlikely), decision to record".
  std::string Stage() const;
};

// Checks `events` bound for breach stream `stream` against the breach as it
// stands (`state`, not existing for a new breach) and folds them into it.
// Refusals are InvalidArgument "rule <name>: ..." with the event's place in
// the batch: breach-stream, breach-ref, breach-recorded, breach-subjects,
// breach-kind, breach-categories, breach-time, breach-before-discovery,
// breach-risk, breach-notified, breach-late-reason, breach-not-notified,
// breach-informed, code-list, date-required, invalid-date, date-in-future,
// code-field, unknown-schema-version, malformed-facts, malformed-personal.
Status CheckBreach(LogReader& store, const Codec& codec, const std::string& stream, BreachState* state,
                   std::vector<NewEvent>* events, Date today);

// Reads the breach, checks the batch (CheckBreach) and appends it at the
// version it was read at (with Any, re-read and retried on Conflict up to 5
// times); nothing of a refused batch is written. Every front end's appends to
// breach/ streams come here (the command line, hearth::Session).
Result<AppendResult> RecordBreach(Store& store, const Codec& codec, const std::string& stream,
                                  ExpectedVersion expected, std::vector<NewEvent> events, Date today);

// The breach folded from its stream. NotFound for a breach never recorded.
Result<BreachState> LoadBreach(LogReader& store, const Codec& codec, const std::string& stream);
// Every breach, B-1, B-2 ... in order.
Result<std::vector<BreachState>> ReadBreaches(LogReader& store, const Codec& codec);
// The next free reference "B-<n>".
Result<std::string> NextBreachRef(LogReader& store);

// ---------------------------------------------------------------------------
// Complaints with no case (docs/domain.md, "Complaints")

// One stream per complaint that is about no case (a member of the public, a
// neighbour, a complaint about the service as a whole): "complaint/K-<n>",
// numbered from 1 without gaps, opened by ComplaintReceived (complaint 1,
// with its district); then ComplaintEscalated and ComplaintResolved.
inline constexpr const char* kComplaintStreamPrefix = "complaint/";

// A complaint folded from its own stream (facts and envelopes only).
struct ComplaintState {
  std::string stream;                 // complaint/K-1
  std::string ref;                    // K-1
  uint64_t version = 0;               // stream version folded up to
  std::string district;               // ComplaintReceived.district
  std::string channel;                // Channel name
  std::string category;               // ComplaintReceived.categoryCode
  std::vector<std::string> complainants;  // the subjects named by the ComplaintReceived
  Complaint complaint;
  bool exists() const { return version != 0; }
};

// Checks `events` bound for complaint stream `stream` against the complaint
// as it stands (`state`, not existing for a new one) and folds them into it.
// Refusals are InvalidArgument "rule <name>: ..." with the event's place in
// the batch: complaint-stream, complaint-ref, complaint-number,
// complaint-district, complaint-escalation, complaint-stage, code-list,
// date-required, invalid-date, date-in-future, code-field,
// unknown-schema-version, malformed-facts, malformed-personal,
// personal-subject.
Status CheckComplaint(LogReader& store, const Codec& codec, const std::string& stream, ComplaintState* state,
                      std::vector<NewEvent>* events, Date today);
// Reads the complaint, checks the batch (CheckComplaint) and appends it at the
// version it was read at (with Any, re-read and retried on Conflict up to 5
// times); nothing of a refused batch is written. Every front end's appends to
// complaint/ streams come here (the command line, hearth::Session).
Result<AppendResult> RecordComplaint(Store& store, const Codec& codec, const std::string& stream,
                                     ExpectedVersion expected, std::vector<NewEvent> events, Date today);
// The complaint folded from its stream. NotFound for one never recorded.
Result<ComplaintState> LoadComplaint(LogReader& store, const Codec& codec, const std::string& stream);
// Every complaint with no case, K-1, K-2 ... in order.
Result<std::vector<ComplaintState>> ReadComplaints(LogReader& store, const Codec& codec);
// The next free reference "K-<n>".
Result<std::string> NextComplaintRef(LogReader& store);

// ---------------------------------------------------------------------------
// Streams of their own, with their own rules: config/allocations,
// register/contractors, complaint/K-<n>, breach/B-<n>.

// Whether `stream` is one of them.
bool HasOwnRules(const std::string& stream);
// Records `events` on such a stream through its rules (RecordAllocations,
// RecordContractors, RecordComplaint, RecordBreach): the one route every
// front end takes (the command line's `hearth append`, hearth::Session).
// InvalidArgument for a stream without rules of its own.
Result<AppendResult> RecordOnOwnStream(Store& store, const Codec& codec, const std::string& stream,
                                       ExpectedVersion expected, std::vector<NewEvent> events, Date today);

// --- documents (003 8.3; docs/domain.md "Documents") ---
// A document's body is kept beside its DocumentAttached event
// (NewEvent::documents), sealed under the data key of the person it
// concerns; its SHA-256 and file name are in that person's personal section.

// The largest document body (rule `document-size`; Options::max_document_bytes
// has the same default).
inline constexpr uint32_t kMaxDocumentBytes = 16u << 20;  // 16 MiB

// 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// One document of a case, as its DocumentAttached event records it.
struct CaseDocument {
  uint64_t position = 0;   // of the DocumentAttached event (Store::ReadDocument(position, 0))
  Date attached_on{};
  std::string kind;        // DocumentKind enumerant name
  std::string media_type;  // MediaType enumerant name
  uint32_t size_bytes = 0;
  std::string subject;     // whose data key seals the body
  std::string sha256;      // from the subject's personal section; empty when erased
  std::string file_name;   // idem
  bool erased = false;     // the subject was erased: neither the hash nor the body can be read
};

// The document a DocumentAttached event records (its personal section of
// subjectRef read when present). InvalidArgument for another event type.
Result<CaseDocument> DocumentOf(const Codec& codec, const RecordedEvent& event);
// Every DocumentAttached event of a case, oldest first. NotFound: no case.
Result<std::vector<CaseDocument>> ListDocuments(LogReader& store, const Codec& codec,
                                                const std::string& case_id);
// The body of `doc`, opened and checked against the SHA-256 its event records
// before it is returned: Corruption naming both hashes when they differ (or
// when the stored body fails authentication), Erased when its subject was
// erased, NotFound when the store holds no body for it.
Result<std::string> ReadDocumentBody(Store& store, const CaseDocument& doc);
// The same check on a body already read (Store::ReadDocument or
// ScopedReader::ReadDocument): the body's bytes, or the error.
Result<std::string> CheckDocumentBody(const CaseDocument& doc, Result<DocumentBody> stored);

}  // namespace hearth::domain
