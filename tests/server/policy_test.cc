// The trust boundary over TLS (docs/plugins.md, section 4): controller powers
// come from the controller scope, never from the role a plugin asserts.
#include <nlohmann/json.hpp>

#include "hearth/rights.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kCase = "case/north/C-000001";

// portal: a caseworkers' front end in the north district with broad scopes but no controller scope
// and no roles map, so it may assert any role, `controller` included.
// auditor: the data-protection officer's console, with the controller scope.
// intake: the south district's front end.
constexpr const char* kPolicyConfig = R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "CA", "cert": "CERT", "key": "KEY"},
  "threads": 2,
  "workers": 4,
  "plugins": {
    "portal": {
      "scopes": {"append_types": ["*"], "read_streams": ["rights/*", "config/*"],
                 "read_districts": ["north"], "read_personal": true, "controller": false}
    },
    "auditor": {
      "scopes": {"append_types": ["*"], "read_streams": ["rights/*", "config/*"],
                 "read_districts": ["*"], "read_personal": true, "controller": true}
    },
    "intake": {
      "scopes": {"append_types": ["*"], "read_districts": ["south"], "read_personal": true}
    }
  }
})";

domain::Date Today() {
  domain::Date d;
  EXPECT_TRUE(domain::ParseDate("2019-12-31", &d));
  return d;
}

class PolicyTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    rights::RightsOptions ro;
    ro.today = Today;
    rights_ = std::make_unique<rights::Rights>(store_.get(), &TestCodec(), ro);
    // The test's own setup, as the controller with the store key: a case for
    // P-1, whose processing is then restricted.
    domain::RecorderOptions options;
    options.today = Today;
    domain::CaseRecorder recorder(store_.get(), &TestCodec(), options);
    auto opened = recorder.Record(kCase, {Enquiry("P-1", "north")});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_TRUE(rights_->Restrict("P-1", "", "accuracyContested", Actor{"S-9", "controller", "test"}).ok());
    Start(Config(kPolicyConfig));
  }
  void TearDown() override {
    rights_.reset();
    ServerFixture::TearDown();
  }

  uint64_t LastPosition() {
    auto info = store_->Info();
    EXPECT_TRUE(info.ok());
    return info.ok() ? info->last_position : 0;
  }
  bool Restricted(const std::string& subject) {
    auto r = rights_->IsRestricted(subject);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  }

  std::unique_ptr<rights::Rights> rights_;
};

NewEvent RestrictionLifted(const std::string& subject) {
  return DomainEvent(R"({"type":"RestrictionLifted","facts":{"liftedOn":"2019-12-30","reasonCode":"accuracyVerified"},)"
                     R"("subjects":[{"id":")" + subject + R"(","role":"client"}]})");
}

NewEvent RestrictionApplied(const std::string& subject) {
  return DomainEvent(R"({"type":"RestrictionApplied","facts":{"appliedOn":"2019-12-30","reasonCode":"accuracyContested"},)"
                     R"("subjects":[{"id":")" + subject + R"(","role":"client"}]})");
}

NewEvent ProcessingRecord() {
  Json facts = Json::parse(rights::DefaultProcessingRecordJson());
  facts["effectiveOn"] = "2019-12-30";
  return DomainEvent(Json{{"type", "ProcessingRecordSet"}, {"facts", facts}}.dump());
}

NewEvent RightsRequest(const std::string& subject) {
  return DomainEvent(R"({"type":"RightsRequestReceived","facts":{"receivedOn":"2019-12-30","kind":"erasure"},)"
                     R"("subjects":[{"id":")" + subject + R"(","role":"client"}]})");
}

void ExpectControllerRefusal(const Status& s) {
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("scope controller"), std::string::npos) << s.ToString();
}

TEST_F(PolicyTest, ARoleNameGivesNoControllerPower) {
  uint64_t before = LastPosition();
  auto client = Connect("portal", "u-0042", "controller");
  ASSERT_TRUE(client);
  // A new event on the restricted person's case is refused by the case rule,
  // exactly as for any other role.
  auto r = client->Append(kCase, ExpectedVersion::Any(), {CaseNote("2019-12-30")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("rule subject-restricted"), std::string::npos) << r.status().ToString();
  // Nor can it lift the restriction first.
  ExpectControllerRefusal(
      client->Append(rights::kRestrictionStream, ExpectedVersion::Any(), {RestrictionLifted("P-1")}).status());
  // Nothing was written; the restriction stands; the case is as it was.
  EXPECT_EQ(LastPosition(), before);
  EXPECT_TRUE(Restricted("P-1"));
  auto version = store_->StreamVersion(kCase);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 1u);
}

TEST_F(PolicyTest, RightsAndConfigStreamsNeedTheControllerScope) {
  uint64_t before = LastPosition();
  for (const char* role : {"caseworker", "controller"}) {
    SCOPED_TRACE(role);
    auto client = Connect("portal", "u-0042", role);
    ASSERT_TRUE(client);
    ExpectControllerRefusal(
        client->Append(rights::kRestrictionStream, ExpectedVersion::Any(), {RestrictionLifted("P-1")}).status());
    ExpectControllerRefusal(
        client->Append(rights::kRestrictionStream, ExpectedVersion::Any(), {RestrictionApplied("P-1")}).status());
    ExpectControllerRefusal(
        client->Append(rights::kProcessingStream, ExpectedVersion::Any(), {ProcessingRecord()}).status());
    ExpectControllerRefusal(client->Append("rights/R-9", ExpectedVersion::NoStream(), {RightsRequest("P-1")}).status());
    ExpectControllerRefusal(client->Append("config/anything", ExpectedVersion::Any(), {MakeEvent("Whatever")}).status());
  }
  EXPECT_EQ(LastPosition(), before);
  EXPECT_TRUE(Restricted("P-1"));
  EXPECT_TRUE(store_->StreamVersion("rights/R-9").status().IsNotFound());
  EXPECT_TRUE(store_->StreamVersion("config/anything").status().IsNotFound());
  auto processing = store_->StreamVersion(rights::kProcessingStream);
  EXPECT_TRUE(processing.status().IsNotFound()) << "the setup never wrote a record of processing";
  EXPECT_TRUE(Eventually([&] { return LogContains("scope controller does not allow appending to stream"); }))
      << Log();
}

// The scope, whatever role the plugin names, carries the power.
TEST_F(PolicyTest, TheControllerScopeCarriesThePowerWhateverTheRoleIsCalled) {
  auto dpo = Connect("auditor", "S-0009", "dataProtectionOfficer");
  ASSERT_TRUE(dpo);
  auto note = dpo->Append(kCase, ExpectedVersion::Any(), {CaseNote("2019-12-30")});
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  auto lifted = dpo->Append(rights::kRestrictionStream, ExpectedVersion::Any(), {RestrictionLifted("P-1")});
  ASSERT_TRUE(lifted.ok()) << lifted.status().ToString();
  EXPECT_FALSE(Restricted("P-1"));
  // Lifted: the caseworkers' front end may record about P-1 again.
  auto portal = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(portal);
  auto after = portal->Append(kCase, ExpectedVersion::Any(), {CaseNote("2019-12-31")});
  EXPECT_TRUE(after.ok()) << after.status().ToString();
}

// District authorisation follows the case's current district: after
// CaseTransferred to south, the north front end no longer reads or writes
// case/north/..., and the south one does, under the same name.
TEST_F(PolicyTest, DistrictScopesFollowACaseTransferredToAnotherDistrict) {
  constexpr const char* kMoving = "case/north/C-000002";
  auto north = Connect("portal", "u-0042", "caseworker");
  auto south = Connect("intake", "u-0077", "caseworker");
  auto dpo = Connect("auditor", "S-0009", "dataProtectionOfficer");
  ASSERT_TRUE(north && south && dpo);
  ASSERT_TRUE(north->Append(kMoving, ExpectedVersion::NoStream(), {Enquiry("P-2", "north")}).ok());
  ASSERT_TRUE(north->ReadStream(kMoving, 1, Direction::kForward, 0, "casework").ok());
  EXPECT_EQ(south->ReadStream(kMoving, 1, Direction::kForward, 0, "casework").status().code(),
            Status::Code::kPermissionDenied);
  auto moved = north->Append(
      kMoving, ExpectedVersion::Exact(1),
      {DomainEvent(R"({"type":"CaseTransferred","facts":{"transferredOn":"2019-12-30","toTeam":"S1",)"
                   R"("toDistrict":"south","reasonCode":"moved"}})")});
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();

  uint64_t before = LastPosition();
  auto read = north->ReadStream(kMoving, 1, Direction::kForward, 0, "casework");
  EXPECT_EQ(read.status().code(), Status::Code::kPermissionDenied) << read.status().ToString();
  EXPECT_NE(read.status().message().find("read_districts"), std::string::npos) << read.status().ToString();
  auto write = north->Append(kMoving, ExpectedVersion::Any(), {CaseNote("2019-12-30")});
  EXPECT_EQ(write.status().code(), Status::Code::kPermissionDenied) << write.status().ToString();
  EXPECT_EQ(north->ReadSubject("P-2", 0, 0, "casework").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(LastPosition(), before);

  auto theirs = south->ReadStream(kMoving, 1, Direction::kForward, 0, "casework");
  ASSERT_TRUE(theirs.ok()) << theirs.status().ToString();
  EXPECT_EQ(theirs->events.size(), 2u);
  auto note = south->Append(kMoving, ExpectedVersion::Exact(2), {CaseNote("2019-12-31")});
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  auto subject = south->ReadSubject("P-2", 0, 0, "casework");
  ASSERT_TRUE(subject.ok()) << subject.status().ToString();
  EXPECT_EQ(subject->events.size(), 3u);
  // The controller, scoped to every district, reads it wherever it is.
  EXPECT_TRUE(dpo->ReadStream(kMoving, 1, Direction::kForward, 0, "audit").ok());
}

}  // namespace
}  // namespace hearth::testing
