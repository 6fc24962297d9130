// The `kpi` and `cases` read models (api/include/hearth/exports.h): the
// monitoring exports for front ends, under the same disclosure control as
// `hearth export`.
#include <nlohmann/json.hpp>

#include "hearth/exports.h"
#include "hearth/read_model.h"
#include "readmodels/params.h"

namespace hearth::exports {

namespace {

using Json = nlohmann::json;
namespace prm = hearth::readmodels::params;

Result<Period> PeriodOf(const std::string& model, const Json& params) {
  std::string text;
  Status s = prm::RequireString(model, params, "period", &text);
  if (!s.ok()) return Status::InvalidArgument(s.message() + " (e.g. \"2018/19-Q1\" or \"2018/19\")");
  auto period = ParsePeriod(text);
  if (!period.ok()) return Status::InvalidArgument(model + ": " + period.status().message());
  return period;
}

class KpiModel final : public ReadModel {
 public:
  explicit KpiModel(const domain::Codec* codec)
      : codec_(codec), calendar_(domain::Calendar::EnglandAndWales()) {}
  std::string name() const override { return "kpi"; }
  // Counts of every district's cases, released under disclosure control.
  Reach reach() const override { return Reach::kReturn; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("kpi", params_json, {"period", "policy", "position"});
    if (!params.ok()) return params.status();
    auto period = PeriodOf("kpi", *params);
    if (!period.ok()) return period.status();
    std::string policy_text = "ons";
    KpiOptions ko;
    Status s = prm::GetString("kpi", *params, "policy", &policy_text);
    if (s.ok()) s = prm::GetPosition("kpi", *params, "position", &ko.position);
    if (!s.ok()) return s;
    auto policy = ParsePolicy(policy_text);
    if (!policy.ok()) return Status::InvalidArgument("kpi: " + policy.status().message());
    // Without disclosure control the return is the partnership's own
    // management figures: only the controller may take it.
    if (!policy->controlled) {
      if (s = reader.CheckController(); !s.ok()) return s;
    }
    // A front end can ask for every period and position, and no release
    // ledger stands between its answers, so it gets only `ons`, whose
    // rounding of every published cell (county totals too) keeps small
    // counts from being recovered across returns; `nhs` and `threshold:K`
    // are released to a named recipient through the ledger (`hearth export
    // kpi --recipient`), or taken by the controller (docs/exports.md,
    // "Coordination across returns").
    if (policy->controlled && policy->name != "ons" && !reader.scopes().controller) {
      return Status::PermissionDenied(
          "kpi: policy " + policy->name +
          " is not coordinated across the returns a front end can ask for; a front end takes ons, and "
          "the controller releases " + policy->name + " returns to a recipient with hearth export kpi --recipient");
    }
    auto kpi = BuildKpiReturn(reader, *codec_, calendar_, *period, *policy, ko);
    if (!kpi.ok()) return kpi.status();
    return KpiToJson(*kpi);
  }

 private:
  const domain::Codec* codec_;
  const domain::Calendar calendar_;
};

class CasesModel final : public ReadModel {
 public:
  explicit CasesModel(const domain::Codec* codec) : codec_(codec) {}
  std::string name() const override { return "cases"; }
  // Rows of the cases the caller may read, k-anonymised.
  Reach reach() const override { return Reach::kRows; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("cases", params_json, {"period", "recipient", "k", "maxSuppressed", "position"});
    if (!params.ok()) return params.status();
    auto period = PeriodOf("cases", *params);
    if (!period.ok()) return period.status();
    ExtractOptions eo;
    // References are keyed per recipient so that two recipients cannot join
    // their extracts: a plugin gets its own, and only the controller may take
    // an extract keyed for someone else.
    eo.recipient = reader.principal().plugin;
    std::string recipient;
    Status s = prm::GetString("cases", *params, "recipient", &recipient);
    if (s.ok()) s = prm::GetInt("cases", *params, "k", 2, 1000, &eo.k);
    if (s.ok()) s = prm::GetPosition("cases", *params, "position", &eo.position);
    if (!s.ok()) return s;
    if (params->contains("maxSuppressed")) {
      const Json& m = (*params)["maxSuppressed"];
      if (!m.is_number() || !(m.get<double>() >= 0 && m.get<double>() <= 1)) {
        return Status::InvalidArgument("cases: maxSuppressed must be a number from 0 to 1");
      }
      eo.max_suppressed_share = m.get<double>();
    }
    // (The reader refuses another recipient's key without the controller
    // scope; asking first names the scope before any work is done.)
    if (!recipient.empty() && recipient != eo.recipient) {
      if (s = reader.CheckController(); !s.ok()) return s;
      eo.recipient = recipient;
    }
    // An earlier position shows cases where they were then (before a
    // transfer out of the caller's districts, say): the controller's only.
    if (eo.position != 0) {
      auto info = reader.Info();
      if (!info.ok()) return info.status();
      if (eo.position < info->last_position) {
        if (s = reader.CheckController(); !s.ok()) return s;
      }
    }
    // The reader gives the facts of the cases the caller may read where they
    // are now; at an earlier position (the controller's), only those that
    // were in the caller's districts then as well.
    eo.include = [&reader](const domain::CaseState& c) { return reader.CanReadCase(c.case_id, c.district); };
    auto extract = BuildCaseExtract(reader, *codec_, *period, eo);
    if (!extract.ok()) return extract.status();
    nlohmann::ordered_json j;
    j["format"] = "hearth-case-extract/1";
    j["period"] = extract->period.label;
    j["recipient"] = extract->recipient;
    j["position"] = extract->position;
    j["k"] = extract->k;
    j["quasiIdentifiers"] =
        std::vector<std::string>(std::begin(kQuasiIdentifiers), std::end(kQuasiIdentifiers));
    j["level"] = extract->level;
    j["generalisations"] = extract->generalisations;
    j["candidateRows"] = extract->candidate_rows;
    j["restrictedRows"] = extract->restricted_rows;
    j["suppressedRows"] = extract->suppressed_rows;
    j["rows"] = extract->rows.size();
    j["csv"] = ExtractToCsv(*extract);
    return j.dump();
  }

 private:
  const domain::Codec* codec_;
};

}  // namespace

std::unique_ptr<ReadModel> MakeKpiModel(const domain::Codec* codec) {
  return std::make_unique<KpiModel>(codec);
}

std::unique_ptr<ReadModel> MakeCasesModel(const domain::Codec* codec) {
  return std::make_unique<CasesModel>(codec);
}

}  // namespace hearth::exports
