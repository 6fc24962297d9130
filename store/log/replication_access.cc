// The store's side of replication (docs/operations.md, "Replication"): the
// publisher reads committed records by position, exactly as stored; a
// replica imports them with every index the commit path would have written.
// Members of StoreImpl, kept out of store_impl.cc.
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <filesystem>
#include <map>
#include <mutex>

#include "log/format.h"
#include "log/record.h"
#include "log/store_impl.h"

namespace hearth::log {

Status StoreImpl::ReadReplicated(uint64_t from, size_t max_bytes,
                                 std::vector<ReplicatedRecord>* out) {
  out->clear();
  const uint64_t last = committed();
  if (from == 0 || from > last) return Status::OK();
  rocksdb::ReadOptions ro;
  std::string upper = LogKey(last + 1);
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_));
  size_t bytes = 0;
  uint64_t expect = from;
  for (it->Seek(LogKey(from)); it->Valid(); it->Next()) {
    uint64_t pos = it->key().size() == 8 ? GetBE64(it->key().data()) : 0;
    if (pos != expect) {
      return Status::Corruption("position " + std::to_string(expect) + " is missing from the log");
    }
    EnvelopeView env;
    Status st = DecodeEnvelope(it->value().ToStringView(), pos, &env);
    if (!st.ok()) return st;
    std::string idv;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), eventids_, IdKey(env.id), &idv);
    if (!s.ok()) return FromRocks(s, "reading the event id index of position " + std::to_string(pos));
    ReplicatedRecord r;
    r.position = pos;
    r.bytes = it->value().ToString();
    if (idv.size() == 16) {
      r.index = GetBE32(idv.data() + 8);
      r.count = GetBE32(idv.data() + 12);
    } else {
      r.index = 0;  // written before batches were recorded: one event each
      r.count = 1;
    }
    // Stop between appends once the size is reached.
    if (r.index == 0 && !out->empty() && bytes >= max_bytes) break;
    if (out->empty() && r.index != 0) {
      return Status::InvalidArgument("position " + std::to_string(pos) +
                                     " is inside an append: replication reads whole appends");
    }
    bytes += r.bytes.size();
    out->push_back(std::move(r));
    ++expect;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the log");
  // Never end inside an append (the log is read at a commit: it cannot).
  if (!out->empty() && out->back().index + 1 != out->back().count) {
    return Status::Corruption("the log ends inside an append at position " +
                              std::to_string(out->back().position));
  }
  return Status::OK();
}

Status StoreImpl::RecordSubjects(const ReplicatedRecord& record, std::vector<std::string>* subjects) {
  RecordedEvent e;
  Status st = DecodeRecord(record.bytes, record.position, keyring_->facts_key(),
                           nullptr, &e);
  if (!st.ok()) return st;
  subjects->clear();
  for (const auto& ref : e.subjects) subjects->push_back(ref.id);
  if (e.stream == kErasureStream) subjects->push_back(std::string());  // marks an erasure
  return Status::OK();
}

Result<std::string> StoreImpl::WrappedSubjectKey(const std::string& subject) {
  return keyring_->Wrapped(subject);
}

Result<ReplicaIdentity> StoreImpl::Identity() {
  if (!keyring_->encrypted()) return Status::NotSupported("an unencrypted store (benchmarks only) is not replicated");
  ReplicaIdentity id;
  id.format = kFormatVersion;
  rocksdb::ReadOptions ro;
  std::string format;
  rocksdb::Status s = db_->Get(ro, meta_, "format", &format);
  if (s.ok() && format.size() == 4) id.format = GetBE32(format.data());
  if (!s.ok()) return FromRocks(s, "reading the store's format");
  Status st = keyring_->ReadIdentityKeys(&id);
  if (!st.ok()) return st;
  return id;
}

Result<std::vector<SignedCheckpoint>> StoreImpl::CheckpointsAfter(uint64_t size) {
  std::vector<SignedCheckpoint> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(CheckpointKey(size + 1)); it->Valid() && it->key().starts_with("cp"); it->Next()) {
    SignedCheckpoint cp;
    if (!DecodeCheckpoint(it->value().ToStringView(), &cp)) {
      return Status::Corruption("a stored checkpoint is damaged");
    }
    if (cp.size > committed()) break;
    out.push_back(cp);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading checkpoints");
  return out;
}

Status StoreImpl::LoadReplicaMarker() {
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, "replica-of", &replica_of_);
  if (s.IsNotFound()) return Status::OK();
  return FromRocks(s, "reading the replica marker");
}

Status StoreImpl::ReplicaRefusal() const {
  return Status::NotSupported("store " + path_ + " is a read-only replica of stream " + replica_of_ +
                              " (hearth follow): it takes no writes; the primary does, and a lost "
                              "primary is rebuilt with `hearth restore --from-stream`");
}

Status StoreImpl::ImportIdentity(const ReplicaIdentity& identity, const std::string& replica_of) {
  if (!keyring_->encrypted()) return Status::NotSupported("a replica must be an encrypted store");
  if (committed() != 0) {
    return Status::InvalidArgument("store " + path_ + " already holds events; a replica starts empty");
  }
  if (identity.checkpoint_public_key.size() != 32) {
    return Status::Corruption("the replicated identity has no checkpoint public key");
  }
  rocksdb::WriteBatch batch;
  std::string format;
  PutBE32(&format, identity.format);
  batch.Put(meta_, "format", format);
  keyring_->PutIdentityKeys(identity, &batch);
  if (!replica_of.empty()) batch.Put(meta_, "replica-of", replica_of);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  Status st = FromRocks(db_->Write(wo, &batch), "writing the replicated identity");
  if (!st.ok()) return st;
  // The erasure ledger made at creation was signed for the identity just
  // replaced, and holds no entry (the store is empty): drop it. The next open
  // makes it again under the replicated checkpoint key, with every erasure the
  // replica has taken by then.
  if (ledger_) {
    std::error_code ec;
    std::filesystem::remove(ledger_->path(), ec);
    if (ec) return Status::IOError("removing " + ledger_->path() + ": " + ec.message());
    ledger_.reset();
  }
  return Status::OK();
}

Status StoreImpl::ImportSubjectKey(const std::string& subject, const std::string& wrapped) {
  rocksdb::WriteBatch batch;
  bool added = false;
  Status st = keyring_->ImportWrapped(subject, wrapped, &batch, &added);
  if (!st.ok() || !added) return st;
  // Counted as the commit path counts it: a subject with a data key.
  CommitQueue::Lead lead(commits_);
  head_.subjects++;
  batch.Put(meta_, "head", head_.Encode());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  st = FromRocks(db_->Write(wo, &batch), "writing a replicated data key");
  if (!st.ok()) head_.subjects--;
  return st;
}

Status StoreImpl::ImportRecords(const std::vector<ReplicatedRecord>& records,
                                const std::vector<SignedCheckpoint>& checkpoints,
                                const std::vector<std::pair<std::string, std::string>>& meta) {
  // Hold the commit pipeline: the import is this store's only writer.
  CommitQueue::Lead lead(commits_);
  Head saved = head_;
  std::vector<std::string> erased_now;
  rocksdb::WriteBatch batch;
  Status st = [&]() -> Status {
    if (!poisoned_.ok()) return poisoned_;
    // One append at a time: its stream run and subject runs.
    struct Run {
      std::string stream;
      uint64_t first_position = 0, first_version = 0;
      uint32_t count = 0, seen = 0;
      std::map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> subjects;
    } run;
    auto close_run = [&]() {
      for (const auto& [subject, runs] : run.subjects) {
        std::string value;
        for (const auto& [offset, length] : runs) {
          PutBE32(&value, offset);
          PutBE32(&value, length);
        }
        batch.Put(subjects_, IndexKey(subject, run.first_position), value);
      }
      std::string range;
      PutBE64(&range, run.first_position);
      PutBE32(&range, run.count);
      batch.Put(streams_, IndexKey(run.stream, run.first_version), range);
      if (run.first_version == 1) head_.streams++;
      run = Run{};
    };
    for (const ReplicatedRecord& r : records) {
      const std::string where = "replicated position " + std::to_string(r.position);
      if (r.position != head_.next_position) {
        return Status::Corruption(where + " does not continue the log, which ends at " +
                                  std::to_string(head_.next_position - 1));
      }
      if (r.count == 0 || r.index >= r.count || (run.count == 0) != (r.index == 0) ||
          (run.count != 0 && (r.index != run.seen || r.count != run.count))) {
        return Status::Corruption(where + " is not where its append says (" +
                                  std::to_string(r.index) + " of " + std::to_string(r.count) + ")");
      }
      RecordedEvent e;
      // The facts seal authenticates the envelope and the position; personal
      // sections must open under the replicated data keys.
      Status ds = DecodeRecord(
          r.bytes, r.position, keyring_->facts_key(),
          [&](const std::string& subject, std::string_view aad, std::string_view sealed,
              std::string* out, bool* erased) {
            // A subject erased later in the stream has no key left in it
            // (the publisher erased its message): nothing to index then.
            auto stored = keyring_->HasStoredKey(subject);
            if (!stored.ok()) return stored.status();
            if (!*stored) {
              *erased = true;
              return Status::OK();
            }
            return keyring_->Open(subject, aad, sealed, out, erased);
          },
          &e);
      if (!ds.ok()) return Status::Corruption(where + ": " + ds.message());
      if (r.index == 0) {
        run.stream = e.stream;
        run.first_position = r.position;
        run.first_version = e.stream_version;
        run.count = r.count;
      } else if (e.stream != run.stream || e.stream_version != run.first_version + r.index) {
        return Status::Corruption(where + " leaves the stream or version of its append");
      }
      batch.Put(log_, LogKey(r.position), r.bytes);
      std::string id_value = LogKey(r.position);
      PutBE32(&id_value, r.index);
      PutBE32(&id_value, r.count);
      batch.Put(eventids_, IdKey(e.id), id_value);
      tree_->Append(leader_hasher_, r.bytes, &head_.frontier, &batch);
      for (const auto& ref : e.subjects) {
        auto& runs = run.subjects[ref.id];
        if (!runs.empty() && runs.back().first + runs.back().second == r.index) {
          runs.back().second++;
        } else {
          runs.emplace_back(r.index, 1u);
        }
      }
      // The identifier lookup index is not rebuilt: the records do not carry
      // the identifiers (docs/operations.md, "Replication": limits).
      if (e.stream == kErasureStream && e.type == "SubjectErased" && e.subjects.size() == 1) {
        // As the primary's erasure did: the key and the lookups go, a marker stays.
        const std::string& subject = e.subjects[0].id;
        Status es = keyring_->Erase(subject, r.position, e.recorded_at, &batch);
        if (!es.ok()) return es;
        head_.erased++;
        erased_now.push_back(subject);
      }
      head_.clock = std::max(head_.clock, e.recorded_at);
      head_.next_position++;
      if (++run.seen == run.count) close_run();
    }
    if (run.count != 0) {
      return Status::Corruption("the replicated records end inside an append (position " +
                                std::to_string(head_.next_position - 1) + ")");
    }
    for (const SignedCheckpoint& cp : checkpoints) {
      if (cp.size > head_.frontier.size()) {
        return Status::Corruption("a replicated checkpoint of size " + std::to_string(cp.size) +
                                  " is beyond the imported log");
      }
      batch.Put(meta_, CheckpointKey(cp.size), EncodeCheckpoint(cp));
      head_.last_checkpoint = std::max(head_.last_checkpoint, cp.size);
    }
    for (const auto& [key, value] : meta) {
      if (!key.starts_with("replica-")) return Status::InvalidArgument("not a replica key: " + key);
      batch.Put(meta_, key, value);
    }
    batch.Put(meta_, "head", head_.Encode());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Write(wo, &batch), "importing replicated records");
  }();
  if (!st.ok()) {
    head_ = saved;
  } else {
    for (const auto& subject : erased_now) keyring_->MarkErased(subject);
    stream_versions_.clear();
    TreeHead tree{head_.frontier.size(), head_.frontier.Root(leader_hasher_)};
    {
      std::lock_guard<std::mutex> clock(commit_mu_);
      committed_tree_ = tree;
      committed_.store(head_.next_position - 1, std::memory_order_release);
    }
    commit_cv_.notify_all();
  }
  lead.Release();
  // The erased keys leave the files as after the primary's erasure.
  if (st.ok() && !erased_now.empty()) st = keyring_->CompactKeyFiles("a replicated erasure");
  return st;
}

merkle::Frontier StoreImpl::CommittedFrontier() {
  return commits_.WhenIdle([&] { return head_.frontier; });
}

Result<std::string> StoreImpl::MetaValue(const std::string& key) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, key, &value);
  if (!s.ok()) return FromRocks(s, "reading " + key);
  return value;
}

}  // namespace hearth::log
