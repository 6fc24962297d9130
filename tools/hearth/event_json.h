// JSON forms of the event envelope for the command line (docs/cli.md).
//
// Field names follow api/schema/envelope.capnp (NewEvent, RecordedEvent) in
// camelCase. Ids are UUID strings, times RFC 3339 (UTC on output, with
// microseconds). Facts and personal data are any JSON value on input, stored
// as that value's compact JSON text; on output they are printed back as JSON
// when the stored bytes parse as JSON, otherwise as base64 under
// "factsBase64" / "dataBase64".
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth::cli {

// One NewEvent from a JSON object. Unknown fields are refused (a typo must not
// silently drop data). The id is generated when absent; then *generated_id is
// set. InvalidArgument naming the field on any error.
Status NewEventFromJson(const nlohmann::ordered_json& j, NewEvent* out, bool* generated_id);

// A RecordedEvent as one JSON object, fields in schema order.
nlohmann::ordered_json RecordedEventToJson(const RecordedEvent& e);

nlohmann::ordered_json AppendResultToJson(const AppendResult& r);

// RFC 3339 with a "Z" or numeric offset; fractions beyond microseconds are
// truncated. False when malformed or before 1970.
bool ParseTime(const std::string& text, Timestamp* out);
// "2026-03-01T09:30:00.000000Z".
std::string FormatTime(Timestamp micros);

std::string Base64(const std::string& bytes);
bool FromBase64(const std::string& text, std::string* out);

// Compact JSON text; invalid UTF-8 in strings is replaced, never thrown on.
std::string Dump(const nlohmann::ordered_json& j, int indent = -1);
std::string Dump(const nlohmann::json& j, int indent = -1);

}  // namespace hearth::cli
