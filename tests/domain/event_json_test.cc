// Event JSON (api/include/hearth/event_json.h): the one codec every front end
// uses. Domain events round-trip through it, and both forms (domain and
// generic) read time fields the same way.
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "county.h"
#include "domain_test_util.h"
#include "hearth/event_json.h"

namespace hearth::domain::testing {
namespace {

using Json = nlohmann::ordered_json;

class EventJsonTest : public DomainTest {
 protected:
  // The JSON of `e` as read back, parsed again, stored as a RecordedEvent
  // with the same envelope, and printed again.
  std::string RoundTrip(const RecordedEvent& e, std::string* printed) {
    *printed = event_json::Format(e, codec_.get());
    Json j = Json::parse(*printed);
    // What a writer sends: the envelope fields NewEvent has.
    for (const char* k : {"position", "stream", "streamVersion", "recordedAt", "upcastFrom"}) {
      j.erase(k);
    }
    NewEvent parsed;
    Status s = event_json::Parse(j.dump(), codec_.get(), &parsed);
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << *printed;
    RecordedEvent again;
    again.position = e.position;
    again.stream = e.stream;
    again.stream_version = e.stream_version;
    again.recorded_at = e.recorded_at;
    again.id = parsed.id;
    again.type = parsed.type;
    again.schema_version = parsed.schema_version;
    again.occurred_at = parsed.occurred_at;
    again.actor = parsed.actor;
    again.correlation_id = parsed.correlation_id;
    again.causation_id = parsed.causation_id;
    again.subjects = parsed.subjects;
    again.facts = parsed.facts;
    for (const PersonalSection& p : parsed.personal) again.personal.push_back(p);
    return event_json::Format(again, codec_.get());
  }
};

// Every domain event type, from the demo county where it has one and from
// its minimal JSON otherwise: JSON -> event -> JSON gives the same JSON, and
// the facts come out as JSON (never as base64).
TEST_F(EventJsonTest, EveryDomainEventTypeRoundTripsThroughEventJson) {
  demo::CountyOptions options;
  options.seed = 7;
  options.limit_cases = 40;
  options.threads = 1;
  CaseRecorder recorder(store_.get(), codec_.get(), RecorderOptions{});
  auto report = demo::GenerateCounty(&recorder, Calendar::EnglandAndWales(), options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();

  std::map<std::string, RecordedEvent> one_of_each;
  for (uint64_t from = 1;;) {
    auto page = store_->ReadAll(from, 1000);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (page->empty()) break;
    for (RecordedEvent& e : *page) one_of_each.emplace(e.type, e);
    from = page->back().position + 1;
  }
  size_t from_demo = 0;
  for (const EventTypeInfo& type : codec_->types()) {
    RecordedEvent e;
    if (auto it = one_of_each.find(type.name); it != one_of_each.end()) {
      e = it->second;
      ++from_demo;
    } else {
      NewEvent n;
      ASSERT_TRUE(event_json::Parse(R"({"type":")" + type.name + R"("})", codec_.get(), &n).ok())
          << type.name;
      e.position = 1;
      e.stream = "case/D1/x";
      e.stream_version = 1;
      e.id = n.id;
      e.type = n.type;
      e.schema_version = n.schema_version;
      e.recorded_at = e.occurred_at = 1772357400000000;
      e.facts = n.facts;
    }
    std::string printed;
    std::string again = RoundTrip(e, &printed);
    EXPECT_EQ(again, printed) << type.name;
    Json j = Json::parse(printed);
    EXPECT_TRUE(j["facts"].is_object()) << type.name << ": " << printed;
    EXPECT_FALSE(j.contains("factsBase64")) << type.name;
  }
  // The demo covers the case pathway: most types come with real values.
  EXPECT_GE(from_demo, 25u) << "types the demo wrote: " << one_of_each.size();
}

// The generic form (a type the domain does not define) and the domain form
// read `occurredAt` through one function: the same text or integer gives the
// same time, and the same refusal. (Before: the command line took integers and
// refused dates, the domain codec took dates and refused integers, and the
// plugin host gave no reason for a negative integer.)
TEST_F(EventJsonTest, TimeFieldsReadTheSameInEveryForm) {
  auto parse = [&](const std::string& type, const std::string& when, Timestamp* out) {
    NewEvent e;
    Status s = event_json::Parse(R"({"type":")" + type + R"(","occurredAt":)" + when + "}",
                                 codec_.get(), &e);
    *out = e.occurred_at;
    return s;
  };
  const std::pair<std::string, Timestamp> kAccepted[] = {
      {R"("2026-03-01T09:30:00Z")", 1772357400000000},
      {R"("2026-03-01t10:30:00.5+01:00")", 1772357400500000},
      {R"("2026-03-01 09:30:00.1234567z")", 1772357400123456},
      {R"("2026-03-01")", 1772323200000000},
      {"1772357400000000", 1772357400000000},
  };
  for (const auto& [when, expected] : kAccepted) {
    Timestamp generic = -1, domain = -1;
    Status g = parse("NoteAdded", when, &generic);
    Status d = parse("CaseNoteAdded", when, &domain);
    EXPECT_TRUE(g.ok()) << when << ": " << g.ToString();
    EXPECT_TRUE(d.ok()) << when << ": " << d.ToString();
    EXPECT_EQ(generic, expected) << when;
    EXPECT_EQ(domain, expected) << when;
  }
  const std::pair<std::string, std::string> kRefused[] = {
      {"-1", "field 'occurredAt' is before 1970"},
      {"9223372036854775808", "field 'occurredAt' is out of range"},
      {R"("yesterday")", "field 'occurredAt' must be an RFC 3339 time"},
      {R"("2026-02-30T00:00:00Z")", "field 'occurredAt' must be an RFC 3339 time"},
      {R"("1969-12-31T23:59:59Z")", "field 'occurredAt' must be an RFC 3339 time"},
      {"1.5", "field 'occurredAt' must be an RFC 3339 time"},
  };
  for (const auto& [when, message] : kRefused) {
    Timestamp t;
    Status g = parse("NoteAdded", when, &t);
    Status d = parse("CaseNoteAdded", when, &t);
    EXPECT_TRUE(g.IsInvalidArgument()) << when;
    EXPECT_EQ(g.message(), d.message()) << when;
    EXPECT_EQ(g.message().rfind(message, 0), 0u) << when << ": " << g.message();
  }
  // And one printing: microseconds, UTC.
  EXPECT_EQ(event_json::FormatTime(1772357400500000), "2026-03-01T09:30:00.500000Z");
}

// Facts of a domain type are checked against the schema by name; the generic
// form stays open for types the domain does not define.
// Found by the event_json fuzz target: a number too large for a double threw
// nlohmann's out_of_range past the codec's boundary.
TEST_F(EventJsonTest, ANumberTooLargeForAnyFieldIsMalformedJsonNotACrash) {
  NewEvent e;
  Status s = event_json::Parse("8025457900802545e509007", codec_.get(), &e, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("malformed JSON"), std::string::npos) << s.ToString();
  s = event_json::Parse(R"({"type":"Note","facts":{"n":1e999999}})", codec_.get(), &e, nullptr);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

TEST_F(EventJsonTest, DomainFactsAreCheckedAgainstTheSchemaByName) {
  NewEvent e;
  Status s = event_json::Parse(
      R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-04-03","note":"called about mum"}})",
      codec_.get(), &e);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("facts.note"), std::string::npos) << s.message();
  EXPECT_TRUE(e.facts.empty());
  ASSERT_TRUE(event_json::Parse(R"({"type":"NoteAdded","facts":{"anything":[1,2]}})",
                                codec_.get(), &e).ok());
  EXPECT_EQ(e.facts, R"({"anything":[1,2]})");
}

// A stored domain event whose facts do not decode is still printed, with its
// bytes and the cause, so a read never stops at it.
TEST_F(EventJsonTest, UndecodableDomainFactsArePrintedWithTheCause) {
  RecordedEvent e;
  e.position = 9;
  e.stream = "case/D1/1";
  e.stream_version = 1;
  e.type = "ContactRecorded";
  e.schema_version = 2;
  e.facts = R"({"note":"free text"})";
  Json j = Json::parse(event_json::Format(e, codec_.get()));
  EXPECT_EQ(j["position"], 9);
  EXPECT_TRUE(j.contains("factsError")) << j.dump();
  EXPECT_NE(j["factsError"].get<std::string>().find("position 9"), std::string::npos) << j.dump();
}

}  // namespace
}  // namespace hearth::domain::testing
