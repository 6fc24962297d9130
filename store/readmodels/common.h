// Private to store/readmodels: helpers the read models share.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "hearth/domain.h"
#include "hearth/store.h"

namespace hearth::readmodels {

// JSON keys keep the order they were set in, so documents read top to bottom.
using OJson = nlohmann::ordered_json;

// RFC 3339 UTC with microseconds: "2026-11-23T10:00:00.123456Z".
std::string FormatTimestamp(Timestamp t);
// Lowercase hex of a hash.
std::string HexOf(const Hash& hash);

// "case/D3/1" for "case/D3/1" or "D3/1"; InvalidArgument for a malformed id.
Status NormaliseCaseId(const std::string& in, std::string* out);

// Every field of a case state (dates as YYYY-MM-DD; absent ones left out).
OJson CaseStateJson(const domain::CaseState& state);
// A few lines summing the state up, each indented by `indent`.
std::string CaseStateText(const domain::CaseState& state, const std::string& indent);

}  // namespace hearth::readmodels
