// The C++ client SDK (client.h) over Boost.Asio and OpenSSL.
//
// All socket work runs on one strand of the context's I/O threads: a read
// loop that hands each answer to the caller waiting for its requestId and
// each push to its subscription, and a write queue. Callers block on their
// own answer; subscription callbacks run on each subscription's own thread.
#include "client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "hearth/domain.h"
#include "wire.h"

namespace hearth::sdk {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct ClientContext::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::vector<std::thread> threads;
  // The connections made on this context, to close when it goes: each
  // connection's handlers hold it, and a handler left queued in a stopped
  // io_context would outlive the services its socket and timers use.
  std::mutex mu;
  std::vector<std::pair<std::weak_ptr<void>, std::function<void()>>> connections;

  void Track(std::weak_ptr<void> alive, std::function<void()> abort) {
    std::lock_guard<std::mutex> lock(mu);
    std::erase_if(connections, [](const auto& c) { return c.first.expired(); });
    connections.emplace_back(std::move(alive), std::move(abort));
  }
};

ClientContext::ClientContext(int threads) : impl_(std::make_unique<Impl>()) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->io.run(); });
  }
}

ClientContext::~ClientContext() {
  // Close every connection still open, then let the I/O threads run out of
  // work (the closes finish within a second: the TLS shutdown is bounded by a
  // timer), so no handler outlives the io_context's services.
  std::vector<std::function<void()>> aborts;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& [alive, abort] : impl_->connections) {
      if (!alive.expired()) aborts.push_back(abort);
    }
    impl_->connections.clear();
  }
  for (auto& abort : aborts) abort();
  impl_->guard.reset();
  for (auto& t : impl_->threads) t.join();
}

namespace {

using FramePtr = std::shared_ptr<wire::Frame>;

// One caller waiting for the answer to its request.
struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  FramePtr frame;
  Status status;

  void Complete(FramePtr f, Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (done) return;
    done = true;
    frame = std::move(f);
    status = std::move(s);
    cv.notify_all();
  }
};

ServerLimits LimitsFromWire(protocol::Limits::Reader l) {
  ServerLimits out;
  out.max_message_bytes = l.getMaxMessageBytes();
  out.requests_per_second = l.getRequestsPerSecond();
  out.burst = l.getBurst();
  out.idle_timeout_ms = l.getIdleTimeoutMs();
  out.page_size = l.getPageSize();
  out.subscription_buffer_events = l.getSubscriptionBufferEvents();
  out.max_subscriptions = l.getMaxSubscriptions();
  return out;
}

class Core;

// The state of one subscription, shared by its handle, its thread and the
// connection's read loop.
class SubState : public std::enable_shared_from_this<SubState> {
 public:
  SubState(uint64_t id, uint32_t window, EventCallback on_event, EndCallback on_end)
      : id_(id), window_(window), on_event_(std::move(on_event)), on_end_(std::move(on_end)) {}

  void Start(std::weak_ptr<Core> core) {
    core_ = std::move(core);
    thread_ = std::thread([self = shared_from_this()] { self->Run(); });
  }
  // From the read loop: a batch of events.
  void Push(FramePtr frame) {
    std::lock_guard<std::mutex> lock(mu_);
    frames_.push_back(std::move(frame));
    cv_.notify_all();
  }
  // The subscription is over (after the frames already pushed).
  void End(const Status& why) {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
    ended_ = true;
    end_status_ = why;
    cv_.notify_all();
  }
  // Stops delivery now (frames not yet delivered are dropped).
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      if (!ended_) {
        ended_ = true;
        end_status_ = Status::OK();
      }
      cv_.notify_all();
    }
    Join();
  }
  void Join() {
    std::lock_guard<std::mutex> lock(join_mu_);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }
  bool ended() {
    std::lock_guard<std::mutex> lock(mu_);
    return ended_;
  }
  uint64_t id() const { return id_; }
  uint64_t last_position() const { return last_.load(); }
  bool on_own_thread() const { return thread_.get_id() == std::this_thread::get_id(); }

 private:
  void Run();

  const uint64_t id_;
  const uint32_t window_;
  EventCallback on_event_;
  EndCallback on_end_;
  std::weak_ptr<Core> core_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FramePtr> frames_;
  bool ended_ = false;
  bool stop_ = false;
  Status end_status_;
  std::atomic<uint64_t> last_{0};
  std::mutex join_mu_;
  std::thread thread_;
};

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(asio::io_context& io, const ClientOptions& options)
      : options_(options),
        ssl_(ssl::context::tls_client),
        strand_(asio::make_strand(io)) {}

  Status InitTls() {
    SSL_CTX* ctx = ssl_.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    error_code ec;
    ssl_.load_verify_file(options_.ca_file, ec);
    if (ec) return Status::InvalidArgument("CA file " + options_.ca_file + ": " + ec.message());
    ssl_.use_certificate_chain_file(options_.cert_file, ec);
    if (ec) return Status::InvalidArgument("certificate " + options_.cert_file + ": " + ec.message());
    ssl_.use_private_key_file(options_.key_file, ssl::context::pem, ec);
    if (ec) return Status::InvalidArgument("key " + options_.key_file + ": " + ec.message());
    ssl_.set_verify_mode(ssl::verify_peer);
    // The stream copies the context's certificate and settings when made.
    stream_ = std::make_unique<ssl::stream<tcp::socket>>(tcp::socket(strand_), ssl_);
    std::string name = options_.server_name.empty() ? options_.host : options_.server_name;
    stream_->set_verify_callback(ssl::host_name_verification(name));
    error_code ip_ec;
    asio::ip::make_address(name, ip_ec);
    if (ip_ec) SSL_set_tlsext_host_name(stream_->native_handle(), name.c_str());  // SNI: names only
    return Status::OK();
  }

  // TCP connect and TLS handshake, within the connect timeout.
  Status Open() {
    tcp::resolver resolver(strand_);
    error_code ec;
    auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec) return Status::IOError("cannot resolve " + options_.host + ": " + ec.message());
    auto done = std::make_shared<std::promise<error_code>>();
    auto future = done->get_future();
    auto self = shared_from_this();
    asio::post(strand_, [self, endpoints, done] {
      asio::async_connect(self->stream_->lowest_layer(), endpoints,
                          [self, done](const error_code& ec, const tcp::endpoint&) {
                            if (ec) {
                              done->set_value(ec);
                              return;
                            }
                            error_code ignored;
                            self->stream_->lowest_layer().set_option(tcp::no_delay(true), ignored);
                            self->stream_->async_handshake(
                                ssl::stream_base::client,
                                [done](const error_code& ec) { done->set_value(ec); });
                          });
    });
    if (future.wait_for(std::chrono::milliseconds(options_.connect_timeout_ms)) !=
        std::future_status::ready) {
      Abort(Status::Busy("connect timed out"));
      future.wait();
      return Status::Busy("connecting to " + options_.host + ":" + std::to_string(options_.port) +
                          " timed out after " + std::to_string(options_.connect_timeout_ms) + " ms");
    }
    ec = future.get();
    if (ec) {
      Abort(Status::IOError(ec.message()));
      return Status::IOError("connecting to " + options_.host + ":" + std::to_string(options_.port) +
                             " failed: " + ec.message());
    }
    asio::post(strand_, [self] { self->ReadHeader(); });
    return Status::OK();
  }

  // Sends a request built by `build` (given the root with its requestId set)
  // and waits for its answer. An `error` answer becomes its Status.
  // Sends a request built by `build` (given the root with its requestId set)
  // and waits for its answer. An `error` answer becomes its Status.
  template <typename Build>
  Result<FramePtr> Call(Build&& build) {
    return CallWithId(next_id_++, std::forward<Build>(build));
  }

  // A message that is never answered (credit).
  void Send(std::string bytes) {
    auto self = shared_from_this();
    asio::post(strand_, [self, bytes = std::move(bytes)]() mutable {
      if (self->socket_closed_) return;
      self->writes_.push_back(std::move(bytes));
      if (!self->writing_) self->WriteNext();
    });
  }

  void SendCredit(uint64_t sub, uint32_t events) {
    capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
    auto root = message.initRoot<protocol::ClientMessage>();
    root.setRequestId(0);
    auto c = root.initCredit();
    c.setSubscription(sub);
    c.setEvents(events);
    Send(wire::Serialize(message));
  }

  // Registers a subscription before its subscribe request goes out, so no
  // push can arrive before it is known.
  Status AddSub(const std::shared_ptr<SubState>& sub) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return closed_status_;
    subs_.emplace(sub->id(), sub);
    return Status::OK();
  }
  void RemoveSub(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    subs_.erase(id);
  }
  uint64_t NextId() { return next_id_++; }

  template <typename Build>
  Result<FramePtr> CallWithId(uint64_t id, Build&& build) {
    auto waiter = std::make_shared<Waiter>();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return closed_status_;
      pending_.emplace(id, waiter);
    }
    capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
    auto root = message.initRoot<protocol::ClientMessage>();
    root.setRequestId(id);
    build(root, id);
    Send(wire::Serialize(message));
    std::unique_lock<std::mutex> lock(waiter->mu);
    if (!waiter->cv.wait_for(lock, std::chrono::milliseconds(options_.request_timeout_ms),
                             [&] { return waiter->done; })) {
      lock.unlock();
      std::lock_guard<std::mutex> g(mu_);
      pending_.erase(id);
      return Status::Busy("no answer to request " + std::to_string(id) + " within " +
                          std::to_string(options_.request_timeout_ms) + " ms");
    }
    if (!waiter->status.ok()) return waiter->status;
    auto msg = waiter->frame->Root<protocol::ServerMessage>();
    if (msg.which() == protocol::ServerMessage::ERROR) return wire::FromWire(msg.getError());
    return waiter->frame;
  }

  bool connected() {
    std::lock_guard<std::mutex> lock(mu_);
    return !closed_;
  }
  Status goodbye() {
    std::lock_guard<std::mutex> lock(mu_);
    return goodbye_;
  }

  // Closes with TLS close_notify, then the socket.
  void Close() {
    auto self = shared_from_this();
    Fail(Status::IOError("the client closed the connection"));
    asio::post(strand_, [self] {
      if (self->socket_closed_ || self->shutting_down_) return;
      self->shutting_down_ = true;
      auto timer = std::make_shared<asio::steady_timer>(self->strand_);
      timer->expires_after(std::chrono::seconds(1));
      timer->async_wait([self, timer](const error_code& ec) {
        if (!ec) self->CloseSocket();
      });
      self->stream_->async_shutdown([self, timer](const error_code&) {
        timer->cancel();
        self->CloseSocket();
      });
    });
  }

  void Abort(const Status& why) {
    Fail(why);
    auto self = shared_from_this();
    asio::post(strand_, [self] { self->CloseSocket(); });
  }

  const ClientOptions& options() const { return options_; }

 private:
  void CloseSocket() {
    if (socket_closed_) return;
    socket_closed_ = true;
    error_code ignored;
    stream_->lowest_layer().close(ignored);
    // A write in flight still reads from the front message.
    if (writing_) {
      writes_.erase(writes_.begin() + 1, writes_.end());
    } else {
      writes_.clear();
    }
  }

  // Every waiting call and subscription ends with `why`.
  void Fail(const Status& why) {
    std::map<uint64_t, std::shared_ptr<Waiter>> pending;
    std::map<uint64_t, std::shared_ptr<SubState>> subs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!closed_) {
        closed_ = true;
        closed_status_ = goodbye_.ok() ? why : goodbye_;
      }
      pending.swap(pending_);
      subs.swap(subs_);
    }
    for (auto& [id, w] : pending) w->Complete(nullptr, closed_status_);
    for (auto& [id, s] : subs) s->End(closed_status_);
  }

  void ReadHeader() {
    auto self = shared_from_this();
    asio::async_read(*stream_, asio::buffer(header_), [self](const error_code& ec, size_t) {
      if (ec) return self->OnReadError(ec);
      auto table = wire::TableBytes(self->header_.data());
      if (!table.ok()) return self->Abort(table.status());
      self->table_.assign(*table, 0);
      std::memcpy(self->table_.data(), self->header_.data(), self->header_.size());
      size_t rest = *table - self->header_.size();
      asio::async_read(*self->stream_, asio::buffer(self->table_.data() + self->header_.size(), rest),
                       [self, n = *table](const error_code& ec, size_t) {
                         if (ec) return self->OnReadError(ec);
                         self->ReadBody(n);
                       });
    });
  }

  void ReadBody(size_t table_bytes) {
    auto body = wire::BodyBytes(table_.data(), table_bytes, options_.max_message_bytes);
    if (!body.ok()) return Abort(body.status());
    words_ = kj::heapArray<capnp::word>((table_bytes + *body) / sizeof(capnp::word));
    std::memcpy(words_.begin(), table_.data(), table_bytes);
    auto self = shared_from_this();
    asio::async_read(*stream_,
                     asio::buffer(reinterpret_cast<uint8_t*>(words_.begin()) + table_bytes, *body),
                     [self](const error_code& ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       auto frame = wire::Frame::Parse(kj::mv(self->words_));
                       if (!frame.ok()) return self->Abort(frame.status());
                       self->OnMessage(FramePtr(std::move(frame.value())));
                       self->ReadHeader();
                     });
  }

  void OnReadError(const error_code& ec) {
    Status why = Status::IOError("connection lost: " + ec.message());
    Fail(why);
    CloseSocket();
  }

  void OnMessage(FramePtr frame) {
    try {
      auto msg = frame->Root<protocol::ServerMessage>();
      uint64_t id = msg.getRequestId();
      switch (msg.which()) {
        case protocol::ServerMessage::SUBSCRIPTION_EVENTS: {
          std::shared_ptr<SubState> sub = FindSub(id);
          if (sub) sub->Push(std::move(frame));
          return;
        }
        case protocol::ServerMessage::SUBSCRIPTION_ENDED: {
          Status why = wire::FromWire(msg.getSubscriptionEnded());
          std::shared_ptr<SubState> sub;
          {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = subs_.find(id);
            if (it != subs_.end()) {
              sub = it->second;
              subs_.erase(it);
            }
          }
          if (sub) sub->End(why);
          return;
        }
        case protocol::ServerMessage::GOODBYE: {
          Status why = wire::FromWire(msg.getGoodbye());
          {
            std::lock_guard<std::mutex> lock(mu_);
            goodbye_ = why.ok() ? Status::IOError("the server closed the connection") : why;
          }
          Fail(why);
          return;
        }
        default: {
          std::shared_ptr<Waiter> waiter;
          {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = pending_.find(id);
            if (it == pending_.end()) return;  // timed out meanwhile
            waiter = it->second;
            pending_.erase(it);
          }
          waiter->Complete(std::move(frame), Status::OK());
          return;
        }
      }
    } catch (const kj::Exception& e) {
      Abort(Status::InvalidArgument(std::string("malformed message from the server: ") +
                                    e.getDescription().cStr()));
    }
  }

  std::shared_ptr<SubState> FindSub(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = subs_.find(id);
    return it == subs_.end() ? nullptr : it->second;
  }

  void WriteNext() {
    if (writes_.empty() || socket_closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    auto self = shared_from_this();
    asio::async_write(*stream_, asio::buffer(writes_.front()), [self](const error_code& ec, size_t) {
      self->writing_ = false;
      if (ec || self->socket_closed_) {
        self->writes_.clear();
        if (ec) self->OnReadError(ec);
        return;
      }
      self->writes_.pop_front();
      self->WriteNext();
    });
  }

  ClientOptions options_;
  ssl::context ssl_;
  asio::strand<asio::io_context::executor_type> strand_;
  std::unique_ptr<ssl::stream<tcp::socket>> stream_;  // made by InitTls
  std::atomic<uint64_t> next_id_{1};

  // Guarded by mu_: shared with calling threads.
  std::mutex mu_;
  bool closed_ = false;
  Status closed_status_;
  Status goodbye_;
  std::map<uint64_t, std::shared_ptr<Waiter>> pending_;
  std::map<uint64_t, std::shared_ptr<SubState>> subs_;

  // On the strand only.
  std::array<uint8_t, 8> header_{};
  std::vector<uint8_t> table_;
  kj::Array<capnp::word> words_;
  std::deque<std::string> writes_;
  bool writing_ = false;
  bool socket_closed_ = false;
  bool shutting_down_ = false;
};

void SubState::Run() {
  uint32_t consumed = 0;
  const uint32_t grant_at = std::max<uint32_t>(1, window_ / 2);
  Status end;
  bool by_callback = false;
  for (;;) {
    FramePtr frame;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !frames_.empty() || ended_; });
      if (stop_) break;
      if (frames_.empty()) {  // ended, everything delivered
        end = end_status_;
        break;
      }
      frame = std::move(frames_.front());
      frames_.pop_front();
    }
    bool go_on = true;
    try {
      auto events = frame->Root<protocol::ServerMessage>().getSubscriptionEvents().getEvents();
      for (auto e : events) {
        RecordedEvent event;
        if (Status s = wire::FromWire(e, &event); !s.ok()) {
          end = s;
          go_on = false;
          break;
        }
        ++consumed;
        last_ = event.position;
        if (!on_event_(event)) {
          go_on = false;
          by_callback = true;
          break;
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) {
            go_on = false;
            break;
          }
        }
      }
    } catch (const kj::Exception& e) {
      end = Status::InvalidArgument(std::string("malformed push: ") + e.getDescription().cStr());
      go_on = false;
    }
    if (!go_on) break;
    if (consumed >= grant_at) {
      if (auto core = core_.lock()) core->SendCredit(id_, consumed);
      consumed = 0;
    }
  }
  if (by_callback || !end.ok()) {
    // Tell the server; its answer is not awaited on this thread.
    if (auto core = core_.lock()) {
      capnp::MallocMessageBuilder message(wire::kFirstSegmentWords);
      auto root = message.initRoot<protocol::ClientMessage>();
      root.setRequestId(core->NextId());
      root.initUnsubscribe().setSubscription(id_);
      core->RemoveSub(id_);
      core->Send(wire::Serialize(message));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
  }
  if (on_end_) on_end_(end);
}

class SubscriptionHandle final : public ClientSubscription {
 public:
  SubscriptionHandle(std::shared_ptr<Core> core, std::shared_ptr<SubState> sub)
      : core_(std::move(core)), sub_(std::move(sub)) {}
  ~SubscriptionHandle() override { Unsubscribe(); }

  Status Unsubscribe() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return Status::OK();
    done_ = true;
    Status result;
    if (!sub_->ended() && core_->connected()) {
      // After `unsubscribed` the server sends no more pushes for it.
      auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
        root.initUnsubscribe().setSubscription(sub_->id());
      });
      if (!r.ok() && !r.status().IsNotFound()) result = r.status();
    }
    core_->RemoveSub(sub_->id());
    if (sub_->on_own_thread()) {
      sub_->End(Status::OK());
    } else {
      sub_->Stop();
    }
    return result;
  }
  uint64_t id() const override { return sub_->id(); }
  uint64_t last_position() const override { return sub_->last_position(); }

 private:
  std::shared_ptr<Core> core_;
  std::shared_ptr<SubState> sub_;
  std::mutex mu_;
  bool done_ = false;
};

Scopes ScopesOf(protocol::Scopes::Reader r) {
  Scopes s;
  (void)wire::FromWire(r, &s);
  return s;
}

class ClientImpl final : public Client {
 public:
  ClientImpl(std::unique_ptr<ClientContext> own, std::shared_ptr<Core> core)
      : own_(std::move(own)), core_(std::move(core)) {}
  ~ClientImpl() override {
    core_->Close();
    // Let the close_notify go out before an owned context stops.
    for (int i = 0; i < 100 && own_ && core_.use_count() > 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    core_.reset();
    own_.reset();
  }

  Status SayHello(const std::string& user, const std::string& role) {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto h = root.initHello();
      h.setProtocolVersion(protocol::PROTOCOL_VERSION);
      h.setUser(user);
      h.setRole(role);
      h.setClient(core_->options().client_name);
    });
    if (!r.ok()) return r.status();
    auto h = (*r)->Root<protocol::ServerMessage>().getHelloResult();
    HelloInfo info;
    info.protocol_version = h.getProtocolVersion();
    info.server_version = wire::ToString(h.getServerVersion());
    info.plugin = wire::ToString(h.getPlugin());
    info.user = wire::ToString(h.getUser());
    info.role = wire::ToString(h.getRole());
    info.scopes = ScopesOf(h.getScopes());
    info.limits = LimitsFromWire(h.getLimits());
    std::lock_guard<std::mutex> lock(mu_);
    hello_ = std::move(info);
    return Status::OK();
  }

  HelloInfo hello() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return hello_;
  }

  Result<HelloInfo> Hello(const std::string& user, const std::string& role) override {
    if (Status s = SayHello(user, role); !s.ok()) return s;
    return hello();
  }

  Result<AppendResult> Append(const std::string& stream, ExpectedVersion expected,
                              const std::vector<NewEvent>& events) override {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto a = root.initAppend();
      a.setStream(stream);
      wire::ToWire(expected, a.initExpected());
      auto list = a.initEvents(events.size());
      for (size_t i = 0; i < events.size(); ++i) wire::ToWire(events[i], list[i]);
    });
    if (!r.ok()) return r.status();
    auto a = (*r)->Root<protocol::ServerMessage>().getAppended();
    AppendResult out;
    out.first_position = a.getFirstPosition();
    out.last_position = a.getLastPosition();
    out.first_version = a.getFirstVersion();
    out.last_version = a.getLastVersion();
    out.duplicate = a.getDuplicate();
    return out;
  }

  Result<Page> ReadStream(const std::string& stream, uint64_t from, Direction direction,
                          uint32_t max_count, const std::string& purpose) override {
    return PageOf(core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto r = root.initReadStream();
      r.setStream(stream);
      r.setFrom(from);
      r.setBackward(direction == Direction::kBackward);
      r.setMaxCount(max_count);
      r.setPurpose(purpose);
    }));
  }

  Result<Page> ReadAll(uint64_t from, uint32_t max_count, const std::string& purpose) override {
    return PageOf(core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto r = root.initReadAll();
      r.setFrom(from);
      r.setMaxCount(max_count);
      r.setPurpose(purpose);
    }));
  }

  Result<Page> ReadSubject(const std::string& subject, uint64_t from, uint32_t max_count,
                           const std::string& purpose) override {
    return PageOf(core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto r = root.initReadSubject();
      r.setSubject(subject);
      r.setFrom(from);
      r.setMaxCount(max_count);
      r.setPurpose(purpose);
    }));
  }

  Result<std::string> Query(const std::string& model, const std::string& params_json) override {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto q = root.initQuery();
      q.setModel(model);
      q.setParams(params_json);
    });
    if (!r.ok()) return r.status();
    return wire::ToString((*r)->Root<protocol::ServerMessage>().getQueryResult().getJson());
  }

  Result<Document> ReadDocument(uint64_t position, uint32_t index,
                                const std::string& purpose) override {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) {
      auto d = root.initReadDocument();
      d.setPosition(position);
      d.setIndex(index);
      d.setPurpose(purpose);
    });
    if (!r.ok()) return r.status();
    auto msg = (*r)->Root<protocol::ServerMessage>();
    if (msg.which() != protocol::ServerMessage::DOCUMENT) {
      return Status::InvalidArgument("the server answered readDocument with union member " +
                                     std::to_string(static_cast<uint16_t>(msg.which())));
    }
    auto d = msg.getDocument();
    Document out;
    out.position = d.getPosition();
    out.index = d.getIndex();
    out.subject = wire::ToString(d.getSubject());
    out.bytes = wire::ToString(d.getBytes());
    out.sha256 = wire::ToString(d.getSha256());
    // The server checked the body against its event; this checks the transfer.
    std::string actual = domain::Sha256Hex(out.bytes);
    if (actual != out.sha256) {
      return Status::Corruption("document " + std::to_string(index) + " of position " +
                                std::to_string(position) + ": the server sent SHA-256 " +
                                out.sha256 + ", the bytes received have " + actual);
    }
    return out;
  }

  Result<BackupResult> Backup() override {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) { root.setBackup(); });
    if (!r.ok()) return r.status();
    auto b = (*r)->Root<protocol::ServerMessage>().getBackupResult();
    return BackupResult{b.getPosition(), wire::ToString(b.getDirectory())};
  }

  Result<ServerInfo> Info() override {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) { root.setServerInfo(); });
    if (!r.ok()) return r.status();
    auto i = (*r)->Root<protocol::ServerMessage>().getServerInfo();
    ServerInfo out;
    out.protocol_version = i.getProtocolVersion();
    out.server_version = wire::ToString(i.getServerVersion());
    out.format_version = i.getFormatVersion();
    out.plugin = wire::ToString(i.getPlugin());
    out.user = wire::ToString(i.getUser());
    out.role = wire::ToString(i.getRole());
    out.scopes = ScopesOf(i.getScopes());
    out.limits = LimitsFromWire(i.getLimits());
    for (auto m : i.getReadModels()) out.read_models.push_back(wire::ToString(m));
    return out;
  }

  Status Ping() override {
    auto r = core_->Call([&](protocol::ClientMessage::Builder root, uint64_t) { root.setPing(); });
    return r.ok() ? Status::OK() : r.status();
  }

  Result<std::unique_ptr<ClientSubscription>> Subscribe(uint64_t from, const std::string& purpose,
                                                        EventCallback on_event, EndCallback on_end,
                                                        uint32_t window) override {
    if (!on_event) return Status::InvalidArgument("a subscription needs an event callback");
    if (window == 0 || window > 1000000) {
      return Status::InvalidArgument("window must be 1 to 1,000,000 events");
    }
    uint64_t id = core_->NextId();
    auto sub = std::make_shared<SubState>(id, window, std::move(on_event), std::move(on_end));
    if (Status s = core_->AddSub(sub); !s.ok()) return s;
    sub->Start(core_);
    auto r = core_->CallWithId(id, [&](protocol::ClientMessage::Builder root, uint64_t) {
      auto s = root.initSubscribe();
      s.setFrom(from);
      s.setCredits(window);
      s.setPurpose(purpose);
    });
    if (!r.ok()) {
      core_->RemoveSub(id);
      sub->End(r.status());
      sub->Join();
      return r.status();
    }
    return std::unique_ptr<ClientSubscription>(new SubscriptionHandle(core_, sub));
  }

  bool connected() const override { return core_->connected(); }
  Status goodbye() const override { return core_->goodbye(); }
  void Close() override { core_->Close(); }

 private:
  static Result<Page> PageOf(Result<FramePtr> r) {
    if (!r.ok()) return r.status();
    auto e = (*r)->Root<protocol::ServerMessage>().getEvents();
    Page page;
    page.more = e.getMore();
    // The list is taken once: each getEvents() counts the whole list against
    // the frame's traversal limit (4 x its words), so one per event would
    // refuse a page of a few large events.
    auto list = e.getEvents();
    page.events.resize(list.size());
    for (size_t i = 0; i < page.events.size(); ++i) {
      if (Status s = wire::FromWire(list[i], &page.events[i]); !s.ok()) return s;
    }
    return page;
  }

  std::unique_ptr<ClientContext> own_;
  std::shared_ptr<Core> core_;
  mutable std::mutex mu_;
  HelloInfo hello_;
};

}  // namespace

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options, ClientContext* context) {
  if (options.ca_file.empty() || options.cert_file.empty() || options.key_file.empty()) {
    return Status::InvalidArgument("ca_file, cert_file and key_file are required");
  }
  if (options.user.empty() || options.role.empty()) {
    return Status::InvalidArgument("user and role are required (hello)");
  }
  std::unique_ptr<ClientContext> own;
  if (context == nullptr) {
    own = std::make_unique<ClientContext>(1);
    context = own.get();
  }
  auto core = std::make_shared<Core>(context->impl()->io, options);
  context->impl()->Track(core, [weak = std::weak_ptr<Core>(core)] {
    if (auto c = weak.lock()) c->Abort(Status::IOError("the client context was closed"));
  });
  if (Status s = core->InitTls(); !s.ok()) return s;
  if (Status s = core->Open(); !s.ok()) return s;
  // The client takes the only reference: a Core must never outlive the
  // context whose io_context its socket and timers belong to.
  auto client = std::make_unique<ClientImpl>(std::move(own), std::move(core));
  if (Status s = client->SayHello(options.user, options.role); !s.ok()) {
    // A refused certificate shows as the connection closing right after the
    // handshake (TLS 1.3 verifies the client after the server's Finished).
    return s;
  }
  return std::unique_ptr<Client>(std::move(client));
}

}  // namespace hearth::sdk
