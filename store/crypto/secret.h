// Keys in memory: locked against swapping and wiped when released.
#pragma once

#include <sodium.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hearth::crypto {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
constexpr size_t kSealOverhead = kNonceBytes + kTagBytes;

// A 32-byte symmetric key in guarded, locked memory (sodium_malloc). Owns its
// memory; wiped (sodium_free) on destruction. Move-only.
class SecretKey {
 public:
  SecretKey();  // zero key
  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  static SecretKey Random();
  static SecretKey FromBytes(const uint8_t* bytes);  // copies kKeyBytes

  uint8_t* data() { return key_; }
  const uint8_t* data() const { return key_; }

 private:
  uint8_t* key_;
};

// Seals `plain` with XChaCha20-Poly1305 under `key`, binding `aad`.
// Output: nonce(24) || ciphertext || tag(16), appended to *out.
void Seal(const uint8_t* key, std::string_view aad, std::string_view plain, std::string* out);
// Opens a sealed value. False when the key, the AAD or the bytes are wrong.
bool Open(const uint8_t* key, std::string_view aad, std::string_view sealed, std::string* out);
inline void Seal(const SecretKey& key, std::string_view aad, std::string_view plain,
                 std::string* out) {
  Seal(key.data(), aad, plain, out);
}
inline bool Open(const SecretKey& key, std::string_view aad, std::string_view sealed,
                 std::string* out) {
  return Open(key.data(), aad, sealed, out);
}

// Derives a sub-key for a purpose (libsodium KDF, BLAKE2b). `context` is
// exactly 8 characters.
SecretKey DeriveSubkey(const SecretKey& key, uint64_t id, const char context[8]);

// Keyed BLAKE2b-256 (a MAC / keyed hash), 32 bytes.
std::string KeyedHash(const SecretKey& key, std::string_view data);

// A bounded cache of unwrapped data keys, kept in one locked, guarded slab.
// Not thread-safe: the caller holds its own lock. When full it is wiped and
// refilled on demand.
class KeyCache {
 public:
  explicit KeyCache(size_t capacity);
  ~KeyCache();
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // Pointer into the slab, valid until the next Put/Erase/Clear; or nullptr.
  const uint8_t* Get(const std::string& subject) const;
  size_t size() const { return slots_.size(); }
  size_t capacity() const { return capacity_; }
  void Put(const std::string& subject, const uint8_t* key);
  void Erase(const std::string& subject);  // wipes the slot
  void Clear();                            // wipes everything

 private:
  size_t capacity_;
  uint8_t* slab_;
  std::unordered_map<std::string, uint32_t> slots_;
  std::vector<uint32_t> free_;  // slots below high_water_ given back by Erase
  size_t high_water_ = 0;       // slots [0, high_water_) have been handed out
};

}  // namespace hearth::crypto
