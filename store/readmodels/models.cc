// The `timeline` and `worklist` read models for the ReadModels collection
// (api/include/hearth/read_model.h): JSON parameters in, JSON out, every
// scope checked through the session.
#include <nlohmann/json.hpp>

#include "hearth/exports.h"
#include "hearth/readmodels.h"
#include "readmodels/params.h"

namespace hearth::readmodels {

namespace {

using Json = nlohmann::json;
namespace prm = hearth::readmodels::params;
using prm::GetDate;
using prm::GetInt;
using prm::GetString;

class TimelineModel final : public ReadModel {
 public:
  explicit TimelineModel(const domain::Codec* codec) : codec_(codec) {}
  std::string name() const override { return "timeline"; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("timeline", params_json, {"case", "at", "asOf", "occurredBy", "proofs"});
    if (!params.ok()) return params.status();
    TimelineRequest req;
    if (!params->contains("case") || !(*params)["case"].is_string()) {
      return Status::InvalidArgument("timeline: case is required (e.g. \"case/D3/000123\")");
    }
    req.case_id = (*params)["case"].get<std::string>();
    if (params->contains("at")) {
      const Json& at = (*params)["at"];
      if (!at.is_number_unsigned() || at.get<uint64_t>() == 0) {
        return Status::InvalidArgument("timeline: at must be a log position >= 1");
      }
      req.at_position = at.get<uint64_t>();
    }
    Status s = GetDate("timeline", *params, "asOf", &req.as_of);
    if (!s.ok()) return s;
    s = GetDate("timeline", *params, "occurredBy", &req.occurred_by);
    if (!s.ok()) return s;
    if (params->contains("proofs")) {
      if (!(*params)["proofs"].is_boolean()) return Status::InvalidArgument("timeline: proofs must be true or false");
      req.proofs = (*params)["proofs"].get<bool>();
    }
    auto tl = ReadTimeline(reader, *codec_, req);
    if (!tl.ok()) return tl.status();
    return TimelineToJson(*tl);
  }

 private:
  const domain::Codec* codec_;
};

class WorklistModel final : public ReadModel {
 public:
  WorklistModel(const domain::Calendar* calendar, const domain::Codec* codec)
      : calendar_(calendar), codec_(codec) {}
  std::string name() const override { return "worklist"; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("worklist", params_json,
                              {"district", "asOf", "firstVisitDays", "stallWorkingDays", "dueSoonDays",
                               "reviewDueDays", "allocationGraceWorkingDays", "worker", "limit", "after"});
    if (!params.ok()) return params.status();
    WorklistOptions o;
    if (params->contains("district")) {
      const Json& d = (*params)["district"];
      if (!d.is_string()) return Status::InvalidArgument("worklist: district must be a string");
      o.district = d.get<std::string>();
      if (o.district.empty() || o.district.find('/') != std::string::npos) {
        return Status::InvalidArgument("worklist: district must be a district code such as D3");
      }
      // A principal sees a district's worklist only if it may read that
      // district's cases (by district, or by a pattern such as "case/D3/*").
      Status s = reader.CheckReadDistrict(o.district);
      if (!s.ok()) return s;
    }
    // The targets kept in the store (`hearth export timescales`), the same
    // ones the return and `hearth worklist` use; firstVisitDays overrides.
    auto targets = exports::ReadTimescales(reader, *codec_);
    if (!targets.ok()) return targets.status();
    o.first_visit_days = targets->first_visit_days;
    o.dfg_urgent_days = targets->dfg_urgent_days;
    o.dfg_non_urgent_days = targets->dfg_non_urgent_days;
    Status s = GetDate("worklist", *params, "asOf", &o.as_of);
    if (s.ok()) s = GetInt("worklist", *params, "firstVisitDays", 1, 366, &o.first_visit_days);
    if (s.ok()) s = GetInt("worklist", *params, "stallWorkingDays", 1, 1000, &o.stall_working_days);
    if (s.ok()) s = GetInt("worklist", *params, "dueSoonDays", 0, 366, &o.due_soon_days);
    if (s.ok()) s = GetInt("worklist", *params, "reviewDueDays", 0, 366, &o.review_due_days);
    if (s.ok()) {
      s = GetInt("worklist", *params, "allocationGraceWorkingDays", 0, 100, &o.allocation_grace_working_days);
    }
    // One page, never the whole list at once: a district of a large county
    // has tens of thousands of items (docs/protocol.md).
    int limit = int(kWorklistPageDefault);
    if (s.ok()) s = GetInt("worklist", *params, "limit", 1, int(kWorklistPageMax), &limit);
    if (s.ok()) s = GetString("worklist", *params, "after", &o.after);
    o.limit = size_t(limit);
    if (!s.ok()) return s;
    if (params->contains("worker")) {  // a worker's own list (checked by BuildWorklist)
      const Json& w = (*params)["worker"];
      if (!w.is_string()) return Status::InvalidArgument("worklist: worker must be a string");
      o.worker = w.get<std::string>();
    }
    // Complaints with no case, when the principal may read complaint/
    // streams (a complaints officer's scope, `complaint/*`); none
    // otherwise. Read through the reader: its access log records the reads.
    if (ScopeMatches(reader.scopes().read_streams, std::string(domain::kComplaintStreamPrefix) + "K-1")) {
      auto complaints = domain::ReadComplaints(reader, *codec_);
      if (complaints.ok()) {
        o.complaints = std::move(*complaints);
      } else if (complaints.status().code() != Status::Code::kPermissionDenied) {
        return complaints.status();
      }
    }
    // The reader shows only the cases the principal may read where they are
    // now, and leaves restricted people out (UK GDPR Art. 18, docs/rights.md).
    auto wl = BuildWorklist(reader, *calendar_, o);
    if (!wl.ok()) return wl.status();
    return WorklistToJson(*wl);
  }

 private:
  const domain::Calendar* calendar_;
  const domain::Codec* codec_;
};

}  // namespace

std::unique_ptr<ReadModel> MakeTimelineModel(const domain::Codec* codec) {
  return std::make_unique<TimelineModel>(codec);
}

std::unique_ptr<ReadModel> MakeWorklistModel(const domain::Calendar* calendar, const domain::Codec* codec) {
  return std::make_unique<WorklistModel>(calendar, codec);
}

}  // namespace hearth::readmodels
