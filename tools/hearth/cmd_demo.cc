// hearth demo: the synthetic demo county (docs/domain.md, tools/demo/county.h).
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "county.h"
#include "progress.h"

namespace hearth::cli {

namespace {

struct DemoOptions {
  std::string data;
  KeyOptions key;
  uint64_t seed = 1;
  std::string year = "2018/19";
  uint32_t scale = 1;
  int threads = 2;
  bool quiet = false;
  uint32_t cases_per_district = 0;
};

Status RunDemo(const DemoOptions& o) {
  demo::CountyOptions options;
  if (!demo::ParseFinancialYear(o.year, &options.first_year)) {
    return Status::InvalidArgument("--year: expected a financial year such as 2018/19");
  }
  if (o.scale == 0) return Status::InvalidArgument("--scale: at least 1");
  options.seed = o.seed;
  options.scale = o.scale;
  options.threads = o.threads;
  options.limit_cases = o.cases_per_district;
  std::error_code ec;
  if (!o.key.key_file.empty() && !std::filesystem::exists(o.key.key_file, ec)) {
    Status s = CreateKeyFile(o.key.key_file);
    if (!s.ok()) return s;
  }
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto start = std::chrono::steady_clock::now();
  // Cases recorded of the county's (a terminal only, never a pipe).
  ProgressLine progress("demo", "cases", o.quiet);
  if (progress.shown()) {
    options.progress = [&progress](uint64_t done, uint64_t total) { progress.Update(done, total); };
  }
  auto report = demo::GenerateCountyStore(o.data, *key, options);
  progress.Finish();
  if (!report.ok()) return report.status();
  Status processing = LoadDefaultProcessing(o.data, *key);  // docs/rights.md
  if (!processing.ok()) return processing;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The bulk load wrote without the read models' projections: fold them now,
  // so that the first worklist or timeline does not (docs/readmodels.md).
  auto fold_start = std::chrono::steady_clock::now();
  auto projections = BringProjectionsCurrent(o.data, *key, o.quiet);
  if (!projections.ok()) return projections.status();
  double fold_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fold_start).count();
  nlohmann::ordered_json j;
  j["store"] = o.data;
  j["year"] = o.year;
  j["seed"] = o.seed;
  j["scale"] = o.scale;
  j["cases"] = report->cases;
  j["events"] = report->events;
  j["allocations"] = report->allocations;
  j["breaches"] = report->breaches;
  j["complaintsWithoutCase"] = report->complaints_without_case;
  j["contractors"] = report->contractors;
  j["appends"] = report->appends;
  j["people"] = report->people;
  j["seconds"] = seconds;
  j["eventsPerSecond"] = seconds > 0 ? static_cast<double>(report->events) / seconds : 0.0;
  auto& folded = j["projections"] = nlohmann::ordered_json::object();
  for (const auto& [name, position] : *projections) folded[name] = position;
  j["projectionSeconds"] = fold_seconds;
  auto& districts = j["districts"] = nlohmann::ordered_json::array();
  for (const auto& v : report->volumes) {
    districts.push_back({{"district", v.district},
                         {"advised", v.advised},
                         {"dfgs", v.dfgs},
                         {"minorAdaptations", v.minor_adaptations},
                         {"handyperson", v.handyperson},
                         {"repairs", v.repairs},
                         {"dementiaDwellingGrants", v.dementia_grants}});
  }
  return Print(j.dump(2) + "\n");
}

}  // namespace

void AddDemoCommands(CommandSet& set) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = set.Add(nullptr, "demo",
                          "generate the synthetic demo county (a financial year of six "
                          "districts, invented people) into a new store",
                          [o] { return RunDemo(*o); });
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--seed", o->seed, "random seed: the same seed gives the same county")
      ->type_name("N");
  cmd->add_option("--year", o->year, "financial year, 1 April to 31 March (default 2018/19)")
      ->type_name("YYYY/YY");
  cmd->add_option("--scale", o->scale, "multiply every volume (10-million-event benchmarks)")
      ->type_name("K");
  cmd->add_option("--threads", o->threads, "writer threads (default 2)")->type_name("N");
  cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
  cmd->add_option("--cases-per-district", o->cases_per_district,
                  "at most N cases per district, to try things quickly (the volumes are then not "
                  "the county's; default: all)")
      ->type_name("N");
}

}  // namespace hearth::cli
