// rights, sar, processing, disclosures, retention: the data controller's
// rights workflow (docs/rights.md, docs/sar-format.md).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "hearth/domain.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"

namespace hearth::cli {

namespace {

using Json = nlohmann::json;

// The codec, projections and store a rights command works on; the members
// are declared in the order they must be destroyed in reverse.
struct Env {
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
  std::unique_ptr<Store> store;
  std::unique_ptr<rights::Rights> rights;
};

struct Common {
  std::string data;
  KeyOptions key;
  std::string user;
  std::string role = rights::kControllerRole;
  std::string today;  // for tests and back-dated work: the date the rules use
};

void AddCommon(CLI::App* cmd, Common* c) {
  AddDataOption(cmd, &c->data);
  AddKeyOptions(cmd, &c->key);
  cmd->add_option("--user", c->user, "staff reference of who acts (professional capacity)")
      ->type_name("REF");
  cmd->add_option("--role", c->role, "the role they act in (default controller)")->type_name("ROLE");
  cmd->add_option("--today", c->today, "the date the rules and due dates use (default: today, UK)")
      ->type_name("YYYY-MM-DD");
}

Result<std::unique_ptr<Env>> OpenEnv(const Common& c, bool projections) {
  auto env = std::make_unique<Env>();
  domain::AddBuiltinUpcasters(&env->upcasters);
  auto codec = domain::Codec::Create(&env->upcasters);
  if (!codec.ok()) return codec.status();
  env->codec = std::move(*codec);
  auto key = ResolveKey(c.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  Options options;
  options.key = *key;
  // The rights_requests index always (inline: it costs nothing but on rights
  // streams, and keeps `rights list` a page of reads); the cases projection
  // when the command reads cases.
  options.projections = projections ? readmodels::MakeProjections(env->codec.get())
                                    : std::vector<std::shared_ptr<Projection>>{
                                          readmodels::MakeRightsRequestsProjection()};
  auto store = Store::Open(options, c.data);
  if (!store.ok()) return store.status();
  env->store = std::move(*store);
  rights::RightsOptions ro;
  if (!c.today.empty()) {
    domain::Date d;
    if (!domain::ParseDate(c.today, &d)) {
      return Status::InvalidArgument("--today must be a date YYYY-MM-DD, not '" + c.today + "'");
    }
    ro.today = [d] { return d; };
  }
  env->rights = std::make_unique<rights::Rights>(env->store.get(), env->codec.get(), ro);
  return env;
}

Actor ActorOf(const Common& c) { return Actor{c.user, c.role, "hearth-cli"}; }

// ---------------------------------------------------------------- rights --

struct ReceiveOptions {
  Common c;
  std::string subject, kind, received, channel = "unspecified", representative, authority = "none",
      authority_received, ref, words;
  bool identity_needed = false;
};

Status RunReceive(const ReceiveOptions& o) {
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  auto& r = *(*env)->rights;
  auto known = (*env)->store->ReadSubject(o.subject, 1, 1);
  if (!known.ok() || known->empty()) {
    return Status::NotFound("no data subject " + o.subject + " in this store (check --subject)");
  }
  std::string ref = o.ref;
  if (ref.empty()) {
    auto next = r.NextRequestRef();
    if (!next.ok()) return next.status();
    ref = *next;
  }
  Json e{{"type", "RightsRequestReceived"},
         {"actor", {{"user", o.c.user}, {"role", o.c.role}, {"plugin", "hearth-cli"}}}};
  Json f{{"kind", o.kind}, {"channel", o.channel}, {"identityNeeded", o.identity_needed},
         {"requestRef", ref}, {"authority", o.authority},
         {"requestedBy", o.representative.empty() ? "self" : "representative"}};
  if (!o.received.empty()) f["receivedOn"] = o.received;
  if (!o.authority_received.empty()) f["authorityReceivedOn"] = o.authority_received;
  if (!o.representative.empty()) f["representativeRef"] = o.representative;
  e["facts"] = f;
  Json subjects = Json::array({Json{{"id", o.subject}, {"role", "client"}}});
  if (!o.representative.empty()) subjects.push_back(Json{{"id", o.representative}, {"role", "other"}});
  e["subjects"] = subjects;
  if (!o.words.empty()) {
    e["personal"] = Json::array({Json{{"subject", o.subject}, {"role", "client"},
                                      {"details", {{"freeText", o.words}}}}});
  }
  NewEvent ev;
  Status s = (*env)->codec->FromJson(e.dump(), &ev);
  if (!s.ok()) return s;
  auto res = r.Record(ref, {ev});
  if (!res.ok()) return res.status();
  auto st = r.LoadRequest(ref);
  if (!st.ok()) return st.status();
  auto due = rights::ComputeDueDate(*st, domain::Calendar::EnglandAndWales(), r.Today());
  Json out{{"request", ref}, {"position", res->last_position}};
  if (due.ok()) out["due"] = domain::FormatDate(due->due);
  return Print(out.dump() + "\n");
}

struct RecordOptions {
  Common c;
  std::string ref, file, json;
};

Status RunRecord(const RecordOptions& o) {
  if (o.file.empty() == o.json.empty()) return Status::InvalidArgument("give one of --file or --json");
  std::string text = o.json;
  if (!o.file.empty()) {
    auto t = ReadFile(o.file);
    if (!t.ok()) return t.status();
    text = *t;
  }
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  std::vector<NewEvent> events;
  Status s = (*env)->codec->FromJsonList(text, &events);
  if (!s.ok()) return s;
  for (auto& e : events) {
    if (e.actor == Actor{}) e.actor = ActorOf(o.c);
  }
  auto res = (*env)->rights->Record(o.ref, std::move(events));
  if (!res.ok()) return res.status();
  return Print(Json{{"request", o.ref}, {"firstPosition", res->first_position},
                    {"lastPosition", res->last_position}}.dump() + "\n");
}

struct ListOptions {
  Common c;
  bool all = false;
  bool json = false;
  size_t limit = rights::kDefaultRequestsPage;
  std::string after;
};

Status RunList(const ListOptions& o) {
  // The bound and the continuation are checked before the store is opened.
  if (o.limit == 0 || o.limit > rights::kMaxRequestsPage) {
    return Status::InvalidArgument("--limit must be 1.." + std::to_string(rights::kMaxRequestsPage) + ", not " +
                                   std::to_string(o.limit));
  }
  if (!o.after.empty()) {
    if (Status s = rights::ValidRequestRef(o.after); !s.ok()) return Status::InvalidArgument("--after: " + s.message());
  }
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  auto& r = *(*env)->rights;
  rights::RequestPageOptions po;
  po.open_only = !o.all;
  po.limit = o.limit;
  po.after = o.after;
  auto page = r.RequestsPage(po);
  if (!page.ok()) return page.status();
  domain::Date today = r.Today();
  auto calendar = domain::Calendar::EnglandAndWales();
  Json out = Json::array();
  std::string text;
  for (const auto& q : page->requests) {
    Json j{{"request", q.ref}, {"subject", q.subject}, {"kind", q.kind}, {"status", q.status}};
    if (q.received_on) j["receivedOn"] = domain::FormatDate(*q.received_on);
    std::string status = q.status;
    if (q.erasure_pending()) {
      // Decided, then cut short (docs/rights.md, "Erasure"): `rights erase`
      // completes it.
      j["erasureDecidedOn"] = domain::FormatDate(*q.erasure_decided_on);
      j["erasurePending"] = true;
      status = "erasure decided " + domain::FormatDate(*q.erasure_decided_on) +
               ", not yet executed (complete it with rights erase --request " + q.ref + " --confirm)";
    }
    std::string line = q.ref + "  " + q.subject + "  " + q.kind + "  " + status;
    auto due = rights::ComputeDueDate(q, calendar, today);
    if (due.ok() && !q.closed()) {
      int left = int((due->due - today).count());
      j["clockStart"] = domain::FormatDate(due->clock_start);
      j["due"] = domain::FormatDate(due->due);
      j["daysLeft"] = left;
      j["extensionMonths"] = q.extension_months;
      j["pausedDays"] = due->paused_days;
      line += "  due " + domain::FormatDate(due->due) +
              (q.paused() ? "  (clock stopped since " + domain::FormatDate(q.stops.back().paused_on) +
                                ", waiting for " + q.stops.back().reason + ")"
                          : left < 0 ? "  OVERDUE by " + std::to_string(-left) + " days"
                                     : "  " + std::to_string(left) + " days left");
    } else if (q.closed_on) {
      j["closedOn"] = domain::FormatDate(*q.closed_on);
      line += "  on " + domain::FormatDate(*q.closed_on) + " (" + q.outcome + ")";
    }
    Json stops = Json::array();
    for (const auto& s : q.stops) {
      Json sj{{"pausedOn", domain::FormatDate(s.paused_on)}, {"reason", s.reason}};
      if (s.resumed_on) sj["resumedOn"] = domain::FormatDate(*s.resumed_on);
      stops.push_back(sj);
    }
    j["clockStops"] = stops;
    out.push_back(j);
    text += line + "\n";
  }
  if (o.json) {
    Json doc{{"requests", out}, {"requestsRead", page->requests_read}};
    if (!page->next.empty()) doc["next"] = page->next;
    return Print(doc.dump(2) + "\n");
  }
  if (text.empty() && o.after.empty()) text = o.all ? "no rights requests\n" : "no open rights requests\n";
  if (!page->next.empty()) {
    text += "more: run again with --after " + page->next + (o.all ? " --all" : "") + "\n";
  }
  return Print(text);
}

struct RestrictOptions {
  Common c;
  std::string subject, reason, ref;
  bool confirm = false;
  bool lift = false;
};

Status RunRestrict(const RestrictOptions& o) {
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  auto known = (*env)->store->ReadSubject(o.subject, 1, 100000);
  if (!known.ok() || known->empty()) {
    return Status::NotFound("no data subject " + o.subject + " in this store (check --subject)");
  }
  if (!o.confirm) {
    Status s = Print("would " + std::string(o.lift ? "lift the restriction of " : "restrict ") +
                     o.subject + " (named by " + std::to_string(known->size()) + " events)\n");
    if (!s.ok()) return s;
    return Status::InvalidArgument("nothing done: check the subject and repeat with --confirm");
  }
  auto& r = *(*env)->rights;
  return o.lift ? r.LiftRestriction(o.subject, o.reason, ActorOf(o.c))
                : r.Restrict(o.subject, o.ref, o.reason, ActorOf(o.c));
}

struct EraseOptions {
  Common c;
  std::string ref;
  bool confirm = false;
};

Status RunErase(const EraseOptions& o) {
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  auto& r = *(*env)->rights;
  auto req = r.LoadRequest(o.ref);
  if (!req.ok()) return req.status();
  if (!o.confirm) {
    Status s = Print(req->erasure_pending()
                         ? "would complete erasure request " + o.ref + " about " + req->subject +
                               ": erasure was decided on " + domain::FormatDate(*req->erasure_decided_on) +
                               " but not carried out (erasing their personal data and closing the request)\n"
                         : "would decide erasure request " + o.ref + " about " + req->subject +
                               " (erasing their personal data unless a legal hold applies)\n");
    if (!s.ok()) return s;
    return Status::InvalidArgument("nothing done: check the request and repeat with --confirm");
  }
  auto res = r.DecideErasure(o.ref, ActorOf(o.c));
  if (!res.ok()) return res.status();
  return Print(Json{{"request", o.ref}, {"subject", req->subject}, {"erased", true},
                    {"erasurePosition", res->last_position}}.dump() + "\n");
}

// ---------------------------------------------------------------- sar --

struct SarOptions {
  Common c;
  std::string subject, out, ref;
};

Status RunSar(const SarOptions& o) {
  if (o.out.empty()) return Status::InvalidArgument("--out DIR is required");
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  rights::PackOptions po;
  po.user = o.c.user;
  po.requester_role = o.c.role;
  po.plugin = "hearth-cli";
  po.request_ref = o.ref;
  // Built before anything is written, so that a bad subject leaves no files.
  po.record_disclosure = false;
  auto pack = (*env)->rights->BuildPack(o.subject, po);
  if (!pack.ok()) return pack.status();
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) return Status::IOError("cannot create " + o.out + ": " + ec.message());
  Status s = WriteFile(o.out + "/sar.json", pack->json, 0600);
  if (!s.ok()) return s;
  s = WriteFile(o.out + "/sar.html", pack->html, 0600);
  if (!s.ok()) return s;
  // The documents about the person, as files listed in sar.json "documents".
  for (const auto& f : pack->files) {
    std::filesystem::create_directories(std::filesystem::path(o.out + "/" + f.path).parent_path(), ec);
    if (ec) return Status::IOError("cannot create the documents directory in " + o.out + ": " + ec.message());
    s = WriteFile(o.out + "/" + f.path, f.bytes, 0600);
    if (!s.ok()) return s;
  }
  AccessRecord a;
  a.subject = o.subject;
  a.plugin = "hearth-cli";
  a.user = o.c.user;
  a.role = o.c.role;
  a.action = "sar";
  a.purpose = o.ref.empty() ? "subject access" : "subject access " + o.ref;
  a.recipient = "dataSubject";
  a.events = pack->events;
  s = (*env)->store->LogAccess({a});
  if (!s.ok()) return s;
  return Print(Json{{"subject", o.subject}, {"events", pack->events}, {"withheld", pack->withheld_sections},
                    {"heldForReview", pack->held_for_review}, {"erased", pack->erased},
                    {"documents", pack->files.size()},
                    {"json", o.out + "/sar.json"}, {"html", o.out + "/sar.html"}}.dump() + "\n");
}

// ---------------------------------------------------------- processing --

struct ProcessingOptions {
  Common c;
  std::string file;
  bool defaults = false;
  bool history = false;
};

Status RunProcessingSet(const ProcessingOptions& o) {
  if (o.file.empty() == !o.defaults) return Status::InvalidArgument("give one of --file F or --defaults");
  std::string text = rights::DefaultProcessingRecordJson();
  if (!o.file.empty()) {
    auto t = ReadFile(o.file);
    if (!t.ok()) return t.status();
    text = *t;
  }
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  return (*env)->rights->SetProcessingRecord(text, ActorOf(o.c));
}

Status RunProcessingShow(const ProcessingOptions& o) {
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  auto text = o.history ? (*env)->rights->ProcessingHistory() : (*env)->rights->ProcessingRecord();
  if (!text.ok()) return text.status();
  if (o.history) return Print(*text + "\n");
  return Print(Json::parse(*text).dump(2) + "\n");
}

struct SubjectOptions {
  Common c;
  std::string subject;
};

Status RunDisclosures(const SubjectOptions& o) {
  auto env = OpenEnv(o.c, false);
  if (!env.ok()) return env.status();
  auto text = (*env)->rights->DisclosuresJson(o.subject);
  if (!text.ok()) return text.status();
  return Print(*text + "\n");
}

struct RetentionOptions {
  Common c;
  std::string as_of;
  bool all = false;
  std::string due_before;
  uint64_t limit = 0;
  std::string format = "jsonl";
};

// Streams: one line per case listed, printed as the scan reaches it, so the
// review of a county's millions of cases holds one case at a time.
Status RunRetention(const RetentionOptions& o) {
  domain::Date due_before{};
  bool has_due_before = !o.due_before.empty();
  if (has_due_before && !domain::ParseDate(o.due_before, &due_before)) {
    return Status::InvalidArgument("--due-before must be a date YYYY-MM-DD, not '" + o.due_before + "'");
  }
  if (o.format != "jsonl" && o.format != "table") {
    return Status::InvalidArgument("--format must be jsonl or table, not '" + o.format + "'");
  }
  auto env = OpenEnv(o.c, true);
  if (!env.ok()) return env.status();
  domain::Date as_of = (*env)->rights->Today();
  if (!o.as_of.empty() && !domain::ParseDate(o.as_of, &as_of)) {
    return Status::InvalidArgument("--as-of must be a date YYYY-MM-DD, not '" + o.as_of + "'");
  }
  bool table = o.format == "table";
  uint64_t considered = 0, listed = 0;
  bool limit_reached = false;
  Status printed;
  if (table) {
    char head[256];
    std::snprintf(head, sizeof head, "%-20s %-12s %-14s %-26s %-10s %-6s %s\n", "case", "subject",
                  "class", "rule", "keep until", "action", "hold");
    printed = Print(head);
  }
  Status s = (*env)->rights->RetentionReviewEach(as_of, [&](const rights::RetentionItem& i) {
    ++considered;
    bool due = i.action == "erase" || (has_due_before && i.keep_until < due_before);
    if (!o.all && !due) return true;
    if (table) {
      char row[512];
      std::snprintf(row, sizeof row, "%-20s %-12s %-14s %-26s %-10s %-6s %s\n", i.case_id.c_str(),
                    i.subject.c_str(), i.record_class.c_str(), i.rule.c_str(),
                    domain::FormatDate(i.keep_until).c_str(), i.action.c_str(),
                    i.legal_hold ? "yes" : "no");
      printed = Print(row);
    } else {
      printed = Print(Json{{"case", i.case_id}, {"subject", i.subject}, {"recordClass", i.record_class},
                           {"rule", i.rule}, {"keepUntil", domain::FormatDate(i.keep_until)},
                           {"action", i.action}, {"legalHold", i.legal_hold},
                           {"explanation", i.explanation}}.dump() + "\n");
    }
    if (!printed.ok()) return false;
    ++listed;
    if (o.limit != 0 && listed >= o.limit) {
      limit_reached = true;
      return false;
    }
    return true;
  });
  if (!printed.ok()) return printed;
  if (!s.ok()) return s;
  if (table) {
    return Print(std::to_string(listed) + " listed of " + std::to_string(considered) +
                 " cases considered, as of " + domain::FormatDate(as_of) +
                 (limit_reached ? " (--limit reached: more may be due)" : "") + "\n");
  }
  return Print(Json{{"summary", {{"asOf", domain::FormatDate(as_of)}, {"casesConsidered", considered},
                                 {"listed", listed}, {"limitReached", limit_reached}}}}.dump() + "\n");
}

}  // namespace

Result<bool> LoadDefaultProcessing(Store* store) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  rights::Rights r(store, codec->get(), rights::RightsOptions{});
  auto existing = r.ProcessingRecord();
  if (existing.ok()) return false;
  if (!existing.status().IsNotFound()) return existing.status();
  Status s = r.SetProcessingRecord(rights::DefaultProcessingRecordJson(),
                                   Actor{"", rights::kControllerRole, "hearth-cli"});
  if (!s.ok()) return s;
  return true;
}

Status LoadDefaultProcessing(const std::string& data, const KeySource& key) {
  Options options;
  options.key = key;
  auto store = Store::Open(options, data);
  if (!store.ok()) return store.status();
  return LoadDefaultProcessing(store->get()).status();
}

void AddRightsCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("rights", "data-protection rights requests (docs/rights.md)");
  {
    auto o = std::make_shared<ReceiveOptions>();
    CLI::App* cmd = set.Add(group, "receive", "record a rights request received", [o] { return RunReceive(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--subject", o->subject, "the person the request is about")->required();
    cmd->add_option("--kind", o->kind, "access, rectification, erasure, restriction, portability, objection")
        ->required();
    cmd->add_option("--received", o->received, "the day it arrived (required by rule rights-receipt-date)")
        ->type_name("YYYY-MM-DD");
    cmd->add_option("--channel", o->channel, "how it came in (phone, email, letter ...)");
    cmd->add_option("--representative", o->representative, "subject ref of a representative acting for them");
    cmd->add_option("--authority", o->authority, "the representative's authority (lastingPowerOfAttorney ...)");
    cmd->add_option("--authority-received", o->authority_received, "the day that authority arrived");
    cmd->add_flag("--identity-needed", o->identity_needed, "identity must be verified before fulfilment");
    cmd->add_option("--ref", o->ref, "the request's reference (default: the next R-<n>)");
    cmd->add_option("--words", o->words, "the request in the requester's words (personal)");
  }
  {
    auto o = std::make_shared<RecordOptions>();
    CLI::App* cmd = set.Add(group, "record",
                            "record events on a request (identity verified, clock paused/resumed, "
                            "extended, fulfilled, refused, third-party decisions) from JSON",
                            [o] { return RunRecord(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--request", o->ref, "the request reference (R-<n>)")->required();
    cmd->add_option("--file", o->file, "a JSON event or array of events");
    cmd->add_option("--json", o->json, "the same inline");
  }
  {
    auto o = std::make_shared<ListOptions>();
    CLI::App* cmd = set.Add(group, "list", "open requests with due dates and days left", [o] { return RunList(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_flag("--all", o->all, "every request, newest first (default: the open ones, oldest first)");
    cmd->add_flag("--json", o->json, "JSON instead of text: {requests, next, requestsRead}");
    cmd->add_option("--limit", o->limit,
                    "requests on this page, 1.." + std::to_string(rights::kMaxRequestsPage) + " (default " +
                        std::to_string(rights::kDefaultRequestsPage) + ")")
        ->type_name("N");
    cmd->add_option("--after", o->after, "continue after this request (the page before's next)")
        ->type_name("REF");
  }
  for (bool lift : {false, true}) {
    auto o = std::make_shared<RestrictOptions>();
    o->lift = lift;
    CLI::App* cmd = set.Add(group, lift ? "lift" : "restrict",
                            lift ? "lift a restriction of processing" : "restrict processing of a person (Art. 18)",
                            [o] { return RunRestrict(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--subject", o->subject, "the person")->required();
    cmd->add_option("--reason", o->reason, "reason code (e.g. accuracyContested)")->required();
    if (!lift) cmd->add_option("--request", o->ref, "the rights request it answers");
    cmd->add_flag("--confirm", o->confirm, "do it (without: only say what would be done)");
  }
  {
    auto o = std::make_shared<EraseOptions>();
    CLI::App* cmd = set.Add(group, "erase",
                            "decide an erasure request: refused under a legal hold (naming the rule), "
                            "else crypto-shred the person",
                            [o] { return RunErase(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--request", o->ref, "the erasure request (R-<n>)")->required();
    cmd->add_flag("--confirm", o->confirm, "do it (without: only say what would be done)");
  }
  {
    auto o = std::make_shared<SarOptions>();
    CLI::App* cmd = set.Add(nullptr, "sar", "write the subject-access pack (sar.json, sar.html) of a person",
                            [o] { return RunSar(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--subject", o->subject, "the person")->required();
    cmd->add_option("--out", o->out, "directory to write the pack to")->required();
    cmd->add_option("--request", o->ref, "the access request it answers");
  }
  {
    CLI::App* pgroup = set.AddGroup("processing", "the record of processing (Art. 30) and retention rules");
    auto o = std::make_shared<ProcessingOptions>();
    CLI::App* cmd = set.Add(pgroup, "set", "set a new version of the record (history kept)",
                            [o] { return RunProcessingSet(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--file", o->file, "ProcessingRecordSet facts as JSON (docs/rights.md)");
    cmd->add_flag("--defaults", o->defaults, "the documented defaults");
    auto s = std::make_shared<ProcessingOptions>();
    CLI::App* show = set.Add(pgroup, "show", "show the current record", [s] { return RunProcessingShow(*s); });
    AddCommon(show, &s->c);
    show->add_flag("--history", s->history, "every version, oldest first");
  }
  {
    auto o = std::make_shared<SubjectOptions>();
    CLI::App* cmd = set.Add(nullptr, "disclosures",
                            "every read and disclosure of a person's personal data",
                            [o] { return RunDisclosures(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--subject", o->subject, "the person")->required();
  }
  {
    CLI::App* rgroup = set.AddGroup("retention", "retention rules from the record of processing");
    auto o = std::make_shared<RetentionOptions>();
    CLI::App* cmd = set.Add(rgroup, "review", "cases due for erasure or review, with the rule applied",
                            [o] { return RunRetention(*o); });
    AddCommon(cmd, &o->c);
    cmd->add_option("--as-of", o->as_of, "the date to review on (default today)")->type_name("YYYY-MM-DD");
    cmd->add_flag("--all", o->all, "cases still kept too");
    cmd->add_option("--due-before", o->due_before,
                    "also the cases kept today whose rule ends before this date (the erasures to plan)")
        ->type_name("YYYY-MM-DD");
    cmd->add_option("--limit", o->limit, "stop after this many cases listed (0: no limit)")->type_name("N");
    cmd->add_option("--format", o->format, "jsonl (one case per line, then a summary line) or table")
        ->type_name("jsonl|table");
  }
}

}  // namespace hearth::cli
