// Rights requests: references, due dates, the request fold and its rules,
// restriction and the record of processing (docs/rights.md).
#include "hearth/rights.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>

#include "hearth/event_json.h"
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

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::string();
  return it->get<std::string>();
}

uint64_t NotePosition(const Json& facts) {
  auto it = facts.find("notePosition");
  if (it == facts.end()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_string()) {
    const std::string& d = it->get_ref<const std::string&>();
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
    if (ec == std::errc() && end == d.data() + d.size()) return v;
  }
  return 0;
}

std::optional<Date> DateField(const Json& j, const char* key) {
  Date d;
  if (!ParseDate(Str(j, key), &d)) return std::nullopt;
  return d;
}

Result<Json> FactsOf(const domain::Codec& codec, const RecordedEvent& event) {
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

using internal::DateField;
using internal::Str;

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
                     const std::string& subject, const std::string& basis, const NewEvent& e) {
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
  auto facts = internal::FactsOf(codec, note);
  if (!facts.ok()) return facts.status();
  if (!facts->value("mentionsThirdParty", false)) {
    return Rule("rights-held-note", "facts.notePosition: the note at " + at +
                                        " does not mention another person; it is sent whole, not held");
  }
  if (std::none_of(note.subjects.begin(), note.subjects.end(),
                   [&](const SubjectRef& s) { return s.id == subject; })) {
    return Rule("rights-held-note", "facts.notePosition: the note at " + at + " is not about " + subject);
  }
  auto text = codec.ToJson(e);
  if (!text.ok()) return Rule("malformed-facts", text.status().message());
  Json j = Json::parse(*text, nullptr, false);
  std::string redacted;
  size_t sections = 0;
  if (j.is_object() && j.contains("personal") && j["personal"].is_array()) {
    for (const auto& p : j["personal"]) {
      ++sections;
      if (p.value("subject", std::string()) == subject && p.contains("details") && p["details"].is_object()) {
        redacted = p["details"].value("freeText", std::string());
      }
    }
  }
  if (basis == "releaseRedacted") {
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

// The date field each request event type starts with.
const std::map<std::string, const char*, std::less<>>& RequestTypes() {
  static const auto* kTypes = new std::map<std::string, const char*, std::less<>>{
      {"RightsRequestReceived", "receivedOn"},
      {"RightsIdentityVerified", "verifiedOn"},
      {"RightsClockPaused", "pausedOn"},
      {"RightsClockResumed", "resumedOn"},
      {"RightsRequestExtended", "extendedOn"},
      {"RightsRequestFulfilled", "fulfilledOn"},
      {"RightsRequestRefused", "refusedOn"},
      {"ErasureDecided", "decidedOn"},
      {"ThirdPartyDisclosureDecided", "decidedOn"},
  };
  return *kTypes;
}

std::string ClientOf(const std::vector<SubjectRef>& subjects) {
  for (const auto& s : subjects) {
    if (s.role == SubjectRole::kClient) return s.id;
  }
  return std::string();
}

}  // namespace

Status FoldRequest(const domain::Codec& codec, const RecordedEvent& event, RequestState* state) {
  if (RequestTypes().count(event.type) == 0) {
    return Status::InvalidArgument(event.type + " does not belong in a rights request stream");
  }
  auto facts = internal::FactsOf(codec, event);
  if (!facts.ok()) return facts.status();
  const Json& f = *facts;
  const std::string& t = event.type;
  if (t == "RightsRequestReceived") {
    state->subject = ClientOf(event.subjects);
    state->kind = Str(f, "kind");
    state->requested_by = Str(f, "requestedBy");
    state->authority = Str(f, "authority");
    state->identity_needed = f.value("identityNeeded", false);
    state->received_on = DateField(f, "receivedOn");
    state->authority_on = DateField(f, "authorityReceivedOn");
  } else if (t == "RightsIdentityVerified") {
    state->identity_verified_on = DateField(f, "verifiedOn");
  } else if (t == "RightsClockPaused") {
    ClockStop stop;
    stop.paused_on = DateField(f, "pausedOn").value_or(Date{});
    stop.reason = Str(f, "reason");
    state->stops.push_back(stop);
    state->status = "paused";
  } else if (t == "RightsClockResumed") {
    if (!state->stops.empty()) state->stops.back().resumed_on = DateField(f, "resumedOn");
    state->status = "open";
  } else if (t == "RightsRequestExtended") {
    state->extension_months += f.value("months", 0);
  } else if (t == "RightsRequestFulfilled") {
    state->status = "fulfilled";
    state->closed_on = DateField(f, "fulfilledOn");
    state->outcome = Str(f, "actionCode");
  } else if (t == "RightsRequestRefused") {
    state->status = "refused";
    state->closed_on = DateField(f, "refusedOn");
    state->outcome = Str(f, "reasonCode");
    state->exemption = Str(f, "exemption");
  } else if (t == "ErasureDecided") {
    if (f.value("erase", false)) {
      state->erasure_decided_on = DateField(f, "decidedOn");
      if (!state->erasure_decided_on) state->erasure_decided_on = Date{};
      state->erasure_rule = Str(f, "ruleApplied");
    }
  }
  state->version = event.stream_version ? event.stream_version : state->version + 1;
  return Status::OK();
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
  for (uint64_t n = 1;; ++n) {
    std::string ref = "R-" + std::to_string(n);
    auto v = store_->StreamVersion(RequestStream(ref));
    if (!v.ok() && v.status().IsNotFound()) return ref;
    if (!v.ok()) return v.status();
  }
}

Result<std::vector<RequestState>> Rights::Requests() {
  std::vector<RequestState> out;
  for (uint64_t n = 1;; ++n) {
    auto r = LoadRequest("R-" + std::to_string(n));
    if (!r.ok()) {
      if (r.status().IsNotFound()) break;
      return r.status();
    }
    out.push_back(std::move(*r));
  }
  return out;
}

Status Rights::Validate(const std::string& ref, RequestState state, std::vector<NewEvent>* events) {
  Date today = Today();
  for (auto& e : *events) {
    auto type_it = RequestTypes().find(e.type);
    if (type_it == RequestTypes().end()) {
      return Rule("rights-event-type", e.type + " is not a rights request event");
    }
    if (codec_->FindType(e.type) == nullptr) return Rule("malformed-facts", "unknown type " + e.type);
    RecordedEvent r = internal::AsRecorded(e);
    auto facts = internal::FactsOf(*codec_, r);
    if (!facts.ok()) return Rule("malformed-facts", facts.status().message());
    const Json& f = *facts;
    // Dates: the main one required, every known one well formed and the
    // dates of things done not in the future.
    std::string main = Str(f, type_it->second);
    if (main.empty()) {
      if (e.type == "RightsRequestReceived") {
        return Rule("rights-receipt-date", "a rights request needs the date it was received "
                                           "(facts.receivedOn): the month is counted from it");
      }
      return Rule("date-required", std::string("facts.") + type_it->second + " is required");
    }
    for (const char* key : {type_it->second, "authorityReceivedOn", "personToldOn", "holdUntil"}) {
      std::string v = Str(f, key);
      if (v.empty()) continue;
      Date d;
      if (!ParseDate(v, &d)) return Rule("invalid-date", std::string("facts.") + key + " \"" + v + "\" is not a YYYY-MM-DD date");
      bool future_ok = std::string(key) == "holdUntil";
      if (!future_ok && d > today) {
        return Rule("date-in-future", std::string("facts.") + key + " " + v + " is after today (" +
                                          FormatDate(today) + ")");
      }
      if (state.received_on && d < *state.received_on && std::string(key) != "holdUntil") {
        return Rule("rights-date-before-receipt", std::string("facts.") + key + " " + v +
                                                      " is before the request was received (" +
                                                      FormatDate(*state.received_on) + ")");
      }
    }
    Date on;
    ParseDate(main, &on);

    bool first = state.version == 0;
    if (first != (e.type == "RightsRequestReceived")) {
      return Rule("rights-opens-with-receipt",
                  first ? "a request's first event is RightsRequestReceived, not " + e.type
                        : "request " + ref + " was already received");
    }
    if (state.closed()) {
      return Rule("rights-request-closed", "request " + ref + " was " + state.status + " on " +
                                               (state.closed_on ? FormatDate(*state.closed_on) : "?"));
    }
    if (first) {
      std::string kind = Str(f, "kind");
      if (kind.empty() || kind == "unspecified") {
        return Rule("rights-kind", "facts.kind must say which right (access, rectification, erasure, "
                                   "restriction, portability, objection)");
      }
      if (ClientOf(e.subjects).empty()) {
        return Rule("rights-subject", "the request must name the person it is about among its "
                                      "subjects (role client)");
      }
      if (Str(f, "requestedBy") == "representative" &&
          (Str(f, "authority").empty() || Str(f, "authority") == "none")) {
        return Rule("rights-representative-authority",
                    "a request from a representative must say what authority they act under");
      }
      std::string req_ref = Str(f, "requestRef");
      if (!req_ref.empty() && req_ref != ref) {
        return Rule("rights-request-ref", "facts.requestRef \"" + req_ref + "\" is not " + ref);
      }
    } else if (!state.subject.empty() &&
               std::none_of(e.subjects.begin(), e.subjects.end(),
                            [&](const SubjectRef& s) { return s.id == state.subject; })) {
      e.subjects.insert(e.subjects.begin(), SubjectRef{state.subject, SubjectRole::kClient});
    }
    if (e.type == "RightsClockPaused") {
      if (state.paused()) return Rule("rights-clock-paused", "the clock is already stopped");
      std::string reason = Str(f, "reason");
      if (reason.empty() || reason == "unspecified") {
        return Rule("rights-clock-paused", "facts.reason must say what the agency waits for");
      }
    } else if (e.type == "RightsClockResumed") {
      if (!state.paused()) return Rule("rights-clock-not-paused", "the clock is not stopped");
      if (on < state.stops.back().paused_on) {
        return Rule("rights-clock-not-paused", "resumed before it was stopped (" +
                                                   FormatDate(state.stops.back().paused_on) + ")");
      }
    } else if (e.type == "RightsRequestExtended") {
      int months = f.value("months", 0);
      if (months < 1 || state.extension_months + months > 2) {
        return Rule("rights-extension", "an extension adds 1 or 2 months, at most 2 in all (already " +
                                            std::to_string(state.extension_months) + ")");
      }
      auto due = ComputeDueDate(state, options_.calendar, on);
      if (!due.ok()) return due.status();
      auto told = DateField(f, "personToldOn");
      if (!told || *told > due->first_month_due) {
        return Rule("rights-extension", "the person must be told of an extension within the first "
                                        "month (by " + FormatDate(due->first_month_due) + ")");
      }
    } else if (e.type == "RightsRequestFulfilled") {
      if (state.identity_needed && !state.identity_verified_on) {
        return Rule("rights-identity-before-fulfilment",
                    "request " + ref + " cannot be fulfilled before the requester's identity is "
                    "verified (record RightsIdentityVerified first)");
      }
      if (state.paused()) return Rule("rights-clock-paused", "resume the clock before fulfilling");
    } else if (e.type == "ThirdPartyDisclosureDecided") {
      uint64_t note = internal::NotePosition(f);
      std::string third = Str(f, "thirdParty");
      std::string basis = Str(f, "basis");
      if (Str(f, "reasonCode").empty()) {
        return Rule("rights-third-party", "a disclosure decision records its reason (facts.reasonCode)");
      }
      if (note == 0) {
        if (third.empty() || std::none_of(e.subjects.begin(), e.subjects.end(),
                                          [&](const SubjectRef& s) { return s.id == third; })) {
          return Rule("rights-third-party", "facts.thirdParty must be one of the event's subjects");
        }
        if (basis == "releaseRedacted") {
          return Rule("rights-held-note", "basis releaseRedacted is for a note held for review "
                                          "(facts.notePosition)");
        }
      } else {
        Status held = CheckHeldNote(*store_, *codec_, note, state.subject, basis, e);
        if (!held.ok()) return held;
      }
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

Result<AppendResult> Rights::AppendDecoded(const std::string& stream, ExpectedVersion expected,
                                           const std::string& type, const std::string& facts_json,
                                           const std::vector<SubjectRef>& subjects,
                                           const Actor& actor) {
  Json facts = Json::parse(facts_json, nullptr, false);
  if (facts.is_discarded()) return Status::InvalidArgument(type + ": facts are not JSON");
  auto e = internal::MakeEvent(*codec_, type, facts, subjects, actor);
  if (!e.ok()) return e.status();
  return store_->Append(stream, expected, {*e});
}

// ---------------------------------------------------------------------------
// Restriction

Result<ActiveRestrictions> ActiveRestrictions::Read(Store& store, const domain::Codec& codec) {
  ActiveRestrictions out;
  uint64_t from = 1;
  for (;;) {
    auto events = store.ReadStream(kRestrictionStream, from, Direction::kForward, 1024);
    if (!events.ok()) {
      if (events.status().IsNotFound()) break;
      return events.status();
    }
    for (const auto& e : *events) {
      std::string subject = e.subjects.empty() ? std::string() : e.subjects.front().id;
      if (e.type == "RestrictionApplied") {
        auto facts = internal::FactsOf(codec, e);
        if (!facts.ok()) return facts.status();
        out.active_[subject] = DateField(*facts, "appliedOn").value_or(Date{});
      } else if (e.type == "RestrictionLifted") {
        out.active_.erase(subject);
      }
    }
    if (events->size() < 1024) break;
    from = events->back().stream_version + 1;
  }
  return out;
}

std::optional<Date> ActiveRestrictions::Since(const std::string& subject) const {
  auto it = active_.find(subject);
  if (it == active_.end()) return std::nullopt;
  return it->second;
}

std::set<std::string> ActiveRestrictions::Subjects() const {
  std::set<std::string> out;
  for (const auto& [subject, since] : active_) out.insert(subject);
  return out;
}

}  // namespace hearth::rights

namespace hearth {

// The one view of the restrictions, for every reader of a store
// (api/include/hearth/log_reader.h).
Result<std::set<std::string>> Store::RestrictedSubjects() {
  auto codec = event_json::BuiltinCodec();
  if (!codec.ok()) return codec.status();
  auto active = rights::ActiveRestrictions::Read(*this, **codec);
  if (!active.ok()) return active.status();
  return active->Subjects();
}

}  // namespace hearth

namespace hearth::rights {

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
  Json f{{"appliedOn", FormatDate(Today())}, {"requestRef", request_ref}, {"reasonCode", reason_code}};
  auto r = AppendDecoded(kRestrictionStream, ExpectedVersion::Any(), "RestrictionApplied", f.dump(),
                         {SubjectRef{subject, SubjectRole::kClient}}, actor);
  return r.status();
}

Status Rights::LiftRestriction(const std::string& subject, const std::string& reason_code,
                               const Actor& actor) {
  auto restricted = IsRestricted(subject);
  if (!restricted.ok()) return restricted.status();
  if (!*restricted) return Rule("restriction-not-active", subject + " is not restricted");
  if (reason_code.empty()) return Status::InvalidArgument("lifting a restriction needs a reason code");
  Json f{{"liftedOn", FormatDate(Today())}, {"reasonCode", reason_code}};
  auto r = AppendDecoded(kRestrictionStream, ExpectedVersion::Any(), "RestrictionLifted", f.dump(),
                         {SubjectRef{subject, SubjectRole::kClient}}, actor);
  return r.status();
}

// ---------------------------------------------------------------------------
// The record of processing

Status Rights::SetProcessingRecord(const std::string& facts_json, const Actor& actor) {
  Json f = Json::parse(facts_json, nullptr, false);
  if (f.is_discarded() || !f.is_object()) {
    return Status::InvalidArgument("the record of processing must be a JSON object");
  }
  if (!f.contains("effectiveOn")) f["effectiveOn"] = FormatDate(Today());
  if (!f.contains("purposes") || !f["purposes"].is_array() || f["purposes"].empty()) {
    return Status::InvalidArgument("the record of processing needs at least one purpose (purposes)");
  }
  if (!f.contains("retention") || !f["retention"].is_array() || f["retention"].empty()) {
    return Status::InvalidArgument("the record of processing needs its retention rules (retention)");
  }
  std::map<std::string, bool> rules;
  for (const auto& r : f["retention"]) rules[Str(r, "name")] = true;
  for (const auto& p : f["purposes"]) {
    if (Str(p, "code").empty() || Str(p, "lawfulBasis").empty() ||
        Str(p, "lawfulBasis") == "unspecified") {
      return Status::InvalidArgument("every purpose needs a code and a lawful basis (lawfulBasis)");
    }
    if (!rules.count(Str(p, "retentionRule"))) {
      return Status::InvalidArgument("purpose " + Str(p, "code") + ": retention rule \"" +
                                     Str(p, "retentionRule") + "\" is not in retention");
    }
    if (Str(p, "lawfulBasis") == "consent" &&
        (Str(p, "consentScope").empty() || Str(p, "consentScope") == "unspecified")) {
      return Status::InvalidArgument("purpose " + Str(p, "code") +
                                     ": a consent-based purpose names its consentScope");
    }
  }
  auto r = AppendDecoded(kProcessingStream, ExpectedVersion::Any(), "ProcessingRecordSet", f.dump(),
                         {}, actor);
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
  auto f = internal::FactsOf(*codec_, last->front());
  if (!f.ok()) return f.status();
  return f->dump();
}

Result<std::string> Rights::ProcessingHistory() {
  auto all = store_->ReadStream(kProcessingStream, 1, Direction::kForward, 100000);
  if (!all.ok()) return all.status();
  Json out = Json::array();
  for (const auto& e : *all) {
    auto f = internal::FactsOf(*codec_, e);
    if (!f.ok()) return f.status();
    out.push_back(Json{{"position", e.position},
                       {"recordedOn", FormatDate(domain::UkDate(e.recorded_at))},
                       {"by", e.actor.user},
                       {"facts", *f}});
  }
  return out.dump(2);
}

}  // namespace hearth::rights
