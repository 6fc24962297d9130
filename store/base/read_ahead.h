// A read-ahead between two threads: a producer thread fills slots while the
// consumer works on the ones before, in order. The slots are reused (what a
// slot's vectors and strings hold keeps its capacity), and at most `slots`
// are filled or in use at once, so memory is bounded by the slots however
// long the stream.
//
// Used by the passes over the whole log or a whole projection: the
// verifier's scan (store/audit/verifier.cc), the projections' folds
// (store/log/projection_runner.cc) and the exports' pass over the cases
// projection (store/exports/fact_source.cc). It depends on nothing of the
// engine.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace hearth::base {

template <typename Slot>
class ReadAhead {
 public:
  explicit ReadAhead(size_t slots = 2) {
    slots_.reserve(slots);
    for (size_t i = 0; i < slots; ++i) {
      slots_.push_back(std::make_unique<Slot>());
      free_.push_back(slots_.back().get());
    }
  }
  // Declare it after whatever the producer uses, so that it goes first.
  // However the consumer leaves (the end, an early return, an exception),
  // the producer is stopped at its next slot and joined before the slots go.
  ~ReadAhead() {
    Stop();
    if (thread_.joinable()) thread_.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // Runs `produce(*this)` on the producer thread. When it returns the stream
  // ends after the slots it handed over; an exception it throws is thrown
  // again to the consumer, from NextFull, after those slots.
  template <typename Produce>
  void Start(Produce produce) {
    thread_ = std::thread([this, produce = std::move(produce)]() mutable {
      std::exception_ptr error;
      try {
        produce(*this);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mu_);
      error_ = error;
      finished_ = true;
      cv_.notify_all();
    });
  }

  // The producer's side: an empty slot to fill, oldest given back first
  // (nullptr once the consumer stopped: produce no more), and the filled
  // slot handed over.
  Slot* NextFree() { return Take(free_, stopped_, /*drain=*/false); }
  void Hand(Slot* slot) { Put(full_, slot); }
  // True when every slot is handed over or in use: the consumer is behind,
  // and the producer may share the consumer's work on the slot it holds.
  bool ConsumerBehind() {
    std::lock_guard<std::mutex> lock(mu_);
    return free_.empty();
  }

  // The consumer's side: the next filled slot in order, nullptr after the
  // last one; and the slot given back once used.
  Slot* NextFull() {
    Slot* slot = Take(full_, finished_, /*drain=*/true);
    if (slot == nullptr) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    }
    return slot;
  }
  void GiveBack(Slot* slot) { Put(free_, slot); }
  // The consumer wants no more: the producer's next NextFree returns nullptr.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  // The front of `queue` once it has one; nullptr once `ended` (and, when
  // `drain`, the queue is empty).
  Slot* Take(std::deque<Slot*>& queue, const bool& ended, bool drain) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ended || !queue.empty(); });
    if (queue.empty() || (ended && !drain)) return nullptr;
    Slot* slot = queue.front();
    queue.pop_front();
    return slot;
  }
  void Put(std::deque<Slot*>& queue, Slot* slot) {
    std::lock_guard<std::mutex> lock(mu_);
    queue.push_back(slot);
    cv_.notify_all();
  }

  std::vector<std::unique_ptr<Slot>> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Slot*> free_, full_;
  bool stopped_ = false;   // the consumer's: no more slots wanted
  bool finished_ = false;  // the producer's: no more slots coming
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace hearth::base
