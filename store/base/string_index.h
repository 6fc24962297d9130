// A set of strings numbered in the order they were added: the strings end to
// end in one buffer, found by open addressing. A slot is 8 bytes, the upper
// half of the string's hash beside its number, so a probe compares the
// string's bytes only when the hashes agree, and a miss touches one slot.
//
// Used where a pass meets hundreds of thousands of short strings and a
// std::set or std::unordered_set would allocate a node each and miss the
// cache on every step: the exports' clients' codes table
// (store/exports/fact_source.cc) and the KPI return's people counted once
// per district (store/exports/kpi.cc). It depends on nothing else.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace hearth::base {

class StringIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  // At most this many strings, of at most this many bytes in all.
  static constexpr size_t kMaxStrings = UINT32_MAX - 1;
  static constexpr size_t kMaxBytes = UINT32_MAX;

  // The number of `s`, added when new (*added says which). kNone, nothing
  // added, when the index is full (kMaxStrings or kMaxBytes).
  uint32_t Insert(std::string_view s, bool* added) {
    *added = false;
    const uint64_t h = Hash(s);
    if (uint32_t found = Probe(s, h); found != kNone) return found;
    if (ends_.size() >= kMaxStrings || bytes_.size() + s.size() > kMaxBytes) return kNone;
    if ((ends_.size() + 1) * 10 > slots_.size() * 7) Grow();
    const uint32_t n = uint32_t(ends_.size());
    bytes_.append(s);
    ends_.push_back(uint32_t(bytes_.size()));
    slots_[EmptySlot(h)] = (h & kHashMask) | (uint64_t(n) + 1);
    *added = true;
    return n;
  }
  // True when `s` was not in the set (it is now).
  bool Add(std::string_view s) {
    bool added = false;
    Insert(s, &added);
    return added;
  }
  // The number of `s`, or kNone.
  uint32_t Find(std::string_view s) const { return slots_.empty() ? kNone : Probe(s, Hash(s)); }
  std::string_view Get(uint32_t n) const {
    const uint32_t begin = n == 0 ? 0 : ends_[n - 1];
    return std::string_view(bytes_).substr(begin, ends_[n] - begin);
  }
  size_t size() const { return ends_.size(); }

  // What the index holds (as allocated), and what it would hold with
  // `strings` more strings of `bytes` bytes in all (each vector and the
  // buffer doubling as they grow, the slots kept under 70 % full).
  size_t HeldBytes() const { return Held(bytes_.capacity(), ends_.capacity(), slots_.size()); }
  size_t HeldBytesWith(size_t strings, size_t bytes) const {
    auto grown = [](size_t capacity, size_t needed) {
      return needed <= capacity ? capacity : std::max(needed, 2 * capacity);
    };
    size_t slots = slots_.size();
    while ((ends_.size() + strings) * 10 > slots * 7) slots = slots == 0 ? kFirstSlots : 2 * slots;
    return Held(grown(bytes_.capacity(), bytes_.size() + bytes), grown(ends_.capacity(), ends_.size() + strings),
                slots);
  }
  // Forgets every string and gives the memory back.
  void Clear() {
    std::string().swap(bytes_);
    std::vector<uint32_t>().swap(ends_);
    std::vector<uint64_t>().swap(slots_);
  }

 private:
  static constexpr uint64_t kHashMask = 0xffffffff00000000ull;
  static constexpr size_t kFirstSlots = 1024;

  static uint64_t Hash(std::string_view s) { return std::hash<std::string_view>()(s); }
  static size_t Held(size_t bytes, size_t ends, size_t slots) {
    return bytes + ends * sizeof(uint32_t) + slots * sizeof(uint64_t);
  }
  uint32_t Probe(std::string_view s, uint64_t h) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t at = size_t(h) & mask;; at = (at + 1) & mask) {
      const uint64_t slot = slots_[at];
      if (slot == 0) return kNone;
      if ((slot & kHashMask) == (h & kHashMask)) {
        const uint32_t n = uint32_t(slot) - 1;
        const std::string_view have = Get(n);
        if (have.size() == s.size() && std::memcmp(have.data(), s.data(), s.size()) == 0) return n;
      }
    }
  }
  size_t EmptySlot(uint64_t h) const {
    const size_t mask = slots_.size() - 1;
    size_t at = size_t(h) & mask;
    while (slots_[at] != 0) at = (at + 1) & mask;
    return at;
  }
  void Grow() {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? kFirstSlots : 2 * old.size(), 0);
    for (const uint64_t slot : old) {
      if (slot == 0) continue;
      slots_[EmptySlot(Hash(Get(uint32_t(slot) - 1)))] = slot;
    }
  }

  std::string bytes_;           // every string, end to end
  std::vector<uint32_t> ends_;  // where string n ends in bytes_
  std::vector<uint64_t> slots_;  // 0: empty; else the hash's upper half | number + 1
};

}  // namespace hearth::base
