// RFC 6962 / RFC 9162 hashing: SHA-256 (OpenSSL), leaf = H(0x00 || bytes),
// node = H(0x01 || left || right).
#pragma once

#include <openssl/evp.h>

#include <string_view>

#include "hearth/store.h"  // Hash

namespace hearth::merkle {

// A reusable SHA-256 context. Not thread-safe; one per thread.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  Hash Leaf(std::string_view bytes);
  Hash Node(const Hash& left, const Hash& right);
  Hash Empty();  // SHA-256 of the empty string: the root of a tree of size 0

 private:
  EVP_MD_CTX* ctx_;
  EVP_MD* md_;
};

}  // namespace hearth::merkle
