// hearth: the case read models (docs/readmodels.md).
//
//   hearth::domain::UpcasterRegistry upcasters;
//   hearth::domain::AddBuiltinUpcasters(&upcasters);
//   auto codec = hearth::domain::Codec::Create(&upcasters);
//   hearth::Options options;
//   options.projections = hearth::readmodels::MakeProjections(codec->get());
//   auto store = hearth::Store::Open(options, dir);
//
//   // The auditor's view of one case as it stood at a position or a date:
//   hearth::readmodels::TimelineRequest req;
//   req.case_id = "case/D3/000123";
//   auto timeline = hearth::readmodels::ReadTimeline(**store, **codec, req);
//
//   // Worklists, from the `cases` projection (never by scanning the log):
//   auto calendar = hearth::domain::Calendar::EnglandAndWales();
//   hearth::readmodels::WorklistOptions wo;
//   auto worklist = hearth::readmodels::BuildWorklist(**store, calendar, wo);
//
// - the `cases` projection: every case's CaseState (store/domain's fold) in a
//   compact deterministic binary form, keyed by case id, with indexes of the
//   open cases and of all cases by district;
// - the case timeline ("time travel"): a case folded from a prefix of its
//   stream, who did what and when, each event with its Merkle inclusion proof;
// - worklists: first visits overdue, DFG cases against the 55 / 150
//   working-day targets per stage, stalled cases, support-plan reviews due;
// - ReadModel adapters (`timeline`, `worklist`) for the ReadModels collection.
//
// Nothing here is global: main() builds the codec, the calendar and the
// projections and passes them in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/domain.h"
#include "hearth/event.h"
#include "hearth/projection.h"
#include "hearth/read_model.h"
#include "hearth/session.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::readmodels {

// ---------------------------------------------------------------------------
// The `cases` projection

inline constexpr const char* kCasesProjection = "cases";

struct CasesProjectionOptions {
  // Default: asynchronous. The fold (decode facts, fold, encode the state)
  // would otherwise run inside every append's commit, holding up the group
  // commit of all writers, while worklists tolerate being milliseconds
  // behind; a reader that must see its own write waits for the position
  // (Store::WaitForProjection). kInline is allowed (tests use both).
  ProjectionMode mode = ProjectionMode::kAsync;
  // Cases kept in memory between batches (state and dated facts encoded, as
  // written: under a kilobyte a case), so that a case seen again soon is not
  // read from RocksDB again. Default: 65,536 (some tens of MiB at most). 0
  // keeps cases only within one batch.
  size_t cache_cases = 65536;
};

// The `cases` projection: folds every event of a case stream ("case/...")
// with domain::CaseFolder and keeps, in its key space (docs/readmodels.md):
//   'c' case-id                  -> EncodeCaseState(state)
//   'o' district 0x00 case-id    -> ""   (open cases, by current district)
//   'd' district 0x00 case-id    -> ""   (every case, by current district)
// and the dated facts the monitoring exports count, so that a return reads
// one value a case instead of the whole log (issue 14 item 3):
//   'f' case-id                  -> the case's dated facts
//   'k' stream-id                -> the same, of a complaint with no case
//   'p' subject                  -> a client's target-group and equality codes
//   'a' district                 -> how many cases and complaints count it
// (complaint streams, "complaint/...", are folded for their facts only).
// Events of other streams are passed over. An event of a case stream that
// the domain cannot fold (an unknown type, a newer schema version, facts that
// do not decode) stops the projection at that event (ProjectionStatus).
// REQUIRES: `codec` outlives the projection.
std::shared_ptr<Projection> MakeCasesProjection(const domain::Codec* codec,
                                                CasesProjectionOptions options = {});

// ---------------------------------------------------------------------------
// The `rights_requests` projection

inline constexpr const char* kRightsRequestsProjection = "rights_requests";
inline constexpr uint32_t kRightsRequestsProjectionVersion = 1;

// An index of the rights requests (streams "rights/<ref>" but
// "rights/restrictions"; docs/readmodels.md), inline: it numbers each request
// in the order its RightsRequestReceived reached the log, and keeps which
// are open (until the first RightsRequestFulfilled or RightsRequestRefused)
// and how many were closed each way. rights::Rights::RequestsPage reads it,
// so that the open requests cost O(open) reads and a page of all of them
// O(page), however many requests the store holds. Needs no codec: it reads
// only streams and event types.
std::shared_ptr<Projection> MakeRightsRequestsProjection();

// Every projection the read models need, with default options, for
// Options::projections: `cases` and `rights_requests`. REQUIRES: `codec`
// outlives them.
std::vector<std::shared_ptr<Projection>> MakeProjections(const domain::Codec* codec);

// The version of the `cases` projection: bumped whenever the fold or the
// encoding changes meaning, so that stores rebuild it on open.
inline constexpr uint32_t kCasesProjectionVersion = 10;  // 2: land charges; 3: onward referrals; 4: safeguarding; 5: referral_on is the first referral; 6: complaints with their stages (and a closed case awaiting a complaint response needs work); 7: the exports' dated facts; 8: the quiet index of closed cases (a past day's worklist); 9: the work index (a page of the worklist reads its own cases); 10: the money totals (a year's money as of a day reads the year's days, not its cases)
                                                       // (the questionnaires, worker and follow-up of case-state encoding 5 need no
                                                       // rebuild: no event before them could set them)

// The projection's binary form of a CaseState (domain::EncodeCaseState: the
// domain layer's, so that the session, below the read models, can read a
// case's district from the projection).
using domain::DecodeCaseState;
using domain::EncodeCaseState;

// One case from the projection. NotFound with a message that says whether the
// case does not exist at all or the projection has not reached it yet.
// Corruption for state bytes that do not decode.
Result<domain::CaseState> GetCase(LogReader& store, const std::string& case_id);

struct CaseScan {
  std::string district;    // only cases currently in this district ("": all)
  bool open_only = false;  // only cases not closed, or closed with work due (CaseState::needs_work)
  // With open_only: also the closed cases that may have had work on this
  // day: closed after it, or with a safeguarding referral acknowledged or a
  // complaint answered after it (the quiet index, docs/readmodels.md). A
  // past day's worklist reads these, not every case of the district.
  std::optional<domain::Date> work_on;
};
// Calls `fn` for each case of the scan, in key order (district, then case
// id; with work_on, the closed cases follow the open ones, in district,
// quiet day and case id order), until it returns false. Reads the
// projection as it stands (call Store::WaitForProjection first to see the
// log's end).
Status ScanCases(LogReader& store, const CaseScan& scan,
                 const std::function<bool(const domain::CaseState&)>& fn);

// ---------------------------------------------------------------------------
// The case timeline

struct TimelineRequest {
  // "case/D3/000123"; "D3/000123" is taken to mean the same.
  std::string case_id;
  // At most one cut; none gives the case as it stands now.
  uint64_t at_position = 0;                  // events at global positions <= this
  std::optional<domain::Date> as_of;         // events recorded (store clock, UK date) on or
                                             // before this day: the record as it stood at
                                             // the end of that day
  std::optional<domain::Date> occurred_by;   // events whose business date is on or before
                                             // this day (not a prefix when back-dated
                                             // events exist; docs/readmodels.md)
  bool proofs = true;                        // attach inclusion proofs
};

struct TimelineEntry {
  RecordedEvent event;           // as read: personal sections only when the caller may
  std::optional<domain::Date> business_date;  // the event's own date (its facts' main date)
  std::string summary;           // one line of plain English
  std::string facts_json;        // the facts in the codec's JSON form (upcast)
  // The personal sections in the codec's JSON form; empty when none were read.
  std::string personal_json;
  // Inclusion proof of the stored record against `Timeline::tree_size`.
  Hash leaf_hash{};
  std::vector<Hash> proof;
};

struct Timeline {
  std::string case_id;
  uint64_t stream_events = 0;    // events the case has now
  std::string cut;               // in words: "now", "at position 17", ...
  domain::CaseState state;       // the fold of the entries shown
  std::vector<TimelineEntry> entries;
  // What the proofs are against: the newest signed checkpoint that covers
  // every entry shown, else the current tree head (unsigned).
  uint64_t tree_size = 0;
  Hash root{};
  std::optional<SignedCheckpoint> checkpoint;
  bool personal_shown = false;   // personal sections were read for the caller
};

// The case as it stood at the request's cut, read through `reader`: a Store
// (the store's own keys: personal sections shown, erased ones marked), or a
// ScopedReader (its stream scope checked, personal sections left out unless
// it may read them, and what it read written to the access log). NotFound
// for an unknown case, InvalidArgument for a malformed request (more than
// one cut, a bad case id) or a cut before the case's first event.
Result<Timeline> ReadTimeline(LogReader& reader, const domain::Codec& codec,
                              const TimelineRequest& request);
// The same through a ScopedReader of `session` (purpose "timeline").
Result<Timeline> ReadTimeline(Session& session, const domain::Codec& codec,
                              const TimelineRequest& request);

// JSON (docs/readmodels.md) and text forms.
std::string TimelineToJson(const Timeline& timeline, bool pretty = false);
std::string TimelineToText(const Timeline& timeline);

// One line of plain English for an event, from its facts ("Enquiry by phone
// from an occupational therapist, district D3"). Types this code does not
// describe get their type name.
std::string DescribeEvent(const std::string& type, const std::string& facts_json);

// ---------------------------------------------------------------------------
// Worklists

// A district's money of one fund in one financial year, up to the worklist's
// day (exports::ReadMoney gives them; `hearth worklist` passes them in): the
// budget rule (docs/readmodels.md, the `budget` list).
struct BudgetPosition {
  std::string district;
  std::string fund;                  // GrantType enumerant, e.g. "mandatoryDfg"
  std::string financial_year;        // "2018/19"
  domain::Date year_first{};         // 1 April
  domain::Date year_last{};          // 31 March
  int64_t allocation_pence = 0;
  int64_t committed_pence = 0;       // approved, not yet paid
  int64_t spent_pence = 0;           // paid
};

struct WorklistOptions {
  std::string district;                // "" : every district
  std::optional<domain::Date> as_of;   // the day the rules are evaluated on; default today (UK)
  int first_visit_days = 28;           // first visit within this many calendar days of the referral (or enquiry)
  int dfg_urgent_days = 55;            // DFG end-to-end target, working days, urgent
  int dfg_non_urgent_days = 150;       // ... non-urgent (also when urgency is not yet decided)
  int stall_working_days = 20;         // a stage with no activity for more than this is stalled
  int due_soon_days = 7;               // items due within this many days are listed as due soon
  int review_due_days = 14;            // reviews due within this many days are listed
  int safeguarding_ack_working_days = 1;  // a referral unacknowledged after this many working days is overdue
  // When set, only the cases it returns true for are considered (e.g. the
  // case streams a session may read).
  std::function<bool(const domain::CaseState&)> include;
  // Budget alerts: a district whose allocation is projected (straight line
  // from the share of the year gone) to be less than spend_target_percent
  // committed or spent at the year's end. Empty: no budget items.
  std::vector<BudgetPosition> budgets;
  int spend_target_percent = 95;
  // The breach register (domain::ReadBreaches; `hearth worklist` passes it
  // in): the 72-hour notification clock (docs/readmodels.md, the `breach`
  // list). Empty: no breach items.
  std::vector<domain::BreachState> breaches;
  // Complaints with no case (domain::ReadComplaints; `hearth worklist` and
  // the served `worklist` model pass them in when the reader may read
  // complaint/ streams): each awaiting a response is listed in its
  // district's worklist (docs/readmodels.md, the `complaint` list).
  std::vector<domain::ComplaintState> complaints;
  // Allocation (000 "Responsibility for files"): an open case with no
  // responsible worker is listed once it has waited more than this many
  // working days since the enquiry (or since its worker was taken off).
  int allocation_grace_working_days = 2;
  // A worker's own list: when set (a staff reference, domain::IsStaffRef),
  // only the cases whose current worker it is are considered, and no item
  // without a case (budget, breach, complaint with no case) is listed.
  std::string worker;
  // A page: at most this many items (0: every item), starting after the
  // item that `after` names (a Worklist::next of an earlier page; "" : from
  // the first). Counts and total_items are always of the whole list.
  size_t limit = 0;
  std::string after;
  // Evaluates every open case instead of reading the work index (the same
  // answer, read the slow way: for checking the index, docs/readmodels.md
  // "The work index").
  bool full_scan = false;
};

// The most items the served `worklist` model returns in one answer, and the
// page it returns when the request names none (docs/protocol.md).
inline constexpr size_t kWorklistPageMax = 1000;
inline constexpr size_t kWorklistPageDefault = 200;

enum class WorkKind : uint8_t {
  kFirstVisit,  // first visit not made within first_visit_days of the enquiry
  kDfg,         // a DFG line against its end-to-end target
  kStalled,     // an open service line with no activity for stall_working_days
  kReview,      // support plan review due or overdue
  kSafeguarding,  // a safeguarding referral the agency has not acknowledged (closed cases too)
  kBudget,        // a district's allocation projected to miss the spend target (no case)
  kBreach,        // a breach whose ICO notification is due within 72 hours of discovery (no case)
  kAllocation,    // an open case with no responsible worker after the grace period
  kFollowUp,      // information and advice to follow up (ConsultationHeld.followUpOn) due or overdue
  kComplaint,     // a complaint awaiting the agency's response at its stage (closed cases too, and
                  // complaints with no case): "overdue", "due-soon" or "open"
};
// "first-visit", "dfg", "stalled", "review", "safeguarding", "budget", "breach",
// "allocation", "follow-up", "complaint"
const char* WorkKindName(WorkKind kind);

struct DfgStage {
  std::string name;                  // first-contact, assessment, application, approval, completion
  std::optional<domain::Date> on;    // when the stage was reached (<= as_of), else nullopt
  int working_days = 0;              // from the previous stage reached to this one (or to as_of
                                     // for the current stage)
};

struct WorkItem {
  WorkKind kind = WorkKind::kFirstVisit;
  std::string case_id;
  std::string district;
  uint16_t line = 0;                 // the service line (DFG, stalled); 0 for case-level items
  std::string status;                // "overdue" or "due-soon" (stalled items: "stalled")
  std::string stage;                 // what is awaited (e.g. "first visit", "approval")
  domain::Date since{};              // when the clock started (enquiry, last activity ...)
  std::optional<domain::Date> due;   // the deadline, when there is one
  int elapsed = 0;                   // days (first visit, review) or working days (DFG, stalled)
  int target = 0;                    // the limit in the same unit; 0 when none
  std::string urgency;               // DFG: "urgent", "nonUrgent" or "" (not decided)
  std::vector<DfgStage> stages;      // DFG: every stage, in pathway order
  std::string detail;                // one line of plain English
  std::string worker;                // the case's current worker (staff ref), "" when none
};

struct Worklist {
  domain::Date as_of{};
  std::string district;
  std::string worker;                // a worker's own list: their staff reference
  uint64_t position = 0;             // the projection position it was built from
  uint64_t cases_considered = 0;
  std::vector<WorkItem> items;       // ordered by kind, then status, due date, case
                                     // (one page when WorklistOptions::limit is set)
  uint64_t total_items = 0;          // items in the whole list
  // Per kind (WorkKindName), per status: items in the whole list.
  std::map<std::string, std::map<std::string, uint64_t>> counts;
  // When the page stops before the list's end: the continuation that gives
  // the next page (WorklistOptions::after); "" on the last page.
  std::string next;
  // Whether the list was read from the work index (docs/readmodels.md "The
  // work index"), and how many case states were read to write it: with the
  // index, those of the page's items (and of any case the index could not
  // hold), not every open case.
  bool indexed = false;
  uint64_t states_read = 0;
};

// Evaluates the rules (docs/readmodels.md) on every case of the `cases`
// projection in the district, as the projection stands (through a
// ScopedReader: only the cases its principal may read where they are now,
// and none of a person whose processing is restricted). InvalidArgument for
// bad options; InvalidArgument when as_of lies outside the calendar's years.
Result<Worklist> BuildWorklist(LogReader& store, const domain::Calendar& calendar,
                               const WorklistOptions& options);

std::string WorklistToJson(const Worklist& worklist, bool pretty = false);
std::string WorklistToText(const Worklist& worklist);

// ---------------------------------------------------------------------------
// Read models for the ReadModels collection (hearth/read_model.h)

// `timeline`: params {"case": "case/D3/000123", "at": 17 | "asOf": "2019-01-31" |
// "occurredBy": "2019-01-31", "proofs": true}. Returns TimelineToJson.
// REQUIRES: codec outlives the model.
std::unique_ptr<ReadModel> MakeTimelineModel(const domain::Codec* codec);

// `worklist`: params {"district": "D3", "asOf": "2019-01-31", "stallWorkingDays": 20}.
// The session must be able to read the district's cases (read_districts or
// read_streams); with no district, only the cases it may read where they are
// now are included. Cases of people whose processing is restricted are left
// out (the ScopedReader's view of the cases projection), as by `hearth
// worklist`. Returns WorklistToJson. REQUIRES: calendar outlives it.
std::unique_ptr<ReadModel> MakeWorklistModel(const domain::Calendar* calendar, const domain::Codec* codec);

}  // namespace hearth::readmodels
