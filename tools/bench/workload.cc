#include "workload.h"

#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

namespace hearth::bench {

namespace fs = std::filesystem;

namespace {

// SplitMix64: a tiny, well-mixed generator; (seed, index) -> a stream of words.
class Mix {
 public:
  Mix(uint64_t seed, uint64_t index) : state_(seed * 0x9e3779b97f4a7c15ULL ^ (index + 1)) {
    Next();
  }
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// Not the domain's type names: the workload's facts are JSON of its own, and
// a front end checks the facts of every domain type against the schema.
const char* const kTypes[] = {"BenchContact", "BenchReferral", "BenchVisit", "BenchAssessment",
                              "BenchPlan",    "BenchDecision", "BenchWorks", "BenchNote"};
const char* const kStages[] = {"enquiry", "referral", "visit", "assessment",
                               "plan",    "decision", "works", "outcome"};
const char* const kGiven[] = {"Ada", "Bryn", "Cerys", "Dai", "Elin", "Ffion", "Gwyn", "Huw"};
const char* const kFamily[] = {"Example", "Sample", "Testcase", "Placeholder", "Fixture"};
const char* const kWords[] = {"kitchen", "stairs", "rail", "ramp",   "bathroom", "shower",
                              "visit",   "carer",  "fall", "access", "door",     "heating"};

// Pads `s` to exactly `size` bytes: filler words inside a closing string
// field, so the bytes look like the JSON text a front end would send.
void PadTo(std::string* s, size_t size, Mix& mix) {
  // s ends with an open string value; close it and the object at the end.
  while (s->size() + 2 < size) {
    s->push_back(' ');
    s->append(kWords[mix.Below(std::size(kWords))]);
  }
  s->resize(size - 2, 'x');
  s->append("\"}");
}

Id128 MakeId(Mix& mix) {
  Id128 id;
  uint64_t a = mix.Next(), b = mix.Next();
  for (int i = 0; i < 8; ++i) {
    id.bytes[size_t(i)] = uint8_t(a >> (8 * i));
    id.bytes[size_t(8 + i)] = uint8_t(b >> (8 * i));
  }
  id.bytes[6] = uint8_t((id.bytes[6] & 0x0f) | 0x40);  // version 4
  id.bytes[8] = uint8_t((id.bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return id;
}

void PutField(std::string* out, std::string_view v) {
  uint32_t n = uint32_t(v.size());
  out->append(reinterpret_cast<const char*>(&n), 4);
  out->append(v);
}
void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }

}  // namespace

Workload::Workload(uint64_t events, uint64_t seed, uint32_t streams, uint32_t batch_size)
    : events_(events), seed_(seed), streams_(streams), batch_size_(batch_size), order_(streams) {
  for (uint32_t s = 0; s < streams; ++s) order_[s] = s;
  std::mt19937_64 rng(seed);
  std::shuffle(order_.begin(), order_.end(), rng);
}

std::string Workload::StreamName(uint32_t stream) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "case-%05u", stream);
  return buf;
}

std::string Workload::SubjectName(uint32_t stream) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "P-%06u", stream);
  return buf;
}

NewEvent Workload::MakeEvent(uint64_t index, uint32_t stream, Shape shape) const {
  Mix mix(seed_, index);
  NewEvent e;
  e.id = MakeId(mix);
  e.type = kTypes[mix.Below(std::size(kTypes))];
  e.schema_version = 1;
  e.occurred_at = 1'700'000'000'000'000 + int64_t(index) * 1'000'000;
  e.actor = Actor{"u-" + std::to_string(mix.Below(200)), "caseworker", "hearth-bench"};
  e.correlation_id = MakeId(mix);
  std::string subject = SubjectName(stream);
  e.subjects.push_back(SubjectRef{subject, SubjectRole::kClient});

  std::string facts = "{\"district\":\"D" + std::to_string(1 + mix.Below(6)) +
                      "\",\"element\":" + std::to_string(1 + mix.Below(8)) + ",\"stage\":\"" +
                      kStages[mix.Below(std::size(kStages))] + "\",\"priority\":" +
                      std::to_string(1 + mix.Below(3)) + ",\"amountPence\":" +
                      std::to_string(mix.Below(3'000'000)) + ",\"outcome\":\"O" +
                      std::to_string(mix.Below(7)) + "\",\"seq\":" + std::to_string(index) +
                      ",\"note\":\"";
  PadTo(&facts, kFactsBytes, mix);
  std::string personal = std::string("{\"name\":\"") + kGiven[mix.Below(std::size(kGiven))] + " " +
                         kFamily[mix.Below(std::size(kFamily))] + "\",\"address\":\"" +
                         std::to_string(1 + mix.Below(200)) + " Synthetic Road, Testville TE" +
                         std::to_string(1 + mix.Below(99)) + " " + std::to_string(mix.Below(10)) +
                         "XX\",\"phone\":\"0700" + std::to_string(100000 + mix.Below(900000)) +
                         "\",\"notes\":\"";
  PadTo(&personal, kPersonalBytes, mix);
  if (shape == Shape::kWithPersonal) {
    e.facts = std::move(facts);
    e.personal.push_back(PersonalSection{subject, std::move(personal), {}, false});
  } else {
    e.facts = std::move(facts) + personal;
  }
  return e;
}

Batch Workload::MakeBatch(uint64_t batch, Shape shape, bool with_blobs) const {
  Batch b;
  b.stream = order_[batch % streams_];
  b.first_version = (batch / streams_) * batch_size_ + 1;
  b.first_index = batch * batch_size_;
  uint64_t end = std::min<uint64_t>(events_, b.first_index + batch_size_);
  b.events.reserve(size_t(end - b.first_index));
  for (uint64_t i = b.first_index; i < end; ++i) b.events.push_back(MakeEvent(i, b.stream, shape));
  if (with_blobs) {
    std::string name = StreamName(b.stream);
    for (size_t k = 0; k < b.events.size(); ++k) {
      b.blobs.push_back(SerializeForBaseline(name, b.first_version + k, b.events[k]));
    }
  }
  return b;
}

std::vector<Batch> Workload::MakeBatches(uint64_t first, uint64_t count, Shape shape,
                                         bool with_blobs) const {
  std::vector<Batch> out;
  uint64_t end = std::min(batches(), first + count);
  if (first < end) out.reserve(size_t(end - first));
  for (uint64_t b = first; b < end; ++b) out.push_back(MakeBatch(b, shape, with_blobs));
  return out;
}

std::string SerializeForBaseline(const std::string& stream, uint64_t version, const NewEvent& e) {
  std::string out;
  out.reserve(kEventBytes + 200);
  PutField(&out, stream);
  PutU64(&out, version);
  out.append(reinterpret_cast<const char*>(e.id.bytes.data()), 16);
  PutField(&out, e.type);
  PutU64(&out, e.schema_version);
  PutU64(&out, uint64_t(e.occurred_at));
  PutField(&out, e.actor.user);
  PutField(&out, e.actor.role);
  PutField(&out, e.actor.plugin);
  out.append(reinterpret_cast<const char*>(e.correlation_id.bytes.data()), 16);
  out.append(reinterpret_cast<const char*>(e.causation_id.bytes.data()), 16);
  PutU64(&out, e.subjects.size());
  for (const auto& s : e.subjects) {
    PutField(&out, s.id);
    out.push_back(char(s.role));
  }
  PutField(&out, e.facts);
  PutU64(&out, e.personal.size());
  for (const auto& p : e.personal) {
    PutField(&out, p.subject);
    PutField(&out, p.data);
  }
  return out;
}

std::vector<std::vector<SingleAppend>> SplitForThreads(const std::vector<Batch>& batches,
                                                       uint64_t events, uint32_t threads) {
  std::vector<std::vector<SingleAppend>> out(threads);
  uint64_t taken = 0;
  for (const Batch& b : batches) {
    for (size_t k = 0; k < b.events.size() && taken < events; ++k, ++taken) {
      SingleAppend a;
      a.stream = b.stream;
      a.version = b.first_version + k;
      a.event.push_back(b.events[k]);
      a.blob = k < b.blobs.size() ? b.blobs[k] : SerializeForBaseline(Workload::StreamName(b.stream),
                                                                      a.version, b.events[k]);
      out[b.stream % threads].push_back(std::move(a));
    }
    if (taken >= events) break;
  }
  return out;
}

Result<std::unique_ptr<RunDir>> RunDir::Create(const std::string& parent, bool keep) {
  std::error_code ec;
  fs::path base = parent.empty() ? fs::temp_directory_path(ec) : fs::path(parent);
  if (ec) return Status::IOError("no temporary directory: " + ec.message());
  fs::create_directories(base, ec);
  if (ec) return Status::IOError("cannot create " + base.string() + ": " + ec.message());
  std::string pattern = (base / "hearth-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::IOError("cannot create a run directory under " + base.string());
  }
  std::unique_ptr<RunDir> dir(new RunDir());
  dir->path_ = pattern;
  dir->keep_ = keep;
  dir->key_file_ = dir->Sub("root.key");
  if (sodium_init() < 0) return Status::IOError("libsodium failed to initialise");
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  {
    std::ofstream out(dir->key_file_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(key), sizeof key);
    if (!out) return Status::IOError("cannot write " + dir->key_file_);
  }
  sodium_memzero(key, sizeof key);
  if (::chmod(dir->key_file_.c_str(), 0600) != 0) {
    return Status::IOError("cannot chmod 0600 " + dir->key_file_);
  }
  return dir;
}

RunDir::~RunDir() {
  if (keep_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

Result<std::string> SiblingProgram(const std::string& name, const std::string& target) {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return Status::IOError("cannot find this program's directory");
  self[n] = '\0';
  std::string path = (std::filesystem::path(self).parent_path() / name).string();
  if (::access(path.c_str(), X_OK) != 0) return Status::NotFound(path + " is missing: build the " + target + " target");
  return path;
}

double Percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank.
  double rank = p / 100.0 * double(values.size());
  size_t i = rank <= 1 ? 0 : size_t(std::ceil(rank)) - 1;
  return values[std::min(i, values.size() - 1)];
}

}  // namespace hearth::bench
