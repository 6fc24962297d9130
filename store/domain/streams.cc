// The checks every event of a stream of its own takes (fold.h,
// CheckOwnStreamEvent): the breach register, complaints with no case and
// the vetted contractors share them, so that each stream's file holds only
// its own rules.
#include <cstring>

#include "domain/fold.h"
#include "hearth/domain.h"

namespace hearth::domain {

namespace {

Status Rule(const char* name, const std::string& why) {
  return Status::InvalidArgument(std::string("rule ") + name + ": " + why);
}

}  // namespace

bool IsDistrictCode(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

Status CheckOwnStreamEvent(const CodecTables& t, FactsDecoder* decoder, PackedDecoder* personal,
                           const NewEvent& e, Date today, const OwnStreamRules& how, cs::Facts::Reader* facts) {
  const TypeEntry* type = t.Find(e.type);
  if (type == nullptr || e.schema_version != type->version) {
    return Rule("unknown-schema-version",
                e.type + " is at schema version " + std::to_string(type ? type->version : 0));
  }
  if (how.no_personal != nullptr && !e.personal.empty()) return Rule("malformed-personal", how.no_personal);
  Status s = decoder->DecodeCurrent(*type, e.facts, facts);
  if (!s.ok()) return Rule("malformed-facts", s.message());
  try {
    auto member = capnp::DynamicStruct::Reader(*facts).get(type->field).as<capnp::DynamicStruct>();
    auto fields = type->schema.getFields();
    if (!member.has(fields[0])) {
      return Rule("date-required",
                  std::string("facts.") + fields[0].getProto().getName().cStr() + " (the date of the event) is required");
    }
    s = VisitDates(type->dates, member, [&](const DateField& df, std::string_view value) {
      Date d;
      if (value.empty() && &df != &type->dates.front()) return Status::OK();
      if (!ParseDate(value, &d)) {
        return Rule("invalid-date", "facts." + df.name + " \"" + std::string(value) + "\" is not a YYYY-MM-DD date");
      }
      if (df.past && d > today) {
        return Rule("date-in-future",
                    "facts." + df.name + " " + FormatDate(d) + " is after today (" + FormatDate(today) + ")");
      }
      return Status::OK();
    });
    if (!s.ok()) return s;
    s = CheckCodes(*type, member);
    if (!s.ok()) return Rule("code-field", s.message());
    if (how.rules) {
      s = how.rules(*facts);
      if (!s.ok()) return s;
    }
  } catch (const kj::Exception& ex) {
    return Rule("malformed-facts", ex.getDescription().cStr());
  }
  for (const PersonalSection& p : e.personal) {
    capnp::DynamicStruct::Reader section;
    s = personal->Decode(p.data, t.personal, &section);
    if (!s.ok()) return Rule("malformed-personal", "section of " + p.subject + ": " + s.message());
    bool named = false;
    for (const SubjectRef& r : e.subjects) named = named || r.id == p.subject;
    if (!named) return Rule(how.subjects_rule, "the section of " + p.subject + " names no subject of the event");
  }
  return Status::OK();
}

bool HasOwnRules(const std::string& stream) {
  return stream == kAllocationsStream || stream == kContractorsStream ||
         stream.compare(0, std::strlen(kComplaintStreamPrefix), kComplaintStreamPrefix) == 0 ||
         stream.compare(0, std::strlen(kBreachStreamPrefix), kBreachStreamPrefix) == 0;
}

Result<AppendResult> RecordOnOwnStream(Store& store, const Codec& codec, const std::string& stream,
                                       ExpectedVersion expected, std::vector<NewEvent> events, Date today) {
  if (stream == kAllocationsStream) return RecordAllocations(store, codec, expected, std::move(events), today);
  if (stream == kContractorsStream) return RecordContractors(store, codec, expected, std::move(events), today);
  if (stream.compare(0, std::strlen(kComplaintStreamPrefix), kComplaintStreamPrefix) == 0) {
    return RecordComplaint(store, codec, stream, expected, std::move(events), today);
  }
  if (stream.compare(0, std::strlen(kBreachStreamPrefix), kBreachStreamPrefix) == 0) {
    return RecordBreach(store, codec, stream, expected, std::move(events), today);
  }
  return Status::InvalidArgument(stream + " has no rules of its own");
}

}  // namespace hearth::domain
