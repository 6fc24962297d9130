// Suite `crypto`: the cost of sealing, hearth encrypted against the same log
// unencrypted (Options::encrypt = false), on the same events in one run.
#include "contenders.h"
#include "suites.h"

namespace hearth::bench {

namespace {

// Reads positions [first, end) in pages of 1000 (Store::ReadAll); returns
// seconds. Checks that every event and every payload byte came back.
Result<double> ReadRange(Store* store, uint64_t first, uint64_t end) {
  uint64_t seen = 0, bytes = 0;
  Stopwatch clock;
  for (uint64_t from = first; from < end;) {
    auto page = store->ReadAll(from, size_t(std::min<uint64_t>(1000, end - from)));
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
  uint64_t expected = end - first;
  if (seen != expected || bytes != expected * kEventBytes) {
    return Status::Corruption("read back " + std::to_string(seen) + " events and " +
                              std::to_string(bytes) + " payload bytes; expected " +
                              std::to_string(expected) + " of " + std::to_string(kEventBytes) + " B");
  }
  return seconds;
}

}  // namespace

Result<Json> RunCryptoSuite(const SuiteOptions& options, const RunDir& dir) {
  const uint64_t n = options.events;
  const uint32_t rounds = uint32_t(std::min<uint64_t>(options.rounds, std::max<uint64_t>(1, n / 100)));
  Workload workload(n, options.seed);
  Progress(options, "crypto: " + std::to_string(n) + " events, batches of 100" +
                        (options.sync ? ", synced" : ", NOT synced") +
                        "; encrypted vs unencrypted, " + std::to_string(rounds) + " interleaved rounds");
  // The same events: 200 B facts + 400 B personal section when encrypted,
  // all 600 B as facts when not (an unencrypted store refuses personal sections).
  std::vector<Batch> sealed = workload.MakeBatches(0, workload.batches(), Shape::kWithPersonal, false);
  std::vector<Batch> plain = workload.MakeBatches(0, workload.batches(), Shape::kFactsOnly, false);
  HearthSetup enc_setup{dir.Sub("crypto-encrypted"), dir.key_file(), true, options.sync};
  HearthSetup plain_setup{dir.Sub("crypto-plain"), dir.key_file(), false, options.sync};

  std::vector<Contender> appends;
  {
    auto enc_store = OpenHearth(enc_setup, true);
    if (!enc_store.ok()) return enc_store.status();
    auto plain_store = OpenHearth(plain_setup, true);
    if (!plain_store.ok()) return plain_store.status();
    appends = {
        {"encrypted", [&](uint32_t r) { return HearthAppendBatches(enc_store->get(), Slice(sealed, r, rounds)); }},
        {"unencrypted", [&](uint32_t r) { return HearthAppendBatches(plain_store->get(), Slice(plain, r, rounds)); }},
    };
    Status s = RunInterleaved(rounds, &appends);
    if (!s.ok()) return s;
  }
  sealed.clear();
  plain.clear();

  // Reopened, so hearth's block cache and data-key cache start empty (the
  // operating system's page cache stays warm).
  std::vector<Contender> reads;
  {
    auto enc_store = OpenHearth(enc_setup, false);
    if (!enc_store.ok()) return enc_store.status();
    auto plain_store = OpenHearth(plain_setup, false);
    if (!plain_store.ok()) return plain_store.status();
    auto range = [&](Store* store, uint32_t r) {
      auto [b, e] = SliceOf(size_t(n), r, rounds);
      return ReadRange(store, 1 + b, 1 + e);
    };
    reads = {
        {"encrypted", [&](uint32_t r) { return range(enc_store->get(), r); }},
        {"unencrypted", [&](uint32_t r) { return range(plain_store->get(), r); }},
    };
    Status s = RunInterleaved(rounds, &reads);
    if (!s.ok()) return s;
  }

  auto cost = [](double encrypted, double unencrypted) {
    return unencrypted > 0 ? Round((1.0 - encrypted / unencrypted) * 100.0, 2) : 0.0;
  };
  Json out;
  out["crypto_events"] = n;
  out["encrypted_append_eps"] = Rate(n, appends[0].seconds);
  out["plain_append_eps"] = Rate(n, appends[1].seconds);
  out["append_cost_pct"] = cost(out["encrypted_append_eps"].get<double>(), out["plain_append_eps"].get<double>());
  out["encrypted_read_eps"] = Rate(n, reads[0].seconds);
  out["plain_read_eps"] = Rate(n, reads[1].seconds);
  out["read_cost_pct"] = cost(out["encrypted_read_eps"].get<double>(), out["plain_read_eps"].get<double>());
  auto cpu_us = [n](const Contender& c) { return Round(c.cpu_seconds / double(n) * 1e6, 2); };
  out["encrypted_append_cpu_us_per_event"] = cpu_us(appends[0]);
  out["plain_append_cpu_us_per_event"] = cpu_us(appends[1]);
  out["encrypted_read_cpu_us_per_event"] = cpu_us(reads[0]);
  out["plain_read_cpu_us_per_event"] = cpu_us(reads[1]);
  Progress(options, "crypto: append " + out["encrypted_append_eps"].dump() + " vs " +
                        out["plain_append_eps"].dump() + " events/s, read " +
                        out["encrypted_read_eps"].dump() + " vs " + out["plain_read_eps"].dump());
  return out;
}

}  // namespace hearth::bench
