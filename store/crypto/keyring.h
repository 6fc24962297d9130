// The key hierarchy (docs/keys.md):
//   root key  (Argon2id(passphrase, salt) or BLAKE2b(key file, salt))
//     wraps → store key        (seals facts; derives the lookup and digest keys)
//     wraps → data key per subject (seals that subject's personal sections)
//     wraps → checkpoint signing key (Ed25519 secret key)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/secret.h"
#include "hearth/options.h"
#include "hearth/status.h"

namespace hearth::crypto {

// How the root key is derived; stored in the metadata under "kdf".
struct KdfParams {
  enum Kind : uint8_t { kPassphrase = 1, kKeyFile = 2 };
  uint8_t kind = kPassphrase;
  uint64_t opslimit = 0;
  uint64_t memlimit = 0;
  std::string salt;  // 16 bytes

  std::string Encode() const;
  static bool Decode(std::string_view bytes, KdfParams* out);
};

// Fresh parameters (random salt) for `source`.
Result<KdfParams> NewKdfParams(const KeySource& source);

// Derives the root key. InvalidArgument when the source does not match the
// kind in `params` or a key file is unreadable, malformed or too open.
Result<SecretKey> DeriveRootKey(const KeySource& source, const KdfParams& params);

// Wraps `len` secret bytes under `wrapping` (XChaCha20-Poly1305), binding
// `label` (e.g. "store", "subject:P-1") as associated data.
std::string Wrap(const SecretKey& wrapping, std::string_view label, const uint8_t* secret,
                 size_t len);
// False when the key or label is wrong or the bytes were altered.
bool Unwrap(const SecretKey& wrapping, std::string_view label, std::string_view wrapped,
            std::string* secret);

// Check value of a root key: keyed hash of a fixed label, for telling an old
// root key (before a rotation) from a wrong one.
std::string RootFingerprint(const SecretKey& root);

}  // namespace hearth::crypto
