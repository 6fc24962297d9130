// JSON text for the command line's output. (Events are converted by the one
// Event JSON codec, api/include/hearth/event_json.h.)
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace hearth::cli {

// Compact (or indented) JSON text; invalid UTF-8 in strings is replaced,
// never thrown on.
inline std::string Dump(const nlohmann::ordered_json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}
inline std::string Dump(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hearth::cli
