// Private to store/rights: the typed readers the request fold, the pack,
// retention and erasure read events through (the generated Cap'n Proto
// readers of api/schema/domain.capnp, as store/domain and store/exports do:
// a misspelt field is a compile error, not an empty string), and the helpers
// that build events through the codec's JSON form.
#pragma once

#include <capnp/message.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/tables.h"
#include "hearth/rights.h"

namespace hearth::rights::internal {

namespace cs = domain::cs;

// A Text field as a string.
std::string Text(capnp::Text::Reader text);
// A Text field holding a date; nullopt when empty or malformed.
std::optional<Date> DateOf(capnp::Text::Reader text);
// A list of Text as strings.
std::vector<std::string> Texts(capnp::List<capnp::Text>::Reader list);

// An enumerant's name, or "" for the default (the first enumerant: the
// codec's JSON form leaves it out, and the pack has always shown it so).
template <typename E>
std::string Code(E value) {
  if (static_cast<uint16_t>(value) == 0) return std::string();
  return std::string(domain::EnumName(value));
}

// Reads events' facts and personal sections as typed readers. A reader stays
// valid until the next call of the same kind. One per thread.
class EventReader {
 public:
  explicit EventReader(const domain::Codec& codec);

  // The facts at their current version (upcast). NotSupported for a type
  // the codec does not know; Corruption naming the position otherwise.
  Status Facts(const RecordedEvent& event, cs::Facts::Reader* out);
  // One personal section (not erased). Corruption naming its subject.
  Status Personal(const PersonalSection& section, cs::Personal::Reader* out);
  // A reader's codec JSON form (as Codec::ToJson writes the same struct).
  Result<nlohmann::json> JsonOf(capnp::DynamicStruct::Reader reader) const;

  const domain::CodecTables& tables() const { return *tables_; }

 private:
  const domain::CodecTables* tables_;
  domain::FactsDecoder facts_;
  domain::PackedDecoder personal_;
};

// The record of processing in force (the last ProcessingRecordSet of
// config/processing), owned: its reader lives as long as this.
class RecordOfProcessing {
 public:
  cs::ProcessingRecordSet::Reader get() const {
    return message_->getRoot<cs::ProcessingRecordSet>().asReader();
  }
  // The retention rule of a record class, if the record has one.
  std::optional<cs::RetentionRule::Reader> RuleFor(const std::string& record_class) const;

 private:
  friend Result<RecordOfProcessing> ReadRecordOfProcessing(Store& store, const domain::Codec& codec);
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
};

// NotFound (naming the commands that set one) when none was ever set.
Result<RecordOfProcessing> ReadRecordOfProcessing(Store& store, const domain::Codec& codec);

// An event's facts in the codec's JSON form (upcast), for output only.
Result<nlohmann::json> FactsJsonOf(const domain::Codec& codec, const RecordedEvent& event);
// A proposed event as the codec reads stored ones (for validation).
RecordedEvent AsRecorded(const NewEvent& event);
// An event of `type` whose facts `fill` writes through the generated builder
// (the member of `type`); the codec's checks of dates and codes apply.
Result<NewEvent> MakeEvent(const domain::Codec& codec, const std::string& type,
                           const std::function<void(cs::Facts::Builder)>& fill,
                           const std::vector<SubjectRef>& subjects, const Actor& actor);
// An event built from facts in the codec's JSON form (which refuses unknown
// keys and codes outside their lists, naming the field): for JSON a user gave.
Result<NewEvent> MakeEventFromJson(const domain::Codec& codec, const std::string& type,
                                   const nlohmann::json& facts, const std::vector<SubjectRef>& subjects,
                                   const Actor& actor);

// The retention of `subject` from the states of their cases: an open case
// under a closure rule, else the latest end. NotFound when they are client of
// none of them.
Result<RetentionItem> RetentionOfCases(const RecordOfProcessing& record,
                                       const std::vector<domain::CaseState>& cases,
                                       const std::string& subject, Date as_of);

// The default record of processing (generated from default_processing.json).
extern const std::string_view kDefaultProcessing;

}  // namespace hearth::rights::internal
