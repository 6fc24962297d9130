// The `cases` projection: every case's CaseState, with indexes by district
// (api/include/hearth/readmodels.h, docs/readmodels.md).
#include <unordered_map>
#include <utility>

#include "hearth/readmodels.h"

namespace hearth::readmodels {

namespace {

using domain::CaseState;

constexpr std::string_view kCasePrefix = "case/";

bool IsCaseStream(const std::string& stream) { return stream.starts_with(kCasePrefix); }

std::string StateKey(std::string_view case_id) {
  std::string k;
  k.reserve(1 + case_id.size());
  k.push_back('c');
  k.append(case_id);
  return k;
}

std::string IndexKey(char tag, std::string_view district, std::string_view case_id) {
  std::string k;
  k.reserve(2 + district.size() + case_id.size());
  k.push_back(tag);
  k.append(district);
  k.push_back('\0');
  k.append(case_id);
  return k;
}

class CasesProjection final : public Projection {
 public:
  CasesProjection(const domain::Codec* codec, CasesProjectionOptions options)
      : folder_(codec), options_(options) {}

  std::string name() const override { return kCasesProjection; }
  uint32_t version() const override { return kCasesProjectionVersion; }
  ProjectionMode mode() const override { return options_.mode; }

  Status Apply(const RecordedEvent& event, ProjectionState& state) override {
    // Positions arrive dense and in order. Any other position means the state
    // under the cache changed without us (a rebuild from zero, a batch that
    // was not written, another store): what we remember is no longer true.
    if (event.position != next_position_) Forget();
    next_position_ = event.position + 1;
    if (!IsCaseStream(event.stream)) return Status::OK();

    auto it = cache_.find(event.stream);
    if (it == cache_.end()) {
      Entry entry;
      std::string bytes;
      Status got = state.Get(StateKey(event.stream), &bytes);
      if (got.ok()) {
        Status s = DecodeCaseState(bytes, &entry.state);
        if (!s.ok()) return s;
        entry.on_disk = true;
        entry.district = entry.state.district;
        entry.open = !entry.state.closed;
      } else if (!got.IsNotFound()) {
        return got;
      }
      it = cache_.emplace(event.stream, std::move(entry)).first;
    }
    Entry& entry = it->second;
    if (event.stream_version != entry.state.version + 1) {
      return Status::Corruption("cases projection: " + event.stream + " version " +
                                std::to_string(event.stream_version) + " follows version " +
                                std::to_string(entry.state.version) + " at position " +
                                std::to_string(event.position));
    }
    Status s = folder_.Apply(event, &entry.state);
    if (!s.ok()) return s;
    if (!entry.dirty) {
      entry.dirty = true;
      dirty_.push_back(&*it);
    }
    return Status::OK();
  }

  Status Flush(ProjectionState& state) override {
    for (auto* item : dirty_) {
      const std::string& id = item->first;
      Entry& e = item->second;
      const CaseState& s = e.state;
      state.Put(StateKey(id), EncodeCaseState(s));
      bool open = !s.closed;
      if (!e.on_disk || e.district != s.district) {
        if (e.on_disk) state.Delete(IndexKey('d', e.district, id));
        state.Put(IndexKey('d', s.district, id), "");
      }
      if (!e.on_disk || e.district != s.district || e.open != open) {
        if (e.on_disk && e.open) state.Delete(IndexKey('o', e.district, id));
        if (open) state.Put(IndexKey('o', s.district, id), "");
      }
      e.on_disk = true;
      e.district = s.district;
      e.open = open;
      e.dirty = false;
    }
    dirty_.clear();
    if (cache_.size() > options_.cache_cases) cache_.clear();
    return Status::OK();
  }

  void Discard() override { Forget(); }

 private:
  struct Entry {
    CaseState state;
    bool dirty = false;    // changed in this batch
    bool on_disk = false;  // a state is stored (as of the last batch written)
    std::string district;  // the district its index keys were written under
    bool open = false;     // whether its open-index key was written
  };

  void Forget() {
    cache_.clear();
    dirty_.clear();
    next_position_ = 0;
  }

  domain::CaseFolder folder_;
  CasesProjectionOptions options_;
  // Node-based: pointers into it stay valid while entries are added.
  std::unordered_map<std::string, Entry> cache_;
  std::vector<std::pair<const std::string, Entry>*> dirty_;
  uint64_t next_position_ = 0;
};

}  // namespace

std::shared_ptr<Projection> MakeCasesProjection(const domain::Codec* codec,
                                                CasesProjectionOptions options) {
  return std::make_shared<CasesProjection>(codec, options);
}

std::vector<std::shared_ptr<Projection>> MakeProjections(const domain::Codec* codec) {
  return {MakeCasesProjection(codec)};
}

Result<CaseState> GetCase(Store& store, const std::string& case_id) {
  std::string bytes;
  Status got = store.GetProjectionValue(kCasesProjection, StateKey(case_id), &bytes);
  if (got.ok()) {
    CaseState state;
    Status s = DecodeCaseState(bytes, &state);
    if (!s.ok()) return s;
    return state;
  }
  if (!got.IsNotFound()) return got;
  auto projections = store.Projections();
  if (!projections.ok()) return projections.status();
  const ProjectionStatus* cases = nullptr;
  for (const auto& p : *projections) {
    if (p.name == kCasesProjection) cases = &p;
  }
  if (cases == nullptr) {
    return Status::NotFound("the store was opened without the cases projection");
  }
  auto version = store.StreamVersion(case_id);
  if (!version.ok()) {
    if (version.status().IsNotFound()) {
      return Status::NotFound("no case " + case_id + ": its stream has no events");
    }
    return version.status();
  }
  if (!IsCaseStream(case_id)) {
    return Status::NotFound(case_id + " is not a case stream (case ids start with case/)");
  }
  return Status::NotFound("case " + case_id + " is not in the cases projection yet (it is at position " +
                          std::to_string(cases->position) +
                          (cases->stopped ? ", stopped: " + cases->error : std::string()) + ")");
}

Status ScanCases(Store& store, const CaseScan& scan,
                 const std::function<bool(const CaseState&)>& fn) {
  Status inner;
  if (scan.district.empty() && !scan.open_only) {
    Status s = store.ScanProjection(kCasesProjection, "c", [&](std::string_view, std::string_view value) {
      CaseState state;
      inner = DecodeCaseState(value, &state);
      if (!inner.ok()) return false;
      return fn(state);
    });
    return s.ok() ? inner : s;
  }
  std::string prefix(1, scan.open_only ? 'o' : 'd');
  if (!scan.district.empty()) {
    prefix += scan.district;
    prefix.push_back('\0');
  }
  // Index keys first, then the states: the scan's iterator is not held open
  // while the states are read.
  std::vector<std::string> ids;
  Status s = store.ScanProjection(kCasesProjection, prefix, [&](std::string_view key, std::string_view) {
    size_t zero = key.find('\0', 1);
    if (zero == std::string_view::npos) {
      inner = Status::Corruption("cases projection: index key without a district separator");
      return false;
    }
    ids.emplace_back(key.substr(zero + 1));
    return true;
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  std::string bytes;
  for (const std::string& id : ids) {
    Status got = store.GetProjectionValue(kCasesProjection, StateKey(id), &bytes);
    // A case can move between indexes while we read (async folds): skip the
    // ones that left.
    if (got.IsNotFound()) continue;
    if (!got.ok()) return got;
    CaseState state;
    s = DecodeCaseState(bytes, &state);
    if (!s.ok()) return s;
    if (!scan.district.empty() && state.district != scan.district) continue;
    if (scan.open_only && state.closed) continue;
    if (!fn(state)) break;
  }
  return Status::OK();
}

}  // namespace hearth::readmodels
