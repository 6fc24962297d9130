// Crash tests: a child process appends (or rotates the root key) and is killed
// with SIGKILL at a random moment, many times over on the same store. After
// each kill the store must open and hold everything it acknowledged, with
// dense positions, indexes that agree with the log, and the Merkle tree head
// recomputed from the records.
//
// HEARTH_CRASH_SEED=<n> replays a run; HEARTH_CRASH_KILLS=<n> changes the
// number of kills of the append test (default 50; the documented campaign is
// 500, docs/operations.md); HEARTH_CRASH_FULL_EVERY=<n> how often a kill is
// followed by a full check from position 1 instead of the incremental one
// (default 25; the last kill always is).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "crash_events.h"
#include "log/erasure_ledger.h"
#include "audit/verifier.h"
#include "hearth/store.h"
#include "merkle/frontier.h"
#include "merkle/hash.h"
#include "test_util.h"

namespace hearth {
namespace {

using testing::TempDir;

using testing::HexKeyFile;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// A child process with its standard output on a pipe.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe(fds) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execv(HEARTH_CRASH_CHILD, argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) Kill();
    if (fd_ >= 0) ::close(fd_);
  }

  // Reads whatever is available until `deadline`; false at end of file.
  bool ReadUntil(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      auto now = std::chrono::steady_clock::now();
      int ms = now >= deadline ? 0
                               : int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, ms);
      if (r == 0) return true;  // deadline
      if (r < 0) continue;
      char buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return false;
      out_.append(buf, size_t(n));
      if (now >= deadline) return true;
    }
  }
  // Reads until the line `line` arrived (true) or end of file (false).
  bool WaitForLine(const std::string& line) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
      auto lines = Lines();
      if (std::find(lines.begin(), lines.end(), line) != lines.end()) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return false;
      out_.append(buf, size_t(n));
    }
  }
  // SIGKILL, then everything the child wrote before it died.
  int Kill() {
    ::kill(pid_, SIGKILL);
    return Reap();
  }
  int Reap() {
    while (ReadUntil(std::chrono::steady_clock::now() + std::chrono::seconds(60))) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  // Complete lines only: a line cut by the kill was never acknowledged.
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t nl; (nl = out_.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines.push_back(out_.substr(start, nl - start));
    }
    return lines;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

struct Ack {
  std::string stream;
  uint64_t first_position, last_position, first_version, last_version;
};

// Everything the checks below learn from reading the log, kept from one kill
// to the next: after a kill only the records past `last` are read and
// checked (the log is append-only, and the Merkle frontier carries the tree
// over), with a full check from position 1 every few kills and at the end.
struct LogScan {
  uint64_t last = 0;
  std::map<std::string, std::vector<uint64_t>> stream_positions;
  std::map<std::string, std::vector<uint64_t>> subject_positions;
  std::set<std::string> subjects_with_personal;
  std::map<uint64_t, std::vector<uint64_t>> batch_positions;  // seed -> positions
  std::map<uint64_t, crash::Batch> batches;                   // seed -> the batch, rebuilt
  merkle::Frontier frontier;
};

Result<std::unique_ptr<Store>> OpenExisting(const std::string& path, const std::string& key) {
  Options o;
  o.key = KeySource::File(key);
  return Store::Open(o, path);
}

// Checks the store against itself and against the acknowledgements: with
// `full`, from position 1; otherwise the records after scan->last, and the
// streams and subjects they touch.
void VerifyStore(Store* store, const std::map<uint64_t, Ack>& acked, LogScan* scan, bool full) {
  if (full) *scan = LogScan{};
  auto info = store->Info();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_GE(info->last_position, scan->last) << "the log is shorter than at the last check";
  const uint64_t from = scan->last + 1;  // the first record not checked yet
  scan->last = info->last_position;

  // Positions are dense, and every record is one of our batches, byte for
  // byte what the child generated.
  uint64_t expect = from;
  std::set<std::string> touched_streams, touched_subjects;
  std::set<uint64_t> touched_batches;
  while (expect <= scan->last) {
    auto chunk = store->ReadAll(expect, 2000);
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    ASSERT_FALSE(chunk->empty()) << "the log ends at " << expect - 1 << " but Info says " << scan->last;
    for (const RecordedEvent& e : *chunk) {
      ASSERT_EQ(e.position, expect) << "positions are not dense";
      ++expect;
      uint64_t seed = 0;
      size_t index = 0;
      ASSERT_TRUE(crash::ParseFacts(e.facts, &seed, &index)) << "position " << e.position << ": " << e.facts;
      auto it = scan->batches.find(seed);
      if (it == scan->batches.end()) it = scan->batches.emplace(seed, crash::MakeBatch(seed)).first;
      const crash::Batch& b = it->second;
      ASSERT_LT(index, b.events.size());
      const NewEvent& want = b.events[index];
      EXPECT_EQ(e.stream, b.stream);
      EXPECT_EQ(e.id, want.id);
      EXPECT_EQ(e.type, want.type);
      EXPECT_EQ(e.schema_version, want.schema_version);
      EXPECT_EQ(e.occurred_at, want.occurred_at);
      EXPECT_EQ(e.actor, want.actor);
      EXPECT_EQ(e.correlation_id, want.correlation_id);
      EXPECT_EQ(e.subjects, want.subjects);
      ASSERT_EQ(e.personal.size(), want.personal.size()) << "position " << e.position;
      for (size_t k = 0; k < want.personal.size(); ++k) {
        EXPECT_EQ(e.personal[k].subject, want.personal[k].subject);
        EXPECT_EQ(e.personal[k].data, want.personal[k].data) << "position " << e.position;
        EXPECT_FALSE(e.personal[k].erased);
        scan->subjects_with_personal.insert(want.personal[k].subject);
      }
      auto& positions = scan->batch_positions[seed];
      EXPECT_EQ(positions.size(), index) << "batch " << seed << " is out of order at " << e.position;
      positions.push_back(e.position);
      touched_batches.insert(seed);
      auto& in_stream = scan->stream_positions[e.stream];
      in_stream.push_back(e.position);
      touched_streams.insert(e.stream);
      EXPECT_EQ(e.stream_version, in_stream.size()) << "position " << e.position;
      for (const auto& ref : e.subjects) {
        scan->subject_positions[ref.id].push_back(e.position);
        touched_subjects.insert(ref.id);
      }
    }
  }
  ASSERT_EQ(expect, scan->last + 1);
  auto beyond = store->ReadAll(scan->last + 1, 10);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->empty()) << "records beyond the last position";

  // No half batches: every batch in the log is whole and contiguous.
  for (uint64_t seed : touched_batches) {
    const auto& positions = scan->batch_positions.at(seed);
    const crash::Batch& b = scan->batches.at(seed);
    ASSERT_EQ(positions.size(), b.events.size()) << "batch " << seed << " is torn";
    EXPECT_EQ(positions.back() - positions.front() + 1, positions.size()) << "batch " << seed;
  }

  // Every acknowledged batch is there, at the positions it was given.
  for (const auto& [seed, ack] : acked) {
    auto it = scan->batch_positions.find(seed);
    ASSERT_NE(it, scan->batch_positions.end()) << "acknowledged batch " << seed << " (positions "
                                               << ack.first_position << ".." << ack.last_position
                                               << ") is missing";
    EXPECT_EQ(it->second.front(), ack.first_position) << "batch " << seed;
    EXPECT_EQ(it->second.back(), ack.last_position) << "batch " << seed;
    EXPECT_EQ(scan->batches.at(seed).stream, ack.stream);
    const auto& in_stream = scan->stream_positions.at(ack.stream);
    auto at = std::lower_bound(in_stream.begin(), in_stream.end(), ack.first_position);
    uint64_t first_version =
        at != in_stream.end() && *at == ack.first_position ? uint64_t(at - in_stream.begin()) + 1 : 0;
    EXPECT_EQ(first_version, ack.first_version) << "batch " << seed;
    EXPECT_EQ(first_version + (ack.last_position - ack.first_position), ack.last_version);
  }

  // The stream index agrees with the log: forward from the first record not
  // checked before; in a full check also backward.
  EXPECT_EQ(info->streams, scan->stream_positions.size());
  for (const std::string& stream : touched_streams) {
    const auto& positions = scan->stream_positions.at(stream);
    auto version = store->StreamVersion(stream);
    ASSERT_TRUE(version.ok()) << version.status().ToString();
    EXPECT_EQ(*version, positions.size()) << stream;
    size_t first = size_t(std::lower_bound(positions.begin(), positions.end(), from) - positions.begin());
    auto fwd = store->ReadStream(stream, first + 1, Direction::kForward, 1u << 30);
    ASSERT_TRUE(fwd.ok()) << fwd.status().ToString();
    ASSERT_EQ(fwd->size(), positions.size() - first) << stream;
    for (size_t i = first; i < positions.size(); ++i) {
      EXPECT_EQ((*fwd)[i - first].position, positions[i]) << stream;
      EXPECT_EQ((*fwd)[i - first].stream_version, i + 1) << stream;
    }
    if (!full) continue;
    auto back = store->ReadStream(stream, 0, Direction::kBackward, 1u << 30);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ASSERT_EQ(back->size(), positions.size()) << stream;
    for (size_t i = 0; i < positions.size(); ++i) {
      EXPECT_EQ((*back)[i].position, positions[positions.size() - 1 - i]) << stream;
    }
  }

  // The subject index (from the first record not checked before) and the
  // lookup index agree with the log.
  for (int n = 0; n < crash::kSubjects; ++n) {
    std::string subject = crash::SubjectName(n);
    auto it = scan->subject_positions.find(subject);
    if (it == scan->subject_positions.end()) {
      auto read = store->ReadSubject(subject, 1, 1u << 30);
      EXPECT_TRUE(read.status().IsNotFound()) << subject << ": " << read.status().ToString();
    } else if (touched_subjects.count(subject) != 0) {
      auto read = store->ReadSubject(subject, from, 1u << 30);
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      std::vector<uint64_t> want;
      for (uint64_t p : it->second) {
        if (p >= from) want.push_back(p);
      }
      ASSERT_EQ(read->size(), want.size()) << subject;
      for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ((*read)[i].position, want[i]) << subject;
    }
    auto found = store->FindSubjects({"nhs", crash::NhsFor(n)});
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    std::vector<std::string> want;
    if (scan->subjects_with_personal.count(subject) != 0) want.push_back(subject);
    EXPECT_EQ(*found, want) << subject;
  }
  EXPECT_EQ(info->subjects, scan->subjects_with_personal.size());

  // The Merkle tree head: the frontier carried over, extended with the new
  // records' leaf hashes.
  merkle::Hasher hasher;
  for (uint64_t p = from; p <= scan->last; ++p) {
    auto raw = store->RawRecord(p);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    scan->frontier.Append(hasher, hasher.Leaf(*raw), nullptr);
  }
  auto tree = store->CurrentTree();
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->size, scan->last);
  EXPECT_EQ(tree->root, scan->frontier.Root(hasher)) << "the tree head does not match the records";
  EXPECT_EQ(info->tree.root, tree->root);
}

TEST(CrashTest, KilledWritersLoseNothingAcknowledged) {
  const uint64_t seed = EnvOr("HEARTH_CRASH_SEED", std::random_device{}());
  const uint64_t kills = EnvOr("HEARTH_CRASH_KILLS", 50);
  SCOPED_TRACE("HEARTH_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  std::string key = HexKeyFile(dir.sub("root.key"));
  std::string path = dir.sub("store");
  {
    Options o;
    o.create_if_missing = true;
    o.key = KeySource::File(key);
    ASSERT_TRUE(Store::Open(o, path).ok());
  }

  // A full check from position 1 every this many kills (and after the last).
  const uint64_t full_every = std::max<uint64_t>(1, EnvOr("HEARTH_CRASH_FULL_EVERY", 25));
  LogScan scan;
  std::map<uint64_t, Ack> acked;
  uint64_t acknowledged_events = 0, killed_before_ready = 0, kills_with_appends = 0;
  // Where the time goes (reported, never asserted).
  using Clock = std::chrono::steady_clock;
  Clock::duration in_child{}, opening{}, verifying{}, closing{};
  for (uint64_t iteration = 1; iteration <= kills; ++iteration) {
    SCOPED_TRACE("kill " + std::to_string(iteration));
    auto t0 = Clock::now();
    int writers = 1 + int(rng() % 3);
    Child child({HEARTH_CRASH_CHILD, "append", path, key, std::to_string(iteration), std::to_string(writers)});
    // Mostly kill while appending; sometimes while the store is still opening
    // (recovering from the previous kill).
    bool during_open = rng() % 8 == 0;
    if (during_open) {
      ++killed_before_ready;
      child.ReadUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 40));
    } else {
      ASSERT_TRUE(child.WaitForLine("ready")) << "the child did not open the store";
      int delay_ms = 5 + int(rng() % 196);
      child.ReadUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms));
    }
    int status = child.Kill();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended by itself";
    size_t before = acked.size();
    for (const std::string& line : child.Lines()) {
      std::istringstream in(line);
      std::string word;
      in >> word;
      if (word == "ready") continue;
      ASSERT_EQ(word, "ack") << "child: " << line;
      uint64_t s;
      Ack a;
      int dup;
      in >> s >> a.stream >> a.first_position >> a.last_position >> a.first_version >> a.last_version >> dup;
      ASSERT_FALSE(in.fail()) << line;
      EXPECT_EQ(dup, 0) << line;
      EXPECT_TRUE(acked.emplace(s, a).second) << "batch acknowledged twice: " << line;
      acknowledged_events += a.last_position - a.first_position + 1;
    }
    if (acked.size() > before) ++kills_with_appends;

    auto t1 = Clock::now();
    auto store = OpenExisting(path, key);
    ASSERT_TRUE(store.ok()) << "the store does not open after a kill: " << store.status().ToString();
    auto t2 = Clock::now();
    bool full = iteration % full_every == 0 || iteration == kills;
    VerifyStore(store->get(), acked, &scan, full);
    auto t3 = Clock::now();
    store->reset();
    auto t4 = Clock::now();
    in_child += t1 - t0;
    opening += t2 - t1;
    verifying += t3 - t2;
    closing += t4 - t3;
    // One line per kill, so a run cut short by a timeout still says where it
    // was and how to replay it.
    std::printf("kill %llu/%llu (HEARTH_CRASH_SEED=%llu): %s, %d writers, %s check, log at %llu, "
                "%zu batches / %llu events acknowledged so far\n",
                (unsigned long long)iteration, (unsigned long long)kills, (unsigned long long)seed,
                during_open ? "while opening" : "while appending", writers,
                full ? "full" : "incremental",
                (unsigned long long)scan.last, acked.size(), (unsigned long long)acknowledged_events);
    std::fflush(stdout);
    if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
      FAIL() << "stopping after the first damaged state";
    }
  }
  ::testing::Test::RecordProperty("kills", int(kills));
  ::testing::Test::RecordProperty("acknowledged_events", int(acknowledged_events));
  auto secs = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  std::printf("crash: seed %llu, %llu kills (%llu while opening, %llu after appends), "
              "%zu batches / %llu events acknowledged; seconds in child %.1f, reopening %.1f, "
              "verifying %.1f, closing %.1f\n",
              (unsigned long long)seed, (unsigned long long)kills,
              (unsigned long long)killed_before_ready, (unsigned long long)kills_with_appends,
              acked.size(), (unsigned long long)acknowledged_events, secs(in_child), secs(opening),
              secs(verifying), secs(closing));
  // The test only means something if the kills landed among appends.
  EXPECT_GT(kills_with_appends, kills / 2);
}

// RotateRootKey rewraps every key in one batch: killed at any point, the
// store opens with exactly one of the two keys, and the other gets WrongKey.
TEST(CrashTest, RotationKilledAtRandomPointsOpensWithExactlyOneKey) {
  const uint64_t seed = EnvOr("HEARTH_CRASH_SEED", std::random_device{}());
  SCOPED_TRACE("HEARTH_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  std::string path = dir.sub("store");
  std::string current = HexKeyFile(dir.sub("key-0"));
  // Many data subjects, so that the rewrapping takes a while.
  constexpr int kSubjects = 3000;
  {
    Options o;
    o.create_if_missing = true;
    o.key = KeySource::File(current);
    auto s = Store::Open(o, path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (int b = 0; b < kSubjects / 100; ++b) {
      std::vector<NewEvent> batch;
      for (int i = 0; i < 100; ++i) {
        std::string subject = "P-" + std::to_string(b * 100 + i);
        batch.push_back(testing::MakeEvent("Contact", subject, "Synthetic person " + subject));
      }
      ASSERT_TRUE((*s)->Append("case-" + std::to_string(b), ExpectedVersion::NoStream(), batch).ok());
    }
  }

  // How long a rotation takes here, so the kills can land before, during and
  // after it (the rotation itself is real: the store moves to a new key).
  std::chrono::microseconds span{0};
  {
    std::string next = HexKeyFile(dir.sub("key-1"));
    Child child({HEARTH_CRASH_CHILD, "rotate", path, current, next});
    ASSERT_TRUE(child.WaitForLine("ready"));
    int status = child.Reap();
    for (const auto& l : child.Lines()) {
      if (l.rfind("rotated ", 0) == 0) span = std::chrono::microseconds(std::stoll(l.substr(8)));
    }
    ASSERT_GT(span.count(), 0) << "the child did not report a rotation";
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    current = next;
  }

  int kept_old = 0, moved_to_new = 0;
  constexpr int kKills = 20;
  for (int k = 2; k < kKills + 2; ++k) {
    SCOPED_TRACE("rotation kill " + std::to_string(k));
    std::string next = HexKeyFile(dir.sub("key-" + std::to_string(k)));
    Child child({HEARTH_CRASH_CHILD, "rotate", path, current, next});
    ASSERT_TRUE(child.WaitForLine("ready"));
    // The first kill comes at once (before the commit), the second well
    // after a whole rotation's time (after it), the rest at random across it.
    auto delay = k == 2   ? std::chrono::microseconds(0)
                 : k == 3 ? span * 3
                          : std::chrono::microseconds(int64_t(rng() % uint64_t(span.count() * 3 / 2 + 1)));
    child.ReadUntil(std::chrono::steady_clock::now() + delay);
    child.Kill();
    auto lines = child.Lines();
    bool acknowledged = false;
    for (const auto& l : lines) {
      if (l.rfind("rotated ", 0) == 0) {
        acknowledged = true;
      } else {
        EXPECT_EQ(l, "ready");
      }
    }

    // One process at a time may hold the store: try each key in turn.
    Status old_status, new_status;
    {
      auto with_old = OpenExisting(path, current);
      old_status = with_old.status();
    }
    {
      auto with_new = OpenExisting(path, next);
      new_status = with_new.status();
    }
    std::unique_ptr<Store> opened;
    if (old_status.ok()) {
      EXPECT_EQ(new_status.code(), Status::Code::kWrongKey)
          << "both keys, or none, open the store: new key: " << new_status.ToString();
      EXPECT_FALSE(acknowledged) << "an acknowledged rotation was lost";
      ++kept_old;
    } else {
      EXPECT_EQ(old_status.code(), Status::Code::kWrongKey) << old_status.ToString();
      ASSERT_TRUE(new_status.ok()) << "neither key opens the store: old: " << old_status.ToString()
                                   << "; new: " << new_status.ToString();
      ++moved_to_new;
      current = next;
    }
    auto reopened = OpenExisting(path, current);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    opened = std::move(*reopened);
    // Every data key still unwraps: all personal sections read back.
    auto all = opened->ReadAll(1, kSubjects + 10);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    ASSERT_EQ(all->size(), size_t(kSubjects));
    for (const auto& e : *all) {
      ASSERT_EQ(e.personal.size(), 1u);
      EXPECT_EQ(e.personal[0].data, "Synthetic person " + e.personal[0].subject);
    }
    if (::testing::Test::HasFailure()) FAIL() << "stopping after the first bad state";
  }
  std::printf("rotation: seed %llu, rotation takes ~%lld us here; %d kills kept the old key, "
              "%d moved to the new one\n",
              (unsigned long long)seed, (long long)span.count(), kept_old, moved_to_new);
  // Kills landed both before the rotation's commit and after it.
  EXPECT_GT(kept_old, 0);
  EXPECT_GT(moved_to_new, 0);
}


// Kills during the operations besides appends: erasure, checkpoint signing,
// backup and projection rebuild (crash_child ops). After each kill the store
// opens, every acknowledged append is there, every acknowledged erasure
// holds (and any erasure that reached the log is in the erasure ledger),
// every acknowledged checkpoint is kept, every acknowledged backup verifies
// and ends where it said, the projection catches up to what the log says,
// and the verifier passes. HEARTH_CRASH_OPS_KILLS=<n> (default 30).
TEST(CrashTest, KillsDuringErasureCheckpointBackupAndRebuildLoseNothing) {
  const uint64_t seed = EnvOr("HEARTH_CRASH_SEED", std::random_device{}());
  const uint64_t kills = EnvOr("HEARTH_CRASH_OPS_KILLS", 30);
  SCOPED_TRACE("HEARTH_CRASH_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  TempDir dir;
  std::string key = HexKeyFile(dir.sub("root.key"));
  std::string path = dir.sub("store");
  std::string backups = dir.sub("backups");
  std::filesystem::create_directories(backups);
  Options options;
  options.create_if_missing = true;
  options.key = KeySource::File(key);
  options.projections.push_back(std::make_shared<crash::StreamCountProjection>());

  struct Appended {
    uint64_t first, last;
  };
  std::map<std::string, Appended> appended;            // stream -> positions
  std::set<std::string> erased;                        // acknowledged erasures
  std::set<std::string> attempted;                     // every subject an erasure was started for
  std::set<uint64_t> checkpoints;                      // acknowledged checkpoint sizes
  std::map<std::string, int> cut;                      // what each kill interrupted
  uint64_t backups_checked = 0, rebuilds = 0;
  for (uint64_t iteration = 1; iteration <= kills; ++iteration) {
    SCOPED_TRACE("ops kill " + std::to_string(iteration));
    Child child({HEARTH_CRASH_CHILD, "ops", path, key, std::to_string(iteration), backups});
    ASSERT_TRUE(child.WaitForLine("ready")) << "the child did not open the store";
    child.ReadUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(20 + rng() % 400));
    int status = child.Kill();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended by itself";
    uint64_t k = 0;
    bool op_pending = false;  // the last line was an append's ack: an operation was running
    std::vector<std::pair<std::string, uint64_t>> new_backups;
    for (const std::string& line : child.Lines()) {
      std::istringstream in(line);
      std::string word;
      in >> word;
      if (word == "ready") continue;
      if (word == "ack") {
        std::string stream;
        Appended a{};
        in >> stream >> a.first >> a.last;
        ASSERT_FALSE(in.fail()) << line;
        appended[stream] = a;
        if (crash::OpsChoice(iteration, k) == 0) attempted.insert(crash::OpsSubject(iteration, k));
        op_pending = true;
        continue;
      }
      ASSERT_TRUE(op_pending) << "an operation acknowledged without its append: " << line;
      op_pending = false;
      ++k;
      if (word == "erased") {
        std::string subject;
        in >> subject;
        erased.insert(subject);
      } else if (word == "checkpoint") {
        uint64_t size = 0;
        in >> size;
        checkpoints.insert(size);
      } else if (word == "backup") {
        std::string where;
        uint64_t pos = 0;
        in >> where >> pos;
        new_backups.emplace_back(where, pos);
      } else if (word == "rebuilt") {
        ++rebuilds;
      } else {
        FAIL() << "child: " << line;
      }
    }
    std::string what = op_pending ? crash::OpsName(crash::OpsChoice(iteration, k)) : "append";
    cut[what]++;

    auto opened = Store::Open(options, path);
    ASSERT_TRUE(opened.ok()) << "the store does not open after a kill during " << what << ": "
                             << opened.status().ToString();
    Store* store = opened->get();
    for (const auto& [stream, a] : appended) {
      auto events = store->ReadStream(stream, 1, Direction::kForward, 10);
      ASSERT_TRUE(events.ok()) << stream << ": " << events.status().ToString();
      ASSERT_EQ(events->size(), a.last - a.first + 1) << stream;
      EXPECT_EQ(events->front().position, a.first) << stream;
    }
    auto pk = store->CheckpointPublicKey();
    ASSERT_TRUE(pk.ok());
    auto ledger = log::ReadErasureLedger(log::DefaultErasureLedgerPath(path), *pk);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    std::set<std::string> in_ledger;
    for (const auto& e : ledger->entries) in_ledger.insert(e.subject);
    for (const std::string& subject : attempted) {
      auto read = store->ReadSubject(subject, 1, 10);
      ASSERT_TRUE(read.ok()) << subject << ": " << read.status().ToString();
      // Its three notes (the erasure event itself carries no personal data).
      std::vector<bool> sections;
      for (const auto& e : *read) {
        for (const auto& p : e.personal) sections.push_back(p.erased);
      }
      ASSERT_EQ(sections.size(), 3u) << subject;
      bool is_erased = sections[0];
      for (bool b : sections) EXPECT_EQ(b, is_erased) << subject << " is half erased";
      if (erased.count(subject) != 0) {
        EXPECT_TRUE(is_erased) << "acknowledged erasure of " << subject << " undone";
      }
      if (is_erased) {
        EXPECT_EQ(in_ledger.count(subject), 1u) << subject << " is erased but not in the ledger";
        uint64_t it_no = std::stoull(subject.substr(1, subject.find('-') - 1));
        uint64_t k_no = std::stoull(subject.substr(subject.find('-') + 1));
        std::string nhs = crash::OpsNhs(it_no, k_no);
        auto found = store->FindSubjects({"nhs", nhs});
        ASSERT_TRUE(found.ok());
        std::string names;
        for (const auto& f : *found) names += " " + f;
        EXPECT_TRUE(found->empty()) << "the erased " << subject << " is found by identifier:" << names;
      }
    }
    auto cps = store->Checkpoints();
    ASSERT_TRUE(cps.ok());
    std::set<uint64_t> kept;
    for (const auto& cp : *cps) kept.insert(cp.size);
    for (uint64_t size : checkpoints) EXPECT_EQ(kept.count(size), 1u) << "checkpoint " << size << " lost";
    // The projection catches up to the log and agrees with it.
    ASSERT_TRUE(store->WaitForProjection("stream-count", 0, 120000).ok());
    std::map<std::string, uint64_t> counted, want;
    ASSERT_TRUE(store->ScanProjection("stream-count", "", [&](std::string_view k2, std::string_view v) {
      counted[std::string(k2)] = std::stoull(std::string(v));
      return true;
    }).ok());
    for (uint64_t from = 1;;) {
      auto chunk = store->ReadAll(from, 2000);
      ASSERT_TRUE(chunk.ok());
      if (chunk->empty()) break;
      for (const auto& e : *chunk) want[e.stream]++;
      from = chunk->back().position + 1;
    }
    EXPECT_EQ(counted, want) << "the projection disagrees with the log";
    opened->reset();
    auto report = merkle::VerifyStoreFiles(path, *pk);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << "verifier: " << report->failure;
    // Acknowledged backups verify and end where they said; the rest (a
    // backup cut short) are removed.
    for (const auto& [where, pos] : new_backups) {
      auto b = merkle::VerifyStoreFiles(where, *pk);
      ASSERT_TRUE(b.ok()) << where << ": " << b.status().ToString();
      EXPECT_TRUE(b->ok) << where << ": " << b->failure;
      EXPECT_EQ(b->leaves, pos) << where;
      ++backups_checked;
    }
    std::filesystem::remove_all(backups);
    std::filesystem::create_directories(backups);
    std::printf("ops kill %llu/%llu (HEARTH_CRASH_SEED=%llu): during %s; %zu appends, %zu erasures, "
                "%zu checkpoints, %llu backups, %llu rebuilds acknowledged so far\n",
                (unsigned long long)iteration, (unsigned long long)kills, (unsigned long long)seed,
                what.c_str(), appended.size(), erased.size(), checkpoints.size(),
                (unsigned long long)backups_checked, (unsigned long long)rebuilds);
    std::fflush(stdout);
    if (::testing::Test::HasFailure()) FAIL() << "stopping after the first bad state";
  }
  std::string where;
  for (const auto& [what, n] : cut) where += " " + what + "=" + std::to_string(n);
  std::printf("ops: seed %llu, %llu kills, landed during:%s\n", (unsigned long long)seed,
              (unsigned long long)kills, where.c_str());
  EXPECT_FALSE(erased.empty());
  EXPECT_FALSE(checkpoints.empty());
}

}  // namespace
}  // namespace hearth
