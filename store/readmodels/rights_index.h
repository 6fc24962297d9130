// Private to store/: the key grammar of the `rights_requests` projection
// (docs/readmodels.md, "rights_requests") and the reads store/rights makes of
// it. The projection (rights_requests_projection.cc) writes these keys; the
// rights workflow (store/rights) reads them to page the requests without
// reading every request ever made (docs/rights.md, "Listing requests").
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/log_reader.h"
#include "hearth/status.h"

namespace hearth::readmodels::rights_index {

// The state of a request as the index knows it: open until its first
// RightsRequestFulfilled or RightsRequestRefused (closing is final: rule
// rights-request-closed). Paused requests are open here.
inline constexpr char kOpen = 'o';
inline constexpr char kFulfilled = 'f';
inline constexpr char kRefused = 'r';

// Keys:
//   'n'                -> varint: requests received so far (the last seq)
//   'q' ref            -> varint seq, one state byte (kOpen, kFulfilled, kRefused)
//   'a' be64(seq)      -> ref   every request, by seq (the order of receipt)
//   'o' be64(seq)      -> ref   the requests not closed, by seq
//   'c' state byte     -> varint: requests closed in that state
// seq numbers the requests 1, 2, ... in the order their RightsRequestReceived
// reached the log, with no gaps, so a page of 'a' keys is found by number.
inline std::string CountKey() { return "n"; }
inline std::string RefKey(std::string_view ref) { return "q" + std::string(ref); }
inline std::string Be64Key(char tag, uint64_t seq) {
  std::string k(1, tag);
  for (int i = 7; i >= 0; --i) k.push_back(char((seq >> (8 * i)) & 0xff));
  return k;
}
inline std::string AllKey(uint64_t seq) { return Be64Key('a', seq); }
inline std::string OpenKey(uint64_t seq) { return Be64Key('o', seq); }
inline std::string ClosedCountKey(char state) { return std::string("c") + state; }
inline uint64_t SeqOfKey(std::string_view key) {
  uint64_t v = 0;
  for (char c : key.substr(1)) v = (v << 8) | uint8_t(c);
  return v;
}

// What 'q' ref holds.
struct RefEntry {
  uint64_t seq = 0;
  char state = kOpen;
};
std::string EncodeRefEntry(const RefEntry& entry);
Status DecodeRefEntry(std::string_view bytes, RefEntry* out);
std::string EncodeCount(uint64_t n);
Status DecodeCount(std::string_view bytes, uint64_t* out);

// Reads of the index through a LogReader. Each says how many keys it read.
// NotSupported when the store was not opened with the projection
// (Options::projections, readmodels::MakeProjections).

// The number of requests received (key 'n').
Result<uint64_t> RequestCount(LogReader& reader);
// The seq of `ref`; NotFound for a ref the index does not hold.
Result<RefEntry> EntryOf(LogReader& reader, const std::string& ref);
// The refs of seq `from`, from - 1, ... down to 1, at most `count` of them
// (one MultiGet). Newest first.
Result<std::vector<std::pair<uint64_t, std::string>>> RefsDownFrom(LogReader& reader, uint64_t from,
                                                                   size_t count);
// The open refs with seq >= `from`, oldest first, at most `count`.
Result<std::vector<std::pair<uint64_t, std::string>>> OpenRefsFrom(LogReader& reader, uint64_t from,
                                                                   size_t count);
// Requests closed in `state` (kFulfilled, kRefused).
Result<uint64_t> ClosedCount(LogReader& reader, char state);

}  // namespace hearth::readmodels::rights_index
