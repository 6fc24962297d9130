#include "merkle/hash.h"

#include <new>

namespace hearth::merkle {

Hasher::Hasher() : ctx_(EVP_MD_CTX_new()), md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
  if (ctx_ == nullptr || md_ == nullptr) throw std::bad_alloc();
}

Hasher::~Hasher() {
  EVP_MD_free(md_);
  EVP_MD_CTX_free(ctx_);
}

Hash Hasher::Leaf(std::string_view bytes) {
  static const unsigned char kPrefix = 0x00;
  Hash h;
  EVP_DigestInit_ex2(ctx_, md_, nullptr);
  EVP_DigestUpdate(ctx_, &kPrefix, 1);
  EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx_, h.data(), nullptr);
  return h;
}

Hash Hasher::Node(const Hash& left, const Hash& right) {
  unsigned char buf[65];
  buf[0] = 0x01;
  std::copy(left.begin(), left.end(), buf + 1);
  std::copy(right.begin(), right.end(), buf + 33);
  Hash h;
  EVP_DigestInit_ex2(ctx_, md_, nullptr);
  EVP_DigestUpdate(ctx_, buf, sizeof buf);
  EVP_DigestFinal_ex(ctx_, h.data(), nullptr);
  return h;
}

Hash Hasher::Empty() {
  Hash h;
  EVP_DigestInit_ex2(ctx_, md_, nullptr);
  EVP_DigestFinal_ex(ctx_, h.data(), nullptr);
  return h;
}

}  // namespace hearth::merkle
