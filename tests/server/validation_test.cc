// Command validation over the network: appends to case streams go through
// the domain rules (docs/domain.md) whatever front end sends them, with the
// caller's expected version; other streams are not cases and are not
// validated (docs/protocol.md).
#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>

#include <algorithm>

#include "domain.capnp.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

constexpr const char* kCase = "case/north/C-000300";

class ValidationTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    Start();
    if (HasFatalFailure()) return;
    // The auditor may append any type anywhere: only the rules stand in the way.
    client_ = Connect("auditor", "u-0300", "caseworker");
    ASSERT_TRUE(client_);
  }
  uint64_t Version(const std::string& stream) {
    auto v = store_->StreamVersion(stream);
    return v.ok() ? *v : 0;
  }
  // Opens kCase with an enquiry for P-1.
  void Open() {
    auto r = client_->Append(kCase, ExpectedVersion::NoStream(), {Enquiry("P-1")});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->last_version, 1u);
  }
  void ExpectRule(const Status& s, const std::string& rule) {
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.message().rfind("rule " + rule + ":", 0), 0u) << s.ToString();
  }
  std::unique_ptr<sdk::Client> client_;
};

TEST_F(ValidationTest, AnEventOnAClosedCaseIsRefusedAndNothingIsWritten) {
  Open();
  auto closed = client_->Append(
      kCase, ExpectedVersion::Exact(1),
      {DomainEvent(R"({"type":"CaseClosed","facts":{"closedOn":"2018-05-01","reason":"adviceOnly"}})")});
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  uint64_t last = store_->Info()->last_position;
  auto r = client_->Append(kCase, ExpectedVersion::Any(), {CaseNote("2018-05-02")});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "case-closed");
  EXPECT_EQ(Version(kCase), 2u);
  EXPECT_EQ(store_->Info()->last_position, last);
}

TEST_F(ValidationTest, AReferralWithoutConsentBasisIsRefused) {
  Open();
  auto r = client_->Append(
      kCase, ExpectedVersion::Exact(1),
      {DomainEvent(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-05",)"
                   R"("referrerType":"self","service":"minorAdaptation"}})")});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "referral-consent-basis");
  EXPECT_EQ(Version(kCase), 1u);
  // The same referral with its basis is recorded.
  r = client_->Append(
      kCase, ExpectedVersion::Exact(1),
      {DomainEvent(R"({"type":"ReferralMade","facts":{"referredOn":"2018-04-05",)"
                   R"("referrerType":"self","service":"minorAdaptation","consentBasis":{"given":{"givenOn":"2018-04-05",)"
                   R"("method":"written","scopes":["referOn"]}}}})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Version(kCase), 2u);
}

// Issue 17.6 over the protocol: a questionnaire about a line whose works are
// not finished is refused by the same rule as on the command line; sent
// after completion and returned with its answers, it is recorded.
TEST_F(ValidationTest, AQuestionnaireIsSentOnlyOnCompletionOverTheProtocol) {
  Open();
  auto r = client_->Append(kCase, ExpectedVersion::Exact(1),
                           {DomainEvent(R"({"type":"ServiceElementOpened","facts":{"openedOn":"2018-04-20",)"
                                        R"("line":1,"element":"minorAdaptationsHandyperson","service":"minorAdaptation"}})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto sent = DomainEvent(R"({"type":"QuestionnaireSent","facts":{"sentOn":"2018-05-12","line":1,"channel":"letter"}})");
  r = client_->Append(kCase, ExpectedVersion::Exact(2), {sent});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "questionnaire-sent");
  EXPECT_EQ(Version(kCase), 2u);
  r = client_->Append(kCase, ExpectedVersion::Exact(2),
                      {DomainEvent(R"({"type":"WorksCompleted","facts":{"completedOn":"2018-05-11","line":1}})"), sent,
                       DomainEvent(R"({"type":"SatisfactionRecorded","facts":{"recordedOn":"2018-05-30","score":5,)"
                                   R"("line":1,"qualityOfLife":"muchBetter","impacts":["saferAtHome","canStayAtHome"]}})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Version(kCase), 5u);
}

// Issue 17.5 over TLS: a complaint with no case on a stream of its own,
// escalated and answered under the complaints' rules; a refusal names the
// rule and writes nothing; a case's complaint is escalated on the case.
TEST_F(ValidationTest, AComplaintIsEscalatedStageByStageOverTheProtocol) {
  const std::string k1 = "complaint/K-1";
  auto received = DomainEvent(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-05-02","complaint":1,)"
                              R"("stage":"stage1","channel":"phone","categoryCode":"noCallBack"}})");
  auto r = client_->Append(k1, ExpectedVersion::NoStream(), {received});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "complaint-district");
  EXPECT_EQ(Version(k1), 0u);
  r = client_->Append(k1, ExpectedVersion::NoStream(),
                      {DomainEvent(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-05-02","complaint":1,)"
                                   R"("stage":"stage1","district":"north"}})"),
                       DomainEvent(R"({"type":"ComplaintResolved","facts":{"resolvedOn":"2018-05-10","complaint":1,)"
                                   R"("stage":"stage1","result":"notUpheld"}})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  r = client_->Append(k1, ExpectedVersion::Exact(2),
                      {DomainEvent(R"({"type":"ComplaintEscalated","facts":{"escalatedOn":"2018-05-20","complaint":1,)"
                                   R"("toStage":"stage1"}})")});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "complaint-escalation");
  r = client_->Append(k1, ExpectedVersion::Exact(2),
                      {DomainEvent(R"({"type":"ComplaintEscalated","facts":{"escalatedOn":"2018-05-20","complaint":1,)"
                                   R"("toStage":"ombudsman"}})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Version(k1), 3u);
  Open();
  r = client_->Append(kCase, ExpectedVersion::Exact(1),
                      {DomainEvent(R"({"type":"ComplaintReceived","facts":{"receivedOn":"2018-05-02","complaint":1,)"
                                   R"("stage":"informal"}})"),
                       DomainEvent(R"({"type":"ComplaintEscalated","facts":{"escalatedOn":"2018-05-09","complaint":1,)"
                                   R"("toStage":"stage1"}})")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Version(kCase), 3u);
}

TEST_F(ValidationTest, AnUnknownEventTypeOnACaseIsRefused) {
  // Not even the first event of a case.
  auto r = client_->Append(kCase, ExpectedVersion::Any(), {UnknownCaseEvent()});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "unknown-event-type");
  EXPECT_EQ(Version(kCase), 0u);
  Open();
  // Nor later, nor in a batch with a valid event: the batch is refused whole.
  r = client_->Append(kCase, ExpectedVersion::Exact(1), {CaseNote(), UnknownCaseEvent()});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "unknown-event-type");
  EXPECT_EQ(Version(kCase), 1u);
  // The refusal reaches the client with the rule's whole message.
  EXPECT_NE(r.status().message().find("\"NoteAdded\" is not an event type"), std::string::npos)
      << r.status().ToString();
}

TEST_F(ValidationTest, StreamsThatAreNotCasesAreNotValidated) {
  auto r = client_->Append("notes/north/000001", ExpectedVersion::NoStream(), {UnknownCaseEvent()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Version("notes/north/000001"), 1u);
}

TEST_F(ValidationTest, AnExactExpectedVersionWithAValidEventIsRecorded) {
  Open();
  auto r = client_->Append(kCase, ExpectedVersion::Exact(1), {CaseNote()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_version, 2u);
  EXPECT_EQ(r->last_version, 2u);
  auto events = store_->ReadStream(kCase, 2, Direction::kForward, 10);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 1u);
  const RecordedEvent& e = (*events)[0];
  EXPECT_EQ(e.type, "CaseNoteAdded");
  // The store names the case's client on every event, and stamps the actor.
  EXPECT_NE(std::find(e.subjects.begin(), e.subjects.end(), SubjectRef{"P-1", SubjectRole::kClient}),
            e.subjects.end());
  EXPECT_EQ(e.actor, (Actor{"u-0300", "caseworker", "auditor"}));
}

TEST_F(ValidationTest, AStaleExpectedVersionIsAConflictAndWritesNothing) {
  Open();
  ASSERT_TRUE(client_->Append(kCase, ExpectedVersion::Exact(1), {CaseNote()}).ok());
  uint64_t last = store_->Info()->last_position;
  auto r = client_->Append(kCase, ExpectedVersion::Exact(1), {CaseNote("2018-04-05")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kConflict) << r.status().ToString();
  EXPECT_NE(r.status().message().find(std::string("stream ") + kCase +
                                      ": expected version 1, actual 2"),
            std::string::npos)
      << r.status().ToString();
  // A case that exists is not a new stream either.
  r = client_->Append(kCase, ExpectedVersion::NoStream(), {Enquiry("P-2")});
  EXPECT_EQ(r.status().code(), Status::Code::kConflict) << r.status().ToString();
  EXPECT_NE(r.status().message().find("expected version no-stream, actual 2"), std::string::npos)
      << r.status().ToString();
  // An expectation of a case not yet opened.
  r = client_->Append("case/north/C-000301", ExpectedVersion::Exact(1), {Enquiry("P-3")});
  EXPECT_EQ(r.status().code(), Status::Code::kConflict) << r.status().ToString();
  EXPECT_NE(r.status().message().find("expected version 1, actual no-stream"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(Version(kCase), 2u);
  EXPECT_EQ(Version("case/north/C-000301"), 0u);
  EXPECT_EQ(store_->Info()->last_position, last);
}

// --- references and codes, not free text (issue 13 point 4) ---

// A hello whose user is a full name and an NHS-like number (or whose role is
// free text) is refused, and nothing is written: the actor is stored in
// plaintext in every event and its Merkle leaf, beyond any erasure.
TEST_F(ValidationTest, ReferencesNotFreeTextAUserThatIsANameIsRefusedOverTls) {
  uint64_t last = store_->Info()->last_position;
  for (auto [user, role] : {std::pair<std::string, std::string>{"Jane Example 943 476 5919", "caseworker"},
                            {"u-0300", "the caseworker on duty"},
                            {std::string(65, 'u'), "caseworker"}}) {
    auto c = sdk::Client::Connect(ClientFor("auditor", user, role));
    ASSERT_FALSE(c.ok()) << user << " / " << role;
    EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument) << c.status().ToString();
    EXPECT_NE(c.status().message().find(user == "u-0300" ? "role" : "user"), std::string::npos)
        << c.status().ToString();
    EXPECT_EQ(c.status().message().find("Example"), std::string::npos) << c.status().ToString();
  }
  EXPECT_EQ(store_->Info()->last_position, last);
  EXPECT_FALSE(LogContains("Jane Example"));
}

// The purpose of a read is a code: free text is refused before anything is
// read or written to the access log (it would be copied there once per
// subject per read).
TEST_F(ValidationTest, ReferencesNotFreeTextAPurposeIsACodeOverTls) {
  auto opened = client_->Append(kCase, ExpectedVersion::NoStream(),
                                {Enquiry("P-1", "north", "Testina")});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto log_before = store_->AccessLog("P-1");
  ASSERT_TRUE(log_before.ok());
  auto refused = client_->ReadStream(kCase, 1, Direction::kForward, 10,
                                     "checking on Mrs Example's hip after her fall");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("purpose"), std::string::npos);
  auto log_after = store_->AccessLog("P-1");
  ASSERT_TRUE(log_after.ok());
  EXPECT_EQ(log_after->size(), log_before->size());
  // A code is fine, and is what the access log keeps.
  auto read = client_->ReadStream(kCase, 1, Direction::kForward, 10, "first-visit");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  log_after = store_->AccessLog("P-1");
  ASSERT_TRUE(log_after.ok());
  ASSERT_EQ(log_after->size(), log_before->size() + 1);
  EXPECT_EQ(log_after->back().purpose, "first-visit");
}

// Packed facts sent over TLS are checked against the schema too: free text
// in a code field is refused with the field named, on a case and on any other
// stream, and nothing is written.
TEST_F(ValidationTest, FreeTextInACodeFieldOfPackedFactsIsRefusedOverTls) {
  namespace cs = ::hearth::schema::domain;
  auto with_referrer = [](const std::string& organisation) {
    NewEvent e = Enquiry("P-7");
    capnp::MallocMessageBuilder message;
    auto c = message.initRoot<cs::Facts>().initContactRecorded();
    c.setContactedOn("2018-04-03");
    c.setDistrict("north");
    c.setChannel(cs::Channel::PHONE);
    c.setReferrerType(cs::ReferrerType::SELF);
    c.setPurpose(cs::ContactPurpose::ENQUIRY);
    c.setReferrerOrganisation(organisation);
    kj::VectorOutputStream out;
    capnp::writePackedMessage(out, message);
    e.facts.assign(reinterpret_cast<const char*>(out.getArray().begin()), out.getArray().size());
    return e;
  };
  uint64_t last = store_->Info()->last_position;
  auto r = client_->Append(kCase, ExpectedVersion::NoStream(),
                           {with_referrer("Dr Jane Example 943 476 5919")});
  ASSERT_FALSE(r.ok());
  ExpectRule(r.status(), "code-field");
  EXPECT_NE(r.status().message().find("facts.referrerOrganisation"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(r.status().message().find("Example"), std::string::npos) << r.status().ToString();
  auto elsewhere = client_->Append("intake/north/1", ExpectedVersion::Any(),
                                   {with_referrer("Dr Jane Example 943 476 5919")});
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(elsewhere.status().message().find("facts.referrerOrganisation"), std::string::npos)
      << elsewhere.status().ToString();
  EXPECT_EQ(store_->Info()->last_position, last);
  // A code is recorded.
  auto ok = client_->Append(kCase, ExpectedVersion::NoStream(), {with_referrer("GP-Y01234")});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

}  // namespace
}  // namespace hearth::testing
