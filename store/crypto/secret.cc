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

// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha, RFC 8439's AEAD with
// HChaCha20's subkey), composed from libsodium's primitives for the short
// values a store seals, byte for byte what
// crypto_aead_xchacha20poly1305_ietf_{encrypt,decrypt} produce and accept
// (tests/unit/seal_test.cc holds the two equal on every length up to
// several kilobytes, both ways, and tampering rejected).
//
// Why not the one call: libsodium 1.0.18's ChaCha20 works in runs of 256 and
// 512 bytes with SIMD and falls back to one 64-byte block at a time, about
// 160 ns a block on this machine, for what is left; a 200-byte value paid
// three such blocks, and the MAC was fed in five pieces. Here the keystream
// (its first block the Poly1305 key, the rest the XOR for the text) is drawn
// in whole 256-byte runs and the MAC reads one contiguous buffer: a
// 200-byte value opens in about half the time (docs/benchmarks.md).
// Longer values take libsodium's call, where the fixed cost does not matter.
namespace {

constexpr size_t kFastMax = 4096;  // plaintext bytes handled here

struct AeadScratch {
  alignas(64) uint8_t keystream[((64 + kFastMax + 255) / 256) * 256];
  alignas(64) uint8_t mac_input[kFastMax + 4096 + 48];  // AAD up to 4 KiB
  ~AeadScratch() { sodium_memzero(keystream, sizeof keystream); }
};

AeadScratch& Scratch() {
  thread_local AeadScratch scratch;
  return scratch;
}

// Fills s.keystream with ChaCha20(subkey, 0^4 || nonce[16..24]) from block 0
// for at least 64 + n bytes; returns how many bytes were drawn.
size_t DrawKeystream(AeadScratch& s, const uint8_t* nonce, const uint8_t* key, size_t n) {
  uint8_t subkey[kKeyBytes];
  crypto_core_hchacha20(subkey, nonce, key, nullptr);
  uint8_t ietf_nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0, 0, 0, 0};
  std::memcpy(ietf_nonce + 4, nonce + 16, 8);
  size_t len = (64 + n + 255) & ~size_t(255);
  crypto_stream_chacha20_ietf(s.keystream, len, ietf_nonce, subkey);
  sodium_memzero(subkey, sizeof subkey);
  return len;
}

void XorInto(uint8_t* dst, const uint8_t* src, const uint8_t* stream, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t a, b;
    std::memcpy(&a, src + i, 8);
    std::memcpy(&b, stream + i, 8);
    a ^= b;
    std::memcpy(dst + i, &a, 8);
  }
  for (; i < n; ++i) dst[i] = uint8_t(src[i] ^ stream[i]);
}

// Poly1305 over AAD || pad16 || ciphertext || pad16 || le64(|AAD|) ||
// le64(|ciphertext|), keyed by the keystream's first 32 bytes.
void Mac(AeadScratch& s, std::string_view aad, const uint8_t* cipher, size_t n, uint8_t* tag) {
  uint8_t* m = s.mac_input;
  size_t o = 0;
  std::memcpy(m, aad.data(), aad.size());
  o += aad.size();
  size_t pad = (16 - aad.size() % 16) % 16;
  std::memset(m + o, 0, pad);
  o += pad;
  std::memcpy(m + o, cipher, n);
  o += n;
  pad = (16 - n % 16) % 16;
  std::memset(m + o, 0, pad);
  o += pad;
  uint64_t lens[2] = {uint64_t(aad.size()), uint64_t(n)};
  for (int w = 0; w < 2; ++w) {
    for (int i = 0; i < 8; ++i) m[o++] = uint8_t(lens[w] >> (8 * i));
  }
  crypto_onetimeauth_poly1305(tag, m, o, s.keystream);
}

bool Fast(std::string_view aad, size_t n) {
  return n <= kFastMax && aad.size() <= 4096;
}

}  // namespace

void Seal(const uint8_t* key, std::string_view aad, std::string_view plain, std::string* out) {
  size_t base = out->size();
  out->resize(base + kNonceBytes + plain.size() + kTagBytes);
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + base);
  NextNonce(dst);
  const auto* text = reinterpret_cast<const unsigned char*>(plain.data());
  if (Fast(aad, plain.size())) {
    AeadScratch& s = Scratch();
    size_t drawn = DrawKeystream(s, dst, key, plain.size());
    uint8_t* cipher = dst + kNonceBytes;
    XorInto(cipher, text, s.keystream + 64, plain.size());
    Mac(s, aad, cipher, plain.size(), cipher + plain.size());
    sodium_memzero(s.keystream, drawn);
    return;
  }
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(dst + kNonceBytes, &clen, text, plain.size(),
                                             reinterpret_cast<const unsigned char*>(aad.data()),
                                             aad.size(), nullptr, dst, key);
}

bool Open(const uint8_t* key, std::string_view aad, std::string_view sealed, std::string* out) {
  if (sealed.size() < kSealOverhead) return false;
  const size_t n = sealed.size() - kSealOverhead;
  const auto* src = reinterpret_cast<const unsigned char*>(sealed.data());
  if (Fast(aad, n)) {
    AeadScratch& s = Scratch();
    size_t drawn = DrawKeystream(s, src, key, n);
    const uint8_t* cipher = src + kNonceBytes;
    uint8_t tag[kTagBytes];
    Mac(s, aad, cipher, n, tag);
    if (crypto_verify_16(tag, cipher + n) != 0) {
      sodium_memzero(s.keystream, drawn);
      out->clear();
      return false;
    }
    out->resize(n);
    XorInto(reinterpret_cast<uint8_t*>(out->data()), cipher, s.keystream + 64, n);
    sodium_memzero(s.keystream, drawn);
    return true;
  }
  out->resize(n);
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
