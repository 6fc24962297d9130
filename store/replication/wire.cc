#include "replication/wire.h"

#include "log/format.h"

namespace hearth::replication::wire {

namespace {

constexpr std::string_view kMagic = "hearth-replica v1";

void PutBytes(std::string* s, std::string_view b) {
  log::PutBE32(s, uint32_t(b.size()));
  s->append(b);
}

// Reads len(4) bytes from the front of *b.
bool TakeBytes(std::string_view* b, std::string* out) {
  if (b->size() < 4) return false;
  uint32_t n = log::GetBE32(b->data());
  if (b->size() - 4 < n) return false;
  out->assign(b->data() + 4, n);
  b->remove_prefix(4 + size_t(n));
  return true;
}

}  // namespace

std::string EncodeIdentity(const log::ReplicaIdentity& id) {
  std::string s(kMagic);
  log::PutBE32(&s, id.format);
  PutBytes(&s, id.kdf);
  PutBytes(&s, id.root_fingerprint);
  PutBytes(&s, id.checkpoint_public_key);
  PutBytes(&s, id.wrapped_store_key);
  PutBytes(&s, id.wrapped_signing_key);
  return s;
}

bool DecodeIdentity(std::string_view b, log::ReplicaIdentity* id) {
  if (!b.starts_with(kMagic) || b.size() < kMagic.size() + 4) return false;
  b.remove_prefix(kMagic.size());
  id->format = log::GetBE32(b.data());
  b.remove_prefix(4);
  return TakeBytes(&b, &id->kdf) && TakeBytes(&b, &id->root_fingerprint) &&
         TakeBytes(&b, &id->checkpoint_public_key) && TakeBytes(&b, &id->wrapped_store_key) &&
         TakeBytes(&b, &id->wrapped_signing_key) && b.empty() &&
         id->checkpoint_public_key.size() == 32;
}

std::string EncodeLog(const std::vector<log::ReplicatedRecord>& records) {
  std::string s;
  log::PutBE64(&s, records.empty() ? 0 : records.front().position);
  log::PutBE32(&s, uint32_t(records.size()));
  for (const auto& r : records) {
    log::PutBE32(&s, r.index);
    log::PutBE32(&s, r.count);
    PutBytes(&s, r.bytes);
  }
  return s;
}

bool DecodeLog(std::string_view b, std::vector<log::ReplicatedRecord>* records) {
  records->clear();
  if (b.size() < 12) return false;
  uint64_t first = log::GetBE64(b.data());
  uint32_t count = log::GetBE32(b.data() + 8);
  b.remove_prefix(12);
  if (first == 0 || count == 0) return false;
  for (uint32_t i = 0; i < count; ++i) {
    log::ReplicatedRecord r;
    if (b.size() < 8) return false;
    r.position = first + i;
    r.index = log::GetBE32(b.data());
    r.count = log::GetBE32(b.data() + 4);
    b.remove_prefix(8);
    if (!TakeBytes(&b, &r.bytes)) return false;
    records->push_back(std::move(r));
  }
  return b.empty();
}

std::string EncodeKey(const std::string& subject, const std::string& wrapped) {
  std::string s;
  PutBytes(&s, subject);
  s += wrapped;
  return s;
}

bool DecodeKey(std::string_view b, std::string* subject, std::string* wrapped) {
  if (!TakeBytes(&b, subject) || subject->empty()) return false;
  wrapped->assign(b);
  return !wrapped->empty();
}

std::string HexSubject(const std::string& subject) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : subject) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace hearth::replication::wire
