// The breach register (UK GDPR Art. 33(5); docs/domain.md, "The breach
// register"): one stream per breach, breach/B-<n>, checked against the
// breach's history before anything is appended. Every front end's appends to
// breach/ streams come here: the command line (`hearth breach`) and a
// Session (the network server, the plugin host).
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

// "B-<n>", n from 1, no leading zero.
bool ParseBreachRef(std::string_view ref, uint64_t* n) {
  if (ref.size() < 3 || ref.size() > 12 || ref.substr(0, 2) != "B-" || ref[2] == '0') return false;
  uint64_t v = 0;
  for (char c : ref.substr(2)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  *n = v;
  return true;
}

// "HH:MM", 00:00 to 23:59.
bool IsTimeOfDay(std::string_view t) {
  if (t.size() != 5 || t[2] != ':') return false;
  for (size_t i : {0, 1, 3, 4}) {
    if (t[i] < '0' || t[i] > '9') return false;
  }
  return (t[0] - '0') * 10 + (t[1] - '0') < 24 && t[3] < '6';
}

template <typename E>
bool InList(E value) {
  return static_cast<uint16_t>(value) < capnp::Schema::from<E>().getEnumerants().size();
}

template <typename E>
std::string Name(E value) {
  return std::string(EnumName(value));
}

bool IsBreachType(const std::string& type) {
  return type == "BreachRecorded" || type == "BreachAssessed" || type == "BreachNotifiedToIco" ||
         type == "BreachNotNotified" || type == "BreachPeopleInformed";
}

Date DateOf(capnp::Text::Reader text) {
  Date d{};
  ParseDate(text.cStr(), &d);
  return d;
}

// Folds one checked event's facts into the breach.
void Fold(F::Reader facts, BreachState* b) {
  switch (facts.which()) {
    case F::BREACH_RECORDED: {
      auto r = facts.getBreachRecorded();
      b->ref = r.getBreachRef().cStr();
      b->discovered_on = DateOf(r.getDiscoveredOn());
      b->discovered_time = r.getDiscoveredTime().cStr();
      if (r.getOccurredOn().size() > 0) b->occurred_on = DateOf(r.getOccurredOn());
      b->kind = Name(r.getKind());
      b->cause = Name(r.getCause());
      b->categories.clear();
      for (auto c : r.getCategories()) b->categories.push_back(Name(c));
      b->approx_people = r.getApproxPeople();
      b->approx_records = r.getApproxRecords();
      b->contained = r.getContained();
      break;
    }
    case F::BREACH_ASSESSED: {
      auto a = facts.getBreachAssessed();
      b->risk = Name(a.getRisk());
      b->assessed_on = DateOf(a.getAssessedOn());
      break;
    }
    case F::BREACH_NOTIFIED_TO_ICO: {
      auto n = facts.getBreachNotifiedToIco();
      b->notified_on = DateOf(n.getNotifiedOn());
      b->ico_reference = n.getIcoReference().cStr();
      b->late_reason = n.getLateReasonCode().cStr();
      break;
    }
    case F::BREACH_NOT_NOTIFIED: {
      auto n = facts.getBreachNotNotified();
      b->not_notified_on = DateOf(n.getDecidedOn());
      b->not_notified_reason = n.getReasonCode().cStr();
      break;
    }
    case F::BREACH_PEOPLE_INFORMED: {
      auto p = facts.getBreachPeopleInformed();
      b->people_decided_on = DateOf(p.getDecidedOn());
      b->people_informed = p.getInformed();
      b->people_informed_count = p.getPeopleInformed();
      b->people_reason = p.getReasonCode().cStr();
      break;
    }
    default:
      break;
  }
}

// The rules particular to each breach event, against the breach so far.
Status CheckRules(F::Reader facts, const std::string& ref, const BreachState& b) {
  auto not_before_discovery = [&](capnp::Text::Reader on, const char* field) -> Status {
    if (DateOf(on) < b.discovered_on) {
      return Rule("breach-before-discovery", std::string("facts.") + field + " " + on.cStr() +
                                                 " is before the breach was discovered (" +
                                                 FormatDate(b.discovered_on) + ")");
    }
    return Status::OK();
  };
  if (facts.which() != F::BREACH_RECORDED && !b.exists()) {
    return Rule("breach-recorded", "breach " + ref + " was never recorded: record BreachRecorded first");
  }
  switch (facts.which()) {
    case F::BREACH_RECORDED: {
      if (b.exists()) {
        return Rule("breach-recorded", "breach " + ref + " is already recorded (on " +
                                           FormatDate(b.discovered_on) + "); a new breach is a new stream");
      }
      auto r = facts.getBreachRecorded();
      if (r.getBreachRef() != ref.c_str()) {
        return Rule("breach-ref", "facts.breachRef \"" + std::string(r.getBreachRef().cStr()) +
                                      "\" is not the stream's reference " + ref);
      }
      if (!InList(r.getKind())) return Rule("code-list", "facts.kind: not a BreachKind");
      if (!InList(r.getCause())) return Rule("code-list", "facts.cause: not a BreachCause");
      if (r.getKind() == cs::BreachKind::UNSPECIFIED) {
        return Rule("breach-kind", "facts.kind: say whether confidentiality, integrity or availability was breached");
      }
      if (r.getCause() == cs::BreachCause::UNSPECIFIED) {
        return Rule("breach-kind", "facts.cause: say what happened (e.g. lostOrStolenPaperwork)");
      }
      if (r.getCategories().size() == 0) {
        return Rule("breach-categories", "facts.categories: name at least one category of data affected");
      }
      for (auto c : r.getCategories()) {
        if (!InList(c)) return Rule("code-list", "facts.categories: not a BreachDataCategory");
        if (c == cs::BreachDataCategory::UNSPECIFIED) {
          return Rule("breach-categories", "facts.categories: unspecified is not a category of data");
        }
      }
      if (r.getDiscoveredTime().size() > 0 && !IsTimeOfDay(r.getDiscoveredTime().cStr())) {
        return Rule("breach-time", "facts.discoveredTime must be a time of day HH:MM (00:00 to 23:59)");
      }
      if (r.getOccurredOn().size() > 0 && DateOf(r.getOccurredOn()) > DateOf(r.getDiscoveredOn())) {
        return Rule("breach-before-discovery", "facts.occurredOn " + std::string(r.getOccurredOn().cStr()) +
                                                   " is after the day it was discovered (" +
                                                   r.getDiscoveredOn().cStr() + ")");
      }
      break;
    }
    case F::BREACH_ASSESSED: {
      auto a = facts.getBreachAssessed();
      if (Status s = not_before_discovery(a.getAssessedOn(), "assessedOn"); !s.ok()) return s;
      if (!InList(a.getRisk())) return Rule("code-list", "facts.risk: not a BreachRisk");
      if (a.getRisk() == cs::BreachRisk::UNSPECIFIED) {
        return Rule("breach-risk", "facts.risk: say unlikely, risk or highRisk");
      }
      if (b.assessed_on && DateOf(a.getAssessedOn()) < *b.assessed_on) {
        return Rule("breach-risk", "facts.assessedOn is before the previous assessment (" +
                                       FormatDate(*b.assessed_on) + ")");
      }
      break;
    }
    case F::BREACH_NOTIFIED_TO_ICO: {
      auto n = facts.getBreachNotifiedToIco();
      if (b.notified_on) {
        return Rule("breach-notified", "breach " + ref + " was notified to the ICO on " +
                                           FormatDate(*b.notified_on) + "; a breach is notified once");
      }
      if (Status s = not_before_discovery(n.getNotifiedOn(), "notifiedOn"); !s.ok()) return s;
      if (DateOf(n.getNotifiedOn()) > b.NotifyBy() && n.getLateReasonCode().size() == 0) {
        return Rule("breach-late-reason", "notified more than 72 hours after discovery (due by " +
                                              FormatDate(b.NotifyBy()) +
                                              "): Art. 33(1) needs the reasons for the delay (lateReasonCode)");
      }
      break;
    }
    case F::BREACH_NOT_NOTIFIED: {
      auto n = facts.getBreachNotNotified();
      if (b.notified_on) {
        return Rule("breach-notified", "breach " + ref + " was notified to the ICO on " +
                                           FormatDate(*b.notified_on) + "; it cannot be decided not to notify it");
      }
      if (b.not_notified_on) {
        return Rule("breach-not-notified", "the decision not to notify breach " + ref + " was recorded on " +
                                               FormatDate(*b.not_notified_on));
      }
      if (Status s = not_before_discovery(n.getDecidedOn(), "decidedOn"); !s.ok()) return s;
      if (b.risk != "unlikely") {
        return Rule("breach-not-notified",
                    "only a breach assessed as unlikely to result in a risk may go unnotified (Art. 33(1)); "
                    "breach " + ref + " is " + (b.risk.empty() ? std::string("not assessed") : "assessed " + b.risk));
      }
      if (n.getReasonCode().size() == 0) {
        return Rule("breach-not-notified", "facts.reasonCode: record why the ICO is not notified");
      }
      break;
    }
    case F::BREACH_PEOPLE_INFORMED: {
      auto p = facts.getBreachPeopleInformed();
      if (Status s = not_before_discovery(p.getDecidedOn(), "decidedOn"); !s.ok()) return s;
      if (!InList(p.getChannel())) return Rule("code-list", "facts.channel: not a Channel");
      if (b.people_decided_on && b.people_informed) {
        return Rule("breach-informed", "the people affected by breach " + ref + " were informed on " +
                                           FormatDate(*b.people_decided_on));
      }
      if (!p.getInformed() && p.getReasonCode().size() == 0) {
        return Rule("breach-informed", "facts.reasonCode: not informing the people affected needs the "
                                       "Art. 34(3) ground (e.g. unintelligible, riskNoLongerLikely, "
                                       "disproportionateEffort)");
      }
      if (p.getInformed() && p.getChannel() == cs::Channel::UNSPECIFIED) {
        return Rule("breach-informed", "facts.channel: say how the people affected were informed");
      }
      break;
    }
    default:
      break;
  }
  return Status::OK();
}

}  // namespace

std::string BreachState::Stage() const {
  if (notified_on) return "notified";
  if (not_notified_on) return "not notified";
  if (risk.empty()) return "awaiting assessment";
  if (risk == "unlikely") return "assessed unlikely: record the decision not to notify";
  return "notify the ICO";
}

Status CheckBreach(LogReader& store, const Codec& codec, const std::string& stream, BreachState* state,
                   std::vector<NewEvent>* events, Date today) {
  if (events->empty()) return Status::InvalidArgument("no events to record");
  const CodecTables& t = codec.tables();
  FactsDecoder decoder(&t);
  PackedDecoder personal_decoder;
  std::string ref = stream.compare(0, 7, kBreachStreamPrefix) == 0 ? stream.substr(7) : std::string();
  for (size_t i = 0; i < events->size(); ++i) {
    NewEvent& e = (*events)[i];
    auto refuse = [&](const Status& s) {
      return Status::InvalidArgument(s.message() + " (" + stream + ", event " + std::to_string(i + 1) + " of " +
                                     std::to_string(events->size()) + ", " + e.type + ")");
    };
    uint64_t n = 0;
    if (!ParseBreachRef(ref, &n)) {
      return refuse(Rule("breach-ref", "a breach's stream is breach/B-<n> (B-1, B-2 ...), not " + stream));
    }
    if (!IsBreachType(e.type)) {
      return refuse(Rule("breach-stream", "a breach stream takes only BreachRecorded, BreachAssessed, "
                                          "BreachNotifiedToIco, BreachNotNotified and BreachPeopleInformed, not " +
                                              e.type));
    }
    if (!state->exists() && i == 0 && n > 1) {
      // The register has no gaps: B-<n> follows B-<n-1>.
      auto prev = store.StreamVersion(kBreachStreamPrefix + ("B-" + std::to_string(n - 1)));
      if (!prev.ok() && !prev.status().IsNotFound()) return prev.status();
      if (!prev.ok()) {
        return refuse(Rule("breach-ref", "breach " + ref + " would leave a gap: B-" + std::to_string(n - 1) +
                                             " is not recorded"));
      }
    }
    // A breach names only staff (whose sections hold its narrative): the
    // people affected are counted, never named (docs/domain.md).
    for (const SubjectRef& s : e.subjects) {
      if (s.role != SubjectRole::kStaff) {
        return refuse(Rule("breach-subjects", "a breach names only staff (role staff), whose sections hold "
                                              "what happened; " + s.id + " has role " +
                                              SubjectRoleName(s.role) + " (count the people affected instead)"));
      }
    }
    F::Reader facts;
    OwnStreamRules how;
    how.subjects_rule = "breach-subjects";
    how.rules = [&](F::Reader f) { return CheckRules(f, ref, *state); };
    Status s = CheckOwnStreamEvent(t, &decoder, &personal_decoder, e, today, how, &facts);
    if (!s.ok()) return refuse(s);
    Fold(facts, state);
    state->stream = stream;
    ++state->version;
  }
  return Status::OK();
}

namespace {

// LoadBreach, also listing the stream's event ids when `ids` is not null.
Result<BreachState> Load(LogReader& store, const Codec& codec, const std::string& stream,
                         std::vector<std::string>* ids) {
  BreachState b;
  FactsDecoder decoder(&codec.tables());
  constexpr size_t kPage = 256;
  for (uint64_t from = 1;;) {
    auto page = store.ReadStream(stream, from, Direction::kForward, kPage);
    if (!page.ok()) {
      if (page.status().IsNotFound() && b.exists()) break;
      return page.status();
    }
    for (const RecordedEvent& e : *page) {
      F::Reader facts;
      const TypeEntry* type = nullptr;
      Status s = decoder.Decode(e, &facts, &type);
      if (!s.ok()) return s;
      Fold(facts, &b);
      b.version = e.stream_version;
      if (ids != nullptr) ids->push_back(e.id.ToString());
    }
    if (page->size() < kPage) break;
    from = page->back().stream_version + 1;
  }
  if (!b.exists()) return Status::NotFound("no breach " + stream);
  b.stream = stream;
  return b;
}

}  // namespace

Result<BreachState> LoadBreach(LogReader& store, const Codec& codec, const std::string& stream) {
  return Load(store, codec, stream, nullptr);
}

Result<std::vector<BreachState>> ReadBreaches(LogReader& store, const Codec& codec) {
  std::vector<BreachState> out;
  for (uint64_t n = 1;; ++n) {
    auto b = LoadBreach(store, codec, kBreachStreamPrefix + ("B-" + std::to_string(n)));
    if (!b.ok()) {
      if (b.status().IsNotFound()) break;
      return b.status();
    }
    out.push_back(std::move(*b));
  }
  return out;
}

Result<std::string> NextBreachRef(LogReader& store) {
  for (uint64_t n = 1;; ++n) {
    std::string ref = "B-" + std::to_string(n);
    auto v = store.StreamVersion(kBreachStreamPrefix + ref);
    if (!v.ok() && v.status().IsNotFound()) return ref;
    if (!v.ok()) return v.status();
  }
}

Result<AppendResult> RecordBreach(Store& store, const Codec& codec, const std::string& stream,
                                  ExpectedVersion expected, std::vector<NewEvent> events, Date today) {
  const bool retry = expected.kind == ExpectedVersion::Kind::kAny;
  for (int attempt = 0;; ++attempt) {
    BreachState state;
    std::vector<std::string> ids;
    auto loaded = Load(store, codec, stream, &ids);
    if (loaded.ok()) {
      state = std::move(*loaded);
    } else if (!loaded.status().IsNotFound()) {
      return loaded.status();
    }
    // A retry of a batch already stored (a reply lost on the way back): the
    // store answers with the original positions, or refuses other content.
    if (!events.empty() && std::find(ids.begin(), ids.end(), events.front().id.ToString()) != ids.end()) {
      return store.Append(stream, expected, events);
    }
    std::vector<NewEvent> batch = events;
    Status s = CheckBreach(store, codec, stream, &state, &batch, today);
    if (!s.ok()) return s;
    uint64_t read_at = state.version - batch.size();
    ExpectedVersion at = retry ? (read_at == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(read_at))
                               : expected;
    auto r = store.Append(stream, at, batch);
    if (r.ok() || !retry || !r.status().IsConflict() || attempt + 1 >= 5) return r;
  }
}

}  // namespace hearth::domain
