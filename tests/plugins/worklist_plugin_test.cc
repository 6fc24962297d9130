// The example plugin plugins/worklist-file, loaded through the ABI over a real
// store: first-visit worklist files per team, atomically replaced.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "hearth/domain.h"
#include "hearth/session.h"
#include "plugin_host.h"
#include "test_util.h"

namespace hearth {
namespace {

using hearth::plugins::LoadedPlugin;
using hearth::plugins::LoadOptions;
using nlohmann::json;
using testing::MakeKeyFile;
using testing::TempDir;
using testing::TestOptions;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls until `done` (a stuck plugin fails the test; no timing is asserted).
bool WaitFor(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class WorklistPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = MakeKeyFile(dir_.sub("root.key"));
    auto s = Store::Open(TestOptions(key_), dir_.sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    domain::AddBuiltinUpcasters(&upcasters_);
    auto codec = domain::Codec::Create(&upcasters_);
    ASSERT_TRUE(codec.ok()) << codec.status().ToString();
    codec_ = std::move(*codec);
    Scopes scopes;
    scopes.read_log = true;  // all the plugin needs: facts of the whole log
    session_ = std::make_unique<Session>(store_.get(), Principal{"worklist-file", "", "reporter"},
                                         scopes, [](const std::string&) {});
  }

  // Appends one domain event in the codec's JSON form to a case.
  void Record(const std::string& stream, const std::string& type, const json& facts) {
    json e = {{"type", type},
              {"subjects", json::array({{{"id", "P-" + stream.substr(stream.rfind('/') + 1)},
                                         {"role", "client"}}})},
              {"facts", facts}};
    NewEvent event;
    Status s = codec_->FromJson(e.dump(), &event);
    ASSERT_TRUE(s.ok()) << type << ": " << s.ToString();
    ASSERT_TRUE(store_->Append(stream, ExpectedVersion::Any(), {event}).ok());
  }

  void Enquiry(const std::string& stream, const std::string& on, const std::string& district) {
    Record(stream, "ContactRecorded",
           {{"contactedOn", on}, {"district", district}, {"channel", "phone"},
            {"purpose", "enquiry"}});
  }

  // A county with cases in every state the worklist distinguishes.
  void Populate() {
    Enquiry("case/D1/A", "2026-01-05", "D1");  // due 02-02: overdue on 03-01
    Record("case/D1/A", "FirstVisitScheduled",
           {{"scheduledOn", "2026-02-20"}, {"visitOn", "2026-03-04"}});
    Enquiry("case/D1/B", "2026-02-05", "D1");  // due 03-05: within a week
    Record("case/D1/B", "ContactRecorded",     // a later contact does not move the clock
           {{"contactedOn", "2026-02-25"}, {"channel", "email"}, {"purpose", "chaser"}});
    Enquiry("case/D1/C", "2026-02-20", "D1");  // due 03-20: not yet
    Enquiry("case/D1/D", "2026-01-10", "D1");  // visited
    Record("case/D1/D", "FirstVisitCompleted", {{"completedOn", "2026-01-20"}});
    Enquiry("case/D1/E", "2026-01-12", "D1");  // closed
    Record("case/D1/E", "CaseClosed", {{"closedOn", "2026-01-30"}});
    Enquiry("case/D2/F", "2026-01-15", "D2");  // due 02-12: overdue
    Enquiry("case/D2/G", "2026-01-20", "D2");  // transferred to another team
    Record("case/D2/G", "CaseTransferred",
           {{"transferredOn", "2026-01-25"}, {"fromTeam", "D2"}, {"toTeam", "north-ot"}});
    ASSERT_TRUE(store_->Append("erasure-requests", ExpectedVersion::Any(),
                               {testing::MakeEvent("SomethingElse")})
                    .ok());
  }

  uint64_t LastPosition() { return store_->Info()->last_position; }

  // Waits until `path` holds a JSON worklist that has folded `position`.
  json WaitForJson(const std::string& path, uint64_t position) {
    json doc;
    bool ok = WaitFor([&] {
      if (!std::filesystem::exists(path)) return false;
      doc = json::parse(ReadFile(path), nullptr, false);
      return !doc.is_discarded() && doc.value("position", uint64_t(0)) >= position;
    });
    EXPECT_TRUE(ok) << "no worklist at position " << position << " in " << path;
    return doc;
  }

  TempDir dir_;
  std::string key_;
  std::unique_ptr<Store> store_;
  domain::UpcasterRegistry upcasters_;
  std::unique_ptr<domain::Codec> codec_;
  std::unique_ptr<Session> session_;
};

TEST_F(WorklistPluginTest, WritesEachTeamsFirstVisitWorklist) {
  Populate();
  std::string out = dir_.sub("worklists");
  LoadOptions options;
  options.codec = codec_.get();
  auto plugin = LoadedPlugin::Load(
      HEARTH_WORKLIST_PLUGIN, *session_,
      json{{"dir", out}, {"today", "2026-03-01"}, {"intervalMs", 20}}.dump(), options);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  EXPECT_EQ((*plugin)->name(), "worklist-file");
  ASSERT_TRUE((*plugin)->Start().ok());

  json d1 = WaitForJson(out + "/first-visits-D1.json", LastPosition());
  json expected_d1 = json::parse(R"({
    "worklist": "first-visits", "team": "D1", "date": "2026-03-01", "targetDays": 28,
    "dueWithinDays": 7, "overdue": 1,
    "cases": [
      {"case": "case/D1/A", "district": "D1", "enquiryOn": "2026-01-05", "dueOn": "2026-02-02",
       "bookedFor": "2026-03-04", "status": "overdue", "daysOverdue": 27},
      {"case": "case/D1/B", "district": "D1", "enquiryOn": "2026-02-05", "dueOn": "2026-03-05",
       "bookedFor": null, "status": "due", "daysOverdue": 0}
    ]})");
  expected_d1["position"] = LastPosition();
  EXPECT_EQ(d1, expected_d1);

  json d2 = WaitForJson(out + "/first-visits-D2.json", LastPosition());
  ASSERT_EQ(d2["cases"].size(), 1u);
  EXPECT_EQ(d2["cases"][0]["case"], "case/D2/F");
  EXPECT_EQ(d2["cases"][0]["daysOverdue"], 17);
  json ot = WaitForJson(out + "/first-visits-north-ot.json", LastPosition());
  ASSERT_EQ(ot["cases"].size(), 1u);
  EXPECT_EQ(ot["cases"][0]["case"], "case/D2/G");
  EXPECT_EQ(ot["cases"][0]["district"], "D2");

  // Live: the visit to A is made; the file is replaced without it.
  Record("case/D1/A", "FirstVisitCompleted", {{"completedOn", "2026-02-27"}});
  d1 = WaitForJson(out + "/first-visits-D1.json", LastPosition());
  ASSERT_EQ(d1["cases"].size(), 1u);
  EXPECT_EQ(d1["cases"][0]["case"], "case/D1/B");
  EXPECT_EQ(d1["overdue"], 0);

  plugin = Status::NotFound("unloaded");
  // Only the finished files remain: no temporary file was left behind.
  std::vector<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(out)) {
    names.push_back(f.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"first-visits-D1.json", "first-visits-D2.json",
                                             "first-visits-north-ot.json"}));
  // Facts only: no personal data reached the files.
  for (const std::string& n : names) {
    EXPECT_EQ(ReadFile(out + "/" + n).find("P-"), std::string::npos) << n;
  }
}

TEST_F(WorklistPluginTest, WritesCsvWhenAsked) {
  Populate();
  std::string out = dir_.sub("csv");
  LoadOptions options;
  options.codec = codec_.get();
  auto plugin = LoadedPlugin::Load(HEARTH_WORKLIST_PLUGIN, *session_,
                                   json{{"dir", out},
                                        {"format", "csv"},
                                        {"today", "2026-03-01"},
                                        {"dueWithinDays", 0},
                                        {"intervalMs", 20}}
                                       .dump(),
                                   options);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_TRUE((*plugin)->Start().ok());
  // Stopping writes what was folded last: wait until it has folded everything.
  const std::string header = "case,district,enquiry_on,due_on,booked_for,status,days_overdue\n";
  std::string path = out + "/first-visits-D1.csv";
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(path) == header + "case/D1/A,D1,2026-01-05,2026-02-02,2026-03-04,overdue,27\n";
  })) << ReadFile(path);
  ASSERT_TRUE(WaitFor([&] {
    return ReadFile(out + "/first-visits-D2.csv") ==
           header + "case/D2/F,D2,2026-01-15,2026-02-12,,overdue,17\n";
  })) << ReadFile(out + "/first-visits-D2.csv");
}

TEST_F(WorklistPluginTest, ReadsGenericJsonFactsAndDomainEventsWithoutACodecInTheOptions) {
  // Events whose facts are JSON text (not the domain's Cap'n Proto: written
  // below the front ends, which now refuse them) reach the plugin in the
  // generic form, facts as JSON, with factsError.
  NewEvent e;
  e.id = EventId::Random();
  e.type = "ContactRecorded";
  e.facts = R"({"contactedOn":"2026-02-01","district":"D3","purpose":"enquiry"})";
  ASSERT_TRUE(store_->Append("case/D3/H", ExpectedVersion::Any(), {e}).ok());
  // And one domain event, decoded by the builtin codec (Event JSON has one
  // codec; LoadOptions without one means the builtin one, never base64).
  Enquiry("case/D1/A", "2026-01-05", "D1");

  std::mutex mu;
  std::vector<std::string> warnings;
  LoadOptions options;
  options.log = [&](int level, const std::string& plugin, const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    if (level == HEARTH_LOG_WARNING && plugin == "worklist-file") warnings.push_back(line);
  };
  std::string out = dir_.sub("generic");
  auto plugin = LoadedPlugin::Load(
      HEARTH_WORKLIST_PLUGIN, *session_,
      json{{"dir", out}, {"today", "2026-03-01"}, {"intervalMs", 20}}.dump(), options);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_TRUE((*plugin)->Start().ok());
  json d3 = WaitForJson(out + "/first-visits-D3.json", LastPosition());
  ASSERT_EQ(d3["cases"].size(), 1u);
  EXPECT_EQ(d3["cases"][0]["dueOn"], "2026-03-01");
  EXPECT_EQ(d3["cases"][0]["status"], "due");
  json d1 = WaitForJson(out + "/first-visits-D1.json", LastPosition());
  ASSERT_EQ(d1["cases"].size(), 1u);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
}

TEST_F(WorklistPluginTest, NeedsTheReadLogScopeAndAValidConfig) {
  Session no_log(store_.get(), Principal{"worklist-file", "", "reporter"}, Scopes{},
                 [](const std::string&) {});
  std::string out = dir_.sub("refused");
  auto plugin = LoadedPlugin::Load(HEARTH_WORKLIST_PLUGIN, no_log, json{{"dir", out}}.dump());
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  Status s = (*plugin)->Start();
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("read_log"), std::string::npos) << s.message();

  auto no_dir = LoadedPlugin::Load(HEARTH_WORKLIST_PLUGIN, *session_, "{}");
  EXPECT_TRUE(no_dir.status().IsInvalidArgument());
  EXPECT_NE(no_dir.status().message().find("dir"), std::string::npos);
  auto typo = LoadedPlugin::Load(HEARTH_WORKLIST_PLUGIN, *session_,
                                 json{{"dir", out}, {"fromat", "csv"}}.dump());
  EXPECT_TRUE(typo.status().IsInvalidArgument());
  EXPECT_NE(typo.status().message().find("fromat"), std::string::npos);
  auto bad_date = LoadedPlugin::Load(HEARTH_WORKLIST_PLUGIN, *session_,
                                     json{{"dir", out}, {"today", "2026-02-30"}}.dump());
  EXPECT_TRUE(bad_date.status().IsInvalidArgument());
}

}  // namespace
}  // namespace hearth
