// The process the crash tests kill. It reports on standard output, one line
// per acknowledged operation, written with a single write(2) (atomic on a
// pipe), so the parent knows exactly what was acknowledged before SIGKILL.
//
//   hearth_crash_child append STORE KEY_FILE ITERATION WRITERS
//     prints "ready", then WRITERS threads append synced batches forever;
//     each acknowledged batch: "ack SEED STREAM FIRST_POS LAST_POS FIRST_VER LAST_VER DUP"
//   hearth_crash_child ops STORE KEY_FILE ITERATION BACKUP_DIR
//     prints "ready", then forever: appends 3 events about a new person
//     ("ack STREAM FIRST_POS LAST_POS"), then one operation chosen by
//     crash::OpsChoice: erases that person ("erased SUBJECT POS"), signs a
//     checkpoint ("checkpoint SIZE"), backs up into BACKUP_DIR ("backup DIR
//     POS"), or rebuilds the stream-count projection ("rebuilt").
//   hearth_crash_child rotate STORE OLD_KEY NEW_KEY
//     prints "ready", rotates the root key, prints "rotated MICROSECONDS" and exits.
// Any failure: "fail STATUS" and exit status 3.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crash_events.h"
#include "hearth/store.h"

namespace {

std::mutex out_mu;

void Say(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mu);
  std::string s = line + "\n";
  const char* p = s.data();
  size_t left = s.size();
  while (left > 0) {
    ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(4);
    p += n;
    left -= size_t(n);
  }
}

[[noreturn]] void Fail(const hearth::Status& s) {
  Say("fail " + s.ToString());
  std::_Exit(3);
}

void Writer(hearth::Store* store, uint64_t iteration, int writer) {
  for (uint64_t batch_no = 0;; ++batch_no) {
    uint64_t seed = hearth::crash::BatchSeed(iteration, uint64_t(writer), batch_no);
    hearth::crash::Batch b = hearth::crash::MakeBatch(seed);
    // Each writer owns its streams, so the expected version it reads is
    // exact (the parent checks the stream index against the log).
    auto v = store->StreamVersion(b.stream);
    if (!v.ok() && !v.status().IsNotFound()) Fail(v.status());
    hearth::ExpectedVersion expected =
        v.ok() ? hearth::ExpectedVersion::Exact(*v) : hearth::ExpectedVersion::NoStream();
    auto r = store->Append(b.stream, expected, b.events);
    if (!r.ok()) Fail(r.status());
    Say("ack " + std::to_string(seed) + " " + b.stream + " " + std::to_string(r->first_position) +
        " " + std::to_string(r->last_position) + " " + std::to_string(r->first_version) + " " +
        std::to_string(r->last_version) + " " + (r->duplicate ? "1" : "0"));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string mode = argv[1];
  if (mode == "append" && argc == 6) {
    hearth::Options options;
    options.create_if_missing = true;
    options.key = hearth::KeySource::File(argv[3]);
    auto store = hearth::Store::Open(options, argv[2]);
    if (!store.ok()) Fail(store.status());
    Say("ready");
    uint64_t iteration = std::strtoull(argv[4], nullptr, 10);
    int writers = std::atoi(argv[5]);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) threads.emplace_back(Writer, store->get(), iteration, w);
    for (auto& t : threads) t.join();  // never: the parent kills us
    return 0;
  }
  if (mode == "ops" && argc == 6) {
    hearth::Options options;
    options.create_if_missing = true;
    options.key = hearth::KeySource::File(argv[3]);
    options.projections.push_back(std::make_shared<hearth::crash::StreamCountProjection>());
    auto opened = hearth::Store::Open(options, argv[2]);
    if (!opened.ok()) Fail(opened.status());
    hearth::Store* store = opened->get();
    Say("ready");
    uint64_t iteration = std::strtoull(argv[4], nullptr, 10);
    std::string backups = argv[5];
    for (uint64_t k = 0;; ++k) {
      std::string subject = hearth::crash::OpsSubject(iteration, k);
      std::vector<hearth::NewEvent> events;
      for (int i = 0; i < 3; ++i) {
        hearth::NewEvent e;
        e.id = hearth::EventId::Random();
        e.type = "NoteAdded";
        e.actor = hearth::Actor{"u-1", "caseworker", "crash-test"};
        e.facts = "{\"ops\":" + std::to_string(k) + "}";
        e.subjects.push_back(hearth::SubjectRef{subject, hearth::SubjectRole::kClient});
        hearth::PersonalSection p;
        p.subject = subject;
        p.data = "{\"name\":\"Synthetic Person " + subject + "\"}";
        p.identifiers.push_back(hearth::Identifier{"nhs", hearth::crash::OpsNhs(iteration, k)});
        e.personal.push_back(std::move(p));
        events.push_back(std::move(e));
      }
      std::string stream = hearth::crash::OpsStream(iteration, k);
      auto r = store->Append(stream, hearth::ExpectedVersion::NoStream(), events);
      if (!r.ok()) Fail(r.status());
      Say("ack " + stream + " " + std::to_string(r->first_position) + " " +
          std::to_string(r->last_position));
      switch (hearth::crash::OpsChoice(iteration, k)) {
        case 0: {
          auto erased = store->EraseSubject(subject, hearth::Actor{"u-9", "controller", "crash-test"},
                                            "art17");
          if (!erased.ok()) Fail(erased.status());
          Say("erased " + subject + " " + std::to_string(erased->first_position));
          break;
        }
        case 1: {
          auto cp = store->WriteCheckpoint();
          if (!cp.ok()) Fail(cp.status());
          Say("checkpoint " + std::to_string(cp->size));
          break;
        }
        case 2: {
          std::string dir = backups + "/b-" + std::to_string(iteration) + "-" + std::to_string(k);
          auto pos = store->Backup(dir);
          if (!pos.ok()) Fail(pos.status());
          Say("backup " + dir + " " + std::to_string(*pos));
          break;
        }
        default: {
          hearth::Status s = store->RebuildProjection("stream-count");
          if (!s.ok()) Fail(s);
          Say("rebuilt");
        }
      }
    }
  }
  if (mode == "rotate" && argc == 5) {
    hearth::Options options;
    options.key = hearth::KeySource::File(argv[3]);
    auto store = hearth::Store::Open(options, argv[2]);
    if (!store.ok()) Fail(store.status());
    Say("ready");
    auto start = std::chrono::steady_clock::now();
    hearth::Status s = (*store)->RotateRootKey(hearth::KeySource::File(argv[4]));
    if (!s.ok()) Fail(s);
    auto took = std::chrono::steady_clock::now() - start;
    Say("rotated " + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
    return 0;
  }
  std::fprintf(stderr, "usage: see the comment at the top of crash_child.cc\n");
  return 2;
}
