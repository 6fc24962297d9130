// hearth allocation set | list: a district's annual allocation of one fund,
// kept in the store (stream config/allocations; docs/domain.md
// "Allocations", docs/exports.md "Money").
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "codec_store.h"
#include "commands.h"
#include "hearth/domain.h"
#include "hearth/event_json.h"
#include "hearth/exports.h"

namespace hearth::cli {

namespace {

struct AllocationOptions {
  std::string data;
  KeyOptions key;
  std::string district;
  std::string year;
  std::string fund;
  std::string pence;  // text: a negative or malformed amount is refused by the rule, naming the field
  std::string set_on;
  std::string user = "hearth-cli";
  std::string as_of;
};

Status RunSet(const AllocationOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  std::string set_on = o.set_on.empty() ? domain::FormatDate(today) : o.set_on;
  // The amount goes to the rules as it was given: a number, or refused by
  // rule allocation-amount (negative, too large) or malformed-facts.
  int64_t pence = 0;
  {
    size_t used = 0;
    bool ok = !o.pence.empty();
    try {
      pence = std::stoll(o.pence, &used);
    } catch (const std::exception&) {
      ok = false;
    }
    if (ok && used == o.pence.size() && (pence < 0 || pence > domain::kMaxAllocationPence)) {
      return Status::InvalidArgument("rule allocation-amount: facts.amountPence " + o.pence +
                                     (pence < 0 ? " is negative" : " is above 2,000,000,000 (£20m)"));
    }
    if (!ok || used != o.pence.size()) {
      return Status::InvalidArgument("rule allocation-amount: facts.amountPence must be a whole number of pence (--pence '" +
                                     o.pence + "')");
    }
  }
  nlohmann::json e;
  e["type"] = "AllocationSet";
  e["facts"] = {{"setOn", set_on}, {"district", o.district}, {"financialYear", o.year}, {"fund", o.fund},
                {"amountPence", pence}};
  e["actor"] = {{"user", o.user}, {"role", "controller"}, {"plugin", "hearth-cli"}};
  e["subjects"] = nlohmann::json::array();
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  NewEvent event;
  Status s = (*opened)->codec->FromJson(e.dump(), &event);
  if (!s.ok()) {
    // An unknown fund is the codec's refusal; said as the rule's.
    if (s.message().find("facts.fund") != std::string::npos) {
      return Status::InvalidArgument("rule allocation-fund: " + s.message());
    }
    return s;
  }
  auto r = domain::RecordAllocations(*(*opened)->store, *(*opened)->codec, ExpectedVersion::Any(), {event}, today);
  if (!r.ok()) return r.status();
  nlohmann::ordered_json j;
  j["stream"] = domain::kAllocationsStream;
  j["position"] = r->last_position;
  j["district"] = o.district;
  j["financialYear"] = o.year;
  j["fund"] = o.fund;
  j["amountPence"] = pence;
  return Print(j.dump(2) + "\n");
}

Status RunList(const AllocationOptions& o) {
  domain::Date as_of = domain::UkDate(domain::Now());
  if (!o.as_of.empty() && !domain::ParseDate(o.as_of, &as_of)) {
    return Status::InvalidArgument("--as-of must be a date YYYY-MM-DD, not '" + o.as_of + "'");
  }
  auto opened = OpenCodecStore(o.data, o.key, true);
  if (!opened.ok()) return opened.status();
  // The money of the cases projection's dated facts, once it has caught up;
  // a stopped projection is reported and the money read from the log.
  Status caught = CatchUp(*(*opened)->store, readmodels::kCasesProjection);
  if (!caught.ok()) {
    std::cerr << "hearth: the cases projection is not current (" << caught.ToString() << "); reading the log\n";
  }
  auto money = exports::ReadMoney(*(*opened)->store, *(*opened)->codec, as_of);
  if (!money.ok()) return money.status();
  nlohmann::ordered_json j;
  j["financialYear"] = money->financial_year;
  j["asOf"] = domain::FormatDate(money->as_of);
  j["position"] = money->position;
  j["targetPercent"] = exports::kSpendTargetPercent;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& p : money->positions) {
    nlohmann::ordered_json r;
    r["district"] = p.district;
    r["fund"] = p.fund;
    if (p.allocated) {
      r["allocationPence"] = p.allocation_pence;
    } else {
      r["allocationPence"] = nullptr;
    }
    r["committedPence"] = p.committed_pence;
    r["spentPence"] = p.spent_pence;
    rows.push_back(std::move(r));
  }
  j["allocations"] = std::move(rows);
  return Print(j.dump(2) + "\n");
}

}  // namespace

void AddAllocationCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("allocation", "annual allocations per district, financial year and fund");
  {
    auto o = std::make_shared<AllocationOptions>();
    CLI::App* cmd = set.Add(group, "set",
                            "record a district's allocation of one fund for a financial year (a later one "
                            "for the same district, year and fund supersedes it)",
                            [o] { return RunSet(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--district", o->district, "a district of the log's cases")->type_name("D")->required();
    cmd->add_option("--year", o->year, "the financial year, e.g. 2018/19")->type_name("YYYY/YY")->required();
    cmd->add_option("--fund", o->fund, "the fund: a grant type, e.g. mandatoryDfg, dementiaDwellingGrant")
        ->type_name("FUND")
        ->required();
    cmd->add_option("--pence", o->pence, "the allocation in pence (0 .. 2,000,000,000)")
        ->type_name("N")
        ->required();
    cmd->add_option("--set-on", o->set_on, "the date it was decided (default today)")->type_name("YYYY-MM-DD");
    cmd->add_option("--user", o->user, "staff reference of who records it")->type_name("REF");
  }
  {
    auto o = std::make_shared<AllocationOptions>();
    CLI::App* cmd = set.Add(group, "list",
                            "each district's allocation, committed and spent in the financial year of --as-of",
                            [o] { return RunList(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--as-of", o->as_of, "the day (default today)")->type_name("YYYY-MM-DD");
  }
}

}  // namespace hearth::cli
