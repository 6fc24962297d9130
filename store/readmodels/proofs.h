// Private to store/readmodels: inclusion proofs for many events of one case.
#pragma once

#include <cstdint>
#include <vector>

#include "hearth/store.h"

namespace hearth::readmodels {

// Leaf hashes and RFC 9162 inclusion proofs of `positions` (ascending) in the
// tree of `tree_size` leaves. Equal to Store::InclusionProof for each, but a
// case's events mostly share 256-leaf blocks (the tree's lowest stored
// level, merkle/frontier.h): per complete block the store is asked for one
// proof, whose upper part (the siblings above the block) every leaf of the
// block shares, and the lower eight hashes are computed from the block's 256
// leaves, read once. Leaves in the last, incomplete block get the store's
// own proof. Errors: the store's (InvalidArgument beyond the tree, Corruption).
Status ProofsFor(LogReader& store, const std::vector<uint64_t>& positions, uint64_t tree_size,
                 std::vector<Hash>* leaf_hashes, std::vector<std::vector<Hash>>* proofs);

}  // namespace hearth::readmodels
