// The store's on-disk format (docs/format.md): its column families, the key
// encodings of each, the head record and the signed checkpoint's value. The
// engine (log/store_impl.cc) writes it; the offline verifier
// (audit/verifier.cc) and replication read it; nothing else needs the engine
// to know it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "hearth/event.h"
#include "hearth/log_reader.h"
#include "merkle/frontier.h"

namespace hearth::log {

// The column families, in the order the store opens them (the index of each
// is its place in the handles RocksDB returns).
enum ColumnFamily : size_t {
  kMetaCf = 0,  // RocksDB's "default": the metadata
  kLogCf,
  kStreamsCf,
  kSubjectsCf,
  kEventIdsCf,
  kKeysCf,
  kLookupCf,
  kMerkleCf,
  kProjectionsCf,
  kAccessCf,
  kDocumentsCf,
  kColumnFamilies
};
inline constexpr std::array<const char*, kColumnFamilies> kCfNames = {
    "default", "log", "streams", "subjects", "eventids", "keys", "lookup", "merkle", "projections", "access",
    "documents"};
// Added after stores were first written: made on open when missing.
inline constexpr std::array<ColumnFamily, 1> kLaterCfs = {kDocumentsCf};

// Counters and the Merkle frontier, rewritten in every commit's batch under
// the metadata key "head": next_position(8 BE) streams(8 BE) subjects(8 BE)
// erased(8 BE) clock(8 BE) last_checkpoint(8 BE) frontier (merkle/frontier.h).
struct Head {
  uint64_t next_position = 1;
  uint64_t streams = 0;
  uint64_t subjects = 0;
  uint64_t erased = 0;
  Timestamp clock = 0;
  uint64_t last_checkpoint = 0;  // tree size of the newest checkpoint
  merkle::Frontier frontier;

  std::string Encode() const;
  // False for bytes of another form, or a frontier that does not end at
  // next_position - 1.
  static bool Decode(std::string_view bytes, Head* out);
};

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
inline constexpr size_t kCheckpointBytes = 8 + 32 + 8 + 64;
inline bool DecodeCheckpoint(std::string_view b, SignedCheckpoint* cp) {
  if (b.size() != kCheckpointBytes) return false;
  cp->size = GetBE64(b.data());
  std::copy(b.data() + 8, b.data() + 40, reinterpret_cast<char*>(cp->root.data()));
  cp->time = Timestamp(GetBE64(b.data() + 40));
  std::copy(b.data() + 48, b.data() + 112, reinterpret_cast<char*>(cp->signature.data()));
  return true;
}

}  // namespace hearth::log
