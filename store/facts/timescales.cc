// The monitored timescales' targets as configuration in the store
// (exports.h, docs/exports.md "Timescales"): in facts/, beside the facts
// they are measured against, for the exports and the worklist alike.
#include <nlohmann/json.hpp>

#include "domain/tables.h"
#include "facts/facts.h"
#include "hearth/exports.h"

namespace hearth::exports {

namespace {

Status OutOfRange(const char* field, int value, const std::string& range) {
  return Status::InvalidArgument("timescales: " + std::string(field) + " " + std::to_string(value) +
                                 " is outside " + range);
}

}  // namespace

Status ValidateTimescales(const Timescales& t) {
  if (t.first_visit_days < 1 || t.first_visit_days > 366) return OutOfRange("firstVisitDays", t.first_visit_days, "1..366");
  if (t.dfg_urgent_days < 1 || t.dfg_urgent_days > 1000) {
    return OutOfRange("dfgUrgentWorkingDays", t.dfg_urgent_days, "1..1000");
  }
  if (t.dfg_non_urgent_days < 1 || t.dfg_non_urgent_days > 1000) {
    return OutOfRange("dfgNonUrgentWorkingDays", t.dfg_non_urgent_days, "1..1000");
  }
  if (t.dfg_urgent_days > t.dfg_non_urgent_days) {
    return Status::InvalidArgument("timescales: dfgUrgentWorkingDays " + std::to_string(t.dfg_urgent_days) +
                                   " is above dfgNonUrgentWorkingDays " +
                                   std::to_string(t.dfg_non_urgent_days));
  }
  if (t.dfg_decision_months < 1 || t.dfg_decision_months > 12) {
    return OutOfRange("dfgDecisionMonths", t.dfg_decision_months, "1..12");
  }
  return Status::OK();
}

Status ApplyTimescalesSet(const domain::cs::TimescalesSet::Reader& f, uint64_t position, Timescales* out) {
  Timescales t;
  t.first_visit_days = f.getFirstVisitDays();
  t.dfg_urgent_days = f.getDfgUrgentWorkingDays();
  t.dfg_non_urgent_days = f.getDfgNonUrgentWorkingDays();
  t.dfg_decision_months = f.getDfgDecisionMonths();
  t.effective_on = f.getEffectiveOn().cStr();
  t.position = position;
  Status s = ValidateTimescales(t);
  if (!s.ok()) return Status::Corruption("position " + std::to_string(position) + ": " + s.message());
  *out = std::move(t);
  return Status::OK();
}

Result<Timescales> ReadTimescales(LogReader& store, const domain::Codec& codec, uint64_t position) {
  Timescales out;
  domain::FactsDecoder decoder(&codec.tables());
  for (uint64_t from = 1;;) {
    auto events = store.ReadStream(kTimescalesStream, from, Direction::kForward, 256);
    if (!events.ok()) {
      if (events.status().IsNotFound()) return out;
      return events.status();
    }
    if (events->empty()) return out;
    for (const auto& e : *events) {
      from = e.stream_version + 1;
      if (position != 0 && e.position > position) return out;
      domain::cs::Facts::Reader facts;
      const domain::TypeEntry* type = nullptr;
      Status s = decoder.Decode(e, &facts, &type);
      if (!s.ok()) return s;
      if (facts.which() != domain::cs::Facts::TIMESCALES_SET) continue;
      s = ApplyTimescalesSet(facts.getTimescalesSet(), e.position, &out);
      if (!s.ok()) return s;
    }
  }
}

Status SetTimescales(Store& store, const domain::Codec& codec, const Timescales& t,
                     domain::Date effective_on, const Actor& actor) {
  Status s = ValidateTimescales(t);
  if (!s.ok()) return s;
  if (effective_on > domain::UkDate(domain::Now())) {
    return Status::InvalidArgument("timescales: effectiveOn " + domain::FormatDate(effective_on) +
                                   " lies in the future");
  }
  nlohmann::json e;
  e["type"] = "TimescalesSet";
  e["facts"] = {{"effectiveOn", domain::FormatDate(effective_on)},
                {"firstVisitDays", t.first_visit_days},
                {"dfgUrgentWorkingDays", t.dfg_urgent_days},
                {"dfgNonUrgentWorkingDays", t.dfg_non_urgent_days},
                {"dfgDecisionMonths", t.dfg_decision_months}};
  e["actor"] = {{"user", actor.user}, {"role", actor.role}, {"plugin", actor.plugin}};
  e["subjects"] = nlohmann::json::array();
  NewEvent event;
  s = codec.FromJson(e.dump(), &event);
  if (!s.ok()) return s;
  auto r = store.Append(kTimescalesStream, ExpectedVersion::Any(), {event});
  return r.status();
}

}  // namespace hearth::exports
