// The stored record (api/schema/envelope.capnp StoredRecord): encoding with
// sealing, and decoding with checks and opening.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.h"
#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth::log {

// Associated data of a sealed section: binds it to its record and section.
// "hearth.v1" position(8 BE) len(4 BE) stream len(4 BE) type version(4 BE)
// then "F" (facts) or "P" subject (a personal section).
std::string SectionAad(uint64_t position, std::string_view stream, std::string_view type,
                       uint32_t schema_version, std::string_view section);

// Associated data of the facts section: the section's AAD ("F") followed by
// every other envelope field, so that the facts seal authenticates the whole
// envelope (an altered actor, time, id, version or subject list fails to
// open). stream_version(8 BE) event_id(16) recorded_at(8 BE) occurred_at(8 BE)
// actor user, role, plugin (each len(4 BE) bytes) correlation_id(16)
// causation_id(16) count(4 BE) { len(4 BE) subject role(1) } count(4 BE)
// { len(4 BE) personal-section subject } len(4 BE) digest.
struct EnvelopeFields {
  uint64_t position;
  std::string_view stream;
  uint64_t stream_version;
  const EventId* id;
  std::string_view type;
  uint32_t schema_version;
  Timestamp recorded_at;
  Timestamp occurred_at;
  const Actor* actor;
  const EventId* correlation_id;
  const EventId* causation_id;
  const std::vector<SubjectRef>* subjects;
  std::vector<std::string_view> personal_subjects;
  std::string_view digest;
};
std::string FactsAad(const EnvelopeFields& f);
// The same into *out (cleared first), so a pass over many records reuses one buffer.
void FactsAad(const EnvelopeFields& f, std::string* out);

// The keyed digest of an event as proposed, for telling a retry (same id,
// same content) from a clash (same id, other content). Personal section i
// enters only as section_macs[i] (PersonalSectionMac under its subject's data
// key), so the digest confirms no guess about a person once their data key is
// erased (docs/format.md, "log").
// Document bodies enter as document_macs[i] (DocumentMac), and only when the
// event has documents, so the digests of events without any are unchanged.
std::string EventDigest(const crypto::SecretKey& digest_key, const NewEvent& e,
                        const std::vector<std::string>& section_macs,
                        const std::vector<std::string>& document_macs = {});
// BLAKE2b-256 of one document body (subject, bytes) under another subkey of
// the subject's data key.
std::string DocumentMac(const uint8_t* data_key, const DocumentBody& d);
// BLAKE2b-256 of one personal section (subject, data, identifiers) under a
// subkey of the subject's data key (crypto::kKeyBytes bytes).
std::string PersonalSectionMac(const uint8_t* data_key, const PersonalSection& p);

struct EncodeInput {
  uint64_t position;
  std::string_view stream;
  uint64_t stream_version;
  Timestamp recorded_at;
  const NewEvent* event;
  std::string_view digest;
  const crypto::SecretKey* store_key;  // nullptr: facts stored plain
};

// Seals one personal section of `subject` (appends the sealed bytes to *out).
using SectionSealer = std::function<Status(const std::string& subject, std::string_view aad,
                                           std::string_view plain, std::string* out)>;
Result<std::string> EncodeRecord(const EncodeInput& in, const SectionSealer& seal);

// Opens one personal section of `subject`: *erased = true when the
// subject was erased (the section is then reported as erased), Corruption
// when authentication fails.
using SectionOpener = std::function<Status(const std::string& subject, std::string_view aad,
                                           std::string_view sealed, std::string* out, bool* erased)>;

// Decodes and opens the record stored at `position`. With an empty
// `open_personal`, personal sections are left out (facts-only reads). Corruption (naming the
// position) when the bytes do not parse, the position does not match, or a
// section fails authentication.
Status DecodeRecord(std::string_view bytes, uint64_t position, const crypto::SecretKey* store_key,
                    const SectionOpener& open_personal, RecordedEvent* out);

// Only the envelope, no opening (for verifiers, idempotency checks and
// indexes): stream, version, event id, digest.
struct EnvelopeView {
  uint64_t position = 0;
  std::string stream;
  uint64_t stream_version = 0;
  EventId id;
  std::string digest;
};
Status DecodeEnvelope(std::string_view bytes, uint64_t position, EnvelopeView* out);

}  // namespace hearth::log
