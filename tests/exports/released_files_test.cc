// Issue 21.2: the released files, not the in-memory cells, are what is
// checked, on a county built here (not the demo) whose counts are known by
// construction and sit exactly at K-1, K and K+1 for every policy's
// threshold K, in several districts. Every cell of the written kpi.csv and
// kpi.json, and every row of the written cases.csv, is checked against the
// rules of docs/exports.md, with their constants written here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "hearth/exports.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"

namespace hearth::exports {
namespace {

using Json = nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// docs/exports.md, "Policies".
struct DocPolicy {
  std::string name;
  int64_t hide_below;  // 1..hide_below-1 suppressed (primary)
  bool rounded;        // other counts to the nearest 5, halves up
  bool county_exact;   // county totals published exact
};
const std::vector<DocPolicy> kPolicies = {
    {"nhs", 8, true, true},           {"ons", 10, true, false},        {"threshold:3", 3, false, true},
    {"threshold:5", 5, false, true},  {"threshold:9", 9, false, true}, {"threshold:10", 10, false, true},
    {"threshold:12", 12, false, true}, {"threshold:13", 13, false, true}};

int64_t RoundTo5(int64_t v) { return (v + 2) / 5 * 5; }  // nearest 5; integers have no halves

// Enquiries per district and channel in 2018/19-Q1: every threshold above
// has cells at K-1, K and K+1, in at least two (K=5 and K=13: K+1 in one)
// districts each.
const std::vector<std::string> kDistricts = {"D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8"};
const std::vector<std::string> kChannels = {"phone", "email", "letter", "web", "inPerson"};
const std::map<std::string, std::vector<int64_t>> kGrid = {
    //     phone email letter web inPerson
    {"D1", {2, 3, 4, 1, 5}},     {"D2", {4, 5, 6, 2, 3}},     {"D3", {7, 8, 9, 1, 10}},
    {"D4", {9, 10, 11, 2, 8}},   {"D5", {11, 12, 13, 1, 7}},  {"D6", {12, 13, 14, 2, 9}},
    // D7 and D8 repeat D1 and D2, so the small cells of those rows come in
    // pairs and the audit need not take the boundary cells beside them.
    {"D7", {2, 3, 4, 1, 5}},     {"D8", {4, 5, 6, 2, 3}}};

class ReleasedFilesTest : public readmodels::testing::ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open({});
    // One case per enquiry; within each district the first four enquiries
    // in April, the next five in May, the rest in June (groups of k-1, k and
    // more for the extract's k = 5).
    int n = 0;
    for (const auto& d : kDistricts) {
      int i = 0;
      for (size_t c = 0; c < kChannels.size(); ++c) {
        for (int64_t x = 0; x < kGrid.at(d)[c]; ++x, ++i, ++n) {
          const char* month = i < 4 ? "04" : i < 9 ? "05" : "06";
          std::string on = std::string("2018-") + month + "-1" + std::to_string(i % 10);
          NewEvent e = E(R"({"type":"ContactRecorded","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
                         R"("facts":{"contactedOn":")" + on + R"(","district":")" + d + R"(","channel":")" +
                         kChannels[c] + R"(","referrerType":"self","purpose":"enquiry"},)"
                         R"("personal":[{"subject":"P-)" + std::to_string(n) +
                         R"(","role":"client","details":{"givenName":"Testina","familyName":"Quillfeather"}}]})");
          Record("case/" + d + "/" + std::to_string(1000 + n), {e});
          ++month_count_[{d, std::string("2018-") + month}];
        }
      }
    }
    // The true count of every cell the return has, by construction; every
    // other figure is zero.
    for (const auto& d : kDistricts) {
      int64_t total = 0;
      for (size_t c = 0; c < kChannels.size(); ++c) {
        truth_[{"enquiries.channel." + kChannels[c], d}] = kGrid.at(d)[c];
        truth_[{"enquiries.channel." + kChannels[c], "county"}] += kGrid.at(d)[c];
        total += kGrid.at(d)[c];
      }
      truth_[{"enquiries.total", d}] = total;
      truth_[{"enquiries.total", "county"}] += total;
      truth_[{"enquiries.referrer.self", d}] = total;
      truth_[{"enquiries.referrer.self", "county"}] += total;
      // docs/exports.md, "Target groups and equality": a client whose codes
      // were never recorded (here nobody is registered) counts under each
      // breakdown's notRecorded.
      for (const char* field : {"ageBand", "gender", "disability", "ethnicGroup", "mainLanguage",
                                "interpreterNeeded", "unpaidCarer", "mentalHealth", "learningDisability"}) {
        truth_[{std::string("enquiries.") + field + ".notRecorded", d}] = total;
        truth_[{std::string("enquiries.") + field + ".notRecorded", "county"}] += total;
      }
    }
  }

  int64_t Truth(const std::string& figure, const std::string& area) const {
    auto it = truth_.find({figure, area});
    return it == truth_.end() ? 0 : it->second;
  }

  std::map<std::pair<std::string, std::string>, int64_t> truth_;
  std::map<std::pair<std::string, std::string>, int> month_count_;
  hearth::testing::TempDir out_;
};

// "" when `released` is what the policy allows for true count v.
std::string Check(const DocPolicy& p, bool county, int64_t v, const std::string& released) {
  bool controlled_here = !(county && p.county_exact);
  if (released == "*") {
    return "";  // primary, or secondary (any cell, a zero or an exact county total included)
  }
  int64_t got = 0;
  try {
    size_t used = 0;
    got = std::stoll(released, &used);
    if (used != released.size()) return "not a number";
  } catch (...) {
    return "not a number";
  }
  if (v == 0) return got == 0 ? "" : "a zero must stay 0";
  if (controlled_here && v < p.hide_below) return "a count below " + std::to_string(p.hide_below) + " is published";
  int64_t want = controlled_here && p.rounded ? RoundTo5(v) : v;
  return got == want ? "" : "published " + std::to_string(got) + ", the policy gives " + std::to_string(want);
}

TEST_F(ReleasedFilesTest, EveryReleasedCellFollowsThePolicyAtEachBoundary) {
  auto period = *ParsePeriod("2018/19-Q1");
  auto calendar = domain::Calendar::EnglandAndWales();
  for (const DocPolicy& p : kPolicies) {
    SCOPED_TRACE(p.name);
    std::string dir = out_.sub(p.name.substr(0, 3) + std::to_string(p.hide_below));
    auto kpi = ReleaseKpiReturn(*store_, *codec_, calendar, period, *ParsePolicy(p.name), KpiOptions{},
                                "fixture-" + std::to_string(p.hide_below) + p.name.substr(0, 1),
                                Actor{"S-MON-1", "monitoringOfficer", "test"}, dir);
    ASSERT_TRUE(kpi.ok()) << kpi.status().ToString();
    // kpi.csv, every row.
    std::map<std::pair<std::string, std::string>, std::string> csv_cells;
    std::istringstream csv(Slurp(dir + "/kpi.csv"));
    std::string line;
    std::getline(csv, line);
    ASSERT_EQ(line, "period,area,table,figure,value");
    int at_below = 0, at_k = 0, at_k_published = 0, at_above_published = 0;
    while (std::getline(csv, line)) {
      std::vector<std::string> col;
      std::stringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) col.push_back(c);
      ASSERT_EQ(col.size(), 5u) << line;
      // The money table is pence under its own rule (docs/exports.md "Money";
      // MoneyTest), not counts of people under the policy.
      if (col[2] == "money") continue;
      EXPECT_EQ(col[0], "2018/19-Q1");
      bool county = col[1] == "county";
      EXPECT_TRUE(county || std::find(kDistricts.begin(), kDistricts.end(), col[1]) != kDistricts.end()) << line;
      int64_t v = Truth(col[3], col[1]);
      EXPECT_EQ(Check(p, county, v, col[4]), "") << "kpi.csv: " << line << " (true count " << v << ")";
      csv_cells[{col[3], col[1]}] = col[4];
      if (county && p.county_exact) continue;
      if (v == p.hide_below - 1) {
        ++at_below;
        EXPECT_EQ(col[4], "*") << line;
      }
      if (v == p.hide_below) {
        ++at_k;
        at_k_published += col[4] != "*";
      }
      if (v == p.hide_below + 1) at_above_published += col[4] != "*";
    }
    // Every boundary is pinned: cells at K-1 (hidden), at K and at K+1
    // (published, at least one of each, in the policy's own form).
    EXPECT_GE(at_below, 2);
    EXPECT_GE(at_k, 2);
    EXPECT_GE(at_k_published, 1);
    EXPECT_GE(at_above_published, 1);
    // kpi.json, every value, the same as kpi.csv.
    Json j = Json::parse(Slurp(dir + "/kpi.json"));
    EXPECT_EQ(j["policy"]["name"], p.name);
    std::vector<std::string> areas = j["areas"].get<std::vector<std::string>>();
    ASSERT_EQ(areas.size(), kDistricts.size() + 1);
    size_t cells = 0;
    for (const Json& t : j["tables"]) {
      for (const Json& f : t["figures"]) {
        ASSERT_EQ(f["values"].size(), areas.size());
        for (size_t a = 0; a < areas.size(); ++a) {
          const Json& x = f["values"][a];
          std::string released = x.is_null() ? "*" : std::to_string(x.get<int64_t>());
          std::string id = f["id"];
          int64_t v = Truth(id, areas[a]);
          EXPECT_EQ(Check(p, areas[a] == "county", v, released), "")
              << "kpi.json: " << id << " " << areas[a] << " = " << released << " (true count " << v << ")";
          EXPECT_EQ((csv_cells[{id, areas[a]}]), released) << id << " " << areas[a];
          ++cells;
        }
      }
    }
    EXPECT_EQ(cells, csv_cells.size());
  }
}

// cases.csv against docs/exports.md, "The pseudonymous case-level extract":
// its header, one row per case of the period, 16-hex references, and
// k-anonymity of the quasi-identifiers in the written file, at groups of
// k-1 (left out), k and more (kept whole).
TEST_F(ReleasedFilesTest, TheWrittenExtractIsKAnonymousAtItsBoundary) {
  auto period = *ParsePeriod("2018/19-Q1");
  for (int k : {5, 6}) {
    SCOPED_TRACE(k);
    ExtractOptions eo;
    eo.recipient = "fixture-analyst";
    eo.k = k;
    eo.max_suppressed_share = 1.0;  // stay at level 0 (months), suppress what it takes
    auto e = BuildCaseExtract(*store_, *codec_, period, eo);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    std::string dir = out_.sub("extract" + std::to_string(k));
    ASSERT_TRUE(WriteCaseExtract(*e, dir).ok());
    std::istringstream csv(Slurp(dir + "/cases.csv"));
    std::string line;
    std::getline(csv, line);
    ASSERT_EQ(line, "reference,ageBand,district,tenure,service,element,enquiryMonth,firstVisitMonth,completedMonth,"
                    "closedMonth,urgency,outcomes,costBand");
    std::map<std::string, int> groups;                           // quasi-identifiers -> rows
    std::map<std::pair<std::string, std::string>, int> written;  // (district, month) -> rows
    std::set<std::string> refs;
    size_t rows = 0;
    while (std::getline(csv, line)) {
      std::vector<std::string> col;
      std::stringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) col.push_back(c);
      while (col.size() < 13) col.push_back("");  // trailing empty cells
      ASSERT_EQ(col.size(), 13u) << line;
      EXPECT_EQ(col[0].size(), 16u) << line;
      EXPECT_EQ(col[0].find_first_not_of("0123456789abcdef"), std::string::npos) << line;
      EXPECT_TRUE(refs.insert(col[0]).second) << "reference twice: " << line;
      EXPECT_EQ(line.find("Quillfeather"), std::string::npos);
      EXPECT_EQ(line.find("case/"), std::string::npos);
      ++groups[col[1] + "|" + col[2] + "|" + col[3] + "|" + col[4] + "|" + col[6]];
      ++written[{col[2], col[6]}];
      ++rows;
    }
    for (const auto& [qi, n] : groups) EXPECT_GE(n, k) << qi;
    // Every (district, month) group: whole when at least k, gone when below.
    size_t want_rows = 0;
    for (const auto& [dm, n] : month_count_) {
      int got = written.count(dm) ? written.at(dm) : 0;
      EXPECT_EQ(got, n >= k ? n : 0) << dm.first << " " << dm.second << ": " << n << " cases";
      if (n >= k) want_rows += size_t(n);
    }
    EXPECT_EQ(rows, want_rows);
    int at_k_minus_1 = 0, at_k = 0;
    for (const auto& [dm, n] : month_count_) {
      at_k_minus_1 += n == k - 1;
      at_k += n == k;
    }
    EXPECT_GE(at_k_minus_1 + at_k, 6) << "the fixture has groups at the boundary";
    Json report = Json::parse(Slurp(dir + "/extract-report.json"));
    EXPECT_EQ(report["k"], k);
  }
}

// The release ledger is the store owner's: a plugin session with every
// scope can neither forge an entry (which could make a later return less
// careful) nor read one.
TEST_F(ReleasedFilesTest, NoSessionReadsOrWritesAReleaseLedger) {
  auto period = *ParsePeriod("2018/19-Q1");
  auto kpi = ReleaseKpiReturn(*store_, *codec_, domain::Calendar::EnglandAndWales(), period, *ParsePolicy("nhs"),
                              KpiOptions{}, "partnership", Actor{"S-MON-1", "monitoringOfficer", "test"},
                              out_.sub("ledgered"));
  ASSERT_TRUE(kpi.ok()) << kpi.status().ToString();
  Scopes all;
  all.read_streams = {"*"};
  all.read_districts = {"*"};
  all.append_types = {"*"};
  all.read_models = {"*"};
  all.read_personal = all.read_log = all.controller = true;
  Session session(store_.get(), Principal{"plugin", "S-1", "controller"}, all, [](const std::string&) {});
  auto read = session.ReadStream("release/partnership", 1, Direction::kForward, 10, "audit");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), Status::Code::kPermissionDenied);
  auto before = ReadReleaseLedger(*store_, *codec_, "partnership");
  ASSERT_TRUE(before.ok());
  for (const char* stream : {"release/partnership", "release/someone-new"}) {
    NewEvent forged = E(R"({"type":"KpiReturnReleased","actor":{"user":"S-1","role":"controller","plugin":"x"},)"
                        R"("facts":{"recipient":"partnership","period":"2018/19-Q1","position":"1","policy":"nhs",)"
                        R"("areas":["county"],"tables":[]}})");
    auto appended = session.Append(stream, ExpectedVersion::Any(), {forged});
    ASSERT_FALSE(appended.ok()) << stream;
    EXPECT_EQ(appended.status().code(), Status::Code::kPermissionDenied) << stream;
  }
  auto after = ReadReleaseLedger(*store_, *codec_, "partnership");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());
  EXPECT_EQ(after->size(), 1u);
}

}  // namespace
}  // namespace hearth::exports
