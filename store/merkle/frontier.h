// The right frontier of an append-only RFC 6962 tree: the roots of the
// complete subtrees whose sizes are the set bits of the tree size, largest
// first. Appending a leaf costs O(log n) node hashes amortised O(1).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "merkle/hash.h"

namespace hearth::merkle {

// A complete subtree: leaves [index << level, (index + 1) << level).
struct Node {
  uint8_t level = 0;
  uint64_t index = 0;
  Hash hash{};
};

// Complete subtrees at this level and above are stored (column family
// `merkle`) so proofs need not rehash the whole log: 256 leaves each.
constexpr uint8_t kStoredLevel = 8;

class Frontier {
 public:
  uint64_t size() const { return size_; }

  // Adds one leaf hash. Calls `on_complete` for every complete subtree of
  // level >= kStoredLevel that this leaf closes.
  void Append(Hasher& hasher, const Hash& leaf, const std::function<void(const Node&)>& on_complete);

  // The tree head (RFC 9162 MTH over all leaves so far).
  Hash Root(Hasher& hasher) const;

  // Encoding: size u64 BE, then one 32-byte hash per set bit of size,
  // from the highest bit to the lowest.
  std::string Encode() const;
  static bool Decode(std::string_view bytes, Frontier* out);

 private:
  uint64_t size_ = 0;
  // nodes_[i] is a complete subtree; levels strictly decreasing.
  std::vector<Node> nodes_;
};

}  // namespace hearth::merkle
