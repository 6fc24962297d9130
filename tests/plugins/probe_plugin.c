/* A test plugin written in C11: it proves the ABI header is plain C, and lets
 * the tests drive the host table exactly as a plugin would. It exports, beside
 * the entry symbol, probe_* functions that the tests look up with dlsym.
 * Built twice: for this ABI version, and (PROBE_ABI_VERSION) for a newer one. */
#include <stdlib.h>
#include <string.h>

#include "hearth/plugin_abi.h"

#ifndef PROBE_ABI_VERSION
#define PROBE_ABI_VERSION HEARTH_PLUGIN_ABI_VERSION
#endif

/* Lifecycle counters: entry, init, start, stop, destroy. */
enum { PROBE_ENTRY, PROBE_INIT, PROBE_START, PROBE_STOP, PROBE_DESTROY, PROBE_COUNTERS };
static int g_calls[PROBE_COUNTERS];
static const hearth_host_api* g_api;
static hearth_host* g_host;
static char g_config[4096];

struct hearth_plugin {
  int magic;
};

static void probe_buffer_free(hearth_buffer* buffer) {
  if (buffer == NULL) return;
  free(buffer->data);
  buffer->data = NULL;
  buffer->size = 0;
}

static void fill(hearth_buffer* buffer, const char* text) {
  size_t n = strlen(text);
  buffer->data = (char*)malloc(n + 1);
  if (buffer->data == NULL) return;
  memcpy(buffer->data, text, n + 1);
  buffer->size = n;
}

static hearth_code probe_init(const hearth_host_api* api, hearth_host* host,
                              hearth_str config_json, hearth_plugin** out, hearth_buffer* error) {
  size_t n = config_json.size < sizeof g_config - 1 ? config_json.size : sizeof g_config - 1;
  ++g_calls[PROBE_INIT];
  memcpy(g_config, config_json.data, n);
  g_config[n] = '\0';
  if (strstr(g_config, "\"failInit\"") != NULL) {
    fill(error, "asked to fail in init");
    return HEARTH_INVALID_ARGUMENT;
  }
  g_api = api;
  g_host = host;
  *out = (hearth_plugin*)malloc(sizeof(hearth_plugin));
  if (*out == NULL) return HEARTH_BUSY;
  (*out)->magic = 42;
  return HEARTH_OK;
}

static hearth_code probe_start(hearth_plugin* plugin, hearth_buffer* error) {
  ++g_calls[PROBE_START];
  if (plugin->magic != 42 || strstr(g_config, "\"failStart\"") != NULL) {
    fill(error, "asked to fail in start");
    return HEARTH_BUSY;
  }
  return HEARTH_OK;
}

static void probe_stop(hearth_plugin* plugin) {
  (void)plugin;
  ++g_calls[PROBE_STOP];
}

static void probe_destroy(hearth_plugin* plugin) {
  ++g_calls[PROBE_DESTROY];
  g_api = NULL;
  g_host = NULL;
  free(plugin);
}

static const hearth_plugin_api k_api = {
    sizeof(hearth_plugin_api), PROBE_ABI_VERSION, "probe", "0.0.1",
    probe_init, probe_start, probe_stop, probe_destroy, probe_buffer_free,
};

HEARTH_PLUGIN_EXPORT const hearth_plugin_api* hearth_plugin_entry(uint32_t host_abi_version) {
  ++g_calls[PROBE_ENTRY];
  /* A plugin may use HEARTH_ABI_HAS to look for members newer than it asked for. */
  (void)host_abi_version;
  return &k_api;
}

HEARTH_PLUGIN_EXPORT int probe_calls(int which) {
  return which >= 0 && which < PROBE_COUNTERS ? g_calls[which] : -1;
}
HEARTH_PLUGIN_EXPORT void probe_reset(void) { memset(g_calls, 0, sizeof g_calls); }
HEARTH_PLUGIN_EXPORT const hearth_host_api* probe_host_api(void) { return g_api; }
HEARTH_PLUGIN_EXPORT hearth_host* probe_host(void) { return g_host; }
HEARTH_PLUGIN_EXPORT const char* probe_config(void) { return g_config; }
/* True when the host table has every member of version 1 (HEARTH_ABI_HAS). */
HEARTH_PLUGIN_EXPORT int probe_host_has_query(void) {
  return HEARTH_ABI_HAS(g_api, hearth_host_api, query);
}
