#include "worklist.h"

#include <algorithm>
#include <cstdio>

#include "hearth/escape.h"

namespace hearth::worklist {

using namespace std::chrono;

namespace {

// The district of a case stream `case/<district>/<reference>`, or "".
std::string StreamDistrict(const std::string& stream) {
  if (stream.rfind("case/", 0) != 0) return "";
  size_t slash = stream.find('/', 5);
  if (slash == std::string::npos || slash == 5) return "";
  return stream.substr(5, slash - 5);
}

std::string Text(const Json& facts, const char* key) {
  auto it = facts.find(key);
  return it != facts.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<Date> DateField(const Json& facts, const char* key) {
  Date d;
  if (ParseDate(Text(facts, key), &d)) return d;
  return std::nullopt;
}

Date LastSunday(int year, unsigned month) {
  Date last = sys_days{year_month_day_last{std::chrono::year{year}, month_day_last{std::chrono::month{month}}}};
  return last - (weekday{last} - Sunday);
}

}  // namespace

bool ParseDate(const std::string& text, Date* out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int y = 0, m = 0, d = 0;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  y = std::stoi(text.substr(0, 4));
  m = std::stoi(text.substr(5, 2));
  d = std::stoi(text.substr(8, 2));
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(m)}, std::chrono::day{unsigned(d)}};
  if (!ymd.ok()) return false;
  *out = sys_days{ymd};
  return true;
}

std::string FormatDate(Date date) {
  year_month_day ymd{date};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

Date UkToday() {
  auto now = system_clock::now();
  Date utc = floor<days>(now);
  int year = int(year_month_day{utc}.year());
  auto bst_start = sys_days{LastSunday(year, 3)} + hours{1};
  auto bst_end = sys_days{LastSunday(year, 10)} + hours{1};
  if (now >= bst_start && now < bst_end) now += hours{1};
  return floor<days>(now);
}

bool FirstVisitWorklist::Apply(const Json& event, std::string* why) {
  if (auto p = event.find("position"); p != event.end() && p->is_number_unsigned()) {
    position_ = std::max(position_, p->get<uint64_t>());
  }
  std::string type = Text(event, "type");
  std::string stream = Text(event, "stream");
  static const std::set<std::string> kRead = {"ContactRecorded", "FirstVisitScheduled",
                                              "FirstVisitCompleted", "CaseTransferred",
                                              "CaseClosed", "CaseReopened"};
  if (!kRead.count(type) || stream.rfind("case/", 0) != 0) return true;
  auto facts_it = event.find("facts");
  if (facts_it == event.end() || !facts_it->is_object()) {
    *why = type + " at position " + std::to_string(position_) +
           " has no facts as a JSON object (is the host given the domain codec?)";
    return false;
  }
  const Json& facts = *facts_it;

  auto found = cases_.find(stream);
  if (type == "ContactRecorded") {
    // Only the enquiry that opens the case starts the four-week clock.
    if (Text(facts, "purpose") != "enquiry") return true;
    Case& c = cases_[stream];
    if (c.enquiry_on) return true;
    c.enquiry_on = DateField(facts, "contactedOn");
    if (!c.enquiry_on) {
      *why = "ContactRecorded at position " + std::to_string(position_) + " has no contactedOn date";
      cases_.erase(stream);
      return false;
    }
    c.district = Text(facts, "district");
    if (c.district.empty()) c.district = StreamDistrict(stream);
    if (c.team.empty()) c.team = c.district;
    teams_.insert(c.team);
    return true;
  }
  if (found == cases_.end()) return true;  // a case whose enquiry this worklist never saw
  Case& c = found->second;
  if (type == "FirstVisitScheduled") {
    c.booked_for = DateField(facts, "visitOn");
  } else if (type == "FirstVisitCompleted") {
    c.visited = true;
  } else if (type == "CaseTransferred") {
    std::string to_team = Text(facts, "toTeam");
    std::string to_district = Text(facts, "toDistrict");
    if (!to_district.empty()) c.district = to_district;
    if (!to_team.empty()) {
      c.team = to_team;
    } else if (!to_district.empty()) {
      c.team = to_district;
    }
    teams_.insert(c.team);
  } else if (type == "CaseClosed") {
    c.closed = true;
  } else if (type == "CaseReopened") {
    c.closed = false;
  }
  return true;
}

std::set<std::string> FirstVisitWorklist::Teams() const { return teams_; }

std::vector<Row> FirstVisitWorklist::Rows(const std::string& team, Date today) const {
  std::vector<Row> rows;
  for (const auto& [id, c] : cases_) {
    if (c.team != team || c.visited || c.closed || !c.enquiry_on) continue;
    Row r;
    r.case_id = id;
    r.district = c.district;
    r.enquiry_on = *c.enquiry_on;
    r.due_on = *c.enquiry_on + days{settings_.target_days};
    if (r.due_on > today + days{settings_.due_within_days}) continue;
    r.booked_for = c.booked_for;
    r.overdue = r.due_on < today;
    r.days_overdue = r.overdue ? int((today - r.due_on).count()) : 0;
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return a.due_on != b.due_on ? a.due_on < b.due_on : a.case_id < b.case_id;
  });
  return rows;
}

std::string RenderJson(const std::string& team, Date today, uint64_t position,
                       const Settings& settings, const std::vector<Row>& rows) {
  Json cases = Json::array();
  for (const Row& r : rows) {
    cases.push_back(Json{{"case", r.case_id},
                         {"district", r.district},
                         {"enquiryOn", FormatDate(r.enquiry_on)},
                         {"dueOn", FormatDate(r.due_on)},
                         {"bookedFor", r.booked_for ? Json(FormatDate(*r.booked_for)) : Json()},
                         {"status", r.overdue ? "overdue" : "due"},
                         {"daysOverdue", r.days_overdue}});
  }
  Json doc = {{"worklist", "first-visits"},
              {"team", team},
              {"date", FormatDate(today)},
              {"targetDays", settings.target_days},
              {"dueWithinDays", settings.due_within_days},
              {"position", position},
              {"overdue", std::count_if(rows.begin(), rows.end(), [](const Row& r) { return r.overdue; })},
              {"cases", std::move(cases)}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string RenderCsv(const std::vector<Row>& rows) {
  // Text cells through the one CSV rule (hearth/escape.h); dates and the
  // day count are written as they are.
  auto field = [](const std::string& s) { return CsvCell(s); };
  std::string out = "case,district,enquiry_on,due_on,booked_for,status,days_overdue\n";
  for (const Row& r : rows) {
    out += field(r.case_id) + "," + field(r.district) + "," + FormatDate(r.enquiry_on) + "," +
           FormatDate(r.due_on) + "," + (r.booked_for ? FormatDate(*r.booked_for) : "") + "," +
           (r.overdue ? "overdue" : "due") + "," + std::to_string(r.days_overdue) + "\n";
  }
  return out;
}

}  // namespace hearth::worklist
