// The case timeline: a case as it stood at a position or a date, folded from
// a prefix of its stream, who did what and when, each event with its Merkle
// inclusion proof (docs/readmodels.md).
//
// The work is one read of the case's own stream plus one proof per event
// shown: it grows with the case, never with the store.
#include <nlohmann/json.hpp>

#include "hearth/readmodels.h"
#include "merkle/proof_json.h"
#include "audit/verifier.h"
#include "readmodels/common.h"
#include "readmodels/describe.h"
#include "readmodels/proofs.h"

namespace hearth::readmodels {

namespace {

using domain::CaseState;
using domain::Date;
using domain::FormatDate;
using Json = nlohmann::json;

constexpr size_t kPage = 1000;

// The facts and personal sections of one event in the codec's JSON form.
struct Decoded {
  Json facts;
  Json personal;
};

Result<Decoded> DecodeEvent(const domain::Codec& codec, const RecordedEvent& e) {
  auto text = codec.ToJson(e);
  if (!text.ok()) return text.status();
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("position " + std::to_string(e.position) + ": the codec's JSON does not parse");
  }
  Decoded d;
  d.facts = j.contains("facts") ? std::move(j["facts"]) : Json::object();
  d.personal = j.contains("personal") ? std::move(j["personal"]) : Json::array();
  return d;
}

std::optional<Date> BusinessDate(const RecordedEvent& e, const Json& facts) {
  auto d = BusinessDateOf(e.type, facts);
  if (d) return d;
  if (e.occurred_at != 0) return domain::UkDate(e.occurred_at);
  return std::nullopt;
}

Result<Timeline> Build(LogReader& store, const domain::Codec& codec, const TimelineRequest& req) {
  Timeline tl;
  Status s = NormaliseCaseId(req.case_id, &tl.case_id);
  if (!s.ok()) return s;
  int cuts = (req.at_position != 0) + req.as_of.has_value() + req.occurred_by.has_value();
  if (cuts > 1) {
    return Status::InvalidArgument("a timeline takes one cut: a position, an as-of date or an "
                                   "occurred-by date, not several");
  }
  if (req.at_position != 0) {
    tl.cut = "at position " + std::to_string(req.at_position);
  } else if (req.as_of) {
    tl.cut = "as recorded by the end of " + FormatDate(*req.as_of);
  } else if (req.occurred_by) {
    tl.cut = "events dated on or before " + FormatDate(*req.occurred_by);
  } else {
    tl.cut = "now";
  }

  // Read the stream, a page at a time, up to the cut. Positions and
  // recorded-at times only grow along a stream, so those cuts end the read.
  std::vector<RecordedEvent> shown;
  std::vector<Decoded> decoded;
  RecordedEvent first;
  bool have_first = false;
  uint64_t from = 1;
  bool done = false;
  while (!done) {
    auto page = store.ReadStream(tl.case_id, from, Direction::kForward, kPage);
    if (!page.ok()) {
      if (page.status().IsNotFound() && from == 1) {
        return Status::NotFound("no case " + tl.case_id + ": its stream has no events");
      }
      return page.status();
    }
    if (page->empty()) break;
    for (RecordedEvent& e : *page) {
      if (!have_first) {
        first = e;
        have_first = true;
      }
      if (req.at_position != 0 && e.position > req.at_position) {
        done = true;
        break;
      }
      if (req.as_of && domain::UkDate(e.recorded_at) > *req.as_of) {
        done = true;
        break;
      }
      if (req.occurred_by) {
        auto d = DecodeEvent(codec, e);
        if (!d.ok()) return d.status();
        auto on = BusinessDate(e, d->facts);
        if (!on || *on > *req.occurred_by) continue;
      }
      shown.push_back(std::move(e));
    }
    from = page->back().stream_version + 1;
    if (page->size() < kPage) break;
  }
  auto version = store.StreamVersion(tl.case_id);
  if (!version.ok()) return version.status();
  tl.stream_events = *version;
  if (shown.empty()) {
    return Status::InvalidArgument(
        "case " + tl.case_id + " has no events " + tl.cut + " (its first event is at position " +
        std::to_string(first.position) + ", recorded " + FormatDate(domain::UkDate(first.recorded_at)) +
        ")");
  }

  // Fold on facts and envelopes only, exactly as the cases projection does,
  // whatever personal sections the caller may see.
  domain::CaseFolder folder(&codec);
  for (const RecordedEvent& e : shown) {
    RecordedEvent facts_only;
    facts_only.position = e.position;
    facts_only.stream = e.stream;
    facts_only.stream_version = e.stream_version;
    facts_only.id = e.id;
    facts_only.type = e.type;
    facts_only.schema_version = e.schema_version;
    facts_only.recorded_at = e.recorded_at;
    facts_only.occurred_at = e.occurred_at;
    facts_only.actor = e.actor;
    facts_only.correlation_id = e.correlation_id;
    facts_only.causation_id = e.causation_id;
    facts_only.subjects = e.subjects;
    facts_only.facts = e.facts;
    s = folder.Apply(facts_only, &tl.state);
    if (!s.ok()) return s;
  }

  // A scoped reader has already removed what its principal may not see, and
  // written what it handed over to the access log.
  tl.personal_shown = store.ShowsPersonal();

  // What the proofs are against.
  uint64_t last = shown.back().position;
  if (req.proofs) {
    auto checkpoints = store.Checkpoints();
    if (!checkpoints.ok()) return checkpoints.status();
    for (const auto& cp : *checkpoints) {
      if (cp.size >= last && (!tl.checkpoint || cp.size > tl.checkpoint->size)) tl.checkpoint = cp;
    }
    if (tl.checkpoint) {
      tl.tree_size = tl.checkpoint->size;
      tl.root = tl.checkpoint->root;
    } else {
      auto head = store.CurrentTree();
      if (!head.ok()) return head.status();
      tl.tree_size = head->size;
      tl.root = head->root;
    }
  }

  std::vector<Hash> leaf_hashes;
  std::vector<std::vector<Hash>> proofs;
  if (req.proofs) {
    std::vector<uint64_t> positions;
    for (const RecordedEvent& e : shown) positions.push_back(e.position);
    s = ProofsFor(store, positions, tl.tree_size, &leaf_hashes, &proofs);
    if (!s.ok()) return s;
  }
  tl.entries.reserve(shown.size());
  for (size_t i = 0; i < shown.size(); ++i) {
    RecordedEvent& e = shown[i];
    TimelineEntry entry;
    auto d = DecodeEvent(codec, e);
    if (!d.ok()) return d.status();
    entry.business_date = BusinessDate(e, d->facts);
    entry.summary = DescribeFacts(e.type, d->facts);
    entry.facts_json = d->facts.dump();
    if (d->personal.is_array() && !d->personal.empty()) entry.personal_json = d->personal.dump();
    if (req.proofs) {
      entry.leaf_hash = leaf_hashes[i];
      entry.proof = std::move(proofs[i]);
    }
    entry.event = std::move(e);
    tl.entries.push_back(std::move(entry));
  }
  return tl;
}

std::string ActorText(const Actor& a) {
  std::string out = a.role.empty() ? "someone" : Words(a.role);
  if (!a.user.empty()) out += " " + a.user;
  if (!a.plugin.empty()) out += " via " + a.plugin;
  return out;
}

std::string Short(const Hash& h) { return HexOf(h).substr(0, 16); }

}  // namespace

Result<Timeline> ReadTimeline(LogReader& reader, const domain::Codec& codec,
                              const TimelineRequest& request) {
  return Build(reader, codec, request);
}

Result<Timeline> ReadTimeline(Session& session, const domain::Codec& codec,
                              const TimelineRequest& request) {
  ScopedReader reader(session, Reach::kScoped, "timeline");
  return Build(reader, codec, request);
}

// The document is assembled as text: the facts, personal sections and proofs
// are already JSON text, spliced in rather than parsed again.
std::string TimelineToJson(const Timeline& tl, bool pretty) {
  // `object` minus its closing brace, then `,"key":value` pairs, then "}".
  auto open = [](const OJson& object) {
    std::string text = object.dump();
    text.pop_back();
    return text;
  };
  auto field = [](std::string* out, const char* key, const std::string& json_value) {
    out->append(",\"").append(key).append("\":").append(json_value);
  };
  OJson head = OJson::object();
  head["case"] = tl.case_id;
  head["cut"] = tl.cut;
  head["streamEvents"] = tl.stream_events;
  head["shown"] = tl.entries.size();
  head["personalShown"] = tl.personal_shown;
  std::string out = open(head);
  if (tl.tree_size > 0) {
    OJson tree = {{"size", tl.tree_size}, {"root", HexOf(tl.root)}, {"signed", tl.checkpoint.has_value()}};
    std::string t = open(tree);
    if (tl.checkpoint) field(&t, "checkpoint", merkle::CheckpointToJson(*tl.checkpoint).dump());
    field(&out, "tree", t + "}");
  }
  field(&out, "state", CaseStateJson(tl.state).dump());
  out += ",\"events\":[";
  for (size_t i = 0; i < tl.entries.size(); ++i) {
    const TimelineEntry& entry = tl.entries[i];
    const RecordedEvent& e = entry.event;
    OJson x = OJson::object();
    x["position"] = e.position;
    x["streamVersion"] = e.stream_version;
    x["id"] = e.id.ToString();
    x["type"] = e.type;
    x["schemaVersion"] = e.schema_version;
    x["recordedAt"] = FormatTimestamp(e.recorded_at);
    x["occurredAt"] = FormatTimestamp(e.occurred_at);
    if (entry.business_date) x["businessDate"] = FormatDate(*entry.business_date);
    x["actor"] = {{"user", e.actor.user}, {"role", e.actor.role}, {"plugin", e.actor.plugin}};
    OJson subjects = OJson::array();
    for (const auto& sr : e.subjects) subjects.push_back({{"id", sr.id}, {"role", SubjectRoleName(sr.role)}});
    x["subjects"] = std::move(subjects);
    x["summary"] = entry.summary;
    if (i > 0) out.push_back(',');
    out += open(x);
    field(&out, "facts", entry.facts_json.empty() ? "{}" : entry.facts_json);
    if (!entry.personal_json.empty()) field(&out, "personal", entry.personal_json);
    if (tl.tree_size > 0) {
      merkle::InclusionProofDoc doc;
      doc.position = e.position;
      doc.tree_size = tl.tree_size;
      doc.leaf_hash = entry.leaf_hash;
      doc.path = entry.proof;
      field(&out, "proof", merkle::InclusionToJson(doc).dump());
    }
    out.push_back('}');
  }
  out += "]}";
  return pretty ? OJson::parse(out).dump(2) : out;
}

std::string TimelineToText(const Timeline& tl) {
  std::string out;
  out += "Case " + tl.case_id + ", " + tl.cut + ": " + std::to_string(tl.entries.size()) + " of " +
         std::to_string(tl.stream_events) + " events\n";
  out += CaseStateText(tl.state, "  ");
  if (tl.tree_size > 0) {
    if (tl.checkpoint) {
      out += "Proofs against the signed checkpoint of " + std::to_string(tl.tree_size) +
             " events (" + FormatTimestamp(tl.checkpoint->time) + "), root " + HexOf(tl.root) + "\n";
    } else {
      out += "Proofs against the current tree head of " + std::to_string(tl.tree_size) +
             " events (no signed checkpoint covers them yet: `hearth checkpoint`), root " +
             HexOf(tl.root) + "\n";
    }
  }
  if (!tl.personal_shown) out += "Personal sections are not shown to this caller.\n";
  out += "\n";
  for (const TimelineEntry& entry : tl.entries) {
    const RecordedEvent& e = entry.event;
    out += std::to_string(e.stream_version) + ". " +
           (entry.business_date ? FormatDate(*entry.business_date) : std::string("----------")) +
           "  " + e.type + "  (position " + std::to_string(e.position) + ", recorded " +
           FormatTimestamp(e.recorded_at).substr(0, 19) + "Z by " + ActorText(e.actor) + ")\n";
    out += "   " + entry.summary + "\n";
    if (!entry.personal_json.empty()) {
      Json personal = Json::parse(entry.personal_json, nullptr, false);
      if (personal.is_array()) {
        for (const auto& p : personal) {
          std::string line = "   personal, " + p.value("subject", std::string("?")) + " (" +
                             p.value("role", std::string("?")) + "): ";
          if (p.value("erased", false)) {
            line += "erased";
          } else if (p.contains("details") && p["details"].is_object()) {
            std::string fields;
            for (const auto& [key, value] : p["details"].items()) {
              if (!fields.empty()) fields += "; ";
              fields += key + ": " + (value.is_string() ? value.get<std::string>() : value.dump());
            }
            line += fields.empty() ? "(empty)" : fields;
          }
          out += line + "\n";
        }
      }
    }
    if (tl.tree_size > 0) {
      bool ok = merkle::VerifyInclusion(e.position - 1, tl.tree_size, entry.leaf_hash, entry.proof, tl.root);
      out += "   leaf " + Short(entry.leaf_hash) + "..., proof of " + std::to_string(entry.proof.size()) +
             " hashes: " + (ok ? "leads to the root" : "DOES NOT lead to the root") + "\n";
    }
  }
  return out;
}

}  // namespace hearth::readmodels
