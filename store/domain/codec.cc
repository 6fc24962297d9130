// The JSON form of domain events (docs/domain.md) <-> NewEvent / RecordedEvent.
#include <charconv>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "domain/tables.h"
#include "hearth/event_json.h"
#include "domain/time_value.h"

namespace hearth::domain {

namespace {

using Json = nlohmann::ordered_json;

// --- times: one reading and one printing for every form of Event JSON ---

using event_json::FormatTime;

// --- checking JSON against a Cap'n Proto struct, for clear errors ---

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

const char* JsonKind(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

Status CheckStruct(const Json& j, capnp::StructSchema schema, const std::string& path);

Status CheckValue(const Json& v, capnp::Type type, const std::string& path) {
  auto wrong = [&](const char* want) {
    return Status::InvalidArgument(path + ": expected " + want + ", got " + JsonKind(v));
  };
  auto integer = [&](int64_t lo, uint64_t hi) -> Status {
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > hi) return Status::InvalidArgument(path + ": out of range");
      return Status::OK();
    }
    if (v.is_number_integer()) {
      if (v.get<int64_t>() < lo) return Status::InvalidArgument(path + ": out of range");
      return Status::OK();
    }
    return wrong("an integer");
  };
  switch (type.which()) {
    case capnp::schema::Type::VOID:
      return v.is_null() ? Status::OK() : wrong("null");
    case capnp::schema::Type::BOOL:
      return v.is_boolean() ? Status::OK() : wrong("a boolean");
    case capnp::schema::Type::INT8: return integer(-128, 127);
    case capnp::schema::Type::INT16: return integer(-32768, 32767);
    case capnp::schema::Type::INT32:
      return integer(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    case capnp::schema::Type::UINT8: return integer(0, 255);
    case capnp::schema::Type::UINT16: return integer(0, 65535);
    case capnp::schema::Type::UINT32: return integer(0, std::numeric_limits<uint32_t>::max());
    case capnp::schema::Type::UINT64: {
      // A whole number, or the decimal string that the JSON codec writes for
      // 64-bit integers (a JSON number holds only 53 bits exactly).
      if (v.is_string()) {
        const std::string& d = v.get_ref<const std::string&>();
        bool digits = !d.empty() && d.size() <= 20 &&
                      std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits) return wrong("a whole number");
        if (d.size() == 20 && d > "18446744073709551615") return Status::InvalidArgument(path + ": out of range");
        return Status::OK();
      }
      return integer(0, std::numeric_limits<uint64_t>::max());
    }
    case capnp::schema::Type::INT64: {
      // As UINT64: a whole number, or its decimal string (with a sign).
      if (v.is_string()) {
        const std::string& d = v.get_ref<const std::string&>();
        int64_t parsed = 0;
        auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), parsed);
        if (d.empty() || d[0] == '+' || end != d.data() + d.size()) return wrong("a whole number");
        if (ec == std::errc::result_out_of_range) return Status::InvalidArgument(path + ": out of range");
        if (ec != std::errc()) return wrong("a whole number");
        return Status::OK();
      }
      return integer(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    }
    case capnp::schema::Type::FLOAT32:
    case capnp::schema::Type::FLOAT64:
      return v.is_number() ? Status::OK() : wrong("a number");
    case capnp::schema::Type::TEXT:
      return v.is_string() ? Status::OK() : wrong("a string");
    case capnp::schema::Type::ENUM: {
      if (!v.is_string()) return wrong("a string");
      auto name = v.get<std::string>();
      KJ_IF_MAYBE(e, type.asEnum().findEnumerantByName(name)) {
        (void)e;
        return Status::OK();
      }
      std::string known;
      for (auto e : type.asEnum().getEnumerants()) {
        if (!known.empty()) known += ", ";
        known += e.getProto().getName().cStr();
      }
      return Status::InvalidArgument(path + ": unknown value \"" + name + "\" (one of: " + known +
                                     ")");
    }
    case capnp::schema::Type::STRUCT:
      return CheckStruct(v, type.asStruct(), path);
    case capnp::schema::Type::LIST: {
      if (!v.is_array()) return wrong("an array");
      auto element = type.asList().getElementType();
      for (size_t i = 0; i < v.size(); ++i) {
        Status s = CheckValue(v[i], element, path + "[" + std::to_string(i) + "]");
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    default:
      return Status::InvalidArgument(path + ": this field's type has no JSON form");
  }
}

Status CheckStruct(const Json& j, capnp::StructSchema schema, const std::string& path) {
  if (!j.is_object()) {
    return Status::InvalidArgument((path.empty() ? std::string("value") : path) +
                                   ": expected an object, got " + JsonKind(j));
  }
  std::string union_member;
  for (auto it = j.begin(); it != j.end(); ++it) {
    std::string at = Join(path, it.key());
    KJ_IF_MAYBE(field, schema.findFieldByName(it.key())) {
      if (field->getProto().getDiscriminantValue() != capnp::schema::Field::NO_DISCRIMINANT) {
        if (!union_member.empty()) {
          return Status::InvalidArgument(at + ": only one of " + union_member + " and " +
                                         it.key() + " may be given");
        }
        union_member = it.key();
      }
      Status s = field->getProto().isGroup() ? CheckStruct(it.value(), field->getType().asStruct(), at)
                                             : CheckValue(it.value(), field->getType(), at);
      if (!s.ok()) return s;
    } else {
      return Status::InvalidArgument(at + ": unknown field (not in " +
                                     schema.getShortDisplayName().cStr() + ")");
    }
  }
  return Status::OK();
}

// Decodes a checked JSON object into a struct builder through the JSON codec.
Status DecodeInto(const CodecTables& t, const Json& j, capnp::DynamicStruct::Builder out,
                  const std::string& path) {
  std::string text = j.dump();
  try {
    t.json.decode(kj::ArrayPtr<const char>(text.data(), text.size()), out);
  } catch (const kj::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.getDescription().cStr());
  }
  return Status::OK();
}

Json EncodeStruct(const CodecTables& t, capnp::DynamicStruct::Reader reader) {
  kj::String text = t.json.encode(capnp::DynamicValue::Reader(reader), capnp::Type(reader.getSchema()));
  return Json::parse(text.cStr());
}

Status ParseId(const Json& j, const std::string& key, Id128* out) {
  if (!j.is_string() || !Id128::Parse(j.get<std::string>(), out)) {
    return Status::InvalidArgument(key + ": expected a UUID or 32 hex digits");
  }
  return Status::OK();
}

Status ParseSubject(const Json& j, const std::string& path, SubjectRef* out) {
  if (!j.is_object()) return Status::InvalidArgument(path + ": expected an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "id" && it.key() != "role") {
      return Status::InvalidArgument(path + "." + it.key() + ": unknown field (id, role)");
    }
  }
  if (!j.contains("id") || !j["id"].is_string()) {
    return Status::InvalidArgument(path + ".id: expected a subject reference");
  }
  out->id = j["id"].get<std::string>();
  out->role = SubjectRole::kClient;
  if (j.contains("role")) {
    if (!j["role"].is_string() || !ParseSubjectRole(j["role"].get<std::string>(), &out->role)) {
      return Status::InvalidArgument(path + ".role: expected client, carer, relative, referrer, "
                                     "staff or other");
    }
  }
  return Status::OK();
}

void AddSubject(std::vector<SubjectRef>* subjects, const SubjectRef& ref) {
  for (const auto& s : *subjects) {
    if (s.id == ref.id) return;
  }
  subjects->push_back(ref);
}

Status EventFromJson(const CodecTables& t, const Json& j, NewEvent* out) {
  if (!j.is_object()) return Status::InvalidArgument("event: expected a JSON object");
  static const char* kKeys[] = {"type",     "schemaVersion", "id",        "occurredAt",
                                "actor",    "correlationId", "causationId", "subjects",
                                "facts",    "personal"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (const char* k : kKeys) known = known || it.key() == k;
    if (!known) {
      return Status::InvalidArgument(it.key() +
                                     ": unknown field (an event has type, schemaVersion, id, "
                                     "occurredAt, actor, correlationId, causationId, subjects, "
                                     "facts, personal)");
    }
  }
  NewEvent e;
  if (!j.contains("type") || !j["type"].is_string()) {
    return Status::InvalidArgument("type: expected the event type's name, e.g. \"ContactRecorded\"");
  }
  e.type = j["type"].get<std::string>();
  const TypeEntry* type = t.Find(e.type);
  if (type == nullptr) return Status::InvalidArgument("unknown event type \"" + e.type + "\"");
  e.schema_version = type->version;
  capnp::StructSchema::Field member = type->field;
  if (j.contains("schemaVersion")) {
    const Json& v = j["schemaVersion"];
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0 || v.get<uint64_t>() > 1000000) {
      return Status::InvalidArgument("schemaVersion: expected a positive integer");
    }
    e.schema_version = static_cast<uint32_t>(v.get<uint64_t>());
    if (e.schema_version > type->version) {
      return Status::InvalidArgument("event type " + type->name + " schema version " +
                                     std::to_string(e.schema_version) +
                                     " is newer than this code knows (" +
                                     std::to_string(type->version) + ")");
    }
    if (e.schema_version < type->version) {
      bool found = false;
      for (const auto& o : type->older) {
        if (o.version == e.schema_version) {
          member = o.field;
          found = true;
        }
      }
      if (!found) {
        return Status::InvalidArgument("event type " + type->name + " has no schema version " +
                                       std::to_string(e.schema_version));
      }
    }
  }
  if (j.contains("id")) {
    Status s = ParseId(j["id"], "id", &e.id);
    if (!s.ok()) return s;
  } else {
    e.id = EventId::Random();
  }
  if (j.contains("occurredAt")) {
    Status s = event_json::TimeFromJsonValue(j["occurredAt"], "occurredAt", &e.occurred_at);
    if (!s.ok()) return s;
  }
  if (j.contains("actor")) {
    const Json& a = j["actor"];
    if (!a.is_object()) return Status::InvalidArgument("actor: expected an object");
    for (auto it = a.begin(); it != a.end(); ++it) {
      std::string* slot = it.key() == "user"     ? &e.actor.user
                          : it.key() == "role"   ? &e.actor.role
                          : it.key() == "plugin" ? &e.actor.plugin
                                                 : nullptr;
      if (slot == nullptr) {
        return Status::InvalidArgument("actor." + it.key() + ": unknown field (user, role, plugin)");
      }
      if (!it.value().is_string()) return Status::InvalidArgument("actor." + it.key() + ": expected a string");
      *slot = it.value().get<std::string>();
    }
  }
  if (j.contains("correlationId")) {
    Status s = ParseId(j["correlationId"], "correlationId", &e.correlation_id);
    if (!s.ok()) return s;
  }
  if (j.contains("causationId")) {
    Status s = ParseId(j["causationId"], "causationId", &e.causation_id);
    if (!s.ok()) return s;
  }
  if (j.contains("subjects")) {
    if (!j["subjects"].is_array()) return Status::InvalidArgument("subjects: expected an array");
    for (size_t i = 0; i < j["subjects"].size(); ++i) {
      SubjectRef ref;
      Status s = ParseSubject(j["subjects"][i], "subjects[" + std::to_string(i) + "]", &ref);
      if (!s.ok()) return s;
      for (const auto& other : e.subjects) {
        if (other.id == ref.id) {
          return Status::InvalidArgument("subjects[" + std::to_string(i) + "]: subject " + ref.id +
                                         " is listed twice");
        }
      }
      e.subjects.push_back(ref);
    }
  }

  // Facts.
  Json facts = j.contains("facts") ? j["facts"] : Json::object();
  auto member_schema = member.getType().asStruct();
  Status s = CheckStruct(facts, member_schema, "facts");
  if (!s.ok()) return s;
  {
    capnp::MallocMessageBuilder message(256);
    auto root = message.initRoot<capnp::DynamicStruct>(t.facts);
    auto builder = root.init(member).as<capnp::DynamicStruct>();
    s = DecodeInto(t, facts, builder, "facts");
    if (!s.ok()) return s;
    if (member == type->field) {  // codes, not free text (older versions are upcast later)
      s = CheckCodes(*type, builder.asReader());
      if (!s.ok()) return s;
    }
    e.facts = ToPacked(message);
  }

  // Personal sections.
  if (j.contains("personal")) {
    const Json& list = j["personal"];
    if (!list.is_array()) return Status::InvalidArgument("personal: expected an array");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string at = "personal[" + std::to_string(i) + "]";
      const Json& p = list[i];
      if (!p.is_object()) return Status::InvalidArgument(at + ": expected an object");
      for (auto it = p.begin(); it != p.end(); ++it) {
        if (it.key() != "subject" && it.key() != "role" && it.key() != "details") {
          return Status::InvalidArgument(at + "." + it.key() +
                                         ": unknown field (subject, role, details)");
        }
      }
      Json ref = Json::object();
      ref["id"] = p.contains("subject") ? p["subject"] : Json();
      if (p.contains("role")) ref["role"] = p["role"];
      SubjectRef subject;
      s = ParseSubject(ref, at, &subject);
      if (!s.ok()) return Status::InvalidArgument(at + ".subject: expected a subject reference");
      for (const auto& other : e.personal) {
        if (other.subject == subject.id) {
          return Status::InvalidArgument(at + ": a second section for subject " + subject.id);
        }
      }
      Json details = p.contains("details") ? p["details"] : Json::object();
      s = CheckStruct(details, t.personal, at + ".details");
      if (!s.ok()) return s;
      capnp::MallocMessageBuilder message(256);
      auto builder = message.initRoot<capnp::DynamicStruct>(t.personal);
      s = DecodeInto(t, details, builder, at + ".details");
      if (!s.ok()) return s;
      PersonalSection section;
      section.subject = subject.id;
      section.data = ToPacked(message);
      section.identifiers = IdentifiersOf(builder.asReader().as<cs::Personal>());
      e.personal.push_back(std::move(section));
      bool listed = false;
      for (auto& existing : e.subjects) {
        if (existing.id == subject.id) {
          listed = true;
          if (p.contains("role") && existing.role != subject.role) {
            return Status::InvalidArgument(at + ".role: subject " + subject.id +
                                           " is listed in subjects with role " +
                                           SubjectRoleName(existing.role));
          }
        }
      }
      if (!listed) AddSubject(&e.subjects, subject);
    }
  }
  *out = std::move(e);
  return Status::OK();
}

const char* RoleOf(const std::vector<SubjectRef>& subjects, const std::string& id) {
  for (const auto& s : subjects) {
    if (s.id == id) return SubjectRoleName(s.role);
  }
  return "other";
}

Json ActorJson(const Actor& a) {
  Json j = Json::object();
  j["user"] = a.user;
  j["role"] = a.role;
  j["plugin"] = a.plugin;
  return j;
}

Json SubjectsJson(const std::vector<SubjectRef>& subjects) {
  Json list = Json::array();
  for (const auto& s : subjects) list.push_back(Json{{"id", s.id}, {"role", SubjectRoleName(s.role)}});
  return list;
}

Result<Json> PersonalJson(const CodecTables& t, const std::vector<SubjectRef>& subjects,
                          const std::vector<PersonalSection>& personal) {
  Json list = Json::array();
  PackedDecoder decoder;
  for (const auto& p : personal) {
    Json entry = Json::object();
    entry["subject"] = p.subject;
    entry["role"] = RoleOf(subjects, p.subject);
    if (p.erased) {
      entry["erased"] = true;
    } else {
      capnp::DynamicStruct::Reader reader;
      Status s = decoder.Decode(p.data, t.personal, &reader);
      if (!s.ok()) return Status::Corruption("personal section of " + p.subject + ": " + s.message());
      try {
        entry["details"] = EncodeStruct(t, reader);
      } catch (const kj::Exception& e) {
        return Status::Corruption("personal section of " + p.subject + ": " +
                                  e.getDescription().cStr());
      }
    }
    list.push_back(std::move(entry));
  }
  return list;
}

Result<Json> FactsJson(const CodecTables& t, const std::string& type_name, uint32_t version,
                       const std::string& facts) {
  const TypeEntry* type = t.Find(type_name);
  if (type == nullptr) return Status::NotSupported("unknown event type \"" + type_name + "\"");
  capnp::StructSchema::Field member = type->field;
  uint16_t discriminant = type->discriminant;
  if (version != type->version) {
    bool found = false;
    for (const auto& o : type->older) {
      if (o.version == version) {
        member = o.field;
        discriminant = o.discriminant;
        found = true;
      }
    }
    if (!found) {
      return Status::NotSupported("event type " + type->name + " has no schema version " +
                                  std::to_string(version) + " this code knows");
    }
  }
  PackedDecoder decoder;
  capnp::DynamicStruct::Reader root;
  Status s = decoder.Decode(facts, t.facts, &root);
  if (!s.ok()) return Status::Corruption(type->name + " facts: " + s.message());
  try {
    KJ_IF_MAYBE(active, root.which()) {
      if (active->getProto().getDiscriminantValue() != discriminant) {
        return Status::Corruption(std::string("facts hold ") + active->getProto().getName().cStr() +
                                  ", the envelope says " + type->name);
      }
    } else {
      return Status::Corruption("facts hold an event type this code does not know");
    }
    return EncodeStruct(t, root.get(member).as<capnp::DynamicStruct>());
  } catch (const kj::Exception& e) {
    return Status::Corruption(type->name + " facts: " + e.getDescription().cStr());
  }
}

std::string Dump(const Json& j, bool pretty) {
  return j.dump(pretty ? 2 : -1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Codec::Codec(std::unique_ptr<CodecTables> tables) : tables_(std::move(tables)) {}
Codec::~Codec() = default;

Result<std::unique_ptr<Codec>> Codec::Create(const UpcasterRegistry* upcasters) {
  try {
    auto tables = std::make_unique<CodecTables>();
    tables->upcasters = upcasters;
    return std::unique_ptr<Codec>(new Codec(std::move(tables)));
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("domain schema: ") + e.getDescription().cStr());
  }
}

const std::vector<EventTypeInfo>& Codec::types() const { return tables_->infos; }

const EventTypeInfo* Codec::FindType(std::string_view name) const {
  const TypeEntry* t = tables_->Find(name);
  return t == nullptr ? nullptr : &tables_->infos[static_cast<size_t>(t - tables_->types.data())];
}

Status Codec::FromJson(std::string_view json, NewEvent* out) const {
  Json j;
  try {
    j = Json::parse(json.begin(), json.end());
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(std::string("not JSON: ") + e.what());
  }
  return EventFromJson(*tables_, j, out);
}

Status Codec::FromJsonList(std::string_view json, std::vector<NewEvent>* out) const {
  Json j;
  try {
    j = Json::parse(json.begin(), json.end());
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(std::string("not JSON: ") + e.what());
  }
  out->clear();
  if (j.is_object()) {
    NewEvent e;
    Status s = EventFromJson(*tables_, j, &e);
    if (!s.ok()) return s;
    out->push_back(std::move(e));
    return Status::OK();
  }
  if (!j.is_array()) return Status::InvalidArgument("expected an event object or an array of them");
  for (size_t i = 0; i < j.size(); ++i) {
    NewEvent e;
    Status s = EventFromJson(*tables_, j[i], &e);
    if (!s.ok()) return Status::InvalidArgument("event " + std::to_string(i) + ": " + s.message());
    out->push_back(std::move(e));
  }
  return Status::OK();
}

Status Codec::Upcast(RecordedEvent* event) const { return UpcastEvent(*tables_, event); }

Status Codec::CheckFacts(const NewEvent& event) const {
  const TypeEntry* type = tables_->Find(event.type);
  if (type == nullptr) return Status::InvalidArgument("unknown event type \"" + event.type + "\"");
  RecordedEvent r;
  r.type = event.type;
  r.schema_version = event.schema_version;
  r.facts = event.facts;
  if (r.schema_version != type->version) {
    Status s = UpcastEvent(*tables_, &r);
    if (!s.ok()) return Status::InvalidArgument(event.type + ": " + s.message());
  }
  FactsDecoder decoder(tables_.get());
  cs::Facts::Reader facts;
  Status s = decoder.DecodeCurrent(*type, r.facts, &facts);
  if (!s.ok()) return Status::InvalidArgument(s.message());
  try {
    auto member = capnp::DynamicStruct::Reader(facts).get(type->field).as<capnp::DynamicStruct>();
    s = VisitDates(type->dates, member, [](const DateField& df, std::string_view value) {
      Date d;
      if (value.empty() || ParseDate(value, &d)) return Status::OK();
      return Status::InvalidArgument("facts." + df.name + ": expected a YYYY-MM-DD date");
    });
    if (!s.ok()) return s;
    return CheckCodes(*type, member);
  } catch (const kj::Exception& e) {
    return Status::InvalidArgument(event.type + " facts: " + e.getDescription().cStr());
  }
}

Result<std::string> Codec::FactsToJson(const RecordedEvent& event) const {
  RecordedEvent copy;
  const RecordedEvent* e = &event;
  const TypeEntry* type = tables_->Find(event.type);
  if (type != nullptr && event.schema_version != type->version) {
    copy = event;
    Status s = Upcast(&copy);
    if (!s.ok()) return s;
    e = &copy;
  }
  auto facts = FactsJson(*tables_, e->type, e->schema_version, e->facts);
  if (!facts.ok()) return facts.status();
  return Dump(*facts, false);
}

Result<std::string> Codec::ToJson(const RecordedEvent& event, bool pretty) const {
  RecordedEvent copy;
  const RecordedEvent* e = &event;
  const TypeEntry* type = tables_->Find(event.type);
  if (type == nullptr) {
    return Status::NotSupported("unknown event type \"" + event.type + "\" at position " +
                                std::to_string(event.position));
  }
  if (event.schema_version != type->version) {
    copy = event;
    Status s = Upcast(&copy);
    if (!s.ok()) {
      return Status(s.code() == Status::Code::kNotSupported
                        ? Status::NotSupported("position " + std::to_string(event.position) + ": " +
                                               s.message())
                        : Status::Corruption("position " + std::to_string(event.position) + ": " +
                                             s.message()));
    }
    e = &copy;
  }
  Json j = Json::object();
  j["position"] = e->position;
  j["stream"] = e->stream;
  j["streamVersion"] = e->stream_version;
  j["id"] = e->id.ToString();
  j["type"] = e->type;
  j["schemaVersion"] = e->schema_version;
  if (e != &event) j["upcastFrom"] = event.schema_version;
  j["recordedAt"] = FormatTime(e->recorded_at);
  j["occurredAt"] = FormatTime(e->occurred_at);
  j["actor"] = ActorJson(e->actor);
  if (!e->correlation_id.empty()) j["correlationId"] = e->correlation_id.ToString();
  if (!e->causation_id.empty()) j["causationId"] = e->causation_id.ToString();
  j["subjects"] = SubjectsJson(e->subjects);
  auto facts = FactsJson(*tables_, e->type, e->schema_version, e->facts);
  if (!facts.ok()) {
    return Status::Corruption("position " + std::to_string(e->position) + ": " +
                              facts.status().message());
  }
  j["facts"] = std::move(*facts);
  auto personal = PersonalJson(*tables_, e->subjects, e->personal);
  if (!personal.ok()) {
    return Status::Corruption("position " + std::to_string(e->position) + ": " +
                              personal.status().message());
  }
  j["personal"] = std::move(*personal);
  return Dump(j, pretty);
}

Result<std::string> Codec::ToJson(const NewEvent& event, bool pretty) const {
  Json j = Json::object();
  j["type"] = event.type;
  j["schemaVersion"] = event.schema_version;
  j["id"] = event.id.ToString();
  if (event.occurred_at != 0) j["occurredAt"] = FormatTime(event.occurred_at);
  if (!(event.actor == Actor{})) j["actor"] = ActorJson(event.actor);
  if (!event.correlation_id.empty()) j["correlationId"] = event.correlation_id.ToString();
  if (!event.causation_id.empty()) j["causationId"] = event.causation_id.ToString();
  j["subjects"] = SubjectsJson(event.subjects);
  auto facts = FactsJson(*tables_, event.type, event.schema_version, event.facts);
  if (!facts.ok()) return facts.status();
  j["facts"] = std::move(*facts);
  auto personal = PersonalJson(*tables_, event.subjects, event.personal);
  if (!personal.ok()) return personal.status();
  j["personal"] = std::move(*personal);
  return Dump(j, pretty);
}

}  // namespace hearth::domain
