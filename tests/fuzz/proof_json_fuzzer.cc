// libFuzzer target: the JSON forms of checkpoints and proofs
// (store/merkle/proof_json.h) that `hearth verify-proof` and
// `hearth verify --checkpoint` read from an auditor's or a stranger's files.
// Malformed JSON, wrong types, bad hex, huge numbers and long paths must be
// refused with a Status; anything accepted must write back to JSON that
// reads again to the same value (no silent truncation or wrap-around).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "merkle/proof_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;

  if (auto cp = hearth::merkle::CheckpointFromJson(j); cp.ok()) {
    auto again = hearth::merkle::CheckpointFromJson(hearth::merkle::CheckpointToJson(*cp));
    if (!again.ok() || again->size != cp->size || again->root != cp->root || again->time != cp->time ||
        again->signature != cp->signature) {
      std::abort();
    }
  }
  if (auto inc = hearth::merkle::InclusionFromJson(j); inc.ok()) {
    auto again = hearth::merkle::InclusionFromJson(hearth::merkle::InclusionToJson(*inc));
    if (!again.ok() || again->position != inc->position || again->tree_size != inc->tree_size ||
        again->leaf_hash != inc->leaf_hash || again->record != inc->record ||
        again->path != inc->path) {
      std::abort();
    }
  }
  if (auto con = hearth::merkle::ConsistencyFromJson(j); con.ok()) {
    auto again = hearth::merkle::ConsistencyFromJson(hearth::merkle::ConsistencyToJson(*con));
    if (!again.ok() || again->from != con->from || again->to != con->to ||
        again->path != con->path) {
      std::abort();
    }
  }
  return 0;
}
