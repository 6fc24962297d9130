// Worklists from the `cases` projection (docs/readmodels.md has every rule).
//
// Rules are evaluated on one day, `as_of`, against each case's state: a
// milestone dated after `as_of` counts as not yet reached, so the same
// projection answers for past days too (with the caveat in the docs: a value
// later overwritten, such as a review date, is seen at its latest value).
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "base/varint_codec.h"
#include "facts/facts.h"
#include "hearth/readmodels.h"
#include "readmodels/common.h"
#include "readmodels/describe.h"
#include "readmodels/work_index.h"

namespace hearth::readmodels {

namespace {

using domain::CaseState;
using domain::Date;
using domain::FormatDate;
using domain::ServiceLine;

bool By(const std::optional<Date>& d, Date as_of) { return d && *d <= as_of; }

int Days(Date from, Date to) { return int((to - from).count()); }

std::string Plural(int n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

bool IsDfg(const ServiceLine& l) { return l.element == "mandatoryDfg" || l.service == "mandatoryDfg"; }

// A line still open on `as_of`.
bool LineOpen(const ServiceLine& l, Date as_of) {
  return l.opened_on <= as_of && !By(l.closed_on, as_of) && !By(l.completed_on, as_of) &&
         !By(l.refused_on, as_of);
}

// Lines whose service is advice or an assessment have no works pathway.
bool HasWorks(const ServiceLine& l) {
  static const char* kNoWorks[] = {"informationAdvice", "signposting", "housingOptions",
                                   "otAssessment", "trustedAssessment"};
  for (const char* s : kNoWorks) {
    if (l.service == s) return false;
  }
  return true;
}

// The DFG stages in pathway order, each with the date it was reached.
std::vector<DfgStage> StagesOf(const CaseState& c, const ServiceLine& l, Date as_of) {
  std::vector<DfgStage> st = {
      {"first-contact", c.enquiry_on ? c.enquiry_on : std::optional<Date>(l.opened_on), 0},
      {"assessment", c.assessed_on, 0},
      {"application", l.application_on, 0},
      {"approval", l.approved_on, 0},
      {"completion", l.completed_on, 0},
  };
  for (auto& s : st) {
    if (s.on && *s.on > as_of) s.on.reset();
  }
  return st;
}

// What the line waits for next, in words.
std::string NextStep(const CaseState& c, const ServiceLine& l, Date as_of) {
  if (IsDfg(l)) {
    if (!By(c.assessed_on, as_of)) return "assessment";
    if (!By(l.application_on, as_of)) return "grant application";
    if (!By(l.approved_on, as_of)) return "grant approval";
    if (!By(l.started_on, as_of)) return "works start";
    return "works completion";
  }
  if (!HasWorks(l)) return "closure of the line";
  if (!By(l.specified_on, as_of)) return "works specification";
  if (!By(l.contractor_on, as_of)) return "choice of contractor";
  if (!By(l.started_on, as_of)) return "works start";
  return "works completion";
}

// The latest activity on or before `as_of` that the state can show.
std::optional<Date> LastActivity(const CaseState& c, const ServiceLine& l, Date as_of) {
  if (By(c.last_activity_on, as_of)) return c.last_activity_on;
  std::optional<Date> best;
  auto consider = [&](const std::optional<Date>& d) {
    if (By(d, as_of) && (!best || *d > *best)) best = d;
  };
  for (const auto& d : {c.enquiry_on, c.referral_on, c.first_visit_booked_for, c.first_visit_confirmed_on,
                        c.first_visit_on, c.assessed_on, c.rights_confirmed_on, c.plan_agreed_on}) {
    consider(d);
  }
  for (const auto& line : c.lines) {
    consider(line.opened_on);
    for (const auto& d : {line.means_tested_on, line.application_on, line.valid_on, line.approved_on,
                          line.specified_on, line.contractor_on, line.started_on, line.paid_on}) {
      consider(d);
    }
  }
  (void)l;
  return best;
}

int StatusRank(const std::string& s) {
  if (s == "overdue") return 0;
  if (s == "stalled") return 1;
  if (s == "due-soon") return 2;
  return 3;  // "open": a complaint with its response not yet due soon
}

// The list's order: kind, status, due day (or the day its clock started),
// case, line. Items equal in all of these (a case's two safeguarding
// referrals of one day) keep the order they were found in.
using Order = std::tuple<int, int, int64_t, std::string_view, int>;
Order OrderOf(const WorkItem& w) {
  return {int(w.kind), StatusRank(w.status), int64_t(w.due.value_or(w.since).time_since_epoch().count()),
          std::string_view(w.case_id), int(w.line)};
}

// An item's place: its order and its ordinal among the items equal to it in
// that order. A page's continuation is the place of its last item, written
// out; the next page starts after it.
struct Place {
  int kind = 0;
  int rank = 0;
  int64_t day = 0;  // days since 1970-01-01
  std::string case_id;
  int line = 0;
  uint64_t ordinal = 0;
  auto Key() const { return std::tuple_cat(Order{kind, rank, day, case_id, line}, std::make_tuple(ordinal)); }
};

Place PlaceOf(const WorkItem& w, uint64_t ordinal) {
  auto [kind, rank, day, case_id, line] = OrderOf(w);
  return Place{kind, rank, day, std::string(case_id), line, ordinal};
}

// "kind.rank.day.line.ordinal.case" (the case last: it may hold dots).
std::string FormatPlace(const Place& p) {
  return std::to_string(p.kind) + "." + std::to_string(p.rank) + "." + std::to_string(p.day) + "." +
         std::to_string(p.line) + "." + std::to_string(p.ordinal) + "." + p.case_id;
}

std::optional<Place> ParsePlace(const std::string& text) {
  size_t at = 0;
  // The next dot-terminated field, a whole decimal number within [lo, hi].
  auto number = [&](int64_t lo, int64_t hi, int64_t* out) {
    size_t dot = text.find('.', at);
    if (dot == std::string::npos) return false;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + dot, *out);
    if (ec != std::errc() || end != text.data() + dot || *out < lo || *out > hi) return false;
    at = dot + 1;
    return true;
  };
  int64_t kind, rank, day, line, ordinal;
  if (!number(0, 255, &kind) || !number(0, 9, &rank) || !number(-1000000, 1000000, &day) ||
      !number(0, 65535, &line) || !number(0, int64_t(1) << 40, &ordinal) || text.size() - at > 200) {
    return std::nullopt;
  }
  return Place{int(kind), int(rank), day, text.substr(at), int(line), uint64_t(ordinal)};
}

Status CheckOptions(const WorklistOptions& o) {
  auto bad = [](const char* what) { return Status::InvalidArgument(std::string("worklist: ") + what); };
  if (o.first_visit_days < 1 || o.first_visit_days > 366) return bad("first_visit_days must be 1..366");
  if (o.dfg_urgent_days < 1 || o.dfg_urgent_days > 1000) return bad("dfg_urgent_days must be 1..1000");
  if (o.dfg_non_urgent_days < 1 || o.dfg_non_urgent_days > 1000) {
    return bad("dfg_non_urgent_days must be 1..1000");
  }
  if (o.stall_working_days < 1 || o.stall_working_days > 1000) {
    return bad("stall_working_days must be 1..1000");
  }
  if (o.due_soon_days < 0 || o.due_soon_days > 366) return bad("due_soon_days must be 0..366");
  if (o.review_due_days < 0 || o.review_due_days > 366) return bad("review_due_days must be 0..366");
  if (o.safeguarding_ack_working_days < 0 || o.safeguarding_ack_working_days > 100) {
    return bad("safeguarding_ack_working_days must be 0..100");
  }
  if (o.allocation_grace_working_days < 0 || o.allocation_grace_working_days > 100) {
    return bad("allocation_grace_working_days must be 0..100");
  }
  if (!o.worker.empty() && !domain::IsStaffRef(o.worker)) {
    return bad("worker must be a staff reference, S- then 1 to 30 of A-Z a-z 0-9 - (e.g. S-D3-07)");
  }
  return Status::OK();
}

class Evaluator {
 public:
  Status Complaint(const domain::ComplaintState& k, std::vector<WorkItem>* out) const {
    WorkItem w;
    w.kind = WorkKind::kComplaint;
    w.case_id = k.stream;
    w.district = k.district;
    return ComplaintItem(k.complaint, std::move(w), " (no case)", out);
  }

  Evaluator(const domain::Calendar& cal, const WorklistOptions& o, Date as_of)
      : cal_(cal), o_(o), as_of_(as_of) {}

  Status Case(const CaseState& c, std::vector<WorkItem>* out) {
    if (!c.enquiry_on || *c.enquiry_on > as_of_) return Status::OK();  // not open yet
    // A referral awaiting acknowledgement is listed on a closed case too.
    Status sg = Safeguarding(c, out);
    if (!sg.ok()) return sg;
    // So is a complaint awaiting the agency's response.
    for (const domain::Complaint& k : c.complaint_list) {
      Status s = ComplaintItem(k, Base(WorkKind::kComplaint, c), c.closed ? " (the case is closed)" : "", out);
      if (!s.ok()) return s;
    }
    if (c.closed && (!c.closed_on || *c.closed_on <= as_of_)) return Status::OK();
    FirstVisit(c, out);
    Review(c, out);
    Status al = Allocation(c, out);
    if (!al.ok()) return al;
    FollowUp(c, out);
    for (const ServiceLine& l : c.lines) {
      if (!LineOpen(l, as_of_)) continue;
      if (IsDfg(l)) {
        Status s = Dfg(c, l, out);
        if (!s.ok()) return s;
      }
      Status s = Stalled(c, l, out);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  // The case's work index entries (work_index.h): every item Case() lists
  // on some day from as_of_ on, where as_of_ is the case's settled day, so
  // that each By() below is "the date is set". Found in Case()'s order; the
  // windows (due_soon_days, review_due_days) are applied when the index is
  // read (EntryStatus), every other target here.
  Status Entries(const CaseState& c, std::vector<WorkEntry>* out) const {
    out->clear();
    if (!c.enquiry_on) return Status::OK();  // never open
    auto add = [out](WorkKind kind, uint16_t line, Date day, Date listed_from, Date overdue_from) {
      int seq = 0;
      for (const WorkEntry& x : *out) {
        if (x.kind == kind && x.line == line && x.day == day) ++seq;
      }
      if (seq > UINT8_MAX) return Status::InvalidArgument("more than 256 items of one kind, line and day");
      out->push_back(WorkEntry{kind, line, day, uint8_t(seq), listed_from, overdue_from});
      return Status::OK();
    };
    // Listed from the start of their clocks (on or before the settled day),
    // or by their windows only.
    const Date always{};
    for (const domain::SafeguardingConcern& g : c.safeguarding) {
      if (!g.referred_on || g.acknowledged_on) continue;
      auto due = cal_.AddWorkingDays(*g.referred_on, o_.safeguarding_ack_working_days);
      auto over = cal_.AddWorkingDays(*g.referred_on, o_.safeguarding_ack_working_days + 1);
      if (!due.ok()) return due.status();
      if (!over.ok()) return over.status();
      if (Status s = add(WorkKind::kSafeguarding, 0, *due, always, *over); !s.ok()) return s;
    }
    for (const domain::Complaint& k : c.complaint_list) {
      int days = domain::ComplaintResponseWorkingDays(k.stage);
      if (days == 0 || k.responded_on) continue;
      auto due = cal_.AddWorkingDays(k.stage_on, days);
      if (!due.ok()) return due.status();
      if (Status s = add(WorkKind::kComplaint, 0, *due, always, *due + std::chrono::days(1)); !s.ok()) return s;
    }
    if (c.closed) return Status::OK();
    if (!c.first_visit_on) {
      Date start = c.referral_on ? *c.referral_on : *c.enquiry_on;
      Date due = start + std::chrono::days(o_.first_visit_days);
      if (Status s = add(WorkKind::kFirstVisit, 0, due, always, due + std::chrono::days(1)); !s.ok()) return s;
    }
    if (c.plan_review_on) {
      Date due = *c.plan_review_on;
      if (Status s = add(WorkKind::kReview, 0, due, always, due + std::chrono::days(1)); !s.ok()) return s;
    }
    if (auto since = AwaitingSince(c)) {
      auto due = cal_.AddWorkingDays(*since, o_.allocation_grace_working_days);
      auto listed = cal_.AddWorkingDays(*since, o_.allocation_grace_working_days + 1);
      if (!due.ok()) return due.status();
      if (!listed.ok()) return listed.status();
      if (Status s = add(WorkKind::kAllocation, 0, *due, *listed, *listed); !s.ok()) return s;
    }
    if (c.follow_up_on && c.follow_up_set_on && !c.follow_up_done_on) {
      Date due = *c.follow_up_on;
      if (Status s = add(WorkKind::kFollowUp, 0, due, always, due + std::chrono::days(1)); !s.ok()) return s;
    }
    for (const ServiceLine& l : c.lines) {
      if (!LineOpen(l, as_of_)) continue;
      if (IsDfg(l)) {
        int target = l.urgency == "urgent" ? o_.dfg_urgent_days : o_.dfg_non_urgent_days;
        auto due = cal_.AddWorkingDays(*c.enquiry_on, target);
        auto over = cal_.AddWorkingDays(*c.enquiry_on, target + 1);
        if (!due.ok()) return due.status();
        if (!over.ok()) return over.status();
        if (Status s = add(WorkKind::kDfg, l.line, *due, always, *over); !s.ok()) return s;
      }
      auto last = LastActivity(c, l, as_of_);
      if (!last) continue;
      auto listed = cal_.AddWorkingDays(*last, o_.stall_working_days + 1);
      if (!listed.ok()) return listed.status();
      if (Status s = add(WorkKind::kStalled, l.line, *last, *listed, *listed); !s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  WorkItem Base(WorkKind kind, const CaseState& c) const {
    WorkItem w;
    w.kind = kind;
    w.case_id = c.case_id;
    w.district = c.district;
    w.worker = c.worker;
    return w;
  }

  // Since when the case has been waiting for a worker on `as_of`, or
  // nullopt when it had one then. A case whose current worker was allocated
  // after `as_of` had one from its first allocation on (a deallocation in
  // between is not kept in the state: docs/readmodels.md).
  std::optional<Date> AwaitingSince(const CaseState& c) const {
    if (!c.worker.empty()) {
      if (By(c.first_allocated_on, as_of_)) return std::nullopt;
      return c.enquiry_on;
    }
    if (c.deallocated_on) {
      if (*c.deallocated_on <= as_of_) return c.deallocated_on;
      if (By(c.first_allocated_on, as_of_)) return std::nullopt;
    }
    return c.enquiry_on;
  }

  Status Allocation(const CaseState& c, std::vector<WorkItem>* out) const {
    auto since = AwaitingSince(c);
    if (!since) return Status::OK();
    auto elapsed = cal_.WorkingDaysBetween(*since, as_of_);
    if (!elapsed.ok()) return elapsed.status();
    if (*elapsed <= o_.allocation_grace_working_days) return Status::OK();
    auto due = cal_.AddWorkingDays(*since, o_.allocation_grace_working_days);
    if (!due.ok()) return due.status();
    bool again = c.deallocated_on && *since == *c.deallocated_on;
    WorkItem w = Base(WorkKind::kAllocation, c);
    w.worker.clear();
    w.status = "overdue";
    w.stage = "allocation to a worker";
    w.since = *since;
    w.due = *due;
    w.elapsed = *elapsed;
    w.target = o_.allocation_grace_working_days;
    w.detail = std::string(again ? "worker taken off the case on " : "enquiry ") + FormatDate(*since) +
               ": no responsible worker for " + Plural(*elapsed, "working day") + " (allocate within " +
               Plural(o_.allocation_grace_working_days, "working day") + ")";
    out->push_back(std::move(w));
    return Status::OK();
  }

  // Information and advice to follow up: set by a consultation on or before
  // `as_of`, not followed up by then, due within due_soon_days or overdue.
  void FollowUp(const CaseState& c, std::vector<WorkItem>* out) const {
    if (!c.follow_up_on || !By(c.follow_up_set_on, as_of_) || By(c.follow_up_done_on, as_of_)) return;
    Date due = *c.follow_up_on;
    std::string status;
    if (due < as_of_) {
      status = "overdue";
    } else if (Days(as_of_, due) <= o_.due_soon_days) {
      status = "due-soon";
    } else {
      return;
    }
    WorkItem w = Base(WorkKind::kFollowUp, c);
    w.status = status;
    w.stage = "follow-up of information and advice";
    w.since = *c.follow_up_set_on;
    w.due = due;
    w.elapsed = Days(*c.follow_up_set_on, as_of_);
    w.detail = "advice given at the consultation of " + FormatDate(*c.follow_up_set_on) + ": follow up " +
               (due < as_of_ ? "was due " + FormatDate(due) + " (" + Plural(Days(due, as_of_), "day") + " ago)"
                             : "by " + FormatDate(due));
    out->push_back(std::move(w));
  }

  void FirstVisit(const CaseState& c, std::vector<WorkItem>* out) const {
    if (By(c.first_visit_on, as_of_)) return;
    // The clock starts at the first referral when the case came by referral
    // (known by as-of), else at the enquiry: the return's rule (docs/exports.md).
    bool referred = By(c.referral_on, as_of_);
    Date start = referred ? *c.referral_on : *c.enquiry_on;
    const char* from = referred ? "referral" : "enquiry";
    Date due = start + std::chrono::days(o_.first_visit_days);
    int elapsed = Days(start, as_of_);
    std::string status;
    if (as_of_ > due) {
      status = "overdue";
    } else if (Days(as_of_, due) <= o_.due_soon_days) {
      status = "due-soon";
    } else {
      return;
    }
    WorkItem w = Base(WorkKind::kFirstVisit, c);
    w.status = status;
    w.stage = "first visit";
    w.since = start;
    w.due = due;
    w.elapsed = elapsed;
    w.target = o_.first_visit_days;
    w.detail = std::string(from) + " " + FormatDate(start) + ", first visit due by " + FormatDate(due) + "; " +
               Plural(elapsed, "day") + " since the " + from;
    if (c.first_visit_booked_for && *c.first_visit_booked_for >= as_of_) {
      w.detail += "; booked for " + FormatDate(*c.first_visit_booked_for);
    }
    out->push_back(std::move(w));
  }

  void Review(const CaseState& c, std::vector<WorkItem>* out) const {
    if (!c.plan_review_on) return;
    Date due = *c.plan_review_on;
    std::string status;
    if (due < as_of_) {
      status = "overdue";
    } else if (Days(as_of_, due) <= o_.review_due_days) {
      status = "due-soon";
    } else {
      return;
    }
    WorkItem w = Base(WorkKind::kReview, c);
    w.status = status;
    w.stage = "support plan review";
    w.since = c.plan_agreed_on.value_or(due);
    w.due = due;
    w.elapsed = Days(due, as_of_);
    w.detail = "support plan review " + std::string(due < as_of_ ? "was due " : "due ") + FormatDate(due) +
               (due < as_of_ ? " (" + Plural(w.elapsed, "day") + " ago)" : "");
    out->push_back(std::move(w));
  }

  // A complaint awaiting the agency's response at its stage on `as_of`
  // (docs/readmodels.md, the `complaint` list): due
  // ComplaintResponseWorkingDays after it reached the stage; none at the
  // Ombudsman. The state holds each complaint's current stage: on a past day
  // a complaint is listed at that stage if it had reached it by then.
  Status ComplaintItem(const domain::Complaint& k, WorkItem w, const std::string& note,
                       std::vector<WorkItem>* out) const {
    int days = domain::ComplaintResponseWorkingDays(k.stage);
    if (days == 0 || k.stage_on > as_of_ || By(k.responded_on, as_of_)) return Status::OK();
    auto elapsed = cal_.WorkingDaysBetween(k.stage_on, as_of_);
    if (!elapsed.ok()) return elapsed.status();
    auto due = cal_.AddWorkingDays(k.stage_on, days);
    if (!due.ok()) return due.status();
    w.status = as_of_ > *due ? "overdue" : Days(as_of_, *due) <= o_.due_soon_days ? "due-soon" : "open";
    w.stage = "response at " + Words(k.stage);
    w.since = k.stage_on;
    w.due = *due;
    w.elapsed = *elapsed;
    w.target = days;
    bool escalated = k.stage_on != k.received_on;
    w.detail = "complaint " + std::to_string(k.number) + (escalated ? " escalated to " : " received at ") +
               Words(k.stage) + " on " + FormatDate(k.stage_on) + ": respond by " + FormatDate(*due) + " (" +
               Plural(days, "working day") + ")" + note;
    out->push_back(std::move(w));
    return Status::OK();
  }

  // Each safeguarding referral made by `as_of` and not acknowledged by then.
  Status Safeguarding(const CaseState& c, std::vector<WorkItem>* out) const {
    for (const domain::SafeguardingConcern& g : c.safeguarding) {
      if (!By(g.referred_on, as_of_) || By(g.acknowledged_on, as_of_)) continue;
      auto elapsed = cal_.WorkingDaysBetween(*g.referred_on, as_of_);
      if (!elapsed.ok()) return elapsed.status();
      auto due = cal_.AddWorkingDays(*g.referred_on, o_.safeguarding_ack_working_days);
      if (!due.ok()) return due.status();
      WorkItem w = Base(WorkKind::kSafeguarding, c);
      w.status = *elapsed > o_.safeguarding_ack_working_days ? "overdue" : "due-soon";
      w.stage = "acknowledgement";
      w.since = *g.referred_on;
      w.due = *due;
      w.elapsed = *elapsed;
      w.target = o_.safeguarding_ack_working_days;
      w.detail = "safeguarding concern " + std::to_string(g.number) + " (" + Words(g.category) +
                 (g.person_type.empty() ? std::string() : ", " + g.person_type) + ") referred to " +
                 Words(g.referred_to) + " on " + FormatDate(*g.referred_on) + ": not acknowledged after " +
                 Plural(*elapsed, "working day") + (c.closed ? " (the case is closed)" : "");
      out->push_back(std::move(w));
    }
    return Status::OK();
  }

  Status Dfg(const CaseState& c, const ServiceLine& l, std::vector<WorkItem>* out) const {
    WorkItem w = Base(WorkKind::kDfg, c);
    w.line = l.line;
    w.urgency = l.urgency;
    bool urgent = l.urgency == "urgent";
    w.target = urgent ? o_.dfg_urgent_days : o_.dfg_non_urgent_days;
    w.stages = StagesOf(c, l, as_of_);
    w.since = *w.stages[0].on;
    // Each stage reached: working days from the previous stage reached. The
    // first stage not reached: working days so far.
    Date previous = w.since;
    for (size_t i = 1; i < w.stages.size(); ++i) {
      DfgStage& st = w.stages[i];
      if (st.on) {
        auto n = cal_.WorkingDaysBetween(previous, *st.on);
        if (!n.ok()) return n.status();
        st.working_days = *n;
        previous = *st.on;
      }
    }
    size_t current = w.stages.size();
    for (size_t i = w.stages.size(); i-- > 1;) {
      if (w.stages[i].on) break;
      current = i;
    }
    if (current < w.stages.size()) {
      auto n = cal_.WorkingDaysBetween(previous, as_of_);
      if (!n.ok()) return n.status();
      w.stages[current].working_days = *n;
      w.stage = w.stages[current].name;
    }
    auto elapsed = cal_.WorkingDaysBetween(w.since, as_of_);
    if (!elapsed.ok()) return elapsed.status();
    w.elapsed = *elapsed;
    auto due = cal_.AddWorkingDays(w.since, w.target);
    if (!due.ok()) return due.status();
    w.due = *due;
    if (w.elapsed > w.target) {
      w.status = "overdue";
    } else if (Days(as_of_, *due) <= o_.due_soon_days) {
      w.status = "due-soon";
    } else {
      w.status = "on-track";
    }
    w.detail = std::string("DFG ") + (l.urgency.empty() ? "(urgency not decided, non-urgent target)"
                                                        : Words(l.urgency)) +
               ": " + std::to_string(w.elapsed) + " of " + std::to_string(w.target) +
               " working days since first contact " + FormatDate(w.since) + ", target date " +
               FormatDate(*due) + "; awaiting " + w.stage;
    out->push_back(std::move(w));
    return Status::OK();
  }

  Status Stalled(const CaseState& c, const ServiceLine& l, std::vector<WorkItem>* out) const {
    auto last = LastActivity(c, l, as_of_);
    if (!last) return Status::OK();
    auto idle = cal_.WorkingDaysBetween(*last, as_of_);
    if (!idle.ok()) return idle.status();
    if (*idle <= o_.stall_working_days) return Status::OK();
    WorkItem w = Base(WorkKind::kStalled, c);
    w.line = l.line;
    w.status = "stalled";
    w.stage = NextStep(c, l, as_of_);
    w.since = *last;
    w.elapsed = *idle;
    w.target = o_.stall_working_days;
    w.urgency = l.urgency;
    w.detail = "line " + std::to_string(l.line) + " (" + Words(l.service) + "): no activity since " +
               FormatDate(*last) + ", " + Plural(*idle, "working day") + "; awaiting " + w.stage;
    if (!l.delayed_stage.empty()) w.detail += "; delay recorded at " + Words(l.delayed_stage);
    out->push_back(std::move(w));
    return Status::OK();
  }

  const domain::Calendar& cal_;
  const WorklistOptions& o_;
  Date as_of_;
};

std::string Pounds(int64_t pence) {
  std::string digits = std::to_string(pence / 100);
  for (int i = int(digits.size()) - 3; i > 0; i -= 3) digits.insert(size_t(i), ",");
  return "£" + digits;
}

// The budget rule (docs/readmodels.md, the `budget` list): from the first day of the
// year's second quarter, committed-or-spent so far is projected to the
// year's end on a straight line (so far / share of the year gone); a
// projection below the target is listed.
void Budgets(const WorklistOptions& o, Date as_of, std::vector<WorkItem>* out) {
  for (const BudgetPosition& b : o.budgets) {
    if (!o.district.empty() && b.district != o.district) continue;
    if (b.allocation_pence <= 0 || as_of < b.year_first || as_of > b.year_last) continue;
    if (as_of < b.year_first + std::chrono::days{91}) continue;  // Q1: too little of the year to project from
    int64_t elapsed = (as_of - b.year_first).count() + 1;
    int64_t year = (b.year_last - b.year_first).count() + 1;
    int64_t used = b.committed_pence + b.spent_pence;
    // used * year / elapsed < target% of the allocation
    if (used * year * 100 >= int64_t(o.spend_target_percent) * b.allocation_pence * elapsed) continue;
    WorkItem w;
    w.kind = WorkKind::kBudget;
    w.district = b.district;
    w.status = "projected-miss";
    w.stage = b.fund;
    w.since = b.year_first;
    w.due = b.year_last;
    int64_t projected = used * year * 100 / (b.allocation_pence * elapsed);
    w.elapsed = int(projected);
    w.target = o.spend_target_percent;
    w.detail = b.fund + " " + b.financial_year + ": " + Pounds(used) + " committed or spent of " +
               Pounds(b.allocation_pence) + " allocated (" + std::to_string(used * 100 / b.allocation_pence) +
               " %) with " + std::to_string(elapsed * 100 / year) + " % of the year gone; at this rate " +
               std::to_string(projected) + " % by " + FormatDate(b.year_last) + ", short of the " +
               std::to_string(o.spend_target_percent) + " % target";
    out->push_back(std::move(w));
  }
}

// The breach rule (docs/readmodels.md, the `breach` list): UK GDPR Art.
// 33(1), the ICO is notified within 72 hours of discovery unless the breach
// is unlikely to result in a risk. A breach discovered by the worklist's day
// whose clock runs (not notified, no decision not to notify, not assessed as
// unlikely) is listed: due by the third day after discovery, overdue after.
void Breaches(const WorklistOptions& o, Date as_of, std::vector<WorkItem>* out) {
  for (const domain::BreachState& b : o.breaches) {
    if (b.discovered_on > as_of || !b.ClockRunning()) continue;
    WorkItem w;
    w.kind = WorkKind::kBreach;
    w.case_id = b.stream;
    w.status = as_of > b.NotifyBy() ? "overdue" : "due-soon";
    w.stage = b.risk.empty() ? "assessment and ICO notification" : "ICO notification";
    w.since = b.discovered_on;
    w.due = b.NotifyBy();
    w.elapsed = int((as_of - b.discovered_on).count());
    w.target = domain::kBreachNotifyDays;
    std::string when = b.discovered_time.empty() ? std::string() : " " + b.discovered_time;
    w.detail = "breach " + b.ref + " (" + b.kind + ", " + b.cause + ") discovered " + FormatDate(b.discovered_on) +
               when + ", " + (b.risk.empty() ? std::string("not yet assessed") : "assessed " + b.risk) +
               ": notify the ICO within 72 hours, by " + FormatDate(b.NotifyBy()) + when +
               (w.status == "overdue" ? " (overdue: record the reasons for the delay)" : "");
    out->push_back(std::move(w));
  }
}

OJson ItemJson(const WorkItem& w) {
  OJson j = OJson::object();
  j["kind"] = WorkKindName(w.kind);
  j["status"] = w.status;
  if (!w.case_id.empty()) {
    bool own = w.case_id.compare(0, 5, "case/") != 0;  // a breach's or a complaint's own stream
    j[w.kind == WorkKind::kBreach ? "breach" : own ? "complaint" : "case"] = w.case_id;
  }
  j["district"] = w.district;
  if (w.line != 0) j["line"] = w.line;
  j["stage"] = w.stage;
  j["since"] = FormatDate(w.since);
  if (w.due) j["due"] = FormatDate(*w.due);
  j["elapsed"] = w.elapsed;
  j["target"] = w.target;
  j["unit"] = w.kind == WorkKind::kBudget ? "percent"
              : (w.kind == WorkKind::kDfg || w.kind == WorkKind::kStalled || w.kind == WorkKind::kSafeguarding ||
                 w.kind == WorkKind::kAllocation || w.kind == WorkKind::kComplaint)
                  ? "workingDays"
                  : "days";
  if (w.kind == WorkKind::kDfg) {
    j["urgency"] = w.urgency;
    OJson stages = OJson::array();
    for (const DfgStage& s : w.stages) {
      OJson x = {{"stage", s.name}};
      if (s.on) x["on"] = FormatDate(*s.on);
      x["workingDays"] = s.working_days;
      stages.push_back(std::move(x));
    }
    j["stages"] = std::move(stages);
  }
  if (!w.worker.empty()) j["worker"] = w.worker;
  j["detail"] = w.detail;
  return j;
}

// The statuses an item of the work index can have, and the worklist's names
// for them. In StatusRank's order: each one's rank is its value, "open" and
// "on-track" sharing the last.
enum EntryState : int { kNotListed = -1, kOverdue, kStalledState, kDueSoon, kOpen, kOnTrack };
constexpr const char* kEntryStateNames[] = {"overdue", "stalled", "due-soon", "open", "on-track"};
int RankOf(EntryState s) { return std::min(int(s), int(kOpen)); }

// An item's status on `as_of` from its work index entry (work_index.h), as
// the rules would give it; kNotListed when they would not list it that day.
// The windows are the worklist's own (`o`); every other target is fixed in
// the entry's days.
EntryState EntryStatus(WorkKind kind, Date day, Date listed_from, Date overdue_from, Date as_of,
                       const WorklistOptions& o) {
  if (as_of < listed_from) return kNotListed;
  switch (kind) {
    case WorkKind::kFirstVisit:
    case WorkKind::kFollowUp:
      if (as_of >= overdue_from) return kOverdue;
      return Days(as_of, day) <= o.due_soon_days ? kDueSoon : kNotListed;
    case WorkKind::kReview:
      if (as_of >= overdue_from) return kOverdue;
      return Days(as_of, day) <= o.review_due_days ? kDueSoon : kNotListed;
    case WorkKind::kComplaint:
      if (as_of >= overdue_from) return kOverdue;
      return Days(as_of, day) <= o.due_soon_days ? kDueSoon : kOpen;
    case WorkKind::kDfg:
      if (as_of >= overdue_from) return kOverdue;
      return Days(as_of, day) <= o.due_soon_days ? kDueSoon : kOnTrack;
    case WorkKind::kSafeguarding:
      return as_of >= overdue_from ? kOverdue : kDueSoon;
    case WorkKind::kAllocation:
      return kOverdue;
    case WorkKind::kStalled:
      return kStalledState;
    case WorkKind::kBudget:
    case WorkKind::kBreach:
      break;
  }
  return kNotListed;
}

// The items no case's state gives (a worker's own list has none): budgets,
// breaches, and complaints with no case in the district, of people whose
// processing is not restricted.
Status Unindexed(const WorklistOptions& options, Date as_of, const std::set<std::string>& restricted,
                 const Evaluator& eval, std::vector<WorkItem>* out) {
  if (!options.worker.empty()) return Status::OK();
  Budgets(options, as_of, out);
  Breaches(options, as_of, out);
  for (const domain::ComplaintState& k : options.complaints) {
    if (!options.district.empty() && k.district != options.district) continue;
    if (std::any_of(k.complainants.begin(), k.complainants.end(),
                    [&](const std::string& p) { return restricted.count(p) != 0; })) {
      continue;
    }
    Status s = eval.Complaint(k, out);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// One item of the list on its way to a page: its place, and where it comes
// from (an entry of the work index, or `extra`, an item evaluated whole).
struct Candidate {
  Place place;
  int extra = -1;
};

// The worklist from the work index (work_index.h), when the index can give
// it: a day on or after every case's settled day, the calendar and targets
// the entries were kept under, and no `include`. Counts come from the
// entries alone; only the page's cases (and those the index could not hold)
// are read and evaluated. False, with `wl` untouched: evaluate every case.
Result<bool> FromWorkIndex(LogReader& store, const domain::Calendar& calendar, const WorklistOptions& options,
                           const std::optional<Place>& after, const std::set<std::string>& restricted,
                           Worklist* wl) {
  if (options.full_scan || options.include) return false;
  std::string bytes;
  Status got = store.GetProjectionValue(kCasesProjection, std::string(kWorkSettledKey), &bytes);
  if (got.IsNotFound()) return false;  // no case folded yet
  if (!got.ok()) return got;
  Date settled{};
  uint64_t fingerprint = 0;
  if (Status s = DecodeWorkSettled(bytes, &settled, &fingerprint); !s.ok()) return s;
  if (fingerprint != WorkIndexFingerprint(calendar, options) || wl->as_of < settled) return false;

  const Date as_of = wl->as_of;
  // The page's candidates: with a limit, the `limit` earliest after `after`
  // (a max-heap: an item later than its top is passed over unbuilt, so a
  // district's entries, which come in the list's order, cost a comparison
  // each once the page is full).
  auto earlier = [](const Candidate& a, const Candidate& b) { return a.place.Key() < b.place.Key(); };
  std::vector<Candidate> candidates;
  uint64_t after_count = 0;  // items after `after`
  auto take = [&](const Order& order, uint64_t ordinal, int extra) {
    const auto key = std::tuple_cat(order, std::make_tuple(ordinal));
    if (after && !(after->Key() < key)) return;
    ++after_count;
    if (options.limit != 0 && candidates.size() == options.limit) {
      if (!(key < candidates.front().place.Key())) return;
      std::pop_heap(candidates.begin(), candidates.end(), earlier);
      candidates.pop_back();
    }
    auto [kind, rank, day, case_id, line] = order;
    candidates.push_back(Candidate{Place{kind, rank, day, std::string(case_id), line, ordinal}, extra});
    if (options.limit != 0) std::push_heap(candidates.begin(), candidates.end(), earlier);
  };
  // Counted by kind and status, named at the end.
  constexpr size_t kKinds = size_t(WorkKind::kComplaint) + 1;
  uint64_t tally[kKinds][std::size(kEntryStateNames)] = {};
  const std::string district_part = options.district.empty() ? std::string() : options.district + '\0';
  Status inner;
  std::string client, worker;
  Status s = store.ScanProjection(
      kCasesProjection, std::string(1, kWorkTag) + district_part, [&](std::string_view key, std::string_view value) {
        const size_t zero = key.find('\0', 1);
        const size_t id_at = zero == std::string_view::npos ? key.size() : zero + 2 + kIndexDayBytes;
        const size_t id_end = id_at >= key.size() ? std::string_view::npos : key.find('\0', id_at);
        base::Reader r(value);
        Date listed = r.Day(), over = r.Day();
        r.Str(&client);
        r.Str(&worker);
        if (id_end == std::string_view::npos || key.size() != id_end + 4 || !r.done() ||
            uint8_t(key[zero + 1]) >= kKinds) {
          inner = Status::Corruption("cases projection: a work index entry that does not parse");
          return false;
        }
        if (!options.worker.empty() && worker != options.worker) return true;
        if (restricted.count(client) != 0) return true;
        const WorkKind kind = WorkKind(uint8_t(key[zero + 1]));
        const Date day = IndexDayOf(key.substr(zero + 2, kIndexDayBytes));
        const EntryState status = EntryStatus(kind, day, listed, over, as_of, options);
        if (status == kNotListed) return true;
        ++tally[size_t(kind)][status];
        const int line = (uint8_t(key[id_end + 1]) << 8) | uint8_t(key[id_end + 2]);
        take(Order{int(kind), RankOf(status), int64_t(day.time_since_epoch().count()),
                   key.substr(id_at, id_end - id_at), line},
             uint8_t(key[id_end + 3]), -1);
        return true;
      });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  for (size_t k = 0; k < kKinds; ++k) {
    for (size_t st = 0; st < std::size(kEntryStateNames); ++st) {
      if (tally[k][st] == 0) continue;
      wl->counts[WorkKindName(WorkKind(k))][kEntryStateNames[st]] += tally[k][st];
      wl->total_items += tally[k][st];
    }
  }

  // The cases the index could not hold, evaluated whole, and the items of no
  // case: merged into the list by their places.
  std::vector<std::string> whole;
  s = store.ScanProjection(kCasesProjection, std::string(1, kWorkWholeTag) + district_part,
                           [&](std::string_view key, std::string_view) {
                             const size_t zero = key.find('\0', 1);
                             if (zero == std::string_view::npos) {
                               inner = Status::Corruption("cases projection: a work index key that does not parse");
                               return false;
                             }
                             whole.emplace_back(key.substr(zero + 1));
                             return true;
                           });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  Evaluator eval(calendar, options, as_of);
  std::vector<WorkItem> extras;
  auto wanted = [&](const CaseState& c) {
    return (options.district.empty() || c.district == options.district) && restricted.count(c.client) == 0 &&
           (options.worker.empty() || c.worker == options.worker);
  };
  s = ReadCaseStates(store, whole, &wl->states_read, [&](const std::string&, const CaseState& c) {
    if (!wanted(c)) return true;
    ++wl->cases_considered;
    inner = eval.Case(c, &extras);
    if (!inner.ok()) inner = Status::InvalidArgument(c.case_id + ": " + inner.message());
    return inner.ok();
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  s = Unindexed(options, as_of, restricted, eval, &extras);
  if (!s.ok()) return s;
  std::stable_sort(extras.begin(), extras.end(),
                   [](const WorkItem& a, const WorkItem& b) { return OrderOf(a) < OrderOf(b); });
  uint64_t ordinal = 0;
  for (size_t i = 0; i < extras.size(); ++i) {
    ordinal = i > 0 && OrderOf(extras[i]) == OrderOf(extras[i - 1]) ? ordinal + 1 : 0;
    ++wl->counts[WorkKindName(extras[i].kind)][extras[i].status];
    ++wl->total_items;
    take(OrderOf(extras[i]), ordinal, int(i));
  }

  // The page, in order.
  std::sort(candidates.begin(), candidates.end(), earlier);
  if (after_count > candidates.size()) wl->next = FormatPlace(candidates.back().place);
  // Its cases' states, each evaluated once; an item is the one at its place
  // among the case's items. One that is not there (the projection folded
  // between the index and the state) is left out of the page.
  std::vector<std::string> ids;
  for (const Candidate& c : candidates) {
    if (c.extra < 0) ids.push_back(c.place.case_id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unordered_map<std::string, std::vector<WorkItem>> evaluated;
  s = ReadCaseStates(store, ids, &wl->states_read, [&](const std::string&, const CaseState& c) {
    if (!wanted(c)) return true;
    ++wl->cases_considered;
    inner = eval.Case(c, &evaluated[c.case_id]);
    if (!inner.ok()) inner = Status::InvalidArgument(c.case_id + ": " + inner.message());
    return inner.ok();
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  std::vector<WorkItem> page;
  page.reserve(candidates.size());
  for (const Candidate& c : candidates) {
    if (c.extra >= 0) {
      page.push_back(std::move(extras[size_t(c.extra)]));
      continue;
    }
    auto it = evaluated.find(c.place.case_id);
    if (it == evaluated.end()) continue;
    const Order order{c.place.kind, c.place.rank, c.place.day, c.place.case_id, c.place.line};
    uint64_t n = 0;
    for (const WorkItem& w : it->second) {
      if (OrderOf(w) != order) continue;
      if (n++ == c.place.ordinal) {
        page.push_back(w);  // a copy: its equals after it are counted by their places too
        break;
      }
    }
  }
  wl->items = std::move(page);
  wl->indexed = true;
  return true;
}

}  // namespace

const char* WorkKindName(WorkKind kind) {
  switch (kind) {
    case WorkKind::kFirstVisit:
      return "first-visit";
    case WorkKind::kDfg:
      return "dfg";
    case WorkKind::kStalled:
      return "stalled";
    case WorkKind::kReview:
      return "review";
    case WorkKind::kSafeguarding:
      return "safeguarding";
    case WorkKind::kBudget:
      return "budget";
    case WorkKind::kBreach:
      return "breach";
    case WorkKind::kAllocation:
      return "allocation";
    case WorkKind::kFollowUp:
      return "follow-up";
    case WorkKind::kComplaint:
      return "complaint";
  }
  return "unknown";
}

Result<Worklist> BuildWorklist(LogReader& store, const domain::Calendar& calendar,
                               const WorklistOptions& options) {
  Status s = CheckOptions(options);
  if (!s.ok()) return s;
  std::optional<Place> after;  // where the page starts: after this place
  if (!options.after.empty()) {
    after = ParsePlace(options.after);
    if (!after) {
      return Status::InvalidArgument("worklist: after \"" + options.after +
                                     "\" is not a continuation a worklist gave (its `next`)");
    }
  }
  Date today = domain::UkDate(domain::Now());
  Worklist wl;
  wl.as_of = options.as_of.value_or(today);
  wl.district = options.district;
  wl.worker = options.worker;
  if (!calendar.Covers(wl.as_of)) {
    return Status::InvalidArgument("worklist: " + FormatDate(wl.as_of) +
                                   " is outside the working-day calendar (" +
                                   std::to_string(calendar.first_year()) + " to " +
                                   std::to_string(calendar.last_year()) + ")");
  }
  auto projections = store.Projections();
  if (!projections.ok()) return projections.status();
  bool found = false;
  for (const auto& p : *projections) {
    if (p.name == kCasesProjection) {
      found = true;
      wl.position = p.position;
    }
  }
  if (!found) return Status::NotFound("worklist: the store was opened without the cases projection");

  // UK GDPR Art. 18: a restricted person's cases are left out, from the one
  // view of the restrictions (a ScopedReader has left them out already).
  auto restricted = store.RestrictedSubjects();
  if (!restricted.ok()) return restricted.status();
  auto indexed = FromWorkIndex(store, calendar, options, after, *restricted, &wl);
  if (!indexed.ok()) return indexed.status();
  if (*indexed) return wl;

  Evaluator eval(calendar, options, wl.as_of);
  CaseScan scan;
  scan.district = options.district;
  // Cases closed today or earlier cannot be on a worklist of today or later;
  // a past day needs the cases closed since, too (the quiet index: those
  // closed, acknowledged or answered after it), not every case.
  scan.open_only = true;
  if (wl.as_of < today) scan.work_on = wl.as_of;
  Status inner;
  s = ScanCases(store, scan, [&](const CaseState& c) {
    ++wl.states_read;
    if (restricted->count(c.client) != 0) return true;
    if (options.include && !options.include(c)) return true;
    if (!options.worker.empty() && c.worker != options.worker) return true;  // a worker's own list
    ++wl.cases_considered;
    inner = eval.Case(c, &wl.items);
    if (!inner.ok()) {
      // Only the calendar fails here: a date outside its years.
      inner = Status::InvalidArgument(c.case_id + ": " + inner.message());
    }
    return inner.ok();
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  s = Unindexed(options, wl.as_of, *restricted, eval, &wl.items);
  if (!s.ok()) return s;
  std::stable_sort(wl.items.begin(), wl.items.end(),
                   [](const WorkItem& a, const WorkItem& b) { return OrderOf(a) < OrderOf(b); });
  wl.total_items = wl.items.size();
  for (const WorkItem& w : wl.items) ++wl.counts[WorkKindName(w.kind)][w.status];
  if (options.limit == 0 && options.after.empty()) return wl;
  // The page: the items after `after`, at most `limit` of them.
  // Each item's ordinal among those equal to it in order, before any moves.
  std::vector<uint64_t> ordinals(wl.items.size(), 0);
  for (size_t i = 1; i < wl.items.size(); ++i) {
    if (OrderOf(wl.items[i]) == OrderOf(wl.items[i - 1])) ordinals[i] = ordinals[i - 1] + 1;
  }
  std::vector<WorkItem> page;
  for (size_t i = 0; i < wl.items.size(); ++i) {
    if (after && !(after->Key() < std::tuple_cat(OrderOf(wl.items[i]), std::make_tuple(ordinals[i])))) continue;
    if (options.limit != 0 && page.size() == options.limit) {
      wl.next = FormatPlace(PlaceOf(page.back(), ordinals[i - 1]));
      break;
    }
    page.push_back(std::move(wl.items[i]));
  }
  wl.items = std::move(page);
  return wl;
}

std::string WorklistToJson(const Worklist& wl, bool pretty) {
  OJson j = OJson::object();
  j["asOf"] = FormatDate(wl.as_of);
  j["district"] = wl.district;
  if (!wl.worker.empty()) j["worker"] = wl.worker;
  j["position"] = wl.position;
  j["casesConsidered"] = wl.cases_considered;
  OJson counts = OJson::object();
  for (WorkKind k : {WorkKind::kFirstVisit, WorkKind::kDfg, WorkKind::kStalled, WorkKind::kReview,
                     WorkKind::kSafeguarding, WorkKind::kBudget, WorkKind::kBreach, WorkKind::kAllocation,
                     WorkKind::kFollowUp, WorkKind::kComplaint}) {
    OJson c = OJson::object();
    auto it = wl.counts.find(WorkKindName(k));
    if (it != wl.counts.end()) {  // in the items' order: overdue first
      std::vector<std::pair<std::string, uint64_t>> by_rank(it->second.begin(), it->second.end());
      std::stable_sort(by_rank.begin(), by_rank.end(),
                       [](const auto& a, const auto& b) { return StatusRank(a.first) < StatusRank(b.first); });
      for (const auto& [status, n] : by_rank) c[status] = n;
    }
    counts[WorkKindName(k)] = std::move(c);
  }
  j["counts"] = std::move(counts);
  j["totalItems"] = wl.total_items;
  // The items are written one at a time into the text, never held as one
  // JSON tree: a county's whole worklist has about 100,000 items, and their
  // tree took about a kilobyte and a half each on top of the items
  // themselves (issue 22 item 3). The rest of the document is dumped with a
  // marker where the array goes (a control character, escaped in JSON, that
  // no value of the header holds), and the array is written in its place,
  // as the document's own dump would have written it.
  const std::string marker = "\\u0001items\\u0001";
  j["items"] = "\x01items\x01";
  if (!wl.next.empty()) j["next"] = wl.next;
  const std::string outer = pretty ? j.dump(2) : j.dump();
  const size_t at = outer.find("\"" + marker + "\"");
  std::string out;
  out.reserve(outer.size() + wl.items.size() * (pretty ? 640 : 480));
  out.append(outer, 0, at);
  if (wl.items.empty()) {
    out += "[]";
  } else {
    out += pretty ? "[\n    " : "[";
    bool first = true;
    for (const WorkItem& w : wl.items) {
      if (!first) out += pretty ? ",\n    " : ",";
      first = false;
      const std::string item = pretty ? ItemJson(w).dump(2) : ItemJson(w).dump();
      if (!pretty) {
        out += item;
        continue;
      }
      // An element of the document's array is indented two levels deeper
      // (JSON strings hold no raw line breaks: every newline is layout).
      for (char c : item) {
        out.push_back(c);
        if (c == '\n') out += "    ";
      }
    }
    out += pretty ? "\n  ]" : "]";
  }
  out.append(outer, at + marker.size() + 2, std::string::npos);
  return out;
}

std::string WorklistToText(const Worklist& wl) {
  std::string out = "Worklist for " + (wl.district.empty() ? std::string("every district") : "district " + wl.district) +
                    (wl.worker.empty() ? std::string() : ", worker " + wl.worker) +
                    " on " + FormatDate(wl.as_of) + " (cases projection at position " +
                    std::to_string(wl.position) + ", " + std::to_string(wl.cases_considered) +
                    " cases considered)\n";
  static const char* kTitles[] = {"First visits not made within the target of the enquiry",
                                  "DFG cases against the 55 / 150 working-day targets",
                                  "Stalled: no activity on an open service line",
                                  "Support plan reviews due",
                                  "Safeguarding referrals awaiting acknowledgement",
                                  "Allocations projected to miss the spend target",
                                  "Breaches to notify to the ICO within 72 hours of discovery",
                                  "Open cases awaiting allocation to a worker",
                                  "Information and advice to follow up",
                                  "Complaints awaiting the agency's response"};
  for (WorkKind k : {WorkKind::kFirstVisit, WorkKind::kDfg, WorkKind::kStalled, WorkKind::kReview,
                     WorkKind::kSafeguarding, WorkKind::kBudget, WorkKind::kBreach, WorkKind::kAllocation,
                     WorkKind::kFollowUp, WorkKind::kComplaint}) {
    size_t n = 0;
    uint64_t total = 0;
    for (const WorkItem& w : wl.items) n += w.kind == k;
    if (auto it = wl.counts.find(WorkKindName(k)); it != wl.counts.end()) {
      for (const auto& [status, count] : it->second) total += count;
    }
    out += "\n" + std::string(kTitles[size_t(k)]) + ": " + std::to_string(total) +
           (n == total ? std::string() : " (" + std::to_string(n) + " on this page)") + "\n";
    for (const WorkItem& w : wl.items) {
      if (w.kind != k) continue;
      out += "  " + w.status + std::string(w.status.size() < 9 ? 9 - w.status.size() : 1, ' ') +
             (w.case_id.empty() ? "district " + w.district : w.case_id) + (w.line ? " line " + std::to_string(w.line) : std::string()) +
             (w.worker.empty() || !wl.worker.empty() ? std::string() : " (" + w.worker + ")") + "  " + w.detail + "\n";
      if (k == WorkKind::kDfg) {
        std::string stages = "           ";
        for (const DfgStage& s : w.stages) {
          if (s.on) {
            stages += " " + s.name + " " + FormatDate(*s.on) +
                      (s.name == "first-contact" ? std::string() : " (" + std::to_string(s.working_days) + " wd)");
          } else if (s.name == w.stage) {
            stages += " " + s.name + " awaited (" + std::to_string(s.working_days) + " wd so far)";
          } else {
            stages += " " + s.name + " -";
          }
        }
        out += stages + "\n";
      }
    }
  }
  if (!wl.next.empty()) out += "\nMore items follow: the next page is --after " + wl.next + "\n";
  return out;
}

// --- the work index (work_index.h) ---

const domain::Calendar& WorkIndexCalendar() {
  static const domain::Calendar calendar = domain::Calendar::EnglandAndWales();
  return calendar;
}

uint64_t WorkIndexFingerprint(const domain::Calendar& calendar, const WorklistOptions& o) {
  // The rules of the entries (Evaluator::Entries): a change to them is a
  // new projection version, and this number with it.
  constexpr int64_t kEntryRules = 1;
  std::vector<int64_t> parts = {kEntryRules,
                                calendar.first_year(),
                                calendar.last_year(),
                                o.first_visit_days,
                                o.dfg_urgent_days,
                                o.dfg_non_urgent_days,
                                o.stall_working_days,
                                o.safeguarding_ack_working_days,
                                o.allocation_grace_working_days};
  for (int year = calendar.first_year(); year <= calendar.last_year(); ++year) {
    for (Date d : calendar.BankHolidays(year)) parts.push_back(d.time_since_epoch().count());
  }
  unsigned char hash[8];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(parts.data()),
                     parts.size() * sizeof(int64_t), nullptr, 0);
  uint64_t v = 0;
  for (unsigned char b : hash) v = (v << 8) | b;
  return v | 1;  // never 0, which marks an index kept under more than one
}

std::optional<Date> SettledDay(const CaseState& c) {
  std::optional<Date> settled;
  auto at = [&settled](const std::optional<Date>& d) {
    if (d && (!settled || *d > *settled)) settled = d;
  };
  for (const auto& d : {c.enquiry_on, c.referral_on, c.first_visit_confirmed_on, c.first_visit_on, c.assessed_on,
                        c.rights_confirmed_on, c.plan_agreed_on, c.closed_on, c.last_activity_on, c.allocated_on,
                        c.first_allocated_on, c.deallocated_on, c.follow_up_set_on, c.follow_up_done_on}) {
    at(d);
  }
  // A booking is in the future when made; LastActivity counts it once
  // reached, but only in a state with no activity date of its own.
  if (!c.last_activity_on) at(c.first_visit_booked_for);
  for (const ServiceLine& l : c.lines) {
    at(l.opened_on);
    for (const auto& d : {l.closed_on, l.means_tested_on, l.application_on, l.valid_on, l.approved_on, l.refused_on,
                          l.specified_on, l.contractor_on, l.started_on, l.completed_on, l.paid_on}) {
      at(d);
    }
  }
  for (const domain::SafeguardingConcern& g : c.safeguarding) {
    at(g.referred_on);
    at(g.acknowledged_on);
  }
  for (const domain::Complaint& k : c.complaint_list) {
    at(k.stage_on);
    at(k.responded_on);
  }
  return settled;
}

Status WorkEntriesOf(const CaseState& c, std::vector<WorkEntry>* out) {
  static const WorklistOptions kTargets;
  out->clear();
  auto settled = SettledDay(c);
  if (!settled) return Status::OK();  // no enquiry: never listed
  return Evaluator(WorkIndexCalendar(), kTargets, *settled).Entries(c, out);
}

std::vector<std::pair<std::string, std::string>> WorkIndexOf(const CaseState& c) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<WorkEntry> entries;
  if (!WorkEntriesOf(c, &entries).ok()) {
    std::string k(1, kWorkWholeTag);
    k += c.district;
    k.push_back('\0');
    k += c.case_id;
    out.emplace_back(std::move(k), std::string());
    return out;
  }
  for (const WorkEntry& e : entries) {
    std::string k;
    k.reserve(12 + c.district.size() + c.case_id.size());
    k.push_back(kWorkTag);
    k += c.district;
    k.push_back('\0');
    k.push_back(char(uint8_t(e.kind)));
    AppendIndexDay(&k, e.day);
    k += c.case_id;
    k.push_back('\0');
    k.push_back(char(e.line >> 8));
    k.push_back(char(e.line & 0xff));
    k.push_back(char(e.seq));
    std::string v;
    base::Writer w(&v);
    w.Day(e.listed_from);
    w.Day(e.overdue_from);
    w.Str(c.client);
    w.Str(c.worker);
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

std::string EncodeWorkSettled(Date day, uint64_t fingerprint) {
  std::string v;
  base::Writer w(&v);
  w.Day(day);
  w.Var(fingerprint);
  return v;
}

Status DecodeWorkSettled(std::string_view bytes, Date* day, uint64_t* fingerprint) {
  base::Reader r(bytes);
  *day = r.Day();
  *fingerprint = r.Var();
  if (!r.done()) return Status::Corruption("cases projection: the work index's settled day does not decode");
  return Status::OK();
}

}  // namespace hearth::readmodels
