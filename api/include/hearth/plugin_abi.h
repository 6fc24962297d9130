/* hearth: the in-process plugin ABI (docs/plugin-abi.md).
 *
 * A plugin is a shared object that `hearth serve --plugin PATH` loads into its
 * own process. This header is the whole contract between the two: plain C11,
 * so a plugin can be written in any language that can export a C function,
 * and built with any compiler, independently of hearth's C++ ABI.
 *
 * The shape follows the SQLite and DuckDB extension ABIs:
 *  - one entry symbol, `hearth_plugin_entry`, which returns the plugin's own
 *    function table (hearth_plugin_api);
 *  - the plugin names the ABI version it needs in that table; the host refuses
 *    a plugin that asks for a newer version than it implements (the plugin is
 *    never called again), and gives an older plugin the table it knows;
 *  - function tables only ever grow at their end, and each starts with its
 *    size, so either side can tell whether a later member is there
 *    (HEARTH_ABI_HAS);
 *  - handles are opaque; errors are a code (hearth::Status::Code) plus a
 *    message; no C++ exception ever crosses the boundary, in either direction;
 *  - strings are UTF-8, passed as pointer + length, never NUL-terminated
 *    unless stated;
 *  - a buffer is freed by the side that allocated it, through that side's
 *    `buffer_free`.
 *
 * Everything a plugin does with the store goes through the host table, which
 * acts through one hearth::Session: the scopes configured for the plugin are
 * enforced by the store, the plugin cannot choose its actor, and its reads of
 * personal data are written to the access log.
 *
 * Lifecycle, as the host drives it:
 *   hearth_plugin_entry(host_abi_version) -> table (version checked)
 *   init(host api, host handle, config JSON) -> plugin handle
 *   start(plugin)        the plugin may now subscribe, start threads, ...
 *   stop(plugin)         the plugin ends its threads; afterwards the host
 *                        ends any subscription the plugin left open
 *   destroy(plugin)      frees the plugin handle; then the host unloads it
 * init, start, stop and destroy are called from one host thread, in that
 * order; stop is called only after a successful start; destroy after any
 * successful init (also when start failed).
 */
#ifndef HEARTH_PLUGIN_ABI_H_
#define HEARTH_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header describes. Version 1: everything below up to the
 * host table's `query`; version 2 adds the host table's `read_document`. A
 * later version only adds members at the end of the tables (and constants). */
#define HEARTH_PLUGIN_ABI_VERSION 2u

/* The one symbol a plugin exports (see hearth_plugin_entry below). */
#define HEARTH_PLUGIN_ENTRY_SYMBOL "hearth_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define HEARTH_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define HEARTH_PLUGIN_EXPORT
#endif

/* True when the table `t` (a pointer to a struct starting with struct_size)
 * has the member `m`: use it before calling a member newer than the ABI
 * version you asked for. */
#define HEARTH_ABI_HAS(t, type, m) \
  ((t) != NULL && (t)->struct_size >= offsetof(type, m) + sizeof(((type*)0)->m))

/* ---- codes: the values of hearth::Status::Code (api/include/hearth/status.h) */

typedef int32_t hearth_code;
#define HEARTH_OK 0
#define HEARTH_NOT_FOUND 1          /* no such stream, subject, position or model */
#define HEARTH_INVALID_ARGUMENT 2   /* malformed request; nothing was changed */
#define HEARTH_CONFLICT 3           /* wrong expected version (re-read, then retry) */
#define HEARTH_CORRUPTION 4         /* stored bytes fail a check */
#define HEARTH_IO_ERROR 5           /* the file system or RocksDB failed */
#define HEARTH_LOCKED 6             /* another process holds the store */
#define HEARTH_WRONG_KEY 7          /* the key does not open the store */
#define HEARTH_ERASED 8             /* the data subject was erased */
#define HEARTH_NOT_SUPPORTED 9      /* e.g. a newer ABI version than the host has */
#define HEARTH_PERMISSION_DENIED 10 /* outside the plugin's scopes; names the scope */
#define HEARTH_TOO_LARGE 11         /* exceeds a configured limit */
#define HEARTH_BUSY 12              /* retryable: shutting down or overloaded */

/* ---- strings and buffers */

/* A borrowed UTF-8 string: `size` bytes at `data` (data may be NULL when
 * size is 0). Valid only for the duration of the call it is passed to. */
typedef struct hearth_str {
  const char* data;
  size_t size;
} hearth_str;

/* Bytes handed from one side to the other. The receiver reads them and gives
 * the buffer back to the allocating side's `buffer_free`, which frees `data`
 * and sets the buffer to {NULL, 0}. Freeing an empty buffer does nothing.
 * Buffers that a call fills are UTF-8 text (JSON or a message), except the
 * body read_document fills (raw bytes, which may hold NULs); every filled
 * buffer is followed by a NUL byte not counted in `size`, for the
 * convenience of C. */
typedef struct hearth_buffer {
  char* data;
  size_t size;
} hearth_buffer;

/* ---- opaque handles */

typedef struct hearth_host hearth_host;                 /* the host's side of one loaded plugin */
typedef struct hearth_plugin hearth_plugin;             /* the plugin's own state, never read by the host */
typedef struct hearth_subscription hearth_subscription; /* one subscription to the log */

/* ---- constants of the host calls */

/* Expected version of a stream for append (hearth::ExpectedVersion). */
#define HEARTH_EXPECT_ANY 0       /* append whatever the stream's version */
#define HEARTH_EXPECT_NO_STREAM 1 /* the stream must not exist yet */
#define HEARTH_EXPECT_EXACT 2     /* the stream's last version must equal `expected_version` */

/* Direction of read_stream. */
#define HEARTH_FORWARD 0
#define HEARTH_BACKWARD 1

/* Levels of log. */
#define HEARTH_LOG_DEBUG 0
#define HEARTH_LOG_INFO 1
#define HEARTH_LOG_WARNING 2
#define HEARTH_LOG_ERROR 3

/* Called on a host thread, once per event, in position order, with no gap
 * and no duplicate: first the history from the subscription's position, then
 * live appends. `event_json` is one RecordedEvent in its JSON form. Return
 * nonzero to go on, 0 to end the subscription. Must not call unsubscribe for
 * the same subscription (return 0 instead); may call any other host function. */
typedef int32_t (*hearth_event_fn)(void* context, hearth_str event_json);

/* Called once when a subscription ends: HEARTH_OK when it was stopped or the
 * event function returned 0, otherwise the error that ended it. After it
 * returns the host never uses `context` again. */
typedef void (*hearth_end_fn)(void* context, hearth_code code, hearth_str message);

/* ---- the host table: what a plugin may do
 *
 * Every member is thread-safe and may be called from any thread between init
 * and the return of stop (and from inside event and end functions).
 * On failure a member returns a code other than HEARTH_OK and, when `error`
 * is not NULL, fills it with a message (free it with buffer_free); `out` is
 * then left empty. On success `error` is left empty.
 *
 * The JSON forms are those of docs/plugin-abi.md ("Event JSON"): field names of
 * api/schema/envelope.capnp in camelCase, ids as UUID strings, times as
 * RFC 3339 UTC. Events of domain types (api/schema/domain.capnp) have their
 * facts and personal details as JSON objects in the domain codec's form, when
 * the host has the codec (hearth serve does); other facts and personal data
 * are JSON when the stored bytes are JSON text, otherwise base64 under
 * "factsBase64" / "dataBase64". Reads return at most 10,000 events a call. */
typedef struct hearth_host_api {
  /* sizeof(hearth_host_api) of the host: the table holds every member that
   * ends at or before this offset. */
  uint32_t struct_size;
  /* The newest ABI version the host implements. */
  uint32_t abi_version;

  /* Frees a buffer that the host filled. */
  void (*buffer_free)(hearth_buffer* buffer);

  /* Writes one line to the host's log, prefixed with the plugin's name.
   * The message must hold no personal data. */
  void (*log)(hearth_host* host, int32_t level, hearth_str message);

  /* The plugin's principal and scopes as one JSON object:
   * {"plugin", "user", "role", "abiVersion", "scopes": {"appendTypes": [...],
   *  "readStreams": [...], "readDistricts": [...], "readModels": [...],
   *  "readPersonal", "readLog", "controller"}}. */
  hearth_code (*principal)(hearth_host* host, hearth_buffer* out_json, hearth_buffer* error);

  /* Appends events to one stream atomically: `events_jsonl` holds one NewEvent
   * JSON object per line (blank lines are ignored). The actor of each event is
   * set from the plugin's principal. `out_json` receives
   * {"firstPosition", "lastPosition", "firstVersion", "lastVersion",
   *  "duplicate"}.
   * Returns PERMISSION_DENIED (an event type outside the scopes), CONFLICT,
   * INVALID_ARGUMENT (naming the line and field), TOO_LARGE, ERASED, IO_ERROR. */
  hearth_code (*append)(hearth_host* host, hearth_str stream, int32_t expected_kind,
                        uint64_t expected_version, hearth_str events_jsonl,
                        hearth_buffer* out_json, hearth_buffer* error);

  /* Up to `max_count` events of one stream from stream version `from`
   * (HEARTH_BACKWARD with from 0: from the last), as a JSON array. `purpose`
   * is written to the access log with reads of personal data.
   * Returns PERMISSION_DENIED, NOT_FOUND (no such stream), CORRUPTION. */
  hearth_code (*read_stream)(hearth_host* host, hearth_str stream, uint64_t from,
                             int32_t direction, uint64_t max_count, hearth_str purpose,
                             hearth_buffer* out_json, hearth_buffer* error);

  /* Up to `max_count` events of the whole log from global position `from`
   * (>= 1), as a JSON array; empty at the end of the log. Needs the readLog
   * scope. */
  hearth_code (*read_all)(hearth_host* host, uint64_t from, uint64_t max_count,
                          hearth_str purpose, hearth_buffer* out_json, hearth_buffer* error);

  /* Up to `max_count` events naming data subject `subject`, from global
   * position `from`, as a JSON array (only those the scopes let it read). */
  hearth_code (*read_subject)(hearth_host* host, hearth_str subject, uint64_t from,
                              uint64_t max_count, hearth_str purpose,
                              hearth_buffer* out_json, hearth_buffer* error);

  /* Delivers every event from global position `from` (>= 1), history then
   * live, to `on_event` on a host thread; `on_end` (may be NULL) when it ends.
   * Needs the readLog scope. `*out` receives the subscription's handle, valid
   * until unsubscribe (or until the host ends it after stop). */
  hearth_code (*subscribe)(hearth_host* host, uint64_t from, hearth_str purpose,
                           hearth_event_fn on_event, hearth_end_fn on_end, void* context,
                           hearth_subscription** out, hearth_buffer* error);

  /* Stops a subscription and frees its handle; returns after its event
   * function has returned for the last time and its end function has run.
   * INVALID_ARGUMENT when called from inside that subscription's own event
   * function (return 0 there instead) or with an unknown handle. */
  hearth_code (*unsubscribe)(hearth_host* host, hearth_subscription* subscription);

  /* Queries read model `model` (e.g. "worklist", "timeline") with parameters
   * `params_json` (a JSON object); `out_json` receives the model's JSON result.
   * Returns PERMISSION_DENIED (model outside the scopes), NOT_FOUND (no such
   * model in this host), INVALID_ARGUMENT (bad parameters). */
  hearth_code (*query)(hearth_host* host, hearth_str model, hearth_str params_json,
                       hearth_buffer* out_json, hearth_buffer* error);

  /* ---- version 2 */

  /* The body of document `index` (a DocumentAttached carries one: index 0)
   * of the event at global position `position` (docs/domain.md
   * "Documents"): its bytes in `out_body` (binary, not text), and
   * {"position", "index", "subject", "sizeBytes", "sha256"} in `out_json`
   * (sha256: of the bytes given, 64 lowercase hex digits). A
   * DocumentAttached's body is checked against the SHA-256 its event records
   * before it is given. `purpose` is written to the access log with the read,
   * as for read_stream. Needs readPersonal and the event's stream readable.
   * Returns PERMISSION_DENIED (naming the scope), NOT_FOUND (no event at
   * `position`, or no document `index` on it), ERASED (its subject was
   * erased), INVALID_ARGUMENT (a purpose that is not a code), CORRUPTION
   * (the body fails its check). On failure both buffers are left empty. */
  hearth_code (*read_document)(hearth_host* host, uint64_t position, uint32_t index,
                               hearth_str purpose, hearth_buffer* out_body,
                               hearth_buffer* out_json, hearth_buffer* error);

  /* Members added by later ABI versions go here, at the end. */
} hearth_host_api;

/* ---- the plugin table: what the host calls
 *
 * A plugin returns a pointer to a table with static storage duration from
 * hearth_plugin_entry. Members may not be NULL unless stated. */
typedef struct hearth_plugin_api {
  /* sizeof(hearth_plugin_api) as the plugin was compiled. */
  uint32_t struct_size;
  /* The ABI version the plugin needs: HEARTH_PLUGIN_ABI_VERSION of the header
   * it was built with. The host refuses the plugin when this is newer than
   * the host's own version, or 0. */
  uint32_t abi_version;
  /* NUL-terminated UTF-8 with static storage duration: the plugin's name
   * (1..64 of [a-z0-9_-]) and its own version, for logs and errors. */
  const char* name;
  const char* version;

  /* Creates the plugin's state. `api` and `host` stay valid until destroy
   * returns. `config_json` is the plugin's configuration (a JSON object,
   * "{}" when none). On failure returns a code and fills `error` (allocated
   * by the plugin, freed with the plugin's buffer_free); *out is ignored. */
  hearth_code (*init)(const hearth_host_api* api, hearth_host* host, hearth_str config_json,
                      hearth_plugin** out, hearth_buffer* error);
  /* Begins work (subscriptions, threads). Errors as for init. */
  hearth_code (*start)(hearth_plugin* plugin, hearth_buffer* error);
  /* Ends work and joins the plugin's threads. Must not fail. */
  void (*stop)(hearth_plugin* plugin);
  /* Frees the plugin's state. */
  void (*destroy)(hearth_plugin* plugin);
  /* Frees a buffer that the plugin filled (an error message). */
  void (*buffer_free)(hearth_buffer* buffer);

  /* Members added by later ABI versions go here, at the end. */
} hearth_plugin_api;

/* The entry symbol. The host calls it once after loading, with the newest
 * ABI version it implements. It returns the plugin's table, or NULL when the
 * plugin cannot work with that host (the host then refuses it). It must not
 * allocate resources: nothing is freed when the host refuses the table. */
typedef const hearth_plugin_api* (*hearth_plugin_entry_fn)(uint32_t host_abi_version);
HEARTH_PLUGIN_EXPORT const hearth_plugin_api* hearth_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* HEARTH_PLUGIN_ABI_H_ */
