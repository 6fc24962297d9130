// Private to store/rights: JSON helpers shared by the request fold, the
// pack, retention and erasure.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "hearth/rights.h"

namespace hearth::rights::internal {

// A string member, or "" when absent or not a string.
std::string Str(const nlohmann::json& j, const char* key);
// facts.notePosition of a ThirdPartyDisclosureDecided (a whole number, or the
// decimal string the JSON codec writes for 64-bit integers); 0 when absent.
uint64_t NotePosition(const nlohmann::json& facts);
// A date member, or nullopt when absent or malformed.
std::optional<Date> DateField(const nlohmann::json& j, const char* key);
// An event's facts in the codec's JSON form (upcast).
Result<nlohmann::json> FactsOf(const domain::Codec& codec, const RecordedEvent& event);
// A proposed event as the codec reads stored ones (for validation).
RecordedEvent AsRecorded(const NewEvent& event);
// An event built through the codec's JSON form.
Result<NewEvent> MakeEvent(const domain::Codec& codec, const std::string& type,
                           const nlohmann::json& facts, const std::vector<SubjectRef>& subjects,
                           const Actor& actor);

// The retention of `subject` from the states of their cases: an open case
// under a closure rule, else the latest end. NotFound when they are client of
// none of them.
Result<RetentionItem> RetentionOfCases(const nlohmann::json& record,
                                       const std::vector<domain::CaseState>& cases,
                                       const std::string& subject, Date as_of);

// The default record of processing (generated from default_processing.json).
extern const std::string_view kDefaultProcessing;

}  // namespace hearth::rights::internal
