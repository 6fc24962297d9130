// RocksDB's status as the store's (one status type across api/): the
// engine's parts name what they were doing; the store adds what only it
// knows (which store is locked by another process).
#pragma once

#include <rocksdb/options.h>
#include <rocksdb/status.h>

#include <string>

#include "hearth/status.h"

namespace hearth::log {

// Inside a CacheOnlyReads scope (hearth/read_tier.h) on this thread.
bool CacheOnlyReadsActive();
// A read in that scope found what it needs only on disk.
void NoteCacheOnlyMiss();

// The options of the log's reads: in a CacheOnlyReads scope, only what the
// memtables and the block cache hold (a miss is Status::Incomplete).
inline rocksdb::ReadOptions LogReadOptions() {
  rocksdb::ReadOptions ro;
  if (CacheOnlyReadsActive()) ro.read_tier = rocksdb::kBlockCacheTier;
  return ro;
}

// True when RocksDB could not take the store's LOCK file: another process
// (or another handle in this one) has the store open. RocksDB's POSIX file
// system says "While lock file: <dir>/LOCK: Resource temporarily
// unavailable", or "lock hold by current process ... <dir>/LOCK" for a
// second handle in the same process. Matched on those phrases and the LOCK
// file's name, never on "lock" alone: a path such as /srv/blocklists/store,
// or any other I/O error that happens to contain the letters, is an I/O
// error, not a lock.
inline bool IsLockFileError(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string text = s.ToString();
  const bool names_lock_file = text.find("/LOCK") != std::string::npos;
  return names_lock_file && (text.find("While lock file") != std::string::npos ||
                             text.find("lock hold by current process") != std::string::npos);
}

inline Status FromRocksStatus(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::OK();
  if (s.IsIncomplete() && CacheOnlyReadsActive()) {
    NoteCacheOnlyMiss();
    return Status::Busy(what + ": not in memory, and this read may not wait for the disk");
  }
  std::string msg = what + ": " + s.ToString();
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotFound()) return Status::NotFound(msg);
  return Status::IOError(msg);
}

}  // namespace hearth::log
