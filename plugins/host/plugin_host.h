// hearth: loading in-process plugins (api/include/hearth/plugin_abi.h).
//
//   hearth::Session session(store, {"worklist-file", "", "reporter"}, scopes);
//   auto plugin = hearth::plugins::LoadedPlugin::Load(
//       "lib/hearth-worklist-file.so", session, R"({"dir": "/var/worklists"})");
//   if (!plugin.ok()) { ... plugin.status().ToString() ... }
//   if (Status s = (*plugin)->Start(); !s.ok()) { ... }
//   ...
//   plugin->reset();   // stops the plugin and unloads it
//
// The loader opens the shared object, finds the one entry symbol, refuses a
// plugin that asks for a newer ABI version than this host implements, builds
// the host table over the plugin's Session, and drives the lifecycle
// (init, start, stop, destroy). Everything the plugin does goes through that
// Session, so its configured scopes are enforced in the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hearth/domain.h"
#include "hearth/plugin_abi.h"
#include "hearth/read_model.h"
#include "hearth/session.h"
#include "hearth/status.h"

struct hearth_host;  // defined in plugin_host.cc

namespace hearth::plugins {

// Receives the plugin's log lines: level is HEARTH_LOG_*, plugin the name the
// plugin gave in its table.
using LogSink = std::function<void(int level, const std::string& plugin, const std::string& line)>;

struct LoadOptions {
  // Where the plugin's log lines go. Default (empty): stderr, one line each.
  LogSink log;
  // The process's read models, queried through the plugin's session. Default
  // (null): every query the scopes allow is answered NotFound.
  // REQUIRES: outlives the plugin.
  const ReadModels* read_models = nullptr;
  // The domain codec (hearth/domain.h) of Event JSON (hearth/event_json.h):
  // events of domain types reach the plugin with their facts (and personal
  // details, where the scopes allow) decoded as JSON, and the plugin appends
  // them in the same form, checked against the schema. Default (null): the
  // builtin codec. REQUIRES: outlives the plugin.
  const domain::Codec* codec = nullptr;
};

// What a plugin file holds, as its table states it.
struct PluginInfo {
  std::string path;
  std::string name;          // 1..64 of [a-z0-9_-]: the name its configuration is kept under
  std::string version;       // the plugin's own version
  uint32_t abi_version = 0;  // the ABI version it asked for
};

// One plugin, loaded and initialised. Not copyable; destroy it to unload.
// Thread-safe: Start and Stop may be called from any one thread at a time.
class LoadedPlugin {
 public:
  // Opens `path` (dlopen), looks up `hearth_plugin_entry`, checks the ABI
  // version the plugin asks for and calls its init with `config_json` (a JSON
  // object; "" is read as "{}"). The plugin is not started.
  // REQUIRES: `session` outlives the returned plugin.
  // Returns: NotFound (no such file), InvalidArgument (not a loadable shared
  // object, no entry symbol, a malformed table, config not a JSON object),
  // NotSupported (the plugin asks for a newer ABI version, or refuses this
  // host), or the plugin's own init error (code and message as it gave them,
  // the message prefixed with the plugin's name).
  // Opens `path`, checks it as Load does and closes it again, without calling
  // init: tells the caller which plugin a file holds, so that it can build the
  // plugin's Session from the configuration kept under that name. Returns the
  // errors of Load, except the plugin's own init error.
  static Result<PluginInfo> Inspect(const std::string& path);

  static Result<std::unique_ptr<LoadedPlugin>> Load(const std::string& path, Session& session,
                                                    const std::string& config_json,
                                                    LoadOptions options = {});

  // Stops the plugin when started, ends any subscription it left open,
  // destroys its state and unloads the shared object.
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  // Calls the plugin's start. InvalidArgument when already started; the
  // plugin's own error otherwise.
  Status Start();
  // Calls the plugin's stop (when started), then ends any subscription it
  // left open. Idempotent.
  void Stop();
  bool started() const { return started_; }

  const PluginInfo& info() const { return info_; }
  const std::string& path() const { return info_.path; }
  const std::string& name() const { return info_.name; }
  const std::string& version() const { return info_.version; }
  // The ABI version the plugin asked for.
  uint32_t abi_version() const { return info_.abi_version; }
  // Subscriptions the plugin holds open now.
  size_t open_subscriptions() const;

 private:
  LoadedPlugin() = default;

  PluginInfo info_;
  void* dl_ = nullptr;
  const hearth_plugin_api* api_ = nullptr;
  std::unique_ptr<hearth_host> host_;
  hearth_plugin* plugin_ = nullptr;
  bool started_ = false;
};

// The host table this build implements (for tests and diagnostics).
const hearth_host_api* HostApi();

}  // namespace hearth::plugins
