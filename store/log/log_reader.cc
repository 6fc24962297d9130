// The defaults of the read interface (api/include/hearth/log_reader.h) and
// of Store's derived reads.
#include "hearth/log_reader.h"

#include "hearth/store.h"
#include "merkle/hash.h"

namespace hearth {

Result<std::vector<RecordedEvent>> LogReader::ReadAllFacts(uint64_t from, size_t max_count) {
  auto events = ReadAll(from, max_count);
  if (!events.ok()) return events;
  for (RecordedEvent& e : *events) e.personal.clear();
  return events;
}

Result<Hash> Store::LeafHash(uint64_t position) {
  auto raw = RawRecord(position);
  if (!raw.ok()) return raw.status();
  merkle::Hasher hasher;
  return hasher.Leaf(*raw);
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
