// libFuzzer target: the server's JSON configuration
// (plugins/server/config.cc, docs/plugins.md), which decides every plugin's
// scopes. Whatever the text, FromJson returns a configuration or one clear
// error; it never crashes, and an accepted configuration's scopes are
// computed for any role without fault.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = hearth::server::ServerConfig::FromJson(text, "/nonexistent-base");
  if (!config.ok()) return 0;
  for (const auto& [name, plugin] : config->plugins) {
    for (const char* role : {"", "caseworker", "controller", "partner", "x"}) {
      (void)hearth::server::EffectiveScopes(plugin, role);
    }
  }
  return 0;
}
