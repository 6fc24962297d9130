// The store engine: RocksDB column families, group commit, keys, Merkle tree.
// Private to store/; the public surface is api/include/hearth/store.h.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "log/erasure_ledger.h"
#include "log/access_log.h"
#include "log/commit_queue.h"
#include "log/format.h"
#include "log/keyring.h"
#include "log/projection_runner.h"
#include "log/rocks_status.h"
#include "log/tree_store.h"
#include "hearth/store.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "log/replica_types.h"

namespace hearth::log {

class StoreImpl final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const Options& options, const std::string& path);
  // Test seam, deliberately not in api/ (the public API hides RocksDB): opens
  // the store with RocksDB doing all its file I/O through `env`, so a test
  // can inject faults such as a power cut (tests/crash/fault_fs.h). nullptr
  // means RocksDB's default Env, exactly as Open. `env` must outlive the store.
  static Result<std::unique_ptr<Store>> OpenWithEnv(const Options& options, const std::string& path,
                                                    rocksdb::Env* env);
  ~StoreImpl() override;

  Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                              const std::vector<NewEvent>& events) override;
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream, uint64_t from,
                                                Direction direction, size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadSubject(const std::string& subject, uint64_t from,
                                                 size_t max_count) override;
  Result<uint64_t> StreamVersion(const std::string& stream) override;
  Result<std::vector<std::string>> FindSubjects(const Identifier& identifier) override;
  Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from, EventHandler on_event,
                                                  EndHandler on_end) override;
  Result<StoreInfo> Info() override;
  Result<AppendResult> EraseSubject(const std::string& subject, const Actor& actor,
                                    const std::string& reason_code) override;
  Status RotateRootKey(const KeySource& new_key) override;
  Result<std::vector<ProjectionStatus>> Projections() override;
  Status RebuildProjection(const std::string& name) override;
  Status RebuildProjections(const std::vector<std::string>& names) override;
  Status WaitForProjection(const std::string& name, uint64_t position, int timeout_ms) override;
  Status GetProjectionValue(const std::string& name, std::string_view key,
                            std::string* value) override;
  Status GetProjectionValues(const std::string& name, const std::vector<std::string>& keys,
                             std::vector<std::optional<std::string>>* values) override;
  Status ScanProjection(
      const std::string& name, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) override;
  Status ScanProjectionFrom(const std::string& name, std::string_view prefix, std::string_view from,
                            const std::function<bool(std::string_view key, std::string_view value)>& fn) override;
  Status LogAccess(const std::vector<AccessRecord>& records) override;
  Result<std::vector<AccessRecord>> AccessLog(const std::string& subject) override;
  Result<uint64_t> Backup(const std::string& dir) override;
  WriterStats Writer() override;
  Result<TreeHead> CurrentTree() override;
  Result<SignedCheckpoint> WriteCheckpoint() override;
  Result<std::vector<SignedCheckpoint>> Checkpoints() override;
  Result<std::array<uint8_t, 32>> CheckpointPublicKey() override;
  Result<std::vector<Hash>> InclusionProof(uint64_t position, uint64_t tree_size) override;
  Result<std::vector<Hash>> ConsistencyProof(uint64_t from, uint64_t to) override;
  Result<std::string> RawRecord(uint64_t position) override;
  Result<DocumentBody> ReadDocument(uint64_t position, uint32_t index) override;

  // A keyed hash of the recipient's name under a sub-key of the store key.
  Result<std::string> RecipientKey(const std::string& recipient) override {
    return ExportRecipientKey(recipient);
  }
  std::string ExportRecipientKey(std::string_view recipient) const;
  // Facts only: no personal section is opened.
  Result<std::vector<RecordedEvent>> ReadAllFacts(uint64_t from, size_t max_count) override {
    return ReadFacts(from, max_count);
  }

  // For subscriptions: blocks until the log passes `position` or `deadline_ms`.
  uint64_t WaitPast(uint64_t position, int timeout_ms);
  uint64_t committed() const { return committed_.load(std::memory_order_acquire); }
  bool closing() const { return closing_.load(); }

  // Replication (store/log/replication_access.cc, docs/operations.md).
  // Publisher side: committed records from `from`, whole appends only, until
  // about `max_bytes` (at least one append); wrapped keys and identity.
  Status ReadReplicated(uint64_t from, size_t max_bytes, std::vector<ReplicatedRecord>* out);
  // The subjects an event at `bytes` names (the facts section, opened).
  Status RecordSubjects(const ReplicatedRecord& record, std::vector<std::string>* subjects);
  Result<std::string> WrappedSubjectKey(const std::string& subject);  // NotFound: none or erased
  Result<ReplicaIdentity> Identity();
  Result<std::vector<SignedCheckpoint>> CheckpointsAfter(uint64_t size);
  // Replica side. ImportIdentity: only into a new, empty store; it must be
  // reopened afterwards. ImportSubjectKey: a wrapped key (ignored for an
  // erased subject). ImportRecords: records that continue the log exactly,
  // whole appends, with the checkpoints among them, and metadata to keep
  // ("replica-*" keys) in the same batch; erasure events erase here too.
  // With `replica_of` (a stream's name), the store becomes a read-only
  // replica: Append, EraseSubject, RotateRootKey and WriteCheckpoint refuse.
  Status ImportIdentity(const ReplicaIdentity& identity, const std::string& replica_of);
  Status ImportSubjectKey(const std::string& subject, const std::string& wrapped);
  Status ImportRecords(const std::vector<ReplicatedRecord>& records,
                       const std::vector<SignedCheckpoint>& checkpoints,
                       const std::vector<std::pair<std::string, std::string>>& meta);
  // The committed Merkle frontier, and a metadata value (NotFound).
  merkle::Frontier CommittedFrontier();
  Result<std::string> MetaValue(const std::string& key);

  // Test only: when set, called after an erasure or a root-key rotation is
  // committed and before the flush and compaction that take the old key
  // bytes out of the files (the crash tests kill the process here).
  static inline void (*after_key_commit_for_test)() = nullptr;

  // Appends are refused while the store's file system has less than this
  // free (docs/operations.md, "Disk full and I/O errors").
  static constexpr uint64_t kMinFreeBytes = 64ull << 20;

 private:
  struct Request;
  StoreImpl(const Options& options, std::string path);

  Status OpenDb(bool create);
  rocksdb::Env* env_ = nullptr;  // OpenWithEnv's; nullptr: RocksDB's default
  Status InitNewStore();
  Status LoadHead();
  Status CheckTail();
  // The erasure ledger beside the store (erasure_ledger.cc): opened (made
  // when missing) on open; Sync appends every erasure it does not name yet,
  // so an erasure whose ledger write was cut short is written by the next
  // erasure or open.
  Status OpenErasureLedger();
  Status SyncErasureLedger();

  Status ValidateAppend(const std::string& stream, ExpectedVersion expected,
                        const std::vector<NewEvent>& events, bool system) const;
  // The commit function of commits_: every entry of `group` is a Request.
  void ProcessGroup(std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>* requeue);
  // Returns false when the request does not fit into this group any more.
  bool CheckAppend(Request* req);
  Status ApplyAppend(Request* req, rocksdb::WriteBatch* batch);
  // Refusals (NotFound, an earlier erasure) are the request's; a returned
  // failure left the batch half-written and fails the group.
  Status ApplyErase(Request* req, rocksdb::WriteBatch* batch);
  Result<uint64_t> CurrentVersion(const std::string& stream);
  // req->digests: each event's EventDigest, personal sections through macs
  // under their subjects' data keys (created in `batch` when create_keys).
  Status DigestEvents(Request* req, bool create_keys, rocksdb::WriteBatch* batch);
  Status WriteCheckpointLocked(rocksdb::WriteBatch* batch, const merkle::Frontier& frontier,
                               SignedCheckpoint* out);

  // Projections (log/projection_runner.h): the runner reads the committed
  // log through this adapter.
  class RunnerLog final : public CommittedLog {
   public:
    explicit RunnerLog(StoreImpl* store) : store_(store) {}
    uint64_t Committed() override { return store_->committed(); }
    Status ReadFactsInto(uint64_t from, size_t max_count, std::vector<RecordedEvent>* out,
                         std::unique_ptr<rocksdb::Iterator>* cursor) override {
      return store_->ReadFactsInto(from, max_count, out, cursor);
    }
    void WaitPast(uint64_t position, int timeout_ms) override { store_->WaitPast(position, timeout_ms); }
    bool Closing() override { return store_->closing(); }

   private:
    StoreImpl* store_;
  };
  Status StartProjections();
  void StopProjections();
  Result<std::vector<RecordedEvent>> ReadFacts(uint64_t from, size_t max_count);
  // The same into `out`, whose events' strings and vectors are reused. With
  // `cursor`, its iterator is kept from call to call (a fold of many pages
  // reads the log once, in order, without re-reading what it read ahead).
  Status ReadFactsInto(uint64_t from, size_t max_count, std::vector<RecordedEvent>* out,
                       std::unique_ptr<rocksdb::Iterator>* cursor = nullptr);

  Status ReadPositions(const std::vector<uint64_t>& positions, std::vector<RecordedEvent>* out);
  Status DecodeAt(uint64_t position, std::string_view bytes, RecordedEvent* out);

  // Leaves `it` (over `streams`) on the stream's last index entry and
  // returns the stream's last version; NotFound when it has no events.
  Result<uint64_t> SeekStreamEnd(rocksdb::Iterator* it, const std::string& stream) const;

  Status FromRocks(const rocksdb::Status& s, const std::string& what) const;

  Options options_;  // its key is dropped once the store is open
  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned by db_, destroyed in ~StoreImpl
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* subjects_ = nullptr;
  rocksdb::ColumnFamilyHandle* eventids_ = nullptr;
  rocksdb::ColumnFamilyHandle* merkle_ = nullptr;
  rocksdb::ColumnFamilyHandle* projections_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* access_ = nullptr;
  rocksdb::ColumnFamilyHandle* documents_ = nullptr;
  // The parts that own column families: the tree's nodes and proofs, the
  // keyring (keys and lookup) and the access log (made once the families are
  // open; the access log once the keys are loaded).
  std::unique_ptr<TreeStore> tree_;
  std::unique_ptr<Keyring> keyring_;
  std::unique_ptr<log::AccessLog> access_log_;

  // Group commit: writers queue requests; one of them at a time leads and
  // calls ProcessGroup (log/commit_queue.h).
  CommitQueue commits_;

  // Leader-only state (touched only by the thread that leads).
  Head head_;
  // When the newest checkpoint was signed (0: the store has none), for
  // Options::checkpoint_period_ms.
  Timestamp last_checkpoint_time_ = 0;
  merkle::Hasher leader_hasher_;
  std::unordered_map<std::string, uint64_t> stream_versions_;
  struct PendingId {
    uint64_t position;
    std::string stream;
    uint64_t version;
    std::string digest;
    uint32_t index = 0;  // place in its batch
    uint32_t count = 0;  // events in its batch; 0 when not recorded
  };
  std::unordered_map<std::string, PendingId> group_ids_;
  Status poisoned_;  // set when a commit failed: the store must be reopened
  // IOError naming the free space when it is under kMinFreeBytes.
  Status CheckFreeSpace() const;
  std::string replica_of_;  // meta "replica-of": a follower's replica takes no writes
  Status LoadReplicaMarker();
  Status ReplicaRefusal() const;

  // Committed state, for readers.
  std::atomic<uint64_t> committed_{0};
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  TreeHead committed_tree_;  // guarded by commit_mu_
  std::atomic<bool> closing_{false};

  std::mutex erase_mu_;  // one physical erasure (compaction) at a time
  std::unique_ptr<ErasureLedger> ledger_;  // guarded by erase_mu_ after open

  // Projections: made on open (after the keys, before the first read).
  RunnerLog runner_log_{this};
  std::unique_ptr<ProjectionRunner> projections_;
  std::vector<RecordedEvent> group_events_;  // leader-only: this group's events, facts only
  // Leader-only: the group's write batch, cleared and reused so that its
  // buffer is not reallocated (and page-faulted in) for every group.
  rocksdb::WriteBatch group_batch_;
};

}  // namespace hearth::log
