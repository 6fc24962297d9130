// hearth: sessions — one principal's least-privilege view of a store.
//
// Every front end (network plugin, in-process plugin, web console, CLI acting
// for a person) works through a Session. The session, inside the store, checks
// every request against the principal's scopes, stamps the actor of appended
// events from the principal (a front end cannot claim to be someone else), and
// writes every read of personal data to the access log.
//
// Case streams are named `case/<district>/<reference>`; district scopes apply
// to them by the district the case is in *now*: the district its enquiry
// opened it in, or the `toDistrict` of its last CaseTransferred. The name
// never changes, so after a transfer from D1 to D2 a principal scoped to D1
// no longer reads or appends to `case/D1/...`, and one scoped to D2 does. The
// lookup is cheap: the stream's version, and the case's state in the `cases`
// projection (store/readmodels), with the events it has not folded yet read
// from the stream (all of them when the store was opened without that
// projection). A case the domain cannot fold (only events written around the
// recorder) is placed by its name. `read_streams` patterns ending in `*`
// (`case/D1/*`) cover a case where it is now (as if it were named
// `case/<current district>/<reference>`); an exact name covers that stream
// wherever the case is.
//
// What each operation needs (PermissionDenied names the first scope missing):
//   Append         every event's type in append_types, and the stream readable
//                  (read_streams, or its district in read_districts): a
//                  principal writes only where it may read. A case is
//                  written where it is now (checked again by the recorder
//                  against the version the batch lands on); a new case
//                  where its enquiry opens it. Streams of the
//                  controller's decisions, `rights/...` (requests,
//                  restrictions) and `config/...` (record of processing),
//                  need controller as well. Then, on a case stream, the
//                  domain rules (see Append); recording an event about a
//                  person whose processing is restricted needs controller.
//                  Controller powers come only from the controller scope:
//                  the role a principal asserts (Principal::role) is
//                  recorded, never trusted.
//   ReadStream     the stream readable (a case: in its current district).
//   ReadSubject    nothing beyond a readable stream per event: events in
//                  streams the principal may not read are left out.
//   ReadAll        read_log.
//   Subscribe      read_log.
//   read models    the model's name in read_models (ReadModels::Query).
// Personal sections are removed from every event read unless read_personal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hearth/event.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth {

// Who is acting: a plugin (from its client certificate or its load
// configuration) and the user and role the plugin asserts for its user.
struct Principal {
  std::string plugin;
  std::string user;
  std::string role;
};

// What a principal may do. Lists hold exact names, or patterns ending in `*`
// (prefix match); "*" alone matches everything. Empty lists allow nothing.
struct Scopes {
  std::vector<std::string> append_types;    // event types it may append
  std::vector<std::string> read_streams;    // stream ids it may read
  std::vector<std::string> read_districts;  // districts whose case streams it may read
  std::vector<std::string> read_models;     // read models it may query: timeline, worklist,
                                            // sar, kpi, cases, rights, disclosures, info
  bool read_personal = false;  // sees personal sections (otherwise facts only)
  bool read_log = false;       // may read or subscribe to the whole log by position
  bool controller = false;     // data-controller operations (erasure, restriction, rights)
  bool backup = false;         // an online backup through `hearth serve` (docs/operations.md)
};

// Where a session reports refused requests (one line each, no personal
// data). main() passes the server's log; null writes to stderr.
using RefusalLog = std::function<void(const std::string& line)>;

// Whether `name` matches one of `patterns` (exact, or a prefix ending in `*`).
bool ScopeMatches(const std::vector<std::string>& patterns, const std::string& name);

// Streams no session reads or writes, whatever its scopes: `config/accounts`
// (the web console's accounts, with their password hashes, docs/console.md).
// Only the store's owner (the root-key holder: `hearth users`, the console's
// own login) reaches them. Through a session, their events' facts and
// personal sections come back empty (the events stay in the log's order
// and under its proofs), and reading or appending to the stream is refused.
bool IsReservedStream(const std::string& stream);

// A principal's view of a store. Thread-safe. REQUIRES: the store outlives it.
class Session {
 public:
  Session(Store* store, Principal principal, Scopes scopes, RefusalLog refusal_log = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Principal& principal() const { return principal_; }
  const Scopes& scopes() const { return scopes_; }

  // PermissionDenied naming the scope when a check fails. Nothing is written
  // by a refused request; the refusal itself is logged.
  Status CheckAppend(const std::string& stream, const std::vector<NewEvent>& events) const;
  Status CheckReadStream(const std::string& stream) const;
  Status CheckModel(const std::string& model) const;
  Status CheckReadLog() const;
  Status CheckReadPersonal() const;
  Status CheckController() const;
  // As CheckReadStream, without logging a refusal (for filtering); false
  // when the case's district cannot be looked up.
  bool CanReadStream(const std::string& stream) const;
  // Whether case `case_id` may be read while it is in `district` (for a
  // reader that holds the case's state, e.g. from the cases projection).
  bool CanReadCase(const std::string& case_id, const std::string& district) const;
  // Whether the principal may read the cases of `district` as a whole
  // (read_districts, or a read_streams pattern covering `case/<district>/`).
  Status CheckReadDistrict(const std::string& district) const;
  // The district case stream `stream` is in now (see the top of this file);
  // the name's district for a stream with no events.
  Result<std::string> CurrentDistrict(const std::string& stream) const;

  // As Store::Append, after CheckAppend; each event's actor is set to the
  // principal. Appends to case streams (`case/...`) go through a
  // domain::CaseRecorder (api/include/hearth/domain.h): the events are
  // validated against the case's history with the expected version given, and
  // a rule refusal is InvalidArgument "rule <name>: ..." with nothing written
  // (docs/domain.md lists the rules).
  Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                              std::vector<NewEvent> events);
  // As the Store reads, filtered to the scopes: personal sections are removed
  // unless read_personal; reads that return personal data are written to the
  // access log with `purpose` (one AccessRecord per subject per call,
  // durable before the call returns). An answer that must fit in a message
  // is read by pages instead (ReadStreamPage and the others below).
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream, uint64_t from,
                                                Direction direction, size_t max_count,
                                                const std::string& purpose);
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count,
                                             const std::string& purpose);
  // Up to `max_count` events naming `subject` in streams the principal may
  // read (others are skipped, and reading goes on past them).
  Result<std::vector<RecordedEvent>> ReadSubject(const std::string& subject, uint64_t from,
                                                 size_t max_count, const std::string& purpose);
  // One page of a read for an answer that must fit in a message (the plugin
  // server's reads and subscription batches): at most `limit.max_count`
  // events, and no event that would take the sum of `limit.measure(event)`
  // (measured after personal sections are removed without read_personal)
  // past `limit.max_bytes`. The page is cut while it is built: the store is
  // read kPageChunk events at a time, so a page never holds more than that
  // many events beyond its budget, however large they are. The access log is
  // written for exactly the events returned.
  static constexpr size_t kPageChunk = 32;
  struct PageLimit {
    size_t max_count = 0;
    size_t max_bytes = SIZE_MAX;
    std::function<size_t(const RecordedEvent&)> measure;  // null: the bytes of its fields
    // Null: the page's access records are written, synced, before the page
    // is returned. Set: they are appended here instead (plugin, user and
    // role filled in), and the caller owes the access log them: it writes
    // them (Store::LogAccess) and sends nothing of the page unless that
    // write succeeds. The plugin server does this to write the records of
    // many concurrent reads in one synced write without holding a thread
    // for each (docs/operations.md, "Durability" and the access log).
    std::vector<AccessRecord>* access_due = nullptr;
  };
  struct Page {
    std::vector<RecordedEvent> events;
    bool cut = false;        // stopped by max_bytes: more may follow
    uint64_t too_large = 0;  // the position of a first event that alone passes max_bytes
                             // (then `events` is empty)
  };
  Result<Page> ReadStreamPage(const std::string& stream, uint64_t from, Direction direction,
                              const PageLimit& limit, const std::string& purpose);
  Result<Page> ReadAllPage(uint64_t from, const PageLimit& limit, const std::string& purpose);
  // NotFound as ReadSubject when the subject has nothing this session may read.
  Result<Page> ReadSubjectPage(const std::string& subject, uint64_t from, const PageLimit& limit,
                               const std::string& purpose);

  // Each delivered event that carries personal data is written to the access
  // log as it is delivered.
  Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from, EventHandler on_event,
                                                  EndHandler on_end, const std::string& purpose);

  // For read models and exports: writes `records` to the access log with
  // plugin, user and role set from the principal (time set by the store).
  Status LogAccess(std::vector<AccessRecord> records);

  // Removes what the scopes do not allow from events read by other means
  // (personal sections unless read_personal), and logs the personal reads
  // that remain under `action` and `purpose`.
  Status FilterAndLog(std::vector<RecordedEvent>& events, const std::string& action,
                      const std::string& purpose);

 private:
  friend class ScopedReader;  // reads the store under this session's scopes
  Status Refuse(const std::string& scope, const std::string& what) const;
  Status ReservedRefusal(const std::string& stream, const std::string& doing) const;
  // CanReadCase, or the refusal naming the scope (`doing` prefixes its text).
  Status CheckCaseIn(const std::string& stream, const std::string& district,
                     const char* doing) const;
  Result<std::vector<RecordedEvent>> Filter(Result<std::vector<RecordedEvent>> events,
                                            const std::string& purpose);
  // FilterAndLog's filtering, with the access records it would write
  // appended to `records` (principal's plugin, user and role set) instead.
  Status FilterAndCollect(std::vector<RecordedEvent>& events, const std::string& action,
                          const std::string& purpose, std::vector<AccessRecord>* records);
  // Reads a page through `fetch(count)` (the next events in order; empty at
  // the end), keeping those `keep` accepts.
  Result<Page> BuildPage(const PageLimit& limit, const std::string& purpose,
                         const std::function<Result<std::vector<RecordedEvent>>(size_t)>& fetch,
                         const std::function<bool(const RecordedEvent&)>& keep);
  Store* store_;
  Principal principal_;
  Scopes scopes_;
  RefusalLog refusal_log_;
};

}  // namespace hearth
