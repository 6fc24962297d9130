// hearth export kpi | cases | identifiable: the monitoring exports for the
// commissioning partnership (docs/exports.md).
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "progress.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/readmodels.h"

namespace hearth::cli {

namespace {

struct ExportOptions {
  std::string data;
  KeyOptions key;
  std::string quarter;
  std::string year;
  std::string out;
  uint64_t position = 0;
  // kpi
  std::string policy = "nhs";
  // cases, identifiable
  std::string recipient;
  int k = 5;
  double max_suppressed = 0.05;
  std::string as_of;
  std::string user;
  std::string role = "monitoringOfficer";
  bool quiet = false;
};

Result<exports::Period> PeriodOf(const ExportOptions& o) {
  if (o.quarter.empty() == o.year.empty()) {
    return Status::InvalidArgument("give exactly one of --quarter (e.g. 2018/19-Q1) and --year (e.g. 2018/19)");
  }
  if (!o.quarter.empty()) {
    if (o.quarter.size() != 10) {
      return Status::InvalidArgument("--quarter '" + o.quarter + "': expected e.g. 2018/19-Q1");
    }
    return exports::ParsePeriod(o.quarter);
  }
  if (o.year.size() != 7) return Status::InvalidArgument("--year '" + o.year + "': expected e.g. 2018/19");
  return exports::ParsePeriod(o.year);
}

// Everything an export needs that can be refused before the store is opened.
struct Prepared {
  exports::Period period;
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
  std::unique_ptr<Store> store;
};

Result<std::unique_ptr<Prepared>> Prepare(const ExportOptions& o) {
  auto p = std::make_unique<Prepared>();
  auto period = PeriodOf(o);
  if (!period.ok()) return period.status();
  p->period = *period;
  Status s = exports::CheckOutputDir(o.out);
  if (!s.ok()) return s;
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  domain::AddBuiltinUpcasters(&p->upcasters);
  auto codec = domain::Codec::Create(&p->upcasters);
  if (!codec.ok()) return codec.status();
  p->codec = std::move(*codec);
  // The returns read the cases projection's dated facts when it has caught
  // up with the log (exports::OpenFacts); a return at an earlier position,
  // or from a store whose projection has stopped, reads the log instead.
  auto store = OpenStore(o.data, *key, readmodels::MakeProjections(p->codec.get()));
  if (!store.ok()) return store.status();
  p->store = std::move(*store);
  if (o.position == 0) {
    Status caught = CatchUp(*p->store, readmodels::kCasesProjection);
    if (!caught.ok()) {
      std::cerr << "hearth: the cases projection is not current (" << caught.ToString()
                << "); the return reads the log\n";
    }
  }
  return p;
}

Status RunKpi(const ExportOptions& o) {
  auto policy = exports::ParsePolicy(o.policy);
  if (!policy.ok()) return policy.status();
  auto p = Prepare(o);
  if (!p.ok()) return p.status();
  // A controlled return is released to someone: it is recorded in their
  // release ledger and suppressed with their earlier returns in view
  // (docs/exports.md, "Coordination across returns"). The management return
  // (none) is not released, so it names nobody and is not recorded.
  if (policy->controlled && o.recipient.empty()) {
    return Status::InvalidArgument("--recipient: name who receives the return (a code, e.g. county-council): "
                                   "it is suppressed with the returns they already hold");
  }
  if (!policy->controlled && !o.recipient.empty()) {
    return Status::InvalidArgument("--recipient: policy none is a management return, not released to anyone");
  }
  auto calendar = domain::Calendar::EnglandAndWales();
  exports::KpiOptions ko;
  ko.position = o.position;
  // The log read to the return's position (a terminal only, never a pipe).
  ProgressLine progress("export kpi", "events", o.quiet);
  if (progress.shown()) ko.progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
  auto kpi = policy->controlled
                 ? exports::ReleaseKpiReturn(*(*p)->store, *(*p)->codec, calendar, (*p)->period, *policy, ko,
                                             o.recipient, Actor{o.user, o.role, "hearth-cli"}, o.out)
                 : exports::BuildKpiReturn(*(*p)->store, *(*p)->codec, calendar, (*p)->period, *policy, ko);
  progress.Finish();
  if (!kpi.ok()) return kpi.status();
  if (!policy->controlled) {
    Status s = exports::WriteKpiReturn(*kpi, o.out);
    if (!s.ok()) return s;
  }
  nlohmann::ordered_json j;
  j["out"] = o.out;
  if (!o.recipient.empty()) j["recipient"] = o.recipient;
  j["period"] = kpi->period.label;
  j["position"] = kpi->position;
  j["policy"] = kpi->policy.name;
  uint32_t primary = 0, secondary = 0, rounded = 0;
  for (const auto& r : kpi->report) {
    primary += r.primary;
    secondary += r.secondary;
    rounded += r.rounded;
  }
  j["suppressedSmall"] = primary;
  j["suppressedSecondary"] = secondary;
  j["rounded"] = rounded;
  j["statisticsWithheld"] = kpi->statistics_withheld;
  if (!kpi->policy.controlled) {
    std::cerr << "hearth: policy none: a management return without disclosure control; "
                 "not for release outside the partnership\n";
  }
  return Print(j.dump(2) + "\n");
}

Status RunCases(const ExportOptions& o) {
  if (o.k < 2) return Status::InvalidArgument("--k must be at least 2, not " + std::to_string(o.k));
  if (!(o.max_suppressed >= 0 && o.max_suppressed <= 1)) {
    return Status::InvalidArgument("--max-suppressed must lie between 0 and 1");
  }
  auto p = Prepare(o);
  if (!p.ok()) return p.status();
  exports::ExtractOptions eo;
  eo.recipient = o.recipient;
  eo.position = o.position;
  eo.k = o.k;
  eo.max_suppressed_share = o.max_suppressed;
  ProgressLine progress("export cases", "events", o.quiet);
  if (progress.shown()) eo.progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
  auto extract = exports::BuildCaseExtract(*(*p)->store, *(*p)->codec, (*p)->period, eo);
  progress.Finish();
  if (!extract.ok()) return extract.status();
  Status s = exports::WriteCaseExtract(*extract, o.out);
  if (!s.ok()) return s;
  nlohmann::ordered_json j;
  j["out"] = o.out;
  j["period"] = extract->period.label;
  j["recipient"] = extract->recipient;
  j["position"] = extract->position;
  j["k"] = extract->k;
  j["level"] = extract->level;
  j["generalisations"] = extract->generalisations;
  j["candidateRows"] = extract->candidate_rows;
  j["suppressedRows"] = extract->suppressed_rows;
  j["restrictedRows"] = extract->restricted_rows;
  j["rows"] = extract->rows.size();
  return Print(j.dump(2) + "\n");
}

Status RunIdentifiable(const ExportOptions& o) {
  domain::Date as_of = domain::UkDate(domain::Now());
  if (!o.as_of.empty() && !domain::ParseDate(o.as_of, &as_of)) {
    return Status::InvalidArgument("--as-of must be a date YYYY-MM-DD, not '" + o.as_of + "'");
  }
  if (o.user.empty()) return Status::InvalidArgument("--user: the staff reference of who exports is required");
  auto p = Prepare(o);
  if (!p.ok()) return p.status();
  exports::IdentifiableOptions io;
  io.recipient = o.recipient;
  io.position = o.position;
  io.as_of = as_of;
  Actor actor{o.user, o.role, "hearth-cli"};
  auto exp = exports::BuildIdentifiableExport(*(*p)->store, *(*p)->codec, (*p)->period, io);
  if (!exp.ok()) return exp.status();
  Status s = exports::WriteIdentifiableExport(*(*p)->store, *exp, actor, o.out);
  if (!s.ok()) return s;
  nlohmann::ordered_json j;
  j["out"] = o.out;
  j["period"] = exp->period.label;
  j["recipient"] = exp->recipient;
  j["position"] = exp->position;
  j["asOf"] = domain::FormatDate(exp->as_of);
  j["cases"] = exp->cases;
  j["identified"] = exp->clients.size();
  j["withoutConsent"] = exp->without_consent;
  j["erased"] = exp->erased;
  return Print(j.dump(2) + "\n");
}

struct CellsOptions {
  std::string data;
  KeyOptions key;
  std::string figure;
  std::string area;
  std::string period;
  uint64_t position = 0;
  std::string user;
  std::string role;
};

// The case references behind one cell of the return, for the controller.
Status RunCells(const CellsOptions& o) {
  // The role first: nobody else learns even whether the store opens.
  if (o.role != "controller") {
    return Status::PermissionDenied("export cells: only the controller may list the cases behind a cell (--role '" +
                                    o.role + "')");
  }
  if (o.user.empty()) return Status::InvalidArgument("--user: the staff reference of who audits is required");
  auto period = exports::ParsePeriod(o.period);
  if (!period.ok()) return Status::InvalidArgument("--period: " + period.status().message());
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto cells = exports::ListCellCases(**store, **codec, domain::Calendar::EnglandAndWales(), *period, o.figure,
                                      o.area, Actor{o.user, o.role, "hearth-cli"}, o.position);
  if (!cells.ok()) return cells.status();
  nlohmann::ordered_json j;
  j["period"] = cells->period.label;
  j["position"] = cells->position;
  j["figure"] = cells->figure;
  j["area"] = cells->area;
  j["value"] = cells->value;
  j["cases"] = cells->cases;
  return Print(j.dump(2) + "\n");
}

struct TimescalesOptions {
  std::string data;
  KeyOptions key;
  bool set = false;
  std::optional<int> first_visit_days, dfg_urgent, dfg_non_urgent, dfg_decision_months;
  std::string effective_on;
  std::string user = "hearth-cli";
  std::string role = "controller";
};

// Shows the targets in force; with --set records new ones (the options not
// given keep their current value).
Status RunTimescales(const TimescalesOptions& o) {
  domain::Date effective = domain::UkDate(domain::Now());
  if (!o.effective_on.empty() && !domain::ParseDate(o.effective_on, &effective)) {
    return Status::InvalidArgument("--effective-on must be a date YYYY-MM-DD, not '" + o.effective_on + "'");
  }
  if (!o.set && (o.first_visit_days || o.dfg_urgent || o.dfg_non_urgent || o.dfg_decision_months)) {
    return Status::InvalidArgument("new targets need --set");
  }
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto current = exports::ReadTimescales(**store, **codec);
  if (!current.ok()) return current.status();
  exports::Timescales t = *current;
  if (o.set) {
    if (o.first_visit_days) t.first_visit_days = *o.first_visit_days;
    if (o.dfg_urgent) t.dfg_urgent_days = *o.dfg_urgent;
    if (o.dfg_non_urgent) t.dfg_non_urgent_days = *o.dfg_non_urgent;
    if (o.dfg_decision_months) t.dfg_decision_months = *o.dfg_decision_months;
    Status s = exports::SetTimescales(**store, **codec, t, effective, Actor{o.user, o.role, "hearth-cli"});
    if (!s.ok()) return s;
    auto now = exports::ReadTimescales(**store, **codec);
    if (!now.ok()) return now.status();
    t = *now;
  }
  nlohmann::ordered_json j;
  j["firstVisitDays"] = t.first_visit_days;
  j["dfgUrgentWorkingDays"] = t.dfg_urgent_days;
  j["dfgNonUrgentWorkingDays"] = t.dfg_non_urgent_days;
  j["dfgDecisionMonths"] = t.dfg_decision_months;
  j["effectiveOn"] = t.effective_on;
  j["setAt"] = t.position;
  return Print(j.dump(2) + "\n");
}

void AddCommon(CLI::App* cmd, ExportOptions* o) {
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--quarter", o->quarter, "financial-year quarter, Q1 = April to June")
      ->type_name("YYYY/YY-QN");
  cmd->add_option("--year", o->year, "financial year, 1 April to 31 March")->type_name("YYYY/YY");
  cmd->add_option("--out", o->out, "output directory: must not exist, or be empty")
      ->type_name("DIR")
      ->required();
  cmd->add_option("--position", o->position,
                  "read the log as of this position (default: its end when the export starts)")
      ->type_name("N");
  cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
}

}  // namespace

void AddExportCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("export", "monitoring exports for the commissioning partnership");
  {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* cmd = set.Add(group, "kpi", "the quarterly (or yearly) KPI return per district and county",
                            [o] { return RunKpi(*o); });
    AddCommon(cmd, o.get());
    cmd->add_option("--policy", o->policy,
                    "disclosure control: nhs (default), ons, threshold:N, none (management return only)")
        ->type_name("NAME");
    cmd->add_option("--recipient", o->recipient,
                    "who receives it (a code; required unless --policy none): the return is recorded in "
                    "their release ledger and suppressed with their earlier returns in view")
        ->type_name("NAME");
    cmd->add_option("--user", o->user, "staff reference of who exports (recorded in the ledger)")->type_name("REF");
  }
  {
    auto o = std::make_shared<CellsOptions>();
    CLI::App* cmd = set.Add(group, "cells",
                            "audit sampling: the case references behind one cell of the return "
                            "(the controller only)",
                            [o] { return RunCells(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--figure", o->figure, "the figure, e.g. services.repairsCompleted")->type_name("ID")->required();
    cmd->add_option("--area", o->area, "a district code or county")->type_name("A")->required();
    cmd->add_option("--period", o->period, "the return's period, e.g. 2018/19 or 2018/19-Q1")
        ->type_name("P")
        ->required();
    cmd->add_option("--position", o->position, "read the log as of this position (default: its end)")
        ->type_name("N");
    cmd->add_option("--user", o->user, "staff reference of who audits")->type_name("REF");
    cmd->add_option("--role", o->role, "their role: must be controller")->type_name("ROLE")->required();
  }
  {
    auto o = std::make_shared<TimescalesOptions>();
    CLI::App* cmd = set.Add(group, "timescales",
                            "the monitored timescales' targets kept in the store (the return and "
                            "the worklist read them); --set records new ones",
                            [o] { return RunTimescales(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_flag("--set", o->set, "record new targets (the others keep their value)");
    cmd->add_option("--first-visit-days", o->first_visit_days, "first visit within N calendar days (1..366)")
        ->type_name("N");
    cmd->add_option("--dfg-urgent", o->dfg_urgent, "urgent DFG end to end, working days (1..1000)")
        ->type_name("N");
    cmd->add_option("--dfg-non-urgent", o->dfg_non_urgent, "non-urgent DFG end to end, working days (1..1000)")
        ->type_name("N");
    cmd->add_option("--dfg-decision-months", o->dfg_decision_months,
                    "decision on a valid DFG application within N months (1..12)")
        ->type_name("N");
    cmd->add_option("--effective-on", o->effective_on, "the date they take effect (default today)")
        ->type_name("YYYY-MM-DD");
    cmd->add_option("--user", o->user, "staff reference of who sets them")->type_name("REF");
  }
  {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* cmd = set.Add(group, "cases", "the pseudonymous case-level extract for one recipient",
                            [o] { return RunCases(*o); });
    AddCommon(cmd, o.get());
    cmd->add_option("--recipient", o->recipient, "who receives it (a code); keys the references")
        ->type_name("NAME")
        ->required();
    cmd->add_option("--k", o->k, "k-anonymity over the quasi-identifiers (default 5, at least 2)")
        ->type_name("K");
    cmd->add_option("--max-suppressed", o->max_suppressed,
                    "largest share of rows suppressed before coarser generalisation (default 0.05)")
        ->type_name("SHARE");
  }
  {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* cmd = set.Add(group, "identifiable",
                            "names and addresses of the clients whose identifiable-monitoring "
                            "consent is active; each disclosure is logged",
                            [o] { return RunIdentifiable(*o); });
    AddCommon(cmd, o.get());
    cmd->add_option("--recipient", o->recipient, "who receives it (a code)")
        ->type_name("NAME")
        ->required();
    cmd->add_option("--as-of", o->as_of, "the export date consent is checked on (default: today)")
        ->type_name("YYYY-MM-DD");
    cmd->add_option("--user", o->user, "staff reference of who exports (access log)")->type_name("REF");
    cmd->add_option("--role", o->role, "their role (default monitoringOfficer)")->type_name("ROLE");
  }
}

}  // namespace hearth::cli
