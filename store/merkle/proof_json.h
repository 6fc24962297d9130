// JSON forms of checkpoints and proofs, as `hearth prove` writes them and
// `hearth verify-proof` reads them (docs/tamper-evidence.md). Hashes and
// signatures are lowercase hex; times are RFC 3339 UTC with microseconds.
//
// checkpoint:  {"size": N, "root": "<64 hex>", "time": "2026-11-23T10:00:00.000000Z",
//               "signature": "<128 hex>"}
// inclusion:   {"type": "inclusion", "position": P, "leafIndex": P-1, "treeSize": N,
//               "leafHash": "<64 hex>", "record": "<base64 of the stored record>",
//               "path": ["<64 hex>", ...]}
// consistency: {"type": "consistency", "from": N1, "to": N2, "path": ["<64 hex>", ...]}
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::merkle {

std::string ToHex(const uint8_t* bytes, size_t len);
bool FromHex(const std::string& hex, uint8_t* out, size_t len);

nlohmann::json CheckpointToJson(const SignedCheckpoint& cp);
Result<SignedCheckpoint> CheckpointFromJson(const nlohmann::json& j);

struct InclusionProofDoc {
  uint64_t position = 0;   // 1-based log position; leaf index = position - 1
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  std::string record;      // the stored record bytes (may be empty: then leaf_hash is trusted)
  std::vector<Hash> path;
};
nlohmann::json InclusionToJson(const InclusionProofDoc& proof);
Result<InclusionProofDoc> InclusionFromJson(const nlohmann::json& j);

struct ConsistencyProofDoc {
  uint64_t from = 0;
  uint64_t to = 0;
  std::vector<Hash> path;
};
nlohmann::json ConsistencyToJson(const ConsistencyProofDoc& proof);
Result<ConsistencyProofDoc> ConsistencyFromJson(const nlohmann::json& j);

}  // namespace hearth::merkle
