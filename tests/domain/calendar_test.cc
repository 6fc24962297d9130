// Dates and the England and Wales working-day calendar.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>

#include "hearth/domain.h"

namespace hearth::domain {
namespace {

Date D(const char* text) {
  Date d;
  EXPECT_TRUE(ParseDate(text, &d)) << text;
  return d;
}

TEST(Dates, ParseIsStrict) {
  Date d;
  EXPECT_TRUE(ParseDate("2020-02-29", &d));
  EXPECT_EQ(FormatDate(d), "2020-02-29");
  EXPECT_FALSE(ParseDate("2019-02-29", &d));
  EXPECT_FALSE(ParseDate("2019-13-01", &d));
  EXPECT_FALSE(ParseDate("2019-1-01", &d));
  EXPECT_FALSE(ParseDate("2019-01-01T00:00", &d));
  EXPECT_FALSE(ParseDate("20190101", &d));
  EXPECT_FALSE(ParseDate("", &d));
}

TEST(Dates, UkDateFollowsBritishSummerTime) {
  // 23:30 UTC in summer is already the next day in the UK.
  EXPECT_EQ(FormatDate(UkDate(StartOfDay(D("2018-06-30")) + 23LL * 3600000000 + 1800000000)),
            "2018-07-01");
  // In winter UK time is UTC.
  EXPECT_EQ(FormatDate(UkDate(StartOfDay(D("2018-12-31")) + 23LL * 3600000000 + 1800000000)),
            "2018-12-31");
  // BST starts at 01:00 UTC on the last Sunday of March (2018-03-25).
  EXPECT_EQ(FormatDate(UkDate(StartOfDay(D("2018-03-24")) + 23LL * 3600000000 + 1800000000)),
            "2018-03-24");
  // ... and ends at 01:00 UTC on the last Sunday of October (2018-10-28).
  EXPECT_EQ(FormatDate(UkDate(StartOfDay(D("2018-10-27")) + 23LL * 3600000000 + 1800000000)),
            "2018-10-28");
  EXPECT_EQ(FormatDate(UkDate(StartOfDay(D("2018-10-28")) + 23LL * 3600000000 + 1800000000)),
            "2018-10-28");
}

TEST(Dates, AgeBands) {
  EXPECT_EQ(AgeBand(D("1940-06-15"), D("2018-06-14")), "75-84");  // 77
  EXPECT_EQ(AgeBand(D("1943-06-15"), D("2018-06-14")), "65-74");  // 74, birthday tomorrow
  EXPECT_EQ(AgeBand(D("1943-06-15"), D("2018-06-15")), "75-84");  // 75 today
  EXPECT_EQ(AgeBand(D("1930-01-01"), D("2018-06-14")), "85+");
  EXPECT_EQ(AgeBand(D("2005-01-01"), D("2018-06-14")), "0-17");
  EXPECT_TRUE(IsAgeBand("85+"));
  EXPECT_FALSE(IsAgeBand("85-94"));
}

TEST(Calendar, CoversTheListedYears) {
  Calendar c = Calendar::EnglandAndWales();
  EXPECT_EQ(c.first_year(), 2015);
  EXPECT_GE(c.last_year(), 2027);
  for (int y = c.first_year(); y <= c.last_year(); ++y) {
    size_t expected = y == 2022 ? 10 : y == 2023 ? 9 : 8;
    EXPECT_EQ(c.BankHolidays(y).size(), expected) << y;
    for (Date d : c.BankHolidays(y)) EXPECT_FALSE(c.IsWorkingDay(d)) << FormatDate(d);
  }
}

TEST(Calendar, SpecialAndMovedHolidays) {
  Calendar c = Calendar::EnglandAndWales();
  for (const char* d : {"2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08", "2020-05-08",
                        "2016-12-27", "2017-01-02", "2021-12-27", "2021-12-28", "2027-12-28"}) {
    EXPECT_TRUE(c.IsBankHoliday(D(d))) << d;
  }
  // The moved holidays' usual days are working days.
  for (const char* d : {"2022-05-30", "2020-05-04", "2016-12-28"}) {
    EXPECT_FALSE(c.IsBankHoliday(D(d))) << d;
    EXPECT_TRUE(c.IsWorkingDay(D(d))) << d;
  }
  EXPECT_FALSE(c.IsWorkingDay(D("2018-06-02")));  // a Saturday
  EXPECT_TRUE(c.IsWorkingDay(D("2018-06-01")));
}

TEST(Calendar, WorkingDaysAcrossChristmasAndYearEnd) {
  Calendar c = Calendar::EnglandAndWales();
  // Fri 21 Dec 2018 -> Thu 27 Dec: Mon 24 and Thu 27 (25, 26 are bank holidays).
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-12-21"), D("2018-12-27")), 2);
  // Fri 28 Dec 2018 -> Wed 2 Jan 2019: Mon 31 Dec and Wed 2 Jan.
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-12-28"), D("2019-01-02")), 2);
  EXPECT_EQ(FormatDate(*c.AddWorkingDays(D("2018-12-21"), 1)), "2018-12-24");
  EXPECT_EQ(FormatDate(*c.AddWorkingDays(D("2018-12-21"), 2)), "2018-12-27");
  EXPECT_EQ(FormatDate(*c.AddWorkingDays(D("2018-12-28"), 2)), "2019-01-02");
  // Easter 2019: Thu 18 Apr + 1 working day is Tue 23 Apr.
  EXPECT_EQ(FormatDate(*c.AddWorkingDays(D("2019-04-18"), 1)), "2019-04-23");
  // Friday to Monday is one working day; same day is none; backwards is none.
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-06-01"), D("2018-06-04")), 1);
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-06-01"), D("2018-06-01")), 0);
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-06-04"), D("2018-06-01")), 0);
  EXPECT_EQ(FormatDate(*c.NextWorkingDay(D("2018-12-25"))), "2018-12-27");
  EXPECT_EQ(FormatDate(*c.AddWorkingDays(D("2018-12-25"), 0)), "2018-12-25");
}

TEST(Calendar, TheDfgTargetsInWorkingDays) {
  Calendar c = Calendar::EnglandAndWales();
  // 55 working days from Tue 3 Apr 2018 (Easter Monday 2 Apr behind it, May's
  // two bank holidays inside): 11 weeks plus two holidays.
  EXPECT_EQ(FormatDate(*c.AddWorkingDays(D("2018-04-03"), 55)), "2018-06-21");
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-04-03"), D("2018-06-21")), 55);
  // 150 working days from 1 Oct 2018 crosses Christmas, New Year and Easter 2019.
  Date end = *c.AddWorkingDays(D("2018-10-01"), 150);
  EXPECT_EQ(FormatDate(end), "2019-05-07");
  EXPECT_EQ(*c.WorkingDaysBetween(D("2018-10-01"), end), 150);
}

TEST(Calendar, CountAndAddAgreeWithADayByDayCount) {
  Calendar c = Calendar::EnglandAndWales();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> start(0, 365 * 11), span(0, 400);
  for (int i = 0; i < 300; ++i) {
    Date a = D("2015-01-01") + std::chrono::days{start(rng)};
    Date b = a + std::chrono::days{span(rng)};
    int brute = 0;
    for (Date d = a + std::chrono::days{1}; d <= b; d += std::chrono::days{1}) {
      brute += c.IsWorkingDay(d) ? 1 : 0;
    }
    auto counted = c.WorkingDaysBetween(a, b);
    ASSERT_TRUE(counted.ok()) << counted.status().ToString();
    ASSERT_EQ(*counted, brute) << FormatDate(a) << " .. " << FormatDate(b);
    auto added = c.AddWorkingDays(a, brute);
    ASSERT_TRUE(added.ok());
    if (brute > 0) {
      EXPECT_TRUE(c.IsWorkingDay(*added));
      EXPECT_LE(*added, b);
      EXPECT_EQ(*c.WorkingDaysBetween(a, *added), brute);
    }
  }
}

// An oracle that shares nothing with the calendar under test: England and
// Wales bank holidays derived from the Banking and Financial Dealings Act
// 1971's rules and the royal proclamations (Easter by the anonymous
// Gregorian algorithm, weekdays by Zeller's congruence), with the moved and
// special days of 2015-2027 written out by hand.
namespace oracle {

int Weekday(int y, int m, int d) {  // 0 = Monday ... 6 = Sunday
  if (m < 3) {
    m += 12;
    y -= 1;
  }
  int k = y % 100, j = y / 100;
  int h = (d + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7;  // 0 = Saturday
  return (h + 5) % 7;
}

int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

struct Ymd {
  int y, m, d;
  auto operator<=>(const Ymd&) const = default;
};

Ymd Plus(Ymd a, int days) {
  for (; days > 0; --days) {
    if (++a.d > DaysIn(a.y, a.m)) {
      a.d = 1;
      if (++a.m > 12) {
        a.m = 1;
        ++a.y;
      }
    }
  }
  for (; days < 0; ++days) {
    if (--a.d < 1) {
      if (--a.m < 1) {
        a.m = 12;
        --a.y;
      }
      a.d = DaysIn(a.y, a.m);
    }
  }
  return a;
}

Ymd Easter(int y) {
  int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
  int h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return {y, month, day};
}

Ymd FirstMonday(int y, int m) {
  Ymd d{y, m, 1};
  while (Weekday(d.y, d.m, d.d) != 0) d = Plus(d, 1);
  return d;
}

Ymd LastMonday(int y, int m) {
  Ymd d{y, m, DaysIn(y, m)};
  while (Weekday(d.y, d.m, d.d) != 0) d = Plus(d, -1);
  return d;
}

std::set<Ymd> BankHolidays(int y) {
  std::set<Ymd> out;
  // New Year's Day, or the Monday after when it falls at a weekend.
  Ymd ny{y, 1, 1};
  while (Weekday(ny.y, ny.m, ny.d) >= 5) ny = Plus(ny, 1);
  out.insert(ny);
  Ymd easter = Easter(y);
  out.insert(Plus(easter, -2));  // Good Friday
  out.insert(Plus(easter, 1));   // Easter Monday
  // Early May: the first Monday, moved to Friday 8 May in 2020 (VE Day).
  out.insert(y == 2020 ? Ymd{2020, 5, 8} : FirstMonday(y, 5));
  // Spring: the last Monday of May, moved to Thursday 2 June in 2022.
  out.insert(y == 2022 ? Ymd{2022, 6, 2} : LastMonday(y, 5));
  out.insert(LastMonday(y, 8));  // Summer
  // Christmas and Boxing Day, each at a weekend replaced by the next
  // weekday not already taken.
  int xmas = Weekday(y, 12, 25);
  if (xmas <= 3) {  // Monday to Thursday
    out.insert({y, 12, 25});
    out.insert({y, 12, 26});
  } else if (xmas == 4) {  // Friday: Boxing Day on Saturday moves to Monday 28th
    out.insert({y, 12, 25});
    out.insert({y, 12, 28});
  } else if (xmas == 5) {  // Saturday: Monday 27th and Tuesday 28th
    out.insert({y, 12, 27});
    out.insert({y, 12, 28});
  } else {  // Sunday: Boxing Day on Monday 26th, Christmas moved to Tuesday 27th
    out.insert({y, 12, 26});
    out.insert({y, 12, 27});
  }
  // Special days by proclamation.
  if (y == 2022) {
    out.insert({2022, 6, 3});   // Platinum Jubilee
    out.insert({2022, 9, 19});  // State Funeral of Queen Elizabeth II
  }
  if (y == 2023) out.insert({2023, 5, 8});  // Coronation of King Charles III
  return out;
}

}  // namespace oracle

oracle::Ymd YmdOf(Date d) {
  std::chrono::year_month_day ymd{d};
  return {int(ymd.year()), int(unsigned(ymd.month())), int(unsigned(ymd.day()))};
}

TEST(Calendar, BankHolidaysAgreeWithTheRulesOfTheActAndTheProclamations) {
  Calendar c = Calendar::EnglandAndWales();
  for (int y = c.first_year(); y <= c.last_year(); ++y) {
    std::set<oracle::Ymd> listed;
    for (Date d : c.BankHolidays(y)) listed.insert(YmdOf(d));
    EXPECT_EQ(listed, oracle::BankHolidays(y)) << "year " << y;
  }
}

TEST(Calendar, WorkingDaysAgreeWithAnIndependentDayByDayCount) {
  Calendar c = Calendar::EnglandAndWales();
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> start(0, 365 * 12), span(0, 300);
  for (int i = 0; i < 200; ++i) {
    Date a = D("2015-01-01") + std::chrono::days{start(rng)};
    int days = span(rng);
    // The count by the oracle: weekdays that are not its bank holidays.
    oracle::Ymd from = YmdOf(a);
    int expected = 0;
    for (int k = 1; k <= days; ++k) {
      oracle::Ymd d = oracle::Plus(from, k);
      if (oracle::Weekday(d.y, d.m, d.d) < 5 && oracle::BankHolidays(d.y).count(d) == 0) ++expected;
    }
    auto counted = c.WorkingDaysBetween(a, a + std::chrono::days{days});
    ASSERT_TRUE(counted.ok()) << counted.status().ToString();
    EXPECT_EQ(*counted, expected) << FormatDate(a) << " + " << days << " days";
  }
}

TEST(Calendar, OutsideTheCoverageIsRefused) {
  Calendar c = Calendar::EnglandAndWales();
  EXPECT_TRUE(c.WorkingDaysBetween(D("2014-12-01"), D("2015-01-05")).status().IsInvalidArgument());
  EXPECT_TRUE(c.AddWorkingDays(D("2027-12-20"), 30).status().IsInvalidArgument());
  EXPECT_TRUE(c.AddWorkingDays(D("2018-01-02"), -1).status().IsInvalidArgument());
}

TEST(Calendar, FromTextRejectsBadLists) {
  EXPECT_TRUE(Calendar::FromText("2018-01-01 x\n").status().IsInvalidArgument());  // no coverage
  auto weekend = Calendar::FromText("coverage 2018 2018\n2018-06-02 Saturday\n");
  ASSERT_FALSE(weekend.ok());
  EXPECT_NE(weekend.status().message().find("line 2"), std::string::npos);
  EXPECT_NE(weekend.status().message().find("weekend"), std::string::npos);
  EXPECT_FALSE(Calendar::FromText("coverage 2018 2018\n2019-01-01 x\n").ok());
  EXPECT_FALSE(Calendar::FromText("coverage 2018 2018\n2018-01-01 a\n2018-01-01 b\n").ok());
  EXPECT_FALSE(Calendar::FromText("coverage 2018 2018\n2018-13-01 bad\n").ok());
  auto ok = Calendar::FromText("# test\ncoverage 2018 2018\n\n2018-01-01 New Year\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->IsBankHoliday(D("2018-01-01")));
  EXPECT_EQ(*ok->WorkingDaysBetween(D("2018-01-01"), D("2018-01-03")), 2);
  EXPECT_FALSE(ok->WorkingDaysBetween(D("2017-12-29"), D("2018-01-02")).ok())
      << "30 Dec 2017 is outside the coverage";
}

}  // namespace
}  // namespace hearth::domain
