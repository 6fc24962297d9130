// hearth breach record | assess | notify | inform | list: the breach register
// (UK GDPR Art. 33(5); stream breach/B-<n>; docs/domain.md "The breach
// register", docs/operations.md "Recording a breach").
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

struct BreachOptions {
  std::string data;
  KeyOptions key;
  std::string ref;             // B-1 (assess, notify, inform)
  std::string on;              // the event's date (default today)
  std::string user = "hearth-cli";
  std::string text;            // free text: the staff member's personal section
  // record
  std::string time;
  std::string occurred;
  std::string kind;
  std::string cause;
  std::string categories;      // comma-separated
  uint32_t people = 0;
  uint32_t records = 0;
  bool contained = false;
  // assess
  std::string risk;
  // notify, inform
  bool not_ = false;
  std::string ico_ref;
  std::string reason;          // late reason (notify) or why not (notify --not, inform --not)
  std::string channel;
  uint32_t count = 0;
  // list
  std::string as_of;
  bool json = false;
};

std::string DateOr(const std::string& given, domain::Date today) {
  return given.empty() ? domain::FormatDate(today) : given;
}

// Encodes one event (the JSON form, so unknown codes are refused naming the
// field) with the free text, when given, in the recording staff member's
// section, and records it on the breach's stream.
Status Record(CodecStore& opened, const BreachOptions& o, const std::string& ref, const std::string& type,
              OJson facts, domain::Date today) {
  nlohmann::json e;
  e["type"] = type;
  e["facts"] = facts;
  e["actor"] = {{"user", o.user}, {"role", "controller"}, {"plugin", "hearth-cli"}};
  e["subjects"] = nlohmann::json::array();
  if (!o.text.empty()) {
    e["personal"] = nlohmann::json::array(
        {{{"subject", o.user}, {"role", "staff"}, {"details", {{"freeText", o.text}}}}});
  }
  NewEvent event;
  Status s = opened.codec->FromJson(e.dump(), &event);
  if (!s.ok()) return s;
  std::string stream = std::string(domain::kBreachStreamPrefix) + ref;
  auto r = domain::RecordBreach(*opened.store, *opened.codec, stream, ExpectedVersion::Any(), {event}, today);
  if (!r.ok()) return r.status();
  OJson j;
  j["breach"] = ref;
  j["stream"] = stream;
  j["type"] = type;
  j["position"] = r->last_position;
  return Print(j.dump(2) + "\n");
}

Status RunRecord(const BreachOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  auto ref = domain::NextBreachRef(*(*opened)->store);
  if (!ref.ok()) return ref.status();
  OJson f;
  f["discoveredOn"] = DateOr(o.on, today);
  f["breachRef"] = *ref;
  if (!o.time.empty()) f["discoveredTime"] = o.time;
  if (!o.occurred.empty()) f["occurredOn"] = o.occurred;
  f["kind"] = o.kind;
  f["cause"] = o.cause;
  OJson categories = OJson::array();
  std::stringstream in(o.categories);
  for (std::string c; std::getline(in, c, ',');) {
    if (!c.empty()) categories.push_back(c);
  }
  f["categories"] = std::move(categories);
  f["approxPeople"] = o.people;
  f["approxRecords"] = o.records;
  f["contained"] = o.contained;
  return Record(**opened, o, *ref, "BreachRecorded", std::move(f), today);
}

Status RunAssess(const BreachOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  OJson f;
  f["assessedOn"] = DateOr(o.on, today);
  f["risk"] = o.risk;
  f["assessorRef"] = o.user;
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  return Record(**opened, o, o.ref, "BreachAssessed", std::move(f), today);
}

Status RunNotify(const BreachOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  OJson f;
  if (o.not_) {
    if (!o.ico_ref.empty()) return Status::InvalidArgument("--not records a decision not to notify: no --ico-ref");
    f["decidedOn"] = DateOr(o.on, today);
    if (!o.reason.empty()) f["reasonCode"] = o.reason;
    auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  return Record(**opened, o, o.ref, "BreachNotNotified", std::move(f), today);
  }
  f["notifiedOn"] = DateOr(o.on, today);
  if (!o.ico_ref.empty()) f["icoReference"] = o.ico_ref;
  if (!o.reason.empty()) f["lateReasonCode"] = o.reason;
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  return Record(**opened, o, o.ref, "BreachNotifiedToIco", std::move(f), today);
}

Status RunInform(const BreachOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  OJson f;
  f["decidedOn"] = DateOr(o.on, today);
  f["informed"] = !o.not_;
  if (!o.channel.empty()) f["channel"] = o.channel;
  f["peopleInformed"] = o.count;
  if (!o.reason.empty()) f["reasonCode"] = o.reason;
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  return Record(**opened, o, o.ref, "BreachPeopleInformed", std::move(f), today);
}

Status RunList(const BreachOptions& o) {
  domain::Date as_of = domain::UkDate(domain::Now());
  if (!o.as_of.empty() && !domain::ParseDate(o.as_of, &as_of)) {
    return Status::InvalidArgument("--as-of must be a date YYYY-MM-DD, not '" + o.as_of + "'");
  }
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  auto breaches = domain::ReadBreaches(*(*opened)->store, *(*opened)->codec);
  if (!breaches.ok()) return breaches.status();
  OJson rows = OJson::array();
  std::string text = "Breach register on " + domain::FormatDate(as_of) + ": " +
                     std::to_string(breaches->size()) + " breach" + (breaches->size() == 1 ? "" : "es") + "\n";
  for (const domain::BreachState& b : *breaches) {
    // The 72-hour clock (Art. 33(1)): running, met, missed, or not needed.
    std::string clock;
    if (b.notified_on) {
      clock = *b.notified_on <= b.NotifyBy() ? "met" : "missed";
    } else if (b.not_notified_on || b.risk == "unlikely") {
      clock = "not needed";
    } else {
      clock = as_of > b.NotifyBy() ? "overdue" : "running";
    }
    OJson r;
    r["breach"] = b.ref;
    r["discoveredOn"] = domain::FormatDate(b.discovered_on);
    if (!b.discovered_time.empty()) r["discoveredTime"] = b.discovered_time;
    r["kind"] = b.kind;
    r["cause"] = b.cause;
    r["categories"] = b.categories;
    r["approxPeople"] = b.approx_people;
    r["approxRecords"] = b.approx_records;
    r["contained"] = b.contained;
    r["risk"] = b.risk.empty() ? "notAssessed" : b.risk;
    r["stage"] = b.Stage();
    r["notifyBy"] = domain::FormatDate(b.NotifyBy());
    r["clock"] = clock;
    if (b.notified_on) {
      r["notifiedOn"] = domain::FormatDate(*b.notified_on);
      r["icoReference"] = b.ico_reference;
    }
    if (b.not_notified_on) {
      r["notNotifiedOn"] = domain::FormatDate(*b.not_notified_on);
      r["notNotifiedReason"] = b.not_notified_reason;
    }
    if (b.people_decided_on) {
      r["peopleInformed"] = b.people_informed;
      r["peopleDecidedOn"] = domain::FormatDate(*b.people_decided_on);
    }
    rows.push_back(std::move(r));
    text += "  " + b.ref + "  discovered " + domain::FormatDate(b.discovered_on) +
            (b.discovered_time.empty() ? "" : " " + b.discovered_time) + "  " + b.kind + "/" + b.cause + "  ~" +
            std::to_string(b.approx_people) + " people  risk " + (b.risk.empty() ? "not assessed" : b.risk) +
            "  " + b.Stage() + "  clock " + clock + " (notify by " + domain::FormatDate(b.NotifyBy()) + ")" +
            (b.notified_on ? "  ICO " + domain::FormatDate(*b.notified_on) + " " + b.ico_reference : "") +
            (b.people_decided_on ? std::string("  people ") + (b.people_informed ? "informed " : "not informed ") +
                                       domain::FormatDate(*b.people_decided_on)
                                 : "") +
            "\n";
  }
  if (!o.json) return Print(text);
  OJson j;
  j["asOf"] = domain::FormatDate(as_of);
  j["breaches"] = std::move(rows);
  return Print(j.dump(2) + "\n");
}

void Common(CLI::App* cmd, BreachOptions* o, bool text) {
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--on", o->on, "the event's date (default today)")->type_name("YYYY-MM-DD");
  cmd->add_option("--user", o->user, "staff reference of who records it (the free text is in their section)")
      ->type_name("REF");
  if (text) {
    cmd->add_option("--text", o->text, "free text (personal: sealed under the --user's own key, never a fact)")
        ->type_name("TEXT");
  }
}

}  // namespace

void AddBreachCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("breach", "the breach register (UK GDPR Art. 33(5)) and its 72-hour clock");
  {
    auto o = std::make_shared<BreachOptions>();
    CLI::App* cmd = set.Add(group, "record", "record a personal data breach (the next B-<n>); --on is the day "
                                             "it was discovered, which starts the 72 hours",
                            [o] { return RunRecord(*o); });
    Common(cmd, o.get(), true);
    cmd->add_option("--time", o->time, "the time of day it was discovered")->type_name("HH:MM");
    cmd->add_option("--occurred", o->occurred, "the day it happened, when known")->type_name("YYYY-MM-DD");
    cmd->add_option("--kind", o->kind, "confidentiality, integrity or availability")->type_name("KIND")->required();
    cmd->add_option("--cause", o->cause,
                    "lostOrStolenPaperwork, lostOrStolenDevice, sentToWrongRecipient, unauthorisedAccess, "
                    "cyberAttack, alteredInError, systemFailure, verbalDisclosure, other")
        ->type_name("CAUSE")
        ->required();
    cmd->add_option("--categories", o->categories,
                    "categories of data, comma-separated: identity, contact, health, financial, housing, "
                    "safeguarding, equality, caseNotes, children, other")
        ->type_name("A,B")
        ->required();
    cmd->add_option("--people", o->people, "approximate number of people affected (0: not yet known)")->type_name("N");
    cmd->add_option("--records", o->records, "approximate number of records affected")->type_name("N");
    cmd->add_flag("--contained", o->contained, "the breach is contained (e.g. the file recovered)");
  }
  {
    auto o = std::make_shared<BreachOptions>();
    CLI::App* cmd = set.Add(group, "assess", "record the risk assessment of a breach (--text: the reasoning)",
                            [o] { return RunAssess(*o); });
    cmd->add_option("breach", o->ref, "the breach, e.g. B-1")->type_name("B-N")->required();
    Common(cmd, o.get(), true);
    cmd->add_option("--risk", o->risk, "unlikely, risk or highRisk")->type_name("RISK")->required();
  }
  {
    auto o = std::make_shared<BreachOptions>();
    CLI::App* cmd = set.Add(group, "notify",
                            "record the notification to the ICO (--ico-ref), or with --not the decision not "
                            "to notify (--reason, --text)",
                            [o] { return RunNotify(*o); });
    cmd->add_option("breach", o->ref, "the breach, e.g. B-1")->type_name("B-N")->required();
    Common(cmd, o.get(), true);
    cmd->add_flag("--not", o->not_, "record the decision not to notify (only for a breach assessed unlikely)");
    cmd->add_option("--ico-ref", o->ico_ref, "the ICO's reference")->type_name("REF");
    cmd->add_option("--reason", o->reason,
                    "a code: why notified late (after 72 hours), or with --not why not notified")
        ->type_name("CODE");
  }
  {
    auto o = std::make_shared<BreachOptions>();
    CLI::App* cmd = set.Add(group, "inform",
                            "record that the people affected were informed (Art. 34), or with --not why not",
                            [o] { return RunInform(*o); });
    cmd->add_option("breach", o->ref, "the breach, e.g. B-1")->type_name("B-N")->required();
    Common(cmd, o.get(), true);
    cmd->add_flag("--not", o->not_, "the people were not informed (give the Art. 34(3) ground as --reason)");
    cmd->add_option("--channel", o->channel, "how: letter, email, phone, inPerson ...")->type_name("CHANNEL");
    cmd->add_option("--count", o->count, "how many people were informed")->type_name("N");
    cmd->add_option("--reason", o->reason, "with --not: unintelligible, riskNoLongerLikely, disproportionateEffort")
        ->type_name("CODE");
  }
  {
    auto o = std::make_shared<BreachOptions>();
    CLI::App* cmd = set.Add(group, "list", "every breach with its state and its 72-hour clock",
                            [o] { return RunList(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--as-of", o->as_of, "the day the clocks are read on (default today)")->type_name("YYYY-MM-DD");
    cmd->add_flag("--json", o->json, "print JSON");
  }
}

}  // namespace hearth::cli
