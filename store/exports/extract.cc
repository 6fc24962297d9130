// The pseudonymous case-level extract and the identifiable export
// (docs/exports.md).
#include <sys/stat.h>

#include <algorithm>
#include <deque>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "crypto/secret.h"
#include "exports/collect.h"
#include "hearth/escape.h"
#include "hearth/exports.h"
#include "hearth/rights.h"

namespace hearth::exports {

namespace {

using Json = nlohmann::ordered_json;

Status CheckRecipient(const std::string& r) {
  bool ok = !r.empty() && r.size() <= 64 &&
            std::all_of(r.begin(), r.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
            });
  if (!ok) {
    return Status::InvalidArgument("recipient '" + r +
                                   "': expected 1 to 64 of A-Z a-z 0-9 . _ - (a code, not a person's name)");
  }
  return Status::OK();
}

// Keyed-hash references for one recipient.
class Referencer {
 public:
  static Result<Referencer> For(LogReader& store, const std::string& recipient) {
    auto key = store.RecipientKey(recipient);
    if (!key.ok()) return key.status();
    if (key->size() != 32) return Status::Corruption("a recipient key is not 32 bytes");
    return Referencer(crypto::SecretKey::FromBytes(reinterpret_cast<const uint8_t*>(key->data())));
  }
  std::string Of(const std::string& case_id) const {
    std::string h = crypto::KeyedHash(key_, case_id);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < 8; ++i) {
      out += kHex[static_cast<uint8_t>(h[i]) >> 4];
      out += kHex[static_cast<uint8_t>(h[i]) & 15];
    }
    return out;
  }

 private:
  explicit Referencer(crypto::SecretKey key) : key_(std::move(key)) {}
  crypto::SecretKey key_;
};

std::string Month(const std::optional<Date>& d) {
  if (!d) return "";
  return domain::FormatDate(*d).substr(0, 7);
}

// "2018/19-Q1" for a day.
std::string QuarterOf(Date d) {
  using namespace std::chrono;
  year_month_day ymd{d};
  int y = int(ymd.year());
  unsigned m = unsigned(ymd.month());
  int fy = m >= 4 ? y : y - 1;
  unsigned q = m >= 4 ? (m - 4) / 3 + 1 : 4;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d/%02d-Q%u", fy, (fy + 1) % 100, q);
  return buf;
}
std::string YearOf(Date d) { return QuarterOf(d).substr(0, 7); }

std::string CostBand(uint32_t pence) {
  uint32_t pounds = pence / 100;
  if (pence == 0) return "0";
  if (pounds < 500) return "1-499";
  if (pounds < 2000) return "500-1999";
  if (pounds < 5000) return "2000-4999";
  if (pounds < 15000) return "5000-14999";
  if (pounds < 30000) return "15000-29999";
  return "30000+";
}

std::string WiderAge(const std::string& band, int level) {
  if (band.empty()) return band;
  bool under65 = band == "0-17" || band == "18-24" || band == "25-34" || band == "35-44" ||
                 band == "45-54" || band == "55-64";
  if (level >= 4) return under65 ? "0-64" : "65+";
  if (level >= 2 && under65) return "0-64";
  return band;
}

std::string WiderTenure(const std::string& t) {
  if (t == "ownerOccupier" || t == "sharedOwnership") return "owner";
  if (t == "privateRented" || t == "councilTenant" || t == "housingAssociation") return "rented";
  return "other";
}

// The case's row with its dates as they are, and the dates kept apart for
// generalisation.
struct RowDates {
  std::optional<Date> enquiry, first_visit, completed, closed;
};

std::string DateAt(const std::optional<Date>& d, int level) {
  if (!d) return "";
  if (level >= 4) return YearOf(*d);
  if (level >= 1) return QuarterOf(*d);
  return Month(d);
}

// Every cell of these exports is text (codes, months, bands, names): one
// function makes them safe (hearth/escape.h).
std::string Csv(const std::string& field) { return CsvCell(field); }

// Export files are created mode 0600: readable by the operator who made
// them, never by the group (identifiable.csv names people).
Status WriteOne(const std::string& path, const std::string& bytes) {
  return WriteExportFile(path, bytes);
}

Status MakeDir(const std::string& dir) {
  Status s = CheckOutputDir(dir);
  if (!s.ok()) return s;
  if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create directory " + dir);
  }
  return Status::OK();
}

const char* kLevelSteps[] = {
    "level 0: every quasi-identifier as recorded (dates to the month)",
    "level 1: dates to the financial quarter",
    "level 2: age bands under 65 merged into 0-64",
    "level 3: tenure to owner / rented / other; service to its service element",
    "level 4: age bands to 0-64 / 65+; dates to the financial year",
};
constexpr int kLevels = 5;

}  // namespace

Result<CaseExtract> BuildCaseExtract(LogReader& store, const domain::Codec& codec, const Period& period,
                                     const ExtractOptions& options) {
  Status s = CheckRecipient(options.recipient);
  if (!s.ok()) return s;
  if (options.k < 2) {
    return Status::InvalidArgument("k must be at least 2, not " + std::to_string(options.k));
  }
  auto ref = Referencer::For(store, options.recipient);
  if (!ref.ok()) return ref.status();
  CollectOptions co;
  co.position = options.position;
  co.progress = options.progress;
  // Art. 18: while a person's processing is restricted their cases stay out
  // of every export, pseudonymous ones included. The restrictions in force
  // now apply, whatever the position the export is taken at.
  auto restricted = store.RestrictedSubjects();
  if (!restricted.ok()) return restricted.status();

  CaseExtract out;
  out.period = period;
  out.recipient = options.recipient;
  out.k = options.k;

  struct Raw {
    ExtractRow row;  // non-QI columns filled; QI columns set per level
    RowDates dates;
    std::string age, tenure, service, element;
  };
  // A deque: it grows without moving the rows it holds or doubling its
  // capacity (a quarter at 12 M events is hundreds of thousands of rows).
  std::deque<Raw> raws;
  auto row = [&](const std::string& id, const CaseFacts& c) {
    const domain::CaseState& st = c.state;
    if (!st.enquiry_on || *st.enquiry_on < period.first || *st.enquiry_on > period.last) return Status::OK();
    if (options.include && !options.include(st)) return Status::OK();
    if (restricted->count(st.client) != 0) {
      ++out.restricted_rows;
      return Status::OK();
    }
    Raw r;
    r.row.reference = ref->Of(id);
    r.row.district = st.district;
    const domain::ServiceLine* line = st.lines.empty() ? nullptr : &st.lines.front();
    r.service = line ? line->service : "adviceOnly";
    r.element = line ? line->element : "adviceOnly";
    r.age = st.age_band.empty() ? "unknown" : st.age_band;
    r.tenure = st.tenure.empty() ? "unspecified" : st.tenure;
    r.row.urgency = line && !line->urgency.empty() ? line->urgency : "";
    std::string outcomes;
    for (const auto& o : st.outcomes) outcomes += (outcomes.empty() ? "" : "|") + o;
    r.row.outcomes = outcomes;
    r.row.cost_band = line ? CostBand(line->paid_pence > 0 ? line->paid_pence : line->approved_pence) : "0";
    r.dates = {st.enquiry_on, st.first_visit_on, line ? line->completed_on : std::nullopt, st.closed_on};
    raws.push_back(std::move(r));
    return Status::OK();
  };
  s = PassOverFacts(store, codec, co, [&](FactSource& facts) {
    raws.clear();
    out.restricted_rows = 0;
    out.position = facts.position;
    Status passed = facts.ForEachCase(row);
    return passed.ok() ? facts.Finish() : passed;
  });
  if (!s.ok()) return s;
  out.candidate_rows = raws.size();

  auto apply = [&](Raw& r, int level) {
    r.row.age_band = WiderAge(r.age, level);
    r.row.tenure = level >= 3 ? WiderTenure(r.tenure) : r.tenure;
    r.row.service = level >= 3 ? r.element : r.service;
    r.row.element = r.element;
    r.row.enquiry_month = DateAt(r.dates.enquiry, level);
    r.row.first_visit_month = DateAt(r.dates.first_visit, level);
    r.row.completed_month = DateAt(r.dates.completed, level);
    r.row.closed_month = DateAt(r.dates.closed, level);
  };
  auto key = [](const ExtractRow& r) {
    return r.age_band + '\x1f' + r.district + '\x1f' + r.tenure + '\x1f' + r.service + '\x1f' +
           r.enquiry_month;
  };
  int chosen = kLevels - 1;
  for (int level = 0; level < kLevels; ++level) {
    std::map<std::string, uint64_t> groups;
    for (auto& r : raws) {
      apply(r, level);
      ++groups[key(r.row)];
    }
    uint64_t at_risk = 0;
    for (const auto& [k, n] : groups) {
      if (n < uint64_t(options.k)) at_risk += n;
    }
    if (double(at_risk) <= options.max_suppressed_share * double(raws.size())) {
      chosen = level;
      break;
    }
  }
  std::map<std::string, uint64_t> groups;
  for (auto& r : raws) {
    apply(r, chosen);
    ++groups[key(r.row)];
  }
  out.rows.reserve(raws.size());
  out.level = chosen;
  for (int l = 0; l <= chosen; ++l) out.generalisations.push_back(kLevelSteps[l]);
  for (auto& r : raws) {
    if (groups[key(r.row)] < uint64_t(options.k)) {
      ++out.suppressed_rows;
      continue;
    }
    out.rows.push_back(std::move(r.row));
  }
  std::sort(out.rows.begin(), out.rows.end(),
            [](const ExtractRow& a, const ExtractRow& b) { return a.reference < b.reference; });
  return out;
}

std::string ExtractToCsv(const CaseExtract& e) {
  std::string out =
      "reference,ageBand,district,tenure,service,element,enquiryMonth,firstVisitMonth,"
      "completedMonth,closedMonth,urgency,outcomes,costBand\n";
  for (const auto& r : e.rows) {
    for (const std::string* f : {&r.reference, &r.age_band, &r.district, &r.tenure, &r.service,
                                 &r.element, &r.enquiry_month, &r.first_visit_month, &r.completed_month,
                                 &r.closed_month, &r.urgency, &r.outcomes}) {
      out += Csv(*f) + ",";
    }
    out += Csv(r.cost_band) + "\n";
  }
  return out;
}

Status WriteCaseExtract(const CaseExtract& e, const std::string& dir) {
  Status s = MakeDir(dir);
  if (!s.ok()) return s;
  Json j;
  j["format"] = "hearth-case-extract/1";
  j["period"] = e.period.label;
  j["recipient"] = e.recipient;
  j["position"] = e.position;
  j["k"] = e.k;
  j["quasiIdentifiers"] = std::vector<std::string>(std::begin(kQuasiIdentifiers), std::end(kQuasiIdentifiers));
  j["level"] = e.level;
  j["generalisations"] = e.generalisations;
  j["candidateRows"] = e.candidate_rows;
  j["suppressedRows"] = e.suppressed_rows;
  j["restrictedRows"] = e.restricted_rows;
  j["rows"] = e.rows.size();
  s = WriteOne(dir + "/cases.csv", ExtractToCsv(e));
  if (!s.ok()) return s;
  return WriteOne(dir + "/extract-report.json", j.dump(1) + "\n");
}

Result<IdentifiableExport> BuildIdentifiableExport(Store& store, const domain::Codec& codec,
                                                   const Period& period,
                                                   const IdentifiableOptions& options) {
  Status s = CheckRecipient(options.recipient);
  if (!s.ok()) return s;
  auto ref = Referencer::For(store, options.recipient);
  if (!ref.ok()) return ref.status();
  CollectOptions co;
  co.position = options.position;
  co.client_details = true;
  auto collected = Collect(store, codec, co);
  if (!collected.ok()) return collected.status();
  auto restricted = domain::ActiveRestrictions::Read(store, codec);
  if (!restricted.ok()) return restricted.status();
  IdentifiableExport out;
  out.period = period;
  out.recipient = options.recipient;
  out.position = collected->position;
  out.as_of = options.as_of;
  for (const auto& [id, c] : collected->cases) {
    const domain::CaseState& st = c.state;
    if (!st.enquiry_on || *st.enquiry_on < period.first || *st.enquiry_on > period.last) continue;
    ++out.cases;
    bool consent = std::any_of(st.consents.begin(), st.consents.end(), [&](const domain::ActiveConsent& a) {
      return a.scope == "identifiableMonitoring" && a.named_person.empty() && a.given_on <= options.as_of;
    });
    if (!consent) {
      ++out.without_consent;
      continue;
    }
    if (!c.client || c.client->erased) {
      ++out.erased;
      continue;
    }
    if (restricted->Contains(st.client)) {
      ++out.restricted;
      continue;
    }
    IdentifiedClient ic;
    ic.reference = ref->Of(id);
    ic.subject = st.client;
    ic.district = st.district;
    ic.given_name = c.client->given_name;
    ic.family_name = c.client->family_name;
    ic.address_lines = c.client->address_lines;
    ic.postcode = c.client->postcode;
    out.clients.push_back(std::move(ic));
  }
  std::sort(out.clients.begin(), out.clients.end(),
            [](const IdentifiedClient& a, const IdentifiedClient& b) { return a.reference < b.reference; });
  return out;
}

Status WriteIdentifiableExport(Store& store, const IdentifiableExport& exp, const Actor& actor,
                               const std::string& dir) {
  Status s = MakeDir(dir);
  if (!s.ok()) return s;
  std::string csv = "reference,district,givenName,familyName,address,postcode\n";
  for (const auto& c : exp.clients) {
    std::string address;
    for (const auto& l : c.address_lines) address += (address.empty() ? "" : "; ") + l;
    csv += Csv(c.reference) + "," + Csv(c.district) + "," + Csv(c.given_name) + "," +
           Csv(c.family_name) + "," + Csv(address) + "," + Csv(c.postcode) + "\n";
  }
  Json j;
  j["format"] = "hearth-identifiable-export/1";
  j["period"] = exp.period.label;
  j["recipient"] = exp.recipient;
  j["position"] = exp.position;
  j["asOf"] = domain::FormatDate(exp.as_of);
  j["cases"] = exp.cases;
  j["identified"] = exp.clients.size();
  j["withoutConsent"] = exp.without_consent;
  j["erased"] = exp.erased;
  j["restricted"] = exp.restricted;
  s = WriteOne(dir + "/identifiable.csv", csv);
  if (!s.ok()) return s;
  s = WriteOne(dir + "/identifiable-report.json", j.dump(1) + "\n");
  if (!s.ok()) return s;
  std::vector<AccessRecord> records;
  for (const auto& c : exp.clients) {
    AccessRecord r;
    r.subject = c.subject;
    r.plugin = actor.plugin.empty() ? "hearth-export" : actor.plugin;
    r.user = actor.user;
    r.role = actor.role;
    r.action = "disclosure";
    r.purpose = "identifiableMonitoring";
    r.recipient = exp.recipient;
    r.last_position = exp.position;
    records.push_back(std::move(r));
  }
  if (records.empty()) return Status::OK();
  return store.LogAccess(records);
}

}  // namespace hearth::exports
