// Private to store/exports: one pass over the log up to a position, folding
// every case (domain::FoldFacts) and keeping the dated facts the exports
// count. Reads facts only, except the client's name and address when asked
// (the identifiable export), which are kept in memory and never written
// anywhere but that export.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <optional>
#include <tuple>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/tables.h"
#include "facts/facts.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::exports {

using domain::Date;

struct CollectOptions {
  uint64_t position = 0;        // the last position read; 0: the log's end when the pass starts
  bool client_details = false;  // decode the client's name and address
  // Called after each batch read: the last position folded, of `position`.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // The `cases` projection's source: the most memory a pass may give to
  // every client's codes at once (read by one scan when a visitor first asks
  // for codes). A county with more clients than fit is read a batch's
  // clients at a time instead, as every pass did before: slower, the same
  // answer (docs/exports.md, "Where the facts are read from").
  size_t codes_in_memory_bytes = 64ull << 20;
};

// One AllocationSet (config/allocations).
struct AllocationFact {
  int64_t pence = 0;
  uint64_t position = 0;
};

// (financial year, district, fund) -> the last AllocationSet for it
using AllocationMap = std::map<std::tuple<std::string, std::string, std::string>, AllocationFact>;

struct Collection {
  uint64_t position = 0;                  // the log position the facts are as of
  Timescales timescales;                  // the targets in force at `position`
  AllocationMap allocations;              // up to `position`
  std::map<std::string, CaseFacts> cases; // by case id
  // Complaints with no case, by stream (complaint/K-<n>): only their
  // complaint facts, dated in the district their ComplaintReceived names.
  std::map<std::string, CaseFacts> complaint_streams;
  std::unordered_map<std::string, PersonCodes> people; // clients, by subject id
};


// The money of one financial year up to `as_of` (money.cc, docs/exports.md
// "Money"): per district and fund.
struct FundMoney {
  bool allocated = false;
  int64_t allocation = 0;
  int64_t committed = 0;          // approved this year up to as_of, not yet paid by as_of
  int64_t spent = 0;              // paid this year up to as_of
  int64_t committed_grants = 0;   // grants (lines) with something committed
  int64_t spent_grants = 0;       // grants (lines) with a payment counted in spent
  // What each grant adds to committed and to spent, by "<case id>#<line>":
  // the coordination across returns compares them between two returns.
  std::map<std::string, int64_t> committed_by_grant;
  std::map<std::string, int64_t> spent_by_grant;
};
using MoneyByDistrict = std::map<std::string, std::map<std::string, FundMoney>>;
// Counted case by case (`Add` each case once, then `Take`). `up_to`: only
// the approvals and payments recorded at or before that log position (the
// money as a return taken there saw it); the facts must reach it.
class MoneyCounter {
 public:
  MoneyCounter(const AllocationMap& allocations, std::string financial_year, Date year_first, Date as_of,
               uint64_t up_to = UINT64_MAX);
  void Add(const std::string& id, const CaseFacts& c);
  // Adds totals already counted (FactSource::MoneyTotalsAt's), which carry
  // no figures by grant.
  void AddTotals(const MoneyByDistrict& totals);
  MoneyByDistrict Take() { return std::move(out_); }

 private:
  std::string financial_year_;
  Date year_first_, as_of_;
  uint64_t up_to_;
  MoneyByDistrict out_;
};

// Reads events 1..position of the log. InvalidArgument for a position beyond
// the log's end; the codec's and the store's errors otherwise.
Result<Collection> Collect(LogReader& store, const domain::Codec& codec, const CollectOptions& options);

// ---------------------------------------------------------------------------
// The same facts, wherever they are read from.
//
// A pass over every case for one return: the log read once (Collect), or the
// `cases` projection, which keeps each case's dated facts beside its state
// (readmodels::MakeCasesProjection, docs/readmodels.md) so that a return
// reads one value a case instead of every event, and holds one case at a
// time instead of all of them.

using CaseVisitor = std::function<Status(const std::string& id, const CaseFacts& c)>;

class FactSource {
 public:
  virtual ~FactSource() = default;
  uint64_t position = 0;   // the log position the facts are as of
  Timescales timescales;   // the targets in force at `position`
  AllocationMap allocations;
  // Every district a case is in, an enquiry names or a complaint with no case
  // names, as of `position` (the return's areas).
  std::set<std::string> districts;
  bool from_projection = false;

  // Each complaint stream with no case (complaint/K-<n>), then each case, in
  // stream-id order; stops at the first non-OK status `fn` returns. `c`
  // lives for the call only.
  virtual Status ForEachComplaintStream(const CaseVisitor& fn) = 0;
  virtual Status ForEachCase(const CaseVisitor& fn) = 0;
  // The year's money as of `as_of` from totals kept by day (the `cases`
  // projection's money totals, docs/readmodels.md), without visiting a case:
  // true with *out set to every district and fund with money committed or
  // spent (committed, spent and their grants; no figures by grant), false
  // when the source keeps none (then the year's money visits every case).
  virtual Result<bool> MoneyTotalsAt(int first_year, Date as_of, MoneyByDistrict* out) {
    (void)first_year, (void)as_of, (void)out;
    return false;
  }
  // A client's codes as of `position` (PersonCodes); nullptr when none were
  // recorded. The pointer lives until the next call.
  virtual Result<const PersonCodes*> CodesOf(const std::string& subject) = 0;
  // Optional, set by a pass before ForEachCase: the cases whose client's
  // codes it may ask for. A source may read those codes ahead, in bulk; a
  // case it leaves out still gets its codes from CodesOf, read then.
  std::function<bool(const CaseFacts&)> codes_wanted;
  // After a pass: OK when every value read was as of `position`. Conflict when
  // the projection moved on while the pass read it (a concurrent append):
  // the caller takes the pass again from the log at `position`.
  virtual Status Finish() { return Status::OK(); }
};

// Opens the facts for a pass as of `options.position` (0: the log's end).
// The `cases` projection when the store runs it, it is current at that
// position and no client details are asked for; otherwise one pass over the
// log (Collect), held in memory.
Result<std::unique_ptr<FactSource>> OpenFacts(LogReader& store, const domain::Codec& codec,
                                              const CollectOptions& options);
// Runs `pass` over the facts OpenFacts gives. `pass` checks Finish() before
// it trusts what it read; when that says Conflict (the projection moved
// during the pass), `pass` runs once more, over the log at the position the
// first began at. `pass` must start from nothing each time it is called.
Status PassOverFacts(LogReader& store, const domain::Codec& codec, CollectOptions options,
                     const std::function<Status(FactSource& facts)>& pass);
// The year's money (the year that begins on `year_first`) as of `as_of`,
// which lies in that year: from the source's money totals when it keeps them
// (MoneyTotalsAt), else from every case (ForEachCase); Finish() checked.
Result<MoneyByDistrict> CountMoney(FactSource& facts, const std::string& financial_year, Date year_first,
                                   Date as_of);
// The log's pass, whatever the projection holds (the reference the projection
// is tested against, and the fallback when Finish() says Conflict).
Result<std::unique_ptr<FactSource>> OpenFactsFromLog(LogReader& store, const domain::Codec& codec,
                                                     const CollectOptions& options);

// Folds one event of the timescales or allocations stream (kTimescalesStream,
// domain::kAllocationsStream) into the targets and allocations.
Status FoldSettingsEvent(domain::FactsDecoder* decoder, const RecordedEvent& event, Timescales* timescales,
                         AllocationMap* allocations);
}  // namespace hearth::exports
