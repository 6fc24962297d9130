// RocksDB's status as the store's (one status type across api/): the
// engine's parts name what they were doing; the store adds what only it
// knows (which store is locked by another process).
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "hearth/status.h"

namespace hearth::log {

inline Status FromRocksStatus(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  std::string msg = what + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  return Status::IOError(msg);
}

}  // namespace hearth::log
