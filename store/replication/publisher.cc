// The publisher: a thread that tails the store by position and publishes
// each committed append to the JetStream stream; and the store wrapper that
// makes Append wait as the AckMode says (docs/operations.md, "Replication").
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "log/store_impl.h"
#include "replication/nats_link.h"
#include "replication/replication.h"
#include "replication/wire.h"

namespace hearth::replication {

Status ValidateTarget(const StreamTarget& target) {
  if (target.urls.empty()) return Status::InvalidArgument("no NATS URL given (--nats nats://HOST:PORT,...)");
  const std::string& n = target.stream;
  bool ok = !n.empty() && n.size() <= 64 &&
            std::all_of(n.begin(), n.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_';
            });
  if (!ok) {
    return Status::InvalidArgument("stream name '" + n.substr(0, 64) +
                                   "' is not valid: 1 to 64 characters of A-Z a-z 0-9 - _");
  }
  return Status::OK();
}

namespace {

class Publisher final : public ReplicatedStore {
 public:
  Publisher(std::unique_ptr<Store> inner, const PublisherOptions& o)
      : inner_(std::move(inner)), impl_(static_cast<log::StoreImpl*>(inner_.get())), o_(o) {}

  ~Publisher() override {
    // kLocal: give the cluster what is committed, for a bounded time.
    if (o_.ack == AckMode::kLocal) (void)WaitReplicated(0, o_.ack_timeout_ms);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  Status Start() {
    Status st = link_.Connect(o_.target.urls);
    if (!st.ok()) return st;
    auto identity = impl_->Identity();
    if (!identity.ok()) return identity.status();
    st = EnsureStream();
    if (!st.ok()) return st;
    const std::string& name = o_.target.stream;
    auto meta = link_.LastMsg(name, name + ".meta");
    if (!meta.ok()) return meta.status();
    if (*meta) {
      log::ReplicaIdentity theirs;
      std::string_view b(natsMsg_GetData(meta->get()), size_t(natsMsg_GetDataLength(meta->get())));
      if (!wire::DecodeIdentity(b, &theirs)) {
        return Status::Corruption("stream " + name + " has a damaged identity message");
      }
      if (theirs.checkpoint_public_key != identity->checkpoint_public_key) {
        return Status::InvalidArgument("stream " + name +
                                       " replicates another store (its checkpoint key differs); "
                                       "give each store its own stream");
      }
      if (theirs.root_fingerprint != identity->root_fingerprint) {
        return Status::NotSupported("stream " + name + " holds the store's keys wrapped under "
                                    "another root key (a rotation): replicate to a new stream");
      }
    } else {
      st = link_.Publish(name + ".meta", wire::EncodeIdentity(*identity), "meta", o_.ack_timeout_ms);
      if (!st.ok()) return st;
    }
    auto last = link_.LastMsg(name, name + ".log");
    if (!last.ok()) return last.status();
    if (*last) {
      std::vector<log::ReplicatedRecord> records;
      std::string_view b(natsMsg_GetData(last->get()), size_t(natsMsg_GetDataLength(last->get())));
      if (!wire::DecodeLog(b, &records)) {
        return Status::Corruption("stream " + name + " has a damaged last log message");
      }
      replicated_ = records.back().position;
      // The stream's newest record must be this store's record there: a
      // store restored from an older copy and written since has diverged.
      auto mine = impl_->RawRecord(replicated_);
      if (replicated_ <= impl_->committed() && (!mine.ok() || *mine != records.back().bytes)) {
        return Status::InvalidArgument(
            "stream " + name + " holds another log than this store at position " +
            std::to_string(replicated_) + ": the store diverged from its stream (restore it "
            "from the stream instead, or replicate to a new stream)");
      }
    }
    if (replicated_ > impl_->committed()) {
      return Status::InvalidArgument(
          "stream " + name + " holds the log up to position " + std::to_string(replicated_) +
          " but this store ends at " + std::to_string(impl_->committed()) +
          ": it is not this store's primary copy (restore it from the stream instead)");
    }
    auto cp = link_.LastMsg(name, name + ".cp");
    if (!cp.ok()) return cp.status();
    if (*cp) {
      SignedCheckpoint c;
      std::string_view b(natsMsg_GetData(cp->get()), size_t(natsMsg_GetDataLength(cp->get())));
      if (wire::DecodeCheckpoint(b, &c)) cp_published_ = c.size;
    }
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  ReplicationStatus Replication() const override {
    std::lock_guard<std::mutex> lock(mu_);
    ReplicationStatus s;
    s.committed = impl_->committed();
    s.replicated = replicated_;
    s.max_lag_seen = max_lag_;
    s.last_error = last_error_;
    return s;
  }

  Status WaitReplicated(uint64_t position, int timeout_ms) override {
    if (position == 0) position = impl_->committed();
    std::unique_lock<std::mutex> lock(mu_);
    bool done = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return replicated_ >= position || stop_; });
    if (done && replicated_ >= position) return Status::OK();
    return Status::Busy("committed and synced here up to position " + std::to_string(position) +
                        ", but the JetStream cluster has acknowledged only up to " +
                        std::to_string(replicated_) + " after " + std::to_string(timeout_ms) +
                        " ms" + (last_error_.empty() ? "" : " (" + last_error_ + ")") +
                        ": retry the same request (it is idempotent)");
  }

  Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                              const std::vector<NewEvent>& events) override {
    if (o_.ack == AckMode::kLocal) {
      Status room = WaitForRoom();
      if (!room.ok()) return room;
    }
    auto r = inner_->Append(stream, expected, events);
    if (!r.ok()) return r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      uint64_t committed = impl_->committed();
      if (committed > replicated_) max_lag_ = std::max(max_lag_, committed - replicated_);
    }
    if (o_.ack == AckMode::kCluster) {
      Status st = WaitReplicated(r->last_position, o_.ack_timeout_ms);
      if (!st.ok()) return st;
    }
    return r;
  }

  Result<AppendResult> EraseSubject(const std::string& subject, const Actor& actor,
                                    const std::string& reason_code) override {
    auto r = inner_->EraseSubject(subject, actor, reason_code);
    if (!r.ok()) return r;
    // Always waits: the erasure is done once the key has left the cluster too.
    Status st = WaitReplicated(r->last_position, o_.ack_timeout_ms);
    if (!st.ok()) return st;
    return r;
  }

  Status RotateRootKey(const KeySource&) override {
    return Status::NotSupported(
        "root-key rotation with replication on is not supported yet: the stream holds the keys "
        "wrapped under the current root key; stop replication, rotate, and replicate to a new "
        "stream (docs/operations.md)");
  }

  // Checkpoints go with the records: with kCluster, returns once the
  // cluster holds the checkpoint too.
  Result<SignedCheckpoint> WriteCheckpoint() override {
    auto cp = inner_->WriteCheckpoint();
    if (!cp.ok() || o_.ack != AckMode::kCluster) return cp;
    std::unique_lock<std::mutex> lock(mu_);
    bool done = cv_.wait_for(lock, std::chrono::milliseconds(o_.ack_timeout_ms),
                             [&] { return cp_published_ >= cp->size || stop_; });
    if (!done || cp_published_ < cp->size) {
      return Status::Busy("checkpoint of size " + std::to_string(cp->size) +
                          " signed here but not yet acknowledged by the JetStream cluster" +
                          (last_error_.empty() ? "" : " (" + last_error_ + ")") + ": retry");
    }
    return cp;
  }

  // Everything else goes to the store underneath.
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& s, uint64_t from, Direction d,
                                                size_t n) override {
    return inner_->ReadStream(s, from, d, n);
  }
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t n) override {
    return inner_->ReadAll(from, n);
  }
  Result<std::vector<RecordedEvent>> ReadSubject(const std::string& s, uint64_t from,
                                                 size_t n) override {
    return inner_->ReadSubject(s, from, n);
  }
  Result<uint64_t> StreamVersion(const std::string& s) override { return inner_->StreamVersion(s); }
  Result<std::vector<std::string>> FindSubjects(const Identifier& id) override {
    return inner_->FindSubjects(id);
  }
  Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from, EventHandler on_event,
                                                  EndHandler on_end) override {
    return inner_->Subscribe(from, std::move(on_event), std::move(on_end));
  }
  Result<StoreInfo> Info() override { return inner_->Info(); }
  Result<std::vector<ProjectionStatus>> Projections() override { return inner_->Projections(); }
  Status RebuildProjection(const std::string& name) override { return inner_->RebuildProjection(name); }
  Status RebuildProjections(const std::vector<std::string>& names) override {
    return inner_->RebuildProjections(names);
  }
  Status WaitForProjection(const std::string& name, uint64_t p, int t) override {
    return inner_->WaitForProjection(name, p, t);
  }
  Status GetProjectionValue(const std::string& name, std::string_view key, std::string* v) override {
    return inner_->GetProjectionValue(name, key, v);
  }
  Status ScanProjection(const std::string& name, std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& fn) override {
    return inner_->ScanProjection(name, prefix, fn);
  }
  Status LogAccess(const std::vector<AccessRecord>& r) override { return inner_->LogAccess(r); }
  Result<std::vector<AccessRecord>> AccessLog(const std::string& s) override {
    return inner_->AccessLog(s);
  }
  Result<uint64_t> Backup(const std::string& dir) override { return inner_->Backup(dir); }
  WriterStats Writer() override { return inner_->Writer(); }
  Result<TreeHead> CurrentTree() override { return inner_->CurrentTree(); }
  Result<std::vector<SignedCheckpoint>> Checkpoints() override { return inner_->Checkpoints(); }
  Result<std::array<uint8_t, 32>> CheckpointPublicKey() override {
    return inner_->CheckpointPublicKey();
  }
  Result<std::vector<Hash>> InclusionProof(uint64_t p, uint64_t n) override {
    return inner_->InclusionProof(p, n);
  }
  Result<std::vector<Hash>> ConsistencyProof(uint64_t a, uint64_t b) override {
    return inner_->ConsistencyProof(a, b);
  }
  Result<std::string> RawRecord(uint64_t p) override { return inner_->RawRecord(p); }
  Result<DocumentBody> ReadDocument(uint64_t p, uint32_t index) override {
    return inner_->ReadDocument(p, index);
  }
  Result<Hash> LeafHash(uint64_t p) override { return inner_->LeafHash(p); }
  Result<std::vector<RecordedEvent>> ReadAllFacts(uint64_t from, size_t n) override {
    return inner_->ReadAllFacts(from, n);
  }
  Result<std::string> RecipientKey(const std::string& recipient) override {
    return inner_->RecipientKey(recipient);
  }
  Result<std::set<std::string>> RestrictedSubjects() override { return inner_->RestrictedSubjects(); }

 private:
  Status EnsureStream() {
    const std::string& name = o_.target.stream;
    jsStreamInfo* si = nullptr;
    jsErrCode code = jsErrCode(0);
    natsStatus s = js_GetStreamInfo(&si, link_.js(), name.c_str(), nullptr, &code);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(si);
      return Status::OK();
    }
    if (s != NATS_NOT_FOUND) return NatsLink::Error("reading stream " + name, s, code);
    std::string subjects = name + ".>";
    const char* subject_list[] = {subjects.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name.c_str();
    cfg.Subjects = subject_list;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Replicas = o_.replicas;
    cfg.Duplicates = int64_t(10) * 60 * 1000 * 1000 * 1000;  // 10 minutes, in ns
    cfg.DenyPurge = true;  // the log is never purged; single messages (keys) are erased
    s = js_AddStream(&si, link_.js(), &cfg, nullptr, &code);
    if (s != NATS_OK) return NatsLink::Error("creating stream " + name, s, code);
    jsStreamInfo_Destroy(si);
    return Status::OK();
  }

  Status WaitForRoom() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.ack_timeout_ms);
    std::unique_lock<std::mutex> lock(mu_);
    while (impl_->committed() - std::min(replicated_, impl_->committed()) >= o_.max_lag_events) {
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        return Status::Busy("replication lag is " +
                            std::to_string(impl_->committed() - replicated_) +
                            " events, at its bound of " + std::to_string(o_.max_lag_events) +
                            (last_error_.empty() ? "" : " (" + last_error_ + ")") +
                            ": appends wait for the JetStream cluster; retry");
      }
    }
    return Status::OK();
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  void NoteError(const Status& st) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = st.ToString();
  }

  // Publishes until acknowledged (same message id on every try) or stop.
  bool PublishUntilAcked(const std::string& subject, const std::string& data, const std::string& id) {
    for (;;) {
      Status st = link_.Publish(subject, data, id, o_.ack_timeout_ms);
      if (st.ok()) return true;
      NoteError(st);
      if (Stopping()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  bool EraseKeyMessages(const std::string& subject) {
    const std::string& name = o_.target.stream;
    const std::string key_subject = name + ".key." + wire::HexSubject(subject);
    for (;;) {
      auto last = link_.LastMsg(name, key_subject);
      if (!last.ok()) {
        NoteError(last.status());
        if (Stopping()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (!*last) return true;
      jsErrCode code = jsErrCode(0);
      natsStatus s = js_EraseMsg(link_.js(), name.c_str(), natsMsg_GetSequence(last->get()), nullptr, &code);
      if (s != NATS_OK && s != NATS_NOT_FOUND) {
        NoteError(NatsLink::Error("erasing a key message", s, code));
        if (Stopping()) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }

  // The signed checkpoints up to `last` (published records) not yet sent.
  bool PublishCheckpoints(uint64_t last) {
    auto cps = impl_->CheckpointsAfter(cp_published_);
    if (!cps.ok()) {
      NoteError(cps.status());
      return true;
    }
    for (const auto& cp : *cps) {
      if (cp.size > last) break;
      if (!PublishUntilAcked(o_.target.stream + ".cp", wire::EncodeCheckpoint(cp),
                             "cp-" + std::to_string(cp.size))) {
        return false;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        cp_published_ = cp.size;
      }
      cv_.notify_all();
    }
    return true;
  }

  void Run() {
    const std::string& name = o_.target.stream;
    while (!Stopping()) {
      uint64_t from = replicated_ + 1;  // only this thread writes replicated_
      if (impl_->committed() < from) {
        // Nothing new: a checkpoint signed since (WriteCheckpoint) still goes.
        if (!PublishCheckpoints(from - 1)) return;
        impl_->WaitPast(from - 1, 100);
        continue;
      }
      std::vector<log::ReplicatedRecord> records;
      Status st = impl_->ReadReplicated(from, o_.max_message_bytes, &records);
      if (!st.ok() || records.empty()) {
        if (!st.ok()) NoteError(st);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      // The wrapped keys first, so that a replica can open what follows.
      std::vector<std::string> erased;
      bool stopped = false;
      for (const auto& r : records) {
        std::vector<std::string> subjects;
        st = impl_->RecordSubjects(r, &subjects);
        if (!st.ok()) break;
        if (!subjects.empty() && subjects.back().empty()) {  // an erasure event
          subjects.pop_back();
          erased.insert(erased.end(), subjects.begin(), subjects.end());
          continue;
        }
        for (const auto& subject : subjects) {
          if (keys_published_.count(subject) != 0) continue;
          auto wrapped = impl_->WrappedSubjectKey(subject);
          if (wrapped.status().IsNotFound()) continue;  // no personal data, or erased since
          if (!wrapped.ok()) {
            st = wrapped.status();
            break;
          }
          if (!PublishUntilAcked(name + ".key." + wire::HexSubject(subject),
                                 wire::EncodeKey(subject, *wrapped), "key-" + subject)) {
            stopped = true;
            break;
          }
          keys_published_.insert(subject);
        }
        if (!st.ok() || stopped) break;
      }
      if (stopped) return;
      if (!st.ok()) {
        NoteError(st);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      uint64_t last = records.back().position;
      std::string id = "log-" + std::to_string(records.front().position) + "-" + std::to_string(last);
      if (!PublishUntilAcked(name + ".log", wire::EncodeLog(records), id)) return;
      for (const auto& subject : erased) {
        if (!EraseKeyMessages(subject)) return;
        keys_published_.erase(subject);
      }
      if (!PublishCheckpoints(last)) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        replicated_ = last;
        uint64_t committed = impl_->committed();
        max_lag_ = std::max(max_lag_, committed > last ? committed - last : 0);
      }
      cv_.notify_all();
    }
  }

  std::unique_ptr<Store> inner_;
  log::StoreImpl* impl_;
  PublisherOptions o_;
  NatsLink link_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t replicated_ = 0;  // guarded by mu_; written by the thread only
  uint64_t max_lag_ = 0;
  std::string last_error_;
  uint64_t cp_published_ = 0;  // guarded by mu_; written by the thread only
  // Publisher thread only.
  std::unordered_set<std::string> keys_published_;
};

}  // namespace

Result<std::unique_ptr<ReplicatedStore>> ReplicatedStore::Open(const Options& options,
                                                               const std::string& path,
                                                               const PublisherOptions& replication) {
  Status st = ValidateTarget(replication.target);
  if (!st.ok()) return st;
  if (!options.encrypt) {
    return Status::NotSupported("an unencrypted store (benchmarks only) is not replicated");
  }
  if (replication.replicas < 1 || replication.max_message_bytes < 1024 ||
      replication.ack_timeout_ms <= 0 || replication.max_lag_events == 0) {
    return Status::InvalidArgument("replication options out of range (replicas >= 1, message "
                                   "bytes >= 1024, positive timeout and lag bound)");
  }
  auto store = Store::Open(options, path);
  if (!store.ok()) return store.status();
  auto pub = std::make_unique<Publisher>(std::move(*store), replication);
  st = pub->Start();
  if (!st.ok()) return st;
  return std::unique_ptr<ReplicatedStore>(std::move(pub));
}

}  // namespace hearth::replication
