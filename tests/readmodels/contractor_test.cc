// The DFG order and money rules (issue 17.8) at the front ends: over the
// protocol (a Session: the list of vetted contractors is a manager's stream,
// not the controller's; the case rules apply to a session's appends), on the
// command line (`hearth contractor vet | remove | list`, `hearth append`),
// and in the timeline's words.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>

#include "hearth/domain.h"
#include "hearth/readmodels.h"
#include "hearth/session.h"
#include "cli_run.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

constexpr const char* kCase = "case/D1/1";

class ContractorTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
  }

  NewEvent Vetted(const std::string& ref, const std::string& on = "2019-01-02",
                  const std::string& expires = "2020-01-01") {
    return E(R"({"type":"ContractorVetted","actor":{"user":"S-MGR-1","role":"manager","plugin":"test"},)"
             R"("facts":{"vettedOn":")" + on + R"(","contractorRef":")" + ref +
             R"(","checks":["publicLiability","dbsChecked"],"trades":["stairlift"],"expiresOn":")" + expires + R"("}})");
  }

  uint64_t Version(const std::string& stream) {
    auto v = store_->StreamVersion(stream);
    return v.ok() ? *v : 0;
  }

  // A caseworker's session on district D1 (case events only).
  std::unique_ptr<Session> Caseworker() {
    Scopes s;
    s.read_districts = {"D1"};
    s.append_types = {"*"};
    return std::make_unique<Session>(store_.get(), Principal{"console", "S-1", "caseworker"}, s,
                                     [](const std::string&) {});
  }
};

// Least privilege: keeping the list needs append_types on its two event types
// and read_streams on its stream, not the controller scope; a session without
// them is refused and nothing is written; with them the list's rules apply.
TEST_F(ContractorTest, AManagerSessionKeepsTheVettedListWithoutTheControllerScope) {
  auto worker = Caseworker();
  auto refused = worker->Append(domain::kContractorsStream, ExpectedVersion::Any(), {Vetted("C-1")});
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  EXPECT_EQ(Version(domain::kContractorsStream), 0u);

  Scopes scopes;
  scopes.append_types = {"ContractorVetted", "ContractorRemoved"};
  scopes.read_streams = {domain::kContractorsStream};
  Session manager(store_.get(), Principal{"console", "S-MGR-1", "manager"}, scopes, [](const std::string&) {});
  ASSERT_FALSE(manager.scopes().controller);
  auto ok = manager.Append(domain::kContractorsStream, ExpectedVersion::Any(), {Vetted("C-1")});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  // The list's rules, as on the command line: nothing written.
  auto bad = manager.Append(domain::kContractorsStream, ExpectedVersion::Any(),
                            {Vetted("C-2", "2019-01-02", "2018-12-31")});
  EXPECT_EQ(bad.status().message().rfind("rule contractor-vetting:", 0), 0u) << bad.status().ToString();
  EXPECT_EQ(Version(domain::kContractorsStream), 1u);
  // Nor may the manager append anything else there, or to a case.
  auto other = manager.Append(domain::kContractorsStream, ExpectedVersion::Any(),
                              {Ev("CaseNoteAdded", R"("writtenOn":"2019-01-02")")});
  EXPECT_EQ(other.status().code(), Status::Code::kPermissionDenied) << other.status().ToString();
}

// The case rules apply to a session's appends: a contractor not vetted, works
// before approval and a payment over the grant are refused by name, nothing
// written.
TEST_F(ContractorTest, ASessionsCaseAppendsTakeTheDfgRules) {
  ASSERT_TRUE(domain::RecordContractors(*store_, *codec_, ExpectedVersion::Any(), {Vetted("C-1")}, D("2019-12-31")).ok());
  Record(kCase, {Enquiry("2019-01-02", "P-1", "D1"),
                 Ev("ServiceElementOpened", R"("openedOn":"2019-01-02","line":1,"element":"mandatoryDfg","service":"mandatoryDfg")")});
  auto worker = Caseworker();
  auto expect_rule = [&](const std::string& rule, NewEvent e) {
    uint64_t before = Version(kCase);
    auto r = worker->Append(kCase, ExpectedVersion::Any(), {std::move(e)});
    ASSERT_FALSE(r.ok()) << "accepted; expected rule " << rule;
    EXPECT_EQ(r.status().message().rfind("rule " + rule + ":", 0), 0u) << r.status().ToString();
    EXPECT_EQ(Version(kCase), before);
  };
  expect_rule("contractor-not-vetted",
              Ev("ContractorChosen", R"("chosenOn":"2019-01-10","line":1,"contractorRef":"C-9","amountPence":100000)"));
  ASSERT_TRUE(worker->Append(kCase, ExpectedVersion::Any(),
                             {Ev("ContractorChosen", R"("chosenOn":"2019-01-10","line":1,"contractorRef":"C-1","amountPence":100000)")})
                  .ok());
  expect_rule("works-before-approval", Ev("WorksStarted", R"("startedOn":"2019-01-11","line":1)"));
  ASSERT_TRUE(worker->Append(kCase, ExpectedVersion::Any(),
                             {Ev("GrantApproved", R"("approvedOn":"2019-01-15","line":1,"grantType":"mandatoryDfg","amountPence":100000)"),
                              Ev("WorksStarted", R"("startedOn":"2019-01-16","line":1)")})
                  .ok());
  expect_rule("payment-over-approved",
              Ev("WorksPaid", R"("paidOn":"2019-02-01","line":1,"amountPence":100001,"payee":"contractor","payeeRef":"C-1")"));
  expect_rule("payment-payee", Ev("WorksPaid", R"("paidOn":"2019-02-01","line":1,"amountPence":100000)"));
}

// The timeline (and so the subject-access pack, which describes case events
// in the timeline's words) shows the new events and fields.
TEST_F(ContractorTest, TheTimelineDescribesTheNewEvents) {
  EXPECT_EQ(DescribeEvent("UrgentWorksExemptionRecorded",
                          R"({"recordedOn":"2018-05-01","line":1,"reasonCode":"hospitalDischarge","authorisedByRole":"manager"})"),
            "Line 1: works may start before approval (urgent works) (hospital discharge, agreed by manager)");
  EXPECT_EQ(DescribeEvent("GrantVariationApproved",
                          R"({"approvedOn":"2018-05-01","line":1,"amountPence":-25000,"reasonCode":"worksReduced"})"),
            "Line 1: grant varied: decreased by \xC2\xA3" "250.00 (works reduced)");
  EXPECT_EQ(DescribeEvent("WorksPaid",
                          R"({"paidOn":"2018-05-01","line":1,"amountPence":100000,"payee":"contractor","payeeRef":"C-0101"})"),
            "Line 1: \xC2\xA3" "1,000.00 paid to contractor C-0101");
  EXPECT_EQ(DescribeEvent("WorksPaid", R"({"paidOn":"2018-05-01","line":1,"amountPence":100000})"),
            "Line 1: \xC2\xA3" "1,000.00 paid");
  EXPECT_EQ(DescribeEvent("GrantApproved", R"({"approvedOn":"2018-07-01","line":1,"grantType":"mandatoryDfg",)"
                                           R"("amountPence":500000,"clientContributionPence":120000})"),
            "Line 1: mandatory DFG approved, \xC2\xA3" "5,000.00; client's contribution \xC2\xA3" "1,200.00");
  EXPECT_EQ(DescribeEvent("ContractorRemoved", R"({"removedOn":"2018-10-18","contractorRef":"C-0809","reasonCode":"insuranceLapsed"})"),
            "Contractor C-0809 removed from the vetted list (insurance lapsed)");
}

using hearth::testing::CliRun;
using hearth::testing::Hearth;

// `hearth contractor vet | remove | list`, refusals by name with nothing
// written, and `hearth append` to the list's stream taking the same rules.
TEST_F(ContractorTest, CommandLineVetsRemovesAndLists) {
  recorder_.reset();
  store_.reset();  // the command line opens it itself
  std::string args = "--data " + dir_.sub("store") + " --key-file " + key_;
  CliRun vet = Hearth("contractor vet C-0101 " + args +
                      " --on 2019-01-02 --checks publicLiability,references --expires 2020-01-01 --trades stairlift,ramp");
  ASSERT_EQ(vet.code, 0) << vet.out;
  EXPECT_NE(vet.out.find("\"stream\": \"register/contractors\""), std::string::npos) << vet.out;
  CliRun second = Hearth("contractor vet C-0202 " + args + " --on 2019-01-02 --checks dbsChecked --expires 2019-06-30");
  ASSERT_EQ(second.code, 0) << second.out;
  // Refusals: a check outside the list (named), no check's expiry before
  // vetting, removing one never vetted, no reason.
  CliRun badcheck = Hearth("contractor vet C-0303 " + args + " --on 2019-01-02 --checks goodVibes --expires 2020-01-01");
  EXPECT_EQ(badcheck.code, 1) << badcheck.out;
  EXPECT_NE(badcheck.out.find("facts.checks"), std::string::npos) << badcheck.out;
  CliRun early = Hearth("contractor vet C-0303 " + args + " --on 2019-01-02 --checks references --expires 2018-01-01");
  EXPECT_EQ(early.code, 1) << early.out;
  EXPECT_NE(early.out.find("rule contractor-vetting:"), std::string::npos) << early.out;
  CliRun never = Hearth("contractor remove C-0909 " + args + " --on 2019-02-01 --reason poorWork");
  EXPECT_EQ(never.code, 1) << never.out;
  EXPECT_NE(never.out.find("rule contractor-not-listed:"), std::string::npos) << never.out;
  CliRun removed = Hearth("contractor remove C-0202 " + args + " --on 2019-03-01 --reason insuranceLapsed");
  ASSERT_EQ(removed.code, 0) << removed.out;
  // hearth append to the stream: the same rules.
  CliRun append = Hearth("append " + args + " --stream register/contractors 2>&1 <<'EOF'\n"
                         R"({"type":"ContractorRemoved","facts":{"removedOn":"2019-03-02","contractorRef":"C-0202","reasonCode":"poorWork"}})"
                         "\nEOF\nexit $?");
  EXPECT_EQ(append.code, 1) << append.out;
  EXPECT_NE(append.out.find("rule contractor-not-listed:"), std::string::npos) << append.out;

  CliRun list = Hearth("contractor list " + args + " --as-of 2019-02-15 --json");
  ASSERT_EQ(list.code, 0) << list.out;
  auto j = nlohmann::json::parse(list.out);
  ASSERT_EQ(j["contractors"].size(), 2u) << list.out;  // the refused ones were never written
  EXPECT_EQ(j["contractors"][0]["contractor"], "C-0101");
  EXPECT_EQ(j["contractors"][0]["status"], "vetted");
  EXPECT_EQ(j["contractors"][0]["checks"], nlohmann::json({"publicLiability", "references"}));
  EXPECT_EQ(j["contractors"][1]["status"], "vetted");
  CliRun later = Hearth("contractor list " + args + " --as-of 2019-03-01 --json");
  ASSERT_EQ(later.code, 0) << later.out;
  auto k = nlohmann::json::parse(later.out);
  EXPECT_EQ(k["contractors"][1]["status"], "removed");
  EXPECT_EQ(k["contractors"][1]["removalReason"], "insuranceLapsed");
  CliRun text = Hearth("contractor list " + args + " --as-of 2020-01-02");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("C-0101  expired"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace hearth::readmodels::testing
