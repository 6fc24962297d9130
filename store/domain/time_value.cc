// The one reading and writing of a time in JSON (domain/time_value.h,
// hearth/event_json.h ParseTime and FormatTime): shared by the generic Event
// JSON (store/json/event_json.cc) and the domain codec (domain/codec.cc), so
// the two forms never disagree on a time. In domain/, the lower of the two.
#include "domain/time_value.h"

#include <chrono>
#include <cstdio>

#include "hearth/event_json.h"

namespace hearth::event_json {

namespace {

Status FieldError(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("field '" + path + "' " + what);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool Digits(std::string_view s, size_t* i, int n, int* out) {
  int v = 0;
  for (int k = 0; k < n; ++k, ++*i) {
    if (*i >= s.size() || s[*i] < '0' || s[*i] > '9') return false;
    v = v * 10 + (s[*i] - '0');
  }
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* i, std::string_view chars) {
  if (*i >= s.size() || chars.find(s[*i]) == std::string_view::npos) return false;
  ++*i;
  return true;
}

// The generic form (any type the domain codec does not know).
}  // namespace

Status TimeFromJsonValue(const nlohmann::ordered_json& v, const std::string& path, Timestamp* out) {
  if (v.is_null()) return Status::OK();
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > uint64_t(INT64_MAX)) return FieldError(path, "is out of range");
    *out = Timestamp(v.get<uint64_t>());
    return Status::OK();
  }
  if (v.is_number_integer()) return FieldError(path, "is before 1970");
  if (v.is_string() && ParseTime(v.get<std::string>(), out)) return Status::OK();
  return FieldError(path,
                    "must be an RFC 3339 time (e.g. 2026-03-01T09:30:00Z), a date (2026-03-01) "
                    "or microseconds since 1970 as an integer");
}

bool ParseTime(std::string_view s, Timestamp* out) {
  size_t i = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &i, 4, &y) || !Expect(s, &i, "-") || !Digits(s, &i, 2, &mo) ||
      !Expect(s, &i, "-") || !Digits(s, &i, 2, &d)) {
    return false;
  }
  int64_t frac_us = 0;
  int64_t offset = 0;
  if (i < s.size()) {  // otherwise a bare date: midnight UTC
    if (!Expect(s, &i, "Tt ") || !Digits(s, &i, 2, &h) || !Expect(s, &i, ":") ||
        !Digits(s, &i, 2, &mi) || !Expect(s, &i, ":") || !Digits(s, &i, 2, &sec)) {
      return false;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      int n = 0;
      for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n) {
        if (n < 6) frac_us = frac_us * 10 + (s[i] - '0');
      }
      if (n == 0) return false;
      for (int k = n; k < 6; ++k) frac_us *= 10;
    }
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
      int sign = s[i] == '+' ? 1 : -1;
      ++i;
      int oh, om;
      if (!Digits(s, &i, 2, &oh) || !Expect(s, &i, ":") || !Digits(s, &i, 2, &om) || oh > 23 ||
          om > 59) {
        return false;
      }
      offset = sign * (int64_t(oh) * 3600 + om * 60);
    } else {
      return false;
    }
    if (i != s.size()) return false;
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return false;
  int64_t days_since_epoch = sys_days(ymd).time_since_epoch().count();
  int64_t secs = days_since_epoch * 86400 + int64_t(h) * 3600 + mi * 60 + sec - offset;
  if (secs < 0) return false;
  *out = secs * 1000000 + frac_us;
  return true;
}

std::string FormatTime(Timestamp micros) {
  using namespace std::chrono;
  int64_t secs = FloorDiv(micros, 1000000);
  int64_t us = micros - secs * 1000000;
  int64_t day_count = FloorDiv(secs, 86400);
  int64_t rem = secs - day_count * 86400;
  year_month_day ymd{sys_days{days{day_count}}};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(rem / 3600), int(rem / 60 % 60),
                int(rem % 60), int(us));
  return buf;
}

}  // namespace hearth::event_json
