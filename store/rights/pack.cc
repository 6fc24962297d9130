// The subject-access pack (UK GDPR Arts. 15 and 20; docs/sar-format.md):
// every event naming the person (Store::ReadSubject: the cost follows the
// person's history, not the store), decrypted, with other people's personal
// sections withheld unless a reviewer's decision releases them, notes that
// mention someone else held for redaction, and the Art. 15 information from
// the record of processing kept in the store.
//
// CollectPack reads the log into a PackContent (rights/pack.h) through the
// typed readers (rights/internal.h); PackJson and PackHtml render it.
#include "rights/pack.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "readmodels/describe.h"
#include "rights/internal.h"

namespace hearth::rights {

using Json = nlohmann::json;
using domain::FormatDate;
using internal::Code;
using internal::Text;
using internal::Texts;
namespace cs = domain::cs;

namespace {

constexpr int kPackFormatVersion = 1;

std::string Words(const std::string& code) { return readmodels::Words(code); }

// Plain English for the rights event types (the case types come from the
// timeline's descriptions, which read the codec's JSON form).
std::string Describe(const std::string& type, const cs::Facts::Reader* facts, const Json& json) {
  auto with = [](const char* prefix, const std::string& x) {
    return x.empty() || x == "unspecified" ? std::string() : prefix + x;
  };
  if (facts == nullptr) return readmodels::DescribeFacts(type, json);
  switch (facts->which()) {
    case cs::Facts::RIGHTS_REQUEST_RECEIVED: {
      auto f = facts->getRightsRequestReceived();
      return "Request received: right of " + Words(Code(f.getKind())) + with(" by ", Words(Code(f.getChannel()))) +
             (f.getRequestedBy() == cs::RequesterKind::REPRESENTATIVE
                  ? " from a representative" + with(" acting under ", Words(Code(f.getAuthority())))
                  : std::string());
    }
    case cs::Facts::RIGHTS_IDENTITY_VERIFIED:
      return "Identity verified" + with(": ", Words(Code(facts->getRightsIdentityVerified().getMethod())));
    case cs::Facts::RIGHTS_CLOCK_PAUSED:
      return "Response time stopped: waiting for " + Words(Code(facts->getRightsClockPaused().getReason()));
    case cs::Facts::RIGHTS_CLOCK_RESUMED:
      return "Response time restarted";
    case cs::Facts::RIGHTS_REQUEST_EXTENDED: {
      auto f = facts->getRightsRequestExtended();
      std::string reason = Text(f.getReasonCode());
      return "Response time extended by " + std::to_string(int(f.getMonths())) + " month(s)" +
             with(" (", Words(reason)) + (reason.empty() ? "" : ")") +
             with("; you were told on ", Text(f.getPersonToldOn()));
    }
    case cs::Facts::RIGHTS_REQUEST_FULFILLED:
      return "Request completed" + with(": ", Words(Text(facts->getRightsRequestFulfilled().getActionCode())));
    case cs::Facts::RIGHTS_REQUEST_REFUSED: {
      auto f = facts->getRightsRequestRefused();
      std::string exemption = Text(f.getExemption());
      return "Request refused" + with(": ", Words(Text(f.getReasonCode()))) + with(" (", exemption) +
             (exemption.empty() ? "" : ")");
    }
    case cs::Facts::ERASURE_DECIDED: {
      auto f = facts->getErasureDecided();
      std::string rule = Text(f.getRuleApplied());
      return f.getErase() ? "Decision: your data is to be erased" + with(" (rule ", rule) + (rule.empty() ? "" : ")")
                          : "Decision: erasure refused while retention rule " + rule + " applies" +
                                with(", until ", Text(f.getHoldUntil()));
    }
    case cs::Facts::RESTRICTION_APPLIED:
      return "Use of your data restricted" + with(": ", Words(Text(facts->getRestrictionApplied().getReasonCode())));
    case cs::Facts::RESTRICTION_LIFTED:
      return "Restriction lifted" + with(": ", Words(Text(facts->getRestrictionLifted().getReasonCode())));
    case cs::Facts::THIRD_PARTY_DISCLOSURE_DECIDED: {
      auto f = facts->getThirdPartyDisclosureDecided();
      std::string about = f.getNotePosition() != 0
                              ? "a note that mentions another person (position " +
                                    std::to_string(f.getNotePosition()) + ")"
                              : std::string("another person's information");
      return "Reviewer's decision on " + about + ": " + Words(Code(f.getBasis())) +
             with(" (", Words(Text(f.getReasonCode()))) + ")";
    }
    default:
      return readmodels::DescribeFacts(type, json);
  }
}

// Business date of an event: its facts' first date, else its occurrence.
std::string EventDate(const std::string& type, const Json& f, const RecordedEvent& e) {
  auto d = readmodels::BusinessDateOf(type, f);
  if (d) return FormatDate(*d);
  for (auto it = f.begin(); it != f.end(); ++it) {
    if (it.key().ends_with("On") && it->is_string()) {
      Date x;
      if (domain::ParseDate(it->get<std::string>(), &x)) return it->get<std::string>();
    }
  }
  return FormatDate(domain::UkDate(e.occurred_at ? e.occurred_at : e.recorded_at));
}

bool Releases(cs::DisclosureBasis basis) {
  return basis == cs::DisclosureBasis::THIRD_PARTY_CONSENTED ||
         basis == cs::DisclosureBasis::REASONABLE_WITHOUT_CONSENT;
}

// A reviewer's decision (ThirdPartyDisclosureDecided), the last one standing.
struct Decision {
  cs::DisclosureBasis basis = cs::DisclosureBasis::UNSPECIFIED;
  std::string reason;
  std::string redacted;  // basis releaseRedacted: the reviewer's text
};

// A personal section's details in the codec's JSON form, its free text left
// out (nullopt) or replaced.
Result<Json> DetailsOf(internal::EventReader& reader, cs::Personal::Reader section,
                       const std::optional<std::string>& free_text) {
  capnp::MallocMessageBuilder message;
  try {
    message.setRoot(section);
    auto copy = message.getRoot<cs::Personal>();
    if (free_text) {
      copy.setFreeText(*free_text);
    } else if (copy.hasFreeText()) {
      copy.disownFreeText();
    }
    return reader.JsonOf(copy.asReader());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("a personal section: ") + e.getDescription().cStr());
  }
}

std::string Esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Scalar(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) {
      if (!out.empty()) out += ", ";
      out += Scalar(x);
    }
    return out;
  }
  if (v.is_object()) {
    std::string out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!out.empty()) out += "; ";
      out += Words(it.key()) + ": " + Scalar(*it);
    }
    return out;
  }
  return v.dump();
}

// "field: value" rows of an object, codes put into words.
std::string DetailsHtml(const Json& details) {
  std::string out = "<dl>";
  for (auto it = details.begin(); it != details.end(); ++it) {
    std::string v = Scalar(*it);
    bool code = it->is_string() && v.find(' ') == std::string::npos && !v.empty() &&
                std::islower(static_cast<unsigned char>(v[0])) && v.find('@') == std::string::npos;
    out += "<dt>" + Esc(Words(it.key())) + "</dt><dd>" + Esc(code ? Words(v) : v) + "</dd>";
  }
  return out + "</dl>";
}

std::string ErasedHtml(const std::string& subject, const std::string& on) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<title>Your personal data</title></head><body><h1>Your personal data</h1><p>"
         "The personal data of reference " + Esc(subject) + " was erased on " + Esc(on) +
         ". Nobody, the agency included, can read it any more.</p></body></html>\n";
}

}  // namespace

namespace internal {

Result<PackContent> CollectPack(Rights& rights, Store& store, const domain::Codec& codec,
                                const std::string& subject, Date today) {
  // Every event naming the person, in log order.
  std::vector<RecordedEvent> events;
  for (uint64_t from = 1;;) {
    auto page = store.ReadSubject(subject, from, 1024);
    if (!page.ok()) {
      if (page.status().IsNotFound()) return Status::NotFound("no data subject " + subject + " in this store");
      return page.status();
    }
    if (page->empty()) break;
    from = page->back().position + 1;
    bool last = page->size() < 1024;
    for (auto& e : *page) events.push_back(std::move(e));
    if (last) break;
  }
  if (events.empty()) return Status::NotFound("no data subject " + subject + " in this store");

  PackContent pack;
  pack.subject = subject;
  pack.generated_on = today;
  pack.event_count = uint32_t(events.size());
  pack.first_position = events.front().position;
  pack.last_position = events.back().position;

  for (const auto& e : events) {
    if (e.type != "SubjectErased") continue;
    // An erased person's pack says only that, and when.
    pack.erased = true;
    pack.erased_on = FormatDate(domain::UkDate(e.recorded_at));
    return pack;
  }

  auto record_read = ReadRecordOfProcessing(store, codec);
  if (!record_read.ok()) return record_read.status();
  const RecordOfProcessing& record = *record_read;
  EventReader reader(codec);

  try {
    // The reviewers' decisions about other people's sections and about held
    // notes: the last one about each stands, whichever event it concerns.
    std::map<std::string, Decision> released;  // third party -> decision
    std::map<uint64_t, Decision> note_decisions;  // held note's position -> latest decision
    for (const auto& e : events) {
      if (e.type != "ThirdPartyDisclosureDecided") continue;
      cs::Facts::Reader facts;
      Status s = reader.Facts(e, &facts);
      if (!s.ok()) return s;
      auto f = facts.getThirdPartyDisclosureDecided();
      Decision d{f.getBasis(), Text(f.getReasonCode()), std::string()};
      if (f.getNotePosition() != 0) {
        // A decision about a note held for review; a redacted release carries
        // the reviewer's text in the person's own section.
        for (const auto& p : e.personal) {
          if (p.subject != subject || p.erased) continue;
          cs::Personal::Reader mine;
          s = reader.Personal(p, &mine);
          if (!s.ok()) return s;
          d.redacted = Text(mine.getFreeText());
        }
        note_decisions[f.getNotePosition()] = std::move(d);
      } else if (Releases(d.basis)) {
        released[Text(f.getThirdParty())] = std::move(d);
      } else {
        released.erase(Text(f.getThirdParty()));
      }
    }

    std::set<std::string> cases;
    std::set<std::string> request_refs;
    for (const auto& e : events) {
      SubjectRole my_role = SubjectRole::kOther;
      for (const auto& s : e.subjects) {
        if (s.id == subject) my_role = s.role;
      }
      if (e.stream.starts_with("case/") && my_role == SubjectRole::kClient) cases.insert(e.stream);
      if (e.stream.starts_with("rights/R")) request_refs.insert(e.stream.substr(7));

      bool known = codec.FindType(e.type) != nullptr;
      cs::Facts::Reader facts;
      PackEvent ev;
      if (known) {
        Status s = reader.Facts(e, &facts);
        if (!s.ok()) return s;
        auto json = FactsJsonOf(codec, e);
        if (!json.ok()) return json.status();
        ev.facts = std::move(*json);
      }
      ev.position = e.position;
      ev.date = EventDate(e.type, ev.facts, e);
      ev.recorded_on = FormatDate(domain::UkDate(e.recorded_at));
      ev.type = e.type;
      ev.description = Describe(e.type, known ? &facts : nullptr, ev.facts);
      ev.record = e.stream;
      ev.your_role = SubjectRoleName(my_role);
      ev.staff_ref = e.actor.user;
      ev.staff_role = e.actor.role;
      auto which = known ? facts.which() : cs::Facts::UNSET;
      bool note_held = which == cs::Facts::CASE_NOTE_ADDED && facts.getCaseNoteAdded().getMentionsThirdParty();

      for (const PersonalSection& p : e.personal) {
        PackSection section;
        SubjectRole role = SubjectRole::kOther;
        for (const auto& s : e.subjects) {
          if (s.id == p.subject) role = s.role;
        }
        section.role = SubjectRoleName(role);
        bool own = p.subject == subject;
        bool staff = role == SubjectRole::kStaff;
        auto rel = released.find(p.subject);
        if (!own && !staff && rel == released.end()) {
          section.shown = PackSection::Shown::kWithheld;
          pack.withheld.push_back(PackWithheld{e.position, ev.date, section.role, std::string()});
          ++pack.withheld_sections;
          ev.personal.push_back(std::move(section));
          continue;
        }
        section.whose = own ? "yours" : staff ? "staff" : "thirdParty";
        if (p.erased) {
          section.shown = PackSection::Shown::kErased;
          ev.personal.push_back(std::move(section));
          continue;
        }
        bool has_free_text = false;
        if (known) {
          cs::Personal::Reader details;
          Status s = reader.Personal(p, &details);
          if (!s.ok()) return s;
          has_free_text = details.hasFreeText();
          auto json = reader.JsonOf(details);
          if (!json.ok()) return json.status();
          section.details = std::move(*json);
          auto decided = note_held ? note_decisions.find(e.position) : note_decisions.end();
          if (own && note_held && has_free_text && decided == note_decisions.end()) {
            auto held = DetailsOf(reader, details, std::nullopt);
            if (!held.ok()) return held.status();
            section.details = std::move(*held);
            section.review = PackSection::Review::kHeld;
            pack.held.push_back(PackHeld{e.position, ev.date, e.type});
            ++pack.held_for_review;
          } else if (own && note_held && has_free_text) {
            // A reviewer decided (docs/sar-format.md): sent whole, sent
            // redacted, or withheld with its basis.
            const Decision& d = decided->second;
            section.basis = Code(d.basis);
            section.reason = d.reason;
            if (Releases(d.basis)) {
              section.review = PackSection::Review::kReleased;
            } else if (d.basis == cs::DisclosureBasis::RELEASE_REDACTED && !d.redacted.empty()) {
              auto redacted = DetailsOf(reader, details, d.redacted);
              if (!redacted.ok()) return redacted.status();
              section.details = std::move(*redacted);
              section.review = PackSection::Review::kRedacted;
            } else {
              auto withheld = DetailsOf(reader, details, std::nullopt);
              if (!withheld.ok()) return withheld.status();
              section.details = std::move(*withheld);
              section.review = PackSection::Review::kWithheld;
              pack.withheld.push_back(PackWithheld{e.position, ev.date, "other",
                                                   "a note's text about another person, withheld after review"});
              ++pack.withheld_sections;
            }
          }
        }
        if (!own && !staff) {
          section.review = PackSection::Review::kThirdPartyReleased;
          section.basis = Code(rel->second.basis);
          section.reason = rel->second.reason;
        }
        if (own && (which == cs::Facts::PERSON_REGISTERED || which == cs::Facts::PERSON_DETAILS_RECTIFIED)) {
          for (auto it = section.details.begin(); it != section.details.end(); ++it) {
            pack.current_details[it.key()] = *it;
          }
        }
        ev.personal.push_back(std::move(section));
      }

      switch (which) {
        case cs::Facts::PERSON_DETAILS_RECTIFIED:
          if (my_role != SubjectRole::kOther) {
            auto f = facts.getPersonDetailsRectified();
            pack.rectifications.push_back(
                PackRectification{Text(f.getRectifiedOn()), Texts(f.getFields()), f.getRequestedBySubject()});
          }
          break;
        case cs::Facts::PERSONAL_DATA_DISCLOSED: {
          auto f = facts.getPersonalDataDisclosed();
          PackDisclosure d;
          d.date = Text(f.getDisclosedOn());
          d.recipient_type = Code(f.getRecipientType());
          d.recipient_ref = Text(f.getRecipientRef());
          d.purpose = Text(f.getPurposeCode());
          d.lawful_basis = Code(f.getLawfulBasis());
          d.categories = Texts(f.getCategories());
          pack.disclosures.push_back(std::move(d));
          break;
        }
        case cs::Facts::ONWARD_REFERRAL_MADE: {
          // A referral on passes the person's details to another service: a
          // recipient (Art. 15(1)(c)). Signposting passes nothing on.
          auto f = facts.getOnwardReferralMade();
          if (f.getSignposted()) break;
          PackDisclosure d;
          d.onward_referral = true;
          d.date = Text(f.getReferredOn());
          d.destination = Code(f.getDestination());
          d.recipient_ref = Text(f.getOrganisationRef());
          d.purpose = "onwardReferral";
          pack.disclosures.push_back(std::move(d));
          break;
        }
        case cs::Facts::CONTACT_RECORDED: {
          auto f = facts.getContactRecorded();
          if (f.getPurpose() != cs::ContactPurpose::ENQUIRY) break;
          pack.sources.push_back(PackSource{ev.date, e.type, Code(f.getReferrerType()), Code(f.getChannel()),
                                            Text(f.getReferrerOrganisation())});
          break;
        }
        case cs::Facts::REFERRAL_MADE:
          pack.sources.push_back(
              PackSource{ev.date, e.type, Code(facts.getReferralMade().getReferrerType()), "", ""});
          break;
        default:
          break;
      }
      pack.events.push_back(std::move(ev));
    }

    // The access log: every read, export and disclosure of the person's data.
    auto log = store.AccessLog(subject);
    if (!log.ok()) return log.status();
    for (const auto& a : *log) {
      pack.reads.push_back(PackRead{FormatDate(domain::UkDate(a.time)), a.action, a.user, a.role, a.plugin,
                                    a.purpose, a.recipient});
    }

    // Requests about the person.
    for (const auto& ref : request_refs) {
      auto st = rights.LoadRequest(ref);
      if (!st.ok()) return st.status();
      pack.requests.push_back(PackRequest{ref, st->kind, st->status, st->received_on, st->closed_on, st->outcome});
    }

    // The person's cases, folded from the events already read: every event
    // of a case names its client (CaseRecorder), so nothing is read twice.
    // Consent-based purposes apply only while a consent of their scope is
    // active on one of them; the retention rule comes from them too.
    std::set<std::string> active_scopes;
    std::vector<domain::CaseState> states;
    {
      domain::CaseFolder folder(&codec);
      std::map<std::string, domain::CaseState> by_case;
      for (const auto& e : events) {
        if (!cases.count(e.stream)) continue;
        domain::CaseState& state = by_case[e.stream];
        state.case_id = e.stream;
        Status s = folder.Apply(e, &state);
        if (!s.ok()) return s;
      }
      for (auto& [id, state] : by_case) {
        for (const auto& a : state.consents) active_scopes.insert(a.scope);
        states.push_back(std::move(state));
      }
    }
    auto retention = RetentionOfCases(record, states, subject, today);
    if (retention.ok()) {
      pack.retention = *retention;
    } else if (!retention.status().IsNotFound()) {
      return retention.status();
    }

    auto r = record.get();
    std::set<std::string> seen_c, seen_r;
    for (auto p : r.getPurposes()) {
      PackPurpose q;
      auto json = reader.JsonOf(p);
      if (!json.ok()) return json.status();
      q.record = std::move(*json);
      q.description = Text(p.getDescription());
      q.lawful_basis = Code(p.getLawfulBasis());
      q.basis_detail = Text(p.getBasisDetail());
      q.special_category_condition = Text(p.getSpecialCategoryCondition());
      q.categories = Texts(p.getCategories());
      q.recipients = Texts(p.getRecipients());
      q.applies = p.getLawfulBasis() != cs::LawfulBasis::CONSENT ||
                  active_scopes.count(Code(p.getConsentScope())) > 0;
      if (q.applies) {
        for (const auto& c : q.categories) {
          if (seen_c.insert(c).second) pack.categories.push_back(c);
        }
        for (const auto& x : q.recipients) {
          if (seen_r.insert(x).second) pack.recipients.push_back(x);
        }
      }
      pack.purposes.push_back(std::move(q));
    }
    for (auto rule : r.getRetention()) {
      auto json = reader.JsonOf(rule);
      if (!json.ok()) return json.status();
      pack.retention_rules.push_back(PackRule{std::move(*json), Text(rule.getName()), Text(rule.getRecordClass()),
                                              Text(rule.getSource())});
    }
    pack.rights = Texts(r.getRightsStatement());
    pack.controller = Text(r.getController());
    pack.dpo = Text(r.getDpoContact());
    pack.complaint = Text(r.getComplaintAuthority());
    pack.automated_decisions = Text(r.getAutomatedDecisions());
    pack.transfers = Text(r.getTransfers());
    pack.record_since = Text(r.getEffectiveOn());
  } catch (const kj::Exception& e) {
    return Status::Corruption("subject access pack of " + subject + ": " + e.getDescription().cStr());
  }

  // Documents about the person, as files of the pack. A body that does not
  // match the hash its event records fails the pack (ReadDocumentBody).
  for (const auto& e : events) {
    if (e.type != "DocumentAttached") continue;
    cs::Facts::Reader facts;
    Status s = reader.Facts(e, &facts);
    if (!s.ok()) return s;
    auto d = facts.getDocumentAttached();
    if (Text(d.getSubjectRef()) != subject) continue;  // another person's document
    domain::CaseDocument doc;
    doc.position = e.position;
    doc.subject = subject;
    for (const PersonalSection& p : e.personal) {
      if (p.subject != subject) continue;
      cs::Personal::Reader mine;
      s = reader.Personal(p, &mine);
      if (!s.ok()) return s;
      doc.sha256 = Text(mine.getDocumentSha256());
      doc.file_name = Text(mine.getDocumentFileName());
    }
    auto body = domain::ReadDocumentBody(store, doc);
    if (!body.ok()) return body.status();
    PackDocument pd;
    pd.position = e.position;
    pd.date = Text(d.getAttachedOn());
    pd.record = e.stream;
    pd.kind = Code(d.getKind());
    pd.media_type = Code(d.getMediaType());
    pd.file_name = doc.file_name;
    pd.sha256 = doc.sha256;
    pd.size_bytes = d.getSizeBytes();
    std::string safe;
    for (char c : doc.file_name.substr(0, 100)) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
      safe.push_back(ok ? c : '_');
    }
    if (safe.empty() || safe[0] == '.') safe = "document" + safe;
    pd.path = "documents/" + std::to_string(e.position) + "-" + safe;
    pd.bytes = std::move(*body);
    pack.documents.push_back(std::move(pd));
  }

  auto restricted = rights.IsRestricted(subject);
  if (!restricted.ok()) return restricted.status();
  pack.restricted = *restricted;
  return pack;
}

std::string PackJson(const PackContent& pack) {
  if (pack.erased) {
    Json j{{"format", "hearth-sar"}, {"formatVersion", kPackFormatVersion},
           {"subject", pack.subject}, {"generatedOn", FormatDate(pack.generated_on)},
           {"erased", true}, {"erasedOn", pack.erased_on},
           {"statement", "The personal data of this person was erased on " + pack.erased_on +
                             ". Nobody, the agency included, can read it any more."}};
    return j.dump(2) + "\n";
  }
  auto strings = [](const std::vector<std::string>& list) {
    Json out = Json::array();
    for (const auto& s : list) out.push_back(s);
    return out;
  };
  Json events = Json::array();
  for (const PackEvent& e : pack.events) {
    Json personal = Json::array();
    for (const PackSection& p : e.personal) {
      if (p.shown == PackSection::Shown::kWithheld) {
        personal.push_back(Json{{"role", p.role}, {"withheld", "third-party data"}});
        continue;
      }
      Json entry{{"role", p.role}, {"whose", p.whose}};
      if (p.shown == PackSection::Shown::kErased) {
        entry["erased"] = true;
        personal.push_back(entry);
        continue;
      }
      switch (p.review) {
        case PackSection::Review::kNone: break;
        case PackSection::Review::kHeld: entry["heldForReview"] = true; break;
        case PackSection::Review::kReleased:
        case PackSection::Review::kRedacted:
          entry["releasedAfterReview"] = p.basis;
          entry["reason"] = p.reason;
          break;
        case PackSection::Review::kWithheld: entry["withheldAfterReview"] = p.reason; break;
        case PackSection::Review::kThirdPartyReleased:
          entry["releasedBecause"] = p.basis;
          entry["reason"] = p.reason;
          break;
      }
      entry["details"] = p.details;
      personal.push_back(entry);
    }
    events.push_back(Json{{"position", e.position},
                          {"date", e.date},
                          {"recordedOn", e.recorded_on},
                          {"type", e.type},
                          {"description", e.description},
                          {"record", e.record},
                          {"yourRole", e.your_role},
                          {"by", Json{{"staffRef", e.staff_ref}, {"role", e.staff_role}}},
                          {"facts", e.facts},
                          {"personal", personal}});
  }
  Json withheld = Json::array();
  for (const auto& w : pack.withheld) {
    Json x{{"position", w.position}, {"date", w.date}, {"role", w.role}};
    if (!w.reason.empty()) x["reason"] = w.reason;
    withheld.push_back(x);
  }
  Json held = Json::array();
  for (const auto& h : pack.held) {
    held.push_back(Json{{"position", h.position}, {"date", h.date}, {"type", h.type},
                        {"reason", "the note mentions another person: held for a reviewer to redact"}});
  }
  Json rectifications = Json::array();
  for (const auto& r : pack.rectifications) {
    rectifications.push_back(Json{{"date", r.date}, {"fields", strings(r.fields)}, {"atYourRequest", r.at_your_request}});
  }
  Json disclosures = Json::array();
  for (const auto& d : pack.disclosures) {
    if (d.onward_referral) {
      disclosures.push_back(Json{{"date", d.date}, {"kind", "onwardReferral"}, {"destination", d.destination},
                                 {"recipientRef", d.recipient_ref}, {"purpose", d.purpose}});
    } else {
      disclosures.push_back(Json{{"date", d.date}, {"kind", "disclosure"}, {"recipientType", d.recipient_type},
                                 {"recipientRef", d.recipient_ref}, {"purpose", d.purpose},
                                 {"lawfulBasis", d.lawful_basis}, {"categories", strings(d.categories)}});
    }
  }
  Json reads = Json::array();
  for (const auto& a : pack.reads) {
    Json r{{"date", a.date}, {"action", a.action}, {"by", a.by}, {"role", a.role}, {"through", a.through}, {"why", a.why}};
    if (!a.recipient.empty()) r["recipient"] = a.recipient;
    reads.push_back(r);
  }
  Json requests = Json::array();
  for (const auto& q : pack.requests) {
    Json r{{"ref", q.ref}, {"kind", q.kind}, {"status", q.status}};
    if (q.received_on) r["receivedOn"] = FormatDate(*q.received_on);
    if (q.closed_on) r["closedOn"] = FormatDate(*q.closed_on);
    if (!q.outcome.empty()) r["outcome"] = q.outcome;
    requests.push_back(r);
  }
  Json purposes = Json::array();
  for (const auto& p : pack.purposes) {
    Json q = p.record;
    q["applies"] = p.applies;
    purposes.push_back(q);
  }
  Json retention = Json::object();
  if (pack.retention) {
    retention = Json{{"rule", pack.retention->rule}, {"recordClass", pack.retention->record_class},
                     {"keepUntil", FormatDate(pack.retention->keep_until)},
                     {"explanation", pack.retention->explanation}};
  }
  Json rules = Json::array();
  for (const auto& r : pack.retention_rules) rules.push_back(r.record);
  Json sources = Json::array();
  for (const auto& s : pack.sources) {
    sources.push_back(Json{{"date", s.date}, {"event", s.event}, {"from", s.from}, {"channel", s.channel},
                           {"organisation", s.organisation}});
  }

  Json j = Json::object();
  j["format"] = "hearth-sar";
  j["formatVersion"] = kPackFormatVersion;
  j["subject"] = pack.subject;
  j["generatedOn"] = FormatDate(pack.generated_on);
  j["erased"] = false;
  j["restricted"] = pack.restricted;
  j["controller"] = Json{{"name", pack.controller}, {"dpo", pack.dpo}};
  j["currentDetails"] = pack.current_details;
  j["events"] = events;
  j["withheld"] = withheld;
  j["heldForReview"] = held;
  j["rectifications"] = rectifications;
  j["disclosures"] = disclosures;
  j["accessLog"] = reads;
  j["requests"] = requests;
  Json documents = Json::array();
  for (const auto& d : pack.documents) {
    documents.push_back(Json{{"position", d.position}, {"date", d.date}, {"record", d.record}, {"kind", d.kind},
                             {"mediaType", d.media_type}, {"fileName", d.file_name}, {"sha256", d.sha256},
                             {"sizeBytes", d.size_bytes}, {"file", d.path}});
  }
  j["documents"] = documents;
  j["article15"] = Json{{"purposes", purposes},
                        {"categories", strings(pack.categories)},
                        {"recipients", strings(pack.recipients)},
                        {"recipientsActual", disclosures},
                        {"retention", retention},
                        {"retentionRules", rules},
                        {"sources", sources},
                        {"rights", strings(pack.rights)},
                        {"complaint", pack.complaint},
                        {"automatedDecisions", pack.automated_decisions},
                        {"transfers", pack.transfers},
                        {"recordOfProcessingSince", pack.record_since}};
  return j.dump(2) + "\n";
}

std::string PackHtml(const PackContent& pack) {
  if (pack.erased) return ErasedHtml(pack.subject, pack.erased_on);
  auto list = [](const std::vector<std::string>& items) {
    std::string out;
    for (const auto& x : items) {
      if (!out.empty()) out += ", ";
      out += x;
    }
    return out;
  };
  std::string rows;
  for (const PackEvent& e : pack.events) {
    std::string personal;
    for (const PackSection& p : e.personal) {
      if (p.shown == PackSection::Shown::kWithheld) {
        personal += "<p class=\"withheld\">Withheld: third-party data (the section of a " + Esc(Words(p.role)) + ")</p>";
        continue;
      }
      if (p.shown == PackSection::Shown::kErased) {
        personal += "<p>This section was erased.</p>";
        continue;
      }
      switch (p.review) {
        case PackSection::Review::kNone: break;
        case PackSection::Review::kHeld:
          personal += "<p class=\"held\">The text of this note mentions another person; it is "
                      "held for a reviewer to redact and will be sent separately.</p>";
          break;
        case PackSection::Review::kReleased:
        case PackSection::Review::kThirdPartyReleased:
          personal += "<p>Released after review (" + Esc(Words(p.basis)) + ": " + Esc(Words(p.reason)) + "):</p>";
          break;
        case PackSection::Review::kRedacted:
          personal += "<p>Another person's information was removed from this note by a reviewer (" +
                      Esc(Words(p.reason)) + "):</p>";
          break;
        case PackSection::Review::kWithheld:
          personal += "<p class=\"withheld\">Withheld after review: the text of this note is "
                      "about another person (" + Esc(Words(p.reason)) + ").</p>";
          break;
      }
      if (!p.details.empty()) personal += DetailsHtml(p.details);
    }
    rows += "<tr><td>" + Esc(e.date) + "</td><td>" + Esc(e.description) +
            "<div class=\"by\">Recorded by staff " + Esc(e.staff_ref.empty() ? "(system)" : e.staff_ref) +
            (e.staff_role.empty() ? "" : " (" + Esc(Words(e.staff_role)) + ")") + "</div>" + personal +
            "</td></tr>\n";
  }

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<title>Your personal data</title><style>"
       "body{font-family:sans-serif;max-width:60em;margin:1em auto;line-height:1.4}"
       "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em;vertical-align:top}"
       ".withheld,.held{font-style:italic}.by{color:#444;font-size:90%}dt{font-weight:bold}"
       "</style></head><body>\n";
  h += "<h1>Your personal data</h1>\n<p>Reference " + Esc(pack.subject) + ", prepared on " +
       Esc(FormatDate(pack.generated_on)) + " by " + Esc(pack.controller) + ".</p>\n";
  if (pack.restricted) h += "<p><strong>The use of your data is restricted at your request.</strong></p>\n";
  h += "<h2>Your details as we hold them now</h2>\n" + DetailsHtml(pack.current_details) + "\n";
  if (!pack.rectifications.empty()) {
    h += "<h2>Corrections</h2>\n<ul>";
    for (const auto& r : pack.rectifications) {
      h += "<li>On " + Esc(r.date) + " we corrected: " + Esc(list(r.fields)) +
           (r.at_your_request ? " (at your request)" : "") + "</li>";
    }
    h += "</ul>\n";
  }
  h += "<h2>Why we hold your data and on what legal basis</h2>\n<table><tr><th>Purpose</th>"
       "<th>Legal basis</th><th>Health data condition</th><th>Kinds of data</th><th>Who may receive it</th></tr>\n";
  for (const auto& p : pack.purposes) {
    h += "<tr><td>" + Esc(p.description) +
         (p.applies ? "" : " <em>(does not apply to you: it needs your consent, which is not active)</em>") +
         "</td><td>" + Esc(Words(p.lawful_basis)) + ": " + Esc(p.basis_detail) + "</td><td>" +
         Esc(p.special_category_condition.empty() ? "not applicable" : p.special_category_condition) +
         "</td><td>" + Esc(list(p.categories)) + "</td><td>" + Esc(list(p.recipients)) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Where your data came from</h2>\n<ul>";
  for (const auto& s : pack.sources) {
    h += "<li>" + Esc(s.date) + ": from " + Esc(Words(s.from)) +
         (s.channel.empty() ? "" : " by " + Esc(Words(s.channel))) + "</li>";
  }
  h += "</ul>\n<h2>How long we keep it</h2>\n<p>";
  h += pack.retention ? Esc(pack.retention->explanation) : "See the rules below.";
  h += "</p>\n<ul>";
  for (const auto& r : pack.retention_rules) {
    h += "<li>" + Esc(Words(r.record_class)) + " (" + Esc(r.name) + "): " + Esc(r.source) + "</li>";
  }
  h += "</ul>\n<h2>Who has received or read your data</h2>\n<table><tr><th>Date</th><th>What</th></tr>\n";
  for (const auto& d : pack.disclosures) {
    if (d.onward_referral) {
      h += "<tr><td>" + Esc(d.date) + "</td><td>Referred on to " + Esc(Words(d.destination)) +
           (d.recipient_ref.empty() ? std::string() : " (" + Esc(d.recipient_ref) + ")") + "</td></tr>\n";
      continue;
    }
    h += "<tr><td>" + Esc(d.date) + "</td><td>Disclosed to " + Esc(Words(d.recipient_type)) + " for " +
         Esc(Words(d.purpose)) + " (legal basis: " + Esc(Words(d.lawful_basis)) + "; data: " +
         Esc(list(d.categories)) + ")</td></tr>\n";
  }
  for (const auto& r : pack.reads) {
    h += "<tr><td>" + Esc(r.date) + "</td><td>" + Esc(Words(r.action)) + " by staff " + Esc(r.by) + " (" +
         Esc(Words(r.role)) + ") for " + Esc(r.why) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Automated decisions and transfers</h2>\n<p>Automated decision-making: " +
       Esc(pack.automated_decisions) + ".</p><p>Transfers abroad: " + Esc(pack.transfers) + ".</p>\n";
  h += "<h2>Your rights</h2>\n<ul>";
  for (const auto& r : pack.rights) h += "<li>" + Esc(r) + "</li>";
  h += "</ul>\n<p>" + Esc(pack.complaint) + "</p>\n";
  if (!pack.documents.empty()) {
    h += "<h2>Documents about you</h2>\n<p>Each is a file in the folder of this page, with its SHA-256 so "
         "you can check it is the document we hold.</p>\n<table><tr><th>Date</th><th>Document</th></tr>\n";
    for (const auto& d : pack.documents) {
      // The file's name beside this page as text, not a link: the page has
      // no href or src attributes (docs/sar-format.md).
      h += "<tr><td>" + Esc(d.date) + "</td><td>" + Esc(d.file_name) + " (" + Esc(Words(d.kind)) + ", " +
           std::to_string(d.size_bytes) + " bytes): the file <code>" + Esc(d.path) + "</code>, SHA-256 " +
           Esc(d.sha256) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<h2>Everything we recorded about you, in date order</h2>\n";
  h += "<p>" + std::to_string(pack.events.size()) + " entries. " + std::to_string(pack.withheld_sections) +
       " sections about other people (carers, relatives, private referrers) are withheld as third-party data. " +
       std::to_string(pack.held_for_review) + " notes are held for a reviewer to redact.</p>\n";
  h += "<table><tr><th>Date</th><th>What happened</th></tr>\n" + rows + "</table>\n</body></html>\n";
  return h;
}

}  // namespace internal

Result<Pack> Rights::BuildPack(const std::string& subject, const PackOptions& options) {
  auto content = internal::CollectPack(*this, *store_, *codec_, subject, Today());
  if (!content.ok()) return content.status();
  Pack pack;
  pack.json = internal::PackJson(*content);
  pack.html = internal::PackHtml(*content);
  pack.erased = content->erased;
  pack.events = content->erased ? 0 : uint32_t(content->events.size());
  pack.withheld_sections = content->withheld_sections;
  pack.held_for_review = content->held_for_review;
  for (auto& d : content->documents) pack.files.push_back(PackFile{d.path, std::move(d.bytes)});
  if (options.record_disclosure) {
    AccessRecord access;
    access.subject = subject;
    access.plugin = options.plugin;
    access.user = options.user;
    access.role = options.requester_role;
    access.action = "sar";
    access.purpose = options.request_ref.empty() ? "subject access" : "subject access " + options.request_ref;
    access.recipient = "dataSubject";
    access.first_position = content->first_position;
    access.last_position = content->last_position;
    access.events = content->event_count;
    Status s = store_->LogAccess({access});
    if (!s.ok()) return s;
  }
  return pack;
}

Result<std::string> Rights::DisclosuresJson(const std::string& subject) {
  auto first = store_->ReadSubject(subject, 1, 1);
  if (!first.ok() || first->empty()) {
    return Status::NotFound("no data subject " + subject + " in this store");
  }
  Json out = Json::array();
  internal::EventReader reader(*codec_);
  for (uint64_t from = 1;;) {
    auto page = store_->ReadSubject(subject, from, 1024);
    if (!page.ok()) return page.status();
    for (const auto& e : *page) {
      if (e.type != "PersonalDataDisclosed" && e.type != "OnwardReferralMade") continue;
      cs::Facts::Reader facts;
      Status s = reader.Facts(e, &facts);
      if (!s.ok()) return s;
      try {
        if (facts.which() == cs::Facts::ONWARD_REFERRAL_MADE) {
          auto f = facts.getOnwardReferralMade();
          if (f.getSignposted()) continue;  // nothing was passed on
          out.push_back(Json{{"date", Text(f.getReferredOn())}, {"kind", "onwardReferral"},
                             {"destination", Code(f.getDestination())}, {"recipientRef", Text(f.getOrganisationRef())},
                             {"purpose", "onwardReferral"}, {"by", e.actor.user}, {"role", e.actor.role},
                             {"position", e.position}});
          continue;
        }
        auto f = facts.getPersonalDataDisclosed();
        out.push_back(Json{{"date", Text(f.getDisclosedOn())}, {"kind", "disclosure"},
                           {"recipientType", Code(f.getRecipientType())}, {"recipientRef", Text(f.getRecipientRef())},
                           {"purpose", Text(f.getPurposeCode())}, {"lawfulBasis", Code(f.getLawfulBasis())},
                           {"by", e.actor.user}, {"role", e.actor.role}, {"position", e.position}});
      } catch (const kj::Exception& x) {
        return Status::Corruption(e.type + " at position " + std::to_string(e.position) + ": " +
                                  x.getDescription().cStr());
      }
    }
    if (page->size() < 1024) break;
    from = page->back().position + 1;
  }
  auto log = store_->AccessLog(subject);
  if (!log.ok()) return log.status();
  for (const auto& a : *log) {
    Json r{{"date", FormatDate(domain::UkDate(a.time))}, {"kind", a.action}, {"by", a.user},
           {"role", a.role}, {"plugin", a.plugin}, {"purpose", a.purpose}};
    if (!a.recipient.empty()) r["recipientRef"] = a.recipient;
    if (a.events) r["events"] = a.events;
    out.push_back(r);
  }
  return out.dump(2);
}

}  // namespace hearth::rights
