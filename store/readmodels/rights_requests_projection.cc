// The `rights_requests` projection: an index of the rights requests, so that
// the open ones and a page of all of them are read without reading every
// request ever made (api/include/hearth/readmodels.h, docs/readmodels.md).
#include <algorithm>

#include "base/varint_codec.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "readmodels/rights_index.h"

namespace hearth::readmodels {

namespace rights_index {

std::string EncodeRefEntry(const RefEntry& entry) {
  std::string out;
  base::Writer w(&out);
  w.Var(entry.seq);
  w.U8(uint8_t(entry.state));
  return out;
}

Status DecodeRefEntry(std::string_view bytes, RefEntry* out) {
  base::Reader r(bytes);
  out->seq = r.Var();
  out->state = char(r.U8());
  if (!r.done() || out->seq == 0 ||
      (out->state != kOpen && out->state != kFulfilled && out->state != kRefused)) {
    return Status::Corruption("a rights_requests entry that does not decode");
  }
  return Status::OK();
}

std::string EncodeCount(uint64_t n) {
  std::string out;
  base::Writer(&out).Var(n);
  return out;
}

Status DecodeCount(std::string_view bytes, uint64_t* out) {
  base::Reader r(bytes);
  *out = r.Var();
  if (!r.done()) return Status::Corruption("a rights_requests count that does not decode");
  return Status::OK();
}

namespace {

Status Unregistered(const Status& s) {
  if (!s.IsNotFound()) return s;
  return Status::NotSupported(std::string("the rights requests are listed from the ") + kRightsRequestsProjection +
                              " projection, which this store was not opened with "
                              "(Options::projections: readmodels::MakeProjections)");
}

// NotFound for an absent key; NotSupported when the projection is not there.
Status GetKey(LogReader& reader, const std::string& key, std::string* value) {
  std::vector<std::optional<std::string>> got;
  Status s = reader.GetProjectionValues(kRightsRequestsProjection, {key}, &got);
  if (!s.ok()) return Unregistered(s);
  if (!got[0]) return Status::NotFound("no key");
  *value = std::move(*got[0]);
  return Status::OK();
}

Result<uint64_t> CountAt(LogReader& reader, const std::string& key) {
  std::string bytes;
  Status s = GetKey(reader, key, &bytes);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return s;
  uint64_t n = 0;
  s = DecodeCount(bytes, &n);
  if (!s.ok()) return s;
  return n;
}

}  // namespace

Result<uint64_t> RequestCount(LogReader& reader) { return CountAt(reader, CountKey()); }

Result<uint64_t> ClosedCount(LogReader& reader, char state) { return CountAt(reader, ClosedCountKey(state)); }

Result<RefEntry> EntryOf(LogReader& reader, const std::string& ref) {
  std::string bytes;
  Status s = GetKey(reader, RefKey(ref), &bytes);
  if (s.IsNotFound()) return Status::NotFound("no rights request " + ref);
  if (!s.ok()) return s;
  RefEntry entry;
  s = DecodeRefEntry(bytes, &entry);
  if (!s.ok()) return s;
  return entry;
}

Result<std::vector<std::pair<uint64_t, std::string>>> RefsDownFrom(LogReader& reader, uint64_t from,
                                                                   size_t count) {
  std::vector<std::string> keys;
  for (uint64_t seq = from; seq >= 1 && keys.size() < count; --seq) keys.push_back(AllKey(seq));
  // Ascending keys read fastest (LogReader::GetProjectionValues).
  std::reverse(keys.begin(), keys.end());
  std::vector<std::optional<std::string>> values;
  Status s = reader.GetProjectionValues(kRightsRequestsProjection, keys, &values);
  if (!s.ok()) return Unregistered(s);
  std::vector<std::pair<uint64_t, std::string>> out;
  for (size_t i = keys.size(); i-- > 0;) {
    if (!values[i]) {
      return Status::Corruption(std::string(kRightsRequestsProjection) + " has no request number " +
                                std::to_string(SeqOfKey(keys[i])) + " below its count (rebuild it)");
    }
    out.emplace_back(SeqOfKey(keys[i]), std::move(*values[i]));
  }
  return out;
}

Result<std::vector<std::pair<uint64_t, std::string>>> OpenRefsFrom(LogReader& reader, uint64_t from,
                                                                   size_t count) {
  std::vector<std::pair<uint64_t, std::string>> out;
  if (count == 0) return out;
  Status s = reader.ScanProjectionFrom(kRightsRequestsProjection, "o", OpenKey(from),
                                       [&](std::string_view key, std::string_view value) {
                                         out.emplace_back(SeqOfKey(key), std::string(value));
                                         return out.size() < count;
                                       });
  if (!s.ok()) return Unregistered(s);
  return out;
}

}  // namespace rights_index

namespace {

using namespace rights_index;

class RightsRequestsProjection final : public Projection {
 public:
  std::string name() const override { return kRightsRequestsProjection; }
  uint32_t version() const override { return kRightsRequestsProjectionVersion; }
  // Inline: a request recorded is listed at once, whoever appended it (the
  // command line, the console, the server's protocol, a plugin through the C
  // ABI), and the fold costs a string comparison for every other event.
  ProjectionMode mode() const override { return ProjectionMode::kInline; }

  Status Apply(const RecordedEvent& event, ProjectionState& state) override {
    // rights::RequestStream's prefix (spelt out: this layer is below rights/).
    static constexpr std::string_view kPrefix = "rights/";
    if (!event.stream.starts_with(kPrefix) || event.stream == rights::kRestrictionStream) return Status::OK();
    const std::string ref = event.stream.substr(kPrefix.size());
    if (ref.empty()) return Status::OK();
    if (event.type == "RightsRequestReceived") return Received(ref, state);
    if (event.type == "RightsRequestFulfilled") return Closed(ref, kFulfilled, state);
    if (event.type == "RightsRequestRefused") return Closed(ref, kRefused, state);
    // Paused, resumed, extended, verified, decided: still open, nothing to index.
    return Status::OK();
  }

 private:
  static Result<uint64_t> Count(ProjectionState& state, const std::string& key) {
    std::string bytes;
    Status got = state.Get(key, &bytes);
    if (got.IsNotFound()) return uint64_t{0};
    if (!got.ok()) return got;
    uint64_t n = 0;
    Status s = DecodeCount(bytes, &n);
    if (!s.ok()) return s;
    return n;
  }

  // The first receipt of a stream opens the request; the rights workflow
  // refuses a second (rule rights-opens-with-receipt), and a second appended
  // around it changes nothing here.
  Status Received(const std::string& ref, ProjectionState& state) {
    std::string bytes;
    Status got = state.Get(RefKey(ref), &bytes);
    if (got.ok()) return Status::OK();
    if (!got.IsNotFound()) return got;
    auto n = Count(state, CountKey());
    if (!n.ok()) return n.status();
    const uint64_t seq = *n + 1;
    state.Put(CountKey(), EncodeCount(seq));
    state.Put(RefKey(ref), EncodeRefEntry(RefEntry{seq, kOpen}));
    state.Put(AllKey(seq), ref);
    state.Put(OpenKey(seq), ref);
    return Status::OK();
  }

  // The first close counts; a request closed is closed for good (rule
  // rights-request-closed), and a close without a receipt is no request.
  Status Closed(const std::string& ref, char how, ProjectionState& state) {
    std::string bytes;
    Status got = state.Get(RefKey(ref), &bytes);
    if (got.IsNotFound()) return Status::OK();
    if (!got.ok()) return got;
    RefEntry entry;
    Status s = DecodeRefEntry(bytes, &entry);
    if (!s.ok()) return s;
    if (entry.state != kOpen) return Status::OK();
    entry.state = how;
    state.Put(RefKey(ref), EncodeRefEntry(entry));
    state.Delete(OpenKey(entry.seq));
    auto closed = Count(state, ClosedCountKey(how));
    if (!closed.ok()) return closed.status();
    state.Put(ClosedCountKey(how), EncodeCount(*closed + 1));
    return Status::OK();
  }
};

}  // namespace

std::shared_ptr<Projection> MakeRightsRequestsProjection() {
  return std::make_shared<RightsRequestsProjection>();
}

}  // namespace hearth::readmodels
