// Disclosure control for the KPI return: policies, primary suppression,
// rounding, and secondary suppression driven by a differencing audit
// (docs/exports.md, "Disclosure control").
#include <algorithm>
#include <cctype>
#include <limits>

#include "hearth/exports.h"

namespace hearth::exports {

namespace {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max() / 4;

struct Bounds {
  int64_t lo = 0;
  int64_t hi = kUnbounded;
};

// One linear constraint the reader of the return knows: the members add up to
// the total. Cells are (figure, area) pairs of one table.
struct Constraint {
  std::pair<size_t, size_t> total;
  std::vector<std::pair<size_t, size_t>> members;
};

std::vector<Constraint> ConstraintsOf(const Table& t, size_t areas, size_t county) {
  std::vector<Constraint> out;
  for (size_t f = 0; f < t.figures.size(); ++f) {
    Constraint c{{f, county}, {}};
    for (size_t a = 0; a < areas; ++a) {
      if (a != county) c.members.push_back({f, a});
    }
    out.push_back(std::move(c));
  }
  for (const Partition& p : t.partitions) {
    for (size_t a = 0; a < areas; ++a) {
      Constraint c{{p.total, a}, {}};
      for (size_t m : p.members) c.members.push_back({m, a});
      out.push_back(std::move(c));
    }
  }
  return out;
}

int64_t Add(int64_t a, int64_t b) { return (a >= kUnbounded || b >= kUnbounded) ? kUnbounded : a + b; }

// What someone holding only the published table can say about each cell:
// interval propagation over every constraint until nothing tightens.
std::vector<std::vector<Bounds>> Audit(const DisclosurePolicy& policy, const Table& t,
                                       const std::vector<Constraint>& constraints) {
  std::vector<std::vector<Bounds>> b(t.figures.size());
  int64_t half = policy.rounding / 2;
  for (size_t f = 0; f < t.figures.size(); ++f) {
    for (const Cell& c : t.figures[f].cells) {
      Bounds x;
      switch (c.mark) {
        case CellMark::kExact: x = {c.published, c.published}; break;
        case CellMark::kRounded:
          x = {std::max(policy.threshold, c.published - half), c.published + half};
          break;
        case CellMark::kSuppressed: x = {0, kUnbounded}; break;
      }
      b[f].push_back(x);
    }
  }
  for (int round = 0; round < 64; ++round) {
    bool changed = false;
    for (const Constraint& k : constraints) {
      Bounds& tot = b[k.total.first][k.total.second];
      int64_t sum_lo = 0, sum_hi = 0;
      for (auto [f, a] : k.members) {
        sum_lo = Add(sum_lo, b[f][a].lo);
        sum_hi = Add(sum_hi, b[f][a].hi);
      }
      if (sum_lo > tot.lo) { tot.lo = sum_lo; changed = true; }
      if (sum_hi < tot.hi) { tot.hi = sum_hi; changed = true; }
      for (auto [f, a] : k.members) {
        Bounds& m = b[f][a];
        int64_t others_lo = 0, others_hi = 0;
        for (auto [g, z] : k.members) {
          if (g == f && z == a) continue;
          others_lo = Add(others_lo, b[g][z].lo);
          others_hi = Add(others_hi, b[g][z].hi);
        }
        if (others_hi < kUnbounded && tot.lo - others_hi > m.lo) { m.lo = tot.lo - others_hi; changed = true; }
        if (tot.hi < kUnbounded && tot.hi - others_lo < m.hi) { m.hi = tot.hi - others_lo; changed = true; }
      }
    }
    if (!changed) break;
  }
  return b;
}

int64_t Round(int64_t v, int64_t multiple) {
  if (multiple <= 1) return v;
  return (v + multiple / 2) / multiple * multiple;
}

}  // namespace

Result<DisclosurePolicy> ParsePolicy(std::string_view text) {
  DisclosurePolicy p;
  p.name = std::string(text);
  if (text == "nhs") return p;
  if (text == "ons") {
    p.threshold = 10;
    p.exact_county = false;
    return p;
  }
  if (text == "none") {
    p.controlled = false;
    p.threshold = 0;
    p.rounding = 1;
    return p;
  }
  constexpr std::string_view kThreshold = "threshold:";
  if (text.substr(0, kThreshold.size()) == kThreshold) {
    std::string_view n = text.substr(kThreshold.size());
    if (n.empty() || n.size() > 6 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return Status::InvalidArgument("policy '" + std::string(text) +
                                     "': the threshold must be a whole number, e.g. threshold:10");
    }
    p.threshold = std::stoll(std::string(n));
    if (p.threshold < 2) {
      return Status::InvalidArgument("policy '" + std::string(text) +
                                     "': the threshold must be at least 2");
    }
    p.rounding = 1;
    return p;
  }
  return Status::InvalidArgument("unknown disclosure policy '" + std::string(text) +
                                 "' (known: nhs, ons, threshold:N, none)");
}

void ApplyDisclosureControl(const DisclosurePolicy& policy, size_t county_area,
                            std::vector<Table>* tables, std::vector<TableReport>* report) {
  report->clear();
  for (Table& t : *tables) {
    TableReport r;
    r.table = t.id;
    for (Figure& f : t.figures) {
      for (size_t a = 0; a < f.cells.size(); ++a) {
        Cell& c = f.cells[a];
        c.secondary = false;
        c.published = c.value;
        c.mark = CellMark::kExact;
        if (!policy.controlled || c.value == 0) continue;
        if (a == county_area && policy.exact_county) continue;
        if (c.value < policy.threshold) {
          c.mark = CellMark::kSuppressed;
          c.published = 0;
        } else if (policy.rounding > 1) {
          c.mark = CellMark::kRounded;
          c.published = Round(c.value, policy.rounding);
        }
      }
    }
    if (policy.controlled && !t.figures.empty()) {
      size_t areas = t.figures[0].cells.size();
      std::vector<Constraint> constraints = ConstraintsOf(t, areas, county_area);
      for (;;) {
        auto b = Audit(policy, t, constraints);
        // For each suppressed cell the audit pins to one value, suppress the
        // smallest published cell that shares a sum with it: a non-zero one
        // first (a suppressed zero is easily pinned again), then a zero, and
        // the county totals an exact-county policy keeps only as a last resort.
        bool added = false;
        for (size_t f = 0; f < t.figures.size() && !added; ++f) {
          for (size_t a = 0; a < areas && !added; ++a) {
            if (t.figures[f].cells[a].mark != CellMark::kSuppressed || b[f][a].lo != b[f][a].hi) continue;
            std::pair<size_t, size_t> exposed{f, a};
            std::optional<std::pair<size_t, size_t>> best;
            for (int pass = 0; pass < 3 && !best; ++pass) {
              for (const Constraint& k : constraints) {
                bool involved = k.total == exposed ||
                                std::find(k.members.begin(), k.members.end(), exposed) != k.members.end();
                if (!involved) continue;
                auto consider = [&](std::pair<size_t, size_t> cell) {
                  const Cell& c = t.figures[cell.first].cells[cell.second];
                  if (c.mark == CellMark::kSuppressed) return;
                  bool locked = cell.second == county_area && policy.exact_county;
                  if (pass == 0 && (locked || c.value == 0)) return;
                  if (pass == 1 && locked) return;
                  if (!best || c.value < t.figures[best->first].cells[best->second].value) best = cell;
                };
                for (auto m : k.members) consider(m);
                consider(k.total);
              }
            }
            if (!best) continue;  // every cell around it is suppressed already
            Cell& c = t.figures[best->first].cells[best->second];
            c.mark = CellMark::kSuppressed;
            c.secondary = true;
            c.published = 0;
            added = true;
          }
        }
        if (!added) break;
      }
    }
    for (const Figure& f : t.figures) {
      for (const Cell& c : f.cells) {
        ++r.cells;
        switch (c.mark) {
          case CellMark::kExact: ++r.exact; break;
          case CellMark::kRounded: ++r.rounded; break;
          case CellMark::kSuppressed: ++(c.secondary ? r.secondary : r.primary); break;
        }
      }
    }
    report->push_back(r);
  }
}

}  // namespace hearth::exports
