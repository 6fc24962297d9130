// The access log (docs/format.md, "access"; docs/threat-model.md): who read
// or disclosed what of a data subject, kept beside the log in the `access`
// column family, sealed under the store key in an encrypted store. Written
// by the session layer and the rights workflow; read back for a subject's
// access pack. Entries are never rewritten; an erasure leaves them (they
// name the subject's id, not their data).
#pragma once

#include <rocksdb/db.h>

#include <atomic>
#include <string>
#include <vector>

#include "crypto/secret.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::log {

class AccessLog {
 public:
  // `seal_key`: the store key (entries sealed under it), nullptr for a
  // plain store. `sync`: each Append is synced before it returns.
  AccessLog(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const crypto::SecretKey* seal_key, bool sync)
      : db_(db), cf_(cf), seal_key_(seal_key), sync_(sync) {}

  // All the records in one write, or none: InvalidArgument (nothing
  // written) when one has no subject or no action. A record's time 0 is
  // now. Records of one microsecond keep the order they were written in.
  Status Append(const std::vector<AccessRecord>& records);
  // The subject's records, oldest first. Corruption when an entry fails
  // to open or decode.
  Result<std::vector<AccessRecord>> Read(const std::string& subject) const;

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  const crypto::SecretKey* seal_key_;
  bool sync_;
  std::atomic<uint64_t> seq_{0};  // orders entries of the same microsecond
};

}  // namespace hearth::log
