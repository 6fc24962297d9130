// hearth: the data controller's rights workflow (docs/rights.md).
//
//   hearth::rights::RightsOptions ro;                 // today, calendar
//   hearth::rights::Rights rights(store, codec, ro);
//   rights.Record("R-1", {received});                 // validated, then appended
//   auto open = rights.RequestsPage({});              // the open requests, a page
//   auto pack = rights.BuildPack("P-000123", pack_options);   // subject access
//
// - rights requests (access, rectification, erasure, restriction,
//   portability, objection) are events in their own stream "rights/<ref>",
//   checked by rules named like the CaseRecorder's ("rule <name>: ...");
// - due dates as the ICO counts them (one calendar month, the last day of a
//   shorter month, the next working day; identity, authority and fee restart
//   the month, clarification stops the clock; extensions of up to two months);
// - restriction (stream "rights/restrictions"), the record of processing and
//   retention rules (stream "config/processing", history kept);
// - the subject-access pack (JSON, docs/sar-format.md, and HTML);
// - the erasure workflow (decision, then Store::EraseSubject) and the
//   retention review.
//
// Nothing here is global: the caller builds the codec and calendar.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hearth/domain.h"
#include "hearth/event.h"
#include "hearth/read_model.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::rights {

using domain::Date;

inline constexpr const char* kProcessingStream = "config/processing";
using domain::kRestrictionStream;
// The role the command line records as the actor of the controller's own
// work (restriction, erasure decisions). A name only: the power to record
// events about a restricted person comes from the controller scope
// (domain::RecorderOptions::controller, Scopes::controller), never from an
// actor's role. This library is the controller's own (whoever holds the store
// key); DecideErasure also refuses an actor in any other role.
inline constexpr const char* kControllerRole = "controller";

// "rights/" + ref. REQUIRES nothing: ValidRequestRef checks the ref.
std::string RequestStream(const std::string& ref);
// InvalidArgument unless `ref` is 1..64 of [A-Za-z0-9._:-].
Status ValidRequestRef(const std::string& ref);

// ---------------------------------------------------------------------------
// Restriction (Art. 18): the one view of the restrictions in force

// The restrictions in force (domain::ActiveRestrictions, hearth/domain.h):
// folded from kRestrictionStream in one read; every reader that leaves
// restricted people out takes its answer from there.
using domain::ActiveRestrictions;

// ---------------------------------------------------------------------------
// Due dates (ICO: "Right of access", time limits)

// The corresponding day `months` calendar months after `from`; when that
// month is shorter (31 January + 1 month), its last day (28 or 29 February).
Date AddCalendarMonths(Date from, int months);

// One stop of the clock.
struct ClockStop {
  Date paused_on{};
  std::optional<Date> resumed_on;
  std::string reason;  // PauseReason: identity, authority, fee, clarification
};

// A rights request folded from its stream.
struct RequestState {
  std::string ref;
  std::string subject;            // the person the request is about
  std::string kind;               // RightsKind: access, erasure ...
  std::string requested_by;       // self or representative
  std::string authority;          // AuthorityKind
  bool identity_needed = false;
  std::optional<Date> received_on;
  std::optional<Date> authority_on;       // the representative's authority arrived
  std::optional<Date> identity_verified_on;
  std::vector<ClockStop> stops;           // every stop, oldest first (history kept)
  int extension_months = 0;
  std::string status = "open";            // open, paused, fulfilled, refused
  std::optional<Date> closed_on;
  std::string outcome;                    // actionCode or reasonCode of the closing event
  std::string exemption;                  // of a refusal
  // ErasureDecided {erase: true} was recorded: the person is to be erased.
  // Until RightsRequestFulfilled follows, the erasure is decided but not
  // (known to be) carried out, e.g. after a crash between the writes of
  // Rights::DecideErasure, which completes it when called again.
  std::optional<Date> erasure_decided_on;
  std::string erasure_rule;               // the rule the decision applied
  uint64_t version = 0;

  bool closed() const { return status == "fulfilled" || status == "refused"; }
  // Erasure decided, request not yet closed.
  bool erasure_pending() const { return erasure_decided_on.has_value() && !closed(); }
  bool paused() const { return !stops.empty() && !stops.back().resumed_on; }
};

// Folds one event of a request stream. InvalidArgument for a type that does
// not belong there, Corruption for facts that do not decode.
Status FoldRequest(const domain::Codec& codec, const RecordedEvent& event, RequestState* state);

struct DueDate {
  Date clock_start{};       // the day the month is counted from
  int paused_days = 0;      // clarification stops, added to the due date
  Date first_month_due{};   // the due date without any extension
  Date due{};               // with extensions and stops, on a working day
};
// The due date of a request as it stands. When the clock is stopped, as if
// it restarted on `today`. InvalidArgument without a receipt date or past the
// calendar's coverage.
Result<DueDate> ComputeDueDate(const RequestState& state, const domain::Calendar& calendar,
                               Date today);

// ---------------------------------------------------------------------------
// The record of processing (Art. 30) and retention rules

// The defaults shipped with hearth (store/rights/default_processing.json), as
// ProcessingRecordSet facts JSON with "effectiveOn" left to the caller.
std::string DefaultProcessingRecordJson();

// ---------------------------------------------------------------------------
// The subject-access pack

struct PackOptions {
  std::string requester_role = kControllerRole;  // recorded in the access log
  std::string user;                              // staff reference of who generated it
  std::string plugin = "hearth";
  std::string request_ref;                       // the rights request it answers, if any
  bool record_disclosure = true;                 // log the disclosure (action "sar")
};

// A file of the pack besides sar.json and sar.html: a document about the
// person, at `path` relative to the pack (listed in sar.json "documents").
struct PackFile {
  std::string path;   // documents/<position>-<file name>
  std::string bytes;
};

struct Pack {
  std::string json;   // docs/sar-format.md
  std::string html;   // self-contained, chronological
  std::vector<PackFile> files;  // the documents about the person
  uint32_t events = 0;
  uint32_t withheld_sections = 0;
  uint32_t held_for_review = 0;
  bool erased = false;
};

// What a request for a retention review returns per case.
struct RetentionItem {
  std::string case_id;
  std::string subject;         // the client
  std::string record_class;    // housingGrant, careRecord, adviceOnly
  std::string rule;            // the rule's name
  Date keep_until{};           // the rule's end
  std::string action;          // "erase" (past the rule) or "keep"
  bool legal_hold = false;     // the rule forbids erasure before keep_until
  std::string explanation;     // how the date was reached
};

// Listing requests (docs/rights.md, "Listing requests"): a page is read
// from the `rights_requests` projection (readmodels::MakeProjections), so it
// costs O(page) reads whatever the number of requests ever made.
inline constexpr size_t kMaxRequestsPage = 1000;     // the most one page may ask for
inline constexpr size_t kDefaultRequestsPage = 100;

struct RequestPageOptions {
  // true: the requests not closed (open or paused), oldest received first.
  // false: every request, newest received first.
  bool open_only = true;
  // 1..kMaxRequestsPage: more (or 0) is InvalidArgument naming the bound.
  size_t limit = kDefaultRequestsPage;
  // The `next` of the page before; empty for the first page.
  std::string after;
};

struct RequestPage {
  std::vector<RequestState> requests;
  // Pass as RequestPageOptions::after for the next page; empty when this
  // page ends the list.
  std::string next;
  // Request streams read for this page (at most `limit`): what a page costs,
  // shown so that a test can tell a page from a scan of every request.
  uint64_t requests_read = 0;
};

// Requests received and closed, from the projection's counters (three keys).
struct RequestCounts {
  uint64_t received = 0;
  uint64_t fulfilled = 0;
  uint64_t refused = 0;
  uint64_t open() const { return received - fulfilled - refused; }  // open or paused
};

struct RightsOptions {
  // Today's date for the rules and due dates. Default: UkDate(Now()).
  std::function<Date()> today;
  domain::Calendar calendar = domain::Calendar::EnglandAndWales();
};

// Records rights events and answers rights questions over one store.
// Thread-compatible: use one per thread, or serialise calls.
class Rights {
 public:
  // REQUIRES: store and codec outlive this object.
  Rights(Store* store, const domain::Codec* codec, RightsOptions options);

  Date Today() const;

  // Validates `events` against request `ref` and appends them to its stream.
  // Every refusal is InvalidArgument "rule <name>: ..." and writes nothing:
  // rights-receipt-date, rights-opens-with-receipt, rights-kind,
  // rights-subject, rights-representative-authority,
  // rights-identity-before-fulfilment, rights-request-closed,
  // rights-clock-paused, rights-clock-not-paused, rights-extension,
  // rights-date-before-receipt, date-in-future, invalid-date, malformed-facts.
  Result<AppendResult> Record(const std::string& ref, std::vector<NewEvent> events);
  // A free reference "R-<n>": one past the last of ... found by
  // doubling then halving (O(log n) stream look-ups). The references it
  // hands out are dense, so that is the next one.
  Result<std::string> NextRequestRef();
  // NotFound for an unknown request.
  Result<RequestState> LoadRequest(const std::string& ref);
  // One page of requests (RequestPageOptions): O(limit) reads. Returns
  // InvalidArgument for a limit outside 1..kMaxRequestsPage (naming the
  // bound) or an `after` naming no request, NotSupported when the store was
  // opened without the `rights_requests` projection, Corruption when the
  // projection disagrees with itself, and the store's errors.
  Result<RequestPage> RequestsPage(const RequestPageOptions& options);
  // Counts of the requests received and closed; NotSupported as above.
  Result<RequestCounts> CountRequests();

  // --- restriction (Art. 18) ---
  // Active restrictions (ActiveRestrictions::Read): subject -> the day it started.
  Result<std::vector<std::pair<std::string, Date>>> RestrictedSubjects();
  Result<bool> IsRestricted(const std::string& subject);
  // Appends RestrictionApplied / RestrictionLifted for `subject` (who must be
  // known to the store). InvalidArgument "rule restriction-active" /
  // "rule restriction-not-active"; NotFound for an unknown subject.
  Status Restrict(const std::string& subject, const std::string& request_ref,
                  const std::string& reason_code, const Actor& actor);
  Status LiftRestriction(const std::string& subject, const std::string& reason_code,
                         const Actor& actor);

  // --- the record of processing ---
  // Appends a ProcessingRecordSet (facts JSON, as in
  // DefaultProcessingRecordJson) to config/processing.
  Status SetProcessingRecord(const std::string& facts_json, const Actor& actor);
  // The current record's facts JSON; NotFound when none was ever set.
  Result<std::string> ProcessingRecord();
  // Every version, oldest first, each {"position", "recordedAt", "facts"}.
  Result<std::string> ProcessingHistory();

  // --- subject access, disclosures ---
  // NotFound for a subject the store does not know.
  Result<Pack> BuildPack(const std::string& subject, const PackOptions& options);
  // Every read and disclosure of the subject's personal data, as JSON.
  Result<std::string> DisclosuresJson(const std::string& subject);

  // --- retention and erasure ---
  // Every case with its rule and end date (rules from the record of
  // processing), as of `as_of`. Only cases whose rule has ended are marked
  // "erase".
  Result<std::vector<RetentionItem>> RetentionReview(Date as_of);
  // The same, one case at a time, in case order, until `each` returns false:
  // memory does not grow with the number of cases (docs/rights.md).
  Status RetentionReviewEach(Date as_of, const std::function<bool(const RetentionItem&)>& each);
  // The retention of the cases where `subject` is the client, the latest end.
  // NotFound when they are client of no case.
  Result<RetentionItem> RetentionOf(const std::string& subject, Date as_of);

  // Decides erasure request `ref` (kind erasure, identity verified when
  // needed): under a legal hold records ErasureDecided{erase: false} and
  // RightsRequestRefused naming the rule, and returns PermissionDenied
  // "rule legal-hold: ..."; otherwise records ErasureDecided{erase: true},
  // crypto-shreds the subject (Store::EraseSubject) and records
  // RightsRequestFulfilled. The actor must have the controller role.
  // On a request whose erasure was already decided (erasure_pending(): a
  // crash between those writes, or a decision recorded by hand) it neither
  // decides again nor applies the retention rule: it completes what is
  // missing, EraseSubject (a no-op returning duplicate = true when already
  // erased) and RightsRequestFulfilled. On a closed request: InvalidArgument
  // "rule rights-request-closed".
  Result<AppendResult> DecideErasure(const std::string& ref, const Actor& actor);

 private:
  Status Validate(const std::string& ref, RequestState state, std::vector<NewEvent>* events);
  // LoadRequest without checking the ref's spelling (refs from the index
  // are stream names).
  Result<RequestState> LoadRequestStream(const std::string& ref);
  // The writes after an erasure decision: EraseSubject, then
  // RightsRequestFulfilled {actionCode: erased}. Each is safe to repeat.
  Result<AppendResult> CompleteErasure(const std::string& ref, const std::string& subject,
                                       const Actor& actor, Date today);
  Store* store_;
  const domain::Codec* codec_;
  RightsOptions options_;
};

// ---------------------------------------------------------------------------
// Read models for front ends (hearth/read_model.h; docs/protocol.md)

// `sar`: params {"subject": "P-000123", "request": "R-4", "html": true}.
// Needs the controller and read_personal scopes (and `sar` in read_models).
// Builds the subject-access pack as BuildPack does, records its generation as
// a disclosure to the data subject with the session's plugin, user and role,
// and answers {"subject", "events", "withheldSections", "heldForReview",
// "erased", "pack": <docs/sar-format.md>, "html": "..." (only when asked)}.
// NotFound for an unknown subject or request; InvalidArgument when the
// request is about someone else. The model reaches the store only through
// ScopedReader::ControllerStore. REQUIRES: codec outlives it.
std::unique_ptr<ReadModel> MakeSarModel(const domain::Codec* codec, RightsOptions options = {});

// `document`: params {"case": "case/D3/000123", "event": 14} (the event's
// number in the case). Needs read_personal and a case the session's
// districts reach. Answers {"case", "event", "position", "attachedOn",
// "kind", "mediaType", "sizeBytes", "subject", "sha256", "fileName",
// "body": base64}, the body checked against the SHA-256 its event records
// (Corruption on a mismatch, Erased for an erased person); the read is in
// the access log (docs/domain.md "Documents"). Bodies larger than the
// server's message limit cannot be sent this way.
std::unique_ptr<ReadModel> MakeDocumentModel(const domain::Codec* codec);

// `disclosures`: params {"subject": "P-000123"}. Needs the controller scope.
// Answers Rights::DisclosuresJson: every read and disclosure of the person's
// personal data.
std::unique_ptr<ReadModel> MakeDisclosuresModel(const domain::Codec* codec,
                                                RightsOptions options = {});

}  // namespace hearth::rights
