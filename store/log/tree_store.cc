// The stored Merkle tree and its proofs (log/tree_store.h).
#include "log/tree_store.h"

#include <algorithm>
#include <bit>
#include <memory>
#include <string>

#include "log/format.h"
#include "log/rocks_status.h"

namespace hearth::log {

void TreeStore::Append(merkle::Hasher& hasher, std::string_view record, merkle::Frontier* frontier,
                       rocksdb::WriteBatch* batch) const {
  frontier->Append(hasher, hasher.Leaf(record), [&](const merkle::Node& n) {
    batch->Put(merkle_, MerkleKey(n.level, n.index),
               rocksdb::Slice(reinterpret_cast<const char*>(n.hash.data()), n.hash.size()));
  });
}

Result<Hash> TreeStore::StoredNode(uint8_t level, uint64_t index) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), merkle_, MerkleKey(level, index), &v);
  std::string where = "Merkle node level " + std::to_string(level) + " index " + std::to_string(index);
  if (s.IsNotFound()) return Status::NotFound(where + " is not stored");
  if (!s.ok()) return FromRocksStatus(s, "reading " + where);
  if (v.size() != 32) return Status::Corruption(where + " is damaged");
  Hash h;
  std::copy(v.begin(), v.end(), reinterpret_cast<char*>(h.data()));
  return h;
}

Result<Hash> TreeStore::SubtreeHash(uint8_t level, uint64_t index, ProofContext& ctx) const {
  if (level >= merkle::kStoredLevel) {
    auto h = StoredNode(level, index);
    if (!h.ok() && h.status().IsNotFound()) {
      return Status::Corruption("Merkle node level " + std::to_string(level) + " index " + std::to_string(index) +
                                " is missing or damaged");
    }
    return h;
  }
  // Below the stored level: hash the leaves of the 256-leaf block that holds
  // the subtree, once per proof (every sibling below the stored level of an
  // inclusion proof lies in the leaf's own block).
  constexpr uint64_t kBlock = uint64_t(1) << merkle::kStoredLevel;
  uint64_t first = index << level, count = uint64_t(1) << level;
  uint64_t block = first / kBlock;
  if (ctx.block != block) {
    ctx.block = ~uint64_t(0);
    ctx.leaves.clear();
    uint64_t begin = block * kBlock, end = std::min(begin + kBlock, ctx.tree_size);
    rocksdb::ReadOptions ro;
    std::string upper = LogKey(end + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
    for (it->Seek(LogKey(begin + 1)); it->Valid(); it->Next()) {
      ctx.leaves.push_back(ctx.hasher.Leaf(it->value().ToStringView()));
    }
    if (!it->status().ok()) return FromRocksStatus(it->status(), "reading leaves for a proof");
    if (ctx.leaves.size() != end - begin) {
      return Status::Corruption("leaves " + std::to_string(begin + 1) + ".." + std::to_string(end) +
                                " are not all in the log");
    }
    ctx.block = block;
  }
  uint64_t offset = first - block * kBlock;
  if (offset + count > ctx.leaves.size()) {
    return Status::Corruption("leaves " + std::to_string(first + 1) + ".." + std::to_string(first + count) +
                              " are not all in the log");
  }
  std::vector<Hash> level_hashes(ctx.leaves.begin() + long(offset), ctx.leaves.begin() + long(offset + count));
  while (level_hashes.size() > 1) {
    for (size_t i = 0; i < level_hashes.size() / 2; ++i) {
      level_hashes[i] = ctx.hasher.Node(level_hashes[2 * i], level_hashes[2 * i + 1]);
    }
    level_hashes.resize(level_hashes.size() / 2);
  }
  return level_hashes[0];
}

// MTH(D[lo : lo + n]); lo is always a multiple of the largest power of two
// below n in the RFC's recursion, so complete parts are stored subtrees.
Result<Hash> TreeStore::RangeHash(uint64_t lo, uint64_t n, ProofContext& ctx) const {
  if (std::has_single_bit(n) && lo % n == 0) {
    return SubtreeHash(uint8_t(std::countr_zero(n)), lo / n, ctx);
  }
  uint64_t k = std::bit_floor(n - 1);
  auto left = RangeHash(lo, k, ctx);
  if (!left.ok()) return left;
  auto right = RangeHash(lo + k, n - k, ctx);
  if (!right.ok()) return right;
  return ctx.hasher.Node(*left, *right);
}

// RFC 9162 2.1.3.1 PATH(m, D[lo : lo + n]).
Status TreeStore::PathProof(uint64_t m, uint64_t lo, uint64_t n, ProofContext& ctx, std::vector<Hash>* out) const {
  if (n <= 1) return Status::OK();
  uint64_t k = std::bit_floor(n - 1);
  Status st;
  Result<Hash> sibling = Status::OK();
  if (m < k) {
    st = PathProof(m, lo, k, ctx, out);
    sibling = RangeHash(lo + k, n - k, ctx);
  } else {
    st = PathProof(m - k, lo + k, n - k, ctx, out);
    sibling = RangeHash(lo, k, ctx);
  }
  if (!st.ok()) return st;
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::OK();
}

// RFC 9162 2.1.4.1 SUBPROOF(m, D[lo : lo + n], b).
Status TreeStore::SubProof(uint64_t m, uint64_t lo, uint64_t n, bool b, ProofContext& ctx,
                           std::vector<Hash>* out) const {
  if (m == n) {
    if (b) return Status::OK();
    auto h = RangeHash(lo, n, ctx);
    if (!h.ok()) return h.status();
    out->push_back(*h);
    return Status::OK();
  }
  uint64_t k = std::bit_floor(n - 1);
  Status st;
  Result<Hash> sibling = Status::OK();
  if (m <= k) {
    st = SubProof(m, lo, k, b, ctx, out);
    sibling = RangeHash(lo + k, n - k, ctx);
  } else {
    st = SubProof(m - k, lo + k, n - k, false, ctx, out);
    sibling = RangeHash(lo, k, ctx);
  }
  if (!st.ok()) return st;
  if (!sibling.ok()) return sibling.status();
  out->push_back(*sibling);
  return Status::OK();
}

Result<std::vector<Hash>> TreeStore::InclusionProof(uint64_t position, uint64_t tree_size) const {
  if (position == 0 || position > tree_size) {
    return Status::InvalidArgument("position " + std::to_string(position) + " is not in a tree of size " +
                                   std::to_string(tree_size));
  }
  ProofContext ctx;
  ctx.tree_size = tree_size;
  std::vector<Hash> proof;
  Status st = PathProof(position - 1, 0, tree_size, ctx, &proof);
  if (!st.ok()) return st;
  return proof;
}

Result<std::vector<Hash>> TreeStore::ConsistencyProof(uint64_t from, uint64_t to) const {
  if (from > to) return Status::InvalidArgument("a consistency proof goes from a smaller tree to a larger one");
  std::vector<Hash> proof;
  if (from == 0 || from == to) return proof;
  ProofContext ctx;
  ctx.tree_size = to;
  Status st = SubProof(from, 0, to, true, ctx, &proof);
  if (!st.ok()) return st;
  return proof;
}

}  // namespace hearth::log
