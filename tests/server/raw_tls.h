// A client written from docs/protocol.md alone: OpenSSL for TLS, Cap'n
// Proto's serialisation for single messages, and the framing of section 2
// read and written by hand. Nothing of the SDK or of the server's wire code,
// so that it sees the bytes as an independent client would.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocol.capnp.h"

namespace hearth::testing::raw {

inline uint32_t Le32At(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline std::string Le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = char((v >> (8 * i)) & 0xff);
  return s;
}
inline std::string Le64(uint64_t v) { return Le32(uint32_t(v)) + Le32(uint32_t(v >> 32)); }

// A message as framed on the wire: its segment table and its words.
struct Frame {
  std::vector<uint32_t> segment_words;  // the table's sizes
  kj::Array<capnp::word> words;         // table and segments
  size_t bytes = 0;                     // the whole frame
  // The root as a ServerMessage (valid while the frame lives).
  std::unique_ptr<capnp::FlatArrayMessageReader> reader;
  protocol::ServerMessage::Reader Root() { return reader->getRoot<protocol::ServerMessage>(); }
};

// The bytes of `message` in the standard framing (as many segments as the
// builder made).
inline std::string Serialize(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// A ClientMessage with `request_id`, filled by `build`. `first_segment_words`
// small makes a message of several segments.
template <typename Build>
std::string Request(uint64_t request_id, Build&& build, unsigned first_segment_words = 1024) {
  capnp::MallocMessageBuilder message(first_segment_words, capnp::AllocationStrategy::FIXED_SIZE);
  auto root = message.initRoot<protocol::ClientMessage>();
  root.setRequestId(request_id);
  build(root);
  return Serialize(message);
}

inline std::string Hello(uint64_t id, const std::string& user, const std::string& role,
                         uint32_t version = protocol::PROTOCOL_VERSION) {
  return Request(id, [&](protocol::ClientMessage::Builder m) {
    auto h = m.initHello();
    h.setProtocolVersion(version);
    h.setUser(user);
    h.setRole(role);
    h.setClient("conformance client");
  });
}
inline std::string Ping(uint64_t id) {
  return Request(id, [](protocol::ClientMessage::Builder m) { m.setPing(); });
}

// One TLS 1.3 connection over a blocking socket, every operation bounded by a
// deadline.
class Connection {
 public:
  Connection() {
    // A peer that resets the connection must not kill the test with SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
  }
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects to 127.0.0.1:`port` and completes the handshake. `cert` empty:
  // no client certificate. `max_version` 0: TLS 1.3 only. Returns "" or why
  // it failed.
  std::string Connect(uint16_t port, const std::string& ca, const std::string& cert,
                      const std::string& key, int max_version = 0) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (max_version != 0) {
      SSL_CTX_set_max_proto_version(ctx_, max_version);
    } else {
      SSL_CTX_set_min_proto_version(ctx_, TLS1_3_VERSION);
    }
    if (SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) != 1) return "cannot load " + ca;
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!cert.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
        return "cannot load " + cert;
      }
    }
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return std::string("connect: ") + std::strerror(errno);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SetTimeouts(20000);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_app_data(ssl_, this);
    SSL_set_info_callback(ssl_, [](const SSL* s, int where, int ret) {
      if ((where & SSL_CB_READ_ALERT) != 0) {
        static_cast<Connection*>(SSL_get_app_data(s))->alert_ = ret & 0xff;
      }
    });
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    if (SSL_connect(ssl_) != 1) return "handshake: " + Errors();
    return "";
  }

  // The description of the last alert received (TLS AlertDescription), or -1.
  int alert() const { return alert_; }
  std::string alert_name() const {
    return alert_ < 0 ? std::string("none") : SSL_alert_desc_string_long(alert_);
  }
  SSL* ssl() { return ssl_; }

  // Socket send/receive timeouts (a blocked write or read fails after them).
  void SetTimeouts(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  bool Write(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      int n = SSL_write(ssl_, bytes.data() + done, int(bytes.size() - done));
      if (n <= 0) return false;
      done += size_t(n);
    }
    return true;
  }

  // Reads exactly `n` bytes before the deadline; false on close, error or
  // timeout (`timed_out` tells which).
  bool ReadExactly(uint8_t* data, size_t n, int timeout_ms, bool* timed_out = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    size_t done = 0;
    if (timed_out) *timed_out = false;
    while (done < n) {
      if (SSL_pending(ssl_) == 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        pollfd p{fd_, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, int(left)) <= 0) {
          if (timed_out) *timed_out = true;
          return false;
        }
      }
      int r = SSL_read(ssl_, data + done, int(n - done));
      if (r <= 0) {
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_WANT_READ) continue;
        ERR_clear_error();
        return false;
      }
      done += size_t(r);
    }
    return true;
  }

  // Reads one frame as section 2 defines it; nullopt when none comes.
  std::optional<Frame> ReadFrame(int timeout_ms = 20000, size_t max_bytes = 64u << 20) {
    uint8_t head[8];
    if (!ReadExactly(head, 8, timeout_ms)) return std::nullopt;
    uint32_t count = Le32At(head) + 1;
    if (count > 512) return std::nullopt;
    size_t table = 4 + 4 * size_t(count);
    if (table % 8 != 0) table += 4;
    std::vector<uint8_t> t(table);
    std::memcpy(t.data(), head, 8);
    if (table > 8 && !ReadExactly(t.data() + 8, table - 8, timeout_ms)) return std::nullopt;
    Frame f;
    size_t body = 0;
    for (uint32_t i = 0; i < count; ++i) {
      f.segment_words.push_back(Le32At(t.data() + 4 + 4 * i));
      body += size_t(f.segment_words.back()) * 8;
    }
    if (table + body > max_bytes) return std::nullopt;
    f.words = kj::heapArray<capnp::word>((table + body) / 8);
    std::memcpy(f.words.begin(), t.data(), table);
    if (!ReadExactly(reinterpret_cast<uint8_t*>(f.words.begin()) + table, body, timeout_ms)) {
      return std::nullopt;
    }
    f.bytes = table + body;
    capnp::ReaderOptions options;
    options.traversalLimitInWords = 4 * f.words.size();
    f.reader = std::make_unique<capnp::FlatArrayMessageReader>(f.words.asPtr(), options);
    return f;
  }

  // Reads frames until one that is not a push (an answer or a goodbye).
  std::optional<Frame> ReadAnswer(int timeout_ms = 20000) {
    for (;;) {
      auto f = ReadFrame(timeout_ms);
      if (!f) return f;
      auto w = f->Root().which();
      if (w != protocol::ServerMessage::SUBSCRIPTION_EVENTS &&
          w != protocol::ServerMessage::SUBSCRIPTION_ENDED) {
        return f;
      }
    }
  }

  // Reads and drops bytes until the server closes; true when it did before
  // the deadline.
  bool ReadsToClose(int timeout_ms = 20000) {
    uint8_t buf[4096];
    for (;;) {
      bool timed_out = false;
      if (!ReadExactly(buf, 1, timeout_ms, &timed_out)) return !timed_out;
    }
  }

  void Close() {
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (ctx_) SSL_CTX_free(ctx_);
    ctx_ = nullptr;
  }

  int fd() const { return fd_; }

 private:
  static std::string Errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out += (out.empty() ? "" : "; ") + std::string(buf);
    }
    return out.empty() ? "failed" : out;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  int alert_ = -1;
};

}  // namespace hearth::testing::raw
