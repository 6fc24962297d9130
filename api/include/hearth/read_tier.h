// Reads that may not wait for the disk (docs/architecture.md, "Reads on the
// network threads").
#pragma once

namespace hearth {

// While an object of this class lives on a thread, that thread's reads of
// the log and its indexes (Store::ReadStream, ReadSubject, ReadAll,
// StreamVersion, the data keys they open, and GetProjectionValue(s)) take
// only what is in memory: RocksDB's memtables and block cache.
// A read that would have to wait for the disk stops, answers Status::Busy,
// and missed() turns true; nothing else is changed, so the caller can run
// the same read again outside the scope. A server uses it to answer cached
// reads on its network threads and to hand only the others to threads that
// may block.
//
// One scope a thread at a time (scopes do not nest). Appends and the other
// calls are not affected: call them outside a scope.
class CacheOnlyReads {
 public:
  CacheOnlyReads();
  ~CacheOnlyReads();
  CacheOnlyReads(const CacheOnlyReads&) = delete;
  CacheOnlyReads& operator=(const CacheOnlyReads&) = delete;

  // A read in this scope needed the disk (and answered Busy).
  bool missed() const;
};

}  // namespace hearth
