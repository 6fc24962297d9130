// Private to store/readmodels: plain English for events and codes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hearth/domain.h"

namespace hearth::readmodels {

// A code in words: "occupationalTherapist" -> "occupational therapist",
// "gp" -> "GP", "mandatoryDfg" -> "mandatory DFG".
std::string Words(std::string_view code);
// "an occupational therapist", "a GP", "Age UK": a noun with its article.
std::string Article(const std::string& noun);
// Pence as pounds: 1234567 -> "£12,345.67".
std::string Money(uint64_t pence);

// One line for an event of `type` with `facts` in the codec's JSON form.
std::string DescribeFacts(const std::string& type, const nlohmann::json& facts);
// The event's own date (the date field every event type starts with:
// contactedOn, completedOn ...), or nullopt for a type this code does not know
// or a date that is absent.
std::optional<domain::Date> BusinessDateOf(const std::string& type, const nlohmann::json& facts);

}  // namespace hearth::readmodels
