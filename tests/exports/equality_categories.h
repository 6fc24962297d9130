// docs/exports.md, "Target groups and equality", written from the docs for
// the tests (never from the export code): the figures broken down (the
// total, and the base of its breakdowns' ids) and each breakdown's
// categories. "<base>.<field>.<category>" over the categories adds up to
// the total in every area.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hearth::exports {

inline const std::vector<std::pair<std::string, std::string>> kEqualityTotals = {
    {"enquiries.total", "enquiries"},
    {"dfg.approved.total", "dfg.approved"},
    {"services.minorAdaptationHouseholds", "services.minorAdaptations"}};
inline const std::vector<std::pair<std::string, std::vector<std::string>>> kEqualityFields = {
    {"ageBand", {"0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+", "notRecorded"}},
    {"gender", {"female", "male", "other", "declined", "notRecorded"}},
    {"disability", {"limitedALot", "limitedALittle", "notLimited", "declined", "notRecorded"}},
    {"ethnicGroup", {"asian", "black", "mixed", "white", "other", "declined", "notRecorded"}},
    {"mainLanguage", {"english", "welsh", "bsl", "polish", "romanian", "punjabi", "urdu", "portuguese", "spanish",
                      "arabic", "bengali", "gujarati", "other", "declined", "notRecorded"}},
    {"interpreterNeeded", {"yes", "no", "declined", "notRecorded"}},
    {"unpaidCarer", {"yes", "no", "declined", "notRecorded"}},
    {"mentalHealth", {"yes", "no", "declined", "notRecorded"}},
    {"learningDisability", {"yes", "no", "declined", "notRecorded"}}};

}  // namespace hearth::exports
