// Rights requests: references, due dates, the request fold and its rules,
// restriction and the record of processing (docs/rights.md).
#include "hearth/rights.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "hearth/event_json.h"
#include "hearth/readmodels.h"
#include "readmodels/rights_index.h"
#include "rights/internal.h"

namespace hearth::rights {

using Json = nlohmann::json;
using domain::FormatDate;
using domain::ParseDate;

std::string RequestStream(const std::string& ref) { return "rights/" + ref; }

Status ValidRequestRef(const std::string& ref) {
  bool ok = !ref.empty() && ref.size() <= 64;
  for (char c : ref) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == ':' || c == '-');
  }
  if (ok) return Status::OK();
  return Status::InvalidArgument("request reference must be 1..64 of [A-Za-z0-9._:-], not \"" +
                                 ref + "\"");
}

Date AddCalendarMonths(Date from, int months) {
  std::chrono::year_month_day ymd(from);
  auto ym = std::chrono::year_month(ymd.year(), ymd.month()) + std::chrono::months(months);
  auto last = std::chrono::year_month_day_last(ym.year(), std::chrono::month_day_last(ym.month()));
  std::chrono::day d = ymd.day() > last.day() ? last.day() : ymd.day();
  return Date(std::chrono::year_month_day(ym.year(), ym.month(), d));
}

namespace internal {

std::string Text(capnp::Text::Reader text) { return std::string(text.begin(), text.size()); }

std::optional<Date> DateOf(capnp::Text::Reader text) {
  Date d;
  if (!ParseDate(std::string_view(text.begin(), text.size()), &d)) return std::nullopt;
  return d;
}

std::vector<std::string> Texts(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto t : list) out.push_back(Text(t));
  return out;
}

EventReader::EventReader(const domain::Codec& codec)
    : tables_(&codec.tables()), facts_(tables_) {}

Status EventReader::Facts(const RecordedEvent& event, cs::Facts::Reader* out) {
  const domain::TypeEntry* type = nullptr;
  return facts_.DecodeNamed(event, out, &type);
}

Status EventReader::Personal(const PersonalSection& section, cs::Personal::Reader* out) {
  capnp::DynamicStruct::Reader dyn;
  Status s = personal_.Decode(section.data, tables_->personal, &dyn);
  if (!s.ok()) return Status::Corruption("personal section of " + section.subject + ": " + s.message());
  *out = dyn.as<cs::Personal>();
  return Status::OK();
}

Result<Json> EventReader::JsonOf(capnp::DynamicStruct::Reader reader) const {
  try {
    kj::String text = tables_->json.encode(capnp::DynamicValue::Reader(reader), capnp::Type(reader.getSchema()));
    return Json::parse(text.cStr());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("cannot read a ") + reader.getSchema().getShortDisplayName().cStr() +
                              ": " + e.getDescription().cStr());
  } catch (const Json::exception& e) {
    return Status::Corruption(std::string("cannot read a ") + reader.getSchema().getShortDisplayName().cStr() +
                              ": " + e.what());
  }
}

std::optional<cs::RetentionRule::Reader> RecordOfProcessing::RuleFor(const std::string& record_class) const {
  for (auto r : get().getRetention()) {
    if (Text(r.getRecordClass()) == record_class) return r;
  }
  return std::nullopt;
}

Result<RecordOfProcessing> ReadRecordOfProcessing(Store& store, const domain::Codec& codec) {
  auto last = store.ReadStream(kProcessingStream, 0, Direction::kBackward, 1);
  if (!last.ok()) {
    if (last.status().IsNotFound()) {
      return Status::NotFound("no record of processing in this store: set one with "
                              "`hearth processing set --defaults` or `--file F`");
    }
    return last.status();
  }
  if (last->empty()) return Status::NotFound("no record of processing in this store");
  EventReader reader(codec);
  cs::Facts::Reader facts;
  Status s = reader.Facts(last->front(), &facts);
  if (!s.ok()) return s;
  RecordOfProcessing out;
  try {
    if (facts.which() != cs::Facts::PROCESSING_RECORD_SET) {
      return Status::Corruption(kProcessingStream + std::string(" holds a ") + last->front().type);
    }
    out.message_ = std::make_unique<capnp::MallocMessageBuilder>();
    out.message_->setRoot(facts.getProcessingRecordSet());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("the record of processing: ") + e.getDescription().cStr());
  }
  return out;
}

Result<Json> FactsJsonOf(const domain::Codec& codec, const RecordedEvent& event) {
  auto text = codec.FactsToJson(event);
  if (!text.ok()) return text.status();
  Json j = Json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("facts of " + event.type + " at position " +
                              std::to_string(event.position) + " are not a JSON object");
  }
  return j;
}

RecordedEvent AsRecorded(const NewEvent& e) {
  RecordedEvent r;
  r.id = e.id;
  r.type = e.type;
  r.schema_version = e.schema_version;
  r.occurred_at = e.occurred_at;
  r.actor = e.actor;
  r.subjects = e.subjects;
  r.facts = e.facts;
  r.personal = e.personal;
  return r;
}

Result<NewEvent> MakeEvent(const domain::Codec& codec, const std::string& type,
                           const std::function<void(cs::Facts::Builder)>& fill,
                           const std::vector<SubjectRef>& subjects, const Actor& actor) {
  const domain::TypeEntry* entry = codec.tables().Find(type);
  if (entry == nullptr) return Status::InvalidArgument("unknown event type \"" + type + "\"");
  NewEvent out;
  out.id = EventId::Random();
  out.type = type;
  out.schema_version = entry->version;
  out.actor = actor;
  out.subjects = subjects;
  try {
    capnp::MallocMessageBuilder message(256);
    auto facts = message.initRoot<cs::Facts>();
    fill(facts);
    if (static_cast<uint16_t>(facts.which()) != entry->discriminant) {
      return Status::InvalidArgument(type + ": the facts written hold another event type");
    }
    out.facts = domain::ToPacked(message);
  } catch (const kj::Exception& e) {
    return Status::InvalidArgument(type + " facts: " + e.getDescription().cStr());
  }
  Status s = codec.CheckFacts(out);
  if (!s.ok()) return s;
  return out;
}

Result<NewEvent> MakeEventFromJson(const domain::Codec& codec, const std::string& type,
                                   const Json& facts, const std::vector<SubjectRef>& subjects,
                                   const Actor& actor) {
  Json e = Json::object();
  e["type"] = type;
  e["facts"] = facts;
  e["actor"] = Json{{"user", actor.user}, {"role", actor.role}, {"plugin", actor.plugin}};
  Json subs = Json::array();
  for (const auto& s : subjects) subs.push_back(Json{{"id", s.id}, {"role", SubjectRoleName(s.role)}});
  e["subjects"] = subs;
  NewEvent out;
  Status s = codec.FromJson(e.dump(), &out);
  if (!s.ok()) return s;
  return out;
}

}  // namespace internal

using internal::Code;
using internal::DateOf;
using internal::Text;
namespace cs = domain::cs;

namespace {

Status Rule(const std::string& name, const std::string& message) {
  return Status::InvalidArgument("rule " + name + ": " + message);
}

// A reviewer's decision about a note held for review (docs/rights.md): the
// event at `position` is a CaseNoteAdded that mentions another person and
// names the person asking; a redacted release carries the redacted text as
// freeText in that person's section of the decision, and no other decision
// carries any text.
Status CheckHeldNote(LogReader& log, const domain::Codec& codec, uint64_t position,
                     const std::string& subject, cs::DisclosureBasis basis, const NewEvent& e) {
  std::string at = "position " + std::to_string(position);
  auto found = log.ReadAllFacts(position, 1);
  if (!found.ok()) return found.status();
  if (found->empty() || found->front().position != position) {
    return Rule("rights-held-note", "facts.notePosition: there is no event at " + at);
  }
  const RecordedEvent& note = found->front();
  if (note.type != "CaseNoteAdded") {
    return Rule("rights-held-note", "facts.notePosition: the event at " + at + " is a " + note.type +
                                        ", not a note (CaseNoteAdded)");
  }
  internal::EventReader reader(codec);
  cs::Facts::Reader facts;
  Status s = reader.Facts(note, &facts);
  if (!s.ok()) return s;
  if (!facts.getCaseNoteAdded().getMentionsThirdParty()) {
    return Rule("rights-held-note", "facts.notePosition: the note at " + at +
                                        " does not mention another person; it is sent whole, not held");
  }
  if (std::none_of(note.subjects.begin(), note.subjects.end(),
                   [&](const SubjectRef& s) { return s.id == subject; })) {
    return Rule("rights-held-note", "facts.notePosition: the note at " + at + " is not about " + subject);
  }
  std::string redacted;
  size_t sections = 0;
  for (const auto& p : e.personal) {
    ++sections;
    if (p.subject != subject || p.erased) continue;
    cs::Personal::Reader mine;
    s = reader.Personal(p, &mine);
    if (!s.ok()) return Rule("malformed-facts", s.message());
    redacted = Text(mine.getFreeText());
  }
  if (basis == cs::DisclosureBasis::RELEASE_REDACTED) {
    if (redacted.empty()) {
      return Rule("rights-held-note", "basis releaseRedacted needs the redacted text as freeText in the "
                                      "personal section of " + subject);
    }
    if (sections != 1) {
      return Rule("rights-held-note", "a redacted release carries one personal section, of " + subject);
    }
  } else if (sections != 0) {
    return Rule("rights-held-note", "only basis releaseRedacted carries text (personal sections)");
  }
  return Status::OK();
}

// The event types of a request stream.
bool IsRequestType(std::string_view type) {
  static const auto* kTypes = new std::set<std::string, std::less<>>{
      "RightsRequestReceived", "RightsIdentityVerified", "RightsClockPaused",
      "RightsClockResumed",    "RightsRequestExtended",  "RightsRequestFulfilled",
      "RightsRequestRefused",  "ErasureDecided",         "ThirdPartyDisclosureDecided",
  };
  return kTypes->count(type) > 0;
}

// A date of a request event, by the name of its field (for messages).
struct RequestDate {
  const char* name;
  std::string value;
  bool future_ok = false;  // a date something runs until, not one it happened on
};

// The dates of a request event: its main one (the date field every event
// type starts with) first, then the others it may carry.
std::vector<RequestDate> RequestDates(cs::Facts::Reader f) {
  switch (f.which()) {
    case cs::Facts::RIGHTS_REQUEST_RECEIVED: {
      auto r = f.getRightsRequestReceived();
      return {{"receivedOn", Text(r.getReceivedOn())},
              {"authorityReceivedOn", Text(r.getAuthorityReceivedOn())}};
    }
    case cs::Facts::RIGHTS_IDENTITY_VERIFIED:
      return {{"verifiedOn", Text(f.getRightsIdentityVerified().getVerifiedOn())}};
    case cs::Facts::RIGHTS_CLOCK_PAUSED:
      return {{"pausedOn", Text(f.getRightsClockPaused().getPausedOn())}};
    case cs::Facts::RIGHTS_CLOCK_RESUMED:
      return {{"resumedOn", Text(f.getRightsClockResumed().getResumedOn())}};
    case cs::Facts::RIGHTS_REQUEST_EXTENDED: {
      auto r = f.getRightsRequestExtended();
      return {{"extendedOn", Text(r.getExtendedOn())}, {"personToldOn", Text(r.getPersonToldOn())}};
    }
    case cs::Facts::RIGHTS_REQUEST_FULFILLED:
      return {{"fulfilledOn", Text(f.getRightsRequestFulfilled().getFulfilledOn())}};
    case cs::Facts::RIGHTS_REQUEST_REFUSED:
      return {{"refusedOn", Text(f.getRightsRequestRefused().getRefusedOn())}};
    case cs::Facts::ERASURE_DECIDED: {
      auto r = f.getErasureDecided();
      return {{"decidedOn", Text(r.getDecidedOn())}, {"holdUntil", Text(r.getHoldUntil()), true}};
    }
    case cs::Facts::THIRD_PARTY_DISCLOSURE_DECIDED:
      return {{"decidedOn", Text(f.getThirdPartyDisclosureDecided().getDecidedOn())}};
    default:
      return {};
  }
}

std::string ClientOf(const std::vector<SubjectRef>& subjects) {
  for (const auto& s : subjects) {
    if (s.role == SubjectRole::kClient) return s.id;
  }
  return std::string();
}

Status FoldFacts(cs::Facts::Reader f, const RecordedEvent& event, RequestState* state) {
  switch (f.which()) {
    case cs::Facts::RIGHTS_REQUEST_RECEIVED: {
      auto r = f.getRightsRequestReceived();
      state->subject = ClientOf(event.subjects);
      state->kind = Code(r.getKind());
      state->requested_by = Code(r.getRequestedBy());
      state->authority = Code(r.getAuthority());
      state->identity_needed = r.getIdentityNeeded();
      state->received_on = DateOf(r.getReceivedOn());
      state->authority_on = DateOf(r.getAuthorityReceivedOn());
      break;
    }
    case cs::Facts::RIGHTS_IDENTITY_VERIFIED:
      state->identity_verified_on = DateOf(f.getRightsIdentityVerified().getVerifiedOn());
      break;
    case cs::Facts::RIGHTS_CLOCK_PAUSED: {
      auto r = f.getRightsClockPaused();
      ClockStop stop;
      stop.paused_on = DateOf(r.getPausedOn()).value_or(Date{});
      stop.reason = Code(r.getReason());
      state->stops.push_back(stop);
      state->status = "paused";
      break;
    }
    case cs::Facts::RIGHTS_CLOCK_RESUMED:
      if (!state->stops.empty()) state->stops.back().resumed_on = DateOf(f.getRightsClockResumed().getResumedOn());
      state->status = "open";
      break;
    case cs::Facts::RIGHTS_REQUEST_EXTENDED:
      state->extension_months += f.getRightsRequestExtended().getMonths();
      break;
    case cs::Facts::RIGHTS_REQUEST_FULFILLED: {
      auto r = f.getRightsRequestFulfilled();
      state->status = "fulfilled";
      state->closed_on = DateOf(r.getFulfilledOn());
      state->outcome = Text(r.getActionCode());
      break;
    }
    case cs::Facts::RIGHTS_REQUEST_REFUSED: {
      auto r = f.getRightsRequestRefused();
      state->status = "refused";
      state->closed_on = DateOf(r.getRefusedOn());
      state->outcome = Text(r.getReasonCode());
      state->exemption = Text(r.getExemption());
      break;
    }
    case cs::Facts::ERASURE_DECIDED: {
      auto r = f.getErasureDecided();
      if (r.getErase()) {
        state->erasure_decided_on = DateOf(r.getDecidedOn());
        if (!state->erasure_decided_on) state->erasure_decided_on = Date{};
        state->erasure_rule = Text(r.getRuleApplied());
      }
      break;
    }
    default:
      break;
  }
  state->version = event.stream_version ? event.stream_version : state->version + 1;
  return Status::OK();
}

}  // namespace

Status FoldRequest(const domain::Codec& codec, const RecordedEvent& event, RequestState* state) {
  if (!IsRequestType(event.type)) {
    return Status::InvalidArgument(event.type + " does not belong in a rights request stream");
  }
  internal::EventReader reader(codec);
  cs::Facts::Reader facts;
  Status s = reader.Facts(event, &facts);
  if (!s.ok()) return s;
  try {
    return FoldFacts(facts, event, state);
  } catch (const kj::Exception& e) {
    return Status::Corruption(event.type + " at position " + std::to_string(event.position) + ": " +
                              e.getDescription().cStr());
  }
}

Result<DueDate> ComputeDueDate(const RequestState& state, const domain::Calendar& calendar,
                               Date today) {
  if (!state.received_on) return Status::InvalidArgument("the request has no receipt date");
  DueDate due;
  due.clock_start = *state.received_on;
  // A representative's authority, when it came later, starts the month.
  if (state.authority_on && *state.authority_on > due.clock_start) due.clock_start = *state.authority_on;
  for (const auto& stop : state.stops) {
    Date resumed = stop.resumed_on.value_or(today);
    if (resumed < stop.paused_on) resumed = stop.paused_on;
    if (stop.reason == "clarification") {
      // The clock stops: the days waited are added.
      due.paused_days += int((resumed - stop.paused_on).count());
    } else {
      // Identity, authority or fee: the month runs from the day it arrived.
      if (resumed > due.clock_start) due.clock_start = resumed;
    }
  }
  auto first = calendar.NextWorkingDay(AddCalendarMonths(due.clock_start, 1) +
                                       std::chrono::days(due.paused_days));
  if (!first.ok()) return first.status();
  due.first_month_due = *first;
  auto last = calendar.NextWorkingDay(AddCalendarMonths(due.clock_start, 1 + state.extension_months) +
                                      std::chrono::days(due.paused_days));
  if (!last.ok()) return last.status();
  due.due = *last;
  return due;
}

// ---------------------------------------------------------------------------

Rights::Rights(Store* store, const domain::Codec* codec, RightsOptions options)
    : store_(store), codec_(codec), options_(std::move(options)) {}

Date Rights::Today() const {
  return options_.today ? options_.today() : domain::UkDate(domain::Now());
}

Result<RequestState> Rights::LoadRequest(const std::string& ref) {
  Status s = ValidRequestRef(ref);
  if (!s.ok()) return s;
  return LoadRequestStream(ref);
}

Result<RequestState> Rights::LoadRequestStream(const std::string& ref) {
  Status s;
  RequestState state;
  state.ref = ref;
  uint64_t from = 1;
  for (;;) {
    auto events = store_->ReadStream(RequestStream(ref), from, Direction::kForward, 256);
    if (!events.ok()) {
      if (events.status().IsNotFound()) return Status::NotFound("no rights request " + ref);
      return events.status();
    }
    if (events->empty()) break;
    for (const auto& e : *events) {
      s = FoldRequest(*codec_, e, &state);
      if (!s.ok()) return s;
    }
    from = events->back().stream_version + 1;
    if (events->size() < 256) break;
  }
  return state;
}

Result<std::string> Rights::NextRequestRef() {
  // R-lo exists (R-0 stands for none), R-hi does not: double hi until it is
  // free, then halve the gap. 2 log2(n) look-ups for n requests.
  auto exists = [&](uint64_t n) -> Result<bool> {
    auto v = store_->StreamVersion(RequestStream("R-" + std::to_string(n)));
    if (v.ok()) return true;
    if (v.status().IsNotFound()) return false;
    return v.status();
  };
  uint64_t lo = 0, hi = 1;
  for (;;) {
    auto e = exists(hi);
    if (!e.ok()) return e.status();
    if (!*e) break;
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    uint64_t mid = lo + (hi - lo) / 2;
    auto e = exists(mid);
    if (!e.ok()) return e.status();
    (*e ? lo : hi) = mid;
  }
  return "R-" + std::to_string(lo + 1);
}

Result<RequestPage> Rights::RequestsPage(const RequestPageOptions& options) {
  namespace ix = readmodels::rights_index;
  if (options.limit == 0 || options.limit > kMaxRequestsPage) {
    return Status::InvalidArgument("a page of rights requests holds 1 to " + std::to_string(kMaxRequestsPage) +
                                   " requests, not " + std::to_string(options.limit) +
                                   ": ask for the rest with the page's next");
  }
  std::optional<ix::RefEntry> after;
  if (!options.after.empty()) {
    auto entry = ix::EntryOf(*store_, options.after);
    if (!entry.ok()) {
      if (entry.status().IsNotFound()) {
        return Status::InvalidArgument("after: no rights request " + options.after + " to continue from");
      }
      return entry.status();
    }
    after = *entry;
  }
  std::vector<std::pair<uint64_t, std::string>> refs;
  bool more = false;
  if (options.open_only) {
    auto open = ix::OpenRefsFrom(*store_, after ? after->seq + 1 : 1, options.limit + 1);
    if (!open.ok()) return open.status();
    refs = std::move(*open);
    more = refs.size() > options.limit;
    if (more) refs.resize(options.limit);
  } else {
    uint64_t from = 0;
    if (after) {
      from = after->seq - 1;
    } else {
      auto n = ix::RequestCount(*store_);
      if (!n.ok()) return n.status();
      from = *n;
    }
    auto all = ix::RefsDownFrom(*store_, from, options.limit);
    if (!all.ok()) return all.status();
    refs = std::move(*all);
    more = !refs.empty() && refs.back().first > 1;
  }
  RequestPage page;
  for (const auto& [seq, ref] : refs) {
    auto state = LoadRequestStream(ref);
    ++page.requests_read;
    if (!state.ok()) {
      if (state.status().IsNotFound()) {
        return Status::Corruption(std::string(readmodels::kRightsRequestsProjection) + " lists " + ref +
                                  ", which has no stream (rebuild it)");
      }
      return state.status();
    }
    // The index and the fold read the same events; a request the fold finds
    // closed is not listed as open whatever the index says.
    if (options.open_only && state->closed()) continue;
    page.requests.push_back(std::move(*state));
  }
  if (more && !refs.empty()) page.next = refs.back().second;
  return page;
}

Result<RequestCounts> Rights::CountRequests() {
  namespace ix = readmodels::rights_index;
  RequestCounts counts;
  auto received = ix::RequestCount(*store_);
  if (!received.ok()) return received.status();
  auto fulfilled = ix::ClosedCount(*store_, ix::kFulfilled);
  if (!fulfilled.ok()) return fulfilled.status();
  auto refused = ix::ClosedCount(*store_, ix::kRefused);
  if (!refused.ok()) return refused.status();
  counts.received = *received;
  counts.fulfilled = *fulfilled;
  counts.refused = *refused;
  if (counts.fulfilled + counts.refused > counts.received) {
    return Status::Corruption(std::string(readmodels::kRightsRequestsProjection) +
                              " counts more requests closed than received (rebuild it)");
  }
  return counts;
}

namespace {

// The rules of one request event against the request so far (docs/rights.md).
Status ValidateOne(Store& store, const domain::Codec& codec, const domain::Calendar& calendar,
                   const std::string& ref, const RequestState& state, Date today,
                   cs::Facts::Reader f, NewEvent* event) {
  NewEvent& e = *event;
  // Dates: the main one required, every one well formed and the dates of
  // things done not in the future.
  std::vector<RequestDate> dates = RequestDates(f);
  if (dates.empty()) return Rule("malformed-facts", "facts of " + e.type + " hold another event type");
  if (dates.front().value.empty()) {
    if (e.type == "RightsRequestReceived") {
      return Rule("rights-receipt-date", "a rights request needs the date it was received "
                                         "(facts.receivedOn): the month is counted from it");
    }
    return Rule("date-required", std::string("facts.") + dates.front().name + " is required");
  }
  for (const RequestDate& date : dates) {
    const std::string& v = date.value;
    if (v.empty()) continue;
    Date d;
    if (!ParseDate(v, &d)) return Rule("invalid-date", std::string("facts.") + date.name + " \"" + v + "\" is not a YYYY-MM-DD date");
    if (!date.future_ok && d > today) {
      return Rule("date-in-future", std::string("facts.") + date.name + " " + v + " is after today (" +
                                        FormatDate(today) + ")");
    }
    if (state.received_on && d < *state.received_on && !date.future_ok) {
      return Rule("rights-date-before-receipt", std::string("facts.") + date.name + " " + v +
                                                    " is before the request was received (" +
                                                    FormatDate(*state.received_on) + ")");
    }
  }
  Date on;
  ParseDate(dates.front().value, &on);

  bool first = state.version == 0;
  if (first != (f.which() == cs::Facts::RIGHTS_REQUEST_RECEIVED)) {
    return Rule("rights-opens-with-receipt",
                first ? "a request's first event is RightsRequestReceived, not " + e.type
                      : "request " + ref + " was already received");
  }
  if (state.closed()) {
    return Rule("rights-request-closed", "request " + ref + " was " + state.status + " on " +
                                             (state.closed_on ? FormatDate(*state.closed_on) : "?"));
  }
  if (first) {
    auto received = f.getRightsRequestReceived();
    if (received.getKind() == cs::RightsKind::UNSPECIFIED) {
      return Rule("rights-kind", "facts.kind must say which right (access, rectification, erasure, "
                                 "restriction, portability, objection)");
    }
    if (ClientOf(e.subjects).empty()) {
      return Rule("rights-subject", "the request must name the person it is about among its "
                                    "subjects (role client)");
    }
    if (received.getRequestedBy() == cs::RequesterKind::REPRESENTATIVE &&
        received.getAuthority() == cs::AuthorityKind::NONE) {
      return Rule("rights-representative-authority",
                  "a request from a representative must say what authority they act under");
    }
    std::string req_ref = Text(received.getRequestRef());
    if (!req_ref.empty() && req_ref != ref) {
      return Rule("rights-request-ref", "facts.requestRef \"" + req_ref + "\" is not " + ref);
    }
  } else if (!state.subject.empty() &&
             std::none_of(e.subjects.begin(), e.subjects.end(),
                          [&](const SubjectRef& s) { return s.id == state.subject; })) {
    e.subjects.insert(e.subjects.begin(), SubjectRef{state.subject, SubjectRole::kClient});
  }
  switch (f.which()) {
    case cs::Facts::RIGHTS_CLOCK_PAUSED:
      if (state.paused()) return Rule("rights-clock-paused", "the clock is already stopped");
      if (f.getRightsClockPaused().getReason() == cs::PauseReason::UNSPECIFIED) {
        return Rule("rights-clock-paused", "facts.reason must say what the agency waits for");
      }
      break;
    case cs::Facts::RIGHTS_CLOCK_RESUMED:
      if (!state.paused()) return Rule("rights-clock-not-paused", "the clock is not stopped");
      if (on < state.stops.back().paused_on) {
        return Rule("rights-clock-not-paused", "resumed before it was stopped (" +
                                                   FormatDate(state.stops.back().paused_on) + ")");
      }
      break;
    case cs::Facts::RIGHTS_REQUEST_EXTENDED: {
      auto extended = f.getRightsRequestExtended();
      int months = extended.getMonths();
      if (months < 1 || state.extension_months + months > 2) {
        return Rule("rights-extension", "an extension adds 1 or 2 months, at most 2 in all (already " +
                                            std::to_string(state.extension_months) + ")");
      }
      auto due = ComputeDueDate(state, calendar, on);
      if (!due.ok()) return due.status();
      auto told = DateOf(extended.getPersonToldOn());
      if (!told || *told > due->first_month_due) {
        return Rule("rights-extension", "the person must be told of an extension within the first "
                                        "month (by " + FormatDate(due->first_month_due) + ")");
      }
      break;
    }
    case cs::Facts::RIGHTS_REQUEST_FULFILLED:
      if (state.identity_needed && !state.identity_verified_on) {
        return Rule("rights-identity-before-fulfilment",
                    "request " + ref + " cannot be fulfilled before the requester's identity is "
                    "verified (record RightsIdentityVerified first)");
      }
      if (state.paused()) return Rule("rights-clock-paused", "resume the clock before fulfilling");
      break;
    case cs::Facts::THIRD_PARTY_DISCLOSURE_DECIDED: {
      auto decided = f.getThirdPartyDisclosureDecided();
      uint64_t note = decided.getNotePosition();
      std::string third = Text(decided.getThirdParty());
      cs::DisclosureBasis basis = decided.getBasis();
      if (decided.getReasonCode().size() == 0) {
        return Rule("rights-third-party", "a disclosure decision records its reason (facts.reasonCode)");
      }
      if (note == 0) {
        if (third.empty() || std::none_of(e.subjects.begin(), e.subjects.end(),
                                          [&](const SubjectRef& s) { return s.id == third; })) {
          return Rule("rights-third-party", "facts.thirdParty must be one of the event's subjects");
        }
        if (basis == cs::DisclosureBasis::RELEASE_REDACTED) {
          return Rule("rights-held-note", "basis releaseRedacted is for a note held for review "
                                          "(facts.notePosition)");
        }
      } else {
        Status held = CheckHeldNote(store, codec, note, state.subject, basis, e);
        if (!held.ok()) return held;
      }
      break;
    }
    default:
      break;
  }
  return Status::OK();
}

}  // namespace

Status Rights::Validate(const std::string& ref, RequestState state, std::vector<NewEvent>* events) {
  Date today = Today();
  internal::EventReader reader(*codec_);
  for (auto& e : *events) {
    if (!IsRequestType(e.type)) {
      return Rule("rights-event-type", e.type + " is not a rights request event");
    }
    if (codec_->FindType(e.type) == nullptr) return Rule("malformed-facts", "unknown type " + e.type);
    RecordedEvent r = internal::AsRecorded(e);
    cs::Facts::Reader f;
    Status read = reader.Facts(r, &f);
    if (!read.ok()) return Rule("malformed-facts", read.message());
    try {
      Status s = ValidateOne(*store_, *codec_, options_.calendar, ref, state, today, f, &e);
      if (!s.ok()) return s;
    } catch (const kj::Exception& x) {
      return Rule("malformed-facts", e.type + ": " + x.getDescription().cStr());
    }
    Status s = FoldRequest(*codec_, r, &state);
    if (!s.ok()) return Rule("malformed-facts", s.message());
  }
  return Status::OK();
}

Result<AppendResult> Rights::Record(const std::string& ref, std::vector<NewEvent> events) {
  Status s = ValidRequestRef(ref);
  if (!s.ok()) return s;
  if (events.empty()) return Status::InvalidArgument("no events to record");
  for (int attempt = 0; attempt < 5; ++attempt) {
    RequestState state;
    auto loaded = LoadRequest(ref);
    if (loaded.ok()) {
      state = std::move(*loaded);
    } else if (!loaded.status().IsNotFound()) {
      return loaded.status();
    }
    state.ref = ref;
    std::vector<NewEvent> batch = events;
    s = Validate(ref, state, &batch);
    if (!s.ok()) return s;
    auto expected = state.version ? ExpectedVersion::Exact(state.version) : ExpectedVersion::NoStream();
    auto r = store_->Append(RequestStream(ref), expected, batch);
    if (r.ok() || !r.status().IsConflict()) return r;
  }
  return Status::Conflict("request " + ref + ": still conflicting after 5 attempts");
}

// ---------------------------------------------------------------------------
// Restriction (the restrictions in force: domain::ActiveRestrictions,
// store/domain/restrictions.cc)

Result<std::vector<std::pair<std::string, Date>>> Rights::RestrictedSubjects() {
  auto active = ActiveRestrictions::Read(*store_, *codec_);
  if (!active.ok()) return active.status();
  return std::vector<std::pair<std::string, Date>>(active->all().begin(), active->all().end());
}

Result<bool> Rights::IsRestricted(const std::string& subject) {
  auto active = ActiveRestrictions::Read(*store_, *codec_);
  if (!active.ok()) return active.status();
  return active->Contains(subject);
}

namespace {

// NotFound unless some event names `subject`.
Status KnownSubject(Store& store, const std::string& subject) {
  auto r = store.ReadSubject(subject, 1, 1);
  if (!r.ok()) {
    if (r.status().IsNotFound()) return Status::NotFound("no data subject " + subject + " in this store");
    return r.status();
  }
  if (r->empty()) return Status::NotFound("no data subject " + subject + " in this store");
  return Status::OK();
}

}  // namespace

Status Rights::Restrict(const std::string& subject, const std::string& request_ref,
                        const std::string& reason_code, const Actor& actor) {
  Status s = KnownSubject(*store_, subject);
  if (!s.ok()) return s;
  auto restricted = IsRestricted(subject);
  if (!restricted.ok()) return restricted.status();
  if (*restricted) return Rule("restriction-active", subject + " is already restricted");
  if (reason_code.empty()) return Status::InvalidArgument("a restriction needs a reason code");
  if (!request_ref.empty()) {
    auto req = LoadRequest(request_ref);
    if (!req.ok()) return req.status();
    if (req->subject != subject) {
      return Rule("rights-subject", "request " + request_ref + " is about " + req->subject +
                                        ", not " + subject);
    }
  }
  auto e = internal::MakeEvent(
      *codec_, "RestrictionApplied",
      [&](cs::Facts::Builder f) {
        auto applied = f.initRestrictionApplied();
        applied.setAppliedOn(FormatDate(Today()));
        applied.setRequestRef(request_ref);
        applied.setReasonCode(reason_code);
      },
      {SubjectRef{subject, SubjectRole::kClient}}, actor);
  if (!e.ok()) return e.status();
  return store_->Append(kRestrictionStream, ExpectedVersion::Any(), {*e}).status();
}

Status Rights::LiftRestriction(const std::string& subject, const std::string& reason_code,
                               const Actor& actor) {
  auto restricted = IsRestricted(subject);
  if (!restricted.ok()) return restricted.status();
  if (!*restricted) return Rule("restriction-not-active", subject + " is not restricted");
  if (reason_code.empty()) return Status::InvalidArgument("lifting a restriction needs a reason code");
  auto e = internal::MakeEvent(
      *codec_, "RestrictionLifted",
      [&](cs::Facts::Builder f) {
        auto lifted = f.initRestrictionLifted();
        lifted.setLiftedOn(FormatDate(Today()));
        lifted.setReasonCode(reason_code);
      },
      {SubjectRef{subject, SubjectRole::kClient}}, actor);
  if (!e.ok()) return e.status();
  return store_->Append(kRestrictionStream, ExpectedVersion::Any(), {*e}).status();
}

// ---------------------------------------------------------------------------
// The record of processing

Status Rights::SetProcessingRecord(const std::string& facts_json, const Actor& actor) {
  Json f = Json::parse(facts_json, nullptr, false);
  if (f.is_discarded() || !f.is_object()) {
    return Status::InvalidArgument("the record of processing must be a JSON object");
  }
  // The codec reads the JSON (it refuses unknown keys and codes outside
  // their lists, naming the field); the rules below read the typed record.
  auto e = internal::MakeEventFromJson(*codec_, "ProcessingRecordSet", f, {}, actor);
  if (!e.ok()) return e.status();
  RecordedEvent proposed = internal::AsRecorded(*e);
  capnp::MallocMessageBuilder message;
  {
    internal::EventReader reader(*codec_);
    cs::Facts::Reader facts;
    Status s = reader.Facts(proposed, &facts);
    if (!s.ok()) return Status::InvalidArgument(s.message());
    message.setRoot(facts);
  }
  try {
    auto record = message.getRoot<cs::Facts>().getProcessingRecordSet();
    auto purposes = record.asReader().getPurposes();
    auto retention = record.asReader().getRetention();
    if (purposes.size() == 0) {
      return Status::InvalidArgument("the record of processing needs at least one purpose (purposes)");
    }
    if (retention.size() == 0) {
      return Status::InvalidArgument("the record of processing needs its retention rules (retention)");
    }
    std::set<std::string> rules;
    for (auto r : retention) rules.insert(Text(r.getName()));
    for (auto p : purposes) {
      std::string code = Text(p.getCode());
      if (code.empty() || p.getLawfulBasis() == cs::LawfulBasis::UNSPECIFIED) {
        return Status::InvalidArgument("every purpose needs a code and a lawful basis (lawfulBasis)");
      }
      if (!rules.count(Text(p.getRetentionRule()))) {
        return Status::InvalidArgument("purpose " + code + ": retention rule \"" +
                                       Text(p.getRetentionRule()) + "\" is not in retention");
      }
      if (p.getLawfulBasis() == cs::LawfulBasis::CONSENT &&
          p.getConsentScope() == cs::ConsentScope::UNSPECIFIED) {
        return Status::InvalidArgument("purpose " + code + ": a consent-based purpose names its consentScope");
      }
    }
    if (record.getEffectiveOn().size() == 0) {
      record.setEffectiveOn(FormatDate(Today()));
      e->facts = domain::ToPacked(message);
    }
  } catch (const kj::Exception& x) {
    return Status::InvalidArgument(std::string("the record of processing: ") + x.getDescription().cStr());
  }
  auto r = store_->Append(kProcessingStream, ExpectedVersion::Any(), {*e});
  return r.status();
}

Result<std::string> Rights::ProcessingRecord() {
  auto last = store_->ReadStream(kProcessingStream, 0, Direction::kBackward, 1);
  if (!last.ok()) {
    if (last.status().IsNotFound()) {
      return Status::NotFound("no record of processing in this store: set one with "
                              "`hearth processing set --defaults` or `--file F`");
    }
    return last.status();
  }
  if (last->empty()) return Status::NotFound("no record of processing in this store");
  auto f = internal::FactsJsonOf(*codec_, last->front());
  if (!f.ok()) return f.status();
  return f->dump();
}

Result<std::string> Rights::ProcessingHistory() {
  auto all = store_->ReadStream(kProcessingStream, 1, Direction::kForward, 100000);
  if (!all.ok()) return all.status();
  Json out = Json::array();
  for (const auto& e : *all) {
    auto f = internal::FactsJsonOf(*codec_, e);
    if (!f.ok()) return f.status();
    out.push_back(Json{{"position", e.position},
                       {"recordedOn", FormatDate(domain::UkDate(e.recorded_at))},
                       {"by", e.actor.user},
                       {"facts", *f}});
  }
  return out.dump(2);
}

}  // namespace hearth::rights
