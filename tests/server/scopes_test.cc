// Least privilege over the network: every operation inside and outside the
// caller's scopes, personal sections, the access log (docs/plugins.md).
#include "server_util.h"

namespace hearth::testing {
namespace {

constexpr const char* kNorth = "case/north/C-000001";
constexpr const char* kSouth = "case/south/C-000002";

NewEvent Contact(const std::string& subject, const std::string& given_name) {
  NewEvent e = Enquiry(subject, "north", given_name);
  e.actor = Actor{"someone-else", "controller", "forged"};  // the server overrides it
  return e;
}

class ScopesTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    Start();
  }
  // Writes straight into the store (the test's own setup, not a plugin).
  void Seed(const std::string& stream, std::vector<NewEvent> events) {
    auto r = store_->Append(stream, ExpectedVersion::Any(), events);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  bool StreamExists(const std::string& stream) { return store_->StreamVersion(stream).ok(); }
};

void ExpectDenied(const Status& s, const std::string& scope) {
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find(scope), std::string::npos) << s.ToString();
}

TEST_F(ScopesTest, AppendInsideScopesStampsTheActorFromHello) {
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto r = client->Append(kNorth, ExpectedVersion::NoStream(), {Contact("P-1", "Ann")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_position, 1u);
  EXPECT_EQ(r->last_version, 1u);
  auto events = store_->ReadStream(kNorth, 1, Direction::kForward, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].actor, (Actor{"u-0042", "caseworker", "portal"}));
}

TEST_F(ScopesTest, AppendOfATypeOutsideScopesIsDeniedAndWritesNothing) {
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  auto r = client->Append(kNorth, ExpectedVersion::Any(), {MakeEvent("GrantApproved")});
  ASSERT_FALSE(r.ok());
  ExpectDenied(r.status(), "append_types");
  EXPECT_NE(r.status().message().find("GrantApproved"), std::string::npos);
  EXPECT_FALSE(StreamExists(kNorth));
  EXPECT_TRUE(Eventually([&] { return LogContains("refused: plugin=portal user=u-0001"); })) << Log();
  // A batch with one forbidden event is refused whole.
  r = client->Append(kNorth, ExpectedVersion::Any(), {Enquiry(), MakeEvent("GrantApproved")});
  ExpectDenied(r.status(), "append_types");
  EXPECT_FALSE(StreamExists(kNorth));
}

TEST_F(ScopesTest, AppendToADistrictOutsideScopesIsDenied) {
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  auto r = client->Append(kSouth, ExpectedVersion::Any(), {Enquiry("P-1", "south")});
  ExpectDenied(r.status(), "read_districts");
  EXPECT_FALSE(StreamExists(kSouth));
  r = client->Append("erasure", ExpectedVersion::Any(), {MakeEvent("ContactRecorded")});
  ExpectDenied(r.status(), "read_streams");
  EXPECT_FALSE(StreamExists("erasure"));
}

TEST_F(ScopesTest, RoleWithoutAppendScopeIsDenied) {
  auto client = Connect("portal", "u-0007", "viewer");
  ASSERT_TRUE(client);
  auto r = client->Append(kNorth, ExpectedVersion::Any(), {Enquiry()});
  ExpectDenied(r.status(), "append_types");
  EXPECT_FALSE(StreamExists(kNorth));
}

TEST_F(ScopesTest, ReadStreamInsideAndOutsideScopes) {
  Seed(kNorth, {MakeEvent("ContactRecorded"), MakeEvent("NoteAdded")});
  Seed(kSouth, {MakeEvent("ContactRecorded")});
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  auto page = client->ReadStream(kNorth, 1, Direction::kForward, 0, "casework");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->events.size(), 2u);
  EXPECT_FALSE(page->more);
  auto back = client->ReadStream(kNorth, 0, Direction::kBackward, 1, "casework");
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->events.size(), 1u);
  EXPECT_EQ(back->events[0].stream_version, 2u);
  auto denied = client->ReadStream(kSouth, 1, Direction::kForward, 0, "casework");
  ExpectDenied(denied.status(), "read_districts");
  auto missing = client->ReadStream("case/north/C-999999", 1, Direction::kForward, 0, "casework");
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
}

TEST_F(ScopesTest, ReadAllAndSubscribeNeedReadLog) {
  Seed(kNorth, {MakeEvent("ContactRecorded")});
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  ExpectDenied(client->ReadAll(1, 10, "x").status(), "read_log");
  auto sub = client->Subscribe(1, "x", [](const RecordedEvent&) { return true; });
  ExpectDenied(sub.status(), "read_log");
  EXPECT_EQ(server_->stats().subscriptions, 0u);

  auto auditor = Connect("auditor", "u-0099", "auditor");
  ASSERT_TRUE(auditor);
  auto all = auditor->ReadAll(1, 10, "audit");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->events.size(), 1u);
}

TEST_F(ScopesTest, ReadSubjectLeavesOutStreamsOutsideScopes) {
  Seed(kNorth, {MakeEvent("ContactRecorded", "P-7")});
  Seed(kSouth, {MakeEvent("ContactRecorded", "P-7")});
  Seed(kNorth, {MakeEvent("NoteAdded", "P-7")});
  Seed("case/south/C-000003", {MakeEvent("ContactRecorded", "P-8")});
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  auto page = client->ReadSubject("P-7", 0, 0, "casework");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->events.size(), 2u);
  for (const auto& e : page->events) EXPECT_EQ(e.stream, kNorth);
  // A subject wholly outside the scopes looks like an unknown one.
  EXPECT_EQ(client->ReadSubject("P-8", 0, 0, "casework").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(client->ReadSubject("P-404", 0, 0, "casework").status().code(), Status::Code::kNotFound);
  auto intake = Connect("intake", "u-5", "any");
  ASSERT_TRUE(intake);
  auto both = intake->ReadSubject("P-7", 0, 0, "casework");
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->events.size(), 3u);
}

TEST_F(ScopesTest, PersonalSectionsAreStrippedWithoutReadPersonalAndNothingIsLogged) {
  Seed(kNorth, {MakeEvent("ContactRecorded", "P-21", "Bea Sample, 1 Test Street")});
  auto client = Connect("intake", "u-5", "any");
  ASSERT_TRUE(client);
  auto page = client->ReadStream(kNorth, 1, Direction::kForward, 0, "triage");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_TRUE(page->events[0].personal.empty());
  EXPECT_EQ(page->events[0].subjects.size(), 1u);  // the reference stays
  auto log = store_->AccessLog("P-21");
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE(log->empty());
  // Same for a role narrowed to no personal data.
  auto viewer = Connect("portal", "u-0007", "viewer");
  ASSERT_TRUE(viewer);
  page = viewer->ReadStream(kNorth, 1, Direction::kForward, 0, "triage");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->events[0].personal.empty());
}

TEST_F(ScopesTest, PersonalReadsAreInTheAccessLogWithPluginAndAssertedUser) {
  Seed(kNorth, {MakeEvent("ContactRecorded", "P-31", "Cal Specimen"),
                MakeEvent("NoteAdded", "P-31", "prefers mornings")});
  Seed(kNorth, {MakeEvent("NoteAdded")});
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto page = client->ReadStream(kNorth, 1, Direction::kForward, 0, "first-visit");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 3u);
  ASSERT_EQ(page->events[0].personal.size(), 1u);
  EXPECT_EQ(page->events[0].personal[0].data, "Cal Specimen");
  auto log = store_->AccessLog("P-31");
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);  // one record per subject per call
  const AccessRecord& r = (*log)[0];
  EXPECT_EQ(r.plugin, "portal");
  EXPECT_EQ(r.user, "u-0042");
  EXPECT_EQ(r.role, "caseworker");
  EXPECT_EQ(r.action, "read");
  EXPECT_EQ(r.purpose, "first-visit");
  EXPECT_EQ(r.first_position, 1u);
  EXPECT_EQ(r.last_position, 2u);
  EXPECT_EQ(r.events, 2u);

  auto subject = client->ReadSubject("P-31", 0, 0, "sar-check");
  ASSERT_TRUE(subject.ok());
  log = store_->AccessLog("P-31");
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[1].purpose, "sar-check");
}

TEST_F(ScopesTest, QueryChecksTheModelScope) {
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto info = client->Query("info", "{}");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_NE(info->find("\"read_districts\":[\"north\"]"), std::string::npos) << *info;
  EXPECT_NE(info->find("\"plugin\":\"portal\""), std::string::npos) << *info;
  EXPECT_EQ(info->find("\"path\""), std::string::npos) << "no file paths to plugins";
  EXPECT_EQ(client->Query("worklist", "{}").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(client->Query("info", "[1,").status().code(), Status::Code::kInvalidArgument);
  auto intake = Connect("intake", "u-5", "any");
  ASSERT_TRUE(intake);
  ExpectDenied(intake->Query("info", "{}").status(), "read_models");
}

TEST_F(ScopesTest, HelloAgainSwitchesTheUser) {
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto hello = client->Hello("u-0043", "viewer");
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(hello->user, "u-0043");
  ExpectDenied(client->Append(kNorth, ExpectedVersion::Any(), {Enquiry()}).status(),
               "append_types");
  ASSERT_TRUE(client->Hello("u-0044", "caseworker").ok());
  auto r = client->Append(kNorth, ExpectedVersion::Any(), {Enquiry()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto events = store_->ReadStream(kNorth, 1, Direction::kForward, 10);
  EXPECT_EQ((*events)[0].actor.user, "u-0044");
  // A user reference must be opaque, never a name with spaces.
  EXPECT_EQ(client->Hello("Ann Example", "caseworker").status().code(),
            Status::Code::kInvalidArgument);
}

TEST_F(ScopesTest, AppendErrorsCarryTheStoreCodes) {
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Append(kNorth, ExpectedVersion::NoStream(), {Enquiry()}).ok());
  auto conflict = client->Append(kNorth, ExpectedVersion::NoStream(), {CaseNote()});
  EXPECT_EQ(conflict.status().code(), Status::Code::kConflict) << conflict.status().ToString();
  auto empty = client->Append(kNorth, ExpectedVersion::Any(), {});
  EXPECT_EQ(empty.status().code(), Status::Code::kInvalidArgument);
  NewEvent retry = CaseNote();
  auto first = client->Append(kNorth, ExpectedVersion::Exact(1), {retry});
  ASSERT_TRUE(first.ok());
  auto again = client->Append(kNorth, ExpectedVersion::Exact(1), {retry});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->first_position, first->first_position);
}

}  // namespace
}  // namespace hearth::testing
