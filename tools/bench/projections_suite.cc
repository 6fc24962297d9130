// Suite `projections`: the read models on the demo county (tools/demo).
//
// (a) Replay and rebuild of the `cases` projection over the large store:
//     the asynchronous catch-up from zero when the projection is new, and
//     Store::RebuildProjection (what `hearth rebuild` runs), wall and CPU.
// (b) The fold alone (decode facts, CaseFolder, encode states) over events
//     already in memory, against an in-memory key space: the projection's
//     own cost without the log read.
// (c) The case timeline (with inclusion proofs) of sampled cases in a small
//     and a large store: the work must grow with the case, not the store.
// (d) A whole-county worklist from the projection.
//
// Sizes: the large store is the demo county at --scale K (K x ~113,000
// events), the small one at scale 1; with --events below 100,000 both are cut
// to a few cases per district (smoke runs).
#include <algorithm>
#include <map>
#include <optional>
#include <random>

#include "county.h"
#include "hearth/domain.h"
#include "hearth/readmodels.h"
#include "suites.h"

namespace hearth::bench {

namespace {

constexpr uint64_t kDemoEventsPerScale = 113000;  // about, at scale 1
constexpr uint32_t kTimelineSamples = 200;

// A projection's key space in memory, for timing the fold without RocksDB.
class MemoryState final : public ProjectionState {
 public:
  Status Get(std::string_view key, std::string* value) override {
    auto it = kv_.find(std::string(key));
    if (it == kv_.end()) return Status::NotFound("no such key");
    *value = it->second;
    return Status::OK();
  }
  void Put(std::string_view key, std::string_view value) override { kv_[std::string(key)] = value; }
  void Delete(std::string_view key) override { kv_.erase(std::string(key)); }

 private:
  std::map<std::string, std::string> kv_;
};

// The projection under another name: a fresh key space on an existing store.
class Renamed final : public Projection {
 public:
  Renamed(std::string name, std::shared_ptr<Projection> inner) : name_(std::move(name)), inner_(std::move(inner)) {}
  std::string name() const override { return name_; }
  uint32_t version() const override { return inner_->version(); }
  ProjectionMode mode() const override { return inner_->mode(); }
  Status Apply(const RecordedEvent& e, ProjectionState& s) override { return inner_->Apply(e, s); }
  Status Flush(ProjectionState& s) override { return inner_->Flush(s); }
  void Discard() override { inner_->Discard(); }

 private:
  std::string name_;
  std::shared_ptr<Projection> inner_;
};

struct Domain {
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
};

Result<std::unique_ptr<Domain>> MakeDomain() {
  auto d = std::make_unique<Domain>();
  domain::AddBuiltinUpcasters(&d->upcasters);
  auto codec = domain::Codec::Create(&d->upcasters);
  if (!codec.ok()) return codec.status();
  d->codec = std::move(*codec);
  return d;
}

// The cases projection under another version: opening a store with it
// resets the stored checkpoint, so that the next open with the real one
// folds the log from zero again (the demo generator leaves it current).
class OtherVersion final : public Projection {
 public:
  explicit OtherVersion(std::shared_ptr<Projection> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  uint32_t version() const override { return inner_->version() + 1; }
  ProjectionMode mode() const override { return inner_->mode(); }
  Status Apply(const RecordedEvent& event, ProjectionState& state) override { return inner_->Apply(event, state); }
  Status Flush(ProjectionState& state) override { return inner_->Flush(state); }
  void Discard() override { inner_->Discard(); }

 private:
  std::shared_ptr<Projection> inner_;
};

Result<std::unique_ptr<Store>> OpenStore(const std::string& key_file, const std::string& path,
                                         std::vector<std::shared_ptr<Projection>> projections) {
  Options o;
  o.key = KeySource::File(key_file);
  o.projections = std::move(projections);
  return Store::Open(o, path);
}

struct TimelineFigures {
  uint64_t store_events = 0;
  double p50_ms = 0, p99_ms = 0, mean_ms = 0;
  double cpu_p50_ms = 0, cpu_p99_ms = 0;  // this thread's CPU time per timeline
  double events_per_case = 0;
  double us_per_event = 0;
  double cpu_us_per_event = 0;
};

// Timelines (now, with proofs) of up to kTimelineSamples cases chosen by the
// seed among every case of the store.
Result<TimelineFigures> TimeTimelines(const std::string& key_file, const std::string& path, const Domain& d,
                                      uint64_t seed) {
  auto store = OpenStore(key_file, path, {readmodels::MakeCasesProjection(d.codec.get())});
  if (!store.ok()) return store.status();
  Status s = (*store)->WaitForProjection(readmodels::kCasesProjection, 0, 3600 * 1000);
  if (!s.ok()) return s;
  std::vector<std::string> ids;
  s = readmodels::ScanCases(**store, {}, [&](const domain::CaseState& c) {
    ids.push_back(c.case_id);
    return true;
  });
  if (!s.ok()) return s;
  if (ids.empty()) return Status::InvalidArgument("projections: the store holds no cases");
  std::mt19937_64 rng(seed);
  std::shuffle(ids.begin(), ids.end(), rng);
  ids.resize(std::min<size_t>(ids.size(), kTimelineSamples));
  auto info = (*store)->Info();
  if (!info.ok()) return info.status();
  TimelineFigures f;
  f.store_events = info->last_position;
  std::vector<double> ms, cpu_ms;
  uint64_t events = 0;
  double total = 0;
  for (const std::string& id : ids) {
    readmodels::TimelineRequest req;
    req.case_id = id;
    double cpu = ThreadCpuSeconds();
    Stopwatch clock;
    auto tl = readmodels::ReadTimeline(**store, *d.codec, req);
    if (!tl.ok()) return tl.status();
    // Rendered too: what `hearth timeline --json` prints.
    std::string json = readmodels::TimelineToJson(*tl);
    double t = clock.Seconds() * 1e3;
    cpu_ms.push_back((ThreadCpuSeconds() - cpu) * 1e3);
    if (json.empty()) return Status::Corruption("empty timeline");
    ms.push_back(t);
    total += t;
    events += tl->entries.size();
  }
  f.mean_ms = total / double(ids.size());
  f.p50_ms = Percentile(ms, 50);
  f.p99_ms = Percentile(ms, 99);
  f.cpu_p50_ms = Percentile(cpu_ms, 50);
  f.cpu_p99_ms = Percentile(cpu_ms, 99);
  f.events_per_case = double(events) / double(ids.size());
  f.us_per_event = total * 1e3 / double(events);
  double cpu_total = 0;
  for (double c : cpu_ms) cpu_total += c;
  f.cpu_us_per_event = cpu_total * 1e3 / double(events);
  return f;
}

}  // namespace

Result<Json> RunProjectionsSuite(const SuiteOptions& options, const RunDir& dir) {
  auto d = MakeDomain();
  if (!d.ok()) return d.status();
  const bool smoke = options.events < 100000;
  const uint32_t scale = std::max<uint32_t>(1, options.scale);
  demo::CountyOptions large_opts;
  large_opts.seed = options.seed;
  large_opts.scale = scale;
  demo::CountyOptions small_opts = large_opts;
  small_opts.scale = 1;
  if (smoke) {
    large_opts.scale = 1;
    large_opts.limit_cases = uint32_t(std::max<uint64_t>(8, options.events / 100));
    small_opts.limit_cases = std::max<uint32_t>(2, large_opts.limit_cases / 4);
  }
  const bool two_sizes = smoke || scale > 1;

  Json out = Json::object();
  std::string large_path = dir.Sub("projections-large");
  std::string large_key = dir.key_file();
  out["projections_scale"] = large_opts.scale;
  if (options.county_dir.empty()) {
    Progress(options, "projections: generating the demo county at scale " + std::to_string(large_opts.scale) +
                          (smoke ? " (cut to " + std::to_string(large_opts.limit_cases) + " cases per district)"
                                 : " (about " + std::to_string(kDemoEventsPerScale * large_opts.scale) + " events)"));
    Stopwatch gen_clock;
    auto large = demo::GenerateCountyStore(large_path, KeySource::File(large_key), large_opts);
    if (!large.ok()) return large.status();
    double gen_s = gen_clock.Seconds();
    out["projections_cases"] = large->cases;
    out["demo_generate_s"] = Round(gen_s, 2);
    out["demo_generate_eps"] = Rate(large->events, gen_s);
  } else {
    // A county kept between runs (--county): generated once, then reused,
    // so that the figures at 10 M events do not wait for a bulk load.
    auto county = LargeCounty(options, dir, "projections-large", large_opts);
    if (!county.ok()) return county.status();
    large_path = county->path;
    large_key = county->key_file;
  }

  // (a) replay from zero on open, then an explicit rebuild.
  {
    auto other = OpenStore(large_key, large_path, {std::make_shared<OtherVersion>(readmodels::MakeCasesProjection((*d)->codec.get()))});
    if (!other.ok()) return other.status();
    other->reset();  // its checkpoint is reset: the next open starts from zero
    auto store = OpenStore(large_key, large_path, {readmodels::MakeCasesProjection((*d)->codec.get())});
    if (!store.ok()) return store.status();
    Stopwatch clock;
    double cpu = ProcessCpuSeconds();
    Status s = (*store)->WaitForProjection(readmodels::kCasesProjection, 0, 3600 * 1000);
    if (!s.ok()) return s;
    double replay_s = clock.Seconds(), replay_cpu = ProcessCpuSeconds() - cpu;
    Progress(options, "projections: asynchronous catch-up from zero " + std::to_string(replay_s) + " s");
    clock = Stopwatch();
    double thread_cpu = ThreadCpuSeconds();
    s = (*store)->RebuildProjection(readmodels::kCasesProjection);
    if (!s.ok()) return s;
    double rebuild_s = clock.Seconds(), rebuild_cpu = ThreadCpuSeconds() - thread_cpu;
    Progress(options, "projections: RebuildProjection " + std::to_string(rebuild_s) + " s");
    auto info = (*store)->Info();
    if (!info.ok()) return info.status();
    uint64_t n = info->last_position;
    out["projections_events"] = n;
    out["replay_eps"] = Rate(n, replay_s);
    out["replay_cpu_eps"] = Rate(n, replay_cpu);
    out["rebuild_eps"] = Rate(n, rebuild_s);
    out["rebuild_cpu_eps"] = Rate(n, rebuild_cpu);

    // (d) the whole county's worklist on the last day of the year.
    auto calendar = domain::Calendar::EnglandAndWales();
    readmodels::WorklistOptions wo;
    domain::Date as_of;
    domain::ParseDate(std::to_string(large_opts.first_year + 1) + "-03-31", &as_of);
    wo.as_of = as_of;
    clock = Stopwatch();
    auto wl = readmodels::BuildWorklist(**store, calendar, wo);
    if (!wl.ok()) return wl.status();
    out["worklist_ms"] = Round(clock.Seconds() * 1e3, 2);
    out["worklist_cases"] = wl->cases_considered;
    out["worklist_items"] = wl->items.size();
    // (d') a page of one district's worklist on that day (the console's
    // page): from the work index, then the same page with every open case
    // of the district evaluated (full_scan); the median of five each.
    wo.district = "D1";
    wo.limit = readmodels::kWorklistPageDefault;
    for (bool full : {false, true}) {
      wo.full_scan = full;
      std::vector<double> ms;
      uint64_t states = 0;
      for (int i = 0; i < 5; ++i) {
        clock = Stopwatch();
        auto page = readmodels::BuildWorklist(**store, calendar, wo);
        if (!page.ok()) return page.status();
        ms.push_back(clock.Seconds() * 1e3);
        states = page->states_read;
        if (!full && !page->indexed) return Status::Corruption("projections: the page was not read from the work index");
      }
      std::sort(ms.begin(), ms.end());
      const std::string name = full ? "worklist_page_full_scan" : "worklist_page";
      out[name + "_ms"] = Round(ms[2], 2);
      out[name + "_states_read"] = states;
    }
    out["worklist_page_ratio"] =
        Round(out["worklist_page_full_scan_ms"].get<double>() / std::max(out["worklist_page_ms"].get<double>(), 1e-3), 1);

    // (b) the fold alone, over up to 200,000 events held in memory.
    uint64_t fold_n = std::min<uint64_t>(n, 200000);
    std::vector<RecordedEvent> events;
    events.reserve(fold_n);
    for (uint64_t from = 1; from <= fold_n;) {
      auto page = (*store)->ReadAll(from, size_t(std::min<uint64_t>(1000, fold_n - from + 1)));
      if (!page.ok()) return page.status();
      if (page->empty()) break;
      for (auto& e : *page) {
        e.personal.clear();  // projections see facts only
        events.push_back(std::move(e));
      }
      from = events.back().position + 1;
    }
    auto fold = readmodels::MakeCasesProjection((*d)->codec.get());
    MemoryState state;
    thread_cpu = ThreadCpuSeconds();
    clock = Stopwatch();
    for (size_t i = 0; i < events.size(); ++i) {
      s = fold->Apply(events[i], state);
      if (!s.ok()) return s;
      if ((i + 1) % 1000 == 0 || i + 1 == events.size()) {
        s = fold->Flush(state);
        if (!s.ok()) return s;
      }
    }
    out["fold_eps"] = Rate(events.size(), clock.Seconds());
    out["fold_cpu_eps"] = Rate(events.size(), ThreadCpuSeconds() - thread_cpu);
  }

  // (c) timelines: small store, then large.
  std::optional<TimelineFigures> small_tl;
  if (two_sizes) {
    const std::string small_path = dir.Sub("projections-small");
    auto small = demo::GenerateCountyStore(small_path, KeySource::File(dir.key_file()), small_opts);
    if (!small.ok()) return small.status();
    auto f = TimeTimelines(dir.key_file(), small_path, **d, options.seed);
    if (!f.ok()) return f.status();
    small_tl = *f;
    out["timeline_small_store_events"] = f->store_events;
    out["timeline_small_ms_p50"] = Round(f->p50_ms, 3);
    out["timeline_small_ms_p99"] = Round(f->p99_ms, 3);
    out["timeline_small_cpu_ms_p50"] = Round(f->cpu_p50_ms, 3);
    out["timeline_small_us_per_event"] = Round(f->us_per_event, 1);
    out["timeline_small_cpu_us_per_event"] = Round(f->cpu_us_per_event, 1);
  }
  auto f = TimeTimelines(large_key, large_path, **d, options.seed);
  if (!f.ok()) return f.status();
  out["timeline_store_events"] = f->store_events;
  out["timeline_events_per_case"] = Round(f->events_per_case, 1);
  out["timeline_ms_p50"] = Round(f->p50_ms, 3);
  out["timeline_ms_p99"] = Round(f->p99_ms, 3);
  out["timeline_ms_mean"] = Round(f->mean_ms, 3);
  out["timeline_cpu_ms_p50"] = Round(f->cpu_p50_ms, 3);
  out["timeline_cpu_ms_p99"] = Round(f->cpu_p99_ms, 3);
  out["timeline_us_per_event"] = Round(f->us_per_event, 1);
  out["timeline_cpu_us_per_event"] = Round(f->cpu_us_per_event, 1);
  if (small_tl) {
    // CPU per event shown, large store over small: about 1 when the work
    // grows with the case and not with the store (the tree is a little
    // deeper). CPU, not wall time: the wall time of a loaded machine says
    // more about the other processes than about the store.
    out["timeline_growth"] = Round(f->cpu_us_per_event / small_tl->cpu_us_per_event, 2);
  }
  return out;
}

}  // namespace hearth::bench
