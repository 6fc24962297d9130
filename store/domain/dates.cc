// Dates, UK local date, age bands and the working-day calendar.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <string>

#include "domain/bank_holidays.h"
#include "hearth/domain.h"

namespace hearth::domain {

namespace {

using std::chrono::days;
using std::chrono::year_month_day;

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int32_t DayNumber(Date d) { return static_cast<int32_t>(d.time_since_epoch().count()); }

// The last Sunday of `month` in `year`.
Date LastSunday(int year, unsigned month) {
  Date last = std::chrono::sys_days{std::chrono::year{year} / std::chrono::month{month} /
                                    std::chrono::last};
  std::chrono::weekday wd{last};
  return last - days{wd.c_encoding()};  // c_encoding: Sunday == 0
}

}  // namespace

bool ParseDate(std::string_view text, Date* out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int y, m, d;
  if (!Digits(text, 0, 4, &y) || !Digits(text, 5, 2, &m) || !Digits(text, 8, 2, &d)) return false;
  if (y < 1900 || y > 2999) return false;
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                     std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  *out = std::chrono::sys_days{ymd};
  return true;
}

std::string FormatDate(Date date) {
  year_month_day ymd{date};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

Timestamp Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Timestamp StartOfDay(Date date) {
  return static_cast<Timestamp>(DayNumber(date)) * 86400LL * 1000000LL;
}

Date UkDate(Timestamp moment) {
  constexpr int64_t kDay = 86400LL * 1000000LL;
  constexpr int64_t kHour = 3600LL * 1000000LL;
  int64_t day = moment >= 0 ? moment / kDay : -((-moment + kDay - 1) / kDay);
  Date utc_date{days{day}};
  int year = static_cast<int>(year_month_day{utc_date}.year());
  // BST runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
  // last Sunday of October.
  Timestamp bst_start = StartOfDay(LastSunday(year, 3)) + kHour;
  Timestamp bst_end = StartOfDay(LastSunday(year, 10)) + kHour;
  Timestamp local = moment;
  if (moment >= bst_start && moment < bst_end) local += kHour;
  int64_t local_day = local >= 0 ? local / kDay : -((-local + kDay - 1) / kDay);
  return Date{days{local_day}};
}

std::string AgeBand(Date birth, Date on) {
  year_month_day b{birth}, o{on};
  int age = static_cast<int>(o.year()) - static_cast<int>(b.year());
  if (o.month() < b.month() || (o.month() == b.month() && o.day() < b.day())) --age;
  if (age < 18) return "0-17";
  if (age < 25) return "18-24";
  if (age < 35) return "25-34";
  if (age < 45) return "35-44";
  if (age < 55) return "45-54";
  if (age < 65) return "55-64";
  if (age < 75) return "65-74";
  if (age < 85) return "75-84";
  return "85+";
}

bool IsAgeBand(std::string_view band) {
  static constexpr std::string_view kBands[] = {"0-17",  "18-24", "25-34", "35-44", "45-54",
                                                "55-64", "65-74", "75-84", "85+"};
  return std::find(std::begin(kBands), std::end(kBands), band) != std::end(kBands);
}

bool IsStaffRef(std::string_view ref) {
  if (ref.size() < 3 || ref.size() > 32 || !ref.starts_with("S-")) return false;
  for (char c : ref.substr(2)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// --- Calendar ---

Calendar Calendar::EnglandAndWales() {
  auto parsed = FromText(kBankHolidaysEnglandWales);
  // The list is part of the library and checked by its tests; a broken list
  // is a build defect, not a runtime condition.
  if (!parsed.ok()) std::abort();
  return std::move(parsed).value();
}

Result<Calendar> Calendar::FromText(std::string_view text) {
  Calendar cal;
  bool have_coverage = false;
  size_t line_no = 0;
  size_t pos = 0;
  std::vector<std::pair<int32_t, size_t>> dates;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.remove_suffix(1);
    if (line.empty() || line[0] == '#') {
      if (end == text.size()) break;
      continue;
    }
    auto where = [&] { return "bank holiday list line " + std::to_string(line_no) + ": "; };
    if (line.substr(0, 9) == "coverage ") {
      int first = 0, last = 0;
      if (have_coverage) return Status::InvalidArgument(where() + "a second coverage line");
      if (line.size() != 18 || line[13] != ' ' || !Digits(line, 9, 4, &first) ||
          !Digits(line, 14, 4, &last) || first > last) {
        return Status::InvalidArgument(where() + "expected \"coverage FIRST LAST\"");
      }
      cal.first_year_ = first;
      cal.last_year_ = last;
      have_coverage = true;
    } else {
      Date d;
      if (line.size() < 10 || !ParseDate(line.substr(0, 10), &d) ||
          (line.size() > 10 && line[10] != ' ')) {
        return Status::InvalidArgument(where() + "expected \"YYYY-MM-DD name\", got \"" +
                                       std::string(line) + "\"");
      }
      std::chrono::weekday wd{d};
      if (wd == std::chrono::Saturday || wd == std::chrono::Sunday) {
        return Status::InvalidArgument(where() + FormatDate(d) + " is a weekend day");
      }
      dates.emplace_back(DayNumber(d), line_no);
    }
    if (end == text.size()) break;
  }
  if (!have_coverage) return Status::InvalidArgument("bank holiday list: no coverage line");
  std::sort(dates.begin(), dates.end());
  for (size_t i = 0; i < dates.size(); ++i) {
    Date d{days{dates[i].first}};
    if (!cal.Covers(d)) {
      return Status::InvalidArgument("bank holiday list line " + std::to_string(dates[i].second) +
                                     ": " + FormatDate(d) + " is outside the coverage");
    }
    if (i > 0 && dates[i].first == dates[i - 1].first) {
      return Status::InvalidArgument("bank holiday list line " + std::to_string(dates[i].second) +
                                     ": " + FormatDate(d) + " appears twice");
    }
    cal.holidays_.push_back(dates[i].first);
  }
  return cal;
}

bool Calendar::Covers(Date date) const {
  int y = static_cast<int>(year_month_day{date}.year());
  return y >= first_year_ && y <= last_year_;
}

bool Calendar::IsBankHoliday(Date date) const {
  return std::binary_search(holidays_.begin(), holidays_.end(), DayNumber(date));
}

bool Calendar::IsWorkingDay(Date date) const {
  std::chrono::weekday wd{date};
  if (wd == std::chrono::Saturday || wd == std::chrono::Sunday) return false;
  return !IsBankHoliday(date);
}

std::vector<Date> Calendar::BankHolidays(int year) const {
  std::vector<Date> out;
  for (int32_t h : holidays_) {
    Date d{days{h}};
    if (static_cast<int>(year_month_day{d}.year()) == year) out.push_back(d);
  }
  return out;
}

Result<int> Calendar::WorkingDaysBetween(Date from, Date to) const {
  if (to <= from) return 0;
  Date first = from + days{1};
  if (!Covers(first) || !Covers(to)) {
    return Status::InvalidArgument("working days between " + FormatDate(from) + " and " +
                                   FormatDate(to) + ": the calendar covers " +
                                   std::to_string(first_year_) + " to " +
                                   std::to_string(last_year_) + " only");
  }
  // Weekdays in (from, to], counted in whole weeks and a remainder, less the
  // bank holidays in the range (all of which fall on weekdays).
  int64_t total = (to - from).count();
  int64_t weeks = total / 7, rest = total % 7;
  int64_t weekdays = weeks * 5;
  Date d = from;
  for (int64_t i = 0; i < rest; ++i) {
    d += days{1};
    std::chrono::weekday wd{d};
    if (wd != std::chrono::Saturday && wd != std::chrono::Sunday) ++weekdays;
  }
  auto lo = std::upper_bound(holidays_.begin(), holidays_.end(), DayNumber(from));
  auto hi = std::upper_bound(holidays_.begin(), holidays_.end(), DayNumber(to));
  return static_cast<int>(weekdays - (hi - lo));
}

Result<Date> Calendar::AddWorkingDays(Date from, int n) const {
  if (n < 0) return Status::InvalidArgument("AddWorkingDays: n must not be negative");
  Date d = from;
  for (int left = n; left > 0;) {
    d += days{1};
    if (!Covers(d)) {
      return Status::InvalidArgument(std::to_string(n) + " working days after " +
                                     FormatDate(from) + ": the calendar covers " +
                                     std::to_string(first_year_) + " to " +
                                     std::to_string(last_year_) + " only");
    }
    if (IsWorkingDay(d)) --left;
  }
  return d;
}

Result<Date> Calendar::NextWorkingDay(Date date) const {
  for (Date d = date;; d += days{1}) {
    if (!Covers(d)) {
      return Status::InvalidArgument("next working day after " + FormatDate(date) +
                                     ": the calendar covers " + std::to_string(first_year_) +
                                     " to " + std::to_string(last_year_) + " only");
    }
    if (IsWorkingDay(d)) return d;
  }
}

}  // namespace hearth::domain
