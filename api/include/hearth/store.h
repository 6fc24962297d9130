// hearth: an embedded, append-only, encrypted event store.
//
//   hearth::Options options;
//   options.create_if_missing = true;
//   options.key = hearth::KeySource::File("var/root.key");
//   auto store = hearth::Store::Open(options, "var/hearth");
//   if (!store.ok()) { ... store.status().ToString() ... }
//   (*store)->Append("case-17", hearth::ExpectedVersion::NoStream(), events);
//
// A Store is safe to use from many threads at once. One process at a time may
// open a store directory (the others get Status::Locked).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hearth/event.h"
#include "hearth/log_reader.h"
#include "hearth/options.h"
#include "hearth/projection.h"
#include "hearth/status.h"
#include "hearth/subscription.h"

namespace hearth {


// One entry of the access log: a read, export or disclosure of a person's
// personal data (UK GDPR accountability). Holds no personal data itself.
struct AccessRecord {
  Timestamp time = 0;         // set by the store when 0
  std::string subject;        // whose data
  std::string plugin;         // through which front end or tool
  std::string user;           // by whom (staff reference)
  std::string role;           // in which role
  std::string action;         // read | export | sar | disclosure
  std::string purpose;        // why (a code or short reason, no personal data)
  std::string recipient;      // for a disclosure: who outside the agency received it
  uint64_t first_position = 0;  // the events involved, when known
  uint64_t last_position = 0;
  uint32_t events = 0;
};

// The writer's figures for monitoring (docs/operations.md, "Metrics and
// logs"): the appends waiting for the group commit, and the sizes (appends
// per group) of the groups committed since the store was opened.
struct WriterStats {
  static constexpr std::array<uint64_t, 8> kGroupSizeBounds = {1, 2, 4, 8, 16, 32, 64, 128};
  uint64_t queue_depth = 0;                // waiting now (not counting the group being committed)
  std::array<uint64_t, 8> group_sizes{};   // groups of size <= kGroupSizeBounds[i] (cumulative)
  uint64_t groups = 0;                     // every group
  uint64_t grouped_appends = 0;            // the sum of their sizes
};

// Every power over one store: its reads (LogReader) and its writes.
class Store : public LogReader {
 public:
  // Opens (or with options.create_if_missing, creates) the store at `path`.
  // Returns: InvalidArgument (options), NotFound (no store and not creating,
  // or a directory that is not a hearth store), Locked (another process has
  // it), WrongKey, NotSupported (written by a newer format version),
  // Corruption, IOError.
  static Result<std::unique_ptr<Store>> Open(const Options& options, const std::string& path);

  // The format version this code writes (docs/format.md).
  static constexpr uint32_t kFormatVersion = 1;

  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Appends `events` to `stream` atomically: all or none. The events get
  // consecutive global positions and stream versions. A retry carrying the
  // same event ids (and the same content) returns the original positions with
  // duplicate = true. Returns when the events are durable (options.sync).
  // Returns: Conflict (wrong expected version: names stream, expected and
  // actual), InvalidArgument (empty batch, bad ids, a reused event id with
  // different content, personal section for a subject the event does not
  // name), TooLarge, Erased (personal data for an erased subject), IOError.
  virtual Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                                      const std::vector<NewEvent>& events) = 0;

  // Document `index` (0-based) of the event at `position` (NewEvent::documents),
  // opened under its subject's data key. The caller checks it against the
  // SHA-256 its event records. Returns: NotFound (no such document), Erased
  // (its subject was erased: the body is left only as ciphertext), Corruption
  // (the stored bytes fail authentication), NotSupported (a store without
  // document bodies, such as a replica).
  virtual Result<DocumentBody> ReadDocument(uint64_t position, uint32_t index);

  // Subjects whose personal sections carried this identifier (keyed-hash
  // lookup; the plaintext is never stored).
  virtual Result<std::vector<std::string>> FindSubjects(const Identifier& identifier) = 0;

  // Delivers every event from position `from` (>= 1), history then live.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from, EventHandler on_event,
                                                          EndHandler on_end) = 0;

  // --- projections (hearth/projection.h) ---

  // Deletes the projection's state and folds the whole log again; returns
  // when it has caught up with the log. NotFound for an unknown name.
  virtual Status RebuildProjection(const std::string& name) = 0;
  // Rebuilds several projections as RebuildProjection does each, in one pass
  // over the log: each event is read (and decrypted) once and folded into
  // each of them. NotFound, with nothing reset, when a name is unknown;
  // Corruption naming each one that stopped on an event (the others are
  // rebuilt). The state is the same as rebuilding them one by one.
  virtual Status RebuildProjections(const std::vector<std::string>& names) = 0;
  // Waits until the projection has folded `position` (0: the log's current
  // end). Busy after `timeout_ms`; the projection's error when it stopped.
  virtual Status WaitForProjection(const std::string& name, uint64_t position, int timeout_ms) = 0;

  // --- access log ---

  // Appends entries to the access log: written to the write-ahead log at
  // once (a process crash loses none) and synced with the next commit.
  virtual Status LogAccess(const std::vector<AccessRecord>& records) = 0;
  // Every entry about one subject, oldest first.
  virtual Result<std::vector<AccessRecord>> AccessLog(const std::string& subject) = 0;

  // --- operations (docs/operations.md) ---

  // Writes a consistent, openable copy of the store to `dir` (which must not
  // exist), while the store stays online: SST files are hard-linked when on
  // the same file system, the rest copied. The copy is as encrypted as the
  // store; it opens with the same root key. Returns the log position it holds.
  virtual Result<uint64_t> Backup(const std::string& dir) = 0;
  // The group commit's figures (WriterStats). Zeros for a store that has none.
  virtual WriterStats Writer() { return {}; }

  // --- erasure and keys (docs/keys.md) ---

  // Crypto-shreds a data subject: deletes its wrapped data key, forces the
  // key out of RocksDB's files (flush, compaction of its key range, WAL
  // rotation) and appends an erasure event (stream "$erasure", type
  // "SubjectErased") that holds no personal data. Returns the erasure event's
  // position. Returns NotFound for an unknown subject; for a subject already
  // erased, returns the earlier erasure's position with duplicate = true.
  virtual Result<AppendResult> EraseSubject(const std::string& subject, const Actor& actor,
                                            const std::string& reason_code) = 0;

  // Rewraps the store key and every data key under a new root key, in one
  // atomic batch. Afterwards only `new_key` opens the store.
  virtual Status RotateRootKey(const KeySource& new_key) = 0;

  // --- tamper evidence (docs/tamper-evidence.md) ---

  // Signs and stores a checkpoint of the current tree. Checkpoints are kept:
  // when the current size already has one, that one is returned unchanged.
  virtual Result<SignedCheckpoint> WriteCheckpoint() = 0;
  // The Ed25519 public key auditors verify checkpoints with.
  virtual Result<std::array<uint8_t, 32>> CheckpointPublicKey() = 0;
  // RFC 9162 consistency proof between trees of sizes `from` and `to`.
  virtual Result<std::vector<Hash>> ConsistencyProof(uint64_t from, uint64_t to) = 0;
  // The stored record bytes of `position` (the Merkle leaf), for auditors.
  virtual Result<std::string> RawRecord(uint64_t position) = 0;
  // The hash of RawRecord(position) as a Merkle leaf.
  Result<Hash> LeafHash(uint64_t position) override;
  // NotSupported here; the store implementation derives it.
  Result<std::string> RecipientKey(const std::string& recipient) override;
  // Folds `rights/restrictions` with the built-in domain codec (store/rights).
  Result<std::set<std::string>> RestrictedSubjects() override;

 protected:
  Store() = default;
};

}  // namespace hearth
