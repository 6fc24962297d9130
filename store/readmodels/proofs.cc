#include "readmodels/proofs.h"

#include <map>

#include "merkle/hash.h"

namespace hearth::readmodels {

namespace {

constexpr uint64_t kBlockLevel = 8;
constexpr uint64_t kBlock = uint64_t(1) << kBlockLevel;

// The levels of one complete block's subtree: levels[0] the 256 leaf hashes,
// levels[8] its root.
struct Block {
  std::vector<std::vector<Hash>> levels;
  std::vector<Hash> upper;  // the proof's part above the block (shared)
};

Status LoadBlock(LogReader& store, merkle::Hasher& hasher, uint64_t block, uint64_t some_position,
                 uint64_t tree_size, Block* out) {
  std::vector<Hash> leaves;
  leaves.reserve(kBlock);
  for (uint64_t i = 0; i < kBlock; ++i) {
    auto leaf = store.LeafHash(block * kBlock + i + 1);
    if (!leaf.ok()) return leaf.status();
    leaves.push_back(*leaf);
  }
  out->levels.clear();
  out->levels.push_back(std::move(leaves));
  while (out->levels.back().size() > 1) {
    const auto& below = out->levels.back();
    std::vector<Hash> up(below.size() / 2);
    for (size_t i = 0; i < up.size(); ++i) up[i] = hasher.Node(below[2 * i], below[2 * i + 1]);
    out->levels.push_back(std::move(up));
  }
  auto proof = store.InclusionProof(some_position, tree_size);
  if (!proof.ok()) return proof.status();
  if (proof->size() < kBlockLevel) {
    return Status::Corruption("inclusion proof of position " + std::to_string(some_position) +
                              " is shorter than its block");
  }
  // The store's proof lists the siblings from the leaf up: the first eight lie
  // inside the block. Check them against the block's own hashes.
  uint64_t index = (some_position - 1) % kBlock;
  for (uint64_t l = 0; l < kBlockLevel; ++l) {
    if ((*proof)[l] != out->levels[l][(index >> l) ^ 1]) {
      return Status::Corruption("the inclusion proof of position " + std::to_string(some_position) +
                                " disagrees with the records of its block at level " + std::to_string(l));
    }
  }
  out->upper.assign(proof->begin() + kBlockLevel, proof->end());
  return Status::OK();
}

}  // namespace

Status ProofsFor(LogReader& store, const std::vector<uint64_t>& positions, uint64_t tree_size,
                 std::vector<Hash>* leaf_hashes, std::vector<std::vector<Hash>>* proofs) {
  merkle::Hasher hasher;
  leaf_hashes->assign(positions.size(), Hash{});
  proofs->assign(positions.size(), {});
  std::map<uint64_t, Block> blocks;
  for (size_t i = 0; i < positions.size(); ++i) {
    uint64_t p = positions[i];
    if (p == 0 || p > tree_size) {
      return Status::InvalidArgument("position " + std::to_string(p) + " is not in a tree of size " +
                                     std::to_string(tree_size));
    }
    uint64_t block = (p - 1) / kBlock;
    bool complete = (block + 1) * kBlock <= tree_size;
    // A block pays off from its second event on; a lone event gets the
    // store's proof.
    bool shared = complete && (blocks.count(block) != 0 ||
                               (i + 1 < positions.size() && (positions[i + 1] - 1) / kBlock == block));
    if (!shared) {
      auto leaf = store.LeafHash(p);
      if (!leaf.ok()) return leaf.status();
      (*leaf_hashes)[i] = *leaf;
      auto proof = store.InclusionProof(p, tree_size);
      if (!proof.ok()) return proof.status();
      (*proofs)[i] = std::move(*proof);
      continue;
    }
    auto it = blocks.find(block);
    if (it == blocks.end()) {
      Block b;
      Status s = LoadBlock(store, hasher, block, p, tree_size, &b);
      if (!s.ok()) return s;
      it = blocks.emplace(block, std::move(b)).first;
    }
    const Block& b = it->second;
    uint64_t index = (p - 1) % kBlock;
    (*leaf_hashes)[i] = b.levels[0][index];
    std::vector<Hash>& proof = (*proofs)[i];
    proof.reserve(kBlockLevel + b.upper.size());
    for (uint64_t l = 0; l < kBlockLevel; ++l) proof.push_back(b.levels[l][(index >> l) ^ 1]);
    proof.insert(proof.end(), b.upper.begin(), b.upper.end());
  }
  return Status::OK();
}

}  // namespace hearth::readmodels
