// Private to store/rights: the subject-access pack as a value (what it holds,
// docs/sar-format.md), built from the log by CollectPack, and its two
// renderings, PackJson and PackHtml. Rights::BuildPack is the three in turn,
// as the exports separate a return (BuildKpiReturn) from its writers.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hearth/rights.h"

namespace hearth::rights::internal {

// One personal section of an event, as the person asking may see it.
struct PackSection {
  enum class Shown {
    kWithheld,  // a third party's section no reviewer released
    kErased,    // crypto-shredded
    kDetails,   // the section's details
  };
  // What a reviewer decided about it (kDetails only).
  enum class Review {
    kNone,
    kHeld,                // the person's note mentions someone else: text held for a reviewer
    kReleased,            // ... released whole (basis thirdPartyConsented or reasonableWithoutConsent)
    kRedacted,            // ... released with the reviewer's redacted text
    kWithheld,            // ... text withheld after review
    kThirdPartyReleased,  // a third party's section released by a decision about them
  };
  Shown shown = Shown::kDetails;
  Review review = Review::kNone;
  std::string role;   // SubjectRoleName of the section's subject
  std::string whose;  // yours, staff or thirdParty (not for kWithheld)
  std::string basis;  // the decision's basis (kReleased, kRedacted, kThirdPartyReleased)
  std::string reason; // the decision's reasonCode (every Review but kNone and kHeld)
  nlohmann::json details = nlohmann::json::object();  // codec JSON form; freeText removed or redacted as reviewed
};

struct PackEvent {
  uint64_t position = 0;
  std::string date;         // business date
  std::string recorded_on;
  std::string type;
  std::string description;  // plain English
  std::string record;       // the stream
  std::string your_role;
  std::string staff_ref;
  std::string staff_role;
  nlohmann::json facts = nlohmann::json::object();  // codec JSON form
  std::vector<PackSection> personal;
};

// An entry of the pack's `withheld` list.
struct PackWithheld {
  uint64_t position = 0;
  std::string date;
  std::string role;
  std::string reason;  // empty for a third party's section
};

struct PackHeld {
  uint64_t position = 0;
  std::string date;
  std::string type;
};

struct PackRectification {
  std::string date;
  std::vector<std::string> fields;
  bool at_your_request = false;
};

// A recipient of the person's data (Art. 15(1)(c)).
struct PackDisclosure {
  bool onward_referral = false;  // OnwardReferralMade, else PersonalDataDisclosed
  std::string date;
  std::string recipient_type;    // disclosure
  std::string recipient_ref;
  std::string purpose;
  std::string lawful_basis;      // disclosure
  std::vector<std::string> categories;  // disclosure
  std::string destination;       // onward referral
};

struct PackSource {
  std::string date;
  std::string event;
  std::string from;
  std::string channel;
  std::string organisation;
};

struct PackRead {
  std::string date;
  std::string action;
  std::string by;
  std::string role;
  std::string through;
  std::string why;
  std::string recipient;
};

struct PackRequest {
  std::string ref;
  std::string kind;
  std::string status;
  std::optional<Date> received_on;
  std::optional<Date> closed_on;
  std::string outcome;
};

// A purpose of the record of processing, and whether it applies to the person.
struct PackPurpose {
  nlohmann::json record;  // the purpose in the codec's JSON form
  std::string description;
  std::string lawful_basis;
  std::string basis_detail;
  std::string special_category_condition;
  std::vector<std::string> categories;
  std::vector<std::string> recipients;
  bool applies = true;
};

struct PackRule {
  nlohmann::json record;  // the retention rule in the codec's JSON form
  std::string name;
  std::string record_class;
  std::string source;
};

// A document about the person (DocumentAttached whose subjectRef is them),
// a file of the pack: its body opened and checked against the SHA-256 its
// event records.
struct PackDocument {
  uint64_t position = 0;
  std::string date;
  std::string record;      // the case
  std::string kind;
  std::string media_type;
  std::string file_name;   // as recorded (personal)
  std::string sha256;
  uint32_t size_bytes = 0;
  std::string path;        // within the pack: documents/<position>-<file name>
  std::string bytes;
};

struct PackContent {
  std::string subject;
  Date generated_on{};
  bool erased = false;
  std::string erased_on;  // erased only: nothing else is filled in

  bool restricted = false;
  std::string controller;
  std::string dpo;
  nlohmann::json current_details = nlohmann::json::object();
  std::vector<PackEvent> events;
  std::vector<PackWithheld> withheld;
  std::vector<PackHeld> held;
  std::vector<PackRectification> rectifications;
  std::vector<PackDisclosure> disclosures;
  std::vector<PackRead> reads;
  std::vector<PackRequest> requests;
  std::vector<PackPurpose> purposes;
  std::vector<std::string> categories;  // of the purposes that apply, first seen first
  std::vector<std::string> recipients;
  std::optional<RetentionItem> retention;
  std::vector<PackRule> retention_rules;
  std::vector<PackSource> sources;
  std::vector<PackDocument> documents;
  std::vector<std::string> rights;
  std::string complaint;
  std::string automated_decisions;
  std::string transfers;
  std::string record_since;

  uint32_t withheld_sections = 0;
  uint32_t held_for_review = 0;
  // The span of the log read (for the access log).
  uint32_t event_count = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
};

// Every event naming `subject` and what the record of processing says about
// them. NotFound for a subject the store does not know.
Result<PackContent> CollectPack(Rights& rights, Store& store, const domain::Codec& codec,
                                const std::string& subject, Date today);

// docs/sar-format.md
std::string PackJson(const PackContent& pack);
// Self-contained, chronological: no scripts, no external resources.
std::string PackHtml(const PackContent& pack);

}  // namespace hearth::rights::internal
