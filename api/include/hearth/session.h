// hearth: sessions — one principal's least-privilege view of a store.
//
// Every front end (network plugin, in-process plugin, web console, CLI acting
// for a person) works through a Session. The session, inside the store, checks
// every request against the principal's scopes, stamps the actor of appended
// events from the principal (a front end cannot claim to be someone else), and
// writes every read of personal data to the access log.
//
// Case streams are named `case/<district>/<reference>`; district scopes apply
// to them.
#pragma once

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
};

// A principal's view of a store. Thread-safe. REQUIRES: the store outlives it.
class Session {
 public:
  Session(Store* store, Principal principal, Scopes scopes);
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

  // As Store::Append, after CheckAppend; each event's actor is set to the
  // principal.
  Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                              std::vector<NewEvent> events);
  // As the Store reads, filtered to the scopes: personal sections are removed
  // unless read_personal; reads that return personal data are written to the
  // access log with `purpose`.
  Result<std::vector<RecordedEvent>> ReadStream(const std::string& stream, uint64_t from,
                                                Direction direction, size_t max_count,
                                                const std::string& purpose);
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count,
                                             const std::string& purpose);
  Result<std::vector<RecordedEvent>> ReadSubject(const std::string& subject, uint64_t from,
                                                 size_t max_count, const std::string& purpose);
  Result<std::unique_ptr<Subscription>> Subscribe(uint64_t from, EventHandler on_event,
                                                  EndHandler on_end, const std::string& purpose);

 private:
  Result<std::vector<RecordedEvent>> Filter(Result<std::vector<RecordedEvent>> events,
                                            const std::string& purpose);
  Store* store_;
  Principal principal_;
  Scopes scopes_;
};

}  // namespace hearth
