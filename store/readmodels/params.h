// Parameter parsing shared by the read models (timeline, worklist, sar,
// disclosures, kpi, cases): a query's params are a JSON object whose keys are
// checked against the model's list, and every refusal names the model and
// the field.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>

#include "hearth/domain.h"
#include "hearth/status.h"

namespace hearth::readmodels::params {

using Json = nlohmann::json;

// The params object; InvalidArgument for anything but a JSON object or for a
// key not in `known` (the message lists the known ones). Empty text is {}.
Result<Json> Parse(const std::string& model, const std::string& text,
                   std::initializer_list<const char*> known);

// Optional fields: left unchanged when absent; InvalidArgument naming the
// field when present with the wrong form.
Status GetDate(const std::string& model, const Json& params, const char* key,
               std::optional<domain::Date>* out);
Status GetInt(const std::string& model, const Json& params, const char* key, int lo, int hi, int* out);
Status GetString(const std::string& model, const Json& params, const char* key, std::string* out);
Status GetBool(const std::string& model, const Json& params, const char* key, bool* out);
// A log position >= 1.
Status GetPosition(const std::string& model, const Json& params, const char* key, uint64_t* out);

// As GetString, and InvalidArgument "<model>: <key> is required" when absent
// or empty.
Status RequireString(const std::string& model, const Json& params, const char* key, std::string* out);

}  // namespace hearth::readmodels::params
