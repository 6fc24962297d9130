// The plugin server (server.h): Boost.Asio over OpenSSL TLS 1.3, Cap'n Proto
// messages in the standard stream framing (docs/protocol.md).
//
// Threads: `threads` I/O threads run every socket's handlers, each
// connection on its own strand. Store calls block, so they run elsewhere:
// appends and queries on `workers` threads (a synced append waits for the
// group commit, which needs appends running side by side; a query may take
// long), reads and subscription batches on `readers` threads (a read of
// personal data waits for its synced access record: concurrent reads share
// one sync as appends do). A connection executes
// its requests one at a time, in order, reading at most `max_pipelined`
// ahead.
//
// Subscriptions are pulled, not pushed: the server reads the log for a
// subscription only while the client has credits and the subscription's
// unsent events are under the buffer limit, so a slow client holds at most
// subscription_buffer_events events in the server. One store subscription
// (started with the first client subscription) only tells waiting
// subscriptions that the log has grown.
#include "server.h"
#include "metrics.h"
#include "tls_names.h"

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "hearth/domain.h"
#include "hearth/references.h"
#include "hearth/escape.h"
#include "hearth/read_tier.h"
#include "hearth/scoped_reader.h"
#include "wire.h"

namespace hearth::server {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr uint32_t kMaxCredits = 1u << 30;
// The largest read (in events asked for) tried on a network thread.
constexpr uint32_t kInlineReadMaxEvents = 16;

std::string Now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
  return buf;
}

// The SHA-256 fingerprint of a certificate's DER encoding, in lowercase hex.
std::string Sha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return {};
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += digits[md[i] >> 4];
    hex += digits[md[i] & 15];
  }
  return hex;
}

// A certificate's subject alternative names as "DNS:...", "URI:...",
// "email:..." and "IP:...".
std::vector<std::string> SubjectAltNames(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    auto text = [](const ASN1_STRING* s) {
      return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), size_t(ASN1_STRING_length(s)));
    };
    switch (name->type) {
      case GEN_DNS: out.push_back("DNS:" + text(name->d.dNSName)); break;
      case GEN_URI: out.push_back("URI:" + text(name->d.uniformResourceIdentifier)); break;
      case GEN_EMAIL: out.push_back("email:" + text(name->d.rfc822Name)); break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = name->d.iPAddress;
        char buf[INET6_ADDRSTRLEN] = {0};
        int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
        if (ASN1_STRING_length(ip) == 4 || ASN1_STRING_length(ip) == 16) {
          inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf);
          out.push_back(std::string("IP:") + buf);
        }
        break;
      }
      default: break;
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Opaque references: 1..64 of [A-Za-z0-9._:@-] (never a name), as every
// front end checks them (hearth/references.h).
bool ValidReference(const std::string& s) { return IsReference(s); }

// A per-plugin token bucket.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}
  bool Take() {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }
  // True at most once a second: whether to log a refusal.
  bool ShouldLog() {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    if (now - last_log_ < std::chrono::seconds(1)) return false;
    last_log_ = now;
    return true;
  }

 private:
  std::mutex mu_;
  double rate_, burst_, tokens_;
  Clock::time_point last_ = Clock::now();
  Clock::time_point last_log_{};
};

// A spdlog sink handing each formatted line (without its newline) to a LogFn.
class LogFnSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit LogFnSink(LogFn fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string line(formatted.data(), formatted.size());
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    fn_(line);
  }
  void flush_() override {}

 private:
  LogFn fn_;
};

// The fields of one structured log line (log_format json).
using LogFields = std::vector<std::pair<std::string, std::string>>;

class ServerImpl;

// One subscription of one connection. Lives on the connection's strand.
struct Sub {
  uint64_t id = 0;
  uint64_t next = 1;             // next position to read
  uint64_t credits = 0;          // events the client still accepts
  std::string purpose;
  std::shared_ptr<Session> session;  // the principal that opened it
  bool reading = false;          // a worker is reading the next batch
  uint64_t unsent_events = 0;    // read, queued for the socket, not yet written
  uint64_t unsent_bytes = 0;
};

// The access records owed by reads (Session::PageLimit::access_due),
// written by one thread: everything queued while the last write synced
// goes in the next write, one synced write for many reads, and no reader
// thread waits for a sync. A read's answer is sent from `done` only once its
// records are on disk; a failed write fails every read it held.
class AccessCommitter {
 public:
  using Done = std::function<void(const Status&)>;

  explicit AccessCommitter(Store* store) : store_(store), thread_([this] { Run(); }) {}
  ~AccessCommitter() { Stop(); }
  AccessCommitter(const AccessCommitter&) = delete;
  AccessCommitter& operator=(const AccessCommitter&) = delete;

  void Submit(std::vector<AccessRecord> records, Done done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        queue_.push_back(Item{std::move(records), std::move(done)});
        if (idle_) cv_.notify_one();
        return;
      }
    }
    done(Status::Busy("the server is shutting down"));
  }

  // Writes what is queued, then ends the thread; later submissions are
  // answered busy.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  struct Item {
    std::vector<AccessRecord> records;
    Done done;
  };

  void Run() {
    std::vector<Item> batch;
    std::vector<AccessRecord> all;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        idle_ = true;
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        idle_ = false;
        if (queue_.empty()) return;  // stopping, nothing left
        batch.swap(queue_);
      }
      all.clear();
      for (const Item& item : batch) all.insert(all.end(), item.records.begin(), item.records.end());
      Status status = store_->LogAccess(all);
      if (status.IsInvalidArgument() && batch.size() > 1) {
        // One read's records refused: each read gets its own answer.
        for (Item& item : batch) item.done(store_->LogAccess(item.records));
      } else {
        for (Item& item : batch) item.done(status);
      }
      batch.clear();
    }
  }

  Store* store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> queue_;
  bool idle_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is built
};

struct Outgoing {
  std::string bytes;
  uint64_t sub_id = 0;     // a push of this subscription (0: none)
  uint64_t sub_events = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerImpl* server, tcp::socket socket, ssl::context& ctx, uint64_t id,
             std::string address);
  ~Connection();
  void Start();
  // Says goodbye (when the TLS session is up), then closes. On the strand.
  void Close(const Status& why);
  // Called from any thread: the log has grown.
  void NotifyAppended();
  uint64_t id() const { return id_; }
  asio::any_io_executor executor() { return stream_.get_executor(); }
  // Closes the socket at once. On the strand.
  void Abort(const std::string& why);

 private:
  using Ptr = std::shared_ptr<Connection>;

  bool Verify(bool preverified, ssl::verify_context& ctx);
  void OnHandshake(const error_code& ec);
  void ReadHeader();
  void OnHeader(const error_code& ec);
  void OnTable(const error_code& ec, size_t table_bytes);
  void OnBody(const error_code& ec);
  void OnFrame(std::unique_ptr<wire::Frame> frame);
  void MaybeRead();
  void Dispatch();
  void Execute(std::unique_ptr<wire::Request> request);
  // Sends a store request's answer from the strand, once the access records
  // of what it read (`due`) are written; from any thread.
  void Answer(protocol::ClientMessage::Which kind, uint64_t request_id, Clock::time_point started,
              std::string response, bool failed, std::vector<AccessRecord> due);
  void Finish(std::string response);
  void ArmIdle();
  void Touch();

  // Runs on a worker thread; returns the serialised answer.
  // Reads of events leave their access records in `access_due` (sent only
  // once the committer has written them); everything else writes its own.
  std::string RunStoreRequest(wire::Request& request, std::shared_ptr<Session> session, bool* failed,
                              std::vector<AccessRecord>* access_due);
  std::string Hello(const wire::Request& hello);
  std::string ServerInfo(uint64_t request_id);
  void Subscribe(const wire::Request& request);
  std::string Unsubscribe(uint64_t request_id, uint64_t sub_id);
  void OnCredit(uint64_t sub_id, uint32_t events);

  void Pump(const std::shared_ptr<Sub>& sub);
  void PumpAll();
  void EndSub(uint64_t sub_id, const Status& why);

  void Send(Outgoing out);
  void WriteNext();
  void OnWritten(const error_code& ec, size_t bytes);
  void ArmWriteTimer();
  // Whether the answers and pushes waiting to be written have reached
  // limits.max_queued_bytes: then nothing more is executed, read or pushed.
  bool OverBudget() const;
  void EndHandshake();
  void StartShutdown();
  void Linger();
  void Discard();
  void Log(const std::string& line);
  LogFields Fields() const;
  std::string ErrorMessage(uint64_t request_id, const Status& status);

  ServerImpl* server_;
  ssl::stream<tcp::socket> stream_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer idle_timer_;
  asio::steady_timer shutdown_timer_;
  asio::steady_timer write_timer_;
  std::array<char, 4096> discard_;  // what a closing peer still sends
  const uint64_t id_;
  const std::string address_;  // the peer's address (without its port)
  std::string peer_;
  std::string plugin_;
  const PluginConfig* plugin_config_ = nullptr;
  std::shared_ptr<Session> session_;  // null until hello
  bool tls_up_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool read_in_flight_ = false;
  bool executing_ = false;
  bool shutdown_started_ = false;
  std::array<uint8_t, 8> header_{};
  std::vector<uint8_t> table_;
  kj::Array<capnp::word> frame_words_;
  // Requests waiting their turn: a frame to execute, or an answer already
  // made (a refusal), so that answers keep the order of the requests.
  struct Pending {
    std::unique_ptr<wire::Request> request;
    std::string answer;
    uint64_t id = 0;
  };
  std::deque<Pending> pending_;
  // The requestIds read and not yet answered (pending_ and the one
  // executing): a client may not reuse one of them.
  std::set<uint64_t> unanswered_;
  uint64_t executing_id_ = 0;
  std::deque<Outgoing> writes_;
  size_t queued_bytes_ = 0;   // bytes in writes_ not yet written
  size_t write_offset_ = 0;   // bytes of writes_.front() written
  bool writing_ = false;
  bool handshaking_ = true;   // counted in the server's handshakes
  bool write_timer_armed_ = false;
  Clock::time_point last_write_progress_ = Clock::now();
  std::map<uint64_t, std::shared_ptr<Sub>> subs_;
  bool waiting_for_log_ = false;
  Clock::time_point last_activity_ = Clock::now();
  bool idle_armed_ = false;
};

class ServerImpl final : public Server {
 public:
  ServerImpl(Store* store, const ReadModels* models, ServerConfig config, LogFn log)
      : store_(store),
        models_(models),
        config_(std::move(config)),
        log_(std::move(log)),
        append_seconds_(Histogram::LatencyBounds()),
        read_seconds_(Histogram::LatencyBounds()),
        query_seconds_(Histogram::LatencyBounds()),
        ssl_(ssl::context::tls_server),
        acceptor_(io_),
        workers_(config_.workers),
        readers_(config_.readers) {
    if (config_.log_format == "json") {
      // One JSON object per line: time (UTC), level, then the event and its
      // fields written by Log (docs/operations.md, "Metrics and logs").
      spdlog::sink_ptr sink;
      if (log_) {
        sink = std::make_shared<LogFnSink>(log_);
      } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
      }
      json_log_ = std::make_shared<spdlog::logger>("hearth-server", std::move(sink));
      json_log_->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})",
                             spdlog::pattern_time_type::utc);
      json_log_->set_level(spdlog::level::info);
      json_log_->flush_on(spdlog::level::info);
    }
  }

  ~ServerImpl() override { Stop(); }

  Status Init() {
    SSL_CTX* ctx = ssl_.native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
      return Status::InvalidArgument("TLS 1.3 is not available: " + OpenSslError());
    }
    ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    // Sessions are not resumed: each connection shows its certificate.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    if (SSL_CTX_use_certificate_chain_file(ctx, config_.cert_file.c_str()) != 1) {
      return Status::InvalidArgument("server certificate " + config_.cert_file + ": " +
                                     OpenSslError());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, config_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Status::InvalidArgument("server key " + config_.key_file + ": " + OpenSslError());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return Status::InvalidArgument("server key does not match its certificate: " + OpenSslError());
    }
    if (SSL_CTX_load_verify_locations(ctx, config_.ca_file.c_str(), nullptr) != 1) {
      return Status::InvalidArgument("CA " + config_.ca_file + ": " + OpenSslError());
    }
    if (!config_.crl_file.empty()) {
      // Revocation: the CA's CRLs, checked for every plugin certificate.
      X509_STORE* store = SSL_CTX_get_cert_store(ctx);
      X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
      if (lookup == nullptr || X509_load_crl_file(lookup, config_.crl_file.c_str(), X509_FILETYPE_PEM) < 1) {
        return Status::InvalidArgument("CRL " + config_.crl_file + ": " + OpenSslError());
      }
      X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(ctx, 4);
    // SSL_MODE_RELEASE_BUFFERS would save about 34 KiB per idle connection
    // but allocates and frees both record buffers around every message; the
    // 1,000-idle-connection budget affords keeping them.

    error_code ec;
    auto address = asio::ip::make_address(config_.listen_address, ec);
    if (ec) return Status::InvalidArgument("listen address '" + config_.listen_address + "': " + ec.message());
    tcp::endpoint endpoint(address, config_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on " + config_.listen_address + ":" +
                             std::to_string(config_.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();

    for (const auto& [name, plugin] : config_.plugins) {
      uint32_t rate = plugin.requests_per_second ? plugin.requests_per_second
                                                 : config_.limits.requests_per_second;
      uint32_t burst = plugin.burst ? plugin.burst : config_.limits.burst;
      limiters_.emplace(name, std::make_unique<RateLimiter>(rate, burst));
    }
    auto info = store_->Info();
    if (!info.ok()) return info.status();
    last_position_ = info->last_position;

    if (config_.metrics.enabled) {
      if (!IsLoopbackAddress(config_.metrics.listen_address) && !config_.metrics.allow_non_loopback) {
        return Status::InvalidArgument("metrics.listen: '" + config_.metrics.listen_address +
                                       "' is not a loopback address (metrics.allow_non_loopback)");
      }
      auto listener = MetricsListener::Start(config_.metrics.listen_address, config_.metrics.port,
                                             [this] { return MetricsText(); });
      if (!listener.ok()) return listener.status();
      metrics_ = std::move(*listener);
    }

    Accept();
    for (uint32_t i = 0; i < config_.threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    Log("listening on " + config_.listen_address + ":" + std::to_string(port_) + " (TLS 1.3, " +
        std::to_string(config_.plugins.size()) + " plugins configured)");
    return Status::OK();
  }

  uint16_t port() const override { return port_; }
  uint16_t metrics_port() const override { return metrics_ ? metrics_->port() : 0; }

  void AddMetricsSource(MetricsSource source) override {
    std::lock_guard<std::mutex> lock(sources_mu_);
    sources_.push_back(std::move(source));
  }

  std::string MetricsText() override;

  // Latency and outcome of one store request (RunStoreRequest).
  void Observe(protocol::ClientMessage::Which kind, double seconds, bool ok) {
    switch (kind) {
      case protocol::ClientMessage::APPEND:
        append_seconds_.Observe(seconds);
        ++(ok ? appends_ : append_failures_);
        break;
      case protocol::ClientMessage::READ_STREAM:
      case protocol::ClientMessage::READ_ALL:
      case protocol::ClientMessage::READ_SUBJECT:
      case protocol::ClientMessage::READ_DOCUMENT:
        read_seconds_.Observe(seconds);
        ++(ok ? reads_ : read_failures_);
        break;
      case protocol::ClientMessage::QUERY:
        query_seconds_.Observe(seconds);
        ++(ok ? queries_ : query_failures_);
        break;
      default:
        break;
    }
  }
  // An online backup into config_.backup_dir (the `backup` request): staged
  // in <time>.partial, renamed to <time>-p<position> once complete. One at
  // a time (Busy otherwise).
  struct BackupDone {
    uint64_t position = 0;
    std::string name;
  };
  Result<BackupDone> OnlineBackup() {
    namespace fs = std::filesystem;
    if (config_.backup_dir.empty()) {
      return Status::NotSupported("online backups are off: the server's configuration has no backup_dir");
    }
    std::unique_lock<std::mutex> lock(backup_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return Status::Busy("a backup is already running: retry later");
    std::error_code ec;
    const fs::path root(config_.backup_dir);
    if (!fs::is_directory(root, ec)) {
      fs::create_directories(root, ec);
      if (ec) return Status::IOError("cannot create backup_dir " + root.string() + ": " + ec.message());
      ::chmod(root.c_str(), 0700);
    }
    std::string stamp = Now();  // 2026-01-01T10:00:00.000Z
    stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }),
                stamp.end());   // 20260101T100000.000Z
    const fs::path staging = root / (stamp + ".partial");
    if (fs::exists(staging, ec)) return Status::Busy("a backup started this millisecond: retry");
    auto position = store_->Backup(staging.string());
    if (!position.ok()) {
      fs::remove_all(staging, ec);
      return position.status();
    }
    BackupDone done{*position, stamp + "-p" + std::to_string(*position)};
    fs::rename(staging, root / done.name, ec);
    if (ec) {
      fs::remove_all(staging, ec);
      return Status::IOError("cannot name the backup " + (root / done.name).string() + ": " + ec.message());
    }
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    return done;
  }

  void SessionOpened() { ++sessions_; }
  void SessionClosed() { --sessions_; }

  ServerStats stats() const override {
    ServerStats s;
    s.connections = connections_.load();
    s.accepted = accepted_.load();
    s.refused = refused_.load();
    s.requests = requests_.load();
    s.subscriptions = subscriptions_.load();
    s.buffered_events = buffered_events_.load();
    s.max_buffered_events = max_buffered_events_.load();
    s.max_buffered_bytes = max_buffered_bytes_.load();
    s.limit_breaches = breaches_.load();
    s.handshakes = handshakes_.load();
    s.max_queued_bytes = max_queued_bytes_.load();
    return s;
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    stopping_ = true;
    if (metrics_) metrics_->Stop();
    asio::post(io_, [this] {
      error_code ec;
      acceptor_.close(ec);
    });
    // Goodbye to everyone, then give them a moment to go.
    for (auto& c : LiveConnections()) {
      asio::post(c->executor(), [c] { c->Close(Status::Busy("the server is shutting down")); });
    }
    auto deadline = Clock::now() + std::chrono::seconds(3);
    while (connections_.load() > 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (connections_.load() > 0) {
      for (auto& c : LiveConnections()) {
        asio::post(c->executor(), [c] { c->Abort("the server is stopping"); });
      }
      deadline = Clock::now() + std::chrono::seconds(2);
      while (connections_.load() > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    // Stopped outside the lock: its thread may be waiting for it.
    std::unique_ptr<Subscription> tail;
    {
      std::lock_guard<std::mutex> lock(tail_mu_);
      tail = std::move(tail_);
    }
    if (tail) tail->Stop();
    tail.reset();
    workers_.join();
    readers_.join();
    access_committer_.Stop();  // after the readers: they submit to it
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    Log("stopped");
  }

  // --- used by connections ---

  void Log(const std::string& line) { Log("server", {}, line); }

  // One log line: `event` (a fixed code), `fields` (fixed names; values as
  // the text form writes them) and the message. Text: "<fields> : message";
  // JSON: {"time","level","event","fields":{..., "message"}}.
  void Log(const std::string& event, const LogFields& fields, const std::string& message,
           spdlog::level::level_enum level = spdlog::level::info) {
    if (json_log_) {
      nlohmann::json f = nlohmann::json::object();
      for (const auto& [k, v] : fields) f[k] = EscapeLogText(v);
      f["message"] = EscapeLogText(message);
      nlohmann::json e = event;
      const auto replace = nlohmann::json::error_handler_t::replace;
      json_log_->log(level, "\"event\":{},\"fields\":{}", e.dump(-1, ' ', false, replace),
                     f.dump(-1, ' ', false, replace));
      return;
    }
    std::string line;
    for (const auto& [k, v] : fields) {
      if (k == "conn") {
        line += "conn " + v;
      } else if (k == "peer") {
        line += " " + v;
      } else {
        line += " " + k + "=" + v;
      }
    }
    // A session's refusal keeps its own form: "conn N refused: ...".
    TextLog(fields.empty() ? message : line + (event == "refusal" ? " " : ": ") + message);
  }

  void TextLog(const std::string& line) {
    if (log_) {
      log_(EscapeLogText(line));
    } else {
      std::string out = Now() + " hearth-server: " + EscapeLogText(line) + "\n";
      std::cerr << out;
    }
  }

  Store* store() { return store_; }
  const ReadModels* models() { return models_; }
  const ServerConfig& config() const { return config_; }
  asio::thread_pool& workers() { return workers_; }
  asio::thread_pool& readers() { return readers_; }
  AccessCommitter& access_committer() { return access_committer_; }
  bool stopping() const { return stopping_; }

  const PluginConfig* FindPlugin(const std::string& name) const {
    auto it = config_.plugins.find(name);
    return it == config_.plugins.end() ? nullptr : &it->second;
  }
  RateLimiter* Limiter(const std::string& plugin) {
    auto it = limiters_.find(plugin);
    return it == limiters_.end() ? nullptr : it->second.get();
  }

  // Reads on the network threads (ServerConfig::reads_on_network_threads):
  // whether to try this one, and how the try went. Of each 256 tries, if
  // more than half needed the disk, the next 4,096 small reads go straight
  // to a reader. The counters are a heuristic: races between threads only
  // move a window's edge.
  bool TryReadInline() {
    if (!config_.reads_on_network_threads) return false;
    if (inline_pause_.load(std::memory_order_relaxed) > 0) {
      inline_pause_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void NoteInlineRead(bool missed) {
    (missed ? inline_missed_ : inline_answered_).fetch_add(1, std::memory_order_relaxed);
    uint32_t tries = window_tries_.fetch_add(1, std::memory_order_relaxed) + 1;
    uint32_t misses = missed ? window_misses_.fetch_add(1, std::memory_order_relaxed) + 1
                             : window_misses_.load(std::memory_order_relaxed);
    if (tries >= 256) {
      if (misses * 2 > tries) inline_pause_.store(4096, std::memory_order_relaxed);
      window_tries_.store(0, std::memory_order_relaxed);
      window_misses_.store(0, std::memory_order_relaxed);
    }
  }

  void CountRefused() { ++refused_; }
  void CountBreach() { ++breaches_; }
  void CountRequest() { ++requests_; }
  void SubOpened() { ++subscriptions_; }
  void SubClosed() { --subscriptions_; }
  void Buffered(int64_t events, uint64_t sub_events, uint64_t sub_bytes) {
    buffered_events_ += events;
    uint64_t seen = max_buffered_events_.load();
    while (sub_events > seen && !max_buffered_events_.compare_exchange_weak(seen, sub_events)) {
    }
    seen = max_buffered_bytes_.load();
    while (sub_bytes > seen && !max_buffered_bytes_.compare_exchange_weak(seen, sub_bytes)) {
    }
  }

  void Closed(uint64_t id, const std::string& address) {
    std::lock_guard<std::mutex> lock(conn_mu_);
    conns_.erase(id);
    --connections_;
    auto it = peers_.find(address);
    if (it != peers_.end() && --it->second == 0) peers_.erase(it);
  }
  void HandshakeEnded() { --handshakes_; }
  void Queued(uint64_t bytes) {
    uint64_t seen = max_queued_bytes_.load();
    while (bytes > seen && !max_queued_bytes_.compare_exchange_weak(seen, bytes)) {
    }
  }

  // The log's last position as far as the server knows. When `next` lies
  // beyond it, `conn` is registered to be told when the log grows.
  bool ReadyOrWait(uint64_t next, const std::shared_ptr<Connection>& conn, bool registered) {
    StartTail();
    std::lock_guard<std::mutex> lock(tail_mu_);
    if (next <= last_position_) return true;
    if (!registered) waiters_.push_back(conn);
    return false;
  }

  // The log's last position (for `subscribed`).
  uint64_t LastPosition() {
    std::lock_guard<std::mutex> lock(tail_mu_);
    return last_position_;
  }
  void NoteAppended(uint64_t last) { OnAppended(last); }

 private:
  std::vector<std::shared_ptr<Connection>> LiveConnections() {
    std::vector<std::shared_ptr<Connection>> out;
    std::lock_guard<std::mutex> lock(conn_mu_);
    for (auto& [id, weak] : conns_) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](const error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || stopping_) return;
        Log("accept failed: " + ec.message());
        // Out of descriptors: back off briefly rather than spin.
        if (ec == asio::error::no_descriptors) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        Accept();
        return;
      }
      ++accepted_;
      error_code ignored;
      auto remote = socket.remote_endpoint(ignored);
      const std::string address = remote.address().to_string();
      const Limits& limits = config_.limits;
      // Every cap is checked, and the connection counted, under one lock.
      std::string refusal;
      std::shared_ptr<Connection> conn;
      {
        std::lock_guard<std::mutex> lock(conn_mu_);
        auto peer = peers_.find(address);
        if (connections_.load() >= limits.max_connections) {
          refusal = std::to_string(limits.max_connections) + " connections open (limits.max_connections)";
        } else if (peer != peers_.end() && peer->second >= limits.max_connections_per_peer) {
          refusal = std::to_string(limits.max_connections_per_peer) +
                    " connections open from this address (limits.max_connections_per_peer)";
        } else if (handshakes_.load() >= limits.max_handshakes) {
          refusal = std::to_string(limits.max_handshakes) +
                    " TLS handshakes in progress (limits.max_handshakes)";
        } else {
          socket.set_option(tcp::no_delay(true), ignored);
          uint64_t id = ++next_id_;
          conn = std::make_shared<Connection>(this, std::move(socket), ssl_, id, address);
          conns_.emplace(id, conn);
          ++connections_;
          ++peers_[address];
          ++handshakes_;
        }
      }
      if (conn) {
        conn->Start();
      } else {
        ++refused_;
        ++breaches_;
        Log("refused connection from " + address + ":" + std::to_string(remote.port()) + ": " + refusal);
        socket.close(ignored);
      }
      if (!stopping_) Accept();
    });
  }

  // The tail subscription only tracks the log's end for waiting
  // subscriptions; started by the first subscription.
  void StartTail() {
    std::lock_guard<std::mutex> lock(tail_mu_);
    if (tail_ || stopping_) return;
    auto sub = store_->Subscribe(
        last_position_ + 1,
        [this](const RecordedEvent& e) {
          OnAppended(e.position);
          return !stopping_.load();
        },
        [this](const Status& s) {
          if (!s.ok()) Log("log tail subscription ended: " + s.ToString());
        });
    if (!sub.ok()) {
      Log("cannot follow the log: " + sub.status().ToString());
      return;
    }
    tail_ = std::move(sub.value());
  }

  void OnAppended(uint64_t position) {
    std::vector<std::weak_ptr<Connection>> waiters;
    {
      std::lock_guard<std::mutex> lock(tail_mu_);
      if (position <= last_position_) return;
      last_position_ = position;
      waiters.swap(waiters_);
    }
    for (auto& w : waiters) {
      if (auto c = w.lock()) c->NotifyAppended();
    }
  }

  // Declared before the I/O objects so that they outlive them: handlers
  // destroyed with io_ still reach this state.
  Store* store_;
  const ReadModels* models_;
  ServerConfig config_;
  LogFn log_;
  std::map<std::string, std::unique_ptr<RateLimiter>> limiters_;

  std::mutex stop_mu_;
  bool stopped_ = false;
  std::atomic<bool> stopping_{false};

  std::mutex conn_mu_;
  std::map<uint64_t, std::weak_ptr<Connection>> conns_;
  std::map<std::string, uint32_t> peers_;  // open connections by peer address
  std::atomic<uint64_t> next_id_{0};

  std::mutex tail_mu_;
  std::unique_ptr<Subscription> tail_;
  uint64_t last_position_ = 0;
  std::vector<std::weak_ptr<Connection>> waiters_;

  std::atomic<uint64_t> connections_{0}, accepted_{0}, refused_{0}, requests_{0},
      subscriptions_{0}, breaches_{0};
  std::atomic<int64_t> buffered_events_{0};
  std::atomic<uint64_t> max_buffered_events_{0}, max_buffered_bytes_{0}, max_queued_bytes_{0};
  std::atomic<uint64_t> handshakes_{0};
  std::atomic<uint64_t> inline_answered_{0}, inline_missed_{0};
  std::atomic<uint32_t> window_tries_{0}, window_misses_{0};
  std::atomic<int64_t> inline_pause_{0};

  std::shared_ptr<spdlog::logger> json_log_;  // log_format json
  Histogram append_seconds_, read_seconds_, query_seconds_;
  std::atomic<uint64_t> appends_{0}, append_failures_{0}, reads_{0}, read_failures_{0}, queries_{0},
      query_failures_{0}, sessions_{0};
  std::mutex sources_mu_;
  std::vector<MetricsSource> sources_;
  std::mutex backup_mu_;
  std::unique_ptr<MetricsListener> metrics_;

  asio::io_context io_;
  ssl::context ssl_;
  tcp::acceptor acceptor_;
  asio::thread_pool workers_;
  asio::thread_pool readers_;
  AccessCommitter access_committer_{store_};
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
};

// --------------------------------------------------------------- metrics ----

// Every family of the scrape (docs/operations.md lists them). Labels are
// fixed codes only.
std::string ServerImpl::MetricsText() {
  Exposition out;
  out.Counter("hearth_appends_total", "Appends acknowledged (answered appended).", double(appends_.load()));
  out.Counter("hearth_append_failures_total", "Appends answered with an error.",
              double(append_failures_.load()));
  out.WriteHistogram("hearth_append_duration_seconds",
                     "Time to execute an append (validation, group commit and sync), answered or not.",
                     append_seconds_.Read());
  out.Counter("hearth_reads_total", "Reads (readStream, readAll, readSubject, readDocument) answered.",
              double(reads_.load()));
  out.Counter("hearth_read_failures_total", "Reads answered with an error.", double(read_failures_.load()));
  out.WriteHistogram("hearth_read_duration_seconds", "Time to execute a read, answered or not.",
                     read_seconds_.Read());
  out.Counter("hearth_queries_total", "Read-model queries answered.", double(queries_.load()));
  out.Counter("hearth_query_failures_total", "Read-model queries answered with an error.",
              double(query_failures_.load()));
  out.WriteHistogram("hearth_query_duration_seconds", "Time to execute a read-model query.",
                     query_seconds_.Read());
  out.Gauge("hearth_connections_open", "Plugin connections open now (TLS handshake included).",
            double(connections_.load()));
  out.Gauge("hearth_sessions_open", "Connections past hello (a session with its scopes) now.",
            double(sessions_.load()));
  out.Gauge("hearth_subscriptions_open", "Subscriptions open now.", double(subscriptions_.load()));
  out.Counter("hearth_connections_accepted_total", "Connections accepted since start.",
              double(accepted_.load()));
  out.Counter("hearth_connections_refused_total", "Connections closed at accept or in the handshake.",
              double(refused_.load()));
  out.Counter("hearth_limit_breaches_total", "Limit breaches (oversized, malformed, rate, timeouts).",
              double(breaches_.load()));
  out.Counter("hearth_requests_total", "Requests executed (every kind).", double(requests_.load()));
  out.Counter("hearth_reads_on_network_threads_total",
              "Small reads answered from memory on the network thread that received them.",
              double(inline_answered_.load()));
  out.Counter("hearth_reads_cache_missed_total",
              "Small reads tried on a network thread that needed the disk and went to a reader.",
              double(inline_missed_.load()));

  WriterStats w = store_->Writer();
  out.Gauge("hearth_writer_queue_depth", "Appends waiting for the group commit now.", double(w.queue_depth));
  {
    Histogram::Snapshot h;
    for (size_t i = 0; i < WriterStats::kGroupSizeBounds.size(); ++i) {
      h.bounds.push_back(double(WriterStats::kGroupSizeBounds[i]));
      h.cumulative.push_back(w.group_sizes[i]);
    }
    h.cumulative.push_back(w.groups);
    h.count = w.groups;
    h.sum = double(w.grouped_appends);
    out.WriteHistogram("hearth_commit_group_size", "Appends committed (and synced) together per group.", h);
  }

  auto tree = store_->CurrentTree();
  const uint64_t end = tree.ok() ? tree->size : 0;
  out.Gauge("hearth_log_position", "The log's last position (events in the log).", double(end));
  auto projections = store_->Projections();
  out.Family("hearth_projection_position", "The last position each projection has folded.", "gauge");
  if (projections.ok()) {
    for (const auto& p : *projections) {
      out.Sample("hearth_projection_position", {{"projection", p.name}}, double(p.position));
    }
  }
  out.Family("hearth_projection_lag_events", "Events of the log a projection has not folded yet.", "gauge");
  if (projections.ok()) {
    for (const auto& p : *projections) {
      out.Sample("hearth_projection_lag_events", {{"projection", p.name}},
                 double(end > p.position ? end - p.position : 0));
    }
  }
  out.Family("hearth_projection_stopped", "1 when a projection stopped on a failure (until rebuilt).",
             "gauge");
  if (projections.ok()) {
    for (const auto& p : *projections) {
      out.Sample("hearth_projection_stopped", {{"projection", p.name}}, p.stopped ? 1 : 0);
    }
  }
  auto checkpoints = store_->Checkpoints();
  if (checkpoints.ok() && !checkpoints->empty()) {
    const SignedCheckpoint& last = checkpoints->back();
    const double now_us = double(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
    out.Gauge("hearth_checkpoint_age_seconds", "Seconds since the last signed checkpoint was signed.",
              std::max(0.0, (now_us - double(last.time)) / 1e6));
    out.Gauge("hearth_checkpoint_size", "Events covered by the last signed checkpoint.", double(last.size));
  }
  std::vector<MetricsSource> sources;
  {
    std::lock_guard<std::mutex> lock(sources_mu_);
    sources = sources_;
  }
  for (const auto& source : sources) source(&out);
  return out.text();
}

// ------------------------------------------------------------ Connection ----

Connection::Connection(ServerImpl* server, tcp::socket socket, ssl::context& ctx, uint64_t id,
                       std::string address)
    : server_(server),
      stream_(std::move(socket), ctx),
      handshake_timer_(stream_.get_executor()),
      idle_timer_(stream_.get_executor()),
      shutdown_timer_(stream_.get_executor()),
      write_timer_(stream_.get_executor()),
      id_(id),
      address_(std::move(address)) {
  error_code ec;
  auto remote = stream_.lowest_layer().remote_endpoint(ec);
  peer_ = ec ? std::string("?") : remote.address().to_string() + ":" + std::to_string(remote.port());
}

Connection::~Connection() {
  if (!subs_.empty()) {
    for (auto& [id, sub] : subs_) {
      server_->Buffered(-int64_t(sub->unsent_events), 0, 0);
      server_->SubClosed();
    }
  }
  EndHandshake();
  if (session_) server_->SessionClosed();
  server_->Closed(id_, address_);
}

void Connection::EndHandshake() {
  if (!handshaking_) return;
  handshaking_ = false;
  server_->HandshakeEnded();
}

LogFields Connection::Fields() const {
  LogFields f{{"conn", std::to_string(id_)}, {"peer", peer_}};
  if (!plugin_.empty()) f.emplace_back("plugin", plugin_);
  if (session_) {
    f.emplace_back("user", session_->principal().user);
    f.emplace_back("role", session_->principal().role);
  }
  return f;
}

void Connection::Log(const std::string& line) { server_->Log("connection", Fields(), line); }

void Connection::Start() {
  auto self = shared_from_this();
  handshake_timer_.expires_after(std::chrono::milliseconds(server_->config().limits.handshake_timeout_ms));
  handshake_timer_.async_wait([self](const error_code& ec) {
    if (ec) return;  // cancelled: hello arrived
    self->server_->CountBreach();
    if (!self->tls_up_) self->server_->CountRefused();
    self->Log("handshake and hello not finished within " +
              std::to_string(self->server_->config().limits.handshake_timeout_ms) +
              " ms (limits.handshake_timeout_ms): closing");
    self->Close(Status::Busy("handshake timeout: hello not received in time"));
  });
  std::weak_ptr<Connection> weak = self;
  stream_.set_verify_callback([weak](bool preverified, ssl::verify_context& ctx) {
    auto c = weak.lock();
    return c ? c->Verify(preverified, ctx) : false;
  });
  stream_.async_handshake(ssl::stream_base::server,
                          [self](const error_code& ec) { self->OnHandshake(ec); });
}

bool Connection::Verify(bool preverified, ssl::verify_context& vctx) {
  X509_STORE_CTX* ctx = vctx.native_handle();
  int depth = X509_STORE_CTX_get_error_depth(ctx);
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  if (!preverified) {
    int err = X509_STORE_CTX_get_error(ctx);
    Log("refused certificate '" + CommonName(cert) + "' (depth " + std::to_string(depth) +
        "): " + X509_verify_cert_error_string(err));
    return false;
  }
  if (depth == 0) {
    std::string cn = CommonName(cert);
    const PluginConfig* plugin = server_->FindPlugin(cn);
    if (plugin == nullptr) {
      Log("refused certificate for unknown plugin '" + cn + "': not in the configuration");
      // Named, so that the client sees the alert `bad certificate` (an
      // unnamed refusal is sent as `internal error`).
      X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
      return false;
    }
    if (!plugin->pin_sha256.empty()) {
      std::string print = Sha256Hex(cert);
      if (std::find(plugin->pin_sha256.begin(), plugin->pin_sha256.end(), print) ==
          plugin->pin_sha256.end()) {
        Log("refused certificate for plugin '" + cn + "': its SHA-256 fingerprint " + print +
            " is not pinned (plugins." + cn + ".pin.sha256)");
        X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
        return false;
      }
    }
    if (!plugin->pin_san.empty()) {
      std::vector<std::string> names = SubjectAltNames(cert);
      bool pinned = std::any_of(names.begin(), names.end(), [&](const std::string& n) {
        return std::find(plugin->pin_san.begin(), plugin->pin_san.end(), n) != plugin->pin_san.end();
      });
      if (!pinned) {
        std::string seen;
        for (const auto& n : names) seen += (seen.empty() ? "" : ", ") + n;
        Log("refused certificate for plugin '" + cn + "': none of its subject alternative names (" +
            (seen.empty() ? "none" : seen) + ") is pinned (plugins." + cn + ".pin.san)");
        X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
        return false;
      }
    }
    plugin_ = cn;
  }
  return true;
}

void Connection::OnHandshake(const error_code& ec) {
  EndHandshake();
  if (closing_) return;
  if (ec) {
    server_->CountRefused();
    Log("TLS handshake failed: " + ec.message());
    Abort("handshake failed");
    return;
  }
  // The verify callback accepted the chain; check the plugin once more from
  // the session's own peer certificate.
  X509* peer = SSL_get1_peer_certificate(stream_.native_handle());
  std::string cn = CommonName(peer);
  X509_free(peer);
  plugin_config_ = server_->FindPlugin(cn);
  if (peer == nullptr || plugin_config_ == nullptr) {
    server_->CountRefused();
    Log("no certificate of a configured plugin after the handshake: closing");
    tls_up_ = true;
    Close(Status::PermissionDenied("no certificate of a configured plugin"));
    return;
  }
  plugin_ = cn;
  tls_up_ = true;
  Log("connected (TLS " + std::string(SSL_get_version(stream_.native_handle())) + ")");
  MaybeRead();
}

// Reading: header (8 bytes) -> rest of the segment table -> segments.
void Connection::MaybeRead() {
  if (closing_ || read_in_flight_) return;
  if (pending_.size() + (executing_ ? 1u : 0u) > server_->config().limits.max_pipelined) return;
  if (OverBudget()) return;  // resumed once the client has read (OnWritten)
  ReadHeader();
}

void Connection::ReadHeader() {
  read_in_flight_ = true;
  auto self = shared_from_this();
  asio::async_read(stream_, asio::buffer(header_),
                   [self](const error_code& ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(const error_code& ec) {
  if (ec) {
    read_in_flight_ = false;
    if (closing_) {
      if (!shutdown_started_ && !writing_) StartShutdown();
      return;
    }
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
      Log("closed by the client");
    } else {
      Log("read failed: " + ec.message());
    }
    Abort("read failed");
    return;
  }
  if (closing_) {
    read_in_flight_ = false;
    if (!shutdown_started_ && !writing_) StartShutdown();
    return;
  }
  auto table_bytes = wire::TableBytes(header_.data());
  if (!table_bytes.ok()) {
    read_in_flight_ = false;
    server_->CountBreach();
    Log("malformed frame: " + table_bytes.status().message());
    Close(table_bytes.status());
    return;
  }
  table_.assign(*table_bytes, 0);
  std::copy(header_.begin(), header_.end(), table_.begin());
  size_t rest = *table_bytes - header_.size();
  auto self = shared_from_this();
  if (rest == 0) {
    OnTable(error_code(), *table_bytes);
    return;
  }
  asio::async_read(stream_, asio::buffer(table_.data() + header_.size(), rest),
                   [self, n = *table_bytes](const error_code& ec, size_t) { self->OnTable(ec, n); });
}

void Connection::OnTable(const error_code& ec, size_t table_bytes) {
  if (ec) {
    OnHeader(ec);
    return;
  }
  auto body = wire::BodyBytes(table_.data(), table_bytes, server_->config().limits.max_message_bytes);
  if (!body.ok()) {
    read_in_flight_ = false;
    server_->CountBreach();
    Log("refused message: " + body.status().message() +
        (body.status().code() == Status::Code::kTooLarge ? " (limits.max_message_bytes)" : ""));
    Close(body.status());
    return;
  }
  frame_words_ = kj::heapArray<capnp::word>((table_bytes + *body) / sizeof(capnp::word));
  std::memcpy(frame_words_.begin(), table_.data(), table_bytes);
  auto self = shared_from_this();
  asio::async_read(
      stream_,
      asio::buffer(reinterpret_cast<uint8_t*>(frame_words_.begin()) + table_bytes, *body),
      [self](const error_code& ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(const error_code& ec) {
  if (ec) {
    OnHeader(ec);
    return;
  }
  read_in_flight_ = false;
  if (closing_) {
    if (!shutdown_started_ && !writing_) StartShutdown();
    return;
  }
  auto frame = wire::Frame::Parse(kj::mv(frame_words_));
  if (!frame.ok()) {
    server_->CountBreach();
    Log("refused message: " + frame.status().message());
    Close(frame.status());
    return;
  }
  OnFrame(std::move(frame.value()));
}

void Connection::OnFrame(std::unique_ptr<wire::Frame> frame) {
  Touch();
  ArmIdle();
  auto request = std::make_unique<wire::Request>();
  Status decoded = wire::DecodeRequest(*frame, request.get());
  frame.reset();
  if (decoded.ok() && request->kind == protocol::ClientMessage::CREDIT) {
    // Flow control is never queued behind requests, nor rate limited.
    OnCredit(request->subscription, request->credits);
    MaybeRead();
    return;
  }
  if (unanswered_.count(request->id) != 0) {
    // Two answers with one id could not be told apart.
    server_->CountBreach();
    Log("refused request: requestId " + std::to_string(request->id) +
        " is already in use by a request not yet answered: closing");
    Close(Status::InvalidArgument("requestId " + std::to_string(request->id) +
                                  " is already in use by a request not yet answered"));
    return;
  }
  unanswered_.insert(request->id);
  const uint64_t id = request->id;
  RateLimiter* limiter = server_->Limiter(plugin_);
  if (limiter != nullptr && !limiter->Take()) {
    server_->CountBreach();
    if (limiter->ShouldLog()) Log("request rate over the plugin's limit (limits.requests_per_second): answering busy");
    pending_.push_back(Pending{nullptr,
                               ErrorMessage(id, Status::Busy("request rate limit for plugin '" +
                                                             plugin_ + "' exceeded: retry later")),
                               id});
  } else if (!decoded.ok()) {
    // A well-framed message with content the server cannot act on: answered,
    // in turn, and the connection stays.
    server_->CountBreach();
    Log("refused request " + std::to_string(request->id) + ": " + decoded.message());
    pending_.push_back(Pending{nullptr, ErrorMessage(id, decoded), id});
  } else {
    pending_.push_back(Pending{std::move(request), {}, id});
  }
  Dispatch();
  MaybeRead();
}

// Activity only moves a time stamp; the one timer, when it fires, waits
// again for whatever is left of the idle time (no timer is cancelled and
// re-armed per request).
void Connection::Touch() { last_activity_ = Clock::now(); }

void Connection::ArmIdle() {
  if (closing_ || idle_armed_) return;
  idle_armed_ = true;
  auto self = shared_from_this();
  const auto idle = std::chrono::milliseconds(server_->config().limits.idle_timeout_ms);
  idle_timer_.expires_at(last_activity_ + idle);
  idle_timer_.async_wait([self, idle](const error_code& ec) {
    self->idle_armed_ = false;
    if (ec || self->closing_) return;
    bool busy = !self->subs_.empty() || self->executing_ || !self->pending_.empty();
    if (busy) self->Touch();
    if (busy || Clock::now() < self->last_activity_ + idle) {
      self->ArmIdle();
      return;
    }
    self->server_->CountBreach();
    self->Log("idle for " + std::to_string(self->server_->config().limits.idle_timeout_ms) +
              " ms (limits.idle_timeout_ms): closing");
    self->Close(Status::Busy("idle timeout: closing the connection"));
  });
}

void Connection::Dispatch() {
  if (executing_ || pending_.empty() || closing_ || OverBudget()) return;
  executing_ = true;
  Pending next = std::move(pending_.front());
  pending_.pop_front();
  executing_id_ = next.id;
  if (next.request) {
    Execute(std::move(next.request));
  } else {
    Finish(std::move(next.answer));
  }
}

std::string Connection::ErrorMessage(uint64_t request_id, const Status& status) {
  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(request_id);
  wire::ToWire(status, out.initError());
  return wire::Serialize(message);
}

void Connection::Execute(std::unique_ptr<wire::Request> request) {
  server_->CountRequest();
  const uint64_t request_id = request->id;
  if (request->kind == protocol::ClientMessage::HELLO) {
    Finish(Hello(*request));
    return;
  }
  if (!session_) {
    Finish(ErrorMessage(request_id,
                        Status::InvalidArgument("the first request on a connection must be hello")));
    return;
  }
  switch (request->kind) {
    case protocol::ClientMessage::SERVER_INFO:
      Finish(ServerInfo(request_id));
      return;
    case protocol::ClientMessage::PING: {
      capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
      auto out = message.initRoot<protocol::ServerMessage>();
      out.setRequestId(request_id);
      out.setPong();
      Finish(wire::Serialize(message));
      return;
    }
    case protocol::ClientMessage::UNSUBSCRIBE:
      Finish(Unsubscribe(request_id, request->subscription));
      return;
    case protocol::ClientMessage::SUBSCRIBE:
      Subscribe(*request);
      return;
    default:
      break;
  }
  // Store calls block: run them on a worker, answer on the strand. A small
  // read is first tried here, on the network thread, taking only what is in
  // memory (hearth/read_tier.h): most reads of a working set are, and they
  // then skip the hop to a reader and back (docs/architecture.md). One that
  // would wait for the disk stops without changing anything and goes to a
  // reader like any other.
  auto self = shared_from_this();
  std::shared_ptr<wire::Request> shared(std::move(request));
  bool is_read = shared->kind == protocol::ClientMessage::READ_STREAM ||
                 shared->kind == protocol::ClientMessage::READ_ALL ||
                 shared->kind == protocol::ClientMessage::READ_SUBJECT ||
                 shared->kind == protocol::ClientMessage::READ_DOCUMENT;
  const auto started = Clock::now();
  if (is_read && shared->kind != protocol::ClientMessage::READ_DOCUMENT &&
      shared->max_count >= 1 && shared->max_count <= kInlineReadMaxEvents &&
      server_->TryReadInline()) {
    bool failed = false;
    bool missed = false;
    std::vector<AccessRecord> due;
    std::string response;
    {
      CacheOnlyReads cache_only;
      response = RunStoreRequest(*shared, session_, &failed, &due);
      missed = cache_only.missed();
    }
    server_->NoteInlineRead(missed);
    if (!missed) {
      Answer(shared->kind, shared->id, started, std::move(response), failed, std::move(due));
      return;
    }
  }
  asio::post(is_read ? server_->readers() : server_->workers(), [self, shared, started, session = session_] {
    bool failed = false;
    std::vector<AccessRecord> due;
    std::string response = self->RunStoreRequest(*shared, session, &failed, &due);
    self->Answer(shared->kind, shared->id, started, std::move(response), failed, std::move(due));
  });
}

void Connection::Answer(protocol::ClientMessage::Which kind, uint64_t request_id, Clock::time_point started,
                        std::string response, bool failed, std::vector<AccessRecord> due) {
  auto self = shared_from_this();
  auto answer = [self, kind, started](std::string response, bool ok) {
    self->server_->Observe(kind, std::chrono::duration<double>(Clock::now() - started).count(), ok);
    asio::post(self->executor(), [self, response = std::move(response)]() mutable {
      self->Finish(std::move(response));
    });
  };
  if (due.empty() || failed) {
    answer(std::move(response), !failed);
    return;
  }
  // Personal data read: the answer waits for its access records' sync,
  // not this thread.
  server_->access_committer().Submit(
      std::move(due), [self, answer, request_id, response = std::move(response)](const Status& s) mutable {
        if (s.ok()) {
          answer(std::move(response), true);
          return;
        }
        self->Log("read failed: " + s.ToString());
        answer(self->ErrorMessage(request_id, s), false);
      });
}

void Connection::Finish(std::string response) {
  executing_ = false;
  unanswered_.erase(executing_id_);
  if (closing_) return;  // the goodbye is the last message
  if (!response.empty()) Send(Outgoing{std::move(response), 0, 0});
  Touch();
  ArmIdle();
  Dispatch();
  MaybeRead();
}

std::string Connection::Hello(const wire::Request& hello) {
  const uint64_t request_id = hello.id;
  uint32_t version = hello.protocol_version;
  if (version == 0) {
    return ErrorMessage(request_id, Status::InvalidArgument(
                                        "hello: protocolVersion 0 is not a version (unset?); this "
                                        "server speaks " +
                                        std::to_string(protocol::PROTOCOL_VERSION)));
  }
  if (version > protocol::PROTOCOL_VERSION) {
    return ErrorMessage(request_id, Status::NotSupported(
                                        "protocol version " + std::to_string(version) +
                                        " is newer than this server's " +
                                        std::to_string(protocol::PROTOCOL_VERSION)));
  }
  const std::string& user = hello.user;
  const std::string& role = hello.role;
  if (!ValidReference(user)) {
    return ErrorMessage(request_id, Status::InvalidArgument(
                                        "hello: user must be a staff reference of 1 to 64 of "
                                        "[A-Za-z0-9._:@-]"));
  }
  if (!ValidReference(role)) {
    return ErrorMessage(request_id,
                        Status::InvalidArgument("hello: role must be 1 to 64 of [A-Za-z0-9._:@-]"));
  }
  auto scopes = EffectiveScopes(*plugin_config_, role);
  if (!scopes.ok()) {
    Log("hello refused for user=" + user + " role=" + role + ": " + scopes.status().message());
    return ErrorMessage(request_id, scopes.status());
  }
  std::weak_ptr<Connection> weak = shared_from_this();
  ServerImpl* server = server_;
  uint64_t conn_id = id_;
  if (!session_) server_->SessionOpened();
  session_ = std::make_shared<Session>(server_->store(), Principal{plugin_, user, role}, *scopes,
                                       [server, conn_id](const std::string& line) {
                                         server->Log("refusal", {{"conn", std::to_string(conn_id)}},
                                                     line, spdlog::level::warn);
                                       });
  handshake_timer_.cancel();
  Log("hello from client '" + hello.client.substr(0, 128) + "'");

  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(request_id);
  auto r = out.initHelloResult();
  r.setProtocolVersion(protocol::PROTOCOL_VERSION);
  r.setServerVersion(HEARTH_VERSION);
  r.setPlugin(plugin_);
  r.setUser(user);
  r.setRole(role);
  wire::ToWire(*scopes, r.initScopes());
  const Limits& l = server_->config().limits;
  auto limits = r.initLimits();
  limits.setMaxMessageBytes(l.max_message_bytes);
  limits.setRequestsPerSecond(plugin_config_->requests_per_second ? plugin_config_->requests_per_second
                                                                 : l.requests_per_second);
  limits.setBurst(plugin_config_->burst ? plugin_config_->burst : l.burst);
  limits.setIdleTimeoutMs(l.idle_timeout_ms);
  limits.setPageSize(l.page_size);
  limits.setSubscriptionBufferEvents(l.subscription_buffer_events);
  limits.setMaxSubscriptions(l.max_subscriptions);
  return wire::Serialize(message);
}

std::string Connection::ServerInfo(uint64_t request_id) {
  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(request_id);
  auto info = out.initServerInfo();
  info.setProtocolVersion(protocol::PROTOCOL_VERSION);
  info.setServerVersion(HEARTH_VERSION);
  info.setFormatVersion(Store::kFormatVersion);
  info.setPlugin(plugin_);
  info.setUser(session_->principal().user);
  info.setRole(session_->principal().role);
  wire::ToWire(session_->scopes(), info.initScopes());
  const Limits& l = server_->config().limits;
  auto limits = info.initLimits();
  limits.setMaxMessageBytes(l.max_message_bytes);
  limits.setRequestsPerSecond(plugin_config_->requests_per_second ? plugin_config_->requests_per_second
                                                                 : l.requests_per_second);
  limits.setBurst(plugin_config_->burst ? plugin_config_->burst : l.burst);
  limits.setIdleTimeoutMs(l.idle_timeout_ms);
  limits.setPageSize(l.page_size);
  limits.setSubscriptionBufferEvents(l.subscription_buffer_events);
  limits.setMaxSubscriptions(l.max_subscriptions);
  std::vector<std::string> names;
  if (server_->models() != nullptr) names = server_->models()->Names();
  auto list = info.initReadModels(names.size());
  for (size_t i = 0; i < names.size(); ++i) list.set(i, names[i]);
  return wire::Serialize(message);
}


std::string Connection::RunStoreRequest(wire::Request& req, std::shared_ptr<Session> session,
                                        bool* failed, std::vector<AccessRecord>* access_due) {
  const uint64_t request_id = req.id;
  auto fail = [&](const Status& status) {
    *failed = true;
    return ErrorMessage(request_id, status);
  };
  const Limits& limits = server_->config().limits;
  // Room for everything in an answer but its events.
  const size_t budget = limits.max_message_bytes > 4096 ? limits.max_message_bytes - 2048 : 2048;
  try {
    capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
    auto out = message.initRoot<protocol::ServerMessage>();
    out.setRequestId(request_id);

    const size_t page = req.max_count == 0 ? limits.page_size
                                           : std::min<size_t>(req.max_count, limits.page_size);
    // The page is cut to the message while the store is read, not after.
    const Session::PageLimit limit{page, budget,
                                   [](const RecordedEvent& e) { return wire::EncodedBytesBound(e); },
                                   access_due};
    auto answer_events = [&](Result<Session::Page> events) -> std::string {
      if (!events.ok()) {
        if (events.status().code() == Status::Code::kCorruption ||
            events.status().code() == Status::Code::kIOError) {
          Log("read failed: " + events.status().ToString());
        }
        return fail(events.status());
      }
      if (events->too_large != 0) {
        return fail(
                            Status::TooLarge("the event at position " +
                                             std::to_string(events->too_large) +
                                             " does not fit in one message (limits.max_message_bytes)"));
      }
      bool more = events->cut || (events->events.size() == limits.page_size &&
                                  (req.max_count == 0 || req.max_count > limits.page_size));
      auto r = out.initEvents();
      auto list = r.initEvents(events->events.size());
      for (size_t i = 0; i < events->events.size(); ++i) wire::ToWire(events->events[i], list[i]);
      r.setMore(more);
      return wire::Serialize(message);
    };

    switch (req.kind) {
      case protocol::ClientMessage::APPEND: {
        auto r = session->Append(req.stream, req.expected, std::move(req.events));
        if (!r.ok()) return fail(r.status());
        auto a = out.initAppended();
        a.setFirstPosition(r->first_position);
        a.setLastPosition(r->last_position);
        a.setFirstVersion(r->first_version);
        a.setLastVersion(r->last_version);
        a.setDuplicate(r->duplicate);
        server_->NoteAppended(r->last_position);
        return wire::Serialize(message);
      }
      case protocol::ClientMessage::READ_STREAM:
        return answer_events(session->ReadStreamPage(
            req.stream, req.from, req.backward ? Direction::kBackward : Direction::kForward, limit,
            req.purpose));
      case protocol::ClientMessage::READ_ALL:
        return answer_events(session->ReadAllPage(std::max<uint64_t>(req.from, 1), limit, req.purpose));
      case protocol::ClientMessage::READ_SUBJECT:
        return answer_events(
            session->ReadSubjectPage(req.subject, std::max<uint64_t>(req.from, 1), limit, req.purpose));
      case protocol::ClientMessage::READ_DOCUMENT: {
        // Through the reader every front end's document reads take: the
        // same scopes as reading the event (read_personal, its stream), the
        // body checked against its event's SHA-256, and the access log
        // written with the caller's purpose, only for a body that is sent.
        ScopedReader reader(*session, Reach::kScoped, req.purpose);
        // Room for the body beside the answer's other fields.
        const size_t room = budget > 512 ? budget - 512 : 0;
        auto doc = reader.ReadDocument(req.position, req.index, room);
        if (!doc.ok()) {
          if (doc.status().code() == Status::Code::kTooLarge) {
            return fail(Status::TooLarge(doc.status().message() + " (limits.max_message_bytes is " +
                                         std::to_string(limits.max_message_bytes) + ")"));
          }
          if (doc.status().code() == Status::Code::kCorruption ||
              doc.status().code() == Status::Code::kIOError) {
            Log("document read failed: " + doc.status().ToString());
          }
          return fail(doc.status());
        }
        auto d = out.initDocument();
        d.setPosition(req.position);
        d.setIndex(req.index);
        d.setSubject(doc->subject);
        d.setBytes(kj::arrayPtr(reinterpret_cast<const capnp::byte*>(doc->bytes.data()),
                                doc->bytes.size()));
        d.setSha256(domain::Sha256Hex(doc->bytes));
        return wire::Serialize(message);
      }
      case protocol::ClientMessage::BACKUP: {
        // A scope of its own: a backup holds everyone's records (encrypted).
        if (!session->scopes().backup) {
          Log("refused backup: outside the caller's scopes (scope backup)");
          return fail(Status::PermissionDenied("an online backup needs the scope backup"));
        }
        auto done = server_->OnlineBackup();
        if (!done.ok()) {
          Log("backup failed: " + done.status().ToString());
          return fail(done.status());
        }
        Log("backup " + done->name + " written, consistent at position " + std::to_string(done->position));
        auto b = out.initBackupResult();
        b.setPosition(done->position);
        b.setDirectory(done->name);
        return wire::Serialize(message);
      }
      case protocol::ClientMessage::QUERY: {
        if (server_->models() == nullptr) {
          return fail(Status::NotFound("no read model '" + req.model + "'"));
        }
        auto r = server_->models()->Query(*session, req.model, req.params);
        if (!r.ok()) return fail(r.status());
        if (r->size() > budget) {
          return fail(
                              Status::TooLarge("the answer of read model '" + req.model + "' (" +
                                               std::to_string(r->size()) +
                                               " bytes) exceeds limits.max_message_bytes"));
        }
        out.initQueryResult().setJson(*r);
        return wire::Serialize(message);
      }
      default:
        return fail(Status::InvalidArgument("not a store request"));
    }
  } catch (const std::exception& e) {
    Log(std::string("request failed: ") + e.what());
    return fail(Status::IOError(std::string("request failed: ") + e.what()));
  }
}

// ---------------------------------------------------------- subscriptions ----

void Connection::Subscribe(const wire::Request& req) {
  const uint64_t request_id = req.id;
  const Limits& limits = server_->config().limits;
  if (Status s = session_->CheckReadLog(); !s.ok()) {
    Finish(ErrorMessage(request_id, s));
    return;
  }
  if (subs_.count(request_id) != 0) {
    Finish(ErrorMessage(request_id, Status::InvalidArgument(
                                        "subscription " + std::to_string(request_id) +
                                        " is already open: use a new requestId")));
    return;
  }
  if (subs_.size() >= limits.max_subscriptions) {
    server_->CountBreach();
    Log("subscription refused: " + std::to_string(limits.max_subscriptions) +
        " open (limits.max_subscriptions)");
    Finish(ErrorMessage(request_id, Status::Busy("at most " + std::to_string(limits.max_subscriptions) +
                                                 " subscriptions per connection (limits.max_subscriptions)")));
    return;
  }
  auto sub = std::make_shared<Sub>();
  sub->id = request_id;
  sub->next = std::max<uint64_t>(req.from, 1);
  sub->credits = std::min<uint64_t>(req.credits, kMaxCredits);
  sub->purpose = req.purpose;
  sub->session = session_;
  subs_.emplace(request_id, sub);
  server_->SubOpened();

  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(request_id);
  auto r = out.initSubscribed();
  r.setSubscription(request_id);
  r.setLastPosition(server_->LastPosition());
  Finish(wire::Serialize(message));
  Pump(sub);
}

std::string Connection::Unsubscribe(uint64_t request_id, uint64_t sub_id) {
  auto it = subs_.find(sub_id);
  if (it == subs_.end()) {
    return ErrorMessage(request_id, Status::NotFound("no open subscription " + std::to_string(sub_id)));
  }
  server_->Buffered(-int64_t(it->second->unsent_events), 0, 0);
  it->second->unsent_events = 0;
  subs_.erase(it);
  server_->SubClosed();
  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(request_id);
  out.setUnsubscribed();
  return wire::Serialize(message);
}

void Connection::OnCredit(uint64_t sub_id, uint32_t events) {
  auto it = subs_.find(sub_id);
  if (it == subs_.end()) return;  // ended meanwhile: credits are never answered
  auto& sub = it->second;
  sub->credits = std::min<uint64_t>(sub->credits + events, kMaxCredits);
  Pump(sub);
}

void Connection::NotifyAppended() {
  auto self = shared_from_this();
  asio::post(executor(), [self] {
    self->waiting_for_log_ = false;
    self->PumpAll();
  });
}

void Connection::PumpAll() {
  // Pump may erase from subs_ (an ended subscription): iterate over a copy.
  std::vector<std::shared_ptr<Sub>> subs;
  for (auto& [id, sub] : subs_) subs.push_back(sub);
  for (auto& sub : subs) Pump(sub);
}

void Connection::Pump(const std::shared_ptr<Sub>& sub) {
  if (closing_ || sub->reading || subs_.count(sub->id) == 0) return;
  const Limits& limits = server_->config().limits;
  if (sub->credits == 0 || sub->unsent_events >= limits.subscription_buffer_events ||
      sub->unsent_bytes >= limits.subscription_buffer_bytes || OverBudget()) {
    return;  // resumed by a credit or a finished write
  }
  if (!server_->ReadyOrWait(sub->next, shared_from_this(), waiting_for_log_)) {
    waiting_for_log_ = true;
    return;  // resumed by NotifyAppended
  }
  uint64_t count = std::min<uint64_t>({sub->credits, limits.subscription_buffer_events - sub->unsent_events,
                                       limits.page_size});
  size_t byte_room = std::min<size_t>(limits.subscription_buffer_bytes - sub->unsent_bytes,
                                      limits.max_message_bytes > 4096 ? limits.max_message_bytes - 2048 : 2048);
  sub->reading = true;
  auto self = shared_from_this();
  // The worker gets copies: the strand changes the buffer counts meanwhile.
  uint64_t from = sub->next;
  bool buffer_empty = sub->unsent_bytes == 0;
  asio::post(server_->readers(), [self, sub, from, count, byte_room, buffer_empty] {
    std::vector<AccessRecord> due;
    const Session::PageLimit limit{count, byte_room,
                                   [](const RecordedEvent& e) { return wire::EncodedBytesBound(e); }, &due};
    auto page = sub->session->ReadAllPage(from, limit, sub->purpose);
    Status status;
    std::string bytes;
    uint64_t sent = 0, last = 0;
    bool wait_for_writes = false;
    if (!page.ok()) {
      status = page.status();
    } else if (page->too_large != 0) {
      // Nothing fits: when the buffer is empty this event can never be sent;
      // otherwise it is tried again once the buffer has been written.
      if (buffer_empty) {
        status = Status::TooLarge("the event at position " + std::to_string(page->too_large) +
                                  " does not fit in one message (limits.max_message_bytes)");
      } else {
        wait_for_writes = true;
      }
    } else if (!page->events.empty()) {
      std::vector<RecordedEvent>* events = &page->events;
      bool cut = page->cut;
      {
        capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
        auto out = message.initRoot<protocol::ServerMessage>();
        out.setRequestId(sub->id);
        auto r = out.initSubscriptionEvents();
        auto list = r.initEvents(events->size());
        for (size_t i = 0; i < events->size(); ++i) wire::ToWire((*events)[i], list[i]);
        r.setMore(cut);
        bytes = wire::Serialize(message);
        sent = events->size();
        last = events->back().position;
      }
    }
    // On the strand; `written` is the access log's answer for the batch's
    // records (a failure ends the subscription, and nothing of it is sent).
    auto deliver = [self, sub, status, bytes = std::move(bytes), sent, last,
                    wait_for_writes](const Status& written) mutable {
      if (!written.ok()) {
        status = written;
        bytes.clear();
        sent = 0;
      }
      sub->reading = false;
      if (self->closing_ || self->subs_.count(sub->id) == 0) return;  // unsubscribed meanwhile
      if (!status.ok()) {
        self->Log("subscription " + std::to_string(sub->id) + " ended: " + status.ToString());
        self->EndSub(sub->id, status);
        return;
      }
      if (sent > 0) {
        sub->credits -= std::min<uint64_t>(sent, sub->credits);
        sub->next = last + 1;
        sub->unsent_events += sent;
        sub->unsent_bytes += bytes.size();
        self->server_->Buffered(int64_t(sent), sub->unsent_events, sub->unsent_bytes);
        self->Send(Outgoing{std::move(bytes), sub->id, sent});
      }
      if (!wait_for_writes) self->Pump(sub);
    };
    if (!status.ok() || due.empty()) {
      asio::post(self->executor(), [deliver = std::move(deliver)]() mutable { deliver(Status::OK()); });
      return;
    }
    // The batch leaves once its access records are synced (as a read's).
    self->server_->access_committer().Submit(
        std::move(due), [self, deliver = std::move(deliver)](const Status& written) mutable {
          asio::post(self->executor(),
                     [deliver = std::move(deliver), written]() mutable { deliver(written); });
        });
  });
}

void Connection::EndSub(uint64_t sub_id, const Status& why) {
  auto it = subs_.find(sub_id);
  if (it == subs_.end()) return;
  server_->Buffered(-int64_t(it->second->unsent_events), 0, 0);
  subs_.erase(it);
  server_->SubClosed();
  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(sub_id);
  wire::ToWire(why, out.initSubscriptionEnded());
  Send(Outgoing{wire::Serialize(message), 0, 0});
}

// ---------------------------------------------------------------- writing ----

void Connection::Send(Outgoing out) {
  if (closed_) return;
  queued_bytes_ += out.bytes.size();
  server_->Queued(queued_bytes_);
  writes_.push_back(std::move(out));
  if (!writing_) WriteNext();
}

bool Connection::OverBudget() const {
  return queued_bytes_ >= server_->config().limits.max_queued_bytes;
}

// Messages are written a TLS record or so at a time, so that the write
// timer sees every bit of progress.
void Connection::WriteNext() {
  if (writes_.empty()) {
    writing_ = false;
    if (closing_ && !shutdown_started_) StartShutdown();
    return;
  }
  if (!writing_) last_write_progress_ = Clock::now();
  writing_ = true;
  ArmWriteTimer();
  auto self = shared_from_this();
  const std::string& bytes = writes_.front().bytes;
  stream_.async_write_some(asio::buffer(bytes.data() + write_offset_, bytes.size() - write_offset_),
                           [self](const error_code& ec, size_t n) { self->OnWritten(ec, n); });
}

// One timer per connection, armed while a write is in progress; when it
// fires it waits again for what is left of the timeout since the last
// progress.
void Connection::ArmWriteTimer() {
  if (write_timer_armed_ || closed_) return;
  write_timer_armed_ = true;
  auto self = shared_from_this();
  const auto timeout = std::chrono::milliseconds(server_->config().limits.write_timeout_ms);
  write_timer_.expires_at(last_write_progress_ + timeout);
  write_timer_.async_wait([self, timeout](const error_code& ec) {
    self->write_timer_armed_ = false;
    if (ec || self->closed_ || !self->writing_) return;
    if (Clock::now() < self->last_write_progress_ + timeout) {
      self->ArmWriteTimer();
      return;
    }
    self->server_->CountBreach();
    self->Log("a write made no progress for " +
              std::to_string(self->server_->config().limits.write_timeout_ms) + " ms with " +
              std::to_string(self->queued_bytes_) +
              " bytes waiting (limits.write_timeout_ms): closing");
    self->Abort("write timed out");
  });
}

void Connection::OnWritten(const error_code& ec, size_t n) {
  if (ec || closed_) {
    writing_ = false;
    writes_.clear();
    queued_bytes_ = 0;
    write_offset_ = 0;
    if (!closed_) {
      Log("write failed: " + ec.message());
      Abort("write failed");
    }
    return;
  }
  last_write_progress_ = Clock::now();
  write_offset_ += n;
  if (write_offset_ < writes_.front().bytes.size()) {
    WriteNext();
    return;
  }
  write_offset_ = 0;
  const bool was_over = OverBudget();
  Outgoing done = std::move(writes_.front());
  writes_.pop_front();
  queued_bytes_ -= done.bytes.size();
  if (done.sub_id != 0) {
    auto it = subs_.find(done.sub_id);
    if (it != subs_.end()) {
      auto& sub = it->second;
      sub->unsent_events -= std::min(sub->unsent_events, done.sub_events);
      sub->unsent_bytes -= std::min<uint64_t>(sub->unsent_bytes, done.bytes.size());
      server_->Buffered(-int64_t(done.sub_events), 0, 0);
      Pump(sub);
    }
  }
  WriteNext();
  if (was_over && !OverBudget()) {
    // The client reads again: resume what the budget held back.
    Dispatch();
    MaybeRead();
    PumpAll();
  }
}

// ---------------------------------------------------------------- closing ----

void Connection::Close(const Status& why) {
  if (closing_ || closed_) return;
  closing_ = true;
  handshake_timer_.cancel();
  idle_timer_.cancel();
  pending_.clear();
  unanswered_.clear();
  for (auto& [id, sub] : subs_) {
    server_->Buffered(-int64_t(sub->unsent_events), 0, 0);
    server_->SubClosed();
  }
  subs_.clear();
  if (!tls_up_) {
    Abort("closed before TLS was up");
    return;
  }
  // Goodbye, then TLS close_notify once the writes are out and no read is
  // pending (a pending read is cancelled).
  capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
  auto out = message.initRoot<protocol::ServerMessage>();
  out.setRequestId(0);
  wire::ToWire(why, out.initGoodbye());
  Send(Outgoing{wire::Serialize(message), 0, 0});
  auto self = shared_from_this();
  // However the peer behaves, the socket is closed within two seconds.
  shutdown_timer_.expires_after(std::chrono::seconds(2));
  shutdown_timer_.async_wait([self](const error_code& ec) {
    if (!ec) self->Abort("close timed out");
  });
}

void Connection::StartShutdown() {
  if (shutdown_started_ || closed_) return;
  if (read_in_flight_) {
    // The read completes with operation_aborted and calls back here.
    error_code ignored;
    stream_.lowest_layer().cancel(ignored);
    return;
  }
  shutdown_started_ = true;
  auto self = shared_from_this();
  stream_.async_shutdown([self](const error_code&) { self->Linger(); });
}

// After close_notify: stop sending, and read and discard whatever the peer
// still sends until it closes (or a second passes). Closing with unread
// bytes would make the kernel send a reset, and a reset can destroy the
// goodbye before the peer has read it (a client still sending a refused
// message would see "connection reset" instead of the reason).
void Connection::Linger() {
  if (closed_) return;
  error_code ignored;
  stream_.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
  auto self = shared_from_this();
  shutdown_timer_.expires_after(std::chrono::seconds(1));
  shutdown_timer_.async_wait([self](const error_code& ec) {
    if (!ec) self->Abort("closed (the peer kept sending)");
  });
  Discard();
}

void Connection::Discard() {
  auto self = shared_from_this();
  stream_.next_layer().async_read_some(asio::buffer(discard_), [self](const error_code& ec, size_t) {
    if (ec || self->closed_) {
      self->Abort("closed");
      return;
    }
    self->Discard();
  });
}

void Connection::Abort(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  closing_ = true;
  error_code ignored;
  handshake_timer_.cancel();
  idle_timer_.cancel();
  shutdown_timer_.cancel();
  write_timer_.cancel();
  stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.lowest_layer().close(ignored);
  pending_.clear();
  unanswered_.clear();
  // The message being written stays until its write completes (with an
  // error now): the socket still reads from its bytes.
  if (writing_) {
    writes_.erase(writes_.begin() + 1, writes_.end());
    queued_bytes_ = writes_.front().bytes.size() - write_offset_;
  } else {
    writes_.clear();
    queued_bytes_ = 0;
  }
  for (auto& [id, sub] : subs_) {
    server_->Buffered(-int64_t(sub->unsent_events), 0, 0);
    server_->SubClosed();
  }
  subs_.clear();
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(Store* store, const ReadModels* models,
                                              ServerConfig config, LogFn log) {
  if (store == nullptr) return Status::InvalidArgument("the server needs a store");
  if (config.ca_file.empty() || config.cert_file.empty() || config.key_file.empty()) {
    return Status::InvalidArgument("tls.ca, tls.cert and tls.key are required");
  }
  if (config.threads == 0 || config.workers == 0 || config.readers == 0) {
    return Status::InvalidArgument("threads, workers and readers must be at least 1");
  }
  auto server = std::make_unique<ServerImpl>(store, models, std::move(config), std::move(log));
  if (Status s = server->Init(); !s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace hearth::server
