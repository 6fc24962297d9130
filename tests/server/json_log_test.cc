// The server's JSON log (log_format json, docs/operations.md "Metrics and
// logs"): one JSON object per line (time, level, event, fields), and nothing
// personal in it. A demo county's server is read, appended to, refused and
// queried; then every name, NHS number and postcode of the demo's synthetic
// people (read back through the store with its key) is looked for in the
// captured log, and none is found.
#include <nlohmann/json.hpp>

#include "county.h"
#include "hearth/rights.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

using Json = nlohmann::json;

const char* kJsonLogConfig = R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "CA", "cert": "CERT", "key": "KEY"},
  "log_format": "json",
  "plugins": {
    "portal": {
      "scopes": {"append_types": ["Contact*", "CaseNoteAdded"], "read_districts": ["*"],
                 "read_streams": ["*"], "read_models": ["*"], "read_personal": true, "read_log": true,
                 "controller": true},
      "roles": {"caseworker": {"controller": false}, "controller": {}}
    },
    "limited": {"scopes": {"read_districts": ["D9"]}}
  }
})";

// Every string under a personal section's details whose key names a name,
// an NHS number or a postcode, in the JSON form of the store's events.
void CollectIdentifying(const Json& j, const std::string& key, std::set<std::string>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) CollectIdentifying(v, k, out);
  } else if (j.is_array()) {
    for (const auto& v : j) CollectIdentifying(v, key, out);
  } else if (j.is_string()) {
    std::string lower;
    for (char c : key) lower += char(std::tolower(static_cast<unsigned char>(c)));
    bool identifying = lower.find("name") != std::string::npos || lower.find("nhs") != std::string::npos ||
                       lower.find("postcode") != std::string::npos;
    if (identifying && j.get<std::string>().size() >= 3) out->insert(j.get<std::string>());
  }
}

class JsonLogTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    domain::RecorderOptions ro;
    ro.today = [] {
      domain::Date d;
      domain::ParseDate("2019-12-31", &d);
      return d;
    };
    domain::CaseRecorder recorder(store_.get(), &TestCodec(), ro);
    demo::CountyOptions options;
    options.limit_cases = 8;
    options.threads = 1;
    auto report = demo::GenerateCounty(&recorder, domain::Calendar::EnglandAndWales(), options);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    // The pack's Art. 15 information comes from the record of processing.
    rights::Rights rights(store_.get(), &TestCodec(), {});
    ASSERT_TRUE(rights.SetProcessingRecord(rights::DefaultProcessingRecordJson(),
                                           Actor{"S-9", "controller", "test"}).ok());
    ASSERT_TRUE(models_.Add(rights::MakeSarModel(&TestCodec())).ok());
    // The demo's people as the store holds them (decrypted with the key).
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      if (page->empty()) break;
      for (const auto& e : *page) {
        auto json = TestCodec().ToJson(e);
        if (!json.ok()) continue;
        Json j = Json::parse(*json);
        if (j.contains("personal")) CollectIdentifying(j["personal"], "", &identifying_);
        for (const auto& s : e.subjects) {
          if (s.role == SubjectRole::kClient && client_.empty()) client_ = s.id;
        }
        if (case_stream_.empty() && e.stream.rfind("case/", 0) == 0) case_stream_ = e.stream;
      }
      from = page->back().position + 1;
    }
    ASSERT_GT(identifying_.size(), 10u) << "the demo county has no personal details?";
    ASSERT_FALSE(client_.empty());
    Start(Config(kJsonLogConfig));
  }

  std::set<std::string> identifying_;
  std::string client_;
  std::string case_stream_;
};

TEST_F(JsonLogTest, EachLineIsAJsonObjectAndNoneCarriesADemoPersonsDetails) {
  // A name of the county's people, written into a new case by a client.
  const std::string name = *identifying_.begin();
  auto controller = Connect("portal", "S-0001", "controller");
  ASSERT_TRUE(controller);
  // Reads with personal data, a subject read, a pack (sar) query.
  ASSERT_TRUE(controller->ReadAll(1, 200, "audit").ok());
  ASSERT_TRUE(controller->ReadStream(case_stream_, 1, Direction::kForward, 0, "triage").ok());
  ASSERT_TRUE(controller->ReadSubject(client_, 1, 100, "sar").ok());
  auto pack = controller->Query("sar", Json{{"subject", client_}}.dump());
  ASSERT_TRUE(pack.ok()) << pack.status().ToString();
  // An append carrying a person's name, and refused ones that carry them too.
  auto worker = Connect("portal", "S-0002", "caseworker");
  ASSERT_TRUE(worker);
  ASSERT_TRUE(worker->Append("case/D1/C-777001", ExpectedVersion::NoStream(),
                             {Enquiry("P-777001", "D1", name, "visit " + name)})
                  .ok());
  EXPECT_FALSE(worker->Append("case/D1/C-777001", ExpectedVersion::NoStream(),
                              {Enquiry("P-777001", "D1", name)})
                   .ok());
  EXPECT_FALSE(worker->Append("case/D1/C-777002", ExpectedVersion::Any(), {MakeEvent("GrantApproved", "P-1", name)})
                   .ok());
  // Refusals that reach the log: a read outside the scopes, a bad role.
  auto limited = Connect("limited", "S-0003", "caseworker");
  ASSERT_TRUE(limited);
  EXPECT_FALSE(limited->ReadStream(case_stream_, 1, Direction::kForward, 0, "triage").ok());
  EXPECT_FALSE(limited->ReadSubject(client_, 1, 10, "triage").ok());
  auto bad_role = sdk::Client::Connect(ClientFor("portal", "S-0004", "nobody"));
  EXPECT_FALSE(bad_role.ok());
  ASSERT_TRUE(Eventually([&] { return LogContains("\"refusal\""); })) << Log();
  controller.reset();
  worker.reset();
  limited.reset();
  server_->Stop();

  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    lines = log_;
  }
  ASSERT_GT(lines.size(), 5u);
  for (const auto& line : lines) {
    Json j = Json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j["time"].is_string()) << line;
    EXPECT_TRUE(j["level"] == "info" || j["level"] == "warning") << line;
    EXPECT_TRUE(j["event"].is_string()) << line;
    ASSERT_TRUE(j["fields"].is_object()) << line;
    EXPECT_TRUE(j["fields"]["message"].is_string()) << line;
    for (const auto& value : identifying_) {
      ASSERT_EQ(line.find(value), std::string::npos) << "'" << value << "' is in the log: " << line;
    }
  }
}

TEST(JsonLogConfigTest, UnknownLogFormatIsRefused) {
  std::string json = kConfigJson;
  json.insert(json.find('{') + 1, "\n  \"log_format\": \"xml\",");
  auto config = server::ServerConfig::FromJson(json, "");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("log_format"), std::string::npos);
}

}  // namespace
}  // namespace hearth::testing
