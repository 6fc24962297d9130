// Appends a contact (a new enquiry, as domain.capnp's ContactRecorded facts
// and a Personal section for a synthetic client) to a fresh case stream,
// reads it back, checks every field, follows it through a subscription with
// one credit at a time, and checks that an event type outside the plugin's
// scopes is refused. Prints one JSON line; exit status 0 only when all hold.
//
//   node dist/src/roundtrip.js --host 127.0.0.1 --port 7443 --ca ca.pem \
//        --cert plugin.pem --key plugin.key [--district north] [--role caseworker]
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import * as $ from "capnp-es";

import { Channel, ContactPurpose, Facts, Personal, ReferrerType } from "../gen/domain.js";
import { HearthClient, HearthError, type RecordedEventOut } from "./client.js";

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`round trip: ${what}`);
}

function contactFacts(on: string, district: string, purpose: ContactPurpose): Uint8Array {
  const m = new $.Message();
  const c = m.initRoot(Facts)._initContactRecorded();
  c.contactedOn = on;
  c.district = district;
  c.channel = Channel.PHONE;
  c.referrerType = ReferrerType.SELF;
  c.purpose = purpose;
  return new Uint8Array(m.toPackedArrayBuffer());
}

function personal(given: string, family: string): Uint8Array {
  const m = new $.Message();
  const p = m.initRoot(Personal);
  p.givenName = given;
  p.familyName = family;
  return new Uint8Array(m.toPackedArrayBuffer());
}

function checkContact(e: RecordedEventOut, expect: { stream: string; id: string; subject: string }): void {
  check(e.stream === expect.stream, `stream ${e.stream}`);
  check(e.id === expect.id, `event id ${e.id} != ${expect.id}`);
  check(e.type === "ContactRecorded" && e.schemaVersion === 2, `type ${e.type} v${e.schemaVersion}`);
  const facts = new $.Message(e.facts, true).getRoot(Facts);
  check(facts.which() === Facts.CONTACT_RECORDED, "facts hold a ContactRecorded");
  const c = facts.contactRecorded;
  check(c.contactedOn === "2026-03-02" && c.purpose === ContactPurpose.ENQUIRY, "contact facts");
  check(c.channel === Channel.PHONE && c.referrerType === ReferrerType.SELF, "channel and referrer");
  check(e.subjects.length === 1 && e.subjects[0].id === expect.subject && e.subjects[0].role === "client",
    "subjects");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      ca: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
      district: { type: "string", default: "north" },
      user: { type: "string", default: "staff-ts" },
      role: { type: "string", default: "caseworker" },
    },
  });
  if (!values.port || !values.ca || !values.cert || !values.key) {
    throw new Error("usage: roundtrip --port N --ca FILE --cert FILE --key FILE [--host H]");
  }
  const client = await HearthClient.connect({
    host: values.host!,
    port: Number(values.port),
    ca: readFileSync(values.ca),
    cert: readFileSync(values.cert),
    key: readFileSync(values.key),
    user: values.user,
    role: values.role,
  });
  try {
    const hello = client.helloInfo;
    const stream = `case/${values.district}/TS-${randomUUID().slice(0, 8)}`;
    const subject = `P-TS-${randomUUID().slice(0, 8)}`;
    const id = randomUUID();

    const appended = await client.append(stream, { kind: "noStream" }, [
      {
        id,
        type: "ContactRecorded",
        schemaVersion: 2,
        occurredAt: BigInt(Date.UTC(2026, 2, 2, 9, 30)) * 1000n,
        subjects: [{ id: subject, role: "client" }],
        facts: contactFacts("2026-03-02", values.district!, ContactPurpose.ENQUIRY),
        personal: [
          { subject, data: personal("Ada", "Synth"), identifiers: [{ kind: "name", value: "Ada Synth" }] },
        ],
      },
    ]);
    check(appended.firstVersion === 1n && appended.lastVersion === 1n && !appended.duplicate, "append result");

    // A retry with the same event id returns the original positions.
    const retry = await client.append(stream, { kind: "any" }, [
      {
        id,
        type: "ContactRecorded",
        schemaVersion: 2,
        occurredAt: BigInt(Date.UTC(2026, 2, 2, 9, 30)) * 1000n,
        subjects: [{ id: subject, role: "client" }],
        facts: contactFacts("2026-03-02", values.district!, ContactPurpose.ENQUIRY),
        personal: [
          { subject, data: personal("Ada", "Synth"), identifiers: [{ kind: "name", value: "Ada Synth" }] },
        ],
      },
    ]);
    check(retry.duplicate && retry.firstPosition === appended.firstPosition, "idempotent retry");

    const page = await client.readStream(stream, { purpose: "ts-roundtrip" });
    check(page.events.length === 1, `read ${page.events.length} events`);
    const e = page.events[0];
    checkContact(e, { stream, id, subject });
    check(e.position === appended.firstPosition, "position");
    check(e.occurredAt === BigInt(Date.UTC(2026, 2, 2, 9, 30)) * 1000n, "occurredAt");
    // The server stamps the actor from the certificate and the hello.
    check(e.actor.plugin === hello.plugin && e.actor.user === values.user && e.actor.role === values.role,
      `actor ${JSON.stringify(e.actor)}`);
    if (hello.scopes.readPersonal) {
      check(e.personal.length === 1 && !e.personal[0].erased, "personal section");
      const p = new $.Message(e.personal[0].data, true).getRoot(Personal);
      check(p.givenName === "Ada" && p.familyName === "Synth", "personal details");
    }

    // By subject too.
    const bySubject = await client.readSubject(subject, { purpose: "ts-roundtrip" });
    check(bySubject.events.length === 1 && bySubject.events[0].id === id, "read by subject");

    // A second contact on the case, then both through a subscription given
    // one credit at a time.
    await client.append(stream, { kind: "exact", version: 1n }, [
      {
        type: "ContactRecorded",
        schemaVersion: 2,
        subjects: [{ id: subject, role: "client" }],
        facts: contactFacts("2026-03-03", "", ContactPurpose.FOLLOW_UP),
      },
    ]);
    let subscribed = 0;
    if (hello.scopes.readLog) {
      const seen: RecordedEventOut[] = [];
      let done!: () => void;
      const both = new Promise<void>((resolve) => (done = resolve));
      const sub = await client.subscribe(
        appended.firstPosition,
        async (event) => {
          if (event.stream === stream) seen.push(event);
          if (seen.length === 2) done();
        },
        { credits: 1, purpose: "ts-roundtrip" },
      );
      await both;
      await sub.unsubscribe();
      check(seen[0].id === id && seen[1].streamVersion === 2n, "subscription order");
      subscribed = seen.length;
    }

    // A conflicting expected version, and a type outside the scopes.
    let conflict = "";
    try {
      await client.append(stream, { kind: "exact", version: 1n }, [{ type: "ContactRecorded", schemaVersion: 2 }]);
    } catch (err) {
      if (err instanceof HearthError) conflict = err.codeName;
    }
    check(conflict === "conflict", `expected a conflict, got '${conflict}'`);
    let refused = "";
    try {
      await client.append(stream, { kind: "any" }, [{ type: "GrantApproved" }]);
    } catch (err) {
      if (err instanceof HearthError) refused = err.message;
    }
    check(refused.startsWith("permissionDenied"), `expected permissionDenied, got '${refused}'`);
    // Appends to a case are validated by the domain rules: a second enquiry
    // on an open case is refused, with the rule's name.
    let rule = "";
    try {
      await client.append(stream, { kind: "exact", version: 2n }, [
        {
          type: "ContactRecorded",
          schemaVersion: 2,
          subjects: [{ id: subject, role: "client" }],
          facts: contactFacts("2026-03-04", values.district!, ContactPurpose.ENQUIRY),
        },
      ]);
    } catch (err) {
      if (err instanceof HearthError) rule = err.message;
    }
    check(rule.startsWith("invalidArgument: rule enquiry-on-open-case:"),
      `expected rule enquiry-on-open-case, got '${rule}'`);
    const after = await client.readStream(stream);
    check(after.events.length === 2, "nothing written by refused appends");

    await client.ping();
    const info = await client.serverInfo();
    console.log(
      JSON.stringify({
        ok: true,
        plugin: hello.plugin,
        serverVersion: info.serverVersion,
        stream,
        position: appended.firstPosition.toString(),
        subscribed,
        refused,
      }),
    );
  } finally {
    client.close();
  }
}

main().catch((e: Error) => {
  console.error(e instanceof HearthError ? `hearth error ${e.message}` : e.stack ?? String(e));
  process.exit(1);
});
