#include "audit/verifier.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/table.h>
#include <sodium.h>

#include <algorithm>
#include <bit>
#include <cstdarg>
#include <functional>
#include <memory>

#include "base/read_ahead.h"
#include "log/format.h"
#include "log/record.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "merkle/proof_json.h"

namespace hearth::merkle {

namespace {

// The column families read (log/format.h): the first eight, up to the
// tree's nodes, so their handles' indexes are their ColumnFamily values.
constexpr size_t kVerifiedCfs = size_t(log::kMerkleCf) + 1;
// Discrepancies after the first are listed up to this many, then counted.
constexpr size_t kMaxFailureLines = 50;

std::string Hex(const Hash& h) { return ToHex(h.data(), h.size()); }
std::string Num(uint64_t v) { return std::to_string(v); }

// The verifier must not write to the directory it checks: RocksDB would
// otherwise create (and rotate) its info log there.
class SilentLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

// A read-only RocksDB handle and its column families; closes on destruction.
struct ReadOnlyDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~ReadOnlyDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
};

// The read-only handle's block cache (the Merkle nodes' and checkpoints'
// blocks; the log is scanned around it).
constexpr size_t kVerifyBlockCacheBytes = 8u << 20;

Status OpenReadOnly(const std::string& dir, const std::shared_ptr<rocksdb::Statistics>& statistics,
                    ReadOnlyDb* out) {
  rocksdb::Options options;
  options.statistics = statistics;
  options.info_log = std::make_shared<SilentLogger>();
  options.paranoid_checks = true;
  // Memory must not grow with the store. Table files are read, not mapped: a
  // mapped file's pages count as the process's own once touched, and the
  // scan touches every byte of the log (4.7 GB resident at 10 M events when
  // they were mapped). Few table files are open at once, so their index
  // blocks are not all held either.
  options.allow_mmap_reads = false;
  options.max_open_files = 64;
  // One shard for those 64: by default the table cache has 64 shards, so
  // each held about one file and the Merkle nodes' table was reopened (its
  // properties, index and filter read again) for nearly every stored node
  // checked, a quarter of the CPU at 12 million events.
  options.table_cache_numshardbits = 0;
  // The block cache holds what the point reads of Merkle nodes and
  // checkpoints bring in (the log's scan does not fill it): one cache for
  // every column family, its bound stated here rather than left to the
  // table factory's default.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(kVerifyBlockCacheBytes);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<std::string> existing;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &existing);
  if (!s.ok()) return Status::NotFound("cannot open " + dir + " as a hearth store: " + s.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (size_t i = 0; i < kVerifiedCfs; ++i) {
    const char* name = log::kCfNames[i];
    if (std::find(existing.begin(), existing.end(), name) == existing.end()) {
      return Status::NotFound(dir + " is not a hearth store (column family " + name +
                              " is missing)");
    }
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions(options));
  }
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(options, dir, cfs, &out->handles, &raw);
  if (!s.ok()) return Status::IOError("cannot open " + dir + " read-only: " + s.ToString());
  out->db.reset(raw);
  return Status::OK();
}

// Collects the lines of a VerifyReport and keeps the first discrepancy.
class Reporter {
 public:
  Reporter(VerifyReport* report, const std::function<void(const std::string&)>& sink)
      : report_(report), sink_(sink) {
    report_->ok = true;
  }

  void Line(std::string line) {
    if (sink_) {
      sink_(line);
    } else {
      report_->checked.push_back(std::move(line));
    }
  }

  void Fail(const std::string& what, uint64_t position, const Hash* expected, const Hash* found) {
    if (report_->ok) {
      report_->ok = false;
      report_->failure = what;
      report_->failure_position = position;
      if (expected != nullptr) report_->expected = *expected;
      if (found != nullptr) report_->found = *found;
    }
    if (failure_lines_ == kMaxFailureLines) {
      ++unlisted_;
      return;
    }
    ++failure_lines_;
    std::string line = "FAILED: " + what;
    if (expected != nullptr) line += "; expected " + Hex(*expected);
    if (found != nullptr) line += "; found " + Hex(*found);
    Line(std::move(line));
  }

  void Finish() {
    if (unlisted_ > 0) Line(Num(unlisted_) + " further discrepancies not listed");
    Line(report_->ok ? "RESULT: everything checked agrees"
                     : "RESULT: FAILED; first discrepancy: " + report_->failure);
  }

 private:
  VerifyReport* report_;
  const std::function<void(const std::string&)>& sink_;
  size_t failure_lines_ = 0;
  size_t unlisted_ = 0;
};

// What the reader thread found about a record, reported when the hashing
// reaches it.
struct ScanIssue {
  enum Kind { kGap, kBadRecord, kBadKey } kind;
  size_t before_record;  // reported before hashing this record of the chunk
  uint64_t position;
  std::string what;
};

// Records in log order: their bytes back to back, and what was found.
struct ScanChunk {
  std::string bytes;
  std::vector<size_t> ends;  // end offset of each record in `bytes`
  std::vector<ScanIssue> issues;
  std::vector<Hash> leaves;  // the records' leaf hashes, when the reader had time
  void Clear() {
    bytes.clear();
    ends.clear();
    issues.clear();
    leaves.clear();
  }
};

// How the scan of the log ended: read by the hashing thread after the last chunk.
struct ScanEnd {
  rocksdb::Status status;
  uint64_t expected_position = 1;  // the position after the last one scanned
};

// Iterates the `log` column family on the read-ahead's thread, checks keys,
// density and envelopes, and hands records over in chunks of about a
// megabyte. The read-ahead's few chunks keep memory flat whatever the
// store's size.
void ScanLog(base::ReadAhead<ScanChunk>& pipe, rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_cf,
             ScanEnd* end) {
  constexpr size_t kChunkBytes = 1u << 20;
  auto take = [&] {
    ScanChunk* c = pipe.NextFree();
    if (c != nullptr) {
      c->Clear();
      c->bytes.reserve(kChunkBytes + (64u << 10));
    }
    return c;
  };
  auto hash_leaves = [](ScanChunk* c, Hasher& hasher) {
    c->leaves.reserve(c->ends.size());
    size_t begin = 0;
    for (size_t e : c->ends) {
      c->leaves.push_back(hasher.Leaf(std::string_view(c->bytes.data() + begin, e - begin)));
      begin = e;
    }
  };
  rocksdb::ReadOptions scan;
  scan.readahead_size = 1u << 20;
  scan.fill_cache = false;
  scan.verify_checksums = true;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(scan, log_cf));
  ScanChunk* chunk = take();
  log::EnvelopeView envelope;
  Hasher hasher;
  uint64_t expected = 1;
  for (it->SeekToFirst(); chunk != nullptr && it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    std::string_view value = it->value().ToStringView();
    size_t index = chunk->ends.size();
    if (key.size() != 8) {
      chunk->issues.push_back({ScanIssue::kBadKey, index, expected,
                               "the log holds a key of " + Num(key.size()) +
                                   " bytes, which is not a position (after position " +
                                   Num(expected - 1) + ")"});
      continue;
    }
    uint64_t position = log::GetBE64(key.data());
    if (position != expected) {
      chunk->issues.push_back(
          {ScanIssue::kGap, index, expected,
           position > expected
               ? (position == expected + 1 ? "position " + Num(expected) + " is missing"
                                           : "positions " + Num(expected) + ".." +
                                                 Num(position - 1) + " are missing")
               : "position " + Num(position) + " is out of order"});
    }
    Status es = log::DecodeEnvelope(value, position, &envelope);
    if (!es.ok()) chunk->issues.push_back({ScanIssue::kBadRecord, index, position, es.message()});
    chunk->bytes.append(value);
    chunk->ends.push_back(chunk->bytes.size());
    expected = position + 1;
    if (chunk->bytes.size() >= kChunkBytes) {
      // When the hashing thread is behind (no chunk is free), hash this
      // chunk here rather than wait: the two threads share the hashing.
      if (pipe.ConsumerBehind()) hash_leaves(chunk, hasher);
      pipe.Hand(chunk);
      chunk = take();
    }
  }
  if (chunk == nullptr) return;  // the hashing stopped: nobody reads the end
  end->status = it->status();
  end->expected_position = expected;
  if (!chunk->ends.empty() || !chunk->issues.empty()) pipe.Hand(chunk);
}

// One SHA-256 context per thread for the proof checks, which auditors and
// read models call by the thousand: creating a context costs more than the
// handful of hashes a proof needs.
Hasher& ThreadHasher() {
  thread_local Hasher hasher;
  return hasher;
}

struct CheckpointState {
  SignedCheckpoint cp;
  bool signature_ok = false;
  bool root_checked = false;
  bool root_ok = false;
};

}  // namespace

bool VerifyInclusion(uint64_t leaf_index, uint64_t tree_size, const Hash& leaf_hash,
                     const std::vector<Hash>& proof, const Hash& root) {
  // RFC 9162 2.1.3.2, step by step.
  if (leaf_index >= tree_size) return false;
  uint64_t fn = leaf_index, sn = tree_size - 1;
  Hasher& hasher = ThreadHasher();
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = hasher.Node(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = hasher.Node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t size1, uint64_t size2, const Hash& root1, const Hash& root2,
                       const std::vector<Hash>& proof) {
  if (size1 > size2) return false;
  Hasher& hasher = ThreadHasher();
  if (size1 == size2) return proof.empty() && root1 == root2;
  if (size1 == 0) return proof.empty() && root1 == hasher.Empty();
  // RFC 9162 2.1.4.2 for 0 < size1 < size2.
  if (proof.empty()) return false;
  size_t next = 0;
  Hash first;
  if (std::has_single_bit(size1)) {
    first = root1;  // the path is read as if root1 were prepended to it
  } else {
    first = proof[next++];
  }
  uint64_t fn = size1 - 1, sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = first, sr = first;
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = hasher.Node(c, fr);
      sr = hasher.Node(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = hasher.Node(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == root1 && sr == root2 && sn == 0;
}

std::string CheckpointMessage(const SignedCheckpoint& checkpoint) {
  std::string m = "hearth checkpoint v1\n";
  log::PutBE64(&m, checkpoint.size);
  m.append(reinterpret_cast<const char*>(checkpoint.root.data()), checkpoint.root.size());
  log::PutBE64(&m, uint64_t(checkpoint.time));
  return m;
}

bool VerifyCheckpointSignature(const SignedCheckpoint& checkpoint,
                               const std::array<uint8_t, 32>& public_key) {
  std::string m = CheckpointMessage(checkpoint);
  return crypto_sign_verify_detached(checkpoint.signature.data(),
                                     reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                                     public_key.data()) == 0;
}

Status VerifyInclusionDoc(const InclusionProofDoc& proof, const SignedCheckpoint& checkpoint,
                          const std::array<uint8_t, 32>& public_key, std::string* what) {
  if (!VerifyCheckpointSignature(checkpoint, public_key)) {
    return Status::Corruption("the checkpoint of size " + Num(checkpoint.size) +
                              " has a signature that does not verify with the public key");
  }
  if (proof.tree_size != checkpoint.size) {
    return Status::InvalidArgument("the proof is for a tree of " + Num(proof.tree_size) +
                                   " records, the checkpoint for " + Num(checkpoint.size) +
                                   ": export the proof with --size " + Num(checkpoint.size));
  }
  if (!proof.record.empty()) {
    Hash h = ThreadHasher().Leaf(proof.record);
    if (h != proof.leaf_hash) {
      return Status::Corruption("the record in the proof hashes to " + Hex(h) +
                                ", not to the proof's leaf hash " + Hex(proof.leaf_hash));
    }
  }
  if (proof.position == 0 ||
      !VerifyInclusion(proof.position - 1, proof.tree_size, proof.leaf_hash, proof.path,
                       checkpoint.root)) {
    return Status::Corruption("the inclusion proof for position " + Num(proof.position) +
                              " does not lead to the checkpoint's root " + Hex(checkpoint.root));
  }
  if (what != nullptr) {
    *what = "position " + Num(proof.position) + (proof.record.empty() ? " (leaf hash " : " (record, leaf hash ") +
            Hex(proof.leaf_hash) + ") is in the signed tree of " + Num(checkpoint.size) +
            " records with root " + Hex(checkpoint.root);
  }
  return Status::OK();
}

Status VerifyConsistencyDoc(const ConsistencyProofDoc& proof, const SignedCheckpoint& from,
                            const SignedCheckpoint& to, const std::array<uint8_t, 32>& public_key,
                            std::string* what) {
  for (const SignedCheckpoint* cp : {&from, &to}) {
    if (!VerifyCheckpointSignature(*cp, public_key)) {
      return Status::Corruption("the checkpoint of size " + Num(cp->size) +
                                " has a signature that does not verify with the public key");
    }
  }
  if (proof.from != from.size || proof.to != to.size) {
    return Status::InvalidArgument("the proof goes from " + Num(proof.from) + " to " +
                                   Num(proof.to) + " records, the checkpoints are of " +
                                   Num(from.size) + " and " + Num(to.size));
  }
  if (!VerifyConsistency(from.size, to.size, from.root, to.root, proof.path)) {
    return Status::Corruption("the consistency proof does not show the tree of " + Num(to.size) +
                              " records (root " + Hex(to.root) + ") extending the tree of " +
                              Num(from.size) + " records (root " + Hex(from.root) + ")");
  }
  if (what != nullptr) {
    *what = "the signed tree of " + Num(to.size) + " records extends the signed tree of " +
            Num(from.size) + " records: nothing in the first " + Num(from.size) +
            " was changed, removed or reordered";
  }
  return Status::OK();
}

namespace {

Result<VerifyReport> VerifyFiles(const std::string& dir, const std::array<uint8_t, 32>& public_key,
                                 const VerifyOptions& options) {
  ReadOnlyDb rdb;
  Status st = OpenReadOnly(dir, options.statistics, &rdb);
  if (!st.ok()) return st;
  rocksdb::DB* db = rdb.db.get();
  rocksdb::ColumnFamilyHandle* meta = rdb.handles[log::kMetaCf];
  rocksdb::ColumnFamilyHandle* log_cf = rdb.handles[log::kLogCf];
  rocksdb::ColumnFamilyHandle* merkle_cf = rdb.handles[log::kMerkleCf];

  VerifyReport report;
  Reporter out(&report, options.on_line);
  out.Line("store " + dir + " opened read-only; no decryption key used");

  // The key the store itself signs with, beside the one the auditor holds.
  std::string stored_pk;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, "checkpoint-pk", &stored_pk);
  if (s.ok() && stored_pk.size() == public_key.size() &&
      std::equal(public_key.begin(), public_key.end(),
                 reinterpret_cast<const uint8_t*>(stored_pk.data()))) {
    out.Line("the public key given is the store's own checkpoint key");
  } else {
    out.Line("note: the public key given is not the key stored in the store (" +
             std::string(s.ok() ? "which differs" : "none readable") +
             "); signatures are checked with the key given");
  }

  // The checkpoints the auditor holds, in size order; each is checked when
  // the scan reaches its size.
  std::vector<HeldCheckpoint> held = options.held;
  std::stable_sort(held.begin(), held.end(), [](const HeldCheckpoint& a, const HeldCheckpoint& b) {
    return a.checkpoint.size < b.checkpoint.size;
  });
  if (!held.empty()) out.Line(Num(held.size()) + " checkpoint(s) held by the auditor given");

  // The stored checkpoints are read one at a time, in size order (the key is
  // "cp" || size), as the scan reaches them: memory does not grow with their
  // number.
  std::unique_ptr<rocksdb::Iterator> cp_it(db->NewIterator(rocksdb::ReadOptions(), meta));
  cp_it->Seek("cp");
  uint64_t stored_count = 0;
  CheckpointState current;  // the next stored checkpoint, when has_current
  bool has_current = false;
  CheckpointState previous;  // the last one checked, when has_previous
  bool has_previous = false;
  uint64_t newest_size = 0;
  auto next_stored = [&] {
    has_current = false;
    for (; !has_current && cp_it->Valid() && cp_it->key().starts_with("cp"); cp_it->Next()) {
      rocksdb::Slice key = cp_it->key();
      CheckpointState c;
      if (key.size() != 10 || !log::DecodeCheckpoint(cp_it->value().ToStringView(), &c.cp) ||
          log::GetBE64(key.data() + 2) != c.cp.size) {
        out.Fail("a stored checkpoint (metadata key of " + Num(key.size()) + " bytes, value of " +
                     Num(cp_it->value().size()) + " bytes) is damaged",
                 0, nullptr, nullptr);
        continue;
      }
      c.signature_ok = VerifyCheckpointSignature(c.cp, public_key);
      current = c;
      has_current = true;
      ++stored_count;
      newest_size = c.cp.size;
    }
    if (!has_current && !cp_it->status().ok()) {
      out.Fail("reading the checkpoints failed: " + cp_it->status().ToString(), 0, nullptr,
               nullptr);
    }
  };

  Hasher hasher;
  Frontier frontier;
  uint64_t nodes_checked = 0;
  // Leaves 1..vouched are covered by complete 256-leaf blocks whose
  // recomputed hashes matched the stored Merkle nodes.
  uint64_t vouched = 0;
  uint64_t block_mismatches = 0;

  // Checkpoints are dated in order, and each extends the one before.
  auto check_pair = [&](const CheckpointState& a, const CheckpointState& b) {
    if (b.cp.time < a.cp.time) {
      out.Fail("checkpoint of size " + Num(b.cp.size) + " is dated before the checkpoint of size " +
                   Num(a.cp.size),
               0, nullptr, nullptr);
    }
    std::string pair = "checkpoints of sizes " + Num(a.cp.size) + " and " + Num(b.cp.size);
    if (a.root_ok && b.root_ok && a.signature_ok && b.signature_ok) {
      out.Line(pair + ": consistent, since both roots are heads of the one recomputed log (" +
               Num(b.cp.size) + " extends " + Num(a.cp.size) + ")");
    } else {
      out.Line(pair + ": consistency not established (see the discrepancies above)");
    }
  };
  auto done_with = [&](const CheckpointState& c) {
    if (has_previous) check_pair(previous, c);
    previous = c;
    has_previous = true;
  };

  auto check_checkpoint = [&](CheckpointState& c, const Hash& root) {
    c.root_checked = true;
    c.root_ok = c.cp.root == root;
    ++report.checkpoints;
    std::string name = "checkpoint of size " + Num(c.cp.size) + " (" +
                       CheckpointToJson(c.cp)["time"].get<std::string>() + ")";
    if (c.signature_ok) {
      out.Line(name + ": signature valid");
    } else {
      out.Fail(name + ": the signature does not verify with the public key (forged or altered)",
               0, nullptr, nullptr);
    }
    if (c.root_ok) {
      out.Line(name + ": root " + Hex(root) + " matches the tree recomputed from the log");
    } else {
      uint64_t from = std::min(vouched, c.cp.size) + 1;
      out.Fail(name + ": its root differs from the tree recomputed from positions 1.." +
                   Num(c.cp.size) + "; the complete 256-record blocks before position " +
                   Num(from) + " agree with the stored Merkle nodes, so a record in " + Num(from) +
                   ".." + Num(c.cp.size) +
                   " was changed, removed or reordered (or the stored nodes were rewritten too)",
               from, &c.cp.root, &root);
    }
  };

  // A held checkpoint: signed with the key, and its root is the root of the
  // first `size` records of this log, so the store's current tree (the whole
  // log) is an append-only extension of it.
  auto held_name = [](const HeldCheckpoint& h) {
    return "your checkpoint " + h.source + " (size " + Num(h.checkpoint.size) + ", " +
           CheckpointToJson(h.checkpoint)["time"].get<std::string>() + ")";
  };
  auto check_held = [&](const HeldCheckpoint& h, const Hash& root) {
    std::string name = held_name(h);
    bool signature_ok = VerifyCheckpointSignature(h.checkpoint, public_key);
    if (!signature_ok) {
      out.Fail(name + ": the signature does not verify with the public key, so it proves nothing "
                      "about this store (signed with another key, or altered)",
               0, nullptr, nullptr);
    }
    if (h.checkpoint.root != root) {
      uint64_t from = std::min(vouched, h.checkpoint.size) + 1;
      out.Fail("the store does not extend " + name + ": the tree recomputed from positions 1.." +
                   Num(h.checkpoint.size) + " has another root, so records in " + Num(from) +
                   ".." + Num(h.checkpoint.size) +
                   " were changed, removed or reordered after it was signed",
               from, &h.checkpoint.root, &root);
      return;
    }
    if (signature_ok) {
      ++report.held_extended;
      out.Line(name + ": signature valid, and the store extends it (the first " +
               Num(h.checkpoint.size) + " records hash to its signed root " + Hex(root) + ")");
    }
  };

  next_stored();
  size_t next_held = 0;
  auto checkpoints_due = [&] {
    if ((has_current && current.cp.size == frontier.size()) ||
        (next_held < held.size() && held[next_held].checkpoint.size == frontier.size())) {
      Hash root = frontier.Root(hasher);
      while (has_current && current.cp.size == frontier.size()) {
        check_checkpoint(current, root);
        done_with(current);
        next_stored();
      }
      while (next_held < held.size() && held[next_held].checkpoint.size == frontier.size()) {
        check_held(held[next_held++], root);
      }
    }
  };

  // Complete subtrees of 256 leaves and up, against the stored nodes.
  // Read through the block cache: a 4 KiB block holds about eighty nodes,
  // which a read of each without the cache fetched and checked again (8 %
  // of the CPU at 12 million events).
  rocksdb::ReadOptions point_read;
  std::string stored;
  const std::function<void(const Node&)> on_complete = [&](const Node& n) {
    ++nodes_checked;
    uint64_t first = (n.index << n.level) + 1, last = (n.index + 1) << n.level;
    std::string where = "positions " + Num(first) + ".." + Num(last) + " (stored Merkle node level " +
                        Num(n.level) + " index " + Num(n.index) + ")";
    rocksdb::Status gs = db->Get(point_read, merkle_cf, log::MerkleKey(n.level, n.index), &stored);
    if (!gs.ok() || stored.size() != 32) {
      out.Fail(where + ": the stored node is " + (gs.IsNotFound() ? "missing" : "damaged"), first,
               nullptr, &n.hash);
      return;
    }
    Hash h;
    std::copy(stored.begin(), stored.end(), reinterpret_cast<char*>(h.data()));
    if (h != n.hash) {
      ++block_mismatches;
      out.Fail(where + ": the hash recomputed from the records differs from the stored node, so a "
                       "record in this block was changed (or the node was)",
               first, &h, &n.hash);
      return;
    }
    if (n.level == kStoredLevel && first == vouched + 1) vouched = last;
  };

  checkpoints_due();  // a checkpoint of the empty tree

  // One pass over the log in position order, keeping only the frontier: a
  // reader thread iterates and parses, this thread hashes (on two cores each
  // does about half the work). Findings travel with the records, so they are
  // reported in log order exactly as a single pass would.
  ScanEnd scan_end;
  base::ReadAhead<ScanChunk> scanner(4);
  uint64_t gaps = 0, bad_records = 0;
  uint64_t progress_total = 0;
  if (options.on_progress) {
    std::string bytes;
    log::Head h;
    if (db->Get(rocksdb::ReadOptions(), meta, "head", &bytes).ok() && log::Head::Decode(bytes, &h)) {
      progress_total = h.frontier.size();
    }
  }
  scanner.Start([&](base::ReadAhead<ScanChunk>& pipe) { ScanLog(pipe, db, log_cf, &scan_end); });
  while (ScanChunk* chunk = scanner.NextFull()) {
    size_t issue = 0;
    auto report_issues = [&](size_t before) {
      for (; issue < chunk->issues.size() && chunk->issues[issue].before_record <= before; ++issue) {
        const ScanIssue& i = chunk->issues[issue];
        if (i.kind == ScanIssue::kGap) ++gaps;
        if (i.kind == ScanIssue::kBadRecord) ++bad_records;
        out.Fail(i.what, i.position, nullptr, nullptr);
      }
    };
    size_t begin = 0;
    for (size_t r = 0; r < chunk->ends.size(); ++r) {
      report_issues(r);
      std::string_view value(chunk->bytes.data() + begin, chunk->ends[r] - begin);
      begin = chunk->ends[r];
      frontier.Append(hasher, chunk->leaves.empty() ? hasher.Leaf(value) : chunk->leaves[r],
                      on_complete);
      checkpoints_due();
    }
    report_issues(chunk->ends.size());
    if (options.on_progress) options.on_progress(frontier.size(), progress_total);
    scanner.GiveBack(chunk);
  }
  uint64_t expected_position = scan_end.expected_position;
  bool scan_complete = scan_end.status.ok();
  if (!scan_complete) {
    out.Fail("reading the log failed after position " + Num(expected_position - 1) + ": " +
                 scan_end.status.ToString(),
             expected_position, nullptr, nullptr);
  }
  report.leaves = frontier.size();
  Hash root = frontier.Root(hasher);

  out.Line(Num(report.leaves) + " records hashed (RFC 6962 leaves); recomputed tree of size " +
           Num(report.leaves) + " has root " + Hex(root));
  if (gaps == 0 && scan_complete) {
    out.Line(report.leaves == 0 ? "the log is empty"
                                : "positions are dense from 1 to " + Num(report.leaves));
  }
  if (bad_records == 0) out.Line("every record parses as a StoredRecord holding its own position");
  out.Line(Num(nodes_checked) + " complete subtrees of 256 records and up compared with the stored "
                                "Merkle nodes" +
           (block_mismatches == 0 ? "" : "; " + Num(block_mismatches) + " differ"));

  // Stored checkpoints the log never reached.
  for (; has_current; next_stored()) {
    std::string name = "checkpoint of size " + Num(current.cp.size);
    if (!current.signature_ok) {
      out.Fail(name + ": the signature does not verify with the public key (forged or altered)",
               0, nullptr, nullptr);
    }
    if (!scan_complete) {
      out.Line(name + ": root not checked, the log could not be read that far");
    } else {
      out.Fail("truncated: the log ends after " + Num(report.leaves) +
                   " records, but the signed " + name + " covers " + Num(current.cp.size) +
                   " records (records " + Num(report.leaves + 1) + ".." + Num(current.cp.size) +
                   " were removed)",
               report.leaves + 1, &current.cp.root, &root);
    }
    done_with(current);
  }
  out.Line(Num(stored_count) + " signed checkpoint(s) found in the store");

  // Held checkpoints the log never reached: the store does not extend them.
  for (; next_held < held.size(); ++next_held) {
    const HeldCheckpoint& h = held[next_held];
    if (!VerifyCheckpointSignature(h.checkpoint, public_key)) {
      out.Fail(held_name(h) + ": the signature does not verify with the public key, so it proves "
                              "nothing about this store (signed with another key, or altered)",
               0, nullptr, nullptr);
    }
    if (!scan_complete) {
      out.Fail("the store does not extend " + held_name(h) +
                   ": the log could not be read that far",
               expected_position, nullptr, nullptr);
    } else {
      out.Fail("the store does not extend " + held_name(h) + ": the log ends after " +
                   Num(report.leaves) + " records, so records " + Num(report.leaves + 1) + ".." +
                   Num(h.checkpoint.size) + " were removed after it was signed",
               report.leaves + 1, &h.checkpoint.root, &root);
    }
  }

  // The store's own head: its size and frontier must be the recomputed ones.
  std::string head_bytes;
  s = db->Get(rocksdb::ReadOptions(), meta, "head", &head_bytes);
  log::Head head;
  if (!s.ok()) {
    out.Fail("the store's head (metadata key \"head\") is " +
                 std::string(s.IsNotFound() ? "missing" : "unreadable: " + s.ToString()),
             0, nullptr, nullptr);
  } else if (!log::Head::Decode(head_bytes, &head)) {
    out.Fail("the store's head (metadata key \"head\") is damaged", 0, nullptr, nullptr);
  } else if (scan_complete) {
    uint64_t head_size = head.frontier.size();
    Hash head_root = head.frontier.Root(hasher);
    if (report.leaves < head_size) {
      out.Fail("truncated: the store's head says the log holds " + Num(head_size) +
                   " records, but it ends after " + Num(report.leaves),
               report.leaves + 1, &head_root, &root);
    } else if (report.leaves > head_size) {
      out.Fail("the log holds " + Num(report.leaves) + " records but the store's head says " +
                   Num(head_size) + ": records " + Num(head_size + 1) + ".." +
                   Num(report.leaves) + " were added outside the store",
               head_size + 1, &head_root, &root);
    } else if (head_root != root) {
      uint64_t from = std::min(vouched, head_size) + 1;
      out.Fail("the store's head (its Merkle frontier) differs from the tree recomputed from the "
               "log; a record in " + Num(from) + ".." + Num(head_size) +
                   " was changed (or the head was)",
               from, &head_root, &root);
    } else {
      out.Line("the store's head (size " + Num(head_size) +
               ") matches the recomputed tree; it is unsigned, so it is only a consistency check");
    }
  }
  if (stored_count == 0) {
    out.Fail("the store holds no signed checkpoint, so nothing signed vouches for its log (only "
             "its internal consistency was checked); sign one with `hearth checkpoint`",
             0, nullptr, nullptr);
  } else if (scan_complete && newest_size < report.leaves) {
    out.Line("note: records " + Num(newest_size + 1) + ".." + Num(report.leaves) +
             " are after the newest checkpoint; no signature covers them yet");
  }
  out.Finish();
  return report;
}

}  // namespace

Result<VerifyReport> VerifyStoreFiles(const std::string& dir,
                                      const std::array<uint8_t, 32>& public_key,
                                      const VerifyOptions& options) {
  try {
    return VerifyFiles(dir, public_key, options);
  } catch (const std::exception& e) {  // out of memory, no thread: nothing was verified
    return Status::IOError("verifying " + dir + " failed: " + e.what());
  }
}

}  // namespace hearth::merkle
