// The console's HTTPS listener (console.h): Boost.Beast over OpenSSL.
//
// Threads: `console.threads` threads run the sockets and, since the console
// is used by a handful of people at once, the store calls of their requests
// too. One request at a time per connection (HTTP/1.1 keep-alive); a
// connection idle for longer than the session's idle time is closed.
#include <utility>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <atomic>
#include <iostream>
#include <thread>

#include "console.h"
#include "tls_names.h"

namespace hearth::console {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

using server::CommonName;
using server::OpenSslError;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ssl::context& ctx, ConsoleApp* app)
      : stream_(std::move(socket), ctx), app_(app) {
    error_code ec;
    auto ep = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string();
  }

  void Start() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](const error_code& ec) {
                              if (ec) return;
                              X509* peer = SSL_get1_peer_certificate(self->stream_.native_handle());
                              if (peer != nullptr) {
                                self->client_cn_ = CommonName(peer);
                                X509_free(peer);
                              }
                              self->Read();
                            });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(app_->config().max_body_bytes);
    beast::get_lowest_layer(stream_).expires_after(
        std::chrono::milliseconds(app_->config().session_idle_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(const error_code& ec) {
    if (ec == http::error::body_limit) {
      // The body is not read: answer and close.
      HttpRequest req;
      req.method = "POST";
      req.target = "/";
      req.peer = peer_;
      req.body.assign(app_->config().max_body_bytes + 1, ' ');
      draining_ = true;
      Write(app_->Handle(req), false);
      return;
    }
    if (ec) {
      Close();
      return;
    }
    auto msg = parser_->release();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    req.peer = peer_;
    req.client_cn = client_cn_;
    bool keep_alive = msg.keep_alive();
    Write(app_->Handle(req), keep_alive);
  }

  void Write(const HttpResponse& r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(http::int_to_status(unsigned(r.status)) == http::status::unknown
                    ? http::status::internal_server_error
                    : http::int_to_status(unsigned(r.status)));
    res->set(http::field::server, "hearth");
    for (const auto& [k, v] : r.headers) res->insert(k, v);
    res->body() = r.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep_alive](const error_code& ec, size_t) {
                        if (!ec && self->draining_) {
                          self->Drain(0);
                          return;
                        }
                        if (ec || !keep_alive) {
                          self->Close();
                          return;
                        }
                        self->Read();
                      });
  }

  // After refusing an oversized body: read (and drop) what the client is
  // still sending, up to kMaxDrain bytes or a few seconds, so that it reads
  // the answer instead of a reset connection.
  static constexpr size_t kMaxDrain = 8u << 20;
  void Drain(size_t drained) {
    if (drained > kMaxDrain) {
      Close();
      return;
    }
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
    stream_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this(), drained](const error_code& ec, size_t n) {
                              if (ec) {
                                self->Close();
                                return;
                              }
                              self->Drain(drained + n);
                            });
  }

  void Close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(3));
    stream_.async_shutdown([self = shared_from_this()](const error_code&) {
      error_code ec;
      beast::get_lowest_layer(self->stream_).socket().close(ec);
    });
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ConsoleApp* app_;
  std::string peer_;
  std::string client_cn_;
  bool draining_ = false;
  std::array<char, 16384> scratch_{};
};

class ConsoleServerImpl final : public ConsoleServer {
 public:
  ConsoleServerImpl(ConsoleContext context, const server::ServerConfig& config)
      : config_(config),
        app_(std::move(context), config.console),
        ssl_(ssl::context::tls_server),
        acceptor_(io_) {}

  ~ConsoleServerImpl() override { Stop(); }

  Status Init() {
    SSL_CTX* ctx = ssl_.native_handle();
    // Browsers speak TLS 1.3; 1.2 is kept for older managed desktops.
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
      return Status::InvalidArgument("TLS 1.2 is not available: " + OpenSslError());
    }
    ssl_.set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                     ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                     ssl::context::no_tlsv1_1);
    if (SSL_CTX_use_certificate_chain_file(ctx, config_.cert_file.c_str()) != 1) {
      return Status::InvalidArgument("server certificate " + config_.cert_file + ": " + OpenSslError());
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, config_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Status::InvalidArgument("server key " + config_.key_file + ": " + OpenSslError());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return Status::InvalidArgument("server key does not match its certificate: " + OpenSslError());
    }
    if (config_.console.client_certificate) {
      if (SSL_CTX_load_verify_locations(ctx, config_.ca_file.c_str(), nullptr) != 1) {
        return Status::InvalidArgument("CA " + config_.ca_file + ": " + OpenSslError());
      }
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      SSL_CTX_set_verify_depth(ctx, 4);
    }
    error_code ec;
    auto address = asio::ip::make_address(config_.console.listen_address, ec);
    if (ec) {
      return Status::InvalidArgument("console.listen.address '" + config_.console.listen_address +
                                     "': " + ec.message());
    }
    tcp::endpoint endpoint(address, config_.console.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::IOError("cannot listen on " + config_.console.listen_address + ":" +
                             std::to_string(config_.console.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (uint32_t i = 0; i < config_.console.threads; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return Status::OK();
  }

  uint16_t port() const override { return port_; }
  ConsoleApp& app() override { return app_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      error_code ec;
      acceptor_.close(ec);
    });
    io_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](const error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || stopped_) return;
      } else {
        std::make_shared<Connection>(std::move(socket), ssl_, &app_)->Start();
      }
      Accept();
    });
  }

  server::ServerConfig config_;
  ConsoleApp app_;
  asio::io_context io_;
  ssl::context ssl_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  uint16_t port_ = 0;
};

}  // namespace

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::Start(ConsoleContext context,
                                                            const server::ServerConfig& config) {
  if (context.store == nullptr || context.models == nullptr || context.codec == nullptr ||
      context.calendar == nullptr) {
    return Status::InvalidArgument("the console needs a store, read models, a codec and a calendar");
  }
  if (config.cert_file.empty() || config.key_file.empty()) {
    return Status::InvalidArgument("the console needs tls.cert and tls.key");
  }
  auto server = std::make_unique<ConsoleServerImpl>(std::move(context), config);
  if (Status s = server->Init(); !s.ok()) return s;
  return std::unique_ptr<ConsoleServer>(std::move(server));
}

}  // namespace hearth::console
