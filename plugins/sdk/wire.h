// hearth plugin protocol: framing and conversions between hearth's types and
// the messages of api/schema/protocol.capnp (docs/protocol.md). Shared by the
// server (plugins/server) and the C++ client (plugins/sdk). Internal: not
// installed; a client in another language needs only the schema.
//
// Every function here that reads outside bytes catches Cap'n Proto's
// exceptions and returns InvalidArgument instead: nothing throws across it.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "envelope.capnp.h"
#include "hearth/event.h"
#include "hearth/session.h"
#include "hearth/status.h"
#include "protocol.capnp.h"

namespace hearth::wire {

// --- framing: Cap'n Proto's standard stream framing -------------------------
//
//   frame    = count-1:u32le size[0]:u32le ... size[count-1]:u32le [pad:u32] segments
//   segments = each size[i] words (8 bytes) of segment i, in order
//
// A reader takes the first 8 bytes (FrameHeaderBytes), asks TableBytes how
// long the whole table is, reads the rest of it, asks BodyBytes how long the
// segments are, and reads them.

constexpr size_t kFrameHeaderBytes = 8;
// Most segments a message may have: the encoders here always write one; a
// peer that sends more than this is refused before anything is allocated.
constexpr uint32_t kMaxSegments = 64;
// Deepest pointer nesting accepted (the schema itself needs about 10).
constexpr int kNestingLimit = 32;

// The bytes of the whole segment table (including the first 8), from the first
// 8 bytes of a frame; InvalidArgument when it declares more than kMaxSegments.
Result<size_t> TableBytes(const uint8_t* header);
// The bytes of the segments, from the whole table; TooLarge when table plus
// segments exceed `max_message_bytes`, InvalidArgument for an empty segment
// list.
Result<size_t> BodyBytes(const uint8_t* table, size_t table_bytes, size_t max_message_bytes);

// A received message: the frame's words and a reader over them, with the
// traversal limit set to the frame's own size and the nesting limit to
// kNestingLimit.
class Frame {
 public:
  // `words` holds the whole frame (table and segments). Validates the table
  // and walks every pointer once (MessageReader totalSize), so that a frame
  // that passes is safe to read: InvalidArgument otherwise.
  static Result<std::unique_ptr<Frame>> Parse(kj::Array<capnp::word> words);

  template <typename T>
  typename T::Reader Root() { return reader_->getRoot<T>(); }
  size_t bytes() const { return words_.size() * sizeof(capnp::word); }

 private:
  Frame() = default;
  kj::Array<capnp::word> words_;
  std::unique_ptr<capnp::FlatArrayMessageReader> reader_;
};

// The first segment of a message being built, in words: most messages are a
// few hundred bytes, and a larger one grows (Cap'n Proto's default of 1,024
// words would be allocated and zeroed for every message).
constexpr unsigned kFirstSegmentWords = 128;

// A serialised message ready to write (framing included).
std::string Serialize(capnp::MessageBuilder& message);

// --- conversions ------------------------------------------------------------

protocol::ErrorCode ToWire(Status::Code code);
Status::Code FromWire(protocol::ErrorCode code);
void ToWire(const Status& status, protocol::Error::Builder out);
Status FromWire(protocol::Error::Reader error);

void ToWire(const NewEvent& event, schema::NewEvent::Builder out);
void ToWire(const RecordedEvent& event, schema::RecordedEvent::Builder out);
void ToWire(const Scopes& scopes, protocol::Scopes::Builder out);
void ToWire(ExpectedVersion expected, protocol::ExpectedVersion::Builder out);

// InvalidArgument naming the field when an id is not 16 bytes (or empty) or
// an enum value is unknown.
Status FromWire(schema::NewEvent::Reader in, NewEvent* out);
Status FromWire(schema::RecordedEvent::Reader in, RecordedEvent* out);
Status FromWire(protocol::Scopes::Reader in, Scopes* out);
Status FromWire(protocol::ExpectedVersion::Reader in, ExpectedVersion* out);

std::string ToString(capnp::Text::Reader text);
std::string ToString(capnp::Data::Reader data);

// An upper bound of the bytes `event` takes inside a message, for cutting
// answers to the message size limit.
size_t EncodedBytesBound(const RecordedEvent& event);

// --- the server's request decoder -------------------------------------------

// A ClientMessage decoded into hearth's types: everything the server acts on,
// so that no Cap'n Proto reader outlives the decoding (and the fuzzer,
// tests/server/request_fuzzer.cc, covers exactly what the server reads).
struct Request {
  uint64_t id = 0;                                      // requestId
  protocol::ClientMessage::Which kind = protocol::ClientMessage::PING;
  uint16_t raw_kind = 0;                                // the union discriminant as sent
  // hello
  uint32_t protocol_version = 0;
  std::string user, role, client;
  // append
  std::string stream;
  ExpectedVersion expected;
  std::vector<NewEvent> events;
  // reads, subscribe
  std::string subject;
  uint64_t from = 0;
  bool backward = false;
  uint32_t max_count = 0;
  std::string purpose;
  uint32_t credits = 0;  // subscribe: initial credits; credit: events
  // unsubscribe, credit
  uint64_t subscription = 0;
  // query
  std::string model, params;
  // readDocument (and `purpose`)
  uint64_t position = 0;
  uint32_t index = 0;
};

// Decodes a frame that passed Frame::Parse. InvalidArgument naming the field
// for content the server cannot act on (an unknown request kind, a text
// without its NUL, an id that is not 16 bytes, an unknown enum value); `out->id`
// is set whenever the requestId could be read, so the error can be answered.
Status DecodeRequest(Frame& frame, Request* out);

}  // namespace hearth::wire
