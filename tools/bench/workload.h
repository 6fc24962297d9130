// hearth-bench: the synthetic workload every contender runs, and the small
// tools the suites share (timing, temporary directories, key files).
//
// Events are deterministic functions of (seed, index): every contender in a
// run, and every run with the same seed, sees the same bytes. An event
// carries 600 bytes of payload: 200 bytes of facts plus one 400-byte personal
// section for the subject of its stream (encrypted stores), or all 600 bytes
// as facts (unencrypted stores refuse personal sections).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth::bench {

constexpr size_t kFactsBytes = 200;
constexpr size_t kPersonalBytes = 400;
constexpr size_t kEventBytes = kFactsBytes + kPersonalBytes;

// Whether payloads carry a personal section (encrypted stores) or put all
// 600 bytes into facts (unencrypted stores).
enum class Shape { kWithPersonal, kFactsOnly };

// One append: `events` to stream `stream`, whose version before it is
// `first_version - 1`. `blobs` (filled only when asked) are the same events
// serialised for the baselines: one self-describing value per event.
struct Batch {
  uint32_t stream = 0;
  uint64_t first_version = 1;
  uint64_t first_index = 0;  // index of events[0] in the workload
  std::vector<NewEvent> events;
  std::vector<std::string> blobs;
};

class Workload {
 public:
  // `events` in batches of `batch_size` (the last one may be shorter); batch
  // b goes to stream order_[b % streams]: a fixed random permutation, so
  // consecutive batches hit different streams and every stream gets one batch
  // per round.
  Workload(uint64_t events, uint64_t seed, uint32_t streams = 10000, uint32_t batch_size = 100);

  uint64_t events() const { return events_; }
  uint32_t streams() const { return streams_; }
  uint32_t batch_size() const { return batch_size_; }
  uint64_t batches() const { return (events_ + batch_size_ - 1) / batch_size_; }

  static std::string StreamName(uint32_t stream);
  static std::string SubjectName(uint32_t stream);  // the client of the stream's case

  // REQUIRES: batch < batches().
  Batch MakeBatch(uint64_t batch, Shape shape, bool with_blobs) const;
  // Batches [first, first + count) clipped to batches().
  std::vector<Batch> MakeBatches(uint64_t first, uint64_t count, Shape shape, bool with_blobs) const;

  // The event with workload index `index`, appended to `stream`.
  NewEvent MakeEvent(uint64_t index, uint32_t stream, Shape shape) const;

 private:
  uint64_t events_;
  uint64_t seed_;
  uint32_t streams_;
  uint32_t batch_size_;
  std::vector<uint32_t> order_;
};

// The baselines' value for one event: length-prefixed fields (stream,
// version, id, type, times, actor, subjects, facts, personal sections).
std::string SerializeForBaseline(const std::string& stream, uint64_t version, const NewEvent& e);

// Single-event work for N writer threads: thread t appends, one event per
// call and in workload order, the events of the streams s with s % N == t
// (each thread owns its streams). Built from the first `events` events.
struct SingleAppend {
  uint32_t stream;
  uint64_t version;
  std::vector<NewEvent> event;  // exactly one, ready for Store::Append
  std::string blob;
};
std::vector<std::vector<SingleAppend>> SplitForThreads(const std::vector<Batch>& batches,
                                                       uint64_t events, uint32_t threads);

// Wall-clock seconds since construction.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  double Micros() const { return Seconds() * 1e6; }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU seconds used so far by this process (all threads) / by the calling thread.
double ProcessCpuSeconds();
double ThreadCpuSeconds();

// A fresh directory for one run's stores, removed on destruction unless kept.
class RunDir {
 public:
  // A new directory under `parent` (empty: the system temp dir).
  static Result<std::unique_ptr<RunDir>> Create(const std::string& parent, bool keep);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  std::string path() const { return path_.string(); }
  // A path for a store or file inside the run directory.
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }
  // The 0600 key file (32 random bytes) every encrypted store of the run opens with.
  const std::string& key_file() const { return key_file_; }

 private:
  RunDir() = default;
  std::filesystem::path path_;
  std::string key_file_;
  bool keep_ = false;
};

// The path of `name` in this program's directory (bin/hearth beside
// bin/hearth-bench), or NotFound naming the target to build.
Result<std::string> SiblingProgram(const std::string& name, const std::string& target);

// p in [0, 100] of `values` (sorts them).
double Percentile(std::vector<double>& values, double p);

}  // namespace hearth::bench
