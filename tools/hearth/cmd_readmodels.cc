// rebuild, timeline, worklist: the case read models (docs/readmodels.md).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "commands.h"
#include "progress.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "hearth/session.h"

namespace hearth::cli {

namespace {

// What the read-model commands share: the codec and the projections built
// from it, which must outlive the store opened with them.
struct Domain {
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
  std::vector<std::shared_ptr<Projection>> projections;
};

Result<std::unique_ptr<Domain>> MakeDomain() {
  auto d = std::make_unique<Domain>();
  domain::AddBuiltinUpcasters(&d->upcasters);
  auto codec = domain::Codec::Create(&d->upcasters);
  if (!codec.ok()) return codec.status();
  d->codec = std::move(*codec);
  d->projections = readmodels::MakeProjections(d->codec.get());
  return d;
}

// Opens an existing store, with the read models' projections or without any.
Result<std::unique_ptr<Store>> Open(const std::string& data, const std::string& key_file,
                                    const Domain& d, bool with_projections) {
  auto key = ResolveKey(key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  Options options;
  options.key = *key;
  if (with_projections) options.projections = d.projections;
  return Store::Open(options, data);
}

Status ParseDateOption(const std::string& flag, const std::string& text, std::optional<domain::Date>* out) {
  if (text.empty()) return Status::OK();
  domain::Date d;
  if (!domain::ParseDate(text, &d)) {
    return Status::InvalidArgument(flag + " must be a date YYYY-MM-DD, not '" + text + "'");
  }
  *out = d;
  return Status::OK();
}

std::string Thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

// "2.50" and "400,000 events/s": the seconds a fold of `events` took, and its rate.
std::pair<std::string, std::string> TookAndRate(uint64_t events, double secs) {
  char took[32];
  std::snprintf(took, sizeof took, "%.2f", secs);
  return {took, Thousands(secs > 0 ? uint64_t(double(events) / secs) : 0) + " events/s"};
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// ---------------------------------------------------------------- rebuild --

struct RebuildOptions {
  std::string data;
  KeyOptions key;
  std::string name;
  bool quiet = false;
};

// Rebuilds projections of the open store in one pass over the log, the
// progress on a terminal: the fold reports each projection's position in
// its status, which a second thread reads for the progress line (the
// lowest of them) while this one folds. Sets the events folded (the
// lowest position reached) and the seconds it took.
Status RebuildSome(Store& store, const std::vector<std::string>& names, bool quiet, uint64_t* events,
                   double* seconds) {
  auto start = std::chrono::steady_clock::now();
  ProgressLine progress("rebuild " + Joined(names), "events", quiet);
  auto lowest = [&](const std::vector<ProjectionStatus>& statuses) {
    uint64_t low = ~uint64_t(0);
    for (const auto& p : statuses) {
      if (std::find(names.begin(), names.end(), p.name) != names.end()) low = std::min(low, p.position);
    }
    return low == ~uint64_t(0) ? 0 : low;
  };
  auto show = [&] {
    auto info = store.Info();
    auto statuses = store.Projections();
    if (!info.ok() || !statuses.ok()) return;
    progress.Update(lowest(*statuses), info->last_position);
  };
  std::atomic<bool> done{false};
  std::thread watcher;
  if (progress.shown()) {
    watcher = std::thread([&] {
      while (!done.load()) {
        show();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  Status s = store.RebuildProjections(names);
  done = true;
  if (watcher.joinable()) watcher.join();
  if (progress.shown()) show();
  progress.Finish();
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s.ok()) return s;
  auto statuses = store.Projections();
  if (!statuses.ok()) return statuses.status();
  *events = lowest(*statuses);
  return Status::OK();
}

Status RunRebuild(const RebuildOptions& o) {
  auto d = MakeDomain();
  if (!d.ok()) return d.status();
  std::vector<std::string> names;
  for (const auto& p : (*d)->projections) {
    if (o.name.empty() || p->name() == o.name) names.push_back(p->name());
  }
  if (names.empty()) {
    std::vector<std::string> known;
    for (const auto& p : (*d)->projections) known.push_back(p->name());
    return Status::NotFound("no projection named " + o.name + " (known: " + Joined(known) + ")");
  }
  // An inline projection the store holds no checkpoint of at its version
  // (new to the store, or changed by this build) is folded from nothing,
  // the whole log, by the open that registers it: that fold is its rebuild,
  // and rebuilding it again would fold the log twice (32 s each for
  // rights_requests at 12 million events). The checkpoints are read first
  // from a store opened without projections.
  std::vector<std::string> folded_at_open;
  {
    auto plain = Open(o.data, o.key.key_file, **d, false);
    if (!plain.ok()) return plain.status();
    auto info = (*plain)->Info();
    if (!info.ok()) return info.status();
    for (const auto& p : (*d)->projections) {
      if (p->mode() != ProjectionMode::kInline || std::find(names.begin(), names.end(), p->name()) == names.end()) {
        continue;
      }
      bool current = std::any_of(info->projections.begin(), info->projections.end(), [&](const ProjectionStatus& s) {
        return s.name == p->name() && s.version == p->version();
      });
      if (!current) folded_at_open.push_back(p->name());
    }
  }
  if (!folded_at_open.empty() && !o.quiet) {
    std::cerr << "hearth: " << Joined(folded_at_open) << ": new to this store or of another version; the open folds the "
              << "whole log into " << (folded_at_open.size() == 1 ? "it" : "them") << "\n";
  }
  auto opening = std::chrono::steady_clock::now();
  auto store = Open(o.data, o.key.key_file, **d, true);
  if (!store.ok()) return store.status();
  if (!folded_at_open.empty()) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - opening).count();
    auto statuses = (*store)->Projections();
    if (!statuses.ok()) return statuses.status();
    uint64_t events = 0;
    for (const auto& p : *statuses) {
      auto it = std::find(folded_at_open.begin(), folded_at_open.end(), p.name);
      if (it == folded_at_open.end()) continue;
      if (p.stopped) {
        folded_at_open.erase(it);  // stopped on an event: rebuilt below, which reports the error
      } else {
        events = p.position;
      }
    }
    if (!folded_at_open.empty()) {
      auto [took, rate] = TookAndRate(events, secs);
      Status s = Print(Joined(folded_at_open) + ": folded from " + Thousands(events) +
                       " events as the store opened, in " + took + " s with the open (" + rate + ")\n");
      if (!s.ok()) return s;
    }
  }
  // The rest are rebuilt together: one pass over the log folds them all.
  std::vector<std::string> rebuild;
  for (const std::string& name : names) {
    if (std::find(folded_at_open.begin(), folded_at_open.end(), name) == folded_at_open.end()) {
      rebuild.push_back(name);
    }
  }
  if (rebuild.empty()) return Status::OK();
  uint64_t events = 0;
  double secs = 0;
  Status s = RebuildSome(**store, rebuild, o.quiet, &events, &secs);
  if (!s.ok()) return s;
  auto [took, rate] = TookAndRate(events, secs);
  return Print(Joined(rebuild) + ": rebuilt from " + Thousands(events) + " events in " + took + " s (" + rate +
               (rebuild.size() > 1 ? ", one pass over the log" : "") + ")\n");
}

}  // namespace

Result<std::vector<std::pair<std::string, uint64_t>>> BringProjectionsCurrent(const std::string& data,
                                                                             const KeySource& key, bool quiet) {
  auto d = MakeDomain();
  if (!d.ok()) return d.status();
  Options options;
  options.key = key;
  options.projections = (*d)->projections;
  auto store = Store::Open(options, data);
  if (!store.ok()) return store.status();
  // Each projection catches up from where the store has it (the demo folds
  // `cases` itself, to set its allocations from it): folding the log again
  // from the start would do that work twice. One that stopped on an error
  // is rebuilt.
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& p : (*d)->projections) {
    const std::string& name = p->name();
    ProgressLine progress("fold " + name, "events", quiet);
    Status s;
    for (;;) {
      s = (*store)->WaitForProjection(name, 0, 200);
      if (s.code() != Status::Code::kBusy) break;
      auto info = (*store)->Info();
      auto statuses = (*store)->Projections();
      if (!info.ok() || !statuses.ok()) continue;
      for (const auto& st : *statuses) {
        if (st.name == name) progress.Update(st.position, info->last_position);
      }
    }
    progress.Finish();
    if (!s.ok()) {
      uint64_t events = 0;
      double secs = 0;
      s = RebuildSome(**store, {name}, quiet, &events, &secs);
      if (!s.ok()) return s;
    }
    auto statuses = (*store)->Projections();
    if (!statuses.ok()) return statuses.status();
    for (const auto& st : *statuses) {
      if (st.name == name) out.emplace_back(name, st.position);
    }
  }
  return out;
}

namespace {

// --------------------------------------------------------------- timeline --

struct TimelineOptions {
  std::string data;
  KeyOptions key;
  std::string case_id;
  uint64_t at = 0;
  std::string as_of;
  std::string occurred_by;
  bool json = false;
  bool no_proofs = false;
  bool no_personal = false;
  std::string user;
};

Status RunTimeline(const TimelineOptions& o) {
  readmodels::TimelineRequest req;
  req.case_id = o.case_id;
  req.at_position = o.at;
  req.proofs = !o.no_proofs;
  Status s = ParseDateOption("--as-of", o.as_of, &req.as_of);
  if (s.ok()) s = ParseDateOption("--occurred-by", o.occurred_by, &req.occurred_by);
  if (!s.ok()) return s;
  auto d = MakeDomain();
  if (!d.ok()) return d.status();
  // The timeline reads the case's stream itself: no projection is needed.
  auto store = Open(o.data, o.key.key_file, **d, false);
  if (!store.ok()) return store.status();
  // Through a session, so that personal sections shown are written to the
  // access log with who asked.
  Principal principal{"hearth-cli", o.user, "auditor"};
  Scopes scopes;
  scopes.read_streams = {"*"};
  scopes.read_models = {"timeline"};
  scopes.read_personal = !o.no_personal;
  Session session(store->get(), principal, scopes);
  auto tl = readmodels::ReadTimeline(session, *(*d)->codec, req);
  if (!tl.ok()) return tl.status();
  return Print(o.json ? readmodels::TimelineToJson(*tl, true) + "\n" : readmodels::TimelineToText(*tl));
}

// --------------------------------------------------------------- worklist --

struct WorklistCliOptions {
  std::string data;
  KeyOptions key;
  std::string district;
  std::string as_of;
  int stall_days = 20;
  int first_visit_days = 0;  // 0: the target kept in the store (`hearth export timescales`)
  int due_soon_days = 7;
  int review_days = 14;
  bool json = false;
  bool no_budget = false;
  std::string worker;
  int allocation_grace_days = 2;
  bool full_scan = false;
  size_t limit = 0;
  std::string after;
};

Status RunWorklist(const WorklistCliOptions& o) {
  readmodels::WorklistOptions w;
  w.district = o.district;
  w.stall_working_days = o.stall_days;
  w.first_visit_days = o.first_visit_days;
  w.due_soon_days = o.due_soon_days;
  w.review_due_days = o.review_days;
  w.worker = o.worker;
  w.allocation_grace_working_days = o.allocation_grace_days;
  w.full_scan = o.full_scan;
  w.limit = o.limit;
  w.after = o.after;
  Status s = ParseDateOption("--as-of", o.as_of, &w.as_of);
  if (!s.ok()) return s;
  auto d = MakeDomain();
  if (!d.ok()) return d.status();
  auto store = Open(o.data, o.key.key_file, **d, true);
  if (!store.ok()) return store.status();
  s = CatchUp(**store, readmodels::kCasesProjection);
  if (!s.ok()) return s;
  // The targets the return uses too, as kept in the store; --first-visit-days overrides.
  auto targets = exports::ReadTimescales(**store, *(*d)->codec);
  if (!targets.ok()) return targets.status();
  if (o.first_visit_days == 0) w.first_visit_days = targets->first_visit_days;
  w.dfg_urgent_days = targets->dfg_urgent_days;
  w.dfg_non_urgent_days = targets->dfg_non_urgent_days;
  // Budget alerts: each district's allocations against the spend target
  // (docs/readmodels.md, "Budget"), from one pass over the log's facts (not
  // for a worker's own list, which has their cases only).
  if (!o.no_budget && o.worker.empty()) {
    auto money = exports::ReadMoney(**store, *(*d)->codec, w.as_of.value_or(domain::UkDate(domain::Now())));
    if (!money.ok()) return money.status();
    for (const auto& p : money->positions) {
      if (!p.allocated) continue;
      w.budgets.push_back(readmodels::BudgetPosition{p.district, p.fund, money->financial_year, money->first,
                                                     money->last, p.allocation_pence, p.committed_pence,
                                                     p.spent_pence});
    }
  }
  // The breach register's 72-hour clocks (docs/readmodels.md, "Breach").
  auto breaches = domain::ReadBreaches(**store, *(*d)->codec);
  if (!breaches.ok()) return breaches.status();
  w.breaches = std::move(*breaches);
  // Complaints with no case and their response deadlines.
  auto complaints = domain::ReadComplaints(**store, *(*d)->codec);
  if (!complaints.ok()) return complaints.status();
  w.complaints = std::move(*complaints);
  auto calendar = domain::Calendar::EnglandAndWales();
  // Through the same scoped reader as the `worklist` model of `hearth
  // serve`: every district, and restricted people left out (docs/rights.md).
  Scopes scopes;
  scopes.read_streams = {"*"};
  scopes.read_models = {"worklist"};
  Session session(store->get(), Principal{"hearth-cli", "", "operator"}, scopes);
  ScopedReader reader(session, Reach::kScoped, "worklist");
  auto wl = readmodels::BuildWorklist(reader, calendar, w);
  if (!wl.ok()) return wl.status();
  return Print(o.json ? readmodels::WorklistToJson(*wl, true) + "\n" : readmodels::WorklistToText(*wl));
}

}  // namespace

void AddReadModelCommands(CommandSet& set) {
  {
    auto o = std::make_shared<RebuildOptions>();
    CLI::App* cmd = set.Add(nullptr, "rebuild",
                            "rebuild projections from the whole log (all of them, or the one named) "
                            "and print events/s",
                            [o] { return RunRebuild(*o); });
    cmd->add_option("name", o->name, "the projection to rebuild (default: all), e.g. cases")
        ->type_name("NAME");
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
  }
  {
    auto o = std::make_shared<TimelineOptions>();
    CLI::App* cmd = set.Add(nullptr, "timeline",
                            "a case as it stood at a position or a date: who did what and when, "
                            "each event with its Merkle inclusion proof",
                            [o] { return RunTimeline(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--case", o->case_id, "the case, e.g. case/D3/000123 (or D3/000123)")
        ->required()
        ->type_name("CASE");
    auto* at = cmd->add_option("--at", o->at, "only events at log positions <= N")->type_name("N");
    auto* as_of = cmd->add_option("--as-of", o->as_of,
                                  "the record as it stood at the end of this day: events recorded "
                                  "(store clock, UK date) on or before it")
                      ->type_name("DATE");
    auto* occurred = cmd->add_option("--occurred-by", o->occurred_by,
                                     "only events whose own date (business date) is on or before "
                                     "this day")
                         ->type_name("DATE");
    at->excludes(as_of)->excludes(occurred);
    as_of->excludes(occurred);
    cmd->add_flag("--json", o->json, "print one JSON document");
    cmd->add_flag("--no-proofs", o->no_proofs, "leave out the inclusion proofs");
    cmd->add_flag("--no-personal", o->no_personal, "leave out personal sections");
    const char* user = std::getenv("USER");
    o->user = user != nullptr ? user : "";
    cmd->add_option("--user", o->user, "who is reading, for the access log (default: $USER)")
        ->type_name("USER");
  }
  {
    auto o = std::make_shared<WorklistCliOptions>();
    CLI::App* cmd = set.Add(nullptr, "worklist",
                            "first visits overdue, DFG cases against the working-day targets "
                            "kept in the store, stalled cases, reviews due (from the cases projection)",
                            [o] { return RunWorklist(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--district", o->district, "one district (default: all)")->type_name("D");
    cmd->add_option("--as-of", o->as_of, "evaluate on this day (default: today)")->type_name("DATE");
    cmd->add_option("--stall-days", o->stall_days,
                    "a service line with no activity for more than N working days is stalled")
        ->type_name("N")
        ->capture_default_str();
    cmd->add_option("--first-visit-days", o->first_visit_days,
                    "first visit target, calendar days from the enquiry (default: the store's, "
                    "`hearth export timescales`)")
        ->type_name("N");
    cmd->add_option("--due-soon-days", o->due_soon_days, "list items due within N days as due-soon")
        ->type_name("N")
        ->capture_default_str();
    cmd->add_option("--review-days", o->review_days, "list support plan reviews due within N days")
        ->type_name("N")
        ->capture_default_str();
    cmd->add_flag("--json", o->json, "print one JSON document");
    cmd->add_flag("--no-budget", o->no_budget,
                  "leave out the budget alerts (they read the log's facts once)");
    cmd->add_option("--worker", o->worker,
                    "a worker's own list: only the cases allocated to this staff reference, e.g. S-D3-07")
        ->type_name("S-REF");
    cmd->add_option("--allocation-grace-days", o->allocation_grace_days,
                    "list an open case with no worker after N working days")
        ->type_name("N")
        ->capture_default_str();
    cmd->add_option("--limit", o->limit, "one page: at most N items (default: all); the counts are the whole list's")
        ->type_name("N");
    cmd->add_option("--after", o->after, "the page after this continuation (the `next` a page printed)")
        ->type_name("NEXT");
    cmd->add_flag("--full-scan", o->full_scan,
                  "evaluate every open case instead of reading the work index (the same list, slower)");
  }
}

}  // namespace hearth::cli
