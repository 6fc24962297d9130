// The web console's server-side properties, without a browser: ConsoleApp
// answers the requests a browser would send (docs/console.md). A small demo
// county (synthetic people only) in a fresh store; the console's clock is the
// test's, so idle sessions and throttling windows pass without sleeping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "accounts.h"
#include "console.h"
#include "county.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/read_model.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "test_util.h"

namespace hearth::testing {
namespace {

using Json = nlohmann::json;
using console::HttpRequest;
using console::HttpResponse;

constexpr const char* kControllerPassword = "controller-pass-1";
constexpr const char* kCaseworkerPassword = "caseworker-pass-1";
constexpr const char* kAuditorPassword = "auditor-pass-12";
constexpr const char* kPartnerPassword = "partner-pass-123";

class ConsoleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static domain::UpcasterRegistry upcasters;
    domain::AddBuiltinUpcasters(&upcasters);
    codec_ = domain::Codec::Create(&upcasters).value().release();
  }

  void SetUp() override {
    Options o;
    o.create_if_missing = true;
    o.key = KeySource::File(HexKeyFile(dir_.sub("root.key")));
    o.projections = readmodels::MakeProjections(codec_);
    auto store = Store::Open(o, dir_.sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    domain::CaseRecorder recorder(store_.get(), codec_, domain::RecorderOptions{});
    demo::CountyOptions county;
    county.limit_cases = 6;
    county.threads = 1;
    ASSERT_TRUE(demo::GenerateCounty(&recorder, calendar_, county).ok());
    rights::Rights r(store_.get(), codec_, rights::RightsOptions{});
    ASSERT_TRUE(r.SetProcessingRecord(rights::DefaultProcessingRecordJson(),
                                      Actor{"S-1", "controller", "test"}).ok());
    for (const auto& [name, role, district, password] :
         {std::tuple{"ctl1", console::kController, "", kControllerPassword},
          std::tuple{"cw1", console::kCaseworker, "D1", kCaseworkerPassword},
          std::tuple{"aud1", console::kAuditor, "", kAuditorPassword},
          std::tuple{"par1", console::kPartner, "", kPartnerPassword}}) {
      console::Account a;
      a.name = name;
      a.role = role;
      if (*district) a.districts = {district};
      ASSERT_TRUE(console::AddAccount(*store_, a, password, Actor{"S-1", "controller", "test"}).ok());
    }
    ASSERT_TRUE(models_.Add(MakeInfoModel()).ok());
    ASSERT_TRUE(models_.Add(readmodels::MakeTimelineModel(codec_)).ok());
    ASSERT_TRUE(models_.Add(readmodels::MakeWorklistModel(&calendar_, codec_)).ok());
    ASSERT_TRUE(models_.Add(rights::MakeSarModel(codec_)).ok());
    ASSERT_TRUE(models_.Add(rights::MakeDisclosuresModel(codec_)).ok());
    ASSERT_TRUE(models_.Add(exports::MakeKpiModel(codec_)).ok());
    // A client and a case of D1, and a case of D2.
    for (uint64_t from = 1; client_.empty() || d2_case_.empty();) {
      auto page = store_->ReadAll(from, 500);
      ASSERT_TRUE(page.ok() && !page->empty());
      for (const auto& e : *page) {
        if (e.stream.rfind("case/D1/", 0) == 0 && client_.empty()) {
          d1_case_ = e.stream;
          for (const auto& s : e.subjects) {
            if (s.role == SubjectRole::kClient) client_ = s.id;
          }
        }
        if (e.stream.rfind("case/D2/", 0) == 0 && d2_case_.empty()) d2_case_ = e.stream;
      }
      from = page->back().position + 1;
    }
    config_.login_failures = 3;
    config_.lockout_ms = 60000;
    config_.session_idle_ms = 10000;
    config_.max_body_bytes = 4096;
    MakeApp();
  }

  void MakeApp() {
    console::ConsoleContext ctx;
    ctx.store = store_.get();
    ctx.models = &models_;
    ctx.codec = codec_;
    ctx.calendar = &calendar_;
    ctx.log = [this](const std::string& line) { log_ += line + "\n"; };
    ctx.now = [this] { return now_; };
    app_ = std::make_unique<console::ConsoleApp>(ctx, config_);
  }

  HttpResponse Send(const std::string& method, const std::string& target, const std::string& body = "",
                    std::map<std::string, std::string> headers = {}, const std::string& peer = "10.0.0.1") {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.peer = peer;
    if (method == "POST" && headers.count("content-type") == 0) headers["content-type"] = "application/json";
    r.headers = std::move(headers);
    return app_->Handle(r);
  }

  HttpResponse Login(const std::string& account, const std::string& password,
                     const std::string& peer = "10.0.0.1") {
    return Send("POST", "/api/login", Json{{"account", account}, {"password", password}}.dump(), {}, peer);
  }

  // A logged-in browser: its cookie header and CSRF token.
  struct Browser {
    std::map<std::string, std::string> headers;
    std::string csrf;
  };
  Browser LoginAs(const std::string& account, const std::string& password) {
    HttpResponse r = Login(account, password);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string cookie = r.Header("Set-Cookie");
    Browser b;
    b.headers["cookie"] = cookie.substr(0, cookie.find(';'));
    b.csrf = Json::parse(r.body).value("csrf", "");
    return b;
  }
  HttpResponse Get(const Browser& b, const std::string& target) { return Send("GET", target, "", b.headers); }
  HttpResponse Post(const Browser& b, const std::string& target, const Json& body, bool with_csrf = true) {
    auto h = b.headers;
    if (with_csrf) h["x-csrf-token"] = b.csrf;
    return Send("POST", target, body.dump(), h);
  }

  // The controller records an access request about `subject`; its ref, or
  // "" (with the failure reported) when refused.
  std::string ReceiveAccessRequest(const Browser& b, const std::string& subject) {
    HttpResponse received = Post(b, "/api/requests", Json{{"subject", subject}, {"kind", "access"}});
    EXPECT_EQ(received.status, 201) << received.body;
    if (received.status != 201) return "";
    return Json::parse(received.body).value("request", std::string());
  }

  uint64_t LastPosition() { return store_->Info().value().last_position; }

  static const domain::Codec* codec_;
  const domain::Calendar calendar_ = domain::Calendar::EnglandAndWales();
  TempDir dir_;
  std::unique_ptr<Store> store_;
  ReadModels models_;
  server::ConsoleConfig config_;
  std::unique_ptr<console::ConsoleApp> app_;
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
  std::string log_;
  std::string client_, d1_case_, d2_case_;
};

const domain::Codec* ConsoleTest::codec_ = nullptr;

void ExpectSecurityHeaders(const HttpResponse& r, const std::string& what) {
  std::string csp = r.Header("Content-Security-Policy");
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << what;
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << what;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << what;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << what;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << what;
  EXPECT_NE(r.Header("Strict-Transport-Security").find("max-age="), std::string::npos) << what;
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff") << what;
}

TEST_F(ConsoleTest, EveryAnswerCarriesTheSecurityHeaders) {
  ExpectSecurityHeaders(Send("GET", "/"), "the page");
  ExpectSecurityHeaders(Send("GET", "/static/app.js"), "a script");
  ExpectSecurityHeaders(Send("GET", "/static/none.js"), "a 404");
  ExpectSecurityHeaders(Send("GET", "/api/me"), "a 401");
  ExpectSecurityHeaders(Login("ctl1", "wrong-password-1"), "a failed login");
  auto b = LoginAs("ctl1", kControllerPassword);
  HttpResponse r = Get(b, "/api/requests");
  ExpectSecurityHeaders(r, "an API answer");
  EXPECT_EQ(r.Header("Cache-Control"), "no-store");
}

TEST_F(ConsoleTest, TheSessionCookieIsSecureHttpOnlyAndSameSiteStrict) {
  HttpResponse r = Login("ctl1", kControllerPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.Header("Set-Cookie");
  EXPECT_EQ(cookie.rfind(std::string(console::kSessionCookie) + "=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
  // 256 random bits.
  EXPECT_EQ(cookie.find(';') - cookie.find('=') - 1, 64u) << cookie;
}

TEST_F(ConsoleTest, AWrongPasswordOrUnknownAccountGetsNoSession) {
  for (const auto& [account, password] : {std::pair{"ctl1", "wrong-password-1"},
                                          std::pair{"nobody", kControllerPassword}}) {
    HttpResponse r = Login(account, password);
    EXPECT_EQ(r.status, 401) << account;
    EXPECT_EQ(r.Header("Set-Cookie"), "") << account;
    // One message for both: which accounts exist is not told.
    EXPECT_EQ(Json::parse(r.body)["error"], "wrong account or password");
  }
  EXPECT_EQ(log_.find(kControllerPassword), std::string::npos) << "the log holds a password";
}

TEST_F(ConsoleTest, LoginsAreThrottledPerAccountAndPerAddress) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Login("ctl1", "wrong-password-1").status, 401);
  // Even the right password is refused while the account is locked.
  HttpResponse locked = Login("ctl1", kControllerPassword, "10.0.0.2");
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_NE(locked.Header("Retry-After"), "");
  EXPECT_EQ(locked.Header("Set-Cookie"), "");
  // The address that failed three times is locked for other accounts too.
  EXPECT_EQ(Login("cw1", kCaseworkerPassword, "10.0.0.1").status, 429);
  // Another address, another account: unaffected.
  EXPECT_EQ(Login("cw1", kCaseworkerPassword, "10.0.0.3").status, 200);
  // After the window, the right password works again.
  now_ += std::chrono::milliseconds(60001);
  EXPECT_EQ(Login("ctl1", kControllerPassword).status, 200);
}

TEST_F(ConsoleTest, APostWithoutTheCsrfTokenIsRefusedAndChangesNothing) {
  auto b = LoginAs("ctl1", kControllerPassword);
  uint64_t before = LastPosition();
  Json receipt{{"subject", client_}, {"kind", "access"}};
  HttpResponse none = Post(b, "/api/requests", receipt, false);
  EXPECT_EQ(none.status, 403) << none.body;
  auto wrong = b;
  wrong.csrf = std::string(64, 'a');
  EXPECT_EQ(Post(wrong, "/api/requests", receipt).status, 403);
  // Another session's token is not this one's.
  auto other = LoginAs("ctl1", kControllerPassword);
  wrong.csrf = other.csrf;
  EXPECT_EQ(Post(wrong, "/api/requests", receipt).status, 403);
  EXPECT_EQ(LastPosition(), before) << "a refused POST wrote to the store";
  HttpResponse ok = Post(b, "/api/requests", receipt);
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_GT(LastPosition(), before);
}

TEST_F(ConsoleTest, APostThatIsNotJsonIsRefused) {
  auto b = LoginAs("ctl1", kControllerPassword);
  auto h = b.headers;
  h["x-csrf-token"] = b.csrf;
  h["content-type"] = "application/x-www-form-urlencoded";
  EXPECT_EQ(Send("POST", "/api/requests", "subject=x", h).status, 415);
}

TEST_F(ConsoleTest, AnIdleSessionExpires) {
  auto b = LoginAs("cw1", kCaseworkerPassword);
  now_ += std::chrono::milliseconds(9000);
  EXPECT_EQ(Get(b, "/api/me").status, 200);  // use keeps it alive
  now_ += std::chrono::milliseconds(9000);
  EXPECT_EQ(Get(b, "/api/me").status, 200);
  now_ += std::chrono::milliseconds(10001);
  HttpResponse r = Get(b, "/api/me");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;
  // Gone for good: the cookie does not come back to life.
  EXPECT_EQ(Get(b, "/api/me").status, 401);
}

TEST_F(ConsoleTest, ASessionEndsAtItsMaximumAgeHoweverUsed) {
  config_.session_max_ms = 30000;
  MakeApp();
  auto b = LoginAs("cw1", kCaseworkerPassword);
  for (int i = 0; i < 3; ++i) {
    now_ += std::chrono::milliseconds(9000);
    EXPECT_EQ(Get(b, "/api/me").status, 200);
  }
  now_ += std::chrono::milliseconds(3001);
  EXPECT_EQ(Get(b, "/api/me").status, 401);
}

TEST_F(ConsoleTest, LogoutEndsTheSession) {
  auto b = LoginAs("cw1", kCaseworkerPassword);
  EXPECT_EQ(Post(b, "/api/logout", Json::object()).status, 200);
  EXPECT_EQ(Get(b, "/api/me").status, 401);
}

TEST_F(ConsoleTest, AnOversizedBodyIsRefusedAndChangesNothing) {
  auto b = LoginAs("ctl1", kControllerPassword);
  uint64_t before = LastPosition();
  Json big{{"subject", client_}, {"kind", "access"}, {"padding", std::string(5000, 'x')}};
  EXPECT_EQ(Post(b, "/api/requests", big).status, 413);
  EXPECT_EQ(LastPosition(), before);
}

TEST_F(ConsoleTest, StaticFilesComeOnlyFromTheBuiltInSet) {
  HttpResponse js = Send("GET", "/static/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Send("GET", "/").Header("Content-Type"), "text/html; charset=utf-8");
  for (const char* target : {"/static/../../../etc/passwd", "/static/..%2f..%2fetc%2fpasswd",
                             "/static/%2e%2e/%2e%2e/etc/passwd", "/static//etc/passwd",
                             "/static/./app.js", "/static/", "/etc/passwd", "/../../etc/passwd",
                             "/static/www/app.js", "/static/APP.JS"}) {
    HttpResponse r = Send("GET", target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
  }
}

TEST_F(ConsoleTest, ACaseworkerReadsOnlyHerDistricts) {
  auto b = LoginAs("cw1", kCaseworkerPassword);
  HttpResponse mine = Get(b, "/api/worklist?district=D1&asOf=2019-03-31");
  ASSERT_EQ(mine.status, 200) << mine.body;
  HttpResponse all = Get(b, "/api/worklist?asOf=2019-03-31");
  ASSERT_EQ(all.status, 200) << all.body;
  Json items = Json::parse(all.body)["items"];
  for (const auto& item : items) EXPECT_EQ(item["district"], "D1");
  EXPECT_EQ(Get(b, "/api/worklist?district=D2").status, 403);
  HttpResponse other = Get(b, "/api/timeline?case=" + d2_case_);
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(Get(b, "/api/timeline?case=" + d1_case_).status, 200);
  EXPECT_EQ(Get(b, "/api/requests").status, 403);
}

TEST_F(ConsoleTest, APartnerGetsTheReturnAndNothingPersonal) {
  auto b = LoginAs("par1", kPartnerPassword);
  HttpResponse kpi = Get(b, "/api/kpi?period=2018%2F19");
  EXPECT_EQ(kpi.status, 200) << kpi.body;
  HttpResponse csv = Get(b, "/api/kpi.csv?period=2018%2F19");
  EXPECT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.Header("Content-Type"), "text/csv; charset=utf-8");
  for (const std::string& target :
       {"/api/timeline?case=" + d1_case_, std::string("/api/worklist?district=D1"),
        std::string("/api/requests"), "/api/disclosures?subject=" + client_,
        std::string("/api/checkpoints")}) {
    HttpResponse r = Get(b, target);
    EXPECT_EQ(r.status, 403) << target << ": " << r.body;
    EXPECT_EQ(r.body.find(client_), std::string::npos) << target;
  }
  EXPECT_EQ(kpi.body.find(client_), std::string::npos);
  EXPECT_EQ(kpi.body.find("\"personal\""), std::string::npos);
}

// docs/console.md: the partner's page is not coordinated across returns by
// the release ledger, so every period it shows (a year and each of its
// quarters) is under `ons`, the policy under which the cross-return attacker
// recovers no small count (tests/exports/cross_return_attack_test.cc); under
// `nhs` it recovers some.
TEST_F(ConsoleTest, ThePartnersPagesShowEveryPeriodUnderThePolicyThatResistsDifferencing) {
  auto b = LoginAs("par1", kPartnerPassword);
  for (const char* period : {"2018%2F19", "2018%2F19-Q1", "2018%2F19-Q2", "2018%2F19-Q3", "2018%2F19-Q4"}) {
    HttpResponse kpi = Get(b, std::string("/api/kpi?period=") + period);
    ASSERT_EQ(kpi.status, 200) << kpi.body;
    Json j = Json::parse(kpi.body);
    const Json& policy = j.contains("policy") ? j["policy"] : j["kpi"]["policy"];
    EXPECT_EQ(policy.value("name", std::string()), "ons") << period << ": " << policy.dump();
  }
}

TEST_F(ConsoleTest, AnAuditorSeesFactsAndProofsButNoPersonalSection) {
  ASSERT_TRUE(store_->WriteCheckpoint().ok());
  auto b = LoginAs("aud1", kAuditorPassword);
  HttpResponse tl = Get(b, "/api/timeline?case=" + d1_case_);
  ASSERT_EQ(tl.status, 200) << tl.body;
  Json j = Json::parse(tl.body);
  EXPECT_TRUE(j["tree"]["signed"].get<bool>());
  for (const auto& e : j["events"]) {
    EXPECT_FALSE(e.contains("personal"));
    EXPECT_TRUE(e.contains("proof"));
  }
  HttpResponse cps = Get(b, "/api/checkpoints");
  ASSERT_EQ(cps.status, 200);
  EXPECT_EQ(Json::parse(cps.body)["publicKey"].get<std::string>().size(), 64u);
  EXPECT_EQ(Get(b, "/api/requests").status, 403);
}

TEST_F(ConsoleTest, PasswordsAreStoredOnlyAsArgon2idHashes) {
  auto events = store_->ReadStream(console::kAccountsStream, 1, Direction::kForward, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  for (const auto& e : *events) {
    EXPECT_NE(e.facts.find("$argon2id$"), std::string::npos) << e.facts;
    for (const char* p : {kControllerPassword, kCaseworkerPassword, kAuditorPassword, kPartnerPassword}) {
      EXPECT_EQ(e.facts.find(p), std::string::npos) << "a password in plaintext";
    }
  }
  auto book = console::AccountBook::Read(*store_);
  ASSERT_TRUE(book.ok());
  EXPECT_TRUE(console::VerifyPassword(book->Find("ctl1")->password_hash, kControllerPassword));
  EXPECT_FALSE(console::VerifyPassword(book->Find("ctl1")->password_hash, kCaseworkerPassword));
}

TEST_F(ConsoleTest, ADisabledAccountCannotLogIn) {
  ASSERT_TRUE(console::DisableAccount(*store_, "cw1", Actor{"S-1", "controller", "test"}).ok());
  EXPECT_EQ(Login("cw1", kCaseworkerPassword).status, 401);
}

TEST_F(ConsoleTest, ANewPasswordReplacesTheOld) {
  ASSERT_TRUE(console::SetPassword(*store_, "cw1", "a-new-password-9", Actor{"S-1", "controller", "test"}).ok());
  EXPECT_EQ(Login("cw1", kCaseworkerPassword).status, 401);
  EXPECT_EQ(Login("cw1", "a-new-password-9").status, 200);
}

TEST_F(ConsoleTest, AccountInputIsCheckedAndChangesNothing) {
  uint64_t before = LastPosition();
  Actor by{"S-1", "controller", "test"};
  console::Account a;
  a.name = "Jane Smith";
  a.role = console::kAuditor;
  EXPECT_EQ(console::AddAccount(*store_, a, "long-enough-pass", by).code(), Status::Code::kInvalidArgument);
  a.name = "aud2";
  EXPECT_EQ(console::AddAccount(*store_, a, "short", by).code(), Status::Code::kInvalidArgument);
  a.role = "admin";
  EXPECT_EQ(console::AddAccount(*store_, a, "long-enough-pass", by).code(), Status::Code::kInvalidArgument);
  a.role = console::kCaseworker;  // without a district
  EXPECT_EQ(console::AddAccount(*store_, a, "long-enough-pass", by).code(), Status::Code::kInvalidArgument);
  a.name = "cw1";
  a.districts = {"D1"};
  EXPECT_EQ(console::AddAccount(*store_, a, "long-enough-pass", by).code(), Status::Code::kConflict);
  EXPECT_EQ(console::SetPassword(*store_, "nobody", "long-enough-pass", by).code(), Status::Code::kNotFound);
  EXPECT_EQ(LastPosition(), before);
}

TEST_F(ConsoleTest, EveryConsoleActionReachesTheAccessLogWithTheAccount) {
  auto b = LoginAs("cw1", kCaseworkerPassword);
  ASSERT_EQ(Get(b, "/api/worklist?district=D1").status, 200);
  ASSERT_EQ(Get(b, "/api/timeline?case=" + d1_case_).status, 200);
  auto log = store_->AccessLog("account:cw1");
  ASSERT_TRUE(log.ok());
  std::set<std::string> seen;
  for (const auto& a : *log) {
    EXPECT_EQ(a.user, "cw1");
    EXPECT_EQ(a.role, "caseworker");
    EXPECT_EQ(a.plugin, "console");
    seen.insert(a.action + " " + a.purpose);
  }
  EXPECT_TRUE(seen.count("login console"));
  EXPECT_TRUE(seen.count("console GET /api/worklist"));
  EXPECT_TRUE(seen.count("console GET /api/timeline"));
  // The personal sections she read are logged under the client, by the session.
  auto client_log = store_->AccessLog(client_);
  ASSERT_TRUE(client_log.ok());
  bool by_her = false;
  for (const auto& a : *client_log) by_her = by_her || (a.user == "cw1" && a.plugin == "console");
  EXPECT_TRUE(by_her);
}

// The requests page is a page (docs/console.md): every open request and
// the closed ones among the newest `limit`, then the older closed ones by
// `next`, each answer reading its own requests; a limit past the bound is
// refused naming it.
TEST_F(ConsoleTest, TheRequestsPageListsTheOpenOnesAndPagesTheClosedOnes) {
  auto b = LoginAs("ctl1", kControllerPassword);
  std::vector<std::string> refs;
  for (int i = 0; i < 3; ++i) refs.push_back(ReceiveAccessRequest(b, client_));
  ASSERT_EQ(refs, (std::vector<std::string>{"R-1", "R-2", "R-3"}));
  rights::Rights r(store_.get(), codec_, rights::RightsOptions{});
  for (const std::string& ref : {refs[0], refs[1]}) {
    NewEvent done;
    ASSERT_TRUE(codec_->FromJson(R"({"type":"RightsRequestFulfilled","actor":{"user":"S-1","role":"controller",)"
                                 R"("plugin":"test"},"facts":{"fulfilledOn":")" +
                                     domain::FormatDate(r.Today()) + R"(","actionCode":"packSent"}})",
                                 &done).ok());
    ASSERT_TRUE(r.Record(ref, {done}).ok()) << ref;
  }
  auto refs_of = [](const Json& j) {
    std::vector<std::string> out;
    for (const auto& q : j["requests"]) out.push_back(q["request"]);
    return out;
  };
  HttpResponse first = Get(b, "/api/requests?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  Json j = Json::parse(first.body);
  EXPECT_EQ(refs_of(j), (std::vector<std::string>{"R-3"})) << first.body;
  EXPECT_EQ(j["next"], "R-3") << first.body;
  EXPECT_EQ(j["requestsRead"], 2) << "the open one, and the newest one's page";
  HttpResponse second = Get(b, "/api/requests?after=R-3&limit=1");
  ASSERT_EQ(second.status, 200) << second.body;
  j = Json::parse(second.body);
  EXPECT_EQ(refs_of(j), (std::vector<std::string>{"R-2"})) << second.body;
  EXPECT_EQ(j["next"], "R-2");
  j = Json::parse(Get(b, "/api/requests?after=R-2&limit=1").body);
  EXPECT_EQ(refs_of(j), (std::vector<std::string>{"R-1"}));
  EXPECT_FALSE(j.contains("next"));
  j = Json::parse(Get(b, "/api/requests").body);
  EXPECT_EQ(refs_of(j), (std::vector<std::string>{"R-3", "R-2", "R-1"})) << "open first, then the newest closed";
  HttpResponse big = Get(b, "/api/requests?limit=" + std::to_string(rights::kMaxRequestsPage + 1));
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(big.body.find(std::to_string(rights::kMaxRequestsPage)), std::string::npos) << big.body;
  EXPECT_EQ(Get(b, "/api/requests?limit=many").status, 400);
}

TEST_F(ConsoleTest, TheControllerTakesARequestFromReceiptToFulfilled) {
  auto b = LoginAs("ctl1", kControllerPassword);
  HttpResponse received = Post(b, "/api/requests",
                               Json{{"subject", client_}, {"kind", "access"}, {"identityNeeded", true}});
  ASSERT_EQ(received.status, 201) << received.body;
  std::string ref = Json::parse(received.body)["request"];
  // Fulfilment before identity is refused by the rights rules, not the page.
  HttpResponse early = Post(b, "/api/requests/" + ref + "/fulfil", Json::object());
  EXPECT_EQ(early.status, 400);
  EXPECT_NE(early.body.find("rights-identity-before-fulfilment"), std::string::npos) << early.body;
  EXPECT_EQ(Post(b, "/api/requests/" + ref + "/identity", Json::object()).status, 200);
  EXPECT_EQ(Get(b, "/api/requests/" + ref + "/pack.json").status, 404);  // not generated yet
  HttpResponse pack = Post(b, "/api/requests/" + ref + "/pack", Json::object());
  ASSERT_EQ(pack.status, 200) << pack.body;
  HttpResponse json = Get(b, "/api/requests/" + ref + "/pack.json");
  ASSERT_EQ(json.status, 200);
  EXPECT_NE(json.Header("Content-Disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(Json::parse(json.body)["subject"], client_);
  HttpResponse done = Post(b, "/api/requests/" + ref + "/fulfil", Json::object());
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Json::parse(done.body)["status"], "fulfilled");
  // The pack's generation is a disclosure to the data subject, with the account.
  auto log = store_->AccessLog(client_);
  ASSERT_TRUE(log.ok());
  bool sar = false;
  for (const auto& a : *log) sar = sar || (a.action == "sar" && a.user == "ctl1" && a.recipient == "dataSubject");
  EXPECT_TRUE(sar);
}

TEST_F(ConsoleTest, RestrictionTakesASecondStepThatSaysWhatWillHappen) {
  auto b = LoginAs("ctl1", kControllerPassword);
  uint64_t before = LastPosition();
  std::string path = "/api/subjects/" + client_ + "/restrict";
  HttpResponse first = Post(b, path, Json{{"reason", "accuracyContested"}});
  ASSERT_EQ(first.status, 200) << first.body;
  Json j = Json::parse(first.body);
  EXPECT_TRUE(j["confirmNeeded"].get<bool>());
  EXPECT_NE(j["wouldDo"].get<std::string>().find("restrict processing of " + client_), std::string::npos);
  EXPECT_EQ(LastPosition(), before) << "the first step wrote to the store";
  rights::Rights r(store_.get(), codec_, rights::RightsOptions{});
  EXPECT_FALSE(r.IsRestricted(client_).value());
  HttpResponse done = Post(b, path, Json{{"reason", "accuracyContested"}, {"confirm", true}});
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_TRUE(r.IsRestricted(client_).value());
  // The caseworker's worklist leaves the restricted person's case out.
  auto cw = LoginAs("cw1", kCaseworkerPassword);
  HttpResponse wl = Get(cw, "/api/worklist?district=D1&asOf=2019-03-31");
  ASSERT_EQ(wl.status, 200);
  EXPECT_EQ(wl.body.find("\"" + d1_case_ + "\""), std::string::npos);
  // Not for the caseworker to do.
  EXPECT_EQ(Post(cw, "/api/subjects/" + client_ + "/lift", Json{{"reason", "x"}, {"confirm", true}}).status, 403);
  EXPECT_EQ(Post(b, "/api/subjects/" + client_ + "/lift", Json{{"reason", "resolved"}, {"confirm", true}}).status,
            200);
  EXPECT_FALSE(r.IsRestricted(client_).value());
}

TEST_F(ConsoleTest, ErasureTakesASecondStepAndThenShredsThePerson) {
  auto b = LoginAs("ctl1", kControllerPassword);
  HttpResponse received = Post(b, "/api/requests", Json{{"subject", client_}, {"kind", "erasure"}});
  ASSERT_EQ(received.status, 201) << received.body;
  std::string ref = Json::parse(received.body)["request"];
  uint64_t before = LastPosition();
  HttpResponse first = Post(b, "/api/requests/" + ref + "/erase", Json::object());
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(Json::parse(first.body)["confirmNeeded"].get<bool>());
  EXPECT_EQ(LastPosition(), before);
  HttpResponse done = Post(b, "/api/requests/" + ref + "/erase", Json{{"confirm", true}});
  // Erased, or refused naming the retention rule that holds the record.
  if (done.status == 200) {
    EXPECT_EQ(Json::parse(done.body)["status"], "fulfilled") << done.body;
    auto events = store_->ReadSubject(client_, 1, 1000);
    ASSERT_TRUE(events.ok());
    for (const auto& e : *events) {
      for (const auto& p : e.personal) {
        if (p.subject == client_) {
          EXPECT_TRUE(p.erased);
        }
      }
    }
  } else {
    EXPECT_EQ(done.status, 403) << done.body;
    EXPECT_NE(done.body.find("rule legal-hold"), std::string::npos) << done.body;
  }
}

TEST_F(ConsoleTest, TheProofBundleIsTheAuditorsAndNotThePartners) {
  ASSERT_TRUE(store_->WriteCheckpoint().ok());
  auto aud = LoginAs("aud1", kAuditorPassword);
  HttpResponse bundle = Get(aud, "/api/proofs?case=" + d1_case_);
  ASSERT_EQ(bundle.status, 200) << bundle.body;
  Json j = Json::parse(bundle.body);
  EXPECT_EQ(j["format"], "hearth-proof-bundle/1");
  EXPECT_FALSE(j["timeline"]["events"].empty());
  EXPECT_EQ(j["checkpoints"]["publicKey"].get<std::string>().size(), 64u);
  auto par = LoginAs("par1", kPartnerPassword);
  EXPECT_EQ(Get(par, "/api/proofs?case=" + d1_case_).status, 403);
}

TEST_F(ConsoleTest, AReviewersReleaseOfAThirdPartyChangesTheNextPack) {
  // A client named with someone else (a carer, a relative) in one event.
  std::string client;
  for (uint64_t from = 1; client.empty();) {
    auto page = store_->ReadAll(from, 500);
    ASSERT_TRUE(page.ok());
    ASSERT_FALSE(page->empty()) << "no client with a third party in the county";
    for (const auto& e : *page) {
      if (e.stream.rfind("case/", 0) != 0 || e.subjects.size() < 2 || !client.empty()) continue;
      for (const auto& sr : e.subjects) {
        if (sr.role == SubjectRole::kClient) client = sr.id;
      }
    }
    from = page->back().position + 1;
  }
  auto b = LoginAs("ctl1", kControllerPassword);
  std::string ref = ReceiveAccessRequest(b, client);
  ASSERT_FALSE(ref.empty());
  HttpResponse first = Post(b, "/api/requests/" + ref + "/pack", Json::object());
  ASSERT_EQ(first.status, 200) << first.body;
  Json pack = Json::parse(first.body);
  ASSERT_FALSE(pack["thirdParties"].empty()) << first.body;
  ASSERT_GT(pack["withheldSections"].get<int>(), 0) << first.body;
  const Json& other = pack["thirdParties"][0];
  // Only a basis the rules know.
  EXPECT_EQ(Post(b, "/api/requests/" + ref + "/third-party",
                 Json{{"thirdParty", other["subject"]}, {"role", other["role"]}, {"basis", "whatever"},
                      {"reasonCode", "x"}}).status, 400);
  HttpResponse decided = Post(b, "/api/requests/" + ref + "/third-party",
                              Json{{"thirdParty", other["subject"]}, {"role", other["role"]},
                                   {"basis", "thirdPartyConsented"}, {"reasonCode", "agreedInWriting"}});
  ASSERT_EQ(decided.status, 200) << decided.body;
  // The pack made before the decision is gone; the next one releases them.
  EXPECT_EQ(Get(b, "/api/requests/" + ref + "/pack.json").status, 404);
  HttpResponse second = Post(b, "/api/requests/" + ref + "/pack", Json::object());
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_LT(Json::parse(second.body)["withheldSections"].get<int>(), pack["withheldSections"].get<int>());
}

// docs/console.md, docs/rights.md: the reviewer sees each note held for
// review with its text and records a decision; a redacted release puts the
// reviewer's text in the next pack, never the note's own words.
TEST_F(ConsoleTest, AReviewerRedactsANoteHeldForReviewAndTheNextPackCarriesOnlyTheRedaction) {
  // A client with a note that names someone else, from the log.
  std::string client, original;
  for (uint64_t from = 1; client.empty();) {
    auto page = store_->ReadAll(from, 500);
    ASSERT_TRUE(page.ok());
    ASSERT_FALSE(page->empty()) << "no note held for review in the county";
    for (const auto& e : *page) {
      if (e.type != "CaseNoteAdded" || !client.empty()) continue;
      Json j = Json::parse(codec_->ToJson(e).value());
      if (!j["facts"].value("mentionsThirdParty", false)) continue;
      client = j["personal"][0]["subject"];
      original = j["personal"][0]["details"]["freeText"];
    }
    from = page->back().position + 1;
  }
  auto b = LoginAs("ctl1", kControllerPassword);
  std::string ref = ReceiveAccessRequest(b, client);
  ASSERT_FALSE(ref.empty());
  HttpResponse first = Post(b, "/api/requests/" + ref + "/pack", Json::object());
  ASSERT_EQ(first.status, 200) << first.body;
  Json made = Json::parse(first.body);
  ASSERT_FALSE(made["heldNotes"].empty()) << first.body;
  Json note;
  for (const auto& n : made["heldNotes"]) {
    if (n["text"] == original) note = n;
  }
  ASSERT_FALSE(note.is_null()) << "the reviewer is not shown the note's text: " << first.body;
  HttpResponse held = Get(b, "/api/requests/" + ref + "/pack.json");
  ASSERT_EQ(held.status, 200);
  EXPECT_EQ(held.body.find(original), std::string::npos) << "a held note's text is in the pack";
  // Bad input changes nothing.
  uint64_t before = LastPosition();
  for (const Json& bad : {Json{{"basis", "releaseRedacted"}, {"reasonCode", "x"}, {"redactedText", "y"}},
                          Json{{"notePosition", "12"}, {"basis", "withhold"}, {"reasonCode", "x"}},
                          Json{{"notePosition", note["position"]}, {"basis", "withhold"}, {"reasonCode", "x"},
                               {"redactedText", "y"}},
                          Json{{"notePosition", note["position"]}, {"basis", "releaseRedacted"},
                               {"reasonCode", "x"}},
                          Json{{"notePosition", note["position"]}, {"basis", "whatever"}, {"reasonCode", "x"}}}) {
    EXPECT_EQ(Post(b, "/api/requests/" + ref + "/held-note", bad).status, 400) << bad.dump();
  }
  EXPECT_EQ(LastPosition(), before);
  const std::string redacted = "Spoke with the client's carer about visit dates.";
  HttpResponse decided = Post(b, "/api/requests/" + ref + "/held-note",
                              Json{{"notePosition", note["position"]}, {"basis", "releaseRedacted"},
                                   {"reasonCode", "carerNameRemoved"}, {"redactedText", redacted}});
  ASSERT_EQ(decided.status, 200) << decided.body;
  EXPECT_EQ(Get(b, "/api/requests/" + ref + "/pack.json").status, 404);
  ASSERT_EQ(Post(b, "/api/requests/" + ref + "/pack", Json::object()).status, 200);
  HttpResponse sent = Get(b, "/api/requests/" + ref + "/pack.json");
  ASSERT_EQ(sent.status, 200);
  EXPECT_EQ(sent.body.find(original), std::string::npos) << "the note's own words were sent";
  EXPECT_NE(sent.body.find(redacted), std::string::npos) << "the redacted text was not sent";
}

// docs/console.md: accounts are managed while the server runs, by a
// controller only; a new password or a disabled account ends the account's
// sessions at once; bad input changes nothing; no password is ever logged or
// returned.
TEST_F(ConsoleTest, TheControllerManagesAccountsWhileTheServerRunsAndAChangeEndsSessions) {
  const std::string first = "second-caseworker-pass", second = "another-caseworker-pass";
  auto ctl = LoginAs("ctl1", kControllerPassword);
  uint64_t before = LastPosition();
  // Only a controller.
  auto cw = LoginAs("cw1", kCaseworkerPassword);
  EXPECT_EQ(Post(cw, "/api/accounts", Json{{"account", "cw2"}, {"role", "caseworker"}, {"districts", {"D2"}},
                                          {"password", first}}).status, 403);
  EXPECT_EQ(Get(cw, "/api/accounts").status, 403);
  // Bad input, each refused with the problem named.
  for (const Json& bad : {Json{{"account", "cw2"}, {"role", "caseworker"}, {"districts", {"D2"}}, {"password", "short"}},
                          Json{{"account", "cw2"}, {"role", "janitor"}, {"password", first}},
                          Json{{"account", "cw2"}, {"role", "caseworker"}, {"password", first}},
                          Json{{"account", "cw 2"}, {"role", "auditor"}, {"password", first}},
                          Json{{"account", "ctl1"}, {"role", "auditor"}, {"password", first}},
                          Json{{"account", "cw2"}, {"role", "caseworker"}, {"districts", "D2"}, {"password", first}},
                          Json{{"account", "cw2"}, {"role", "caseworker"}, {"districts", {"D2"}}, {"password", 7}}}) {
    HttpResponse r = Post(ctl, "/api/accounts", bad);
    EXPECT_GE(r.status, 400) << bad.dump();
    EXPECT_LT(r.status, 500) << bad.dump() << r.body;
  }
  EXPECT_EQ(LastPosition(), before) << "a refused account change wrote something";
  // Added: she logs in at once, and the list shows her without any hash.
  HttpResponse added = Post(ctl, "/api/accounts", Json{{"account", "cw2"}, {"role", "caseworker"},
                                                       {"districts", {"D2"}}, {"password", first}});
  ASSERT_EQ(added.status, 201) << added.body;
  auto cw2 = LoginAs("cw2", first);
  EXPECT_EQ(Get(cw2, "/api/worklist?district=D2").status, 200);
  EXPECT_EQ(Get(cw2, "/api/worklist?district=D1").status, 403);
  HttpResponse list = Get(ctl, "/api/accounts");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"cw2\""), std::string::npos);
  EXPECT_EQ(list.body.find("argon2"), std::string::npos) << "a password hash left the server";
  // A new password ends her sessions; the old password no longer works.
  ASSERT_EQ(Post(ctl, "/api/accounts/cw2/password", Json{{"password", second}}).status, 200);
  EXPECT_EQ(Get(cw2, "/api/worklist?district=D2").status, 401) << "a session outlived a new password";
  EXPECT_EQ(Login("cw2", first).status, 401);
  auto again = LoginAs("cw2", second);
  // Disabling takes a second step, then ends her sessions for good.
  HttpResponse ask = Post(ctl, "/api/accounts/cw2/disable", Json::object());
  ASSERT_EQ(ask.status, 200);
  EXPECT_TRUE(Json::parse(ask.body).value("confirmNeeded", false));
  EXPECT_EQ(Get(again, "/api/worklist?district=D2").status, 200) << "asking disabled the account";
  ASSERT_EQ(Post(ctl, "/api/accounts/cw2/disable", Json{{"confirm", true}}).status, 200);
  EXPECT_EQ(Get(again, "/api/worklist?district=D2").status, 401) << "a session outlived its account";
  EXPECT_EQ(Login("cw2", second).status, 401);
  EXPECT_EQ(Post(ctl, "/api/accounts/nobody/password", Json{{"password", second}}).status, 404);
  // No password anywhere in what the server logged.
  for (const std::string& p : {first, second}) EXPECT_EQ(log_.find(p), std::string::npos) << "a password was logged";
}

TEST_F(ConsoleTest, TheRetentionReviewIsTheControllers) {
  auto b = LoginAs("ctl1", kControllerPassword);
  HttpResponse r = Get(b, "/api/retention?asOf=2040-01-01");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["asOf"], "2040-01-01");
  EXPECT_FALSE(j["items"].empty());
  EXPECT_EQ(Get(b, "/api/retention?asOf=tomorrow").status, 400);
  auto cw = LoginAs("cw1", kCaseworkerPassword);
  EXPECT_EQ(Get(cw, "/api/retention").status, 403);
  auto aud = LoginAs("aud1", kAuditorPassword);
  EXPECT_EQ(Get(aud, "/api/retention").status, 403);
}

TEST_F(ConsoleTest, AClientCertificateIsASecondFactorWhenRequired) {
  config_.client_certificate = true;
  MakeApp();
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/login";
  r.headers["content-type"] = "application/json";
  r.body = Json{{"account", "cw1"}, {"password", kCaseworkerPassword}}.dump();
  r.peer = "10.0.0.9";
  EXPECT_EQ(app_->Handle(r).status, 401);  // no certificate
  r.client_cn = "ctl1";
  EXPECT_EQ(app_->Handle(r).status, 401);  // someone else's
  r.client_cn = "cw1";
  EXPECT_EQ(app_->Handle(r).status, 200);
}

}  // namespace
}  // namespace hearth::testing

namespace hearth::testing {
namespace {

TEST(ConsoleConfigTest, TheConsoleKeyIsReadAndTyposAreRefused) {
  const std::string tls = R"("tls": {"ca": "ca.pem", "cert": "c.pem", "key": "k.pem"}, "plugins": {})";
  auto none = server::ServerConfig::FromJson("{" + tls + "}", "/etc/hearth");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->console.enabled);
  auto c = server::ServerConfig::FromJson(
      "{" + tls + R"(, "console": {"listen": {"address": "0.0.0.0", "port": 9443},
        "client_certificate": true, "session_idle_ms": 60000, "max_body_bytes": 2048,
        "login_failures": 3, "lockout_ms": 5000}})",
      "/etc/hearth");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->console.enabled);
  EXPECT_EQ(c->console.listen_address, "0.0.0.0");
  EXPECT_EQ(c->console.port, 9443);
  EXPECT_TRUE(c->console.client_certificate);
  EXPECT_EQ(c->console.session_idle_ms, 60000u);
  EXPECT_EQ(c->console.max_body_bytes, 2048u);
  EXPECT_EQ(c->console.login_failures, 3u);
  for (const char* bad : {R"({"idle_ms": 1})", R"({"max_body_bytes": 10})", R"({"listen": {"host": "x"}})",
                          R"({"client_certificate": "yes"})", R"([])"}) {
    auto r = server::ServerConfig::FromJson("{" + tls + ", \"console\": " + bad + "}", "/etc/hearth");
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("console"), std::string::npos) << r.status().ToString();
  }
}

}  // namespace
}  // namespace hearth::testing
