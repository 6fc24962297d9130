// The demo county: a deterministic synthetic financial year of a six-district
// Home Improvement Agency partnership (docs/domain.md, "The demo county").
//
// Every person is invented (names from lists of obviously made-up words,
// postcodes in the non-existent ZZ area, NHS numbers in the 999 test range,
// telephone numbers in Ofcom's drama ranges, email at example.org). Every
// event goes through domain::CaseRecorder, so the command validation runs.
// The same seed, year and scale give the same events (ids included); only the
// store's recorded-at times and the ciphertexts differ between runs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/domain.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::demo {

// One district's yearly figures: the rows of Schedule B of the service
// specification, counted as docs/exports.md defines them ("Schedule B").
struct DistrictVolumes {
  std::string district;           // D1 .. D6
  uint32_t advised = 0;           // people given advice, information and guidance:
                                  // distinct clients with a ConsultationHeld
  uint32_t dfgs = 0;              // DFG of all value: GrantApproved, grant type mandatoryDfg
  uint32_t minor_adaptations = 0; // distinct households (clients) with a minorAdaptation
                                  // line's WorksCompleted
  uint32_t handyperson = 0;       // distinct people with a handyperson line's WorksCompleted
  uint32_t repairs = 0;           // WorksCompleted on a repairs line
  uint32_t dementia_grants = 0;   // GrantApproved, grant type dementiaDwellingGrant
  friend bool operator==(const DistrictVolumes&, const DistrictVolumes&) = default;
};

// The partnership's 2018/19 figures, D1 to D6 (Schedule B; DESIGN section 2):
// totals 6,659 people given advice, information and guidance, 636 DFGs
// approved, 4,159 households with a minor adaptation, 59 people helped by the
// handyperson scheme, 46 repairs completed, 385 dementia dwelling grants.
std::vector<DistrictVolumes> CountyVolumes();

struct CountyOptions {
  uint64_t seed = 1;
  // The financial year starting 1 April of this year (2018: 2018/19). It must
  // have ended (events cannot be dated in the future) and lie inside the
  // calendar's coverage.
  int first_year = 2018;
  // Multiplies every volume; the copies get distinct case and person ids.
  uint32_t scale = 1;
  // Writer threads (each takes whole districts' cases in turn). Default 2.
  int threads = 2;
  // For tests: at most this many cases per district (0: all). The volumes are
  // then not the county's.
  uint32_t limit_cases = 0;
  // Called from the writer threads after each case is recorded: cases done
  // of the total (`hearth demo`'s progress line). May be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct CountyReport {
  uint64_t cases = 0;
  uint64_t events = 0;
  uint64_t appends = 0;
  uint64_t people = 0;  // distinct data subjects (clients, carers, relatives)
  std::vector<DistrictVolumes> volumes;  // what was generated, per district
  uint64_t allocations = 0;  // AllocationSet events (GenerateCountyStore only)
  uint64_t breaches = 0;     // breach register events, breach/B-1 and B-2 (GenerateCountyStore only)
  uint64_t contractors = 0;  // events of the vetted contractors' list (register/contractors), written first
  uint64_t complaints_without_case = 0;  // events of complaint/K-<n> streams, written last (GenerateCountyStore only)
};

// "2018/19" -> 2018. False when malformed (the second year must follow the first).
bool ParseFinancialYear(std::string_view text, int* first_year);

// Generates the county through `recorder` (whose store should be empty: case
// ids would clash). Returns InvalidArgument for a year that has not ended or
// that the calendar does not cover, or the first refusal or store error met.
// REQUIRES: recorder and calendar outlive the call.
Result<CountyReport> GenerateCounty(domain::CaseRecorder* recorder,
                                    const domain::Calendar& calendar, const CountyOptions& options);

// The same into a new store at `path` (created; it must hold no events),
// opened with sync off for speed and closed again before returning. A bad
// year or scale is refused before any store is created.
Result<CountyReport> GenerateCountyStore(const std::string& path, const KeySource& key,
                                         const CountyOptions& options);

}  // namespace hearth::demo
