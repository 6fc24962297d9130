// hearth: the event envelope (see api/schema/envelope.capnp and docs/format.md).
//
// An event has two kinds of payload:
//  - facts: non-identifying codes (district, service element, stage, dates,
//    amounts, outcome codes), sealed under the store key;
//  - personal sections: names, addresses, contact details, free text, health
//    details, each belonging to one data subject and sealed under that
//    subject's own data key, so that erasing one person (crypto-shredding)
//    leaves everyone else's data and every fact readable.
// Stream ids, subject ids and actor ids are opaque references (e.g. "case-17",
// "P-000123"): they are stored in index keys and must never be names or other
// natural identifiers. Look people up by natural identifier through
// PersonalSection::identifiers, which are stored only as keyed hashes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hearth {

// A 128-bit identifier (event, correlation, causation). All zero means "none".
struct Id128 {
  std::array<uint8_t, 16> bytes{};

  bool empty() const;
  // Random (libsodium) version-4 UUID.
  static Id128 Random();
  // 32 lowercase hex digits, or a UUID with dashes; false if malformed.
  static bool Parse(const std::string& text, Id128* out);
  std::string ToString() const;  // 8-4-4-4-12 UUID form
  friend bool operator==(const Id128&, const Id128&) = default;
  friend auto operator<=>(const Id128&, const Id128&) = default;
};
using EventId = Id128;

// Microseconds since 1970-01-01T00:00:00Z.
using Timestamp = int64_t;

enum class SubjectRole : uint8_t {
  kClient = 0,
  kCarer = 1,
  kRelative = 2,
  kReferrer = 3,
  kStaff = 4,
  kOther = 5,
};
const char* SubjectRoleName(SubjectRole role);
bool ParseSubjectRole(const std::string& name, SubjectRole* out);

struct SubjectRef {
  std::string id;  // opaque subject reference, 1..64 bytes of [A-Za-z0-9._:-]
  SubjectRole role = SubjectRole::kClient;
  friend bool operator==(const SubjectRef&, const SubjectRef&) = default;
};

struct Actor {
  std::string user;    // staff reference (professional capacity), may be empty
  std::string role;    // e.g. "caseworker", "ot", "controller"
  std::string plugin;  // the front end or tool that submitted the event
  friend bool operator==(const Actor&, const Actor&) = default;
};

// A natural identifier of a subject (NHS number, postcode, name). Stored only
// as a keyed hash, so that Store::FindSubjects can answer without plaintext.
struct Identifier {
  std::string kind;   // e.g. "nhs", "postcode", "name"
  std::string value;  // normalised by the store: trimmed, case- and space-folded
  friend bool operator==(const Identifier&, const Identifier&) = default;
};

struct PersonalSection {
  std::string subject;  // REQUIRES: one of the event's SubjectRef ids
  std::string data;     // opaque bytes (a domain codec's or JSON text)
  std::vector<Identifier> identifiers;  // written to the keyed-hash lookup index
  // On read: true when the subject was erased and `data` is empty.
  bool erased = false;
  friend bool operator==(const PersonalSection&, const PersonalSection&) = default;
};

// A document kept with the event that refers to it (a scanned letter, an
// application form, a quote, a certificate): stored in the `documents`
// column family, sealed under `subject`'s data key, in the same atomic batch
// as its event (docs/format.md, "documents"). Erasing the subject makes it
// unreadable. The event itself should carry the body's SHA-256 in that
// subject's personal section, so the Merkle leaf of the event covers it.
struct DocumentBody {
  std::string subject;  // REQUIRES: one of the event's SubjectRef ids
  std::string bytes;    // at most Options::max_document_bytes
  friend bool operator==(const DocumentBody&, const DocumentBody&) = default;
};

// An event as a writer proposes it.
struct NewEvent {
  EventId id;                 // REQUIRES: not empty; a retry must reuse it
  std::string type;           // e.g. "ContactRecorded"; 1..128 bytes
  uint32_t schema_version = 1;
  Timestamp occurred_at = 0;  // business time; 0 means "when recorded"
  Actor actor;
  Id128 correlation_id;
  Id128 causation_id;
  std::vector<SubjectRef> subjects;
  std::string facts;  // opaque bytes; never personal data
  std::vector<PersonalSection> personal;
  std::vector<DocumentBody> documents;  // at most 8; read back with Store::ReadDocument
};

// An event as the log holds it, decrypted.
struct RecordedEvent {
  uint64_t position = 0;        // global, dense, from 1
  std::string stream;
  uint64_t stream_version = 0;  // dense within the stream, from 1
  EventId id;
  std::string type;
  uint32_t schema_version = 1;
  Timestamp recorded_at = 0;    // store clock, never decreasing
  Timestamp occurred_at = 0;
  Actor actor;
  Id128 correlation_id;
  Id128 causation_id;
  std::vector<SubjectRef> subjects;
  std::string facts;
  std::vector<PersonalSection> personal;
};

// Expected version of a stream for an append.
struct ExpectedVersion {
  enum class Kind : uint8_t { kAny, kNoStream, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;  // with kExact: the stream's current last version (>= 1)

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion Exact(uint64_t v) { return {Kind::kExact, v}; }
  std::string ToString() const;
};

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t first_version = 0;  // stream version of the first event
  uint64_t last_version = 0;   // the stream's version after the append
  bool duplicate = false;      // true when this was a retry of an earlier append
};

}  // namespace hearth
