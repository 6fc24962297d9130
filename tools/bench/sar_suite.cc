// Suite `sar`: the subject-access pack (store/rights) of sampled clients in a
// small and a large demo county, against a raw RocksDB prefix scan of the
// same subjects' records (the subjects index, then each record's bytes, no
// decryption) in the same run. The pack's cost must follow the person's
// history, not the store: the large/small ratio of the p50 says so.
//
// Sizes: the small store is the demo county at scale 1 (~113,000 events), the
// large one at --scale K; with --events below 100,000 both are cut to a few
// cases per district (smoke runs).
#include <rocksdb/db.h>

#include <algorithm>
#include <random>
#include <set>

#include "county.h"
#include "hearth/domain.h"
#include "hearth/rights.h"
#include "log/format.h"
#include "suites.h"

namespace hearth::bench {

namespace {

constexpr uint32_t kSamples = 200;

struct SarFigures {
  uint64_t store_events = 0;
  double pack_p50_ms = 0, pack_p99_ms = 0;
  double raw_p50_ms = 0, raw_p99_ms = 0;
  double events_per_subject = 0;
  double json_kib_mean = 0;
};

// Client subject ids at sampled positions of the log.
Result<std::vector<std::string>> SampleClients(Store& store, uint64_t seed) {
  auto info = store.Info();
  if (!info.ok()) return info.status();
  std::mt19937_64 rng(seed);
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (int tries = 0; tries < 20000 && out.size() < kSamples; ++tries) {
    uint64_t pos = 1 + rng() % info->last_position;
    auto e = store.ReadAll(pos, 1);
    if (!e.ok()) return e.status();
    for (const auto& s : e->front().subjects) {
      if (s.role == SubjectRole::kClient && seen.insert(s.id).second) out.push_back(s.id);
    }
  }
  if (out.empty()) return Status::InvalidArgument("sar: the store names no clients");
  return out;
}

// The raw baseline: the subjects index prefix, then every record's bytes.
Result<uint64_t> RawScan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* subjects,
                         rocksdb::ColumnFamilyHandle* log, const std::string& subject) {
  std::string prefix = hearth::log::IndexPrefix(subject);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), subjects));
  uint64_t bytes = 0;
  std::string value;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    uint64_t first = hearth::log::GetBE64(it->key().data() + prefix.size());
    auto v = it->value();
    for (size_t i = 0; i + 8 <= v.size(); i += 8) {
      uint32_t offset = hearth::log::GetBE32(v.data() + i);
      uint32_t length = hearth::log::GetBE32(v.data() + i + 4);
      for (uint32_t k = 0; k < length; ++k) {
        auto s = db->Get(rocksdb::ReadOptions(), log, hearth::log::LogKey(first + offset + k), &value);
        if (!s.ok()) return Status::IOError("raw read: " + s.ToString());
        bytes += value.size();
      }
    }
  }
  return bytes;
}

Result<SarFigures> TimePacks(const std::string& key_file, const std::string& path, const domain::Codec& codec,
                             uint64_t seed) {
  SarFigures f;
  std::vector<std::string> ids;
  std::vector<double> pack_ms;
  uint64_t events = 0;
  double json_bytes = 0;
  {
    Options o;
    o.key = KeySource::File(key_file);
    auto store = Store::Open(o, path);
    if (!store.ok()) return store.status();
    auto info = (*store)->Info();
    if (!info.ok()) return info.status();
    f.store_events = info->last_position;
    rights::Rights r(store->get(), &codec, rights::RightsOptions{});
    if (!r.ProcessingRecord().ok()) {
      Status s = r.SetProcessingRecord(rights::DefaultProcessingRecordJson(), Actor{"bench", "controller", "bench"});
      if (!s.ok()) return s;
    }
    auto sampled = SampleClients(**store, seed);
    if (!sampled.ok()) return sampled.status();
    ids = std::move(*sampled);
    rights::PackOptions po;
    po.user = "bench";
    for (const auto& id : ids) {
      Stopwatch clock;
      auto pack = r.BuildPack(id, po);
      if (!pack.ok()) return pack.status();
      pack_ms.push_back(clock.Seconds() * 1e3);
      events += pack->events;
      json_bytes += double(pack->json.size());
    }
  }
  // The same subjects, raw, with the store closed.
  std::vector<std::string> names;
  auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  if (!s.ok()) return Status::IOError("sar: " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, cfs, &handles, &raw);
  if (!s.ok()) return Status::IOError("sar: raw open: " + s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* subjects = nullptr;
  rocksdb::ColumnFamilyHandle* log = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == "subjects") subjects = h;
    if (h->GetName() == "log") log = h;
  }
  std::vector<double> raw_ms;
  Status failed;
  if (subjects == nullptr || log == nullptr) {
    failed = Status::Corruption("sar: no subjects or log column family");
  } else {
    for (const auto& id : ids) {
      Stopwatch clock;
      auto bytes = RawScan(db.get(), subjects, log, id);
      if (!bytes.ok()) {
        failed = bytes.status();
        break;
      }
      raw_ms.push_back(clock.Seconds() * 1e3);
    }
  }
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  db.reset();
  if (!failed.ok()) return failed;
  f.pack_p50_ms = Percentile(pack_ms, 50);
  f.pack_p99_ms = Percentile(pack_ms, 99);
  f.raw_p50_ms = Percentile(raw_ms, 50);
  f.raw_p99_ms = Percentile(raw_ms, 99);
  f.events_per_subject = double(events) / double(ids.size());
  f.json_kib_mean = json_bytes / double(ids.size()) / 1024.0;
  return f;
}

}  // namespace

Result<Json> RunSarSuite(const SuiteOptions& options, const RunDir& dir) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  const bool smoke = options.events < 100000;
  demo::CountyOptions large_opts;
  large_opts.seed = options.seed;
  large_opts.scale = std::max<uint32_t>(1, options.scale);
  demo::CountyOptions small_opts = large_opts;
  small_opts.scale = 1;
  if (smoke) {
    large_opts.scale = 1;
    large_opts.limit_cases = uint32_t(std::max<uint64_t>(8, options.events / 100));
    small_opts.limit_cases = std::max<uint32_t>(2, large_opts.limit_cases / 4);
  }
  Json out = Json::object();
  std::vector<std::pair<std::string, demo::CountyOptions>> sizes = {{"small", small_opts},
                                                                    {"large", large_opts}};
  SarFigures figs[2];
  for (int i = 0; i < 2; ++i) {
    CountyStore county;
    if (i == 1) {
      auto large = LargeCounty(options, dir, "sar-large", sizes[i].second);
      if (!large.ok()) return large.status();
      county = *large;
    } else {
      county = {dir.Sub("sar-" + sizes[i].first), dir.key_file()};
      Progress(options, "sar: generating the " + sizes[i].first + " demo county (scale " +
                            std::to_string(sizes[i].second.scale) + ")");
      auto gen = demo::GenerateCountyStore(county.path, KeySource::File(county.key_file), sizes[i].second);
      if (!gen.ok()) return gen.status();
    }
    auto f = TimePacks(county.key_file, county.path, **codec, options.seed + uint64_t(i));
    if (!f.ok()) return f.status();
    figs[i] = *f;
    Progress(options, "sar: " + sizes[i].first + " store " + std::to_string(f->store_events) +
                          " events, pack p50 " + std::to_string(f->pack_p50_ms) + " ms");
  }
  out["sar_small_events"] = figs[0].store_events;
  out["sar_large_events"] = figs[1].store_events;
  out["sar_samples"] = kSamples;
  out["sar_events_per_subject"] = Round(figs[1].events_per_subject, 1);
  out["sar_json_kib_mean"] = Round(figs[1].json_kib_mean, 1);
  out["sar_pack_ms_p50"] = Round(figs[1].pack_p50_ms, 3);
  out["sar_pack_ms_p99"] = Round(figs[1].pack_p99_ms, 3);
  out["sar_raw_ms_p50"] = Round(figs[1].raw_p50_ms, 3);
  out["sar_raw_ms_p99"] = Round(figs[1].raw_p99_ms, 3);
  out["sar_ratio_raw"] = Round(figs[1].pack_p50_ms / std::max(1e-6, figs[1].raw_p50_ms), 2);
  out["sar_small_pack_ms_p50"] = Round(figs[0].pack_p50_ms, 3);
  out["sar_small_events_per_subject"] = Round(figs[0].events_per_subject, 1);
  // Per event of the person's history, large store over small: ~1 when the
  // pack does not grow with the store.
  double per_large = figs[1].pack_p50_ms / std::max(1e-9, figs[1].events_per_subject);
  double per_small = figs[0].pack_p50_ms / std::max(1e-9, figs[0].events_per_subject);
  out["sar_growth"] = Round(per_large / std::max(1e-9, per_small), 2);
  return out;
}

}  // namespace hearth::bench
