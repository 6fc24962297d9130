// The command line: `hearth rebuild`, `hearth timeline` and `hearth worklist`
// on a small store, their output, exit codes and errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "cli_run.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

using hearth::testing::CliRun;
using hearth::testing::Hearth;

class CliTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
    Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1"),
                         Ev("ServiceElementOpened", R"("openedOn":"2018-04-03","line":1,"element":"mandatoryDfg","service":"mandatoryDfg")"),
                         Ev("PriorityAssessed", R"("assessedOn":"2018-04-03","line":1,"otPriority":1,"urgency":"urgent")")});
    Record("case/D2/1", {Enquiry("2018-04-02", "P-2", "D2")});
    CatchUp();
    recorder_.reset();
    store_.reset();  // the command line opens it itself
    args_ = "--data " + dir_.sub("store") + " --key-file " + key_;
  }
  std::string args_;
};

TEST_F(CliTest, TimelineTextJsonAndErrors) {
  CliRun text = Hearth("timeline " + args_ + " --case D1/1");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("Case case/D1/1, now: 3 of 3 events"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Enquiry by phone from an occupational therapist, district D1"), std::string::npos);
  EXPECT_NE(text.out.find("Quillfeather"), std::string::npos);  // the root key sees personal data
  EXPECT_NE(text.out.find("leads to the root"), std::string::npos);

  CliRun hidden = Hearth("timeline " + args_ + " --case D1/1 --no-personal --at 1");
  ASSERT_EQ(hidden.code, 0) << hidden.out;
  EXPECT_EQ(hidden.out.find("Quillfeather"), std::string::npos);
  EXPECT_NE(hidden.out.find("1 of 3 events"), std::string::npos) << hidden.out;

  CliRun json = Hearth("timeline " + args_ + " --case case/D1/1 --json --occurred-by 2018-04-02");
  ASSERT_EQ(json.code, 0) << json.out;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["shown"], 1);
  EXPECT_EQ(j["events"][0]["type"], "ContactRecorded");
  EXPECT_EQ(j["events"][0]["proof"]["type"], "inclusion");

  CliRun missing = Hearth("timeline " + args_ + " --case D1/404");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("no case case/D1/404"), std::string::npos) << missing.out;
  CliRun two = Hearth("timeline " + args_ + " --case D1/1 --at 1 --as-of 2018-04-02");
  EXPECT_EQ(two.code, 1) << two.out;
  CliRun bad_date = Hearth("timeline " + args_ + " --case D1/1 --as-of 02/04/2018");
  EXPECT_EQ(bad_date.code, 1);
  EXPECT_NE(bad_date.out.find("--as-of"), std::string::npos) << bad_date.out;
}

TEST_F(CliTest, WorklistAndRebuild) {
  CliRun text = Hearth("worklist " + args_ + " --as-of 2018-07-02");
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("overdue  case/D1/1 line 1  DFG urgent"), std::string::npos) << text.out;

  CliRun json = Hearth("worklist " + args_ + " --district D2 --as-of 2018-06-01 --json --allocation-grace-days 100");
  ASSERT_EQ(json.code, 0) << json.out;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["district"], "D2");
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["case"], "case/D2/1");
  EXPECT_EQ(j["items"][0]["kind"], "first-visit");

  CliRun rebuild = Hearth("rebuild " + args_);
  ASSERT_EQ(rebuild.code, 0) << rebuild.out;
  EXPECT_NE(rebuild.out.find("cases, rights_requests: rebuilt from 4 events"), std::string::npos) << rebuild.out;
  CliRun unknown = Hearth("rebuild nope " + args_);
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.out.find("no projection named nope (known: cases, rights_requests)"), std::string::npos) << unknown.out;
}

// Issue 17.7: an allocation recorded with `hearth append` (the case's rules
// apply: a name is refused, nothing written), then `hearth worklist --worker`
// lists that worker's cases only, and the others await allocation.
TEST_F(CliTest, AppendAnAllocationThenAWorkersOwnList) {
  std::string events = dir_.sub("allocate.jsonl");
  std::ofstream(events) << R"({"type":"CaseAllocated","actor":{"user":"S-D1-MGR","role":"teamManager","plugin":"cli"},)"
                           R"("facts":{"allocatedOn":"2018-04-03","workerRef":"S-D1-07","roleCode":"ot"}})" "\n";
  std::string named = dir_.sub("named.jsonl");
  std::ofstream(named) << R"({"type":"CaseAllocated","facts":{"allocatedOn":"2018-04-03","workerRef":"S-"}})" "\n";
  CliRun refused = Hearth("append " + args_ + " --stream case/D2/1 < " + named);
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_NE(refused.out.find("rule case-allocation-worker"), std::string::npos) << refused.out;
  CliRun appended = Hearth("append " + args_ + " --stream case/D1/1 < " + events);
  ASSERT_EQ(appended.code, 0) << appended.out;

  CliRun mine = Hearth("worklist " + args_ + " --as-of 2018-07-02 --worker S-D1-07 --json");
  ASSERT_EQ(mine.code, 0) << mine.out;
  auto j = nlohmann::json::parse(mine.out);
  EXPECT_EQ(j["worker"], "S-D1-07");
  EXPECT_EQ(j["casesConsidered"], 1);
  ASSERT_FALSE(j["items"].empty());
  for (const auto& item : j["items"]) {
    EXPECT_EQ(item["case"], "case/D1/1") << item.dump();
    EXPECT_EQ(item["worker"], "S-D1-07");
  }
  CliRun everyone = Hearth("worklist " + args_ + " --as-of 2018-07-02");
  ASSERT_EQ(everyone.code, 0) << everyone.out;
  EXPECT_NE(everyone.out.find("Open cases awaiting allocation to a worker: 1"), std::string::npos) << everyone.out;
  EXPECT_NE(everyone.out.find("overdue  case/D2/1  enquiry 2018-04-02: no responsible worker"), std::string::npos)
      << everyone.out;
  CliRun bad = Hearth("worklist " + args_ + " --worker Testina");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("staff reference"), std::string::npos) << bad.out;
}

// A store poisoned before the append path checked facts (an older `hearth
// append` stored JSON text on a case, below the Store API here): `rebuild`
// stops naming the position, the stream, the type and the cause, and
// `read` still prints every event, the bad one with its cause. (The append
// path now refuses such an event on every front end: tests/cli
// CaseAppendsGoThroughTheRecorderAndRefuseFreeTextFacts.)
class PoisonedCliTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
    Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
    NewEvent bad;
    bad.id = EventId::Random();
    bad.type = "ContactRecorded";
    bad.schema_version = 2;
    bad.subjects = {SubjectRef{"P-1", SubjectRole::kClient}};
    bad.facts = R"({"note":"free text"})";
    auto r = store_->Append("case/D1/1", ExpectedVersion::Any(), {bad});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    bad_position_ = r->first_position;
    recorder_.reset();
    store_.reset();
    args_ = "--data " + dir_.sub("store") + " --key-file " + key_;
  }
  std::string args_;
  uint64_t bad_position_ = 0;
};

TEST_F(PoisonedCliTest, RebuildNamesThePositionAndTheCauseOfAnUndecodableEvent) {
  CliRun rebuild = Hearth("rebuild " + args_);
  EXPECT_EQ(rebuild.code, 3) << rebuild.out;
  EXPECT_NE(rebuild.out.find("position " + std::to_string(bad_position_)), std::string::npos)
      << rebuild.out;
  EXPECT_NE(rebuild.out.find("case/D1/1"), std::string::npos) << rebuild.out;
  EXPECT_NE(rebuild.out.find("ContactRecorded"), std::string::npos) << rebuild.out;
  EXPECT_NE(rebuild.out.find("packed"), std::string::npos) << rebuild.out;

  CliRun read = Hearth("read " + args_ + " --stream case/D1/1");
  ASSERT_EQ(read.code, 0) << read.out;
  size_t nl = read.out.find('\n');
  ASSERT_NE(nl, std::string::npos);
  auto first = nlohmann::json::parse(read.out.substr(0, nl));
  auto second = nlohmann::json::parse(read.out.substr(nl + 1, read.out.find('\n', nl + 1) - nl - 1));
  EXPECT_EQ(first["facts"]["district"], "D1");
  EXPECT_TRUE(second.contains("factsError")) << second.dump();
  EXPECT_NE(second["factsError"].get<std::string>().find("position " + std::to_string(bad_position_)),
            std::string::npos) << second.dump();
}

}  // namespace
}  // namespace hearth::readmodels::testing
