// A case's money (facts.h, docs/exports.md "Money"): the rules that the
// year's money, the returns' money table and the `cases` projection's money
// totals share, and the totals' binary form.
#include <capnp/schema.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <tuple>

#include "base/varint_codec.h"
#include "facts/facts.h"

namespace hearth::exports {

namespace {

int FinancialYearOf(Date on) {
  std::chrono::year_month_day ymd{on};
  return int(ymd.year()) - (ymd.month() < std::chrono::April ? 1 : 0);
}

void PutSigned(base::Writer& w, int64_t n) { w.Var(uint64_t(n) << 1 ^ uint64_t(n >> 63)); }

int64_t GetSigned(base::Reader& r) {
  uint64_t z = r.Var();
  return int64_t(z >> 1) ^ -int64_t(z & 1);
}

}  // namespace

MoneyLists MoneyListsOf(const CaseFacts& c) {
  return MoneyLists{c.grants_approved.size(), c.payments.size(), c.variations.size()};
}

std::vector<std::string> FundNames() {
  std::vector<std::string> out;
  for (auto e : capnp::Schema::from<domain::cs::GrantType>().getEnumerants()) {
    std::string name = e.getProto().getName().cStr();
    if (name != "unspecified") out.push_back(std::move(name));
  }
  return out;
}

bool IsFund(std::string_view service) {
  static const std::vector<std::string> funds = FundNames();
  return std::find(funds.begin(), funds.end(), service) != funds.end();
}

void VisitCaseMoney(const CaseFacts& c, const MoneyLists& n, Date year_first, Date as_of, uint64_t up_to,
                    const std::function<void(const LineFact& approval, int64_t pence)>& committed,
                    const std::function<void(const LineFact& payment, bool first)>& spent) {
  const size_t n_grants = std::min(n.grants, c.grants_approved.size());
  const size_t n_payments = std::min(n.payments, c.payments.size());
  const size_t n_variations = std::min(n.variations, c.variations.size());
  // Committed: per grant (line), the last approval up to as_of, when it was
  // given in this financial year, plus the variations approved after it up
  // to as_of, less everything paid on the line by as_of.
  std::vector<uint16_t> lines;
  for (size_t i = 0; i < n_grants; ++i) lines.push_back(c.grants_approved[i].line);
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  for (uint16_t line : lines) {
    const LineFact* last = nullptr;
    for (size_t i = 0; i < n_grants; ++i) {
      const LineFact& g = c.grants_approved[i];
      if (g.line == line && g.on <= as_of && g.position <= up_to) last = &g;
    }
    if (last == nullptr || last->on < year_first || !IsFund(last->service)) continue;
    int64_t granted = last->pence;
    for (size_t i = 0; i < n_variations; ++i) {
      const LineFact& v = c.variations[i];
      if (v.line == line && v.position > last->position && v.on <= as_of && v.position <= up_to) {
        granted += v.pence;
      }
    }
    int64_t paid = 0;
    for (size_t i = 0; i < n_payments; ++i) {
      const LineFact& p = c.payments[i];
      if (p.line == line && p.on <= as_of && p.position <= up_to) paid += p.pence;
    }
    if (granted > paid) committed(*last, granted - paid);
  }
  // Spent: payments in the year up to as_of, on the fund of the line's
  // approval before them.
  std::vector<const LineFact*> counted;  // the first payment counted on each district, fund and line
  for (size_t i = 0; i < n_payments; ++i) {
    const LineFact& p = c.payments[i];
    if (p.on < year_first || p.on > as_of || p.position > up_to || !IsFund(p.service)) continue;
    bool first = std::none_of(counted.begin(), counted.end(), [&p](const LineFact* q) {
      return q->line == p.line && q->district == p.district && q->service == p.service;
    });
    if (first) counted.push_back(&p);
    spent(p, first);
  }
}

std::string MoneyTotalsKey(int first_year, std::string_view district, std::string_view fund, Date day) {
  char year[8];
  std::snprintf(year, sizeof year, "%04d", first_year);
  std::string k;
  k.reserve(1 + 4 + district.size() + 1 + fund.size() + 1 + 4);
  k.push_back(kMoneyTotalsTag);
  k.append(year, 4);
  k.append(district);
  k.push_back('\0');
  k.append(fund);
  k.push_back('\0');
  base::AppendIndexDay(&k, day);
  return k;
}

Status ParseMoneyTotalsKey(std::string_view key, int* first_year, std::string_view* district,
                          std::string_view* fund, Date* day) {
  auto bad = [&key] {
    return Status::Corruption("cases projection: a money totals key of " + std::to_string(key.size()) +
                              " bytes that does not parse");
  };
  if (key.size() < 1 + 4 + 1 + 1 + 4 || key[0] != kMoneyTotalsTag) return bad();
  int y = 0;
  for (size_t i = 1; i < 5; ++i) {
    if (key[i] < '0' || key[i] > '9') return bad();
    y = y * 10 + (key[i] - '0');
  }
  std::string_view rest = key.substr(5, key.size() - 5 - 4);
  size_t nul = rest.find('\0');
  if (nul == std::string_view::npos || rest.empty() || rest.back() != '\0') return bad();
  *first_year = y;
  *district = rest.substr(0, nul);
  *fund = rest.substr(nul + 1, rest.size() - nul - 2);
  if (fund->find('\0') != std::string_view::npos) return bad();
  *day = base::IndexDayOf(key.substr(key.size() - base::kIndexDayBytes));
  return Status::OK();
}

std::string EncodeMoneyTotals(const MoneyTotals& t) {
  std::string out;
  base::Writer w(&out);
  PutSigned(w, t.committed);
  PutSigned(w, t.committed_grants);
  PutSigned(w, t.spent);
  PutSigned(w, t.spent_grants);
  return out;
}

Status DecodeMoneyTotals(std::string_view bytes, MoneyTotals* t) {
  base::Reader r(bytes);
  t->committed = GetSigned(r);
  t->committed_grants = GetSigned(r);
  t->spent = GetSigned(r);
  t->spent_grants = GetSigned(r);
  if (!r.done()) return Status::Corruption("cases projection: money totals that do not decode");
  return Status::OK();
}

void AddMoneySteps(const CaseFacts& c, const MoneyLists& n, int64_t sign, std::map<std::string, MoneyTotals>* deltas) {
  const size_t n_grants = std::min(n.grants, c.grants_approved.size());
  const size_t n_payments = std::min(n.payments, c.payments.size());
  const size_t n_variations = std::min(n.variations, c.variations.size());
  std::vector<int> years;
  for (size_t i = 0; i < n_grants; ++i) years.push_back(FinancialYearOf(c.grants_approved[i].on));
  for (size_t i = 0; i < n_payments; ++i) years.push_back(FinancialYearOf(c.payments[i].on));
  std::sort(years.begin(), years.end());
  years.erase(std::unique(years.begin(), years.end()), years.end());
  using FundKey = std::pair<std::string_view, std::string_view>;  // district, fund
  std::map<FundKey, MoneyTotals> before, now;
  std::vector<Date> days;
  for (int y : years) {
    using namespace std::chrono;
    const Date first = sys_days{year{y} / April / 1}, last = sys_days{year{y + 1} / March / 31};
    days.clear();
    auto day_of = [&](const LineFact& f) {
      if (f.on >= first && f.on <= last) days.push_back(f.on);
    };
    for (size_t i = 0; i < n_grants; ++i) day_of(c.grants_approved[i]);
    for (size_t i = 0; i < n_payments; ++i) day_of(c.payments[i]);
    for (size_t i = 0; i < n_variations; ++i) day_of(c.variations[i]);
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    before.clear();
    for (Date d : days) {
      now.clear();
      VisitCaseMoney(
          c, n, first, d, UINT64_MAX,
          [&now](const LineFact& approval, int64_t pence) {
            MoneyTotals& t = now[{approval.district, approval.service}];
            t.committed += pence;
            ++t.committed_grants;
          },
          [&now](const LineFact& payment, bool first_of_line) {
            MoneyTotals& t = now[{payment.district, payment.service}];
            t.spent += payment.pence;
            if (first_of_line) ++t.spent_grants;
          });
      // The change since the day before, for every district and fund either day has.
      auto step = [&](const FundKey& k, const MoneyTotals& to, const MoneyTotals& from) {
        MoneyTotals delta = to;
        delta.Add(from, -1);
        if (!delta.zero()) (*deltas)[MoneyTotalsKey(y, k.first, k.second, d)].Add(delta, sign);
      };
      for (const auto& [k, t] : now) {
        auto b = before.find(k);
        step(k, t, b == before.end() ? MoneyTotals{} : b->second);
      }
      for (const auto& [k, t] : before) {
        if (now.count(k) == 0) step(k, MoneyTotals{}, t);
      }
      std::swap(before, now);
    }
  }
}

}  // namespace hearth::exports
