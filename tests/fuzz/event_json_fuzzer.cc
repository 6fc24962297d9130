// libFuzzer target: the Event JSON codec (api/include/hearth/event_json.h)
// that `hearth append` reads from standard input and the plugin host reads
// from in-process plugins. Any text is either refused with one error or
// parsed into events whose domain facts are the codec's packed messages;
// an accepted event formats back to JSON that parses again to the same
// facts and personal sections.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "hearth/event_json.h"

namespace {
const hearth::domain::Codec* codec = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (sodium_init() < 0) std::abort();
  auto made = hearth::event_json::BuiltinCodec();
  if (!made.ok()) std::abort();
  codec = *made;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<hearth::NewEvent> events;
  if (!hearth::event_json::ParseLines(text, codec, &events).ok()) return 0;
  for (const hearth::NewEvent& e : events) {
    hearth::RecordedEvent r;
    r.position = 1;
    r.stream = "case/D1/000001";
    r.stream_version = 1;
    r.id = e.id;
    r.type = e.type;
    r.schema_version = e.schema_version;
    r.occurred_at = e.occurred_at;
    r.actor = e.actor;
    r.correlation_id = e.correlation_id;
    r.causation_id = e.causation_id;
    r.subjects = e.subjects;
    r.facts = e.facts;
    r.personal = e.personal;
    std::string line = hearth::event_json::Format(r, codec);
    hearth::NewEvent again;
    if (!hearth::event_json::Parse(line, codec, &again).ok()) std::abort();
    if (again.type != e.type || again.facts != e.facts || again.subjects != e.subjects) std::abort();
  }
  return 0;
}
