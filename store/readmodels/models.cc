// The `timeline` and `worklist` read models for the ReadModels collection
// (api/include/hearth/read_model.h): JSON parameters in, JSON out, every
// scope checked through the session.
#include <nlohmann/json.hpp>

#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "readmodels/params.h"

namespace hearth::readmodels {

namespace {

using Json = nlohmann::json;
namespace prm = hearth::readmodels::params;
using prm::GetDate;
using prm::GetInt;

class TimelineModel final : public ReadModel {
 public:
  TimelineModel(Store* store, const domain::Codec* codec) : store_(store), codec_(codec) {}
  std::string name() const override { return "timeline"; }

  Result<std::string> Query(Session& session, const std::string& params_json) override {
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
    auto tl = ReadTimeline(session, *store_, *codec_, req);
    if (!tl.ok()) return tl.status();
    return TimelineToJson(*tl);
  }

 private:
  Store* store_;
  const domain::Codec* codec_;
};

class WorklistModel final : public ReadModel {
 public:
  WorklistModel(Store* store, const domain::Calendar* calendar, const domain::Codec* codec)
      : store_(store), calendar_(calendar), codec_(codec) {}
  std::string name() const override { return "worklist"; }

  Result<std::string> Query(Session& session, const std::string& params_json) override {
    auto params = prm::Parse("worklist", params_json,
                              {"district", "asOf", "firstVisitDays", "stallWorkingDays", "dueSoonDays",
                               "reviewDueDays"});
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
      Status s = session.CheckReadDistrict(o.district);
      if (!s.ok()) return s;
    }
    Status s = GetDate("worklist", *params, "asOf", &o.as_of);
    if (s.ok()) s = GetInt("worklist", *params, "firstVisitDays", 1, 366, &o.first_visit_days);
    if (s.ok()) s = GetInt("worklist", *params, "stallWorkingDays", 1, 1000, &o.stall_working_days);
    if (s.ok()) s = GetInt("worklist", *params, "dueSoonDays", 0, 366, &o.due_soon_days);
    if (s.ok()) s = GetInt("worklist", *params, "reviewDueDays", 0, 366, &o.review_due_days);
    if (!s.ok()) return s;
    // Only the cases the principal may read where they are now (the
    // projection's state holds the current district).
    o.include = [&session](const domain::CaseState& c) {
      return session.CanReadCase(c.case_id, c.district);
    };
    // UK GDPR Art. 18: restricted people are left out, as by `hearth
    // worklist` (docs/rights.md), from the one view of the restrictions.
    auto restricted = rights::ActiveRestrictions::Read(*store_, *codec_);
    if (!restricted.ok()) return restricted.status();
    o.restricted_subjects = restricted->Subjects();
    auto wl = BuildWorklist(*store_, *calendar_, o);
    if (!wl.ok()) return wl.status();
    return WorklistToJson(*wl);
  }

 private:
  Store* store_;
  const domain::Calendar* calendar_;
  const domain::Codec* codec_;
};

}  // namespace

std::unique_ptr<ReadModel> MakeTimelineModel(Store* store, const domain::Codec* codec) {
  return std::make_unique<TimelineModel>(store, codec);
}

std::unique_ptr<ReadModel> MakeWorklistModel(Store* store, const domain::Calendar* calendar,
                                             const domain::Codec* codec) {
  return std::make_unique<WorklistModel>(store, calendar, codec);
}

}  // namespace hearth::readmodels
