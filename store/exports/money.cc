// Spend against the annual allocation (docs/exports.md, "Money").
#include <capnp/schema.h>

#include <chrono>
#include <set>

#include "domain/tables.h"
#include "exports/collect.h"
#include "hearth/exports.h"

namespace hearth::exports {

std::vector<std::string> FundNames() {
  std::vector<std::string> out;
  for (auto e : capnp::Schema::from<domain::cs::GrantType>().getEnumerants()) {
    std::string name = e.getProto().getName().cStr();
    if (name != "unspecified") out.push_back(name);
  }
  return out;
}

MoneyCounter::MoneyCounter(const AllocationMap& allocations, std::string financial_year, Date year_first, Date as_of,
                           uint64_t up_to)
    : financial_year_(std::move(financial_year)), year_first_(year_first), as_of_(as_of), up_to_(up_to) {
  for (const auto& [key, a] : allocations) {
    const auto& [year, district, fund] = key;
    if (year != financial_year_) continue;
    FundMoney& m = out_[district][fund];
    m.allocated = true;
    m.allocation = a.pence;
  }
  for (auto& f : FundNames()) funds_.insert(std::move(f));
}

void MoneyCounter::Add(const std::string& id, const CaseFacts& c) {
  const Date year_first = year_first_, as_of = as_of_;
  const uint64_t up_to = up_to_;
  const std::set<std::string>& funds = funds_;
  MoneyByDistrict& out = out_;
  // Committed: per grant (line), the last approval up to as_of, when it was
  // given in this financial year, plus the variations approved after it up
  // to as_of, less everything paid on the line by as_of.
  auto grant_key = [&id](uint16_t line) { return id + "#" + std::to_string(line); };
  std::set<uint16_t> lines;
  for (const auto& g : c.grants_approved) lines.insert(g.line);
  for (uint16_t line : lines) {
    const LineFact* last = nullptr;
    for (const auto& g : c.grants_approved) {
      if (g.line == line && g.on <= as_of && g.position <= up_to) last = &g;
    }
    if (last == nullptr || last->on < year_first || funds.count(last->service) == 0) continue;
    int64_t granted = last->pence;
    for (const auto& v : c.variations) {
      if (v.line == line && v.position > last->position && v.on <= as_of && v.position <= up_to) {
        granted += v.pence;
      }
    }
    int64_t paid = 0;
    for (const auto& p : c.payments) {
      if (p.line == line && p.on <= as_of && p.position <= up_to) paid += p.pence;
    }
    if (granted > paid) {
      FundMoney& m = out[last->district][last->service];
      m.committed += granted - paid;
      ++m.committed_grants;
      m.committed_by_grant[grant_key(line)] += granted - paid;
    }
  }
  // Spent: payments in the year up to as_of, on the fund of the line's
  // approval before them.
  std::set<std::pair<std::string, uint16_t>> paid_lines;  // (district, line)
  for (const auto& p : c.payments) {
    if (p.on < year_first || p.on > as_of || p.position > up_to || funds.count(p.service) == 0) continue;
    FundMoney& m = out[p.district][p.service];
    m.spent += p.pence;
    m.spent_by_grant[grant_key(p.line)] += p.pence;
    if (paid_lines.insert({p.district + "\n" + p.service, p.line}).second) ++m.spent_grants;
  }
}

Result<MoneyByDistrict> CountMoney(FactSource& facts, const std::string& financial_year, Date year_first,
                                   Date as_of) {
  MoneyCounter counter(facts.allocations, financial_year, year_first, as_of);
  std::chrono::year_month_day first{year_first};
  Status s = facts.ForEachCaseWithMoney(int(first.year()), [&](const std::string& id, const CaseFacts& c) {
    counter.Add(id, c);
    return Status::OK();
  });
  if (s.ok()) s = facts.Finish();
  if (!s.ok()) return s;
  return counter.Take();
}

Result<MoneyReport> ReadMoney(LogReader& store, const domain::Codec& codec, domain::Date as_of, uint64_t position) {
  using namespace std::chrono;
  year_month_day ymd{as_of};
  int y = int(ymd.year());
  if (ymd.month() < April) --y;
  MoneyReport r;
  r.first = sys_days{year{y} / April / 1};
  r.last = sys_days{year{y + 1} / March / 31};
  char label[16];
  std::snprintf(label, sizeof label, "%04d/%02d", y, (y + 1) % 100);
  r.financial_year = label;
  r.as_of = as_of;
  CollectOptions co;
  co.position = position;
  std::optional<MoneyByDistrict> money;
  Status passed = PassOverFacts(store, codec, co, [&](FactSource& facts) {
    auto counted = CountMoney(facts, r.financial_year, r.first, as_of);
    if (!counted.ok()) return counted.status();
    money = std::move(*counted);
    r.position = facts.position;
    return Status::OK();
  });
  if (!passed.ok()) return passed;
  for (const auto& [district, funds] : *money) {
    for (const auto& [fund, m] : funds) {
      r.positions.push_back(MoneyPosition{district, fund, m.allocated, m.allocation, m.committed, m.spent,
                                          m.committed_grants, m.spent_grants});
    }
  }
  return r;
}

}  // namespace hearth::exports
