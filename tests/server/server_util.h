// Helpers for the server suite: a PKI made at test time (never committed), a
// store with a running server, and a raw TLS client for bytes the SDK would
// never send.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ca.h"
#include "client.h"
#include "hearth/domain.h"
#include "hearth/read_model.h"
#include "hearth/readmodels.h"
#include "hearth/store.h"
#include "server.h"
#include "test_util.h"
#include "wire.h"

namespace hearth::testing {

// Certificates for the suite, made once in a temporary directory.
struct Pki {
  TempDir dir;
  std::string ca() const { return dir.sub("ca/ca.pem"); }
  std::string other_ca() const { return dir.sub("other/ca.pem"); }
  std::string cert(const std::string& name) const { return dir.sub("certs/" + name + ".pem"); }
  std::string key(const std::string& name) const { return dir.sub("certs/" + name + ".key"); }

  // Issues `file`.pem/.key for CN `cn` from the CA in `ca_dir` (relative to dir).
  void Issue(const std::string& ca_dir, const std::string& file, const std::string& cn,
             bool server = false, int64_t not_before_s = -300, int64_t not_after_s = 86400) {
    server::CertRequest req;
    req.common_name = cn;
    req.server = server;
    if (server) {
      req.dns_names = {"localhost"};
      req.ip_addresses = {"127.0.0.1"};
    }
    req.not_before_s = not_before_s;
    req.not_after_s = not_after_s;
    Status s = server::IssueCertificate(dir.sub(ca_dir), req, cert(file), key(file));
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  static Pki* Get() {
    static Pki* pki = [] {
      auto* p = new Pki;
      std::filesystem::create_directories(p->dir.sub("certs"));
      EXPECT_TRUE(server::CreateCa(p->dir.sub("ca"), "hearth test CA", 2).ok());
      EXPECT_TRUE(server::CreateCa(p->dir.sub("other"), "some other CA", 2).ok());
      p->Issue("ca", "server", "localhost", true);
      for (const char* name : {"portal", "intake", "auditor", "limited", "stranger"}) {
        p->Issue("ca", name, name);
      }
      p->Issue("ca", "portal-expired", "portal", false, -3 * 86400, -86400);
      p->Issue("other", "portal-other-ca", "portal");
      return p;
    }();
    return pki;
  }
};

inline const char* kConfigJson = R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "CA", "cert": "CERT", "key": "KEY"},
  "threads": 2,
  "workers": 8,
  "plugins": {
    "portal": {
      "scopes": {"append_types": ["Contact*", "CaseNoteAdded", "NoteAdded"], "read_districts": ["north"],
                 "read_models": ["info"], "read_personal": true},
      "roles": {"caseworker": {}, "viewer": {"append_types": [], "read_personal": false}}
    },
    "intake": {
      "scopes": {"append_types": ["ContactRecorded"], "read_districts": ["north", "south"]}
    },
    "auditor": {
      "scopes": {"read_streams": ["*"], "read_districts": ["*"], "read_models": ["*"],
                 "read_personal": true, "read_log": true, "append_types": ["*"]}
    },
    "limited": {
      "scopes": {"read_districts": ["north"]},
      "requests_per_second": 1, "burst": 3
    }
  }
})";

// Casework through the server: appends to case streams are validated by the
// domain rules (docs/domain.md), so tests write real domain events, built
// from their JSON form by the codec.
inline const domain::Codec& TestCodec() {
  static const domain::Codec* codec = [] {
    static domain::UpcasterRegistry upcasters;
    domain::AddBuiltinUpcasters(&upcasters);
    auto c = domain::Codec::Create(&upcasters);
    if (!c.ok()) abort();
    return c.value().release();
  }();
  return *codec;
}

// One domain event from its JSON form; fails the test when it does not parse.
inline NewEvent DomainEvent(const std::string& json) {
  NewEvent e;
  Status s = TestCodec().FromJson(json, &e);
  EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << json;
  return e;
}

// The enquiry that opens a case in `district` for client `client` (with a
// personal section naming them when `given_name` is not empty).
inline NewEvent Enquiry(const std::string& client = "P-1", const std::string& district = "north",
                        const std::string& given_name = "", const std::string& free_text = "") {
  std::string json = R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-04-03","district":")" +
                     district +
                     R"(","channel":"phone","referrerType":"self","purpose":"enquiry"},)"
                     R"("subjects":[{"id":")" + client + R"(","role":"client"}])";
  if (!given_name.empty() || !free_text.empty()) {
    json += R"(,"personal":[{"subject":")" + client + R"(","role":"client","details":{)";
    if (!given_name.empty()) json += R"("givenName":")" + given_name + "\"";
    if (!free_text.empty()) {
      json += std::string(given_name.empty() ? "" : ",") + R"("freeText":")" + free_text + "\"";
    }
    json += "}}]";
  }
  return DomainEvent(json + "}");
}

// A case note (the case's client is added as its subject by the store).
inline NewEvent CaseNote(const std::string& on = "2018-04-04") {
  return DomainEvent(R"({"type":"CaseNoteAdded","facts":{"writtenOn":")" + on +
                     R"(","authorRef":"S-1","category":"general"}})");
}

// An event of a type the case fold does not know.
inline NewEvent UnknownCaseEvent() { return MakeEvent("NoteAdded"); }

// A 0600 key file of 64 hex digits (the form an operator would write).
inline std::string MakeHexKeyFile(const std::string& path) {
  unsigned char key[32];
  if (sodium_init() < 0) abort();
  randombytes_buf(key, sizeof key);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  {
    std::ofstream out(path, std::ios::binary);
    out << hex << "\n";
  }
  ::chmod(path.c_str(), 0600);
  return path;
}

// A store and a server over it, with the server's log captured.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = Pki::Get();
    Options o = TestOptions(MakeHexKeyFile(dir_.sub("root.key")));
    // As `hearth serve` has it: the rights metrics read the requests' index.
    o.projections = {readmodels::MakeRightsRequestsProjection()};
    auto store = Store::Open(o, dir_.sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
    ASSERT_TRUE(models_.Add(MakeInfoModel()).ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    store_.reset();
  }

  // `json` with its "CA", "CERT" and "KEY" placeholders filled in from the PKI.
  server::ServerConfig Config(std::string json = kConfigJson) {
    auto put = [&](const std::string& what, const std::string& value) {
      json.replace(json.find("\"" + what + "\""), what.size() + 2, "\"" + value + "\"");
    };
    put("CA", pki_->ca());
    put("CERT", pki_->cert("server"));
    put("KEY", pki_->key("server"));
    auto config = server::ServerConfig::FromJson(json, "");
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return config.value();
  }

  void Start(server::ServerConfig config) {
    auto server = server::Server::Start(store_.get(), &models_, std::move(config),
                                        [this](const std::string& line) {
                                          std::lock_guard<std::mutex> lock(log_mu_);
                                          log_.push_back(line);
                                        });
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server.value());
  }
  void Start() { Start(Config()); }

  sdk::ClientOptions ClientFor(const std::string& cert, const std::string& user = "u-0001",
                               const std::string& role = "caseworker") {
    sdk::ClientOptions o;
    o.host = "127.0.0.1";
    o.port = server_ ? server_->port() : 1;  // no server: connecting fails, nothing crashes
    o.ca_file = pki_->ca();
    o.cert_file = pki_->cert(cert);
    o.key_file = pki_->key(cert);
    o.user = user;
    o.role = role;
    o.connect_timeout_ms = 20000;
    o.request_timeout_ms = 30000;
    return o;
  }

  std::unique_ptr<sdk::Client> Connect(const std::string& cert, const std::string& user = "u-0001",
                                       const std::string& role = "caseworker") {
    auto c = sdk::Client::Connect(ClientFor(cert, user, role));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c.value()) : nullptr;
  }

  bool LogContains(const std::string& text) {
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const auto& l : log_) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string Log() {
    std::lock_guard<std::mutex> lock(log_mu_);
    std::string out;
    for (const auto& l : log_) out += l + "\n";
    return out;
  }

  // Waits (up to 20 s) for `pred`; never a timing assertion, only a bound on
  // how long a broken server can hang the suite.
  static bool Eventually(const std::function<bool()>& pred, int ms = 20000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }

  Pki* pki_ = nullptr;
  TempDir dir_;
  std::unique_ptr<Store> store_;
  ReadModels models_;
  std::unique_ptr<server::Server> server_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

// A TLS client that sends whatever bytes a test gives it, one operation at a
// time with a deadline.
class RawClient {
 public:
  RawClient() : ssl_(boost::asio::ssl::context::tls_client) {}

  // Connects and (with a certificate, unless null) completes the handshake.
  boost::system::error_code Connect(uint16_t port, const std::string& ca, const std::string* cert,
                                    const std::string* key) {
    boost::system::error_code ec;
    ssl_.load_verify_file(ca, ec);
    if (cert) ssl_.use_certificate_chain_file(*cert, ec);
    if (key) ssl_.use_private_key_file(*key, boost::asio::ssl::context::pem, ec);
    SSL_CTX_set_min_proto_version(ssl_.native_handle(), TLS1_3_VERSION);
    ssl_.set_verify_mode(boost::asio::ssl::verify_peer);
    // The stream copies the context's certificate when it is made.
    stream_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>(io_, ssl_);
    stream_->lowest_layer().connect(
        {boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return ec;
    boost::system::error_code result;
    if (!Run([&] {
          stream_->async_handshake(boost::asio::ssl::stream_base::client,
                                  [&](const boost::system::error_code& e) { result = e; });
        })) {
      return boost::asio::error::timed_out;
    }
    return result;
  }

  boost::system::error_code Write(const std::string& bytes) {
    boost::system::error_code result;
    if (!Run([&] {
          boost::asio::async_write(*stream_, boost::asio::buffer(bytes),
                                   [&](const boost::system::error_code& e, size_t) { result = e; });
        })) {
      return boost::asio::error::timed_out;
    }
    return result;
  }

  // Reads one framed message; an error (EOF, timeout) when none comes.
  Result<std::unique_ptr<wire::Frame>> Read(int timeout_ms = 20000) {
    std::array<uint8_t, 8> header{};
    boost::system::error_code ec = ReadExactly(header.data(), header.size(), timeout_ms);
    if (ec) return Status::IOError(ec.message());
    auto table = wire::TableBytes(header.data());
    if (!table.ok()) return table.status();
    std::vector<uint8_t> t(*table);
    std::memcpy(t.data(), header.data(), 8);
    if (*table > 8) {
      ec = ReadExactly(t.data() + 8, *table - 8, timeout_ms);
      if (ec) return Status::IOError(ec.message());
    }
    auto body = wire::BodyBytes(t.data(), *table, 64u << 20);
    if (!body.ok()) return body.status();
    auto words = kj::heapArray<capnp::word>((*table + *body) / 8);
    std::memcpy(words.begin(), t.data(), *table);
    ec = ReadExactly(reinterpret_cast<uint8_t*>(words.begin()) + *table, *body, timeout_ms);
    if (ec) return Status::IOError(ec.message());
    return wire::Frame::Parse(kj::mv(words));
  }

  // Reads until the server closes; true when it did (EOF or reset).
  bool ReadsToClose(int timeout_ms = 20000) {
    uint8_t buf[4096];
    for (;;) {
      boost::system::error_code result;
      bool in_time = Run(
          [&] {
            stream_->async_read_some(boost::asio::buffer(buf),
                                    [&](const boost::system::error_code& e, size_t) { result = e; });
          },
          timeout_ms);
      if (!in_time) return false;
      if (result) return true;
    }
  }

  void Close() {
    boost::system::error_code ec;
    if (stream_) stream_->lowest_layer().close(ec);
  }

 private:
  boost::system::error_code ReadExactly(uint8_t* data, size_t n, int timeout_ms) {
    boost::system::error_code result;
    if (!Run(
            [&] {
              boost::asio::async_read(*stream_, boost::asio::buffer(data, n),
                                      [&](const boost::system::error_code& e, size_t) { result = e; });
            },
            timeout_ms)) {
      return boost::asio::error::timed_out;
    }
    return result;
  }

  // Starts an operation and runs it to completion or the deadline (then
  // cancels it and lets it finish). False when the deadline came first.
  bool Run(const std::function<void()>& start, int timeout_ms = 20000) {
    io_.restart();
    start();
    io_.run_for(std::chrono::milliseconds(timeout_ms));
    if (io_.stopped()) return true;
    boost::system::error_code ec;
    stream_->lowest_layer().cancel(ec);
    io_.restart();
    io_.run();
    return false;
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context ssl_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> stream_;
};

// A serialised ClientMessage built by `build`.
template <typename Build>
std::string Message(uint64_t request_id, Build&& build) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<protocol::ClientMessage>();
  root.setRequestId(request_id);
  build(root);
  return wire::Serialize(message);
}

inline std::string HelloMessage(uint64_t id, const std::string& user, const std::string& role) {
  return Message(id, [&](protocol::ClientMessage::Builder m) {
    auto h = m.initHello();
    h.setProtocolVersion(protocol::PROTOCOL_VERSION);
    h.setUser(user);
    h.setRole(role);
    h.setClient("raw test client");
  });
}

}  // namespace hearth::testing
