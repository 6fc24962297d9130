// Who gives Store::RestrictedSubjects (api/include/hearth/store.h) its answer.
//
// The answer is a fold of the restriction stream's events, which only the
// domain can decode, and the domain is a layer above the log
// (docs/architecture.md). So the log does not call it: the layer that holds
// the built-in codec (json/, event_json.cc) hands the log its reader when the
// library loads, and Store::RestrictedSubjects calls that reader.
#pragma once

#include <set>
#include <string>

#include "hearth/status.h"

namespace hearth {
class Store;
}  // namespace hearth

namespace hearth::log {

using RestrictedSubjectsReader = Result<std::set<std::string>> (*)(Store& store);

// Sets the reader every Store's RestrictedSubjects calls (the last one set).
void SetRestrictedSubjectsReader(RestrictedSubjectsReader reader);

}  // namespace hearth::log
