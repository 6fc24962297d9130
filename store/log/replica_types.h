// What the store hands to replication, and takes back from it
// (docs/operations.md, "Replication"): stored records exactly as written
// (already sealed and hashed), the wrapped keys, and the store's identity.
// Nothing here is plaintext personal data or an unwrapped key.
#pragma once

#include <cstdint>
#include <string>

namespace hearth::log {

// One stored record with its place in the append that wrote it (the event
// id index's "index of count"): enough to rebuild every index of the log.
struct ReplicatedRecord {
  uint64_t position = 0;
  std::string bytes;   // the stored record, the Merkle leaf
  uint32_t index = 0;  // place in its append
  uint32_t count = 0;  // events in its append
};

// What makes a store itself: the key derivation parameters, the root key's
// fingerprint, the checkpoint public key and the store and checkpoint keys
// wrapped under the root key.
struct ReplicaIdentity {
  uint32_t format = 0;
  std::string kdf;                  // crypto::KdfParams encoding
  std::string root_fingerprint;
  std::string checkpoint_public_key;  // 32 bytes
  std::string wrapped_store_key;
  std::string wrapped_signing_key;
};

}  // namespace hearth::log
