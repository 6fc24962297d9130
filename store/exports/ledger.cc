// Coordination of disclosure control across the returns one recipient
// receives (docs/exports.md, "Coordination across returns"): the release
// ledger (KpiReturnReleased events, stream release/<recipient>) and the joint
// audit that suppresses a new return with the earlier ones in view.
#include <algorithm>
#include <cctype>
#include <deque>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "domain/tables.h"
#include "hearth/exports.h"

namespace hearth::exports {

namespace {

constexpr int64_t kInf = std::numeric_limits<int64_t>::max() / 4;

Status CheckRecipientCode(const std::string& r) {
  bool ok = !r.empty() && r.size() <= 64 && std::all_of(r.begin(), r.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
            });
  if (!ok) {
    return Status::InvalidArgument("recipient '" + r +
                                   "': expected 1 to 64 of A-Z a-z 0-9 . _ - (a code, not a person's name)");
  }
  return Status::OK();
}

const char* OverQuartersName(OverQuarters q) {
  switch (q) {
    case OverQuarters::kSum: return "sum";
    case OverQuarters::kDistinct: return "distinct";
    case OverQuarters::kLastQuarter: return "lastQuarter";
    case OverQuarters::kUnrelated: return "unrelated";
  }
  return "unrelated";
}

OverQuarters OverQuartersOf(domain::cs::OverQuarters q) {
  switch (q) {
    case domain::cs::OverQuarters::SUM: return OverQuarters::kSum;
    case domain::cs::OverQuarters::DISTINCT: return OverQuarters::kDistinct;
    case domain::cs::OverQuarters::LAST_QUARTER: return OverQuarters::kLastQuarter;
    case domain::cs::OverQuarters::UNRELATED: return OverQuarters::kUnrelated;
  }
  return OverQuarters::kUnrelated;
}

// One cell as the reader holds it: a period, a position, a figure, an area.
using Key = std::tuple<std::string, uint64_t, std::string, std::string>;

// Linear constraints sum(c_i x_i) in [lo, hi] (c_i = +1 or -1) over cells
// that are never negative, narrowed by interval propagation.
class System {
 public:
  size_t Var(const Key& k) {
    auto [it, added] = index_.emplace(k, lo_.size());
    if (added) {
      lo_.push_back(0);
      hi_.push_back(kInf);
      uses_.emplace_back();
    }
    return it->second;
  }
  const std::map<Key, size_t>& vars() const { return index_; }
  void Add(std::vector<std::pair<size_t, int>> terms, int64_t lo, int64_t hi) {
    for (auto [v, c] : terms) uses_[v].push_back(lins_.size());
    lins_.push_back({std::move(terms), lo, hi});
  }
  void Equal(size_t total, const std::vector<size_t>& members) {  // total = sum(members)
    std::vector<std::pair<size_t, int>> t = {{total, -1}};
    for (size_t m : members) t.push_back({m, +1});
    Add(std::move(t), 0, 0);
  }
  void SumAtMost(const std::vector<size_t>& members, size_t total) {  // sum(members) <= total
    std::vector<std::pair<size_t, int>> t = {{total, -1}};
    for (size_t m : members) t.push_back({m, +1});
    Add(std::move(t), -kInf, 0);
  }
  void SumAtLeast(const std::vector<size_t>& members, size_t total) {  // sum(members) >= total
    std::vector<std::pair<size_t, int>> t = {{total, -1}};
    for (size_t m : members) t.push_back({m, +1});
    Add(std::move(t), 0, kInf);
  }
  // The constraints a cell takes part in, and their cells.
  const std::vector<size_t>& Uses(size_t v) const { return uses_[v]; }
  const std::vector<std::pair<size_t, int>>& Terms(size_t lin) const { return lins_[lin].terms; }

  // Narrows from the given bounds until nothing changes (or a generous step
  // bound, reached only when contradictory bounds creep).
  void Solve(std::vector<int64_t> lo, std::vector<int64_t> hi) {
    lo_ = std::move(lo);
    hi_ = std::move(hi);
    std::deque<size_t> work;
    std::vector<bool> queued(lins_.size(), true);
    for (size_t i = 0; i < lins_.size(); ++i) work.push_back(i);
    for (size_t steps = 0; !work.empty() && steps < 50 * lins_.size() + 100000; ++steps) {
      size_t i = work.front();
      work.pop_front();
      queued[i] = false;
      for (size_t v : Narrow(lins_[i])) {
        for (size_t j : uses_[v]) {
          if (!queued[j]) {
            queued[j] = true;
            work.push_back(j);
          }
        }
      }
    }
  }
  int64_t lo(size_t v) const { return lo_[v]; }
  int64_t hi(size_t v) const { return hi_[v]; }
  size_t size() const { return lo_.size(); }

 private:
  struct Lin {
    std::vector<std::pair<size_t, int>> terms;
    int64_t lo, hi;
  };
  std::pair<int64_t, int64_t> Range(size_t v, int c) const {
    if (c > 0) return {lo_[v], hi_[v]};
    return {hi_[v] >= kInf ? -kInf : -hi_[v], -lo_[v]};
  }
  std::vector<size_t> Narrow(const Lin& l) {
    int64_t min_sum = 0, max_sum = 0;
    int min_inf = 0, max_inf = 0;
    for (auto [v, c] : l.terms) {
      auto [a, b] = Range(v, c);
      if (a <= -kInf) ++min_inf; else min_sum += a;
      if (b >= kInf) ++max_inf; else max_sum += b;
    }
    std::vector<size_t> changed;
    for (auto [v, c] : l.terms) {
      auto [a, b] = Range(v, c);
      bool rest_max_inf = max_inf - (b >= kInf) > 0;
      bool rest_min_inf = min_inf - (a <= -kInf) > 0;
      int64_t rest_max = max_sum - (b >= kInf ? 0 : b);
      int64_t rest_min = min_sum - (a <= -kInf ? 0 : a);
      int64_t t_lo = (l.lo <= -kInf || rest_max_inf) ? -kInf : l.lo - rest_max;
      int64_t t_hi = (l.hi >= kInf || rest_min_inf) ? kInf : l.hi - rest_min;
      int64_t new_lo = c > 0 ? t_lo : (t_hi >= kInf ? -kInf : -t_hi);
      int64_t new_hi = c > 0 ? t_hi : (t_lo <= -kInf ? kInf : -t_lo);
      bool moved = false;
      if (new_lo > lo_[v]) {
        lo_[v] = new_lo;
        moved = true;
      }
      if (new_hi < hi_[v]) {
        hi_[v] = new_hi;
        moved = true;
      }
      if (moved) changed.push_back(v);
    }
    return changed;
  }
  std::map<Key, size_t> index_;
  std::vector<int64_t> lo_, hi_;
  std::vector<std::vector<size_t>> uses_;
  std::vector<Lin> lins_;
};

// One return in the joint audit: earlier ones from the ledger, and the new one.
struct View {
  const Period* period;
  uint64_t position;
  const DisclosurePolicy* policy;
  const std::vector<std::string>* areas;
  const std::vector<Table>* tables;
};

// What the published value of a cell says about its count (docs/exports.md,
// "Policies"): [v, v] when exact, [max(threshold, v - m/2), v + m/2] when
// rounded, [0, inf) when suppressed.
std::pair<int64_t, int64_t> BoundsOf(const View& r, size_t area, const Cell& c) {
  if (c.mark == CellMark::kSuppressed) return {0, kInf};
  const DisclosurePolicy& p = *r.policy;
  bool county = area + 1 == r.areas->size();
  bool exact = c.published == 0 || !p.controlled || p.rounding <= 1 || (county && p.exact_county);
  if (exact) return {c.published, c.published};
  return {std::max(p.threshold, c.published - p.rounding / 2), c.published + p.rounding / 2};
}


// The constraints a reader of `views` knows, within and between them.
struct Model {
  System sys;
  std::vector<int64_t> lo, hi;         // the published bounds of every cell
  std::vector<bool> suppressed_in_any;
  std::vector<bool> published_in_earlier;
  std::vector<bool> exact_in_any;
};

void BuildModel(const std::vector<View>& views, size_t earlier_count, Model* m) {
  System& sys = m->sys;
  std::map<std::string, std::pair<OverQuarters, bool>> kind;  // figure -> relation, grows
  auto var_of = [&](const View& r, const std::string& figure, size_t a) {
    return sys.Var({r.period->label, r.position, figure, (*r.areas)[a]});
  };
  for (const View& r : views) {
    size_t county = r.areas->size() - 1;
    for (const Table& t : *r.tables) {
      for (const Figure& f : t.figures) {
        auto [it, added] = kind.emplace(f.id, std::make_pair(f.over_quarters, f.grows));
        if (!added && it->second != std::make_pair(f.over_quarters, f.grows)) {
          // Two definitions disagree: assume only what both allow.
          if (it->second.first != f.over_quarters) it->second.first = OverQuarters::kUnrelated;
          it->second.second = it->second.second && f.grows;
        }
        std::vector<size_t> districts;
        for (size_t a = 0; a < f.cells.size() && a < r.areas->size(); ++a) {
          size_t v = var_of(r, f.id, a);
          if (a != county) districts.push_back(v);
        }
        sys.Equal(var_of(r, f.id, county), districts);
      }
      for (const Partition& p : t.partitions) {
        for (size_t a = 0; a < r.areas->size(); ++a) {
          std::vector<size_t> members;
          for (size_t x : p.members) members.push_back(var_of(r, t.figures[x].id, a));
          sys.Equal(var_of(r, t.figures[p.total].id, a), members);
        }
      }
    }
  }
  // Between returns: per (figure, area), the periods and positions held.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::set<uint64_t>>> held;
  for (const auto& [k, v] : sys.vars()) {
    held[{std::get<2>(k), std::get<3>(k)}][std::get<0>(k)].insert(std::get<1>(k));
  }
  for (const auto& [cell, periods] : held) {
    const auto& [figure, area] = cell;
    auto [over, grows] = kind[figure];
    auto var = [&](const std::string& p, uint64_t pos) { return sys.Var({p, pos, figure, area}); };
    if (grows) {  // one period at two positions: never smaller later
      for (const auto& [period, positions] : periods) {
        for (auto it = positions.begin(); std::next(it) != positions.end(); ++it) {
          sys.SumAtMost({var(period, *it)}, var(period, *std::next(it)));
        }
      }
    }
    for (const auto& [year, positions] : periods) {
      if (year.size() != 7) continue;
      for (uint64_t q : positions) {
        std::vector<size_t> same, before, after;
        for (int n = 1; n <= 4; ++n) {
          auto it = periods.find(year + "-Q" + std::to_string(n));
          if (it == periods.end()) continue;
          if (it->second.count(q)) same.push_back(var(it->first, q));
          auto up = it->second.upper_bound(q);
          if (up != it->second.begin()) before.push_back(var(it->first, *std::prev(up)));
          auto lb = it->second.lower_bound(q);
          if (lb != it->second.end()) after.push_back(var(it->first, *lb));
        }
        size_t y = var(year, q);
        if (same.size() == 4) {
          if (over == OverQuarters::kSum) sys.Equal(y, same);
          if (over == OverQuarters::kDistinct) sys.SumAtLeast(same, y);
          if (over == OverQuarters::kLastQuarter) sys.Equal(y, {same[3]});
        }
        if (grows && over == OverQuarters::kSum) {
          if (!before.empty()) sys.SumAtMost(before, y);
          if (after.size() == 4) sys.SumAtLeast(after, y);
        }
        if (grows && over == OverQuarters::kDistinct) {
          for (size_t x : before) sys.SumAtMost({x}, y);
        }
      }
    }
  }
  size_t n = sys.size();
  m->lo.assign(n, 0);
  m->hi.assign(n, kInf);
  m->suppressed_in_any.assign(n, false);
  m->published_in_earlier.assign(n, false);
  m->exact_in_any.assign(n, false);
  for (size_t i = 0; i < views.size(); ++i) {
    const View& r = views[i];
    for (const Table& t : *r.tables) {
      for (const Figure& f : t.figures) {
        for (size_t a = 0; a < f.cells.size() && a < r.areas->size(); ++a) {
          size_t v = var_of(r, f.id, a);
          const Cell& c = f.cells[a];
          auto [lo, hi] = BoundsOf(r, a, c);
          m->lo[v] = std::max(m->lo[v], lo);
          m->hi[v] = std::min(m->hi[v], hi);
          if (c.mark == CellMark::kSuppressed) {
            // Protected: every suppressed cell of an earlier return (the
            // ledger does not say which were small counts), and the small
            // counts of the new one. A secondary cell of the new return that
            // the reader can work out anyway hides nothing by staying
            // suppressed, and needs no protection of its own.
            if (i < earlier_count || !c.secondary) m->suppressed_in_any[v] = true;
          } else {
            if (lo == hi) m->exact_in_any[v] = true;
            if (i < earlier_count) m->published_in_earlier[v] = true;
          }
        }
      }
    }
  }
}

// The suppressed cells a reader of `views` pins to one value (or finds no
// value for: contradictory bounds are counted too), other than cells some
// return published exactly.
std::set<size_t> Exposed(const std::vector<View>& views, size_t earlier_count, Model* m) {
  m->sys.Solve(m->lo, m->hi);
  std::set<size_t> out;
  for (size_t v = 0; v < m->sys.size(); ++v) {
    if (m->suppressed_in_any[v] && !m->exact_in_any[v] && m->sys.lo(v) >= m->sys.hi(v)) out.insert(v);
  }
  return out;
}

}  // namespace

Result<std::vector<ReleasedReturn>> ReadReleaseLedger(LogReader& store, const domain::Codec& codec,
                                                      const std::string& recipient, uint64_t* stream_version) {
  Status s = CheckRecipientCode(recipient);
  if (!s.ok()) return s;
  std::vector<ReleasedReturn> out;
  if (stream_version != nullptr) *stream_version = 0;
  domain::FactsDecoder decoder(&codec.tables());
  const std::string stream = kReleaseStreamPrefix + recipient;
  for (uint64_t from = 1;;) {
    auto events = store.ReadStream(stream, from, Direction::kForward, 64);
    if (!events.ok()) {
      if (events.status().IsNotFound()) return out;
      return events.status();
    }
    if (events->empty()) return out;
    for (const auto& e : *events) {
      from = e.stream_version + 1;
      if (stream_version != nullptr) *stream_version = e.stream_version;
      domain::cs::Facts::Reader facts;
      const domain::TypeEntry* type = nullptr;
      s = decoder.Decode(e, &facts, &type);
      if (!s.ok()) return s;
      if (facts.which() != domain::cs::Facts::KPI_RETURN_RELEASED) continue;
      auto f = facts.getKpiReturnReleased();
      auto bad = [&](const std::string& why) {
        return Status::Corruption(stream + " position " + std::to_string(e.position) + ": " + why);
      };
      ReleasedReturn r;
      r.recorded_at = e.position;
      auto period = ParsePeriod(f.getPeriod().cStr());
      if (!period.ok()) return bad(period.status().message());
      r.period = *period;
      std::string pos = f.getPosition().cStr();
      if (pos.empty() || pos.size() > 19 || !std::all_of(pos.begin(), pos.end(), ::isdigit)) {
        return bad("position '" + pos + "' is not a number");
      }
      r.position = std::stoull(pos);
      auto policy = ParsePolicy(f.getPolicy().cStr());
      if (!policy.ok()) return bad(policy.status().message());
      r.policy = *policy;
      for (auto a : f.getAreas()) r.areas.push_back(a.cStr());
      if (r.areas.empty() || r.areas.back() != "county") return bad("the areas do not end with county");
      for (auto t : f.getTables()) {
        Table table;
        table.id = t.getId().cStr();
        std::map<std::string, size_t> index;
        for (auto fig : t.getFigures()) {
          Figure figure;
          figure.id = fig.getId().cStr();
          figure.over_quarters = OverQuartersOf(fig.getOverQuarters());
          figure.grows = fig.getGrows();
          if (fig.getValues().size() != r.areas.size()) return bad(figure.id + ": one value per area expected");
          for (int32_t v : fig.getValues()) {
            Cell c;
            if (v < 0) {
              c.mark = CellMark::kSuppressed;
            } else {
              c.published = v;
              c.mark = CellMark::kExact;  // BoundsOf reads the policy, not the mark
            }
            figure.cells.push_back(c);
          }
          index[figure.id] = table.figures.size();
          table.figures.push_back(std::move(figure));
        }
        for (auto p : t.getPartitions()) {
          Partition part;
          auto total = index.find(p.getTotal().cStr());
          if (total == index.end()) return bad(std::string("partition of unknown figure ") + p.getTotal().cStr());
          part.total = total->second;
          for (auto m : p.getMembers()) {
            auto it = index.find(m.cStr());
            if (it == index.end()) return bad(std::string("partition member unknown: ") + m.cStr());
            part.members.push_back(it->second);
          }
          table.partitions.push_back(std::move(part));
        }
        r.tables.push_back(std::move(table));
      }
      r.money_recorded = f.hasMoney();
      for (auto m : f.getMoney()) {
        Figure figure;
        figure.id = m.getId().cStr();
        if (m.getValues().size() != r.areas.size()) return bad(figure.id + ": one value per area expected");
        for (int64_t v : m.getValues()) {
          Cell c;
          if (v < 0) {
            c.mark = CellMark::kSuppressed;
          } else {
            c.published = v;
          }
          figure.cells.push_back(c);
        }
        r.money.push_back(std::move(figure));
      }
      out.push_back(std::move(r));
    }
  }
}

Status CoordinateWithReleased(const std::vector<ReleasedReturn>& earlier, KpiReturn* kpi) {
  if (!kpi->policy.controlled || kpi->tables.empty()) return Status::OK();
  // Only the earlier returns a reader could relate to this one: the same
  // financial year (the year and its quarters, at any position).
  const std::string year = kpi->period.label.substr(0, 7);
  std::vector<View> views;
  for (const ReleasedReturn& r : earlier) {
    if (r.period.label.substr(0, 7) != year) continue;
    views.push_back({&r.period, r.position, &r.policy, &r.areas, &r.tables});
  }
  const size_t earlier_count = views.size();
  if (earlier_count == 0) return Status::OK();
  const size_t county = kpi->areas.size() - 1;
  auto mark_secondary = [&](size_t t, size_t f, size_t a) {
    Cell& c = kpi->tables[t].figures[f].cells[a];
    // The table's report counted the cell as published.
    if (c.mark == CellMark::kRounded) {
      --kpi->report[t].rounded;
    } else {
      --kpi->report[t].exact;
    }
    c.mark = CellMark::kSuppressed;
    c.secondary = true;
    c.published = 0;
    ++kpi->report[t].secondary;
  };
  // What was already exposed by the earlier returns alone is beyond repair;
  // only what this return adds is ours to prevent.
  std::set<Key> before;
  {
    Model m0;
    std::vector<View> old(views.begin(), views.end());
    BuildModel(old, earlier_count, &m0);
    std::set<size_t> exposed = Exposed(old, earlier_count, &m0);
    for (const auto& [k, i] : m0.sys.vars()) {
      if (exposed.count(i)) before.insert(k);
    }
  }
  views.push_back({&kpi->period, kpi->position, &kpi->policy, &kpi->areas, &kpi->tables});
  // Sticky: a cell suppressed in an earlier return of the same period stays
  // suppressed (a reader who assumes it did not change learns nothing new).
  {
    std::set<std::pair<std::string, std::string>> hidden;
    for (size_t i = 0; i < earlier_count; ++i) {
      if (views[i].period->label != kpi->period.label) continue;
      for (const Table& t : *views[i].tables) {
        for (const Figure& f : t.figures) {
          for (size_t a = 0; a < f.cells.size(); ++a) {
            if (f.cells[a].mark == CellMark::kSuppressed) hidden.insert({f.id, (*views[i].areas)[a]});
          }
        }
      }
    }
    for (size_t t = 0; t < kpi->tables.size(); ++t) {
      for (size_t f = 0; f < kpi->tables[t].figures.size(); ++f) {
        for (size_t a = 0; a < kpi->areas.size(); ++a) {
          const Cell& c = kpi->tables[t].figures[f].cells[a];
          if (c.mark != CellMark::kSuppressed && hidden.count({kpi->tables[t].figures[f].id, kpi->areas[a]})) {
            mark_secondary(t, f, a);
          }
        }
      }
    }
  }
  // Where each cell of the new return is in the model.
  std::map<Key, std::tuple<size_t, size_t, size_t>> mine;
  for (size_t t = 0; t < kpi->tables.size(); ++t) {
    for (size_t f = 0; f < kpi->tables[t].figures.size(); ++f) {
      for (size_t a = 0; a < kpi->areas.size(); ++a) {
        mine[{kpi->period.label, kpi->position, kpi->tables[t].figures[f].id, kpi->areas[a]}] = {t, f, a};
      }
    }
  }
  std::set<Key> left;
  // Cells with no published cell of this return within reach: the sums do
  // not change from round to round and cells are only ever suppressed, so
  // they stay out of reach (searched once, not every round).
  std::set<Key> out_of_reach;
  for (int round = 0; round < 10000; ++round) {
    Model m;
    BuildModel(views, earlier_count, &m);
    std::map<size_t, const Key*> key_of;
    for (const auto& [k, v] : m.sys.vars()) key_of[v] = &k;
    std::set<size_t> exposed = Exposed(views, earlier_count, &m);
    left.clear();
    std::set<std::tuple<size_t, size_t, size_t>> chosen;
    // The new return's cell of each variable (once per round, not per visit).
    std::vector<std::optional<std::tuple<size_t, size_t, size_t>>> mine_of(m.sys.size());
    for (const auto& [k, v] : m.sys.vars()) {
      if (auto it = mine.find(k); it != mine.end()) mine_of[v] = it->second;
    }
    std::vector<size_t> seen_in(m.sys.size(), 0);  // the search (1-based) that saw the variable
    size_t search = 0;
    for (size_t v : exposed) {
      if (before.count(*key_of[v])) continue;
      if (out_of_reach.count(*key_of[v])) {
        left.insert(*key_of[v]);
        continue;
      }
      // The nearest published cells of this return that share a sum with
      // it (widening one sum at a time): the smallest non-zero first, then a
      // zero, then an exact county total. Ties go to the lowest variable.
      ++search;
      seen_in[v] = search;
      std::vector<size_t> ring = {v};
      std::optional<std::tuple<size_t, size_t, size_t>> best;
      int best_rank = 3;
      int64_t best_value = 0;
      for (int depth = 0; depth < 4 && !best; ++depth) {
        std::vector<size_t> next;
        for (size_t x : ring) {
          for (size_t lin : m.sys.Uses(x)) {
            for (auto [y, c] : m.sys.Terms(lin)) {
              if (seen_in[y] != search) {
                seen_in[y] = search;
                next.push_back(y);
              }
            }
          }
        }
        std::sort(next.begin(), next.end());
        for (size_t y : next) {
          if (!mine_of[y] || m.published_in_earlier[y]) continue;
          auto [t, f, a] = *mine_of[y];
          const Cell& c = kpi->tables[t].figures[f].cells[a];
          if (c.mark == CellMark::kSuppressed) continue;
          bool locked = a == county && kpi->policy.exact_county;
          int rank = locked ? 2 : (c.value == 0 ? 1 : 0);
          if (!best || rank < best_rank || (rank == best_rank && c.value < best_value)) {
            best = mine_of[y];
            best_rank = rank;
            best_value = c.value;
          }
        }
        ring = std::move(next);
      }
      if (best) {
        chosen.insert(*best);
      } else {
        left.insert(*key_of[v]);
        out_of_reach.insert(*key_of[v]);
      }
    }
    if (chosen.empty()) break;
    for (auto [t, f, a] : chosen) mark_secondary(t, f, a);
  }
  if (!left.empty()) {
    const Key& k = *left.begin();
    return Status::Conflict("the " + kpi->period.label + " return cannot be released to this recipient: " +
                            std::to_string(left.size()) +
                            " suppressed cell(s) would be worked out from it together with the returns "
                            "already released to them (e.g. " + std::get<2>(k) + " in " + std::get<3>(k) +
                            ", " + std::get<0>(k) + "); release the year after its quarters, or use another "
                            "policy");
  }
  return Status::OK();
}

Result<KpiReturn> ReleaseKpiReturn(Store& store, const domain::Codec& codec, const domain::Calendar& calendar,
                                   const Period& period, const DisclosurePolicy& policy, KpiOptions options,
                                   const std::string& recipient, const Actor& actor, const std::string& dir) {
  Status s = CheckRecipientCode(recipient);
  if (!s.ok()) return s;
  if (!policy.controlled) {
    return Status::InvalidArgument("policy " + policy.name +
                                   ": a return without disclosure control is not released to a recipient");
  }
  s = CheckOutputDir(dir);
  if (!s.ok()) return s;
  uint64_t version = 0;
  auto ledger = ReadReleaseLedger(store, codec, recipient, &version);
  if (!ledger.ok()) return ledger.status();
  options.released = &*ledger;
  auto kpi = BuildKpiReturn(store, codec, calendar, period, policy, options);
  if (!kpi.ok()) return kpi.status();
  // The ledger first: a release recorded but not written only makes later
  // returns more careful; one written but not recorded would be forgotten.
  nlohmann::json facts;
  facts["recipient"] = recipient;
  facts["period"] = kpi->period.label;
  facts["position"] = std::to_string(kpi->position);
  facts["policy"] = kpi->policy.name;
  facts["areas"] = kpi->areas;
  nlohmann::json tables = nlohmann::json::array();
  for (const Table& t : kpi->tables) {
    nlohmann::json figures = nlohmann::json::array();
    for (const Figure& f : t.figures) {
      nlohmann::json values = nlohmann::json::array();
      for (const Cell& c : f.cells) {
        if (c.mark != CellMark::kSuppressed && c.published > std::numeric_limits<int32_t>::max()) {
          return Status::InvalidArgument(f.id + ": a count too large for the release ledger");
        }
        values.push_back(c.mark == CellMark::kSuppressed ? int64_t(-1) : c.published);
      }
      figures.push_back({{"id", f.id},
                         {"values", std::move(values)},
                         {"overQuarters", OverQuartersName(f.over_quarters)},
                         {"grows", f.grows}});
    }
    nlohmann::json partitions = nlohmann::json::array();
    for (const Partition& p : t.partitions) {
      nlohmann::json members = nlohmann::json::array();
      for (size_t m : p.members) members.push_back(t.figures[m].id);
      partitions.push_back({{"total", t.figures[p.total].id}, {"members", std::move(members)}});
    }
    tables.push_back({{"id", t.id}, {"figures", std::move(figures)}, {"partitions", std::move(partitions)}});
  }
  facts["tables"] = std::move(tables);
  // The money table as released (pence; -1 where suppressed): a later
  // return's money is coordinated with it (docs/exports.md, "Money").
  nlohmann::json money = nlohmann::json::array();
  for (const Figure& f : kpi->money.figures) {
    nlohmann::json values = nlohmann::json::array();
    for (const Cell& c : f.cells) values.push_back(c.mark == CellMark::kSuppressed ? int64_t(-1) : c.published);
    money.push_back({{"id", f.id}, {"values", std::move(values)}});
  }
  facts["money"] = std::move(money);
  nlohmann::json e;
  e["type"] = "KpiReturnReleased";
  e["facts"] = std::move(facts);
  e["actor"] = {{"user", actor.user}, {"role", actor.role}, {"plugin", actor.plugin}};
  e["subjects"] = nlohmann::json::array();
  NewEvent event;
  s = codec.FromJson(e.dump(), &event);
  if (!s.ok()) return s;
  ExpectedVersion expected = version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(version);
  auto appended = store.Append(kReleaseStreamPrefix + recipient, expected, {event});
  if (!appended.ok()) {
    if (appended.status().code() == Status::Code::kConflict) {
      return Status::Conflict("another return was released to " + recipient +
                              " meanwhile; run the export again so that it is suppressed with that one in view");
    }
    return appended.status();
  }
  s = WriteKpiReturn(*kpi, dir);
  if (!s.ok()) return s;
  return kpi;
}

}  // namespace hearth::exports
