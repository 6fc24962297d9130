// Framing and conversions of the plugin protocol (wire.h).
#include "wire.h"

#include <kj/exception.h>

#include <cstring>

namespace hearth::wire {
namespace {

uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

kj::ArrayPtr<const kj::byte> Bytes(const std::string& s) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

Status IdFromWire(capnp::Data::Reader data, const char* field, Id128* out) {
  if (data.size() == 0) {
    *out = Id128{};
    return Status::OK();
  }
  if (data.size() != out->bytes.size()) {
    return Status::InvalidArgument(std::string(field) + " must be 16 bytes or empty, not " +
                                   std::to_string(data.size()));
  }
  std::memcpy(out->bytes.data(), data.begin(), out->bytes.size());
  return Status::OK();
}


kj::ArrayPtr<const kj::byte> IdBytes(const Id128& id, bool keep_empty) {
  if (!keep_empty && id.empty()) return nullptr;
  return kj::arrayPtr(id.bytes.data(), id.bytes.size());
}

Status RoleFromWire(schema::SubjectRole role, SubjectRole* out) {
  auto v = static_cast<uint16_t>(role);
  if (v > static_cast<uint16_t>(SubjectRole::kOther)) {
    return Status::InvalidArgument("unknown subject role " + std::to_string(v));
  }
  *out = static_cast<SubjectRole>(v);
  return Status::OK();
}

void ActorToWire(const Actor& a, schema::Actor::Builder out) {
  out.setUser(a.user);
  out.setRole(a.role);
  out.setPlugin(a.plugin);
}

Actor ActorFromWire(schema::Actor::Reader in) {
  return Actor{ToString(in.getUser()), ToString(in.getRole()), ToString(in.getPlugin())};
}

template <typename ListBuilder>
void SubjectsToWire(const std::vector<SubjectRef>& subjects, ListBuilder list) {
  for (size_t i = 0; i < subjects.size(); ++i) {
    list[i].setId(subjects[i].id);
    list[i].setRole(static_cast<schema::SubjectRole>(subjects[i].role));
  }
}

template <typename ListBuilder>
void PersonalToWire(const std::vector<PersonalSection>& sections, ListBuilder list) {
  for (size_t i = 0; i < sections.size(); ++i) {
    const PersonalSection& p = sections[i];
    auto b = list[i];
    b.setSubject(p.subject);
    b.setData(Bytes(p.data));
    b.setErased(p.erased);
    auto ids = b.initIdentifiers(p.identifiers.size());
    for (size_t j = 0; j < p.identifiers.size(); ++j) {
      ids[j].setKind(p.identifiers[j].kind);
      ids[j].setValue(p.identifiers[j].value);
    }
  }
}

Status SubjectsFromWire(capnp::List<schema::SubjectRef>::Reader in, std::vector<SubjectRef>* out) {
  out->clear();
  out->reserve(in.size());
  for (auto s : in) {
    SubjectRef ref;
    ref.id = ToString(s.getId());
    if (Status st = RoleFromWire(s.getRole(), &ref.role); !st.ok()) return st;
    out->push_back(std::move(ref));
  }
  return Status::OK();
}

void PersonalFromWire(capnp::List<schema::PersonalSection>::Reader in,
                      std::vector<PersonalSection>* out) {
  out->clear();
  out->reserve(in.size());
  for (auto p : in) {
    PersonalSection section;
    section.subject = ToString(p.getSubject());
    section.data = ToString(p.getData());
    section.erased = p.getErased();
    for (auto id : p.getIdentifiers()) {
      section.identifiers.push_back(Identifier{ToString(id.getKind()), ToString(id.getValue())});
    }
    out->push_back(std::move(section));
  }
}

void ListToWire(const std::vector<std::string>& in, capnp::List<capnp::Text>::Builder out) {
  for (size_t i = 0; i < in.size(); ++i) out.set(i, in[i]);
}

std::vector<std::string> ListFromWire(capnp::List<capnp::Text>::Reader in) {
  std::vector<std::string> out;
  out.reserve(in.size());
  for (auto t : in) out.push_back(ToString(t));
  return out;
}

// Runs `fn`, turning a Cap'n Proto exception (a malformed message) into
// InvalidArgument.
template <typename Fn>
Status Guard(const char* what, Fn&& fn) {
  try {
    return fn();
  } catch (const kj::Exception& e) {
    return Status::InvalidArgument(std::string("malformed ") + what + ": " +
                                   e.getDescription().cStr());
  }
}

}  // namespace

// ------------------------------------------------------------- framing ----

Result<size_t> TableBytes(const uint8_t* header) {
  uint64_t segments = uint64_t(LoadLe32(header)) + 1;
  if (segments > kMaxSegments) {
    return Status::InvalidArgument("frame declares " + std::to_string(segments) +
                                   " segments (at most " + std::to_string(kMaxSegments) + ")");
  }
  // 4 bytes of count, 4 per segment size, padded to a whole word.
  return size_t((4 + 4 * segments + 7) / 8 * 8);
}

Result<size_t> BodyBytes(const uint8_t* table, size_t table_bytes, size_t max_message_bytes) {
  uint64_t segments = uint64_t(LoadLe32(table)) + 1;
  uint64_t words = 0;
  for (uint64_t i = 0; i < segments; ++i) words += LoadLe32(table + 4 + 4 * i);
  if (words == 0) return Status::InvalidArgument("frame has no content (empty segments)");
  uint64_t total = table_bytes + words * 8;
  if (total > max_message_bytes) {
    return Status::TooLarge("message of " + std::to_string(total) + " bytes exceeds the limit of " +
                            std::to_string(max_message_bytes) + " bytes");
  }
  return size_t(words * 8);
}

Result<std::unique_ptr<Frame>> Frame::Parse(kj::Array<capnp::word> words) {
  std::unique_ptr<Frame> frame(new Frame);
  frame->words_ = kj::mv(words);
  capnp::ReaderOptions options;
  // The whole walk below and the typed reads after it each read every word
  // once; a few times the frame's size bounds the work a pointer loop (many
  // pointers to the same bytes) can cause.
  options.traversalLimitInWords = frame->words_.size() * 4 + 64;
  options.nestingLimit = kNestingLimit;
  Status s = Guard("message", [&] {
    frame->reader_ = std::make_unique<capnp::FlatArrayMessageReader>(frame->words_, options);
    // Walks every pointer: out-of-bounds pointers, loops (through the
    // traversal limit) and deep nesting are refused here, before any field is
    // used.
    (void)frame->reader_->getRoot<capnp::AnyStruct>().totalSize();
    return Status::OK();
  });
  if (!s.ok()) return s;
  return frame;
}

std::string Serialize(capnp::MessageBuilder& message) {
  if (message.getSegmentsForOutput().size() > 1) {
    // A message that outgrew its first segment is copied into one segment of
    // its exact size: every message is written as one segment
    // (docs/protocol.md, section 2).
    auto root = message.getRoot<capnp::AnyPointer>().asReader();
    size_t size = root.targetSize().wordCount + 1;  // and the root pointer
    capnp::MallocMessageBuilder single(static_cast<unsigned>(size),
                                       capnp::AllocationStrategy::FIXED_SIZE);
    single.getRoot<capnp::AnyPointer>().set(root);
    kj::Array<capnp::word> words = capnp::messageToFlatArray(single);
    auto bytes = words.asBytes();
    return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  }
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

// --------------------------------------------------------------- errors ----

protocol::ErrorCode ToWire(Status::Code code) {
  return static_cast<protocol::ErrorCode>(static_cast<uint16_t>(code));
}

Status::Code FromWire(protocol::ErrorCode code) {
  auto v = static_cast<uint16_t>(code);
  if (v > static_cast<uint16_t>(Status::Code::kBusy)) return Status::Code::kInvalidArgument;
  return static_cast<Status::Code>(v);
}

void ToWire(const Status& status, protocol::Error::Builder out) {
  out.setCode(ToWire(status.code()));
  out.setMessage(status.message());
}

Status FromWire(protocol::Error::Reader error) {
  std::string message = ToString(error.getMessage());
  auto raw = static_cast<uint16_t>(error.getCode());
  switch (FromWire(error.getCode())) {
    case Status::Code::kOk:
      return Status::OK();
    case Status::Code::kNotFound:
      return Status::NotFound(message);
    case Status::Code::kInvalidArgument:
      if (raw > static_cast<uint16_t>(Status::Code::kBusy)) {
        message = "error code " + std::to_string(raw) + ": " + message;
      }
      return Status::InvalidArgument(message);
    case Status::Code::kConflict:
      return Status::Conflict(message);
    case Status::Code::kCorruption:
      return Status::Corruption(message);
    case Status::Code::kIOError:
      return Status::IOError(message);
    case Status::Code::kLocked:
      return Status::Locked(message);
    case Status::Code::kWrongKey:
      return Status::WrongKey(message);
    case Status::Code::kErased:
      return Status::Erased(message);
    case Status::Code::kNotSupported:
      return Status::NotSupported(message);
    case Status::Code::kPermissionDenied:
      return Status::PermissionDenied(message);
    case Status::Code::kTooLarge:
      return Status::TooLarge(message);
    case Status::Code::kBusy:
      return Status::Busy(message);
  }
  return Status::InvalidArgument(message);
}

// --------------------------------------------------------------- events ----

void ToWire(const NewEvent& e, schema::NewEvent::Builder out) {
  out.setId(IdBytes(e.id, true));
  out.setType(e.type);
  out.setSchemaVersion(e.schema_version);
  out.setOccurredAt(e.occurred_at);
  ActorToWire(e.actor, out.initActor());
  out.setCorrelationId(IdBytes(e.correlation_id, false));
  out.setCausationId(IdBytes(e.causation_id, false));
  SubjectsToWire(e.subjects, out.initSubjects(e.subjects.size()));
  out.setFacts(Bytes(e.facts));
  PersonalToWire(e.personal, out.initPersonal(e.personal.size()));
  auto docs = out.initDocuments(static_cast<unsigned>(e.documents.size()));
  for (size_t i = 0; i < e.documents.size(); ++i) {
    docs[i].setSubject(e.documents[i].subject);
    docs[i].setBytes(Bytes(e.documents[i].bytes));
  }
}

void ToWire(const RecordedEvent& e, schema::RecordedEvent::Builder out) {
  out.setPosition(e.position);
  out.setStream(e.stream);
  out.setStreamVersion(e.stream_version);
  out.setId(IdBytes(e.id, true));
  out.setType(e.type);
  out.setSchemaVersion(e.schema_version);
  out.setRecordedAt(e.recorded_at);
  out.setOccurredAt(e.occurred_at);
  ActorToWire(e.actor, out.initActor());
  out.setCorrelationId(IdBytes(e.correlation_id, false));
  out.setCausationId(IdBytes(e.causation_id, false));
  SubjectsToWire(e.subjects, out.initSubjects(e.subjects.size()));
  out.setFacts(Bytes(e.facts));
  PersonalToWire(e.personal, out.initPersonal(e.personal.size()));
}

Status FromWire(schema::NewEvent::Reader in, NewEvent* out) {
  return Guard("event", [&]() -> Status {
    if (Status s = IdFromWire(in.getId(), "event id", &out->id); !s.ok()) return s;
    out->type = ToString(in.getType());
    out->schema_version = in.getSchemaVersion();
    out->occurred_at = in.getOccurredAt();
    out->actor = ActorFromWire(in.getActor());
    if (Status s = IdFromWire(in.getCorrelationId(), "correlation id", &out->correlation_id);
        !s.ok()) {
      return s;
    }
    if (Status s = IdFromWire(in.getCausationId(), "causation id", &out->causation_id); !s.ok()) {
      return s;
    }
    if (Status s = SubjectsFromWire(in.getSubjects(), &out->subjects); !s.ok()) return s;
    out->facts = ToString(in.getFacts());
    PersonalFromWire(in.getPersonal(), &out->personal);
    out->documents.clear();
    for (auto d : in.getDocuments()) {
      out->documents.push_back(DocumentBody{ToString(d.getSubject()), ToString(d.getBytes())});
    }
    return Status::OK();
  });
}

Status FromWire(schema::RecordedEvent::Reader in, RecordedEvent* out) {
  return Guard("event", [&]() -> Status {
    out->position = in.getPosition();
    out->stream = ToString(in.getStream());
    out->stream_version = in.getStreamVersion();
    if (Status s = IdFromWire(in.getId(), "event id", &out->id); !s.ok()) return s;
    out->type = ToString(in.getType());
    out->schema_version = in.getSchemaVersion();
    out->recorded_at = in.getRecordedAt();
    out->occurred_at = in.getOccurredAt();
    out->actor = ActorFromWire(in.getActor());
    if (Status s = IdFromWire(in.getCorrelationId(), "correlation id", &out->correlation_id);
        !s.ok()) {
      return s;
    }
    if (Status s = IdFromWire(in.getCausationId(), "causation id", &out->causation_id); !s.ok()) {
      return s;
    }
    if (Status s = SubjectsFromWire(in.getSubjects(), &out->subjects); !s.ok()) return s;
    out->facts = ToString(in.getFacts());
    PersonalFromWire(in.getPersonal(), &out->personal);
    return Status::OK();
  });
}

// ---------------------------------------------------------- the rest ----

void ToWire(const Scopes& s, protocol::Scopes::Builder out) {
  ListToWire(s.append_types, out.initAppendTypes(s.append_types.size()));
  ListToWire(s.read_streams, out.initReadStreams(s.read_streams.size()));
  ListToWire(s.read_districts, out.initReadDistricts(s.read_districts.size()));
  ListToWire(s.read_models, out.initReadModels(s.read_models.size()));
  out.setReadPersonal(s.read_personal);
  out.setReadLog(s.read_log);
  out.setController(s.controller);
  out.setBackup(s.backup);
}

Status FromWire(protocol::Scopes::Reader in, Scopes* out) {
  return Guard("scopes", [&]() -> Status {
    out->append_types = ListFromWire(in.getAppendTypes());
    out->read_streams = ListFromWire(in.getReadStreams());
    out->read_districts = ListFromWire(in.getReadDistricts());
    out->read_models = ListFromWire(in.getReadModels());
    out->read_personal = in.getReadPersonal();
    out->read_log = in.getReadLog();
    out->controller = in.getController();
    out->backup = in.getBackup();
    return Status::OK();
  });
}

void ToWire(ExpectedVersion expected, protocol::ExpectedVersion::Builder out) {
  switch (expected.kind) {
    case ExpectedVersion::Kind::kAny:
      out.setAny();
      break;
    case ExpectedVersion::Kind::kNoStream:
      out.setNoStream();
      break;
    case ExpectedVersion::Kind::kExact:
      out.setExact(expected.version);
      break;
  }
}

Status FromWire(protocol::ExpectedVersion::Reader in, ExpectedVersion* out) {
  switch (in.which()) {
    case protocol::ExpectedVersion::ANY:
      *out = ExpectedVersion::Any();
      return Status::OK();
    case protocol::ExpectedVersion::NO_STREAM:
      *out = ExpectedVersion::NoStream();
      return Status::OK();
    case protocol::ExpectedVersion::EXACT:
      if (in.getExact() == 0) {
        return Status::InvalidArgument("expected version exact must be >= 1 (use noStream)");
      }
      *out = ExpectedVersion::Exact(in.getExact());
      return Status::OK();
  }
  return Status::InvalidArgument("unknown expected version kind " +
                                 std::to_string(static_cast<uint16_t>(in.which())));
}

std::string ToString(capnp::Text::Reader text) { return std::string(text.cStr(), text.size()); }

std::string ToString(capnp::Data::Reader data) {
  return std::string(reinterpret_cast<const char*>(data.begin()), data.size());
}

size_t EncodedBytesBound(const RecordedEvent& e) {
  // Fixed part: struct sections and list/pointer words, generously.
  size_t n = 512;
  auto text = [](const std::string& s) { return s.size() + 16; };
  n += text(e.stream) + text(e.type) + text(e.facts) + text(e.actor.user) + text(e.actor.role) +
       text(e.actor.plugin) + 3 * 24;
  for (const SubjectRef& s : e.subjects) n += 32 + text(s.id);
  for (const PersonalSection& p : e.personal) {
    n += 48 + text(p.subject) + text(p.data);
    for (const Identifier& id : p.identifiers) n += 24 + text(id.kind) + text(id.value);
  }
  return n;
}

Status DecodeRequest(Frame& frame, Request* out) {
  return Guard("request", [&]() -> Status {
    auto msg = frame.Root<protocol::ClientMessage>();
    out->id = msg.getRequestId();
    out->raw_kind = static_cast<uint16_t>(msg.which());
    out->kind = msg.which();
    switch (msg.which()) {
      case protocol::ClientMessage::HELLO: {
        auto h = msg.getHello();
        out->protocol_version = h.getProtocolVersion();
        out->user = ToString(h.getUser());
        out->role = ToString(h.getRole());
        out->client = ToString(h.getClient());
        return Status::OK();
      }
      case protocol::ClientMessage::APPEND: {
        auto a = msg.getAppend();
        out->stream = ToString(a.getStream());
        if (Status s = FromWire(a.getExpected(), &out->expected); !s.ok()) return s;
        auto events = a.getEvents();
        out->events.resize(events.size());
        for (size_t i = 0; i < events.size(); ++i) {
          if (Status s = FromWire(events[i], &out->events[i]); !s.ok()) {
            return Status::InvalidArgument("event " + std::to_string(i) + ": " + s.message());
          }
        }
        return Status::OK();
      }
      case protocol::ClientMessage::READ_STREAM: {
        auto r = msg.getReadStream();
        out->stream = ToString(r.getStream());
        out->from = r.getFrom();
        out->backward = r.getBackward();
        out->max_count = r.getMaxCount();
        out->purpose = ToString(r.getPurpose());
        return Status::OK();
      }
      case protocol::ClientMessage::READ_ALL: {
        auto r = msg.getReadAll();
        out->from = r.getFrom();
        out->max_count = r.getMaxCount();
        out->purpose = ToString(r.getPurpose());
        return Status::OK();
      }
      case protocol::ClientMessage::READ_SUBJECT: {
        auto r = msg.getReadSubject();
        out->subject = ToString(r.getSubject());
        out->from = r.getFrom();
        out->max_count = r.getMaxCount();
        out->purpose = ToString(r.getPurpose());
        return Status::OK();
      }
      case protocol::ClientMessage::SUBSCRIBE: {
        auto r = msg.getSubscribe();
        out->from = r.getFrom();
        out->credits = r.getCredits();
        out->purpose = ToString(r.getPurpose());
        return Status::OK();
      }
      case protocol::ClientMessage::UNSUBSCRIBE:
        out->subscription = msg.getUnsubscribe().getSubscription();
        return Status::OK();
      case protocol::ClientMessage::CREDIT: {
        auto c = msg.getCredit();
        out->subscription = c.getSubscription();
        out->credits = c.getEvents();
        return Status::OK();
      }
      case protocol::ClientMessage::QUERY: {
        auto q = msg.getQuery();
        out->model = ToString(q.getModel());
        out->params = ToString(q.getParams());
        return Status::OK();
      }
      case protocol::ClientMessage::READ_DOCUMENT: {
        auto r = msg.getReadDocument();
        out->position = r.getPosition();
        out->index = r.getIndex();
        out->purpose = ToString(r.getPurpose());
        return Status::OK();
      }
      case protocol::ClientMessage::SERVER_INFO:
      case protocol::ClientMessage::PING:
      case protocol::ClientMessage::BACKUP:
        return Status::OK();
    }
    return Status::InvalidArgument("unknown request kind " + std::to_string(out->raw_kind));
  });
}

}  // namespace hearth::wire
