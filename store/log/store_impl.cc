#include "log/store_impl.h"

#include <sys/statvfs.h>

#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/metadata.h>
#include <rocksdb/table.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "log/format.h"
#include "log/record.h"

namespace hearth {

Result<std::unique_ptr<Store>> Store::Open(const Options& options, const std::string& path) {
  return log::StoreImpl::Open(options, path);
}

namespace log {

namespace fs = std::filesystem;

namespace {

// A stream index entry (format.h): stream 0x00 first_version(8) ->
// first_position(8) count(4). False when `it`'s entry is not that shape.
struct StreamEntry {
  uint64_t first_version = 0;
  uint64_t first_position = 0;
  uint32_t count = 0;
};
bool DecodeStreamEntry(const rocksdb::Iterator& it, size_t prefix_size, StreamEntry* out) {
  if (it.value().size() != 12 || it.key().size() != prefix_size + 8) return false;
  out->first_version = GetBE64(it.key().data() + prefix_size);
  out->first_position = GetBE64(it.value().data());
  out->count = GetBE32(it.value().data() + 8);
  return true;
}

constexpr size_t kMaxDocumentsPerEvent = 8;
constexpr size_t kMaxIdBytes = 200;
constexpr size_t kMaxSubjectIdBytes = 64;
constexpr size_t kMaxSubjectsPerEvent = 32;
constexpr size_t kMaxTypeBytes = 128;
constexpr size_t kStreamVersionCacheCapacity = 65536;

Timestamp NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool ValidIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+' || c == '$';
}

bool ValidId(std::string_view id, size_t max) {
  if (id.empty() || id.size() > max) return false;
  return std::all_of(id.begin(), id.end(), ValidIdChar);
}

}  // namespace

// ------------------------------------------------------------- Request ----

struct StoreImpl::Request : CommitQueue::Entry {
  // An append...
  const std::string* stream = nullptr;
  ExpectedVersion expected;
  const std::vector<NewEvent>* events = nullptr;
  std::vector<std::string> digests;
  bool system = false;  // appended by the store itself (erasure events)
  // ...or an erasure.
  bool erase = false;
  std::string subject;
  Actor actor;
  std::string reason;
  NewEvent erasure_event;
  std::vector<NewEvent> erasure_events;
  // Outcome.
  bool checked = false;  // CheckAppend passed; ApplyAppend will run
  bool duplicate = false;
  AppendResult result;  // done and status: CommitQueue::Entry
};

// ---------------------------------------------------------------- Open ----

StoreImpl::StoreImpl(const Options& options, std::string path)
    : options_(options),
      path_(std::move(path)),
      commits_([this](std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>* requeue) {
        ProcessGroup(group, requeue);
      }) {}

StoreImpl::~StoreImpl() {
  closing_ = true;
  commit_cv_.notify_all();
  StopProjections();
  if (db_) {
    // Flush on close, so the next open (and an auditor's verifier) does not
    // replay the write-ahead log into memtables. Skipped after a failed
    // commit: nothing more is written then.
    if (poisoned_.ok()) {
      rocksdb::FlushOptions fo;
      fo.wait = true;
      db_->Flush(fo, handles_).PermitUncheckedError();
    }
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    db_->Close();
  }
}

Status StoreImpl::FromRocks(const rocksdb::Status& s, const std::string& what) const {
  if (s.ok()) return Status::OK();
  if (IsLockFileError(s)) {
    return Status::Locked("store " + path_ +
                          " is locked: another process has it open (" + s.ToString() + ")");
  }
  return FromRocksStatus(s, what);
}

Result<std::unique_ptr<Store>> StoreImpl::Open(const Options& options, const std::string& path) {
  return OpenWithEnv(options, path, nullptr);
}

Result<std::unique_ptr<Store>> StoreImpl::OpenWithEnv(const Options& options,
                                                      const std::string& path, rocksdb::Env* env) {
  if (sodium_init() < 0) return Status::IOError("libsodium failed to initialise");
  if (path.empty()) return Status::InvalidArgument("no store path given");
  if (options.max_event_bytes == 0 || options.max_batch_events == 0) {
    return Status::InvalidArgument("max_event_bytes and max_batch_events must be positive");
  }
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  bool has_db = exists && fs::exists(fs::path(path) / "CURRENT", ec);
  if (exists && !fs::is_directory(path, ec)) {
    return Status::InvalidArgument(path + " is not a directory, so it is not a hearth store");
  }
  bool create = false;
  if (!has_db) {
    if (!options.create_if_missing) {
      if (exists && !fs::is_empty(path, ec)) {
        return Status::NotFound(path + " is not a hearth store (it holds other files)");
      }
      return Status::NotFound("no hearth store at " + path + " (run `hearth init` first)");
    }
    if (exists && !fs::is_empty(path, ec)) {
      return Status::InvalidArgument(path + " is not empty and is not a hearth store; "
                                            "refusing to create a store there");
    }
    create = true;
  }
  std::unique_ptr<StoreImpl> store(new StoreImpl(options, path));
  store->env_ = env;
  try {
    Status s = store->OpenDb(create);
    if (!s.ok()) {
      if (create) {
        // Leave no half-made store behind.
        store.reset();
        fs::remove_all(path, ec);
      }
      return s;
    }
  } catch (const std::exception& ex) {
    return Status::IOError(std::string("opening ") + path + ": " + ex.what());
  }
  // The root key is derived: the store keeps no passphrase or key file name.
  store->options_.key = KeySource{};
  return std::unique_ptr<Store>(std::move(store));
}

Status StoreImpl::OpenDb(bool create) {
  rocksdb::Options db_options;
  db_options.create_if_missing = create;
  db_options.create_missing_column_families = create;
  db_options.error_if_exists = create;
  db_options.WAL_ttl_seconds = 0;     // obsolete WAL files are deleted at once (erasure)
  db_options.WAL_size_limit_MB = 0;
  db_options.keep_log_file_num = 5;
  db_options.max_background_jobs = 2;
  db_options.db_write_buffer_size = 128ull << 20;
  // Small, rarely flushed families (head, keys, merkle) must not pin every WAL
  // file: past this size RocksDB flushes them so old logs can go.
  db_options.max_total_wal_size = 256ull << 20;
  db_options.paranoid_checks = true;
  db_options.avoid_flush_during_shutdown = false;
  // No automatic resume after a failed write: RocksDB 7.8 cannot resume
  // after a failed write-ahead-log write (it asserts); the store refuses
  // writes until reopened instead (docs/operations.md).
  db_options.max_bgerror_resume_count = 0;
  db_options.allow_concurrent_memtable_write = false;  // one committing leader; hash memtables
  if (env_ != nullptr) db_options.env = env_;

  // Four shard bits, not the default of six: a shard of a 64 MiB cache
  // would hold 1 MiB, and a block larger than its shard is never kept, so
  // it would be read again on every lookup.
  auto cache = rocksdb::NewLRUCache(options_.block_cache_bytes, 4);
  // Each column family's options follow what it holds and how it is read
  // (docs/format.md, "Column families"): ciphertext, hashes and random ids
  // do not compress, so only the compressible indexes pay for LZ4; the
  // families read by point lookups have Bloom filters; every family shares
  // one block cache, with index and filter blocks cached and pinned.
  struct CfShape {
    bool bloom = false;
    bool compress = false;
    size_t write_buffer = 16ull << 20;
    size_t block_size = 4 << 10;
    bool hash_memtable = false;
    int level0_trigger = 4;  // RocksDB's default
  };
  auto shape_of = [](const std::string& n) {
    CfShape c;
    if (n == "log") {
      c.write_buffer = 64ull << 20;
      c.block_size = 16 << 10;  // ~1 KiB records read in order: fewer blocks per event
    } else if (n == "eventids") {
      // Random 16-byte ids: point lookups, mostly of ids that do not exist
      // yet. A skiplist insert of a random key walks ~20 levels of cache
      // misses; a hash memtable keyed by the whole id inserts in O(1).
      c.bloom = true;
      c.hash_memtable = true;
    } else if (n == "keys") {
      c.bloom = true;  // wrapped keys (ciphertext), looked up by subject
    } else if (n == "projections") {
      // Small, hot values read by point lookup for every case a read model
      // visits: decompressing a block per lookup dominated the worklist.
      c.bloom = true;
      // A rebuild rewrites every state (hundreds of megabytes at 10 M
      // events) in keys spread over the whole family, so each level-0
      // compaction rewrote all of level 1: with the default of 4 files,
      // 2 GB of compaction for one rebuild at 12.2 M, a fifth of its CPU.
      // At 8, level 1 is rewritten half as often; the level-0 files'
      // filters are pinned, so a point lookup checks them in memory and
      // still reads one file.
      c.level0_trigger = 8;
    } else if (n == "documents") {
      // Sealed bodies up to max_document_bytes: ciphertext does not
      // compress; read by point lookup of a key that exists.
      c.write_buffer = 32ull << 20;
      c.block_size = 64 << 10;
    } else if (n == "streams" || n == "subjects" || n == "access" || n == "default") {
      c.compress = true;  // ordered indexes and the access log: compressible
    }
    // lookup (keyed hashes) and merkle (hashes): incompressible, range-read
    // or always present, so neither compression nor a filter pays.
    return c;
  };
  auto make_cf = [&](const CfShape& c) {
    rocksdb::ColumnFamilyOptions cf;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    // Partitioned index and filters (issue 22): a 64 MiB table's whole
    // index or filter is hundreds of kilobytes to megabytes, read whole
    // whenever it is not in the cache (a profile of the KPI return at 12 M
    // events spent a fifth of its time re-reading filter blocks for point
    // lookups), and held whole when it is, so what is cached grew with the
    // store. Partitions are 4 KiB blocks cached like data; only the small
    // top level of each table stays pinned.
    table.index_type = rocksdb::BlockBasedTableOptions::IndexType::kTwoLevelIndexSearch;
    table.metadata_block_size = 4096;
    table.pin_top_level_index_and_filter = true;
    if (c.bloom) {
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      table.partition_filters = true;
    }
    table.block_size = c.block_size;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    cf.compression = c.compress ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
    cf.write_buffer_size = c.write_buffer;
    cf.max_write_buffer_number = 3;
    cf.level0_file_num_compaction_trigger = c.level0_trigger;
    if (c.bloom) {
      // Point lookups of keys that mostly do not exist (a new event id, a
      // new subject) skip the memtable's search too.
      cf.memtable_prefix_bloom_size_ratio = 0.1;
      cf.memtable_whole_key_filtering = true;
    }
    if (c.hash_memtable) {
      cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(16));
      cf.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(1 << 16));
    }
    return cf;
  };
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : kCfNames) cfs.emplace_back(name, make_cf(shape_of(name)));
  if (!create) {
    std::vector<std::string> existing;
    rocksdb::Status ls = rocksdb::DB::ListColumnFamilies(db_options, path_, &existing);
    if (!ls.ok()) return FromRocks(ls, "reading " + path_);
    for (const char* name : kCfNames) {
      if (std::find(existing.begin(), existing.end(), name) == existing.end()) {
        if (std::find_if(kLaterCfs.begin(), kLaterCfs.end(), [&](ColumnFamily later) {
              return std::string_view(kCfNames[later]) == name;
            }) != kLaterCfs.end()) {
          db_options.create_missing_column_families = true;  // a store from before it
          continue;
        }
        return Status::NotFound(path_ + " is not a hearth store (column family " +
                                std::string(name) + " is missing)");
      }
    }
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path_, cfs, &handles_, &raw);
  if (!s.ok()) return FromRocks(s, "opening " + path_);
  db_.reset(raw);
  meta_ = handles_[kMetaCf];
  log_ = handles_[kLogCf];
  streams_ = handles_[kStreamsCf];
  subjects_ = handles_[kSubjectsCf];
  eventids_ = handles_[kEventIdsCf];
  merkle_ = handles_[kMerkleCf];
  projections_cf_ = handles_[kProjectionsCf];
  access_ = handles_[kAccessCf];
  documents_ = handles_[kDocumentsCf];
  tree_ = std::make_unique<TreeStore>(db_.get(), log_, merkle_);
  keyring_ = std::make_unique<Keyring>(db_.get(), meta_, handles_[kKeysCf], handles_[kLookupCf],
                                       &handles_, path_);

  if (create) {
    Status st = InitNewStore();
    if (!st.ok()) return st;
  }
  std::string format;
  s = db_->Get(rocksdb::ReadOptions(), meta_, "format", &format);
  if (s.IsNotFound() || format.size() != 4) {
    return Status::NotFound(path_ + " is not a hearth store (no format version)");
  }
  if (!s.ok()) return FromRocks(s, "reading the format version");
  uint32_t version = GetBE32(format.data());
  if (version > kFormatVersion) {
    return Status::NotSupported("store " + path_ + " has format version " + std::to_string(version) +
                                "; this hearth reads up to version " +
                                std::to_string(kFormatVersion) + ": upgrade hearth");
  }
  Status st = keyring_->Load(options_.key);
  if (!st.ok()) return st;
  access_log_ = std::make_unique<log::AccessLog>(db_.get(), access_, keyring_->facts_key(),
                                                 options_.sync);
  if (Status m = LoadReplicaMarker(); !m.ok()) return m;  // store/log/replication_access.cc
  st = LoadHead();
  if (!st.ok()) return st;
  st = keyring_->ResumeKeyCompaction();
  if (!st.ok()) return st;
  st = OpenErasureLedger();
  if (!st.ok()) return st;
  return StartProjections();
}

Status StoreImpl::InitNewStore() {
  rocksdb::WriteBatch batch;
  std::string format;
  PutBE32(&format, kFormatVersion);
  batch.Put(meta_, "format", format);
  Status st = Keyring::WriteNew(options_.encrypt, options_.key, meta_, handles_[kKeysCf], &batch);
  if (!st.ok()) return st;
  Head head;
  batch.Put(meta_, "head", head.Encode());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "creating the store");
}

Status StoreImpl::LoadHead() {
  std::string bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, "head", &bytes);
  if (!s.ok()) return FromRocks(s, "reading the store head");
  if (!Head::Decode(bytes, &head_)) return Status::Corruption("the store head record is damaged");
  // The head is written in the same batch as the records it counts; check
  // that the log ends where the head says.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_));
  it->SeekToLast();
  uint64_t last = it->Valid() ? GetBE64(it->key().data()) : 0;
  if (!it->status().ok()) return FromRocks(it->status(), "reading the end of the log");
  if (last + 1 != head_.next_position) {
    return Status::Corruption("the log ends at position " + std::to_string(last) +
                              " but the store head says " + std::to_string(head_.next_position - 1) +
                              " (truncated or damaged files)");
  }
  if (Status tail = CheckTail(); !tail.ok()) return tail;
  // The newest checkpoint's time, for the signing cadence.
  std::unique_ptr<rocksdb::Iterator> cps(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  cps->SeekForPrev(CheckpointKey(~uint64_t(0)));
  SignedCheckpoint newest;
  if (cps->Valid() && cps->key().starts_with("cp") &&
      DecodeCheckpoint(cps->value().ToStringView(), &newest)) {
    last_checkpoint_time_ = std::max<Timestamp>(newest.time, 1);
  }
  if (!cps->status().ok()) return FromRocks(cps->status(), "reading the newest checkpoint");
  committed_ = head_.next_position - 1;
  committed_tree_.size = head_.frontier.size();
  committed_tree_.root = head_.frontier.Root(leader_hasher_);
  return Status::OK();
}

// Opening checks the log's tail, the records after the last complete block
// of 256 (or that block, when the size is a multiple of 256): each is where
// the head says, opens under the store key, and together they hash to the
// head's frontier (or the block's stored node). A record removed or changed
// there is refused here, naming the position; earlier ones are found by the
// reads that reach them and by `hearth verify` (docs/operations.md).
Status StoreImpl::CheckTail() {
  const uint64_t size = head_.frontier.size();
  if (size == 0) return Status::OK();
  constexpr uint64_t kBlock = uint64_t(1) << merkle::kStoredLevel;
  const uint64_t first = (size - 1) / kBlock * kBlock + 1;
  rocksdb::ReadOptions ro;
  std::string upper = LogKey(size + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
  merkle::Frontier tail;
  uint64_t expect = first;
  for (it->Seek(LogKey(first)); it->Valid(); it->Next()) {
    uint64_t pos = it->key().size() == 8 ? GetBE64(it->key().data()) : 0;
    if (pos != expect) {
      return Status::Corruption("position " + std::to_string(expect) +
                                " is missing from the log (damaged files)");
    }
    RecordedEvent e;
    Status st = DecodeRecord(it->value().ToStringView(), pos, keyring_->facts_key(),
                             nullptr, &e);
    if (!st.ok()) return st;
    tail.Append(leader_hasher_, leader_hasher_.Leaf(it->value().ToStringView()), nullptr);
    ++expect;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the end of the log");
  if (expect != size + 1) {
    return Status::Corruption("position " + std::to_string(expect) +
                              " is missing from the log (damaged files)");
  }
  // The tail starts on a block boundary, so its subtrees are the head's
  // lowest frontier nodes; a whole block is a stored node.
  bool agrees = false;
  if (tail.size() == kBlock) {
    auto node = tree_->StoredNode(merkle::kStoredLevel, (size - 1) / kBlock);
    agrees = node.ok() && *node == tail.Root(leader_hasher_);
  } else {
    std::string mine = tail.Encode().substr(8), head = head_.frontier.Encode();
    agrees = head.size() >= mine.size() && head.compare(head.size() - mine.size(), mine.size(), mine) == 0;
  }
  if (!agrees) {
    return Status::Corruption("the records at positions " + std::to_string(first) + ".." +
                              std::to_string(size) +
                              " do not hash to the store head's Merkle tree: one of them was "
                              "changed, removed or replaced (damaged files)");
  }
  return Status::OK();
}

// -------------------------------------------------------------- Append ----

Status StoreImpl::ValidateAppend(const std::string& stream, ExpectedVersion expected,
                                 const std::vector<NewEvent>& events, bool system) const {
  if (!ValidId(stream, kMaxIdBytes)) {
    return Status::InvalidArgument("stream id '" + stream.substr(0, 64) +
                                   "' is not valid: 1 to 200 characters of A-Z a-z 0-9 - _ . : / @ +");
  }
  if (stream[0] == '$' && !system) {
    return Status::InvalidArgument("stream " + stream + " is reserved for the store itself");
  }
  if (events.empty()) return Status::InvalidArgument("empty batch: an append needs at least one event");
  if (events.size() > options_.max_batch_events) {
    return Status::TooLarge("batch of " + std::to_string(events.size()) +
                            " events; the limit is " + std::to_string(options_.max_batch_events));
  }
  if (expected.kind == ExpectedVersion::Kind::kExact && expected.version == 0) {
    return Status::InvalidArgument("expected version 0 is not a version: use no-stream");
  }
  std::unordered_set<std::string> ids;
  for (size_t i = 0; i < events.size(); ++i) {
    const NewEvent& e = events[i];
    std::string where = "event " + std::to_string(i);
    if (e.id.empty()) return Status::InvalidArgument(where + " has no event id");
    where += " (" + e.id.ToString() + ")";
    if (!ids.insert(IdKey(e.id)).second) {
      return Status::InvalidArgument(where + " repeats an event id of the same batch");
    }
    if (e.type.empty() || e.type.size() > kMaxTypeBytes ||
        !std::all_of(e.type.begin(), e.type.end(), ValidIdChar)) {
      return Status::InvalidArgument(where + " has no valid type (1 to 128 of A-Z a-z 0-9 - _ . :)");
    }
    if (e.schema_version == 0) return Status::InvalidArgument(where + " has schema version 0");
    if (e.occurred_at < 0) return Status::InvalidArgument(where + " occurred before 1970");
    if (e.subjects.size() > kMaxSubjectsPerEvent) {
      return Status::InvalidArgument(where + " names more than 32 data subjects");
    }
    size_t bytes = e.facts.size();
    std::unordered_set<std::string> named;
    for (const auto& ref : e.subjects) {
      if (!ValidId(ref.id, kMaxSubjectIdBytes)) {
        return Status::InvalidArgument(where + " names an invalid subject id '" +
                                       ref.id.substr(0, 64) + "'");
      }
      if (ref.role > SubjectRole::kOther) return Status::InvalidArgument(where + " has an unknown subject role");
      if (!named.insert(ref.id).second) {
        return Status::InvalidArgument(where + " names subject " + ref.id + " twice");
      }
    }
    std::unordered_set<std::string> sectioned;
    for (const auto& p : e.personal) {
      if (!keyring_->encrypted()) {
        return Status::InvalidArgument("this store is unencrypted (benchmarks only) and refuses "
                                       "personal sections");
      }
      if (named.count(p.subject) == 0) {
        return Status::InvalidArgument(where + " has a personal section for subject " + p.subject +
                                       ", which it does not name in its subjects");
      }
      if (!sectioned.insert(p.subject).second) {
        return Status::InvalidArgument(where + " has two personal sections for subject " + p.subject);
      }
      bytes += p.data.size();
      for (const auto& id : p.identifiers) {
        if (id.kind.empty() || id.value.empty()) {
          return Status::InvalidArgument(where + " has an identifier without kind or value");
        }
      }
    }
    if (bytes > options_.max_event_bytes) {
      return Status::TooLarge(where + " is " + std::to_string(bytes) + " bytes; the limit is " +
                              std::to_string(options_.max_event_bytes));
    }
    if (e.documents.size() > kMaxDocumentsPerEvent) {
      return Status::TooLarge(where + " carries " + std::to_string(e.documents.size()) +
                              " documents; the limit is " + std::to_string(kMaxDocumentsPerEvent));
    }
    for (size_t d = 0; d < e.documents.size(); ++d) {
      const DocumentBody& doc = e.documents[d];
      if (!keyring_->encrypted()) {
        return Status::InvalidArgument("this store is unencrypted (benchmarks only) and refuses "
                                       "documents");
      }
      if (named.count(doc.subject) == 0) {
        return Status::InvalidArgument(where + " has a document for subject " + doc.subject +
                                       ", which it does not name in its subjects");
      }
      if (doc.bytes.size() > options_.max_document_bytes) {
        return Status::TooLarge(where + ": document " + std::to_string(d) + " is " +
                                std::to_string(doc.bytes.size()) + " bytes; the limit is " +
                                std::to_string(options_.max_document_bytes) + " bytes");
      }
    }
  }
  return Status::OK();
}

Result<AppendResult> StoreImpl::Append(const std::string& stream, ExpectedVersion expected,
                                       const std::vector<NewEvent>& events) {
  if (!replica_of_.empty()) return ReplicaRefusal();
  Status st = ValidateAppend(stream, expected, events, false);
  if (!st.ok()) return st;
  Request req;
  req.stream = &stream;
  req.expected = expected;
  req.events = &events;
  // The digests are computed in the commit group, where the subjects' data
  // keys are at hand (DigestEvents).
  st = commits_.Submit(&req);
  if (!st.ok()) return st;
  return req.result;
}

WriterStats StoreImpl::Writer() { return commits_.Stats(); }

Result<uint64_t> StoreImpl::CurrentVersion(const std::string& stream) {
  auto it = stream_versions_.find(stream);
  if (it != stream_versions_.end()) return it->second;
  auto v = StreamVersion(stream);
  uint64_t version = 0;
  if (v.ok()) {
    version = *v;
  } else if (!v.status().IsNotFound()) {
    return v.status();
  }
  stream_versions_.emplace(stream, version);
  return version;
}

bool StoreImpl::CheckAppend(Request* req) {
  const auto& events = *req->events;
  // Idempotency: are any of these ids in the log, or earlier in this group?
  std::vector<std::string> id_keys;
  id_keys.reserve(events.size());
  for (const auto& e : events) id_keys.push_back(IdKey(e.id));
  std::vector<rocksdb::Slice> slices(id_keys.begin(), id_keys.end());
  std::vector<rocksdb::PinnableSlice> values(events.size());
  std::vector<rocksdb::Status> statuses(events.size());
  db_->MultiGet(rocksdb::ReadOptions(), eventids_, slices.size(), slices.data(), values.data(),
                statuses.data());
  size_t found = 0;
  std::vector<PendingId> seen(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    auto g = group_ids_.find(id_keys[i]);
    if (g != group_ids_.end()) {
      seen[i] = g->second;
      ++found;
      continue;
    }
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok() || (values[i].size() != 8 && values[i].size() != 16)) {
      req->status = FromRocks(statuses[i], "reading the event id index");
      if (req->status.ok()) req->status = Status::Corruption("event id index entry damaged");
      return true;
    }
    uint64_t pos = GetBE64(values[i].data());
    std::string bytes;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_, LogKey(pos), &bytes);
    EnvelopeView env;
    Status ds = s.ok() ? DecodeEnvelope(bytes, pos, &env) : FromRocks(s, "reading position " + std::to_string(pos));
    if (!ds.ok()) {
      req->status = ds;
      return true;
    }
    seen[i] = PendingId{pos, env.stream, env.stream_version, env.digest};
    if (values[i].size() == 16) {
      seen[i].index = GetBE32(values[i].data() + 8);
      seen[i].count = GetBE32(values[i].data() + 12);
    }
    ++found;
  }
  if (found > 0) {
    // A retry: its digests need the data keys of its subjects, which exist
    // unless a subject was erased since (then nothing can match).
    if (req->digests.size() != events.size()) {
      Status ds = DigestEvents(req, /*create_keys=*/false, nullptr);
      if (!ds.ok()) {
        req->status = ds;
        return true;
      }
    }
    for (size_t i = 0; i < events.size(); ++i) {
      std::string who = "event id " + events[i].id.ToString();
      if (seen[i].position == 0) {
        req->status = Status::InvalidArgument(
            "batch repeats event ids already appended, but not all of them (" + who +
            " is new): a retry must repeat the whole batch");
        return true;
      }
      if (seen[i].stream != *req->stream) {
        req->status = Status::InvalidArgument(who + " was already appended to stream " +
                                              seen[i].stream + " at position " +
                                              std::to_string(seen[i].position));
        return true;
      }
      if (seen[i].digest != req->digests[i]) {
        req->status = Status::InvalidArgument(who + " was already appended at position " +
                                              std::to_string(seen[i].position) +
                                              " with different content");
        return true;
      }
      bool whole_batch = seen[i].count == 0 ||
                         (seen[i].index == i && seen[i].count == events.size());
      if (!whole_batch || (i > 0 && (seen[i].position != seen[0].position + i ||
                                     seen[i].version != seen[0].version + i))) {
        req->status = Status::InvalidArgument(
            "batch repeats event ids already appended, but not as one batch in the same order");
        return true;
      }
    }
    req->duplicate = true;
    req->result = AppendResult{seen[0].position, seen[0].position + events.size() - 1,
                               seen[0].version, seen[0].version + events.size() - 1, true};
    return true;
  }
  auto current = CurrentVersion(*req->stream);
  if (!current.ok()) {
    req->status = current.status();
    return true;
  }
  const ExpectedVersion& ex = req->expected;
  bool conflict = (ex.kind == ExpectedVersion::Kind::kNoStream && *current != 0) ||
                  (ex.kind == ExpectedVersion::Kind::kExact && *current != ex.version);
  if (conflict) {
    req->status = Status::Conflict("stream " + *req->stream + ": expected version " +
                                   ex.ToString() + ", actual " +
                                   (*current == 0 ? std::string("no-stream") : std::to_string(*current)));
    return true;
  }
  // Personal data of erased subjects is refused; new data keys must fit.
  if (Status refused = keyring_->RefuseErased(events); !refused.ok()) {
    req->status = refused;
    return true;
  }
  size_t new_subjects = 0;  // an upper bound: most already have a key
  for (const auto& e : events) new_subjects += e.personal.size() + e.documents.size();
  if (!keyring_->GroupHasRoom(new_subjects)) {
    if (keyring_->GroupIsEmpty()) {
      req->status = Status::TooLarge("batch concerns more than " +
                                     std::to_string(Keyring::kGroupNewKeyCapacity) + " data subjects");
      return true;
    }
    return false;  // next group
  }
  req->checked = true;
  return true;
}

Status StoreImpl::DigestEvents(Request* req, bool create_keys, rocksdb::WriteBatch* batch) {
  const auto& events = *req->events;
  std::vector<std::string> digests;
  digests.reserve(events.size());
  for (const NewEvent& e : events) {
    std::vector<std::string> macs;
    macs.reserve(e.personal.size());
    for (const PersonalSection& p : e.personal) {
      if (!keyring_->encrypted()) {  // refused by ValidateAppend; never keyed here
        return Status::InvalidArgument("this store is unencrypted and refuses personal sections");
      }
      uint8_t key[crypto::kKeyBytes];
      Status s = keyring_->DataKeyOf(p.subject, create_keys ? batch : nullptr, key);
      if (s.ok()) macs.push_back(PersonalSectionMac(key, p));
      sodium_memzero(key, sizeof key);
      if (s.IsNotFound()) {
        if (keyring_->IsErased(p.subject)) {
          return Status::Erased("event id " + e.id.ToString() +
                                " carries personal data of subject " + p.subject +
                                ", who was erased: a retry cannot be matched");
        }
        macs.emplace_back();  // no key, so not the original: the digests differ
        continue;
      }
      if (!s.ok()) return s;
    }
    std::vector<std::string> doc_macs;
    for (const DocumentBody& d : e.documents) {
      uint8_t key[crypto::kKeyBytes];
      Status s = keyring_->DataKeyOf(d.subject, create_keys ? batch : nullptr, key);
      if (s.ok()) doc_macs.push_back(DocumentMac(key, d));
      sodium_memzero(key, sizeof key);
      if (s.IsNotFound()) {
        if (keyring_->IsErased(d.subject)) {
          return Status::Erased("event id " + e.id.ToString() + " carries a document of subject " +
                                d.subject + ", who was erased: a retry cannot be matched");
        }
        doc_macs.emplace_back();  // no key, so not the original: the digests differ
        continue;
      }
      if (!s.ok()) return s;
    }
    digests.push_back(EventDigest(keyring_->digest_key(), e, macs, doc_macs));
  }
  req->digests = std::move(digests);
  return Status::OK();
}

Status StoreImpl::ApplyAppend(Request* req, rocksdb::WriteBatch* batch) {
  const auto& events = *req->events;
  if (req->digests.size() != events.size()) {
    Status ds = DigestEvents(req, /*create_keys=*/true, batch);
    if (!ds.ok()) return ds;
  }
  const std::string& stream = *req->stream;
  uint64_t current = stream_versions_[stream];
  uint64_t first_position = head_.next_position;
  Timestamp now = std::max(NowMicros(), head_.clock);
  head_.clock = now;

  // Subjects: runs of offsets within this append, per subject.
  std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> subject_runs;
  for (size_t i = 0; i < events.size(); ++i) {
    const NewEvent& e = events[i];
    uint64_t position = first_position + i;
    EncodeInput in{position, stream, current + 1 + i, now, &e, req->digests[i],
                   keyring_->facts_key()};
    auto record = EncodeRecord(in, [&](const std::string& subject, std::string_view aad,
                                       std::string_view plain, std::string* out) {
      return keyring_->Seal(subject, aad, plain, out, batch);
    });
    if (!record.ok()) return record.status();
    if (projections_->has_inline()) {
      RecordedEvent& re = group_events_.emplace_back();
      re.position = position;
      re.stream = stream;
      re.stream_version = current + 1 + i;
      re.id = e.id;
      re.type = e.type;
      re.schema_version = e.schema_version;
      re.recorded_at = now;
      re.occurred_at = e.occurred_at == 0 ? now : e.occurred_at;
      re.actor = e.actor;
      re.correlation_id = e.correlation_id;
      re.causation_id = e.causation_id;
      re.subjects = e.subjects;
      re.facts = e.facts;
    }
    // Document bodies: sealed under their subject's data key, in the same
    // batch as the event, keyed by the event's position (docs/format.md).
    for (size_t d = 0; d < e.documents.size(); ++d) {
      const DocumentBody& doc = e.documents[d];
      std::string value;
      PutBE32(&value, uint32_t(doc.subject.size()));
      value += doc.subject;
      Status ss = keyring_->Seal(doc.subject, DocumentAad(position, uint32_t(d), doc.subject),
                               doc.bytes, &value, batch);
      if (!ss.ok()) return ss;
      batch->Put(documents_, DocumentKey(position, uint32_t(d)), value);
    }
    std::string key = LogKey(position);
    batch->Put(log_, key, *record);
    std::string id_value = key;
    PutBE32(&id_value, uint32_t(i));
    PutBE32(&id_value, uint32_t(events.size()));
    batch->Put(eventids_, IdKey(e.id), id_value);
    group_ids_[IdKey(e.id)] = PendingId{position, stream, current + 1 + i, req->digests[i],
                                        uint32_t(i), uint32_t(events.size())};
    tree_->Append(leader_hasher_, *record, &head_.frontier, batch);
    for (const auto& ref : e.subjects) {
      auto& runs = subject_runs[ref.id];
      if (!runs.empty() && runs.back().first + runs.back().second == i) {
        runs.back().second++;
      } else {
        runs.emplace_back(uint32_t(i), 1u);
      }
    }
    for (const auto& p : e.personal) keyring_->IndexIdentifiers(p.subject, p.identifiers, batch);
  }
  for (const auto& [subject, runs] : subject_runs) {
    std::string value;
    for (const auto& [offset, length] : runs) {
      PutBE32(&value, offset);
      PutBE32(&value, length);
    }
    batch->Put(subjects_, IndexKey(subject, first_position), value);
  }
  std::string range;
  PutBE64(&range, first_position);
  PutBE32(&range, uint32_t(events.size()));
  batch->Put(streams_, IndexKey(stream, current + 1), range);
  if (current == 0) head_.streams++;
  stream_versions_[stream] = current + events.size();
  head_.next_position += events.size();
  req->result = AppendResult{first_position, first_position + events.size() - 1, current + 1,
                             current + events.size(), false};
  return Status::OK();
}

void StoreImpl::ProcessGroup(std::vector<CommitQueue::Entry*>& group, std::vector<CommitQueue::Entry*>* requeue) {
  if (!poisoned_.ok()) {
    for (CommitQueue::Entry* r : group) r->status = poisoned_;
    return;
  }
  // A nearly full disk refuses appends before RocksDB meets ENOSPC in its
  // write-ahead log (which it cannot resume from without a reopen): nothing
  // is changed, reads go on, and appends go on once space is freed.
  if (Status space = CheckFreeSpace(); !space.ok()) {
    for (CommitQueue::Entry* r : group) r->status = space;
    return;
  }
  bool no_space = false;
  // The batch buffer is kept between groups; one grown past 16 MiB by a
  // large group is given back.
  if (group_batch_.Data().capacity() > (16u << 20)) group_batch_ = rocksdb::WriteBatch();
  group_batch_.Clear();
  rocksdb::WriteBatch& batch = group_batch_;
  std::vector<Request*> applied;
  // Bound the stream-version cache between groups (never inside one: it
  // holds the versions this group has assigned but not yet committed). A
  // miss reads the stream's last index entry. 65,536 streams (about 5 MiB)
  // hold every case a service works on in a week; with a million, the cache
  // grew to about 70 MiB in a bulk load of 590,000 cases (issue 22 item 3).
  if (stream_versions_.size() >= kStreamVersionCacheCapacity) stream_versions_.clear();
  group_ids_.clear();
  keyring_->BeginGroup();
  group_events_.clear();
  Status failure;
  size_t i = 0;
  try {
    for (; i < group.size(); ++i) {
      Request* r = static_cast<Request*>(group[i]);  // the queue holds only this store's requests
      if (r->erase) {
        failure = ApplyErase(r, &batch);
        if (!failure.ok()) break;
        if (r->status.ok() && !r->duplicate) applied.push_back(r);
        continue;
      }
      if (!CheckAppend(r)) break;  // does not fit: the rest go to the next group
      if (!r->checked) continue;
      failure = ApplyAppend(r, &batch);
      if (!failure.ok()) break;
      applied.push_back(r);
    }
  } catch (const std::exception& ex) {
    failure = Status::IOError(std::string("building the commit: ") + ex.what());
  }
  for (size_t j = i; failure.ok() && j < group.size(); ++j) requeue->push_back(group[j]);
  std::vector<ProjectionRunner::InlineOutcome> inline_outcomes;
  if (failure.ok() && !group_events_.empty()) {
    inline_outcomes = projections_->FoldInline(group_events_, &batch);
  }
  if (failure.ok() && !applied.empty()) {
    bool checkpoint_due = options_.checkpoint_interval > 0 &&
                          head_.frontier.size() - head_.last_checkpoint >= options_.checkpoint_interval;
    // The time cadence: the unsigned tail is never older than the period.
    if (options_.checkpoint_period_ms > 0 &&
        (last_checkpoint_time_ == 0 ||
         NowMicros() - last_checkpoint_time_ >= Timestamp(options_.checkpoint_period_ms * 1000))) {
      checkpoint_due = true;
    }
    SignedCheckpoint cp;
    if (checkpoint_due) failure = WriteCheckpointLocked(&batch, head_.frontier, &cp);
    head_.subjects += keyring_->TakeNewKeyCount();
    batch.Put(meta_, "head", head_.Encode());
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    if (failure.ok()) {
      rocksdb::Status ws = db_->Write(wo, &batch);
      no_space = ws.IsNoSpace();
      failure = FromRocks(ws, "committing");
    }
  }
  if (!failure.ok()) {
    // In-memory state ran ahead of the disk: refuse all further writes.
    poisoned_ = Status::IOError(
        std::string(no_space ? "the disk is full: " : "") +
        "the store stopped accepting writes after a failed commit (" + failure.message() +
        (no_space ? "); reads go on; free space, then reopen it" : "); reopen it"));
    for (Request* r : applied) r->status = no_space ? poisoned_ : failure;
    for (size_t j = i; j < group.size(); ++j) {
      if (std::find(applied.begin(), applied.end(), group[j]) == applied.end()) {
        group[j]->status = poisoned_;
      }
    }
  }
  keyring_->BeginGroup();  // wipes the group's new keys
  group_ids_.clear();
  group_events_.clear();
  if (failure.ok()) {
    projections_->CommitInline(inline_outcomes);
    TreeHead tree{head_.frontier.size(), head_.frontier.Root(leader_hasher_)};
    {
      std::lock_guard<std::mutex> lock(commit_mu_);
      committed_tree_ = tree;
      committed_.store(head_.next_position - 1, std::memory_order_release);
    }
    commit_cv_.notify_all();
  }
}

Status StoreImpl::CheckFreeSpace() const {
  struct statvfs st;
  if (::statvfs(path_.c_str(), &st) != 0) return Status::OK();  // unknown: let RocksDB try
  uint64_t free_bytes = uint64_t(st.f_bavail) * uint64_t(st.f_frsize);
  if (free_bytes >= kMinFreeBytes) return Status::OK();
  return Status::IOError("the disk is full: " + std::to_string(free_bytes >> 20) +
                         " MiB free on the store's file system, and hearth keeps " +
                         std::to_string(kMinFreeBytes >> 20) +
                         " MiB free for its own files; appends are refused until space is freed "
                         "(reads go on; nothing acknowledged is lost)");
}

// ------------------------------------------------------------- Erasure ----

Status StoreImpl::ApplyErase(Request* req, rocksdb::WriteBatch* batch) {
  const std::string& subject = req->subject;
  auto erased_at = keyring_->ErasedAt(subject);
  if (erased_at.ok()) {
    req->duplicate = true;
    req->result = AppendResult{*erased_at, *erased_at, 0, 0, true};
    return Status::OK();
  }
  if (!erased_at.status().IsNotFound()) {
    req->status = erased_at.status();
    return Status::OK();
  }
  auto has_key = keyring_->HasKey(subject);
  if (!has_key.ok()) {
    req->status = has_key.status();
    return Status::OK();
  }
  if (!*has_key) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), subjects_));
    it->Seek(IndexPrefix(subject));
    if (!it->Valid() || !it->key().starts_with(IndexPrefix(subject))) {
      req->status = Status::NotFound("no data subject " + subject + " in this store");
      return Status::OK();
    }
  }
  // The erasure event holds no personal data: the subject's opaque
  // reference, the reason code and who acted.
  NewEvent& e = req->erasure_event;
  e.id = EventId::Random();
  e.type = "SubjectErased";
  e.actor = req->actor;
  e.subjects = {SubjectRef{subject, SubjectRole::kOther}};
  e.facts = "{\"subject\":\"" + subject + "\",\"reason\":\"" + req->reason + "\"}";
  req->erasure_events = {e};
  static const std::string kStream = kErasureStream;
  req->stream = &kStream;
  req->events = &req->erasure_events;
  req->expected = ExpectedVersion::Any();
  req->digests = {EventDigest(keyring_->digest_key(), e, {})};
  req->system = true;
  (void)CurrentVersion(kStream);
  // From here on the batch holds part of the erasure: a failure fails the
  // whole group (nothing of it is committed).
  Status st = ApplyAppend(req, batch);
  if (st.ok()) st = keyring_->Erase(subject, req->result.first_position, head_.clock, batch);
  if (!st.ok()) return st;
  head_.erased++;
  keyring_->MarkErased(subject);
  return Status::OK();
}

Result<AppendResult> StoreImpl::EraseSubject(const std::string& subject, const Actor& actor,
                                             const std::string& reason_code) {
  if (!replica_of_.empty()) return ReplicaRefusal();
  if (!keyring_->encrypted()) return Status::NotSupported("erasure needs an encrypted store");
  if (!ValidId(subject, kMaxSubjectIdBytes)) {
    return Status::InvalidArgument("subject id '" + subject.substr(0, 64) + "' is not valid");
  }
  if (!std::all_of(reason_code.begin(), reason_code.end(), ValidIdChar)) {
    return Status::InvalidArgument("reason code must be a code (A-Z a-z 0-9 - _ . :), not free text");
  }
  std::lock_guard<std::mutex> erase_lock(erase_mu_);
  Request req;
  req.erase = true;
  req.subject = subject;
  req.actor = actor;
  req.reason = reason_code;
  Status st = commits_.Submit(&req);
  if (!st.ok()) return st;
  if (after_key_commit_for_test) after_key_commit_for_test();
  // The ledger beside the store (docs/operations.md): what a restore re-applies.
  Status ledger = SyncErasureLedger();
  st = keyring_->CompactKeyFiles("erasure");
  if (!st.ok()) return st;
  if (!ledger.ok()) {
    return Status::IOError("subject " + subject + " is erased (position " +
                           std::to_string(req.result.first_position) +
                           "), but the erasure ledger was not written (" + ledger.message() +
                           "); the next erasure or open writes it");
  }
  return req.result;
}

// --------------------------------------------------------------- Reads ----

Status StoreImpl::DecodeAt(uint64_t position, std::string_view bytes, RecordedEvent* out) {
  return DecodeRecord(bytes, position, keyring_->facts_key(),
                      [this](const std::string& subject, std::string_view aad,
                             std::string_view sealed, std::string* plain, bool* erased) {
                        return keyring_->Open(subject, aad, sealed, plain, erased);
                      },
                      out);
}

Status StoreImpl::ReadPositions(const std::vector<uint64_t>& positions,
                                std::vector<RecordedEvent>* out) {
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (uint64_t p : positions) keys.push_back(LogKey(p));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(LogReadOptions(), log_, slices.size(), slices.data(), values.data(), statuses.data());
  out->reserve(out->size() + positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return Status::Corruption("position " + std::to_string(positions[i]) +
                                " is indexed but missing from the log");
    }
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading position " + std::to_string(positions[i]));
    RecordedEvent e;
    Status st = DecodeAt(positions[i], values[i].ToStringView(), &e);
    if (!st.ok()) return st;
    out->push_back(std::move(e));
  }
  return Status::OK();
}

Result<std::vector<RecordedEvent>> StoreImpl::ReadAll(uint64_t from, size_t max_count) {
  if (from == 0) return Status::InvalidArgument("positions start at 1");
  std::vector<RecordedEvent> out;
  uint64_t last = committed();
  if (from > last || max_count == 0) return out;
  uint64_t end = std::min<uint64_t>(last, from + max_count - 1);
  out.reserve(size_t(end - from + 1));
  rocksdb::ReadOptions ro = LogReadOptions();
  std::string upper = LogKey(end + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
  uint64_t expect = from;
  for (it->Seek(LogKey(from)); it->Valid(); it->Next()) {
    if (it->key().size() != 8) return Status::Corruption("a log key is not 8 bytes");
    uint64_t pos = GetBE64(it->key().data());
    if (pos != expect) {
      return Status::Corruption("position " + std::to_string(expect) + " is missing from the log");
    }
    RecordedEvent e;
    Status st = DecodeAt(pos, it->value().ToStringView(), &e);
    if (!st.ok()) return st;
    out.push_back(std::move(e));
    ++expect;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the log");
  if (expect != end + 1) {
    return Status::Corruption("position " + std::to_string(expect) + " is missing from the log");
  }
  return out;
}

Result<uint64_t> StoreImpl::SeekStreamEnd(rocksdb::Iterator* it, const std::string& stream) const {
  const std::string prefix = IndexPrefix(stream);
  it->SeekForPrev(IndexKey(stream, ~uint64_t(0)));
  if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    return Status::NotFound("stream " + stream + " has no events");
  }
  StreamEntry e;
  if (!DecodeStreamEntry(*it, prefix.size(), &e)) {
    return Status::Corruption("stream index entry of " + stream + " is damaged");
  }
  return e.first_version + e.count - 1;
}

Result<uint64_t> StoreImpl::StreamVersion(const std::string& stream) {
  if (!ValidId(stream, kMaxIdBytes)) return Status::InvalidArgument("stream id '" + stream.substr(0, 64) + "' is not valid");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LogReadOptions(), streams_));
  return SeekStreamEnd(it.get(), stream);
}

Result<std::vector<RecordedEvent>> StoreImpl::ReadStream(const std::string& stream, uint64_t from,
                                                         Direction direction, size_t max_count) {
  if (!ValidId(stream, kMaxIdBytes)) return Status::InvalidArgument("stream id '" + stream.substr(0, 64) + "' is not valid");
  std::vector<uint64_t> positions;
  std::string prefix = IndexPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LogReadOptions(), streams_));
  uint64_t committed_pos = committed();
  auto damaged = [&] { return Status::Corruption("stream index entry of " + stream + " is damaged"); };
  StreamEntry e;
  if (direction == Direction::kForward) {
    // One seek: the entry holding `from` (or the stream's first), without
    // looking up the stream's last version first (a second iterator and
    // seek on every read).
    uint64_t v = std::max<uint64_t>(from, 1);
    it->SeekForPrev(IndexKey(stream, v));
    if (!it->Valid() || !it->key().starts_with(prefix)) it->Seek(prefix);
    if (!it->Valid() || !it->key().starts_with(prefix)) {
      if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
      return Status::NotFound("stream " + stream + " has no events");
    }
    for (; it->Valid() && it->key().starts_with(prefix) && positions.size() < max_count; it->Next()) {
      if (!DecodeStreamEntry(*it, prefix.size(), &e)) return damaged();
      const uint64_t fv = e.first_version, fp = e.first_position;
      for (uint64_t k = std::max(v, fv); k < fv + e.count && positions.size() < max_count; ++k) {
        if (fp + (k - fv) <= committed_pos) positions.push_back(fp + (k - fv));
      }
    }
  } else {
    auto last = SeekStreamEnd(it.get(), stream);
    if (!last.ok()) return last.status();
    uint64_t v = from == 0 ? *last : std::min(from, *last);
    if (v < *last) it->SeekForPrev(IndexKey(stream, v));
    for (; it->Valid() && it->key().starts_with(prefix) && positions.size() < max_count; it->Prev()) {
      if (!DecodeStreamEntry(*it, prefix.size(), &e)) return damaged();
      const uint64_t fv = e.first_version, fp = e.first_position;
      for (uint64_t k = std::min(v, fv + e.count - 1) + 1; k > fv && positions.size() < max_count; --k) {
        if (fp + (k - 1 - fv) <= committed_pos) positions.push_back(fp + (k - 1 - fv));
      }
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the stream index");
  std::vector<RecordedEvent> out;
  Status st = ReadPositions(positions, &out);
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<RecordedEvent>> StoreImpl::ReadSubject(const std::string& subject, uint64_t from,
                                                          size_t max_count) {
  if (!ValidId(subject, kMaxSubjectIdBytes)) {
    return Status::InvalidArgument("subject id '" + subject.substr(0, 64) + "' is not valid");
  }
  std::string prefix = IndexPrefix(subject);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LogReadOptions(), subjects_));
  it->Seek(prefix);
  if (!it->Valid() || !it->key().starts_with(prefix)) {
    if (!it->status().ok()) return FromRocks(it->status(), "reading the subject index");
    return Status::NotFound("no events name subject " + subject);
  }
  uint64_t start = std::max<uint64_t>(from, 1);
  it->SeekForPrev(IndexKey(subject, start));
  if (!it->Valid() || !it->key().starts_with(prefix)) it->Seek(prefix);
  uint64_t committed_pos = committed();
  std::vector<uint64_t> positions;
  for (; it->Valid() && it->key().starts_with(prefix) && positions.size() < max_count; it->Next()) {
    uint64_t first = GetBE64(it->key().data() + prefix.size());
    rocksdb::Slice v = it->value();
    if (v.size() % 8 != 0) return Status::Corruption("subject index entry of " + subject + " is damaged");
    for (size_t o = 0; o < v.size() && positions.size() < max_count; o += 8) {
      uint32_t offset = GetBE32(v.data() + o), length = GetBE32(v.data() + o + 4);
      for (uint32_t k = 0; k < length && positions.size() < max_count; ++k) {
        uint64_t p = first + offset + k;
        if (p >= start && p <= committed_pos) positions.push_back(p);
      }
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the subject index");
  std::vector<RecordedEvent> out;
  Status st = ReadPositions(positions, &out);
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<std::string>> StoreImpl::FindSubjects(const Identifier& identifier) {
  if (!keyring_->encrypted()) return Status::NotSupported("lookups need an encrypted store");
  if (identifier.kind.empty() || identifier.value.empty()) {
    return Status::InvalidArgument("an identifier needs a kind and a value");
  }
  return keyring_->FindSubjects(identifier);
}

Result<std::vector<RecordedEvent>> StoreImpl::ReadFacts(uint64_t from, size_t max_count) {
  std::vector<RecordedEvent> out;
  Status st = ReadFactsInto(from, max_count, &out);
  if (!st.ok()) return st;
  return out;
}

Status StoreImpl::ReadFactsInto(uint64_t from, size_t max_count, std::vector<RecordedEvent>* out,
                                std::unique_ptr<rocksdb::Iterator>* cursor) {
  uint64_t last = committed();
  if (from > last || max_count == 0) {
    out->clear();
    return Status::OK();
  }
  uint64_t end = std::min<uint64_t>(last, from + max_count - 1);
  out->resize(size_t(end - from + 1));
  // Read once, in order: the blocks are not kept in the cache the read
  // models use. A call of its own stops at `end`; a cursor's iterator is
  // left on the record after it, where the next page starts.
  rocksdb::ReadOptions ro;
  std::string upper = LogKey(end + 1);
  rocksdb::Slice upper_slice(upper);
  if (cursor == nullptr) ro.iterate_upper_bound = &upper_slice;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> own;
  std::unique_ptr<rocksdb::Iterator>& it = cursor != nullptr ? *cursor : own;
  std::string first = LogKey(from);
  if (it == nullptr) {
    it.reset(db_->NewIterator(ro, log_));
    it->Seek(first);
  } else if (!it->Valid() || it->key() != rocksdb::Slice(first)) {
    it->Seek(first);
  }
  uint64_t expect = from;
  for (; expect <= end && it->Valid(); it->Next()) {
    uint64_t pos = GetBE64(it->key().data());
    if (pos != expect) {
      return Status::Corruption("position " + std::to_string(expect) + " is missing from the log");
    }
    RecordedEvent& e = (*out)[size_t(pos - from)];
    Status st = DecodeRecord(it->value().ToStringView(), pos, keyring_->facts_key(),
                             nullptr, &e);
    if (!st.ok()) return st;
    ++expect;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the log");
  if (expect != end + 1) {
    return Status::Corruption("position " + std::to_string(expect) + " is missing from the log");
  }
  return Status::OK();
}

// ---------------------------------------------------------- Projections ----

Status StoreImpl::StartProjections() {
  projections_ = std::make_unique<ProjectionRunner>(db_.get(), projections_cf_, meta_, &runner_log_, &commits_);
  return projections_->Start(options_.projections);
}

void StoreImpl::StopProjections() {
  if (projections_) projections_->Stop([this] { commit_cv_.notify_all(); });
}

Result<std::vector<ProjectionStatus>> StoreImpl::Projections() { return projections_->Statuses(); }

Status StoreImpl::RebuildProjection(const std::string& name) { return projections_->Rebuild({name}); }
Status StoreImpl::RebuildProjections(const std::vector<std::string>& names) {
  return projections_->Rebuild(names);
}

Status StoreImpl::WaitForProjection(const std::string& name, uint64_t position, int timeout_ms) {
  return projections_->WaitFor(name, position, timeout_ms);
}

Status StoreImpl::GetProjectionValue(const std::string& name, std::string_view key, std::string* value) {
  return projections_->Get(name, key, value);
}

Status StoreImpl::GetProjectionValues(const std::string& name, const std::vector<std::string>& keys,
                                      std::vector<std::optional<std::string>>* values) {
  return projections_->GetMany(name, keys, values);
}

Status StoreImpl::ScanProjection(const std::string& name, std::string_view prefix,
                                 const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  return projections_->Scan(name, prefix, prefix, fn);
}

Status StoreImpl::ScanProjectionFrom(const std::string& name, std::string_view prefix, std::string_view from,
                                     const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  return projections_->Scan(name, prefix, from, fn);
}

// ----------------------------------------------------------- Access log ----

Status StoreImpl::LogAccess(const std::vector<AccessRecord>& records) { return access_log_->Append(records); }

Result<std::vector<AccessRecord>> StoreImpl::AccessLog(const std::string& subject) {
  return access_log_->Read(subject);
}

// -------------------------------------------------------- Subscription ----

uint64_t StoreImpl::WaitPast(uint64_t position, int timeout_ms) {
  std::unique_lock<std::mutex> lock(commit_mu_);
  commit_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return committed() > position || closing(); });
  return committed();
}

namespace {

class SubscriptionImpl final : public Subscription {
 public:
  SubscriptionImpl(StoreImpl* store, uint64_t from, EventHandler on_event, EndHandler on_end)
      : store_(store), next_(from), on_event_(std::move(on_event)), on_end_(std::move(on_end)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SubscriptionImpl() override { Stop(); }

  void Stop() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t last_position() const override { return last_.load(); }

 private:
  void Run() {
    Status end;
    while (!stop_ && !store_->closing()) {
      if (store_->committed() < next_) {
        store_->WaitPast(next_ - 1, 50);
        continue;
      }
      auto batch = store_->ReadAll(next_, 512);
      if (!batch.ok()) {
        end = batch.status();
        break;
      }
      bool go_on = true;
      for (const auto& e : *batch) {
        if (stop_) break;
        if (!on_event_(e)) {
          go_on = false;
          break;
        }
        last_ = e.position;
        next_ = e.position + 1;
      }
      if (!go_on) break;
    }
    if (on_end_) on_end_(end);
  }

  StoreImpl* store_;
  uint64_t next_;
  EventHandler on_event_;
  EndHandler on_end_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> last_{0};
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Subscription>> StoreImpl::Subscribe(uint64_t from, EventHandler on_event,
                                                           EndHandler on_end) {
  if (from == 0) return Status::InvalidArgument("positions start at 1");
  if (!on_event) return Status::InvalidArgument("a subscription needs an event handler");
  return std::unique_ptr<Subscription>(
      new SubscriptionImpl(this, from, std::move(on_event), std::move(on_end)));
}

// ---------------------------------------------------------------- Info ----

Result<StoreInfo> StoreImpl::Info() {
  StoreInfo info;
  info.path = path_;
  info.format_version = kFormatVersion;
  info.encrypted = keyring_->encrypted();
  std::string bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, "head", &bytes);
  Head head;
  if (!s.ok() || !Head::Decode(bytes, &head)) return Status::Corruption("the store head is damaged");
  info.last_position = head.next_position - 1;
  info.streams = head.streams;
  info.subjects = head.subjects;
  info.erased_subjects = head.erased;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path_, ec)) {
    if (entry.is_regular_file(ec)) info.disk_bytes += entry.file_size(ec);
  }
  rocksdb::TablePropertiesCollection tables;
  s = db_->GetPropertiesOfAllTables(log_, &tables);
  if (!s.ok()) return FromRocks(s, "reading the log's table properties");
  for (const auto& [file, props] : tables) {
    info.table_records += props->num_entries;
    info.table_record_bytes += props->raw_key_size + props->raw_value_size;
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(h, &meta);
    info.column_family_bytes.emplace_back(meta.name, meta.size);
  }
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    info.tree = committed_tree_;
  }
  Status st = projections_->Stored(&info.projections);
  if (!st.ok()) return st;
  return info;
}

// ---------------------------------------------------------------- Backup ----

Result<DocumentBody> StoreImpl::ReadDocument(uint64_t position, uint32_t index) {
  std::string where = "document " + std::to_string(index) + " of position " + std::to_string(position);
  if (position == 0 || position > committed()) return Status::NotFound("no " + where);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), documents_, DocumentKey(position, index), &value);
  if (s.IsNotFound()) return Status::NotFound("no " + where);
  if (!s.ok()) return FromRocks(s, "reading " + where);
  if (value.size() < 4 || GetBE32(value.data()) > value.size() - 4) {
    return Status::Corruption(where + " is damaged (its subject does not parse)");
  }
  DocumentBody out;
  out.subject.assign(value.data() + 4, GetBE32(value.data()));
  std::string_view sealed = std::string_view(value).substr(4 + out.subject.size());
  bool erased = false;
  Status st = keyring_->Open(out.subject, DocumentAad(position, index, out.subject), sealed,
                           &out.bytes, &erased);
  if (!st.ok()) return Status::Corruption(where + " (subject " + out.subject + "): " + st.message());
  if (erased) {
    return Status::Erased(where + " belongs to subject " + out.subject +
                          ", who was erased: it can no longer be read");
  }
  return out;
}

Result<uint64_t> StoreImpl::Backup(const std::string& dir) {
  std::error_code ec;
  if (dir.empty()) return Status::InvalidArgument("no backup directory given");
  if (fs::exists(dir, ec)) {
    return Status::InvalidArgument("backup directory " + dir + " already exists; give a new one");
  }
  // Hold the commit pipeline so the copy ends exactly at a commit.
  CommitQueue::Lead lead(commits_);
  uint64_t position = committed();
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  lead.Release();
  if (!s.ok()) return FromRocks(s, "writing the backup to " + dir);
  return position;
}

// -------------------------------------------------------- Key rotation ----

Status StoreImpl::RotateRootKey(const KeySource& new_key) {
  if (!replica_of_.empty()) return ReplicaRefusal();
  if (!keyring_->encrypted()) return Status::NotSupported("an unencrypted store has no root key");
  auto new_root = Keyring::DeriveNewRoot(new_key);
  if (!new_root.ok()) return new_root.status();
  // One key compaction at a time (an erasure's, this one's).
  std::lock_guard<std::mutex> erase_lock(erase_mu_);
  // Hold the commit pipeline so no data key is created meanwhile.
  CommitQueue::Lead lead(commits_);
  Status result = keyring_->Rotate(std::move(*new_root));
  lead.Release();
  if (!result.ok()) return result;
  // The keys wrapped under the old root key are still in the WAL and in SST
  // files: flush and compact them away (resumed on open after a crash).
  if (after_key_commit_for_test) after_key_commit_for_test();
  return keyring_->CompactKeyFiles("the root-key rotation");
}

// ----------------------------------------------------- Tamper evidence ----

Result<TreeHead> StoreImpl::CurrentTree() {
  std::lock_guard<std::mutex> lock(commit_mu_);
  return committed_tree_;
}

Status StoreImpl::WriteCheckpointLocked(rocksdb::WriteBatch* batch, const merkle::Frontier& frontier,
                                        SignedCheckpoint* out) {
  out->size = frontier.size();
  out->root = frontier.Root(leader_hasher_);
  out->time = std::max(NowMicros(), head_.clock);
  std::string message = "hearth checkpoint v1\n";
  PutBE64(&message, out->size);
  message.append(reinterpret_cast<const char*>(out->root.data()), 32);
  PutBE64(&message, uint64_t(out->time));
  keyring_->Sign(message, &out->signature);
  batch->Put(meta_, CheckpointKey(out->size), EncodeCheckpoint(*out));
  head_.last_checkpoint = out->size;
  last_checkpoint_time_ = std::max<Timestamp>(out->time, 1);
  return Status::OK();
}

Result<SignedCheckpoint> StoreImpl::WriteCheckpoint() {
  if (!replica_of_.empty()) return ReplicaRefusal();
  CommitQueue::Lead lead(commits_);
  SignedCheckpoint cp;
  Status st = poisoned_;
  // Checkpoints are kept: a tree size that already has one keeps it (its
  // signature and time), and the request returns it.
  std::string existing;
  rocksdb::Status found = st.ok() ? db_->Get(rocksdb::ReadOptions(), meta_,
                                             CheckpointKey(head_.frontier.size()), &existing)
                                  : rocksdb::Status::NotFound();
  if (found.ok()) {
    if (!DecodeCheckpoint(existing, &cp)) st = Status::Corruption("a stored checkpoint is damaged");
  } else if (!found.IsNotFound()) {
    st = FromRocks(found, "reading checkpoints");
  } else if (st.ok()) {
    rocksdb::WriteBatch batch;
    st = WriteCheckpointLocked(&batch, head_.frontier, &cp);
    batch.Put(meta_, "head", head_.Encode());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (st.ok()) st = FromRocks(db_->Write(wo, &batch), "writing a checkpoint");
  }
  lead.Release();
  if (!st.ok()) return st;
  return cp;
}

Result<std::vector<SignedCheckpoint>> StoreImpl::Checkpoints() {
  std::vector<SignedCheckpoint> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek("cp"); it->Valid() && it->key().starts_with("cp"); it->Next()) {
    SignedCheckpoint cp;
    if (!DecodeCheckpoint(it->value().ToStringView(), &cp)) {
      return Status::Corruption("a stored checkpoint is damaged");
    }
    out.push_back(cp);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading checkpoints");
  return out;
}

Result<std::array<uint8_t, 32>> StoreImpl::CheckpointPublicKey() { return keyring_->signing_public_key(); }

Result<std::string> StoreImpl::RawRecord(uint64_t position) {
  if (position == 0 || position > committed()) {
    return Status::InvalidArgument("position " + std::to_string(position) +
                                   " is beyond the log (last " + std::to_string(committed()) + ")");
  }
  std::string bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_, LogKey(position), &bytes);
  if (s.IsNotFound()) return Status::Corruption("position " + std::to_string(position) + " is missing");
  if (!s.ok()) return FromRocks(s, "reading position " + std::to_string(position));
  return bytes;
}

Result<std::vector<Hash>> StoreImpl::InclusionProof(uint64_t position, uint64_t tree_size) {
  uint64_t size = tree_size == 0 ? committed() : tree_size;
  if (size > committed()) {
    return Status::InvalidArgument("tree size " + std::to_string(size) + " is beyond the log (" +
                                   std::to_string(committed()) + " events)");
  }
  return tree_->InclusionProof(position, size);
}

Result<std::vector<Hash>> StoreImpl::ConsistencyProof(uint64_t from, uint64_t to) {
  if (to > committed()) {
    return Status::InvalidArgument("tree size " + std::to_string(to) + " is beyond the log (" +
                                   std::to_string(committed()) + " events)");
  }
  return tree_->ConsistencyProof(from, to);
}

std::string StoreImpl::ExportRecipientKey(std::string_view recipient) const {
  return keyring_->RecipientKey(recipient);
}

}  // namespace log
}  // namespace hearth
