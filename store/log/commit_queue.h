// Group commit (docs/format.md, "Commits"): writers queue their requests and
// one of them at a time leads. The leader takes everything queued, commits
// it as one group through the store's commit function, and publishes it; a
// writer returns only once the group that holds its request is published,
// so it can read what it wrote. Work that must not overlap a commit (a
// checkpoint, a backup, a key rotation, an inline projection's rebuild, a
// replica's import) takes the leader's place for its duration (Lead).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::log {

class CommitQueue {
 public:
  // What a request needs for the queue; the store's requests derive from it.
  struct Entry {
    bool done = false;  // set under the queue's lock once its group is published
    Status status;      // set by the commit function
  };
  // Commits `group` (in queue order) and publishes it, without the queue's
  // lock. Entries it puts in `requeue` did not fit this group: they go back
  // to the front of the queue, in order, for the next leader.
  using CommitFn = std::function<void(std::vector<Entry*>& group, std::vector<Entry*>* requeue)>;

  explicit CommitQueue(CommitFn commit) : commit_(std::move(commit)) {}

  // Queues `e` and returns its status once a group holding it is published:
  // this thread leads when no one else does, else it waits.
  Status Submit(Entry* e);

  // The leader's place, held exclusively from construction to destruction
  // (or Release): no group is committed meanwhile.
  class Lead {
   public:
    explicit Lead(CommitQueue& q);
    ~Lead() { Release(); }
    Lead(const Lead&) = delete;
    Lead& operator=(const Lead&) = delete;
    void Release();

   private:
    CommitQueue* q_;
  };

  // Calls fn under the queue's lock once no one leads: a consistent look at
  // what only a leader changes.
  template <typename F>
  auto WhenIdle(F&& fn) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !leader_active_; });
    return fn();
  }

  // Groups and their sizes so far; the requests waiting now.
  WriterStats Stats();

 private:
  CommitFn commit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry*> queue_;
  bool leader_active_ = false;
  WriterStats stats_;
};

}  // namespace hearth::log
