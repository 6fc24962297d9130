// Progress of long work on standard error (docs/cli.md, "Progress"): one line,
// redrawn in place, "what: done of total unit (pct), rate/s, time left".
// Shown only when standard error is a terminal and --quiet was not given, so
// a pipe or a log file never receives it; the command's own output (stdout)
// is untouched either way.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace hearth::cli {

// The text of one progress line (no carriage return, no newline). `seconds`
// is the time since the work began. Exposed for tests.
std::string ProgressText(const std::string& what, const std::string& unit, uint64_t done,
                         uint64_t total, double seconds);

class ProgressLine {
 public:
  // Shown when !quiet and standard error is a terminal.
  ProgressLine(std::string what, std::string unit, bool quiet);
  ~ProgressLine();  // Finish()
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool shown() const { return shown_; }
  // Redraws at most four times a second; safe from any thread.
  void Update(uint64_t done, uint64_t total);
  // Draws the last figures and ends the line (once).
  void Finish();

 private:
  void Draw(uint64_t done, uint64_t total);  // REQUIRES: mu_ held

  std::string what_, unit_;
  bool shown_;
  bool drawn_ = false, finished_ = false;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_;
  uint64_t done_ = 0, total_ = 0;
};

}  // namespace hearth::cli
