// The exports' facts from the `cases` projection (issue 14 item 3): what the
// projection keeps of every case, complaint and client equals the log's own
// pass (Collect), so the returns, the case extract and the money built from
// either are byte-identical; a return reads the projection only when it is
// current, and a pass that the projection outran is taken again from the log.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "county.h"
#include "exports/collect.h"
#include "hearth/exports.h"
#include "hearth/scoped_reader.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

// The same store, seen without its projections: every return reads the log.
class LogOnly final : public LogReader {
 public:
  explicit LogOnly(Store& s) : s_(s) {}
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream, uint64_t from, Direction d,
                                                size_t n) override {
    return s_.ReadStream(stream, from, d, n);
  }
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t n) override { return s_.ReadAll(from, n); }
  Result<std::vector<RecordedEvent>> ReadAllFacts(uint64_t from, size_t n) override {
    return s_.ReadAllFacts(from, n);
  }
  Result<std::vector<RecordedEvent>> ReadSubject(const std::string& subject, uint64_t from, size_t n) override {
    return s_.ReadSubject(subject, from, n);
  }
  Result<uint64_t> StreamVersion(const std::string& stream) override { return s_.StreamVersion(stream); }
  Result<StoreInfo> Info() override { return s_.Info(); }
  Result<std::vector<ProjectionStatus>> Projections() override { return std::vector<ProjectionStatus>{}; }
  Status GetProjectionValue(const std::string&, std::string_view, std::string*) override {
    return Status::NotFound("no projections here");
  }
  Status ScanProjection(const std::string&, std::string_view,
                        const std::function<bool(std::string_view, std::string_view)>&) override {
    return Status::NotFound("no projections here");
  }
  Result<TreeHead> CurrentTree() override { return s_.CurrentTree(); }
  Result<std::vector<SignedCheckpoint>> Checkpoints() override { return s_.Checkpoints(); }
  Result<std::vector<Hash>> InclusionProof(uint64_t p, uint64_t t) override { return s_.InclusionProof(p, t); }
  Result<Hash> LeafHash(uint64_t p) override { return s_.LeafHash(p); }
  Result<std::set<std::string>> RestrictedSubjects() override { return s_.RestrictedSubjects(); }
  Result<std::string> RecipientKey(const std::string& r) override { return s_.RecipientKey(r); }

 private:
  Store& s_;
};

// Every case and complaint stream of a source, as bytes (state and facts).
struct Dump {
  std::map<std::string, std::string> cases, complaints, codes;
};

Dump DumpSource(exports::FactSource& src) {
  Dump d;
  Status s = src.ForEachCase([&](const std::string& id, const exports::CaseFacts& c) {
    d.cases[id] = EncodeCaseState(c.state) + "|" + exports::EncodeCaseFacts(c);
    auto codes = src.CodesOf(c.state.client);
    if (!codes.ok()) return codes.status();
    if (*codes != nullptr) d.codes[c.state.client] = exports::EncodePersonCodes(**codes);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = src.ForEachComplaintStream([&](const std::string& id, const exports::CaseFacts& c) {
    d.complaints[id] = exports::EncodeCaseFacts(c);
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(src.Finish().ok());
  return d;
}

class FactSourceTest : public ReadModelTest {
 protected:
  void GenerateCounty(uint32_t cases_per_district) {
    demo::CountyOptions o;
    o.seed = 11;
    o.limit_cases = cases_per_district;
    o.threads = 2;
    auto report = demo::GenerateCounty(recorder_.get(), calendar_, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }
  // A county of `cases_per_district` cases a district, its projection
  // caught up, and what the log's own pass finds in it.
  Dump CountyAndTheLogsPass(uint32_t cases_per_district) {
    Open();
    GenerateCounty(cases_per_district);
    CatchUp();
    LogOnly log(*store_);
    auto logged = exports::OpenFacts(log, *codec_, {});
    EXPECT_TRUE(logged.ok()) << logged.status().ToString();
    return logged.ok() ? DumpSource(**logged) : Dump{};
  }
  std::string Kpi(LogReader& reader, const std::string& period, const std::string& policy) {
    exports::KpiOptions ko;
    auto kpi = exports::BuildKpiReturn(reader, *codec_, calendar_, *exports::ParsePeriod(period),
                                       *exports::ParsePolicy(policy), ko);
    EXPECT_TRUE(kpi.ok()) << kpi.status().ToString();
    return kpi.ok() ? exports::KpiToJson(*kpi) + exports::KpiToCsv(*kpi) + exports::StatisticsToCsv(*kpi) : "";
  }
  domain::Calendar calendar_ = domain::Calendar::EnglandAndWales();
};

TEST_F(FactSourceTest, TheProjectionHoldsWhatTheLogsPassFinds) {
  Open();
  GenerateCounty(25);
  CatchUp();
  LogOnly log(*store_);
  auto projected = exports::OpenFacts(*store_, *codec_, {});
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  auto logged = exports::OpenFacts(log, *codec_, {});
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  EXPECT_TRUE((*projected)->from_projection);
  EXPECT_FALSE((*logged)->from_projection);
  EXPECT_EQ((*projected)->position, (*logged)->position);
  EXPECT_EQ((*projected)->districts, (*logged)->districts);
  EXPECT_EQ((*projected)->districts.size(), 6u);
  const exports::Timescales &tp = (*projected)->timescales, &tl = (*logged)->timescales;
  EXPECT_EQ(std::tie(tp.first_visit_days, tp.dfg_urgent_days, tp.dfg_non_urgent_days, tp.dfg_decision_months,
                     tp.effective_on, tp.position),
            std::tie(tl.first_visit_days, tl.dfg_urgent_days, tl.dfg_non_urgent_days, tl.dfg_decision_months,
                     tl.effective_on, tl.position));
  ASSERT_EQ((*projected)->allocations.size(), (*logged)->allocations.size());
  for (const auto& [key, a] : (*logged)->allocations) {
    auto it = (*projected)->allocations.find(key);
    ASSERT_NE(it, (*projected)->allocations.end());
    EXPECT_EQ(it->second.pence, a.pence);
    EXPECT_EQ(it->second.position, a.position);
  }
  Dump p = DumpSource(**projected), l = DumpSource(**logged);
  EXPECT_EQ(p.cases.size(), 150u);
  EXPECT_GT(p.codes.size(), 100u);
  EXPECT_TRUE(p.cases == l.cases);
  EXPECT_TRUE(p.complaints == l.complaints);
  EXPECT_TRUE(p.codes == l.codes);
}

// The projection's cases are read ahead a batch (256 cases) at a time on a
// second thread: over several batches every case is visited once, in order,
// with its client's codes, as the log has them; a visitor's error ends the
// pass with that error, and the source can be passed over again.
TEST_F(FactSourceTest, APassOverSeveralBatchesVisitsEveryCaseInOrderAndAVisitorsErrorEndsIt) {
  Dump l = CountyAndTheLogsPass(100);
  ASSERT_GT(l.cases.size(), 2 * 256u);
  auto projected = exports::OpenFacts(*store_, *codec_, {});
  ASSERT_TRUE(projected.ok()) << projected.status().ToString();
  ASSERT_TRUE((*projected)->from_projection);
  Dump p = DumpSource(**projected);
  EXPECT_TRUE(p.cases == l.cases);
  EXPECT_TRUE(p.codes == l.codes);

  // A pass that names the cases whose codes it wants (codes_wanted: every
  // other one) still gets every client's codes: the others' when asked.
  bool pick = false;
  (*projected)->codes_wanted = [&pick](const exports::CaseFacts&) { return pick = !pick; };
  Dump w = DumpSource(**projected);
  (*projected)->codes_wanted = nullptr;
  EXPECT_TRUE(w.cases == l.cases);
  EXPECT_TRUE(w.codes == l.codes);

  std::vector<std::string> order;
  Status s = (*projected)->ForEachCase([&](const std::string& id, const exports::CaseFacts&) {
    order.push_back(id);
    return order.size() == 300 ? Status::Conflict("the visitor stops at 300") : Status::OK();
  });
  EXPECT_EQ(s.code(), Status::Code::kConflict) << s.ToString();
  EXPECT_EQ(s.message(), "the visitor stops at 300");
  ASSERT_EQ(order.size(), 300u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(order.front(), l.cases.begin()->first);

  size_t visited = 0;
  s = (*projected)->ForEachCase([&](const std::string&, const exports::CaseFacts&) {
    ++visited;
    return Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(visited, l.cases.size());
}

// A pass reads every client's codes by one scan the first time it is asked
// for codes, when they fit CollectOptions::codes_in_memory_bytes; when they
// do not, a batch's clients at a time. Both give every client's codes as the
// log's pass has them, whichever cases ask and in whatever order; the
// source keeps answering after a pass, from the table it read.
TEST_F(FactSourceTest, ClientsCodesAreTheLogsWhetherTheyFitInMemoryOrNot) {
  Dump l = CountyAndTheLogsPass(100);
  ASSERT_GT(l.codes.size(), 300u);
  for (size_t budget : {size_t(64) << 20, size_t(1), size_t(4096)}) {
    exports::CollectOptions co;
    co.codes_in_memory_bytes = budget;
    auto projected = exports::OpenFacts(*store_, *codec_, co);
    ASSERT_TRUE(projected.ok()) << projected.status().ToString();
    ASSERT_TRUE((*projected)->from_projection);
    for (int pass = 0; pass < 2; ++pass) {
      Dump p = DumpSource(**projected);
      EXPECT_TRUE(p.cases == l.cases) << budget;
      EXPECT_TRUE(p.codes == l.codes) << "budget " << budget << ", pass " << pass;
    }
    // Outside a pass too, and a subject with no codes has none.
    for (const auto& [subject, codes] : l.codes) {
      auto got = (*projected)->CodesOf(subject);
      ASSERT_TRUE(got.ok() && *got != nullptr) << subject;
      EXPECT_EQ(exports::EncodePersonCodes(**got), codes) << subject;
    }
    auto none = (*projected)->CodesOf("P-nobody");
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, nullptr);
  }
}

// The passes decode case after case into the same objects (their strings
// and lists keep their buffers): a case decoded into facts that held
// another must come out as it does into new ones, lists shorter or longer.
TEST_F(FactSourceTest, FactsDecodedInPlaceAreTheFactsDecodedAfresh) {
  Open();
  GenerateCounty(10);
  CatchUp();
  std::vector<std::string> stored;
  ASSERT_TRUE(store_->ScanProjection(readmodels::kCasesProjection, std::string(1, exports::kFactsTag),
                                     [&](std::string_view, std::string_view value) {
                                       stored.emplace_back(value);
                                       return true;
                                     }).ok());
  ASSERT_GT(stored.size(), 20u);
  // Largest first, then smallest first: each list both shrinks and grows.
  std::sort(stored.begin(), stored.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (int pass = 0; pass < 2; ++pass) {
    exports::CaseFacts used;
    for (const std::string& bytes : stored) {
      exports::CaseFacts fresh;
      ASSERT_TRUE(exports::DecodeCaseFacts(bytes, &fresh).ok());
      ASSERT_TRUE(exports::DecodeCaseFacts(bytes, &used).ok());
      EXPECT_EQ(exports::EncodeCaseFacts(used), exports::EncodeCaseFacts(fresh));
      EXPECT_EQ(exports::EncodeCaseFacts(used), bytes);
    }
    std::reverse(stored.begin(), stored.end());
  }
}

TEST_F(FactSourceTest, ReturnsExtractsAndMoneyAreTheSameFromTheProjectionAsFromTheLog) {
  Open();
  GenerateCounty(25);
  CatchUp();
  LogOnly log(*store_);
  for (const char* period : {"2018/19", "2018/19-Q1", "2018/19-Q2", "2018/19-Q3", "2018/19-Q4", "2019/20-Q1"}) {
    for (const char* policy : {"none", "nhs"}) {
      std::string a = Kpi(*store_, period, policy), b = Kpi(log, period, policy);
      EXPECT_FALSE(a.empty());
      EXPECT_EQ(a, b) << period << " " << policy;
    }
    exports::ExtractOptions eo;
    eo.recipient = "university";
    auto x = exports::BuildCaseExtract(*store_, *codec_, *exports::ParsePeriod(period), eo);
    auto y = exports::BuildCaseExtract(log, *codec_, *exports::ParsePeriod(period), eo);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(exports::ExtractToCsv(*x), exports::ExtractToCsv(*y)) << period;
    EXPECT_EQ(x->candidate_rows, y->candidate_rows);
  }
  for (const char* day : {"2018-06-30", "2019-03-31", "2019-09-30"}) {
    domain::Date on;
    ASSERT_TRUE(domain::ParseDate(day, &on));
    auto x = exports::ReadMoney(*store_, *codec_, on);
    auto y = exports::ReadMoney(log, *codec_, on);
    ASSERT_TRUE(x.ok() && y.ok());
    ASSERT_EQ(x->positions.size(), y->positions.size()) << day;
    for (size_t i = 0; i < x->positions.size(); ++i) {
      const auto &m = x->positions[i], &n = y->positions[i];
      EXPECT_EQ(m.district + m.fund, n.district + n.fund);
      EXPECT_EQ(m.committed_pence, n.committed_pence) << day << " " << m.district << " " << m.fund;
      EXPECT_EQ(m.spent_pence, n.spent_pence) << day << " " << m.district << " " << m.fund;
      EXPECT_EQ(m.allocation_pence, n.allocation_pence);
    }
  }
}

TEST_F(FactSourceTest, AProjectionBehindTheLogIsNotReadAndOneThatMovesIsNoticed) {
  Open();
  GenerateCounty(4);
  CatchUp();
  auto source = exports::OpenFacts(*store_, *codec_, {});
  ASSERT_TRUE(source.ok());
  EXPECT_TRUE((*source)->from_projection);
  EXPECT_TRUE((*source)->Finish().ok());
  // An append after the source was opened: its pass may have read values
  // past its position, and says so.
  Record("case/D4/late-1", {Enquiry("2019-02-01", "P-LATE-1", "D4")});
  CatchUp();
  Status moved = (*source)->Finish();
  EXPECT_TRUE(moved.IsConflict()) << moved.ToString();
  // A return at an earlier position than the projection's reads the log.
  auto info = store_->Info();
  ASSERT_TRUE(info.ok());
  exports::CollectOptions co;
  co.position = info->last_position - 1;
  auto earlier = exports::OpenFacts(*store_, *codec_, co);
  ASSERT_TRUE(earlier.ok());
  EXPECT_FALSE((*earlier)->from_projection);
  EXPECT_EQ((*earlier)->position, info->last_position - 1);
  // And so does one from a store that does not run the projection.
  LogOnly log(*store_);
  auto plain = exports::OpenFacts(log, *codec_, {});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->from_projection);
}

TEST_F(FactSourceTest, APrincipalsReaderGetsNoFactsFromTheProjectionAndItsReturnsReadTheLog) {
  Open();
  GenerateCounty(4);
  CatchUp();
  Scopes scopes;
  scopes.read_streams = {"case/D1/*"};
  scopes.read_models = {"kpi", "cases"};
  Session session(store_.get(), Principal{"plugin-x", "", "monitoring"}, scopes);
  for (Reach reach : {Reach::kScoped, Reach::kReturn, Reach::kRows}) {
    ScopedReader reader(session, reach, "kpi");
    for (char tag : {'f', 'k', 'p', 'a', 'm'}) {
      Status s = reader.ScanProjection(kCasesProjection, std::string(1, tag), [](auto, auto) { return true; });
      EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << tag;
      std::string value;
      s = reader.GetProjectionValue(kCasesProjection, std::string(1, tag) + "case/D1/x", &value);
      EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << tag;
    }
    // A reader of one case at a time may not read the whole log either.
    auto facts = exports::OpenFacts(reader, *codec_, {});
    if (reach == Reach::kScoped) {
      EXPECT_EQ(facts.status().code(), Status::Code::kPermissionDenied);
      continue;
    }
    ASSERT_TRUE(facts.ok()) << facts.status().ToString();
    EXPECT_FALSE((*facts)->from_projection);
  }
  // A return through the reader (every district's facts) is the store's.
  ScopedReader reader(session, Reach::kReturn, "kpi");
  EXPECT_EQ(Kpi(reader, "2018/19", "nhs"), Kpi(*store_, "2018/19", "nhs"));
}

// The money totals (docs/readmodels.md, "The money totals"): the year's
// money as of any day, summed from the projection's totals by day, is what
// counting every case with money gives, on every day of three financial
// years; the cases' money facts were folded a few at a time (approvals,
// variations up and down, payments across a year's end, a transfer between
// an approval and a payment), so each batch takes away what a case counted
// before; and the totals have at most a key per district, fund and day.
TEST_F(FactSourceTest, TheMoneyTotalsGiveWhatCountingEveryCaseGivesOnEveryDay) {
  Open();
  GenerateCounty(30);
  CatchUp();
  auto step = [&](const std::string& id, std::vector<NewEvent> events) {
    Record(id, std::move(events));
    CatchUp();
  };
  auto grant = [&](const char* on, int line, const char* type, int64_t pence) {
    return Ev("GrantApproved", std::string(R"("approvedOn":")") + on + R"(","line":)" + std::to_string(line) +
                                   R"(,"grantType":")" + type + R"(","amountPence":)" + std::to_string(pence) +
                                   R"(,"fundingSource":"mandatoryDfg")");
  };
  auto paid = [&](const char* on, int line, int64_t pence) {
    return Ev("WorksPaid", std::string(R"("paidOn":")") + on + R"(","line":)" + std::to_string(line) +
                               R"(,"amountPence":)" + std::to_string(pence) + R"(,"payee":"contractor","payeeRef":"C-1")");
  };
  auto varied = [&](const char* on, int line, int64_t pence) {
    return Ev("GrantVariationApproved", std::string(R"("approvedOn":")") + on + R"(","line":)" +
                                            std::to_string(line) + R"(,"amountPence":)" + std::to_string(pence) +
                                            R"(,"reasonCode":"revisedQuote")");
  };
  auto opened = [&](const char* on, int line, const char* service) {
    return Ev("ServiceElementOpened", std::string(R"("openedOn":")") + on + R"(","line":)" + std::to_string(line) +
                                          R"(,"element":")" + service + R"(","service":")" + service + R"(")");
  };
  step("case/D3/M-1", {Enquiry("2018-02-01", "P-M-1", "D3"), opened("2018-02-01", 1, "mandatoryDfg")});
  step("case/D3/M-1", {grant("2018-03-20", 1, "mandatoryDfg", 600000)});
  step("case/D3/M-1", {paid("2018-03-28", 1, 100000)});
  step("case/D3/M-1", {varied("2018-04-10", 1, 50000)});
  step("case/D3/M-1", {paid("2018-05-02", 1, 200000)});
  step("case/D3/M-1", {Ev("CaseTransferred",
                          R"("transferredOn":"2018-06-01","fromTeam":"A","toTeam":"B","toDistrict":"D4")")});
  step("case/D3/M-1", {paid("2019-04-02", 1, 300000)});
  step("case/D5/M-2", {Enquiry("2018-08-01", "P-M-2", "D5"), opened("2018-08-01", 1, "mandatoryDfg"),
                       opened("2018-08-01", 2, "mandatoryDfg")});
  step("case/D5/M-2", {grant("2018-09-01", 1, "mandatoryDfg", 400000)});
  step("case/D5/M-2", {varied("2019-01-15", 1, -100000), paid("2019-03-31", 1, 300000)});
  step("case/D5/M-2", {grant("2019-03-30", 2, "mandatoryDfg", 250000)});
  step("case/D5/M-2", {paid("2019-04-01", 2, 100000)});
  step("case/D5/M-2", {paid("2019-06-01", 2, 150000)});
  // Two grants of one district and fund varied on the same day, up and down
  // by the same amount, in two batches: the day's key comes to zero and goes.
  step("case/D7/M-3", {Enquiry("2018-09-01", "P-M-3", "D7"), opened("2018-09-01", 1, "mandatoryDfg"),
                       grant("2018-10-01", 1, "mandatoryDfg", 300000)});
  step("case/D7/M-4", {Enquiry("2018-09-02", "P-M-4", "D7"), opened("2018-09-02", 1, "mandatoryDfg"),
                       grant("2018-10-02", 1, "mandatoryDfg", 300000)});
  step("case/D7/M-3", {varied("2018-11-15", 1, 40000)});
  const std::string gone = exports::MoneyTotalsKey(2018, "D7", "mandatoryDfg", D("2018-11-15"));
  EXPECT_EQ(DumpProjection(*store_, kCasesProjection).count(gone), 1u);
  step("case/D7/M-4", {varied("2018-11-15", 1, -40000)});
  EXPECT_EQ(DumpProjection(*store_, kCasesProjection).count(gone), 0u);

  auto projection = exports::OpenFacts(*store_, *codec_, {});
  ASSERT_TRUE(projection.ok()) << projection.status().ToString();
  ASSERT_TRUE((*projection)->from_projection);
  LogOnly log(*store_);
  auto logged = exports::OpenFacts(log, *codec_, {});
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  using namespace std::chrono;
  size_t days = 0, with_money = 0;
  for (domain::Date d = D("2017-04-01"); d <= D("2020-04-30"); d += std::chrono::days(1)) {
    year_month_day ymd{d};
    const int y = int(ymd.year()) - (ymd.month() < April ? 1 : 0);
    char label[16];
    std::snprintf(label, sizeof label, "%04d/%02d", y, (y + 1) % 100);
    const domain::Date first = sys_days{year{y} / April / 1};
    exports::MoneyByDistrict kept;
    auto has = (*projection)->MoneyTotalsAt(y, d, &kept);
    ASSERT_TRUE(has.ok() && *has) << domain::FormatDate(d);
    auto a = exports::CountMoney(**projection, label, first, d);
    auto b = exports::CountMoney(**logged, label, first, d);
    ASSERT_TRUE(a.ok() && b.ok()) << domain::FormatDate(d);
    ++days;
    auto flat = [](const exports::MoneyByDistrict& m) {
      std::map<std::string, std::vector<int64_t>> out;
      for (const auto& [district, funds] : m) {
        for (const auto& [fund, f] : funds) {
          out[district + "/" + fund] = {f.allocated, f.allocation, f.committed, f.committed_grants, f.spent,
                                        f.spent_grants};
        }
      }
      return out;
    };
    auto fa = flat(*a), fb = flat(*b);
    EXPECT_EQ(fa, fb) << domain::FormatDate(d);
    if (fa != fb) break;
    if (!fa.empty()) ++with_money;
  }
  EXPECT_EQ(days, 1126u);
  EXPECT_GT(with_money, 600u);
  // The hand-made cases' money, on days the rules decide: M-1's approval
  // (600,000) in 2017/18 with 100,000 paid; in 2018/19 its approval is last
  // year's (nothing committed), 200,000 spent in D3 before the transfer;
  // M-2 in D5.
  auto money_on = [&](const char* day) {
    auto r = exports::ReadMoney(*store_, *codec_, D(day));
    EXPECT_TRUE(r.ok());
    std::map<std::string, std::pair<int64_t, int64_t>> out;
    if (r.ok()) {
      for (const auto& m : r->positions) out[m.district + "/" + m.fund] = {m.committed_pence, m.spent_pence};
    }
    return out;
  };
  auto y17 = money_on("2018-03-31");
  auto y18 = money_on("2019-03-31");
  auto y19 = money_on("2019-06-30");
  LogOnly again(*store_);
  for (const char* day : {"2018-03-31", "2019-03-31", "2019-06-30"}) {
    auto r = exports::ReadMoney(again, *codec_, D(day));
    ASSERT_TRUE(r.ok());
    std::map<std::string, std::pair<int64_t, int64_t>> out;
    for (const auto& m : r->positions) out[m.district + "/" + m.fund] = {m.committed_pence, m.spent_pence};
    EXPECT_EQ(out, money_on(day)) << day;
  }
  EXPECT_FALSE(y17.empty());
  EXPECT_FALSE(y18.empty());
  EXPECT_FALSE(y19.empty());
  // At most a key per year, district, fund and day.
  size_t keys = 0;
  std::set<std::string> years, districts;
  for (const auto& [k, v] : DumpProjection(*store_, kCasesProjection)) {
    if (k.empty() || k[0] != exports::kMoneyTotalsTag) continue;
    int year = 0;
    std::string_view district, fund;
    domain::Date day;
    ASSERT_TRUE(exports::ParseMoneyTotalsKey(k, &year, &district, &fund, &day).ok());
    exports::MoneyTotals t;
    ASSERT_TRUE(exports::DecodeMoneyTotals(v, &t).ok());
    EXPECT_FALSE(t.zero()) << "a key whose totals are zero is deleted";
    years.insert(k.substr(1, 4));
    districts.insert(std::string(district));
    ++keys;
  }
  EXPECT_GT(keys, 0u);
  EXPECT_EQ(districts.size(), 7u);
  EXPECT_LE(keys, years.size() * districts.size() * exports::FundNames().size() * 366);
}

TEST_F(FactSourceTest, DistrictCountsFollowTransfers) {
  CasesProjectionOptions o;
  o.mode = ProjectionMode::kInline;
  Open({MakeCasesProjection(codec_.get(), o)});
  auto districts = [&] {
    auto source = exports::OpenFacts(*store_, *codec_, {});
    EXPECT_TRUE(source.ok() && (*source)->from_projection);
    return source.ok() ? (*source)->districts : std::set<std::string>{};
  };
  Record("case/D1/T-1", {Enquiry("2018-05-01", "P-T1", "D1")});
  EXPECT_EQ(districts(), (std::set<std::string>{"D1"}));
  Record("case/D1/T-1",
         {Ev("CaseTransferred", R"("transferredOn":"2018-05-02","fromTeam":"A","toTeam":"B","toDistrict":"D2")")});
  // The enquiry still names D1; the case is now in D2.
  EXPECT_EQ(districts(), (std::set<std::string>{"D1", "D2"}));
  Record("case/D2/T-2", {Enquiry("2018-05-03", "P-T2", "D2")});
  Record("case/D2/T-2",
         {Ev("CaseTransferred", R"("transferredOn":"2018-05-04","fromTeam":"A","toTeam":"B","toDistrict":"D3")")});
  EXPECT_EQ(districts(), (std::set<std::string>{"D1", "D2", "D3"}));
  // Both sources agree on every case.
  LogOnly log(*store_);
  auto p = exports::OpenFacts(*store_, *codec_, {});
  auto l = exports::OpenFacts(log, *codec_, {});
  ASSERT_TRUE(p.ok() && l.ok());
  EXPECT_EQ((*p)->districts, (*l)->districts);
  Dump a = DumpSource(**p), b = DumpSource(**l);
  EXPECT_TRUE(a.cases == b.cases);
  EXPECT_EQ(a.cases.size(), 2u);
}

}  // namespace
}  // namespace hearth::readmodels::testing
