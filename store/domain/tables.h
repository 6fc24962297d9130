// Private to store/domain: schema tables built from domain.capnp by
// reflection, the fast facts decoder, and packed-message helpers.
#pragma once

#include <capnp/compat/json.h>
#include <capnp/dynamic.h>
#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize-packed.h>
#include <kj/io.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain.capnp.h"
#include "hearth/domain.h"

namespace hearth::domain {

namespace cs = ::hearth::schema::domain;

// A date-valued Text field reachable from an event's struct, and whether it
// must not lie in the future. `path` is the chain of fields from the member
// struct (groups and structs included); a list on the way is walked entirely.
struct DateField {
  std::vector<capnp::StructSchema::Field> path;
  std::string name;  // "consentBasis.given.givenOn"
  bool past = false;
};

struct TypeEntry {
  std::string name;     // "ContactRecorded"
  uint32_t version = 1; // current
  capnp::StructSchema::Field field;  // the current member of Facts
  capnp::StructSchema schema;        // its struct
  uint16_t discriminant = 0;
  // Where MainDate finds the event's main date: the member's pointer index
  // in Facts (-1 for a member that is not a pointer or whose first field is
  // in a union: no event type is) and, when the member's first field is
  // Text (its date), that field's pointer index in the member (else -1).
  int32_t member_pointer = -1;
  int32_t main_date_pointer = -1;
  std::vector<DateField> dates;
  // Text and List(Text) fields that are codes or references (neither a date
  // nor $prose): `past` is unused.
  std::vector<DateField> codes;
  struct Older {
    uint32_t version;
    capnp::StructSchema::Field field;
    uint16_t discriminant;
  };
  std::vector<Older> older;
};

class CodecTables {
 public:
  CodecTables();

  capnp::StructSchema facts;
  capnp::StructSchema personal;
  std::vector<TypeEntry> types;
  std::vector<EventTypeInfo> infos;
  std::vector<DateField> personal_dates;
  capnp::JsonCodec json;
  const UpcasterRegistry* upcasters = nullptr;

  // Null for an unknown name.
  const TypeEntry* Find(std::string_view name) const;
  // The entry and stored version for a Facts discriminant, or null.
  const TypeEntry* ByDiscriminant(uint16_t d, uint32_t* version) const;

 private:
  std::unordered_map<std::string, size_t> by_name_;
  std::unordered_map<uint16_t, std::pair<size_t, uint32_t>> by_discriminant_;
};

// "contactRecorded" <-> "ContactRecorded".
std::string TypeNameOf(std::string_view member);
std::string MemberNameOf(std::string_view type);

// The enumerant's name ("mandatoryDfg"), or "unknown" for a value this code
// does not know (written by a newer schema).
template <typename E>
std::string_view EnumName(E value) {
  // The names, read from the compiled-in schema once per enum (the folds
  // name an enum for most events); they point into that static schema.
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (auto e : capnp::Schema::from<E>().getEnumerants()) {
      auto name = e.getProto().getName();
      out.emplace_back(name.begin(), name.size());
    }
    return out;
  }();
  auto v = static_cast<uint16_t>(value);
  if (v >= names.size()) return "unknown";
  return names[v];
}

// The element a service belongs to (docs/domain.md).
cs::ServiceElement ElementOfService(cs::Service service);

// A builder's message in packed encoding.
std::string ToPacked(capnp::MessageBuilder& message);

// Decodes packed single-segment messages into a reusable buffer. The reader
// it returns stays valid until the next call. Not thread-safe: one per thread.
class PackedDecoder {
 public:
  // Corruption when the bytes are not a valid packed message.
  Status Decode(std::string_view packed, capnp::StructSchema schema,
                capnp::DynamicStruct::Reader* out);
  template <typename T>
  Status Decode(std::string_view packed, typename T::Reader* out) {
    capnp::DynamicStruct::Reader dyn;
    Status s = Decode(packed, capnp::Schema::from<T>(), &dyn);
    if (s.ok()) *out = dyn.as<T>();
    return s;
  }

 private:
  std::unique_ptr<capnp::word[]> scratch_;  // not zeroed: the reader writes what it reads
  std::optional<kj::ArrayInputStream> input_;
  std::optional<capnp::PackedMessageReader> reader_;
};

// Decodes an event's facts for a type at its current version, upcasting
// older versions first. One per thread.
class FactsDecoder {
 public:
  explicit FactsDecoder(const CodecTables* tables) : tables_(tables) {}

  // NotSupported (unknown type, newer version, no upcaster), Corruption
  // (facts do not decode, or hold another type than the envelope says).
  Status Decode(const RecordedEvent& event, cs::Facts::Reader* out, const TypeEntry** type);
  // The same, a Corruption's message led by "facts of <type> at position
  // <n>: " (for the readers that report which event they could not read).
  Status DecodeNamed(const RecordedEvent& event, cs::Facts::Reader* out, const TypeEntry** type);
  // The same for bytes already at the current version of `type`.
  Status DecodeCurrent(const TypeEntry& type, std::string_view facts, cs::Facts::Reader* out);

 private:
  const CodecTables* tables_;
  PackedDecoder packed_;
  RecordedEvent upcast_;  // holds an upcast copy while its reader is in use
};

// Upcasts `event` to the current version of its type (Codec::Upcast).
Status UpcastEvent(const CodecTables& tables, RecordedEvent* event);

// Visits every date field of `reader` (per `dates`) with its value and name;
// stops at the first non-OK status the visitor returns.
Status VisitDates(const std::vector<DateField>& dates, capnp::DynamicStruct::Reader reader,
                  const std::function<Status(const DateField&, std::string_view value)>& fn);

// True for a code or reference in facts: empty, or 1..64 of
// [A-Za-z0-9._:@/+-] (docs/domain.md, "Codes, not free text").
bool IsFactCode(std::string_view text);

// Checks every code field of `member` (per `type.codes`, lists element by
// element) with IsFactCode. InvalidArgument "facts.<field>: ..." naming the
// first field that holds free text (its value is not repeated).
Status CheckCodes(const TypeEntry& type, capnp::DynamicStruct::Reader member);

// The identifiers (nhs, postcode, name) to index for one Personal message.
std::vector<Identifier> IdentifiersOf(cs::Personal::Reader personal);

}  // namespace hearth::domain
