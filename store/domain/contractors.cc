// The vetted contractors (stream register/contractors; docs/domain.md, "The
// vetted contractors"): the list a case's ContractorChosen is checked
// against (rule `contractor-not-vetted` in recorder.cc), and the rules its
// own events are checked against before they are appended. Every front
// end's appends to the stream come here: the command line (`hearth
// contractor`, `hearth append`), a Session (the network server, the plugin
// host) and the demo county.
#include <capnp/schema.h>

#include <algorithm>

#include "domain/fold.h"
#include "domain/tables.h"
#include "hearth/domain.h"

namespace hearth::domain {

namespace {

using F = cs::Facts;

Status Rule(const char* name, const std::string& why) {
  return Status::InvalidArgument(std::string("rule ") + name + ": " + why);
}

Date DayOf(capnp::Text::Reader text) {
  Date d{};
  ParseDate(text.cStr(), &d);
  return d;
}

// Folds one checked event's facts into the list (other types are ignored).
void Fold(F::Reader facts, ContractorList* list) {
  switch (facts.which()) {
    case F::CONTRACTOR_VETTED: {
      auto v = facts.getContractorVetted();
      auto& c = list->contractors[v.getContractorRef().cStr()];
      c.ref = v.getContractorRef().cStr();
      c.periods.push_back({DayOf(v.getVettedOn()), DayOf(v.getExpiresOn()), std::nullopt});
      c.trades.clear();
      for (auto t : v.getTrades()) c.trades.push_back(t.cStr());
      c.checks.clear();
      for (auto k : v.getChecks()) c.checks.push_back(std::string(EnumName(k)));
      c.removal_reason.clear();
      break;
    }
    case F::CONTRACTOR_REMOVED: {
      auto r = facts.getContractorRemoved();
      auto it = list->contractors.find(r.getContractorRef().cStr());
      if (it == list->contractors.end()) break;
      for (auto& p : it->second.periods) {
        if (!p.removed_on) p.removed_on = DayOf(r.getRemovedOn());
      }
      it->second.removal_reason = r.getReasonCode().cStr();
      break;
    }
    default:
      break;
  }
}

// The list and its stream version; the stream's event ids in `ids` when not
// null.
Result<ContractorList> Load(LogReader& store, const Codec& codec, std::vector<std::string>* ids = nullptr) {
  ContractorList list;
  FactsDecoder decoder(&codec.tables());
  constexpr size_t kPage = 1024;
  for (uint64_t from = 1;;) {
    auto page = store.ReadStream(kContractorsStream, from, Direction::kForward, kPage);
    if (!page.ok()) {
      if (page.status().IsNotFound()) break;
      return page.status();
    }
    for (const RecordedEvent& e : *page) {
      F::Reader facts;
      const TypeEntry* type = nullptr;
      Status s = decoder.Decode(e, &facts, &type);
      if (!s.ok()) return s;
      Fold(facts, &list);
      list.version = e.stream_version;
      if (ids != nullptr) ids->push_back(e.id.ToString());
    }
    if (page->size() < kPage) break;
    from = page->back().stream_version + 1;
  }
  return list;
}

}  // namespace

bool ContractorList::VettedOn(const std::string& ref, Date day) const {
  auto it = contractors.find(ref);
  if (it == contractors.end()) return false;
  for (const Period& p : it->second.periods) {
    if (p.from <= day && day <= p.until && (!p.removed_on || day < *p.removed_on)) return true;
  }
  return false;
}

bool ContractorList::Listed(const std::string& ref) const {
  auto it = contractors.find(ref);
  if (it == contractors.end()) return false;
  for (const Period& p : it->second.periods) {
    if (!p.removed_on) return true;
  }
  return false;
}

Result<ContractorList> ReadContractors(LogReader& store, const Codec& codec) { return Load(store, codec); }

Status CheckContractors(const Codec& codec, ContractorList* list, std::vector<NewEvent>* events, Date today) {
  if (events->empty()) return Status::InvalidArgument("no events to record");
  const CodecTables& t = codec.tables();
  FactsDecoder decoder(&t);
  PackedDecoder personal_decoder;
  const size_t checks = capnp::Schema::from<cs::ContractorCheck>().getEnumerants().size();
  for (size_t i = 0; i < events->size(); ++i) {
    NewEvent& e = (*events)[i];
    auto refuse = [&](const Status& s) {
      return Status::InvalidArgument(s.message() + " (" + kContractorsStream + ", event " + std::to_string(i + 1) +
                                     " of " + std::to_string(events->size()) + ", " + e.type + ")");
    };
    if (e.type != "ContractorVetted" && e.type != "ContractorRemoved") {
      return refuse(Rule("contractor-stream", std::string(kContractorsStream) +
                                                  " takes only ContractorVetted and ContractorRemoved, not " + e.type));
    }
    F::Reader decoded;
    OwnStreamRules how;
    how.no_personal = "a contractor is a business: no personal sections";
    how.rules = [&](F::Reader facts) -> Status {
      if (facts.which() == F::CONTRACTOR_VETTED) {
        auto v = facts.getContractorVetted();
        if (v.getContractorRef().size() == 0) {
          return Rule("contractor-vetting", "facts.contractorRef (the contractor's code) is required");
        }
        if (v.getChecks().size() == 0) {
          return Rule("contractor-vetting", "facts.checks: record at least one check made (publicLiability, "
                                                   "employersLiability, references, dbsChecked ...)");
        }
        for (auto k : v.getChecks()) {
          auto raw = static_cast<uint16_t>(k);
          if (raw == 0 || raw >= checks) {
            return Rule(raw == 0 ? "contractor-vetting" : "code-list",
                               "facts.checks holds " + (raw == 0 ? std::string("unspecified") : std::to_string(raw)) +
                                   ", which is not a check made");
          }
        }
        if (v.getExpiresOn().size() == 0) {
          return Rule("contractor-vetting", "facts.expiresOn (the last day the vetting holds) is required");
        }
        if (DayOf(v.getExpiresOn()) < DayOf(v.getVettedOn())) {
          return Rule("contractor-vetting", "facts.expiresOn " + std::string(v.getExpiresOn().cStr()) +
                                                       " is before vettedOn " + v.getVettedOn().cStr());
        }
      } else {
        auto r = facts.getContractorRemoved();
        std::string ref = r.getContractorRef().cStr();
        if (!list->Listed(ref)) {
          return Rule("contractor-not-listed", "contractor \"" + ref + "\" is not on the vetted list "
                                                      "(never vetted, or already removed)");
        }
        const auto& periods = list->contractors.at(ref).periods;
        if (DayOf(r.getRemovedOn()) < periods.back().from) {
          return Rule("contractor-not-listed", "removed on " + std::string(r.getRemovedOn().cStr()) +
                                                          ", before it was vetted on " +
                                                          FormatDate(periods.back().from));
        }
        if (r.getReasonCode().size() == 0) {
          return Rule("contractor-removal-reason",
                             "say why the contractor was removed (reasonCode: insuranceLapsed, poorWork ...)");
        }
      }
      return Status::OK();
    };
    Status s = CheckOwnStreamEvent(t, &decoder, &personal_decoder, e, today, how, &decoded);
    if (!s.ok()) return refuse(s);
    Fold(decoded, list);
    ++list->version;
  }
  return Status::OK();
}

Result<AppendResult> RecordContractors(Store& store, const Codec& codec, ExpectedVersion expected,
                                       std::vector<NewEvent> events, Date today) {
  const bool retry = expected.kind == ExpectedVersion::Kind::kAny;
  for (int attempt = 0;; ++attempt) {
    std::vector<std::string> ids;
    auto list = Load(store, codec, &ids);
    if (!list.ok()) return list.status();
    // A retry of a batch already stored (a reply lost on the way back): the
    // store answers with the original positions, or refuses other content.
    if (!events.empty() && std::find(ids.begin(), ids.end(), events.front().id.ToString()) != ids.end()) {
      return store.Append(kContractorsStream, expected, events);
    }
    uint64_t read_at = list->version;
    std::vector<NewEvent> batch = events;
    Status s = CheckContractors(codec, &*list, &batch, today);
    if (!s.ok()) return s;
    ExpectedVersion at = retry ? (read_at == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(read_at))
                               : expected;
    auto r = store.Append(kContractorsStream, at, batch);
    if (r.ok() || !retry || !r.status().IsConflict() || attempt + 1 >= 5) return r;
  }
}

}  // namespace hearth::domain
