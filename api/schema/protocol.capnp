# hearth: the network plugin protocol (docs/protocol.md).
#
# A plugin connects over TLS 1.3 with a client certificate whose subject CN is
# its plugin name. Both directions then carry a sequence of Cap'n Proto
# messages in the standard stream framing (segment table, then segments; no
# packing): the client sends ClientMessage, the server sends ServerMessage.
#
# The first client message must be `hello` (who the plugin acts for). Every
# request carries a client-chosen `requestId`; its answer carries the same id.
# Requests on one connection are executed one after another, in the order
# received, and answered in that order; subscription pushes interleave with
# answers. Errors are answered with `error` (a code and a message).
#
# Evolution: fields and union members are never renumbered; new ones are only
# ever added at the end. A server answers a union member it does not know with
# `error` code invalidArgument.
@0xe5884496043ecb51;

$import "/capnp/c++.capnp".namespace("hearth::protocol");

using Env = import "envelope.capnp";

const protocolVersion :UInt32 = 1;
# The version this schema describes. Sent in Hello and HelloResult.

# ---------------------------------------------------------------- client ----

# Everything a client sends.
struct ClientMessage {
  requestId @0 :UInt64;                  # chosen by the client, echoed in the answer; 0 only for `credit`
  union {
    hello @1 :Hello;                     # who acts; must be first; may be repeated to switch user
    append @2 :AppendRequest;            # append events to one stream -> `appended`
    readStream @3 :ReadStreamRequest;    # read one stream -> `events`
    readAll @4 :ReadAllRequest;          # read the whole log from a position -> `events`
    readSubject @5 :ReadSubjectRequest;  # read every event naming a subject -> `events`
    subscribe @6 :SubscribeRequest;      # catch-up then live subscription -> `subscribed`, then pushes
    unsubscribe @7 :UnsubscribeRequest;  # end a subscription -> `unsubscribed`
    credit @8 :Credit;                   # allow more pushes on a subscription; never answered
    query @9 :QueryRequest;              # query a read model -> `queryResult`
    serverInfo @10 :Void;                # versions, caller's scopes, limits -> `serverInfo`
    ping @11 :Void;                      # keeps an idle connection open -> `pong`
    backup @12 :Void;                    # an online backup into the server's backup_dir -> `backupResult` (scope backup)
    readDocument @13 :ReadDocumentRequest;  # one document body kept beside its event -> `document`
  }
}

# Who the plugin acts for. The plugin itself is named by its certificate.
struct Hello {
  protocolVersion @0 :UInt32;  # the version the client speaks (>= 1); the server refuses a newer one
  user @1 :Text;               # asserted user: a staff reference, 1 to 64 of [A-Za-z0-9._:@-], never a name
  role @2 :Text;               # asserted role; must be one configured for this plugin
  client @3 :Text;             # free text naming the client software and version, for the server log
}

# Expected version of the stream for an append.
struct ExpectedVersion {
  union {
    any @0 :Void;        # append whatever the stream's version
    noStream @1 :Void;   # the stream must not exist yet
    exact @2 :UInt64;    # the stream's current last version must be this (>= 1)
  }
}

struct AppendRequest {
  stream @0 :Text;                       # stream id, e.g. case/north/C-000017
  expected @1 :ExpectedVersion;          # concurrency check; conflict when it fails
  events @2 :List(Env.NewEvent);         # 1..max batch events; actor is set by the server
}

struct ReadStreamRequest {
  stream @0 :Text;        # stream id
  from @1 :UInt64;        # first stream version (inclusive); backward with 0: from the last
  backward @2 :Bool;      # read towards version 1
  maxCount @3 :UInt32;    # at most this many events (0: the server's page size)
  purpose @4 :Text;       # why, for the access log (a short code, no personal data)
}

struct ReadAllRequest {
  from @0 :UInt64;        # first global position (inclusive, >= 1)
  maxCount @1 :UInt32;    # at most this many events (0: the server's page size)
  purpose @2 :Text;       # why, for the access log
}

struct ReadSubjectRequest {
  subject @0 :Text;       # opaque subject reference
  from @1 :UInt64;        # first global position (inclusive, >= 1; 0 is read as 1)
  maxCount @2 :UInt32;    # at most this many events (0: the server's page size)
  purpose @3 :Text;       # why, for the access log
}

struct SubscribeRequest {
  from @0 :UInt64;        # first global position to deliver (>= 1)
  credits @1 :UInt32;     # events the server may push before waiting for a `credit`
  purpose @2 :Text;       # why, for the access log
}

struct UnsubscribeRequest {
  subscription @0 :UInt64;  # the requestId of the `subscribe` that opened it
}

# Flow control: the server pushes at most as many events as it was credited.
struct Credit {
  subscription @0 :UInt64;  # the requestId of the `subscribe` that opened it
  events @1 :UInt32;        # how many more events the client can take
}

# A document's body (docs/domain.md "Documents"), read by the position of the
# event it is kept beside. Needs readPersonal and the event's stream
# readable, as reading that event would.
struct ReadDocumentRequest {
  position @0 :UInt64;    # global position of the event (a DocumentAttached)
  index @1 :UInt32;       # which of the event's documents (a DocumentAttached has one: 0)
  purpose @2 :Text;       # why, for the access log (as for reads)
}

struct QueryRequest {
  model @0 :Text;         # read model name (timeline, worklist, sar, kpi, info ...)
  params @1 :Text;        # JSON object, as documented by the read model
}

# ---------------------------------------------------------------- server ----

# Everything the server sends.
struct ServerMessage {
  requestId @0 :UInt64;                      # the request answered; for pushes the subscribe's id; 0 for goodbye
  union {
    error @1 :Error;                         # the request failed; nothing was changed
    helloResult @2 :HelloResult;             # answers hello
    appended @3 :AppendResult;               # answers append
    events @4 :Events;                       # answers readStream, readAll, readSubject
    subscribed @5 :Subscribed;               # answers subscribe
    unsubscribed @6 :Void;                   # answers unsubscribe; no pushes follow it
    queryResult @7 :QueryResult;             # answers query
    serverInfo @8 :ServerInfo;               # answers serverInfo
    pong @9 :Void;                           # answers ping
    subscriptionEvents @10 :Events;          # push: events of a subscription, consumes credits
    subscriptionEnded @11 :Error;            # push: the server ended a subscription, with why
    goodbye @12 :Error;                      # the server is closing the connection, with why
    backupResult @13 :BackupResult;          # answers backup
    document @14 :DocumentResult;            # answers readDocument
  }
}

# Error codes: the same numbers as hearth::Status::Code (status.h).
enum ErrorCode {
  ok @0;                 # not an error (used in subscriptionEnded when stopped normally)
  notFound @1;           # no such stream, subject, position or read model
  invalidArgument @2;    # malformed request; nothing was changed
  conflict @3;           # wrong expected version; re-read and retry
  corruption @4;         # stored bytes fail a check; the message names the position
  ioError @5;            # the server's storage failed
  locked @6;             # the store is held by another process
  wrongKey @7;           # the store's key does not open it
  erased @8;             # the data subject was erased
  notSupported @9;       # e.g. a newer protocol version than the server speaks
  permissionDenied @10;  # outside the caller's scopes; the message names the scope
  tooLarge @11;          # a message or event exceeds a configured limit
  busy @12;              # retryable: rate limit, connection limit, shutting down
}

struct Error {
  code @0 :ErrorCode;    # what kind of failure
  message @1 :Text;      # what failed, for people; names the scope, limit or position
}

# What the caller may do (api/include/hearth/session.h Scopes). Patterns are
# exact names or end in `*` (prefix match); "*" matches everything.
struct Scopes {
  appendTypes @0 :List(Text);    # event types it may append
  readStreams @1 :List(Text);    # stream ids it may read
  readDistricts @2 :List(Text);  # districts whose case streams (case/<district>/...) it may read
  readModels @3 :List(Text);     # read models it may query
  readPersonal @4 :Bool;         # sees personal sections (otherwise they are removed)
  readLog @5 :Bool;              # may readAll and subscribe to the whole log
  controller @6 :Bool;           # data-controller operations
  backup @7 :Bool;               # may take an online backup (into the server's own backup_dir)
}

# The server's limits, so a client can stay inside them.
struct Limits {
  maxMessageBytes @0 :UInt32;        # largest message either side sends, framing included
  requestsPerSecond @1 :UInt32;      # sustained request rate for this plugin (all connections)
  burst @2 :UInt32;                  # requests allowed at once above the rate
  idleTimeoutMs @3 :UInt32;          # the connection closes after this long with no request and no subscription
  pageSize @4 :UInt32;               # most events in one `events` answer
  subscriptionBufferEvents @5 :UInt32;  # most events the server holds for one subscription
  maxSubscriptions @6 :UInt32;       # most open subscriptions on one connection
}

struct HelloResult {
  protocolVersion @0 :UInt32;   # the version the server speaks
  serverVersion @1 :Text;       # hearth version, e.g. 0.1.0
  plugin @2 :Text;              # the plugin name from the certificate
  user @3 :Text;                # the user now acting
  role @4 :Text;                # the role now acting
  scopes @5 :Scopes;            # effective scopes: the plugin's intersected with the role's
  limits @6 :Limits;            # the server's limits
}

struct AppendResult {
  firstPosition @0 :UInt64;     # global position of the first event
  lastPosition @1 :UInt64;      # global position of the last event
  firstVersion @2 :UInt64;      # stream version of the first event
  lastVersion @3 :UInt64;       # the stream's version after the append
  duplicate @4 :Bool;           # a retry of an earlier append (same event ids): original positions
}

struct Events {
  events @0 :List(Env.RecordedEvent);  # in the order read; personal sections only with readPersonal
  more @1 :Bool;                       # the answer was cut at the page size or message size: read on
}

struct Subscribed {
  subscription @0 :UInt64;      # the subscription's id (the subscribe's requestId)
  lastPosition @1 :UInt64;      # the log's last position when it started
}

struct QueryResult {
  json @0 :Text;                # the read model's answer, a JSON document
}

struct ServerInfo {
  protocolVersion @0 :UInt32;   # the version the server speaks
  serverVersion @1 :Text;       # hearth version
  formatVersion @2 :UInt32;     # the store's on-disk format version
  plugin @3 :Text;              # the caller's plugin name
  user @4 :Text;                # the caller's asserted user
  role @5 :Text;                # the caller's asserted role
  scopes @6 :Scopes;            # the caller's effective scopes
  limits @7 :Limits;            # the server's limits
  readModels @8 :List(Text);    # read models this server has (the caller may query those in its scopes)
}

struct BackupResult {
  position @0 :UInt64;          # the backup holds the log up to this position, exactly (a commit)
  directory @1 :Text;           # its directory's name under the server's backup_dir: <UTC time>-p<position>
}

struct DocumentResult {
  position @0 :UInt64;          # the event's global position, as asked
  index @1 :UInt32;             # the document's index, as asked
  subject @2 :Text;             # the data subject whose key seals it
  bytes @3 :Data;               # the body, checked against the SHA-256 its event records
  sha256 @4 :Text;              # SHA-256 of `bytes`, 64 lowercase hex digits, to check the transfer
}
