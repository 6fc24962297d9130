// Key encodings of the column families (docs/format.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::log {

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

}  // namespace hearth::log
