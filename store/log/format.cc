// The head record's codec (log/format.h, docs/format.md "default").
#include "log/format.h"

namespace hearth::log {

std::string Head::Encode() const {
  std::string s;
  PutBE64(&s, next_position);
  PutBE64(&s, streams);
  PutBE64(&s, subjects);
  PutBE64(&s, erased);
  PutBE64(&s, uint64_t(clock));
  PutBE64(&s, last_checkpoint);
  s += frontier.Encode();
  return s;
}

bool Head::Decode(std::string_view b, Head* out) {
  if (b.size() < 48) return false;
  out->next_position = GetBE64(b.data());
  out->streams = GetBE64(b.data() + 8);
  out->subjects = GetBE64(b.data() + 16);
  out->erased = GetBE64(b.data() + 24);
  out->clock = Timestamp(GetBE64(b.data() + 32));
  out->last_checkpoint = GetBE64(b.data() + 40);
  if (!merkle::Frontier::Decode(b.substr(48), &out->frontier)) return false;
  return out->frontier.size() + 1 == out->next_position;
}

}  // namespace hearth::log
