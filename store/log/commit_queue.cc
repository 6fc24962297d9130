// Group commit (log/commit_queue.h).
#include "log/commit_queue.h"

#include <algorithm>

namespace hearth::log {

Status CommitQueue::Submit(Entry* e) {
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(e);
  for (;;) {
    while (!e->done && leader_active_) cv_.wait(lock);
    if (e->done) return e->status;
    // Lead: take everything queued, commit it as one group.
    leader_active_ = true;
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
    for (Entry* r : group) {
      if (std::find(requeue.begin(), requeue.end(), r) == requeue.end()) r->done = true;
    }
    for (auto it = requeue.rbegin(); it != requeue.rend(); ++it) queue_.push_front(*it);
    leader_active_ = false;
    cv_.notify_all();
  }
}

CommitQueue::Lead::Lead(CommitQueue& q) : q_(&q) {
  std::unique_lock<std::mutex> lock(q.mu_);
  q.cv_.wait(lock, [&] { return !q.leader_active_; });
  q.leader_active_ = true;
}

void CommitQueue::Lead::Release() {
  if (q_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(q_->mu_);
    q_->leader_active_ = false;
  }
  q_->cv_.notify_all();
  q_ = nullptr;
}

WriterStats CommitQueue::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  WriterStats s = stats_;
  s.queue_depth = queue_.size();
  return s;
}

}  // namespace hearth::log
