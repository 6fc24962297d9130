#include "plugin_host.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <condition_variable>
#include <mutex>
#include <new>
#include <vector>

#include <nlohmann/json.hpp>

#include "hearth/event_json.h"
#include "hearth/scoped_reader.h"

// The host's side of one loaded plugin: its session and its subscriptions.
struct hearth_host {
  hearth::Session* session = nullptr;
  std::string plugin_name;
  hearth::plugins::LoadOptions options;

  std::mutex mu;
  // Open subscriptions, owned here so that unloading can end them.
  std::map<hearth_subscription*, std::unique_ptr<hearth_subscription>> subscriptions;
  bool accepting = true;  // false while the plugin is stopped or unloading
  int pending = 0;        // subscribe calls between registering and completing
  std::condition_variable settled;
};

// One subscription of a plugin to the log.
struct hearth_subscription {
  hearth_host* host = nullptr;
  hearth_event_fn on_event = nullptr;
  hearth_end_fn on_end = nullptr;
  void* context = nullptr;
  std::unique_ptr<hearth::Subscription> subscription;  // guarded by host->mu
};

namespace hearth::plugins {

namespace {

using Json = nlohmann::ordered_json;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json StringList(const std::vector<std::string>& list) {
  Json a = Json::array();
  for (const std::string& s : list) a.push_back(s);
  return a;
}

// {"plugin", "user", "role", "scopes": {...}} (scope names as in
// api/schema/protocol.capnp Scopes).
Json PrincipalToJson(const Principal& principal, const Scopes& scopes) {
  Json j;
  j["plugin"] = principal.plugin;
  j["user"] = principal.user;
  j["role"] = principal.role;
  j["scopes"] = Json{{"appendTypes", StringList(scopes.append_types)},
                     {"readStreams", StringList(scopes.read_streams)},
                     {"readDistricts", StringList(scopes.read_districts)},
                     {"readModels", StringList(scopes.read_models)},
                     {"readPersonal", scopes.read_personal},
                     {"readLog", scopes.read_log},
                     {"controller", scopes.controller}};
  return j;
}

// Reads larger than this return this many events (the caller reads on).
constexpr uint64_t kMaxReadCount = 10000;
// Log lines are cut here.
constexpr size_t kMaxLogLine = 16 * 1024;

// The subscription whose event or end function runs on this thread, so that
// it cannot join itself by unsubscribing from inside.
thread_local const hearth_subscription* t_delivering = nullptr;

std::string_view View(hearth_str s) {
  return s.size == 0 || s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size);
}
std::string Str(hearth_str s) { return std::string(View(s)); }

// Fills a buffer the host owns: malloc'ed, NUL-terminated for C callers.
void Fill(hearth_buffer* buffer, std::string_view text) {
  if (buffer == nullptr) return;
  buffer->data = nullptr;
  buffer->size = 0;
  char* p = static_cast<char*>(std::malloc(text.size() + 1));
  if (p == nullptr) return;
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  p[text.size()] = '\0';
  buffer->data = p;
  buffer->size = text.size();
}

void Clear(hearth_buffer* buffer) {
  if (buffer != nullptr) *buffer = hearth_buffer{nullptr, 0};
}

hearth_code Fail(const Status& status, hearth_buffer* error) {
  Fill(error, status.message());
  return static_cast<hearth_code>(status.code());
}

Status FromCode(hearth_code code, std::string message) {
  switch (code) {
    case HEARTH_NOT_FOUND: return Status::NotFound(std::move(message));
    case HEARTH_INVALID_ARGUMENT: return Status::InvalidArgument(std::move(message));
    case HEARTH_CONFLICT: return Status::Conflict(std::move(message));
    case HEARTH_CORRUPTION: return Status::Corruption(std::move(message));
    case HEARTH_IO_ERROR: return Status::IOError(std::move(message));
    case HEARTH_LOCKED: return Status::Locked(std::move(message));
    case HEARTH_WRONG_KEY: return Status::WrongKey(std::move(message));
    case HEARTH_ERASED: return Status::Erased(std::move(message));
    case HEARTH_NOT_SUPPORTED: return Status::NotSupported(std::move(message));
    case HEARTH_PERMISSION_DENIED: return Status::PermissionDenied(std::move(message));
    case HEARTH_TOO_LARGE: return Status::TooLarge(std::move(message));
    case HEARTH_BUSY: return Status::Busy(std::move(message));
    default:
      return Status::InvalidArgument(message + " (the plugin returned unknown code " +
                                     std::to_string(code) + ")");
  }
}

// Runs a host call: no exception ever leaves the host into plugin code.
template <typename Fn>
hearth_code Guard(hearth_buffer* out, hearth_buffer* error, Fn&& fn) {
  Clear(out);
  Clear(error);
  try {
    Status s = fn();
    if (!s.ok()) {
      if (out != nullptr && out->data != nullptr) {
        std::free(out->data);
        Clear(out);
      }
      return Fail(s, error);
    }
    return HEARTH_OK;
  } catch (const std::bad_alloc&) {
    return Fail(Status::Busy("out of memory"), error);
  } catch (const std::exception& e) {
    return Fail(Status::IOError(std::string("host error: ") + e.what()), error);
  } catch (...) {
    return Fail(Status::IOError("host error"), error);
  }
}

Status CheckHost(hearth_host* host) {
  if (host == nullptr || host->session == nullptr) {
    return Status::InvalidArgument("null host handle");
  }
  return Status::OK();
}

Status CheckCount(uint64_t max_count, size_t* count) {
  if (max_count == 0) return Status::InvalidArgument("max_count must be at least 1");
  *count = size_t(std::min(max_count, kMaxReadCount));
  return Status::OK();
}

// ---- the host table

void HostBufferFree(hearth_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  Clear(buffer);
}

void HostLog(hearth_host* host, int32_t level, hearth_str message) {
  if (host == nullptr) return;
  try {
    std::string line = Str(message).substr(0, kMaxLogLine);
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    if (level < HEARTH_LOG_DEBUG || level > HEARTH_LOG_ERROR) level = HEARTH_LOG_INFO;
    if (host->options.log) {
      host->options.log(level, host->plugin_name, line);
    } else {
      static const char* const kLevels[] = {"debug", "info", "warning", "error"};
      std::fprintf(stderr, "plugin %s: %s: %s\n", host->plugin_name.c_str(), kLevels[level],
                   line.c_str());
    }
  } catch (...) {
    // A log line that cannot be written is dropped; the plugin goes on.
  }
}

hearth_code HostPrincipal(hearth_host* host, hearth_buffer* out, hearth_buffer* error) {
  return Guard(out, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    Json j = PrincipalToJson(host->session->principal(), host->session->scopes());
    j["abiVersion"] = HEARTH_PLUGIN_ABI_VERSION;
    Fill(out, Dump(j));
    return Status::OK();
  });
}

hearth_code HostAppend(hearth_host* host, hearth_str stream, int32_t expected_kind,
                       uint64_t expected_version, hearth_str events_jsonl, hearth_buffer* out,
                       hearth_buffer* error) {
  return Guard(out, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    ExpectedVersion expected;
    switch (expected_kind) {
      case HEARTH_EXPECT_ANY: expected = ExpectedVersion::Any(); break;
      case HEARTH_EXPECT_NO_STREAM: expected = ExpectedVersion::NoStream(); break;
      case HEARTH_EXPECT_EXACT:
        if (expected_version == 0) {
          return Status::InvalidArgument("an exact expected version is at least 1");
        }
        expected = ExpectedVersion::Exact(expected_version);
        break;
      default:
        return Status::InvalidArgument("unknown expected_kind " + std::to_string(expected_kind));
    }
    std::vector<NewEvent> events;
    if (Status s = event_json::ParseLines(View(events_jsonl), host->options.codec, &events);
        !s.ok()) {
      return s;
    }
    auto r = host->session->Append(Str(stream), expected, std::move(events));
    if (!r.ok()) return r.status();
    Fill(out, event_json::FormatAppendResult(*r));
    return Status::OK();
  });
}

Status FillEvents(const hearth_host* host, Result<std::vector<RecordedEvent>> r,
                  hearth_buffer* out) {
  if (!r.ok()) return r.status();
  Fill(out, event_json::FormatList(*r, host->options.codec));
  return Status::OK();
}

hearth_code HostReadStream(hearth_host* host, hearth_str stream, uint64_t from, int32_t direction,
                           uint64_t max_count, hearth_str purpose, hearth_buffer* out,
                           hearth_buffer* error) {
  return Guard(out, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    size_t count = 0;
    if (Status s = CheckCount(max_count, &count); !s.ok()) return s;
    if (direction != HEARTH_FORWARD && direction != HEARTH_BACKWARD) {
      return Status::InvalidArgument("unknown direction " + std::to_string(direction));
    }
    return FillEvents(host,
        host->session->ReadStream(
            Str(stream), from, direction == HEARTH_FORWARD ? Direction::kForward : Direction::kBackward,
            count, Str(purpose)),
        out);
  });
}

hearth_code HostReadAll(hearth_host* host, uint64_t from, uint64_t max_count, hearth_str purpose,
                        hearth_buffer* out, hearth_buffer* error) {
  return Guard(out, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    size_t count = 0;
    if (Status s = CheckCount(max_count, &count); !s.ok()) return s;
    if (from == 0) return Status::InvalidArgument("positions start at 1");
    return FillEvents(host, host->session->ReadAll(from, count, Str(purpose)), out);
  });
}

hearth_code HostReadSubject(hearth_host* host, hearth_str subject, uint64_t from,
                            uint64_t max_count, hearth_str purpose, hearth_buffer* out,
                            hearth_buffer* error) {
  return Guard(out, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    size_t count = 0;
    if (Status s = CheckCount(max_count, &count); !s.ok()) return s;
    return FillEvents(host, host->session->ReadSubject(Str(subject), from, count, Str(purpose)), out);
  });
}

hearth_code HostSubscribe(hearth_host* host, uint64_t from, hearth_str purpose,
                          hearth_event_fn on_event, hearth_end_fn on_end, void* context,
                          hearth_subscription** out, hearth_buffer* error) {
  if (out != nullptr) *out = nullptr;
  return Guard(nullptr, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    if (on_event == nullptr || out == nullptr) {
      return Status::InvalidArgument("subscribe needs an event function and an out handle");
    }
    auto owned = std::make_unique<hearth_subscription>();
    hearth_subscription* sub = owned.get();
    sub->host = host;
    sub->on_event = on_event;
    sub->on_end = on_end;
    sub->context = context;

    EventHandler handler = [sub](const RecordedEvent& event) -> bool {
      std::string json;
      try {
        json = event_json::Format(event, sub->host->options.codec);
      } catch (...) {
        return false;  // cannot render it: end rather than skip an event
      }
      t_delivering = sub;
      int32_t go_on = sub->on_event(sub->context, hearth_str{json.data(), json.size()});
      t_delivering = nullptr;
      return go_on != 0;
    };
    EndHandler end = [sub](const Status& status) {
      if (sub->on_end == nullptr) return;
      t_delivering = sub;
      sub->on_end(sub->context, static_cast<hearth_code>(status.code()),
                  hearth_str{status.message().data(), status.message().size()});
      t_delivering = nullptr;
    };

    {
      std::lock_guard<std::mutex> lock(host->mu);
      if (!host->accepting) return Status::Busy("the plugin is stopping");
      host->subscriptions.emplace(sub, std::move(owned));
      ++host->pending;
    }
    auto r = host->session->Subscribe(from, std::move(handler), std::move(end), Str(purpose));
    std::lock_guard<std::mutex> lock(host->mu);
    --host->pending;
    host->settled.notify_all();
    if (!r.ok()) {
      host->subscriptions.erase(sub);
      return r.status();
    }
    sub->subscription = std::move(*r);
    *out = sub;
    return Status::OK();
  });
}

hearth_code HostUnsubscribe(hearth_host* host, hearth_subscription* sub) {
  return Guard(nullptr, nullptr, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    if (sub != nullptr && t_delivering == sub) {
      return Status::InvalidArgument(
          "unsubscribe called from the subscription's own callback (return 0 there instead)");
    }
    std::unique_ptr<hearth_subscription> owned;
    {
      std::lock_guard<std::mutex> lock(host->mu);
      auto it = host->subscriptions.find(sub);
      if (it == host->subscriptions.end()) {
        return Status::InvalidArgument("unknown subscription handle");
      }
      owned = std::move(it->second);
      host->subscriptions.erase(it);
    }
    // Stops delivery and joins: the event and end functions have returned.
    if (owned->subscription) owned->subscription->Stop();
    owned->subscription.reset();
    return Status::OK();
  });
}

hearth_code HostQuery(hearth_host* host, hearth_str model, hearth_str params_json,
                      hearth_buffer* out, hearth_buffer* error) {
  return Guard(out, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    std::string name = Str(model);
    std::string params = Str(params_json);
    if (params.empty()) params = "{}";
    Json parsed = Json::parse(params, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      return Status::InvalidArgument("query parameters must be a JSON object");
    }
    if (host->options.read_models == nullptr) {
      if (Status s = host->session->CheckModel(name); !s.ok()) return s;
      return Status::NotFound("no read model '" + name + "' in this host");
    }
    auto r = host->options.read_models->Query(*host->session, name, params);
    if (!r.ok()) return r.status();
    Fill(out, *r);
    return Status::OK();
  });
}

hearth_code HostReadDocument(hearth_host* host, uint64_t position, uint32_t index,
                             hearth_str purpose, hearth_buffer* out_body, hearth_buffer* out_json,
                             hearth_buffer* error) {
  Clear(out_body);
  hearth_code code = Guard(out_json, error, [&]() -> Status {
    if (Status s = CheckHost(host); !s.ok()) return s;
    if (out_body == nullptr || out_json == nullptr) {
      return Status::InvalidArgument("read_document needs a body and a JSON buffer");
    }
    // The reader every front end's document reads take: the scopes of
    // reading the event, the body checked against its event's SHA-256, the
    // access log written with the plugin's purpose.
    ScopedReader reader(*host->session, Reach::kScoped, Str(purpose));
    auto doc = reader.ReadDocument(position, index);
    if (!doc.ok()) return doc.status();
    Json j;
    j["position"] = position;
    j["index"] = index;
    j["subject"] = doc->subject;
    j["sizeBytes"] = doc->bytes.size();
    j["sha256"] = domain::Sha256Hex(doc->bytes);
    Fill(out_json, Dump(j));
    Fill(out_body, doc->bytes);
    if (out_body->data == nullptr || out_json->data == nullptr) {
      HostBufferFree(out_body);
      HostBufferFree(out_json);
      return Status::Busy("out of memory");
    }
    return Status::OK();
  });
  if (code != HEARTH_OK) HostBufferFree(out_body);
  return code;
}

const hearth_host_api kHostApi = {
    sizeof(hearth_host_api),
    HEARTH_PLUGIN_ABI_VERSION,
    HostBufferFree,
    HostLog,
    HostPrincipal,
    HostAppend,
    HostReadStream,
    HostReadAll,
    HostReadSubject,
    HostSubscribe,
    HostUnsubscribe,
    HostQuery,
    HostReadDocument,
};

// Ends every subscription the plugin holds, joining their threads.
void CloseSubscriptions(hearth_host* host) {
  std::map<hearth_subscription*, std::unique_ptr<hearth_subscription>> open;
  {
    std::unique_lock<std::mutex> lock(host->mu);
    host->accepting = false;
    host->settled.wait(lock, [host] { return host->pending == 0; });
    open.swap(host->subscriptions);
  }
  for (auto& [raw, sub] : open) {
    if (sub->subscription) sub->subscription->Stop();
    sub->subscription.reset();
  }
}

// Takes the plugin's error message and frees its buffer.
std::string TakeError(const hearth_plugin_api* api, hearth_buffer* error) {
  std::string message;
  if (error->data != nullptr) message.assign(error->data, error->size);
  if (error->data != nullptr && api->buffer_free != nullptr) api->buffer_free(error);
  return message.empty() ? "(no message)" : message;
}

bool ValidName(const char* name) {
  if (name == nullptr) return false;
  size_t n = std::strlen(name);
  if (n == 0 || n > 64) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

}  // namespace

const hearth_host_api* HostApi() { return &kHostApi; }

namespace {

// A shared object opened and its table checked; closes it unless released.
struct OpenedPlugin {
  void* dl = nullptr;
  const hearth_plugin_api* api = nullptr;
  PluginInfo info;

  OpenedPlugin() = default;
  OpenedPlugin(const OpenedPlugin&) = delete;
  OpenedPlugin& operator=(const OpenedPlugin&) = delete;
  ~OpenedPlugin() {
    if (dl != nullptr) dlclose(dl);
  }
  void* Release() {
    void* d = dl;
    dl = nullptr;
    return d;
  }
};

// Opens `path`, calls the entry and checks the table (size, name, version).
Status OpenPlugin(const std::string& path, OpenedPlugin* out) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("no plugin file " + path);
  }
  // dlopen searches LD_LIBRARY_PATH, the run path and the system's library
  // directories for a name without a slash: the file checked above would not
  // be the one loaded. Load exactly that file.
  const std::string exact = path.find('/') == std::string::npos ? "./" + path : path;
  dlerror();
  out->dl = dlopen(exact.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (out->dl == nullptr) {
    const char* why = dlerror();
    return Status::InvalidArgument("cannot load plugin " + path + ": " +
                                   (why != nullptr ? why : "dlopen failed"));
  }
  void* sym = dlsym(out->dl, HEARTH_PLUGIN_ENTRY_SYMBOL);
  if (sym == nullptr) {
    return Status::InvalidArgument(path + " is not a hearth plugin: it exports no " +
                                   HEARTH_PLUGIN_ENTRY_SYMBOL + " (api/include/hearth/plugin_abi.h)");
  }
  auto entry = reinterpret_cast<hearth_plugin_entry_fn>(sym);
  const hearth_plugin_api* api = entry(HEARTH_PLUGIN_ABI_VERSION);
  if (api == nullptr) {
    return Status::NotSupported("plugin " + path + " refuses this host (plugin ABI version " +
                                std::to_string(HEARTH_PLUGIN_ABI_VERSION) + ")");
  }
  constexpr size_t kV1Size = offsetof(hearth_plugin_api, buffer_free) + sizeof(api->buffer_free);
  if (api->struct_size < kV1Size) {
    return Status::InvalidArgument("plugin " + path + ": its table is " +
                                   std::to_string(api->struct_size) + " bytes, smaller than " +
                                   "version 1's " + std::to_string(kV1Size));
  }
  std::string name = ValidName(api->name) ? api->name : "";
  if (name.empty()) {
    return Status::InvalidArgument("plugin " + path + ": its name must be 1 to 64 of [a-z0-9_-]");
  }
  if (api->abi_version == 0) {
    return Status::InvalidArgument("plugin " + name + " (" + path + ") names ABI version 0");
  }
  if (api->abi_version > HEARTH_PLUGIN_ABI_VERSION) {
    return Status::NotSupported(
        "plugin " + name + " (" + path + ") needs plugin ABI version " +
        std::to_string(api->abi_version) + ", but this host implements up to version " +
        std::to_string(HEARTH_PLUGIN_ABI_VERSION) +
        ": use a newer hearth, or a build of the plugin for this version");
  }
  if (api->init == nullptr || api->start == nullptr || api->stop == nullptr ||
      api->destroy == nullptr || api->buffer_free == nullptr) {
    return Status::InvalidArgument("plugin " + name + " (" + path +
                                   ") leaves a lifecycle function NULL");
  }
  out->api = api;
  out->info.path = path;
  out->info.name = name;
  out->info.version = api->version != nullptr ? api->version : "";
  out->info.abi_version = api->abi_version;
  return Status::OK();
}

}  // namespace

Result<PluginInfo> LoadedPlugin::Inspect(const std::string& path) {
  OpenedPlugin opened;
  if (Status s = OpenPlugin(path, &opened); !s.ok()) return s;
  return opened.info;
}

Result<std::unique_ptr<LoadedPlugin>> LoadedPlugin::Load(const std::string& path,
                                                         Session& session,
                                                         const std::string& config_json,
                                                         LoadOptions options) {
  std::string config = config_json.empty() ? "{}" : config_json;
  Json parsed = Json::parse(config, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status::InvalidArgument("the configuration of plugin " + path +
                                   " must be a JSON object");
  }
  OpenedPlugin opened;
  if (Status s = OpenPlugin(path, &opened); !s.ok()) return s;
  const hearth_plugin_api* api = opened.api;
  const std::string name = opened.info.name;

  std::unique_ptr<LoadedPlugin> plugin(new LoadedPlugin());
  plugin->info_ = opened.info;
  plugin->dl_ = opened.Release();  // from here on, the destructor closes it
  plugin->host_ = std::make_unique<hearth_host>();
  plugin->host_->session = &session;
  plugin->host_->plugin_name = name;
  plugin->host_->options = std::move(options);

  hearth_buffer error{nullptr, 0};
  hearth_plugin* state = nullptr;
  hearth_code code = api->init(&kHostApi, plugin->host_.get(),
                               hearth_str{config.data(), config.size()}, &state, &error);
  if (code != HEARTH_OK) {
    std::string message = TakeError(api, &error);
    CloseSubscriptions(plugin->host_.get());
    return FromCode(code, "plugin " + name + ": " + message);
  }
  if (error.data != nullptr) TakeError(api, &error);
  if (state == nullptr) {
    CloseSubscriptions(plugin->host_.get());
    return Status::InvalidArgument("plugin " + name + ": init returned no plugin handle");
  }
  plugin->api_ = api;
  plugin->plugin_ = state;
  return plugin;
}

LoadedPlugin::~LoadedPlugin() {
  Stop();
  if (api_ != nullptr && plugin_ != nullptr) api_->destroy(plugin_);
  if (host_) CloseSubscriptions(host_.get());
  plugin_ = nullptr;
  if (dl_ != nullptr) dlclose(dl_);
}

Status LoadedPlugin::Start() {
  if (started_) return Status::InvalidArgument("plugin " + info_.name + " is already started");
  {
    std::lock_guard<std::mutex> lock(host_->mu);
    host_->accepting = true;
  }
  hearth_buffer error{nullptr, 0};
  hearth_code code = api_->start(plugin_, &error);
  if (code != HEARTH_OK) {
    std::string message = TakeError(api_, &error);
    CloseSubscriptions(host_.get());
    return FromCode(code, "plugin " + info_.name + ": " + message);
  }
  if (error.data != nullptr) TakeError(api_, &error);
  started_ = true;
  return Status::OK();
}

void LoadedPlugin::Stop() {
  if (started_) {
    api_->stop(plugin_);
    started_ = false;
  }
  if (host_) CloseSubscriptions(host_.get());
}

size_t LoadedPlugin::open_subscriptions() const {
  std::lock_guard<std::mutex> lock(host_->mu);
  return host_->subscriptions.size();
}

}  // namespace hearth::plugins
