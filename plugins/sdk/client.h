// hearth C++ client SDK for network plugins (docs/protocol.md, docs/plugins.md).
//
//   hearth::sdk::ClientOptions o;
//   o.host = "127.0.0.1"; o.port = 7443;
//   o.ca_file = "ca.pem"; o.cert_file = "portal.pem"; o.key_file = "portal.key";
//   o.user = "u-0042"; o.role = "caseworker";
//   auto client = hearth::sdk::Client::Connect(o);
//   if (!client.ok()) { ... client.status().ToString() ... }
//   auto r = (*client)->Append("case/north/C-000017", hearth::ExpectedVersion::NoStream(), events);
//   auto page = (*client)->ReadStream("case/north/C-000017", 1, hearth::Direction::kForward, 100, "casework");
//   auto sub = (*client)->Subscribe(1, "worklist", [](const hearth::RecordedEvent& e) { ...; return true; });
//
// A Client is thread-safe: many threads may call it at once; the server
// executes one connection's requests in the order it receives them. Every
// call returns the server's Status (code and message) or a local one
// (IOError when the connection is lost, Busy when a request times out).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hearth/event.h"
#include "hearth/session.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::sdk {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7443;
  // PEM files: the CA that signed the server's certificate (and the
  // plugin's), the plugin's certificate and its private key. REQUIRES: all.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // The name the server's certificate must carry; empty: `host`.
  std::string server_name;
  // Who the plugin acts for (hello). REQUIRES: both set.
  std::string user;
  std::string role;
  // Names this client in the server's log.
  std::string client_name = "hearth-sdk-cpp";
  // TCP connect, TLS handshake and hello together. Default: 10 s.
  int connect_timeout_ms = 10000;
  // Each request's answer. Default: 60 s.
  int request_timeout_ms = 60000;
  // Largest message accepted from the server. Default: 17 MiB, so that the
  // largest document body (16 MiB, ReadDocument) fits with its answer.
  uint32_t max_message_bytes = 17u << 20;
};

// The server's limits (protocol Limits).
struct ServerLimits {
  uint32_t max_message_bytes = 0;
  uint32_t requests_per_second = 0;
  uint32_t burst = 0;
  uint32_t idle_timeout_ms = 0;
  uint32_t page_size = 0;
  uint32_t subscription_buffer_events = 0;
  uint32_t max_subscriptions = 0;
};

// The answer to hello: who the connection acts for, and what it may do.
struct HelloInfo {
  uint32_t protocol_version = 0;
  std::string server_version;
  std::string plugin;
  std::string user;
  std::string role;
  Scopes scopes;
  ServerLimits limits;
};

// The answer to Client::Backup: the backup holds the log up to `position`
// exactly, in `directory` under the server's backup_dir.
struct BackupResult {
  uint64_t position = 0;
  std::string directory;
};

// The answer to Client::ReadDocument: one document's body, as the server
// checked it against the SHA-256 its event records.
struct Document {
  uint64_t position = 0;  // the event it is kept beside
  uint32_t index = 0;     // which of the event's documents
  std::string subject;    // the data subject whose key seals it
  std::string bytes;      // the body
  std::string sha256;     // of `bytes` (checked again by the client), 64 lowercase hex digits
};

struct ServerInfo {
  uint32_t protocol_version = 0;
  std::string server_version;
  uint32_t format_version = 0;
  std::string plugin;
  std::string user;
  std::string role;
  Scopes scopes;
  ServerLimits limits;
  std::vector<std::string> read_models;
};

// One page of a read. `more`: the server cut the page at its page size or
// message size; read on from the last event.
struct Page {
  std::vector<RecordedEvent> events;
  bool more = false;
};

// I/O threads that many clients may share (1,000 connections need not mean
// 1,000 threads). Destroy it after every client that uses it.
class ClientContext {
 public:
  explicit ClientContext(int threads = 1);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;
  struct Impl;
  Impl* impl() { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

// Return false to end the subscription.
using EventCallback = std::function<bool(const RecordedEvent&)>;
// Called once when a subscription ends: OK after Unsubscribe or a callback
// returning false, otherwise why (the server's subscriptionEnded or goodbye,
// or the connection lost).
using EndCallback = std::function<void(const Status&)>;

// A running subscription: its callback runs on its own thread, one event at
// a time, in position order. Credits are granted as the callback consumes
// events, so a slow callback slows the server down instead of filling
// memory. Destroying it unsubscribes and joins its thread.
// REQUIRES: not destroyed from inside its own callback.
class ClientSubscription {
 public:
  virtual ~ClientSubscription() = default;
  // Asks the server to stop, waits for the callback thread. Idempotent.
  virtual Status Unsubscribe() = 0;
  // The subscription's id (its subscribe request's id).
  virtual uint64_t id() const = 0;
  // Position of the last event the callback was given (0 before the first).
  virtual uint64_t last_position() const = 0;
};

class Client {
 public:
  // Connects, completes the TLS handshake and says hello. Returns InvalidArgument
  // (options, PEM files), IOError (connect, handshake: e.g. the server refused
  // the certificate), the server's answer to hello (PermissionDenied for a
  // role not configured, NotSupported), or Busy (timeout).
  // `context` may be null (the client runs its own I/O thread); REQUIRES: it
  // outlives the client.
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options,
                                                 ClientContext* context = nullptr);
  virtual ~Client() = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The answer to the hello sent by Connect (or the last Hello).
  virtual HelloInfo hello() const = 0;
  // Acts for another user from now on (open subscriptions keep theirs).
  virtual Result<HelloInfo> Hello(const std::string& user, const std::string& role) = 0;

  // The operations of docs/protocol.md. The actor of appended events is set
  // by the server from the hello.
  virtual Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                                      const std::vector<NewEvent>& events) = 0;
  virtual Result<Page> ReadStream(const std::string& stream, uint64_t from, Direction direction,
                                  uint32_t max_count, const std::string& purpose) = 0;
  virtual Result<Page> ReadAll(uint64_t from, uint32_t max_count, const std::string& purpose) = 0;
  virtual Result<Page> ReadSubject(const std::string& subject, uint64_t from, uint32_t max_count,
                                   const std::string& purpose) = 0;
  virtual Result<std::string> Query(const std::string& model, const std::string& params_json) = 0;
  // The body of document `index` (0 for a DocumentAttached) of the event at
  // global position `position`, its SHA-256 checked again here (Corruption
  // when the bytes received do not match the server's). Needs read_personal
  // and the event's stream readable (PermissionDenied naming the scope);
  // NotFound, Erased (its subject was erased), TooLarge (the body does not
  // fit in the server's limits.max_message_bytes), or InvalidArgument from
  // a server older than readDocument (an unknown request kind).
  virtual Result<Document> ReadDocument(uint64_t position, uint32_t index,
                                        const std::string& purpose) = 0;
  virtual Result<ServerInfo> Info() = 0;
  // An online backup into the server's backup_dir (docs/operations.md):
  // needs the scope backup (PermissionDenied otherwise; nothing is written).
  virtual Result<BackupResult> Backup() = 0;
  virtual Status Ping() = 0;
  // From position `from` (history, then live). `window`: events the server
  // may send ahead of the callback (the credits), 1..1,000,000.
  virtual Result<std::unique_ptr<ClientSubscription>> Subscribe(uint64_t from,
                                                                const std::string& purpose,
                                                                EventCallback on_event,
                                                                EndCallback on_end = nullptr,
                                                                uint32_t window = 256) = 0;

  // False once the connection is closed (by either side).
  virtual bool connected() const = 0;
  // Why the server closed the connection (its goodbye), or OK.
  virtual Status goodbye() const = 0;
  // Closes the connection (TLS close_notify). Pending calls fail.
  virtual void Close() = 0;

 protected:
  Client() = default;
};

}  // namespace hearth::sdk
