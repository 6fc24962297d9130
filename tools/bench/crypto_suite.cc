// Suite `crypto`: the cost of sealing, hearth encrypted against the same log
// unencrypted (Options::encrypt = false), on the same events in one run.
#include "contenders.h"
#include "suites.h"

namespace hearth::bench {

namespace {

// Reads the whole log from position 1 in pages of 1000; returns seconds.
Result<double> ReadEverything(Store* store, uint64_t expected_events) {
  uint64_t seen = 0, bytes = 0;
  Stopwatch clock;
  for (uint64_t from = 1;;) {
    auto page = store->ReadAll(from, 1000);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const RecordedEvent& e : *page) {
      bytes += e.facts.size();
      for (const auto& p : e.personal) bytes += p.data.size();
    }
    seen += page->size();
    from = page->back().position + 1;
  }
  double seconds = clock.Seconds();
  if (seen != expected_events || bytes != expected_events * kEventBytes) {
    return Status::Corruption("read back " + std::to_string(seen) + " events and " +
                              std::to_string(bytes) + " payload bytes; expected " +
                              std::to_string(expected_events) + " of " +
                              std::to_string(kEventBytes) + " B");
  }
  return seconds;
}

struct Side {
  double append_eps = 0;
  double read_eps = 0;
};

Status AppendSide(const SuiteOptions& options, const RunDir& dir, const Workload& workload,
                  bool encrypt, Side* side) {
  std::vector<Batch> batches = workload.MakeBatches(
      0, workload.batches(), encrypt ? Shape::kWithPersonal : Shape::kFactsOnly, false);
  HearthSetup setup{dir.Sub(encrypt ? "crypto-encrypted" : "crypto-plain"), dir.key_file(),
                    encrypt, true};
  auto store = OpenHearth(setup, true);
  if (!store.ok()) return store.status();
  auto t = HearthAppendBatches(store->get(), batches);
  if (!t.ok()) return t.status();
  side->append_eps = Rate(workload.events(), *t);
  Progress(options, std::string("crypto: append, ") + (encrypt ? "encrypted" : "unencrypted") +
                        ": " + std::to_string(int64_t(side->append_eps)) + " events/s");
  return Status::OK();
}

Status ReadSide(const SuiteOptions& options, const RunDir& dir, const Workload& workload,
                bool encrypt, Side* side) {
  // Reopened, so hearth's block cache and data-key cache start empty (the
  // operating system's page cache stays warm).
  HearthSetup setup{dir.Sub(encrypt ? "crypto-encrypted" : "crypto-plain"), dir.key_file(),
                    encrypt, true};
  auto store = OpenHearth(setup, false);
  if (!store.ok()) return store.status();
  auto t = ReadEverything(store->get(), workload.events());
  if (!t.ok()) return t.status();
  side->read_eps = Rate(workload.events(), *t);
  Progress(options, std::string("crypto: full read, ") + (encrypt ? "encrypted" : "unencrypted") +
                        ": " + std::to_string(int64_t(side->read_eps)) + " events/s");
  return Status::OK();
}

}  // namespace

Result<Json> RunCryptoSuite(const SuiteOptions& options, const RunDir& dir) {
  Workload workload(options.events, options.seed);
  Progress(options, "crypto: " + std::to_string(options.events) +
                        " events, batches of 100, synced; encrypted vs unencrypted");
  Side enc, plain;
  Status s = AppendSide(options, dir, workload, true, &enc);
  if (s.ok()) s = AppendSide(options, dir, workload, false, &plain);
  if (s.ok()) s = ReadSide(options, dir, workload, true, &enc);
  if (s.ok()) s = ReadSide(options, dir, workload, false, &plain);
  if (!s.ok()) return s;
  auto cost = [](double encrypted, double unencrypted) {
    return unencrypted > 0 ? Round((1.0 - encrypted / unencrypted) * 100.0, 2) : 0.0;
  };
  Json out;
  out["crypto_events"] = options.events;
  out["encrypted_append_eps"] = enc.append_eps;
  out["plain_append_eps"] = plain.append_eps;
  out["append_cost_pct"] = cost(enc.append_eps, plain.append_eps);
  out["encrypted_read_eps"] = enc.read_eps;
  out["plain_read_eps"] = plain.read_eps;
  out["read_cost_pct"] = cost(enc.read_eps, plain.read_eps);
  return out;
}

}  // namespace hearth::bench
