// hearth: Event JSON, the one JSON form of events every front end speaks
// (`hearth append` / `hearth read`, the in-process plugin ABI, tools).
//
// Field names follow api/schema/envelope.capnp (NewEvent, RecordedEvent) in
// camelCase: ids are UUID strings, times RFC 3339 (UTC with microseconds on
// output), subject roles by name.
//
//  - An event of a domain type (api/schema/domain.capnp, docs/domain.md) is in
//    the domain codec's form, both ways: `facts` is the type's struct as a JSON
//    object, checked field by field against the schema and stored as a packed
//    Cap'n Proto Facts message; personal sections are {subject, role,
//    details}. An unknown key or enumerant is refused by name.
//  - Any other type is in the generic form: `facts` and personal `data` are any
//    JSON value, stored as that value's compact JSON text; stored bytes that
//    are not JSON are printed as base64 under `factsBase64` / `dataBase64`
//    (and read back from there on input).
//
// Times (`occurredAt`) are read the same way in both forms (ParseTimeValue
// below): an RFC 3339 string, a "YYYY-MM-DD" date (midnight UTC), or
// microseconds since 1970 as an integer.
//
// Every function takes the domain codec to use; null means the builtin one
// (BuiltinCodec()). Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hearth/domain.h"
#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth::event_json {

// The domain codec with the builtin upcasters, made once per process and
// never destroyed. Corruption if the built-in schema cannot be loaded.
Result<const domain::Codec*> BuiltinCodec();

// One NewEvent from one JSON object. A missing id is generated (then
// *generated_id, when given, is set). InvalidArgument naming the field on any
// error; nothing of the input is kept.
Status Parse(std::string_view json, const domain::Codec* codec, NewEvent* out,
             bool* generated_id = nullptr);

// NewEvents from JSON lines: one object per line, blank lines skipped.
// InvalidArgument "line N: ..." (from 1) naming the field; "no events" when
// there is none.
Status ParseLines(std::string_view text, const domain::Codec* codec, std::vector<NewEvent>* out);

// A stored event as one line of JSON. An event of a domain type whose facts
// cannot be decoded (or a newer schema version) is printed in the generic
// form with its bytes as base64 and "factsError" naming the cause, so that
// reading never stops at it.
std::string Format(const RecordedEvent& event, const domain::Codec* codec);
// A JSON array of Format.
std::string FormatList(const std::vector<RecordedEvent>& events, const domain::Codec* codec);

// {"firstPosition", "lastPosition", "firstVersion", "lastVersion", "duplicate"}.
std::string FormatAppendResult(const AppendResult& result);

// RFC 3339 with "T" (or "t" or a space), a "Z" or numeric offset; fractions
// beyond microseconds are truncated; or a date "YYYY-MM-DD" (midnight UTC).
// False when malformed or before 1970.
bool ParseTime(std::string_view text, Timestamp* out);
// "2026-03-01T09:30:00.000000Z".
std::string FormatTime(Timestamp micros);

std::string ToBase64(std::string_view bytes);
bool FromBase64(std::string_view text, std::string* out);

}  // namespace hearth::event_json
