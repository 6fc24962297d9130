// Suite `console`: the web console's server time (issue 15, docs/console.md)
// on the demo county. The pages' JSON answers are timed inside ConsoleApp,
// the layer that answers one HTTP request (session, CSRF, scopes, read model,
// JSON), without TLS or the network: a caseworker's district worklist and an
// auditor's timeline of a 100-event case with its inclusion proofs. Target:
// each ≤ 300 ms of server time.
//
// Sizes: the demo county at scale 1 (~113,000 events) plus one case of 100
// events; with --events below 100,000, a few cases per district (smoke runs);
// with --county DIR, the county at --scale K kept in DIR (K = 88: about 12
// million events), worked on in a backup of it.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "accounts.h"
#include "console.h"
#include "county.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/read_model.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "server.h"
#include "suites.h"

namespace hearth::bench {

namespace {

constexpr const char* kPassword = "bench-console-password";
constexpr const char* kLongCase = "case/D1/900001";

// The case of 100 events: an enquiry, then notes, through the recorder.
Status AddLongCase(Store& store, const domain::Codec& codec) {
  domain::RecorderOptions ro;
  domain::CaseRecorder recorder(&store, &codec, ro);
  std::vector<NewEvent> events;
  auto add = [&](const nlohmann::json& j) -> Status {
    NewEvent e;
    Status s = codec.FromJson(j.dump(), &e);
    if (!s.ok()) return s;
    events.push_back(std::move(e));
    return Status::OK();
  };
  nlohmann::json actor{{"user", "S-1"}, {"role", "caseworker"}, {"plugin", "bench"}};
  Status s = add({{"type", "ContactRecorded"},
                  {"actor", actor},
                  {"facts",
                   {{"contactedOn", "2018-04-02"}, {"district", "D1"}, {"channel", "phone"},
                    {"referrerType", "self"}, {"purpose", "enquiry"}}},
                  {"personal",
                   {{{"subject", "P-BENCH-1"}, {"role", "client"},
                     {"details", {{"givenName", "Benchia"}, {"familyName", "Longcase"}}}}}}});
  if (!s.ok()) return s;
  for (int i = 1; i < 100; ++i) {
    char on[16];
    std::snprintf(on, sizeof on, "2018-%02d-%02d", 5 + (i / 28), 1 + (i % 28));
    s = add({{"type", "CaseNoteAdded"},
             {"actor", actor},
             {"facts", {{"writtenOn", on}, {"authorRef", "S-1"}, {"category", "general"}}},
             {"personal",
              {{{"subject", "P-BENCH-1"}, {"role", "client"},
                {"details", {{"freeText", "Note " + std::to_string(i) + " of the long case."}}}}}}});
    if (!s.ok()) return s;
  }
  // In batches of 20, as a caseworker's day would add them.
  for (size_t b = 0; b < events.size(); b += 20) {
    std::vector<NewEvent> batch(events.begin() + long(b), events.begin() + long(std::min(events.size(), b + 20)));
    auto r = recorder.Record(kLongCase, std::move(batch));
    if (!r.ok()) return r.status();
  }
  return Status::OK();
}

struct Timed {
  std::vector<double> ms;
  size_t bytes = 0;
  std::string body;  // the last answer
};

}  // namespace

Result<Json> RunConsoleSuite(const SuiteOptions& options, const RunDir& dir) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  const domain::Calendar calendar = domain::Calendar::EnglandAndWales();
  const bool smoke = options.events < 100000;
  demo::CountyOptions county;
  county.seed = options.seed;
  if (smoke) county.limit_cases = uint32_t(std::max<uint64_t>(8, options.events / 100));
  const std::string path = dir.Sub("console-county");
  std::string key_file = dir.key_file();
  if (options.county_dir.empty()) {
    Progress(options, "console: generating the demo county");
    auto gen = demo::GenerateCountyStore(path, KeySource::File(key_file), county);
    if (!gen.ok()) return gen.status();
  } else {
    // The county at --scale, generated once into --county and kept (as the
    // sar and exports suites do). The suite writes a case and two accounts,
    // so it works on a backup of it: hard links when --dir is on the same
    // file system, the erasure ledger copied beside it.
    county.scale = std::max<uint32_t>(1, options.scale);
    auto large = LargeCounty(options, dir, "console", county);
    if (!large.ok()) return large.status();
    key_file = large->key_file;
    Options plain;
    plain.key = KeySource::File(key_file);
    auto kept = Store::Open(plain, large->path);
    if (!kept.ok()) return kept.status();
    Progress(options, "console: a backup of " + large->path + " to work on");
    auto copied = (*kept)->Backup(path);
    if (!copied.ok()) return copied.status();
    kept->reset();
    std::error_code ec;
    std::filesystem::copy_file(large->path + ".erasures", path + ".erasures", ec);
    if (ec) return Status::IOError("console: copying " + large->path + ".erasures: " + ec.message());
  }

  Options o;
  o.key = KeySource::File(key_file);
  o.projections = readmodels::MakeProjections(codec->get());
  auto store = Store::Open(o, path);
  if (!store.ok()) return store.status();
  Status s = AddLongCase(**store, **codec);
  if (!s.ok()) return s;
  for (const auto& [name, role, district] : {std::tuple{"cw1", console::kCaseworker, "D1"},
                                             std::tuple{"aud1", console::kAuditor, ""}}) {
    console::Account a;
    a.name = name;
    a.role = role;
    if (*district) a.districts = {district};
    s = console::AddAccount(**store, a, kPassword, Actor{"bench", "controller", "bench"});
    if (!s.ok()) return s;
  }
  // The projections current before timing (the server keeps them so).
  for (const auto& projection : o.projections) {
    s = (*store)->WaitForProjection(projection->name(), 0, 600000);
    if (!s.ok()) return s;
  }
  auto info = (*store)->Info();
  if (!info.ok()) return info.status();

  ReadModels models;
  std::vector<std::unique_ptr<ReadModel>> made;
  made.push_back(MakeInfoModel());
  made.push_back(readmodels::MakeTimelineModel(codec->get()));
  made.push_back(readmodels::MakeWorklistModel(&calendar, codec->get()));
  made.push_back(rights::MakeSarModel(codec->get()));
  made.push_back(rights::MakeDisclosuresModel(codec->get()));
  made.push_back(exports::MakeKpiModel(codec->get()));
  for (auto& m : made) {
    s = models.Add(std::move(m));
    if (!s.ok()) return s;
  }
  console::ConsoleContext ctx;
  ctx.store = store->get();
  ctx.models = &models;
  ctx.codec = codec->get();
  ctx.calendar = &calendar;
  ctx.log = [](const std::string&) {};
  server::ConsoleConfig config;
  config.login_failures = 1000;
  console::ConsoleApp app(ctx, config);

  auto login = [&](const std::string& account) -> Result<std::map<std::string, std::string>> {
    console::HttpRequest r;
    r.method = "POST";
    r.target = "/api/login";
    r.peer = "127.0.0.1";
    r.headers["content-type"] = "application/json";
    r.body = nlohmann::json{{"account", account}, {"password", kPassword}}.dump();
    console::HttpResponse answer = app.Handle(r);
    if (answer.status != 200) return Status::IOError("console: login of " + account + ": " + answer.body);
    std::string cookie = answer.Header("Set-Cookie");
    return std::map<std::string, std::string>{{"cookie", cookie.substr(0, cookie.find(';'))}};
  };
  auto time_get = [&](const std::map<std::string, std::string>& headers, const std::string& target,
                      uint32_t times) -> Result<Timed> {
    Timed t;
    for (uint32_t i = 0; i < times; ++i) {
      console::HttpRequest r;
      r.method = "GET";
      r.target = target;
      r.peer = "127.0.0.1";
      r.headers = headers;
      Stopwatch clock;
      console::HttpResponse answer = app.Handle(r);
      t.ms.push_back(clock.Seconds() * 1e3);
      if (answer.status != 200) {
        return Status::IOError("console: GET " + target + ": " + std::to_string(answer.status) + " " +
                                answer.body.substr(0, 300));
      }
      t.bytes = answer.body.size();
      t.body = std::move(answer.body);
    }
    return t;
  };
  auto caseworker = login("cw1");
  if (!caseworker.ok()) return caseworker.status();
  auto auditor = login("aud1");
  if (!auditor.ok()) return auditor.status();
  const uint32_t times = smoke ? 5 : 50;
  Progress(options, "console: worklist of D1, " + std::to_string(times) + " times");
  auto worklist = time_get(*caseworker, "/api/worklist?district=D1&asOf=2019-03-31", times);
  if (!worklist.ok()) return worklist.status();
  Progress(options, "console: timeline of a 100-event case with proofs, " + std::to_string(times) + " times");
  auto timeline = time_get(*auditor, std::string("/api/timeline?case=") + kLongCase, times);
  if (!timeline.ok()) return timeline.status();
  auto small = time_get(*caseworker, "/api/timeline?case=case/D1/000001", times);
  if (!small.ok()) return small.status();

  // The long case's timeline holds its 100 events (not a refusal or a page).
  auto shown = nlohmann::json::parse(timeline->body, nullptr, false);
  size_t timeline_events = shown.is_object() && shown.contains("events") ? shown["events"].size() : 0;
  if (timeline_events != 100) {
    return Status::IOError("console: the long case's timeline shows " + std::to_string(timeline_events) +
                           " events, not 100");
  }
  Json out = Json::object();
  out["console_store_events"] = info->last_position;
  out["console_timeline100_events"] = timeline_events;
  out["console_requests"] = times;
  out["console_worklist_ms_p50"] = Round(Percentile(worklist->ms, 50), 3);
  out["console_worklist_ms_p99"] = Round(Percentile(worklist->ms, 99), 3);
  out["console_worklist_kib"] = Round(double(worklist->bytes) / 1024.0, 1);
  out["console_timeline100_ms_p50"] = Round(Percentile(timeline->ms, 50), 3);
  out["console_timeline100_ms_p99"] = Round(Percentile(timeline->ms, 99), 3);
  out["console_timeline100_kib"] = Round(double(timeline->bytes) / 1024.0, 1);
  out["console_timeline_small_ms_p50"] = Round(Percentile(small->ms, 50), 3);
  return out;
}

}  // namespace hearth::bench
