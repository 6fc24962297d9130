// Spend against the annual allocation (docs/exports.md, "Money").
#include <chrono>
#include <set>

#include "domain/tables.h"
#include "exports/collect.h"
#include "hearth/exports.h"

namespace hearth::exports {

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
}

void MoneyCounter::Add(const std::string& id, const CaseFacts& c) {
  MoneyByDistrict& out = out_;
  auto grant_key = [&id](uint16_t line) { return id + "#" + std::to_string(line); };
  VisitCaseMoney(
      c, MoneyListsOf(c), year_first_, as_of_, up_to_,
      [&](const LineFact& approval, int64_t pence) {
        FundMoney& m = out[approval.district][approval.service];
        m.committed += pence;
        ++m.committed_grants;
        m.committed_by_grant[grant_key(approval.line)] += pence;
      },
      [&](const LineFact& payment, bool first) {
        FundMoney& m = out[payment.district][payment.service];
        m.spent += payment.pence;
        m.spent_by_grant[grant_key(payment.line)] += payment.pence;
        if (first) ++m.spent_grants;
      });
}

void MoneyCounter::AddTotals(const MoneyByDistrict& totals) {
  for (const auto& [district, funds] : totals) {
    for (const auto& [fund, t] : funds) {
      FundMoney& m = out_[district][fund];
      m.committed += t.committed;
      m.committed_grants += t.committed_grants;
      m.spent += t.spent;
      m.spent_grants += t.spent_grants;
    }
  }
}

Result<MoneyByDistrict> CountMoney(FactSource& facts, const std::string& financial_year, Date year_first,
                                   Date as_of) {
  MoneyCounter counter(facts.allocations, financial_year, year_first, as_of);
  std::chrono::year_month_day first{year_first};
  // The totals kept by day when the source has them (a number of keys that
  // does not grow with the cases), else every case.
  MoneyByDistrict totals;
  auto kept = facts.MoneyTotalsAt(int(first.year()), as_of, &totals);
  if (!kept.ok()) return kept.status();
  Status s;
  if (*kept) {
    counter.AddTotals(totals);
  } else {
    s = facts.ForEachCase([&](const std::string& id, const CaseFacts& c) {
      counter.Add(id, c);
      return Status::OK();
    });
  }
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
