// The log's Merkle tree as stored (docs/format.md, "merkle"): every complete
// subtree of 256 leaves and more in the `merkle` column family, the leaves
// below that hashed again from the `log` column family's records when a
// proof needs them. Writes the nodes an append completes; answers RFC 9162
// inclusion and consistency proofs from them. Owns no lock: the store's
// commit order decides what is written, and proofs read only committed
// positions (the caller bounds the tree size by what is committed).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "hearth/status.h"
#include "hearth/store.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"

namespace hearth::log {

class TreeStore {
 public:
  TreeStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log, rocksdb::ColumnFamilyHandle* merkle)
      : db_(db), log_(log), merkle_(merkle) {}

  // Adds the record stored at the frontier's next position to `frontier`,
  // putting every stored-level node it completes into `batch`.
  void Append(merkle::Hasher& hasher, std::string_view record, merkle::Frontier* frontier,
              rocksdb::WriteBatch* batch) const;
  // A stored node (level >= merkle::kStoredLevel): NotFound when absent,
  // Corruption when it is not 32 bytes.
  Result<Hash> StoredNode(uint8_t level, uint64_t index) const;

  // RFC 9162 2.1.3 PATH for the leaf at `position` (1-based) in the tree of
  // the first `tree_size` records, and 2.1.4 PROOF from the tree of `from`
  // records to the one of `to`. The sizes are checked against nothing but
  // each other: the caller passes sizes no larger than what is committed.
  // InvalidArgument for a position outside the tree or from > to;
  // Corruption when a node or record the proof needs is missing.
  Result<std::vector<Hash>> InclusionProof(uint64_t position, uint64_t tree_size) const;
  Result<std::vector<Hash>> ConsistencyProof(uint64_t from, uint64_t to) const;

 private:
  // One proof's working state: its tree size, a hasher and the leaf hashes
  // of the last 256-leaf block read.
  struct ProofContext {
    uint64_t tree_size = 0;
    merkle::Hasher hasher;
    uint64_t block = ~uint64_t(0);
    std::vector<Hash> leaves;
  };
  Result<Hash> SubtreeHash(uint8_t level, uint64_t index, ProofContext& ctx) const;
  Result<Hash> RangeHash(uint64_t lo, uint64_t n, ProofContext& ctx) const;
  Status PathProof(uint64_t m, uint64_t lo, uint64_t n, ProofContext& ctx, std::vector<Hash>* out) const;
  Status SubProof(uint64_t m, uint64_t lo, uint64_t n, bool b, ProofContext& ctx, std::vector<Hash>* out) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* log_;
  rocksdb::ColumnFamilyHandle* merkle_;
};

}  // namespace hearth::log
