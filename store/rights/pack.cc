// The subject-access pack (UK GDPR Arts. 15 and 20; docs/sar-format.md):
// every event naming the person (Store::ReadSubject: the cost follows the
// person's history, not the store), decrypted, with other people's personal
// sections withheld unless a reviewer's decision releases them, notes that
// mention someone else held for redaction, and the Art. 15 information from
// the record of processing kept in the store.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "readmodels/describe.h"
#include "rights/internal.h"

namespace hearth::rights {

using Json = nlohmann::json;
using domain::FormatDate;
using internal::Str;

namespace {

constexpr int kPackFormatVersion = 1;

std::string Words(const std::string& code) { return readmodels::Words(code); }

// Plain English for the rights event types (the case types come from the
// timeline's descriptions).
std::string Describe(const std::string& type, const Json& f) {
  auto with = [](const char* prefix, const std::string& x) {
    return x.empty() || x == "unspecified" ? std::string() : prefix + x;
  };
  if (type == "RightsRequestReceived") {
    return "Request received: right of " + Words(Str(f, "kind")) + with(" by ", Words(Str(f, "channel"))) +
           (Str(f, "requestedBy") == "representative"
                ? " from a representative" + with(" acting under ", Words(Str(f, "authority")))
                : std::string());
  }
  if (type == "RightsIdentityVerified") return "Identity verified" + with(": ", Words(Str(f, "method")));
  if (type == "RightsClockPaused") return "Response time stopped: waiting for " + Words(Str(f, "reason"));
  if (type == "RightsClockResumed") return "Response time restarted";
  if (type == "RightsRequestExtended") {
    return "Response time extended by " + std::to_string(f.value("months", 0)) + " month(s)" +
           with(" (", Words(Str(f, "reasonCode"))) + (Str(f, "reasonCode").empty() ? "" : ")") +
           with("; you were told on ", Str(f, "personToldOn"));
  }
  if (type == "RightsRequestFulfilled") return "Request completed" + with(": ", Words(Str(f, "actionCode")));
  if (type == "RightsRequestRefused") {
    return "Request refused" + with(": ", Words(Str(f, "reasonCode"))) + with(" (", Str(f, "exemption")) +
           (Str(f, "exemption").empty() ? "" : ")");
  }
  if (type == "ErasureDecided") {
    return f.value("erase", false) ? "Decision: your data is to be erased" + with(" (rule ", Str(f, "ruleApplied")) + (Str(f, "ruleApplied").empty() ? "" : ")")
                                   : "Decision: erasure refused while retention rule " + Str(f, "ruleApplied") +
                                         " applies" + with(", until ", Str(f, "holdUntil"));
  }
  if (type == "RestrictionApplied") return "Use of your data restricted" + with(": ", Words(Str(f, "reasonCode")));
  if (type == "RestrictionLifted") return "Restriction lifted" + with(": ", Words(Str(f, "reasonCode")));
  if (type == "ThirdPartyDisclosureDecided") {
    std::string about = internal::NotePosition(f) != 0
                            ? "a note that mentions another person (position " + std::to_string(internal::NotePosition(f)) + ")"
                            : std::string("another person's information");
    return "Reviewer's decision on " + about + ": " + Words(Str(f, "basis")) +
           with(" (", Words(Str(f, "reasonCode"))) + ")";
  }
  return readmodels::DescribeFacts(type, f);
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

Result<Pack> Rights::BuildPack(const std::string& subject, const PackOptions& options) {
  // Every event naming the person, in log order.
  std::vector<RecordedEvent> events;
  for (uint64_t from = 1;;) {
    auto page = store_->ReadSubject(subject, from, 1024);
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

  Pack pack;
  AccessRecord access;
  access.subject = subject;
  access.plugin = options.plugin;
  access.user = options.user;
  access.role = options.requester_role;
  access.action = "sar";
  access.purpose = options.request_ref.empty() ? "subject access" : "subject access " + options.request_ref;
  access.recipient = "dataSubject";
  access.first_position = events.front().position;
  access.last_position = events.back().position;
  access.events = uint32_t(events.size());

  for (const auto& e : events) {
    if (e.type != "SubjectErased") continue;
    // An erased person's pack says only that, and when.
    std::string on = FormatDate(domain::UkDate(e.recorded_at));
    Json j{{"format", "hearth-sar"}, {"formatVersion", kPackFormatVersion},
           {"subject", subject}, {"generatedOn", FormatDate(Today())},
           {"erased", true}, {"erasedOn", on},
           {"statement", "The personal data of this person was erased on " + on +
                             ". Nobody, the agency included, can read it any more."}};
    pack.json = j.dump(2) + "\n";
    pack.html = ErasedHtml(subject, on);
    pack.erased = true;
    if (options.record_disclosure) {
      Status s = store_->LogAccess({access});
      if (!s.ok()) return s;
    }
    return pack;
  }

  auto record_text = ProcessingRecord();
  if (!record_text.ok()) return record_text.status();
  Json record = Json::parse(*record_text);

  // Every event in the codec's JSON form (facts and personal sections
  // decoded once), and the reviewers' decisions about other people's sections.
  std::map<std::string, Json> released;  // third party -> decision
  struct NoteDecision {
    Json facts;
    std::string redacted;  // basis releaseRedacted: the reviewer's text
  };
  std::map<uint64_t, NoteDecision> note_decisions;  // held note's position -> latest decision
  std::vector<Json> decoded;
  decoded.reserve(events.size());
  for (const auto& e : events) {
    Json j = Json::object();
    if (codec_->FindType(e.type) != nullptr) {
      auto text = codec_->ToJson(e);
      if (!text.ok()) return text.status();
      j = Json::parse(*text, nullptr, false);
      if (j.is_discarded()) return Status::Corruption("event at position " + std::to_string(e.position));
    }
    if (!j.contains("facts") || !j["facts"].is_object()) j["facts"] = Json::object();
    if (!j.contains("personal") || !j["personal"].is_array()) j["personal"] = Json::array();
    if (e.type == "ThirdPartyDisclosureDecided" && internal::NotePosition(j["facts"]) != 0) {
      // A decision about a note held for review; a redacted release carries
      // the reviewer's text in the person's own section.
      NoteDecision d{j["facts"], std::string()};
      for (size_t k = 0; k < e.personal.size() && k < j["personal"].size(); ++k) {
        const Json& p = j["personal"][k];
        if (e.personal[k].subject == subject && !e.personal[k].erased && p.contains("details") &&
            p["details"].is_object()) {
          d.redacted = p["details"].value("freeText", std::string());
        }
      }
      note_decisions[internal::NotePosition(j["facts"])] = std::move(d);
    } else if (e.type == "ThirdPartyDisclosureDecided") {
      const Json& f = j["facts"];
      std::string basis = Str(f, "basis");
      if (basis == "thirdPartyConsented" || basis == "reasonableWithoutConsent") {
        released[Str(f, "thirdParty")] = f;
      } else {
        released.erase(Str(f, "thirdParty"));
      }
    }
    decoded.push_back(std::move(j));
  }

  Json out_events = Json::array();
  Json withheld = Json::array();
  Json held = Json::array();
  Json rectifications = Json::array();
  Json disclosures = Json::array();
  Json sources = Json::array();
  Json requests = Json::array();
  Json current = Json::object();
  std::set<std::string> cases;
  std::set<std::string> request_refs;
  std::string html_rows;

  for (size_t i = 0; i < events.size(); ++i) {
    const RecordedEvent& e = events[i];
    const Json& f = decoded[i]["facts"];
    const Json& decoded_personal = decoded[i]["personal"];
    SubjectRole my_role = SubjectRole::kOther;
    for (const auto& s : e.subjects) {
      if (s.id == subject) my_role = s.role;
    }
    if (e.stream.starts_with("case/") && my_role == SubjectRole::kClient) cases.insert(e.stream);
    if (e.stream.starts_with("rights/R")) request_refs.insert(e.stream.substr(7));
    std::string date = EventDate(e.type, f, e);
    bool note_held = e.type == "CaseNoteAdded" && f.value("mentionsThirdParty", false);

    Json ev = Json::object();
    ev["position"] = e.position;
    ev["date"] = date;
    ev["recordedOn"] = FormatDate(domain::UkDate(e.recorded_at));
    ev["type"] = e.type;
    ev["description"] = Describe(e.type, f);
    ev["record"] = e.stream;
    ev["yourRole"] = SubjectRoleName(my_role);
    ev["by"] = Json{{"staffRef", e.actor.user}, {"role", e.actor.role}};
    ev["facts"] = f;
    Json personal = Json::array();
    std::string personal_html;
    for (size_t k = 0; k < e.personal.size(); ++k) {
      const PersonalSection& p = e.personal[k];
      SubjectRole role = SubjectRole::kOther;
      for (const auto& s : e.subjects) {
        if (s.id == p.subject) role = s.role;
      }
      bool own = p.subject == subject;
      bool staff = role == SubjectRole::kStaff;
      auto rel = released.find(p.subject);
      if (!own && !staff && rel == released.end()) {
        Json w{{"position", e.position}, {"date", date}, {"role", SubjectRoleName(role)}};
        withheld.push_back(w);
        personal.push_back(Json{{"role", SubjectRoleName(role)}, {"withheld", "third-party data"}});
        personal_html += "<p class=\"withheld\">Withheld: third-party data (the section of a " +
                         Esc(Words(SubjectRoleName(role))) + ")</p>";
        ++pack.withheld_sections;
        continue;
      }
      Json entry{{"role", SubjectRoleName(role)}, {"whose", own ? "yours" : staff ? "staff" : "thirdParty"}};
      if (p.erased) {
        entry["erased"] = true;
        personal.push_back(entry);
        personal_html += "<p>This section was erased.</p>";
        continue;
      }
      Json details = Json::object();
      if (k < decoded_personal.size() && decoded_personal[k].contains("details")) {
        details = decoded_personal[k]["details"];
      }
      auto decided = note_held ? note_decisions.find(e.position) : note_decisions.end();
      std::string note_basis = decided == note_decisions.end() ? std::string() : Str(decided->second.facts, "basis");
      if (own && note_held && details.contains("freeText") && decided == note_decisions.end()) {
        details.erase("freeText");
        held.push_back(Json{{"position", e.position}, {"date", date}, {"type", e.type},
                            {"reason", "the note mentions another person: held for a reviewer to redact"}});
        entry["heldForReview"] = true;
        ++pack.held_for_review;
        personal_html += "<p class=\"held\">The text of this note mentions another person; it is "
                         "held for a reviewer to redact and will be sent separately.</p>";
      } else if (own && note_held && details.contains("freeText")) {
        // A reviewer decided (docs/sar-format.md): sent whole, sent redacted,
        // or withheld with its basis.
        const Json& df = decided->second.facts;
        if (note_basis == "thirdPartyConsented" || note_basis == "reasonableWithoutConsent") {
          entry["releasedAfterReview"] = note_basis;
          entry["reason"] = Str(df, "reasonCode");
          personal_html += "<p>Released after review (" + Esc(Words(note_basis)) + ": " +
                           Esc(Words(Str(df, "reasonCode"))) + "):</p>";
        } else if (note_basis == "releaseRedacted" && !decided->second.redacted.empty()) {
          details["freeText"] = decided->second.redacted;
          entry["releasedAfterReview"] = note_basis;
          entry["reason"] = Str(df, "reasonCode");
          personal_html += "<p>Another person's information was removed from this note by a reviewer (" +
                           Esc(Words(Str(df, "reasonCode"))) + "):</p>";
        } else {
          details.erase("freeText");
          withheld.push_back(Json{{"position", e.position}, {"date", date}, {"role", "other"},
                                  {"reason", "a note's text about another person, withheld after review"}});
          entry["withheldAfterReview"] = Str(df, "reasonCode");
          ++pack.withheld_sections;
          personal_html += "<p class=\"withheld\">Withheld after review: the text of this note is "
                           "about another person (" + Esc(Words(Str(df, "reasonCode"))) + ").</p>";
        }
      }
      if (!own && !staff) {
        entry["releasedBecause"] = Str(rel->second, "basis");
        entry["reason"] = Str(rel->second, "reasonCode");
        personal_html += "<p>Released after review (" + Esc(Words(Str(rel->second, "basis"))) + ": " +
                         Esc(Words(Str(rel->second, "reasonCode"))) + "):</p>";
      }
      entry["details"] = details;
      if (!details.empty()) personal_html += DetailsHtml(details);
      personal.push_back(entry);
      if (own && (e.type == "PersonRegistered" || e.type == "PersonDetailsRectified")) {
        for (auto it = details.begin(); it != details.end(); ++it) current[it.key()] = *it;
      }
    }
    ev["personal"] = personal;
    out_events.push_back(ev);

    if (e.type == "PersonDetailsRectified" && my_role != SubjectRole::kOther) {
      rectifications.push_back(Json{{"date", Str(f, "rectifiedOn")}, {"fields", f.value("fields", Json::array())},
                                    {"atYourRequest", f.value("requestedBySubject", false)}});
    }
    if (e.type == "PersonalDataDisclosed") {
      disclosures.push_back(Json{{"date", Str(f, "disclosedOn")}, {"kind", "disclosure"},
                                 {"recipientType", Str(f, "recipientType")},
                                 {"recipientRef", Str(f, "recipientRef")},
                                 {"purpose", Str(f, "purposeCode")},
                                 {"lawfulBasis", Str(f, "lawfulBasis")},
                                 {"categories", f.value("categories", Json::array())}});
    }
    if (e.type == "OnwardReferralMade" && !f.value("signposted", false)) {
      // A referral on passes the person's details to another service: a
      // recipient (Art. 15(1)(c)). Signposting passes nothing on.
      disclosures.push_back(Json{{"date", Str(f, "referredOn")}, {"kind", "onwardReferral"},
                                 {"destination", Str(f, "destination")},
                                 {"recipientRef", Str(f, "organisationRef")},
                                 {"purpose", "onwardReferral"}});
    }
    if ((e.type == "ContactRecorded" && Str(f, "purpose") == "enquiry") || e.type == "ReferralMade") {
      sources.push_back(Json{{"date", date}, {"event", e.type},
                             {"from", Str(f, "referrerType")}, {"channel", Str(f, "channel")},
                             {"organisation", Str(f, "referrerOrganisation")}});
    }
    html_rows += "<tr><td>" + Esc(date) + "</td><td>" + Esc(Describe(e.type, f)) +
                 "<div class=\"by\">Recorded by staff " + Esc(e.actor.user.empty() ? "(system)" : e.actor.user) +
                 (e.actor.role.empty() ? "" : " (" + Esc(Words(e.actor.role)) + ")") + "</div>" +
                 personal_html + "</td></tr>\n";
  }
  pack.events = uint32_t(events.size());

  // The access log: every read, export and disclosure of the person's data.
  auto log = store_->AccessLog(subject);
  if (!log.ok()) return log.status();
  Json reads = Json::array();
  for (const auto& a : *log) {
    Json r{{"date", FormatDate(domain::UkDate(a.time))}, {"action", a.action}, {"by", a.user},
           {"role", a.role}, {"through", a.plugin}, {"why", a.purpose}};
    if (!a.recipient.empty()) r["recipient"] = a.recipient;
    reads.push_back(r);
  }

  // Requests about the person.
  for (const auto& ref : request_refs) {
    auto st = LoadRequest(ref);
    if (!st.ok()) return st.status();
    Json r{{"ref", ref}, {"kind", st->kind}, {"status", st->status}};
    if (st->received_on) r["receivedOn"] = FormatDate(*st->received_on);
    if (st->closed_on) r["closedOn"] = FormatDate(*st->closed_on);
    if (!st->outcome.empty()) r["outcome"] = st->outcome;
    requests.push_back(r);
  }

  // The person's cases, folded from the events already read: every event of
  // a case names its client (CaseRecorder), so nothing is read twice.
  // Consent-based purposes apply only while a consent of their scope is
  // active on one of them; the retention rule comes from them too.
  std::set<std::string> active_scopes;
  std::vector<domain::CaseState> states;
  {
    domain::CaseFolder folder(codec_);
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
  auto retention = internal::RetentionOfCases(record, states, subject, Today());
  Json purposes = Json::array();
  for (const auto& p : record.value("purposes", Json::array())) {
    Json q = p;
    bool consent = Str(p, "lawfulBasis") == "consent";
    q["applies"] = !consent || active_scopes.count(Str(p, "consentScope")) > 0;
    purposes.push_back(q);
  }
  Json ret = Json::object();
  if (retention.ok()) {
    ret = Json{{"rule", retention->rule}, {"recordClass", retention->record_class},
               {"keepUntil", FormatDate(retention->keep_until)},
               {"explanation", retention->explanation}};
  } else if (!retention.status().IsNotFound()) {
    return retention.status();
  }
  auto restricted = IsRestricted(subject);
  if (!restricted.ok()) return restricted.status();

  Json j = Json::object();
  j["format"] = "hearth-sar";
  j["formatVersion"] = kPackFormatVersion;
  j["subject"] = subject;
  j["generatedOn"] = FormatDate(Today());
  j["erased"] = false;
  j["restricted"] = *restricted;
  j["controller"] = Json{{"name", Str(record, "controller")}, {"dpo", Str(record, "dpoContact")}};
  j["currentDetails"] = current;
  j["events"] = out_events;
  j["withheld"] = withheld;
  j["heldForReview"] = held;
  j["rectifications"] = rectifications;
  j["disclosures"] = disclosures;
  j["accessLog"] = reads;
  j["requests"] = requests;
  Json categories = Json::array();
  Json recipients = Json::array();
  std::set<std::string> seen_c, seen_r;
  for (const auto& p : purposes) {
    if (!p["applies"].get<bool>()) continue;
    for (const auto& c : p.value("categories", Json::array())) {
      if (c.is_string() && seen_c.insert(c.get<std::string>()).second) categories.push_back(c);
    }
    for (const auto& r : p.value("recipients", Json::array())) {
      if (r.is_string() && seen_r.insert(r.get<std::string>()).second) recipients.push_back(r);
    }
  }
  j["article15"] = Json{{"purposes", purposes},
                        {"categories", categories},
                        {"recipients", recipients},
                        {"recipientsActual", disclosures},
                        {"retention", ret},
                        {"retentionRules", record.value("retention", Json::array())},
                        {"sources", sources},
                        {"rights", record.value("rightsStatement", Json::array())},
                        {"complaint", Str(record, "complaintAuthority")},
                        {"automatedDecisions", Str(record, "automatedDecisions")},
                        {"transfers", Str(record, "transfers")},
                        {"recordOfProcessingSince", Str(record, "effectiveOn")}};
  pack.json = j.dump(2) + "\n";

  // The readable document: one file, no scripts, no external resources.
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<title>Your personal data</title><style>"
       "body{font-family:sans-serif;max-width:60em;margin:1em auto;line-height:1.4}"
       "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em;vertical-align:top}"
       ".withheld,.held{font-style:italic}.by{color:#444;font-size:90%}dt{font-weight:bold}"
       "</style></head><body>\n";
  h += "<h1>Your personal data</h1>\n<p>Reference " + Esc(subject) + ", prepared on " +
       Esc(FormatDate(Today())) + " by " + Esc(Str(record, "controller")) + ".</p>\n";
  if (*restricted) h += "<p><strong>The use of your data is restricted at your request.</strong></p>\n";
  h += "<h2>Your details as we hold them now</h2>\n" + DetailsHtml(current) + "\n";
  if (!rectifications.empty()) {
    h += "<h2>Corrections</h2>\n<ul>";
    for (const auto& r : rectifications) {
      h += "<li>On " + Esc(Str(r, "date")) + " we corrected: " + Esc(Scalar(r["fields"])) +
           (r["atYourRequest"].get<bool>() ? " (at your request)" : "") + "</li>";
    }
    h += "</ul>\n";
  }
  h += "<h2>Why we hold your data and on what legal basis</h2>\n<table><tr><th>Purpose</th>"
       "<th>Legal basis</th><th>Health data condition</th><th>Kinds of data</th><th>Who may receive it</th></tr>\n";
  for (const auto& p : purposes) {
    h += "<tr><td>" + Esc(Str(p, "description")) +
         (p["applies"].get<bool>() ? "" : " <em>(does not apply to you: it needs your consent, which is not active)</em>") +
         "</td><td>" + Esc(Words(Str(p, "lawfulBasis"))) + ": " + Esc(Str(p, "basisDetail")) + "</td><td>" +
         Esc(Str(p, "specialCategoryCondition").empty() ? "not applicable" : Str(p, "specialCategoryCondition")) +
         "</td><td>" + Esc(Scalar(p.value("categories", Json::array()))) + "</td><td>" +
         Esc(Scalar(p.value("recipients", Json::array()))) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Where your data came from</h2>\n<ul>";
  for (const auto& s : sources) {
    h += "<li>" + Esc(Str(s, "date")) + ": from " + Esc(Words(Str(s, "from"))) +
         (Str(s, "channel").empty() ? "" : " by " + Esc(Words(Str(s, "channel")))) + "</li>";
  }
  h += "</ul>\n<h2>How long we keep it</h2>\n<p>";
  h += ret.empty() ? "See the rules below." : Esc(Str(ret, "explanation"));
  h += "</p>\n<ul>";
  for (const auto& r : record.value("retention", Json::array())) {
    h += "<li>" + Esc(Words(Str(r, "recordClass"))) + " (" + Esc(Str(r, "name")) + "): " + Esc(Str(r, "source")) + "</li>";
  }
  h += "</ul>\n<h2>Who has received or read your data</h2>\n<table><tr><th>Date</th><th>What</th></tr>\n";
  for (const auto& d : disclosures) {
    if (Str(d, "kind") == "onwardReferral") {
      h += "<tr><td>" + Esc(Str(d, "date")) + "</td><td>Referred on to " + Esc(Words(Str(d, "destination"))) +
           (Str(d, "recipientRef").empty() ? std::string() : " (" + Esc(Str(d, "recipientRef")) + ")") +
           "</td></tr>\n";
      continue;
    }
    h += "<tr><td>" + Esc(Str(d, "date")) + "</td><td>Disclosed to " + Esc(Words(Str(d, "recipientType"))) +
         " for " + Esc(Words(Str(d, "purpose"))) + " (legal basis: " + Esc(Words(Str(d, "lawfulBasis"))) +
         "; data: " + Esc(Scalar(d["categories"])) + ")</td></tr>\n";
  }
  for (const auto& r : reads) {
    h += "<tr><td>" + Esc(Str(r, "date")) + "</td><td>" + Esc(Words(Str(r, "action"))) + " by staff " +
         Esc(Str(r, "by")) + " (" + Esc(Words(Str(r, "role"))) + ") for " + Esc(Str(r, "why")) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Automated decisions and transfers</h2>\n<p>Automated decision-making: " +
       Esc(Str(record, "automatedDecisions")) + ".</p><p>Transfers abroad: " + Esc(Str(record, "transfers")) + ".</p>\n";
  h += "<h2>Your rights</h2>\n<ul>";
  for (const auto& r : record.value("rightsStatement", Json::array())) h += "<li>" + Esc(Scalar(r)) + "</li>";
  h += "</ul>\n<p>" + Esc(Str(record, "complaintAuthority")) + "</p>\n";
  h += "<h2>Everything we recorded about you, in date order</h2>\n";
  h += "<p>" + std::to_string(pack.events) + " entries. " + std::to_string(pack.withheld_sections) +
       " sections about other people (carers, relatives, private referrers) are withheld as third-party data. " +
       std::to_string(pack.held_for_review) + " notes are held for a reviewer to redact.</p>\n";
  h += "<table><tr><th>Date</th><th>What happened</th></tr>\n" + html_rows + "</table>\n</body></html>\n";
  pack.html = std::move(h);

  if (options.record_disclosure) {
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
  for (uint64_t from = 1;;) {
    auto page = store_->ReadSubject(subject, from, 1024);
    if (!page.ok()) return page.status();
    for (const auto& e : *page) {
      if (e.type != "PersonalDataDisclosed" && e.type != "OnwardReferralMade") continue;
      auto f = internal::FactsOf(*codec_, e);
      if (!f.ok()) return f.status();
      if (e.type == "OnwardReferralMade") {
        if (f->value("signposted", false)) continue;  // nothing was passed on
        out.push_back(Json{{"date", Str(*f, "referredOn")}, {"kind", "onwardReferral"},
                           {"destination", Str(*f, "destination")}, {"recipientRef", Str(*f, "organisationRef")},
                           {"purpose", "onwardReferral"}, {"by", e.actor.user}, {"role", e.actor.role},
                           {"position", e.position}});
        continue;
      }
      out.push_back(Json{{"date", Str(*f, "disclosedOn")}, {"kind", "disclosure"},
                         {"recipientType", Str(*f, "recipientType")}, {"recipientRef", Str(*f, "recipientRef")},
                         {"purpose", Str(*f, "purposeCode")}, {"lawfulBasis", Str(*f, "lawfulBasis")},
                         {"by", e.actor.user}, {"role", e.actor.role}, {"position", e.position}});
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
