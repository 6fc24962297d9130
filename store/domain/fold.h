// Private to store/domain: folding one decoded event into a CaseState.
#pragma once

#include <functional>

#include "domain/tables.h"

namespace hearth::domain {

// Folds the facts of one event of `type` (already at its current version)
// into `state`. `subjects` and `personal` are the event's envelope parts (the
// fold reads subject references and roles only, never personal data).
// Corruption when the facts cannot be read.
Status FoldFacts(const TypeEntry& type, cs::Facts::Reader facts,
                 const std::vector<SubjectRef>& subjects,
                 const std::vector<PersonalSection>& personal, CaseState* state);

// The event's main date (field @0 of every event struct), or nullopt.
std::optional<Date> MainDate(const TypeEntry& type, cs::Facts::Reader facts);

std::optional<Date> DateOf(capnp::Text::Reader text);

// True for the event types a closed case still takes without reopening: what
// people have a right to after the casework (consent withdrawal,
// rectification, a complaint about finished works and its resolution, a
// disclosure, a late safeguarding concern, the satisfaction questionnaire
// returned, a document or note) and the land charge that outlives the works.
// Folded into a closed case they leave it closed and do not move its last
// activity (the retention clock runs from the casework, not from the
// exercise of rights after it).
bool TakenAfterClosure(cs::Facts::Which which);

// A district (or team) code: 1 to 16 letters, digits, '-' or '_'.
bool IsDistrictCode(std::string_view s);

// The checks every event of a stream of its own (breach/, complaint/,
// register/contractors) takes before its stream's rules (store/domain/
// streams.cc): its type at the current schema version
// (unknown-schema-version), facts that decode (malformed-facts), the event's
// date given (date-required), every date a date and a past date not after
// `today` (invalid-date, date-in-future), codes (code-field); then `rules`
// on the decoded facts (a capnp exception in them is malformed-facts); then
// the personal sections: none when `no_personal` says why not, else each
// decodes (malformed-personal) and names a subject of the event (rule
// `subjects_rule`). Refusals are "rule <name>: ..." InvalidArgument without
// the event's place, which the caller adds. `*facts` is the decoded facts.
struct OwnStreamRules {
  const char* no_personal = nullptr;            // set: the stream takes no personal sections, and why
  const char* subjects_rule = "personal-subject";
  std::function<Status(cs::Facts::Reader)> rules;
};
Status CheckOwnStreamEvent(const CodecTables& tables, FactsDecoder* decoder, PackedDecoder* personal,
                           const NewEvent& event, Date today, const OwnStreamRules& how, cs::Facts::Reader* facts);

// Complaints (store/domain/complaints.cc), the same on a case and on a
// complaint's own stream:
// the rules of ComplaintReceived, ComplaintEscalated and ComplaintResolved
// against the complaints so far (complaint-number, complaint-escalation,
// complaint-stage; "rule <name>: ..." InvalidArgument), OK for other events;
Status CheckComplaintFacts(cs::Facts::Reader facts, const std::vector<Complaint>& complaints);
// and their fold (other events are ignored).
void FoldComplaint(cs::Facts::Reader facts, std::vector<Complaint>* complaints);

}  // namespace hearth::domain
