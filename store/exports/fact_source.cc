// Where a return's facts come from (collect.h, FactSource): the `cases`
// projection when it is current, else one pass over the log.
#include <algorithm>

#include "domain/tables.h"
#include "exports/collect.h"
#include "hearth/readmodels.h"
#include "readmodels/varint_codec.h"

namespace hearth::exports {

namespace {

// The log's pass, held in memory.
class LogFacts final : public FactSource {
 public:
  explicit LogFacts(Collection all) : all_(std::move(all)) {
    position = all_.position;
    timescales = all_.timescales;
    allocations = all_.allocations;
    for (const auto* streams : {&all_.cases, &all_.complaint_streams}) {
      for (const auto& [id, c] : *streams) districts.merge(DistrictsOf(c));
    }
  }

  Status ForEachComplaintStream(const CaseVisitor& fn) override { return Each(all_.complaint_streams, fn); }
  Status ForEachCase(const CaseVisitor& fn) override { return Each(all_.cases, fn); }
  Result<const PersonCodes*> CodesOf(const std::string& subject) override {
    auto it = all_.people.find(subject);
    return it == all_.people.end() ? nullptr : &it->second;
  }

 private:
  static Status Each(const std::map<std::string, CaseFacts>& streams, const CaseVisitor& fn) {
    for (const auto& [id, c] : streams) {
      Status s = fn(id, c);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  Collection all_;
};

// The `cases` projection, one case at a time.
class ProjectionFacts final : public FactSource {
 public:
  explicit ProjectionFacts(LogReader& store) : store_(store) { from_projection = true; }

  Status ForEachComplaintStream(const CaseVisitor& fn) override {
    return Scan(kComplaintTag, [&](const std::string& id, std::string_view value) {
      CaseFacts c;
      Status s = DecodeCaseFacts(value, &c);
      return s.ok() ? fn(id, c) : s;
    });
  }

  Status ForEachCase(const CaseVisitor& fn) override {
    std::string state;
    return Scan(kFactsTag, [&](const std::string& id, std::string_view value) {
      CaseFacts c;
      Status s = DecodeCaseFacts(value, &c);
      if (!s.ok()) return s;
      s = store_.GetProjectionValue(readmodels::kCasesProjection, "c" + id, &state);
      if (s.IsNotFound()) return Status::Corruption("cases projection: " + id + " has dated facts and no state");
      if (!s.ok()) return s;
      s = readmodels::DecodeCaseState(state, &c.state);
      return s.ok() ? fn(id, c) : s;
    });
  }

  Status ForEachCaseWithMoney(int first_year, const CaseVisitor& fn) override {
    // The index first, then the facts: the scan's iterator is not held
    // while the values are read.
    std::vector<std::string> ids;
    std::string prefix = MoneyKey(first_year, "");
    Status s = store_.ScanProjection(readmodels::kCasesProjection, prefix, [&](std::string_view key, std::string_view) {
      ids.emplace_back(key.substr(prefix.size()));
      return true;
    });
    if (!s.ok()) return s;
    std::string bytes;
    for (const std::string& id : ids) {
      s = store_.GetProjectionValue(readmodels::kCasesProjection, std::string(1, kFactsTag) + id, &bytes);
      if (s.IsNotFound()) return Status::Corruption("cases projection: " + id + " is indexed and has no facts");
      if (!s.ok()) return s;
      CaseFacts c;
      s = DecodeCaseFacts(bytes, &c);
      if (s.ok()) s = fn(id, c);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Result<const PersonCodes*> CodesOf(const std::string& subject) override {
    if (subject.empty()) return nullptr;
    std::string bytes;
    Status s = store_.GetProjectionValue(readmodels::kCasesProjection, std::string(1, kPersonTag) + subject, &bytes);
    if (s.IsNotFound()) return nullptr;
    if (!s.ok()) return s;
    s = DecodePersonCodes(bytes, &codes_);
    if (!s.ok()) return s;
    return &codes_;
  }

  Status Finish() override {
    auto now = CasesPosition(store_);
    if (!now.ok()) return now.status();
    if (*now != position) {
      return Status::Conflict("the cases projection moved from position " + std::to_string(position) + " to " +
                             std::to_string(*now) + " while the return read it");
    }
    return Status::OK();
  }

  // The cases projection's position when it is running and not stopped.
  static Result<uint64_t> CasesPosition(LogReader& store) {
    auto projections = store.Projections();
    if (!projections.ok()) return projections.status();
    for (const auto& p : *projections) {
      if (p.name == readmodels::kCasesProjection && !p.stopped && p.version == readmodels::kCasesProjectionVersion) {
        return p.position;
      }
    }
    return Status::NotFound("the store runs no current cases projection");
  }

  Status Open(const domain::Codec& codec) {
    // The targets and allocations: their own small streams, up to `position`.
    domain::FactsDecoder decoder(&codec.tables());
    for (const char* stream : {kTimescalesStream, domain::kAllocationsStream}) {
      uint64_t from = 1;
      for (;;) {
        auto events = store_.ReadStream(stream, from, Direction::kForward, 1024);
        if (events.status().IsNotFound()) break;
        if (!events.ok()) return events.status();
        for (const RecordedEvent& e : *events) {
          if (e.position > position) break;
          Status s = FoldSettingsEvent(&decoder, e, &timescales, &allocations);
          if (!s.ok()) return s;
        }
        if (events->size() < 1024 || events->back().position > position) break;
        from = events->back().stream_version + 1;
      }
    }
    Status inner;
    Status s = store_.ScanProjection(readmodels::kCasesProjection, std::string(1, kDistrictTag),
                                     [&](std::string_view key, std::string_view value) {
                                       readmodels::Reader r(value);
                                       uint64_t n = r.Var();
                                       if (!r.done()) {
                                         inner = Status::Corruption("cases projection: a district count that "
                                                                    "does not decode");
                                         return false;
                                       }
                                       if (n > 0) districts.emplace(key.substr(1));
                                       return true;
                                     });
    return s.ok() ? inner : s;
  }

 private:
  Status Scan(char tag, const std::function<Status(const std::string& id, std::string_view value)>& fn) {
    Status inner;
    std::string id;
    Status s = store_.ScanProjection(readmodels::kCasesProjection, std::string(1, tag),
                                     [&](std::string_view key, std::string_view value) {
                                       id.assign(key.substr(1));
                                       inner = fn(id, value);
                                       return inner.ok();
                                     });
    return s.ok() ? inner : s;
  }

  LogReader& store_;
  PersonCodes codes_;
};

}  // namespace

Result<std::unique_ptr<FactSource>> OpenFactsFromLog(LogReader& store, const domain::Codec& codec,
                                                     const CollectOptions& options) {
  auto all = Collect(store, codec, options);
  if (!all.ok()) return all.status();
  return std::unique_ptr<FactSource>(new LogFacts(std::move(*all)));
}

Result<std::unique_ptr<FactSource>> OpenFacts(LogReader& store, const domain::Codec& codec,
                                              const CollectOptions& options) {
  if (!options.client_details) {
    auto info = store.Info();
    if (!info.ok()) return info.status();
    auto at = ProjectionFacts::CasesPosition(store);
    uint64_t wanted = options.position == 0 ? info->last_position : options.position;
    if (at.ok() && *at == wanted && *at == info->last_position) {
      auto source = std::make_unique<ProjectionFacts>(store);
      source->position = *at;
      Status s = source->Open(codec);
      // A principal's reader (hearth/scoped_reader.h) gives states and
      // indexes only: its returns read the log's facts, as its reach allows.
      if (s.code() == Status::Code::kPermissionDenied) return OpenFactsFromLog(store, codec, options);
      if (!s.ok()) return s;
      if (options.progress) options.progress(*at, *at);
      return std::unique_ptr<FactSource>(std::move(source));
    }
  }
  return OpenFactsFromLog(store, codec, options);
}

}  // namespace hearth::exports
