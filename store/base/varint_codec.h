// Private to store/: the flat varint form of the projections' values
// (docs/readmodels.md): unsigned LEB128 varints, length-prefixed strings,
// days as zigzag varints. One encoding per value, so rebuilds are
// byte-identical.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "hearth/domain.h"

namespace hearth::base {

using domain::Date;

// A day in an index key: four bytes, big-endian days since 1970-01-01 plus
// 2^31, so keys sort by day (the `cases` projection's work, quiet and money
// keys).
inline constexpr size_t kIndexDayBytes = 4;
inline void AppendIndexDay(std::string* k, Date day) {
  uint32_t v = uint32_t(int64_t(day.time_since_epoch().count()) + (int64_t(1) << 31));
  for (int i = 3; i >= 0; --i) k->push_back(char((v >> (8 * i)) & 0xff));
}
inline Date IndexDayOf(std::string_view four) {
  uint32_t v = 0;
  for (char c : four) v = (v << 8) | uint8_t(c);
  return Date(std::chrono::days(int64_t(v) - (int64_t(1) << 31)));
}

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(char(v)); }
  void Var(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(char(v | 0x80));
      v >>= 7;
    }
    out_->push_back(char(v));
  }
  void Str(const std::string& s) {
    Var(s.size());
    out_->append(s);
  }
  // A day as zigzag-encoded days since the epoch.
  void Day(Date d) {
    int64_t n = d.time_since_epoch().count();
    Var(uint64_t((n << 1) ^ (n >> 63)));
  }
  // Absent: 0; present: 1 + zigzag(days).
  void OptDay(const std::optional<Date>& d) {
    if (!d) {
      Var(0);
      return;
    }
    int64_t n = d->time_since_epoch().count();
    Var(1 + uint64_t((n << 1) ^ (n >> 63)));
  }

 private:
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }

  uint8_t U8() {
    if (in_.empty()) return Fail();
    uint8_t v = uint8_t(in_[0]);
    in_.remove_prefix(1);
    return v;
  }
  uint64_t Var() {
    // Most values here are one to three bytes (counts, lengths, days): read
    // those without a check of the end for every byte. (The KPI return
    // decodes about 60 varints a case, 590,000 cases at 12 million events.)
    if (in_.size() >= 3) {
      const auto* p = reinterpret_cast<const uint8_t*>(in_.data());
      if (p[0] < 0x80) {
        in_.remove_prefix(1);
        return p[0];
      }
      if (p[1] < 0x80) {
        in_.remove_prefix(2);
        return uint64_t(p[0] & 0x7f) | (uint64_t(p[1]) << 7);
      }
      if (p[2] < 0x80) {
        in_.remove_prefix(3);
        return uint64_t(p[0] & 0x7f) | (uint64_t(p[1] & 0x7f) << 7) | (uint64_t(p[2]) << 14);
      }
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Fail();
      uint8_t b = uint8_t(in_[0]);
      in_.remove_prefix(1);
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail();
  }
  std::string Str() {
    std::string s;
    Str(&s);
    return s;
  }
  // The same into `out`, reusing its buffer.
  void Str(std::string* out) {
    uint64_t n = Var();
    if (!ok_ || n > in_.size()) {
      Fail();
      out->clear();
      return;
    }
    if (n <= out->capacity()) {
      // Into the buffer it has (no check for the source overlapping it, as
      // assign makes: it cannot).
      out->resize(size_t(n));
      std::memcpy(out->data(), in_.data(), size_t(n));
    } else {
      out->assign(in_.data(), size_t(n));
    }
    in_.remove_prefix(size_t(n));
  }
  Date Day() { return FromZigzag(Var()); }
  std::optional<Date> OptDay() {
    uint64_t v = Var();
    if (!ok_ || v == 0) return std::nullopt;
    return FromZigzag(v - 1);
  }
  // A count of repeated items, each at least one byte long.
  size_t Count() {
    uint64_t n = Var();
    if (n > in_.size()) return size_t(Fail());
    return size_t(n);
  }

 private:
  static Date FromZigzag(uint64_t z) {
    int64_t n = int64_t(z >> 1) ^ -int64_t(z & 1);
    return Date(std::chrono::days(n));
  }
  uint8_t Fail() {
    ok_ = false;
    in_ = {};
    return 0;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace hearth::base
