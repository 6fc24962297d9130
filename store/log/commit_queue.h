// Group commit (docs/format.md, "Commits"): writers queue their requests and
// one of them at a time leads. The leader takes everything queued, commits
// it as one group through the store's commit function, and publishes it; a
// writer returns only once the group that holds its request is published,
// so it can read what it wrote. Work that must not overlap a commit (a
// checkpoint, a backup, a key rotation, an inline projection's rebuild, a
// replica's import) takes the leader's place for its duration (Lead).
//
// Each waiting writer sleeps on its own entry's semaphore and is woken once:
// when its group is published, or when it is handed the leader's place (the
// first writer queued, once a group is published and nothing exclusive is
// waiting). No broadcast wakes the writers queued for the next group, and no
// woken writer queues again for the lock to find it has nothing to do.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <semaphore>
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
    // Released once for a waiting writer: its group is published (done), or
    // it leads next. Not copied: an entry is queued where it was made.
    std::binary_semaphore wake{0};
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
    WaitForPlace(lock);
    // The place is not taken: the look is made under the lock, then the
    // first queued writer (if any) leads, as after a Lead's release.
    struct HandOnward {
      CommitQueue* q;
      std::unique_lock<std::mutex>* lock;
      ~HandOnward() {
        Entry* next = q->HandOffLocked();
        lock->unlock();
        if (next != nullptr) next->wake.release();
      }
    } hand_onward{this, &lock};
    return fn();
  }

  // Groups and their sizes so far; the requests waiting now.
  WriterStats Stats();

 private:
  // Waits (under `lock`) until no one leads, ahead of writers: a writer
  // queued meanwhile is not handed the place while exclusive work waits.
  void WaitForPlace(std::unique_lock<std::mutex>& lock);
  // With no one leading and no exclusive work waiting: the first queued
  // writer, now marked as leading, to be woken after the lock is released;
  // else nullptr.
  Entry* HandOffLocked();
  // The leader gives up its place: to exclusive work waiting for it (woken
  // here), else as HandOffLocked.
  Entry* GiveUpPlaceLocked();

  CommitFn commit_;
  std::mutex mu_;
  std::condition_variable cv_;  // exclusive work waiting for the place
  std::deque<Entry*> queue_;
  bool leader_active_ = false;
  int exclusive_waiting_ = 0;  // Lead and WhenIdle callers waiting for the place
  WriterStats stats_;
};

}  // namespace hearth::log
