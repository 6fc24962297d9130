// Independent verification (docs/tamper-evidence.md): needs only the store's
// files and the checkpoint public key, never a decryption key.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hearth/status.h"
#include "hearth/store.h"

namespace rocksdb {
class Statistics;
}

namespace hearth::merkle {

// RFC 9162 section 2.1.3.2: does `proof` show leaf `leaf_index` with hash
// `leaf_hash` in the tree of `tree_size` leaves with root `root`?
bool VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                     const std::vector<Hash>& proof, const Hash& root);

// RFC 9162 section 2.1.4.2: is the tree (size2, root2) an append-only
// extension of (size1, root1)? The RFC's algorithm covers 0 < size1 < size2;
// besides it, size1 == size2 holds when the roots are equal and the proof is
// empty, and size1 == 0 when root1 is the empty tree's hash (SHA-256 of
// nothing) and the proof is empty.
bool VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                       const std::vector<Hash>& proof);

// The exact bytes a checkpoint signature covers:
// "hearth checkpoint v1\n" size(8 BE) root(32) time(8 BE, µs since the epoch).
std::string CheckpointMessage(const SignedCheckpoint& checkpoint);
bool VerifyCheckpointSignature(const SignedCheckpoint& checkpoint,
                               const std::array<uint8_t, 32>& public_key);

struct InclusionProofDoc;    // merkle/proof_json.h
struct ConsistencyProofDoc;  // merkle/proof_json.h

// Checks an exported inclusion proof offline (`hearth verify-proof`): the
// checkpoint's signature, that the checkpoint is for the proof's tree size,
// that the record (when the proof carries one) hashes to the leaf hash, and
// the path from the leaf to the checkpoint's root. On success `*what` (when
// given) says in words what was shown.
// Returns: InvalidArgument (the proof and checkpoint are for different tree
// sizes), Corruption (a bad signature, a record that does not match its leaf
// hash, a path that does not lead to the root; the message says which).
Status VerifyInclusionDoc(const InclusionProofDoc& proof, const SignedCheckpoint& checkpoint,
                          const std::array<uint8_t, 32>& public_key, std::string* what = nullptr);

// Checks an exported consistency proof offline between two signed
// checkpoints of sizes proof.from and proof.to. Same codes as above.
Status VerifyConsistencyDoc(const ConsistencyProofDoc& proof, const SignedCheckpoint& from,
                            const SignedCheckpoint& to, const std::array<uint8_t, 32>& public_key,
                            std::string* what = nullptr);

struct VerifyReport {
  bool ok = false;
  uint64_t leaves = 0;           // records hashed
  uint64_t checkpoints = 0;      // checkpoints whose signature and root were checked
  uint64_t held_extended = 0;    // checkpoints the auditor holds that the store extends
  // One line per thing checked, for people (empty when VerifyOptions::on_line
  // took them).
  std::vector<std::string> checked;
  // The first discrepancy, when !ok.
  std::string failure;           // what failed, in words
  uint64_t failure_position = 0; // the first position involved (0: none)
  Hash expected{};               // the hash a checkpoint or stored node says
  Hash found{};                  // the hash recomputed from the records
};

// A checkpoint the auditor holds, kept outside the operator's reach.
struct HeldCheckpoint {
  std::string source;  // where it came from, for the report (e.g. its file name)
  SignedCheckpoint checkpoint;
};

struct VerifyOptions {
  // Checkpoints the auditor holds: each must be signed with the public key,
  // and the store's log must extend it (its first `size` records must hash
  // to its root), or the verification fails.
  std::vector<HeldCheckpoint> held;
  // When set, each report line is handed here as it is found instead of
  // being kept in VerifyReport::checked, so that memory does not grow with
  // the number of checkpoints.
  std::function<void(const std::string&)> on_line;
  // When set, called after each chunk of records hashed (a few MiB), with the
  // records hashed so far and the number the store's head says it holds (0
  // when the head cannot be read): for a progress line.
  std::function<void(uint64_t hashed, uint64_t total)> on_progress;
  // When set, RocksDB counts its work here (files opened, block cache hits):
  // for the tests that hold the verification's cost to one open a table
  // file and one read a block of Merkle nodes.
  std::shared_ptr<rocksdb::Statistics> statistics;
};

// Opens the RocksDB files under `dir` read-only, recomputes the Merkle tree
// from every stored record, checks each checkpoint's signature with
// `public_key` and its root against the recomputed tree, and that each
// checkpoint is consistent with the next; then that the store extends every
// held checkpoint. A store that holds no signed checkpoint fails. Needs no
// root key or data key. Memory stays flat whatever the store's size: one
// pass over the log keeps the Merkle frontier (O(log n) hashes), the stored
// checkpoints are read one at a time, and the held ones are kept.
// Returns a non-OK Status only when the files cannot be opened at all; every
// discrepancy is reported in the VerifyReport.
Result<VerifyReport> VerifyStoreFiles(const std::string& dir,
                                      const std::array<uint8_t, 32>& public_key,
                                      const VerifyOptions& options = {});

}  // namespace hearth::merkle
