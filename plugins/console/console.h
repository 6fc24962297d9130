// hearth web console: HTTPS + JSON for the data controller, auditors,
// caseworkers and the partnership, served by `hearth serve` beside the
// protocol port (docs/console.md).
//
//   hearth::console::ConsoleContext ctx{store, &models, codec, &calendar};
//   auto console = hearth::console::ConsoleServer::Start(ctx, config);  // server.h's config
//   ...
//   (*console)->Stop();
//
// Two layers:
//   - ConsoleApp answers one HTTP request (its method, target, headers and
//     body) with a response: the accounts, sessions, CSRF, throttling, the
//     security headers, the static pages and the JSON endpoints. It knows
//     nothing of sockets, so tests call it directly.
//   - ConsoleServer is the HTTPS listener (Boost.Beast over OpenSSL, TLS 1.2+
//     with the server's certificate) that feeds requests to a ConsoleApp,
//     with the body limit and an idle timeout per connection.
//
// Every request of a logged-in account runs through a hearth::Session whose
// principal is {plugin "console", user <account>, role <role>} and whose
// scopes come from the account's role (accounts.h, RoleScopes): the read
// models, the ScopedReader and the store enforce them, not the browser.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hearth/domain.h"
#include "hearth/read_model.h"
#include "hearth/status.h"
#include "hearth/store.h"
#include "server.h"

namespace hearth::console {

// What the console serves. REQUIRES: everything outlives the console.
struct ConsoleContext {
  Store* store = nullptr;
  const ReadModels* models = nullptr;
  const domain::Codec* codec = nullptr;
  const domain::Calendar* calendar = nullptr;
  // One line per event worth an operator's attention (logins, refusals); no
  // personal data, never a password. Null: stderr.
  std::function<void(const std::string&)> log;
  // The clock for sessions and throttling (tests move it). Null: steady_clock.
  std::function<std::chrono::steady_clock::time_point()> now;
};

struct HttpRequest {
  std::string method;                          // GET, POST ...
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;       // the client's address (throttling)
  std::string client_cn;  // the client certificate's CN, when one was shown
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header named `name` (case-insensitive); empty when none.
  std::string Header(const std::string& name) const;
};

// The cookie that carries the session (a __Host- cookie: Secure, Path=/, no
// Domain; also HttpOnly and SameSite=Strict).
inline constexpr const char* kSessionCookie = "__Host-hearth-session";
// The header that must carry the session's CSRF token on every request that
// changes something (every POST but the login).
inline constexpr const char* kCsrfHeader = "x-csrf-token";

class ConsoleApp {
 public:
  ConsoleApp(ConsoleContext context, server::ConsoleConfig config);
  ~ConsoleApp();
  ConsoleApp(const ConsoleApp&) = delete;
  ConsoleApp& operator=(const ConsoleApp&) = delete;

  // Answers one request. Thread-safe.
  HttpResponse Handle(const HttpRequest& request);

  const server::ConsoleConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ConsoleServer {
 public:
  // Binds config.console's address and port, loads tls.cert and tls.key
  // (and tls.ca when client_certificate) and starts serving. InvalidArgument
  // (TLS files, address), IOError (bind).
  static Result<std::unique_ptr<ConsoleServer>> Start(ConsoleContext context,
                                                      const server::ServerConfig& config);
  virtual ~ConsoleServer() = default;
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  virtual uint16_t port() const = 0;
  virtual ConsoleApp& app() = 0;
  // Closes the listener and every connection and joins the threads.
  // Idempotent; the destructor calls it.
  virtual void Stop() = 0;

 protected:
  ConsoleServer() = default;
};

}  // namespace hearth::console
