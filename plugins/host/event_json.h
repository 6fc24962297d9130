// The JSON forms the plugin ABI speaks (docs/plugin-abi.md, "Event JSON").
//
// Field names follow api/schema/envelope.capnp in camelCase, as the
// `hearth append` / `hearth read` JSON does: ids are UUID strings, times
// RFC 3339 UTC with microseconds, subject roles by name. Facts and personal
// data are any JSON value on input, stored as that value's compact JSON text;
// bytes that are not JSON (a domain codec's packed Cap'n Proto) travel as
// base64 under "factsBase64" / "dataBase64".
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "hearth/domain.h"
#include "hearth/event.h"
#include "hearth/session.h"
#include "hearth/status.h"

namespace hearth::plugins {

using Json = nlohmann::ordered_json;

// One NewEvent from a JSON object. Unknown fields are refused (a typo must not
// silently drop data); a missing id is generated. InvalidArgument naming the
// field on any error.
Status NewEventFromJson(const Json& j, NewEvent* out);

// NewEvents from JSON lines: one object per line, blank lines ignored. With a
// codec, an event of a domain type (api/schema/domain.capnp) is read in the
// codec's JSON form (facts and personal details as JSON objects, encoded as
// packed Cap'n Proto); any other type in the generic form above.
// InvalidArgument naming the line (from 1) and the field.
Status NewEventsFromJsonLines(std::string_view text, const domain::Codec* codec,
                              std::vector<NewEvent>* out);

// A RecordedEvent as one JSON object, fields in schema order.
Json RecordedEventToJson(const RecordedEvent& e);
// As JSON text: with a codec, an event of a domain type in the codec's form
// (facts decoded, upcast to the current version); otherwise, or when the
// codec cannot decode it, in the generic form.
std::string RecordedEventText(const RecordedEvent& e, const domain::Codec* codec);
// A JSON array of RecordedEventText.
std::string RecordedEventsText(const std::vector<RecordedEvent>& events,
                               const domain::Codec* codec);

Json AppendResultToJson(const AppendResult& r);

// {"plugin", "user", "role", "scopes": {...}} (scope names as in
// api/schema/protocol.capnp Scopes).
Json PrincipalToJson(const Principal& principal, const Scopes& scopes);

// RFC 3339 with "Z" or a numeric offset; fractions beyond microseconds are
// truncated. False when malformed or before 1970.
bool ParseTime(std::string_view text, Timestamp* out);
// "2026-03-01T09:30:00.000000Z".
std::string FormatTime(Timestamp micros);

std::string ToBase64(std::string_view bytes);
bool FromBase64(std::string_view text, std::string* out);

// Compact JSON text; invalid UTF-8 in strings is replaced, never thrown on.
std::string Dump(const Json& j);

}  // namespace hearth::plugins
