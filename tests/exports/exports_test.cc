// The monitoring exports (docs/exports.md) on a small demo county.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "county.h"
#include "equality_categories.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/rights.h"
#include "readmodels_test_util.h"
#include "test_util.h"

namespace hearth::exports {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A demo county store (a prefix of each district's cases) and its figures.
struct County {
  hearth::testing::TempDir dir;
  std::string key;
  std::string path;
  demo::CountyReport report;
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
  std::unique_ptr<Store> store;

  explicit County(uint32_t limit_cases) {
    key = readmodels::testing::MakeHexKeyFile(dir.sub("key"));
    path = dir.sub("store");
    demo::CountyOptions o;
    o.first_year = 2018;
    o.limit_cases = limit_cases;
    auto r = demo::GenerateCountyStore(path, KeySource::File(key), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) report = *r;
    domain::AddBuiltinUpcasters(&upcasters);
    codec = std::move(*domain::Codec::Create(&upcasters));
    Options so;
    so.key = KeySource::File(key);
    so.sync = false;
    auto s = Store::Open(so, path);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store = std::move(*s);
  }
};

class ExportsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { county_ = new County(60); }
  static void TearDownTestSuite() {
    delete county_;
    county_ = nullptr;
  }

  static KpiReturn Kpi(const std::string& period_text, const std::string& policy_text,
                       uint64_t position = 0) {
    auto period = ParsePeriod(period_text);
    EXPECT_TRUE(period.ok()) << period.status().ToString();
    auto policy = ParsePolicy(policy_text);
    EXPECT_TRUE(policy.ok()) << policy.status().ToString();
    KpiOptions ko;
    ko.position = position;
    auto kpi = BuildKpiReturn(*county_->store, *county_->codec, domain::Calendar::EnglandAndWales(),
                              *period, *policy, ko);
    EXPECT_TRUE(kpi.ok()) << kpi.status().ToString();
    return *kpi;
  }

  static County* county_;
  hearth::testing::TempDir out_;
};
County* ExportsTest::county_ = nullptr;

const Cell& CellOf(const KpiReturn& kpi, const std::string& figure, const std::string& area) {
  size_t a = std::find(kpi.areas.begin(), kpi.areas.end(), area) - kpi.areas.begin();
  for (const auto& t : kpi.tables) {
    for (const auto& f : t.figures) {
      if (f.id == figure) return f.cells.at(a);
    }
  }
  ADD_FAILURE() << "no figure " << figure;
  static Cell none;
  return none;
}

std::vector<std::pair<std::string, uint32_t demo::DistrictVolumes::*>> GeneratorFigures() {
  return {{"services.adviceInformationGuidance", &demo::DistrictVolumes::advised},
          {"dfg.approved.total", &demo::DistrictVolumes::dfgs},
          {"services.minorAdaptationHouseholds", &demo::DistrictVolumes::minor_adaptations},
          {"services.handypersonPeople", &demo::DistrictVolumes::handyperson},
          {"services.repairsCompleted", &demo::DistrictVolumes::repairs},
          {"services.dementiaDwellingGrantsApproved", &demo::DistrictVolumes::dementia_grants}};
}

TEST_F(ExportsTest, YearTotalsPerDistrictEqualTheGeneratorsUnderPolicyNone) {
  KpiReturn kpi = Kpi("2018/19", "none");
  ASSERT_EQ(kpi.areas.size(), 7u);
  EXPECT_FALSE(kpi.policy.controlled);
  for (const auto& [figure, member] : GeneratorFigures()) {
    uint64_t county = 0;
    for (const auto& v : county_->report.volumes) {
      const Cell& c = CellOf(kpi, figure, v.district);
      EXPECT_EQ(c.published, int64_t(v.*member)) << figure << " " << v.district;
      EXPECT_EQ(c.mark, CellMark::kExact);
      county += v.*member;
    }
    EXPECT_EQ(CellOf(kpi, figure, "county").published, int64_t(county)) << figure;
  }
  // Not a vacuous comparison: the small county still has DFGs and minor adaptations.
  EXPECT_GT(CellOf(kpi, "dfg.approved.total", "county").value, 20);
}

// Each breakdown of enquiries, DFGs approved and minor-adaptation households
// adds up to its figure's total, in every district and the county, for the
// year and each quarter; and the demo's people are spread over the
// categories (a majority disabled, mostly White, some declining).
TEST_F(ExportsTest, EachEqualityBreakdownAddsUpToItsTotalInEveryDistrictAndPeriod) {
  std::map<std::string, int64_t> county_year;
  for (const char* period : {"2018/19", "2018/19-Q1", "2018/19-Q2", "2018/19-Q3", "2018/19-Q4"}) {
    KpiReturn kpi = Kpi(period, "none");
    for (const auto& [total, base] : kEqualityTotals) {
      for (const auto& [field, categories] : kEqualityFields) {
        for (const std::string& area : kpi.areas) {
          int64_t sum = 0;
          for (const auto& c : categories) {
            const Cell& cell = CellOf(kpi, base + "." + field + "." + c, area);
            sum += cell.value;
            EXPECT_EQ(cell.published, cell.value);
            if (area == "county" && std::string(period) == "2018/19") county_year[base + "." + field + "." + c] = cell.value;
          }
          EXPECT_EQ(sum, CellOf(kpi, total, area).value) << period << " " << area << " " << base << "." << field;
        }
      }
    }
  }
  // Not vacuous: the year's county figures.
  int64_t enquiries = CellOf(Kpi("2018/19", "none"), "enquiries.total", "county").value;
  ASSERT_GT(enquiries, 100);
  EXPECT_GT(county_year["enquiries.disability.limitedALot"] + county_year["enquiries.disability.limitedALittle"],
            enquiries / 2);
  EXPECT_GT(county_year["enquiries.ethnicGroup.white"], enquiries * 8 / 10);
  EXPECT_GT(county_year["enquiries.disability.declined"], 0);
  EXPECT_GT(county_year["enquiries.ethnicGroup.declined"], 0);
  EXPECT_GT(county_year["enquiries.ageBand.75-84"], 0);
  EXPECT_GT(county_year["enquiries.gender.female"], county_year["enquiries.gender.male"]);
  EXPECT_GT(county_year["dfg.approved.disability.limitedALot"], 0);
  EXPECT_GT(county_year["services.minorAdaptations.mainLanguage.english"], 0);
}

TEST_F(ExportsTest, QuartersAddUpToTheYear) {
  KpiReturn year = Kpi("2018/19", "none", 0);
  std::vector<KpiReturn> quarters;
  for (int q = 1; q <= 4; ++q) quarters.push_back(Kpi("2018/19-Q" + std::to_string(q), "none", year.position));
  for (size_t t = 0; t < year.tables.size(); ++t) {
    for (size_t f = 0; f < year.tables[t].figures.size(); ++f) {
      for (size_t a = 0; a < year.areas.size(); ++a) {
        int64_t sum = 0;
        for (const auto& q : quarters) sum += q.tables[t].figures[f].cells[a].value;
        const std::string& id = year.tables[t].figures[f].id;
        // Distinct people and households: someone helped in two quarters
        // counts in each, and once in the year.
        bool distinct = id == "services.adviceInformationGuidance" ||
                        id == "services.minorAdaptationHouseholds" || id.rfind("services.minorAdaptations.", 0) == 0 ||
                        id == "services.handypersonPeople";
        // People still waiting at the period's end: a count on one day, the
        // year's is its last quarter's.
        if (id.rfind("firstVisits.waitingAtPeriodEnd", 0) == 0) {
          EXPECT_EQ(quarters[3].tables[t].figures[f].cells[a].value, year.tables[t].figures[f].cells[a].value) << id;
        } else if (distinct) {
          EXPECT_LE(year.tables[t].figures[f].cells[a].value, sum) << id;
        } else {
          EXPECT_EQ(sum, year.tables[t].figures[f].cells[a].value) << id;
        }
      }
    }
  }
}

TEST_F(ExportsTest, NhsPolicyKeepsCountyTotalsExactAndHidesSmallCounts) {
  KpiReturn kpi = Kpi("2018/19", "nhs");
  for (const auto& [figure, member] : GeneratorFigures()) {
    uint64_t county = 0;
    for (const auto& v : county_->report.volumes) county += v.*member;
    const Cell& c = CellOf(kpi, figure, "county");
    EXPECT_EQ(c.mark, CellMark::kExact) << figure;
    EXPECT_EQ(c.published, int64_t(county)) << figure;
  }
  size_t county = kpi.areas.size() - 1;
  int suppressed = 0;
  for (const auto& t : kpi.tables) {
    for (const auto& f : t.figures) {
      for (size_t a = 0; a < county; ++a) {
        const Cell& c = f.cells[a];
        if (c.mark == CellMark::kSuppressed) {
          ++suppressed;
          continue;
        }
        EXPECT_TRUE(c.published == 0 || c.published >= 8) << f.id;
        EXPECT_EQ(c.published % 5, 0) << f.id;
        EXPECT_LE(std::abs(c.published - c.value), 2) << f.id;
        if (c.value >= 1 && c.value <= 7) ADD_FAILURE() << f.id << " published a count of " << c.value;
      }
    }
  }
  EXPECT_GT(suppressed, 0);
}

// The attacker: holds only kpi.json and the policy's published rules, and
// narrows every cell's range through every known sum (each figure's
// districts add to its county value; each partition's members add to its
// total), until nothing changes. A suppressed cell is recovered when its
// range shrinks to one value.
struct Attack {
  int recovered = 0;
  int suppressed = 0;
  std::vector<std::string> found;
};

Attack DifferencingAttack(const Json& kpi) {
  const int64_t kInf = std::numeric_limits<int64_t>::max() / 8;
  // The policy's rules from docs/exports.md ("Policies"), by its name: not
  // the numbers the return says about itself.
  const std::string name = kpi["policy"]["name"];
  bool controlled = name != "none";
  int64_t threshold = name == "nhs" ? 8 : name == "ons" ? 10 : name.rfind("threshold:", 0) == 0 ? std::stoll(name.substr(10)) : 0;
  int64_t rounding = name == "nhs" || name == "ons" ? 5 : 1;
  bool exact_county = name != "ons";
  size_t areas = kpi["areas"].size();
  Attack out;
  for (const Json& table : kpi["tables"]) {
    std::map<std::string, size_t> row;
    std::vector<std::vector<std::pair<int64_t, int64_t>>> range;
    std::vector<std::vector<bool>> hidden;
    for (const Json& f : table["figures"]) {
      row[f["id"]] = range.size();
      range.emplace_back();
      hidden.emplace_back();
      for (size_t a = 0; a < areas; ++a) {
        const Json& v = f["values"][a];
        bool is_county = a + 1 == areas;
        if (v.is_null()) {
          range.back().push_back({0, kInf});
          hidden.back().push_back(true);
          continue;
        }
        int64_t x = v;
        hidden.back().push_back(false);
        if (!controlled || x == 0 || rounding <= 1 || (is_county && exact_county)) {
          range.back().push_back({x, x});
        } else {
          range.back().push_back({std::max(threshold, x - rounding / 2), x + rounding / 2});
        }
      }
    }
    // Sums: (total cell, member cells).
    using CellId = std::pair<size_t, size_t>;
    std::vector<std::pair<CellId, std::vector<CellId>>> sums;
    for (size_t f = 0; f < range.size(); ++f) {
      std::vector<CellId> members;
      for (size_t a = 0; a + 1 < areas; ++a) members.push_back({f, a});
      sums.push_back({{f, areas - 1}, members});
    }
    for (const Json& p : table["partitions"]) {
      for (size_t a = 0; a < areas; ++a) {
        std::vector<CellId> members;
        for (const Json& m : p["members"]) members.push_back({row.at(m.get<std::string>()), a});
        sums.push_back({{row.at(p["total"].get<std::string>()), a}, members});
      }
    }
    auto cap = [&](int64_t v) { return std::min(v, kInf); };
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [total, members] : sums) {
        auto& t = range[total.first][total.second];
        int64_t lo = 0, hi = 0;
        for (auto m : members) {
          lo = cap(lo + range[m.first][m.second].first);
          hi = cap(hi + range[m.first][m.second].second);
        }
        if (lo > t.first) { t.first = lo; changed = true; }
        if (hi < t.second) { t.second = hi; changed = true; }
        for (auto m : members) {
          auto& r = range[m.first][m.second];
          int64_t rest_lo = 0, rest_hi = 0;
          for (auto o : members) {
            if (o == m) continue;
            rest_lo = cap(rest_lo + range[o.first][o.second].first);
            rest_hi = cap(rest_hi + range[o.first][o.second].second);
          }
          if (rest_hi < kInf && t.first - rest_hi > r.first) { r.first = t.first - rest_hi; changed = true; }
          if (t.second < kInf && t.second - rest_lo < r.second) { r.second = t.second - rest_lo; changed = true; }
        }
      }
    }
    for (const auto& [id, f] : row) {
      for (size_t a = 0; a < areas; ++a) {
        if (!hidden[f][a]) continue;
        ++out.suppressed;
        if (range[f][a].first == range[f][a].second) {
          ++out.recovered;
          out.found.push_back(id + "@" + kpi["areas"][a].get<std::string>() + "=" +
                              std::to_string(range[f][a].first));
        }
      }
    }
  }
  return out;
}

TEST_F(ExportsTest, DifferencingAttackRecoversNoSuppressedCell) {
  int suppressed = 0;
  for (const char* policy : {"nhs", "ons", "threshold:3", "threshold:12"}) {
    for (const char* period : {"2018/19", "2018/19-Q1", "2018/19-Q3"}) {
      KpiReturn kpi = Kpi(period, policy);
      Attack attack = DifferencingAttack(Json::parse(KpiToJson(kpi)));
      EXPECT_EQ(attack.recovered, 0) << policy << " " << period << ": " << ::testing::PrintToString(attack.found);
      suppressed += attack.suppressed;
    }
  }
  EXPECT_GT(suppressed, 50);  // the attack had something to attack
}

TEST(DisclosureControl, SecondarySuppressionProtectsALoneSmallCell) {
  // One figure over three districts and the county: 3, 10, 20 | 33. With
  // threshold:5 and an exact county total, 3 alone suppressed would be 33 - 30.
  Table t;
  t.id = "t";
  Figure f;
  f.id = "t.x";
  for (int64_t v : {3, 10, 20, 33}) f.cells.push_back(Cell{v, 0, CellMark::kExact, false});
  t.figures.push_back(f);
  std::vector<Table> tables = {t};
  std::vector<TableReport> report;
  ApplyDisclosureControl(*ParsePolicy("threshold:5"), 3, &tables, &report);
  const auto& cells = tables[0].figures[0].cells;
  EXPECT_EQ(cells[0].mark, CellMark::kSuppressed);
  EXPECT_FALSE(cells[0].secondary);
  EXPECT_EQ(cells[1].mark, CellMark::kSuppressed);  // the smallest other cell
  EXPECT_TRUE(cells[1].secondary);
  EXPECT_EQ(cells[2].mark, CellMark::kExact);
  EXPECT_EQ(cells[3].published, 33);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0].primary, 1u);
  EXPECT_EQ(report[0].secondary, 1u);
  // And the attacker, given the same table without secondary suppression,
  // would have recovered the cell: the attack can fail.
  Json j = {{"policy", {{"name", "threshold:5"}}},
            {"areas", {"D1", "D2", "D3", "county"}},
            {"tables", {{{"figures", {{{"id", "t.x"}, {"values", {nullptr, 10, 20, 33}}}}},
                         {"partitions", Json::array()}}}}};
  EXPECT_EQ(DifferencingAttack(j).recovered, 1);
}

TEST_F(ExportsTest, StatisticsAreWithheldForSmallGroups) {
  KpiReturn open = Kpi("2018/19-Q2", "none");
  KpiReturn nhs = Kpi("2018/19-Q2", "nhs", open.position);
  ASSERT_EQ(open.statistics.size(), nhs.statistics.size());
  int withheld = 0, published = 0;
  for (size_t s = 0; s < open.statistics.size(); ++s) {
    for (size_t a = 0; a < open.areas.size(); ++a) {
      if (open.statistics[s].n[a] < 8) {
        EXPECT_FALSE(nhs.statistics[s].value[a].has_value()) << open.statistics[s].id << " " << open.areas[a];
      }
      if (nhs.statistics[s].value[a]) {
        ++published;
      } else if (open.statistics[s].n[a] > 0) {
        ++withheld;
      }
    }
  }
  EXPECT_GT(withheld, 0);
  EXPECT_GT(published, 0);
  EXPECT_EQ(uint32_t(withheld), nhs.statistics_withheld);
  // n is not written in a controlled return.
  EXPECT_EQ(StatisticsToCsv(nhs).find(",n,"), std::string::npos);
}

TEST_F(ExportsTest, ReturnsAreByteIdenticalAtTheSamePosition) {
  KpiReturn first = Kpi("2018/19-Q1", "nhs");
  ASSERT_TRUE(WriteKpiReturn(first, out_.sub("a")).ok());
  KpiReturn again = Kpi("2018/19-Q1", "nhs", first.position);
  ASSERT_TRUE(WriteKpiReturn(again, out_.sub("b")).ok());
  int files = 0;
  for (const auto& e : fs::directory_iterator(out_.sub("a"))) {
    ++files;
    std::string name = e.path().filename().string();
    EXPECT_EQ(Slurp(e.path().string()), Slurp(out_.sub("b") + "/" + name)) << name;
  }
  EXPECT_EQ(files, 4);
  Json j = Json::parse(Slurp(out_.sub("a") + "/kpi.json"));
  EXPECT_EQ(j["position"].get<uint64_t>(), first.position);
  EXPECT_EQ(j["policy"]["name"], "nhs");
  // An earlier position is honoured: fewer events, and it is recorded.
  KpiReturn earlier = Kpi("2018/19", "none", first.position / 2);
  EXPECT_EQ(earlier.position, first.position / 2);
  EXPECT_LT(CellOf(earlier, "enquiries.total", "county").value,
            CellOf(Kpi("2018/19", "none", first.position), "enquiries.total", "county").value);
}

// The quasi-identifier columns of cases.csv, counted independently.
std::map<std::string, int> QiGroups(const std::string& csv, size_t* rows) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("reference,ageBand,district,tenure,service,element,enquiryMonth", 0), 0u);
  std::map<std::string, int> groups;
  *rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    std::string x;
    while (std::getline(ls, x, ',')) f.push_back(x);
    EXPECT_GE(f.size(), 7u) << line;
    if (f.size() < 7) continue;
    ++groups[f[1] + "|" + f[2] + "|" + f[3] + "|" + f[4] + "|" + f[6]];
    ++*rows;
  }
  return groups;
}

TEST_F(ExportsTest, CaseExtractIsKAnonymousAndRecipientsCannotJoin) {
  auto period = *ParsePeriod("2018/19");
  for (int k : {5, 10}) {
    ExtractOptions eo;
    eo.recipient = "partnership-analyst";
    eo.k = k;
    auto e = BuildCaseExtract(*county_->store, *county_->codec, period, eo);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_EQ(e->candidate_rows, county_->report.cases);
    EXPECT_EQ(e->rows.size() + e->suppressed_rows, e->candidate_rows);
    size_t rows = 0;
    auto groups = QiGroups(ExtractToCsv(*e), &rows);
    EXPECT_EQ(rows, e->rows.size());
    EXPECT_GT(rows, e->candidate_rows / (k == 5 ? 2 : 4)) << "level " << e->level;
    for (const auto& [qi, n] : groups) EXPECT_GE(n, k) << qi;
    std::set<std::string> refs;
    for (const auto& r : e->rows) {
      EXPECT_EQ(r.reference.size(), 16u);
      EXPECT_TRUE(refs.insert(r.reference).second);
      EXPECT_EQ(r.reference.find("case"), std::string::npos);
    }
  }
  ExtractOptions a, b;
  a.recipient = "county-council";
  b.recipient = "nhs-icb";
  auto ea = BuildCaseExtract(*county_->store, *county_->codec, period, a);
  auto eb = BuildCaseExtract(*county_->store, *county_->codec, period, b);
  auto ea2 = BuildCaseExtract(*county_->store, *county_->codec, period, a);
  ASSERT_TRUE(ea.ok() && eb.ok() && ea2.ok());
  std::set<std::string> ra;
  for (const auto& r : ea->rows) ra.insert(r.reference);
  for (const auto& r : eb->rows) EXPECT_EQ(ra.count(r.reference), 0u);
  EXPECT_EQ(ExtractToCsv(*ea), ExtractToCsv(*ea2));
  // Not a cheap pass: at k = 5 the rows as recorded (level 0) are not k-anonymous.
  size_t rows = 0;
  int small = 0;
  ExtractOptions strict;
  strict.recipient = "x";
  strict.k = 5;
  strict.max_suppressed_share = 1.0;  // stay at level 0, suppress whatever it takes
  auto e0 = BuildCaseExtract(*county_->store, *county_->codec, period, strict);
  ASSERT_TRUE(e0.ok());
  EXPECT_EQ(e0->level, 0);
  EXPECT_GT(e0->suppressed_rows, 0u);
  for (const auto& [qi, n] : QiGroups(ExtractToCsv(*e0), &rows)) small += n < 5;
  EXPECT_EQ(small, 0);
}

// Consent, withdrawal and erasure change the store: a county of their own.
TEST(ExportsConsent, IdentifiableExportFollowsConsentAndErasure) {
  County c(25);
  ASSERT_TRUE(c.store);
  auto period = *ParsePeriod("2018/19");
  IdentifiableOptions io;
  io.recipient = "partnership";
  ASSERT_TRUE(domain::ParseDate("2019-06-30", &io.as_of));
  auto first = BuildIdentifiableExport(*c.store, *c.codec, period, io);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_GE(first->clients.size(), 3u) << "the demo gives about one client in seven this consent";
  EXPECT_EQ(first->cases, c.report.cases);
  EXPECT_EQ(first->clients.size() + first->without_consent + first->erased, first->cases);
  for (const auto& cl : first->clients) {
    EXPECT_FALSE(cl.given_name.empty());
    EXPECT_FALSE(cl.family_name.empty());
    EXPECT_FALSE(cl.postcode.empty());
  }
  hearth::testing::TempDir out;
  Actor actor{"S-MON-1", "monitoringOfficer", "test"};
  ASSERT_TRUE(WriteIdentifiableExport(*c.store, *first, actor, out.sub("one")).ok());
  std::string csv = Slurp(out.sub("one") + "/identifiable.csv");
  EXPECT_NE(csv.find(first->clients[0].family_name), std::string::npos);
  EXPECT_EQ(csv.find(first->clients[0].subject), std::string::npos);  // no internal subject ids
  auto log = c.store->AccessLog(first->clients[0].subject);
  ASSERT_TRUE(log.ok());
  ASSERT_FALSE(log->empty());
  EXPECT_EQ(log->back().action, "disclosure");
  EXPECT_EQ(log->back().recipient, "partnership");

  // Find the case of the first two identified clients.
  auto case_of = [&](const std::string& subject) {
    std::string found;
    readmodels::testing::D("2019-01-01");
    auto events = c.store->ReadSubject(subject, 1, 1);
    if (events.ok() && !events->empty()) found = events->front().stream;
    return found;
  };
  std::string withdrawn_subject = first->clients[0].subject;
  std::string erased_subject = first->clients[1].subject;
  std::string withdrawn_case = case_of(withdrawn_subject);
  ASSERT_FALSE(withdrawn_case.empty());

  // Consent withdrawn (the case reopened to record it): gone from the next export.
  domain::CaseRecorder recorder(c.store.get(), c.codec.get(), {});
  auto ev = [&](const std::string& json) {
    NewEvent e;
    EXPECT_TRUE(c.codec->FromJson(json, &e).ok()) << json;
    return e;
  };
  auto state = recorder.Load(withdrawn_case);
  ASSERT_TRUE(state.ok());
  std::vector<NewEvent> events;
  const std::string actor_json = R"("actor":{"user":"S-1","role":"caseworker","plugin":"test"})";
  if (state->closed) {
    events.push_back(ev(R"({"type":"CaseReopened",)" + actor_json +
                        R"(,"facts":{"reopenedOn":"2019-06-01","reasonCode":"consentChange"}})"));
  }
  events.push_back(ev(R"({"type":"ConsentWithdrawn",)" + actor_json +
                      R"(,"facts":{"withdrawnOn":"2019-06-01","scope":"identifiableMonitoring"}})"));
  auto r = recorder.Record(withdrawn_case, std::move(events));
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  // Erasure: the person still counts, with nothing identifying.
  KpiReturn before = *BuildKpiReturn(*c.store, *c.codec, domain::Calendar::EnglandAndWales(), period,
                                     *ParsePolicy("none"), {});
  auto erased = c.store->EraseSubject(erased_subject, actor, "request");
  ASSERT_TRUE(erased.ok()) << erased.status().ToString();
  KpiReturn after = *BuildKpiReturn(*c.store, *c.codec, domain::Calendar::EnglandAndWales(), period,
                                    *ParsePolicy("none"), {});
  EXPECT_GT(after.position, before.position);
  EXPECT_EQ(KpiToCsv(before), KpiToCsv(after));

  auto second = BuildIdentifiableExport(*c.store, *c.codec, period, io);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->clients.size(), first->clients.size() - 2);
  EXPECT_EQ(second->erased, 1u);
  for (const auto& cl : second->clients) {
    EXPECT_NE(cl.subject, withdrawn_subject);
    EXPECT_NE(cl.subject, erased_subject);
  }
  ASSERT_TRUE(WriteIdentifiableExport(*c.store, *second, actor, out.sub("two")).ok());
  std::string csv2 = Slurp(out.sub("two") + "/identifiable.csv");
  EXPECT_EQ(csv2.find(first->clients[0].family_name + "," + first->clients[0].given_name), std::string::npos);
  size_t lines = std::count(csv2.begin(), csv2.end(), '\n');
  EXPECT_EQ(lines, second->clients.size() + 1);

  // A restriction of processing (Art. 18) keeps the person out of the next
  // identifiable export; lifting it brings them back.
  ASSERT_FALSE(second->clients.empty());
  std::string restricted_subject = second->clients[0].subject;
  rights::Rights rights(c.store.get(), c.codec.get(), rights::RightsOptions{});
  Actor controller{"S-DPO-1", "controller", "test"};
  ASSERT_TRUE(rights.Restrict(restricted_subject, "", "accuracyContested", controller).ok());
  auto third = BuildIdentifiableExport(*c.store, *c.codec, period, io);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->restricted, 1u);
  EXPECT_EQ(third->clients.size(), second->clients.size() - 1);
  for (const auto& cl : third->clients) EXPECT_NE(cl.subject, restricted_subject);
  // The pseudonymous extract leaves the restricted person's cases out too,
  // before k-anonymity is checked over the rest.
  ExtractOptions while_restricted;
  while_restricted.recipient = "partnership";
  while_restricted.k = 2;
  auto held = BuildCaseExtract(*c.store, *c.codec, period, while_restricted);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_GE(held->restricted_rows, 1u);
  EXPECT_EQ(held->candidate_rows + held->restricted_rows, c.report.cases);
  ASSERT_TRUE(rights.LiftRestriction(restricted_subject, "accuracyResolved", controller).ok());
  auto fourth = BuildIdentifiableExport(*c.store, *c.codec, period, io);
  ASSERT_TRUE(fourth.ok());
  EXPECT_EQ(fourth->restricted, 0u);
  EXPECT_EQ(fourth->clients.size(), second->clients.size());

  // The erased person's case is still in the pseudonymous extract.
  ExtractOptions eo;
  eo.recipient = "partnership";
  eo.k = 2;
  auto extract = BuildCaseExtract(*c.store, *c.codec, period, eo);
  ASSERT_TRUE(extract.ok());
  EXPECT_EQ(extract->candidate_rows, c.report.cases);
  EXPECT_EQ(extract->restricted_rows, 0u);  // the restriction was lifted

  // Consent given after the export date does not count.
  IdentifiableOptions early = io;
  ASSERT_TRUE(domain::ParseDate("2018-04-01", &early.as_of));
  auto none = BuildIdentifiableExport(*c.store, *c.codec, period, early);
  ASSERT_TRUE(none.ok());
  EXPECT_LT(none->clients.size(), second->clients.size());
}

// The released files, not the in-memory cells, are what a recipient reads:
// parse the written kpi.csv and kpi.json and check every cell against the
// policy table of docs/exports.md, with its constants written here. The true
// counts come from the uncontrolled return, which
// YearTotalsPerDistrictEqualTheGeneratorsUnderPolicyNone checks against the
// generator. Boundaries: threshold:K for every K from 2 to 30, so the cells
// at exactly K-1 (hidden) and K (published) occur for many K.
struct DocPolicy {
  std::string name;
  int64_t hidden_below;  // 1..hidden_below-1 are suppressed
  bool rounded;          // to the nearest 5, halves up
  bool county_exact;
};

// "" when the released value obeys the policy for true count v, else why not.
std::string CheckReleased(const DocPolicy& p, bool county, int64_t v, const std::string& released) {
  // Zero stays zero, unless secondary suppression took it ("then a zero cell").
  if (v == 0) return released == "0" || released == "*" ? "" : "a zero must stay 0";
  if (released == "*") return "";  // primary or secondary suppression
  int64_t got = 0;
  try {
    got = std::stoll(released);
  } catch (...) {
    return "not a number";
  }
  bool controlled_here = !(county && p.county_exact);
  if (controlled_here && v < p.hidden_below) return "a count below " + std::to_string(p.hidden_below) + " is published";
  int64_t want = controlled_here && p.rounded ? (v + 2) / 5 * 5 : v;
  if (got != want) return "published " + std::to_string(got) + ", the policy gives " + std::to_string(want);
  return "";
}

TEST_F(ExportsTest, ReleasedFilesFollowThePolicyCellByCell) {
  std::vector<DocPolicy> policies = {{"nhs", 8, true, true}, {"ons", 10, true, false}};
  for (int k = 2; k <= 30; ++k) policies.push_back({"threshold:" + std::to_string(k), k, false, true});
  std::map<std::string, int> boundary_hidden, boundary_published;  // policy -> cells at K-1 / K
  int files = 0;
  for (const char* period : {"2018/19", "2018/19-Q1", "2018/19-Q3"}) {
    KpiReturn truth = Kpi(period, "none");
    std::map<std::pair<std::string, std::string>, int64_t> value;  // (figure, area) -> true count
    for (const auto& t : truth.tables) {
      for (const auto& f : t.figures) {
        for (size_t a = 0; a < truth.areas.size(); ++a) value[{f.id, truth.areas[a]}] = f.cells[a].value;
      }
    }
    for (const DocPolicy& p : policies) {
      SCOPED_TRACE(std::string(period) + " " + p.name);
      KpiReturn kpi = Kpi(period, p.name, truth.position);
      std::string dir = out_.sub("released-" + std::to_string(files++));
      ASSERT_TRUE(WriteKpiReturn(kpi, dir).ok());
      // kpi.csv: period,area,table,figure,value
      std::istringstream csv(Slurp(dir + "/kpi.csv"));
      std::string line;
      std::getline(csv, line);
      ASSERT_EQ(line, "period,area,table,figure,value");
      size_t rows = 0;
      while (std::getline(csv, line)) {
        std::vector<std::string> col;
        std::stringstream ls(line);
        for (std::string c; std::getline(ls, c, ',');) col.push_back(c);
        ASSERT_EQ(col.size(), 5u) << line;
        if (col[2] == "money") continue;  // pence, under its own rule (MoneyTest)
        auto it = value.find({col[3], col[1]});
        ASSERT_NE(it, value.end()) << line;
        int64_t v = it->second;
        std::string why = CheckReleased(p, col[1] == "county", v, col[4]);
        EXPECT_EQ(why, "") << "kpi.csv: " << line << " (true count " << v << ")";
        bool controlled_here = !(col[1] == "county" && p.county_exact);
        if (controlled_here && v == p.hidden_below - 1) ++boundary_hidden[p.name];
        if (controlled_here && v == p.hidden_below && col[4] != "*") ++boundary_published[p.name];
        ++rows;
      }
      EXPECT_EQ(rows, value.size());
      // kpi.json: the same cells, null for suppressed.
      Json j = Json::parse(Slurp(dir + "/kpi.json"));
      std::vector<std::string> areas = j["areas"].get<std::vector<std::string>>();
      size_t cells = 0;
      for (const Json& t : j["tables"]) {
        for (const Json& f : t["figures"]) {
          ASSERT_EQ(f["values"].size(), areas.size());
          for (size_t a = 0; a < areas.size(); ++a) {
            const Json& x = f["values"][a];
            std::string released = x.is_null() ? "*" : std::to_string(x.get<int64_t>());
            int64_t v = value.at({f["id"].get<std::string>(), areas[a]});
            EXPECT_EQ(CheckReleased(p, areas[a] == "county", v, released), "")
                << "kpi.json: " << f["id"] << " " << areas[a] << " = " << released << " (true count " << v << ")";
            ++cells;
          }
        }
      }
      EXPECT_EQ(cells, value.size());
    }
  }
  // The boundaries were exercised: for most K a cell sat at K-1 (and was
  // hidden) and one at K (and was published), nhs and ons included.
  int pinned = 0;
  for (const DocPolicy& p : policies) {
    if (boundary_hidden[p.name] > 0 && boundary_published[p.name] > 0) ++pinned;
  }
  EXPECT_GE(pinned, 15) << "too few policies had cells at both sides of their threshold";
  EXPECT_GT(boundary_hidden["ons"], 0) << "no count of 9 under ons";
  EXPECT_GT(boundary_hidden["nhs"], 0) << "no count of 7 under nhs";
}

TEST(ExportsBadInput, PeriodsPoliciesAndParameters) {
  for (const char* bad : {"", "2018", "2018/20", "2018/19-Q5", "2018/19-Q0", "2018/19Q1", "18/19-Q1",
                          "2018/19-H1", "abcd/ef"}) {
    auto p = ParsePeriod(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_TRUE(p.status().IsInvalidArgument());
    }
  }
  auto q1 = ParsePeriod("2018/19-Q1");
  ASSERT_TRUE(q1.ok());
  EXPECT_EQ(domain::FormatDate(q1->first), "2018-04-01");
  EXPECT_EQ(domain::FormatDate(q1->last), "2018-06-30");
  auto q4 = ParsePeriod("2018/19-Q4");
  EXPECT_EQ(domain::FormatDate(q4->first), "2019-01-01");
  EXPECT_EQ(domain::FormatDate(q4->last), "2019-03-31");
  auto y = ParsePeriod("2019/20");
  EXPECT_EQ(domain::FormatDate(y->last), "2020-03-31");
  for (const char* bad : {"NHS", "nhs2", "threshold:1", "threshold:0", "threshold:", "threshold:x",
                          "threshold:-3", "k-anon", ""}) {
    auto p = ParsePolicy(bad);
    EXPECT_FALSE(p.ok()) << bad;
  }
  EXPECT_NE(ParsePolicy("threshold:1").status().message().find("at least 2"), std::string::npos);
  EXPECT_NE(ParsePolicy("k-anon").status().message().find("unknown disclosure policy"), std::string::npos);
  EXPECT_EQ(ParsePolicy("threshold:2")->threshold, 2);

  hearth::testing::TempDir dir;
  ::mkdir(dir.sub("full").c_str(), 0700);
  std::ofstream(dir.sub("full") + "/x") << "keep";
  Status s = CheckOutputDir(dir.sub("full"));
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("not empty"), std::string::npos);
  ::mkdir(dir.sub("empty").c_str(), 0700);
  EXPECT_TRUE(CheckOutputDir(dir.sub("empty")).ok());
  EXPECT_TRUE(CheckOutputDir(dir.sub("absent")).ok());
  KpiReturn kpi;
  EXPECT_TRUE(WriteKpiReturn(kpi, dir.sub("full")).IsInvalidArgument());
  EXPECT_EQ(Slurp(dir.sub("full") + "/x"), "keep");
  EXPECT_FALSE(fs::exists(dir.sub("full") + "/kpi.csv"));
}

struct CliRun {
  int code = 0;
  std::string err;
};

CliRun Cli(const std::string& args) {
  std::string cmd = std::string(HEARTH_CLI) + " " + args + " 2>&1 >/dev/null";
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) r.err += buf;
  int status = p ? ::pclose(p) : -1;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST_F(ExportsTest, CommandLineWritesReturnsAndRefusesBadInput) {
  std::string base = "--data " + county_->path + " --key-file " + county_->key;
  // The test's own store handle holds the lock: a copy for the command line.
  auto copy = county_->store->Backup(out_.sub("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  base = "--data " + out_.sub("copy") + " --key-file " + county_->key;
  std::string pos = " --position " + std::to_string(*copy);

  CliRun ok = Cli("export kpi " + base + " --quarter 2018/19-Q1 --recipient partnership" + pos + " --out " + out_.sub("cli1"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  // Again to the same recipient at the same position: the same bytes (the
  // first release is in their ledger, and changes nothing).
  ok = Cli("export kpi " + base + " --quarter 2018/19-Q1 --recipient partnership" + pos + " --out " + out_.sub("cli2"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(Slurp(out_.sub("cli1") + "/kpi.json"), Slurp(out_.sub("cli2") + "/kpi.json"));
  EXPECT_EQ(Slurp(out_.sub("cli1") + "/kpi.csv"), Slurp(out_.sub("cli2") + "/kpi.csv"));
  KpiReturn lib = Kpi("2018/19-Q1", "nhs", *copy);
  EXPECT_EQ(Slurp(out_.sub("cli1") + "/kpi.csv"), KpiToCsv(lib));

  ok = Cli("export kpi " + base + " --year 2018/19 --policy none" + pos + " --out " + out_.sub("cli3"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.err.find("not for release"), std::string::npos);
  EXPECT_NE(Slurp(out_.sub("cli3") + "/kpi.json").find("management return"), std::string::npos);
  ok = Cli("export cases " + base + " --year 2018/19 --recipient analyst --k 5" + pos + " --out " + out_.sub("cli4"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(out_.sub("cli4") + "/cases.csv"));

  ::mkdir(out_.sub("full").c_str(), 0700);
  std::ofstream(out_.sub("full") + "/x") << "keep";
  struct Bad {
    std::string args;
    std::string says;
  };
  std::vector<Bad> bads = {
      {"export kpi " + base + " --quarter 2018/19-Q7 --out " + out_.sub("bad"), "quarter"},
      {"export kpi " + base + " --quarter 2018/20-Q1 --out " + out_.sub("bad"), "follow"},
      {"export kpi " + base + " --year 2018/19 --quarter 2018/19-Q1 --out " + out_.sub("bad"), "exactly one"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --policy secret --out " + out_.sub("bad"), "unknown disclosure policy"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --policy threshold:1 --out " + out_.sub("bad"), "at least 2"},
      {"export cases " + base + " --quarter 2018/19-Q1 --recipient a --k 1 --out " + out_.sub("bad"), "at least 2"},
      {"export cases " + base + " --quarter 2018/19-Q1 --recipient 'Jo Bloggs' --out " + out_.sub("bad"), "recipient"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --recipient partnership --out " + out_.sub("full"), "not empty"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --out " + out_.sub("bad"), "--recipient"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --policy none --recipient partnership --out " + out_.sub("bad"), "--recipient"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --recipient 'Jo Bloggs' --out " + out_.sub("bad"), "recipient"},
      {"export kpi " + base + " --quarter 2018/19-Q1 --recipient partnership --position 999999999 --out " + out_.sub("bad"), "beyond"},
  };
  for (const auto& b : bads) {
    CliRun r = Cli(b.args);
    EXPECT_EQ(r.code, 1) << b.args << "\n" << r.err;
    EXPECT_NE(r.err.find(b.says), std::string::npos) << b.args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out_.sub("bad")) && !fs::is_empty(out_.sub("bad"))) << b.args;
  }
  EXPECT_EQ(Slurp(out_.sub("full") + "/x"), "keep");
  EXPECT_EQ(std::distance(fs::directory_iterator(out_.sub("full")), fs::directory_iterator()), 1);
}

namespace timescales_test {

using domain::Date;

Date ParseD(const std::string& text) {
  Date d{};
  EXPECT_TRUE(domain::ParseDate(text, &d)) << text;
  return d;
}

// The date `months` later, clamped to the month's end: written here, apart
// from the export's own.
Date MonthsLater(Date d, int months) {
  using namespace std::chrono;
  year_month_day ymd{d};
  int total = int(ymd.year()) * 12 + int(unsigned(ymd.month())) - 1 + months;
  year y{total / 12};
  month m{unsigned(total % 12 + 1)};
  unsigned last = unsigned(year_month_day_last{y, month_day_last{m}}.day());
  return sys_days{y / m / day{std::min(unsigned(ymd.day()), last)}};
}

// What the timescale figures should be, counted from the log's JSON form
// (docs/exports.md, "Timescales"), independently of store/exports.
struct Expected {
  std::map<std::string, int64_t> county;  // figure -> county value
};

Expected CountTimescales(Store& store, const domain::Codec& codec, const Period& p, const Timescales& t) {
  struct Case {
    std::optional<Date> enquiry, referral, scheduled, visit, closed;
    std::map<int, std::string> service;
    std::map<int, Date> valid, decided;
  };
  std::map<std::string, Case> cases;
  for (uint64_t from = 1;;) {
    auto page = store.ReadAll(from, 2048);
    EXPECT_TRUE(page.ok());
    if (!page.ok() || page->empty()) break;
    for (const auto& e : *page) {
      from = e.position + 1;
      if (e.stream.rfind("case/", 0) != 0) continue;
      auto j = Json::parse(*codec.ToJson(e));
      const Json& f = j["facts"];
      Case& c = cases[e.stream];
      auto date = [&](const char* field) { return ParseD(f[field].get<std::string>()); };
      const std::string type = j["type"];
      if (type == "ContactRecorded" && f.value("purpose", "") == "enquiry" && !c.enquiry) c.enquiry = date("contactedOn");
      if (type == "ReferralMade" && !c.referral) c.referral = date("referredOn");
      if (type == "FirstVisitScheduled" && !c.scheduled) c.scheduled = date("scheduledOn");
      if (type == "FirstVisitCompleted" && !c.visit) c.visit = date("completedOn");
      if (type == "CaseClosed") c.closed = date("closedOn");
      if (type == "CaseReopened") c.closed.reset();
      if (type == "ServiceElementOpened") c.service[f["line"].get<int>()] = f["service"];
      if (type == "GrantApplicationMade" && !c.valid.count(f["line"].get<int>())) {
        c.valid[f["line"].get<int>()] = f.contains("validOn") ? date("validOn") : date("submittedOn");
      }
      if (type == "GrantApproved" && f.value("grantType", "") == "mandatoryDfg") c.decided[f["line"].get<int>()] = date("approvedOn");
      if (type == "GrantRefused" && f.value("grantType", "") == "mandatoryDfg") c.decided[f["line"].get<int>()] = date("refusedOn");
    }
  }
  Expected out;
  auto in = [&](Date d) { return d >= p.first && d <= p.last; };
  for (const auto& [id, c] : cases) {
    std::optional<Date> clock = c.enquiry;
    if (c.referral && (!c.visit || *c.referral <= *c.visit)) clock = c.referral;
    if (c.visit && in(*c.visit)) {
      ++out.county["firstVisits.total"];
      bool within = clock && (*c.visit - *clock).count() <= t.first_visit_days;
      ++out.county[within ? "firstVisits.withinTarget" : "firstVisits.later"];
    }
    std::optional<Date> due = c.referral;
    if (c.scheduled && (!due || *c.scheduled < *due)) due = c.scheduled;
    if (due && *due <= p.last && clock && *clock <= p.last && !(c.visit && *c.visit <= p.last) &&
        !(c.closed && *c.closed <= p.last)) {
      ++out.county["firstVisits.waitingAtPeriodEnd"];
      ++out.county[(p.last - *clock).count() <= t.first_visit_days ? "firstVisits.waitingAtPeriodEnd.withinTarget"
                                                                   : "firstVisits.waitingAtPeriodEnd.overTarget"];
    }
    for (const auto& [line, decided] : c.decided) {
      if (!c.valid.count(line) || c.service.at(line) != "mandatoryDfg" || !in(decided)) continue;
      ++out.county["dfg.decisions.total"];
      ++out.county[decided <= MonthsLater(c.valid.at(line), t.dfg_decision_months) ? "dfg.decisions.withinTarget"
                                                                                  : "dfg.decisions.later"];
    }
  }
  return out;
}

const std::vector<std::string> kTimescaleFigures = {
    "firstVisits.total", "firstVisits.withinTarget", "firstVisits.later", "firstVisits.waitingAtPeriodEnd",
    "firstVisits.waitingAtPeriodEnd.withinTarget", "firstVisits.waitingAtPeriodEnd.overTarget",
    "dfg.decisions.total", "dfg.decisions.withinTarget", "dfg.decisions.later"};

}  // namespace timescales_test

// Issue 16.4: the timescale figures count what docs/exports.md says (the
// first-visit clock from the referral, people still waiting at the period's
// end, the statutory decision), checked against a count written apart.
TEST_F(ExportsTest, TimescaleFiguresFollowTheirDefinitions) {
  using namespace timescales_test;
  for (const char* label : {"2018/19", "2018/19-Q2", "2018/19-Q3"}) {
    KpiReturn kpi = Kpi(label, "none");
    EXPECT_EQ(kpi.timescales.position, 0u);
    EXPECT_EQ(kpi.timescales.first_visit_days, 28);
    Expected want = CountTimescales(*county_->store, *county_->codec, *ParsePeriod(label), kpi.timescales);
    for (const auto& id : kTimescaleFigures) {
      EXPECT_EQ(CellOf(kpi, id, "county").value, want.county[id]) << label << " " << id;
    }
  }
  // Not vacuous: in Q2 some people are still waiting, some visits were
  // timed from a referral, and some DFG decisions fall in the year.
  KpiReturn q2 = Kpi("2018/19-Q2", "none");
  EXPECT_GT(CellOf(q2, "firstVisits.waitingAtPeriodEnd", "county").value, 0);
  KpiReturn year = Kpi("2018/19", "none");
  EXPECT_GT(CellOf(year, "dfg.decisions.total", "county").value, 5);
  // PriorityAssessed 1-3: every approved DFG has its OT priority.
  int64_t by_priority = 0;
  for (const char* p : {"1", "2", "3"}) by_priority += CellOf(year, std::string("dfg.approved.priority.") + p, "county").value;
  EXPECT_EQ(by_priority, CellOf(year, "dfg.approved.total", "county").value);
  EXPECT_GT(CellOf(year, "dfg.approved.priority.1", "county").value, 0);
}

// Issue 16.4: the targets are configuration in the store; the return reads
// the ones in force at its position; bad targets are refused, nothing written.
TEST(ExportsTimescales, TargetsKeptInTheStoreDecideTheReturn) {
  using namespace timescales_test;
  County c(20);
  ASSERT_TRUE(c.store);
  auto period = *ParsePeriod("2018/19");
  auto build = [&](uint64_t position) {
    KpiOptions ko;
    ko.position = position;
    auto kpi = BuildKpiReturn(*c.store, *c.codec, domain::Calendar::EnglandAndWales(), period,
                              *ParsePolicy("none"), ko);
    EXPECT_TRUE(kpi.ok()) << kpi.status().ToString();
    return *kpi;
  };
  KpiReturn before = build(0);
  EXPECT_EQ(before.timescales.first_visit_days, 28);
  Actor actor{"S-CTRL-1", "controller", "test"};
  Date today = domain::UkDate(domain::Now());

  // Bad targets: one error naming the field, nothing written.
  auto version = [&] {
    auto v = c.store->StreamVersion(kTimescalesStream);
    return v.ok() ? *v : 0;
  };
  auto targets = [](int visit, int urgent, int non_urgent, int months) {
    Timescales t;
    t.first_visit_days = visit;
    t.dfg_urgent_days = urgent;
    t.dfg_non_urgent_days = non_urgent;
    t.dfg_decision_months = months;
    return t;
  };
  const std::vector<std::pair<std::string, Timescales>> bad = {
      {"firstVisitDays", targets(0, 55, 150, 6)},         {"firstVisitDays", targets(367, 55, 150, 6)},
      {"dfgUrgentWorkingDays", targets(28, 0, 150, 6)},   {"dfgNonUrgentWorkingDays", targets(28, 55, 1001, 6)},
      {"dfgUrgentWorkingDays", targets(28, 200, 150, 6)}, {"dfgDecisionMonths", targets(28, 55, 150, 0)},
      {"dfgDecisionMonths", targets(28, 55, 150, 13)}};
  for (const auto& [field, t] : bad) {
    Status s = SetTimescales(*c.store, *c.codec, t, today, actor);
    EXPECT_TRUE(s.IsInvalidArgument()) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
    EXPECT_EQ(version(), 0u);
  }
  Status future = SetTimescales(*c.store, *c.codec, Timescales{}, today + std::chrono::days{1}, actor);
  EXPECT_TRUE(future.IsInvalidArgument());
  EXPECT_NE(future.message().find("effectiveOn"), std::string::npos);
  EXPECT_EQ(version(), 0u);

  Timescales strict = targets(7, 20, 60, 1);
  ASSERT_TRUE(SetTimescales(*c.store, *c.codec, strict, today, actor).ok());
  KpiReturn after = build(0);
  EXPECT_EQ(after.timescales.first_visit_days, 7);
  EXPECT_EQ(after.timescales.dfg_decision_months, 1);
  EXPECT_GT(after.timescales.position, before.position);
  Expected want = CountTimescales(*c.store, *c.codec, period, after.timescales);
  for (const auto& id : kTimescaleFigures) EXPECT_EQ(CellOf(after, id, "county").value, want.county[id]) << id;
  EXPECT_LT(CellOf(after, "firstVisits.withinTarget", "county").value,
            CellOf(before, "firstVisits.withinTarget", "county").value);
  EXPECT_EQ(CellOf(after, "firstVisits.total", "county").value, CellOf(before, "firstVisits.total", "county").value);
  EXPECT_GT(CellOf(after, "dfg.decisions.later", "county").value, CellOf(before, "dfg.decisions.later", "county").value);
  EXPECT_NE(KpiToJson(after).find("\"firstVisitDays\": 7"), std::string::npos);
  // The return as of the earlier position still reads the targets then in force.
  KpiReturn again = build(before.position);
  EXPECT_EQ(again.timescales.first_visit_days, 28);
  EXPECT_EQ(KpiToJson(again), KpiToJson(before));
  auto read = ReadTimescales(*c.store, *c.codec);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->dfg_urgent_days, 20);
  auto old = ReadTimescales(*c.store, *c.codec, before.position);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->dfg_urgent_days, 55);

  // The command line: bad targets refused with the field named, nothing
  // written; good ones recorded, the others kept.
  hearth::testing::TempDir out;
  auto copy = c.store->Backup(out.sub("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  std::string base = "export timescales --data " + out.sub("copy") + " --key-file " + c.key;
  struct Bad {
    std::string args, says;
  };
  for (const auto& b : std::vector<Bad>{{" --set --first-visit-days 0", "firstVisitDays"},
                                        {" --set --dfg-urgent 70", "dfgUrgentWorkingDays"},
                                        {" --set --dfg-decision-months 13", "dfgDecisionMonths"},
                                        {" --set --effective-on 2999-01-01", "effectiveOn"},
                                        {" --first-visit-days 21", "--set"}}) {
    CliRun r = Cli(base + b.args);
    EXPECT_EQ(r.code, 1) << b.args << "\n" << r.err;
    EXPECT_NE(r.err.find(b.says), std::string::npos) << b.args << "\n" << r.err;
  }
  CliRun good = Cli(base + " --set --first-visit-days 21 --effective-on 2019-04-01");
  EXPECT_EQ(good.code, 0) << good.err;
  c.store.reset();
  Options so;
  so.key = KeySource::File(c.key);
  auto reopened = Store::Open(so, out.sub("copy"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto versions = (*reopened)->StreamVersion(kTimescalesStream);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(*versions, 2u);  // the library's one and the command's one; no refused one
  auto now = ReadTimescales(**reopened, *c.codec);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->first_visit_days, 21);
  EXPECT_EQ(now->dfg_urgent_days, 20);  // kept
  EXPECT_EQ(now->effective_on, "2019-04-01");
}


// Issue 16.5 (Appendix E, "referrals to specified services"): onward
// referrals counted by destination, in every district cell, against a count
// of the OnwardReferralMade events written apart from store/exports.
TEST_F(ExportsTest, OnwardReferralsAreCountedByDestination) {
  for (const char* label : {"2018/19", "2018/19-Q3"}) {
    Period p = *ParsePeriod(label);
    std::map<std::string, std::string> district;  // case -> district
    std::map<std::pair<std::string, std::string>, int64_t> want;  // (figure, district)
    for (uint64_t from = 1;;) {
      auto page = county_->store->ReadAll(from, 2048);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      for (const auto& e : *page) {
        from = e.position + 1;
        if (e.stream.rfind("case/", 0) != 0) continue;
        auto j = Json::parse(*county_->codec->ToJson(e));
        const Json& f = j["facts"];
        if (j["type"] == "ContactRecorded" && f.value("purpose", "") == "enquiry" && !district.count(e.stream)) {
          district[e.stream] = f["district"];
        }
        if (j["type"] == "CaseTransferred" && !f.value("toDistrict", "").empty()) district[e.stream] = f["toDistrict"];
        if (j["type"] != "OnwardReferralMade") continue;
        std::string on = f["referredOn"];
        if (on < domain::FormatDate(p.first) || on > domain::FormatDate(p.last)) continue;
        const std::string& d = district.at(e.stream);
        ++want[{"referrals.onward.total", d}];
        ++want[{"referrals.onward.destination." + f["destination"].get<std::string>(), d}];
        ++want[{f.value("signposted", false) ? "referrals.onward.signposted" : "referrals.onward.referred", d}];
      }
    }
    KpiReturn kpi = Kpi(label, "none");
    const Table* table = nullptr;
    for (const auto& t : kpi.tables) {
      if (t.id == "referrals") table = &t;
    }
    ASSERT_NE(table, nullptr);
    size_t cells = 0;
    int64_t county_total = 0;
    for (const auto& fig : table->figures) {
      for (size_t a = 0; a + 1 < kpi.areas.size(); ++a) {
        auto it = want.find({fig.id, kpi.areas[a]});
        EXPECT_EQ(fig.cells[a].value, it == want.end() ? 0 : it->second) << label << " " << fig.id << " " << kpi.areas[a];
        ++cells;
      }
      if (fig.id == "referrals.onward.total") county_total = fig.cells.back().value;
    }
    EXPECT_GT(cells, 6u * 15u);
    EXPECT_GT(county_total, 10) << label;
  }
  // Every destination of the schema has its row, zero or not, so returns
  // line up from quarter to quarter.
  KpiReturn year = Kpi("2018/19", "none");
  EXPECT_EQ(CellOf(year, "referrals.onward.destination.fallsPrevention", "county").mark, CellMark::kExact);
  EXPECT_EQ(CellOf(year, "referrals.onward.destination.telecare", "county").mark, CellMark::kExact);
}


// Issue 17.6 (003 7.6): satisfaction, the quality-of-life and impact answers,
// and the questionnaires sent and returned, counted from the events as
// docs/exports.md defines them (an oracle over the raw log, not the fold);
// the response rate is returned over sent.
TEST_F(ExportsTest, SatisfactionImpactAndQuestionnairesAreCountedFromTheirEvents) {
  for (const char* label : {"2018/19", "2018/19-Q3"}) {
    Period p = *ParsePeriod(label);
    const std::string first = domain::FormatDate(p.first), last = domain::FormatDate(p.last);
    std::map<std::string, std::string> district;                  // case -> district
    std::map<std::pair<std::string, int64_t>, bool> questionnaire;  // (case, line) -> returned
    std::map<std::pair<std::string, std::string>, int64_t> want;   // (figure, district)
    for (uint64_t from = 1;;) {
      auto page = county_->store->ReadAll(from, 2048);
      ASSERT_TRUE(page.ok());
      if (page->empty()) break;
      for (const auto& e : *page) {
        from = e.position + 1;
        if (e.stream.rfind("case/", 0) != 0) continue;
        auto j = Json::parse(*county_->codec->ToJson(e));
        const Json& f = j["facts"];
        if (j["type"] == "ContactRecorded" && f.value("purpose", "") == "enquiry" && !district.count(e.stream)) {
          district[e.stream] = f["district"];
        }
        if (j["type"] == "CaseTransferred" && !f.value("toDistrict", "").empty()) district[e.stream] = f["toDistrict"];
        if (j["type"] == "QuestionnaireSent") {
          questionnaire[{e.stream, f.value("line", int64_t{0})}] = false;
          std::string on = f["sentOn"];
          if (on >= first && on <= last) ++want[{"satisfaction.questionnaires.sent", district.at(e.stream)}];
          continue;
        }
        if (j["type"] != "SatisfactionRecorded") continue;
        auto q = questionnaire.find({e.stream, f.value("line", int64_t{0})});
        bool is_return = q != questionnaire.end() && !q->second;
        if (is_return) q->second = true;
        std::string on = f["recordedOn"];
        if (on < first || on > last) continue;
        const std::string& d = district.at(e.stream);
        ++want[{"satisfaction.responses", d}];
        ++want[{"satisfaction.score." + std::to_string(f["score"].get<int>()), d}];
        ++want[{"satisfaction.qualityOfLife." + f.value("qualityOfLife", std::string("unspecified")), d}];
        for (const auto& i : f.value("impacts", Json::array())) ++want[{"satisfaction.impact." + i.get<std::string>(), d}];
        if (is_return) ++want[{"satisfaction.questionnaires.returned", d}];
      }
    }
    KpiReturn kpi = Kpi(label, "none");
    const Table* table = nullptr;
    for (const auto& t : kpi.tables) {
      if (t.id == "satisfaction") table = &t;
    }
    ASSERT_NE(table, nullptr);
    size_t cells = 0;
    std::map<std::string, int64_t> county;
    for (const auto& fig : table->figures) {
      for (size_t a = 0; a + 1 < kpi.areas.size(); ++a) {
        auto it = want.find({fig.id, kpi.areas[a]});
        EXPECT_EQ(fig.cells[a].value, it == want.end() ? 0 : it->second) << label << " " << fig.id << " " << kpi.areas[a];
        ++cells;
      }
      county[fig.id] = fig.cells.back().value;
    }
    EXPECT_EQ(cells, 6u * (1 + 5 + 5 + 9 + 2)) << label;
    // Not vacuous: questionnaires go out, some come back, with answers.
    EXPECT_GT(county["satisfaction.questionnaires.sent"], 10) << label;
    EXPECT_GT(county["satisfaction.questionnaires.returned"], 5) << label;
    EXPECT_LT(county["satisfaction.questionnaires.returned"], county["satisfaction.questionnaires.sent"]) << label;
    EXPECT_GT(county["satisfaction.qualityOfLife.muchBetter"], 0) << label;
    if (std::string(label) == "2018/19") {
      // Some answers came with no questionnaire sent: responses, not returns.
      EXPECT_LT(county["satisfaction.questionnaires.returned"], county["satisfaction.responses"]);
    }
    EXPECT_GT(county["satisfaction.impact.saferAtHome"], 0) << label;
    const Statistic* rate = nullptr;
    for (const auto& st : kpi.statistics) {
      if (st.id == "satisfaction.responseRate.share") rate = &st;
    }
    ASSERT_NE(rate, nullptr);
    ASSERT_TRUE(rate->value.back().has_value());
    EXPECT_NEAR(*rate->value.back(),
                100.0 * double(county["satisfaction.questionnaires.returned"]) /
                    double(county["satisfaction.questionnaires.sent"]),
                0.05)
        << label;
  }
}

// Issue 16.6 (003 9.0, "audit a sample"): the controller, and nobody else,
// lists the case references behind a published cell; the list is the cell.
TEST_F(ExportsTest, OnlyTheControllerListsTheCasesBehindACell) {
  Period year = *ParsePeriod("2018/19");
  auto calendar = domain::Calendar::EnglandAndWales();
  KpiReturn kpi = Kpi("2018/19", "none");
  Actor controller{"S-CTRL-1", "controller", "test"};
  // Cells of every kind: per case, per person, per event.
  for (const auto& [figure, area] : std::vector<std::pair<std::string, std::string>>{
           {"services.minorAdaptationHouseholds", "D2"},
           {"services.adviceInformationGuidance", "D5"},
           {"dfg.approved.total", "county"},
           {"firstVisits.later", "D1"}}) {
    auto cells = ListCellCases(*county_->store, *county_->codec, calendar, year, figure, area, controller);
    ASSERT_TRUE(cells.ok()) << cells.status().ToString();
    EXPECT_EQ(cells->value, CellOf(kpi, figure, area).value) << figure;
    EXPECT_GT(cells->value, 0) << figure;
    // One case per count here (each counted once per case), every one a
    // case of that area, each listed once.
    EXPECT_EQ(int64_t(cells->cases.size()), cells->value) << figure;
    std::set<std::string> unique(cells->cases.begin(), cells->cases.end());
    EXPECT_EQ(unique.size(), cells->cases.size());
    for (const auto& c : cells->cases) {
      EXPECT_EQ(c.rfind("case/", 0), 0u) << c;
      if (area != "county") {
        EXPECT_EQ(c.substr(5, area.size() + 1), area + "/") << c;
      }
    }
  }
  // Any other role is refused, before anything is read.
  for (const char* role : {"monitoringOfficer", "caseworker", "manager", "Controller", ""}) {
    auto refused = ListCellCases(*county_->store, *county_->codec, calendar, year, "dfg.approved.total", "county",
                                 Actor{"S-X-1", role, "test"});
    ASSERT_FALSE(refused.ok()) << role;
    EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << role;
  }
  // Bad input names its field.
  auto bad_figure = ListCellCases(*county_->store, *county_->codec, calendar, year, "services.nothing", "D1", controller);
  EXPECT_TRUE(bad_figure.status().IsInvalidArgument());
  EXPECT_NE(bad_figure.status().message().find("--figure"), std::string::npos);
  auto bad_area = ListCellCases(*county_->store, *county_->codec, calendar, year, "dfg.approved.total", "D9", controller);
  EXPECT_TRUE(bad_area.status().IsInvalidArgument());
  EXPECT_NE(bad_area.status().message().find("--area"), std::string::npos);

  // The command line: the same list for the controller; refusals otherwise.
  auto copy = county_->store->Backup(out_.sub("cells-copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  std::string base = "export cells --data " + out_.sub("cells-copy") + " --key-file " + county_->key;
  std::string cmd = std::string(HEARTH_CLI) + " " + base +
                    " --figure dfg.approved.total --area county --period 2018/19 --user S-CTRL-1 --role controller"
                    " --position " + std::to_string(*copy);
  std::string printed;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p)) printed += buf;
  ASSERT_EQ(p ? ::pclose(p) : -1, 0);
  auto j = Json::parse(printed);
  auto lib = ListCellCases(*county_->store, *county_->codec, calendar, year, "dfg.approved.total", "county",
                           controller, *copy);
  ASSERT_TRUE(lib.ok());
  EXPECT_EQ(j["cases"].get<std::vector<std::string>>(), lib->cases);
  struct Bad {
    std::string args, says;
  };
  for (const auto& b : std::vector<Bad>{
           {" --figure dfg.approved.total --area county --period 2018/19 --user S-1 --role monitoringOfficer", "only the controller"},
           {" --figure dfg.approved.total --area county --period 2018/19 --user S-1 --role caseworker", "only the controller"},
           {" --figure services.nothing --area county --period 2018/19 --user S-1 --role controller", "--figure"},
           {" --figure dfg.approved.total --area D9 --period 2018/19 --user S-1 --role controller", "--area"},
           {" --figure dfg.approved.total --area county --period 2018/20 --user S-1 --role controller", "--period"},
           {" --figure dfg.approved.total --area county --period 2018/19-Q5 --user S-1 --role controller", "--period"}}) {
    CliRun r = Cli(base + b.args);
    EXPECT_EQ(r.code, 1) << b.args << "\n" << r.err;
    EXPECT_NE(r.err.find(b.says), std::string::npos) << b.args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace hearth::exports
