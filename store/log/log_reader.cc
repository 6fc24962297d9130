// The defaults of the read interface (api/include/hearth/log_reader.h) and
// of Store's derived reads.
#include "hearth/log_reader.h"

#include <atomic>

#include "hearth/store.h"
#include "log/restricted_subjects.h"
#include "merkle/hash.h"

namespace hearth {

Result<std::vector<RecordedEvent>> LogReader::ReadAllFacts(uint64_t from, size_t max_count) {
  auto events = ReadAll(from, max_count);
  if (!events.ok()) return events;
  for (RecordedEvent& e : *events) e.personal.clear();
  return events;
}

Status LogReader::GetProjectionValues(const std::string& name, const std::vector<std::string>& keys,
                                      std::vector<std::optional<std::string>>* values) {
  values->assign(keys.size(), std::nullopt);
  std::string value;
  for (size_t i = 0; i < keys.size(); ++i) {
    Status s = GetProjectionValue(name, keys[i], &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    (*values)[i] = std::move(value);
  }
  return Status::OK();
}

Status LogReader::ScanProjectionFrom(const std::string& name, std::string_view prefix, std::string_view from,
                                     const std::function<bool(std::string_view key, std::string_view value)>& fn) {
  if (!from.starts_with(prefix)) {
    return Status::InvalidArgument("a scan of projection " + name + " starts at a key outside its prefix");
  }
  return ScanProjection(name, prefix, [&](std::string_view key, std::string_view value) {
    return key < from || fn(key, value);
  });
}

Result<Hash> Store::LeafHash(uint64_t position) {
  auto raw = RawRecord(position);
  if (!raw.ok()) return raw.status();
  merkle::Hasher hasher;
  return hasher.Leaf(*raw);
}

namespace {
std::atomic<log::RestrictedSubjectsReader> restricted_subjects_reader{nullptr};
}  // namespace

void log::SetRestrictedSubjectsReader(RestrictedSubjectsReader reader) {
  restricted_subjects_reader.store(reader, std::memory_order_release);
}

// The one view of the restrictions, for every reader of a store
// (api/include/hearth/log_reader.h), from the reader the domain's layers
// set (log/restricted_subjects.h).
Result<std::set<std::string>> Store::RestrictedSubjects() {
  log::RestrictedSubjectsReader reader = restricted_subjects_reader.load(std::memory_order_acquire);
  if (reader == nullptr) {
    return Status::NotSupported("no reader of the restriction stream is linked into this program");
  }
  return reader(*this);
}

Result<std::string> Store::RecipientKey(const std::string& recipient) {
  (void)recipient;
  return Status::NotSupported("this store cannot derive recipient keys for pseudonymous exports");
}

Result<DocumentBody> Store::ReadDocument(uint64_t position, uint32_t index) {
  (void)index;
  return Status::NotSupported("this store keeps no document bodies (position " +
                              std::to_string(position) + ")");
}

}  // namespace hearth
