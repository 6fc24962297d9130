// hearth: anonymised monitoring exports for the commissioning partnership
// (docs/exports.md).
//
//   auto period = hearth::exports::ParsePeriod("2018/19-Q1");
//   auto policy = hearth::exports::ParsePolicy("nhs");
//   hearth::exports::KpiOptions ko;            // position 0: the log's end
//   auto kpi = hearth::exports::BuildKpiReturn(*store, *codec, calendar, *period, *policy, ko);
//   hearth::exports::WriteKpiReturn(*kpi, "out/2018-19-Q1");
//
// - the quarterly (or yearly) KPI return: counts per district and county,
//   under a named disclosure-control policy (primary suppression, rounding,
//   secondary suppression checked by a differencing audit), and statistics
//   (medians, 90th percentiles, shares) only for groups large enough;
// - the pseudonymous case-level extract for one recipient: a keyed-hash
//   reference per case (a key per recipient, derived from the store key),
//   generalised and suppressed until k-anonymous on its quasi-identifiers;
// - the identifiable export: names and addresses of the clients whose consent
//   to identifiable monitoring is active, each disclosure written to the
//   store's access log.
// Every export reads the log as of one position, records it, and is the same
// bytes when run again with the same position and options.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hearth/domain.h"
#include "hearth/read_model.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::exports {

// ---------------------------------------------------------------------------
// Periods and policies

// A reporting period: a UK financial-year quarter (Q1 = April to June) or a
// whole financial year (1 April to 31 March), both ends inclusive.
struct Period {
  domain::Date first{};
  domain::Date last{};
  std::string label;  // "2018/19-Q1" or "2018/19"
};

// "2018/19-Q1" .. "2018/19-Q4", or "2018/19". InvalidArgument naming the text.
Result<Period> ParsePeriod(std::string_view text);

// How small numbers are kept from identifying people.
struct DisclosurePolicy {
  std::string name;            // "nhs", "ons", "threshold:N" or "none"
  bool controlled = true;      // false only for "none" (the partnership's own management return)
  int64_t threshold = 8;       // counts 1..threshold-1 are suppressed; statistics need n >= threshold
  int64_t rounding = 5;        // published counts are rounded to the nearest multiple (1: exact)
  bool exact_county = true;    // the county total of each figure is published exact
};

// "nhs" (default: 1-7 suppressed, others to the nearest 5, county total
// exact), "ons" (below 10 suppressed, others and county totals to the nearest
// 5), "threshold:N" (N >= 2: 1..N-1 suppressed, no rounding, county total
// exact), "none". InvalidArgument naming the problem otherwise.
Result<DisclosurePolicy> ParsePolicy(std::string_view text);

// ---------------------------------------------------------------------------
// The KPI return

// How a published cell relates to the true count.
enum class CellMark : uint8_t {
  kExact,       // the true count
  kRounded,     // rounded to the policy's multiple
  kSuppressed,  // withheld (primary: a small count; secondary: would reveal one)
};

struct Cell {
  int64_t value = 0;       // the true count (never written to a controlled export)
  int64_t published = 0;   // what is written, when not suppressed
  CellMark mark = CellMark::kExact;
  bool secondary = false;  // suppressed to protect another cell
};

// How a figure of a year relates to the same figure of its four quarters
// taken at the same position (docs/exports.md, "Coordination across
// returns"): what a reader holding both can add up.
enum class OverQuarters : uint8_t {
  kSum,          // counts of dated events: the year is the sum of its quarters
  kDistinct,     // distinct people or households: between the largest quarter and the sum
  kLastQuarter,  // a count on the period's last day: the year equals its fourth quarter
  kUnrelated,    // nothing a reader could use
};

// One figure (a row) across the areas (the districts, then the county).
struct Figure {
  std::string id;           // "enquiries.channel.phone"
  std::vector<Cell> cells;  // one per KpiReturn::areas entry
  // What a reader knows of this figure across returns. The defaults fit a
  // count of events whose deciding date lies in the period, in the district
  // the case was in when the event was folded: additive over the quarters,
  // and never smaller at a later position. A figure that is not such a
  // count must say so where it is defined (store/exports/kpi.cc): a wrong
  // default only over-suppresses, a missing relation a reader knows would
  // under-protect.
  OverQuarters over_quarters = OverQuarters::kSum;
  bool grows = true;        // can only grow as the log grows
};

// In every area, the members add up to the total (a breakdown of a figure).
struct Partition {
  size_t total = 0;              // index into Table::figures
  std::vector<size_t> members;
};

struct Table {
  std::string id;       // "enquiries"
  std::string title;
  std::vector<Figure> figures;
  std::vector<Partition> partitions;
};

// A statistic that is not a count (a median, a percentile, a share).
struct Statistic {
  std::string id;                    // "dfg.endToEnd.median"
  std::string unit;                  // "workingDays", "days", "percent"
  std::vector<int64_t> n;            // the group size per area
  std::vector<std::optional<double>> value;  // per area; nullopt: not published
};

// What disclosure control did to one table: numbers of cells, never which
// cells (which would undo the suppression).
struct TableReport {
  std::string table;
  uint32_t cells = 0;
  uint32_t primary = 0;     // suppressed as a small count
  uint32_t secondary = 0;   // suppressed so that no suppressed cell can be recovered
  uint32_t rounded = 0;
  uint32_t exact = 0;
};

// The case references behind one published cell of the return (service
// specification 9.0, "audit a sample"), for the controller only: anyone else
// gets PermissionDenied before the log is read. InvalidArgument naming
// --figure for a figure the return does not have, --area for an area it
// does not have. The count is the exact one (policy none); `cases` lists
// every case counted in it (a household or person counted once lists the
// case that counted them).
struct CellCases {
  Period period;
  uint64_t position = 0;
  std::string figure;
  std::string area;
  int64_t value = 0;
  std::vector<std::string> cases;
};
Result<CellCases> ListCellCases(LogReader& store, const domain::Codec& codec, const domain::Calendar& calendar,
                                const Period& period, const std::string& figure, const std::string& area,
                                const Actor& actor, uint64_t position = 0);

// --- Timescales (docs/exports.md, "Timescales") ---------------------------
//
// The targets of the monitored timescales, kept in the store as
// configuration (TimescalesSet events in stream config/timescales; the last
// one at or before a position applies), so that the return and the worklist
// read the same ones. Until one is recorded, the service specification's own
// targets apply (the defaults below).
inline constexpr const char* kTimescalesStream = "config/timescales";

struct Timescales {
  int first_visit_days = 28;      // calendar days from first contact (or the referral) to the first visit
  int dfg_urgent_days = 55;       // working days, first contact to completion, urgent DFG
  int dfg_non_urgent_days = 150;  // ... non-urgent or not yet decided
  int dfg_decision_months = 6;    // months from a valid DFG application to the decision
  std::string effective_on;       // "" for the defaults
  uint64_t position = 0;          // the TimescalesSet's position; 0 for the defaults
};

// InvalidArgument naming the field out of its range (firstVisitDays 1..366,
// dfgUrgentWorkingDays and dfgNonUrgentWorkingDays 1..1000, urgent not above
// non-urgent, dfgDecisionMonths 1..12).
Status ValidateTimescales(const Timescales& t);

// The targets in force at `position` (0: the log's end).
Result<Timescales> ReadTimescales(LogReader& store, const domain::Codec& codec, uint64_t position = 0);

// Records new targets (validated first: a bad one writes nothing), effective
// on `effective_on` (not in the future).
Status SetTimescales(Store& store, const domain::Codec& codec, const Timescales& t,
                     domain::Date effective_on, const Actor& actor);

// --- Money (docs/exports.md, "Money") -------------------------------------
//
// Appendix E: "The main performance will be with regard to the level of
// spend against annual allocated budget ... 95% committed or spend at year
// end". Allocations are AllocationSet events (config/allocations,
// docs/domain.md); committed is approved and not yet paid, spent is paid.
inline constexpr int kSpendTargetPercent = 95;

// One district's money of one fund in one financial year, up to a day.
struct MoneyPosition {
  std::string district;
  std::string fund;             // a GrantType enumerant: "mandatoryDfg" ...
  bool allocated = false;       // an AllocationSet is recorded for it
  int64_t allocation_pence = 0;
  int64_t committed_pence = 0;  // approved in the year up to as_of, not paid by as_of
  int64_t spent_pence = 0;      // paid in the year up to as_of
  int64_t committed_grants = 0; // grants behind committed_pence
  int64_t spent_grants = 0;     // grants behind spent_pence
};

struct MoneyReport {
  std::string financial_year;   // "2018/19"
  domain::Date first{};         // 1 April
  domain::Date last{};          // 31 March
  domain::Date as_of{};
  uint64_t position = 0;
  std::vector<MoneyPosition> positions;  // by district, then fund; districts with an allocation or money
};

// The money of the financial year holding `as_of`, from the log up to
// `position` (0: its end).
Result<MoneyReport> ReadMoney(LogReader& store, const domain::Codec& codec, domain::Date as_of,
                              uint64_t position = 0);

// The return's money table: figures money.<fund>.allocation, .committed,
// .spent (pence, per area; the county is the sum of the districts) and the
// share of the allocation committed or spent (percent), year to date at the
// period's last day.
struct MoneyTable {
  std::string financial_year;
  domain::Date as_of{};
  int target_percent = kSpendTargetPercent;
  std::vector<Figure> figures;
  std::vector<Statistic> shares;  // money.<fund>.committedOrSpent.share
  uint32_t suppressed_small = 0;  // cells backed by 1..threshold-1 grants
  uint32_t suppressed_secondary = 0;
  // Cells whose difference from an earlier return to the same recipient
  // would be the money of 1..threshold-1 grants (docs/exports.md, "Money").
  uint32_t suppressed_across_returns = 0;
  uint32_t shares_withheld = 0;
};

struct KpiReturn {
  Period period;
  MoneyTable money;
  Timescales timescales;             // the targets in force at `position`
  DisclosurePolicy policy;
  uint64_t position = 0;             // the log position the figures are as of
  std::vector<std::string> areas;    // "D1" .. "D6", then "county"
  std::vector<Table> tables;
  std::vector<Statistic> statistics;
  std::vector<TableReport> report;
  uint32_t statistics_withheld = 0;  // area values withheld for small groups
};

// Audit sampling: the cases counted in one cell (figure, area) of a return.
struct CellTrace {
  std::string figure;
  std::string area;                // a district, or "county" (every district)
  std::vector<std::string> cases;  // case ids, each once, in case-id order
};

// A return as a recipient received it, from the release ledger (published
// values and suppression marks only; `value` is not known and left 0).
struct ReleasedReturn {
  Period period;
  uint64_t position = 0;
  DisclosurePolicy policy;
  std::vector<std::string> areas;
  std::vector<Table> tables;
  // The money table's figures as released (pence in `published`, marks);
  // money_recorded is false for a release recorded before the ledger kept
  // them: its money cells are then taken as all published.
  std::vector<Figure> money;
  bool money_recorded = false;
  uint64_t recorded_at = 0;  // the ledger event's position
};

struct KpiOptions {
  uint64_t position = 0;  // read the log up to here; 0: its end when the export starts
  CellTrace* trace = nullptr;  // when set, collects the cases behind trace->figure in trace->area
  // When set, the returns already released to the recipient: the new one is
  // suppressed with them in view (CoordinateWithReleased) before its
  // statistics are worked out.
  const std::vector<ReleasedReturn>* released = nullptr;
  // When set, called as the log is read: position reached, of the last.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Counts the period's figures (docs/exports.md defines each one) from the log
// as of options.position and applies the policy. InvalidArgument for a
// position beyond the log or a period the calendar does not cover.
Result<KpiReturn> BuildKpiReturn(LogReader& store, const domain::Codec& codec,
                                 const domain::Calendar& calendar, const Period& period,
                                 const DisclosurePolicy& policy, const KpiOptions& options);

// Applies `policy` to tables whose cells hold true values: primary
// suppression, rounding, then secondary suppression until the differencing
// audit (docs/exports.md) recovers no suppressed cell. Fills `report`.
void ApplyDisclosureControl(const DisclosurePolicy& policy, size_t county_area,
                            std::vector<Table>* tables, std::vector<TableReport>* report);

// --- Coordination across returns (docs/exports.md) ------------------------
//
// Every controlled return released to a recipient is recorded, as released,
// in that recipient's ledger (KpiReturnReleased events, stream
// release/<recipient>). A later return is suppressed with the earlier ones
// in view: a cell suppressed in an earlier return of the same period stays
// suppressed, and further cells are suppressed until interval propagation
// through every sum a reader knows, within and between the returns (a year
// and its quarters, one period at two positions), pins no suppressed cell of
// any of them.
inline constexpr const char* kReleaseStreamPrefix = "release/";

// The recipient's ledger, oldest first (empty for a recipient never given a
// return). InvalidArgument for a recipient that is not a code.
Result<std::vector<ReleasedReturn>> ReadReleaseLedger(LogReader& store, const domain::Codec& codec,
                                                      const std::string& recipient,
                                                      uint64_t* stream_version = nullptr);

// Suppresses further cells of `kpi` (already under its policy; true values
// set) so that, together with `earlier`, no suppressed cell is pinned to one
// value; counts them in kpi->report as secondary. Conflict when
// that cannot be done by suppressing cells of `kpi` (the earlier returns
// already fix a cell of this one), naming how many cells.
Status CoordinateWithReleased(const std::vector<ReleasedReturn>& earlier, KpiReturn* kpi);

// What `hearth export kpi --recipient` does: reads the recipient's ledger,
// builds the return with it in view, records the release in the ledger,
// then writes the files into `dir` (CheckOutputDir first, so nothing is
// recorded or written for a directory that is in the way). InvalidArgument
// for a bad recipient or an uncontrolled policy (none is not for release);
// Conflict when the return cannot be made safe beside the earlier ones, or
// another release to the same recipient was recorded meanwhile.
Result<KpiReturn> ReleaseKpiReturn(Store& store, const domain::Codec& codec, const domain::Calendar& calendar,
                                   const Period& period, const DisclosurePolicy& policy, KpiOptions options,
                                   const std::string& recipient, const Actor& actor, const std::string& dir);

// The files of a KPI return (docs/exports.md has their grammars).
std::string KpiToCsv(const KpiReturn& kpi);
std::string StatisticsToCsv(const KpiReturn& kpi);
std::string KpiToJson(const KpiReturn& kpi);

// Writes kpi.csv, statistics.csv, kpi.json and disclosure-report.json into
// `dir`, which must not exist or be empty (InvalidArgument otherwise, before
// anything is written). IOError naming the file.
Status WriteKpiReturn(const KpiReturn& kpi, const std::string& dir);

// InvalidArgument when `dir` exists and is not an empty directory.
Status CheckOutputDir(const std::string& dir);

// Creates `path` (which must not exist) mode 0600, whatever the umask, and
// writes `bytes`: every export file is written this way. IOError naming it.
Status WriteExportFile(const std::string& path, const std::string& bytes);

// ---------------------------------------------------------------------------
// The pseudonymous case-level extract

struct ExtractOptions {
  std::string recipient;   // who receives it (1..64 of [A-Za-z0-9._-]); keys the references
  uint64_t position = 0;   // 0: the log's end
  int k = 5;               // k-anonymity over the quasi-identifiers; >= 2
  // The largest share of rows that may be suppressed at a generalisation
  // level before the next, coarser level is tried.
  double max_suppressed_share = 0.05;
  // When set, only the cases it returns true for (as they stand at the
  // position) are rows of the extract; the others are not counted at all.
  // The `cases` read model passes the session's district scopes.
  std::function<bool(const domain::CaseState&)> include;
  // When set, called as the log is read: position reached, of the last.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// The quasi-identifiers, in the order they are generalised.
inline constexpr const char* kQuasiIdentifiers[] = {"ageBand", "district", "tenure", "service",
                                                   "enquiryMonth"};

struct ExtractRow {
  std::string reference;     // keyed hash: 16 hex digits
  std::string age_band;
  std::string district;
  std::string tenure;
  std::string element;       // service element of the first service line ("" : advice only)
  std::string service;
  std::string enquiry_month; // YYYY-MM (or coarser after generalisation)
  std::string first_visit_month;
  std::string completed_month;  // works completed on the first line
  std::string closed_month;
  std::string urgency;
  std::string outcomes;      // outcome codes joined by '|'
  std::string cost_band;     // paid (else approved) amount on the first line, in bands
};

struct CaseExtract {
  Period period;
  std::string recipient;
  uint64_t position = 0;
  int k = 5;
  int level = 0;                   // generalisation level used (docs/exports.md)
  std::vector<std::string> generalisations;  // what each level step did, in words
  uint64_t candidate_rows = 0;     // cases in the period
  uint64_t suppressed_rows = 0;    // dropped to reach k
  uint64_t restricted_rows = 0;    // cases of people whose processing is restricted (Art. 18), left out
  std::vector<ExtractRow> rows;    // ordered by reference
};

// One row per case whose enquiry lies in `period`, except the cases of people
// whose processing is restricted now (counted in restricted_rows, before
// k-anonymity is checked over the rest). InvalidArgument for a bad
// recipient or k < 2. NotSupported for a store that cannot derive recipient keys.
Result<CaseExtract> BuildCaseExtract(LogReader& store, const domain::Codec& codec, const Period& period,
                                     const ExtractOptions& options);

std::string ExtractToCsv(const CaseExtract& extract);
// Writes cases.csv and extract-report.json into `dir` (CheckOutputDir first).
Status WriteCaseExtract(const CaseExtract& extract, const std::string& dir);

// ---------------------------------------------------------------------------
// The identifiable export

struct IdentifiableOptions {
  std::string recipient;    // as for the extract; the reference is the same keyed hash
  uint64_t position = 0;
  domain::Date as_of{};     // the export date: consent must have been given by then
  Actor actor;              // who exports (for the access log)
};

struct IdentifiedClient {
  std::string reference;
  std::string subject;      // kept in memory for the disclosure record; not written
  std::string district;
  std::string given_name;
  std::string family_name;
  std::vector<std::string> address_lines;
  std::string postcode;
};

struct IdentifiableExport {
  Period period;
  std::string recipient;
  uint64_t position = 0;
  domain::Date as_of{};
  uint64_t cases = 0;                 // cases in the period
  uint64_t without_consent = 0;       // no active identifiable-monitoring consent
  uint64_t erased = 0;                // consent active but the person was erased
  uint64_t restricted = 0;            // consent active but processing restricted (Art. 18)
  std::vector<IdentifiedClient> clients;  // ordered by reference
};

// The clients of the period's cases whose consent with scope
// identifiableMonitoring was given on or before options.as_of and not
// withdrawn as of the position, leaving out people whose processing is
// restricted now (store/rights: a restriction keeps them out of every
// export of their data). Does not write anything.
Result<IdentifiableExport> BuildIdentifiableExport(Store& store, const domain::Codec& codec,
                                                   const Period& period,
                                                   const IdentifiableOptions& options);

// Writes identifiable.csv into `dir` (CheckOutputDir first), then one access
// log entry (action "disclosure", purpose "identifiableMonitoring",
// recipient) per client shown.
Status WriteIdentifiableExport(Store& store, const IdentifiableExport& exp, const Actor& actor,
                               const std::string& dir);

// ---------------------------------------------------------------------------
// Read models for front ends (hearth/read_model.h; docs/protocol.md)

// `kpi`: params {"period": "2018/19-Q1" | "2018/19", "policy": "nhs",
// "position": 1234}. Answers KpiToJson. Policy "none" (no disclosure control)
// also needs the controller scope. REQUIRES: store and codec outlive it.
std::unique_ptr<ReadModel> MakeKpiModel(const domain::Codec* codec);

// `cases`: params {"period", "recipient", "k", "maxSuppressed", "position"}.
// The recipient is the calling plugin unless given; another recipient needs
// the controller scope. Answers the extract report (as extract-report.json)
// with the rows as "csv" (cases.csv).
std::unique_ptr<ReadModel> MakeCasesModel(const domain::Codec* codec);

}  // namespace hearth::exports
