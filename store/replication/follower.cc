// The replica side (docs/operations.md, "Replication"): `hearth follow`
// keeps a read-only replica, importing records only once a signed
// checkpoint covers them and extends what it holds; `hearth restore
// --from-stream` rebuilds a lost store beside its directory and puts it in
// place only once the verifier passes.
#include <filesystem>
#include <memory>

#include "crypto/keyring.h"
#include "log/erasure_ledger.h"
#include "log/store_impl.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "audit/verifier.h"
#include "replication/nats_link.h"
#include "replication/replication.h"
#include "replication/wire.h"

namespace hearth::replication {

namespace fs = std::filesystem;

namespace {

std::string HexOf(const Hash& h) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t b : h) {
    s.push_back(d[b >> 4]);
    s.push_back(d[b & 15]);
  }
  return s.substr(0, 16);
}

std::string_view Data(natsMsg* m) {
  return std::string_view(natsMsg_GetData(m), size_t(natsMsg_GetDataLength(m)));
}

struct SubDeleter {
  void operator()(natsSubscription* s) const {
    natsSubscription_Unsubscribe(s);
    natsSubscription_Destroy(s);
  }
};

// Reads the stream and applies it to a store.
class Applier {
 public:
  Applier(const FollowOptions& o, bool restore) : o_(o), restore_(restore) {}

  // The stream's identity, checked against the auditor's key and the root key.
  Result<log::ReplicaIdentity> ReadIdentity() {
    const std::string& name = o_.target.stream;
    auto meta = link_.LastMsg(name, name + ".meta");
    if (!meta.ok()) return meta.status();
    if (!*meta) {
      return Status::NotFound("stream " + name + " holds no hearth store (no identity message)");
    }
    log::ReplicaIdentity id;
    if (!wire::DecodeIdentity(Data(meta->get()), &id)) {
      return Status::Corruption("stream " + name + " has a damaged identity message");
    }
    if (std::memcmp(id.checkpoint_public_key.data(), o_.public_key.data(), 32) != 0) {
      return Status::Corruption("stream " + name + " is signed with another checkpoint key than "
                                "the one you hold: refused, nothing written");
    }
    crypto::KdfParams params;
    if (!crypto::KdfParams::Decode(id.kdf, &params)) {
      return Status::Corruption("stream " + name + " has damaged key derivation parameters");
    }
    auto root = crypto::DeriveRootKey(o_.key, params);
    if (!root.ok()) return root.status();
    if (crypto::RootFingerprint(*root) != id.root_fingerprint) {
      return Status::WrongKey("wrong key: the passphrase or key file does not open the store "
                              "replicated in stream " + name);
    }
    return id;
  }

  Status Connect() {
    Status st = ValidateTarget(o_.target);
    if (!st.ok()) return st;
    return link_.Connect(o_.target.urls);
  }

  // Opens (creating from the identity when new) the store at `dir`.
  Status OpenStore(const std::string& dir, const log::ReplicaIdentity& id) {
    std::error_code ec;
    bool exists = fs::exists(fs::path(dir) / "CURRENT", ec);
    Options options;
    options.key = o_.key;
    if (!exists) {
      options.create_if_missing = true;
      auto fresh = Store::Open(options, dir);
      if (!fresh.ok()) return fresh.status();
      Status st = static_cast<log::StoreImpl*>(fresh->get())->ImportIdentity(id, restore_ ? std::string() : o_.target.stream);
      if (!st.ok()) return st;
      fresh->reset();
      options.create_if_missing = false;
    }
    auto store = Store::Open(options, dir);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    impl_ = static_cast<log::StoreImpl*>(store_.get());
    auto pk = store_->CheckpointPublicKey();
    if (!pk.ok()) return pk.status();
    if (std::memcmp(pk->data(), o_.public_key.data(), 32) != 0) {
      return Status::InvalidArgument("the store at " + dir + " is not a replica of this stream "
                                     "(its checkpoint key differs)");
    }
    frontier_ = impl_->CommittedFrontier();
    report_.imported = frontier_.size();
    return Status::OK();
  }

  // Reads the stream from its start; stops at its end when `to_end`.
  Status Run(bool to_end) {
    const std::string& name = o_.target.stream;
    jsStreamInfo* si = nullptr;
    jsErrCode code = jsErrCode(0);
    natsStatus s = js_GetStreamInfo(&si, link_.js(), name.c_str(), nullptr, &code);
    if (s == NATS_NOT_FOUND) return Status::NotFound("no stream " + name + " in the cluster");
    if (s != NATS_OK) return NatsLink::Error("reading stream " + name, s, code);
    uint64_t msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    if (msgs == 0) return Status::NotFound("stream " + name + " is empty");
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = name.c_str();
    so.Ordered = true;
    natsSubscription* raw = nullptr;
    std::string filter = name + ".>";
    s = js_SubscribeSync(&raw, link_.js(), filter.c_str(), nullptr, &so, &code);
    // Right after a node is lost the cluster may still be electing the
    // stream's leader: retry a while.
    for (int tries = 0; s == NATS_TIMEOUT && tries < 10; ++tries) {
      if (o_.stop && o_.stop()) return Status::OK();
      s = js_SubscribeSync(&raw, link_.js(), filter.c_str(), nullptr, &so, &code);
    }
    if (s != NATS_OK) return NatsLink::Error("subscribing to stream " + name, s, code);
    std::unique_ptr<natsSubscription, SubDeleter> sub(raw);
    int idle_ms = 0;
    for (;;) {
      if (o_.stop && o_.stop()) return Status::OK();
      natsMsg* m = nullptr;
      s = natsSubscription_NextMsg(&m, sub.get(), 200);
      if (s == NATS_TIMEOUT) {
        idle_ms += 200;
        if (to_end && idle_ms >= 10000) {
          return Status::Busy("stream " + name + " stopped delivering before its end");
        }
        continue;
      }
      if (s != NATS_OK) return NatsLink::Error("reading stream " + name, s);
      idle_ms = 0;
      MsgPtr msg(m);
      jsMsgMetaData* meta = nullptr;
      uint64_t pending = 0;
      if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
        pending = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
      }
      Status st = Apply(natsMsg_GetSubject(m), Data(m));
      if (!st.ok()) return st;
      if (to_end && pending == 0) return Status::OK();
    }
  }

  // After a restore has read the whole stream.
  Status FinishRestore() {
    for (const SignedCheckpoint& held : o_.held) {
      if (held.size > report_.imported) {
        return Status::Corruption("the stream ends at position " + std::to_string(report_.imported) +
                                  ", before the checkpoint you hold of size " +
                                  std::to_string(held.size) + ": it does not extend it; refused, "
                                  "nothing written");
      }
      Status st = CheckImported(held, "the checkpoint you hold");
      if (!st.ok()) return st;
    }
    // Sign the tail the stream carried past its last checkpoint (its
    // records opened under the store key: they are the store's own).
    auto cps = store_->Checkpoints();
    if (!cps.ok()) return cps.status();
    if (report_.imported > 0 && (cps->empty() || cps->back().size < report_.imported)) {
      auto cp = store_->WriteCheckpoint();
      if (!cp.ok()) return cp.status();
    }
    store_.reset();
    return Status::OK();
  }

  const FollowReport& report() const { return report_; }
  void Close() { store_.reset(); }

 private:
  void Line(const std::string& s) {
    if (o_.on_line) o_.on_line(s);
  }

  Status Apply(const std::string& subject, std::string_view data) {
    const std::string& name = o_.target.stream;
    std::string kind = subject.substr(std::min(subject.size(), name.size() + 1));
    if (kind == "meta") {
      log::ReplicaIdentity id;
      if (!wire::DecodeIdentity(data, &id) ||
          std::memcmp(id.checkpoint_public_key.data(), o_.public_key.data(), 32) != 0) {
        return Status::Corruption("stream " + name + " carries an identity message of another store");
      }
      return Status::OK();
    }
    if (kind.starts_with("key.")) {
      std::string who, wrapped;
      if (!wire::DecodeKey(data, &who, &wrapped) || "key." + wire::HexSubject(who) != kind) {
        return Status::Corruption("stream " + name + " has a damaged key message (" + kind + ")");
      }
      Status st = impl_->ImportSubjectKey(who, wrapped);
      if (st.ok()) report_.keys++;
      return st;
    }
    if (kind == "log") {
      std::vector<log::ReplicatedRecord> records;
      if (!wire::DecodeLog(data, &records)) {
        return Status::Corruption("stream " + name + " has a damaged log message");
      }
      uint64_t end = report_.imported + pending_.size();
      if (records.back().position <= end) return Status::OK();  // already held (a restart)
      // A restarted follower holds the start of a message up to a checkpoint.
      while (!records.empty() && records.front().position <= end) records.erase(records.begin());
      if (records.front().position != end + 1) {
        return Status::Corruption("stream " + name + " skips from position " + std::to_string(end) +
                                  " to " + std::to_string(records.front().position) +
                                  " (records removed): refused");
      }
      for (auto& r : records) pending_.push_back(std::move(r));
      report_.pending = pending_.size();
      if (restore_) return ImportPending(pending_.size(), {});
      return Status::OK();
    }
    if (kind == "cp") {
      SignedCheckpoint cp;
      if (!wire::DecodeCheckpoint(data, &cp)) {
        return Status::Corruption("stream " + name + " has a damaged checkpoint message");
      }
      if (!merkle::VerifyCheckpointSignature(cp, o_.public_key)) {
        return Status::Corruption("the checkpoint of size " + std::to_string(cp.size) + " in stream " +
                                  name + " fails its signature: refused");
      }
      if (cp.size <= report_.imported) {
        Status st = CheckImported(cp, "the stream's checkpoint");
        if (st.ok()) report_.checkpoints++;
        return st;
      }
      uint64_t end = report_.imported + pending_.size();
      if (cp.size > end) {
        return Status::Corruption("the checkpoint of size " + std::to_string(cp.size) +
                                  " comes before its records (the stream holds " +
                                  std::to_string(end) + "): refused");
      }
      Status st = ImportPending(size_t(cp.size - report_.imported), {cp});
      if (st.ok()) report_.checkpoints++;
      return st;
    }
    return Status::Corruption("stream " + name + " has a message on an unknown subject " + subject);
  }

  // A checkpoint no larger than what the store holds: the store's tree
  // extends it (RFC 9162 consistency proof, checked by the verifier's code).
  Status CheckImported(const SignedCheckpoint& cp, const std::string& what) {
    auto tree = store_->CurrentTree();
    if (!tree.ok()) return tree.status();
    auto proof = store_->ConsistencyProof(cp.size, tree->size);
    if (!proof.ok()) return proof.status();
    if (!merkle::VerifyConsistency(cp.size, tree->size, cp.root, tree->root, *proof)) {
      return Status::Corruption(what + " of size " + std::to_string(cp.size) + " (root " +
                                HexOf(cp.root) + "...) is not extended by the records of stream " +
                                o_.target.stream + ": refused");
    }
    return Status::OK();
  }

  // Imports the first `n` pending records after checking that, appended to
  // the store's tree, they reach every held checkpoint's root and each given
  // checkpoint's root.
  Status ImportPending(size_t n, const std::vector<SignedCheckpoint>& cps) {
    merkle::Frontier f = frontier_;
    for (size_t i = 0; i < n; ++i) {
      f.Append(hasher_, hasher_.Leaf(pending_[i].bytes), nullptr);
      for (const SignedCheckpoint& held : o_.held) {
        if (held.size == f.size() && f.Root(hasher_) != held.root) {
          return Status::Corruption("the stream's records up to position " +
                                    std::to_string(held.size) + " do not hash to the checkpoint "
                                    "you hold (root " + HexOf(held.root) + "...): the stream does "
                                    "not extend it; refused");
        }
      }
    }
    for (const SignedCheckpoint& cp : cps) {
      if (cp.size == f.size() && f.Root(hasher_) != cp.root) {
        return Status::Corruption("the stream's records up to position " + std::to_string(cp.size) +
                                  " do not hash to its signed checkpoint of that size: the stream "
                                  "was altered; refused");
      }
    }
    // Whole appends only: a restore imports up to the last append boundary.
    while (n > 0 && pending_[n - 1].index + 1 != pending_[n - 1].count) --n;
    if (n == 0) return Status::OK();
    // Verified: written in batches of about 4 MiB of whole appends (each a
    // consistent prefix should the process stop), the checkpoints with the last.
    size_t done = 0;
    while (done < n) {
      size_t end = done, bytes = 0;
      while (end < n && (bytes < (4u << 20) || pending_[end].index != 0)) {
        bytes += pending_[end].bytes.size();
        ++end;
      }
      std::vector<log::ReplicatedRecord> batch(
          std::make_move_iterator(pending_.begin() + long(done)),
          std::make_move_iterator(pending_.begin() + long(end)));
      Status st = impl_->ImportRecords(batch, end == n ? cps : std::vector<SignedCheckpoint>{}, {});
      if (!st.ok()) {
        pending_.erase(pending_.begin(), pending_.begin() + long(end));
        return st;
      }
      done = end;
    }
    pending_.erase(pending_.begin(), pending_.begin() + long(n));
    frontier_ = impl_->CommittedFrontier();
    report_.imported = frontier_.size();
    report_.pending = pending_.size();
    Line("replica at position " + std::to_string(report_.imported));
    return Status::OK();
  }

  const FollowOptions& o_;
  bool restore_;
  NatsLink link_;
  std::unique_ptr<Store> store_;
  log::StoreImpl* impl_ = nullptr;
  merkle::Hasher hasher_;
  merkle::Frontier frontier_;
  std::vector<log::ReplicatedRecord> pending_;
  FollowReport report_;
};

}  // namespace

Result<FollowReport> Follow(const FollowOptions& options) {
  if (options.data.empty()) return Status::InvalidArgument("no replica directory given (--data)");
  Applier a(options, /*restore=*/false);
  Status st = a.Connect();
  if (!st.ok()) return st;
  auto id = a.ReadIdentity();
  if (!id.ok()) return id.status();
  st = a.OpenStore(options.data, *id);
  if (!st.ok()) return st;
  st = a.Run(options.until_caught_up);
  a.Close();
  if (!st.ok()) return st;
  return a.report();
}

Result<FollowReport> RestoreFromStream(const FollowOptions& options) {
  if (options.data.empty()) return Status::InvalidArgument("no store directory given (--data)");
  std::error_code ec;
  const fs::path data(options.data);
  if (fs::exists(data, ec) && !(fs::is_directory(data, ec) && fs::is_empty(data, ec))) {
    return Status::InvalidArgument(options.data + " exists and is not empty: a restore never "
                                   "overwrites; give a new directory");
  }
  const fs::path work = data.string() + ".restoring";
  // The staging store's erasure ledger lies beside it (docs/operations.md).
  const fs::path work_ledger = log::DefaultErasureLedgerPath(work.string());
  if (fs::exists(work, ec)) fs::remove_all(work, ec);  // ours, from an interrupted restore
  fs::remove(work_ledger, ec);
  Applier a(options, /*restore=*/true);
  Status st = a.Connect();
  if (!st.ok()) return st;
  auto id = a.ReadIdentity();
  if (!id.ok()) return id.status();
  st = a.OpenStore(work.string(), *id);
  if (st.ok()) st = a.Run(/*to_end=*/true);
  if (st.ok()) st = a.FinishRestore();
  a.Close();
  if (st.ok()) {
    // The verifier: only the files and the public key, and the held checkpoints.
    merkle::VerifyOptions vo;
    for (const auto& held : options.held) vo.held.push_back({"the checkpoint you hold", held});
    auto report = merkle::VerifyStoreFiles(work.string(), options.public_key, vo);
    if (!report.ok()) {
      st = report.status();
    } else if (!report->ok) {
      st = Status::Corruption("the restored store fails verification: " + report->failure);
    }
  }
  if (!st.ok()) {
    fs::remove_all(work, ec);
    fs::remove(work_ledger, ec);
    return st;
  }
  // The ledger first: a store without its ledger makes it again at open.
  if (fs::exists(work_ledger, ec)) {
    fs::rename(work_ledger, log::DefaultErasureLedgerPath(data.string()), ec);
    if (ec) {
      return Status::IOError("moving the restored erasure ledger " + work_ledger.string() + ": " +
                             ec.message());
    }
  }
  fs::rename(work, data, ec);
  if (ec) {
    return Status::IOError("moving the restored store from " + work.string() + " to " +
                           options.data + ": " + ec.message());
  }
  return a.report();
}

}  // namespace hearth::replication
