// One pass over the log for the exports (collect.h).
#include "exports/collect.h"

#include <algorithm>
#include <future>

#include "domain/fold.h"
#include "domain/tables.h"

namespace hearth::exports {

namespace {

using domain::cs::Facts;
using domain::EnumName;

bool IsCaseStream(const std::string& stream) { return stream.rfind("case/", 0) == 0; }

// The client's name and address from one personal section, merged over what
// was known (a rectification names only the fields it changes).
void MergeDetails(domain::PackedDecoder* decoder, const domain::CodecTables& tables,
                  const PersonalSection& section, ClientDetails* out) {
  if (section.erased) {
    *out = ClientDetails{};
    out->erased = true;
    return;
  }
  capnp::DynamicStruct::Reader dyn;
  if (!decoder->Decode(section.data, tables.personal, &dyn).ok()) return;
  auto p = dyn.as<domain::cs::Personal>();
  if (p.getGivenName().size() > 0) out->given_name = p.getGivenName().cStr();
  if (p.getFamilyName().size() > 0) out->family_name = p.getFamilyName().cStr();
  if (p.getAddressLines().size() > 0) {
    out->address_lines.clear();
    for (auto line : p.getAddressLines()) out->address_lines.emplace_back(line.cStr());
  }
  if (p.getPostcode().size() > 0) out->postcode = p.getPostcode().cStr();
}

Status AtPosition(const RecordedEvent& event, const Status& s) {
  return Status::Corruption("position " + std::to_string(event.position) + ": " + s.message());
}

}  // namespace

Status FoldSettingsEvent(domain::FactsDecoder* decoder, const RecordedEvent& event, Timescales* timescales,
                         AllocationMap* allocations) {
  Facts::Reader facts;
  const domain::TypeEntry* type = nullptr;
  Status s = decoder->Decode(event, &facts, &type);
  if (s.ok() && event.stream == kTimescalesStream && facts.which() == Facts::TIMESCALES_SET) {
    s = ApplyTimescalesSet(facts.getTimescalesSet(), event.position, timescales);
  }
  if (s.ok() && event.stream == domain::kAllocationsStream && facts.which() == Facts::ALLOCATION_SET) {
    auto a = facts.getAllocationSet();
    // A later allocation for the same year, district and fund supersedes.
    (*allocations)[{a.getFinancialYear().cStr(), a.getDistrict().cStr(), std::string(EnumName(a.getFund()))}] =
        AllocationFact{a.getAmountPence(), event.position};
  }
  if (!s.ok()) return AtPosition(event, s);
  return Status::OK();
}

Result<Collection> Collect(LogReader& store, const domain::Codec& codec, const CollectOptions& options) {
  auto info = store.Info();
  if (!info.ok()) return info.status();
  Collection out;
  out.position = options.position == 0 ? info->last_position : options.position;
  if (out.position > info->last_position) {
    return Status::InvalidArgument("position " + std::to_string(out.position) +
                                   " lies beyond the log's end (" +
                                   std::to_string(info->last_position) + ")");
  }
  const domain::CodecTables& tables = codec.tables();
  domain::FactsDecoder decoder(&tables);
  PersonCodesOf people = [&out](const std::string& subject, bool create) -> PersonCodes* {
    if (create) return &out.people[subject];
    auto it = out.people.find(subject);
    return it == out.people.end() ? nullptr : &it->second;
  };
  domain::PackedDecoder personal_decoder;
  // Facts only unless names are wanted: the counts never need personal data.
  auto fetch = [&store, names = options.client_details, last = out.position](uint64_t from) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(4096, last - from + 1));
    return names ? store.ReadAll(from, want) : store.ReadAllFacts(from, want);
  };
  // Reading (RocksDB, the facts seal) and folding take turns on one batch
  // after another: the next batch is read on a second thread while this one
  // is folded. The fold still sees every event in log order.
  std::future<Result<std::vector<RecordedEvent>>> pending;
  if (out.position >= 1) pending = std::async(std::launch::async, fetch, uint64_t{1});
  while (pending.valid()) {
    auto batch = pending.get();
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    uint64_t following = batch->back().position + 1;
    if (following <= out.position) pending = std::async(std::launch::async, fetch, following);
    if (options.progress) options.progress(std::min(following - 1, out.position), out.position);
    for (const RecordedEvent& event : *batch) {
      if (event.position > out.position) break;
      if (event.stream == kTimescalesStream || event.stream == domain::kAllocationsStream) {
        Status s = FoldSettingsEvent(&decoder, event, &out.timescales, &out.allocations);
        if (!s.ok()) return s;
        continue;
      }
      if (IsComplaintStream(event.stream)) {
        Status s = FoldComplaintStreamEvent(&decoder, event, &out.complaint_streams[event.stream]);
        if (!s.ok()) return s;
        continue;
      }
      if (!IsCaseStream(event.stream)) continue;
      CaseFacts& c = out.cases[event.stream];
      Status s = FoldCaseEvent(&decoder, event, &c, people);
      if (!s.ok()) return s;
      if (!options.client_details || c.state.client.empty() || event.personal.empty()) continue;
      // The identifiable export: the event's facts again, for its type.
      Facts::Reader facts;
      const domain::TypeEntry* type = nullptr;
      if (!decoder.Decode(event, &facts, &type).ok()) continue;  // folded above: it decodes
      if (facts.which() == Facts::PERSON_REGISTERED || facts.which() == Facts::CONTACT_RECORDED ||
          facts.which() == Facts::PERSON_DETAILS_RECTIFIED) {
        for (const auto& section : event.personal) {
          if (section.subject != c.state.client) continue;
          if (!c.client) c.client = ClientDetails{};
          MergeDetails(&personal_decoder, tables, section, &*c.client);
        }
      }
    }
  }
  return out;
}

}  // namespace hearth::exports
