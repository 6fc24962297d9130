// The erasure ledger (docs/operations.md, "The erasure ledger"): a signed,
// append-only text file kept beside the store, outside its directory and so
// outside its backups, that names every erased subject and the log position
// of its erasure. `hearth restore` re-applies it to a backup, so that a
// restore cannot bring back a person erased after the backup was taken.
//
// Format, one line each ('\n'-terminated, ASCII):
//   hearth-erasure-ledger v1 <checkpoint public key, 64 hex digits>
//   <seq> <position> <subject> <signature, 128 hex digits>
// seq counts entries from 1. The signature is Ed25519, by the store's
// checkpoint key, over
//   "hearth erasure ledger v1\n" || public key (32) || BE64(seq) ||
//   BE64(position) || subject || "\n" || the previous entry's signature
//   (64 zero bytes for the first entry)
// so an entry cannot be altered, removed, reordered or moved to another
// store's ledger without a signature failing. A last line without its '\n'
// is a torn append (the process stopped mid-write): readers ignore it and the
// next append overwrites it. Entries hold no personal data: a subject id is
// the store's opaque reference.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "crypto/secret.h"
#include "hearth/status.h"

namespace hearth::log {

struct LedgerEntry {
  uint64_t seq = 0;
  uint64_t position = 0;  // of the SubjectErased event in the log that erased it
  std::string subject;
};

struct LedgerContents {
  std::vector<LedgerEntry> entries;
  std::array<uint8_t, 64> last_signature{};  // zeros when there is no entry
  uint64_t good_bytes = 0;                     // bytes up to the last complete line
  bool torn = false;                           // a partial last line was ignored
};

// `<store path>.erasures`: a file beside the store directory.
std::string DefaultErasureLedgerPath(const std::string& store_path);

// Reads `path` and checks every line against `public_key`. NotFound when the
// file is missing; Corruption naming the file and line when the header names
// another key, a line is malformed, or a signature or sequence fails.
Result<LedgerContents> ReadErasureLedger(const std::string& path,
                                         const std::array<uint8_t, 32>& public_key);

// The ledger a store appends to. Not thread-safe: the store calls it under
// its erasure lock.
class ErasureLedger {
 public:
  // Reads and checks the ledger at `path`, creating it (header only, synced)
  // when missing.
  static Result<std::unique_ptr<ErasureLedger>> Open(const std::string& path,
                                                     const std::array<uint8_t, 32>& public_key);

  const std::string& path() const { return path_; }
  bool Contains(const std::string& subject) const { return subjects_.count(subject) != 0; }

  // Appends one entry signed with `seed` (the checkpoint key's Ed25519 seed)
  // and syncs it; a torn tail is cut off first.
  Status Append(uint64_t position, const std::string& subject, const crypto::SecretKey& seed);

 private:
  std::string path_;
  std::array<uint8_t, 32> public_key_{};
  std::unordered_set<std::string> subjects_;
  uint64_t seq_ = 0;
  std::array<uint8_t, 64> last_signature_{};
  uint64_t size_ = 0;  // bytes of complete lines
};

}  // namespace hearth::log
