#include "domain/tables.h"

#include <kj/exception.h>

#include <cctype>

namespace hearth::domain {

namespace {

constexpr uint64_t kDateAnnotation = 0x9e5bfeadd835eeb7ull;
constexpr uint64_t kPastDateAnnotation = 0xf8eedcac944853e6ull;
constexpr uint64_t kProseAnnotation = 0xb5e3c1d2a4f60718ull;
constexpr uint64_t kVersionAnnotation = 0x8cbd7b2a56205a21ull;
constexpr uint64_t kOlderVersionOfAnnotation = 0xf12bb9aecd1fb78dull;

bool HasAnnotation(capnp::StructSchema::Field field, uint64_t id) {
  for (auto a : field.getProto().getAnnotations()) {
    if (a.getId() == id) return true;
  }
  return false;
}

uint32_t VersionOf(capnp::StructSchema::Field field) {
  for (auto a : field.getProto().getAnnotations()) {
    if (a.getId() == kVersionAnnotation) return a.getValue().getUint32();
  }
  return 1;
}

std::string OlderVersionOf(capnp::StructSchema::Field field) {
  for (auto a : field.getProto().getAnnotations()) {
    if (a.getId() == kOlderVersionOfAnnotation) return a.getValue().getText().cStr();
  }
  return "";
}

// Walks `schema`'s fields (into structs and lists of structs, 8 deep) and
// adds each leaf field that `pick` accepts, with whether it is a past date.
using FieldPick = bool (*)(capnp::StructSchema::Field field, bool* past);
void CollectFields(capnp::StructSchema schema, std::vector<capnp::StructSchema::Field>& path,
                   const std::string& prefix, int depth, FieldPick pick,
                   std::vector<DateField>* out) {
  if (depth > 8) return;
  for (auto field : schema.getFields()) {
    std::string name = prefix + field.getProto().getName().cStr();
    auto type = field.getType();
    path.push_back(field);
    bool past = false;
    if (pick(field, &past)) {
      out->push_back(DateField{path, name, past});
    } else if (type.isStruct()) {
      CollectFields(type.asStruct(), path, name + ".", depth + 1, pick, out);
    } else if (type.isList() && type.asList().getElementType().isStruct()) {
      CollectFields(type.asList().getElementType().asStruct(), path, name + "[].", depth + 1, pick,
                    out);
    }
    path.pop_back();
  }
}

// Text fields with a $date or $pastDate annotation.
bool IsDateField(capnp::StructSchema::Field field, bool* past) {
  *past = HasAnnotation(field, kPastDateAnnotation);
  return (*past || HasAnnotation(field, kDateAnnotation)) && field.getType().isText();
}

// Text and List(Text) fields without a date or $prose annotation.
bool IsCodeField(capnp::StructSchema::Field field, bool* past) {
  *past = false;
  auto type = field.getType();
  bool annotated = HasAnnotation(field, kPastDateAnnotation) ||
                   HasAnnotation(field, kDateAnnotation) || HasAnnotation(field, kProseAnnotation);
  bool text = type.isText() || (type.isList() && type.asList().getElementType().isText());
  return text && !annotated;
}

void CollectDates(capnp::StructSchema schema, std::vector<capnp::StructSchema::Field>& path,
                  const std::string& prefix, int depth, std::vector<DateField>* out) {
  CollectFields(schema, path, prefix, depth, IsDateField, out);
}

void CollectCodes(capnp::StructSchema schema, std::vector<capnp::StructSchema::Field>& path,
                  const std::string& prefix, int depth, std::vector<DateField>* out) {
  CollectFields(schema, path, prefix, depth, IsCodeField, out);
}

Status VisitFrom(const DateField& df, size_t i, capnp::DynamicStruct::Reader reader,
                 const std::function<Status(const DateField&, std::string_view)>& fn) {
  auto field = df.path[i];
  if (field.getProto().getDiscriminantValue() != capnp::schema::Field::NO_DISCRIMINANT) {
    KJ_IF_MAYBE(active, reader.which()) {
      if (*active != field) return Status::OK();
    } else {
      return Status::OK();
    }
  }
  auto type = field.getType();
  if (i + 1 == df.path.size()) {
    if (!reader.has(field)) return Status::OK();
    if (type.isList()) {  // List(Text): each element
      for (auto element : reader.get(field).as<capnp::DynamicList>()) {
        auto text = element.as<capnp::Text>();
        Status s = fn(df, std::string_view(text.begin(), text.size()));
        if (!s.ok()) return s;
      }
      return Status::OK();
    }
    auto text = reader.get(field).as<capnp::Text>();
    return fn(df, std::string_view(text.begin(), text.size()));
  }
  if (field.getProto().isGroup()) {
    return VisitFrom(df, i + 1, reader.get(field).as<capnp::DynamicStruct>(), fn);
  }
  if (!reader.has(field)) return Status::OK();
  if (type.isStruct()) {
    return VisitFrom(df, i + 1, reader.get(field).as<capnp::DynamicStruct>(), fn);
  }
  for (auto element : reader.get(field).as<capnp::DynamicList>()) {
    Status s = VisitFrom(df, i + 1, element.as<capnp::DynamicStruct>(), fn);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace

std::string TypeNameOf(std::string_view member) {
  std::string s(member);
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

std::string MemberNameOf(std::string_view type) {
  std::string s(type);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

CodecTables::CodecTables()
    : facts(capnp::Schema::from<cs::Facts>()), personal(capnp::Schema::from<cs::Personal>()) {
  json.setHasMode(capnp::HasMode::NON_DEFAULT);
  json.setRejectUnknownFields(true);
  for (auto field : facts.getUnionFields()) {
    std::string member = field.getProto().getName().cStr();
    if (member == "unset" || !field.getType().isStruct()) continue;
    if (!OlderVersionOf(field).empty()) continue;
    TypeEntry t;
    t.name = TypeNameOf(member);
    t.version = VersionOf(field);
    t.field = field;
    t.schema = field.getType().asStruct();
    t.discriminant = field.getProto().getDiscriminantValue();
    auto first = t.schema.getFields();
    if (field.getProto().isSlot() &&
        (first.size() == 0 ||
         first[0].getProto().getDiscriminantValue() == capnp::schema::Field::NO_DISCRIMINANT)) {
      t.member_pointer = int32_t(field.getProto().getSlot().getOffset());
      if (first.size() > 0 && first[0].getProto().isSlot() && first[0].getType().isText()) {
        t.main_date_pointer = int32_t(first[0].getProto().getSlot().getOffset());
      }
    }
    std::vector<capnp::StructSchema::Field> path;
    CollectDates(t.schema, path, "", 0, &t.dates);
    CollectCodes(t.schema, path, "", 0, &t.codes);
    by_name_[t.name] = types.size();
    types.push_back(std::move(t));
  }
  for (auto field : facts.getUnionFields()) {
    std::string of = OlderVersionOf(field);
    if (of.empty()) continue;
    auto it = by_name_.find(of);
    if (it == by_name_.end()) continue;  // an older version of a type since removed
    types[it->second].older.push_back(TypeEntry::Older{
        VersionOf(field), field, field.getProto().getDiscriminantValue()});
  }
  for (size_t i = 0; i < types.size(); ++i) {
    by_discriminant_[types[i].discriminant] = {i, types[i].version};
    EventTypeInfo info{types[i].name, types[i].version, {}};
    for (const auto& o : types[i].older) {
      by_discriminant_[o.discriminant] = {i, o.version};
      info.older_versions.push_back(o.version);
    }
    infos.push_back(std::move(info));
  }
  std::vector<capnp::StructSchema::Field> path;
  CollectDates(personal, path, "", 0, &personal_dates);
}

const TypeEntry* CodecTables::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &types[it->second];
}

const TypeEntry* CodecTables::ByDiscriminant(uint16_t d, uint32_t* version) const {
  auto it = by_discriminant_.find(d);
  if (it == by_discriminant_.end()) return nullptr;
  *version = it->second.second;
  return &types[it->second.first];
}

cs::ServiceElement ElementOfService(cs::Service service) {
  using S = cs::Service;
  using E = cs::ServiceElement;
  switch (service) {
    case S::INFORMATION_ADVICE:
    case S::SIGNPOSTING:
      return E::INFORMATION_ADVICE;
    case S::HOUSING_OPTIONS:
      return E::HOUSING_OPTIONS;
    case S::MINOR_ADAPTATION:
    case S::HANDYPERSON:
      return E::MINOR_ADAPTATIONS_HANDYPERSON;
    case S::REPAIRS:
    case S::DEMENTIA_DWELLING_GRANT:
    case S::HOME_FROM_HOSPITAL:
    case S::HOME_REPAIRS_ASSISTANCE:
    case S::SANCTUARY_GRANT:
    case S::STANDARD_ADAPTATION:
      return E::HEALTHIER_SAFER_HOMES;
    case S::MANDATORY_DFG:
      return E::MANDATORY_DFG;
    case S::OT_ASSESSMENT:
    case S::TRUSTED_ASSESSMENT:
      return E::OT_TRUSTED_ASSESSOR;
    case S::ASSISTIVE_TECHNOLOGY:
      return E::ASSISTIVE_TECHNOLOGY;
    case S::ABLE_TO_PAY:
      return E::ABLE_TO_PAY;
    case S::UNSPECIFIED:
      break;
  }
  return E::UNSPECIFIED;
}

std::string ToPacked(capnp::MessageBuilder& message) {
  kj::VectorOutputStream out(512);
  capnp::writePackedMessage(out, message);
  auto bytes = out.getArray();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

Status PackedDecoder::Decode(std::string_view packed, capnp::StructSchema schema,
                             capnp::DynamicStruct::Reader* out) {
  constexpr size_t kScratchWords = 512;  // events are small; larger ones allocate
  if (!scratch_) scratch_.reset(new capnp::word[kScratchWords]);
  reader_.reset();
  input_.reset();
  try {
    input_.emplace(kj::ArrayPtr<const kj::byte>(
        reinterpret_cast<const kj::byte*>(packed.data()), packed.size()));
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 1u << 20;  // events are at most 1 MiB
    reader_.emplace(*input_, options, kj::ArrayPtr<capnp::word>(scratch_.get(), kScratchWords));
    *out = reader_->getRoot<capnp::DynamicStruct>(schema);
    return Status::OK();
  } catch (const kj::Exception& e) {
    reader_.reset();
    input_.reset();
    return Status::Corruption(std::string("not a packed ") + schema.getShortDisplayName().cStr() +
                              " message: " + e.getDescription().cStr());
  }
}

Status FactsDecoder::DecodeCurrent(const TypeEntry& type, std::string_view facts,
                                   cs::Facts::Reader* out) {
  Status s = packed_.Decode<cs::Facts>(facts, out);
  if (!s.ok()) return Status::Corruption(type.name + " facts: " + s.message());
  try {
    uint16_t which = static_cast<uint16_t>(out->which());
    if (which != type.discriminant) {
      uint32_t version = 0;
      const TypeEntry* held = tables_->ByDiscriminant(which, &version);
      return Status::Corruption("facts hold " +
                                (held ? held->name + " version " + std::to_string(version)
                                      : std::string("no known event")) +
                                ", the envelope says " + type.name + " version " +
                                std::to_string(type.version));
    }
  } catch (const kj::Exception& e) {
    return Status::Corruption(type.name + " facts: " + e.getDescription().cStr());
  }
  return Status::OK();
}

Status FactsDecoder::DecodeNamed(const RecordedEvent& event, cs::Facts::Reader* out, const TypeEntry** type) {
  Status s = Decode(event, out, type);
  if (!s.IsCorruption()) return s;
  return Status::Corruption("facts of " + event.type + " at position " + std::to_string(event.position) + ": " +
                            s.message());
}

Status FactsDecoder::Decode(const RecordedEvent& event, cs::Facts::Reader* out,
                            const TypeEntry** type) {
  const TypeEntry* t = tables_->Find(event.type);
  if (t == nullptr) {
    return Status::NotSupported("unknown event type \"" + event.type + "\" at position " +
                                std::to_string(event.position));
  }
  *type = t;
  if (event.schema_version == t->version) return DecodeCurrent(*t, event.facts, out);
  upcast_ = event;
  Status s = UpcastEvent(*tables_, &upcast_);
  if (!s.ok()) return s;
  return DecodeCurrent(*t, upcast_.facts, out);
}

Status UpcastEvent(const CodecTables& tables, RecordedEvent* event) {
  const TypeEntry* t = tables.Find(event->type);
  if (t == nullptr) {
    return Status::NotSupported("unknown event type \"" + event->type + "\"");
  }
  if (event->schema_version > t->version) {
    return Status::NotSupported("event type " + t->name + " schema version " +
                                std::to_string(event->schema_version) +
                                " is newer than this code knows (" + std::to_string(t->version) +
                                "): upgrade hearth");
  }
  if (event->schema_version == 0) {
    return Status::NotSupported("event type " + t->name + " schema version 0 does not exist");
  }
  while (event->schema_version < t->version) {
    uint32_t from = event->schema_version;
    const UpcastFn* fn = tables.upcasters ? tables.upcasters->Find(t->name, from) : nullptr;
    if (fn == nullptr) {
      return Status::NotSupported("no upcaster for event type " + t->name + " from schema version " +
                                  std::to_string(from));
    }
    Status s;
    try {
      s = (*fn)(event);
    } catch (const kj::Exception& e) {
      s = Status::Corruption(e.getDescription().cStr());
    }
    if (s.IsInvalidArgument()) return Status::Corruption(s.message());
    if (!s.ok()) return s;
    if (event->schema_version != from + 1) {
      return Status::Corruption("upcaster for " + t->name + " from version " +
                                std::to_string(from) + " did not produce version " +
                                std::to_string(from + 1));
    }
  }
  return Status::OK();
}

Status VisitDates(const std::vector<DateField>& dates, capnp::DynamicStruct::Reader reader,
                  const std::function<Status(const DateField&, std::string_view value)>& fn) {
  for (const auto& df : dates) {
    Status s = VisitFrom(df, 0, reader, fn);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

bool IsFactCode(std::string_view text) {
  if (text.size() > 64) return false;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '/' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckCodes(const TypeEntry& type, capnp::DynamicStruct::Reader member) {
  return VisitDates(type.codes, member, [](const DateField& f, std::string_view value) {
    if (IsFactCode(value)) return Status::OK();
    return Status::InvalidArgument("facts." + f.name +
                                   ": expected a code or reference (up to 64 of A-Z a-z 0-9 "
                                   ". _ : @ / + -), not free text (" +
                                   std::to_string(value.size()) + " bytes given)");
  });
}

std::vector<Identifier> IdentifiersOf(cs::Personal::Reader personal) {
  std::vector<Identifier> out;
  if (personal.hasNhsNumber()) {
    std::string digits;
    for (char c : std::string_view(personal.getNhsNumber().cStr())) {
      if (c != ' ' && c != '-') digits.push_back(c);
    }
    if (!digits.empty()) out.push_back(Identifier{"nhs", digits});
  }
  if (personal.hasPostcode() && personal.getPostcode().size() > 0) {
    out.push_back(Identifier{"postcode", personal.getPostcode().cStr()});
  }
  std::string name;
  if (personal.hasGivenName()) name = personal.getGivenName().cStr();
  if (personal.hasFamilyName() && personal.getFamilyName().size() > 0) {
    if (!name.empty()) name += ' ';
    name += personal.getFamilyName().cStr();
  }
  if (!name.empty()) out.push_back(Identifier{"name", name});
  return out;
}

}  // namespace hearth::domain
