// A deliberately plain implementation of RFC 9162 section 2.1 (MTH, PATH,
// PROOF and SUBPROOF), written from the RFC's text to check the store's
// incremental tree, its proofs and the verifier against. It shares no code
// with store/merkle: its own SHA-256 calls, its own split rule, its own
// recursion. MTH results are memoised by range only to keep the exhaustive
// tests fast; the memo does not change what is computed.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "hearth/store.h"

namespace hearth::reference {

inline Hash Sha256(const std::string& bytes) {
  Hash h{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), h.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != h.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return h;
}

inline std::string Bytes(const Hash& h) { return std::string(h.begin(), h.end()); }

// "let k be the largest power of two smaller than n" (n > 1).
inline uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

inline Hash LeafHash(const std::string& d) { return Sha256(std::string(1, '\0') + d); }
inline Hash NodeHash(const Hash& l, const Hash& r) {
  return Sha256(std::string(1, '\1') + Bytes(l) + Bytes(r));
}

class Tree {
 public:
  explicit Tree(std::vector<std::string> inputs) : d_(std::move(inputs)) {}

  uint64_t size() const { return d_.size(); }

  // MTH(D[lo : lo + n]).
  Hash Mth(uint64_t lo, uint64_t n) {
    if (n == 0) return Sha256("");
    if (n == 1) return LeafHash(d_.at(lo));
    auto key = std::make_pair(lo, n);
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    uint64_t k = SplitPoint(n);
    Hash h = NodeHash(Mth(lo, k), Mth(lo + k, n - k));
    memo_.emplace(key, h);
    return h;
  }
  Hash Root(uint64_t n) { return Mth(0, n); }

  // PATH(m, D[n]) over D[lo : lo + n].
  std::vector<Hash> Path(uint64_t m, uint64_t lo, uint64_t n) {
    if (n == 1) return {};
    uint64_t k = SplitPoint(n);
    std::vector<Hash> p;
    if (m < k) {
      p = Path(m, lo, k);
      p.push_back(Mth(lo + k, n - k));
    } else {
      p = Path(m - k, lo + k, n - k);
      p.push_back(Mth(lo, k));
    }
    return p;
  }
  std::vector<Hash> Path(uint64_t m, uint64_t n) { return Path(m, 0, n); }

  // PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n.
  std::vector<Hash> Proof(uint64_t m, uint64_t n) { return SubProof(m, 0, n, true); }

  std::vector<Hash> SubProof(uint64_t m, uint64_t lo, uint64_t n, bool b) {
    if (m == n) {
      if (b) return {};
      return {Mth(lo, n)};
    }
    uint64_t k = SplitPoint(n);
    std::vector<Hash> p;
    if (m <= k) {
      p = SubProof(m, lo, k, b);
      p.push_back(Mth(lo + k, n - k));
    } else {
      p = SubProof(m - k, lo + k, n - k, false);
      p.push_back(Mth(lo, k));
    }
    return p;
  }

 private:
  std::vector<std::string> d_;
  std::map<std::pair<uint64_t, uint64_t>, Hash> memo_;
};

inline Hash FromHex(const std::string& hex) {
  Hash h{};
  if (hex.size() != 64) throw std::invalid_argument("not 64 hex digits: " + hex);
  for (size_t i = 0; i < 32; ++i) h[i] = uint8_t(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return h;
}

inline std::string HexBytes(const std::string& hex) {
  std::string s;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) s.push_back(char(std::stoul(hex.substr(i, 2), nullptr, 16)));
  return s;
}

}  // namespace hearth::reference
