// Sessions: scope checks, actor stamping, personal-section filtering and the
// access log, for every front end (api/include/hearth/session.h).
#include "hearth/session.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <utility>

#include "hearth/domain.h"
#include "hearth/escape.h"

namespace hearth {
namespace {

// The district of a case stream `case/<district>/<reference>`, or empty.
std::string CaseDistrict(const std::string& stream) {
  constexpr std::string_view kPrefix = "case/";
  if (stream.compare(0, kPrefix.size(), kPrefix) != 0) return {};
  size_t slash = stream.find('/', kPrefix.size());
  if (slash == std::string::npos || slash == kPrefix.size() || slash + 1 == stream.size()) {
    return {};
  }
  return stream.substr(kPrefix.size(), slash - kPrefix.size());
}

// The codec the sessions validate case appends with: made once per process,
// with the builtin upcasters, and never destroyed (sessions may outlive
// static destruction on other threads).
Result<const domain::Codec*> CaseCodec() {
  static const Result<const domain::Codec*> codec = []() -> Result<const domain::Codec*> {
    static auto* upcasters = new domain::UpcasterRegistry;
    domain::AddBuiltinUpcasters(upcasters);
    auto made = domain::Codec::Create(upcasters);
    if (!made.ok()) return made.status();
    return static_cast<const domain::Codec*>(made.value().release());
  }();
  return codec;
}

bool HasPersonalData(const PersonalSection& section) {
  return !section.erased && !section.data.empty();
}

// Cuts `events` to `budget`. TooLarge when not even the first fits.
Status CutToBudget(std::vector<RecordedEvent>& events, PageBudget& budget) {
  size_t total = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    size_t bytes = budget.bytes_of(events[i]);
    total += bytes;
    if (total > budget.max_bytes) {
      if (i == 0) {
        return Status::TooLarge("the event at position " + std::to_string(events[i].position) +
                                " (" + std::to_string(bytes) + " bytes) does not fit in one message of " +
                                std::to_string(budget.max_bytes) + " bytes (limits.max_message_bytes)");
      }
      events.resize(i);
      budget.cut = true;
      break;
    }
  }
  return Status::OK();
}

}  // namespace

bool ScopeMatches(const std::vector<std::string>& patterns, const std::string& name) {
  for (const std::string& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
    } else if (p == name) {
      return true;
    }
  }
  return false;
}

Session::Session(Store* store, Principal principal, Scopes scopes, RefusalLog refusal_log)
    : store_(store),
      principal_(std::move(principal)),
      scopes_(std::move(scopes)),
      refusal_log_(std::move(refusal_log)) {}

Session::~Session() = default;

Status Session::Refuse(const std::string& scope, const std::string& what) const {
  Status s = Status::PermissionDenied("scope " + scope + " does not allow " + what);
  std::string line = EscapeLogText("refused: plugin=" + principal_.plugin + " user=" + principal_.user +
                                   " role=" + principal_.role + ": " + s.message());
  if (refusal_log_) {
    refusal_log_(line);
  } else {
    std::cerr << "hearth: " << line << "\n";
  }
  return s;
}

bool Session::CanReadStream(const std::string& stream) const {
  if (ScopeMatches(scopes_.read_streams, stream)) return true;
  std::string district = CaseDistrict(stream);
  return !district.empty() && ScopeMatches(scopes_.read_districts, district);
}

Status Session::CheckReadStream(const std::string& stream) const {
  if (CanReadStream(stream)) return Status::OK();
  std::string district = CaseDistrict(stream);
  if (!district.empty()) {
    return Refuse("read_districts", "district '" + district + "' (stream '" + stream + "')");
  }
  return Refuse("read_streams", "stream '" + stream + "'");
}

Status Session::CheckAppend(const std::string& stream, const std::vector<NewEvent>& events) const {
  for (const NewEvent& e : events) {
    if (!ScopeMatches(scopes_.append_types, e.type)) {
      return Refuse("append_types", "appending event type '" + e.type + "'");
    }
  }
  if (!CanReadStream(stream)) {
    std::string district = CaseDistrict(stream);
    if (!district.empty()) {
      return Refuse("read_districts",
                    "appending to district '" + district + "' (stream '" + stream + "')");
    }
    return Refuse("read_streams", "appending to stream '" + stream + "'");
  }
  return Status::OK();
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
  if (Status s = CheckAppend(stream, events); !s.ok()) return s;
  for (NewEvent& e : events) {
    e.actor = Actor{principal_.user, principal_.role, principal_.plugin};
  }
  // Case streams take only events the case's rules allow (docs/domain.md):
  // a refusal is InvalidArgument "rule <name>: ...", and nothing is written.
  if (stream.compare(0, 5, "case/") == 0) {
    auto codec = CaseCodec();
    if (!codec.ok()) return codec.status();
    domain::CaseRecorder recorder(store_, *codec, {});
    return recorder.Record(stream, expected, std::move(events));
  }
  return store_->Append(stream, expected, events);
}

Status Session::FilterAndLog(std::vector<RecordedEvent>& events, const std::string& action,
                             const std::string& purpose) {
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
  if (by_subject.empty()) return Status::OK();
  std::vector<AccessRecord> records;
  records.reserve(by_subject.size());
  for (auto& [subject, record] : by_subject) records.push_back(std::move(record));
  return LogAccess(std::move(records));
}

Status Session::LogAccess(std::vector<AccessRecord> records) {
  for (AccessRecord& r : records) {
    r.plugin = principal_.plugin;
    r.user = principal_.user;
    r.role = principal_.role;
  }
  return store_->LogAccess(records);
}

Result<std::vector<RecordedEvent>> Session::Filter(Result<std::vector<RecordedEvent>> events,
                                                   const std::string& purpose, PageBudget* budget) {
  if (!events.ok()) return events;
  if (budget != nullptr) {
    // Cut what will not be sent before logging: the access log records what
    // leaves, measured as it leaves (without the sections it may not see).
    budget->cut = false;
    if (!scopes_.read_personal) {
      for (RecordedEvent& e : events.value()) e.personal.clear();
    }
    if (Status s = CutToBudget(events.value(), *budget); !s.ok()) return s;
  }
  // The access log is written before the data leaves: a read that cannot be
  // accounted for is not returned.
  if (Status s = FilterAndLog(events.value(), "read", purpose); !s.ok()) return s;
  return events;
}

Result<std::vector<RecordedEvent>> Session::ReadStream(const std::string& stream, uint64_t from,
                                                       Direction direction, size_t max_count,
                                                       const std::string& purpose,
                                                       PageBudget* budget) {
  if (Status s = CheckReadStream(stream); !s.ok()) return s;
  return Filter(store_->ReadStream(stream, from, direction, max_count), purpose, budget);
}

Result<std::vector<RecordedEvent>> Session::ReadAll(uint64_t from, size_t max_count,
                                                    const std::string& purpose,
                                                    PageBudget* budget) {
  if (Status s = CheckReadLog(); !s.ok()) return s;
  return Filter(store_->ReadAll(from, max_count), purpose, budget);
}

Result<std::vector<RecordedEvent>> Session::ReadSubject(const std::string& subject, uint64_t from,
                                                        size_t max_count,
                                                        const std::string& purpose,
                                                        PageBudget* budget) {
  std::vector<RecordedEvent> out;
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
      if (!scopes_.read_log && !CanReadStream(e.stream)) continue;
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
  return Filter(std::move(out), purpose, budget);
}

Result<std::unique_ptr<Subscription>> Session::Subscribe(uint64_t from, EventHandler on_event,
                                                         EndHandler on_end,
                                                         const std::string& purpose) {
  if (Status s = CheckReadLog(); !s.ok()) return s;
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
