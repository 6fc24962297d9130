// hearth contractor vet | remove | list: the vetted contractors a case may
// choose (stream register/contractors; docs/domain.md "The vetted
// contractors", rule `contractor-not-vetted`).
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec_store.h"
#include "commands.h"
#include "hearth/domain.h"

namespace hearth::cli {

namespace {

using OJson = nlohmann::ordered_json;

struct ContractorOptions {
  std::string data;
  KeyOptions key;
  std::string ref;      // the contractor's code
  std::string on;       // the event's date (default today)
  std::string user = "hearth-cli";
  // vet
  std::string trades;   // comma-separated codes
  std::string checks;   // comma-separated ContractorCheck names
  std::string expires;
  // remove
  std::string reason;
  // list
  std::string as_of;
  bool json = false;
};

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Encodes one event through the JSON form (an unknown check is refused naming
// the field) and records it through the list's rules.
Status Record(const ContractorOptions& o, const std::string& type, OJson facts, domain::Date today) {
  nlohmann::json e;
  e["type"] = type;
  e["facts"] = facts;
  e["actor"] = {{"user", o.user}, {"role", "manager"}, {"plugin", "hearth-cli"}};
  e["subjects"] = nlohmann::json::array();
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  NewEvent event;
  Status s = (*opened)->codec->FromJson(e.dump(), &event);
  if (!s.ok()) return s;
  auto r = domain::RecordContractors(*(*opened)->store, *(*opened)->codec, ExpectedVersion::Any(), {event}, today);
  if (!r.ok()) return r.status();
  OJson j;
  j["stream"] = domain::kContractorsStream;
  j["position"] = r->last_position;
  j["type"] = type;
  j["contractor"] = o.ref;
  return Print(j.dump(2) + "\n");
}

Status RunVet(const ContractorOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  OJson facts;
  facts["vettedOn"] = o.on.empty() ? domain::FormatDate(today) : o.on;
  facts["contractorRef"] = o.ref;
  auto trades = SplitCommas(o.trades);
  if (!trades.empty()) facts["trades"] = trades;
  auto checks = SplitCommas(o.checks);
  if (!checks.empty()) facts["checks"] = checks;
  facts["expiresOn"] = o.expires;
  return Record(o, "ContractorVetted", std::move(facts), today);
}

Status RunRemove(const ContractorOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  OJson facts;
  facts["removedOn"] = o.on.empty() ? domain::FormatDate(today) : o.on;
  facts["contractorRef"] = o.ref;
  if (!o.reason.empty()) facts["reasonCode"] = o.reason;
  return Record(o, "ContractorRemoved", std::move(facts), today);
}

Status RunList(const ContractorOptions& o) {
  domain::Date as_of = domain::UkDate(domain::Now());
  if (!o.as_of.empty() && !domain::ParseDate(o.as_of, &as_of)) {
    return Status::InvalidArgument("--as-of must be a date YYYY-MM-DD, not '" + o.as_of + "'");
  }
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  auto list = domain::ReadContractors(*(*opened)->store, *(*opened)->codec);
  if (!list.ok()) return list.status();
  OJson rows = OJson::array();
  std::string text = "vetted contractors on " + domain::FormatDate(as_of) + ":\n";
  for (const auto& [ref, c] : list->contractors) {
    const auto& last = c.periods.back();
    bool vetted = list->VettedOn(ref, as_of);
    std::string status = vetted                                          ? "vetted"
                         : last.removed_on && *last.removed_on <= as_of ? "removed"
                         : as_of > last.until                            ? "expired"
                                                                         : "not yet vetted";
    OJson r;
    r["contractor"] = ref;
    r["status"] = status;
    r["vettedOn"] = domain::FormatDate(last.from);
    r["expiresOn"] = domain::FormatDate(last.until);
    if (last.removed_on) {
      r["removedOn"] = domain::FormatDate(*last.removed_on);
      r["removalReason"] = c.removal_reason;
    }
    r["trades"] = c.trades;
    r["checks"] = c.checks;
    rows.push_back(std::move(r));
    std::string trades, checks;
    for (const auto& t : c.trades) trades += (trades.empty() ? "" : ",") + t;
    for (const auto& k : c.checks) checks += (checks.empty() ? "" : ",") + k;
    text += "  " + ref + "  " + status + "  " + domain::FormatDate(last.from) + " to " +
            domain::FormatDate(last.until) +
            (last.removed_on ? "  removed " + domain::FormatDate(*last.removed_on) + " (" + c.removal_reason + ")"
                             : std::string()) +
            (trades.empty() ? "" : "  trades " + trades) + (checks.empty() ? "" : "  checks " + checks) + "\n";
  }
  if (!o.json) return Print(text);
  OJson j;
  j["asOf"] = domain::FormatDate(as_of);
  j["contractors"] = std::move(rows);
  return Print(j.dump(2) + "\n");
}

void Common(CLI::App* cmd, ContractorOptions* o) {
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("contractor", o->ref, "the contractor's code, e.g. C-0101 (a business's code, never a name)")
      ->type_name("REF")
      ->required();
  cmd->add_option("--on", o->on, "the event's date (default today)")->type_name("YYYY-MM-DD");
  cmd->add_option("--user", o->user, "staff reference of who records it")->type_name("REF");
}

}  // namespace

void AddContractorCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("contractor", "the vetted contractors a case may choose");
  {
    auto o = std::make_shared<ContractorOptions>();
    CLI::App* cmd = set.Add(group, "vet",
                            "put a contractor on the vetted list, or renew its vetting (--on: the day vetted)",
                            [o] { return RunVet(*o); });
    Common(cmd, o.get());
    cmd->add_option("--checks", o->checks,
                    "the checks made, comma-separated: publicLiability, employersLiability, references, "
                    "dbsChecked, tradeAccreditation, gasSafe, healthAndSafety")
        ->type_name("A,B")
        ->required();
    cmd->add_option("--expires", o->expires, "the last day the vetting holds (e.g. the insurance's expiry)")
        ->type_name("YYYY-MM-DD")
        ->required();
    cmd->add_option("--trades", o->trades, "the trades it is vetted for, comma-separated codes (e.g. stairlift,ramp)")
        ->type_name("A,B");
  }
  {
    auto o = std::make_shared<ContractorOptions>();
    CLI::App* cmd = set.Add(group, "remove", "take a contractor off the vetted list from --on (default today)",
                            [o] { return RunRemove(*o); });
    Common(cmd, o.get());
    cmd->add_option("--reason", o->reason, "why, a code: insuranceLapsed, poorWork, ceasedTrading ...")
        ->type_name("CODE")
        ->required();
  }
  {
    auto o = std::make_shared<ContractorOptions>();
    CLI::App* cmd = set.Add(group, "list", "every contractor of the list and whether it is vetted on --as-of",
                            [o] { return RunList(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--as-of", o->as_of, "the day (default today)")->type_name("YYYY-MM-DD");
    cmd->add_flag("--json", o->json, "print JSON");
  }
}

}  // namespace hearth::cli
