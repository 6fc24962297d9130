// libFuzzer target: a stored record (api/schema/envelope.capnp StoredRecord)
// read back from the store's files, which an attacker with the files can
// change. DecodeEnvelope (verifiers, indexes, idempotency) and DecodeRecord
// (reads, with the store key and a personal-section opener) must refuse
// anything malformed with a Status, never crash, overrun or loop; a record
// that decodes must decode to the same envelope both ways.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <sodium.h>

#include "crypto/secret.h"
#include "log/record.h"

namespace {

const hearth::crypto::SecretKey* store_key = nullptr;
const hearth::crypto::SecretKey* data_key = nullptr;

const hearth::crypto::SecretKey* KeyFilledFrom(uint8_t first) {
  uint8_t bytes[hearth::crypto::kKeyBytes];
  for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = uint8_t(first + i);
  return new hearth::crypto::SecretKey(hearth::crypto::SecretKey::FromBytes(bytes));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  store_key = KeyFilledFrom(0x11);
  data_key = KeyFilledFrom(0x5a);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  // The first 8 bytes choose the position the record is read at (the seeds
  // are written at their own position).
  uint64_t position = 0;
  for (int i = 0; i < 8; ++i) position = (position << 8) | data[i];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 8, size - 8);

  hearth::log::EnvelopeView view;
  hearth::Status env = hearth::log::DecodeEnvelope(bytes, position, &view);

  hearth::log::SectionOpener open = [&](const std::string& subject, std::string_view aad,
                                        std::string_view sealed, std::string* out,
                                        bool* erased) -> hearth::Status {
    *erased = subject == "erased";
    if (*erased) return hearth::Status::OK();
    if (!hearth::crypto::Open(*data_key, aad, sealed, out)) {
      return hearth::Status::Corruption("personal section of '" + subject + "' does not open");
    }
    return hearth::Status::OK();
  };
  hearth::RecordedEvent plain, sealed, facts_only;
  hearth::Status s1 = hearth::log::DecodeRecord(bytes, position, nullptr, open, &plain);
  hearth::Status s2 = hearth::log::DecodeRecord(bytes, position, store_key, open, &sealed);
  hearth::Status s3 = hearth::log::DecodeRecord(bytes, position, store_key, {}, &facts_only);

  // A record that decodes in full has an envelope that decodes, and agrees.
  for (const auto* pair : {&s1, &s2}) {
    if (!pair->ok()) continue;
    if (!env.ok()) std::abort();
    const hearth::RecordedEvent& e = pair == &s1 ? plain : sealed;
    if (e.position != position || e.stream != view.stream ||
        e.stream_version != view.stream_version || e.id != view.id) {
      std::abort();
    }
  }
  (void)s3;
  return 0;
}
