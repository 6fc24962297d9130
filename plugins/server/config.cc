// The server's JSON configuration and scope intersection (server.h,
// docs/plugins.md).
#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "hearth/references.h"
#include "metrics.h"
#include "server.h"

namespace hearth::server {

// (metrics.h) Here, beside the configuration check that uses it, so that the
// configuration parser builds on its own (the server_config fuzz target).
bool IsLoopbackAddress(const std::string& address) {
  if (address == "localhost") return true;
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(address, ec);
  return !ec && a.is_loopback();
}

namespace {

using Json = nlohmann::json;

bool IsPrefixPattern(const std::string& p) { return !p.empty() && p.back() == '*'; }

std::string_view Stem(const std::string& p) {
  return std::string_view(p).substr(0, p.size() - 1);
}

// The patterns matching the names that both `a` and `b` match.
std::vector<std::string> IntersectPair(const std::string& a, const std::string& b) {
  bool pa = IsPrefixPattern(a), pb = IsPrefixPattern(b);
  if (!pa && !pb) return a == b ? std::vector<std::string>{a} : std::vector<std::string>{};
  if (!pa) return ScopeMatches({b}, a) ? std::vector<std::string>{a} : std::vector<std::string>{};
  if (!pb) return ScopeMatches({a}, b) ? std::vector<std::string>{b} : std::vector<std::string>{};
  std::string_view sa = Stem(a), sb = Stem(b);
  if (sa.substr(0, sb.size()) == sb) return {a};  // a is the narrower prefix
  if (sb.substr(0, sa.size()) == sa) return {b};
  return {};
}

Status Unknown(const Json& object, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (known.count(key) == 0) {
      return Status::InvalidArgument(where + ": unknown key '" + key + "'");
    }
  }
  return Status::OK();
}

Status GetStrings(const Json& object, const char* key, const std::string& where,
                  std::vector<std::string>* out) {
  const Json& v = object.at(key);
  if (!v.is_array()) return Status::InvalidArgument(where + "." + key + " must be a list of strings");
  out->clear();
  for (const Json& item : v) {
    if (!item.is_string() || item.get<std::string>().empty()) {
      return Status::InvalidArgument(where + "." + key + " must hold non-empty strings");
    }
    out->push_back(item.get<std::string>());
  }
  return Status::OK();
}

Status GetBool(const Json& object, const char* key, const std::string& where, bool* out) {
  const Json& v = object.at(key);
  if (!v.is_boolean()) return Status::InvalidArgument(where + "." + key + " must be true or false");
  *out = v.get<bool>();
  return Status::OK();
}

template <typename T>
Status GetUint(const Json& object, const char* key, const std::string& where, T min, T* out) {
  const Json& v = object.at(key);
  if (!v.is_number_unsigned() || v.get<uint64_t>() < min ||
      v.get<uint64_t>() > std::numeric_limits<T>::max()) {
    return Status::InvalidArgument(where + "." + key + " must be a whole number from " +
                                   std::to_string(min) + " to " +
                                   std::to_string(std::numeric_limits<T>::max()));
  }
  *out = v.get<T>();
  return Status::OK();
}

Status GetString(const Json& object, const char* key, const std::string& where, std::string* out) {
  const Json& v = object.at(key);
  if (!v.is_string()) return Status::InvalidArgument(where + "." + key + " must be a string");
  *out = v.get<std::string>();
  return Status::OK();
}

// Scopes from JSON. With `open` (a role's narrowing), a key left out keeps the
// widest value, so that intersecting with the plugin's leaves it unchanged.
Status ParseScopes(const Json& j, const std::string& where, bool open, Scopes* out) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  if (Status s = Unknown(j, {"append_types", "read_streams", "read_districts", "read_models",
                             "read_personal", "read_log", "controller", "backup"},
                         where);
      !s.ok()) {
    return s;
  }
  Scopes s;
  if (open) {
    s.append_types = s.read_streams = s.read_districts = s.read_models = {"*"};
    s.read_personal = s.read_log = s.controller = s.backup = true;
  }
  struct ListKey {
    const char* key;
    std::vector<std::string>* field;
  };
  for (ListKey k : {ListKey{"append_types", &s.append_types}, ListKey{"read_streams", &s.read_streams},
                    ListKey{"read_districts", &s.read_districts},
                    ListKey{"read_models", &s.read_models}}) {
    if (j.contains(k.key)) {
      if (Status st = GetStrings(j, k.key, where, k.field); !st.ok()) return st;
    }
  }
  struct BoolKey {
    const char* key;
    bool* field;
  };
  for (BoolKey k : {BoolKey{"read_personal", &s.read_personal}, BoolKey{"read_log", &s.read_log},
                    BoolKey{"controller", &s.controller}, BoolKey{"backup", &s.backup}}) {
    if (j.contains(k.key)) {
      if (Status st = GetBool(j, k.key, where, k.field); !st.ok()) return st;
    }
  }
  *out = std::move(s);
  return Status::OK();
}

Status ParseLimits(const Json& j, Limits* l) {
  const std::string where = "limits";
  if (!j.is_object()) return Status::InvalidArgument("limits must be an object");
  struct Key {
    const char* key;
    uint32_t* field;
    uint32_t min;
  };
  const Key keys[] = {
      {"max_message_bytes", &l->max_message_bytes, 4096},
      {"max_connections", &l->max_connections, 1},
      {"requests_per_second", &l->requests_per_second, 1},
      {"burst", &l->burst, 1},
      {"idle_timeout_ms", &l->idle_timeout_ms, 100},
      {"handshake_timeout_ms", &l->handshake_timeout_ms, 100},
      {"subscription_buffer_events", &l->subscription_buffer_events, 1},
      {"subscription_buffer_bytes", &l->subscription_buffer_bytes, 4096},
      {"page_size", &l->page_size, 1},
      {"max_subscriptions", &l->max_subscriptions, 0},
      {"max_pipelined", &l->max_pipelined, 0},
      {"max_queued_bytes", &l->max_queued_bytes, 4096},
      {"write_timeout_ms", &l->write_timeout_ms, 100},
      {"max_connections_per_peer", &l->max_connections_per_peer, 1},
      {"max_handshakes", &l->max_handshakes, 1},
  };
  std::set<std::string> known;
  for (const Key& k : keys) known.insert(k.key);
  if (Status s = Unknown(j, known, where); !s.ok()) return s;
  for (const Key& k : keys) {
    if (!j.contains(k.key)) continue;
    if (Status s = GetUint<uint32_t>(j, k.key, where, k.min, k.field); !s.ok()) return s;
  }
  return Status::OK();
}

Status ParsePlugin(const Json& j, const std::string& where, PluginConfig* out) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object");
  if (Status s = Unknown(j, {"scopes", "roles", "requests_per_second", "burst", "in_process", "pin"},
                         where);
      !s.ok()) {
    return s;
  }
  if (j.contains("pin")) {
    const Json& pin = j.at("pin");
    std::string w = where + ".pin";
    if (!pin.is_object()) return Status::InvalidArgument(w + " must be an object");
    if (Status s = Unknown(pin, {"sha256", "san"}, w); !s.ok()) return s;
    if (pin.contains("sha256")) {
      std::vector<std::string> prints;
      if (Status s = GetStrings(pin, "sha256", w, &prints); !s.ok()) return s;
      for (const std::string& p : prints) {
        std::string hex;
        for (char c : p) {
          if (c == ':') continue;
          hex += char(std::tolower(static_cast<unsigned char>(c)));
        }
        if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
          return Status::InvalidArgument(w + ".sha256: '" + p.substr(0, 100) +
                                         "' is not a SHA-256 fingerprint (64 hex digits, colons allowed)");
        }
        out->pin_sha256.push_back(hex);
      }
    }
    if (pin.contains("san")) {
      if (Status s = GetStrings(pin, "san", w, &out->pin_san); !s.ok()) return s;
      for (const std::string& san : out->pin_san) {
        if (san.rfind("DNS:", 0) != 0 && san.rfind("URI:", 0) != 0 && san.rfind("email:", 0) != 0 &&
            san.rfind("IP:", 0) != 0) {
          return Status::InvalidArgument(w + ".san: '" + san.substr(0, 100) +
                                         "' must start DNS:, URI:, email: or IP:");
        }
      }
    }
  }
  if (!j.contains("scopes")) return Status::InvalidArgument(where + ".scopes is required");
  if (Status s = ParseScopes(j.at("scopes"), where + ".scopes", false, &out->scopes); !s.ok()) {
    return s;
  }
  if (j.contains("roles")) {
    const Json& roles = j.at("roles");
    if (!roles.is_object()) return Status::InvalidArgument(where + ".roles must be an object");
    for (const auto& [role, scopes] : roles.items()) {
      if (role.empty()) return Status::InvalidArgument(where + ".roles: empty role name");
      Scopes s;
      if (Status st = ParseScopes(scopes, where + ".roles." + role, true, &s); !st.ok()) return st;
      out->roles.emplace(role, std::move(s));
    }
  }
  if (j.contains("requests_per_second")) {
    if (Status s = GetUint<uint32_t>(j, "requests_per_second", where, 1, &out->requests_per_second);
        !s.ok()) {
      return s;
    }
  }
  if (j.contains("burst")) {
    if (Status s = GetUint<uint32_t>(j, "burst", where, 1, &out->burst); !s.ok()) return s;
  }
  if (j.contains("in_process")) {
    const Json& ip = j.at("in_process");
    std::string w = where + ".in_process";
    if (!ip.is_object()) return Status::InvalidArgument(w + " must be an object");
    if (Status s = Unknown(ip, {"role", "config"}, w); !s.ok()) return s;
    if (ip.contains("role")) {
      if (Status s = GetString(ip, "role", w, &out->in_process_role); !s.ok()) return s;
    }
    if (ip.contains("config")) {
      if (!ip.at("config").is_object()) return Status::InvalidArgument(w + ".config must be an object");
      out->in_process_config = ip.at("config").dump();
    }
  }
  return Status::OK();
}

Status ParseConsole(const Json& j, ConsoleConfig* c) {
  const std::string where = "console";
  if (!j.is_object()) return Status::InvalidArgument("console must be an object");
  if (Status s = Unknown(j, {"listen", "client_certificate", "session_idle_ms", "session_max_ms",
                             "max_body_bytes", "login_failures", "lockout_ms", "threads"},
                         where);
      !s.ok()) {
    return s;
  }
  c->enabled = true;
  if (j.contains("listen")) {
    const Json& l = j.at("listen");
    if (!l.is_object()) return Status::InvalidArgument("console.listen must be an object");
    if (Status s = Unknown(l, {"address", "port"}, "console.listen"); !s.ok()) return s;
    if (l.contains("address")) {
      if (Status s = GetString(l, "address", "console.listen", &c->listen_address); !s.ok()) return s;
    }
    if (l.contains("port")) {
      if (Status s = GetUint<uint16_t>(l, "port", "console.listen", 0, &c->port); !s.ok()) return s;
    }
  }
  if (j.contains("client_certificate")) {
    if (Status s = GetBool(j, "client_certificate", where, &c->client_certificate); !s.ok()) return s;
  }
  struct Key {
    const char* key;
    uint32_t* field;
    uint32_t min;
  };
  for (Key k : {Key{"session_idle_ms", &c->session_idle_ms, 1000},
                Key{"session_max_ms", &c->session_max_ms, 1000},
                Key{"max_body_bytes", &c->max_body_bytes, 1024},
                Key{"login_failures", &c->login_failures, 1},
                Key{"lockout_ms", &c->lockout_ms, 1000}, Key{"threads", &c->threads, 1}}) {
    if (!j.contains(k.key)) continue;
    if (Status s = GetUint<uint32_t>(j, k.key, where, k.min, k.field); !s.ok()) return s;
  }
  return Status::OK();
}

// `metrics`: {"listen": "127.0.0.1:9464", "allow_non_loopback": false}.
// The endpoint is plain HTTP without authentication: a non-loopback address
// would show the store's figures to the network, so it needs the explicit
// allow_non_loopback (docs/operations.md).
Status ParseMetrics(const Json& j, MetricsConfig* m) {
  if (!j.is_object()) return Status::InvalidArgument("metrics must be an object");
  if (Status s = Unknown(j, {"listen", "allow_non_loopback"}, "metrics"); !s.ok()) return s;
  m->enabled = true;
  if (j.contains("allow_non_loopback")) {
    if (Status s = GetBool(j, "allow_non_loopback", "metrics", &m->allow_non_loopback); !s.ok()) return s;
  }
  if (j.contains("listen")) {
    std::string listen;
    if (Status s = GetString(j, "listen", "metrics", &listen); !s.ok()) return s;
    size_t colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
    std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned long p = 0;
    bool port_ok = !port.empty() && port.size() <= 5 &&
                   port.find_first_not_of("0123456789") == std::string::npos &&
                   (p = std::stoul(port)) <= 65535;
    if (host.empty() || !port_ok) {
      return Status::InvalidArgument("metrics.listen must be ADDRESS:PORT (e.g. \"127.0.0.1:9464\"), not '" +
                                     listen.substr(0, 100) + "'");
    }
    m->listen_address = host;
    m->port = uint16_t(p);
  }
  if (!IsLoopbackAddress(m->listen_address) && !m->allow_non_loopback) {
    return Status::InvalidArgument(
        "metrics.listen: '" + m->listen_address.substr(0, 100) +
        "' is not a loopback address; /metrics is plain HTTP without authentication, so it "
        "listens on loopback only unless metrics.allow_non_loopback is true");
  }
  return Status::OK();
}

std::string Resolve(const std::string& base_dir, const std::string& file) {
  if (file.empty() || base_dir.empty() || std::filesystem::path(file).is_absolute()) return file;
  return (std::filesystem::path(base_dir) / file).lexically_normal().string();
}

}  // namespace

std::vector<std::string> IntersectPatterns(const std::vector<std::string>& a,
                                           const std::vector<std::string>& b) {
  std::vector<std::string> out;
  for (const std::string& x : a) {
    for (const std::string& y : b) {
      for (std::string& p : IntersectPair(x, y)) {
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(std::move(p));
      }
    }
  }
  return out;
}

Scopes IntersectScopes(const Scopes& a, const Scopes& b) {
  Scopes s;
  s.append_types = IntersectPatterns(a.append_types, b.append_types);
  s.read_streams = IntersectPatterns(a.read_streams, b.read_streams);
  s.read_districts = IntersectPatterns(a.read_districts, b.read_districts);
  s.read_models = IntersectPatterns(a.read_models, b.read_models);
  s.read_personal = a.read_personal && b.read_personal;
  s.read_log = a.read_log && b.read_log;
  s.controller = a.controller && b.controller;
  s.backup = a.backup && b.backup;
  return s;
}

Result<Scopes> EffectiveScopes(const PluginConfig& plugin, const std::string& role) {
  if (plugin.roles.empty()) return plugin.scopes;
  auto it = plugin.roles.find(role);
  if (it == plugin.roles.end()) {
    std::string known;
    for (const auto& [name, scopes] : plugin.roles) known += (known.empty() ? "" : ", ") + name;
    return Status::PermissionDenied("role '" + role + "' is not configured for this plugin (roles: " +
                                    known + ")");
  }
  return IntersectScopes(plugin.scopes, it->second);
}

Result<ServerConfig> ServerConfig::FromJson(const std::string& text, const std::string& base_dir) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("server configuration is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("server configuration must be a JSON object");
  if (Status s = Unknown(j, {"listen", "tls", "threads", "workers", "readers",
                             "reads_on_network_threads", "limits", "plugins", "console", "metrics",
                             "log_format", "backup_dir"},
                         "config");
      !s.ok()) {
    return s;
  }
  ServerConfig c;
  if (j.contains("listen")) {
    const Json& l = j.at("listen");
    if (!l.is_object()) return Status::InvalidArgument("listen must be an object");
    if (Status s = Unknown(l, {"address", "port"}, "listen"); !s.ok()) return s;
    if (l.contains("address")) {
      if (Status s = GetString(l, "address", "listen", &c.listen_address); !s.ok()) return s;
    }
    if (l.contains("port")) {
      if (Status s = GetUint<uint16_t>(l, "port", "listen", 0, &c.port); !s.ok()) return s;
    }
  }
  if (!j.contains("tls")) return Status::InvalidArgument("tls is required (ca, cert, key)");
  {
    const Json& t = j.at("tls");
    if (!t.is_object()) return Status::InvalidArgument("tls must be an object");
    if (Status s = Unknown(t, {"ca", "cert", "key", "crl"}, "tls"); !s.ok()) return s;
    if (t.contains("crl")) {
      if (Status s = GetString(t, "crl", "tls", &c.crl_file); !s.ok()) return s;
      if (c.crl_file.empty()) return Status::InvalidArgument("tls.crl must name a file");
      c.crl_file = Resolve(base_dir, c.crl_file);
    }
    for (auto [key, field] : {std::pair{"ca", &c.ca_file}, std::pair{"cert", &c.cert_file},
                              std::pair{"key", &c.key_file}}) {
      if (!t.contains(key)) return Status::InvalidArgument(std::string("tls.") + key + " is required");
      if (Status s = GetString(t, key, "tls", field); !s.ok()) return s;
      *field = Resolve(base_dir, *field);
    }
  }
  if (j.contains("threads")) {
    if (Status s = GetUint<uint32_t>(j, "threads", "config", 1, &c.threads); !s.ok()) return s;
  }
  if (j.contains("workers")) {
    if (Status s = GetUint<uint32_t>(j, "workers", "config", 1, &c.workers); !s.ok()) return s;
  }
  if (j.contains("readers")) {
    if (Status s = GetUint<uint32_t>(j, "readers", "config", 1, &c.readers); !s.ok()) return s;
  }
  if (j.contains("reads_on_network_threads")) {
    if (Status s = GetBool(j, "reads_on_network_threads", "config", &c.reads_on_network_threads); !s.ok()) {
      return s;
    }
  }
  if (j.contains("limits")) {
    if (Status s = ParseLimits(j.at("limits"), &c.limits); !s.ok()) return s;
  }
  if (j.contains("console")) {
    if (Status s = ParseConsole(j.at("console"), &c.console); !s.ok()) return s;
  }
  if (j.contains("metrics")) {
    if (Status s = ParseMetrics(j.at("metrics"), &c.metrics); !s.ok()) return s;
  }
  if (j.contains("backup_dir")) {
    if (Status s = GetString(j, "backup_dir", "config", &c.backup_dir); !s.ok()) return s;
    if (c.backup_dir.empty()) return Status::InvalidArgument("backup_dir must name a directory");
    c.backup_dir = Resolve(base_dir, c.backup_dir);
  }
  if (j.contains("log_format")) {
    if (Status s = GetString(j, "log_format", "config", &c.log_format); !s.ok()) return s;
    if (c.log_format != "text" && c.log_format != "json") {
      return Status::InvalidArgument("log_format must be \"text\" or \"json\"");
    }
  }
  if (!j.contains("plugins") || !j.at("plugins").is_object()) {
    return Status::InvalidArgument("plugins is required: an object naming each plugin");
  }
  for (const auto& [name, plugin] : j.at("plugins").items()) {
    if (name.empty()) return Status::InvalidArgument("plugins: empty plugin name");
    // The name is the certificate's CN and every event's actor.plugin.
    if (!IsReference(name)) {
      return Status::InvalidArgument("plugins: a plugin name (its certificate's CN) must be a "
                                     "reference: 1-64 of A-Z a-z 0-9 . _ : @ -");
    }
    PluginConfig p;
    if (Status s = ParsePlugin(plugin, "plugins." + name, &p); !s.ok()) return s;
    c.plugins.emplace(name, std::move(p));
  }
  return c;
}

Result<ServerConfig> ServerConfig::Load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("no server configuration at " + path);
  }
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto config = FromJson(buf.str(), std::filesystem::path(path).parent_path().string());
  if (!config.ok()) {
    return Status::InvalidArgument(path + ": " + config.status().message());
  }
  return config;
}

}  // namespace hearth::server
