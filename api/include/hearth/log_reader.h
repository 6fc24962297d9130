// hearth: what can be read from a store, and nothing else.
//
// A LogReader is the read half of a Store: events, the projections' state,
// the Merkle tree's head, checkpoints and proofs. A Store is one (with every
// power, for the operator's tools and the store's own workflows); a
// ScopedReader (hearth/scoped_reader.h) is one principal's view of a store,
// and it is what read models are given: the library functions behind them
// (timelines, worklists, returns, extracts) take a LogReader, so a model can
// reach events only through its caller's scopes.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hearth/event.h"
#include "hearth/projection.h"
#include "hearth/status.h"

namespace hearth {

using Hash = std::array<uint8_t, 32>;

// The Merkle tree over the log (RFC 6962 / RFC 9162 section 2.1): leaf i is
// the stored record of position i + 1, exactly as written to disk.
struct TreeHead {
  uint64_t size = 0;
  Hash root{};
};

// A tree head signed with the store's Ed25519 checkpoint key.
struct SignedCheckpoint {
  uint64_t size = 0;
  Hash root{};
  Timestamp time = 0;
  std::array<uint8_t, 64> signature{};
};

struct StoreInfo {
  std::string path;
  uint32_t format_version = 0;
  bool encrypted = true;
  uint64_t last_position = 0;  // number of events in the log
  uint64_t streams = 0;
  uint64_t subjects = 0;       // data subjects with a data key (live or erased)
  uint64_t erased_subjects = 0;
  uint64_t disk_bytes = 0;     // live SST files plus WAL
  // The log's records in its table files, from the tables' properties
  // (records still only in the memtable are not counted): how many, and
  // their bytes as stored, position keys included. disk_bytes per event
  // over the bytes of a record is what the store keeps beside each record
  // (indexes, tree, keys, projections; docs/format.md).
  uint64_t table_records = 0;
  uint64_t table_record_bytes = 0;
  // Each column family's table files: name and bytes.
  std::vector<std::pair<std::string, uint64_t>> column_family_bytes;
  TreeHead tree;
  // Every projection with a checkpoint in the store, whether or not this
  // process registered it: the position it has folded (its lag is
  // last_position - position), and whether it stopped. For one this process
  // did not register, `mode` is not known and reads kAsync.
  std::vector<ProjectionStatus> projections;
};

enum class Direction : uint8_t { kForward, kBackward };

class LogReader {
 public:
  virtual ~LogReader() = default;

  // Up to `max_count` events of one stream, from stream version `from`
  // (inclusive; with kBackward, 0 means "from the last"). Returns NotFound
  // for a stream that has no events, Corruption naming the position of a
  // record that fails its checks.
  virtual Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream, uint64_t from,
                                                        Direction direction,
                                                        size_t max_count) = 0;

  // Up to `max_count` events of the whole log from global position `from`
  // (inclusive, >= 1). Empty at the end of the log.
  virtual Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count) = 0;

  // As ReadAll, with every event's personal sections left out (and never
  // opened): the counting passes of the monitoring returns, which must not
  // touch personal data. The default strips what ReadAll returns.
  virtual Result<std::vector<RecordedEvent>> ReadAllFacts(uint64_t from, size_t max_count);

  // Up to `max_count` events that name `subject` (any role), from global
  // position `from`. Returns NotFound for a subject no event names.
  virtual Result<std::vector<RecordedEvent>> ReadSubject(const std::string& subject,
                                                         uint64_t from, size_t max_count) = 0;

  // The last stream version, or NotFound.
  virtual Result<uint64_t> StreamVersion(const std::string& stream) = 0;

  virtual Result<StoreInfo> Info() = 0;

  // Whether events read here carry the personal sections they hold (a
  // scoped reader without read_personal leaves them out).
  virtual bool ShowsPersonal() const { return true; }

  // --- projections (hearth/projection.h) ---
  virtual Result<std::vector<ProjectionStatus>> Projections() = 0;
  // Reads the projection's state. NotFound when absent.
  virtual Status GetProjectionValue(const std::string& name, std::string_view key,
                                    std::string* value) = 0;
  // Reads several keys at once: (*values)[i] holds keys[i]'s value, or is
  // empty (std::nullopt) when the key is absent. Keys given in ascending
  // order are read fastest (a store batches the lookups that share a
  // block). The default reads each through GetProjectionValue, so a reader
  // that checks each key (hearth/scoped_reader.h) checks these too.
  virtual Status GetProjectionValues(const std::string& name, const std::vector<std::string>& keys,
                                     std::vector<std::optional<std::string>>* values);
  // Calls `fn` for every key with `prefix`, in key order, until it returns false.
  virtual Status ScanProjection(
      const std::string& name, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) = 0;

  // The same from the first key with `prefix` at or after `from` (which
  // starts with `prefix`). The default scans the prefix and skips the keys
  // before `from`, so a reader that checks each key checks these too.
  virtual Status ScanProjectionFrom(const std::string& name, std::string_view prefix, std::string_view from,
                                    const std::function<bool(std::string_view key, std::string_view value)>& fn);

  // --- tamper evidence (docs/tamper-evidence.md) ---
  virtual Result<TreeHead> CurrentTree() = 0;
  virtual Result<std::vector<SignedCheckpoint>> Checkpoints() = 0;
  // RFC 9162 inclusion proof of leaf `position - 1` in the tree of size
  // `tree_size` (0: the current size). InvalidArgument beyond the tree.
  virtual Result<std::vector<Hash>> InclusionProof(uint64_t position, uint64_t tree_size) = 0;
  // The Merkle leaf hash of `position` (SHA-256 of 0x00 and the stored
  // record): what an auditor's proof starts from. It tells nothing of the
  // record beyond what a published tree head does.
  virtual Result<Hash> LeafHash(uint64_t position) = 0;

  // --- rights (docs/rights.md) ---
  // The people whose processing is restricted now (UK GDPR Art. 18): the
  // one view of `rights/restrictions` (rights::ActiveRestrictions). Worklists
  // and extracts leave their cases out.
  virtual Result<std::set<std::string>> RestrictedSubjects() = 0;

  // --- pseudonymous exports (store/exports) ---
  // The 32-byte key of one recipient of pseudonymous references: a keyed hash
  // of the recipient's name under a sub-key of the store key, so that two
  // recipients' references cannot be joined. NotSupported for a store that
  // cannot derive one.
  virtual Result<std::string> RecipientKey(const std::string& recipient) = 0;

 protected:
  LogReader() = default;
  LogReader(const LogReader&) = default;
  LogReader& operator=(const LogReader&) = default;
};

}  // namespace hearth
