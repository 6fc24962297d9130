// Spend against the annual allocation (issue 16.2; docs/exports.md "Money",
// docs/domain.md "Allocations"): the allocation rules, the money table of
// the return on a county whose approvals and payments the test knows, its
// disclosure control, and the worklist's budget alert.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>
#include <nlohmann/json.hpp>

#include "domain.capnp.h"

#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/readmodels.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"
#include "test_util.h"

namespace hearth::exports {
namespace {

using readmodels::testing::D;

class MoneyTest : public readmodels::testing::ReadModelTest {
 protected:
  // A DFG-type line on a new case: opened, approved, and paid in parts.
  void Grant(const std::string& case_id, const std::string& district, const std::string& enquiry_on,
             const std::string& grant_type, const std::string& approved_on, int64_t approved_pence,
             const std::vector<std::pair<std::string, int64_t>>& payments) {
    bool dementia = grant_type == "dementiaDwellingGrant";
    std::vector<NewEvent> events = {
        Enquiry(enquiry_on, "P-" + district + "-" + case_id.substr(8), district),
        Ev("ServiceElementOpened", R"("openedOn":")" + enquiry_on + R"(","line":1,"element":")" +
                                       (dementia ? "healthierSaferHomes" : "mandatoryDfg") + R"(","service":")" +
                                       (dementia ? "dementiaDwellingGrant" : "mandatoryDfg") + R"(")"),
        Ev("GrantApproved", R"("approvedOn":")" + approved_on + R"(","line":1,"grantType":")" + grant_type +
                                R"(","amountPence":)" + std::to_string(approved_pence) + R"(,"fundingSource":"mandatoryDfg")")};
    for (const auto& [on, pence] : payments) {
      events.push_back(Ev("WorksPaid", R"("paidOn":")" + on + R"(","line":1,"amountPence":)" + std::to_string(pence)));
    }
    Record(case_id, std::move(events));
  }

  NewEvent Allocation(const std::string& district, const std::string& year, const std::string& fund,
                      const std::string& pence, const std::string& set_on = "2018-03-01") {
    std::string facts = R"("setOn":")" + set_on + R"(","district":")" + district + R"(","financialYear":")" + year + "\"";
    if (!fund.empty()) facts += R"(,"fund":")" + fund + "\"";
    facts += R"(,"amountPence":)" + pence;
    return E(R"({"type":"AllocationSet","actor":{"user":"S-FIN-1","role":"controller","plugin":"test"},"facts":{)" +
             facts + "}}");
  }

  Result<AppendResult> Allocate(std::vector<NewEvent> events) {
    return domain::RecordAllocations(*store_, *codec_, ExpectedVersion::Any(), std::move(events), D("2019-12-31"));
  }

  uint64_t AllocationVersion() {
    auto v = store_->StreamVersion(domain::kAllocationsStream);
    return v.ok() ? *v : 0;
  }

  // The county of the money tests (every amount in pence):
  //   D1 mandatoryDfg: A approved 2018-05-01 1,000,000, paid 400,000 on 2018-09-01;
  //                    B approved 2018-06-01 500,000, paid in full on 2018-08-01;
  //                    C approved 2017-11-01 300,000 (last year), paid on 2018-04-20;
  //                    D approved 2017-12-01 200,000 (last year), 50,000 paid on
  //                    2018-01-15 (last year), the rest never.
  //   D2 mandatoryDfg: G approved 2018-05-01 200,000, paid on 2018-06-01;
  //                    F approved 2019-04-10 (next year).
  //   D2 dementiaDwellingGrant: E approved 2018-07-01 100,000, paid on 2018-07-15.
  // Allocations 2018/19: D1 mandatoryDfg 2,000,000 then 1,800,000 (supersedes);
  // D2 mandatoryDfg 500,000; D2 dementiaDwellingGrant 100,000; and D1
  // mandatoryDfg 2017/18 900,000 (another year).
  void BuildCounty() {
    Open();
    Grant("case/D1/A", "D1", "2018-04-02", "mandatoryDfg", "2018-05-01", 1000000, {{"2018-09-01", 400000}});
    Grant("case/D1/B", "D1", "2018-04-03", "mandatoryDfg", "2018-06-01", 500000, {{"2018-08-01", 500000}});
    Grant("case/D1/C", "D1", "2017-09-01", "mandatoryDfg", "2017-11-01", 300000, {{"2018-04-20", 300000}});
    Grant("case/D1/D", "D1", "2017-09-02", "mandatoryDfg", "2017-12-01", 200000, {{"2018-01-15", 50000}});
    Grant("case/D2/G", "D2", "2018-04-04", "mandatoryDfg", "2018-05-01", 200000, {{"2018-06-01", 200000}});
    Grant("case/D2/F", "D2", "2019-01-04", "mandatoryDfg", "2019-04-10", 700000, {});
    Grant("case/D2/E", "D2", "2018-04-05", "dementiaDwellingGrant", "2018-07-01", 100000, {{"2018-07-15", 100000}});
    auto r = Allocate({Allocation("D1", "2018/19", "mandatoryDfg", "2000000"),
                       Allocation("D2", "2018/19", "mandatoryDfg", "500000"),
                       Allocation("D2", "2018/19", "dementiaDwellingGrant", "100000"),
                       Allocation("D1", "2017/18", "mandatoryDfg", "900000")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    r = Allocate({Allocation("D1", "2018/19", "mandatoryDfg", "1800000", "2018-09-10")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  KpiReturn Kpi(const std::string& period, const std::string& policy) {
    auto kpi = BuildKpiReturn(*store_, *codec_, domain::Calendar::EnglandAndWales(), *ParsePeriod(period),
                              *ParsePolicy(policy), {});
    EXPECT_TRUE(kpi.ok()) << kpi.status().ToString();
    return kpi.ok() ? *kpi : KpiReturn{};
  }
};

const Cell& MoneyCell(const KpiReturn& kpi, const std::string& figure, const std::string& area) {
  size_t a = size_t(std::find(kpi.areas.begin(), kpi.areas.end(), area) - kpi.areas.begin());
  for (const auto& f : kpi.money.figures) {
    if (f.id == figure) return f.cells.at(a);
  }
  ADD_FAILURE() << "no money figure " << figure;
  static Cell none;
  return none;
}

std::optional<double> Share(const KpiReturn& kpi, const std::string& fund, const std::string& area) {
  size_t a = size_t(std::find(kpi.areas.begin(), kpi.areas.end(), area) - kpi.areas.begin());
  for (const auto& s : kpi.money.shares) {
    if (s.id == "money." + fund + ".committedOrSpent.share") return s.value.at(a);
  }
  ADD_FAILURE() << "no share for " << fund;
  return std::nullopt;
}

// Each bad allocation is refused with one error naming the rule and the
// field, and nothing is written (nor the good events of its batch).
TEST_F(MoneyTest, AllocationRulesRefuseBadInputNamingTheFieldAndWriteNothing) {
  Open();
  Record("case/D3/1", {Enquiry("2018-04-02", "P-1", "D3")});
  struct Bad {
    NewEvent event;
    const char* rule;
    const char* field;
  };
  std::vector<Bad> bad = {
      {Allocation("D9", "2018/19", "mandatoryDfg", "100"), "allocation-district", "facts.district"},
      {Allocation("D3.x", "2018/19", "mandatoryDfg", "100"), "allocation-district", "facts.district"},
      {Allocation("D3", "2018/19", "mandatoryDfg", "-1"), "allocation-amount", "facts.amountPence"},
      {Allocation("D3", "2018/19", "mandatoryDfg", "2000000001"), "allocation-amount", "facts.amountPence"},
      {Allocation("D3", "2018/19", "", "100"), "allocation-fund", "facts.fund"},
      {Allocation("D3", "2018/20", "mandatoryDfg", "100"), "allocation-year", "facts.financialYear"},
      {Allocation("D3", "2018-19", "mandatoryDfg", "100"), "allocation-year", "facts.financialYear"},
      {Allocation("D3", "1999/00", "mandatoryDfg", "100"), "allocation-year", "facts.financialYear"},
      {Allocation("D3", "2018/19", "mandatoryDfg", "100", "2020-01-01"), "date-in-future", "facts.setOn"},
      {Ev("TimescalesSet", R"("effectiveOn":"2018-04-01","firstVisitDays":28,"dfgUrgentWorkingDays":55,"dfgNonUrgentWorkingDays":150,"dfgDecisionMonths":6)"),
       "allocation-stream", "AllocationSet"},
  };
  // A fund outside GrantType (a packed message can hold any number).
  {
    NewEvent e = Allocation("D3", "2018/19", "mandatoryDfg", "100");
    capnp::MallocMessageBuilder m;
    auto f = m.initRoot<hearth::schema::domain::Facts>().initAllocationSet();
    f.setSetOn("2018-03-01");
    f.setDistrict("D3");
    f.setFinancialYear("2018/19");
    f.setFund(static_cast<hearth::schema::domain::GrantType>(99));
    f.setAmountPence(100);
    kj::VectorOutputStream out;
    capnp::writePackedMessage(out, m);
    e.facts.assign(reinterpret_cast<const char*>(out.getArray().begin()), out.getArray().size());
    bad.push_back({std::move(e), "allocation-fund", "facts.fund"});
  }
  for (auto& b : bad) {
    auto r = Allocate({Allocation("D3", "2018/19", "discretionaryDfg", "5"), b.event});
    ASSERT_FALSE(r.ok()) << b.rule;
    EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
    EXPECT_EQ(r.status().message().rfind(std::string("rule ") + b.rule + ":", 0), 0u) << r.status().ToString();
    EXPECT_NE(r.status().message().find(b.field), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("event 2 of 2"), std::string::npos) << r.status().ToString();
    EXPECT_EQ(AllocationVersion(), 0u) << b.rule;
  }
  // Zero and the maximum are allocations; a district is known by its cases.
  ASSERT_TRUE(Allocate({Allocation("D3", "2018/19", "mandatoryDfg", "0")}).ok());
  ASSERT_TRUE(Allocate({Allocation("D3", "2018/19", "mandatoryDfg", "2000000000")}).ok());
  EXPECT_EQ(AllocationVersion(), 2u);
}

// Over the protocol: the same rules on a Session's append, and the stream
// needs the controller scope like every config/ stream.
TEST_F(MoneyTest, AllocationsOverTheProtocolTakeTheSameRulesAndTheControllerScope) {
  Open();
  Record("case/D3/1", {Enquiry("2018-04-02", "P-1", "D3")});
  Scopes scopes;
  scopes.append_types = {"*"};
  scopes.read_streams = {"*"};
  Session worker(store_.get(), Principal{"console", "S-1", "caseworker"}, scopes);
  auto refused = worker.Append(domain::kAllocationsStream, ExpectedVersion::Any(),
                               {Allocation("D3", "2018/19", "mandatoryDfg", "100")});
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  scopes.controller = true;
  Session controller(store_.get(), Principal{"console", "S-FIN-1", "controller"}, scopes);
  auto negative = controller.Append(domain::kAllocationsStream, ExpectedVersion::Any(),
                                    {Allocation("D3", "2018/19", "mandatoryDfg", "-100")});
  EXPECT_EQ(negative.status().message().rfind("rule allocation-amount:", 0), 0u) << negative.status().ToString();
  auto unknown = controller.Append(domain::kAllocationsStream, ExpectedVersion::Any(),
                                   {Allocation("D4", "2018/19", "mandatoryDfg", "100")});
  EXPECT_EQ(unknown.status().message().rfind("rule allocation-district:", 0), 0u) << unknown.status().ToString();
  EXPECT_EQ(AllocationVersion(), 0u);
  auto ok = controller.Append(domain::kAllocationsStream, ExpectedVersion::Any(),
                              {Allocation("D3", "2018/19", "mandatoryDfg", "100")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(AllocationVersion(), 1u);
}

// Committed is approved and not yet paid (this year's approvals); spent is
// paid in the year; the later allocation supersedes; the share is of the
// allocation; year to date at the period's end.
TEST_F(MoneyTest, MoneyTableCountsCommittedAsApprovedNotPaidAndSpentAsPaid) {
  BuildCounty();
  KpiReturn year = Kpi("2018/19", "none");
  EXPECT_EQ(year.money.financial_year, "2018/19");
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.allocation", "D1").published, 1800000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.committed", "D1").published, 600000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.spent", "D1").published, 1200000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.allocation", "D2").published, 500000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.committed", "D2").published, 0);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.spent", "D2").published, 200000);
  EXPECT_EQ(MoneyCell(year, "money.dementiaDwellingGrant.spent", "D2").published, 100000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.allocation", "county").published, 2300000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.committed", "county").published, 600000);
  EXPECT_EQ(MoneyCell(year, "money.mandatoryDfg.spent", "county").published, 1400000);
  EXPECT_EQ(Share(year, "mandatoryDfg", "D1"), 100.0);
  EXPECT_EQ(Share(year, "mandatoryDfg", "D2"), 40.0);
  EXPECT_EQ(Share(year, "mandatoryDfg", "county"), 87.0);
  EXPECT_EQ(Share(year, "dementiaDwellingGrant", "D2"), 100.0);
  EXPECT_EQ(Share(year, "discretionaryDfg", "D1"), std::nullopt);  // no allocation
  // Q1: year to date at 30 June: A and B approved and unpaid, C paid.
  KpiReturn q1 = Kpi("2018/19-Q1", "none");
  EXPECT_EQ(MoneyCell(q1, "money.mandatoryDfg.committed", "D1").published, 1500000);
  EXPECT_EQ(MoneyCell(q1, "money.mandatoryDfg.spent", "D1").published, 300000);
  EXPECT_EQ(MoneyCell(q1, "money.mandatoryDfg.allocation", "D1").published, 1800000);
  // The files: kpi.csv and kpi.json carry the table.
  std::string csv = KpiToCsv(year);
  EXPECT_NE(csv.find("2018/19,D1,money,money.mandatoryDfg.committed,600000\n"), std::string::npos);
  EXPECT_NE(csv.find("2018/19,county,money,money.mandatoryDfg.committedOrSpent.share,87.0\n"), std::string::npos);
  auto json = nlohmann::json::parse(KpiToJson(year));
  EXPECT_EQ(json["money"]["targetPercent"], 95);
  EXPECT_EQ(json["money"]["financialYear"], "2018/19");
  bool found = false;
  for (const auto& s : json["money"]["shares"]) {
    if (s["id"] == "money.mandatoryDfg.committedOrSpent.share") {
      found = true;
      EXPECT_EQ(s["meetsTarget"][0], true);   // D1
      EXPECT_EQ(s["meetsTarget"][1], false);  // D2
    }
  }
  EXPECT_TRUE(found);
}

// A £ cell backed by fewer grants than the policy's threshold is one or two
// people's grants: suppressed, with a second cell of its row when it would
// be the county less the others, and the share it would give back withheld.
TEST_F(MoneyTest, MoneyCellsOfFewGrantsAreSuppressedWithTheirShare) {
  BuildCounty();
  KpiReturn kpi = Kpi("2018/19", "threshold:3");
  // D2's spent is one grant (G): suppressed; D1's (three grants) would then
  // be the county less D2's, so it goes too; the county stays exact.
  EXPECT_EQ(MoneyCell(kpi, "money.mandatoryDfg.spent", "D2").mark, CellMark::kSuppressed);
  EXPECT_EQ(MoneyCell(kpi, "money.mandatoryDfg.spent", "D1").mark, CellMark::kSuppressed);
  EXPECT_TRUE(MoneyCell(kpi, "money.mandatoryDfg.spent", "D1").secondary);
  EXPECT_EQ(MoneyCell(kpi, "money.mandatoryDfg.spent", "county").mark, CellMark::kExact);
  // D1's committed is one grant (A), alone in its row: the county goes too.
  EXPECT_EQ(MoneyCell(kpi, "money.mandatoryDfg.committed", "D1").mark, CellMark::kSuppressed);
  EXPECT_EQ(MoneyCell(kpi, "money.mandatoryDfg.committed", "county").mark, CellMark::kSuppressed);
  // Allocations are budget decisions, published.
  EXPECT_EQ(MoneyCell(kpi, "money.mandatoryDfg.allocation", "D2").mark, CellMark::kExact);
  EXPECT_EQ(Share(kpi, "mandatoryDfg", "D1"), std::nullopt);
  EXPECT_EQ(Share(kpi, "dementiaDwellingGrant", "D2"), std::nullopt);
  std::string csv = KpiToCsv(kpi);
  EXPECT_NE(csv.find("2018/19,D2,money,money.mandatoryDfg.spent,*\n"), std::string::npos);
  EXPECT_EQ(csv.find("200000"), std::string::npos);
  EXPECT_EQ(KpiToJson(kpi).find("200000"), std::string::npos);
  // Nothing published anywhere from a cell of 1..threshold-1 grants, under every controlled policy.
  for (const char* policy : {"nhs", "ons", "threshold:2", "threshold:3"}) {
    KpiReturn k = Kpi("2018/19", policy);
    EXPECT_EQ(MoneyCell(k, "money.dementiaDwellingGrant.spent", "D2").mark, CellMark::kSuppressed) << policy;
    EXPECT_EQ(MoneyCell(k, "money.dementiaDwellingGrant.spent", "county").mark, CellMark::kSuppressed) << policy;
  }
}

// The worklist lists a district whose allocation is projected (straight
// line from the share of the year gone) to miss 95 %, and not before the
// second quarter.
TEST_F(MoneyTest, WorklistAlertsADistrictProjectedToMissTheSpendTarget) {
  BuildCounty();
  CatchUp();
  auto budgets = [&](const char* day) {
    auto money = ReadMoney(*store_, *codec_, D(day));
    EXPECT_TRUE(money.ok()) << money.status().ToString();
    readmodels::WorklistOptions w;
    w.as_of = D(day);
    for (const auto& p : money->positions) {
      if (!p.allocated) continue;
      w.budgets.push_back({p.district, p.fund, money->financial_year, money->first, money->last, p.allocation_pence,
                           p.committed_pence, p.spent_pence});
    }
    auto wl = readmodels::BuildWorklist(*store_, domain::Calendar::EnglandAndWales(), w);
    EXPECT_TRUE(wl.ok()) << wl.status().ToString();
    std::vector<readmodels::WorkItem> out;
    for (const auto& i : wl->items) {
      if (i.kind == readmodels::WorkKind::kBudget) out.push_back(i);
    }
    return out;
  };
  // 1 October: half the year gone. D2's 200,000 of 500,000 (40 %) projects
  // to about 80 %; D1's 1,800,000 of 1,800,000 and D2's dementia grant meet it.
  auto october = budgets("2018-10-01");
  ASSERT_EQ(october.size(), 1u);
  EXPECT_EQ(october[0].district, "D2");
  EXPECT_EQ(october[0].stage, "mandatoryDfg");
  EXPECT_EQ(october[0].status, "projected-miss");
  EXPECT_EQ(october[0].target, 95);
  EXPECT_EQ(october[0].elapsed, 79);
  // In the first quarter nothing is projected.
  EXPECT_TRUE(budgets("2018-06-29").empty());
  // 1 March: D2 projects to 43 %; D1's 100 % holds.
  auto march = budgets("2019-03-01");
  ASSERT_EQ(march.size(), 1u);
  EXPECT_EQ(march[0].district, "D2");
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

TEST_F(MoneyTest, AllocationCommandRecordsAndRefusesNamingTheField) {
  Open();
  Record("case/D3/1", {Enquiry("2018-04-02", "P-1", "D3")});
  auto copy = store_->Backup(dir_.sub("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  std::string base = "allocation set --data " + dir_.sub("copy") + " --key-file " + key_ + " --year 2018/19";
  struct Case {
    std::string args;
    const char* rule;
  };
  for (const Case& c : std::vector<Case>{{" --district D3 --fund mandatoryDfg --pence=-5", "allocation-amount"},
                                         {" --district D3 --fund mandatoryDfg --pence 12x", "allocation-amount"},
                                         {" --district D7 --fund mandatoryDfg --pence 5", "allocation-district"},
                                         {" --district D3 --fund bathroom --pence 5", "allocation-fund"}}) {
    CliRun r = Cli(base + c.args);
    EXPECT_EQ(r.code, 1) << c.args << ": " << r.err;
    EXPECT_NE(r.err.find(std::string("rule ") + c.rule), std::string::npos) << r.err;
  }
  CliRun year = Cli("allocation set --data " + dir_.sub("copy") + " --key-file " + key_ +
                    " --year 2018/2019 --district D3 --fund mandatoryDfg --pence 5");
  EXPECT_EQ(year.code, 1);
  EXPECT_NE(year.err.find("rule allocation-year"), std::string::npos) << year.err;
  CliRun ok = Cli(base + " --district D3 --fund mandatoryDfg --pence 250000000 --set-on 2018-03-01");
  EXPECT_EQ(ok.code, 0) << ok.err;
  Options so = hearth::testing::TestOptions(key_);
  store_.reset();
  recorder_.reset();
  auto reopened = Store::Open(so, dir_.sub("copy"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto v = (*reopened)->StreamVersion(domain::kAllocationsStream);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1u);
}

}  // namespace
}  // namespace hearth::exports
