#include "merkle/frontier.h"

#include <bit>

namespace hearth::merkle {

void Frontier::Append(Hasher& hasher, const Hash& leaf,
                      const std::function<void(const Node&)>& on_complete) {
  Node node{0, size_, leaf};
  // Merge equal-level neighbours, as binary addition carries.
  while (!nodes_.empty() && nodes_.back().level == node.level) {
    Node left = nodes_.back();
    nodes_.pop_back();
    node = Node{uint8_t(node.level + 1), left.index / 2, hasher.Node(left.hash, node.hash)};
    if (node.level >= kStoredLevel && on_complete) on_complete(node);
  }
  nodes_.push_back(node);
  ++size_;
}

Hash Frontier::Root(Hasher& hasher) const {
  if (nodes_.empty()) return hasher.Empty();
  // The smaller right subtrees fold into the larger left ones.
  Hash acc = nodes_.back().hash;
  for (size_t i = nodes_.size() - 1; i > 0; --i) acc = hasher.Node(nodes_[i - 1].hash, acc);
  return acc;
}

std::string Frontier::Encode() const {
  std::string s;
  for (int i = 7; i >= 0; --i) s.push_back(char((size_ >> (8 * i)) & 0xff));
  for (const Node& n : nodes_) s.append(reinterpret_cast<const char*>(n.hash.data()), n.hash.size());
  return s;
}

bool Frontier::Decode(std::string_view b, Frontier* out) {
  if (b.size() < 8) return false;
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size = (size << 8) | uint8_t(b[i]);
  size_t count = size_t(std::popcount(size));
  if (b.size() != 8 + 32 * count) return false;
  out->size_ = size;
  out->nodes_.clear();
  const char* p = b.data() + 8;
  uint64_t start = 0;
  for (int bit = 63; bit >= 0; --bit) {
    if (((size >> bit) & 1) == 0) continue;
    Node n;
    n.level = uint8_t(bit);
    n.index = start >> bit;
    std::copy(p, p + 32, reinterpret_cast<char*>(n.hash.data()));
    p += 32;
    start += uint64_t(1) << bit;
    out->nodes_.push_back(n);
  }
  return true;
}

}  // namespace hearth::merkle
