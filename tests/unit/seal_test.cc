// Seal and Open compose XChaCha20-Poly1305 from libsodium's primitives for
// short values (store/crypto/secret.cc). These tests hold them to exactly
// libsodium's AEAD: what Seal writes, crypto_aead_xchacha20poly1305_ietf_decrypt
// opens to the same text; what libsodium seals, Open opens; the ciphertext
// and tag are the ones libsodium computes for the same nonce; and any change
// to the nonce, the text, the tag, the associated data or the key is refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <sodium.h>

#include "crypto/secret.h"

namespace hearth::crypto {
namespace {

class SealTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

std::string RandomBytes(size_t n) {
  std::string s(n, '\0');
  randombytes_buf(s.data(), n);
  return s;
}

// libsodium's own sealing of `plain` under `nonce`, in Seal's layout.
std::string SodiumSeal(const SecretKey& key, std::string_view nonce, std::string_view aad,
                       std::string_view plain) {
  std::string out(nonce);
  out.resize(kNonceBytes + plain.size() + kTagBytes);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.data() + kNonceBytes), &clen,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(aad.data()), aad.size(), nullptr,
      reinterpret_cast<const unsigned char*>(nonce.data()), key.data());
  return out;
}

bool SodiumOpen(const SecretKey& key, std::string_view aad, std::string_view sealed,
                std::string* plain) {
  if (sealed.size() < kSealOverhead) return false;
  plain->assign(sealed.size() - kSealOverhead, '\0');
  unsigned long long mlen = 0;
  return crypto_aead_xchacha20poly1305_ietf_decrypt(
             reinterpret_cast<unsigned char*>(plain->data()), &mlen, nullptr,
             reinterpret_cast<const unsigned char*>(sealed.data() + kNonceBytes),
             sealed.size() - kNonceBytes, reinterpret_cast<const unsigned char*>(aad.data()),
             aad.size(), reinterpret_cast<const unsigned char*>(sealed.data()), key.data()) == 0;
}

// Every length up to past the fast path's limit (4096 bytes of text), with
// associated data of many lengths, some past its 4 KiB limit too.
std::vector<std::pair<size_t, size_t>> Shapes() {
  std::vector<std::pair<size_t, size_t>> shapes;
  for (size_t n = 0; n <= 4200; n += (n < 600 ? 1 : 37)) shapes.emplace_back(n, (n * 7) % 131);
  for (size_t a : {size_t(0), size_t(15), size_t(16), size_t(17), size_t(4095), size_t(4096),
                   size_t(4097), size_t(9000)}) {
    for (size_t n : {size_t(0), size_t(1), size_t(63), size_t(64), size_t(200), size_t(4096)}) {
      shapes.emplace_back(n, a);
    }
  }
  shapes.emplace_back(100000, 40);
  return shapes;
}

TEST_F(SealTest, SealedValuesAreLibsodiumsAeadAndOpenBothWays) {
  SecretKey key = SecretKey::Random();
  for (auto [n, a] : Shapes()) {
    std::string plain = RandomBytes(n), aad = RandomBytes(a);
    std::string sealed;
    Seal(key.data(), aad, plain, &sealed);
    ASSERT_EQ(sealed.size(), n + kSealOverhead) << n;
    // The same bytes as libsodium's sealing with the nonce Seal drew.
    ASSERT_EQ(sealed, SodiumSeal(key, sealed.substr(0, kNonceBytes), aad, plain))
        << "text " << n << " B, AAD " << a << " B";
    std::string opened;
    ASSERT_TRUE(SodiumOpen(key, aad, sealed, &opened)) << n;
    ASSERT_EQ(opened, plain);
    // And what libsodium seals, Open opens.
    std::string theirs = SodiumSeal(key, RandomBytes(kNonceBytes), aad, plain);
    std::string ours;
    ASSERT_TRUE(Open(key.data(), aad, theirs, &ours)) << "text " << n << " B, AAD " << a << " B";
    ASSERT_EQ(ours, plain);
  }
}

TEST_F(SealTest, AnyChangedByteOrAWrongKeyIsRefused) {
  SecretKey key = SecretKey::Random(), other = SecretKey::Random();
  for (size_t n : {size_t(0), size_t(1), size_t(200), size_t(400), size_t(4096), size_t(5000)}) {
    std::string plain = RandomBytes(n), aad = RandomBytes(40), sealed, out = "left over";
    Seal(key.data(), aad, plain, &sealed);
    for (size_t i = 0; i < sealed.size(); i += (sealed.size() < 100 ? 1 : 13)) {
      std::string bad = sealed;
      bad[i] = char(bad[i] ^ 0x20);
      EXPECT_FALSE(Open(key.data(), aad, bad, &out)) << "byte " << i << " of " << n;
      EXPECT_TRUE(out.empty());
    }
    std::string bad_aad = aad;
    bad_aad[3] = char(bad_aad[3] ^ 1);
    EXPECT_FALSE(Open(key.data(), bad_aad, sealed, &out));
    EXPECT_FALSE(Open(key.data(), aad + "x", sealed, &out));
    EXPECT_FALSE(Open(other.data(), aad, sealed, &out));
    EXPECT_FALSE(Open(key.data(), aad, sealed.substr(0, sealed.size() - 1), &out));
    EXPECT_FALSE(Open(key.data(), aad, sealed.substr(0, kSealOverhead - 1), &out));
    ASSERT_TRUE(Open(key.data(), aad, sealed, &out));
    EXPECT_EQ(out, plain);
  }
}

TEST_F(SealTest, SealAppendsToWhatIsAlreadyInItsOutput) {
  SecretKey key = SecretKey::Random();
  std::string out = "prefix";
  Seal(key.data(), "aad", "a section", &out);
  ASSERT_EQ(out.substr(0, 6), "prefix");
  std::string opened;
  ASSERT_TRUE(Open(key.data(), "aad", std::string_view(out).substr(6), &opened));
  EXPECT_EQ(opened, "a section");
}

}  // namespace
}  // namespace hearth::crypto
