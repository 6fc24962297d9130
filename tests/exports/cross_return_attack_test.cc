// Differencing across returns (issue 16.7): an attacker written from
// docs/exports.md alone, sharing no code with store/exports. It reads only the
// released files (kpi.json, checked against kpi.csv) of the returns one
// recipient holds, takes each policy's rules from the docs (constants written
// here), and narrows every cell's interval through every sum a reader knows,
// within each return and between returns, until nothing changes:
//   - in a return: each figure's districts add up to its county value; each
//     partition's members add up to its total, in every area;
//   - a year and its quarters at one position: the year is the sum of its
//     quarters (counts of events), lies between the largest quarter and the
//     sum (distinct people and households), or equals its last quarter
//     (people waiting on the period's last day);
//   - at different positions: a count that only grows as the log grows (the
//     docs' definitions say which) is at least its value at an earlier
//     position, and the year at position q is at least the sum of its
//     quarters taken at or before q.
// A suppressed cell is RECOVERED when its interval is one value. The test
// asserts that no primary-suppressed cell (a true count of 1..threshold-1,
// outside an exact county total) is recovered, and that the attacker is sound
// (every true count lies in its interval), so that a pass is not a broken
// attacker.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "county.h"
#include "equality_categories.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "readmodels_test_util.h"
#include "test_util.h"

namespace hearth::exports {
namespace {

using Json = nlohmann::json;
constexpr int64_t kInf = std::numeric_limits<int64_t>::max() / 8;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// docs/exports.md, "Policies": what a released value says about the count.
struct DocRule {
  int64_t hide_below = 0;    // 1..hide_below-1 are suppressed
  int64_t rounding = 1;      // to the nearest multiple, halves up
  bool county_exact = true;  // the county total is published exact
};
DocRule RuleOf(const std::string& policy) {
  if (policy == "nhs") return {8, 5, true};
  if (policy == "ons") return {10, 5, false};
  if (policy.rfind("threshold:", 0) == 0) return {std::stoll(policy.substr(10)), 1, true};
  return {0, 1, true};  // none
}

// docs/exports.md, "Which event, which date, which district" and
// "Schedule B": how a figure of the year relates to the same figure of its
// quarters, and whether it can only grow as the log grows.
enum class OverQuarters { kSum, kDistinct, kLast, kUnknown };
bool Starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
OverQuarters QuarterRelation(const std::string& id) {
  if (id == "services.adviceInformationGuidance" || id == "services.minorAdaptationHouseholds" ||
      id == "services.handypersonPeople") {
    return OverQuarters::kDistinct;  // people and households: once in the year
  }
  // "Target groups and equality": households count once in the year in each
  // category too.
  if (Starts(id, "services.minorAdaptations.")) return OverQuarters::kDistinct;
  if (Starts(id, "firstVisits.waitingAtPeriodEnd")) return OverQuarters::kLast;  // a count on one day
  for (const char* known : {"enquiries.", "services.", "dfg.", "outcomes.", "firstVisits.", "complaints.", "other.",
                            "referrals.onward.", "satisfaction."}) {
    if (Starts(id, known)) return OverQuarters::kSum;
  }
  return OverQuarters::kUnknown;  // a figure this attacker was not written for: no relation assumed
}
bool Grows(const std::string& id) {
  if (QuarterRelation(id) == OverQuarters::kUnknown) return false;
  // Breakdowns by something read "as of P" (urgency, tenure, OT priority),
  // the decisions and people waiting (district as of P), and first visits
  // (a later-recorded earlier visit or referral moves them) can shrink.
  for (const char* moving : {"dfg.approved.urgency.", "dfg.approved.tenure.", "dfg.approved.priority.",
                             "dfg.completed.urgency.", "dfg.completed.tenure.", "dfg.completed.priority.",
                             "dfg.decisions.", "firstVisits."}) {
    if (Starts(id, moving)) return false;
  }
  // The equality breakdowns: a person's codes as of P (a correction moves
  // them between categories).
  for (const auto& [total, base] : kEqualityTotals) {
    for (const auto& [field, categories] : kEqualityFields) {
      if (Starts(id, (base + "." + field + ".").c_str())) return false;
    }
  }
  return true;
}

// One released return, as parsed from its files.
struct Released {
  std::string period;
  uint64_t position = 0;
  std::string policy;
  std::vector<std::string> areas;
  struct Figure {
    std::string id;
    std::vector<std::optional<int64_t>> values;  // nullopt: suppressed
  };
  struct Partition {
    std::string total;
    std::vector<std::string> members;
  };
  std::vector<Figure> figures;           // every table's
  std::vector<std::vector<std::string>> table_figures;
  std::vector<Partition> partitions;
};

Released ParseReleased(const std::string& dir) {
  Released r;
  Json j = Json::parse(Slurp(dir + "/kpi.json"));
  r.period = j["period"]["label"];
  r.position = j["position"];
  r.policy = j["policy"]["name"];
  r.areas = j["areas"].get<std::vector<std::string>>();
  std::map<std::pair<std::string, std::string>, std::string> from_json;
  for (const Json& t : j["tables"]) {
    r.table_figures.emplace_back();
    for (const Json& f : t["figures"]) {
      Released::Figure fig;
      fig.id = f["id"];
      for (size_t a = 0; a < r.areas.size(); ++a) {
        const Json& v = f["values"].at(a);
        fig.values.push_back(v.is_null() ? std::nullopt : std::optional<int64_t>(v.get<int64_t>()));
        from_json[{fig.id, r.areas[a]}] = v.is_null() ? "*" : std::to_string(v.get<int64_t>());
      }
      r.table_figures.back().push_back(fig.id);
      r.figures.push_back(std::move(fig));
    }
    for (const Json& p : t["partitions"]) {
      r.partitions.push_back({p["total"], p["members"].get<std::vector<std::string>>()});
    }
  }
  // kpi.csv is released too: it must say the same, cell for cell.
  std::istringstream csv(Slurp(dir + "/kpi.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "period,area,table,figure,value");
  size_t rows = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> col;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) col.push_back(c);
    EXPECT_EQ(col.size(), 5u) << line;
    if (col.size() != 5) continue;
    // The money table is pence under its own rule (docs/exports.md "Money"),
    // outside the count tables the attacker reads; not in the release ledger.
    if (col[2] == "money") continue;
    EXPECT_EQ(col[0], r.period);
    EXPECT_EQ((from_json[{col[3], col[1]}]), col[4]) << dir << ": " << line;
    ++rows;
  }
  EXPECT_EQ(rows, from_json.size()) << dir;
  return r;
}

// Interval propagation over linear constraints sum(c_i x_i) in [lo, hi],
// c_i = +1 or -1, every x_i >= 0.
class Attacker {
 public:
  using Key = std::tuple<std::string, uint64_t, std::string, std::string>;  // period, position, figure, area

  size_t Var(const Key& k) {
    auto it = index_.find(k);
    if (it != index_.end()) return it->second;
    index_[k] = lo_.size();
    lo_.push_back(0);
    hi_.push_back(kInf);
    return lo_.size() - 1;
  }
  bool Has(const Key& k) const { return index_.count(k) > 0; }
  void Bound(size_t v, int64_t lo, int64_t hi) {
    lo_[v] = std::max(lo_[v], lo);
    hi_[v] = std::min(hi_[v], hi);
  }
  // total = sum(members)
  void Sum(size_t total, const std::vector<size_t>& members) { Add(total, members, 0, 0); }
  // sum(members) - total in [lo, hi]
  void Add(size_t total, const std::vector<size_t>& members, int64_t lo, int64_t hi) {
    Lin l;
    l.terms.push_back({total, -1});
    for (size_t m : members) l.terms.push_back({m, +1});
    l.lo = lo;
    l.hi = hi;
    lins_.push_back(std::move(l));
  }
  // a <= b
  void AtMost(size_t a, size_t b) { Add(b, {a}, -kInf, 0); }

  // To a fixpoint. False when it did not settle (a contradiction can make
  // bounds creep forever; the soundness check then fails anyway).
  bool Propagate() {
    for (int round = 0; round < 100000; ++round) {
      bool changed = false;
      for (const Lin& l : lins_) changed |= Narrow(l);
      if (!changed) return true;
    }
    return false;
  }
  int64_t lo(size_t v) const { return lo_[v]; }
  int64_t hi(size_t v) const { return hi_[v]; }
  const std::map<Key, size_t>& vars() const { return index_; }

 private:
  struct Lin {
    std::vector<std::pair<size_t, int>> terms;
    int64_t lo, hi;  // -kInf / kInf: unbounded
  };
  // The term's smallest and largest value, kInf standing for infinity.
  std::pair<int64_t, int64_t> Range(std::pair<size_t, int> t) const {
    if (t.second > 0) return {lo_[t.first], hi_[t.first]};
    return {hi_[t.first] >= kInf ? -kInf : -hi_[t.first], -lo_[t.first]};
  }
  bool Narrow(const Lin& l) {
    __int128 min_sum = 0, max_sum = 0;  // wide: many terms near kInf must not overflow
    int min_inf = 0, max_inf = 0;
    for (auto t : l.terms) {
      auto [a, b] = Range(t);
      if (a <= -kInf) ++min_inf; else min_sum += a;
      if (b >= kInf) ++max_inf; else max_sum += b;
    }
    bool changed = false;
    for (auto t : l.terms) {
      auto [a, b] = Range(t);
      bool others_max_inf = max_inf - (b >= kInf ? 1 : 0) > 0;
      bool others_min_inf = min_inf - (a <= -kInf ? 1 : 0) > 0;
      __int128 others_max = max_sum - (b >= kInf ? 0 : b);
      __int128 others_min = min_sum - (a <= -kInf ? 0 : a);
      // term in [l.lo - others_max, l.hi - others_min]; a bound past kInf is infinite
      auto clamp = [](__int128 x) { return int64_t(x <= -kInf ? -kInf : x >= kInf ? kInf : x); };
      int64_t t_lo = (l.lo <= -kInf || others_max_inf) ? -kInf : clamp(l.lo - others_max);
      int64_t t_hi = (l.hi >= kInf || others_min_inf) ? kInf : clamp(l.hi - others_min);
      size_t v = t.first;
      int64_t new_lo = t.second > 0 ? t_lo : (t_hi >= kInf ? -kInf : -t_hi);
      int64_t new_hi = t.second > 0 ? t_hi : (t_lo <= -kInf ? kInf : -t_lo);
      if (new_lo > lo_[v]) {
        lo_[v] = new_lo;
        changed = true;
      }
      if (new_hi < hi_[v]) {
        hi_[v] = new_hi;
        changed = true;
      }
    }
    return changed;
  }
  std::map<Key, size_t> index_;
  std::vector<int64_t> lo_, hi_;
  std::vector<Lin> lins_;
};

// Everything one recipient holds, and what the attacker makes of it.
struct Attack {
  int suppressed = 0;        // suppressed cells across the returns
  int primary = 0;           // of which a true count 1..threshold-1
  int recovered = 0;         // primary-suppressed cells pinned to one value
  int pinned_any = 0;        // any suppressed cell pinned (primary or secondary)
  std::vector<std::string> found;
  std::vector<std::string> unsound;  // true counts outside the attacker's interval
  bool settled = true;
};

using Truth = std::map<Attacker::Key, int64_t>;

Attack RunAttack(const std::vector<Released>& held, const Truth& truth) {
  Attacker at;
  // Within each return.
  for (const Released& r : held) {
    DocRule rule = RuleOf(r.policy);
    size_t county = r.areas.size() - 1;
    EXPECT_EQ(r.areas.back(), "county");
    for (const auto& f : r.figures) {
      std::vector<size_t> districts;
      for (size_t a = 0; a < r.areas.size(); ++a) {
        size_t v = at.Var({r.period, r.position, f.id, r.areas[a]});
        if (a != county) districts.push_back(v);
        if (!f.values[a]) continue;  // suppressed: [0, inf)
        int64_t x = *f.values[a];
        bool exact = x == 0 || rule.rounding <= 1 || (a == county && rule.county_exact);
        if (exact) {
          at.Bound(v, x, x);
        } else {
          at.Bound(v, std::max(rule.hide_below, x - rule.rounding / 2), x + rule.rounding / 2);
        }
      }
      at.Sum(at.Var({r.period, r.position, f.id, "county"}), districts);
    }
    for (const auto& p : r.partitions) {
      for (const auto& area : r.areas) {
        std::vector<size_t> members;
        for (const auto& m : p.members) members.push_back(at.Var({r.period, r.position, m, area}));
        at.Sum(at.Var({r.period, r.position, p.total, area}), members);
      }
    }
    // The equality breakdowns, as the docs define them (declared in the
    // file or not): every category the return publishes, the rest zero.
    std::set<std::string> ids;
    for (const auto& f : r.figures) ids.insert(f.id);
    for (const auto& [total, base] : kEqualityTotals) {
      if (!ids.count(total)) continue;
      for (const auto& [field, categories] : kEqualityFields) {
        for (const auto& area : r.areas) {
          std::vector<size_t> members;
          for (const auto& c : categories) {
            std::string id = base + "." + field + "." + c;
            if (ids.count(id)) members.push_back(at.Var({r.period, r.position, id, area}));
          }
          if (!members.empty()) at.Sum(at.Var({r.period, r.position, total, area}), members);
        }
      }
    }
  }
  // Between returns. Cells of one (period, position) are one variable
  // already (two policies of the same counts share it).
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::set<uint64_t>>> seen;  // (figure, area) -> period -> positions
  for (const auto& [key, v] : at.vars()) seen[{std::get<2>(key), std::get<3>(key)}][std::get<0>(key)].insert(std::get<1>(key));
  for (const auto& [cell, periods] : seen) {
    const auto& [figure, area] = cell;
    OverQuarters rel = QuarterRelation(figure);
    bool grows = Grows(figure);
    auto var = [&](const std::string& p, uint64_t pos) { return at.Var({p, pos, figure, area}); };
    // The same period at two positions.
    if (grows) {
      for (const auto& [period, positions] : periods) {
        for (auto it = positions.begin(); std::next(it) != positions.end(); ++it) {
          at.AtMost(var(period, *it), var(period, *std::next(it)));
        }
      }
    }
    // A year and its quarters.
    for (const auto& [year, year_positions] : periods) {
      if (year.size() != 7) continue;
      for (uint64_t q : year_positions) {
        std::vector<size_t> same, before;  // quarters at q; the latest of each at or before q
        for (int n = 1; n <= 4; ++n) {
          auto it = periods.find(year + "-Q" + std::to_string(n));
          if (it == periods.end()) continue;
          if (it->second.count(q)) same.push_back(var(it->first, q));
          auto last = it->second.upper_bound(q);
          if (last != it->second.begin()) before.push_back(var(it->first, *std::prev(last)));
        }
        size_t y = var(year, q);
        if (same.size() == 4) {
          if (rel == OverQuarters::kSum) at.Sum(y, same);
          if (rel == OverQuarters::kDistinct) at.Add(y, same, 0, kInf);  // the year at most the sum
          if (rel == OverQuarters::kLast) at.Sum(y, {same[3]});
        }
        if (grows && rel == OverQuarters::kSum && !before.empty()) at.Add(y, before, -kInf, 0);  // sum <= year
        if (grows && rel == OverQuarters::kDistinct) {
          for (size_t qv : before) at.AtMost(qv, y);
        }
      }
    }
  }
  Attack out;
  out.settled = at.Propagate();
  for (const Released& r : held) {
    DocRule rule = RuleOf(r.policy);
    for (const auto& f : r.figures) {
      for (size_t a = 0; a < r.areas.size(); ++a) {
        Attacker::Key k{r.period, r.position, f.id, r.areas[a]};
        size_t v = at.Var(k);
        auto t = truth.find(k);
        if (t == truth.end()) {
          ADD_FAILURE() << "no true count for " << f.id << "@" << r.areas[a] << " " << r.period;
          continue;
        }
        if (t->second < at.lo(v) || t->second > at.hi(v)) {
          out.unsound.push_back(f.id + "@" + r.areas[a] + " " + r.period + ": " + std::to_string(t->second) +
                                " not in [" + std::to_string(at.lo(v)) + "," + std::to_string(at.hi(v)) + "]");
        }
        if (f.values[a]) continue;
        ++out.suppressed;
        bool pinned = at.lo(v) == at.hi(v);
        out.pinned_any += pinned;
        bool county_exact_here = a + 1 == r.areas.size() && rule.county_exact;
        if (county_exact_here || t->second < 1 || t->second >= rule.hide_below) continue;
        ++out.primary;
        if (pinned) {
          ++out.recovered;
          if (out.found.size() < 12) {
            out.found.push_back(f.id + "@" + r.areas[a] + " " + r.period + " at " + std::to_string(r.position) +
                                " = " + std::to_string(at.lo(v)));
          }
        }
      }
    }
  }
  return out;
}

struct County {
  hearth::testing::TempDir dir;
  std::string key;
  domain::UpcasterRegistry upcasters;
  std::unique_ptr<domain::Codec> codec;
  std::unique_ptr<Store> store;

  explicit County(uint32_t limit_cases) {
    key = readmodels::testing::MakeHexKeyFile(dir.sub("key"));
    demo::CountyOptions o;
    o.first_year = 2018;
    o.limit_cases = limit_cases;
    auto r = demo::GenerateCountyStore(dir.sub("store"), KeySource::File(key), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    domain::AddBuiltinUpcasters(&upcasters);
    codec = std::move(*domain::Codec::Create(&upcasters));
    Options so;
    so.key = KeySource::File(key);
    so.sync = false;
    auto s = Store::Open(so, dir.sub("store"));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store = std::move(*s);
  }
};

class CrossReturnAttack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { county_ = new County(60); }
  static void TearDownTestSuite() {
    delete county_;
    county_ = nullptr;
  }

  // The true counts (the uncontrolled return, which the exports suite checks
  // against the generator and against counts written apart).
  static void AddTruth(const std::string& period, uint64_t position, Truth* truth) {
    KpiOptions ko;
    ko.position = position;
    auto kpi = BuildKpiReturn(*county_->store, *county_->codec, domain::Calendar::EnglandAndWales(),
                              *ParsePeriod(period), *ParsePolicy("none"), ko);
    ASSERT_TRUE(kpi.ok()) << kpi.status().ToString();
    for (const auto& t : kpi->tables) {
      for (const auto& f : t.figures) {
        for (size_t a = 0; a < kpi->areas.size(); ++a) {
          (*truth)[{period, kpi->position, f.id, kpi->areas[a]}] = f.cells[a].value;
        }
      }
    }
  }

  // Releases one return to `recipient` as hearth export kpi does, into a new
  // directory; the attacker reads only what is written there.
  std::string Release(const std::string& recipient, const std::string& period, const std::string& policy,
                      uint64_t position) {
    std::string dir = out_.sub("r" + std::to_string(n_++));
    KpiOptions ko;
    ko.position = position;
    auto kpi = ReleaseKpiReturn(*county_->store, *county_->codec, domain::Calendar::EnglandAndWales(),
                                *ParsePeriod(period), *ParsePolicy(policy), ko, recipient,
                                Actor{"S-MON-1", "monitoringOfficer", "test"}, dir);
    EXPECT_TRUE(kpi.ok()) << period << " " << policy << ": " << kpi.status().ToString();
    return dir;
  }

  uint64_t LastPosition() {
    auto info = county_->store->Info();
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->last_position : 0;
  }

  static County* county_;
  hearth::testing::TempDir out_;
  int n_ = 0;
};
County* CrossReturnAttack::county_ = nullptr;

const char* const kPolicies[] = {"nhs", "ons", "threshold:3", "threshold:12"};

void Report(const char* what, const std::string& policy, const Attack& a) {
  std::printf("[attack] %s %-13s suppressed %4d, primary %4d, primary recovered %3d, any recovered %3d\n", what,
              policy.c_str(), a.suppressed, a.primary, a.recovered, a.pinned_any);
}

// A recipient who receives the four quarters, then the year, all at one
// position (a year-end re-issue of the quarters with the annual return).
TEST_F(CrossReturnAttack, AYearAndItsQuartersTogetherRevealNoSmallCount) {
  uint64_t position = LastPosition();
  Truth truth;
  std::vector<std::string> periods = {"2018/19-Q1", "2018/19-Q2", "2018/19-Q3", "2018/19-Q4", "2018/19"};
  for (const auto& p : periods) AddTruth(p, position, &truth);
  int primary = 0;
  for (const char* policy : kPolicies) {
    std::string recipient = std::string("year-") + (policy[0] == 't' ? "t" + std::string(policy + 10) : policy);
    std::vector<Released> held;
    for (const auto& p : periods) held.push_back(ParseReleased(Release(recipient, p, policy, position)));
    Attack a = RunAttack(held, truth);
    Report("year+quarters", policy, a);
    EXPECT_TRUE(a.settled) << policy;
    EXPECT_TRUE(a.unsound.empty()) << policy << ": the attacker's model is wrong: "
                                   << ::testing::PrintToString(a.unsound);
    EXPECT_EQ(a.recovered, 0) << policy << ": " << a.recovered << " of " << a.primary
                              << " small counts recovered, e.g. " << ::testing::PrintToString(a.found);
    primary += a.primary;
  }
  EXPECT_GT(primary, 200);  // the attack had small counts to look for
}

// A recipient who receives the same periods twice, at an earlier position
// and again later (a re-run after late entries).
TEST_F(CrossReturnAttack, TwoPositionsOfOnePeriodRevealNoSmallCount) {
  uint64_t late = LastPosition();
  uint64_t early = late * 3 / 4;
  Truth truth;
  for (const char* p : {"2018/19-Q2", "2018/19"}) {
    AddTruth(p, early, &truth);
    AddTruth(p, late, &truth);
  }
  // Not vacuous: the two positions differ in the period's counts.
  int differ = 0;
  for (const auto& [k, v] : truth) {
    if (std::get<1>(k) != early) continue;
    auto later = truth.find({std::get<0>(k), late, std::get<2>(k), std::get<3>(k)});
    differ += later != truth.end() && later->second != v;
  }
  EXPECT_GT(differ, 20);
  int primary = 0;
  for (const char* policy : kPolicies) {
    std::string recipient = std::string("rerun-") + (policy[0] == 't' ? "t" + std::string(policy + 10) : policy);
    std::vector<Released> held;
    for (const char* p : {"2018/19-Q2", "2018/19"}) {
      held.push_back(ParseReleased(Release(recipient, p, policy, early)));
      held.push_back(ParseReleased(Release(recipient, p, policy, late)));
    }
    // A re-run is consistent with the earlier release: what was suppressed
    // then is suppressed again (a reader who assumes a count did not change
    // learns nothing from the second return).
    for (size_t i : {0, 2}) {
      for (size_t f = 0; f < held[i].figures.size(); ++f) {
        ASSERT_EQ(held[i].figures[f].id, held[i + 1].figures[f].id);
        for (size_t x = 0; x < held[i].areas.size(); ++x) {
          if (held[i].figures[f].values[x]) continue;
          auto later = std::find(held[i + 1].areas.begin(), held[i + 1].areas.end(), held[i].areas[x]);
          ASSERT_NE(later, held[i + 1].areas.end());
          EXPECT_FALSE(held[i + 1].figures[f].values[size_t(later - held[i + 1].areas.begin())].has_value())
              << policy << " " << held[i].period << ": " << held[i].figures[f].id << "@" << held[i].areas[x]
              << " suppressed at " << early << ", published at " << late;
        }
      }
    }
    Attack a = RunAttack(held, truth);
    Report("two positions", policy, a);
    EXPECT_TRUE(a.settled) << policy;
    EXPECT_TRUE(a.unsound.empty()) << policy << ": the attacker's model is wrong: "
                                   << ::testing::PrintToString(a.unsound);
    EXPECT_EQ(a.recovered, 0) << policy << ": " << a.recovered << " of " << a.primary
                              << " small counts recovered, e.g. " << ::testing::PrintToString(a.found);
    primary += a.primary;
  }
  EXPECT_GT(primary, 100);
}

// The other order: the year first, then its quarters. A quarter that
// cannot be made safe beside what the recipient already holds is refused
// (Conflict, nothing recorded, nothing written); whatever was released, the
// attacker recovers no small count from it.
TEST_F(CrossReturnAttack, TheYearBeforeItsQuartersRevealsNoSmallCount) {
  uint64_t position = LastPosition();
  Truth truth;
  std::vector<std::string> periods = {"2018/19", "2018/19-Q1", "2018/19-Q2", "2018/19-Q3", "2018/19-Q4"};
  for (const auto& p : periods) AddTruth(p, position, &truth);
  for (const char* policy : {"nhs", "threshold:3"}) {
    std::string recipient = std::string("year-first-") + (policy[0] == 't' ? "t3" : policy);
    std::vector<Released> held;
    int refused = 0;
    for (const auto& p : periods) {
      std::string dir = out_.sub("yf" + std::to_string(n_++));
      auto before = ReadReleaseLedger(*county_->store, *county_->codec, recipient);
      ASSERT_TRUE(before.ok());
      KpiOptions ko;
      ko.position = position;
      auto kpi = ReleaseKpiReturn(*county_->store, *county_->codec, domain::Calendar::EnglandAndWales(),
                                  *ParsePeriod(p), *ParsePolicy(policy), ko, recipient,
                                  Actor{"S-MON-1", "monitoringOfficer", "test"}, dir);
      if (kpi.ok()) {
        held.push_back(ParseReleased(dir));
        continue;
      }
      ++refused;
      EXPECT_EQ(kpi.status().code(), Status::Code::kConflict) << kpi.status().ToString();
      EXPECT_NE(kpi.status().message().find("cannot be released"), std::string::npos) << kpi.status().ToString();
      EXPECT_FALSE(std::filesystem::exists(dir + "/kpi.csv")) << p;
      auto after = ReadReleaseLedger(*county_->store, *county_->codec, recipient);
      ASSERT_TRUE(after.ok());
      EXPECT_EQ(after->size(), before->size()) << p << ": a refused release was recorded";
    }
    Attack a = RunAttack(held, truth);
    std::printf("[attack] year first    %-13s released %zu of 5, refused %d\n", policy, held.size(), refused);
    Report("year first", policy, a);
    EXPECT_TRUE(a.unsound.empty()) << ::testing::PrintToString(a.unsound);
    EXPECT_EQ(a.recovered, 0) << policy << ": " << ::testing::PrintToString(a.found);
    EXPECT_GE(held.size(), 2u);
  }
}

// The ledger records each release as the recipient got it (and nothing
// else), a re-run to the same recipient at the same position is the same
// bytes, and bad requests record and write nothing.
TEST_F(CrossReturnAttack, EachReleaseIsRecordedAsReleasedAndARerunIsTheSameBytes) {
  uint64_t position = LastPosition();
  const std::string recipient = "ledger-check";
  std::string a = Release(recipient, "2018/19-Q3", "threshold:5", position);
  std::string b = Release(recipient, "2018/19-Q3", "threshold:5", position);
  for (const char* file : {"kpi.csv", "kpi.json", "statistics.csv", "disclosure-report.json"}) {
    EXPECT_EQ(Slurp(a + "/" + file), Slurp(b + "/" + file)) << file;
  }
  uint64_t version = 0;
  auto ledger = ReadReleaseLedger(*county_->store, *county_->codec, recipient, &version);
  ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_EQ(version, 2u);
  Released released = ParseReleased(a);
  for (const ReleasedReturn& r : *ledger) {
    EXPECT_EQ(r.period.label, "2018/19-Q3");
    EXPECT_EQ(r.position, position);
    EXPECT_EQ(r.policy.name, "threshold:5");
    EXPECT_EQ(r.areas, released.areas);
    size_t i = 0, suppressed = 0;
    for (const auto& t : r.tables) {
      for (const auto& f : t.figures) {
        ASSERT_LT(i, released.figures.size());
        EXPECT_EQ(f.id, released.figures[i].id);
        for (size_t x = 0; x < f.cells.size(); ++x) {
          const auto& got = released.figures[i].values[x];
          EXPECT_EQ(f.cells[x].mark == CellMark::kSuppressed, !got.has_value()) << f.id;
          EXPECT_EQ(f.cells[x].published, got.value_or(0)) << f.id << " (a suppressed cell is recorded with no count)";
          suppressed += !got;
        }
        ++i;
      }
    }
    EXPECT_EQ(i, released.figures.size());
    EXPECT_GT(suppressed, 10u);
  }
  // Refused, with nothing recorded and nothing written.
  auto period = *ParsePeriod("2018/19-Q3");
  auto calendar = domain::Calendar::EnglandAndWales();
  Actor actor{"S-MON-1", "monitoringOfficer", "test"};
  KpiOptions ko;
  ko.position = position;
  auto bad_name = ReleaseKpiReturn(*county_->store, *county_->codec, calendar, period, *ParsePolicy("nhs"), ko,
                                   "Jo Bloggs", actor, out_.sub("bad1"));
  EXPECT_TRUE(bad_name.status().IsInvalidArgument());
  EXPECT_NE(bad_name.status().message().find("recipient"), std::string::npos);
  auto none = ReleaseKpiReturn(*county_->store, *county_->codec, calendar, period, *ParsePolicy("none"), ko,
                               recipient, actor, out_.sub("bad2"));
  EXPECT_TRUE(none.status().IsInvalidArgument());
  std::filesystem::create_directories(out_.sub("full"));
  std::ofstream(out_.sub("full") + "/x") << "keep";
  auto full = ReleaseKpiReturn(*county_->store, *county_->codec, calendar, period, *ParsePolicy("nhs"), ko,
                               recipient, actor, out_.sub("full"));
  EXPECT_TRUE(full.status().IsInvalidArgument());
  EXPECT_NE(full.status().message().find("not empty"), std::string::npos);
  auto after = ReadReleaseLedger(*county_->store, *county_->codec, recipient, &version);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(out_.sub("bad1")));
  EXPECT_FALSE(std::filesystem::exists(out_.sub("bad2")));
  auto stray = county_->store->StreamVersion("release/Jo Bloggs");
  EXPECT_TRUE(!stray.ok() || *stray == 0);
}

// The attacker can win: the same returns with each table's secondary
// suppression taken out of the files (cells the per-return audit added
// published again) give it small counts, so a pass above is not an attacker
// that can never recover anything.
TEST(CrossReturnAttacker, RecoversACountFromAYearAndItsQuarters) {
  // One figure, two districts and the county, threshold:3 (exact values):
  // the year D1 = 10 and three quarters published; the fourth quarter's D1 is
  // 1 and suppressed, with D2 suppressed beside it. Year minus the quarters
  // gives it.
  auto make = [](const std::string& period, std::vector<std::optional<int64_t>> values) {
    Released r;
    r.period = period;
    r.position = 100;
    r.policy = "threshold:3";
    r.areas = {"D1", "D2", "county"};
    r.figures.push_back({"enquiries.total", std::move(values)});
    return r;
  };
  std::vector<Released> held = {make("2018/19-Q1", {3, 4, 7}), make("2018/19-Q2", {3, 5, 8}),
                                make("2018/19-Q3", {3, 6, 9}), make("2018/19-Q4", {std::nullopt, std::nullopt, 5}),
                                make("2018/19", {10, 19, 29})};
  Truth truth;
  std::map<std::string, std::vector<int64_t>> t = {{"2018/19-Q1", {3, 4, 7}}, {"2018/19-Q2", {3, 5, 8}},
                                                   {"2018/19-Q3", {3, 6, 9}}, {"2018/19-Q4", {1, 4, 5}},
                                                   {"2018/19", {10, 19, 29}}};
  for (const auto& [p, v] : t) {
    for (size_t a = 0; a < 3; ++a) truth[{p, 100, "enquiries.total", held[0].areas[a]}] = v[a];
  }
  Attack a = RunAttack(held, truth);
  EXPECT_TRUE(a.unsound.empty()) << ::testing::PrintToString(a.unsound);
  EXPECT_EQ(a.primary, 1);
  EXPECT_EQ(a.recovered, 1) << "Q4 D1 = 10 - 3 - 3 - 3";
  // Across positions: Q4 D1 at an earlier position is at most its later value.
  std::vector<Released> two = {make("2018/19-Q4", {std::nullopt, std::nullopt, 5})};
  Released later = make("2018/19-Q4", {std::nullopt, 4, 5});
  later.position = 200;
  two.push_back(later);
  truth[{"2018/19-Q4", 200, "enquiries.total", "D1"}] = 1;
  truth[{"2018/19-Q4", 200, "enquiries.total", "D2"}] = 4;
  truth[{"2018/19-Q4", 200, "enquiries.total", "county"}] = 5;
  Attack b = RunAttack(two, truth);
  EXPECT_TRUE(b.unsound.empty()) << ::testing::PrintToString(b.unsound);
  EXPECT_EQ(b.recovered, 2) << "D1 at 200 = 5 - 4, and at 100 between D1 at 200 and ... "
                            << ::testing::PrintToString(b.found);
}

// The attacker knows the equality breakdowns from the docs, not from the
// partitions a file declares: a return whose breakdown is published with a
// lone small category (as an export that forgot to declare the partition
// would publish it) gives that category away.
TEST(CrossReturnAttacker, KnowsThatAnEqualityBreakdownAddsUpToItsTotal) {
  Released r;
  r.period = "2018/19-Q1";
  r.position = 100;
  r.policy = "threshold:3";
  r.areas = {"D1", "D2", "county"};
  using V = std::vector<std::optional<int64_t>>;
  std::map<std::string, std::vector<int64_t>> truth_of = {{"dfg.approved.total", {10, 10, 20}},
                                                          {"dfg.approved.gender.female", {8, 5, 13}},
                                                          {"dfg.approved.gender.male", {2, 5, 7}},
                                                          {"dfg.approved.gender.other", {0, 0, 0}},
                                                          {"dfg.approved.gender.declined", {0, 0, 0}},
                                                          {"dfg.approved.gender.notRecorded", {0, 0, 0}}};
  for (const auto& [id, v] : truth_of) {
    V released = {v[0], v[1], v[2]};
    if (id == "dfg.approved.gender.male") released = {std::nullopt, 5, std::nullopt};
    if (id == "dfg.approved.gender.female") released = {8, 5, std::nullopt};
    r.figures.push_back({id, released});
  }
  ASSERT_TRUE(r.partitions.empty());  // nothing declared in the file
  Truth truth;
  for (const auto& [id, v] : truth_of) {
    for (size_t a = 0; a < 3; ++a) truth[{r.period, r.position, id, r.areas[a]}] = v[a];
  }
  Attack a = RunAttack({r}, truth);
  EXPECT_TRUE(a.unsound.empty()) << ::testing::PrintToString(a.unsound);
  EXPECT_EQ(a.primary, 1);
  EXPECT_EQ(a.recovered, 1) << "male in D1 = 10 - 8 - 0 - 0 - 0";
}

}  // namespace
}  // namespace hearth::exports
