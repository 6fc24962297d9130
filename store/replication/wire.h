// The messages of a replication stream (docs/operations.md, "Replication"),
// all integers big-endian:
//   NAME.meta       "hearth-replica v1" format(4) then, each len(4) bytes:
//                   kdf, root fingerprint, checkpoint public key, wrapped
//                   store key, wrapped checkpoint key
//   NAME.log        first(8) count(4) { index(4) of(4) len(4) record }:
//                   whole appends, records exactly as stored
//   NAME.cp         size(8) root(32) time(8) signature(64)
//   NAME.key.HEX    len(4) subject, then the data key wrapped under the
//                   root key (HEX: the subject id in hex)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/store.h"
#include "log/format.h"
#include "log/replica_types.h"

namespace hearth::replication::wire {

std::string EncodeIdentity(const log::ReplicaIdentity& id);
bool DecodeIdentity(std::string_view b, log::ReplicaIdentity* id);

std::string EncodeLog(const std::vector<log::ReplicatedRecord>& records);
bool DecodeLog(std::string_view b, std::vector<log::ReplicatedRecord>* records);

// A checkpoint travels in the store's own encoding (log/format.h).
using log::DecodeCheckpoint;
using log::EncodeCheckpoint;

std::string EncodeKey(const std::string& subject, const std::string& wrapped);
bool DecodeKey(std::string_view b, std::string* subject, std::string* wrapped);

std::string HexSubject(const std::string& subject);

}  // namespace hearth::replication::wire
