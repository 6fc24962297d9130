// Group commit (log/commit_queue.h).
#include "log/commit_queue.h"

#include <algorithm>

namespace hearth::log {

Status CommitQueue::Submit(Entry* e) {
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(e);
  if (leader_active_ || exclusive_waiting_ > 0) {
    // Someone leads, or exclusive work waits for the place: sleep until
    // this writer's group is published or the place is handed to it.
    lock.unlock();
    e->wake.acquire();
    lock.lock();
    if (e->done) return e->status;
    // Handed the place: leader_active_ was set for this writer.
  } else {
    leader_active_ = true;
  }
  for (;;) {
    // Lead: take everything queued, commit it as one group.
    std::vector<Entry*> group(queue_.begin(), queue_.end());
    queue_.clear();
    ++stats_.groups;
    stats_.grouped_appends += group.size();
    for (size_t b = 0; b < WriterStats::kGroupSizeBounds.size(); ++b) {
      if (group.size() <= WriterStats::kGroupSizeBounds[b]) ++stats_.group_sizes[b];
    }
    lock.unlock();
    std::vector<Entry*> requeue;
    commit_(group, &requeue);
    lock.lock();
    // Only now, with the commit published, may a writer return: it must be
    // able to read what it wrote.
    std::vector<Entry*> published;
    published.reserve(group.size());
    for (Entry* r : group) {
      if (std::find(requeue.begin(), requeue.end(), r) != requeue.end()) continue;
      r->done = true;
      if (r != e) published.push_back(r);
    }
    for (auto it = requeue.rbegin(); it != requeue.rend(); ++it) queue_.push_front(*it);
    Entry* next = GiveUpPlaceLocked();
    if (next == e) {
      // This writer's own request was sent back and is first in the queue:
      // it leads the next group itself.
      for (Entry* r : published) r->wake.release();
      continue;
    }
    lock.unlock();
    // After the unlock: a woken writer may return and free its entry at once.
    for (Entry* r : published) r->wake.release();
    if (next != nullptr) next->wake.release();
    if (e->done) return e->status;
    // Sent back, and another leads next (or exclusive work waits): wait
    // like any queued writer.
    e->wake.acquire();
    lock.lock();
    if (e->done) return e->status;
  }
}

void CommitQueue::WaitForPlace(std::unique_lock<std::mutex>& lock) {
  ++exclusive_waiting_;
  cv_.wait(lock, [&] { return !leader_active_; });
  --exclusive_waiting_;
}

CommitQueue::Entry* CommitQueue::GiveUpPlaceLocked() {
  leader_active_ = false;
  if (exclusive_waiting_ > 0) {
    cv_.notify_all();
    return nullptr;
  }
  return HandOffLocked();
}

CommitQueue::Entry* CommitQueue::HandOffLocked() {
  if (leader_active_ || exclusive_waiting_ > 0 || queue_.empty()) return nullptr;
  leader_active_ = true;
  return queue_.front();
}

CommitQueue::Lead::Lead(CommitQueue& q) : q_(&q) {
  std::unique_lock<std::mutex> lock(q.mu_);
  q.WaitForPlace(lock);
  q.leader_active_ = true;
}

void CommitQueue::Lead::Release() {
  if (q_ == nullptr) return;
  Entry* next = nullptr;
  {
    std::lock_guard<std::mutex> lock(q_->mu_);
    next = q_->GiveUpPlaceLocked();
  }
  if (next != nullptr) next->wake.release();
  q_ = nullptr;
}

WriterStats CommitQueue::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  WriterStats s = stats_;
  s.queue_depth = queue_.size();
  return s;
}

}  // namespace hearth::log
