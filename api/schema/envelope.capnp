# hearth: the event envelope and the stored record.
#
# The log's values (column family `log`, docs/format.md) are StoredRecord
# messages in Cap'n Proto's single-segment flat encoding. The stored bytes are
# the Merkle tree's leaves (docs/tamper-evidence.md), so an auditor can verify
# the log with this schema and a public key, without any decryption key.
# Fields are never renumbered; new fields are only ever added at the end.
@0xd2a8e6f4b1c3a597;

$import "/capnp/c++.capnp".namespace("hearth::schema");

enum SubjectRole {
  client @0;    # the person the case is about
  carer @1;     # an unpaid carer named in the case
  relative @2;  # a relative or friend involved with consent
  referrer @3;  # a private individual who referred the client
  staff @4;     # a member of staff in professional capacity
  other @5;     # anyone else the event concerns
}

struct SubjectRef {
  id @0 :Text;            # opaque subject reference (never a name); fact
  role @1 :SubjectRole;   # how this subject relates to the event; fact
}

struct Actor {
  user @0 :Text;    # staff reference of the person acting; fact
  role @1 :Text;    # the role they acted in (caseworker, ot, controller...); fact
  plugin @2 :Text;  # the front end or tool that submitted the event; fact
}

struct Identifier {
  kind @0 :Text;   # natural identifier kind: nhs, postcode, name ...; personal
  value @1 :Text;  # its value; personal, stored only as a keyed hash
}

struct PersonalSection {
  subject @0 :Text;                 # whose personal data this is
  data @1 :Data;                    # the personal payload; personal
  identifiers @2 :List(Identifier); # lookups to index (keyed hashes only); personal
  erased @3 :Bool;                  # on read: the subject was erased, data is empty
}

# An event as a writer proposes it (the `hearth append` JSON follows this).
struct NewEvent {
  id @0 :Data;                          # 16-byte event id; a retry reuses it
  type @1 :Text;                        # event type name, e.g. ContactRecorded
  schemaVersion @2 :UInt32;             # version of the type's payload schema
  occurredAt @3 :Int64;                 # business time, µs since the Unix epoch (UTC)
  actor @4 :Actor;                      # who did it
  correlationId @5 :Data;               # 16 bytes or empty: the conversation
  causationId @6 :Data;                 # 16 bytes or empty: the event or command that caused it
  subjects @7 :List(SubjectRef);        # the data subjects it concerns
  facts @8 :Data;                       # non-identifying payload; fact
  personal @9 :List(PersonalSection);   # personal payload, one section per subject
  documents @10 :List(DocumentBody);    # document bodies kept beside the event (at most 8), each sealed
                                        # under its subject's data key (docs/format.md "documents")
}

# An event as read back, decrypted (the `hearth read` JSON follows this).
struct RecordedEvent {
  position @0 :UInt64;                  # global position, dense from 1
  stream @1 :Text;                      # stream id (e.g. case-17)
  streamVersion @2 :UInt64;             # version within the stream, dense from 1
  id @3 :Data;                          # 16-byte event id
  type @4 :Text;                        # event type name
  schemaVersion @5 :UInt32;             # version of the type's payload schema
  recordedAt @6 :Int64;                 # store clock, µs since the Unix epoch
  occurredAt @7 :Int64;                 # business time, µs since the Unix epoch
  actor @8 :Actor;                      # who did it
  correlationId @9 :Data;               # 16 bytes or empty
  causationId @10 :Data;                # 16 bytes or empty
  subjects @11 :List(SubjectRef);       # the data subjects it concerns
  facts @12 :Data;                      # non-identifying payload
  personal @13 :List(PersonalSection);  # personal sections, or erased markers
}

# A personal section as stored: sealed under its subject's data key.
struct SealedSection {
  subject @0 :Text;   # whose key seals it
  sealed @1 :Data;    # nonce(24) || XChaCha20-Poly1305 ciphertext and tag
}

# The value stored in column family `log` at key position (docs/format.md).
struct StoredRecord {
  position @0 :UInt64;                 # global position (also the key)
  stream @1 :Text;                     # stream id
  streamVersion @2 :UInt64;            # version within the stream
  eventId @3 :Data;                    # 16-byte event id
  type @4 :Text;                       # event type name
  schemaVersion @5 :UInt32;            # payload schema version
  recordedAt @6 :Int64;                # store clock, µs since the Unix epoch
  occurredAt @7 :Int64;                # business time, µs since the Unix epoch
  actor @8 :Actor;                     # who did it
  correlationId @9 :Data;              # 16 bytes or empty
  causationId @10 :Data;               # 16 bytes or empty
  subjects @11 :List(SubjectRef);      # data subjects (opaque references)
  facts @12 :Data;                     # sealed under the store key (plain if unencrypted store)
  personal @13 :List(SealedSection);   # each sealed under its subject's data key
  digest @14 :Data;                    # keyed BLAKE2b-256 of the event as proposed (idempotent retries)
}

# A document's body as a writer sends it with its event (NewEvent.documents):
# a scanned letter, a form, a certificate (docs/domain.md "Documents").
struct DocumentBody {
  subject @0 :Text;                     # one of the event's subjects: the body is sealed under their data key
  bytes @1 :Data;                       # the body, at most the store's max_document_bytes (16 MiB by default)
}
