// Where a return's facts come from (collect.h, FactSource): the `cases`
// projection when it is current, else one pass over the log.
#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <thread>
#include <unordered_map>

#include "base/read_ahead.h"
#include "base/string_index.h"
#include "domain/tables.h"
#include "exports/collect.h"
#include "hearth/readmodels.h"
#include "base/varint_codec.h"

namespace hearth::exports {

namespace {

// The log's pass, held in memory.
class LogFacts final : public FactSource {
 public:
  explicit LogFacts(Collection all) : all_(std::move(all)) {
    position = all_.position;
    timescales = all_.timescales;
    allocations = all_.allocations;
    for (const auto* streams : {&all_.cases, &all_.complaint_streams}) {
      for (const auto& [id, c] : *streams) districts.merge(DistrictsOf(c));
    }
  }

  Status ForEachComplaintStream(const CaseVisitor& fn) override { return Each(all_.complaint_streams, fn); }
  Status ForEachCase(const CaseVisitor& fn) override { return Each(all_.cases, fn); }
  Result<const PersonCodes*> CodesOf(const std::string& subject) override {
    auto it = all_.people.find(subject);
    return it == all_.people.end() ? nullptr : &it->second;
  }

 private:
  static Status Each(const std::map<std::string, CaseFacts>& streams, const CaseVisitor& fn) {
    for (const auto& [id, c] : streams) {
      Status s = fn(id, c);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }
  Collection all_;
};

// The `cases` projection, one case at a time.
class ProjectionFacts final : public FactSource {
 public:
  ProjectionFacts(LogReader& store, size_t codes_budget) : store_(store), codes_budget_(codes_budget) {
    from_projection = true;
  }

  Status ForEachComplaintStream(const CaseVisitor& fn) override {
    return Scan(kComplaintTag, [&](const std::string& id, std::string_view value) {
      CaseFacts c;
      Status s = DecodeCaseFacts(value, &c);
      return s.ok() ? fn(id, c) : s;
    });
  }

  // The facts in key order, a batch at a time, read ahead on a second thread
  // while this one visits the batch before. A batch: its facts by the scan
  // of `f` keys and its states by a scan of the same ids' `c` keys (no
  // lookup a case), on the reader; its clients' codes by one multi-key
  // lookup of sorted `p` keys (RocksDB reads a block once for the keys it
  // holds, where a lookup a key re-reads the filter and index for every
  // one), here, when first asked for: the case extract asks for none and
  // reads none, and the KPI return's reads balance the two threads (the
  // reader had 69 % of the samples when it read the codes too).
  Status ForEachCase(const CaseVisitor& fn) override {
    // A pass that wants codes (codes_wanted set) gets the table read on a
    // thread of its own while the first batches are read and visited: the
    // visitor answers from the batches' lookups until the table is ready
    // (the reader collects their keys until then), so neither waits for the
    // table (0.6 s at 12 M events, the reader idle meanwhile, when the
    // visitor read it on the first call).
    TableThread table_thread{*this, {}};
    if (codes_wanted && table_.state == CodesTable::kNotRead) table_thread.Start();
    Status read;  // the reader's, read once it has handed over its last batch
    base::ReadAhead<Batch> pipe(2);
    pipe.Start([&](base::ReadAhead<Batch>& p) { read = ReadBatches(p); });
    struct Visiting {  // CodesOf answers from the batch only while it is visited
      Batch*& current;
      ~Visiting() { current = nullptr; }
    } visiting{current_};
    while (Batch* b = pipe.NextFull()) {
      current_ = b;
      Status s;
      for (size_t i = 0; s.ok() && i < b->size; ++i) s = fn(b->ids[i], b->cases[i]);
      current_ = nullptr;
      pipe.GiveBack(b);
      if (!s.ok()) return s;  // the pipe stops and joins the reader; then the table's thread is joined
    }
    if (Status t = table_thread.Join(); !t.ok()) return t;
    return read;
  }

  Result<bool> MoneyTotalsAt(int first_year, Date as_of, MoneyByDistrict* out) override {
    // Every district's, fund's and day's change in the year, summed up to
    // as_of: at most districts x funds x 365 keys.
    std::map<std::pair<std::string, std::string>, MoneyTotals> sums;
    const std::string prefix = MoneyTotalsKey(first_year, "", "", Date{}).substr(0, 5);
    Status inner;
    Status s = store_.ScanProjection(readmodels::kCasesProjection, prefix, [&](std::string_view key, std::string_view value) {
      int year = 0;
      std::string_view district, fund;
      Date day{};
      inner = ParseMoneyTotalsKey(key, &year, &district, &fund, &day);
      if (!inner.ok()) return false;
      if (day > as_of) return true;
      MoneyTotals t;
      inner = DecodeMoneyTotals(value, &t);
      if (!inner.ok()) return false;
      sums[{std::string(district), std::string(fund)}].Add(t);
      return true;
    });
    if (s.ok()) s = inner;
    if (!s.ok()) return s;
    out->clear();
    for (const auto& [k, t] : sums) {
      // A district and fund with nothing committed and nothing spent as of
      // the day has no entry, as when its cases are counted one by one.
      if (t.committed_grants == 0 && t.spent_grants == 0) continue;
      FundMoney& m = (*out)[k.first][k.second];
      m.committed = t.committed;
      m.committed_grants = t.committed_grants;
      m.spent = t.spent;
      m.spent_grants = t.spent_grants;
    }
    return true;
  }

  Result<const PersonCodes*> CodesOf(const std::string& subject) override {
    if (subject.empty()) return nullptr;
    if (table_reading_) {
      // Read on its own thread: used once it is ready, the batches' lookups till then.
      if (table_ready_.load(std::memory_order_acquire)) {
        table_reading_ = false;
        if (!table_status_.ok()) return table_status_;
        codes_in_table_.store(table_.state == CodesTable::kRead, std::memory_order_relaxed);
      }
    } else if (current_ != nullptr && table_.state == CodesTable::kNotRead) {
      Status s = table_.Read(store_, codes_budget_);
      if (!s.ok()) return s;
      codes_in_table_.store(table_.state == CodesTable::kRead, std::memory_order_relaxed);
    }
    if (!table_reading_ && table_.state == CodesTable::kRead) {
      const CodesTable::Entry* e = table_.Find(subject);
      if (e == nullptr) return nullptr;
      table_.Expand(*e, &codes_);
      return &codes_;
    }
    if (current_ != nullptr) {
      // The first call of a batch reads the codes of every client in it.
      if (!current_->pending_codes.empty()) {
        Status s = Prefetch(&current_->pending_codes, &current_->codes);
        if (!s.ok()) return s;
      }
      if (auto it = current_->codes.find(subject); it != current_->codes.end()) {
        return it->second ? &*it->second : nullptr;
      }
    }
    std::string bytes;
    Status s = store_.GetProjectionValue(readmodels::kCasesProjection, TagKey(kPersonTag, subject), &bytes);
    if (s.IsNotFound()) return nullptr;
    if (!s.ok()) return s;
    s = DecodePersonCodes(bytes, &codes_);
    if (!s.ok()) return s;
    return &codes_;
  }

  Status Finish() override {
    auto now = CasesPosition(store_);
    if (!now.ok()) return now.status();
    if (*now != position) {
      return Status::Conflict("the cases projection moved from position " + std::to_string(position) + " to " +
                             std::to_string(*now) + " while the return read it");
    }
    return Status::OK();
  }

  // The cases projection's position when it is running and not stopped.
  static Result<uint64_t> CasesPosition(LogReader& store) {
    auto projections = store.Projections();
    if (!projections.ok()) return projections.status();
    for (const auto& p : *projections) {
      if (p.name == readmodels::kCasesProjection && !p.stopped && p.version == readmodels::kCasesProjectionVersion) {
        return p.position;
      }
    }
    return Status::NotFound("the store runs no current cases projection");
  }

  Status Open(const domain::Codec& codec) {
    // The targets and allocations: their own small streams, up to `position`.
    domain::FactsDecoder decoder(&codec.tables());
    for (const char* stream : {kTimescalesStream, domain::kAllocationsStream}) {
      uint64_t from = 1;
      for (;;) {
        auto events = store_.ReadStream(stream, from, Direction::kForward, 1024);
        if (events.status().IsNotFound()) break;
        if (!events.ok()) return events.status();
        for (const RecordedEvent& e : *events) {
          if (e.position > position) break;
          Status s = FoldSettingsEvent(&decoder, e, &timescales, &allocations);
          if (!s.ok()) return s;
        }
        if (events->size() < 1024 || events->back().position > position) break;
        from = events->back().stream_version + 1;
      }
    }
    Status inner;
    Status s = store_.ScanProjection(readmodels::kCasesProjection, std::string(1, kDistrictTag),
                                     [&](std::string_view key, std::string_view value) {
                                       base::Reader r(value);
                                       uint64_t n = r.Var();
                                       if (!r.done()) {
                                         inner = Status::Corruption("cases projection: a district count that "
                                                                    "does not decode");
                                         return false;
                                       }
                                       if (n > 0) districts.emplace(key.substr(1));
                                       return true;
                                     });
    return s.ok() ? inner : s;
  }

 private:
  Status Scan(char tag, const std::function<Status(const std::string& id, std::string_view value)>& fn) {
    Status inner;
    std::string id;
    Status s = store_.ScanProjection(readmodels::kCasesProjection, std::string(1, tag),
                                     [&](std::string_view key, std::string_view value) {
                                       id.assign(key.substr(1));
                                       inner = fn(id, value);
                                       return inner.ok();
                                     });
    return s.ok() ? inner : s;
  }

  static constexpr size_t kBatch = 256;

  // A batch of cases read ahead: ids[i] and cases[i] for i < size (the
  // vectors and their strings reused from batch to batch).
  struct Batch {
    std::vector<std::string> ids;
    std::vector<CaseFacts> cases;
    size_t size = 0;
    std::vector<std::string> pending_codes;  // the clients' `p` keys, until their codes are read
    std::unordered_map<std::string, std::optional<PersonCodes>> codes;  // by subject; nullopt: none
  };

  // The reader thread: every case's facts and state, a batch at a time,
  // handed to `pipe` in key order.
  Status ReadBatches(base::ReadAhead<Batch>& pipe) {
    // The batch's ids and facts end to end in one buffer (no allocation a case).
    std::string arena;
    std::vector<std::array<size_t, 3>> spans;  // id at, id size, facts size
    auto id_of = [&](const std::array<size_t, 3>& at) { return std::string_view(arena).substr(at[0], at[1]); };
    bool stopped = false;  // the visitor stopped: no more batches wanted
    auto fill = [&]() -> Status {
      Batch* b = pipe.NextFree();
      if (b == nullptr) {
        stopped = true;
        return Status::Busy("the visitor stopped");
      }
      if (b->cases.size() < spans.size()) {
        b->cases.resize(spans.size());
        b->ids.resize(spans.size());
      }
      b->size = spans.size();
      b->pending_codes.clear();
      b->codes.clear();
      Status s;
      for (size_t i = 0; s.ok() && i < spans.size(); ++i) {
        b->ids[i].assign(id_of(spans[i]));
        // The facts carry the district a complaint stream counts in; the
        // state, decoded after them, has the case's own.
        s = DecodeCaseFacts(std::string_view(arena).substr(spans[i][0] + spans[i][1], spans[i][2]), &b->cases[i]);
      }
      if (!s.ok()) return s;
      // The states: the same ids in the same order, by one scan.
      size_t next = 0;
      Status scanned = store_.ScanProjectionFrom(
          readmodels::kCasesProjection, std::string(1, kStateTag), TagKey(kStateTag, b->ids[0]),
          [&](std::string_view key, std::string_view value) {
            std::string_view id = key.substr(1);
            if (id < b->ids[next]) return true;  // a case with no dated facts
            if (id > b->ids[next]) {
              s = Status::Corruption("cases projection: " + b->ids[next] + " has dated facts and no state");
              return false;
            }
            domain::CaseState& state = b->cases[next].state;
            s = readmodels::DecodeCaseState(value, &state);
            if (!s.ok()) return false;
            // Once every client's codes are in the table, no batch needs keys.
            if (!state.client.empty() && !codes_in_table_.load(std::memory_order_relaxed) &&
                (!codes_wanted || codes_wanted(b->cases[next]))) {
              b->pending_codes.push_back(TagKey(kPersonTag, state.client));
            }
            return ++next < b->size;
          });
      if (!scanned.ok()) return scanned;
      if (!s.ok()) return s;
      if (next < b->size) {
        return Status::Corruption("cases projection: " + b->ids[next] + " has dated facts and no state");
      }
      pipe.Hand(b);
      arena.clear();
      spans.clear();
      return Status::OK();
    };
    Status s = Scan(kFactsTag, [&](const std::string& id, std::string_view value) {
      spans.push_back({arena.size(), id.size(), value.size()});
      arena.append(id).append(value);
      return spans.size() < kBatch ? Status::OK() : fill();
    });
    if (s.ok() && !spans.empty()) s = fill();
    return stopped ? Status::OK() : s;
  }

  // The codes of a batch's clients (their `p` keys, emptied), absent ones as nullopt.
  Status Prefetch(std::vector<std::string>* keys, std::unordered_map<std::string, std::optional<PersonCodes>>* out) {
    std::sort(keys->begin(), keys->end());
    keys->erase(std::unique(keys->begin(), keys->end()), keys->end());
    std::vector<std::optional<std::string>> values;
    Status s = store_.GetProjectionValues(readmodels::kCasesProjection, *keys, &values);
    if (s.ok()) {
      for (size_t i = 0; i < keys->size(); ++i) {
        std::optional<PersonCodes>& codes = (*out)[(*keys)[i].substr(1)];
        if (!values[i]) continue;
        codes.emplace();
        s = DecodePersonCodes(*values[i], &*codes);
        if (!s.ok()) break;
      }
    }
    keys->clear();
    return s;
  }

  // Every client's codes, read by one scan of the `p` keys the first time a
  // pass asks for codes, when they fit the budget: a lookup a client, where
  // the batch's multi-key lookups cost about 3 µs a key at 12 M events (a
  // quarter of the KPI return's samples; docs/benchmarks.md). A client's
  // id in a base::StringIndex (its bytes, 4 bytes of end and 11 to 23 of
  // slots) and 18 bytes of codes: about 45 bytes a client for the demo's
  // ids, up to twice that while the vectors grow, so 64 MiB holds 0.7 to
  // 1.4 million.
  struct CodesTable {
    static_assert(sizeof(PersonCodes) == sizeof(std::string) + 8 * sizeof(uint16_t),
                  "a code added to PersonCodes needs its place in the table's entries");
    enum State { kNotRead, kRead, kTooLarge } state = kNotRead;
    struct Entry {  // the codes of the client numbered alike in `subjects`
      uint16_t age_band = 0;  // index into age_bands
      std::array<uint16_t, 8> codes{};
    };
    base::StringIndex subjects;
    std::vector<Entry> entries;
    std::vector<std::string> age_bands;  // the few values met

    Status Read(LogReader& store, size_t budget) {
      Status inner;
      bool over = false;
      Status s = store.ScanProjection(
          readmodels::kCasesProjection, std::string(1, kPersonTag), [&](std::string_view key, std::string_view value) {
            PersonCodes c;
            inner = DecodePersonCodes(value, &c);
            if (!inner.ok()) return false;
            std::string_view subject = key.substr(1);
            // What the table will hold once this client is in (the vectors
            // as allocated: they double as they grow).
            const size_t entries_capacity = entries.size() < entries.capacity()
                                                ? entries.capacity()
                                                : std::max<size_t>(entries.size() + 1, 2 * entries.capacity());
            if (subjects.HeldBytesWith(1, subject.size()) + entries_capacity * sizeof(Entry) > budget) {
              over = true;
              return false;
            }
            bool added = false;
            uint32_t n = subjects.Insert(subject, &added);
            if (n == base::StringIndex::kNone) {
              over = true;
              return false;
            }
            if (!added) {
              inner = Status::Corruption("cases projection: client " + std::string(subject) + " twice");
              return false;
            }
            Entry e;
            auto band = std::find(age_bands.begin(), age_bands.end(), c.age_band);
            if (band == age_bands.end()) {
              if (age_bands.size() == UINT16_MAX) {
                over = true;
                return false;
              }
              band = age_bands.insert(age_bands.end(), c.age_band);
            }
            e.age_band = uint16_t(band - age_bands.begin());
            e.codes = {c.gender,         c.disability,   c.ethnicity,     c.main_language,
                       c.interpreter_needed, c.unpaid_carer, c.mental_health, c.learning_disability};
            entries.push_back(e);
            return true;
          });
      if (s.ok()) s = inner;
      if (!s.ok() || over) {
        Clear();
        if (!s.ok()) return s;
        state = kTooLarge;
        return Status::OK();
      }
      state = kRead;
      return Status::OK();
    }
    const Entry* Find(std::string_view subject) const {
      uint32_t n = subjects.Find(subject);
      return n == base::StringIndex::kNone ? nullptr : &entries[n];
    }
    void Expand(const Entry& e, PersonCodes* out) const {
      out->age_band = age_bands[e.age_band];
      out->gender = e.codes[0];
      out->disability = e.codes[1];
      out->ethnicity = e.codes[2];
      out->main_language = e.codes[3];
      out->interpreter_needed = e.codes[4];
      out->unpaid_carer = e.codes[5];
      out->mental_health = e.codes[6];
      out->learning_disability = e.codes[7];
    }
    void Clear() {
      subjects.Clear();
      std::vector<Entry>().swap(entries);
      age_bands.clear();
    }
  };

  // The table's own thread for one ForEachCase: joined when the pass ends,
  // however it ends.
  struct TableThread {
    ProjectionFacts& source;
    std::thread thread;
    void Start() {
      source.table_reading_ = true;
      source.table_ready_.store(false, std::memory_order_relaxed);
      thread = std::thread([this] {
        source.table_status_ = source.table_.Read(source.store_, source.codes_budget_);
        source.table_ready_.store(true, std::memory_order_release);
      });
    }
    // The table's status once read (OK when none was started).
    Status Join() {
      if (!thread.joinable()) return Status::OK();
      thread.join();
      bool unused = source.table_reading_;  // never asked for after it was ready
      source.table_reading_ = false;
      if (!source.table_status_.ok()) return source.table_status_;
      if (unused) source.codes_in_table_.store(source.table_.state == CodesTable::kRead, std::memory_order_relaxed);
      return Status::OK();
    }
    ~TableThread() {
      if (thread.joinable()) thread.join();
      source.table_reading_ = false;
    }
  };

  LogReader& store_;
  const size_t codes_budget_;
  CodesTable table_;
  // While table_ is read on its thread (TableThread): the visitor's flag,
  // the thread's "ready" (release: table_ and table_status_ are written
  // before) and its status.
  bool table_reading_ = false;
  std::atomic<bool> table_ready_{false};
  Status table_status_;
  // Set by the visiting thread once table_ is read; the reader then stops
  // collecting the batches' `p` keys (either value gives the same codes).
  std::atomic<bool> codes_in_table_{false};
  PersonCodes codes_;
  Batch* current_ = nullptr;  // the batch being visited
};

}  // namespace

Result<std::unique_ptr<FactSource>> OpenFactsFromLog(LogReader& store, const domain::Codec& codec,
                                                     const CollectOptions& options) {
  auto all = Collect(store, codec, options);
  if (!all.ok()) return all.status();
  return std::unique_ptr<FactSource>(new LogFacts(std::move(*all)));
}

Result<std::unique_ptr<FactSource>> OpenFacts(LogReader& store, const domain::Codec& codec,
                                              const CollectOptions& options) {
  if (!options.client_details) {
    auto info = store.Info();
    if (!info.ok()) return info.status();
    auto at = ProjectionFacts::CasesPosition(store);
    uint64_t wanted = options.position == 0 ? info->last_position : options.position;
    if (at.ok() && *at == wanted && *at == info->last_position) {
      auto source = std::make_unique<ProjectionFacts>(store, options.codes_in_memory_bytes);
      source->position = *at;
      Status s = source->Open(codec);
      // A principal's reader (hearth/scoped_reader.h) gives states and
      // indexes only: its returns read the log's facts, as its reach allows.
      if (s.code() == Status::Code::kPermissionDenied) return OpenFactsFromLog(store, codec, options);
      if (!s.ok()) return s;
      if (options.progress) options.progress(*at, *at);
      return std::unique_ptr<FactSource>(std::move(source));
    }
  }
  return OpenFactsFromLog(store, codec, options);
}

Status PassOverFacts(LogReader& store, const domain::Codec& codec, CollectOptions options,
                     const std::function<Status(FactSource& facts)>& pass) {
  auto facts = OpenFacts(store, codec, options);
  if (!facts.ok()) return facts.status();
  Status s = pass(**facts);
  if (!s.IsConflict() || !(*facts)->from_projection) return s;
  options.position = (*facts)->position;
  facts = OpenFactsFromLog(store, codec, options);
  if (!facts.ok()) return facts.status();
  return pass(**facts);
}

}  // namespace hearth::exports
