// Annual allocations (AllocationSet, stream config/allocations): the rules an
// allocation is checked against before it is appended (docs/domain.md,
// "Allocations"). Every front end's appends to the stream come here: the
// command line (`hearth allocation set`) and a Session (the network server,
// the plugin host).
#include <capnp/schema.h>

#include <cstdlib>

#include "domain/fold.h"
#include "domain/tables.h"
#include "hearth/domain.h"

namespace hearth::domain {

namespace {

using F = cs::Facts;

Status Rule(const char* name, const std::string& why) {
  return Status::InvalidArgument(std::string("rule ") + name + ": " + why);
}

// Whether the log holds a case in `district`: the `cases` projection's index
// of cases by district when the store keeps it, else (or when the projection
// has not caught up) the enquiries and transfers of the log's facts.
Result<bool> DistrictKnown(LogReader& store, const Codec& codec, const std::string& district) {
  bool found = false;
  std::string prefix = "d" + district;
  prefix.push_back('\0');
  Status scanned = store.ScanProjection("cases", prefix, [&](std::string_view, std::string_view) {
    found = true;
    return false;
  });
  if (scanned.ok() && found) return true;
  FactsDecoder decoder(&codec.tables());
  for (uint64_t from = 1;;) {
    auto batch = store.ReadAllFacts(from, 4096);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) return false;
    for (const RecordedEvent& e : *batch) {
      from = e.position + 1;
      if (e.stream.compare(0, 5, "case/") != 0) continue;
      if (e.type != "ContactRecorded" && e.type != "CaseTransferred") continue;
      F::Reader facts;
      const TypeEntry* type = nullptr;
      if (!decoder.Decode(e, &facts, &type).ok()) continue;
      if (facts.which() == F::CONTACT_RECORDED && facts.getContactRecorded().getDistrict() == district.c_str()) {
        return true;
      }
      if (facts.which() == F::CASE_TRANSFERRED &&
          facts.getCaseTransferred().getToDistrict() == district.c_str()) {
        return true;
      }
    }
  }
}

}  // namespace

bool ParseFinancialYearLabel(std::string_view text, int* first_year) {
  if (text.size() != 7 || text[4] != '/') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  int y = std::atoi(std::string(text.substr(0, 4)).c_str());
  int next = std::atoi(std::string(text.substr(5, 2)).c_str());
  if ((y + 1) % 100 != next || y < 2000 || y > 2098) return false;
  if (first_year != nullptr) *first_year = y;
  return true;
}

Status CheckAllocations(LogReader& store, const Codec& codec, std::vector<NewEvent>* events, Date today) {
  if (events->empty()) return Status::InvalidArgument("no events to record");
  const CodecTables& t = codec.tables();
  FactsDecoder decoder(&t);
  const size_t funds = capnp::Schema::from<cs::GrantType>().getEnumerants().size();
  for (size_t i = 0; i < events->size(); ++i) {
    NewEvent& e = (*events)[i];
    auto refuse = [&](const Status& s) {
      return Status::InvalidArgument(s.message() + " (" + kAllocationsStream + ", event " + std::to_string(i + 1) +
                                     " of " + std::to_string(events->size()) + ", " + e.type + ")");
    };
    if (e.type != "AllocationSet") {
      return refuse(Rule("allocation-stream", std::string(kAllocationsStream) +
                                                  " takes only AllocationSet events, not " + e.type));
    }
    const TypeEntry* type = t.Find(e.type);
    if (type == nullptr || e.schema_version != type->version) {
      return refuse(Rule("unknown-schema-version", "AllocationSet is at schema version " +
                                                       std::to_string(type ? type->version : 0)));
    }
    if (!e.personal.empty()) {
      return refuse(Rule("malformed-personal", "an allocation is about no person: no personal sections"));
    }
    F::Reader facts;
    Status s = decoder.DecodeCurrent(*type, e.facts, &facts);
    if (!s.ok()) return refuse(Rule("malformed-facts", s.message()));
    try {
      s = codec.CheckFacts(e);
      if (!s.ok()) return refuse(Rule("code-field", s.message()));
      auto a = facts.getAllocationSet();
      Date set_on;
      if (!a.hasSetOn()) return refuse(Rule("date-required", "facts.setOn (the date of the event) is required"));
      if (!ParseDate(a.getSetOn().cStr(), &set_on)) {
        return refuse(Rule("invalid-date", "facts.setOn \"" + std::string(a.getSetOn().cStr()) +
                                               "\" is not a YYYY-MM-DD date"));
      }
      if (set_on > today) {
        return refuse(Rule("date-in-future",
                           "facts.setOn " + FormatDate(set_on) + " is after today (" + FormatDate(today) + ")"));
      }
      std::string district = a.getDistrict().cStr();
      if (!IsDistrictCode(district)) {
        return refuse(Rule("allocation-district", "facts.district must be a district code of 1 to 16 letters, "
                                                  "digits, '-' or '_' (got \"" + district + "\")"));
      }
      if (!ParseFinancialYearLabel(a.getFinancialYear().cStr(), nullptr)) {
        return refuse(Rule("allocation-year", "facts.financialYear must be a financial year such as 2018/19 "
                                              "(2000/01 to 2098/99, the second year following the first; got \"" +
                                                  std::string(a.getFinancialYear().cStr()) + "\")"));
      }
      auto fund = static_cast<uint16_t>(a.getFund());
      if (fund == 0 || fund >= funds) {
        return refuse(Rule("allocation-fund", "facts.fund must be one of the grant types (mandatoryDfg, "
                                              "discretionaryDfg, dementiaDwellingGrant, ...), not " +
                                                  (fund == 0 ? std::string("unspecified")
                                                             : "enumerant " + std::to_string(fund))));
      }
      int64_t pence = a.getAmountPence();
      if (pence < 0 || pence > kMaxAllocationPence) {
        return refuse(Rule("allocation-amount", "facts.amountPence " + std::to_string(pence) +
                                                    (pence < 0 ? " is negative" : " is above 2,000,000,000 (£20m)")));
      }
      auto known = DistrictKnown(store, codec, district);
      if (!known.ok()) return known.status();
      if (!*known) {
        return refuse(Rule("allocation-district", "facts.district \"" + district +
                                                      "\" is not a district of any case in the log"));
      }
    } catch (const kj::Exception& ex) {
      return refuse(Rule("malformed-facts", ex.getDescription().cStr()));
    }
  }
  return Status::OK();
}

Result<AppendResult> RecordAllocations(Store& store, const Codec& codec, ExpectedVersion expected,
                                       std::vector<NewEvent> events, Date today) {
  Status s = CheckAllocations(store, codec, &events, today);
  if (!s.ok()) return s;
  return store.Append(kAllocationsStream, expected, events);
}

}  // namespace hearth::domain
