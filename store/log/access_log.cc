// The access log's entries (log/access_log.h): key subject 0x00 time(8 BE)
// seq(8 BE); value, sealed under the store key with AAD "hearth.access.v1"
// key: plugin, user, role, action, purpose, recipient (each len(4 BE)
// bytes), first_position(8 BE) last_position(8 BE) events(4 BE).
#include "log/access_log.h"

#include <chrono>
#include <memory>

#include "log/format.h"
#include "log/rocks_status.h"

namespace hearth::log {

namespace {

constexpr std::string_view kAadPrefix = "hearth.access.v1";

void PutField(std::string* s, std::string_view v) {
  PutBE32(s, uint32_t(v.size()));
  s->append(v);
}
bool GetField(std::string_view* in, std::string* out) {
  if (in->size() < 4) return false;
  uint32_t n = GetBE32(in->data());
  if (in->size() < 4 + size_t(n)) return false;
  out->assign(in->data() + 4, n);
  in->remove_prefix(4 + size_t(n));
  return true;
}

}  // namespace

Status AccessLog::Append(const std::vector<AccessRecord>& records) {
  rocksdb::WriteBatch batch;
  auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  for (const AccessRecord& r : records) {
    if (r.subject.empty() || r.action.empty()) {
      return Status::InvalidArgument("an access record needs a subject and an action");
    }
    std::string key = IndexKey(r.subject, uint64_t(r.time == 0 ? now : r.time));
    PutBE64(&key, seq_.fetch_add(1));
    std::string fields;
    PutField(&fields, r.plugin);
    PutField(&fields, r.user);
    PutField(&fields, r.role);
    PutField(&fields, r.action);
    PutField(&fields, r.purpose);
    PutField(&fields, r.recipient);
    PutBE64(&fields, r.first_position);
    PutBE64(&fields, r.last_position);
    PutBE32(&fields, r.events);
    std::string value;
    if (seal_key_ != nullptr) {
      crypto::Seal(*seal_key_, std::string(kAadPrefix) + key, fields, &value);
    } else {
      value = fields;
    }
    batch.Put(cf_, key, value);
  }
  // Synced before the answer leaves: a disclosure must survive a power cut
  // (unsynced only in a store opened with Options::sync false, like appends).
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocksStatus(db_->Write(wo, &batch), "writing the access log");
}

Result<std::vector<AccessRecord>> AccessLog::Read(const std::string& subject) const {
  std::vector<AccessRecord> out;
  std::string prefix = IndexPrefix(subject);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string key = it->key().ToString();
    if (key.size() != prefix.size() + 16) return Status::Corruption("access log key damaged");
    std::string fields;
    if (seal_key_ != nullptr) {
      if (!crypto::Open(*seal_key_, std::string(kAadPrefix) + key, it->value().ToStringView(), &fields)) {
        return Status::Corruption("an access log entry of " + subject + " fails authentication");
      }
    } else {
      fields = it->value().ToString();
    }
    AccessRecord r;
    r.subject = subject;
    r.time = Timestamp(GetBE64(key.data() + prefix.size()));
    std::string_view in(fields);
    if (!GetField(&in, &r.plugin) || !GetField(&in, &r.user) || !GetField(&in, &r.role) ||
        !GetField(&in, &r.action) || !GetField(&in, &r.purpose) || !GetField(&in, &r.recipient) ||
        in.size() != 20) {
      return Status::Corruption("an access log entry of " + subject + " is damaged");
    }
    r.first_position = GetBE64(in.data());
    r.last_position = GetBE64(in.data() + 8);
    r.events = GetBE32(in.data() + 16);
    out.push_back(std::move(r));
  }
  if (!it->status().ok()) return FromRocksStatus(it->status(), "reading the access log");
  return out;
}

}  // namespace hearth::log
