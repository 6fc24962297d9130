// Known answers: the Certificate Transparency test leaves, their RFC 6962
// roots and proofs (as published with the CT reference implementations and
// transparency-dev/merkle), and the verifier against the RFC reference for
// every tree size and index.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "audit/verifier.h"
#include "rfc9162_reference.h"

namespace hearth {
namespace {

using reference::FromHex;
using reference::HexBytes;

// The eight leaf inputs of the CT reference tests (hex).
const char* const kLeafHex[] = {"",         "00",       "10",
                                "2021",     "3031",     "40414243",
                                "5051525354555657", "606162636465666768696a6b6c6d6e6f"};

// MTH of the first n of them, for n = 0..8.
const char* const kRootHex[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct InclusionVector {
  uint64_t leaf_index;
  uint64_t tree_size;
  std::vector<const char*> path;
};

// Published inclusion proofs over the same leaves.
const InclusionVector kInclusion[] = {
    {0, 8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {0, 1, {}},
};

struct ConsistencyVector {
  uint64_t size1;
  uint64_t size2;
  std::vector<const char*> path;
};

// Published consistency proofs over the same leaves.
const ConsistencyVector kConsistency[] = {
    {1, 8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6, 8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6, 7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

std::vector<std::string> CtLeaves() {
  std::vector<std::string> v;
  for (const char* h : kLeafHex) v.push_back(HexBytes(h));
  return v;
}

std::vector<Hash> ToHashes(const std::vector<const char*>& hex) {
  std::vector<Hash> v;
  for (const char* h : hex) v.push_back(FromHex(h));
  return v;
}

// Synthetic leaves of varied lengths, for the exhaustive checks.
std::vector<std::string> SyntheticLeaves(size_t n) {
  std::vector<std::string> v;
  for (size_t i = 0; i < n; ++i) v.push_back("leaf " + std::to_string(i) + std::string(i % 7, 'x'));
  return v;
}

Hash Flip(Hash h, size_t byte = 0, uint8_t mask = 0x08) {
  h[byte] ^= mask;
  return h;
}

// The ways a valid inclusion proof can be spoiled (after the probes that
// transparency-dev/merkle runs against its verifier); none may verify.
void ExpectInclusionProbesFail(uint64_t index, uint64_t size, const Hash& leaf,
                               const std::vector<Hash>& proof, const Hash& root) {
  using merkle::VerifyInclusion;
  SCOPED_TRACE("index " + std::to_string(index) + " size " + std::to_string(size));
  if (index > 0) {
    EXPECT_FALSE(VerifyInclusion(index - 1, size, leaf, proof, root));
  }
  EXPECT_FALSE(VerifyInclusion(index + 1, size, leaf, proof, root));
  if ((index ^ 2) != index) {
    EXPECT_FALSE(VerifyInclusion(index ^ 2, size, leaf, proof, root));
  }
  EXPECT_FALSE(VerifyInclusion(index, size * 2, leaf, proof, root));
  if (size / 2 != size) {
    EXPECT_FALSE(VerifyInclusion(index, size / 2, leaf, proof, root));
  }
  EXPECT_FALSE(VerifyInclusion(index, size, Flip(leaf), proof, root));
  EXPECT_FALSE(VerifyInclusion(index, size, leaf, proof, Flip(root, 31, 1)));
  auto longer = proof;
  longer.push_back(root);
  EXPECT_FALSE(VerifyInclusion(index, size, leaf, longer, root));
  auto prefixed = proof;
  prefixed.insert(prefixed.begin(), root);
  EXPECT_FALSE(VerifyInclusion(index, size, leaf, prefixed, root));
  for (size_t i = 0; i < proof.size(); ++i) {
    auto bad = proof;
    bad[i] = Flip(bad[i]);
    EXPECT_FALSE(VerifyInclusion(index, size, leaf, bad, root)) << "flipped element " << i;
  }
  if (!proof.empty()) {
    auto shorter = proof;
    shorter.pop_back();
    EXPECT_FALSE(VerifyInclusion(index, size, leaf, shorter, root));
  }
}

void ExpectConsistencyProbesFail(uint64_t size1, uint64_t size2, const Hash& root1,
                                 const Hash& root2, const std::vector<Hash>& proof) {
  using merkle::VerifyConsistency;
  SCOPED_TRACE("sizes " + std::to_string(size1) + " -> " + std::to_string(size2));
  EXPECT_FALSE(VerifyConsistency(size1 - 1, size2, root1, root2, proof));
  EXPECT_FALSE(VerifyConsistency(size1 + 1, size2, root1, root2, proof));
  if ((size1 ^ 2) != size1) {
    EXPECT_FALSE(VerifyConsistency(size1 ^ 2, size2, root1, root2, proof));
  }
  EXPECT_FALSE(VerifyConsistency(size1, size2 * 2, root1, root2, proof));
  if (size2 / 2 != size2) {
    EXPECT_FALSE(VerifyConsistency(size1, size2 / 2, root1, root2, proof));
  }
  EXPECT_FALSE(VerifyConsistency(size1, size2, Flip(root1), root2, proof));
  EXPECT_FALSE(VerifyConsistency(size1, size2, root1, Flip(root2), proof));
  EXPECT_FALSE(VerifyConsistency(size1, size2, root2, root1, proof));
  EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, {}));
  for (const Hash& extra : {root1, root2}) {
    auto longer = proof;
    longer.push_back(extra);
    EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, longer));
    auto prefixed = proof;
    prefixed.insert(prefixed.begin(), extra);
    EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, prefixed));
  }
  auto repeated = proof;
  repeated.insert(repeated.begin(), proof.front());
  EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, repeated));
  auto shorter = proof;
  shorter.pop_back();
  EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, shorter));
  for (size_t i = 0; i < proof.size(); ++i) {
    auto bad = proof;
    bad[i] = Flip(bad[i], 0, 0x10);
    EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, bad)) << "flipped element " << i;
  }
}

TEST(MerkleKnownAnswers, ReferenceGivesThePublishedRoots) {
  reference::Tree tree(CtLeaves());
  for (uint64_t n = 0; n <= 8; ++n) EXPECT_EQ(tree.Root(n), FromHex(kRootHex[n])) << "size " << n;
}

TEST(MerkleKnownAnswers, ReferenceGivesThePublishedProofs) {
  reference::Tree tree(CtLeaves());
  for (const auto& v : kInclusion) {
    EXPECT_EQ(tree.Path(v.leaf_index, v.tree_size), ToHashes(v.path))
        << "PATH(" << v.leaf_index << ", D[" << v.tree_size << "])";
  }
  for (const auto& v : kConsistency) {
    EXPECT_EQ(tree.Proof(v.size1, v.size2), ToHashes(v.path))
        << "PROOF(" << v.size1 << ", D[" << v.size2 << "])";
  }
}

TEST(MerkleKnownAnswers, HasherAndFrontierGiveThePublishedRoots) {
  merkle::Hasher hasher;
  EXPECT_EQ(hasher.Empty(), FromHex(kRootHex[0]));
  merkle::Frontier frontier;
  EXPECT_EQ(frontier.Root(hasher), FromHex(kRootHex[0]));
  auto leaves = CtLeaves();
  for (size_t i = 0; i < leaves.size(); ++i) {
    frontier.Append(hasher, hasher.Leaf(leaves[i]), nullptr);
    EXPECT_EQ(frontier.size(), i + 1);
    EXPECT_EQ(frontier.Root(hasher), FromHex(kRootHex[i + 1])) << "size " << i + 1;
  }
  // The frontier survives its own encoding.
  merkle::Frontier copy;
  ASSERT_TRUE(merkle::Frontier::Decode(frontier.Encode(), &copy));
  EXPECT_EQ(copy.Root(hasher), FromHex(kRootHex[8]));
}

TEST(MerkleKnownAnswers, PublishedInclusionProofsVerifyAndSpoiltOnesDoNot) {
  merkle::Hasher hasher;
  auto leaves = CtLeaves();
  for (const auto& v : kInclusion) {
    Hash leaf = hasher.Leaf(leaves[v.leaf_index]);
    Hash root = FromHex(kRootHex[v.tree_size]);
    auto proof = ToHashes(v.path);
    EXPECT_TRUE(merkle::VerifyInclusion(v.leaf_index, v.tree_size, leaf, proof, root))
        << "index " << v.leaf_index << " size " << v.tree_size;
    ExpectInclusionProbesFail(v.leaf_index, v.tree_size, leaf, proof, root);
  }
  // Nothing is in an empty tree; an index must be inside the tree.
  Hash some = FromHex(kRootHex[1]);
  EXPECT_FALSE(merkle::VerifyInclusion(0, 0, some, {}, FromHex(kRootHex[0])));
  EXPECT_FALSE(merkle::VerifyInclusion(1, 1, some, {}, some));
  EXPECT_FALSE(merkle::VerifyInclusion(2, 1, some, {}, some));
}

TEST(MerkleKnownAnswers, PublishedConsistencyProofsVerifyAndForgedOnesDoNot) {
  for (const auto& v : kConsistency) {
    Hash root1 = FromHex(kRootHex[v.size1]), root2 = FromHex(kRootHex[v.size2]);
    auto proof = ToHashes(v.path);
    EXPECT_TRUE(merkle::VerifyConsistency(v.size1, v.size2, root1, root2, proof))
        << v.size1 << " -> " << v.size2;
    ExpectConsistencyProbesFail(v.size1, v.size2, root1, root2, proof);
  }
}

TEST(MerkleKnownAnswers, ConsistencyEdgeCases) {
  Hash empty = FromHex(kRootHex[0]);
  Hash r1 = FromHex(kRootHex[1]), r2 = FromHex(kRootHex[2]);
  // Equal sizes: equal roots and an empty proof.
  EXPECT_TRUE(merkle::VerifyConsistency(1, 1, r1, r1, {}));
  EXPECT_FALSE(merkle::VerifyConsistency(1, 1, r1, r2, {}));
  EXPECT_FALSE(merkle::VerifyConsistency(1, 1, r1, r1, {empty}));
  EXPECT_TRUE(merkle::VerifyConsistency(0, 0, empty, empty, {}));
  // The empty tree is a prefix of every tree; its root must be the empty hash.
  EXPECT_TRUE(merkle::VerifyConsistency(0, 2, empty, r2, {}));
  EXPECT_FALSE(merkle::VerifyConsistency(0, 2, r1, r2, {}));
  EXPECT_FALSE(merkle::VerifyConsistency(0, 2, empty, r2, {empty}));
  // Time does not run backwards; a growing tree needs a proof.
  EXPECT_FALSE(merkle::VerifyConsistency(2, 1, r2, r1, {}));
  EXPECT_FALSE(merkle::VerifyConsistency(1, 2, r1, r2, {}));
}

// Every size up to 300 and every index: the reference's proofs verify, and
// for the smaller trees every spoilt variant is refused.
TEST(MerkleKnownAnswers, VerifierAgreesWithReferenceForEverySizeAndIndex) {
  constexpr uint64_t kMax = 300, kProbeMax = 40;
  reference::Tree tree(SyntheticLeaves(kMax));
  merkle::Hasher hasher;
  std::vector<Hash> leaf_hashes;
  for (const auto& d : SyntheticLeaves(kMax)) leaf_hashes.push_back(hasher.Leaf(d));
  for (uint64_t n = 1; n <= kMax; ++n) {
    Hash root = tree.Root(n);
    for (uint64_t m = 0; m < n; ++m) {
      auto path = tree.Path(m, n);
      ASSERT_TRUE(merkle::VerifyInclusion(m, n, leaf_hashes[m], path, root))
          << "index " << m << " size " << n;
      if (n <= kProbeMax) ExpectInclusionProbesFail(m, n, leaf_hashes[m], path, root);
    }
    for (uint64_t m = 1; m < n; ++m) {
      auto proof = tree.Proof(m, n);
      ASSERT_TRUE(merkle::VerifyConsistency(m, n, tree.Root(m), root, proof))
          << m << " -> " << n;
      if (n <= kProbeMax) ExpectConsistencyProbesFail(m, n, tree.Root(m), root, proof);
    }
  }
}

// A forked log: the same first m records, then a different one. Neither
// log's consistency proof joins the other's head to the common prefix.
TEST(MerkleKnownAnswers, ForgedConsistencyProofsFromAForkAreRefused) {
  auto honest_leaves = SyntheticLeaves(40);
  for (uint64_t m = 1; m < 39; m += 3) {
    auto forked_leaves = honest_leaves;
    forked_leaves[m] = "rewritten";
    reference::Tree honest(honest_leaves), forked(forked_leaves);
    for (uint64_t n : {m + 1, m + 2, uint64_t(40)}) {
      ASSERT_EQ(honest.Root(m), forked.Root(m));
      ASSERT_NE(honest.Root(n), forked.Root(n));
      EXPECT_TRUE(merkle::VerifyConsistency(m, n, honest.Root(m), honest.Root(n), honest.Proof(m, n)));
      EXPECT_FALSE(merkle::VerifyConsistency(m, n, honest.Root(m), honest.Root(n), forked.Proof(m, n)))
          << m << " -> " << n;
      EXPECT_FALSE(merkle::VerifyConsistency(m, n, honest.Root(m), forked.Root(n), honest.Proof(m, n)))
          << m << " -> " << n;
    }
  }
}

TEST(MerkleKnownAnswers, FrontierRootsEqualReferenceForEverySize) {
  constexpr uint64_t kMax = 1100;  // complete subtrees up to level 10
  reference::Tree tree(SyntheticLeaves(kMax));
  merkle::Hasher hasher;
  merkle::Frontier frontier;
  uint64_t completed = 0;
  auto leaves = SyntheticLeaves(kMax);
  for (uint64_t n = 1; n <= kMax; ++n) {
    frontier.Append(hasher, hasher.Leaf(leaves[n - 1]), [&](const merkle::Node& node) {
      ++completed;
      // Every stored subtree is the reference MTH of its leaves.
      uint64_t width = uint64_t(1) << node.level;
      EXPECT_EQ(node.hash, tree.Mth(node.index * width, width))
          << "level " << int(node.level) << " index " << node.index;
      EXPECT_GE(node.level, merkle::kStoredLevel);
    });
    ASSERT_EQ(frontier.Root(hasher), tree.Root(n)) << "size " << n;
  }
  // 4 subtrees of 256, 2 of 512, 1 of 1024.
  EXPECT_EQ(completed, 7u);
}

}  // namespace
}  // namespace hearth
