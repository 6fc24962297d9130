#include "crypto/secret.h"

#include <pthread.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "hearth/options.h"

namespace hearth::crypto {

namespace {
uint8_t* AllocKey() {
  auto* p = static_cast<uint8_t*>(sodium_malloc(kKeyBytes));
  if (p == nullptr) throw std::bad_alloc();
  sodium_memzero(p, kKeyBytes);
  return p;
}
}  // namespace

SecretKey::SecretKey() : key_(AllocKey()) {}
SecretKey::~SecretKey() {
  if (key_ != nullptr) sodium_free(key_);
}
SecretKey::SecretKey(SecretKey&& other) noexcept : key_(other.key_) { other.key_ = nullptr; }
SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    if (key_ != nullptr) sodium_free(key_);
    key_ = other.key_;
    other.key_ = nullptr;
  }
  return *this;
}

}  // namespace hearth::crypto

namespace hearth {

void SecretString::Assign(const char* text, size_t size) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  char* p = size == 0 ? nullptr : static_cast<char*>(sodium_malloc(size));
  if (size != 0 && p == nullptr) throw std::bad_alloc();
  if (size != 0) std::memcpy(p, text, size);
  if (data_ != nullptr) sodium_free(data_);
  data_ = p;
  size_ = size;
}

SecretString::SecretString(std::string&& text) {
  Assign(text.data(), text.size());
  sodium_memzero(text.data(), text.size());
  text.clear();
}
SecretString::SecretString(const char* text) { Assign(text, text == nullptr ? 0 : std::strlen(text)); }
SecretString::SecretString(const SecretString& other) { Assign(other.data_, other.size_); }
SecretString& SecretString::operator=(const SecretString& other) {
  if (this != &other) Assign(other.data_, other.size_);
  return *this;
}
SecretString::SecretString(SecretString&& other) noexcept : data_(other.data_), size_(other.size_) {
  other.data_ = nullptr;
  other.size_ = 0;
}
SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) sodium_free(data_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}
SecretString::~SecretString() {
  if (data_ != nullptr) sodium_free(data_);
}

}  // namespace hearth

namespace hearth::crypto {

SecretKey SecretKey::Random() {
  SecretKey k;
  crypto_aead_xchacha20poly1305_ietf_keygen(k.key_);
  return k;
}

SecretKey SecretKey::FromBytes(const uint8_t* bytes) {
  SecretKey k;
  std::memcpy(k.key_, bytes, kKeyBytes);
  return k;
}

namespace {

// Nonces come from a per-thread pool of the system's random bytes, refilled
// 170 nonces at a time: one getrandom call per 170 seals instead of one per
// seal. XChaCha20's 192-bit nonces only need to be unique, and random ones
// are (the chance of a repeat stays negligible); a pool must never be shared
// by two processes, so a fork empties every pool (the child's next seal
// refills from the system).
std::atomic<uint64_t> fork_generation{0};

struct NoncePool {
  uint8_t bytes[170 * kNonceBytes];
  size_t used = sizeof bytes;
  uint64_t generation = ~uint64_t(0);
};

void NextNonce(uint8_t* dst) {
  static std::once_flag once;
  std::call_once(once, [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
  thread_local NoncePool pool;
  uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || pool.used + kNonceBytes > sizeof pool.bytes) {
    randombytes_buf(pool.bytes, sizeof pool.bytes);
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(dst, pool.bytes + pool.used, kNonceBytes);
  sodium_memzero(pool.bytes + pool.used, kNonceBytes);  // never handed out twice
  pool.used += kNonceBytes;
}

}  // namespace

void Seal(const uint8_t* key, std::string_view aad, std::string_view plain, std::string* out) {
  size_t base = out->size();
  out->resize(base + kNonceBytes + plain.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + base);
  NextNonce(dst);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      dst + kNonceBytes, &clen, reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(aad.data()), aad.size(), nullptr, dst, key);
}

bool Open(const uint8_t* key, std::string_view aad, std::string_view sealed, std::string* out) {
  if (sealed.size() < kSealOverhead) return false;
  out->resize(sealed.size() - kSealOverhead);
  const auto* src = reinterpret_cast<const unsigned char*>(sealed.data());
  unsigned long long mlen = 0;
  int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(out->data()), &mlen, nullptr, src + kNonceBytes,
      sealed.size() - kNonceBytes, reinterpret_cast<const unsigned char*>(aad.data()), aad.size(),
      src, key);
  if (rc != 0) {
    sodium_memzero(out->data(), out->size());
    out->clear();
    return false;
  }
  return true;
}

SecretKey DeriveSubkey(const SecretKey& key, uint64_t id, const char context[8]) {
  SecretKey sub;
  crypto_kdf_derive_from_key(sub.data(), kKeyBytes, id, context, key.data());
  return sub;
}

std::string KeyedHash(const SecretKey& key, std::string_view data) {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(), key.data(),
                     kKeyBytes);
  return out;
}

KeyCache::KeyCache(size_t capacity) : capacity_(capacity) {
  slab_ = static_cast<uint8_t*>(sodium_malloc(capacity_ * kKeyBytes));
  if (slab_ == nullptr) throw std::bad_alloc();
  sodium_memzero(slab_, capacity_ * kKeyBytes);
}

KeyCache::~KeyCache() { sodium_free(slab_); }

const uint8_t* KeyCache::Get(const std::string& subject) const {
  auto it = slots_.find(subject);
  return it == slots_.end() ? nullptr : slab_ + size_t(it->second) * kKeyBytes;
}

void KeyCache::Put(const std::string& subject, const uint8_t* key) {
  auto it = slots_.find(subject);
  uint32_t slot;
  if (it != slots_.end()) {
    slot = it->second;
  } else {
    if (free_.empty() && high_water_ == capacity_) Clear();
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = uint32_t(high_water_++);
    }
    slots_.emplace(subject, slot);
  }
  std::memcpy(slab_ + size_t(slot) * kKeyBytes, key, kKeyBytes);
}

void KeyCache::Erase(const std::string& subject) {
  auto it = slots_.find(subject);
  if (it == slots_.end()) return;
  sodium_memzero(slab_ + size_t(it->second) * kKeyBytes, kKeyBytes);
  free_.push_back(it->second);
  slots_.erase(it);
}

void KeyCache::Clear() {
  // Only the slots ever handed out can hold key bytes: clearing costs what
  // was used, not the capacity.
  sodium_memzero(slab_, high_water_ * kKeyBytes);
  slots_.clear();
  free_.clear();
  high_water_ = 0;
}

}  // namespace hearth::crypto
