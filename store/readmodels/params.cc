#include "readmodels/params.h"

namespace hearth::readmodels::params {

Result<Json> Parse(const std::string& model, const std::string& text,
                   std::initializer_list<const char*> known) {
  Json params = text.empty() ? Json::object() : Json::parse(text, nullptr, false);
  if (params.is_discarded() || !params.is_object()) {
    return Status::InvalidArgument(model + ": params must be a JSON object");
  }
  for (const auto& [key, value] : params.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidArgument(model + ": unknown parameter \"" + key + "\" (known: " + list + ")");
    }
  }
  return params;
}

Status GetDate(const std::string& model, const Json& params, const char* key,
               std::optional<domain::Date>* out) {
  if (!params.contains(key)) return Status::OK();
  domain::Date d;
  if (!params[key].is_string() || !domain::ParseDate(params[key].get<std::string>(), &d)) {
    return Status::InvalidArgument(model + ": " + key + " must be a date YYYY-MM-DD");
  }
  *out = d;
  return Status::OK();
}

Status GetInt(const std::string& model, const Json& params, const char* key, int lo, int hi, int* out) {
  if (!params.contains(key)) return Status::OK();
  if (!params[key].is_number_integer() || params[key].get<int64_t>() < lo || params[key].get<int64_t>() > hi) {
    return Status::InvalidArgument(model + ": " + key + " must be an integer from " + std::to_string(lo) +
                                   " to " + std::to_string(hi));
  }
  *out = int(params[key].get<int64_t>());
  return Status::OK();
}

Status GetString(const std::string& model, const Json& params, const char* key, std::string* out) {
  if (!params.contains(key)) return Status::OK();
  if (!params[key].is_string()) return Status::InvalidArgument(model + ": " + key + " must be a string");
  *out = params[key].get<std::string>();
  return Status::OK();
}

Status GetBool(const std::string& model, const Json& params, const char* key, bool* out) {
  if (!params.contains(key)) return Status::OK();
  if (!params[key].is_boolean()) return Status::InvalidArgument(model + ": " + key + " must be true or false");
  *out = params[key].get<bool>();
  return Status::OK();
}

Status GetPosition(const std::string& model, const Json& params, const char* key, uint64_t* out) {
  if (!params.contains(key)) return Status::OK();
  if (!params[key].is_number_unsigned() || params[key].get<uint64_t>() == 0) {
    return Status::InvalidArgument(model + ": " + key + " must be a log position >= 1");
  }
  *out = params[key].get<uint64_t>();
  return Status::OK();
}

Status RequireString(const std::string& model, const Json& params, const char* key, std::string* out) {
  Status s = GetString(model, params, key, out);
  if (!s.ok()) return s;
  if (out->empty()) return Status::InvalidArgument(model + ": " + key + " is required");
  return Status::OK();
}

}  // namespace hearth::readmodels::params
