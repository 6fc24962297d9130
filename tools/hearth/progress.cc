#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace hearth::cli {

namespace {

std::string Grouped(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Duration(double seconds) {
  uint64_t s = uint64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  }
  return buf;
}

}  // namespace

std::string ProgressText(const std::string& what, const std::string& unit, uint64_t done,
                         uint64_t total, double seconds) {
  std::string text = what + ": " + Grouped(done);
  if (total > 0) {
    text += " of " + Grouped(total) + " " + unit;
    text += " (" + std::to_string(done >= total ? 100 : done * 100 / total) + "%)";
  } else {
    text += " " + unit;
  }
  if (seconds > 0 && done > 0) {
    double rate = double(done) / seconds;
    text += ", " + Grouped(uint64_t(rate)) + "/s";
    if (total > done) text += ", " + Duration(double(total - done) / rate) + " left";
    else text += ", " + Duration(seconds);
  }
  return text;
}

ProgressLine::ProgressLine(std::string what, std::string unit, bool quiet)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      shown_(!quiet && ::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressLine::~ProgressLine() { Finish(); }

void ProgressLine::Update(uint64_t done, uint64_t total) {
  if (!shown_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  done_ = done;
  total_ = total;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  Draw(done, total);
}

void ProgressLine::Finish() {
  if (!shown_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  Draw(done_, total_);
  std::cerr << "\n" << std::flush;
}

void ProgressLine::Draw(uint64_t done, uint64_t total) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  // \r and clear to the end of the line: a shorter line leaves no tail.
  std::cerr << "\r" << ProgressText(what_, unit_, done, total, seconds) << "\x1b[K" << std::flush;
  drawn_ = true;
}

}  // namespace hearth::cli
