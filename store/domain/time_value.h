// Private to the hearth library (defined in domain/time_value.cc): the one reading of a JSON time field, shared
// by the generic Event JSON (store/json/event_json.cc) and the domain codec
// (store/domain/codec.cc), so the two forms never disagree on a time.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth::event_json {

// An RFC 3339 string or a "YYYY-MM-DD" date (ParseTime in
// hearth/event_json.h), or microseconds since 1970 as a non-negative integer.
// Null leaves *out unchanged. InvalidArgument "field '<path>' ..." otherwise.
Status TimeFromJsonValue(const nlohmann::ordered_json& value, const std::string& path,
                         Timestamp* out);

}  // namespace hearth::event_json
