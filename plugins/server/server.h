// hearth plugin server: Cap'n Proto messages over TLS 1.3 with client
// certificates (docs/protocol.md, docs/plugins.md).
//
//   auto config = hearth::server::ServerConfig::Load("etc/hearth-server.json");
//   hearth::ReadModels models;                 // main() builds the models
//   models.Add(hearth::MakeInfoModel());
//   auto server = hearth::server::Server::Start(store.get(), &models, *config);
//   ...
//   (*server)->Stop();
//
// A client certificate signed by the configured CA is required; its subject
// CN is the plugin's name, and the configuration gives each plugin (and each
// user role the plugin may assert) its scopes. Every request runs through a
// hearth::Session with the caller's effective scopes, so the store enforces
// them and writes every personal-data read to the access log.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hearth/read_model.h"
#include "hearth/session.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::server {

// Every limit the server enforces. Each breach is answered with an error
// (the request is refused, the connection stays) or a goodbye and a clean
// close, and is logged.
struct Limits {
  // Largest message accepted or sent, framing included. Default: 1 MiB.
  uint32_t max_message_bytes = 1u << 20;
  // Open connections; more are closed at accept, before TLS. Default: 1024.
  uint32_t max_connections = 1024;
  // Sustained requests per second per plugin (all its connections together)
  // and the burst above it (token bucket). A request over the rate is
  // answered busy. Defaults: 5,000 and 1,000.
  uint32_t requests_per_second = 5000;
  uint32_t burst = 1000;
  // A connection with no request and no open subscription for this long is
  // closed. Default: 300,000 (5 minutes).
  uint32_t idle_timeout_ms = 300000;
  // TLS handshake plus hello must finish within this. Default: 10,000.
  uint32_t handshake_timeout_ms = 10000;
  // Most events (and bytes) the server holds for one subscription, read from
  // the log but not yet written to the socket. The server reads the log for a
  // subscription only while it is under both, and only as far as the client's
  // credits allow. Defaults: 256 events, 4 MiB.
  uint32_t subscription_buffer_events = 256;
  uint32_t subscription_buffer_bytes = 4u << 20;
  // Most events in one answer to a read. Default: 1,000.
  uint32_t page_size = 1000;
  // Open subscriptions on one connection. Default: 16.
  uint32_t max_subscriptions = 16;
  // Requests read ahead of the one executing, per connection. The server's
  // memory for requests is at most connections x (this + 1) x
  // max_message_bytes. Default: 2.
  uint32_t max_pipelined = 2;
  // Bytes of answers and pushes one connection may have waiting to be
  // written (a client that does not read its socket). Over it the server
  // executes, reads and pushes nothing more for that connection until the
  // client has read some (backpressure). Default: 4 MiB.
  uint32_t max_queued_bytes = 4u << 20;
  // A write that makes no progress for this long closes the connection,
  // without a goodbye (nothing more can be sent). Default: 30,000.
  uint32_t write_timeout_ms = 30000;
  // Open connections from one peer address; more are closed at accept,
  // before TLS. Default: 64.
  uint32_t max_connections_per_peer = 64;
  // TLS handshakes in progress at once (all peers); a connection over it is
  // closed at accept, before TLS. Default: 64.
  uint32_t max_handshakes = 64;
};

// One plugin the server accepts: its scopes, and for each user role it may
// assert, the narrower scopes of that role. A caller's effective scopes are
// the intersection of the plugin's and the role's.
struct PluginConfig {
  Scopes scopes;
  // Role name -> scopes. A role's list or flag that the configuration leaves
  // out does not narrow the plugin's. Empty map: any role may be asserted and
  // gets the plugin's scopes.
  std::map<std::string, Scopes> roles;
  // Pins (optional): the certificate naming the plugin (CN) must also have
  // one of `pin_sha256` (the SHA-256 fingerprint of its DER encoding, 64
  // lowercase hex digits) when that list is not empty, and carry one of
  // `pin_san` among its subject alternative names ("DNS:name", "URI:uri",
  // "email:address", "IP:address") when that one is not empty.
  std::vector<std::string> pin_sha256;
  std::vector<std::string> pin_san;
  // Overrides Limits::requests_per_second / burst for this plugin when > 0.
  uint32_t requests_per_second = 0;
  uint32_t burst = 0;
  // For `hearth serve --plugin PATH` (in-process plugins): the role its
  // session acts in and the JSON object given to its init.
  std::string in_process_role;
  std::string in_process_config = "{}";
};

// The web console's HTTPS listener (`console` in the configuration,
// docs/console.md). It uses the server's certificate and key (tls.cert,
// tls.key); browsers log in with local accounts (plugins/console).
struct ConsoleConfig {
  bool enabled = false;  // true when the configuration has a `console` object
  std::string listen_address = "127.0.0.1";
  uint16_t port = 8443;  // 0 picks a free port
  // Require a client certificate signed by tls.ca whose CN is the account's
  // name, as a second factor. Default: false.
  bool client_certificate = false;
  // A session not used for this long is over (401). Default: 900,000 (15 min).
  uint32_t session_idle_ms = 900000;
  // A session ends this long after login whatever its use. Default: 8 hours.
  uint32_t session_max_ms = 8u * 3600 * 1000;
  // Largest request body; more is answered 413. Default: 65,536.
  uint32_t max_body_bytes = 65536;
  // Failed logins for one account, or from one address, within
  // lockout_ms before further attempts are refused (429) until the window
  // passes. Defaults: 5 and 900,000.
  uint32_t login_failures = 5;
  uint32_t lockout_ms = 900000;
  // HTTP/TLS threads (they also run the store calls). Default: 2.
  uint32_t threads = 2;
};

// The Prometheus /metrics listener (`metrics` in the configuration,
// docs/operations.md "Metrics and logs"): plain HTTP, so loopback only unless
// `allow_non_loopback` says otherwise.
struct MetricsConfig {
  bool enabled = false;  // true when the configuration has a `metrics` object
  std::string listen_address = "127.0.0.1";
  uint16_t port = 9464;  // 0 picks a free port
  bool allow_non_loopback = false;
};

struct ServerConfig {
  // Where to listen. Port 0 picks a free port (Server::port() tells which).
  std::string listen_address = "127.0.0.1";
  uint16_t port = 7443;
  // PEM files: the CA that signs plugin certificates, and the server's own
  // certificate chain and private key (REQUIRES: all three).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  // Optional PEM file of CRLs issued by the CA (`hearth ca revoke`): every
  // plugin certificate is then checked against them (X509_V_FLAG_CRL_CHECK),
  // and a CA without a current CRL in the file refuses every certificate.
  std::string crl_file;
  // Threads doing network I/O and TLS. Default: 2.
  uint32_t threads = 2;
  // Threads executing appends and queries (an append waits for a synced
  // commit, so concurrent appends need concurrent workers to share one
  // sync). Default: 32.
  uint32_t workers = 32;
  // Threads executing reads and subscription batches. A read's answer
  // waits for its synced access record (docs/operations.md), but not on
  // its reader: one thread writes the records of every read waiting, in
  // one synced write, and the answers leave from there. So readers only
  // wait for the disk's reads; a document read still waits for its own
  // sync on its reader. Default: 4.
  uint32_t readers = 4;
  // A read of at most 16 events is first tried on the network thread that
  // received it, taking only what is in memory (RocksDB's memtables and
  // block cache; hearth/read_tier.h): most reads of a working set are, and
  // they then skip the hop to a reader and back. A read that would wait for
  // the disk goes to a reader. When most recent tries missed (a store much
  // larger than its cache), tries pause for a while. Default: true.
  bool reads_on_network_threads = true;
  Limits limits;
  std::map<std::string, PluginConfig> plugins;  // by plugin name (certificate CN)
  ConsoleConfig console;
  MetricsConfig metrics;
  // The log's form: "text" (one escaped line per event) or "json" (one JSON
  // object per line: time, level, event, fields). Default: text.
  std::string log_format = "text";
  // Where online backups go (the `backup` request, scope backup): each into
  // a new subdirectory <UTC time>-p<position>. Empty: no online backups.
  // Fixed here, never chosen by a client. Created (mode 0700) when missing.
  std::string backup_dir;

  // Reads the JSON configuration (docs/plugins.md). Relative file names are
  // resolved against the configuration file's directory. InvalidArgument
  // naming the key for anything malformed or unknown; NotFound / IOError for
  // the file.
  static Result<ServerConfig> Load(const std::string& path);
  static Result<ServerConfig> FromJson(const std::string& json, const std::string& base_dir);
};

// Names are matched as Session does: exact, or a prefix ending in `*`.
// Returns the patterns matching exactly the names both lists match.
std::vector<std::string> IntersectPatterns(const std::vector<std::string>& a,
                                           const std::vector<std::string>& b);
Scopes IntersectScopes(const Scopes& a, const Scopes& b);

// The effective scopes of `role` asserted by `plugin`; PermissionDenied for a
// role the plugin may not assert.
Result<Scopes> EffectiveScopes(const PluginConfig& plugin, const std::string& role);

// Figures for tests and monitoring.
struct ServerStats {
  uint64_t connections = 0;              // open now
  uint64_t accepted = 0;                 // since start
  uint64_t refused = 0;                  // closed at accept or in the handshake
  uint64_t requests = 0;                 // requests executed
  uint64_t subscriptions = 0;            // open now
  uint64_t buffered_events = 0;          // subscription events read but not yet written, now
  uint64_t max_buffered_events = 0;      // the most one subscription ever held
  uint64_t max_buffered_bytes = 0;       // the most bytes one subscription ever held
  uint64_t limit_breaches = 0;           // oversized, malformed, rate, timeouts
  uint64_t handshakes = 0;               // TLS handshakes in progress now
  uint64_t max_queued_bytes = 0;         // the most bytes one connection ever had waiting to be written
};

using LogFn = std::function<void(const std::string& line)>;

class Exposition;
using MetricsSource = std::function<void(Exposition* out)>;

class Server {
 public:
  // Binds, loads the TLS material and starts serving. `models` may be null
  // (every query is NotFound). REQUIRES: `store` and `models` outlive the
  // server. `log` receives one line per event worth an operator's attention
  // (refusals, breaches, connections); null writes them to stderr.
  // Returns InvalidArgument (config, TLS files), IOError (bind).
  static Result<std::unique_ptr<Server>> Start(Store* store, const ReadModels* models,
                                               ServerConfig config, LogFn log = nullptr);
  virtual ~Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port actually bound.
  virtual uint16_t port() const = 0;
  virtual ServerStats stats() const = 0;
  // The metrics listener's port (0 when metrics are off).
  virtual uint16_t metrics_port() const = 0;
  // Adds families to every scrape (rights requests, replication).
  // REQUIRES: called before the first scrape that should show them.
  virtual void AddMetricsSource(MetricsSource source) = 0;
  // What GET /metrics answers now.
  virtual std::string MetricsText() = 0;
  // Says goodbye to every client, closes every connection and waits for the
  // threads. Idempotent; the destructor calls it.
  virtual void Stop() = 0;

 protected:
  Server() = default;
};

}  // namespace hearth::server
