// Cache-only reads (hearth/read_tier.h): a flag per thread that the log's
// read paths turn into RocksDB's kBlockCacheTier, and the miss it reports.
#include "hearth/read_tier.h"

#include "log/rocks_status.h"

namespace hearth {

namespace {

struct Tier {
  bool cache_only = false;
  bool missed = false;
};

Tier& ThisThread() {
  thread_local Tier tier;
  return tier;
}

}  // namespace

CacheOnlyReads::CacheOnlyReads() {
  ThisThread().cache_only = true;
  ThisThread().missed = false;
}

CacheOnlyReads::~CacheOnlyReads() {
  ThisThread().cache_only = false;
  ThisThread().missed = false;
}

bool CacheOnlyReads::missed() const { return ThisThread().missed; }

namespace log {

bool CacheOnlyReadsActive() { return ThisThread().cache_only; }

void NoteCacheOnlyMiss() { ThisThread().missed = true; }

}  // namespace log

}  // namespace hearth
