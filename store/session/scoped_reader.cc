// One principal's view of a store, for read models
// (api/include/hearth/scoped_reader.h).
#include "hearth/scoped_reader.h"

#include <sodium.h>

#include <utility>

#include "hearth/domain.h"
#include "hearth/event_json.h"
#include "hearth/exports.h"
#include "hearth/readmodels.h"
#include "hearth/references.h"
#include "hearth/store.h"

namespace hearth {

namespace {

bool IsCaseStream(std::string_view stream) { return stream.starts_with("case/"); }

// The service's published configuration: its targets (`config/timescales`)
// and its budget allocations (`config/allocations`). They are about nobody,
// every return publishes them (docs/exports.md), and a read model that
// evaluates a rule against them (the worklist's first-visit target, the KPI
// return's timescales and money table) must see the ones the operator's
// commands see, whatever the caller's stream scopes.
bool IsPublishedConfig(std::string_view stream) {
  return stream == exports::kTimescalesStream || stream == domain::kAllocationsStream;
}

}  // namespace

ScopedReader::ScopedReader(Session& session, Reach reach, std::string purpose)
    : session_(session), store_(session.store_), reach_(reach), purpose_(std::move(purpose)) {}

ScopedReader::~ScopedReader() = default;

Result<std::set<std::string>> ScopedReader::RestrictedSubjects() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!restricted_) {
    auto active = store_->RestrictedSubjects();
    if (!active.ok()) return active.status();
    restricted_ = std::move(*active);
  }
  return *restricted_;
}

Result<Store*> ScopedReader::ControllerStore() {
  if (Status s = session_.CheckController(); !s.ok()) return s;
  return store_;
}

Result<DocumentBody> ScopedReader::ReadDocument(uint64_t position, uint32_t index,
                                                size_t max_bytes) {
  // The purpose goes into the access record: a code, never free text.
  if (Status s = CheckPurpose(purpose_); !s.ok()) return s;
  if (Status s = session_.CheckReadPersonal(); !s.ok()) return s;
  // The event itself, personal sections included: its stream decides the
  // scope (as a read of the event would), and a DocumentAttached's personal
  // section holds the SHA-256 the body must match. Nothing of it is given.
  if (position == 0) return Status::NotFound("no event at position 0 (positions start at 1)");
  auto events = store_->ReadAll(position, 1);
  if (!events.ok()) return events.status();
  if (events->empty() || events->front().position != position) {
    return Status::NotFound("no event at position " + std::to_string(position));
  }
  const RecordedEvent& event = events->front();
  if (Status s = session_.CheckReadStream(event.stream); !s.ok()) return s;
  auto body = store_->ReadDocument(position, index);
  if (event.type == "DocumentAttached" && index == 0) {
    // The event's hash is what the Merkle tree covers: a body that does not
    // match it is never given, on any path.
    auto codec = event_json::BuiltinCodec();
    if (!codec.ok()) return codec.status();
    auto doc = domain::DocumentOf(**codec, event);
    if (!doc.ok()) {
      return Status::Corruption("the DocumentAttached at position " + std::to_string(position) +
                                " does not decode: " + doc.status().message());
    }
    auto checked = domain::CheckDocumentBody(*doc, std::move(body));
    if (!checked.ok()) return checked.status();
    body = DocumentBody{doc->subject, std::move(*checked)};
  }
  if (!body.ok()) return body;
  if (body->bytes.size() > max_bytes) {
    const size_t size = body->bytes.size();
    sodium_memzero(body->bytes.data(), size);
    return Status::TooLarge("document " + std::to_string(index) + " of position " +
                            std::to_string(position) + " is " + std::to_string(size) +
                            " bytes, more than the " + std::to_string(max_bytes) +
                            " an answer can carry");
  }
  AccessRecord a;
  a.subject = body->subject;
  a.plugin = principal().plugin;
  a.user = principal().user;
  a.role = principal().role;
  a.action = "read";
  a.purpose = purpose_.empty() ? "unstated" : purpose_;
  a.first_position = a.last_position = position;
  a.events = 1;
  if (Status s = store_->LogAccess({a}); !s.ok()) return s;
  return body;
}

Result<std::vector<RecordedEvent>> ScopedReader::ReadStream(const std::string& stream, uint64_t from,
                                                            Direction direction, size_t max_count) {
  if (IsPublishedConfig(stream)) {
    auto events = store_->ReadStream(stream, from, direction, max_count);
    if (events.ok()) {
      for (RecordedEvent& e : *events) e.personal.clear();
    }
    return events;
  }
  return session_.ReadStream(stream, from, direction, max_count, purpose_);
}

Result<std::vector<RecordedEvent>> ScopedReader::ReadAll(uint64_t from, size_t max_count) {
  return session_.ReadAll(from, max_count, purpose_);
}

bool ScopedReader::WholeLogFacts() const {
  return reach_ == Reach::kReturn || reach_ == Reach::kRows || session_.scopes().read_log;
}

bool ScopedReader::FactsVisible(const std::string& stream) {
  if (IsReservedStream(stream)) return false;
  if (session_.scopes().read_log || IsPublishedConfig(stream)) return true;
  // A return counts complaints with no case too (facts only), as the
  // library's return from the whole store does.
  if (reach_ == Reach::kReturn && stream.compare(0, 10, domain::kComplaintStreamPrefix) == 0) return true;
  if (!IsCaseStream(stream)) return false;
  if (reach_ == Reach::kReturn) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = readable_streams_.find(stream);
  if (it == readable_streams_.end()) {
    it = readable_streams_.emplace(stream, session_.CanReadStream(stream)).first;
  }
  return it->second;
}

Result<std::vector<RecordedEvent>> ScopedReader::ReadAllFacts(uint64_t from, size_t max_count) {
  if (!WholeLogFacts()) {
    if (Status s = session_.CheckReadLog(); !s.ok()) return s;
  }
  // Events of streams the reader may not see are left out of each batch;
  // a batch that loses them all is followed by the next, so that an empty
  // answer still means the end of the log.
  for (;;) {
    auto events = store_->ReadAllFacts(from, max_count);
    if (!events.ok() || events->empty()) return events;
    std::vector<RecordedEvent> kept;
    kept.reserve(events->size());
    for (RecordedEvent& e : *events) {
      e.personal.clear();
      if (FactsVisible(e.stream)) kept.push_back(std::move(e));
    }
    if (!kept.empty()) return kept;
    from = events->back().position + 1;
  }
}

Result<std::vector<RecordedEvent>> ScopedReader::ReadSubject(const std::string& subject,
                                                             uint64_t from, size_t max_count) {
  return session_.ReadSubject(subject, from, max_count, purpose_);
}

Result<uint64_t> ScopedReader::StreamVersion(const std::string& stream) {
  bool visible = session_.scopes().read_log || IsPublishedConfig(stream) ||
                 (reach_ == Reach::kReturn && IsCaseStream(stream));
  if (!visible) {
    if (Status s = session_.CheckReadStream(stream); !s.ok()) return s;
  }
  return store_->StreamVersion(stream);
}

Result<StoreInfo> ScopedReader::Info() {
  auto info = store_->Info();
  if (info.ok()) info->path.clear();  // no file paths leave through a model
  return info;
}

Result<std::vector<ProjectionStatus>> ScopedReader::Projections() { return store_->Projections(); }

Result<bool> ScopedReader::CaseVisible(std::string_view state_bytes) {
  domain::CaseState state;
  if (Status s = domain::DecodeCaseState(state_bytes, &state); !s.ok()) return s;
  if (reach_ != Reach::kReturn && !session_.CanReadCase(state.case_id, state.district)) return false;
  auto restricted = RestrictedSubjects();
  if (!restricted.ok()) return restricted.status();
  return restricted->count(state.client) == 0;
}

Status ScopedReader::GetProjectionValue(const std::string& name, std::string_view key,
                                        std::string* value) {
  if (name != readmodels::kCasesProjection) {
    if (Status s = session_.CheckReadLog(); !s.ok()) return s;
    return store_->GetProjectionValue(name, key, value);
  }
  if (key == "U") {
    // The work index's settled day and fingerprint (store/readmodels/
    // work_index.h): no case's, nobody's.
    return store_->GetProjectionValue(name, key, value);
  }
  if (key.empty() || key[0] != 'c') {
    return Status::PermissionDenied("the cases projection gives a reader case states only");
  }
  std::string bytes;
  Status got = store_->GetProjectionValue(name, key, &bytes);
  if (!got.ok()) return got;
  auto visible = CaseVisible(bytes);
  if (!visible.ok()) return visible.status();
  // A case the principal may not see is as absent as one that does not exist.
  if (!*visible) return Status::NotFound("no case " + std::string(key.substr(1)) + " for this reader");
  *value = std::move(bytes);
  return Status::OK();
}

Status ScopedReader::GetProjectionValues(const std::string& name, const std::vector<std::string>& keys,
                                         std::vector<std::optional<std::string>>* values) {
  if (name != readmodels::kCasesProjection) {
    if (Status s = session_.CheckReadLog(); !s.ok()) return s;
    return store_->GetProjectionValues(name, keys, values);
  }
  for (const std::string& key : keys) {
    if (key.empty() || key[0] != 'c') {
      return Status::PermissionDenied("the cases projection gives a reader case states only");
    }
  }
  Status got = store_->GetProjectionValues(name, keys, values);
  if (!got.ok()) return got;
  for (std::optional<std::string>& value : *values) {
    if (!value) continue;
    auto visible = CaseVisible(*value);
    if (!visible.ok()) {
      values->clear();
      return visible.status();
    }
    if (!*visible) value.reset();  // as absent as a case that does not exist
  }
  return Status::OK();
}

Status ScopedReader::ScanProjection(
    const std::string& name, std::string_view prefix,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  return ScanProjectionFrom(name, prefix, prefix, fn);
}

Status ScopedReader::ScanProjectionFrom(
    const std::string& name, std::string_view prefix, std::string_view from,
    const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  if (!from.starts_with(prefix)) {
    return Status::InvalidArgument("a scan of projection " + name + " starts at a key outside its prefix");
  }
  if (name != readmodels::kCasesProjection) {
    if (Status s = session_.CheckReadLog(); !s.ok()) return s;
    return store_->ScanProjectionFrom(name, prefix, from, fn);
  }
  // Only states and the district indexes: the exports' dated facts, codes
  // and counts (f, k, p, a, g) are read by the store's own returns, never
  // through a principal's reader (whose returns read the log's facts, as
  // its reach allows).
  if (prefix.empty() || (prefix[0] != 'c' && prefix[0] != 'o' && prefix[0] != 'd' && prefix[0] != 'q' &&
                          prefix[0] != 'u' && prefix[0] != 'x')) {
    return Status::PermissionDenied("the cases projection is scanned by states (c) or an index (o, d, q, u, x)");
  }
  Status inner;
  Status s = store_->ScanProjectionFrom(name, prefix, from, [&](std::string_view key, std::string_view value) {
    if (key[0] == 'c') {
      auto visible = CaseVisible(value);
      if (!visible.ok()) {
        inner = visible.status();
        return false;
      }
      return *visible ? fn(key, value) : true;
    }
    // Index keys: tag, district, NUL, case id (the quiet index: a day of
    // four bytes before it; the work index 'u': a kind and a day before it,
    // and NUL, line and ordinal after; store/readmodels/work_index.h). The state behind each is checked again
    // when it is read (restrictions among them; the work index's entries
    // name their client, which the worklist checks).
    size_t zero = key.find('\0', 1);
    if (zero == std::string_view::npos) return fn(key, value);
    std::string district(key.substr(1, zero - 1));
    size_t id_at = zero + 1 + (key[0] == 'q' ? 4 : key[0] == 'u' ? 5 : 0);
    if (id_at > key.size()) return true;  // not an index key a case can be read by
    std::string_view rest = key.substr(id_at);
    if (key[0] == 'u') rest = rest.substr(0, rest.find('\0'));
    std::string case_id(rest);
    if (reach_ != Reach::kReturn && !session_.CanReadCase(case_id, district)) return true;
    return fn(key, value);
  });
  return s.ok() ? inner : s;
}

Result<TreeHead> ScopedReader::CurrentTree() { return store_->CurrentTree(); }

Result<std::vector<SignedCheckpoint>> ScopedReader::Checkpoints() { return store_->Checkpoints(); }

Result<std::vector<Hash>> ScopedReader::InclusionProof(uint64_t position, uint64_t tree_size) {
  return store_->InclusionProof(position, tree_size);
}

Result<Hash> ScopedReader::LeafHash(uint64_t position) { return store_->LeafHash(position); }

Result<std::string> ScopedReader::RecipientKey(const std::string& recipient) {
  if (recipient != session_.principal().plugin) {
    if (Status s = session_.CheckController(); !s.ok()) return s;
  }
  return store_->RecipientKey(recipient);
}

}  // namespace hearth
