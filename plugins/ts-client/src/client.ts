// A client for hearth's plugin protocol, written from api/schema/protocol.capnp
// and docs/protocol.md alone: TLS 1.3 with a client certificate (Node's `tls`),
// Cap'n Proto messages in the standard stream framing (capnp-es), one request
// at a time answered in order, subscription pushes with credit-based flow
// control, and errors as a code plus a message (HearthError).
import { randomUUID } from "node:crypto";
import * as tls from "node:tls";

import * as $ from "capnp-es";

import { SubjectRole } from "../gen/envelope.js";
import type { NewEvent, RecordedEvent } from "../gen/envelope.js";
import {
  ClientMessage,
  ErrorCode,
  type Error as WireError,
  type Scopes as WireScopes,
  ServerMessage,
  ServerMessage_Which,
} from "../gen/protocol.js";
import { FrameReader } from "./framing.js";

/** The protocol version this client speaks (`protocolVersion` in protocol.capnp). */
export const PROTOCOL_VERSION = 1;

export type SubjectRoleName = "client" | "carer" | "relative" | "referrer" | "staff" | "other";

export interface ConnectOptions {
  host: string;
  port: number;
  /** PEM: the CA that signed the server's certificate. */
  ca: string | Buffer;
  /** PEM: this plugin's certificate (its subject CN is the plugin's name) and key. */
  cert: string | Buffer;
  key: string | Buffer;
  /** The user and role the plugin acts for (Hello). */
  user?: string;
  role?: string;
  /** Names this client in the server's log. */
  clientName?: string;
  /** Largest message accepted from the server; default 1 MiB (the server's default limit). */
  maxMessageBytes?: number;
}

export interface Scopes {
  appendTypes: string[];
  readStreams: string[];
  readDistricts: string[];
  readModels: string[];
  readPersonal: boolean;
  readLog: boolean;
  controller: boolean;
}

export interface HelloInfo {
  protocolVersion: number;
  serverVersion: string;
  plugin: string;
  user: string;
  role: string;
  scopes: Scopes;
}

export type Expected = { kind: "any" } | { kind: "noStream" } | { kind: "exact"; version: bigint };

export interface NewEventInput {
  /** A UUID; generated when absent. A retry must reuse it. */
  id?: string;
  type: string;
  schemaVersion?: number;
  /** Business time, microseconds since the Unix epoch. */
  occurredAt?: bigint;
  correlationId?: string;
  causationId?: string;
  subjects?: { id: string; role?: SubjectRoleName }[];
  /** Non-identifying payload (for domain types: a packed `Facts` message of domain.capnp). */
  facts?: Uint8Array;
  /** Personal payload per subject (for domain types: a packed `Personal` message). */
  personal?: { subject: string; data: Uint8Array; identifiers?: { kind: string; value: string }[] }[];
}

export interface RecordedEventOut {
  position: bigint;
  stream: string;
  streamVersion: bigint;
  id: string;
  type: string;
  schemaVersion: number;
  recordedAt: bigint;
  occurredAt: bigint;
  actor: { user: string; role: string; plugin: string };
  correlationId?: string;
  causationId?: string;
  subjects: { id: string; role: SubjectRoleName }[];
  facts: Uint8Array;
  personal: { subject: string; data: Uint8Array; erased: boolean }[];
}

export interface AppendResult {
  firstPosition: bigint;
  lastPosition: bigint;
  firstVersion: bigint;
  lastVersion: bigint;
  duplicate: boolean;
}

export interface Page {
  events: RecordedEventOut[];
  /** The server cut the answer at its page size: read on from after the last event. */
  more: boolean;
}

/** A failed request: `code` is hearth::Status::Code's number, `codeName` its schema name. */
export class HearthError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(`${codeName}: ${message}`);
  }
}

const ROLE_BY_NAME = new Map<string, number>(
  Object.entries(SubjectRole).map(([k, v]) => [k.toLowerCase(), v as number]),
);
const ROLE_NAME = new Map<number, SubjectRoleName>(
  Object.entries(SubjectRole).map(([k, v]) => [v as number, k.toLowerCase() as SubjectRoleName]),
);
// ErrorCode enumerants by number, in the schema's camelCase (PERMISSION_DENIED -> permissionDenied).
const ERROR_NAME = new Map<number, string>(
  Object.entries(ErrorCode).map(([k, v]) => [
    v as number,
    k.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  ]),
);

function errorOf(e: WireError): HearthError {
  return new HearthError(e.code, ERROR_NAME.get(e.code) ?? `code${e.code}`, e.message);
}

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${uuid}`);
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

function uuidString(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function copyData(d: $.Data): Uint8Array {
  return new Uint8Array(d.toUint8Array());
}

function strings(list: $.List<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < list.length; i++) out.push(list.get(i));
  return out;
}

function scopesOf(s: WireScopes): Scopes {
  return {
    appendTypes: strings(s.appendTypes),
    readStreams: strings(s.readStreams),
    readDistricts: strings(s.readDistricts),
    readModels: strings(s.readModels),
    readPersonal: s.readPersonal,
    readLog: s.readLog,
    controller: s.controller,
  };
}

function writeEvent(e: NewEventInput, out: NewEvent): void {
  out._initId(16).copyBuffer(uuidBytes(e.id ?? randomUUID()));
  out.type = e.type;
  out.schemaVersion = e.schemaVersion ?? 1;
  out.occurredAt = e.occurredAt ?? 0n;
  if (e.correlationId) out._initCorrelationId(16).copyBuffer(uuidBytes(e.correlationId));
  if (e.causationId) out._initCausationId(16).copyBuffer(uuidBytes(e.causationId));
  const subjects = e.subjects ?? [];
  const sl = out._initSubjects(subjects.length);
  subjects.forEach((s, i) => {
    const ref = sl.get(i);
    ref.id = s.id;
    const role = ROLE_BY_NAME.get(s.role ?? "client");
    if (role === undefined) throw new TypeError(`unknown subject role ${s.role}`);
    ref.role = role as SubjectRole;
  });
  if (e.facts && e.facts.length > 0) out._initFacts(e.facts.length).copyBuffer(e.facts);
  const personal = e.personal ?? [];
  const pl = out._initPersonal(personal.length);
  personal.forEach((p, i) => {
    const section = pl.get(i);
    section.subject = p.subject;
    if (p.data.length > 0) section._initData(p.data.length).copyBuffer(p.data);
    const ids = p.identifiers ?? [];
    const il = section._initIdentifiers(ids.length);
    ids.forEach((id, k) => {
      il.get(k).kind = id.kind;
      il.get(k).value = id.value;
    });
  });
}

function readEvent(e: RecordedEvent): RecordedEventOut {
  const subjects: RecordedEventOut["subjects"] = [];
  for (let i = 0; i < e.subjects.length; i++) {
    const s = e.subjects.get(i);
    subjects.push({ id: s.id, role: ROLE_NAME.get(s.role) ?? "other" });
  }
  const personal: RecordedEventOut["personal"] = [];
  for (let i = 0; i < e.personal.length; i++) {
    const p = e.personal.get(i);
    personal.push({ subject: p.subject, data: copyData(p.data), erased: p.erased });
  }
  const correlation = copyData(e.correlationId);
  const causation = copyData(e.causationId);
  return {
    position: e.position,
    stream: e.stream,
    streamVersion: e.streamVersion,
    id: uuidString(copyData(e.id)),
    type: e.type,
    schemaVersion: e.schemaVersion,
    recordedAt: e.recordedAt,
    occurredAt: e.occurredAt,
    actor: { user: e.actor.user, role: e.actor.role, plugin: e.actor.plugin },
    ...(correlation.length === 16 ? { correlationId: uuidString(correlation) } : {}),
    ...(causation.length === 16 ? { causationId: uuidString(causation) } : {}),
    subjects,
    facts: copyData(e.facts),
    personal,
  };
}

function readEvents(list: $.List<RecordedEvent>): RecordedEventOut[] {
  const out: RecordedEventOut[] = [];
  for (let i = 0; i < list.length; i++) out.push(readEvent(list.get(i)));
  return out;
}

interface Pending {
  expect: ServerMessage_Which;
  resolve: (m: ServerMessage) => void;
  reject: (e: Error) => void;
}

/** Receives a subscription's events; return (or resolve) before the next is given. */
export type EventHandler = (event: RecordedEventOut) => void | Promise<void>;

interface SubscriptionState {
  onEvent: EventHandler;
  ended: Promise<HearthError | null>;
  end: (why: HearthError | null) => void;
  // Pushes are handled one after another, so credits are given back only
  // for events the handler has finished with.
  queue: Promise<void>;
}

/** An open subscription: `ended` resolves with null when unsubscribed, or with the server's reason. */
export interface Subscription {
  id: bigint;
  lastPosition: bigint;
  ended: Promise<HearthError | null>;
  unsubscribe(): Promise<void>;
}

export class HearthClient {
  private readonly reader: FrameReader;
  private nextId = 1n;
  private readonly pending = new Map<bigint, Pending>();
  private readonly subscriptions = new Map<bigint, SubscriptionState>();
  private failure: Error | null = null;
  private info: HelloInfo | null = null;

  private constructor(
    private readonly socket: tls.TLSSocket,
    maxMessageBytes: number,
  ) {
    this.reader = new FrameReader(maxMessageBytes);
    socket.on("data", (data: Buffer) => this.onData(data));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  /** Connects over TLS 1.3 with the client certificate and says hello. */
  static async connect(options: ConnectOptions): Promise<HearthClient> {
    const socket = tls.connect({
      host: options.host,
      port: options.port,
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      minVersion: "TLSv1.3",
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    const client = new HearthClient(socket, options.maxMessageBytes ?? 1 << 20);
    try {
      client.info = await client.hello(options.user ?? "", options.role ?? "", options.clientName);
    } catch (e) {
      client.close();
      throw e;
    }
    return client;
  }

  /** What the server answered to hello: versions, plugin, user, role and effective scopes. */
  get helloInfo(): HelloInfo {
    if (this.info === null) throw new Error("not connected");
    return this.info;
  }

  /** Says who acts; may be repeated to switch user or role. */
  async hello(user: string, role: string, clientName = "hearth-ts-client/0.1.0"): Promise<HelloInfo> {
    const m = await this.request((c) => {
      const h = c._initHello();
      h.protocolVersion = PROTOCOL_VERSION;
      h.user = user;
      h.role = role;
      h.client = clientName;
    }, ServerMessage_Which.HELLO_RESULT);
    const r = m.helloResult;
    this.info = {
      protocolVersion: r.protocolVersion,
      serverVersion: r.serverVersion,
      plugin: r.plugin,
      user: r.user,
      role: r.role,
      scopes: scopesOf(r.scopes),
    };
    return this.info;
  }

  /** Appends events to one stream atomically. */
  async append(stream: string, expected: Expected, events: NewEventInput[]): Promise<AppendResult> {
    const m = await this.request((c) => {
      const a = c._initAppend();
      a.stream = stream;
      const ev = a._initExpected();
      if (expected.kind === "any") ev.any = true;
      else if (expected.kind === "noStream") ev.noStream = true;
      else ev.exact = expected.version;
      const list = a._initEvents(events.length);
      events.forEach((e, i) => writeEvent(e, list.get(i)));
    }, ServerMessage_Which.APPENDED);
    const r = m.appended;
    return {
      firstPosition: r.firstPosition,
      lastPosition: r.lastPosition,
      firstVersion: r.firstVersion,
      lastVersion: r.lastVersion,
      duplicate: r.duplicate,
    };
  }

  async readStream(
    stream: string,
    opts: { from?: bigint; backward?: boolean; maxCount?: number; purpose?: string } = {},
  ): Promise<Page> {
    const m = await this.request((c) => {
      const r = c._initReadStream();
      r.stream = stream;
      r.from = opts.from ?? (opts.backward ? 0n : 1n);
      r.backward = opts.backward ?? false;
      r.maxCount = opts.maxCount ?? 0;
      r.purpose = opts.purpose ?? "";
    }, ServerMessage_Which.EVENTS);
    return { events: readEvents(m.events.events), more: m.events.more };
  }

  async readAll(opts: { from?: bigint; maxCount?: number; purpose?: string } = {}): Promise<Page> {
    const m = await this.request((c) => {
      const r = c._initReadAll();
      r.from = opts.from ?? 1n;
      r.maxCount = opts.maxCount ?? 0;
      r.purpose = opts.purpose ?? "";
    }, ServerMessage_Which.EVENTS);
    return { events: readEvents(m.events.events), more: m.events.more };
  }

  async readSubject(
    subject: string,
    opts: { from?: bigint; maxCount?: number; purpose?: string } = {},
  ): Promise<Page> {
    const m = await this.request((c) => {
      const r = c._initReadSubject();
      r.subject = subject;
      r.from = opts.from ?? 1n;
      r.maxCount = opts.maxCount ?? 0;
      r.purpose = opts.purpose ?? "";
    }, ServerMessage_Which.EVENTS);
    return { events: readEvents(m.events.events), more: m.events.more };
  }

  /** Queries a read model; `params` is its JSON object. Returns the parsed JSON answer. */
  async query(model: string, params: unknown = {}): Promise<unknown> {
    const m = await this.request((c) => {
      const q = c._initQuery();
      q.model = model;
      q.params = JSON.stringify(params);
    }, ServerMessage_Which.QUERY_RESULT);
    return JSON.parse(m.queryResult.json);
  }

  async serverInfo(): Promise<{ serverVersion: string; formatVersion: number; scopes: Scopes; readModels: string[] }> {
    const m = await this.request((c) => {
      c.serverInfo = true;
    }, ServerMessage_Which.SERVER_INFO);
    const s = m.serverInfo;
    return {
      serverVersion: s.serverVersion,
      formatVersion: s.formatVersion,
      scopes: scopesOf(s.scopes),
      readModels: strings(s.readModels),
    };
  }

  async ping(): Promise<void> {
    await this.request((c) => {
      c.ping = true;
    }, ServerMessage_Which.PONG);
  }

  /**
   * Catch-up then live delivery of the log from `from`. The server pushes at
   * most `credits` events ahead of what the handler has finished; the client
   * gives credits back as each push is handled, so a slow handler slows the
   * server down instead of filling memory.
   */
  async subscribe(
    from: bigint,
    onEvent: EventHandler,
    opts: { credits?: number; purpose?: string } = {},
  ): Promise<Subscription> {
    const credits = opts.credits ?? 64;
    let end!: (why: HearthError | null) => void;
    const ended = new Promise<HearthError | null>((resolve) => (end = resolve));
    const state: SubscriptionState = { onEvent, ended, end, queue: Promise.resolve() };
    const id = this.nextId; // the subscribe's requestId names the subscription
    this.subscriptions.set(id, state);
    let m: ServerMessage;
    try {
      m = await this.request((c) => {
        const s = c._initSubscribe();
        s.from = from;
        s.credits = credits;
        s.purpose = opts.purpose ?? "";
      }, ServerMessage_Which.SUBSCRIBED);
    } catch (e) {
      this.subscriptions.delete(id);
      throw e;
    }
    return {
      id,
      lastPosition: m.subscribed.lastPosition,
      ended,
      unsubscribe: async () => {
        await this.request((c) => {
          c._initUnsubscribe().subscription = id;
        }, ServerMessage_Which.UNSUBSCRIBED);
        this.subscriptions.delete(id);
        state.end(null);
      },
    };
  }

  /** Closes the connection; pending requests fail. */
  close(): void {
    this.fail(new Error("closed by the client"));
    this.socket.end();
  }

  private request(build: (c: ClientMessage) => void, expect: ServerMessage_Which): Promise<ServerMessage> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    const message = new $.Message();
    const root = message.initRoot(ClientMessage);
    root.requestId = id;
    build(root);
    const bytes = new Uint8Array(message.toArrayBuffer());
    return new Promise<ServerMessage>((resolve, reject) => {
      this.pending.set(id, { expect, resolve, reject });
      this.socket.write(bytes);
    });
  }

  private send(build: (c: ClientMessage) => void): void {
    if (this.failure !== null) return;
    const message = new $.Message();
    const root = message.initRoot(ClientMessage);
    root.requestId = 0n;
    build(root);
    this.socket.write(new Uint8Array(message.toArrayBuffer()));
  }

  private onData(data: Buffer): void {
    let frames: Uint8Array[];
    try {
      frames = this.reader.push(data);
    } catch (e) {
      this.fail(e as Error);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      try {
        this.dispatch(new $.Message(frame, false).getRoot(ServerMessage));
      } catch (e) {
        this.fail(new Error(`malformed message from the server: ${(e as Error).message}`));
        this.socket.destroy();
        return;
      }
    }
  }

  private dispatch(m: ServerMessage): void {
    const which = m.which();
    const id = m.requestId;
    if (which === ServerMessage_Which.SUBSCRIPTION_EVENTS) {
      const state = this.subscriptions.get(id);
      if (state === undefined) return; // pushes that crossed an unsubscribe
      const events = readEvents(m.subscriptionEvents.events);
      state.queue = state.queue.then(async () => {
        for (const e of events) await state.onEvent(e);
        this.send((c) => {
          const credit = c._initCredit();
          credit.subscription = id;
          credit.events = events.length;
        });
      });
      state.queue.catch((e) => this.fail(e as Error));
      return;
    }
    if (which === ServerMessage_Which.SUBSCRIPTION_ENDED) {
      const state = this.subscriptions.get(id);
      this.subscriptions.delete(id);
      state?.end(m.subscriptionEnded.code === ErrorCode.OK ? null : errorOf(m.subscriptionEnded));
      return;
    }
    if (which === ServerMessage_Which.GOODBYE) {
      this.fail(errorOf(m.goodbye));
      return;
    }
    const p = this.pending.get(id);
    if (p === undefined) {
      this.fail(new Error(`an answer to request ${id}, which is not pending`));
      return;
    }
    this.pending.delete(id);
    if (which === ServerMessage_Which.ERROR) p.reject(errorOf(m.error));
    else if (which !== p.expect) p.reject(new Error(`request ${id}: unexpected answer ${which}`));
    else p.resolve(m);
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    for (const s of this.subscriptions.values()) s.end(this.failure instanceof HearthError ? this.failure : null);
    this.subscriptions.clear();
  }
}
