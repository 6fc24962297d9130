// The quarterly KPI return (docs/exports.md, "The KPI return").
#include <capnp/schema.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <unordered_map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/string_index.h"
#include "domain/tables.h"
#include "exports/collect.h"
#include "hearth/escape.h"
#include "hearth/exports.h"

namespace hearth::exports {

namespace {

using domain::cs::Channel;
using domain::cs::ComplaintStage;
using domain::cs::SafeguardingCategory;
using domain::cs::Outcome;
using domain::cs::ReferrerType;
using domain::cs::Tenure;
using domain::cs::Urgency;
using Json = nlohmann::ordered_json;

template <typename E>
std::vector<std::string> Enumerants(bool skip_unspecified = false) {
  std::vector<std::string> out;
  for (auto e : capnp::Schema::from<E>().getEnumerants()) {
    std::string name = e.getProto().getName().cStr();
    if (skip_unspecified && name == "unspecified") continue;
    out.push_back(name);
  }
  return out;
}

bool In(const Period& p, Date d) { return d >= p.first && d <= p.last; }

// --- target groups and equality (docs/exports.md, "Target groups and equality") ---

// The category a code is counted under: its enumerant name, "declined" for
// preferNotToSay, "notRecorded" for unspecified (and for a number this code
// does not know, which the recorder refuses).
template <typename E>
std::string CodeCategory(uint16_t value) {
  auto enumerants = capnp::Schema::from<E>().getEnumerants();
  if (value == 0 || value >= enumerants.size()) return "notRecorded";
  std::string name = enumerants[value].getProto().getName().cStr();
  return name == "preferNotToSay" ? "declined" : name;
}

// Every category of a code list, in the schema's order, then notRecorded.
template <typename E>
std::vector<std::string> CodeCategories() {
  std::vector<std::string> out;
  auto enumerants = capnp::Schema::from<E>().getEnumerants();
  for (uint16_t v = 1; v < enumerants.size(); ++v) out.push_back(CodeCategory<E>(v));
  out.push_back("notRecorded");
  return out;
}

// The index of a code's category in CodeCategories<E>(): the enumerant's
// own place for 1..n-1, notRecorded (the last) for unspecified and numbers
// this code does not know.
template <typename E>
size_t CodeIndex(uint16_t value) {
  static const size_t n = capnp::Schema::from<E>().getEnumerants().size();
  return value == 0 || value >= n ? n - 1 : size_t(value) - 1;
}

const std::vector<std::string>& EthnicGroups() {
  static const std::vector<std::string> kGroups = {"asian", "black", "mixed", "white", "other", "declined",
                                                   "notRecorded"};
  return kGroups;
}

// The ONS 2021 ethnic group (the five high-level groups) of an Ethnicity
// code, as an index into EthnicGroups(): by the enumerant's name.
size_t EthnicGroupIndex(uint16_t value) {
  static const std::vector<size_t> kOf = [] {
    std::vector<size_t> of;
    auto enumerants = capnp::Schema::from<domain::cs::Ethnicity>().getEnumerants();
    for (uint16_t v = 0; v < enumerants.size(); ++v) {
      std::string code = CodeCategory<domain::cs::Ethnicity>(v);
      size_t group = EthnicGroups().size() - 1;
      for (size_t g = 0; g < EthnicGroups().size(); ++g) {
        if (code.rfind(EthnicGroups()[g], 0) == 0) group = g;
      }
      of.push_back(group);
    }
    return of;
  }();
  return value < kOf.size() ? kOf[value] : EthnicGroups().size() - 1;
}

const std::vector<std::string>& AgeBands() {
  static const std::vector<std::string> kBands = {"0-17",  "18-24", "25-34", "35-44", "45-54",
                                                  "55-64", "65-74", "75-84", "85+",   "notRecorded"};
  return kBands;
}

size_t AgeBandIndex(const std::string& band) {
  for (size_t i = 0; i + 1 < AgeBands().size(); ++i) {
    if (AgeBands()[i] == band) return i;
  }
  return AgeBands().size() - 1;
}

// One breakdown of a figure by a person's code: its name (the figure id's
// middle part), its categories, and the index of a person's category.
struct Breakdown {
  const char* field;
  std::vector<std::string> categories;
  size_t (*of)(const PersonCodes&);
};

const std::vector<Breakdown>& Breakdowns() {
  using namespace domain::cs;
  static const std::vector<Breakdown> kAll = {
      {"ageBand", AgeBands(), [](const PersonCodes& c) { return AgeBandIndex(c.age_band); }},
      {"gender", CodeCategories<Gender>(), [](const PersonCodes& c) { return CodeIndex<Gender>(c.gender); }},
      {"disability", CodeCategories<Disability>(),
       [](const PersonCodes& c) { return CodeIndex<Disability>(c.disability); }},
      {"ethnicGroup", EthnicGroups(), [](const PersonCodes& c) { return EthnicGroupIndex(c.ethnicity); }},
      {"mainLanguage", CodeCategories<MainLanguage>(),
       [](const PersonCodes& c) { return CodeIndex<MainLanguage>(c.main_language); }},
      {"interpreterNeeded", CodeCategories<YesNo>(),
       [](const PersonCodes& c) { return CodeIndex<YesNo>(c.interpreter_needed); }},
      {"unpaidCarer", CodeCategories<YesNo>(), [](const PersonCodes& c) { return CodeIndex<YesNo>(c.unpaid_carer); }},
      {"mentalHealth", CodeCategories<YesNo>(),
       [](const PersonCodes& c) { return CodeIndex<YesNo>(c.mental_health); }},
      {"learningDisability", CodeCategories<YesNo>(),
       [](const PersonCodes& c) { return CodeIndex<YesNo>(c.learning_disability); }},
  };
  return kAll;
}

// Which case is being counted, and the cell whose cases are wanted (audit
// sampling), shared by every table of one return.
struct Tracer {
  CellTrace* trace = nullptr;  // null: nothing traced
  const std::string* current_case = nullptr;
};

// Whether two short strings (names, enumerants, districts) are the same:
// by length, then byte by byte, with no call (a call to memcmp for every
// candidate was a sixth of the KPI return's samples).
inline bool SameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Builds a table figure by figure; counts go to (figure, area).
class TableBuilder {
 public:
  TableBuilder(std::string id, std::string title, const std::vector<std::string>* areas,
               Tracer* tracer = nullptr)
      : areas_(areas), tracer_(tracer) {
    table_.id = std::move(id);
    table_.title = std::move(title);
  }
  size_t Figure(const std::string& id) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second;
    hearth::exports::Figure f;
    f.id = id;
    f.cells.resize(areas_->size());
    table_.figures.push_back(std::move(f));
    index_[id] = table_.figures.size() - 1;
    return table_.figures.size() - 1;
  }
  // A total and its breakdown: members "<prefix>.<name>" for each name.
  void Partition(const std::string& total, const std::string& prefix,
                 const std::vector<std::string>& names) {
    hearth::exports::Partition p;
    p.total = Figure(total);
    for (const auto& n : names) p.members.push_back(Figure(prefix + "." + n));
    table_.partitions.push_back(std::move(p));
  }
  // Counts one into the figure for the district (the county is summed later).
  void Count(std::string_view id, size_t area) { Count(id, {}, area); }
  // The figure "<prefix><name>": found among the names already met after
  // that prefix, by length then bytes (a count builds no string and hashes
  // nothing once its figure exists); made by Figure the first time, so
  // figures are made in the same order as ever.
  void Count(std::string_view prefix, std::string_view name, size_t area) {
    // The callers' prefixes are literals: found by address first.
    Family* family = nullptr;
    for (Family& f : families_) {
      if (f.at == prefix.data() && f.prefix.size() == prefix.size()) {
        family = &f;
        break;
      }
    }
    if (family == nullptr) {
      for (Family& f : families_) {
        if (SameBytes(f.prefix, prefix)) {
          family = &f;
          break;
        }
      }
    }
    if (family == nullptr) family = &families_.emplace_back(Family{std::string(prefix), prefix.data(), {}});
    for (const auto& [n, figure] : family->names) {
      if (SameBytes(n, name)) {
        Count(figure, area);
        return;
      }
    }
    key_.assign(prefix);
    key_.append(name);
    size_t figure = Figure(key_);
    family->names.emplace_back(std::string(name), figure);
    Count(figure, area);
  }
  void Count(size_t figure, size_t area) {
    ++table_.figures[figure].cells[area].value;
    const std::string& id = table_.figures[figure].id;
    if (tracer_ != nullptr && tracer_->trace != nullptr && id == tracer_->trace->figure &&
        (tracer_->trace->area == "county" || (*areas_)[area] == tracer_->trace->area)) {
      auto& cases = tracer_->trace->cases;
      if (cases.empty() || cases.back() != *tracer_->current_case) cases.push_back(*tracer_->current_case);
    }
  }
  // What a reader knows of the figures "<prefix>..." across returns (the
  // defaults suit counts of dated events: exports.h, Figure).
  void Across(const std::string& prefix, OverQuarters over_quarters, bool grows) {
    for (auto& f : table_.figures) {
      if (f.id.rfind(prefix, 0) == 0) {
        f.over_quarters = over_quarters;
        f.grows = grows;
      }
    }
  }
  Table Finish(size_t county) {
    for (auto& f : table_.figures) {
      int64_t sum = 0;
      for (size_t a = 0; a < f.cells.size(); ++a) {
        if (a != county) sum += f.cells[a].value;
      }
      f.cells[county].value = sum;
    }
    return std::move(table_);
  }

 private:
  const std::vector<std::string>* areas_;
  Tracer* tracer_;
  hearth::exports::Table table_;
  std::unordered_map<std::string, size_t> index_;
  std::string key_;
  struct Family {
    std::string prefix;
    const char* at;  // where the caller that made it keeps the prefix (compared, never read)
    std::vector<std::pair<std::string, size_t>> names;  // name after the prefix -> figure
  };
  std::vector<Family> families_;
};

// Sorted samples per area; the county gets every sample.
struct Samples {
  explicit Samples(size_t areas) : per_area(areas) {}
  std::vector<std::vector<int64_t>> per_area;
  void Add(size_t area, size_t county, int64_t v) {
    per_area[area].push_back(v);
    per_area[county].push_back(v);
  }
};

double Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? double(v[n / 2]) : (double(v[n / 2 - 1]) + double(v[n / 2])) / 2.0;
}

// Nearest rank: the ceil(0.9 n)-th smallest.
double P90(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  size_t rank = (v.size() * 9 + 9) / 10;
  return double(v[std::max<size_t>(rank, 1) - 1]);
}

// The same day `months` later (the last day of the month when it has no such day).
Date AddMonths(Date d, int months) {
  using namespace std::chrono;
  year_month_day ymd{d};
  year_month ym = year_month{ymd.year(), ymd.month()} + std::chrono::months{months};
  year_month_day_last last{ym.year(), month_day_last{ym.month()}};
  unsigned day = std::min(unsigned(ymd.day()), unsigned(last.day()));
  return sys_days{ym.year() / ym.month() / std::chrono::day{day}};
}

double Percent(int64_t num, int64_t den) {
  return std::round(1000.0 * double(num) / double(den)) / 10.0;
}

const Cell* FindCell(const std::vector<Table>& tables, const std::string& figure, size_t area) {
  for (const auto& t : tables) {
    for (const auto& f : t.figures) {
      if (f.id == figure) return &f.cells[area];
    }
  }
  return nullptr;
}

Json PolicyJson(const DisclosurePolicy& p) {
  Json j;
  j["name"] = p.name;
  j["controlled"] = p.controlled;
  j["threshold"] = p.threshold;
  j["rounding"] = p.rounding;
  j["exactCountyTotals"] = p.controlled ? p.exact_county : true;
  j["release"] = p.controlled ? "may be passed to the commissioning partnership"
                              : "management return: not disclosure-controlled, not for release "
                                "outside the partnership";
  return j;
}

// An earlier return of the same financial year released to the same
// recipient, as the money table's coordination needs it: its money cells as
// released, and what each grant added to them at its position and period end.
struct EarlierMoney {
  const std::vector<Figure>* figures = nullptr;  // as released; nullptr: taken as all published
  std::vector<std::string> areas;                // its areas (the districts, then county)
  MoneyByDistrict money;
  int64_t threshold = 0;                         // its policy's
  bool same_day = false;                         // its money is as of the new return's day (same period, or Q4 and the year)
  bool same_position = false;                    // taken at the new return's position
};

// Whether a money cell of an earlier return was suppressed (false when the
// ledger did not keep its money: taken as published, which only makes the
// new return more careful).
bool EarlierHidden(const EarlierMoney& e, const std::string& id, const std::string& area) {
  if (e.figures == nullptr) return false;
  size_t a = size_t(std::find(e.areas.begin(), e.areas.end(), area) - e.areas.begin());
  if (a == e.areas.size()) return false;
  for (const Figure& f : *e.figures) {
    if (f.id == id) return a < f.cells.size() && f.cells[a].mark == CellMark::kSuppressed;
  }
  return false;
}

// The money table (docs/exports.md, "Money"): allocation, committed and
// spent per fund, year to date at `as_of`, and the share of the allocation
// committed or spent. Under a controlled policy a committed or spent cell
// backed by 1..threshold-1 grants is suppressed (a sum of one or two grants
// is those people's grants), with one more cell of its row when it is the
// only one (the county is the sum of the districts); allocations are the
// council's budget decisions, not about anyone, and are published. With
// earlier returns of the year released to the recipient (`earlier`), no sum
// a reader can work out in both returns may differ by the money of
// 1..threshold-1 grants.
void BuildMoneyTable(const MoneyByDistrict& money, const std::vector<std::string>& areas, size_t county,
                     const DisclosurePolicy& policy, const std::vector<EarlierMoney>& earlier, MoneyTable* out) {
  auto grants_of = [](const FundMoney& m, int what) {
    return what == 1 ? m.committed_grants : what == 2 ? m.spent_grants : 0;
  };
  auto value_of = [](const FundMoney& m, int what) {
    return what == 0 ? m.allocation : what == 1 ? m.committed : m.spent;
  };
  auto find = [](const MoneyByDistrict& by, const std::string& district, const std::string& fund) -> const FundMoney* {
    auto d = by.find(district);
    if (d == by.end()) return nullptr;
    auto m = d->second.find(fund);
    return m == d->second.end() ? nullptr : &m->second;
  };
  const bool coordinated = policy.controlled && !earlier.empty();
  // An earlier return whose money may differ from this one's (another day
  // or another position): a re-run at the same day and position is then
  // the same bytes.
  const bool moved_since = policy.controlled && std::any_of(earlier.begin(), earlier.end(), [](const EarlierMoney& e) {
                             return !e.same_day || !e.same_position;
                           });
  static const char* kWhat[] = {"allocation", "committed", "spent"};
  for (const std::string& fund : FundNames()) {
    size_t rows[3];
    for (int what = 0; what < 3; ++what) {
      Figure f;
      f.id = "money." + fund + "." + kWhat[what];
      f.cells.resize(areas.size());
      std::vector<int64_t> grants(areas.size(), 0);
      for (size_t a = 0; a < county; ++a) {
        const FundMoney* m = find(money, areas[a], fund);
        if (m == nullptr) continue;
        f.cells[a].value = value_of(*m, what);
        grants[a] = grants_of(*m, what);
        f.cells[county].value += f.cells[a].value;
        grants[county] += grants[a];
      }
      for (auto& c : f.cells) c.published = c.value;
      if (policy.controlled && what != 0) {
        auto small = [&](size_t a) { return grants[a] >= 1 && grants[a] < policy.threshold; };
        for (size_t a = 0; a < areas.size(); ++a) {
          if (small(a)) {
            f.cells[a].mark = CellMark::kSuppressed;
            ++out->suppressed_small;
          }
        }
        // A cell suppressed in an earlier return of the same day stays
        // suppressed (a reader who assumes it did not move between two
        // positions learns nothing from the later one).
        for (const EarlierMoney& e : earlier) {
          if (!e.same_day) continue;
          for (size_t a = 0; a < areas.size(); ++a) {
            if (f.cells[a].mark == CellMark::kSuppressed || !EarlierHidden(e, f.id, areas[a])) continue;
            f.cells[a].mark = CellMark::kSuppressed;
            f.cells[a].secondary = true;
            ++out->suppressed_across_returns;
          }
        }
        // A lone suppressed district would be the county less the others.
        // Coordinated with earlier returns, the county itself goes: the
        // earlier returns hold the other districts' values, so hiding a
        // second district whose money did not move would hide nothing.
        for (;;) {
          size_t hidden = 0;
          for (size_t a = 0; a < county; ++a) hidden += f.cells[a].mark == CellMark::kSuppressed;
          if (hidden == 0 || f.cells[county].mark == CellMark::kSuppressed) break;
          if (hidden != 1 && !moved_since) break;
          std::optional<size_t> pick;
          for (size_t a = 0; a < county && !moved_since; ++a) {
            if (f.cells[a].mark == CellMark::kSuppressed || grants[a] == 0) continue;
            if (!pick || f.cells[a].value < f.cells[*pick].value) pick = a;
          }
          size_t target = pick ? *pick : county;
          f.cells[target].mark = CellMark::kSuppressed;
          f.cells[target].secondary = true;
          ++out->suppressed_secondary;
        }
      }
      rows[what] = out->figures.size();
      out->figures.push_back(std::move(f));
    }
    if (coordinated) {
      // Across returns. A reader holding a return knows, per row, each
      // published district and, when the county is published, the sum of
      // the suppressed districts. So the sums over a set of districts known
      // in both the new return and an earlier one are the unions of the
      // blocks that join those groups; the difference of a block between
      // the two returns is the money of the grants whose part in it
      // changed. 1..threshold-1 such grants: a cell of the block is
      // suppressed in the new return (with its county), and again.
      Figure* committed = &out->figures[rows[1]];
      Figure* spent = &out->figures[rows[2]];
      auto hidden_now = [&](const Figure* f, size_t a) { return f->cells[a].mark == CellMark::kSuppressed; };
      for (bool again = true; again;) {
        again = false;
        for (const EarlierMoney& e : earlier) {
          // 1: committed, 2: spent, 3: committed + spent (both known: their sum's difference).
          for (int row = 1; row <= 3 && !again; ++row) {
            std::vector<size_t> parent(county);
            for (size_t a = 0; a < county; ++a) parent[a] = a;
            std::function<size_t(size_t)> root = [&](size_t a) {
              return parent[a] == a ? a : parent[a] = root(parent[a]);
            };
            std::vector<bool> unknown(county, false);
            auto add = [&](auto hidden, bool county_hidden) {
              std::optional<size_t> group;
              for (size_t a = 0; a < county; ++a) {
                if (!hidden(a)) continue;
                if (county_hidden) {
                  unknown[a] = true;
                } else if (group) {
                  parent[root(a)] = root(*group);
                } else {
                  group = a;
                }
              }
            };
            for (int part : {1, 2}) {
              if (row != 3 && row != part) continue;
              const Figure* now = part == 1 ? committed : spent;
              const std::string id = now->id;
              add([&](size_t a) { return hidden_now(now, a); }, hidden_now(now, county));
              add([&](size_t a) { return EarlierHidden(e, id, areas[a]); }, EarlierHidden(e, id, "county"));
            }
            std::map<size_t, std::vector<size_t>> blocks;
            for (size_t a = 0; a < county; ++a) blocks[root(a)].push_back(a);
            for (const auto& [r, members] : blocks) {
              if (std::any_of(members.begin(), members.end(), [&](size_t a) { return bool(unknown[a]); })) continue;
              // Each grant's part in the block's sum, then and now.
              std::map<std::string, std::pair<int64_t, int64_t>> part_of;
              for (size_t a : members) {
                for (int when = 0; when < 2; ++when) {
                  const FundMoney* m = find(when == 0 ? e.money : money, areas[a], fund);
                  if (m == nullptr) continue;
                  for (int part : {1, 2}) {
                    if (row != 3 && row != part) continue;
                    for (const auto& [grant, pence] : part == 1 ? m->committed_by_grant : m->spent_by_grant) {
                      (when == 0 ? part_of[grant].first : part_of[grant].second) += pence;
                    }
                  }
                }
              }
              int64_t moved = 0;
              for (const auto& [grant, then_now] : part_of) moved += then_now.first != then_now.second;
              if (moved == 0 || moved >= std::max<int64_t>(policy.threshold, e.threshold)) continue;
              // Suppress a published cell of the block in the new return:
              // the smallest non-zero first (committed for the sum of both).
              Figure* target = nullptr;
              std::optional<size_t> pick;
              for (Figure* f : {committed, spent}) {
                if (row == 2 && f == committed) continue;
                if (row == 1 && f == spent) continue;
                for (size_t a : members) {
                  if (hidden_now(f, a)) continue;
                  const int64_t v = f->cells[a].value;
                  bool better = !pick || (v != 0 && (target->cells[*pick].value == 0 || v < target->cells[*pick].value));
                  if (better) {
                    target = f;
                    pick = a;
                  }
                }
                if (pick && target->cells[*pick].value != 0) break;
              }
              if (!pick) {
                // Known only through a published county: it goes.
                for (Figure* f : {committed, spent}) {
                  if ((row == 1 && f == spent) || (row == 2 && f == committed) || hidden_now(f, county)) continue;
                  f->cells[county].mark = CellMark::kSuppressed;
                  f->cells[county].secondary = true;
                  ++out->suppressed_secondary;
                  again = true;
                }
                if (again) break;
                continue;
              }
              target->cells[*pick].mark = CellMark::kSuppressed;
              ++out->suppressed_across_returns;
              if (!hidden_now(target, county)) {
                target->cells[county].mark = CellMark::kSuppressed;
                target->cells[county].secondary = true;
                ++out->suppressed_secondary;
              }
              again = true;
              break;
            }
          }
          if (again) break;
        }
      }
    }
    Statistic share;
    share.id = "money." + fund + ".committedOrSpent.share";
    share.unit = "percent";
    for (size_t a = 0; a < areas.size(); ++a) {
      const Cell& alloc = out->figures[rows[0]].cells[a];
      const Cell& committed = out->figures[rows[1]].cells[a];
      const Cell& spent = out->figures[rows[2]].cells[a];
      share.n.push_back(alloc.value);
      // From published cells only: a share of a suppressed cell would give it back.
      if (alloc.value > 0 && committed.mark != CellMark::kSuppressed && spent.mark != CellMark::kSuppressed) {
        share.value.push_back(Percent(committed.published + spent.published, alloc.published));
      } else {
        share.value.push_back(std::nullopt);
        if (alloc.value > 0) ++out->shares_withheld;
      }
    }
    out->shares.push_back(std::move(share));
  }
}

Status WriteOne(const std::string& path, const std::string& bytes) {
  return WriteExportFile(path, bytes);
}

}  // namespace

Result<Period> ParsePeriod(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("period '" + std::string(text) + "': " + why +
                                   " (expected e.g. 2018/19 or 2018/19-Q1)");
  };
  if (text.size() != 7 && text.size() != 10) return bad("malformed");
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return bad("malformed");
  }
  if (text[4] != '/') return bad("malformed");
  int y = std::stoi(std::string(text.substr(0, 4)));
  int next = std::stoi(std::string(text.substr(5, 2)));
  if ((y + 1) % 100 != next) return bad("the second year must follow the first");
  if (y < 1900 || y > 2998) return bad("year out of range");
  using namespace std::chrono;
  Period p;
  p.label = std::string(text);
  p.first = sys_days{year{y} / April / 1};
  p.last = sys_days{year{y + 1} / March / 31};
  if (text.size() == 10) {
    if (text[7] != '-' || text[8] != 'Q' || text[9] < '1' || text[9] > '4') {
      return bad("unknown quarter");
    }
    int q = text[9] - '1';
    year_month start = year{y} / April + months{3 * q};
    year_month after = start + months{3};
    p.first = sys_days{start / 1};
    p.last = sys_days{after / 1} - days{1};
  }
  return p;
}

Status WriteExportFile(const std::string& path, const std::string& bytes) {
  // O_EXCL: the output directory was checked empty, so an existing file (or a
  // symbolic link planted meanwhile) is refused rather than written through.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  // The mode is 0600 whatever the umask.
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += size_t(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  return Status::OK();
}

Status CheckOutputDir(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("no output directory given (--out)");
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Status::OK();
  if (!S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("output " + dir + " exists and is not a directory");
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Status::InvalidArgument("output directory " + dir + " cannot be read");
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  if (!empty) return Status::InvalidArgument("output directory " + dir + " exists and is not empty");
  return Status::OK();
}

namespace {

// The return from one source of facts (BuildKpiReturn).
Result<KpiReturn> BuildFrom(FactSource& all, LogReader& store, const domain::Codec& codec,
                            const domain::Calendar& calendar, const Period& period,
                            const DisclosurePolicy& policy, const KpiOptions& options) {
  KpiReturn kpi;
  kpi.period = period;
  kpi.policy = policy;
  kpi.position = all.position;
  kpi.timescales = all.timescales;
  const Timescales& targets = kpi.timescales;
  const std::set<std::string>& districts = all.districts;
  kpi.areas.assign(districts.begin(), districts.end());
  kpi.areas.push_back("county");
  const size_t county = kpi.areas.size() - 1;
  // A district's area: a county has a handful, so a scan by length and bytes
  // (no hash of the name for every dated fact).
  auto area = [&](const std::string& d) -> std::optional<size_t> {
    for (size_t i = 0; i < county; ++i) {
      if (SameBytes(kpi.areas[i], d)) return i;
    }
    return std::nullopt;
  };

  Tracer tracer;
  tracer.trace = options.trace;
  const auto channels = Enumerants<Channel>();
  const auto referrers = Enumerants<ReferrerType>();
  const auto tenures = Enumerants<Tenure>();
  const auto urgencies = Enumerants<Urgency>();
  const auto outcomes = Enumerants<Outcome>(true);
  const auto stages = Enumerants<ComplaintStage>();
  const auto safeguarding_categories = Enumerants<SafeguardingCategory>();
  const std::vector<std::string> scores = {"1", "2", "3", "4", "5"};

  TableBuilder enquiries("enquiries", "Enquiries by channel and referrer type", &kpi.areas, &tracer);
  enquiries.Partition("enquiries.total", "enquiries.channel", channels);
  enquiries.Partition("enquiries.total", "enquiries.referrer", referrers);
  // Target groups and equality (003 7.2, 9.1): each breakdown of a figure by
  // a person's code is a partition of it, so that disclosure control and the
  // release ledger's joint audit cover its cells like any other breakdown.
  // Per breakdown, its categories' figures in the table.
  using BreakdownFigures = std::vector<std::vector<size_t>>;
  auto equality_partitions = [](TableBuilder* b, const std::string& total, const std::string& base) {
    BreakdownFigures figures;
    for (const Breakdown& d : Breakdowns()) {
      b->Partition(total, base + "." + d.field, d.categories);
      figures.emplace_back();
      for (const auto& c : d.categories) figures.back().push_back(b->Figure(base + "." + d.field + "." + c));
    }
    return figures;
  };
  const BreakdownFigures enquiry_groups = equality_partitions(&enquiries, "enquiries.total", "enquiries");
  // Schedule B of the service specification, row by row (docs/exports.md,
  // "Schedule B"); its "DFG of all value" row is dfg.approved.total.
  TableBuilder services("services", "Schedule B: people, households, repairs and grants", &kpi.areas, &tracer);
  for (const char* id : {"services.adviceInformationGuidance", "services.minorAdaptationHouseholds",
                         "services.handypersonPeople", "services.repairsCompleted",
                         "services.dementiaDwellingGrantsApproved"}) {
    services.Figure(id);
  }
  const BreakdownFigures household_groups =
      equality_partitions(&services, "services.minorAdaptationHouseholds", "services.minorAdaptations");
  const std::vector<std::string> priorities = {"1", "2", "3", "unspecified"};
  TableBuilder dfg("dfg", "Disabled facilities grants approved and completed", &kpi.areas, &tracer);
  for (const char* what : {"approved", "completed"}) {
    std::string base = std::string("dfg.") + what;
    dfg.Partition(base + ".total", base + ".urgency", urgencies);
    dfg.Partition(base + ".total", base + ".tenure", tenures);
    dfg.Partition(base + ".total", base + ".priority", priorities);
  }
  const BreakdownFigures dfg_groups = equality_partitions(&dfg, "dfg.approved.total", "dfg.approved");
  // The statutory decision on a valid application (approval or refusal).
  dfg.Partition("dfg.decisions.total", "dfg.decisions", {"withinTarget", "later"});
  TableBuilder outcome_table("outcomes", "Cases with each outcome recorded", &kpi.areas, &tracer);
  for (const auto& o : outcomes) outcome_table.Figure("outcomes." + o);
  TableBuilder visits("firstVisits", "First visits against the target, and people still waiting", &kpi.areas, &tracer);
  visits.Partition("firstVisits.total", "firstVisits", {"withinTarget", "later"});
  visits.Partition("firstVisits.waitingAtPeriodEnd", "firstVisits.waitingAtPeriodEnd",
                   {"withinTarget", "overTarget"});
  TableBuilder complaints("complaints", "Complaints", &kpi.areas, &tracer);
  complaints.Partition("complaints.received.total", "complaints.received.stage", stages);
  // 003 9.1 "number, stage": the complaints that reached each formal stage
  // in the period, at entry or by escalation (a flow of dated events, like
  // every count of the table: a complaint escalated twice in a period counts
  // at both stages, so these are not a partition).
  for (const char* reached : {"stage1", "stage2", "ombudsman"}) {
    complaints.Figure(std::string("complaints.reached.") + reached);
  }
  complaints.Figure("complaints.resolved");
  TableBuilder other("other", "Compliments and safeguarding alerts", &kpi.areas, &tracer);
  other.Figure("other.compliments");
  other.Partition("other.safeguardingAlerts", "other.safeguardingAlerts.category", safeguarding_categories);
  // Appendix E "referrals to specified services": OnwardReferralMade by
  // destination, and whether the person was referred or only signposted.
  const auto destinations = Enumerants<domain::cs::OnwardDestination>(true);
  TableBuilder referrals("referrals", "Referrals and signposting to specified services", &kpi.areas, &tracer);
  referrals.Partition("referrals.onward.total", "referrals.onward.destination", destinations);
  referrals.Partition("referrals.onward.total", "referrals.onward", {"referred", "signposted"});
  TableBuilder satisfaction("satisfaction", "Satisfaction and impact: responses, and questionnaires sent and returned",
                           &kpi.areas, &tracer);
  satisfaction.Partition("satisfaction.responses", "satisfaction.score", scores);
  // 003 7.6: the impact and quality-of-life answers, and the questionnaires
  // sent and returned (their ratio is the response rate, a statistic).
  satisfaction.Partition("satisfaction.responses", "satisfaction.qualityOfLife",
                         Enumerants<domain::cs::QualityOfLifeChange>());
  for (const auto& i : Enumerants<domain::cs::ImpactReported>(true)) satisfaction.Figure("satisfaction.impact." + i);
  satisfaction.Figure("satisfaction.questionnaires.sent");
  satisfaction.Figure("satisfaction.questionnaires.returned");
  // Across returns (docs/exports.md, "Coordination across returns"): people
  // and households count once in the year; people waiting are counted on the
  // last day; breakdowns by what is read as of P, decisions and waiting (the
  // district as of P) and first visits (a later-recorded earlier visit or
  // referral moves them) can shrink at a later position.
  for (const char* id : {"services.adviceInformationGuidance", "services.minorAdaptationHouseholds",
                         "services.handypersonPeople"}) {
    services.Across(id, OverQuarters::kDistinct, true);
  }
  for (const char* prefix : {"dfg.approved.urgency.", "dfg.approved.tenure.", "dfg.approved.priority.",
                             "dfg.completed.urgency.", "dfg.completed.tenure.", "dfg.completed.priority.",
                             "dfg.decisions."}) {
    dfg.Across(prefix, OverQuarters::kSum, false);
  }
  // A person's codes are read as of P (a correction or a later registration
  // moves them between categories), so no category only grows; households
  // count once in the year in each category as in the total.
  for (const Breakdown& d : Breakdowns()) {
    enquiries.Across(std::string("enquiries.") + d.field + ".", OverQuarters::kSum, false);
    dfg.Across(std::string("dfg.approved.") + d.field + ".", OverQuarters::kSum, false);
  }
  services.Across("services.minorAdaptations.", OverQuarters::kDistinct, false);
  visits.Across("firstVisits.", OverQuarters::kSum, false);
  visits.Across("firstVisits.waitingAtPeriodEnd", OverQuarters::kLastQuarter, false);

  const size_t n_areas = kpi.areas.size();
  Samples stage_samples[4] = {Samples(n_areas), Samples(n_areas), Samples(n_areas), Samples(n_areas)};
  const char* stage_names[4] = {"assessment", "application", "approval", "completion"};
  Samples end_to_end(n_areas), resolve_days(n_areas), decision_days(n_areas);
  std::vector<int64_t> urgent_n(n_areas), urgent_within(n_areas), other_n(n_areas), other_within(n_areas);

  // Complaints, on a case or with no case of their own (complaint/K-<n>).
  auto count_complaints = [&](const CaseFacts& c) {
    auto reached = [&](const ComplaintFact& f) {
      const std::string_view stage = f.stage;
      if (stage != "stage1" && stage != "stage2" && stage != "ombudsman") return;
      if (auto a = area(f.district); a && In(period, f.on)) complaints.Count("complaints.reached.", f.stage, *a);
    };
    for (const auto& r : c.complaints_received) {
      reached(r);
      auto a = area(r.district);
      if (!a || !In(period, r.on)) continue;
      complaints.Count("complaints.received.total", *a);
      complaints.Count("complaints.received.stage.", r.stage, *a);
    }
    for (const auto& x : c.complaints_escalated) reached(x);
    for (const auto& r : c.complaints_resolved) {
      auto a = area(r.district);
      if (!a || !In(period, r.on)) continue;
      complaints.Count("complaints.resolved", *a);
      // Time taken: from the day the complaint reached the stage answered
      // (its receipt, or its last escalation before the response).
      std::optional<Date> from;
      for (const auto* list : {&c.complaints_received, &c.complaints_escalated}) {
        for (const auto& f : *list) {
          bool same_stage = r.stage == "unspecified" || f.stage == r.stage;
          if (f.number == r.number && same_stage && f.on <= r.on && (!from || f.on > *from)) from = f.on;
        }
      }
      if (from) resolve_days.Add(*a, county, (r.on - *from).count());
    }
  };
  Status passed = all.ForEachComplaintStream([&](const std::string& id, const CaseFacts& c) {
    tracer.current_case = &id;
    count_complaints(c);
    return Status::OK();
  });
  if (!passed.ok()) return passed;

  // Money: year to date at the period's last day, in the financial year the
  // period lies in; counted in the same pass over the cases.
  using namespace std::chrono;
  year_month_day period_first{period.first};
  const int money_year = int(period_first.year()) - (period_first.month() < April ? 1 : 0);
  char label[16];
  std::snprintf(label, sizeof label, "%04d/%02d", money_year, (money_year + 1) % 100);
  const Date year_first = sys_days{year{money_year} / April / 1};
  MoneyCounter money(all.allocations, label, year_first, period.last);
  // The earlier returns of this financial year released to the recipient,
  // each with its grants' parts as at its own position and period end.
  std::vector<const ReleasedReturn*> earlier_released;
  uint64_t furthest = all.position;
  if (options.released != nullptr && policy.controlled) {
    for (const ReleasedReturn& r : *options.released) {
      if (r.period.label.substr(0, 7) != label) continue;
      earlier_released.push_back(&r);
      furthest = std::max(furthest, r.position);
    }
  }
  // A return taken at an earlier position than one already released: that
  // one's money needs the log up to its own position, in a pass of its own.
  const bool wider = furthest > all.position;
  std::vector<MoneyCounter> earlier_money;
  if (!wider) {
    for (const ReleasedReturn* r : earlier_released) {
      earlier_money.emplace_back(all.allocations, label, year_first, r->period.last, r->position);
    }
  }

  // (district, client): a person or household counts once per district.
  // Each key is district, NUL, person: one string, short enough to be held
  // in place (no allocation of its own) for the demo's ids. (An unordered
  // set was slower at a county's size: its inserts miss the cache.)
  base::StringIndex advised, households, handyperson_people;
  std::string pair_key;
  auto first_in = [&pair_key](base::StringIndex& seen, const std::string& district, const std::string& person) {
    pair_key.assign(district).push_back('\0');
    pair_key.append(person);
    return seen.Add(pair_key);
  };
  std::vector<std::string_view> outcome_seen;  // one case's outcomes counted so far
  static const std::string kUnspecified = "unspecified";
  static const std::string kPriorities[4] = {"unspecified", "1", "2", "3"};
  // The codes are counted for an enquiry, a completion or an approval in the
  // period: the source reads ahead only those cases' clients' codes (the
  // cases of other years need none).
  all.codes_wanted = [&period](const CaseFacts& c) {
    auto any_in = [&period](const auto& facts) {
      return std::any_of(facts.begin(), facts.end(), [&period](const auto& f) { return In(period, f.on); });
    };
    return any_in(c.enquiries) || any_in(c.works_completed) || any_in(c.grants_approved);
  };
  struct Unset {
    FactSource& all;
    ~Unset() { all.codes_wanted = nullptr; }
  } unset{all};
  passed = all.ForEachCase([&](const std::string& id, const CaseFacts& c) -> Status {
    tracer.current_case = &id;
    money.Add(id, c);
    for (MoneyCounter& m : earlier_money) m.Add(id, c);
    const domain::CaseState& s = c.state;
    const std::string& tenure = s.tenure.empty() ? kUnspecified : s.tenure;
    // The client's codes (none recorded: every breakdown's notRecorded),
    // read when a count first needs them.
    static const PersonCodes kNotRecorded;
    const PersonCodes* codes = nullptr;  // CodesOf's, valid until its next call
    Status codes_read;
    auto count_codes = [&](TableBuilder* b, const BreakdownFigures& figures, size_t at) {
      if (codes == nullptr) {
        auto found = all.CodesOf(s.client);
        if (!found.ok()) codes_read = found.status();
        codes = found.ok() && *found != nullptr ? *found : &kNotRecorded;
      }
      for (size_t i = 0; i < figures.size(); ++i) b->Count(figures[i][Breakdowns()[i].of(*codes)], at);
    };
    for (const auto& e : c.enquiries) {
      auto a = area(e.district);
      if (!a || !In(period, e.on)) continue;
      enquiries.Count("enquiries.total", *a);
      enquiries.Count("enquiries.channel.", e.channel, *a);
      enquiries.Count("enquiries.referrer.", e.referrer_type, *a);
      count_codes(&enquiries, enquiry_groups, *a);
    }
    // A person counts once per district, however many of their cases were advised.
    const std::string& person = s.client.empty() ? id : s.client;
    for (const auto& e : c.consultations) {
      auto a = area(e.district);
      if (!a || !In(period, e.on) || !first_in(advised, e.district, person)) continue;
      services.Count("services.adviceInformationGuidance", *a);
    }
    // Completions, not openings: a line withdrawn or refused has no
    // WorksCompleted; a household (the case's client) counts once however
    // many of its lines were completed.
    for (const auto& w : c.works_completed) {
      auto a = area(w.district);
      const domain::ServiceLine* l = s.FindLine(w.line);
      if (!a || !In(period, w.on) || l == nullptr) continue;
      if (l->service == std::string_view("minorAdaptation") && first_in(households, w.district, person)) {
        services.Count("services.minorAdaptationHouseholds", *a);
        count_codes(&services, household_groups, *a);
      }
      if (l->service == std::string_view("handyperson") && first_in(handyperson_people, w.district, person)) {
        services.Count("services.handypersonPeople", *a);
      }
      if (l->service == std::string_view("repairs")) services.Count("services.repairsCompleted", *a);
    }
    for (const auto& g : c.grants_approved) {
      auto a = area(g.district);
      if (a && In(period, g.on) && g.service == std::string_view("dementiaDwellingGrant")) {
        services.Count("services.dementiaDwellingGrantsApproved", *a);
      }
    }
    auto urgency_of = [&](uint16_t line) -> const std::string& {
      const domain::ServiceLine* l = s.FindLine(line);
      return l == nullptr || l->urgency.empty() ? kUnspecified : l->urgency;
    };
    auto priority_of = [&](uint16_t line) -> const std::string& {
      const domain::ServiceLine* l = s.FindLine(line);
      return kPriorities[l == nullptr || l->ot_priority < 1 || l->ot_priority > 3 ? 0 : l->ot_priority];
    };
    for (const auto& g : c.grants_approved) {
      auto a = area(g.district);
      if (!a || !In(period, g.on) || g.service != std::string_view("mandatoryDfg")) continue;
      dfg.Count("dfg.approved.total", *a);
      dfg.Count("dfg.approved.urgency.", urgency_of(g.line), *a);
      dfg.Count("dfg.approved.tenure.", tenure, *a);
      dfg.Count("dfg.approved.priority.", priority_of(g.line), *a);
      count_codes(&dfg, dfg_groups, *a);
    }
    // The statutory decision: from the application's validOn (else its
    // submittedOn) to the approval or refusal, against the target in months.
    for (const auto& l : s.lines) {
      if (l.service != std::string_view("mandatoryDfg")) continue;
      std::optional<Date> decided = l.approved_on ? l.approved_on : l.refused_on;
      std::optional<Date> valid = l.valid_on ? l.valid_on : l.application_on;
      auto a = area(s.district);
      if (!a || !decided || !valid || !In(period, *decided) || *decided < *valid) continue;
      dfg.Count("dfg.decisions.total", *a);
      dfg.Count(*decided <= AddMonths(*valid, targets.dfg_decision_months) ? "dfg.decisions.withinTarget"
                                                                            : "dfg.decisions.later",
                *a);
      decision_days.Add(*a, county, (*decided - *valid).count());
    }
    for (const auto& w : c.works_completed) {
      auto a = area(w.district);
      const domain::ServiceLine* l = s.FindLine(w.line);
      if (!a || !In(period, w.on) || l == nullptr || l->service != std::string_view("mandatoryDfg")) continue;
      const std::string& urgency = urgency_of(w.line);
      dfg.Count("dfg.completed.total", *a);
      dfg.Count("dfg.completed.urgency.", urgency, *a);
      dfg.Count("dfg.completed.tenure.", tenure, *a);
      dfg.Count("dfg.completed.priority.", priority_of(w.line), *a);
      // Timescales: first contact -> assessment -> application -> approval -> completion.
      std::optional<Date> points[5] = {s.enquiry_on ? s.enquiry_on : std::optional<Date>(l->opened_on),
                                       s.assessed_on, l->application_on, l->approved_on, w.on};
      for (int i = 0; i < 4; ++i) {
        if (!points[i] || !points[i + 1] || *points[i + 1] < *points[i]) continue;
        auto wd = calendar.WorkingDaysBetween(*points[i], *points[i + 1]);
        if (!wd.ok()) return wd.status();
        stage_samples[i].Add(*a, county, *wd);
      }
      if (points[0] && *points[0] <= w.on) {
        auto wd = calendar.WorkingDaysBetween(*points[0], w.on);
        if (!wd.ok()) return wd.status();
        end_to_end.Add(*a, county, *wd);
        bool urgent = urgency == "urgent";
        for (size_t x : {*a, county}) {
          (urgent ? urgent_n : other_n)[x] += 1;
          if (*wd <= (urgent ? targets.dfg_urgent_days : targets.dfg_non_urgent_days)) {
            (urgent ? urgent_within : other_within)[x] += 1;
          }
        }
      }
    }
    outcome_seen.clear();  // a case counts once per outcome in the period
    for (const auto& o : c.outcomes) {
      auto a = area(o.district);
      if (!a || !In(period, o.on)) continue;
      for (const auto& name : o.outcomes) {
        if (name == kUnspecified ||
            std::find(outcome_seen.begin(), outcome_seen.end(), std::string_view(name)) != outcome_seen.end()) {
          continue;
        }
        outcome_seen.push_back(name);
        outcome_table.Count("outcomes.", name, *a);
      }
    }
    // The first-visit clock starts at the first referral when the case came
    // by referral (and the referral came before the visit), else at the enquiry.
    std::optional<Date> clock = s.enquiry_on;
    if (c.first_referral_on && (!c.first_visit || *c.first_referral_on <= c.first_visit->on)) {
      clock = c.first_referral_on;
    }
    if (c.first_visit && In(period, c.first_visit->on)) {
      if (auto a = area(c.first_visit->district)) {
        visits.Count("firstVisits.total", *a);
        bool within = clock && (c.first_visit->on - *clock).count() <= targets.first_visit_days;
        visits.Count(within ? "firstVisits.withinTarget" : "firstVisits.later", *a);
      }
    }
    // Still waiting when the period ends: a visit was due (the case was
    // referred, or a first visit booked) on or before the last day, none was
    // made by then, and the case was not closed by then.
    {
      std::optional<Date> due_from = c.first_referral_on;
      if (c.first_visit_scheduled_on && (!due_from || *c.first_visit_scheduled_on < *due_from)) {
        due_from = c.first_visit_scheduled_on;
      }
      bool visited = c.first_visit && c.first_visit->on <= period.last;
      bool closed = s.closed && s.closed_on && *s.closed_on <= period.last;
      if (due_from && *due_from <= period.last && clock && *clock <= period.last && !visited && !closed) {
        if (auto a = area(s.district)) {
          visits.Count("firstVisits.waitingAtPeriodEnd", *a);
          visits.Count((period.last - *clock).count() <= targets.first_visit_days
                           ? "firstVisits.waitingAtPeriodEnd.withinTarget"
                           : "firstVisits.waitingAtPeriodEnd.overTarget",
                       *a);
        }
      }
    }
    count_complaints(c);
    for (const auto& x : c.compliments) {
      if (auto a = area(x.district); a && In(period, x.on)) other.Count("other.compliments", *a);
    }
    for (const auto& x : c.safeguarding) {
      if (auto a = area(x.district); a && In(period, x.on)) {
        other.Count("other.safeguardingAlerts", *a);
        other.Count("other.safeguardingAlerts.category.", x.category, *a);
      }
    }
    for (const auto& x : c.onward_referrals) {
      auto a = area(x.district);
      if (!a || !In(period, x.on) || x.destination == "unspecified") continue;
      referrals.Count("referrals.onward.total", *a);
      referrals.Count("referrals.onward.destination.", x.destination, *a);
      referrals.Count(x.signposted ? "referrals.onward.signposted" : "referrals.onward.referred", *a);
    }
    for (const auto& x : c.satisfaction) {
      auto a = area(x.district);
      if (!a || !In(period, x.on) || x.score < 1 || x.score > 5) continue;
      satisfaction.Count("satisfaction.responses", *a);
      satisfaction.Count("satisfaction.score.", scores[size_t(x.score - 1)], *a);
      satisfaction.Count("satisfaction.qualityOfLife.", x.quality_of_life, *a);
      for (const auto& i : x.impacts) satisfaction.Count("satisfaction.impact.", i, *a);
      if (x.returns_questionnaire) satisfaction.Count("satisfaction.questionnaires.returned", *a);
    }
    for (const auto& x : c.questionnaires_sent) {
      auto a = area(x.district);
      if (!a || !In(period, x.on)) continue;
      satisfaction.Count("satisfaction.questionnaires.sent", *a);
    }
    return codes_read;
  });
  if (passed.ok()) passed = all.Finish();
  if (!passed.ok()) return passed;

  for (TableBuilder* b : {&enquiries, &services, &dfg, &outcome_table, &visits, &complaints, &other,
                          &referrals, &satisfaction}) {
    kpi.tables.push_back(b->Finish(county));
  }
  ApplyDisclosureControl(policy, county, &kpi.tables, &kpi.report);
  if (options.released != nullptr && policy.controlled) {
    Status coordinated = CoordinateWithReleased(*options.released, &kpi);
    if (!coordinated.ok()) return coordinated;
  }

  {
    kpi.money.financial_year = label;
    kpi.money.as_of = period.last;
    if (wider) {
      CollectOptions wo;
      wo.position = furthest;
      auto w = OpenFactsFromLog(store, codec, wo);
      if (!w.ok()) return w.status();
      for (const ReleasedReturn* r : earlier_released) {
        earlier_money.emplace_back((*w)->allocations, label, year_first, r->period.last, r->position);
      }
      Status s = (*w)->ForEachCase([&](const std::string& id, const CaseFacts& c) {
        for (MoneyCounter& m : earlier_money) m.Add(id, c);
        return Status::OK();
      });
      if (!s.ok()) return s;
    }
    std::vector<EarlierMoney> earlier;
    for (size_t i = 0; i < earlier_released.size(); ++i) {
      const ReleasedReturn& r = *earlier_released[i];
      EarlierMoney e;
      e.figures = r.money_recorded ? &r.money : nullptr;
      e.areas = r.areas;
      e.money = earlier_money[i].Take();
      e.threshold = r.policy.threshold;
      e.same_day = r.period.last == period.last;
      e.same_position = r.position == all.position;
      earlier.push_back(std::move(e));
    }
    BuildMoneyTable(money.Take(), kpi.areas, county, policy, earlier, &kpi.money);
  }

  // Statistics: withheld for groups below the threshold and for areas whose
  // group count is suppressed (its presence would bound that count).
  auto publishable = [&](const std::string& group, size_t a, int64_t n) {
    if (n == 0) return false;
    if (!policy.controlled) return true;
    if (n < policy.threshold) return false;
    const Cell* c = group.empty() ? nullptr : FindCell(kpi.tables, group, a);
    return c == nullptr || c->mark != CellMark::kSuppressed;
  };
  auto add_stat = [&](const std::string& id, const std::string& unit, const std::string& group,
                      const std::vector<std::vector<int64_t>>& samples, bool p90) {
    Statistic st;
    st.id = id;
    st.unit = unit;
    for (size_t a = 0; a < n_areas; ++a) {
      int64_t n = static_cast<int64_t>(samples[a].size());
      st.n.push_back(n);
      if (publishable(group, a, n)) {
        st.value.push_back(p90 ? P90(samples[a]) : Median(samples[a]));
      } else {
        st.value.push_back(std::nullopt);
        if (n > 0) ++kpi.statistics_withheld;
      }
    }
    kpi.statistics.push_back(std::move(st));
  };
  // A share from the published numerator and denominator, so that it tells
  // nothing the counts do not.
  auto add_share = [&](const std::string& id, const std::string& num, const std::string& den) {
    Statistic st;
    st.id = id;
    st.unit = "percent";
    for (size_t a = 0; a < n_areas; ++a) {
      const Cell* n = FindCell(kpi.tables, num, a);
      const Cell* d = FindCell(kpi.tables, den, a);
      st.n.push_back(d->value);
      bool ok = publishable(den, a, d->value) && n->mark != CellMark::kSuppressed && d->published > 0;
      if (ok) {
        st.value.push_back(Percent(n->published, d->published));
      } else {
        st.value.push_back(std::nullopt);
        if (d->value > 0) ++kpi.statistics_withheld;
      }
    }
    kpi.statistics.push_back(std::move(st));
  };
  auto add_count_share = [&](const std::string& id, const std::string& group,
                             const std::vector<int64_t>& num, const std::vector<int64_t>& den) {
    Statistic st;
    st.id = id;
    st.unit = "percent";
    for (size_t a = 0; a < n_areas; ++a) {
      st.n.push_back(den[a]);
      if (publishable(group, a, den[a])) {
        st.value.push_back(Percent(num[a], den[a]));
      } else {
        st.value.push_back(std::nullopt);
        if (den[a] > 0) ++kpi.statistics_withheld;
      }
    }
    kpi.statistics.push_back(std::move(st));
  };
  add_share("firstVisits.withinTarget.share", "firstVisits.withinTarget", "firstVisits.total");
  for (int i = 0; i < 4; ++i) {
    std::string base = std::string("dfg.stage.") + stage_names[i];
    add_stat(base + ".median", "workingDays", "dfg.completed.total", stage_samples[i].per_area, false);
    add_stat(base + ".p90", "workingDays", "dfg.completed.total", stage_samples[i].per_area, true);
  }
  add_stat("dfg.endToEnd.median", "workingDays", "dfg.completed.total", end_to_end.per_area, false);
  add_stat("dfg.endToEnd.p90", "workingDays", "dfg.completed.total", end_to_end.per_area, true);
  add_count_share("dfg.endToEnd.urgentWithinTarget.share", "dfg.completed.urgency.urgent", urgent_within,
                  urgent_n);
  add_count_share("dfg.endToEnd.nonUrgentWithinTarget.share", "dfg.completed.urgency.nonUrgent", other_within,
                  other_n);
  add_share("dfg.decisions.withinTarget.share", "dfg.decisions.withinTarget", "dfg.decisions.total");
  add_stat("dfg.decisions.days.median", "days", "dfg.decisions.total", decision_days.per_area, false);
  add_stat("complaints.daysToResolve.median", "days", "complaints.resolved", resolve_days.per_area, false);
  add_stat("complaints.daysToResolve.p90", "days", "complaints.resolved", resolve_days.per_area, true);
  {
    // Satisfied: scores 4 and 5, from the published cells.
    Statistic st;
    st.id = "satisfaction.satisfied.share";
    st.unit = "percent";
    for (size_t a = 0; a < n_areas; ++a) {
      const Cell* den = FindCell(kpi.tables, "satisfaction.responses", a);
      const Cell* four = FindCell(kpi.tables, "satisfaction.score.4", a);
      const Cell* five = FindCell(kpi.tables, "satisfaction.score.5", a);
      st.n.push_back(den->value);
      bool ok = publishable("satisfaction.responses", a, den->value) &&
                four->mark != CellMark::kSuppressed && five->mark != CellMark::kSuppressed &&
                den->published > 0;
      if (ok) {
        st.value.push_back(Percent(four->published + five->published, den->published));
      } else {
        st.value.push_back(std::nullopt);
        if (den->value > 0) ++kpi.statistics_withheld;
      }
    }
    kpi.statistics.push_back(std::move(st));
  }
  // The response rate (003 7.6): questionnaires returned in the period over
  // those sent in it, from the published cells. A flow, not a cohort: a
  // quarter's returns include answers to questionnaires sent the quarter
  // before, so a quarter's rate can pass 100 %; the year's is close to the
  // cohort's.
  add_share("satisfaction.responseRate.share", "satisfaction.questionnaires.returned",
            "satisfaction.questionnaires.sent");
  return kpi;
}

}  // namespace

Result<KpiReturn> BuildKpiReturn(LogReader& store, const domain::Codec& codec,
                                 const domain::Calendar& calendar, const Period& period,
                                 const DisclosurePolicy& policy, const KpiOptions& options) {
  if (!calendar.Covers(period.first) || !calendar.Covers(period.last)) {
    return Status::InvalidArgument("period " + period.label + " lies outside the working-day calendar (" +
                                   std::to_string(calendar.first_year()) + " to " +
                                   std::to_string(calendar.last_year()) + ")");
  }
  CollectOptions co;
  co.position = options.position;
  co.progress = options.progress;
  std::optional<KpiReturn> kpi;
  Status s = PassOverFacts(store, codec, co, [&](FactSource& facts) {
    auto built = BuildFrom(facts, store, codec, calendar, period, policy, options);
    if (!built.ok()) return built.status();
    kpi = std::move(*built);
    return Status::OK();
  });
  if (!s.ok()) return s;
  return std::move(*kpi);
}

Result<CellCases> ListCellCases(LogReader& store, const domain::Codec& codec, const domain::Calendar& calendar,
                                const Period& period, const std::string& figure, const std::string& area,
                                const Actor& actor, uint64_t position) {
  if (actor.role != "controller") {
    return Status::PermissionDenied("export cells: only the controller may list the cases behind a cell (role '" +
                                    actor.role + "')");
  }
  if (figure.empty()) return Status::InvalidArgument("--figure: no figure given");
  if (area.empty()) return Status::InvalidArgument("--area: no area given");
  CellTrace trace;
  trace.figure = figure;
  trace.area = area;
  KpiOptions options;
  options.position = position;
  options.trace = &trace;
  auto policy = ParsePolicy("none");
  if (!policy.ok()) return policy.status();
  auto kpi = BuildKpiReturn(store, codec, calendar, period, *policy, options);
  if (!kpi.ok()) return kpi.status();
  auto a = std::find(kpi->areas.begin(), kpi->areas.end(), area);
  if (a == kpi->areas.end()) {
    std::string known;
    for (const auto& x : kpi->areas) known += (known.empty() ? "" : ", ") + x;
    return Status::InvalidArgument("--area '" + area + "': not an area of the return (" + known + ")");
  }
  const Cell* cell = FindCell(kpi->tables, figure, size_t(a - kpi->areas.begin()));
  if (cell == nullptr) {
    return Status::InvalidArgument("--figure '" + figure + "': no such figure in the return (docs/exports.md)");
  }
  CellCases out;
  out.period = period;
  out.position = kpi->position;
  out.figure = figure;
  out.area = area;
  out.value = cell->value;
  out.cases = std::move(trace.cases);
  return out;
}

std::string KpiToCsv(const KpiReturn& kpi) {
  std::string out = "period,area,table,figure,value\n";
  for (const auto& t : kpi.tables) {
    for (const auto& f : t.figures) {
      for (size_t a = 0; a < kpi.areas.size(); ++a) {
        const Cell& c = f.cells[a];
        out += CsvCell(kpi.period.label) + "," + CsvCell(kpi.areas[a]) + "," + CsvCell(t.id) + "," +
               CsvCell(f.id) + "," + (c.mark == CellMark::kSuppressed ? std::string("*") : std::to_string(c.published)) + "\n";
      }
    }
  }
  // The money table: pence, then each fund's share (one decimal place).
  for (const auto& f : kpi.money.figures) {
    for (size_t a = 0; a < kpi.areas.size(); ++a) {
      const Cell& c = f.cells[a];
      out += CsvCell(kpi.period.label) + "," + CsvCell(kpi.areas[a]) + ",money," + CsvCell(f.id) + "," +
             (c.mark == CellMark::kSuppressed ? std::string("*") : std::to_string(c.published)) + "\n";
    }
  }
  for (const auto& s : kpi.money.shares) {
    for (size_t a = 0; a < kpi.areas.size(); ++a) {
      char buf[32];
      if (s.value[a]) std::snprintf(buf, sizeof buf, "%.1f", *s.value[a]);
      out += CsvCell(kpi.period.label) + "," + CsvCell(kpi.areas[a]) + ",money," + CsvCell(s.id) + "," +
             (s.value[a] ? std::string(buf) : std::string("*")) + "\n";
    }
  }
  return out;
}

namespace {
std::string FormatValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}
}  // namespace

std::string StatisticsToCsv(const KpiReturn& kpi) {
  // The group size n is published only in an uncontrolled return: in a
  // controlled one it would undo the suppression of the counts.
  bool with_n = !kpi.policy.controlled;
  std::string out = with_n ? "period,area,statistic,unit,n,value\n" : "period,area,statistic,unit,value\n";
  for (const auto& s : kpi.statistics) {
    for (size_t a = 0; a < kpi.areas.size(); ++a) {
      out += CsvCell(kpi.period.label) + "," + CsvCell(kpi.areas[a]) + "," + CsvCell(s.id) + "," +
             CsvCell(s.unit) + ",";
      if (with_n) out += std::to_string(s.n[a]) + ",";
      out += s.value[a] ? FormatValue(*s.value[a]) : std::string("*");
      out += "\n";
    }
  }
  return out;
}

std::string KpiToJson(const KpiReturn& kpi) {
  Json j;
  j["format"] = "hearth-kpi-return/1";
  j["period"] = {{"label", kpi.period.label},
                 {"first", domain::FormatDate(kpi.period.first)},
                 {"last", domain::FormatDate(kpi.period.last)}};
  j["position"] = kpi.position;
  j["policy"] = PolicyJson(kpi.policy);
  j["timescales"] = {{"firstVisitDays", kpi.timescales.first_visit_days},
                     {"dfgUrgentWorkingDays", kpi.timescales.dfg_urgent_days},
                     {"dfgNonUrgentWorkingDays", kpi.timescales.dfg_non_urgent_days},
                     {"dfgDecisionMonths", kpi.timescales.dfg_decision_months},
                     {"effectiveOn", kpi.timescales.effective_on},
                     {"setAt", kpi.timescales.position}};
  j["areas"] = kpi.areas;
  Json tables = Json::array();
  for (const auto& t : kpi.tables) {
    Json jt;
    jt["id"] = t.id;
    jt["title"] = t.title;
    Json figs = Json::array();
    for (const auto& f : t.figures) {
      Json jf;
      jf["id"] = f.id;
      Json values = Json::array();
      for (const auto& c : f.cells) {
        if (c.mark == CellMark::kSuppressed) {
          values.push_back(nullptr);
        } else {
          values.push_back(c.published);
        }
      }
      jf["values"] = std::move(values);
      figs.push_back(std::move(jf));
    }
    jt["figures"] = std::move(figs);
    Json parts = Json::array();
    for (const auto& p : t.partitions) {
      Json jp;
      jp["total"] = t.figures[p.total].id;
      Json members = Json::array();
      for (size_t m : p.members) members.push_back(t.figures[m].id);
      jp["members"] = std::move(members);
      parts.push_back(std::move(jp));
    }
    jt["partitions"] = std::move(parts);
    tables.push_back(std::move(jt));
  }
  j["tables"] = std::move(tables);
  Json stats = Json::array();
  for (const auto& s : kpi.statistics) {
    Json js;
    js["id"] = s.id;
    js["unit"] = s.unit;
    Json values = Json::array();
    for (const auto& v : s.value) {
      if (v) {
        values.push_back(std::round(*v * 10.0) / 10.0);
      } else {
        values.push_back(nullptr);
      }
    }
    js["values"] = std::move(values);
    if (!kpi.policy.controlled) js["n"] = s.n;
    stats.push_back(std::move(js));
  }
  j["statistics"] = std::move(stats);
  {
    const MoneyTable& m = kpi.money;
    Json jm;
    jm["financialYear"] = m.financial_year;
    jm["asOf"] = domain::FormatDate(m.as_of);
    jm["unit"] = "pence";
    jm["targetPercent"] = m.target_percent;
    Json figs = Json::array();
    for (const auto& f : m.figures) {
      Json values = Json::array();
      for (const auto& c : f.cells) {
        if (c.mark == CellMark::kSuppressed) {
          values.push_back(nullptr);
        } else {
          values.push_back(c.published);
        }
      }
      figs.push_back({{"id", f.id}, {"values", std::move(values)}});
    }
    jm["figures"] = std::move(figs);
    Json shares = Json::array();
    for (const auto& s : m.shares) {
      Json values = Json::array(), met = Json::array();
      for (const auto& v : s.value) {
        if (v) {
          values.push_back(std::round(*v * 10.0) / 10.0);
          met.push_back(*v >= m.target_percent);
        } else {
          values.push_back(nullptr);
          met.push_back(nullptr);
        }
      }
      shares.push_back({{"id", s.id}, {"unit", "percent"}, {"values", std::move(values)}, {"meetsTarget", std::move(met)}});
    }
    jm["shares"] = std::move(shares);
    j["money"] = std::move(jm);
  }
  return j.dump(1) + "\n";
}

Status WriteKpiReturn(const KpiReturn& kpi, const std::string& dir) {
  Status s = CheckOutputDir(dir);
  if (!s.ok()) return s;
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create directory " + dir);
  }
  Json report;
  report["format"] = "hearth-disclosure-report/1";
  report["period"] = kpi.period.label;
  report["position"] = kpi.position;
  report["policy"] = PolicyJson(kpi.policy);
  Json tables = Json::array();
  for (const auto& r : kpi.report) {
    tables.push_back({{"table", r.table},
                      {"cells", r.cells},
                      {"exact", r.exact},
                      {"rounded", r.rounded},
                      {"suppressedSmall", r.primary},
                      {"suppressedSecondary", r.secondary}});
  }
  report["tables"] = std::move(tables);
  report["statisticsWithheld"] = kpi.statistics_withheld;
  report["money"] = {{"cells", kpi.money.figures.size() * kpi.areas.size()},
                     {"suppressedSmall", kpi.money.suppressed_small},
                     {"suppressedSecondary", kpi.money.suppressed_secondary},
                     {"suppressedAcrossReturns", kpi.money.suppressed_across_returns},
                     {"sharesWithheld", kpi.money.shares_withheld}};
  report["why"] = {
      {"suppressedSmall", "a count from 1 to threshold - 1 could identify people"},
      {"suppressedSecondary",
       "without it a suppressed count could be worked out from the row, column or county totals"},
      {"rounded", "rounding to the policy's multiple hides small differences between returns"},
      {"suppressedAcrossReturns", "a money cell whose difference from a return already released to the "
                                  "recipient would be the money of fewer grants than the threshold"},
      {"statisticsWithheld", "medians, percentiles and shares of groups below the threshold, or of "
                             "groups whose count is suppressed, are not published"}};
  for (const auto& [name, bytes] :
       std::vector<std::pair<std::string, std::string>>{{"kpi.csv", KpiToCsv(kpi)},
                                                        {"statistics.csv", StatisticsToCsv(kpi)},
                                                        {"kpi.json", KpiToJson(kpi)},
                                                        {"disclosure-report.json", report.dump(1) + "\n"}}) {
    s = WriteOne(dir + "/" + name, bytes);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace hearth::exports
