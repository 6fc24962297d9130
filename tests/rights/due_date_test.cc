// Due dates as the ICO counts them: the corresponding day next month, the
// last day of a shorter month, the next working day (weekends and England and
// Wales bank holidays), identity restarting the month, clarification stopping
// the clock, extensions.
#include <gtest/gtest.h>

#include "hearth/rights.h"

namespace hearth::rights {
namespace {

Date D(const char* text) {
  Date d;
  EXPECT_TRUE(domain::ParseDate(text, &d)) << text;
  return d;
}

std::string Due(const RequestState& s, const char* today = "2030-01-01") {
  auto due = ComputeDueDate(s, domain::Calendar::EnglandAndWales(), D(today));
  EXPECT_TRUE(due.ok()) << due.status().ToString();
  return due.ok() ? domain::FormatDate(due->due) : "";
}

RequestState Received(const char* on) {
  RequestState s;
  s.received_on = D(on);
  return s;
}

TEST(AddCalendarMonths, CorrespondingDayOrLastDayOfMonth) {
  EXPECT_EQ(AddCalendarMonths(D("2019-01-31"), 1), D("2019-02-28"));
  EXPECT_EQ(AddCalendarMonths(D("2020-01-31"), 1), D("2020-02-29"));  // leap year
  EXPECT_EQ(AddCalendarMonths(D("2019-03-31"), 1), D("2019-04-30"));
  EXPECT_EQ(AddCalendarMonths(D("2019-01-15"), 1), D("2019-02-15"));
  EXPECT_EQ(AddCalendarMonths(D("2019-12-10"), 1), D("2020-01-10"));  // across the year
  EXPECT_EQ(AddCalendarMonths(D("2019-11-30"), 3), D("2020-02-29"));
}

TEST(DueDate, MonthEndsLeapYearsWeekendsAndBankHolidays) {
  EXPECT_EQ(Due(Received("2019-01-31")), "2019-02-28");  // Thursday
  // 29 Feb 2020 is a Saturday: Monday 2 March.
  EXPECT_EQ(Due(Received("2020-01-31")), "2020-03-02");
  // 2 March 2019 (Saturday) received: 2 April is a Tuesday.
  EXPECT_EQ(Due(Received("2019-03-02")), "2019-04-02");
  // 25 Dec 2019 (Christmas, Wed), 26 (Boxing Day): Friday 27 December.
  EXPECT_EQ(Due(Received("2019-11-25")), "2019-12-27");
  // 6 May 2018 is a Sunday and 7 May the early May bank holiday: Tuesday 8 May.
  EXPECT_EQ(Due(Received("2018-04-06")), "2018-05-08");
  // Good Friday 19 April 2019 and Easter Monday 22 April: Tuesday 23 April.
  EXPECT_EQ(Due(Received("2019-03-19")), "2019-04-23");
}

TEST(DueDate, RepresentativeAuthorityStartsTheMonth) {
  RequestState s = Received("2019-01-10");
  s.authority_on = D("2019-01-31");
  EXPECT_EQ(Due(s), "2019-02-28");
}

TEST(DueDate, IdentityRestartsTheMonthAndClarificationStopsTheClock) {
  RequestState id = Received("2019-01-10");
  id.stops.push_back(ClockStop{D("2019-01-10"), D("2019-01-31"), "identity"});
  EXPECT_EQ(Due(id), "2019-02-28");

  RequestState clar = Received("2019-01-10");
  clar.stops.push_back(ClockStop{D("2019-01-15"), D("2019-01-25"), "clarification"});
  auto due = ComputeDueDate(clar, domain::Calendar::EnglandAndWales(), D("2030-01-01"));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->paused_days, 10);
  EXPECT_EQ(domain::FormatDate(due->due), "2019-02-20");  // 10 Feb + 10 days, a Wednesday

  // Two stops: both kept, both counted.
  clar.stops.push_back(ClockStop{D("2019-02-01"), D("2019-02-04"), "clarification"});
  EXPECT_EQ(Due(clar), "2019-02-25");  // 23 Feb (Sat) -> Monday 25th

  // Still stopped: as if it restarted today.
  RequestState open = Received("2019-01-10");
  open.stops.push_back(ClockStop{D("2019-01-20"), std::nullopt, "clarification"});
  EXPECT_EQ(Due(open, "2019-01-25"), "2019-02-15");
}

TEST(DueDate, ExtensionAddsUpToTwoMonths) {
  RequestState s = Received("2019-01-31");
  s.extension_months = 2;
  auto due = ComputeDueDate(s, domain::Calendar::EnglandAndWales(), D("2030-01-01"));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(domain::FormatDate(due->first_month_due), "2019-02-28");
  EXPECT_EQ(domain::FormatDate(due->due), "2019-04-30");
}

TEST(DueDate, NoReceiptDateIsAnError) {
  RequestState s;
  EXPECT_TRUE(ComputeDueDate(s, domain::Calendar::EnglandAndWales(), D("2019-01-01"))
                  .status()
                  .IsInvalidArgument());
}

}  // namespace
}  // namespace hearth::rights
