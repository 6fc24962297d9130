// Private to store/readmodels: the work index of the `cases` projection
// (docs/readmodels.md, "The work index"), kept by the projection and read by
// BuildWorklist, so that a page of a worklist reads the cases on that page,
// not every open case of the district.
//
// For each case, one entry per item the worklist's rules can list on any day
// from the case's settled day on (the latest of the dates in its state that
// the rules compare with the worklist's day): the item's kind, line and
// order day (its due day; a stalled line's last activity), the first day it
// is listed and the first day it is overdue. On such a day the rules' answer
// for the case is a function of the day and these entries alone; on an
// earlier one (a past day's worklist) the rules are evaluated on the state.
//
// Keys:
//   'u' district 0x00 kind(1) order-day(4) case-id 0x00 line(2) seq(1)
//       -> listed-from(zigzag days) overdue-from(zigzag days) client worker
//   'x' district 0x00 case-id -> ""   a case whose entries the calendar cannot
//       give (a date outside its years): evaluated on its state every time
//   "U" -> settled-day(zigzag days) fingerprint(varint)   the latest settled
//       day of any case folded, and the calendar and targets the entries
//       were computed with
// Days of the order are big-endian days since 1970-01-01 plus 2^31, so keys
// sort by kind, day, case id, line, then the entry's ordinal among those
// equal to it, which is the worklist's order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/varint_codec.h"
#include "hearth/readmodels.h"

namespace hearth::readmodels {

// A day in an index key (base/varint_codec.h): the work and quiet indexes.
using base::AppendIndexDay;
using base::IndexDayOf;
using base::kIndexDayBytes;

inline constexpr char kWorkTag = 'u';
inline constexpr char kWorkWholeTag = 'x';
inline constexpr std::string_view kWorkSettledKey = "U";

struct WorkEntry {
  WorkKind kind = WorkKind::kFirstVisit;
  uint16_t line = 0;
  domain::Date day{};     // the worklist's order day: the due day, or a stalled line's last activity
  uint8_t seq = 0;        // its ordinal among the case's entries of equal kind, day and line
  domain::Date listed_from{};   // listed on days from this one (and, for the due-soon
                                // kinds, from its due day less the window asked for)
  domain::Date overdue_from{};  // overdue on days from this one
};

// The options and calendar the projection keeps the index under: the
// England and Wales calendar and WorklistOptions{}'s targets.
const domain::Calendar& WorkIndexCalendar();
// A fingerprint of a calendar and the targets of `o` that fix the entries
// (first visit, DFG, stall, safeguarding and allocation): the index answers
// a worklist only when its fingerprint is the one the entries were kept
// under. The due-soon and review windows are applied when it is read.
uint64_t WorkIndexFingerprint(const domain::Calendar& calendar, const WorklistOptions& o);

// The latest date in `c` that the rules compare with the worklist's day.
std::optional<domain::Date> SettledDay(const domain::CaseState& c);

// The case's entries under WorkIndexCalendar() and WorklistOptions{}, in the
// order the rules find its items. InvalidArgument when a date the entries
// need lies outside the calendar's years (the case is kept under 'x').
Status WorkEntriesOf(const domain::CaseState& c, std::vector<WorkEntry>* out);

// The index's keys and values for one case (what the projection writes):
// its 'u' entries, or its one 'x' key.
std::vector<std::pair<std::string, std::string>> WorkIndexOf(const domain::CaseState& c);

// Gives `fn` the state of each of `ids` that is there (a case a reader may
// not see is as absent as one that does not exist), in the order of `ids`,
// until it returns false. The states are read a few hundred at a time by one
// multi-key read each (ids in key order share the reads of their blocks).
// `read`, when given, counts the states read.
Status ReadCaseStates(LogReader& store, const std::vector<std::string>& ids, uint64_t* read,
                      const std::function<bool(const std::string& id, const domain::CaseState& state)>& fn);

std::string EncodeWorkSettled(domain::Date day, uint64_t fingerprint);
Status DecodeWorkSettled(std::string_view bytes, domain::Date* day, uint64_t* fingerprint);

}  // namespace hearth::readmodels
