// Complaints (003 9.1 "number, stage, time taken to resolve"; docs/domain.md,
// "Complaints"): the rules and the fold of ComplaintReceived,
// ComplaintEscalated and ComplaintResolved, the same on a case (recorder.cc,
// case_fold.cc call them) and on a complaint's own stream, complaint/K-<n>,
// for a complaint about no case. Every front end's appends to complaint/
// streams come here: the command line (`hearth complaint`, `hearth append`)
// and a Session (the network server, the plugin host).
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

Date Day(capnp::Text::Reader text) {
  Date d{};
  ParseDate(text.cStr(), &d);
  return d;
}

const Complaint* Find(const std::vector<Complaint>& list, uint16_t n) {
  if (n == 0) return nullptr;
  for (const Complaint& c : list) {
    if (c.number == n) return &c;
  }
  return nullptr;
}

template <typename E>
bool InList(E value) {
  return static_cast<uint16_t>(value) < capnp::Schema::from<E>().getEnumerants().size();
}

}  // namespace

int ComplaintStageRank(std::string_view stage) {
  static constexpr std::string_view kOrder[] = {"unspecified", "informal", "stage1", "stage2", "ombudsman"};
  for (int i = 0; i < 5; ++i) {
    if (stage == kOrder[i]) return i;
  }
  return -1;
}

int ComplaintResponseWorkingDays(std::string_view stage) {
  if (stage == "ombudsman") return 0;
  if (stage == "stage2") return 20;
  return 10;
}

const Complaint* CaseState::FindComplaint(uint16_t number) const { return Find(complaint_list, number); }

Status CheckComplaintFacts(F::Reader facts, const std::vector<Complaint>& list) {
  switch (facts.which()) {
    case F::COMPLAINT_RECEIVED: {
      auto r = facts.getComplaintReceived();
      uint16_t n = r.getComplaint();
      if (n == 0 || Find(list, n) != nullptr) {
        return Rule("complaint-number", "complaint " + std::to_string(n) +
                                            (n == 0 ? " is not a number (from 1)" : " was already received"));
      }
      if (!InList(r.getStage())) return Rule("code-list", "facts.stage: not a ComplaintStage");
      break;
    }
    case F::COMPLAINT_ESCALATED: {
      auto x = facts.getComplaintEscalated();
      uint16_t n = x.getComplaint();
      const Complaint* c = Find(list, n);
      if (c == nullptr) return Rule("complaint-number", "complaint " + std::to_string(n) + " was never received");
      if (!InList(x.getToStage())) return Rule("code-list", "facts.toStage: not a ComplaintStage");
      std::string to(EnumName(x.getToStage()));
      if (ComplaintStageRank(to) < ComplaintStageRank("stage1")) {
        return Rule("complaint-escalation", "facts.toStage: a complaint is escalated to stage1, stage2 or "
                                            "ombudsman, not " + to);
      }
      if (ComplaintStageRank(to) <= ComplaintStageRank(c->stage)) {
        return Rule("complaint-escalation", "complaint " + std::to_string(n) + " stands at " + c->stage +
                                                ": an escalation goes to a higher stage, not " + to);
      }
      Date on = Day(x.getEscalatedOn());
      if (on < c->stage_on) {
        return Rule("complaint-escalation", "escalated on " + FormatDate(on) + ", before complaint " +
                                                std::to_string(n) + " reached " + c->stage + " (" +
                                                FormatDate(c->stage_on) + ")");
      }
      if (c->responded_on && on < *c->responded_on) {
        return Rule("complaint-escalation", "escalated on " + FormatDate(on) + ", before the response at " +
                                                c->stage + " (" + FormatDate(*c->responded_on) + ")");
      }
      break;
    }
    case F::COMPLAINT_RESOLVED: {
      auto r = facts.getComplaintResolved();
      uint16_t n = r.getComplaint();
      const Complaint* c = Find(list, n);
      if (c == nullptr || !c->awaiting_response()) {
        return Rule("complaint-number", "complaint " + std::to_string(n) +
                                            (c == nullptr ? " was never received"
                                                          : " is not open: it was answered at " + c->stage +
                                                                " on " + FormatDate(*c->responded_on) +
                                                                " (escalate it to take it further)"));
      }
      if (!InList(r.getStage()) || !InList(r.getResult())) {
        return Rule("code-list", "facts.stage or facts.result: not a ComplaintStage / ComplaintResult");
      }
      std::string stage(EnumName(r.getStage()));
      if (r.getStage() != cs::ComplaintStage::UNSPECIFIED && stage != c->stage) {
        return Rule("complaint-stage", "complaint " + std::to_string(n) + " stands at " + c->stage +
                                           ", not " + stage + ": a response answers the stage it stands at");
      }
      Date on = Day(r.getResolvedOn());
      if (on < c->stage_on) {
        return Rule("complaint-stage", "resolved on " + FormatDate(on) + ", before complaint " +
                                           std::to_string(n) + " reached " + c->stage + " (" +
                                           FormatDate(c->stage_on) + ")");
      }
      break;
    }
    default:
      break;
  }
  return Status::OK();
}

void FoldComplaint(F::Reader facts, std::vector<Complaint>* list) {
  auto find = [list](uint16_t n) -> Complaint* {
    for (Complaint& c : *list) {
      if (c.number == n) return &c;
    }
    return nullptr;
  };
  switch (facts.which()) {
    case F::COMPLAINT_RECEIVED: {
      auto r = facts.getComplaintReceived();
      Complaint c;
      c.number = r.getComplaint();
      c.stage = EnumName(r.getStage());
      c.received_on = c.stage_on = Day(r.getReceivedOn());
      list->push_back(std::move(c));
      break;
    }
    case F::COMPLAINT_ESCALATED: {
      auto x = facts.getComplaintEscalated();
      if (Complaint* c = find(x.getComplaint())) {
        c->stage = EnumName(x.getToStage());
        c->stage_on = Day(x.getEscalatedOn());
        c->responded_on.reset();
        c->result.clear();
      }
      break;
    }
    case F::COMPLAINT_RESOLVED: {
      auto r = facts.getComplaintResolved();
      if (Complaint* c = find(r.getComplaint())) {
        c->responded_on = Day(r.getResolvedOn());
        c->result = EnumName(r.getResult());
      }
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// complaint/K-<n>

namespace {

constexpr size_t kPrefixSize = 10;  // "complaint/"

// "K-<n>", n from 1, no leading zero.
bool ParseRef(std::string_view ref, uint64_t* n) {
  if (ref.size() < 3 || ref.size() > 12 || ref.substr(0, 2) != "K-" || ref[2] == '0') return false;
  uint64_t v = 0;
  for (char c : ref.substr(2)) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  *n = v;
  return true;
}

bool IsComplaintType(const std::string& type) {
  return type == "ComplaintReceived" || type == "ComplaintEscalated" || type == "ComplaintResolved";
}

// Folds one checked event of a complaint's own stream.
void Fold(F::Reader facts, const std::vector<SubjectRef>& subjects, ComplaintState* k) {
  std::vector<Complaint> list;
  if (k->complaint.number != 0) list.push_back(k->complaint);
  FoldComplaint(facts, &list);
  if (!list.empty()) k->complaint = list.front();
  if (facts.which() == F::COMPLAINT_RECEIVED) {
    auto r = facts.getComplaintReceived();
    k->district = r.getDistrict().cStr();
    k->channel = EnumName(r.getChannel());
    k->category = r.getCategoryCode().cStr();
    k->complainants.clear();
    for (const SubjectRef& s : subjects) {
      if (s.role != SubjectRole::kStaff) k->complainants.push_back(s.id);
    }
  }
}

// The rules of a complaint's own stream, before the complaint's rules.
Status CheckStreamRules(F::Reader facts, const std::string& ref, const ComplaintState& k) {
  if (facts.which() != F::COMPLAINT_RECEIVED && !k.exists()) {
    return Rule("complaint-stream", "complaint " + ref + " was never received: record ComplaintReceived first");
  }
  if (facts.which() == F::COMPLAINT_RECEIVED) {
    if (k.exists()) {
      return Rule("complaint-stream", "complaint " + ref + " is already received (on " +
                                          FormatDate(k.complaint.received_on) +
                                          "); another complaint is another stream");
    }
    auto r = facts.getComplaintReceived();
    if (r.getComplaint() != 1) {
      return Rule("complaint-number", "a complaint's own stream holds complaint 1, not " +
                                          std::to_string(r.getComplaint()));
    }
    std::string district = r.getDistrict().cStr();
    if (!IsDistrictCode(district)) {
      return Rule("complaint-district", "facts.district: a complaint with no case names the district it is "
                                        "about, a code such as D3" +
                                            (district.empty() ? std::string() : ", not \"" + district + "\""));
    }
  } else {
    uint16_t n = facts.which() == F::COMPLAINT_ESCALATED ? facts.getComplaintEscalated().getComplaint()
                                                         : facts.getComplaintResolved().getComplaint();
    if (n != 1) {
      return Rule("complaint-number", "a complaint's own stream holds complaint 1, not " + std::to_string(n));
    }
  }
  std::vector<Complaint> list;
  if (k.exists()) list.push_back(k.complaint);
  return CheckComplaintFacts(facts, list);
}

Result<ComplaintState> Load(LogReader& store, const Codec& codec, const std::string& stream,
                            std::vector<std::string>* ids) {
  ComplaintState k;
  FactsDecoder decoder(&codec.tables());
  constexpr size_t kPage = 256;
  for (uint64_t from = 1;;) {
    auto page = store.ReadStream(stream, from, Direction::kForward, kPage);
    if (!page.ok()) {
      if (page.status().IsNotFound() && k.exists()) break;
      return page.status();
    }
    for (const RecordedEvent& e : *page) {
      F::Reader facts;
      const TypeEntry* type = nullptr;
      Status s = decoder.Decode(e, &facts, &type);
      if (!s.ok()) return s;
      Fold(facts, e.subjects, &k);
      k.version = e.stream_version;
      if (ids != nullptr) ids->push_back(e.id.ToString());
    }
    if (page->size() < kPage) break;
    from = page->back().stream_version + 1;
  }
  if (!k.exists()) return Status::NotFound("no complaint " + stream);
  k.stream = stream;
  k.ref = stream.substr(kPrefixSize);
  return k;
}

}  // namespace

Status CheckComplaint(LogReader& store, const Codec& codec, const std::string& stream, ComplaintState* state,
                      std::vector<NewEvent>* events, Date today) {
  if (events->empty()) return Status::InvalidArgument("no events to record");
  const CodecTables& t = codec.tables();
  FactsDecoder decoder(&t);
  PackedDecoder personal_decoder;
  std::string ref = stream.compare(0, kPrefixSize, kComplaintStreamPrefix) == 0 ? stream.substr(kPrefixSize)
                                                                                 : std::string();
  for (size_t i = 0; i < events->size(); ++i) {
    NewEvent& e = (*events)[i];
    auto refuse = [&](const Status& s) {
      return Status::InvalidArgument(s.message() + " (" + stream + ", event " + std::to_string(i + 1) + " of " +
                                     std::to_string(events->size()) + ", " + e.type + ")");
    };
    uint64_t n = 0;
    if (!ParseRef(ref, &n)) {
      return refuse(Rule("complaint-ref", "a complaint's own stream is complaint/K-<n> (K-1, K-2 ...), not " +
                                              stream));
    }
    if (!IsComplaintType(e.type)) {
      return refuse(Rule("complaint-stream", "a complaint's own stream takes only ComplaintReceived, "
                                             "ComplaintEscalated and ComplaintResolved, not " + e.type));
    }
    if (!state->exists() && i == 0 && n > 1) {
      // The complaints have no gaps: K-<n> follows K-<n-1>.
      auto prev = store.StreamVersion(kComplaintStreamPrefix + ("K-" + std::to_string(n - 1)));
      if (!prev.ok() && !prev.status().IsNotFound()) return prev.status();
      if (!prev.ok()) {
        return refuse(Rule("complaint-ref", "complaint " + ref + " would leave a gap: K-" +
                                                std::to_string(n - 1) + " is not recorded"));
      }
    }
    F::Reader facts;
    OwnStreamRules how;
    how.rules = [&](F::Reader f) { return CheckStreamRules(f, ref, *state); };
    Status s = CheckOwnStreamEvent(t, &decoder, &personal_decoder, e, today, how, &facts);
    if (!s.ok()) return refuse(s);
    Fold(facts, e.subjects, state);
    state->stream = stream;
    state->ref = ref;
    ++state->version;
  }
  return Status::OK();
}

Result<ComplaintState> LoadComplaint(LogReader& store, const Codec& codec, const std::string& stream) {
  return Load(store, codec, stream, nullptr);
}

Result<std::vector<ComplaintState>> ReadComplaints(LogReader& store, const Codec& codec) {
  std::vector<ComplaintState> out;
  for (uint64_t n = 1;; ++n) {
    auto k = LoadComplaint(store, codec, kComplaintStreamPrefix + ("K-" + std::to_string(n)));
    if (!k.ok()) {
      if (k.status().IsNotFound()) break;
      return k.status();
    }
    out.push_back(std::move(*k));
  }
  return out;
}

Result<std::string> NextComplaintRef(LogReader& store) {
  for (uint64_t n = 1;; ++n) {
    std::string ref = "K-" + std::to_string(n);
    auto v = store.StreamVersion(kComplaintStreamPrefix + ref);
    if (!v.ok() && v.status().IsNotFound()) return ref;
    if (!v.ok()) return v.status();
  }
}

Result<AppendResult> RecordComplaint(Store& store, const Codec& codec, const std::string& stream,
                                     ExpectedVersion expected, std::vector<NewEvent> events, Date today) {
  const bool retry = expected.kind == ExpectedVersion::Kind::kAny;
  for (int attempt = 0;; ++attempt) {
    ComplaintState state;
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
    Status s = CheckComplaint(store, codec, stream, &state, &batch, today);
    if (!s.ok()) return s;
    uint64_t read_at = state.version - batch.size();
    ExpectedVersion at = retry ? (read_at == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(read_at))
                               : expected;
    auto r = store.Append(stream, at, batch);
    if (r.ok() || !retry || !r.status().IsConflict() || attempt + 1 >= 5) return r;
  }
}

}  // namespace hearth::domain
