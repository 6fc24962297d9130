// The projection runner (log/projection_runner.h): inline folds in the
// append's batch, asynchronous catch-up from checkpoints, rebuilds, and
// failure reporting; the public contract is api/include/hearth/projection.h.
//
// Storage (docs/format.md): column family `projections`, key
// name 0x00 user-key -> value; checkpoint in the metadata under
// "proj/" name -> version:u32 position:u64 stopped:u8 failed_position:u64 error.
#include <rocksdb/write_batch.h>

#include <memory>
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>

#include "base/read_ahead.h"
#include "log/format.h"
#include "log/projection_runner.h"
#include "log/rocks_status.h"

namespace hearth::log {

namespace {

constexpr size_t kFoldPage = 1000;
// Pages the asynchronous runner folds a turn, before it looks again at
// which projection is lowest.
constexpr size_t kAsyncFoldPages = 100;

bool ValidProjectionName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string CheckpointKeyOf(const std::string& name) { return "proj/" + name; }

std::string EncodeStatus(const ProjectionStatus& st) {
  std::string v;
  PutBE32(&v, st.version);
  PutBE64(&v, st.position);
  v.push_back(st.stopped ? 1 : 0);
  PutBE64(&v, st.failed_position);
  v += st.error;
  return v;
}

bool DecodeStatus(std::string_view b, ProjectionStatus* st) {
  if (b.size() < 21) return false;
  st->version = GetBE32(b.data());
  st->position = GetBE64(b.data() + 4);
  st->stopped = b[12] != 0;
  st->failed_position = GetBE64(b.data() + 13);
  st->error = std::string(b.substr(21));
  return true;
}

// A projection's view of its key space: reads see the batch's own writes.
class OverlayState final : public ProjectionState {
 public:
  OverlayState(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string prefix)
      : db_(db), cf_(cf), prefix_(std::move(prefix)) {}

  Status Get(std::string_view key, std::string* value) override {
    auto it = writes_.find(std::string(key));
    if (it != writes_.end()) {
      if (!it->second) return Status::NotFound("no such key");
      *value = *it->second;
      return Status::OK();
    }
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_, prefix_ + std::string(key), value);
    if (s.IsNotFound()) return Status::NotFound("no such key");
    if (!s.ok()) return Status::IOError("reading projection state: " + s.ToString());
    return Status::OK();
  }
  void Put(std::string_view key, std::string_view value) override {
    writes_[std::string(key)] = std::string(value);
  }
  void Delete(std::string_view key) override { writes_[std::string(key)] = std::nullopt; }

  void Clear() { writes_.clear(); }
  void Flush(rocksdb::WriteBatch* batch) {
    for (const auto& [key, value] : writes_) {
      if (value) {
        batch->Put(cf_, prefix_ + key, *value);
      } else {
        batch->Delete(cf_, prefix_ + key);
      }
    }
    writes_.clear();
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::string prefix_;
  std::map<std::string, std::optional<std::string>> writes_;
};

Status SafeApply(Projection& projection, const RecordedEvent* event, ProjectionState& state) {
  try {
    return event != nullptr ? projection.Apply(*event, state) : projection.Flush(state);
  } catch (const std::exception& ex) {
    return Status::Corruption(std::string("threw an exception: ") + ex.what());
  } catch (...) {
    return Status::Corruption("threw an exception that is not a std::exception");
  }
}

void SafeDiscard(Projection& projection) {
  try {
    projection.Discard();
  } catch (...) {
    // Discard only drops caches; the batch is dropped either way.
  }
}

// Folds [first, last) into `projection` through `state`, then flushes it.
// On success `st` moves to the last event; on a failure the projection's
// caches are dropped, `st` says where and why it stopped, and the caller
// drops the writes (the state stays at the checkpoint before them).
bool FoldEvents(Projection& projection, std::vector<RecordedEvent>::const_iterator first,
                std::vector<RecordedEvent>::const_iterator last, ProjectionState& state,
                ProjectionStatus* st) {
  for (auto e = first; e != last; ++e) {
    Status applied = SafeApply(projection, &*e, state);
    if (!applied.ok()) {
      st->stopped = true;
      st->failed_position = e->position;
      st->error = "event " + e->type + " in " + e->stream + ": " + applied.ToString();
      SafeDiscard(projection);
      return false;
    }
  }
  Status flushed = SafeApply(projection, nullptr, state);
  if (!flushed.ok()) {
    st->stopped = true;
    st->failed_position = first->position;
    st->error = "flush: " + flushed.ToString();
    SafeDiscard(projection);
    return false;
  }
  st->position = std::prev(last)->position;
  return true;
}

}  // namespace

struct ProjectionRunner::Slot {
  std::shared_ptr<Projection> projection;
  std::string prefix;       // name 0x00
  ProjectionStatus status;  // guarded by mu_
};

ProjectionRunner::ProjectionRunner(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* state,
                                   rocksdb::ColumnFamilyHandle* meta, CommittedLog* log, CommitQueue* commits)
    : db_(db), state_(state), meta_(meta), log_(log), commits_(commits) {}

ProjectionRunner::~ProjectionRunner() { Stop(); }

void ProjectionRunner::PutCheckpoint(rocksdb::WriteBatch* batch, const ProjectionStatus& st) {
  batch->Put(meta_, CheckpointKeyOf(st.name), EncodeStatus(st));
}

ProjectionRunner::Slot* ProjectionRunner::Find(const std::string& name) {
  for (auto& slot : slots_) {
    if (slot->status.name == name) return slot.get();
  }
  return nullptr;
}

Status ProjectionRunner::Reset(Slot* slot) {
  rocksdb::WriteBatch batch;
  std::string end = slot->status.name;
  end.push_back('\x01');
  batch.DeleteRange(state_, slot->prefix, end);
  ProjectionStatus fresh;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fresh = slot->status;
  }
  fresh.version = slot->projection->version();
  fresh.position = 0;
  fresh.stopped = false;
  fresh.failed_position = 0;
  fresh.error.clear();
  PutCheckpoint(&batch, fresh);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  Status st = FromRocksStatus(db_->Write(wo, &batch), "resetting projection " + fresh.name);
  if (!st.ok()) return st;
  std::lock_guard<std::mutex> lock(mu_);
  slot->status = fresh;
  return Status::OK();
}

// Folds positions (each slot's position, to] in pages, each page's states
// and checkpoints in one batch. Several slots fold in one pass over the
// log: each page is read (and decrypted) once and folded into every slot
// that has not folded it yet, in the order given. A slot that fails stops
// alone, where it failed; the others fold on. More than a page is read
// ahead on a second thread: it reads and decodes (and decrypts) the next
// page while this one folds and writes the one before. With `sync`, the
// pages are made durable together when the fold ends (one WAL sync, not one
// a page): each page's batch is atomic and the WAL keeps them in order, so a
// crash before the sync leaves each projection at the checkpoint of an
// earlier page, consistent, and it folds on from there. Without `sync` (the
// asynchronous runner) it also stops between pages when the store closes.
Status ProjectionRunner::FoldFrom(const std::vector<Slot*>& slots, uint64_t from, uint64_t to, bool sync) {
  struct Folding {
    Slot* slot;
    ProjectionStatus st;
    bool touched = false;  // folded into the page being written
  };
  std::vector<Folding> folding;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Slot* slot : slots) {
      if (!slot->status.stopped) folding.push_back(Folding{slot, slot->status});
    }
  }
  uint64_t next = ~uint64_t(0);
  std::string names;
  for (const Folding& f : folding) {
    next = std::min(next, std::max(from, f.st.position + 1));
    names += (names.empty() ? "" : ", ") + f.st.name;
  }
  if (folding.empty() || next > to) return Status::OK();

  struct Page {
    std::vector<RecordedEvent> events;  // reused from page to page
    Status status;                      // the reading's
  };
  auto read = [this, to](uint64_t first, Page* page, std::unique_ptr<rocksdb::Iterator>* cursor) {
    page->status =
        log_->ReadFactsInto(first, size_t(std::min<uint64_t>(kFoldPage, to - first + 1)), &page->events, cursor);
  };
  // Folds one page into each slot still going and writes their states with
  // their checkpoints; false when every slot has stopped or the write failed
  // (`*written` says which).
  bool unsynced = false;  // a page was written since the last sync
  auto fold = [&](const std::vector<RecordedEvent>& page, Status* written) {
    rocksdb::WriteBatch batch;
    bool any = false;
    for (Folding& f : folding) {
      f.touched = false;
      if (f.st.stopped) continue;
      // The page's events past this slot's checkpoint (the page is in order).
      auto first = std::upper_bound(page.begin(), page.end(), f.st.position,
                                    [](uint64_t p, const RecordedEvent& e) { return p < e.position; });
      if (first == page.end()) continue;
      OverlayState state(db_, state_, f.slot->prefix);
      // A failure drops the page: the state stays at the checkpoint before it.
      if (!FoldEvents(*f.slot->projection, first, page.end(), state, &f.st)) state.Clear();
      state.Flush(&batch);
      PutCheckpoint(&batch, f.st);
      f.touched = true;
      any = true;
    }
    if (any) {
      *written = FromRocksStatus(db_->Write(rocksdb::WriteOptions(), &batch), "writing projections " + names);
      if (!written->ok()) return false;
      unsynced = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const Folding& f : folding) {
          if (f.touched) f.slot->status = f.st;
        }
      }
      cv_.notify_all();
    }
    return std::any_of(folding.begin(), folding.end(), [](const Folding& f) { return !f.st.stopped; });
  };

  Status written;
  auto synced = [&](Status result) {
    if (sync && unsynced) {
      Status s = FromRocksStatus(db_->SyncWAL(), "syncing projections " + names);
      if (result.ok()) result = s;
    }
    return result;
  };
  if (to - next < kFoldPage) {  // one page: no second thread
    Page page;
    read(next, &page, nullptr);
    if (!page.status.ok()) return page.status;
    if (!page.events.empty()) fold(page.events, &written);
    return synced(written);
  }
  base::ReadAhead<Page> pages(2);
  pages.Start([&read, next, to](base::ReadAhead<Page>& pipe) {
    std::unique_ptr<rocksdb::Iterator> cursor;  // one pass over the log, in order
    for (uint64_t first = next; first <= to;) {
      Page* page = pipe.NextFree();
      if (page == nullptr) return;  // the folding stopped
      read(first, page, &cursor);
      bool last = !page->status.ok() || page->events.empty();
      first += page->events.size();
      pipe.Hand(page);
      if (last) return;
    }
  });
  for (uint64_t expect = next; Page* page = pages.NextFull(); expect += kFoldPage) {
    if (!page->status.ok()) return synced(page->status);
    if (page->events.empty()) break;
    // The pages follow each other, whole but for the last.
    if (page->events.front().position != expect) {
      return synced(Status::Corruption("projections " + names +
                                       ": a page read ahead starts at position " +
                                       std::to_string(page->events.front().position) + ", not " +
                                       std::to_string(expect)));
    }
    bool going = fold(page->events, &written);
    pages.GiveBack(page);
    if (!going) break;
    if (!sync && stop_) break;  // the asynchronous runner, told to stop
  }
  return synced(written);
}

Status ProjectionRunner::Start(const std::vector<std::shared_ptr<Projection>>& projections) {
  std::vector<Slot*> inline_slots;
  for (const auto& projection : projections) {
    if (!projection) return Status::InvalidArgument("a projection in Options::projections is null");
    std::string name = projection->name();
    if (!ValidProjectionName(name)) {
      return Status::InvalidArgument("projection name '" + name +
                                     "' is not valid: 1 to 64 of a-z 0-9 _ -");
    }
    if (Find(name) != nullptr) {
      return Status::InvalidArgument("two projections are named " + name);
    }
    auto slot = std::make_unique<Slot>();
    slot->projection = projection;
    slot->prefix = name;
    slot->prefix.push_back('\0');
    slot->status.name = name;
    slot->status.mode = projection->mode();
    std::string bytes;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, CheckpointKeyOf(name), &bytes);
    bool known = false;
    if (s.ok()) {
      if (!DecodeStatus(bytes, &slot->status)) {
        return Status::Corruption("the checkpoint of projection " + name + " is damaged");
      }
      slot->status.name = name;
      slot->status.mode = projection->mode();
      known = slot->status.version == projection->version();
    } else if (!s.IsNotFound()) {
      return FromRocksStatus(s, "reading the checkpoint of projection " + name);
    }
    Slot* raw = slot.get();
    slots_.push_back(std::move(slot));
    if (!known) {
      Status st = Reset(raw);
      if (!st.ok()) return st;
    }
    if (projection->mode() == ProjectionMode::kInline) {
      has_inline_ = true;
      inline_slots.push_back(raw);
    }
  }
  // An inline projection is never behind the log once the store is open:
  // those behind fold together, in one pass over the log.
  if (Status st = FoldFrom(inline_slots, 1, log_->Committed(), true); !st.ok()) return st;
  bool any_async = std::any_of(slots_.begin(), slots_.end(), [](const auto& slot) {
    return slot->status.mode == ProjectionMode::kAsync;
  });
  if (any_async) thread_ = std::thread([this] { RunAsync(); });
  return Status::OK();
}

void ProjectionRunner::Stop(const std::function<void()>& wake) {
  stop_ = true;
  if (wake) wake();
  if (thread_.joinable()) thread_.join();
}

void ProjectionRunner::RunAsync() {
  while (!stop_ && !log_->Closing()) {
    uint64_t lowest = ~uint64_t(0);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& slot : slots_) {
        if (slot->status.mode == ProjectionMode::kAsync && !slot->status.stopped) {
          lowest = std::min(lowest, slot->status.position);
        }
      }
    }
    uint64_t end = log_->Committed();
    if (lowest == ~uint64_t(0) || lowest >= end) {
      log_->WaitPast(lowest == ~uint64_t(0) ? end : lowest, 100);
      continue;
    }
    std::lock_guard<std::mutex> run(run_mu_);
    if (stop_) break;
    std::vector<Slot*> async_slots;
    for (auto& slot : slots_) {
      if (slot->status.mode == ProjectionMode::kAsync) async_slots.push_back(slot.get());
    }
    // Async state is rebuildable: no sync of its own (the next commit syncs
    // the WAL); a crash resumes from the checkpoint in the same batch. Every
    // asynchronous projection folds in the same pass over the log, from the
    // lowest; a hundred pages a turn: each turn starts a read-ahead and a
    // log iterator again, and folds its first page with nothing read ahead.
    // Closing the store stops a turn between pages.
    Status st = FoldFrom(async_slots, 1, std::min<uint64_t>(end, lowest + kAsyncFoldPages * kFoldPage), false);
    if (!st.ok()) {
      // The log could not be read, or the state not written: every
      // projection of the pass stops, saying why.
      std::lock_guard<std::mutex> lock(mu_);
      for (Slot* slot : async_slots) {
        if (slot->status.stopped) continue;
        slot->status.stopped = true;
        slot->status.error = st.ToString();
      }
      cv_.notify_all();
    }
  }
}

std::vector<ProjectionRunner::InlineOutcome> ProjectionRunner::FoldInline(const std::vector<RecordedEvent>& events,
                                                                          rocksdb::WriteBatch* batch) {
  std::vector<InlineOutcome> outcomes;
  for (auto& slot : slots_) {
    if (slot->status.mode != ProjectionMode::kInline) continue;
    ProjectionStatus st;
    {
      std::lock_guard<std::mutex> lock(mu_);
      st = slot->status;
    }
    if (st.stopped) continue;
    OverlayState state(db_, state_, slot->prefix);
    // A failure drops the group's writes: the state stays at the last
    // checkpoint, and the projection reports where it stopped.
    if (FoldEvents(*slot->projection, events.begin(), events.end(), state, &st)) state.Flush(batch);
    PutCheckpoint(batch, st);
    outcomes.push_back(InlineOutcome{slot.get(), st});
  }
  return outcomes;
}

void ProjectionRunner::CommitInline(const std::vector<InlineOutcome>& outcomes) {
  if (outcomes.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& o : outcomes) o.slot->status = o.status;
  }
  cv_.notify_all();
}

Status ProjectionRunner::Stored(std::vector<ProjectionStatus>* out) {
  std::map<std::string, ProjectionStatus> found;
  const std::string prefix = CheckpointKeyOf("");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ProjectionStatus st;
    st.name = it->key().ToString().substr(prefix.size());
    if (!DecodeStatus(it->value().ToStringView(), &st)) {
      return Status::Corruption("the checkpoint of projection " + st.name + " is damaged");
    }
    found[st.name] = st;
  }
  if (!it->status().ok()) return FromRocksStatus(it->status(), "reading projection checkpoints");
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& slot : slots_) found[slot->status.name] = slot->status;
  }
  for (auto& [name, st] : found) out->push_back(std::move(st));
  return Status::OK();
}

std::vector<ProjectionStatus> ProjectionRunner::Statuses() {
  std::vector<ProjectionStatus> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& slot : slots_) out.push_back(slot->status);
  return out;
}

Status ProjectionRunner::Rebuild(const std::vector<std::string>& names) {
  std::vector<Slot*> slots;
  for (const std::string& name : names) {
    Slot* slot = Find(name);
    if (slot == nullptr) return Status::NotFound("no projection named " + name);
    if (std::find(slots.begin(), slots.end(), slot) == slots.end()) slots.push_back(slot);
  }
  if (slots.empty()) return Status::InvalidArgument("no projection named to rebuild");
  // Pause the asynchronous runner; for an inline projection also hold the
  // commit pipeline, so no append folds into it while it is rebuilt.
  std::lock_guard<std::mutex> run(run_mu_);
  std::optional<CommitQueue::Lead> lead;
  if (std::any_of(slots.begin(), slots.end(),
                  [](Slot* slot) { return slot->status.mode == ProjectionMode::kInline; })) {
    lead.emplace(*commits_);
  }
  Status st;
  for (Slot* slot : slots) {
    if (st.ok()) st = Reset(slot);
  }
  if (st.ok()) st = FoldFrom(slots, 1, log_->Committed(), true);
  lead.reset();
  if (!st.ok()) return st;
  std::string stopped;
  std::lock_guard<std::mutex> lock(mu_);
  for (Slot* slot : slots) {
    if (!slot->status.stopped) continue;
    stopped += std::string(stopped.empty() ? "" : "; ") + "projection " + slot->status.name +
               " stopped at position " + std::to_string(slot->status.failed_position) + ": " +
               slot->status.error;
  }
  if (!stopped.empty()) return Status::Corruption(stopped);
  return Status::OK();
}

Status ProjectionRunner::WaitFor(const std::string& name, uint64_t position, int timeout_ms) {
  Slot* slot = Find(name);
  if (slot == nullptr) return Status::NotFound("no projection named " + name);
  uint64_t target = position == 0 ? log_->Committed() : position;
  std::unique_lock<std::mutex> lock(mu_);
  bool reached = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return slot->status.stopped || slot->status.position >= target;
  });
  if (slot->status.stopped) {
    return Status::Corruption("projection " + name + " stopped at position " +
                              std::to_string(slot->status.failed_position) + ": " +
                              slot->status.error + " (run `hearth rebuild " + name + "`)");
  }
  if (!reached) {
    return Status::Busy("projection " + name + " is at position " +
                        std::to_string(slot->status.position) + ", still catching up to " +
                        std::to_string(target));
  }
  return Status::OK();
}

Status ProjectionRunner::Get(const std::string& name, std::string_view key, std::string* value) {
  Slot* slot = Find(name);
  if (slot == nullptr) return Status::NotFound("no projection named " + name);
  rocksdb::Status s =
      db_->Get(LogReadOptions(), state_, slot->prefix + std::string(key), value);
  if (s.IsNotFound()) return Status::NotFound("no such key in projection " + name);
  return FromRocksStatus(s, "reading projection " + name);
}

Status ProjectionRunner::GetMany(const std::string& name, const std::vector<std::string>& keys,
                                 std::vector<std::optional<std::string>>* values) {
  Slot* slot = Find(name);
  if (slot == nullptr) return Status::NotFound("no projection named " + name);
  values->assign(keys.size(), std::nullopt);
  if (keys.empty()) return Status::OK();
  // One MultiGet: RocksDB looks each table's filter and index up once for
  // the batch and reads a block once for the keys it holds.
  std::vector<std::string> full(keys.size());
  std::vector<rocksdb::Slice> slices(keys.size());
  bool sorted = true;
  for (size_t i = 0; i < keys.size(); ++i) {
    full[i] = slot->prefix + keys[i];
    slices[i] = full[i];
    if (i > 0 && keys[i] < keys[i - 1]) sorted = false;
  }
  std::vector<rocksdb::PinnableSlice> got(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(LogReadOptions(), state_, slices.size(), slices.data(), got.data(), statuses.data(),
                sorted);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocksStatus(statuses[i], "reading projection " + name);
    (*values)[i] = got[i].ToString();
  }
  return Status::OK();
}

Status ProjectionRunner::Scan(const std::string& name, std::string_view prefix, std::string_view from,
                              const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  Slot* slot = Find(name);
  if (slot == nullptr) return Status::NotFound("no projection named " + name);
  if (!from.starts_with(prefix)) {
    return Status::InvalidArgument("a scan of projection " + name + " starts at a key outside its prefix");
  }
  std::string start = slot->prefix + std::string(prefix);
  // A scan reads each block once, in order (the retention review reads every
  // case): it does not fill the block cache, so it neither evicts the blocks
  // the read models' point lookups keep hot nor grows the process to the
  // cache's size (issue 22: memory that does not grow with the store). It
  // stops at the prefix's end instead of reading the next block to find it.
  std::string limit = start;
  while (!limit.empty() && static_cast<unsigned char>(limit.back()) == 0xff) limit.pop_back();
  if (!limit.empty()) limit.back() = static_cast<char>(static_cast<unsigned char>(limit.back()) + 1);
  rocksdb::Slice upper(limit);
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  if (!limit.empty()) scan.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(scan, state_));
  for (it->Seek(slot->prefix + std::string(from)); it->Valid() && it->key().starts_with(start); it->Next()) {
    std::string_view key = it->key().ToStringView().substr(slot->prefix.size());
    if (!fn(key, it->value().ToStringView())) break;
  }
  return FromRocksStatus(it->status(), "scanning projection " + name);
}

}  // namespace hearth::log
