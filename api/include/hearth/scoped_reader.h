// hearth: one principal's view of a store, for read models.
//
// Every read model (api/include/hearth/read_model.h) is given a ScopedReader,
// never the store: the collection builds one per query from the caller's
// Session, and the library functions behind the models (timelines,
// worklists, monitoring returns, case extracts) take it as a LogReader. So
// the policy is applied here, in one place, before a model sees an event:
//
//   - streams, districts and subjects: ReadStream and ReadSubject are the
//     Session's (read_streams, read_districts where the case is now);
//     ReadAll needs read_log;
//   - personal sections are removed without read_personal;
//   - every personal section handed to the model is written to the access
//     log under the reader's purpose (the model's name), durable before the
//     read returns;
//   - the `cases` projection shows only the cases the principal may read
//     where they are now, and never a case whose client's processing is
//     restricted (UK GDPR Art. 18: worklists leave them out, docs/rights.md);
//   - the whole log, for the counts of a monitoring return, is given as
//     facts only, never a personal section, and only to a model whose reach
//     says so (Reach::kReturn, Reach::kRows);
//   - the store itself, for the data controller's own workflows (subject
//     access, disclosures), only with the controller scope.
//
// A ScopedReader lives for one query; it is not shared between threads while
// in use (a model may read ahead on a second thread, one call at a time).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "hearth/log_reader.h"
#include "hearth/session.h"

namespace hearth {

class Store;

// How far a read model reaches into the log (ReadModel::reach()).
enum class Reach : uint8_t {
  // Cases and people one at a time, as the principal's scopes allow.
  kScoped,
  // As kScoped, and every case stream's facts in every district, never a
  // personal section: the counts of a monitoring return, which leaves the
  // store only under disclosure control (the `kpi` model).
  kReturn,
  // As kScoped, and the facts of every case the principal may read where it
  // is now, never a personal section: rows of a k-anonymous extract (the
  // `cases` model).
  kRows,
};

class ScopedReader final : public LogReader {
 public:
  // REQUIRES: `session` (and its store) outlive the reader. `purpose` is
  // written to the access log with every personal read (a code: the model's
  // name, or the caller's purpose code).
  ScopedReader(Session& session, Reach reach, std::string purpose);
  ~ScopedReader() override;
  ScopedReader(const ScopedReader&) = delete;
  ScopedReader& operator=(const ScopedReader&) = delete;

  const Principal& principal() const { return session_.principal(); }
  const Scopes& scopes() const { return session_.scopes(); }
  Reach reach() const { return reach_; }
  const std::string& purpose() const { return purpose_; }

  // The session's checks, for a model's finer decisions (refusals are logged).
  Status CheckController() const { return session_.CheckController(); }
  Status CheckReadPersonal() const { return session_.CheckReadPersonal(); }
  Status CheckReadDistrict(const std::string& district) const {
    return session_.CheckReadDistrict(district);
  }
  bool CanReadCase(const std::string& case_id, const std::string& district) const {
    return session_.CanReadCase(case_id, district);
  }


  // The store, for the data controller's workflows (subject-access packs,
  // the disclosure log). PermissionDenied without the controller scope.
  Result<Store*> ControllerStore();

  // Document `index` of the event at `position` (Store::ReadDocument): for a
  // session with read_personal that may read the event's stream (the case's
  // district as it is now). A DocumentAttached's body is checked against the
  // SHA-256 its event records (domain::CheckDocumentBody) before it is
  // returned. Each read is written to the access log (action "read", the
  // reader's purpose: "document" for the `document` model, the caller's code
  // for the protocol's readDocument and the plugin ABI's read_document).
  // A body of more than `max_bytes` (what an answer can carry) is refused
  // TooLarge and not logged: only a body that is given is on record.
  // Returns: PermissionDenied (read_personal, or the stream, as a read of the
  // event would name it), NotFound (no event at `position`, or no document
  // `index` on it), Erased (its subject was erased), Corruption (the body
  // fails authentication or its event's SHA-256), TooLarge.
  Result<DocumentBody> ReadDocument(uint64_t position, uint32_t index,
                                    size_t max_bytes = SIZE_MAX);

  // --- LogReader, with the policy above ---
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream, uint64_t from,
                                                Direction direction, size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadAllFacts(uint64_t from, size_t max_count) override;
  Result<std::vector<RecordedEvent>> ReadSubject(const std::string& subject, uint64_t from,
                                                 size_t max_count) override;
  Result<uint64_t> StreamVersion(const std::string& stream) override;
  Result<StoreInfo> Info() override;
  bool ShowsPersonal() const override { return session_.scopes().read_personal; }
  Result<std::vector<ProjectionStatus>> Projections() override;
  Status GetProjectionValue(const std::string& name, std::string_view key,
                            std::string* value) override;
  // The same checks as GetProjectionValue, key by key, with one multi-key
  // read of the store: a case the principal may not see is absent, and any
  // key of the cases projection that is not a case state is refused.
  Status GetProjectionValues(const std::string& name, const std::vector<std::string>& keys,
                             std::vector<std::optional<std::string>>* values) override;
  Status ScanProjection(
      const std::string& name, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) override;
  Status ScanProjectionFrom(
      const std::string& name, std::string_view prefix, std::string_view from,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) override;
  Result<TreeHead> CurrentTree() override;
  Result<std::vector<SignedCheckpoint>> Checkpoints() override;
  Result<std::vector<Hash>> InclusionProof(uint64_t position, uint64_t tree_size) override;
  Result<Hash> LeafHash(uint64_t position) override;
  // The store's, read once per reader (not through the scopes: which people
  // are restricted is the policy's own input).
  Result<std::set<std::string>> RestrictedSubjects() override;
  // Only for the principal's own name (its plugin), or any with controller.
  Result<std::string> RecipientKey(const std::string& recipient) override;

 private:
  // Whether the whole log may be read as facts: read_log, or the reach.
  bool WholeLogFacts() const;
  // Whether a case stream's facts may be given by ReadAllFacts (cached).
  bool FactsVisible(const std::string& stream);
  // Whether the projection's state of a case may be shown.
  Result<bool> CaseVisible(std::string_view state_bytes);

  Session& session_;
  Store* store_;
  Reach reach_;
  std::string purpose_;
  std::mutex mu_;
  std::optional<std::set<std::string>> restricted_;
  std::map<std::string, bool> readable_streams_;
};

}  // namespace hearth
