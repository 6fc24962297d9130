// The `cases` projection: every case's CaseState, with indexes by district
// (api/include/hearth/readmodels.h, docs/readmodels.md).
#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "domain/tables.h"
#include "facts/facts.h"
#include "hearth/readmodels.h"
#include "base/varint_codec.h"
#include "readmodels/work_index.h"

namespace hearth::readmodels {

using base::Reader;
using base::Writer;

namespace {

using domain::CaseState;

constexpr std::string_view kCasePrefix = "case/";

bool IsCaseStream(const std::string& stream) { return stream.starts_with(kCasePrefix); }

std::string StateKey(std::string_view case_id) { return exports::TagKey(exports::kStateTag, case_id); }

std::string IndexKey(char tag, std::string_view district, std::string_view case_id) {
  std::string k;
  k.reserve(2 + district.size() + case_id.size());
  k.push_back(tag);
  k.append(district);
  k.push_back('\0');
  k.append(case_id);
  return k;
}

// The quiet index (docs/readmodels.md): 'q' district 0x00 day case-id, the
// day as in every index (AppendIndexDay), so keys sort by day.
constexpr size_t kDayBytes = kIndexDayBytes;
// States read by one multi-key read in ScanCases.
constexpr size_t kStateBatch = 256;

std::string QuietKey(std::string_view district, domain::Date day, std::string_view case_id) {
  std::string k;
  k.reserve(2 + district.size() + kDayBytes + case_id.size());
  k.push_back('q');
  k.append(district);
  k.push_back('\0');
  AppendIndexDay(&k, day);
  k.append(case_id);
  return k;
}

// The first day from which a case not needing work (closed, every referral
// acknowledged, every complaint answered) has none, whatever day a worklist
// is asked for: the latest of its closure, its referrals' acknowledgements
// and its complaints' responses. Before that day it may have had work (the
// worklist's rules decide). nullopt: a case that needs work now (it is in
// the open index), or one closed with no date and nothing else, which never
// has any.
std::optional<domain::Date> QuietFrom(const CaseState& s) {
  if (s.needs_work()) return std::nullopt;
  std::optional<domain::Date> q = s.closed_on;
  auto later = [&q](const std::optional<domain::Date>& d) {
    if (d && (!q || *d > *q)) q = d;
  };
  for (const auto& g : s.safeguarding) {
    if (g.referred_on) later(g.acknowledged_on);
  }
  for (const auto& k : s.complaint_list) {
    if (domain::ComplaintResponseWorkingDays(k.stage) > 0) later(k.responded_on);
  }
  return q;
}

// The keys of the exports' facts (docs/readmodels.md "Dated facts").
using exports::TagKey;

std::string CountValue(uint64_t n) {
  std::string v;
  Writer w(&v);
  w.Var(n);
  return v;
}

class CasesProjection final : public Projection {
 public:
  CasesProjection(const domain::Codec* codec, CasesProjectionOptions options)
      : decoder_(&codec->tables()), options_(options) {}

  std::string name() const override { return kCasesProjection; }
  uint32_t version() const override { return kCasesProjectionVersion; }
  ProjectionMode mode() const override { return options_.mode; }

  Status Apply(const RecordedEvent& event, ProjectionState& state) override {
    // Positions arrive dense and in order. Any other position means the state
    // under the cache changed without us (a rebuild from zero, a batch that
    // was not written, another store): what we remember is no longer true.
    if (event.position != next_position_) Forget();
    next_position_ = event.position + 1;
    if (exports::IsComplaintStream(event.stream)) return ApplyComplaintStream(event, state);
    if (!IsCaseStream(event.stream)) return Status::OK();

    auto it = batch_.find(event.stream);
    if (it == batch_.end()) {
      Entry entry;
      std::string bytes, facts;
      auto recent = recent_.find(event.stream);
      Status got;
      if (recent != recent_.end()) {
        bytes = std::move(recent->second.first);
        facts = std::move(recent->second.second);
        recent_.erase(recent);
      } else {
        got = state.Get(StateKey(event.stream), &bytes);
        if (got.ok()) got = state.Get(TagKey(exports::kFactsTag, event.stream), &facts);
      }
      if (got.ok()) {
        Status s = exports::DecodeCaseFacts(facts, &entry.c);
        if (s.ok()) s = DecodeCaseState(bytes, &entry.c.state);
        if (!s.ok()) return s;
        entry.on_disk = true;
        entry.district = entry.c.state.district;
        entry.open = entry.c.state.needs_work();
        entry.quiet = QuietFrom(entry.c.state);
        entry.districts = exports::DistrictsOf(entry.c);
        entry.money_written = exports::MoneyListsOf(entry.c);
        entry.facts_written = std::move(facts);
        for (auto& kv : WorkIndexOf(entry.c.state)) entry.work_keys.push_back(std::move(kv.first));
      } else if (!got.IsNotFound()) {
        return got;
      }
      it = batch_.emplace(event.stream, std::move(entry)).first;
    }
    Entry& entry = it->second;
    if (event.stream_version != entry.c.state.version + 1) {
      return Status::Corruption("cases projection: " + event.stream + " version " +
                                std::to_string(event.stream_version) + " follows version " +
                                std::to_string(entry.c.state.version) + " at position " +
                                std::to_string(event.position));
    }
    Status person_read;
    Status s = exports::FoldCaseEvent(&decoder_, event, &entry.c,
                                      [&](const std::string& subject, bool create) -> exports::PersonCodes* {
                                        return PersonCodes(subject, create, state, &person_read);
                                      });
    if (!s.ok()) return s;
    // The work index's settled day is the latest of every state folded, not
    // only of those written, so that it does not depend on where batches end.
    auto settled = SettledDay(entry.c.state);
    if (settled && (!settled_seen_ || *settled > *settled_seen_)) settled_seen_ = settled;
    return person_read;
  }

  Status Flush(ProjectionState& state) override {
    if (recent_.size() + batch_.size() > options_.cache_cases) recent_.clear();
    for (auto& [id, e] : batch_) {
      const CaseState& s = e.c.state;
      std::string bytes = EncodeCaseState(s);
      std::string facts = exports::EncodeCaseFacts(e.c);
      state.Put(StateKey(id), bytes);
      // Most events add no dated fact (notes, bookings, documents...): the
      // facts are written again only when they changed.
      if (!e.on_disk || facts != e.facts_written) state.Put(TagKey(exports::kFactsTag, id), facts);
      bool open = s.needs_work();
      if (!e.on_disk || e.district != s.district) {
        if (e.on_disk) state.Delete(IndexKey('d', e.district, id));
        state.Put(IndexKey('d', s.district, id), "");
      }
      if (!e.on_disk || e.district != s.district || e.open != open) {
        if (e.on_disk && e.open) state.Delete(IndexKey('o', e.district, id));
        if (open) state.Put(IndexKey('o', s.district, id), "");
      }
      std::optional<domain::Date> quiet = QuietFrom(s);
      if (!e.on_disk || e.district != s.district || e.quiet != quiet) {
        if (e.on_disk && e.quiet) state.Delete(QuietKey(e.district, *e.quiet, id));
        if (quiet) state.Put(QuietKey(s.district, *quiet, id), "");
      }
      Status counted = CountDistricts(e.districts, exports::DistrictsOf(e.c), state);
      if (!counted.ok()) return counted;
      // The money totals: the case's steps as written taken away, its steps
      // now added (most events add no money fact: nothing to do).
      if (const exports::MoneyLists money = exports::MoneyListsOf(e.c); !(money == e.money_written)) {
        exports::AddMoneySteps(e.c, e.money_written, -1, &money_deltas_);
        exports::AddMoneySteps(e.c, money, 1, &money_deltas_);
      }
      // The work index: the case's entries now, and none of those before
      // that it no longer has.
      auto work = WorkIndexOf(s);
      for (const std::string& k : e.work_keys) {
        if (std::none_of(work.begin(), work.end(), [&](const auto& kv) { return kv.first == k; })) state.Delete(k);
      }
      for (const auto& [k, v] : work) state.Put(k, v);
      if (options_.cache_cases > 0) recent_[id] = {std::move(bytes), std::move(facts)};
    }
    batch_.clear();
    if (Status settled = WriteSettled(state); !settled.ok()) return settled;
    if (Status money = WriteMoneyTotals(state); !money.ok()) return money;
    for (auto& [id, e] : complaints_) {
      state.Put(TagKey(exports::kComplaintTag, id), exports::EncodeCaseFacts(e.c));
      Status counted = CountDistricts(e.districts, exports::DistrictsOf(e.c), state);
      if (!counted.ok()) return counted;
    }
    complaints_.clear();
    for (auto& [subject, codes] : people_) {
      state.Put(TagKey(exports::kPersonTag, subject), exports::EncodePersonCodes(codes));
    }
    people_.clear();
    for (auto& [district, n] : district_counts_) {
      if (n == 0) {
        state.Delete(TagKey(exports::kDistrictTag, district));
      } else {
        state.Put(TagKey(exports::kDistrictTag, district), CountValue(n));
      }
    }
    district_counts_.clear();
    return Status::OK();
  }

  void Discard() override { Forget(); }

 private:
  // A case touched in the current batch, decoded.
  struct Entry {
    exports::CaseFacts c;  // its state and dated facts
    bool on_disk = false;  // a state is stored (as of the last batch written)
    std::string district;  // the district its index keys were written under
    bool open = false;     // whether its open-index key was written
    std::optional<domain::Date> quiet;  // the day of its quiet-index key, when one was written
    std::set<std::string> districts;  // what it adds to the district counts, as written
    std::string facts_written;        // its dated facts, as written
    std::vector<std::string> work_keys;  // its work index keys, as written
    exports::MoneyLists money_written;   // how many of its money facts the totals count
  };

  Status ApplyComplaintStream(const RecordedEvent& event, ProjectionState& state) {
    auto it = complaints_.find(event.stream);
    if (it == complaints_.end()) {
      Entry entry;
      std::string bytes;
      Status got = state.Get(TagKey(exports::kComplaintTag, event.stream), &bytes);
      if (got.ok()) {
        Status s = exports::DecodeCaseFacts(bytes, &entry.c);
        if (!s.ok()) return s;
        entry.on_disk = true;
        entry.districts = exports::DistrictsOf(entry.c);
      } else if (!got.IsNotFound()) {
        return got;
      }
      it = complaints_.emplace(event.stream, std::move(entry)).first;
    }
    return exports::FoldComplaintStreamEvent(&decoder_, event, &it->second.c);
  }

  // A client's codes for the fold: the batch's copy, else the stored one.
  exports::PersonCodes* PersonCodes(const std::string& subject, bool create, ProjectionState& state,
                                    Status* error) {
    auto it = people_.find(subject);
    if (it != people_.end()) return &it->second;
    std::string bytes;
    Status got = state.Get(TagKey(exports::kPersonTag, subject), &bytes);
    exports::PersonCodes codes;
    if (got.ok()) {
      Status s = exports::DecodePersonCodes(bytes, &codes);
      if (!s.ok()) {
        *error = s;
        return nullptr;
      }
    } else if (!got.IsNotFound()) {
      *error = got;
      return nullptr;
    } else if (!create) {
      return nullptr;
    }
    return &people_.emplace(subject, std::move(codes)).first->second;
  }

  // Moves one case's contribution to the district counts from `before` to `after`.
  Status CountDistricts(const std::set<std::string>& before, const std::set<std::string>& after,
                        ProjectionState& state) {
    if (before == after) return Status::OK();
    auto count = [&](const std::string& district) -> Result<uint64_t*> {
      auto it = district_counts_.find(district);
      if (it != district_counts_.end()) return &it->second;
      std::string bytes;
      uint64_t n = 0;
      Status got = state.Get(TagKey(exports::kDistrictTag, district), &bytes);
      if (got.ok()) {
        Reader r(bytes);
        n = r.Var();
        if (!r.done()) return Status::Corruption("cases projection: a district count that does not decode");
      } else if (!got.IsNotFound()) {
        return got;
      }
      return &district_counts_.emplace(district, n).first->second;
    };
    for (const auto& d : before) {
      if (after.count(d) != 0) continue;
      auto n = count(d);
      if (!n.ok()) return n.status();
      if (**n == 0) return Status::Corruption("cases projection: district " + d + " counted below zero");
      --**n;
    }
    for (const auto& d : after) {
      if (before.count(d) != 0) continue;
      auto n = count(d);
      if (!n.ok()) return n.status();
      ++**n;
    }
    return Status::OK();
  }

  // The work index's settled day and fingerprint ("U"): raised to the
  // latest settled day folded. Entries kept under another calendar or other
  // targets (a store folded by another build) would be wrong under this
  // one's: the fingerprint becomes 0, which no worklist matches, until the
  // projection is rebuilt.
  Status WriteSettled(ProjectionState& state) {
    if (!settled_seen_) return Status::OK();
    if (!settled_loaded_) {
      std::string bytes;
      Status got = state.Get(std::string(kWorkSettledKey), &bytes);
      if (got.ok()) {
        domain::Date day{};
        Status s = DecodeWorkSettled(bytes, &day, &fingerprint_stored_);
        if (!s.ok()) return s;
        settled_stored_ = day;
      } else if (!got.IsNotFound()) {
        return got;
      }
      settled_loaded_ = true;
    }
    static const uint64_t kFingerprint = WorkIndexFingerprint(WorkIndexCalendar(), WorklistOptions{});
    const uint64_t fingerprint = !settled_stored_ || fingerprint_stored_ == kFingerprint ? kFingerprint : 0;
    if (!settled_stored_ || *settled_seen_ > *settled_stored_ || fingerprint != fingerprint_stored_) {
      if (!settled_stored_ || *settled_seen_ > *settled_stored_) settled_stored_ = settled_seen_;
      fingerprint_stored_ = fingerprint;
      state.Put(std::string(kWorkSettledKey), EncodeWorkSettled(*settled_stored_, fingerprint_stored_));
    }
    settled_seen_.reset();
    return Status::OK();
  }

  // The batch's changes to the money totals, each key read and written once
  // (a key whose totals come to zero is deleted: a rebuild never writes one).
  Status WriteMoneyTotals(ProjectionState& state) {
    for (const auto& [key, delta] : money_deltas_) {
      if (delta.zero()) continue;
      exports::MoneyTotals t;
      std::string bytes;
      Status got = state.Get(key, &bytes);
      if (got.ok()) {
        Status s = exports::DecodeMoneyTotals(bytes, &t);
        if (!s.ok()) return s;
      } else if (!got.IsNotFound()) {
        return got;
      }
      t.Add(delta);
      if (t.zero()) {
        state.Delete(key);
      } else {
        state.Put(key, exports::EncodeMoneyTotals(t));
      }
    }
    money_deltas_.clear();
    return Status::OK();
  }

  void Forget() {
    settled_seen_.reset();
    settled_stored_.reset();
    settled_loaded_ = false;
    batch_.clear();
    complaints_.clear();
    people_.clear();
    district_counts_.clear();
    money_deltas_.clear();
    recent_.clear();
    next_position_ = 0;
  }

  domain::FactsDecoder decoder_;
  CasesProjectionOptions options_;
  std::unordered_map<std::string, Entry> batch_;
  std::map<std::string, Entry> complaints_;  // complaint streams with no case, this batch
  std::map<std::string, exports::PersonCodes> people_;  // clients' codes read or set this batch
  std::map<std::string, uint64_t> district_counts_;     // counts read or changed this batch
  std::map<std::string, exports::MoneyTotals> money_deltas_;  // money totals' changes this batch, by key
  // Cases of earlier batches, as written (encoded state and facts: under a
  // kilobyte each, where a decoded case takes a few kilobytes).
  std::unordered_map<std::string, std::pair<std::string, std::string>> recent_;
  uint64_t next_position_ = 0;
  std::optional<domain::Date> settled_seen_;    // the latest settled day folded since the last write
  std::optional<domain::Date> settled_stored_;  // "U" as written (when settled_loaded_)
  uint64_t fingerprint_stored_ = 0;
  bool settled_loaded_ = false;
};

}  // namespace

std::shared_ptr<Projection> MakeCasesProjection(const domain::Codec* codec,
                                                CasesProjectionOptions options) {
  return std::make_shared<CasesProjection>(codec, options);
}

std::vector<std::shared_ptr<Projection>> MakeProjections(const domain::Codec* codec) {
  return {MakeCasesProjection(codec), MakeRightsRequestsProjection()};
}

Result<CaseState> GetCase(LogReader& store, const std::string& case_id) {
  std::string bytes;
  Status got = store.GetProjectionValue(kCasesProjection, StateKey(case_id), &bytes);
  if (got.ok()) {
    CaseState state;
    Status s = DecodeCaseState(bytes, &state);
    if (!s.ok()) return s;
    return state;
  }
  if (!got.IsNotFound()) return got;
  auto projections = store.Projections();
  if (!projections.ok()) return projections.status();
  const ProjectionStatus* cases = nullptr;
  for (const auto& p : *projections) {
    if (p.name == kCasesProjection) cases = &p;
  }
  if (cases == nullptr) {
    return Status::NotFound("the store was opened without the cases projection");
  }
  auto version = store.StreamVersion(case_id);
  if (!version.ok()) {
    if (version.status().IsNotFound()) {
      return Status::NotFound("no case " + case_id + ": its stream has no events");
    }
    return version.status();
  }
  if (!IsCaseStream(case_id)) {
    return Status::NotFound(case_id + " is not a case stream (case ids start with case/)");
  }
  return Status::NotFound("case " + case_id + " is not in the cases projection yet (it is at position " +
                          std::to_string(cases->position) +
                          (cases->stopped ? ", stopped: " + cases->error : std::string()) + ")");
}

Status ReadCaseStates(LogReader& store, const std::vector<std::string>& ids, uint64_t* read,
                      const std::function<bool(const std::string& id, const CaseState& state)>& fn) {
  std::vector<std::string> keys;
  std::vector<std::optional<std::string>> values;
  CaseState state;
  for (size_t from = 0; from < ids.size(); from += kStateBatch) {
    const size_t to = std::min(ids.size(), from + kStateBatch);
    keys.clear();
    for (size_t i = from; i < to; ++i) keys.push_back(StateKey(ids[i]));
    Status got = store.GetProjectionValues(kCasesProjection, keys, &values);
    if (!got.ok()) return got;
    for (size_t i = from; i < to; ++i) {
      const std::optional<std::string>& bytes = values[i - from];
      if (!bytes) continue;
      if (read != nullptr) ++*read;
      Status decoded = DecodeCaseState(*bytes, &state);
      if (!decoded.ok()) return decoded;
      if (!fn(ids[i], state)) return Status::OK();
    }
  }
  return Status::OK();
}

Status ScanCases(LogReader& store, const CaseScan& scan,
                 const std::function<bool(const CaseState&)>& fn) {
  Status inner;
  if (scan.district.empty() && !scan.open_only) {
    Status s = store.ScanProjection(kCasesProjection, "c", [&](std::string_view, std::string_view value) {
      CaseState state;
      inner = DecodeCaseState(value, &state);
      if (!inner.ok()) return false;
      return fn(state);
    });
    return s.ok() ? inner : s;
  }
  std::string prefix(1, scan.open_only ? 'o' : 'd');
  if (!scan.district.empty()) {
    prefix += scan.district;
    prefix.push_back('\0');
  }
  // Index keys first, then the states: the scan's iterator is not held open
  // while the states are read.
  std::vector<std::string> ids;
  const bool past = scan.open_only && scan.work_on.has_value();
  std::unordered_set<std::string> given;  // a past day: the cases given from the open index
  Status s = store.ScanProjection(kCasesProjection, prefix, [&](std::string_view key, std::string_view) {
    size_t zero = key.find('\0', 1);
    if (zero == std::string_view::npos) {
      inner = Status::Corruption("cases projection: index key without a district separator");
      return false;
    }
    ids.emplace_back(key.substr(zero + 1));
    return true;
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  // Gives `take` each listed case's state that is still there and in the
  // district: a case can move between indexes while we read (async folds),
  // and the ones that left are skipped. False from `take` stops the scan.
  // The states are read kStateBatch at a time by one multi-key read (the
  // ids come in key order, so the lookups that share a block share its
  // read), where a lookup a case re-read the index and filter for every one.
  bool stopped = false;
  auto each_listed = [&](const std::function<bool(const std::string& id, const CaseState& state)>& take) -> Status {
    return ReadCaseStates(store, ids, nullptr, [&](const std::string& id, const CaseState& state) {
      if (!scan.district.empty() && state.district != scan.district) return true;
      if (!take(id, state)) {
        stopped = true;
        return false;
      }
      return true;
    });
  };
  s = each_listed([&](const std::string& id, const CaseState& state) {
    if (scan.open_only && !state.needs_work()) return true;
    if (past) given.insert(id);
    return fn(state);
  });
  if (!s.ok() || stopped || !past) return s;
  // The closed cases quiet only after the day: for each district, from the
  // day after it to the district's end (one seek a district).
  ids.clear();
  const domain::Date after = *scan.work_on + std::chrono::days(1);
  const std::string quiet_prefix = "q" + prefix.substr(1);  // 'q', then the district's part when there is one
  std::string from = scan.district.empty() ? quiet_prefix : QuietKey(scan.district, after, "");
  for (;;) {
    std::string next;  // where the next district's range starts, when there is one
    s = store.ScanProjectionFrom(kCasesProjection, quiet_prefix, from, [&](std::string_view key, std::string_view) {
      size_t zero = key.find('\0', 1);
      if (zero == std::string_view::npos || key.size() < zero + 1 + kDayBytes) {
        inner = Status::Corruption("cases projection: a quiet-index key that does not parse");
        return false;
      }
      if (IndexDayOf(key.substr(zero + 1, kDayBytes)) <= *scan.work_on) {
        // A district's first key (only with every district): skip to its
        // range after the day.
        next = QuietKey(key.substr(1, zero - 1), after, "");
        return false;
      }
      ids.emplace_back(key.substr(zero + 1 + kDayBytes));
      return true;
    });
    if (!s.ok()) return s;
    if (!inner.ok()) return inner;
    if (next.empty() || next <= from) break;
    from = std::move(next);
  }
  // A case read with the open ones and closed since (the projection folds
  // while we read) is given once. One reopened since is given here.
  return each_listed([&](const std::string& id, const CaseState& state) {
    return given.count(id) != 0 || fn(state);
  });
}

}  // namespace hearth::readmodels
