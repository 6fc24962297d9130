// The command line: `hearth processing`, `rights receive/list/restrict/erase`,
// `sar` and `disclosures` on a small store; bad input changes nothing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

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

}  // namespace
}  // namespace hearth::readmodels::testing
