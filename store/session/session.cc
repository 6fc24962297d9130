// Sessions: scope checks, actor stamping, personal-section filtering and the
// access log, for every front end (api/include/hearth/session.h).
#include "hearth/session.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>

#include "hearth/domain.h"
#include "hearth/event_json.h"
#include "hearth/readmodels.h"
#include "hearth/references.h"
#include "hearth/escape.h"

namespace hearth {
namespace {

bool IsCaseStream(const std::string& stream) { return stream.compare(0, 5, "case/") == 0; }

// An access record names who read: the session's plugin, user and role.
void SignAs(const Principal& principal, AccessRecord* record) {
  record->plugin = principal.plugin;
  record->user = principal.user;
  record->role = principal.role;
}

// The district a case stream's name gives, `case/<district>/<reference>`, or
// empty.
std::string CaseDistrict(const std::string& stream) {
  constexpr std::string_view kPrefix = "case/";
  if (stream.compare(0, kPrefix.size(), kPrefix) != 0) return {};
  size_t slash = stream.find('/', kPrefix.size());
  if (slash == std::string::npos || slash == kPrefix.size() || slash + 1 == stream.size()) {
    return {};
  }
  return stream.substr(kPrefix.size(), slash - kPrefix.size());
}

// The codec the sessions validate case appends with: the builtin one, made
// once per process and never destroyed (sessions may outlive static
// destruction on other threads).
Result<const domain::Codec*> CaseCodec() { return event_json::BuiltinCodec(); }

// Streams whose events carry the data controller's decisions: rights
// requests and restrictions (`rights/...`), the record of processing and
// retention rules (`config/...`), the breach register (`breach/...`).
// Appending to them needs the controller scope.
bool IsControllerStream(const std::string& stream) {
  return stream.compare(0, 7, "rights/") == 0 || stream.compare(0, 7, "config/") == 0 ||
         stream.compare(0, 7, domain::kBreachStreamPrefix) == 0;
}

// The name case `stream` would have in `district`: `case/<district>/<ref>`
// for a stream named `case/<named district>/<ref>`, the stream itself for
// any other case stream; empty when the district is unknown.
std::string CurrentCaseName(const std::string& stream, const std::string& district) {
  if (district.empty()) return {};
  std::string named = CaseDistrict(stream);
  if (named.empty()) return stream;
  return "case/" + district + stream.substr(5 + named.size());
}
// Whether a pattern ending in `*` (never an exact name) matches `name`.
bool PrefixMatches(const std::vector<std::string>& patterns, const std::string& name) {
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*' && name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

bool HasPersonalData(const PersonalSection& section) {
  return !section.erased && !section.data.empty();
}

}  // namespace

// The console's accounts, and the KPI return's release ledgers (a forged
// entry there could make a later return less careful: docs/exports.md).
bool IsReservedStream(const std::string& stream) {
  return stream == "config/accounts" || stream.rfind("release/", 0) == 0;
}

Session::Session(Store* store, Principal principal, Scopes scopes, RefusalLog refusal_log)
    : store_(store),
      principal_(std::move(principal)),
      scopes_(std::move(scopes)),
      refusal_log_(std::move(refusal_log)) {}

Session::~Session() = default;

namespace {

// A refusal, written to the session's refusal log (stderr without one) with
// who was refused, then returned.
Status LogRefusal(const Principal& who, const RefusalLog& log, Status s) {
  std::string line = EscapeLogText("refused: plugin=" + who.plugin + " user=" + who.user +
                                   " role=" + who.role + ": " + s.message());
  if (log) {
    log(line);
  } else {
    std::cerr << "hearth: " << line << "\n";
  }
  return s;
}

}  // namespace

Status Session::ReservedRefusal(const std::string& stream, const std::string& doing) const {
  return LogRefusal(principal_, refusal_log_,
                    Status::PermissionDenied(doing + "stream '" + stream +
                                             "' is reserved to the store's owner: no session, "
                                             "whatever its scopes, reads or writes it"));
}

Status Session::Refuse(const std::string& scope, const std::string& what) const {
  return LogRefusal(principal_, refusal_log_,
                    Status::PermissionDenied("scope " + scope + " does not allow " + what));
}

Result<std::string> Session::CurrentDistrict(const std::string& stream) const {
  const std::string named = CaseDistrict(stream);
  auto version = store_->StreamVersion(stream);
  if (!version.ok()) {
    // No case yet: its name says. A name the store would refuse is placed by
    // its name too, so the scope check (and its refusal line) comes first.
    if (version.status().IsNotFound() || version.status().IsInvalidArgument()) return named;
    return version.status();
  }
  // The cases projection's state, then the events it has not folded yet
  // (all of them when the store has no cases projection).
  // (Its key is 'c' and the case id, docs/readmodels.md; a state that is
  // missing or does not decode leaves every event to fold.)
  domain::CaseState state;
  std::string bytes;
  Status got = store_->GetProjectionValue(readmodels::kCasesProjection, "c" + stream, &bytes);
  if (got.code() == Status::Code::kBusy) return got;  // a read that may not wait for the disk
  if (got.ok() && !domain::DecodeCaseState(bytes, &state).ok()) {
    state = domain::CaseState{};
  }
  if (state.version < *version) {
    auto codec = CaseCodec();
    if (!codec.ok()) return codec.status();
    domain::CaseFolder folder(*codec);
    constexpr size_t kPage = 256;
    for (uint64_t from = state.version + 1;;) {
      auto page = store_->ReadStream(stream, from, Direction::kForward, kPage);
      if (!page.ok()) {
        if (page.status().IsNotFound()) break;
        return page.status();
      }
      for (const RecordedEvent& e : *page) {
        // Events the domain cannot fold were written around the recorder
        // (which refuses them): such a case is placed by its name.
        if (!folder.Apply(e, &state).ok()) return named;
      }
      if (page->size() < kPage) break;
      from = page->back().stream_version + 1;
    }
  }
  return state.district.empty() ? named : state.district;
}

bool Session::CanReadCase(const std::string& case_id, const std::string& district) const {
  // An exact grant names the stream; a pattern covers the case where it is now.
  for (const std::string& p : scopes_.read_streams) {
    if (p == case_id) return true;
  }
  if (district.empty()) return false;
  if (PrefixMatches(scopes_.read_streams, CurrentCaseName(case_id, district))) return true;
  return ScopeMatches(scopes_.read_districts, district);
}

bool Session::CanReadStream(const std::string& stream) const {
  if (IsReservedStream(stream)) return false;
  if (!IsCaseStream(stream)) return ScopeMatches(scopes_.read_streams, stream);
  auto district = CurrentDistrict(stream);
  return district.ok() && CanReadCase(stream, *district);
}

Status Session::CheckReadDistrict(const std::string& district) const {
  if (ScopeMatches(scopes_.read_districts, district) ||
      PrefixMatches(scopes_.read_streams, "case/" + district + "/")) {
    return Status::OK();
  }
  return Refuse("read_districts", "district '" + district + "'");
}

Status Session::CheckCaseIn(const std::string& stream, const std::string& district,
                            const char* doing) const {
  if (CanReadCase(stream, district)) return Status::OK();
  if (district.empty()) {
    return Refuse("read_streams", std::string(doing) + "stream '" + stream + "'");
  }
  return Refuse("read_districts",
                std::string(doing) + "district '" + district + "' (stream '" + stream + "')");
}

Status Session::CheckReadStream(const std::string& stream) const {
  if (IsReservedStream(stream)) return ReservedRefusal(stream, "");
  if (!IsCaseStream(stream)) {
    if (ScopeMatches(scopes_.read_streams, stream)) return Status::OK();
    return Refuse("read_streams", "stream '" + stream + "'");
  }
  auto district = CurrentDistrict(stream);
  if (!district.ok()) return district.status();
  return CheckCaseIn(stream, *district, "");
}

Status Session::CheckAppend(const std::string& stream, const std::vector<NewEvent>& events) const {
  for (const NewEvent& e : events) {
    if (!ScopeMatches(scopes_.append_types, e.type)) {
      return Refuse("append_types", "appending event type '" + e.type + "'");
    }
  }
  if (IsReservedStream(stream)) return ReservedRefusal(stream, "appending to ");
  if (IsControllerStream(stream) && !scopes_.controller) {
    return Refuse("controller", "appending to stream '" + stream + "'");
  }
  if (!IsCaseStream(stream)) {
    if (ScopeMatches(scopes_.read_streams, stream)) return Status::OK();
    return Refuse("read_streams", "appending to stream '" + stream + "'");
  }
  // A case is written where it is now; a new one where its first event (the
  // enquiry) opens it.
  auto district = CurrentDistrict(stream);
  if (!district.ok()) return district.status();
  if (!events.empty() && !store_->StreamVersion(stream).ok()) {
    auto codec = CaseCodec();
    if (!codec.ok()) return codec.status();
    domain::CaseFolder folder(*codec);
    domain::CaseState opened;
    RecordedEvent first;
    first.stream = stream;
    first.stream_version = 1;
    first.type = events.front().type;
    first.schema_version = events.front().schema_version;
    first.facts = events.front().facts;
    first.subjects = events.front().subjects;
    if (folder.Apply(first, &opened).ok() && !opened.district.empty()) *district = opened.district;
  }
  return CheckCaseIn(stream, *district, "appending to ");
}

Status Session::CheckModel(const std::string& model) const {
  if (ScopeMatches(scopes_.read_models, model)) return Status::OK();
  return Refuse("read_models", "querying read model '" + model + "'");
}

Status Session::CheckReadLog() const {
  if (scopes_.read_log) return Status::OK();
  return Refuse("read_log", "reading the whole log");
}

Status Session::CheckReadPersonal() const {
  if (scopes_.read_personal) return Status::OK();
  return Refuse("read_personal", "reading personal sections");
}

Status Session::CheckController() const {
  if (scopes_.controller) return Status::OK();
  return Refuse("controller", "a data-controller operation");
}

Result<AppendResult> Session::Append(const std::string& stream, ExpectedVersion expected,
                                     std::vector<NewEvent> events) {
  // The actor is stored in plaintext: references only (hearth/references.h).
  if (Status s = CheckActor({principal_.user, principal_.role, principal_.plugin}); !s.ok()) {
    return s;
  }
  if (Status s = CheckAppend(stream, events); !s.ok()) return s;
  for (NewEvent& e : events) {
    e.actor = Actor{principal_.user, principal_.role, principal_.plugin};
    // A document body goes only with a case's DocumentAttached, whose rules
    // the recorder checks (docs/domain.md "Documents").
    if (!e.documents.empty() && stream.compare(0, 5, "case/") != 0) {
      return Status::InvalidArgument("rule document-body: only a case's DocumentAttached carries a document "
                                     "body, not " + e.type + " on stream " + stream);
    }
  }
  // Case streams take only events the case's rules allow (docs/domain.md):
  // a refusal is InvalidArgument "rule <name>: ...", and nothing is written.
  if (stream.compare(0, 5, "case/") == 0) {
    auto codec = CaseCodec();
    if (!codec.ok()) return codec.status();
    // The recorder's controller power is the session's scope, never the
    // role the principal asserted.
    domain::RecorderOptions options;
    options.controller = scopes_.controller;
    // Checked again against the state the batch is validated and appended
    // at, so that a transfer landing after CheckAppend cannot be overtaken.
    options.authorise = [this, &stream](const domain::CaseState& state) {
      return CheckCaseIn(stream, state.district.empty() ? CaseDistrict(stream) : state.district,
                         "appending to ");
    };
    domain::CaseRecorder recorder(store_, *codec, std::move(options));
    return recorder.Record(stream, expected, std::move(events));
  }
  // Domain events elsewhere (rights/, config/ ...): checked against the schema
  // too, whatever encoded them (codes, not free text).
  auto codec = CaseCodec();
  if (!codec.ok()) return codec.status();
  // Allocations, the vetted contractors (a manager's stream: append_types
  // ContractorVetted and ContractorRemoved), complaints with no case (a
  // complaints officer's: ComplaintReceived, ComplaintEscalated,
  // ComplaintResolved on complaint/*) and the breach register take their
  // own rules (docs/domain.md).
  if (domain::HasOwnRules(stream)) {
    return domain::RecordOnOwnStream(*store_, **codec, stream, expected, std::move(events),
                                     domain::UkDate(domain::Now()));
  }
  for (const NewEvent& e : events) {
    if ((*codec)->FindType(e.type) == nullptr) continue;
    if (Status s = (*codec)->CheckFacts(e); !s.ok()) return s;
  }
  return store_->Append(stream, expected, events);
}

Status Session::FilterAndLog(std::vector<RecordedEvent>& events, const std::string& action,
                             const std::string& purpose) {
  std::vector<AccessRecord> records;
  if (Status s = FilterAndCollect(events, action, purpose, &records); !s.ok()) return s;
  if (records.empty()) return Status::OK();
  return store_->LogAccess(records);
}

Status Session::FilterAndCollect(std::vector<RecordedEvent>& events, const std::string& action,
                                 const std::string& purpose, std::vector<AccessRecord>* records) {
  // The purpose is copied into access records: a code, never free text.
  if (Status s = CheckPurpose(purpose); !s.ok()) return s;
  // Reserved streams' events keep their place in the log, not their content.
  for (RecordedEvent& e : events) {
    if (IsReservedStream(e.stream)) {
      e.facts = "{}";
      e.personal.clear();
    }
  }
  if (!scopes_.read_personal) {
    for (RecordedEvent& e : events) e.personal.clear();
    return Status::OK();
  }
  // One record per subject whose personal data this call returns.
  std::map<std::string, AccessRecord> by_subject;
  for (const RecordedEvent& e : events) {
    for (const PersonalSection& p : e.personal) {
      if (!HasPersonalData(p)) continue;
      AccessRecord& r = by_subject[p.subject];
      if (r.events == 0) {
        r.subject = p.subject;
        r.action = action;
        r.purpose = purpose.empty() ? "unstated" : purpose;
        r.first_position = e.position;
      }
      // A subject with two sections in one event counts the event once.
      if (r.last_position != e.position || r.events == 0) ++r.events;
      r.last_position = e.position;
    }
  }
  records->reserve(records->size() + by_subject.size());
  for (auto& [subject, record] : by_subject) {
    SignAs(principal_, &record);
    records->push_back(std::move(record));
  }
  return Status::OK();
}

Status Session::LogAccess(std::vector<AccessRecord> records) {
  for (AccessRecord& r : records) SignAs(principal_, &r);
  return store_->LogAccess(records);
}

Result<std::vector<RecordedEvent>> Session::Filter(Result<std::vector<RecordedEvent>> events,
                                                   const std::string& purpose) {
  if (!events.ok()) return events;
  // The access log is written before the data leaves: a read that cannot be
  // accounted for is not returned.
  if (Status s = FilterAndLog(events.value(), "read", purpose); !s.ok()) return s;
  return events;
}

Result<std::vector<RecordedEvent>> Session::ReadStream(const std::string& stream, uint64_t from,
                                                       Direction direction, size_t max_count,
                                                       const std::string& purpose) {
  if (Status s = CheckReadStream(stream); !s.ok()) return s;
  return Filter(store_->ReadStream(stream, from, direction, max_count), purpose);
}

Result<std::vector<RecordedEvent>> Session::ReadAll(uint64_t from, size_t max_count,
                                                    const std::string& purpose) {
  if (Status s = CheckReadLog(); !s.ok()) return s;
  return Filter(store_->ReadAll(from, max_count), purpose);
}

Result<std::vector<RecordedEvent>> Session::ReadSubject(const std::string& subject, uint64_t from,
                                                        size_t max_count,
                                                        const std::string& purpose) {
  std::vector<RecordedEvent> out;
  std::map<std::string, bool> readable;  // per stream, looked up once per call
  uint64_t next = from == 0 ? 1 : from;
  while (out.size() < max_count) {
    // Read a little ahead when some events may be filtered out.
    size_t want = max_count - out.size();
    size_t ask = scopes_.read_log ? want : std::max<size_t>(want, 64);
    auto batch = store_->ReadSubject(subject, next, ask);
    if (!batch.ok()) {
      if (batch.status().IsNotFound()) break;
      return batch.status();
    }
    for (RecordedEvent& e : *batch) {
      next = e.position + 1;
      if (!scopes_.read_log) {
        auto known = readable.find(e.stream);
        if (known == readable.end()) known = readable.emplace(e.stream, CanReadStream(e.stream)).first;
        if (!known->second) continue;
      }
      out.push_back(std::move(e));
      if (out.size() == max_count) break;
    }
    if (batch->size() < ask) break;
  }
  // The same answer whether the subject is unknown or lies wholly outside the
  // scopes: the caller learns nothing about subjects it may not read.
  if (out.empty() && max_count > 0) {
    return Status::NotFound("no events about subject '" + subject + "' that this session may read");
  }
  return Filter(std::move(out), purpose);
}

namespace {

// The bytes of an event's fields: what it costs in memory and on the wire,
// within a small constant.
size_t FieldBytes(const RecordedEvent& e) {
  size_t n = 128 + e.stream.size() + e.type.size() + e.facts.size() + e.actor.user.size() +
             e.actor.role.size() + e.actor.plugin.size();
  for (const SubjectRef& s : e.subjects) n += 16 + s.id.size();
  for (const PersonalSection& p : e.personal) {
    n += 32 + p.subject.size() + p.data.size();
    for (const Identifier& id : p.identifiers) n += 16 + id.kind.size() + id.value.size();
  }
  return n;
}

}  // namespace

Result<Session::Page> Session::BuildPage(
    const PageLimit& limit, const std::string& purpose,
    const std::function<Result<std::vector<RecordedEvent>>(size_t)>& fetch,
    const std::function<bool(const RecordedEvent&)>& keep) {
  Page page;
  size_t bytes = 0;
  bool stop = false;
  while (!stop && page.events.size() < limit.max_count) {
    const size_t want = std::min(kPageChunk, limit.max_count - page.events.size());
    auto batch = fetch(want);
    if (!batch.ok()) return batch.status();
    for (RecordedEvent& e : *batch) {
      if (keep && !keep(e)) continue;
      if (!scopes_.read_personal) e.personal.clear();
      size_t n = limit.measure ? limit.measure(e) : FieldBytes(e);
      if (n > limit.max_bytes || bytes + n > limit.max_bytes) {
        if (page.events.empty()) page.too_large = e.position;
        page.cut = true;
        stop = true;
        break;
      }
      bytes += n;
      page.events.push_back(std::move(e));
      if (page.events.size() == limit.max_count) {
        stop = true;
        break;
      }
    }
    if (batch->size() < want) break;  // the end
  }
  // Logged after the cut: exactly what leaves. Or owed, when the caller
  // writes the records itself before the page leaves (PageLimit::access_due).
  if (limit.access_due != nullptr) {
    if (Status s = FilterAndCollect(page.events, "read", purpose, limit.access_due); !s.ok()) return s;
  } else if (Status s = FilterAndLog(page.events, "read", purpose); !s.ok()) {
    return s;
  }
  return page;
}

Result<Session::Page> Session::ReadStreamPage(const std::string& stream, uint64_t from,
                                              Direction direction, const PageLimit& limit,
                                              const std::string& purpose) {
  if (Status s = CheckReadStream(stream); !s.ok()) return s;
  uint64_t next = from;
  bool done = false;
  auto fetch = [&](size_t count) -> Result<std::vector<RecordedEvent>> {
    if (done) return std::vector<RecordedEvent>{};
    auto batch = store_->ReadStream(stream, next, direction, count);
    if (!batch.ok() || batch->empty()) return batch;
    uint64_t last = batch->back().stream_version;
    if (direction == Direction::kForward) {
      next = last + 1;
    } else {
      // Backward from 0 means "from the last": never ask for 0 again.
      done = last <= 1;
      next = last - 1;
    }
    return batch;
  };
  return BuildPage(limit, purpose, fetch, nullptr);
}

Result<Session::Page> Session::ReadAllPage(uint64_t from, const PageLimit& limit,
                                           const std::string& purpose) {
  if (Status s = CheckReadLog(); !s.ok()) return s;
  uint64_t next = std::max<uint64_t>(from, 1);
  auto fetch = [&](size_t count) -> Result<std::vector<RecordedEvent>> {
    auto batch = store_->ReadAll(next, count);
    if (batch.ok() && !batch->empty()) next = batch->back().position + 1;
    return batch;
  };
  return BuildPage(limit, purpose, fetch, nullptr);
}

Result<Session::Page> Session::ReadSubjectPage(const std::string& subject, uint64_t from,
                                               const PageLimit& limit,
                                               const std::string& purpose) {
  uint64_t next = std::max<uint64_t>(from, 1);
  auto fetch = [&](size_t count) -> Result<std::vector<RecordedEvent>> {
    auto batch = store_->ReadSubject(subject, next, count);
    if (!batch.ok()) {
      if (batch.status().IsNotFound()) return std::vector<RecordedEvent>{};
      return batch.status();
    }
    if (!batch->empty()) next = batch->back().position + 1;
    return batch;
  };
  auto keep = [&](const RecordedEvent& e) { return scopes_.read_log || CanReadStream(e.stream); };
  auto page = BuildPage(limit, purpose, fetch, keep);
  // The same answer whether the subject is unknown or lies wholly outside the
  // scopes: the caller learns nothing about subjects it may not read.
  if (page.ok() && page->events.empty() && page->too_large == 0 && limit.max_count > 0) {
    return Status::NotFound("no events about subject '" + subject + "' that this session may read");
  }
  return page;
}

Result<std::unique_ptr<Subscription>> Session::Subscribe(uint64_t from, EventHandler on_event,
                                                         EndHandler on_end,
                                                         const std::string& purpose) {
  if (Status s = CheckReadLog(); !s.ok()) return s;
  if (Status s = CheckPurpose(purpose); !s.ok()) return s;
  if (!on_event) return Status::InvalidArgument("a subscription needs an event handler");
  // A failure to write the access log ends the subscription with that error.
  auto failure = std::make_shared<Status>();
  EventHandler filtered = [this, on_event = std::move(on_event), purpose, failure](
                              const RecordedEvent& event) -> bool {
    std::vector<RecordedEvent> one{event};
    if (Status s = FilterAndLog(one, "read", purpose); !s.ok()) {
      *failure = std::move(s);
      return false;
    }
    return on_event(one.front());
  };
  EndHandler ended = [on_end = std::move(on_end), failure](const Status& status) {
    if (on_end) on_end(failure->ok() ? status : *failure);
  };
  return store_->Subscribe(from, std::move(filtered), std::move(ended));
}

}  // namespace hearth
