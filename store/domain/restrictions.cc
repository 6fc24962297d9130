// The restrictions in force (api/include/hearth/domain.h, ActiveRestrictions):
// a fold of the restriction stream. It lives with the domain because the
// case recorder's `subject-restricted` rule needs it, and every layer above
// (the session's reader, worklists, exports, the rights workflow) reads it
// from here.
#include <kj/exception.h>

#include "domain/fold.h"
#include "domain/tables.h"
#include "hearth/domain.h"

namespace hearth::domain {

Result<ActiveRestrictions> ActiveRestrictions::Read(Store& store, const Codec& codec) {
  ActiveRestrictions out;
  FactsDecoder decoder(&codec.tables());
  uint64_t from = 1;
  for (;;) {
    auto events = store.ReadStream(kRestrictionStream, from, Direction::kForward, 1024);
    if (!events.ok()) {
      if (events.status().IsNotFound()) break;
      return events.status();
    }
    for (const auto& e : *events) {
      std::string subject = e.subjects.empty() ? std::string() : e.subjects.front().id;
      if (e.type == "RestrictionApplied") {
        cs::Facts::Reader facts;
        const TypeEntry* type = nullptr;
        Status s = decoder.DecodeNamed(e, &facts, &type);
        if (!s.ok()) return s;
        try {
          out.active_[subject] = DateOf(facts.getRestrictionApplied().getAppliedOn()).value_or(Date{});
        } catch (const kj::Exception& x) {
          return Status::Corruption("RestrictionApplied at position " + std::to_string(e.position) + ": " +
                                    x.getDescription().cStr());
        }
      } else if (e.type == "RestrictionLifted") {
        out.active_.erase(subject);
      }
    }
    if (events->size() < 1024) break;
    from = events->back().stream_version + 1;
  }
  return out;
}

std::optional<Date> ActiveRestrictions::Since(const std::string& subject) const {
  auto it = active_.find(subject);
  if (it == active_.end()) return std::nullopt;
  return it->second;
}

std::set<std::string> ActiveRestrictions::Subjects() const {
  std::set<std::string> out;
  for (const auto& [subject, since] : active_) out.insert(subject);
  return out;
}

}  // namespace hearth::domain
