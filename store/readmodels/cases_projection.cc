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

    auto it = batch_.find(event.stream);
    if (it == batch_.end()) {
      Entry entry;
      std::string bytes;
      auto recent = recent_.find(event.stream);
      Status got;
      if (recent != recent_.end()) {
        bytes = std::move(recent->second);
        recent_.erase(recent);
      } else {
        got = state.Get(StateKey(event.stream), &bytes);
      }
      if (got.ok()) {
        Status s = DecodeCaseState(bytes, &entry.state);
        if (!s.ok()) return s;
        entry.on_disk = true;
        entry.district = entry.state.district;
        entry.open = entry.state.needs_work();
      } else if (!got.IsNotFound()) {
        return got;
      }
      it = batch_.emplace(event.stream, std::move(entry)).first;
    }
    Entry& entry = it->second;
    if (event.stream_version != entry.state.version + 1) {
      return Status::Corruption("cases projection: " + event.stream + " version " +
                                std::to_string(event.stream_version) + " follows version " +
                                std::to_string(entry.state.version) + " at position " +
                                std::to_string(event.position));
    }
    return folder_.Apply(event, &entry.state);
  }

  Status Flush(ProjectionState& state) override {
    if (recent_.size() + batch_.size() > options_.cache_cases) recent_.clear();
    for (auto& [id, e] : batch_) {
      const CaseState& s = e.state;
      std::string bytes = EncodeCaseState(s);
      state.Put(StateKey(id), bytes);
      bool open = s.needs_work();
      if (!e.on_disk || e.district != s.district) {
        if (e.on_disk) state.Delete(IndexKey('d', e.district, id));
        state.Put(IndexKey('d', s.district, id), "");
      }
      if (!e.on_disk || e.district != s.district || e.open != open) {
        if (e.on_disk && e.open) state.Delete(IndexKey('o', e.district, id));
        if (open) state.Put(IndexKey('o', s.district, id), "");
      }
      if (options_.cache_cases > 0) recent_[id] = std::move(bytes);
    }
    batch_.clear();
    return Status::OK();
  }

  void Discard() override { Forget(); }

 private:
  // A case touched in the current batch, decoded.
  struct Entry {
    CaseState state;
    bool on_disk = false;  // a state is stored (as of the last batch written)
    std::string district;  // the district its index keys were written under
    bool open = false;     // whether its open-index key was written
  };

  void Forget() {
    batch_.clear();
    recent_.clear();
    next_position_ = 0;
  }

  domain::CaseFolder folder_;
  CasesProjectionOptions options_;
  std::unordered_map<std::string, Entry> batch_;
  // Cases of earlier batches, as written (encoded: a few hundred bytes each,
  // where a decoded state takes a few kilobytes).
  std::unordered_map<std::string, std::string> recent_;
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

Result<CaseState> GetCase(LogReader& store, const std::string& case_id) {
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

Status ScanCases(LogReader& store, const CaseScan& scan,
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
    if (scan.open_only && !state.needs_work()) continue;
    if (!fn(state)) break;
  }
  return Status::OK();
}

}  // namespace hearth::readmodels
