// Private to store/domain: folding one decoded event into a CaseState.
#pragma once

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

}  // namespace hearth::domain
