// The first-visit worklist: which open cases still wait for their first visit,
// and when it is due (DESIGN.md section 2: "first visit within 4 weeks" of the
// enquiry). A fold over events in their JSON form (docs/plugins.md), reading
// facts only: no personal data is needed or kept.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hearth::worklist {

using Json = nlohmann::json;
using Date = std::chrono::sys_days;

// Strict "YYYY-MM-DD"; false when malformed or not a real day.
bool ParseDate(const std::string& text, Date* out);
std::string FormatDate(Date date);
// Today in the United Kingdom (GMT, or BST from 01:00 UTC on the last Sunday
// of March to 01:00 UTC on the last Sunday of October).
Date UkToday();

struct Settings {
  int target_days = 28;      // the first visit is due this many days after the enquiry
  int due_within_days = 7;   // list cases due within this many days, besides overdue ones
};

// One row of a team's worklist.
struct Row {
  std::string case_id;   // the case stream, e.g. case/D3/000123 (an opaque reference)
  std::string district;
  Date enquiry_on{};
  Date due_on{};
  std::optional<Date> booked_for;  // FirstVisitScheduled visitOn
  int days_overdue = 0;            // > 0 when overdue
  bool overdue = false;
};

class FirstVisitWorklist {
 public:
  explicit FirstVisitWorklist(Settings settings) : settings_(settings) {}

  // Folds one event. Returns false (and sets *why) for an event of a type it
  // reads whose facts it cannot read (e.g. "factsBase64": the host was not
  // given the domain codec); such an event is skipped.
  bool Apply(const Json& event, std::string* why);

  // Position of the last event folded.
  uint64_t position() const { return position_; }

  // Every team seen so far (a team keeps its file when its list empties).
  std::set<std::string> Teams() const;
  // The team's cases due on or before today + due_within_days, ordered by due
  // date, then case id.
  std::vector<Row> Rows(const std::string& team, Date today) const;

  const Settings& settings() const { return settings_; }

 private:
  struct Case {
    std::string district;
    std::string team;  // the district until a transfer names a team
    std::optional<Date> enquiry_on;
    std::optional<Date> booked_for;
    bool visited = false;
    bool closed = false;
  };

  Settings settings_;
  uint64_t position_ = 0;
  std::map<std::string, Case> cases_;
  std::set<std::string> teams_;
};

// A team's worklist as a JSON document or CSV text.
std::string RenderJson(const std::string& team, Date today, uint64_t position,
                       const Settings& settings, const std::vector<Row>& rows);
std::string RenderCsv(const std::vector<Row>& rows);

}  // namespace hearth::worklist
