// hearth: options for opening a store. Plain structs; each field says its default.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hearth/projection.h"

namespace hearth {

// Text kept in guarded, locked memory (libsodium's sodium_malloc: guard
// pages, mlock, wiped on release), never in ordinary heap memory: how a
// passphrase is held. Copies are guarded too.
class SecretString {
 public:
  SecretString() = default;
  // Copies `text`, then wipes it: the caller's std::string keeps no copy.
  explicit SecretString(std::string&& text);
  explicit SecretString(const char* text);
  SecretString(const SecretString& other);
  SecretString& operator=(const SecretString& other);
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString();

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  void Assign(const char* text, size_t size);
  char* data_ = nullptr;
  size_t size_ = 0;
};

// The fewest characters a new passphrase may have (`hearth init`, a rotation
// to a passphrase). An existing store opens with the passphrase it has.
constexpr size_t kMinPassphraseChars = 12;

// Where the root key comes from. Exactly one of passphrase / key_file is set.
struct KeySource {
  // A passphrase, stretched with Argon2id (parameters stored with the salt).
  // At least kMinPassphraseChars characters for a new store or a rotation.
  SecretString passphrase;
  // A file holding 32 random bytes (raw or 64 hex digits). The store refuses a
  // key file that is readable or writable by group or others.
  std::string key_file;

  // Argon2id cost used when a store is created from a passphrase. Default:
  // libsodium's MODERATE (3 passes, 256 MiB). Tests may lower them.
  uint64_t argon2_opslimit = 3;
  uint64_t argon2_memlimit = 256ull << 20;

  // `p` is wiped once copied into guarded memory.
  static KeySource Passphrase(std::string p) {
    KeySource k;
    k.passphrase = SecretString(std::move(p));
    return k;
  }
  static KeySource File(std::string path) { KeySource k; k.key_file = std::move(path); return k; }
};

struct Options {
  // Create a new store when the directory holds none. Default: false.
  bool create_if_missing = false;

  // The root key. REQUIRES: set, unless `encrypt` is false.
  KeySource key;

  // Seal facts and personal sections (XChaCha20-Poly1305). Default: true.
  // false is for benchmarks that measure the cost of encryption only: an
  // unencrypted store refuses personal sections. Fixed at creation.
  bool encrypt = true;

  // Sync the write-ahead log before an append returns. Default: true.
  // Concurrent appends share one sync (group commit). Set false only for a
  // bulk import that can be redone: a crash may lose the last appends (never
  // the order, never half a batch).
  bool sync = true;

  // Largest event (facts + personal sections), in bytes. Default: 1 MiB.
  uint32_t max_event_bytes = 1u << 20;

  // Largest document body (NewEvent::documents), in bytes. Default: 16 MiB.
  // A larger one is refused TooLarge naming this limit; nothing is written.
  uint32_t max_document_bytes = 16u << 20;

  // Most events in one Append call. Default: 10,000.
  uint32_t max_batch_events = 10000;

  // RocksDB block cache for the log, in bytes. Default: 64 MiB.
  uint64_t block_cache_bytes = 64ull << 20;

  // The projections this store maintains (hearth/projection.h). A projection
  // that is new, or whose version changed, is rebuilt on open: inline ones
  // before Open returns, asynchronous ones in the background.
  std::vector<std::shared_ptr<Projection>> projections;

  // Write a signed Merkle checkpoint after this many new events (0: only on
  // demand). Default: 100,000.
  uint64_t checkpoint_interval = 100000;

  // Also write a signed checkpoint with the first commit made this long after
  // the newest checkpoint, and with the first commit of a store that has none,
  // so that while appends happen the unsigned tail is never older than this
  // (0: by count and on demand only). Default: one hour.
  uint64_t checkpoint_period_ms = 3600ull * 1000;
};

}  // namespace hearth
