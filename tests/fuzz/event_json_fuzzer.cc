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

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <cstdio>

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
    // The stored form carries what the store assigns (position, stream,
    // versions, times, the actor it stamps); the rest must read back.
    nlohmann::json j = nlohmann::json::parse(hearth::event_json::Format(r, codec));
    for (const char* assigned : {"position", "stream", "streamVersion", "recordedAt", "occurredAt",
                                 "actor"}) {
      j.erase(assigned);
    }
    hearth::NewEvent again;
    hearth::Status parsed = hearth::event_json::Parse(j.dump(), codec, &again);
    if (!parsed.ok()) {
      std::fprintf(stderr, "formatted event does not read back: %s\n%s\n",
                   parsed.ToString().c_str(), j.dump().c_str());
      std::abort();
    }
    // The same facts as JSON (the packed bytes need not be identical: a
    // field set to its default and one left unset read the same).
    hearth::RecordedEvent r2 = r;
    r2.type = again.type;
    r2.facts = again.facts;
    r2.subjects = again.subjects;
    r2.personal = again.personal;
    nlohmann::json j2 = nlohmann::json::parse(hearth::event_json::Format(r2, codec));
    if (again.type != e.type || again.subjects != e.subjects || j2["facts"] != j["facts"] ||
        j2["personal"] != j["personal"]) {
      std::fprintf(stderr, "read back differently:\n%s\n%s\n", j.dump().c_str(), j2.dump().c_str());
      std::abort();
    }
  }
  return 0;
}
