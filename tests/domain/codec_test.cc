// The codec: JSON <-> stored events, identifiers, clear errors, upcasting.
#include <capnp/message.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>
#include <nlohmann/json.hpp>

#include <set>

#include "domain.capnp.h"
#include "domain/fold.h"
#include "domain/tables.h"
#include "domain_test_util.h"

namespace hearth::domain::testing {
namespace {

using Json = nlohmann::json;
namespace cs = ::hearth::schema::domain;

// The domain part of an event's JSON (what a writer gives), for comparisons.
Json DomainPart(const Json& j) {
  Json out;
  for (const char* k : {"id", "type", "schemaVersion", "occurredAt", "actor", "subjects", "facts",
                        "personal"}) {
    if (j.contains(k)) out[k] = j[k];
  }
  return out;
}

std::string Packed(capnp::MessageBuilder& m) {
  kj::VectorOutputStream out;
  capnp::writePackedMessage(out, m);
  return std::string(reinterpret_cast<const char*>(out.getArray().begin()), out.getArray().size());
}

class CodecTest : public DomainTest {};

TEST_F(CodecTest, EveryEventTypeIsListed) {
  std::set<std::string> names;
  for (const auto& t : codec_->types()) names.insert(t.name);
  for (const char* n :
       {"PersonRegistered", "PersonDetailsRectified", "ContactRecorded", "ConsultationHeld",
        "ReferralMade", "ConsentGiven", "ConsentWithdrawn", "FirstVisitScheduled",
        "FirstVisitConfirmedInWriting", "FirstVisitCompleted", "AssessmentRecorded",
        "RightsConfirmed", "SupportPlanAgreed", "SupportPlanChanged", "SupportPlanReviewed",
        "ServiceElementOpened", "ServiceElementClosed", "PriorityAssessed", "EligibilityDecided",
        "MeansTestCompleted", "GrantApplicationMade", "GrantApproved", "GrantRefused",
        "FundingDecided", "WorksSpecified", "QuoteReceived", "ContractorChosen", "WorksStarted",
        "WorksCompleted", "WorksPaid", "OutcomeRecorded", "SatisfactionRecorded",
        "ComplaintReceived", "ComplaintResolved", "ComplimentReceived",
        "SafeguardingConcernRaised", "CaseNoteAdded", "CaseTransferred", "DelayRecorded",
        "PersonalDataDisclosed", "CaseClosed", "CaseReopened", "LandChargeRegistered",
        "LandChargeReleased", "OnwardReferralMade", "OnwardReferralOutcomeRecorded",
        "SafeguardingReferralAcknowledged", "SafeguardingOutcomeRecorded",
        // the rights workflow (docs/rights.md)
        "RightsRequestReceived", "RightsIdentityVerified", "RightsClockPaused",
        "RightsClockResumed", "RightsRequestExtended", "RightsRequestFulfilled",
        "RightsRequestRefused", "ErasureDecided", "RestrictionApplied", "RestrictionLifted",
        "ThirdPartyDisclosureDecided", "ProcessingRecordSet",
        // configuration of the monitoring return (docs/exports.md)
        "TimescalesSet", "AllocationSet",
        // the release ledger of the KPI return (docs/exports.md)
        "KpiReturnReleased",
        // the breach register (docs/domain.md)
        "BreachRecorded", "BreachAssessed", "BreachNotifiedToIco", "BreachNotNotified",
        "BreachPeopleInformed",
        // satisfaction and impact (docs/domain.md)
        "QuestionnaireSent",
        // allocation to a worker (issue 17.7)
        "CaseAllocated", "CaseDeallocated",
        // documents (issue 17.9)
        "DocumentAttached",
        // DFG order and money (docs/domain.md), and the vetted contractors
        "UrgentWorksExemptionRecorded", "GrantVariationApproved", "ContractorVetted", "ContractorRemoved",
        // complaints taken to the next stage (issue 17.5)
        "ComplaintEscalated"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_EQ(names.size(), 77u);
  EXPECT_EQ(names.count("ContactRecordedV1"), 0u);
  const EventTypeInfo* contact = codec_->FindType("ContactRecorded");
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(contact->version, 2u);
  EXPECT_EQ(contact->older_versions, std::vector<uint32_t>{1});
}

TEST_F(CodecTest, JsonRoundTripsThroughTheStore) {
  const std::vector<std::string> inputs = {
      R"({"id":"6f1c2d1e-8a4b-4c2d-9e0f-1a2b3c4d5e6f","type":"ContactRecorded","schemaVersion":2,
          "occurredAt":"2018-04-03T09:30:00.000000Z","actor":{"user":"S-7","role":"caseworker","plugin":"test"},
          "subjects":[{"id":"P-1","role":"client"},{"id":"P-2","role":"referrer"}],
          "facts":{"contactedOn":"2018-04-03","district":"D3","channel":"friendOrFamily",
                   "referrerType":"family","purpose":"enquiry","topics":["minorAdaptation","repairs"]},
          "personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina","familyName":"Quillfeather",
                        "addressLines":["1 Imaginary Road","Nowhere"],"postcode":"ZZ3 1AB","nhsNumber":"9990000018",
                        "freeText":"asked about a stair rail"}},
                      {"subject":"P-2","role":"referrer","details":{"givenName":"Fictio","relationship":"daughter","phone":"01632 960123"}}]})",
      R"({"id":"0a1c2d1e-8a4b-4c2d-9e0f-1a2b3c4d5e6f","type":"ReferralMade","schemaVersion":1,
          "subjects":[{"id":"P-1","role":"client"}],
          "facts":{"referredOn":"2018-04-05","referrerType":"occupationalTherapist","service":"mandatoryDfg",
                   "consentBasis":{"given":{"givenOn":"2018-04-05","method":"written","scopes":["referOn","shareWithReferrer"]}}},
          "personal":[]})",
      R"({"id":"1b1c2d1e-8a4b-4c2d-9e0f-1a2b3c4d5e6f","type":"GrantApproved","schemaVersion":1,
          "subjects":[{"id":"P-1","role":"client"}],
          "facts":{"approvedOn":"2018-08-01","line":1,"grantType":"mandatoryDfg","amountPence":3250000,
                   "discretionaryTopUpPence":250000,"fundingSource":"mandatoryDfg","rationaleCode":"lowestQuote"},
          "personal":[]})",
  };
  std::vector<NewEvent> events;
  for (const auto& in : inputs) events.push_back(E(in));
  // Stored directly (the recorder would add nothing here: P-1 is named).
  ASSERT_TRUE(store_->Append("case/D3/000001", ExpectedVersion::NoStream(), events).ok());
  auto read = store_->ReadStream("case/D3/000001", 1, Direction::kForward, 10);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto out = codec_->ToJson((*read)[i]);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    Json got = Json::parse(*out);
    Json want = Json::parse(inputs[i]);
    if (!want.contains("occurredAt")) want["occurredAt"] = got["occurredAt"];  // the store's clock
    if (!want.contains("actor")) want["actor"] = got["actor"];
    EXPECT_EQ(DomainPart(got), DomainPart(want)) << got.dump(2);
    EXPECT_EQ(got["position"], i + 1);
    EXPECT_EQ(got["stream"], "case/D3/000001");
    // And the proposed event's JSON is what FromJson reads back.
    auto again = codec_->ToJson(events[i]);
    ASSERT_TRUE(again.ok());
    NewEvent reparsed = E(*again);
    EXPECT_EQ(*codec_->ToJson(reparsed), *again);
    EXPECT_EQ(reparsed.subjects, events[i].subjects);
    ASSERT_EQ(reparsed.personal.size(), events[i].personal.size());
    for (size_t k = 0; k < reparsed.personal.size(); ++k) {
      EXPECT_EQ(reparsed.personal[k].identifiers, events[i].personal[k].identifiers);
    }
  }
}

TEST_F(CodecTest, IdentifiersComeFromPersonalFields) {
  NewEvent e = Enquiry();
  ASSERT_EQ(e.personal.size(), 1u);
  std::vector<Identifier> want = {{"nhs", "9990000018"}, {"postcode", "ZZ3 1AB"},
                                  {"name", "Testina Quillfeather"}};
  EXPECT_EQ(e.personal[0].identifiers, want);
  ASSERT_TRUE(Record("case/D3/000001", {e}).ok());
  for (const auto& id : want) {
    auto found = store_->FindSubjects(id);
    ASSERT_TRUE(found.ok()) << id.kind;
    EXPECT_EQ(*found, std::vector<std::string>{"P-1"}) << id.kind;
  }
}

TEST_F(CodecTest, BadJsonIsNamed) {
  struct Case {
    const char* json;
    const char* says;
  } cases[] = {
      {R"({"type":"ContactRecordd"})", "unknown event type \"ContactRecordd\""},
      {R"({"type":"ContactRecorded","facts":{"chanel":"phone"}})", "facts.chanel: unknown field"},
      {R"({"type":"ContactRecorded","facts":{"channel":"fax"}})", "facts.channel: unknown value \"fax\""},
      {R"({"type":"ContactRecorded","facts":{"contactedOn":20180403}})", "facts.contactedOn: expected a string"},
      {R"({"type":"ContactRecorded","facts":{"topics":["repairs","roofing"]}})", "facts.topics[1]: unknown value"},
      {R"({"type":"PriorityAssessed","facts":{"otPriority":300}})", "facts.otPriority: out of range"},
      {R"({"type":"ReferralMade","facts":{"consentBasis":{"none":null,"given":{}}}})", "only one of none and given"},
      {R"({"type":"ReferralMade","facts":{"consentBasis":{"given":{"scope":["referOn"]}}}})", "facts.consentBasis.given.scope: unknown field"},
      {R"({"type":"ContactRecorded","personal":[{"subject":"P-1","details":{"nhs":"1"}}]})", "personal[0].details.nhs: unknown field"},
      {R"({"type":"ContactRecorded","personal":[{"details":{}}]})", "personal[0].subject"},
      {R"({"type":"ContactRecorded","schemaVersion":3})", "ContactRecorded schema version 3 is newer than this code knows (2)"},
      {R"({"type":"ContactRecorded","colour":"red"})", "colour: unknown field"},
      {R"({"type":"ContactRecorded","subjects":[{"id":"P-1","role":"cousin"}]})", "subjects[0].role"},
      {R"({"type":"ContactRecorded",)", "not JSON"},
      // Issue 17.3: the new event's codes are checked against their lists.
      {R"({"type":"OnwardReferralMade","facts":{"destination":"astrology"}})", "facts.destination: unknown value \"astrology\""},
      {R"({"type":"OnwardReferralMade","facts":{"destinaton":"fallsPrevention"}})", "facts.destinaton: unknown field"},
      {R"({"type":"OnwardReferralOutcomeRecorded","facts":{"outcome":"maybe"}})", "facts.outcome: unknown value \"maybe\""},
      // Issue 17.4: the consent a disclosure rests on is a scope of the list.
      {R"({"type":"PersonalDataDisclosed","facts":{"consentScope":"actForMe"}})", "facts.consentScope: unknown value \"actForMe\""},
      // Issue 17.2.
      {R"({"type":"SafeguardingConcernRaised","facts":{"referredTo":"neighbour"}})", "facts.referredTo: unknown value \"neighbour\""},
      {R"({"type":"SafeguardingConcernRaised","facts":{"personType":"elder"}})", "facts.personType: unknown value \"elder\""},
      {R"({"type":"SafeguardingOutcomeRecorded","facts":{"outcome":"sorted"}})", "facts.outcome: unknown value \"sorted\""},
      {R"({"type":"OnwardReferralMade","facts":{"organisationRef":"the Falls Team at St Example's"}})", "facts.organisationRef"},
      // Issue 17.7: allocation names a staff reference, never a name; the new visit mode is a code of its list.
      {R"({"type":"CaseAllocated","facts":{"workerRef":"Fictio Testperson"}})", "facts.workerRef"},
      {R"({"type":"CaseAllocated","facts":{"worker":"S-1"}})", "facts.worker: unknown field"},
      {R"({"type":"CaseDeallocated","facts":{"workerRef":"S-1","why":"left"}})", "facts.why: unknown field"},
      {R"({"type":"FirstVisitCompleted","facts":{"mode":"hospice"}})", "facts.mode: unknown value \"hospice\""},
      {R"({"type":"ConsultationHeld","facts":{"followUp":"2018-05-01"}})", "facts.followUp: unknown field"},
  };
  for (const auto& c : cases) {
    NewEvent e;
    Status s = codec_->FromJson(c.json, &e);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.json;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message() << "\n  for " << c.json;
  }
}

// Version 1 of ContactRecorded, written as the code of that time wrote it.
NewEvent ContactV1(const char* how, const char* source, bool is_new) {
  capnp::MallocMessageBuilder m;
  auto v1 = m.initRoot<cs::Facts>().initContactRecordedV1();
  v1.setDistrict("D5");
  v1.setReceivedOn("2018-04-09");
  v1.setHow(how);
  v1.setSource(source);
  v1.setIsNew(is_new);
  NewEvent e;
  e.id = EventId::Random();
  e.type = "ContactRecorded";
  e.schema_version = 1;
  e.subjects.push_back(SubjectRef{"P-5", SubjectRole::kClient});
  e.facts = Packed(m);
  return e;
}

TEST_F(CodecTest, UpcasterReadsVersionOneAsVersionTwo) {
  ASSERT_TRUE(store_->Append("case/D5/000009", ExpectedVersion::NoStream(),
                             {ContactV1("tel", "ot", true), ContactV1("interp", "hosp", false)})
                  .ok());
  auto read = store_->ReadStream("case/D5/000009", 1, Direction::kForward, 10);
  ASSERT_TRUE(read.ok());
  auto first = codec_->ToJson((*read)[0]);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Json j = Json::parse(*first);
  EXPECT_EQ(j["schemaVersion"], 2);
  EXPECT_EQ(j["upcastFrom"], 1);
  EXPECT_EQ(j["facts"], Json::parse(R"({"contactedOn":"2018-04-09","district":"D5","channel":"phone",
                                        "referrerType":"occupationalTherapist","purpose":"enquiry"})"));
  Json second = Json::parse(*codec_->ToJson((*read)[1]));
  EXPECT_EQ(second["facts"], Json::parse(R"({"contactedOn":"2018-04-09","channel":"interpreter",
                                             "referrerType":"hospital","purpose":"followUp"})"));
  // The fold sees the current version.
  CaseFolder folder(codec_.get());
  CaseState state;
  for (const auto& e : *read) ASSERT_TRUE(folder.Apply(e, &state).ok());
  EXPECT_EQ(state.district, "D5");
  EXPECT_EQ(state.channel, "phone");
  EXPECT_EQ(FormatDate(*state.enquiry_on), "2018-04-09");
  // An old writer's event given to the recorder is stored upcast.
  Status s = Record("case/D5/000010", {ContactV1("web", "self", true)});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto stored = store_->ReadStream("case/D5/000010", 1, Direction::kForward, 1);
  EXPECT_EQ((*stored)[0].schema_version, 2u);
  EXPECT_EQ(recorder_->Load("case/D5/000010")->channel, "web");
  // So is version-1 JSON.
  NewEvent from_json = E(R"({"type":"ContactRecorded","schemaVersion":1,"subjects":[{"id":"P-6"}],
      "facts":{"district":"D2","receivedOn":"2018-04-10","how":"post","source":"cab","isNew":true}})");
  EXPECT_EQ(from_json.schema_version, 1u);
  ASSERT_TRUE(Record("case/D2/000001", {from_json}).ok());
  EXPECT_EQ(recorder_->Load("case/D2/000001")->referrer_type, "citizensAdvice");
}

TEST_F(CodecTest, WithoutAnUpcasterOldVersionsAreNotSupported) {
  auto bare = Codec::Create(nullptr);
  ASSERT_TRUE(bare.ok());
  ASSERT_TRUE(store_->Append("case/D5/000009", ExpectedVersion::NoStream(), {ContactV1("tel", "ot", true)}).ok());
  auto read = store_->ReadStream("case/D5/000009", 1, Direction::kForward, 1);
  auto out = (*bare)->ToJson((*read)[0]);
  EXPECT_EQ(out.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(out.status().message().find("no upcaster for event type ContactRecorded from schema version 1"),
            std::string::npos)
      << out.status().ToString();
  UpcasterRegistry registry;
  EXPECT_TRUE(registry.Add("ContactRecorded", 1, [](RecordedEvent*) { return Status::OK(); }).ok());
  EXPECT_TRUE(registry.Add("ContactRecorded", 1, [](RecordedEvent*) { return Status::OK(); }).IsInvalidArgument());
  // An upcaster that does not advance the version is caught.
  auto lazy = Codec::Create(&registry);
  EXPECT_TRUE((*lazy)->ToJson((*read)[0]).status().IsCorruption());
}

TEST_F(CodecTest, ANewerStoredVersionIsAClearError) {
  NewEvent e = E(R"({"type":"CaseNoteAdded","subjects":[{"id":"P-1"}],"facts":{"writtenOn":"2018-05-01"}})");
  e.schema_version = 7;  // written by a future hearth
  ASSERT_TRUE(store_->Append("case/D1/000001", ExpectedVersion::NoStream(), {e}).ok());
  auto read = store_->ReadStream("case/D1/000001", 1, Direction::kForward, 1);
  auto out = codec_->ToJson((*read)[0]);
  EXPECT_EQ(out.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(out.status().message().find("CaseNoteAdded schema version 7 is newer than this code knows (1)"),
            std::string::npos)
      << out.status().ToString();
  CaseFolder folder(codec_.get());
  CaseState state;
  Status s = folder.Apply((*read)[0], &state);
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("version 7"), std::string::npos);
  // An unknown type read from the store, too.
  e.id = EventId::Random();
  e.type = "SomethingFromTheFuture";
  e.schema_version = 1;
  ASSERT_TRUE(store_->Append("case/D1/000002", ExpectedVersion::NoStream(), {e}).ok());
  read = store_->ReadStream("case/D1/000002", 1, Direction::kForward, 1);
  out = codec_->ToJson((*read)[0]);
  EXPECT_EQ(out.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(out.status().message().find("SomethingFromTheFuture"), std::string::npos);
}

TEST_F(CodecTest, ErasedSectionsAreMarked) {
  ASSERT_TRUE(Record("case/D3/000001", {Enquiry()}).ok());
  ASSERT_TRUE(store_->EraseSubject("P-1", Actor{"S-1", "controller", "test"}, "request").ok());
  auto read = store_->ReadStream("case/D3/000001", 1, Direction::kForward, 1);
  ASSERT_TRUE(read.ok());
  Json j = Json::parse(*codec_->ToJson((*read)[0]));
  EXPECT_EQ(j["personal"][0], Json::parse(R"({"subject":"P-1","role":"client","erased":true})"));
  EXPECT_EQ(j["facts"]["district"], "D3");
  EXPECT_EQ(j.dump().find("Testina"), std::string::npos);
}

// MainDate reads each event's main date (its struct's first field, when
// Text) by the field's place, found once in the tables: for every event
// type, with every top-level Text field of the struct filled and only the
// first holding the main date, it must find exactly that field, as the
// schema's reflection does.
TEST_F(CodecTest, TheMainDateIsTheFirstFieldOfEveryEventType) {
  const CodecTables& tables = codec_->tables();
  size_t dated = 0;
  for (const TypeEntry& type : tables.types) {
    SCOPED_TRACE(type.name);
    EXPECT_GE(type.member_pointer, 0) << "every event struct is a pointer of Facts";
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<capnp::DynamicStruct>(tables.facts);
    auto member = root.init(type.field).as<capnp::DynamicStruct>();
    auto fields = type.schema.getFields();
    bool first_is_text = false;
    for (uint32_t i = 0; i < fields.size(); ++i) {
      auto f = fields[i];
      if (!f.getProto().isSlot() || !f.getType().isText() ||
          f.getProto().getDiscriminantValue() != capnp::schema::Field::NO_DISCRIMINANT) {
        continue;
      }
      member.set(f, capnp::Text::Reader(i == 0 ? "2018-05-10" : "1999-12-31"));
      if (i == 0) first_is_text = true;
    }
    auto facts = message.getRoot<cs::Facts>().asReader();
    ASSERT_EQ(static_cast<uint16_t>(facts.which()), type.discriminant);
    auto main = MainDate(type, facts);
    if (first_is_text) {
      ++dated;
      ASSERT_TRUE(main.has_value());
      EXPECT_EQ(FormatDate(*main), "2018-05-10");
    } else {
      EXPECT_FALSE(main.has_value());
    }
    // An event whose member is absent (a message of another shape) has none.
    capnp::MallocMessageBuilder empty;
    empty.initRoot<cs::Facts>();
    EXPECT_FALSE(MainDate(type, empty.getRoot<cs::Facts>().asReader()).has_value());
  }
  EXPECT_GT(dated, tables.types.size() / 2) << "most event types start with their date";
}

}  // namespace
}  // namespace hearth::domain::testing
