// The batches the crash child appends, generated from a 64-bit seed so the
// parent can rebuild any batch it finds in the log (acknowledged or not) and
// compare it byte for byte. Synthetic people only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "hearth/event.h"
#include "hearth/projection.h"

namespace hearth::crash {

constexpr int kStreamsPerWriter = 3;
constexpr int kSubjects = 24;

// seed = iteration (32 bits) | writer (8 bits) | batch number (24 bits)
inline uint64_t BatchSeed(uint64_t iteration, uint64_t writer, uint64_t batch) {
  return (iteration << 32) | (writer << 24) | (batch & 0xffffff);
}
inline int WriterOf(uint64_t seed) { return int((seed >> 24) & 0xff); }

inline std::string SubjectName(int n) { return "P-" + std::to_string(n); }
inline std::string NhsFor(int n) { return "999 " + std::to_string(100 + n) + " " + std::to_string(1000 + n); }

struct Batch {
  std::string stream;
  std::vector<NewEvent> events;
};

// Facts carry the seed and the index, so a record identifies its batch.
inline std::string FactsFor(uint64_t seed, size_t index, size_t count, uint64_t extra) {
  return "{\"seed\":" + std::to_string(seed) + ",\"i\":" + std::to_string(index) +
         ",\"n\":" + std::to_string(count) + ",\"district\":\"D" + std::to_string(extra % 6) + "\"}";
}

// Parses FactsFor; false when the facts are not ours.
inline bool ParseFacts(const std::string& facts, uint64_t* seed, size_t* index) {
  unsigned long long s = 0;
  unsigned long i = 0;
  if (std::sscanf(facts.c_str(), "{\"seed\":%llu,\"i\":%lu,", &s, &i) != 2) return false;
  *seed = s;
  *index = i;
  return true;
}

inline Batch MakeBatch(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Batch b;
  b.stream = "crash-w" + std::to_string(WriterOf(seed)) + "-s" + std::to_string(rng() % kStreamsPerWriter);
  size_t count = 1 + size_t(rng() % 50);
  static const char* kTypes[] = {"ContactRecorded", "ReferralMade", "VisitBooked", "NoteAdded",
                                 "AssessmentDone"};
  for (size_t i = 0; i < count; ++i) {
    NewEvent e;
    for (auto& byte : e.id.bytes) byte = uint8_t(rng());
    e.id.bytes[0] |= 1;  // never the empty id
    e.type = kTypes[rng() % 5];
    e.schema_version = 1 + uint32_t(rng() % 2);
    e.occurred_at = int64_t(1700000000000000LL + int64_t(rng() % 1000000000));
    e.actor = Actor{"u-" + std::to_string(rng() % 7), "caseworker", "crash-test"};
    if (rng() % 2) {
      for (auto& byte : e.correlation_id.bytes) byte = uint8_t(rng());
      e.correlation_id.bytes[0] |= 1;
    }
    e.facts = FactsFor(seed, i, count, rng());
    int subjects = int(rng() % 3);  // 0, 1 or 2 people
    int first = int(rng() % kSubjects);
    for (int k = 0; k < subjects; ++k) {
      int n = (first + k) % kSubjects;
      e.subjects.push_back(SubjectRef{SubjectName(n), k == 0 ? SubjectRole::kClient : SubjectRole::kCarer});
      if (rng() % 4 != 0) {
        PersonalSection p;
        p.subject = SubjectName(n);
        p.data = "{\"name\":\"Synthetic Person " + std::to_string(n) + "\",\"note\":\"" +
                 std::string(size_t(rng() % 200), char('a' + rng() % 26)) + "\"}";
        p.identifiers.push_back(Identifier{"nhs", NhsFor(n)});
        e.personal.push_back(std::move(p));
      }
    }
    b.events.push_back(std::move(e));
  }
  return b;
}

// --- the operations campaign (crash_child ops, CrashTest.Operations...) ---

// What the ops child does after its k-th append in iteration `iteration`:
// 0 erase the append's subject, 1 sign a checkpoint, 2 back up, 3 rebuild
// the projection. The parent computes the same to know what a kill cut.
inline int OpsChoice(uint64_t iteration, uint64_t k) {
  std::mt19937_64 rng(iteration * 1000003 + k);
  return int(rng() % 4);
}
inline const char* OpsName(int choice) {
  static const char* kNames[] = {"erasure", "checkpoint signing", "backup", "projection rebuild"};
  return kNames[choice];
}
inline std::string OpsSubject(uint64_t iteration, uint64_t k) {
  return "E" + std::to_string(iteration) + "-" + std::to_string(k);
}
inline std::string OpsStream(uint64_t iteration, uint64_t k) {
  return "ops-" + std::to_string(iteration) + "-" + std::to_string(k);
}
// NHS numbers are compared without their spaces (the lookup normalises
// them), so the two numbers are joined by a letter: "ops 1 12" and
// "ops 11 2" would be one number.
inline std::string OpsNhs(uint64_t iteration, uint64_t k) {
  return "ops " + std::to_string(iteration) + "x" + std::to_string(k);
}

// Events per stream, the asynchronous projection the ops child rebuilds:
// key = stream, value = decimal count.
class StreamCountProjection : public Projection {
 public:
  std::string name() const override { return "stream-count"; }
  uint32_t version() const override { return 1; }
  Status Apply(const RecordedEvent& event, ProjectionState& state) override {
    std::string value;
    Status s = state.Get(event.stream, &value);
    uint64_t n = s.ok() ? std::stoull(value) : 0;
    if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
    state.Put(event.stream, std::to_string(n + 1));
    return Status::OK();
  }
};

}  // namespace hearth::crash
