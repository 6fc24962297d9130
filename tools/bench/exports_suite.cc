// Suite `exports`: the KPI return (docs/exports.md) on the demo county.
//
// (a) A county year's KPI return (nhs policy: counts, disclosure control,
//     statistics, the files rendered in memory) from a store holding that
//     year, and a quarter's; against the same counts as a SQLite GROUP BY over
//     the same facts, already extracted into one indexed table (the baseline
//     a relational warehouse would have; its load is not timed).
// (b) The same return from the large store (the demo county at --scale K),
//     and the case-level extract there. The export reads the whole log, so
//     its time grows linearly with the log: the 10-million-event figure is
//     extrapolated from the large store and reported as such.
//
// With --events below 100,000 the county is cut to a few cases per district
// (smoke runs).
#include <sqlite3.h>

#include <algorithm>

#include "county.h"
#include "exports/collect.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "suites.h"

namespace hearth::bench {

namespace {

struct Domain {
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
};

Result<std::unique_ptr<Store>> Open(const std::string& key_file, const std::string& path) {
  Options o;
  o.key = KeySource::File(key_file);
  return Store::Open(o, path);
}

struct KpiTiming {
  double seconds = 0;
  uint64_t position = 0;
  int64_t enquiries = 0;
};

Result<KpiTiming> TimeKpi(Store& store, const domain::Codec& codec, const std::string& period_text) {
  auto period = exports::ParsePeriod(period_text);
  if (!period.ok()) return period.status();
  auto policy = exports::ParsePolicy("nhs");
  Stopwatch clock;
  auto kpi = exports::BuildKpiReturn(store, codec, domain::Calendar::EnglandAndWales(), *period, *policy, {});
  if (!kpi.ok()) return kpi.status();
  std::string bytes = exports::KpiToCsv(*kpi) + exports::StatisticsToCsv(*kpi) + exports::KpiToJson(*kpi);
  KpiTiming t;
  t.seconds = clock.Seconds();
  t.position = kpi->position;
  if (bytes.empty()) return Status::Corruption("empty return");
  for (const auto& table : kpi->tables) {
    for (const auto& f : table.figures) {
      if (f.id == "enquiries.total") t.enquiries = f.cells.back().value;
    }
  }
  return t;
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "?";
    sqlite3_free(err);
    return Status::IOError(std::string("sqlite: ") + m);
  }
  return Status::OK();
}

// The counted facts of the store as rows (kind, attribute, district, day),
// and the time SQLite takes to count them per district for one year.
struct SqliteFigures {
  uint64_t rows = 0;
  double groupby_s = 0;
  int64_t enquiries = 0;
};

Result<SqliteFigures> SqliteBaseline(Store& store, const domain::Codec& codec, const std::string& path,
                                     const std::string& first, const std::string& last) {
  exports::CollectOptions co;
  auto facts = exports::Collect(store, codec, co);
  if (!facts.ok()) return facts.status();
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return Status::IOError("sqlite open " + path);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> hold(db, sqlite3_close);
  Status s = Exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                      "CREATE TABLE facts(kind TEXT, attr TEXT, district TEXT, day TEXT);");
  if (!s.ok()) return s;
  s = Exec(db, "BEGIN");
  if (!s.ok()) return s;
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO facts VALUES(?,?,?,?)", -1, &ins, nullptr);
  SqliteFigures out;
  auto add = [&](const char* kind, const std::string& attr, const exports::Dated& d) {
    std::string day = domain::FormatDate(d.on);
    sqlite3_bind_text(ins, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, attr.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 3, d.district.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ins, 4, day.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    ++out.rows;
  };
  for (const auto& [id, c] : facts->cases) {
    for (const auto& e : c.enquiries) {
      add("enquiry", "", e);
      add("enquiry.channel", e.channel, e);
      add("enquiry.referrer", e.referrer_type, e);
    }
    for (const auto& x : c.consultations) add("advice", "", x);
    for (const auto& l : c.lines_opened) add("opened", l.service, l);
    for (const auto& g : c.grants_approved) add("approved", g.service, g);
    for (const auto& w : c.works_completed) add("completed", "", w);
    for (const auto& o : c.outcomes) {
      for (const auto& n : o.outcomes) add("outcome", n, o);
    }
    for (const auto& r : c.complaints_received) add("complaint", r.stage, r);
    for (const auto& r : c.complaints_resolved) add("resolved", "", r);
    for (const auto& x : c.compliments) add("compliment", "", x);
    for (const auto& x : c.safeguarding) add("safeguarding", "", x);
    for (const auto& x : c.satisfaction) add("satisfaction", std::to_string(x.score), x);
  }
  sqlite3_finalize(ins);
  s = Exec(db, "COMMIT; CREATE INDEX facts_day ON facts(day); ANALYZE;");
  if (!s.ok()) return s;
  Stopwatch clock;
  sqlite3_stmt* q = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT kind, attr, district, COUNT(*) FROM facts WHERE day BETWEEN ? AND ? "
                     "GROUP BY kind, attr, district",
                     -1, &q, nullptr);
  sqlite3_bind_text(q, 1, first.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 2, last.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(q) == SQLITE_ROW) {
    if (std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, 0))) == "enquiry") {
      out.enquiries += sqlite3_column_int64(q, 3);
    }
  }
  sqlite3_finalize(q);
  out.groupby_s = clock.Seconds();
  return out;
}

}  // namespace

Result<Json> RunExportsSuite(const SuiteOptions& options, const RunDir& dir) {
  Domain d;
  domain::AddBuiltinUpcasters(&d.upcasters);
  auto codec = domain::Codec::Create(&d.upcasters);
  if (!codec.ok()) return codec.status();
  d.codec = std::move(*codec);
  const bool smoke = options.events < 100000;
  demo::CountyOptions year_opts;
  year_opts.seed = options.seed;
  if (smoke) year_opts.limit_cases = uint32_t(std::max<uint64_t>(8, options.events / 100));
  demo::CountyOptions large_opts = year_opts;
  large_opts.scale = smoke ? 1 : std::max<uint32_t>(1, options.scale);

  Json out = Json::object();
  const std::string year_path = dir.Sub("exports-year");
  Progress(options, "exports: generating a county year");
  auto year = demo::GenerateCountyStore(year_path, KeySource::File(dir.key_file()), year_opts);
  if (!year.ok()) return year.status();
  {
    auto store = Open(dir.key_file(), year_path);
    if (!store.ok()) return store.status();
    auto y = TimeKpi(**store, *d.codec, "2018/19");
    if (!y.ok()) return y.status();
    auto q = TimeKpi(**store, *d.codec, "2018/19-Q3");
    if (!q.ok()) return q.status();
    auto sql = SqliteBaseline(**store, *d.codec, dir.Sub("exports-facts.db"), "2018-04-01", "2019-03-31");
    if (!sql.ok()) return sql.status();
    if (sql->enquiries != y->enquiries) {
      return Status::Corruption("exports: SQLite counts " + std::to_string(sql->enquiries) +
                                " enquiries, the KPI return " + std::to_string(y->enquiries));
    }
    out["exports_year_events"] = y->position;
    out["exports_kpi_year_s"] = Round(y->seconds, 3);
    out["exports_kpi_quarter_s"] = Round(q->seconds, 3);
    out["exports_kpi_eps"] = Rate(y->position, y->seconds);
    out["exports_sqlite_rows"] = sql->rows;
    out["exports_sqlite_groupby_s"] = Round(sql->groupby_s, 4);
    out["exports_ratio_sqlite"] = Round(y->seconds / std::max(sql->groupby_s, 1e-6), 1);
    Progress(options, "exports: year return " + std::to_string(y->seconds) + " s, SQLite GROUP BY " +
                          std::to_string(sql->groupby_s) + " s");
  }
  if (large_opts.scale > 1) {
    auto large = LargeCounty(options, dir, "exports-large", large_opts);
    if (!large.ok()) return large.status();
    auto store = Open(large->key_file, large->path);
    if (!store.ok()) return store.status();
    auto y = TimeKpi(**store, *d.codec, "2018/19");
    if (!y.ok()) return y.status();
    exports::ExtractOptions eo;
    eo.recipient = "bench";
    Stopwatch clock;
    auto extract = exports::BuildCaseExtract(**store, *d.codec, *exports::ParsePeriod("2018/19"), eo);
    if (!extract.ok()) return extract.status();
    double extract_s = clock.Seconds();
    out["exports_large_scale"] = large_opts.scale;
    out["exports_large_events"] = y->position;
    out["exports_large_kpi_s"] = Round(y->seconds, 3);
    out["exports_large_extract_s"] = Round(extract_s, 3);
    out["exports_10m_estimate_s"] = Round(y->seconds * 1e7 / double(y->position), 1);
  }
  return out;
}

}  // namespace hearth::bench
