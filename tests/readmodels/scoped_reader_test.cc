// A read model reaches the log only through the ScopedReader its caller's
// session gives it (hearth/scoped_reader.h): a model written to read
// everything it can still sees only what its caller may, personal sections
// only with read_personal, no restricted person's case in a listing, and
// every personal read in the access log under the model's name.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include <optional>
#include <set>

#include "hearth/read_model.h"
#include "hearth/rights.h"
#include "hearth/scoped_reader.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

using Json = nlohmann::json;

// Tries every read there is, and reports what it got.
class GreedyModel final : public ReadModel {
 public:
  GreedyModel(std::string name, Reach reach) : name_(std::move(name)), reach_(reach) {}
  std::string name() const override { return name_; }
  Reach reach() const override { return reach_; }

  Result<std::string> Query(ScopedReader& reader, const std::string&) override {
    Json out = Json::object();
    // Every case the cases projection shows.
    Json listed = Json::array();
    Status s = reader.ScanProjection(kCasesProjection, "c", [&](std::string_view key, std::string_view) {
      listed.push_back(std::string(key.substr(1)));
      return true;
    });
    out["scan"] = s.ok() ? "ok" : std::string(Status::CodeName(s.code()));
    out["listed"] = listed;
    // The same from a key, and by a multi-key read of every case's state.
    Json from = Json::array();
    s = reader.ScanProjectionFrom(kCasesProjection, "c", "ccase/D1/2", [&](std::string_view key, std::string_view) {
      from.push_back(std::string(key.substr(1)));
      return true;
    });
    out["scanFrom"] = s.ok() ? Json(from) : Json(std::string(Status::CodeName(s.code())));
    std::vector<std::optional<std::string>> values;
    s = reader.GetProjectionValues(kCasesProjection, {"ccase/D1/1", "ccase/D1/2", "ccase/D2/1"}, &values);
    Json got = Json::array();
    for (const auto& v : values) got.push_back(v.has_value());
    out["multiGet"] = s.ok() ? got : Json(std::string(Status::CodeName(s.code())));
    // Keys a reader is never given: a case's dated facts, a client's codes.
    s = reader.GetProjectionValues(kCasesProjection, {"fcase/D1/1", "pP-1"}, &values);
    out["multiGetFacts"] = std::string(Status::CodeName(s.code()));
    s = reader.ScanProjectionFrom(kCasesProjection, "f", "fcase/D1/1", [](std::string_view, std::string_view) {
      return true;
    });
    out["scanFacts"] = std::string(Status::CodeName(s.code()));
    s = reader.ScanProjectionFrom(kCasesProjection, "c", "d", [](std::string_view, std::string_view) {
      return true;
    });
    out["scanFromOutside"] = std::string(Status::CodeName(s.code()));
    // Every case stream there is, by name.
    Json streams = Json::object();
    for (const char* id : {"case/D1/1", "case/D1/2", "case/D2/1"}) {
      auto events = reader.ReadStream(id, 1, Direction::kForward, 100);
      if (!events.ok()) {
        streams[id] = std::string(Status::CodeName(events.status().code()));
        continue;
      }
      size_t personal = 0;
      for (const auto& e : *events) personal += e.personal.size();
      streams[id] = {{"events", events->size()}, {"personal", personal}};
    }
    out["streams"] = streams;
    auto all = reader.ReadAll(1, 1000);
    out["all"] = all.ok() ? "ok" : std::string(Status::CodeName(all.status().code()));
    auto facts = reader.ReadAllFacts(1, 1000);
    if (facts.ok()) {
      std::set<std::string> seen;
      size_t personal = 0;
      for (const auto& e : *facts) {
        seen.insert(e.stream);
        personal += e.personal.size();
      }
      out["facts"] = {{"streams", seen}, {"personal", personal}};
    } else {
      out["facts"] = std::string(Status::CodeName(facts.status().code()));
    }
    auto store = reader.ControllerStore();
    out["controllerStore"] = store.ok() ? "ok" : std::string(Status::CodeName(store.status().code()));
    auto key = reader.RecipientKey("someone-else");
    out["otherRecipientKey"] = key.ok() ? "ok" : std::string(Status::CodeName(key.status().code()));
    auto own = reader.RecipientKey(reader.principal().plugin);
    out["ownRecipientKey"] = own.ok() ? "ok" : std::string(Status::CodeName(own.status().code()));
    return out.dump();
  }

 private:
  std::string name_;
  Reach reach_;
};

class ScopedReaderTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    CasesProjectionOptions o;
    o.mode = ProjectionMode::kInline;
    Open({MakeCasesProjection(codec_.get(), o)});
    ASSERT_TRUE(models_.Add(std::make_unique<GreedyModel>("greedy", Reach::kScoped)).ok());
    ASSERT_TRUE(models_.Add(std::make_unique<GreedyModel>("greedy-return", Reach::kReturn)).ok());
    ASSERT_TRUE(models_.Add(std::make_unique<GreedyModel>("greedy-rows", Reach::kRows)).ok());
    Record("case/D1/1", {Enquiry("2018-04-02", "P-1", "D1")});
    Record("case/D1/2", {Enquiry("2018-04-03", "P-2", "D1")});
    Record("case/D2/1", {Enquiry("2018-04-04", "P-3", "D2")});
  }

  Json Ask(const std::string& model, bool read_personal, bool controller = false,
           std::vector<std::string> districts = {"D1"}) {
    Scopes s;
    s.read_districts = std::move(districts);
    s.read_models = {"*"};
    s.read_personal = read_personal;
    s.controller = controller;
    Session session(store_.get(), Principal{"web", "S-1", "caseworker"}, s, [](const std::string&) {});
    auto answer = models_.Query(session, model, "{}");
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    return answer.ok() ? Json::parse(*answer) : Json();
  }

  void Restrict(const std::string& subject) {
    rights::Rights r(store_.get(), codec_.get(), rights::RightsOptions{});
    Status s = r.Restrict(subject, "", "accuracyContested", Actor{"S-9", "controller", "test"});
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  ReadModels models_;
};

// The quiet index (closed cases by the day they fell quiet, for a past
// day's worklist) is scoped like the other indexes: a reader of D1 is given
// D1's closed cases only, by a scan of the whole index or from a day on.
TEST_F(ScopedReaderTest, TheQuietIndexShowsOnlyTheDistrictsAReaderMayRead) {
  Record("case/D1/1", {Ev("CaseClosed", R"("closedOn":"2018-05-01","reason":"adviceOnly")")});
  Record("case/D2/1", {Ev("CaseClosed", R"("closedOn":"2018-05-02","reason":"adviceOnly")")});
  Scopes s;
  s.read_districts = {"D1"};
  s.read_models = {"*"};
  Session session(store_.get(), Principal{"web", "S-1", "caseworker"}, s, [](const std::string&) {});
  ScopedReader reader(session, Reach::kScoped, "worklist");
  std::vector<std::string> whole, from;
  auto id_of = [](std::string_view key) { return std::string(key.substr(key.find('\0') + 1 + 4)); };
  ASSERT_TRUE(reader.ScanProjection(kCasesProjection, "q", [&](std::string_view key, std::string_view) {
    whole.push_back(id_of(key));
    return true;
  }).ok());
  EXPECT_EQ(whole, std::vector<std::string>{"case/D1/1"});
  ASSERT_TRUE(reader.ScanProjectionFrom(kCasesProjection, "q", "qD2", [&](std::string_view key, std::string_view) {
    from.push_back(id_of(key));
    return true;
  }).ok());
  EXPECT_TRUE(from.empty()) << from.front();
  // The store itself holds both.
  size_t stored = 0;
  ASSERT_TRUE(store_->ScanProjection(kCasesProjection, "q", [&](std::string_view, std::string_view) {
    ++stored;
    return true;
  }).ok());
  EXPECT_EQ(stored, 2u);
}

// The work index (a worklist's entries by district, kind and due day) is
// scoped like the other indexes: a reader of D1 is given D1's entries only,
// so the worklist a D1 caseworker reads from it counts D1's items, and a
// restricted client's entries are left out of the counts as of the page.
TEST_F(ScopedReaderTest, TheWorkIndexShowsOnlyTheDistrictsAReaderMayRead) {
  Scopes s;
  s.read_districts = {"D1"};
  s.read_models = {"*"};
  Session session(store_.get(), Principal{"web", "S-1", "caseworker"}, s, [](const std::string&) {});
  ScopedReader reader(session, Reach::kScoped, "worklist");
  std::set<std::string> seen;
  auto id_of = [](std::string_view key) {
    std::string_view rest = key.substr(key.find('\0') + 1 + 5);
    return std::string(rest.substr(0, rest.find('\0')));
  };
  ASSERT_TRUE(reader.ScanProjection(kCasesProjection, "u", [&](std::string_view key, std::string_view) {
    seen.insert(id_of(key));
    return true;
  }).ok());
  EXPECT_EQ(seen, (std::set<std::string>{"case/D1/1", "case/D1/2"}));
  std::set<std::string> stored;
  ASSERT_TRUE(store_->ScanProjection(kCasesProjection, "u", [&](std::string_view key, std::string_view) {
    stored.insert(id_of(key));
    return true;
  }).ok());
  EXPECT_EQ(stored, (std::set<std::string>{"case/D1/1", "case/D1/2", "case/D2/1"}));

  WorklistOptions o;
  o.as_of = D("2018-06-01");
  auto cal = domain::Calendar::EnglandAndWales();
  auto wl = BuildWorklist(reader, cal, o);
  ASSERT_TRUE(wl.ok()) << wl.status().ToString();
  EXPECT_TRUE(wl->indexed);
  std::set<std::string> listed;
  for (const WorkItem& w : wl->items) listed.insert(w.case_id);
  EXPECT_EQ(listed, (std::set<std::string>{"case/D1/1", "case/D1/2"}));
  EXPECT_EQ(wl->counts["first-visit"]["overdue"], 2u) << "D2's case is not counted for a reader of D1";
  Restrict("P-2");
  ScopedReader later(session, Reach::kScoped, "worklist");  // a reader takes the restrictions once
  wl = BuildWorklist(later, cal, o);
  ASSERT_TRUE(wl.ok()) << wl.status().ToString();
  EXPECT_TRUE(wl->indexed);
  listed.clear();
  for (const WorkItem& w : wl->items) listed.insert(w.case_id);
  EXPECT_EQ(listed, std::set<std::string>{"case/D1/1"});
  EXPECT_EQ(wl->counts["first-visit"]["overdue"], 1u) << "a restricted client's case is not counted";
}

// docs/console.md: the console's accounts (config/accounts, with their
// password hashes) are the store owner's alone. A session with every scope
// cannot read the stream, append to it, or see its facts in the whole log,
// a subscription or a model's reader; the events keep their place.
TEST_F(ScopedReaderTest, TheConsoleAccountsStreamIsReservedFromEverySession) {
  const std::string hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
  NewEvent added;  // as plugins/console/accounts.cc writes it, straight to the store
  added.id = Id128::Random();
  added.type = "ConsoleAccountAdded";
  added.actor = Actor{"", "controller", "hearth-cli"};
  added.facts = R"({"account":"admin","role":"controller","passwordHash":")" + hash + R"("})";
  auto put = store_->Append("config/accounts", ExpectedVersion::NoStream(), {added});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  uint64_t position = put->first_position;

  Scopes all;
  all.read_streams = {"*"};
  all.read_districts = {"*"};
  all.append_types = {"*"};
  all.read_models = {"*"};
  all.read_personal = all.read_log = all.controller = true;
  Session session(store_.get(), Principal{"web", "S-1", "controller"}, all, [](const std::string&) {});

  auto direct = session.ReadStream("config/accounts", 1, Direction::kForward, 10, "audit");
  ASSERT_FALSE(direct.ok());
  EXPECT_EQ(direct.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(direct.status().message().find("reserved"), std::string::npos) << direct.status().ToString();

  auto whole = session.ReadAll(position, 1, "audit");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_EQ(whole->size(), 1u);
  EXPECT_EQ((*whole)[0].stream, "config/accounts");  // its place in the log stays
  EXPECT_EQ((*whole)[0].facts, "{}");
  EXPECT_EQ((*whole)[0].facts.find("argon2id"), std::string::npos);

  std::vector<RecordedEvent> seen;
  auto sub = session.Subscribe(
      position, [&](const RecordedEvent& e) { seen.push_back(e); return false; }, nullptr, "audit");
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  for (int i = 0; i < 200 && seen.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  sub->reset();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen[0].facts.find("argon2id"), std::string::npos) << seen[0].facts;

  ScopedReader reader(session, Reach::kScoped, "audit");
  auto facts = reader.ReadAllFacts(1, 1000);
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  for (const auto& e : *facts) EXPECT_NE(e.stream, "config/accounts") << e.facts;

  auto before = store_->Info();
  ASSERT_TRUE(before.ok());
  auto forged = session.Append("config/accounts", ExpectedVersion::Any(), {added});
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.status().code(), Status::Code::kPermissionDenied);
  auto after = store_->Info();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->last_position, before->last_position) << "a refused append wrote";
}

TEST_F(ScopedReaderTest, AModelThatReadsEverythingSeesOnlyItsCallersDistricts) {
  Json got = Ask("greedy", /*read_personal=*/false);
  EXPECT_EQ(got["scan"], "ok");
  EXPECT_EQ(got["listed"], Json::array({"case/D1/1", "case/D1/2"}));
  EXPECT_EQ(got["streams"]["case/D1/1"]["events"], 1);
  EXPECT_EQ(got["streams"]["case/D1/1"]["personal"], 0);  // no read_personal
  EXPECT_EQ(got["streams"]["case/D2/1"], "PermissionDenied");
  EXPECT_EQ(got["all"], "PermissionDenied");    // the whole log needs read_log
  EXPECT_EQ(got["facts"], "PermissionDenied");  // so do its facts, for a scoped model
  EXPECT_EQ(got["controllerStore"], "PermissionDenied");
  EXPECT_EQ(got["otherRecipientKey"], "PermissionDenied");
  EXPECT_EQ(got["ownRecipientKey"], "ok");
}

// The multi-key read and the scan from a key are LogReader's defaults,
// built on the reader's own checked reads: they give exactly what those do.
TEST_F(ScopedReaderTest, MultiKeyReadsAndScansFromAKeyGetTheSameChecks) {
  Json got = Ask("greedy", /*read_personal=*/false);
  EXPECT_EQ(got["scanFrom"], Json::array({"case/D1/2"}));
  EXPECT_EQ(got["multiGet"], Json::array({true, true, false}));  // D2 is not the caller's
  EXPECT_EQ(got["multiGetFacts"], "PermissionDenied");
  EXPECT_EQ(got["scanFacts"], "PermissionDenied");
  EXPECT_EQ(got["scanFromOutside"], "InvalidArgument");  // as the store's own scan says
  Restrict("P-2");
  got = Ask("greedy", false, /*controller=*/true, {"D1", "D2"});
  EXPECT_EQ(got["scanFrom"], Json::array({"case/D2/1"}));
  EXPECT_EQ(got["multiGet"], Json::array({true, false, true}));  // P-2's case: restricted
}

TEST_F(ScopedReaderTest, PersonalSectionsReadByAModelAreInTheAccessLogUnderItsName) {
  Json got = Ask("greedy", /*read_personal=*/true);
  EXPECT_EQ(got["streams"]["case/D1/1"]["personal"], 1);
  auto log = store_->AccessLog("P-1");
  ASSERT_TRUE(log.ok());
  ASSERT_FALSE(log->empty());
  EXPECT_EQ(log->back().purpose, "greedy");
  EXPECT_EQ(log->back().plugin, "web");
  EXPECT_EQ(log->back().user, "S-1");
  // Nothing of the other district was read, so nothing is logged for it.
  auto other = store_->AccessLog("P-3");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

TEST_F(ScopedReaderTest, ARestrictedPersonsCaseIsLeftOutOfEveryListingEvenTheControllers) {
  Restrict("P-2");
  EXPECT_EQ(Ask("greedy", false)["listed"], Json::array({"case/D1/1"}));
  EXPECT_EQ(Ask("greedy", true, /*controller=*/true, {"D1", "D2"})["listed"],
            Json::array({"case/D1/1", "case/D2/1"}));
  // The case itself can still be read (restriction limits processing, not
  // the controller's or a caseworker's view of the record).
  EXPECT_EQ(Ask("greedy", false)["streams"]["case/D1/2"]["events"], 1);
}

TEST_F(ScopedReaderTest, AReturnsReachIsEveryDistrictsCaseFactsAndNothingPersonal) {
  Restrict("P-2");  // writes rights/restrictions: not a case stream
  Json got = Ask("greedy-return", /*read_personal=*/true);
  EXPECT_EQ(got["facts"]["streams"], Json::array({"case/D1/1", "case/D1/2", "case/D2/1"}));
  EXPECT_EQ(got["facts"]["personal"], 0);
  EXPECT_EQ(got["all"], "PermissionDenied");  // the events themselves still need read_log
  EXPECT_EQ(got["streams"]["case/D2/1"], "PermissionDenied");
}

TEST_F(ScopedReaderTest, ARowsReachIsTheFactsOfTheCallersCasesOnly) {
  Json got = Ask("greedy-rows", /*read_personal=*/true);
  EXPECT_EQ(got["facts"]["streams"], Json::array({"case/D1/1", "case/D1/2"}));
  EXPECT_EQ(got["facts"]["personal"], 0);
  // After a transfer the case's facts follow it to its new district.
  Record("case/D2/1", {Ev("CaseTransferred",
                          R"("transferredOn":"2018-05-01","toTeam":"T1","toDistrict":"D1","reasonCode":"moved")")});
  got = Ask("greedy-rows", true);
  EXPECT_EQ(got["facts"]["streams"], Json::array({"case/D1/1", "case/D1/2", "case/D2/1"}));
}

TEST_F(ScopedReaderTest, TheControllerReachesTheStoreThroughTheReaderOnlyWithTheScope) {
  Json got = Ask("greedy", true, /*controller=*/true);
  EXPECT_EQ(got["controllerStore"], "ok");
  EXPECT_EQ(got["otherRecipientKey"], "ok");
}

}  // namespace
}  // namespace hearth::readmodels::testing
