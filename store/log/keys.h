// Key encodings of the column families (docs/format.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "hearth/event.h"
#include "hearth/log_reader.h"

namespace hearth::log {

// The stream of erasure events (SubjectErased), written by the store itself.
inline constexpr char kErasureStream[] = "$erasure";
// meta: set in the batch of an erasure or a root-key rotation, cleared once
// the flush and compaction after it have completed; checked on open.
inline constexpr char kCompactPending[] = "compact-pending";

inline void PutBE64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
}
inline void PutBE32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
}
inline uint64_t GetBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}
inline uint32_t GetBE32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// log:      position(8 BE)
inline std::string LogKey(uint64_t position) {
  std::string k;
  PutBE64(&k, position);
  return k;
}

// streams:  stream 0x00 first_version(8 BE)  ->  first_position(8 BE) count(4 BE)
// subjects: subject 0x00 first_position(8 BE) ->  runs of (offset(4 BE) length(4 BE))
// Ids never contain 0x00, so a prefix ends exactly at the separator.
inline std::string IndexKey(std::string_view id, uint64_t number) {
  std::string k(id);
  k.push_back('\0');
  PutBE64(&k, number);
  return k;
}
inline std::string IndexPrefix(std::string_view id) {
  std::string k(id);
  k.push_back('\0');
  return k;
}

// keys: "s" store key, "c" checkpoint signing key, "k" subject -> wrapped key,
//       "x" subject -> erasure record (the key itself is gone)
inline std::string SubjectKeyKey(std::string_view subject) { return "k" + std::string(subject); }
inline std::string ErasedKey(std::string_view subject) { return "x" + std::string(subject); }

// lookup: "h" keyed-hash(32) subject -> ""   (find subjects by identifier)
//         "r" subject 0x00 keyed-hash(32) -> ""  (erase a subject's entries)
inline std::string LookupKey(std::string_view hash, std::string_view subject) {
  std::string k = "h";
  k += hash;
  k += subject;
  return k;
}
inline std::string LookupReverseKey(std::string_view subject, std::string_view hash) {
  std::string k = "r";
  k += subject;
  k.push_back('\0');
  k += hash;
  return k;
}

// documents: position(8 BE) index(4 BE) -> len(4 BE) subject sealed(body)
// The event's position, not the body's hash: the key confirms nothing about
// what the body holds (docs/threat-model.md, "Documents").
inline std::string DocumentKey(uint64_t position, uint32_t index) {
  std::string k;
  PutBE64(&k, position);
  PutBE32(&k, index);
  return k;
}
// Associated data of a sealed document body: binds it to its event's
// position, its place in the event and its subject, so a body moved to
// another key or another subject fails to open.
inline std::string DocumentAad(uint64_t position, uint32_t index, std::string_view subject) {
  std::string a = "hearth.doc.v1";
  PutBE64(&a, position);
  PutBE32(&a, index);
  PutBE32(&a, uint32_t(subject.size()));
  a += subject;
  return a;
}

// merkle: level(1) index(8 BE) -> 32-byte hash
inline std::string MerkleKey(uint8_t level, uint64_t index) {
  std::string k(1, char(level));
  PutBE64(&k, index);
  return k;
}

// default (metadata): "format", "kdf", "head", "root-fp", "root-fp-prev",
// "checkpoint-pk", "cp" size(8 BE) -> signed checkpoint
inline std::string CheckpointKey(uint64_t size) {
  std::string k = "cp";
  PutBE64(&k, size);
  return k;
}

// eventids: the event id's 16 bytes.
inline std::string IdKey(const EventId& id) {
  return std::string(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}

// A signed checkpoint's value (meta "cp", and the replicated ".cp" message):
// size(8 BE) root(32) time(8 BE) signature(64).
inline std::string EncodeCheckpoint(const SignedCheckpoint& cp) {
  std::string s;
  PutBE64(&s, cp.size);
  s.append(reinterpret_cast<const char*>(cp.root.data()), 32);
  PutBE64(&s, uint64_t(cp.time));
  s.append(reinterpret_cast<const char*>(cp.signature.data()), 64);
  return s;
}
inline bool DecodeCheckpoint(std::string_view b, SignedCheckpoint* cp) {
  if (b.size() != 8 + 32 + 8 + 64) return false;
  cp->size = GetBE64(b.data());
  std::copy(b.data() + 8, b.data() + 40, reinterpret_cast<char*>(cp->root.data()));
  cp->time = Timestamp(GetBE64(b.data() + 40));
  std::copy(b.data() + 48, b.data() + 112, reinterpret_cast<char*>(cp->signature.data()));
  return true;
}

}  // namespace hearth::log
