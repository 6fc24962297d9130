// hearth complaint record | escalate | resolve | list: complaints (003 9.1;
// docs/domain.md "Complaints"), on a case or on a stream of their own
// (complaint/K-<n>) when they are about no case, with the agency's response
// deadline at each stage.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec_store.h"
#include "commands.h"
#include "hearth/domain.h"

namespace hearth::cli {

namespace {

using OJson = nlohmann::ordered_json;

struct ComplaintOptions {
  std::string data;
  KeyOptions key;
  std::string ref;           // K-1 (escalate, resolve without --case)
  std::string case_id;       // case/D3/000123: a complaint on a case
  uint16_t number = 0;       // the complaint's number on the case (escalate, resolve; record: default next)
  std::string on;            // the event's date (default today)
  std::string user = "hearth-cli";
  std::string complainant;   // subject reference of who complains
  std::string role = "other";  // the complainant's role (client, carer, relative, other)
  std::string text;          // the complaint in their words: their personal section
  // record
  std::string district;
  std::string stage = "stage1";
  std::string channel;
  std::string category;
  // escalate
  std::string to;
  // resolve
  std::string result;
  // list
  std::string as_of;
  bool json = false;
};

std::string DateOr(const std::string& given, domain::Date today) {
  return given.empty() ? domain::FormatDate(today) : given;
}

// Encodes one event (the JSON form, so that codes outside their lists are
// refused naming the field) and records it: on the case through the case
// recorder, or on the complaint's own stream.
Status Record(CodecStore& opened, const ComplaintOptions& o, const std::string& stream, const std::string& type,
              OJson facts, domain::Date today) {
  nlohmann::json e;
  e["type"] = type;
  e["facts"] = facts;
  e["actor"] = {{"user", o.user}, {"role", "complaintsOfficer"}, {"plugin", "hearth-cli"}};
  e["subjects"] = nlohmann::json::array();
  if (!o.complainant.empty()) {
    e["subjects"].push_back({{"id", o.complainant}, {"role", o.role}});
    if (!o.text.empty()) {
      e["personal"] = nlohmann::json::array({{{"subject", o.complainant}, {"role", o.role}, {"details", {{"freeText", o.text}}}}});
    }
  } else if (!o.text.empty()) {
    return Status::InvalidArgument("--text is the complainant's words: give --complainant too");
  }
  NewEvent event;
  Status s = opened.codec->FromJson(e.dump(), &event);
  if (!s.ok()) return s;
  auto r = [&]() -> Result<AppendResult> {
    if (stream.compare(0, 5, "case/") == 0) {
      domain::CaseRecorder recorder(opened.store.get(), opened.codec.get(), {});
      return recorder.Record(stream, ExpectedVersion::Any(), {event});
    }
    return domain::RecordComplaint(*opened.store, *opened.codec, stream, ExpectedVersion::Any(), {event}, today);
  }();
  if (!r.ok()) return r.status();
  OJson j;
  j["stream"] = stream;
  j["type"] = type;
  j["position"] = r->last_position;
  return Print(j.dump(2) + "\n");
}

// The stream and the complaint's number the options name: --case (with
// --number) or a K-<n> reference.
Status Target(const ComplaintOptions& o, std::string* stream, uint16_t* number) {
  if (!o.case_id.empty()) {
    if (!o.ref.empty()) return Status::InvalidArgument("give a complaint's K-<n> or --case, not both");
    if (o.number == 0) return Status::InvalidArgument("--case needs --number: which complaint of the case");
    *stream = o.case_id;
    *number = o.number;
    return Status::OK();
  }
  if (o.ref.empty()) return Status::InvalidArgument("name the complaint: K-<n>, or --case C --number N");
  if (o.number > 1) return Status::InvalidArgument("a complaint with no case is complaint 1 of its stream");
  *stream = std::string(domain::kComplaintStreamPrefix) + o.ref;
  *number = 1;
  return Status::OK();
}

Status RunRecord(const ComplaintOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  // Opened once: the passphrase is wiped from the environment once read.
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  std::string stream;
  uint16_t number = o.number;
  OJson f;
  f["receivedOn"] = DateOr(o.on, today);
  if (!o.case_id.empty()) {
    if (!o.district.empty()) return Status::InvalidArgument("a complaint on a case takes the case's district");
    stream = o.case_id;
    if (number == 0) {
      domain::CaseRecorder recorder((*opened)->store.get(), (*opened)->codec.get(), {});
      auto state = recorder.Load(stream);
      if (!state.ok()) return state.status();
      number = uint16_t(state->complaint_list.size() + 1);
    }
  } else {
    if (o.number > 1) return Status::InvalidArgument("a complaint with no case is complaint 1 of its stream");
    auto ref = domain::NextComplaintRef(*(*opened)->store);
    if (!ref.ok()) return ref.status();
    stream = std::string(domain::kComplaintStreamPrefix) + *ref;
    number = 1;
    f["district"] = o.district;
  }
  f["complaint"] = number;
  f["stage"] = o.stage;
  if (!o.channel.empty()) f["channel"] = o.channel;
  if (!o.category.empty()) f["categoryCode"] = o.category;
  return Record(**opened, o, stream, "ComplaintReceived", std::move(f), today);
}

Status RunEscalate(const ComplaintOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  std::string stream;
  uint16_t number = 0;
  if (Status s = Target(o, &stream, &number); !s.ok()) return s;
  OJson f;
  f["escalatedOn"] = DateOr(o.on, today);
  f["complaint"] = number;
  f["toStage"] = o.to;
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  return Record(**opened, o, stream, "ComplaintEscalated", std::move(f), today);
}

Status RunResolve(const ComplaintOptions& o) {
  domain::Date today = domain::UkDate(domain::Now());
  std::string stream;
  uint16_t number = 0;
  if (Status s = Target(o, &stream, &number); !s.ok()) return s;
  OJson f;
  f["resolvedOn"] = DateOr(o.on, today);
  f["complaint"] = number;
  if (!o.stage.empty()) f["stage"] = o.stage;
  f["result"] = o.result;
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  return Record(**opened, o, stream, "ComplaintResolved", std::move(f), today);
}

Status RunList(const ComplaintOptions& o) {
  domain::Date as_of = domain::UkDate(domain::Now());
  if (!o.as_of.empty() && !domain::ParseDate(o.as_of, &as_of)) {
    return Status::InvalidArgument("--as-of must be a date YYYY-MM-DD, not '" + o.as_of + "'");
  }
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  auto complaints = domain::ReadComplaints(*(*opened)->store, *(*opened)->codec);
  if (!complaints.ok()) return complaints.status();
  auto calendar = domain::Calendar::EnglandAndWales();
  OJson rows = OJson::array();
  std::string text;
  size_t shown = 0;
  for (const domain::ComplaintState& k : *complaints) {
    if (!o.district.empty() && k.district != o.district) continue;
    const domain::Complaint& c = k.complaint;
    OJson r;
    r["complaint"] = k.ref;
    r["district"] = k.district;
    r["receivedOn"] = domain::FormatDate(c.received_on);
    r["category"] = k.category;
    r["channel"] = k.channel;
    r["stage"] = c.stage;
    r["stageOn"] = domain::FormatDate(c.stage_on);
    std::string state;
    int days = domain::ComplaintResponseWorkingDays(c.stage);
    if (c.responded_on) {
      r["respondedOn"] = domain::FormatDate(*c.responded_on);
      r["result"] = c.result;
      state = "answered " + domain::FormatDate(*c.responded_on) + " (" + c.result + ")";
    } else if (days == 0) {
      state = "with the Ombudsman since " + domain::FormatDate(c.stage_on);
    } else {
      auto due = calendar.AddWorkingDays(c.stage_on, days);
      if (!due.ok()) return due.status();
      r["respondBy"] = domain::FormatDate(*due);
      r["overdue"] = as_of > *due;
      state = "respond by " + domain::FormatDate(*due) + (as_of > *due ? " (overdue)" : "");
    }
    rows.push_back(std::move(r));
    text += "  " + k.ref + "  " + k.district + "  received " + domain::FormatDate(c.received_on) + "  " +
            k.category + "  at " + c.stage + " since " + domain::FormatDate(c.stage_on) + "  " + state + "\n";
    ++shown;
  }
  if (o.json) {
    OJson j;
    j["asOf"] = domain::FormatDate(as_of);
    j["complaints"] = std::move(rows);
    return Print(j.dump(2) + "\n");
  }
  return Print("Complaints with no case on " + domain::FormatDate(as_of) + ": " + std::to_string(shown) + "\n" +
               text + "(complaints on a case are in its timeline and the worklist's complaint list)\n");
}

void Common(CLI::App* cmd, ComplaintOptions* o) {
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--on", o->on, "the event's date (default today)")->type_name("YYYY-MM-DD");
  cmd->add_option("--user", o->user, "staff reference of who records it")->type_name("REF");
  cmd->add_option("--complainant", o->complainant, "the complainant's subject reference (their words are "
                                                   "sealed under their key)")
      ->type_name("P-...");
  cmd->add_option("--role", o->role, "the complainant's role: client, carer, relative or other")->type_name("ROLE");
  cmd->add_option("--text", o->text, "the complainant's words (personal: never a fact)")->type_name("TEXT");
}

void Which(CLI::App* cmd, ComplaintOptions* o) {
  cmd->add_option("complaint", o->ref, "a complaint with no case, e.g. K-1")->type_name("K-N");
  cmd->add_option("--case", o->case_id, "or a complaint on a case: the case")->type_name("CASE");
  cmd->add_option("--number", o->number, "with --case: which complaint of the case")->type_name("N");
}

}  // namespace

void AddComplaintCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("complaint", "complaints, their stages and the agency's response deadlines");
  {
    auto o = std::make_shared<ComplaintOptions>();
    CLI::App* cmd = set.Add(group, "record",
                            "record a complaint received: on a case (--case), or about no case (--district: "
                            "the next complaint/K-<n>)",
                            [o] { return RunRecord(*o); });
    Common(cmd, o.get());
    cmd->add_option("--case", o->case_id, "the case it is about")->type_name("CASE");
    cmd->add_option("--number", o->number, "with --case: its number on the case (default: the next)")
        ->type_name("N");
    cmd->add_option("--district", o->district, "a complaint about no case: the district it is about")
        ->type_name("CODE");
    cmd->add_option("--stage", o->stage, "the stage it enters at: informal, stage1 (default) or stage2")
        ->type_name("STAGE");
    cmd->add_option("--channel", o->channel, "how it came: letter, email, phone, inPerson ...")->type_name("CHANNEL");
    cmd->add_option("--category", o->category, "what about, a code (delay, contractor, staff, decision ...)")
        ->type_name("CODE");
  }
  {
    auto o = std::make_shared<ComplaintOptions>();
    CLI::App* cmd = set.Add(group, "escalate", "take a complaint to a higher stage: stage1, stage2 or ombudsman",
                            [o] { return RunEscalate(*o); });
    Which(cmd, o.get());
    Common(cmd, o.get());
    cmd->add_option("--to", o->to, "stage1, stage2 or ombudsman")->type_name("STAGE")->required();
  }
  {
    auto o = std::make_shared<ComplaintOptions>();
    o->stage.clear();
    CLI::App* cmd = set.Add(group, "resolve", "record the agency's response at the stage the complaint stands at",
                            [o] { return RunResolve(*o); });
    Which(cmd, o.get());
    Common(cmd, o.get());
    cmd->add_option("--stage", o->stage, "the stage answered (checked against where the complaint stands)")
        ->type_name("STAGE");
    cmd->add_option("--result", o->result, "upheld, partlyUpheld, notUpheld or withdrawn")
        ->type_name("RESULT")
        ->required();
  }
  {
    auto o = std::make_shared<ComplaintOptions>();
    CLI::App* cmd = set.Add(group, "list", "the complaints with no case, their stage and response deadline",
                            [o] { return RunList(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--district", o->district, "only this district")->type_name("CODE");
    cmd->add_option("--as-of", o->as_of, "the day the deadlines are read on (default today)")
        ->type_name("YYYY-MM-DD");
    cmd->add_flag("--json", o->json, "print JSON");
  }
}

}  // namespace hearth::cli
