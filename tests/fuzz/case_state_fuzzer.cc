// libFuzzer target: the binary case state of the `cases` projection
// (store/domain/case_codec.cc, docs/readmodels.md), read back from the
// store's files. Truncated or hostile bytes (huge counts, overlong varints)
// must be refused with a Status without allocating without bound; a state
// that decodes must encode to bytes that decode to the same encoding (one
// encoding per state: rebuilds stay byte-identical).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "hearth/readmodels.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  hearth::domain::CaseState state;
  if (!hearth::readmodels::DecodeCaseState(bytes, &state).ok()) return 0;
  std::string encoded = hearth::readmodels::EncodeCaseState(state);
  hearth::domain::CaseState again;
  if (!hearth::readmodels::DecodeCaseState(encoded, &again).ok()) std::abort();
  if (hearth::readmodels::EncodeCaseState(again) != encoded) std::abort();
  return 0;
}
