// The command line: `hearth processing`, `rights receive/list/restrict/erase`,
// `sar` and `disclosures` on a small store; bad input changes nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "hearth/rights.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

struct CliRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

CliRun Hearth(const std::string& args) {
  CliRun r;
  std::string cmd = std::string(HEARTH_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class RightsCliTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
    Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
    CatchUp();
    recorder_.reset();
    store_.reset();
    args_ = "--data " + dir_.sub("store") + " --key-file " + key_ + " --user S-9 --today 2019-12-31";
  }
  // The log's last position, from `hearth info --json`.
  uint64_t LastPosition() {
    CliRun info = Hearth("info --json --data " + dir_.sub("store") + " --key-file " + key_);
    EXPECT_EQ(info.code, 0) << info.out;
    auto j = nlohmann::json::parse(info.out, nullptr, false);
    return j.is_discarded() ? 0 : j.value("lastPosition", uint64_t(0));
  }
  std::string args_;
};

// Issue 17: the new events go through the CaseRecorder from the command
// line (`hearth append` on a case stream): accepted on the closed case where
// the issue says so, refused by rule with nothing written otherwise, and an
// unknown code is named.
TEST_F(RightsCliTest, CaseRecordEventsAreCheckedByTheRecorderFromTheCommandLine) {
  std::string store_args = "--data " + dir_.sub("store") + " --key-file " + key_ + " --stream case/D1/1";
  auto append = [&](const std::string& json) {
    std::string file = dir_.sub("event.jsonl");
    std::string line = json;  // one event per line
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::ofstream(file) << line << "\n";
    return Hearth("append " + store_args + " < " + file);
  };
  const std::string actor = R"("actor":{"user":"S-2","role":"caseworker","plugin":"cli"})";
  CliRun onward = append(R"({"type":"OnwardReferralMade",)" + actor + R"(,"facts":{"referredOn":"2018-04-03","referral":1,
      "destination":"fallsPrevention","consentBasis":{"given":{"givenOn":"2018-04-03","method":"verbal","scopes":["referOn"]}},
      "confirmedInWritingOn":"2018-04-04","confirmationChannel":"letter"}})");
  ASSERT_EQ(onward.code, 0) << onward.out;
  ASSERT_EQ(append(R"({"type":"CaseClosed",)" + actor + R"(,"facts":{"closedOn":"2018-04-10","reason":"adviceOnly"}})").code, 0);
  CliRun late = append(R"({"type":"SafeguardingConcernRaised",)" + actor + R"(,"facts":{"raisedOn":"2018-05-01","concern":1,
      "personType":"child","category":"childCriminalExploitation","referredTo":"police","referredOn":"2018-05-01"}})");
  ASSERT_EQ(late.code, 0) << late.out;
  uint64_t last = LastPosition();
  CliRun refused = append(R"({"type":"PersonalDataDisclosed",)" + actor + R"(,"facts":{"disclosedOn":"2018-05-02",
      "recipientType":"gp","recipientRef":"ORG-GP","lawfulBasis":"consent","consentScope":"shareHealthInformation",
      "categories":["health"]}})");
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.out.find("rule disclosure-consent"), std::string::npos) << refused.out;
  CliRun unknown = append(R"({"type":"OnwardReferralMade",)" + actor + R"(,"facts":{"referredOn":"2018-05-02","referral":2,
      "destination":"astrology","signposted":true}})");
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.out.find("facts.destination"), std::string::npos) << unknown.out;
  EXPECT_EQ(LastPosition(), last) << "a refused append wrote events";
}

// docs/rights.md, "Retention review": one JSON line per case listed, printed
// as the scan reaches it, then a summary line; --limit stops the scan,
// --due-before adds the erasures to plan, --format table; bad options are
// refused before anything is read.
TEST_F(RightsCliTest, RetentionReviewStreamsLinesWithLimitDueBeforeAndTable) {
  Open();
  for (int i = 2; i <= 6; ++i) {
    std::string id = "case/D1/" + std::to_string(i);
    Record(id, {Enquiry("2018-04-02", "P-" + std::to_string(i), "D1"),
                Ev("CaseClosed", R"("closedOn":"2018-04-10","reason":"adviceOnly")")});
  }
  CatchUp();
  recorder_.reset();
  store_.reset();
  ASSERT_EQ(Hearth("processing set --defaults " + args_).code, 0);
  auto lines = [](const std::string& text) {
    std::vector<nlohmann::json> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
      if (!j.is_discarded()) out.push_back(j);
    }
    return out;
  };
  // Advice only: kept 2 years after the last contact (the fixture's open
  // case/D1/1: 2018-04-02; the five closed ones: 2018-04-10).
  CliRun due = Hearth("retention review --as-of 2021-01-01 " + args_);
  ASSERT_EQ(due.code, 0) << due.out;
  auto j = lines(due.out);
  ASSERT_EQ(j.size(), 7u) << due.out;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(j[i]["case"], "case/D1/" + std::to_string(i + 1));
    EXPECT_EQ(j[i]["action"], "erase");
    EXPECT_EQ(j[i]["keepUntil"], i == 0 ? "2020-04-02" : "2020-04-10");
    EXPECT_EQ(j[i]["rule"], "advice-only");
  }
  EXPECT_EQ(j[6]["summary"]["casesConsidered"], 6);
  EXPECT_EQ(j[6]["summary"]["listed"], 6);
  EXPECT_EQ(j[6]["summary"]["limitReached"], false);

  CliRun limited = Hearth("retention review --as-of 2021-01-01 --limit 2 " + args_);
  ASSERT_EQ(limited.code, 0) << limited.out;
  j = lines(limited.out);
  ASSERT_EQ(j.size(), 3u) << limited.out;
  EXPECT_EQ(j[1]["case"], "case/D1/2");
  EXPECT_EQ(j[2]["summary"]["listed"], 2);
  EXPECT_EQ(j[2]["summary"]["limitReached"], true);
  EXPECT_LT(j[2]["summary"]["casesConsidered"].get<int>(), 6) << "the scan went on past the limit";

  // Before the rule ends nothing is due; --due-before lists what is coming.
  CliRun early = Hearth("retention review --as-of 2019-12-31 " + args_);
  ASSERT_EQ(early.code, 0) << early.out;
  j = lines(early.out);
  ASSERT_EQ(j.size(), 1u) << early.out;
  EXPECT_EQ(j[0]["summary"]["listed"], 0);
  CliRun coming = Hearth("retention review --as-of 2019-12-31 --due-before 2020-06-01 " + args_);
  ASSERT_EQ(coming.code, 0) << coming.out;
  j = lines(coming.out);
  ASSERT_EQ(j.size(), 7u) << coming.out;
  EXPECT_EQ(j[1]["action"], "keep");
  EXPECT_EQ(j[1]["keepUntil"], "2020-04-10");

  CliRun table = Hearth("retention review --as-of 2021-01-01 --format table " + args_);
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_EQ(table.out.rfind("case ", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("case/D1/6"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("6 listed of 6 cases considered, as of 2021-01-01"), std::string::npos)
      << table.out;

  CliRun bad_date = Hearth("retention review --due-before 2020-13-01 " + args_);
  EXPECT_EQ(bad_date.code, 1);
  EXPECT_NE(bad_date.out.find("--due-before"), std::string::npos) << bad_date.out;
  CliRun bad_format = Hearth("retention review --format xml " + args_);
  EXPECT_EQ(bad_format.code, 1);
  EXPECT_NE(bad_format.out.find("--format"), std::string::npos) << bad_format.out;
}

TEST_F(RightsCliTest, AccessRequestToPackEndToEnd) {
  CliRun set = Hearth("processing set --defaults " + args_);
  ASSERT_EQ(set.code, 0) << set.out;
  CliRun show = Hearth("processing show " + args_);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("housing-grant-file"), std::string::npos);

  CliRun no_date = Hearth("rights receive --subject P-1 --kind access " + args_);
  EXPECT_EQ(no_date.code, 1);
  EXPECT_NE(no_date.out.find("rule rights-receipt-date"), std::string::npos) << no_date.out;

  CliRun rec = Hearth("rights receive --subject P-1 --kind access --received 2019-12-02 --channel email " + args_);
  ASSERT_EQ(rec.code, 0) << rec.out;
  EXPECT_NE(rec.out.find("\"request\":\"R-1\""), std::string::npos) << rec.out;
  EXPECT_NE(rec.out.find("\"due\":\"2020-01-02\""), std::string::npos) << rec.out;
  CliRun list = Hearth("rights list " + args_);
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("R-1  P-1  access  open  due 2020-01-02  2 days left"), std::string::npos) << list.out;

  std::string out = dir_.sub("pack");
  CliRun sar = Hearth("sar --subject P-1 --out " + out + " --request R-1 " + args_);
  ASSERT_EQ(sar.code, 0) << sar.out;
  std::string html = Slurp(out + "/sar.html");
  auto json = nlohmann::json::parse(Slurp(out + "/sar.json"));
  EXPECT_EQ(json["subject"], "P-1");
  EXPECT_NE(html.find("Quillfeather"), std::string::npos);
  CliRun disc = Hearth("disclosures --subject P-1 " + args_);
  ASSERT_EQ(disc.code, 0) << disc.out;
  EXPECT_NE(disc.out.find("subject access R-1"), std::string::npos) << disc.out;

  CliRun done = Hearth("rights record --request R-1 --json "
                       "'{\"type\":\"RightsRequestFulfilled\",\"facts\":{\"fulfilledOn\":\"2019-12-03\",\"actionCode\":\"packSent\"}}' " + args_);
  ASSERT_EQ(done.code, 0) << done.out;
  CliRun empty = Hearth("rights list " + args_);
  EXPECT_NE(empty.out.find("no open rights requests"), std::string::npos) << empty.out;
}

TEST_F(RightsCliTest, BadInputChangesNothing) {
  ASSERT_EQ(Hearth("processing set --defaults " + args_).code, 0);
  uint64_t before = LastPosition();

  std::string out = dir_.sub("nopack");
  CliRun sar = Hearth("sar --subject P-NOBODY --out " + out + " " + args_);
  EXPECT_EQ(sar.code, 1);
  EXPECT_NE(sar.out.find("no data subject P-NOBODY"), std::string::npos) << sar.out;
  EXPECT_FALSE(std::filesystem::exists(out));

  CliRun wrong = Hearth("rights restrict --subject P-2 --reason accuracyContested --confirm " + args_);
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.out.find("no data subject P-2"), std::string::npos) << wrong.out;
  CliRun unconfirmed = Hearth("rights restrict --subject P-1 --reason accuracyContested " + args_);
  EXPECT_EQ(unconfirmed.code, 1);
  EXPECT_NE(unconfirmed.out.find("--confirm"), std::string::npos) << unconfirmed.out;

  ASSERT_EQ(Hearth("rights receive --subject P-1 --kind erasure --received 2019-12-02 " + args_).code, 0);
  uint64_t with_request = LastPosition();
  EXPECT_EQ(with_request, before + 1);
  CliRun erase = Hearth("rights erase --request R-1 " + args_);
  EXPECT_EQ(erase.code, 1);
  EXPECT_NE(erase.out.find("--confirm"), std::string::npos) << erase.out;
  EXPECT_EQ(LastPosition(), with_request);
  CliRun missing = Hearth("rights erase --request R-7 --confirm " + args_);
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("no rights request R-7"), std::string::npos) << missing.out;
  EXPECT_EQ(LastPosition(), with_request);
}

// `hearth init` loads the shipped record of processing: a new store answers
// `processing show` and a subject-access request without `processing set`.
TEST_F(RightsCliTest, InitLoadsTheDefaultRecordOfProcessing) {
  std::string fresh = dir_.sub("fresh");
  std::string args = "--data " + fresh + " --key-file " + key_ + " --user S-9 --today 2019-12-31";
  CliRun init = Hearth("init --data " + fresh + " --key-file " + key_);
  ASSERT_EQ(init.code, 0) << init.out;
  EXPECT_NE(init.out.find("default record of processing"), std::string::npos) << init.out;
  CliRun show = Hearth("processing show " + args);
  ASSERT_EQ(show.code, 0) << show.out;
  auto record = nlohmann::json::parse(show.out, nullptr, false);
  ASSERT_FALSE(record.is_discarded()) << show.out;
  EXPECT_EQ(record["retention"][0]["name"], "housing-grant-file");
  EXPECT_TRUE(record.contains("effectiveOn")) << show.out;
  CliRun history = Hearth("processing show --history " + args);
  ASSERT_EQ(history.code, 0) << history.out;
  auto versions = nlohmann::json::parse(history.out, nullptr, false);
  ASSERT_TRUE(versions.is_array()) << history.out;
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0]["position"], 1);

  // A person's case, then their pack: no `processing set` in between.
  {
    auto store = Store::Open(hearth::testing::TestOptions(key_), fresh);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    domain::RecorderOptions ro;
    ro.today = [] { return D("2019-12-31"); };
    domain::CaseRecorder recorder(store->get(), codec_.get(), ro);
    auto r = recorder.Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_position, 2u);  // after the record of processing
  }
  std::string out = dir_.sub("fresh-pack");
  CliRun sar = Hearth("sar --subject P-1 --out " + out + " " + args);
  ASSERT_EQ(sar.code, 0) << sar.out;
  auto pack = nlohmann::json::parse(Slurp(out + "/sar.json"), nullptr, false);
  ASSERT_FALSE(pack.is_discarded());
  EXPECT_EQ(pack["subject"], "P-1");
  EXPECT_FALSE(pack["article15"]["purposes"].empty()) << pack["article15"].dump();
}

// An erasure decided but not carried out (a crash between the decision and
// the shredding): listed as such, and `rights erase` completes it.
TEST_F(RightsCliTest, ErasureDecidedButNotExecutedIsListedAndCompleted) {
  ASSERT_EQ(Hearth("processing set --defaults " + args_).code, 0);
  ASSERT_EQ(Hearth("rights receive --subject P-1 --kind erasure --received 2019-12-02 " + args_).code, 0);
  CliRun decided = Hearth("rights record --request R-1 --json "
                          "'{\"type\":\"ErasureDecided\",\"facts\":{\"decidedOn\":\"2019-12-03\",\"erase\":true,"
                          "\"ruleApplied\":\"advice-only\",\"reasonCode\":\"retentionEnded\"}}' " + args_);
  ASSERT_EQ(decided.code, 0) << decided.out;
  CliRun list = Hearth("rights list " + args_);
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("R-1  P-1  erasure  erasure decided 2019-12-03, not yet executed"), std::string::npos)
      << list.out;
  CliRun json = Hearth("rights list --json " + args_);
  ASSERT_EQ(json.code, 0) << json.out;
  auto doc = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(doc.is_object() && doc.contains("requests")) << json.out;
  EXPECT_FALSE(doc.contains("next")) << json.out;
  auto listed = doc["requests"];
  ASSERT_TRUE(listed.is_array() && listed.size() == 1u) << json.out;
  EXPECT_EQ(listed[0]["erasurePending"], true);
  EXPECT_EQ(listed[0]["erasureDecidedOn"], "2019-12-03");
  EXPECT_EQ(listed[0]["status"], "open");

  uint64_t before = LastPosition();
  CliRun dry = Hearth("rights erase --request R-1 " + args_);
  EXPECT_EQ(dry.code, 1);
  EXPECT_NE(dry.out.find("would complete erasure request R-1"), std::string::npos) << dry.out;
  EXPECT_EQ(LastPosition(), before);
  CliRun erase = Hearth("rights erase --request R-1 --confirm " + args_);
  ASSERT_EQ(erase.code, 0) << erase.out;
  EXPECT_NE(erase.out.find("\"erased\":true"), std::string::npos) << erase.out;
  // The erasure event and the fulfilment; no second decision.
  EXPECT_EQ(LastPosition(), before + 2);
  CliRun empty = Hearth("rights list " + args_);
  EXPECT_NE(empty.out.find("no open rights requests"), std::string::npos) << empty.out;
  CliRun all = Hearth("rights list --all " + args_);
  EXPECT_NE(all.out.find("R-1  P-1  erasure  fulfilled"), std::string::npos) << all.out;
  CliRun again = Hearth("rights erase --request R-1 --confirm " + args_);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.out.find("rule rights-request-closed"), std::string::npos) << again.out;
  EXPECT_EQ(LastPosition(), before + 2);
}

// `rights list` pages: the open ones by default, every one newest first with
// --all; --limit past the bound is refused naming it, before the store is
// opened; --after continues from a page's `next`.
TEST_F(RightsCliTest, RightsListPagesWithLimitAndAfter) {
  ASSERT_EQ(Hearth("processing set --defaults " + args_).code, 0);
  for (int i = 0; i < 3; ++i) {
    CliRun got = Hearth("rights receive --subject P-1 --kind access --received 2019-12-02 " + args_);
    ASSERT_EQ(got.code, 0) << got.out;
  }
  ASSERT_EQ(Hearth("rights record --request R-2 --json "
                   "'{\"type\":\"RightsRequestFulfilled\",\"facts\":{\"fulfilledOn\":\"2019-12-05\","
                   "\"actionCode\":\"packSent\"}}' " + args_).code, 0);
  CliRun open = Hearth("rights list --json " + args_);
  ASSERT_EQ(open.code, 0) << open.out;
  auto o = nlohmann::json::parse(open.out, nullptr, false);
  ASSERT_TRUE(o.is_object()) << open.out;
  ASSERT_EQ(o["requests"].size(), 2u) << open.out;
  EXPECT_EQ(o["requests"][0]["request"], "R-1");
  EXPECT_EQ(o["requests"][1]["request"], "R-3");
  EXPECT_EQ(o["requestsRead"], 2);

  std::vector<std::string> seen;
  std::string after;
  for (int pages = 0; pages < 10; ++pages) {
    CliRun page = Hearth("rights list --all --limit 1 --json " + (after.empty() ? "" : "--after " + after + " ") + args_);
    ASSERT_EQ(page.code, 0) << page.out;
    auto j = nlohmann::json::parse(page.out, nullptr, false);
    ASSERT_TRUE(j.is_object() && j["requests"].size() == 1u) << page.out;
    seen.push_back(j["requests"][0]["request"]);
    if (!j.contains("next")) break;
    after = j["next"];
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"R-3", "R-2", "R-1"}));
  CliRun text = Hearth("rights list --all --limit 2 " + args_);
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("more: run again with --after R-2 --all"), std::string::npos) << text.out;

  uint64_t before = LastPosition();
  CliRun big = Hearth("rights list --all --limit " + std::to_string(rights::kMaxRequestsPage + 1) + " " + args_);
  EXPECT_NE(big.code, 0);
  EXPECT_NE(big.out.find("--limit must be 1.." + std::to_string(rights::kMaxRequestsPage)), std::string::npos)
      << big.out;
  CliRun unknown = Hearth("rights list --all --after R-99 " + args_);
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.out.find("no rights request R-99"), std::string::npos) << unknown.out;
  EXPECT_EQ(LastPosition(), before);
}

}  // namespace
}  // namespace hearth::readmodels::testing
