#include "log/record.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <sodium.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <cstring>
#include <vector>

#include "envelope.capnp.h"
#include "log/format.h"

namespace hearth::log {

namespace {

capnp::Data::Reader AsData(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}
capnp::Data::Reader AsData(const Id128& id) {
  return capnp::Data::Reader(id.bytes.data(), id.empty() ? 0 : id.bytes.size());
}
std::string_view View(capnp::Data::Reader d) {
  return std::string_view(reinterpret_cast<const char*>(d.begin()), d.size());
}
bool ToId(capnp::Data::Reader d, Id128* out) {
  if (d.size() == 0) {
    *out = Id128{};
    return true;
  }
  if (d.size() != 16) return false;
  std::memcpy(out->bytes.data(), d.begin(), 16);
  return true;
}

void AppendField(std::string* s, std::string_view v) {
  PutBE32(s, uint32_t(v.size()));
  s->append(v);
}

// The record's bytes as words, as FlatArrayMessageReader needs: in place
// when they are word-aligned already, otherwise copied into this thread's
// scratch buffer (reused, so a pass over millions of records allocates
// once). A decode that runs inside another on the same thread (a section
// opener that reads a record) gets a buffer of its own.
class RecordWords {
 public:
  explicit RecordWords(std::string_view bytes) {
    size_t n = (bytes.size() + 7) / 8;
    if (bytes.size() % 8 == 0 && reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
      words_ = kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(bytes.data()), n);
      return;
    }
    Scratch& s = scratch_;
    std::vector<uint64_t>* buffer = &own_;
    if (!s.busy) {
      s.busy = true;
      leased_ = true;
      buffer = &s.buffer;
    }
    buffer->resize(n);
    if (n > 0) {
      buffer->back() = 0;  // the padding of a last partial word reads as zeros
      std::memcpy(buffer->data(), bytes.data(), bytes.size());
    }
    words_ = kj::ArrayPtr<const capnp::word>(reinterpret_cast<const capnp::word*>(buffer->data()), n);
  }
  ~RecordWords() {
    if (!leased_) return;
    // A record far larger than most (a document) does not pin its size.
    if (scratch_.buffer.capacity() > kKeepWords) std::vector<uint64_t>().swap(scratch_.buffer);
    scratch_.busy = false;
  }
  RecordWords(const RecordWords&) = delete;
  RecordWords& operator=(const RecordWords&) = delete;

  kj::ArrayPtr<const capnp::word> words() const { return words_; }
  size_t size() const { return words_.size(); }

 private:
  static constexpr size_t kKeepWords = (1u << 20) / sizeof(uint64_t);
  struct Scratch {
    std::vector<uint64_t> buffer;  // words (capnp::word cannot be copied into a vector)
    bool busy = false;
  };
  static thread_local Scratch scratch_;
  kj::ArrayPtr<const capnp::word> words_;
  std::vector<uint64_t> own_;
  bool leased_ = false;
};
thread_local RecordWords::Scratch RecordWords::scratch_;

void AssignText(std::string* out, capnp::Text::Reader t) { out->assign(t.cStr(), t.size()); }

// Words of an encoded record's first segment: a record with its sections
// is about a kilobyte, so one segment holds nearly all of them.
constexpr unsigned kFirstSegmentWords = 1024;

// The traversal limit follows the record's own size: a well-formed record
// is read once, so a few times its words is ample, while a damaged one
// (a list of zero-sized elements claiming millions of entries, found by
// tests/fuzz/record_fuzzer.cc) cannot make a read cost more than that.
capnp::ReaderOptions RecordReaderOptions(size_t words) {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = 4 * uint64_t(words) + 64;
  o.nestingLimit = 16;
  return o;
}

Status Bad(uint64_t position, const std::string& what) {
  return Status::Corruption("record at position " + std::to_string(position) + ": " + what);
}

// The part of the envelope every reader checks first: the record must hold
// the position it is stored at (a moved or swapped record fails here).
template <typename Out>
Status ReadHead(schema::StoredRecord::Reader r, uint64_t position, Out* out) {
  if (r.getPosition() != position) {
    return Bad(position, "holds position " + std::to_string(r.getPosition()) +
                             " (records moved or swapped)");
  }
  out->position = position;
  AssignText(&out->stream, r.getStream());
  out->stream_version = r.getStreamVersion();
  if (!ToId(r.getEventId(), &out->id)) return Bad(position, "event id is not 16 bytes");
  return Status::OK();
}

}  // namespace

namespace {

void AppendSectionAad(std::string* aad, uint64_t position, std::string_view stream,
                      std::string_view type, uint32_t schema_version, std::string_view section) {
  aad->append("hearth.v1");
  PutBE64(aad, position);
  AppendField(aad, stream);
  AppendField(aad, type);
  PutBE32(aad, schema_version);
  aad->append(section);
}

// SectionAad(..., "P" + subject) into *aad, reusing its buffer.
void PersonalSectionAad(std::string* aad, uint64_t position, std::string_view stream,
                        std::string_view type, uint32_t schema_version, std::string_view subject) {
  aad->clear();
  AppendSectionAad(aad, position, stream, type, schema_version, "P");
  aad->append(subject);
}

}  // namespace

std::string SectionAad(uint64_t position, std::string_view stream, std::string_view type,
                       uint32_t schema_version, std::string_view section) {
  std::string aad;
  AppendSectionAad(&aad, position, stream, type, schema_version, section);
  return aad;
}

std::string FactsAad(const EnvelopeFields& f) {
  std::string aad;
  FactsAad(f, &aad);
  return aad;
}

void FactsAad(const EnvelopeFields& f, std::string* out) {
  std::string& aad = *out;
  aad.clear();
  AppendSectionAad(&aad, f.position, f.stream, f.type, f.schema_version, "F");
  PutBE64(&aad, f.stream_version);
  aad.append(reinterpret_cast<const char*>(f.id->bytes.data()), 16);
  PutBE64(&aad, uint64_t(f.recorded_at));
  PutBE64(&aad, uint64_t(f.occurred_at));
  AppendField(&aad, f.actor->user);
  AppendField(&aad, f.actor->role);
  AppendField(&aad, f.actor->plugin);
  aad.append(reinterpret_cast<const char*>(f.correlation_id->bytes.data()), 16);
  aad.append(reinterpret_cast<const char*>(f.causation_id->bytes.data()), 16);
  PutBE32(&aad, uint32_t(f.subjects->size()));
  for (const auto& r : *f.subjects) {
    AppendField(&aad, r.id);
    aad.push_back(char(r.role));
  }
  PutBE32(&aad, uint32_t(f.personal_subjects.size()));
  for (std::string_view subject : f.personal_subjects) AppendField(&aad, subject);
  AppendField(&aad, f.digest);
}

std::string PersonalSectionMac(const uint8_t* data_key, const PersonalSection& p) {
  // A subkey of the subject's data key, so the mac never shares a key with
  // the section's seal; erasing the data key leaves nothing to recompute it.
  uint8_t sub[crypto::kKeyBytes];
  crypto_kdf_derive_from_key(sub, sizeof sub, 3, "hdigestp", data_key);
  std::string s;
  AppendField(&s, p.subject);
  AppendField(&s, p.data);
  PutBE32(&s, uint32_t(p.identifiers.size()));
  for (const auto& id : p.identifiers) {
    AppendField(&s, id.kind);
    AppendField(&s, id.value);
  }
  std::string mac(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(mac.data()), mac.size(),
                     reinterpret_cast<const unsigned char*>(s.data()), s.size(), sub, sizeof sub);
  sodium_memzero(sub, sizeof sub);
  sodium_memzero(s.data(), s.size());
  return mac;
}

std::string DocumentMac(const uint8_t* data_key, const DocumentBody& d) {
  uint8_t sub[crypto::kKeyBytes];
  crypto_kdf_derive_from_key(sub, sizeof sub, 4, "hdigestd", data_key);
  std::string s;
  AppendField(&s, d.subject);
  AppendField(&s, d.bytes);
  std::string mac(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(mac.data()), mac.size(),
                     reinterpret_cast<const unsigned char*>(s.data()), s.size(), sub, sizeof sub);
  sodium_memzero(sub, sizeof sub);
  sodium_memzero(s.data(), s.size());
  return mac;
}

std::string EventDigest(const crypto::SecretKey& digest_key, const NewEvent& e,
                        const std::vector<std::string>& section_macs,
                        const std::vector<std::string>& document_macs) {
  std::string s;
  s.append(reinterpret_cast<const char*>(e.id.bytes.data()), 16);
  AppendField(&s, e.type);
  PutBE32(&s, e.schema_version);
  PutBE64(&s, uint64_t(e.occurred_at));
  AppendField(&s, e.actor.user);
  AppendField(&s, e.actor.role);
  AppendField(&s, e.actor.plugin);
  s.append(reinterpret_cast<const char*>(e.correlation_id.bytes.data()), 16);
  s.append(reinterpret_cast<const char*>(e.causation_id.bytes.data()), 16);
  PutBE32(&s, uint32_t(e.subjects.size()));
  for (const auto& r : e.subjects) {
    AppendField(&s, r.id);
    s.push_back(char(r.role));
  }
  AppendField(&s, e.facts);
  // Personal sections only through their macs (under each subject's data
  // key), never as plaintext: with the store key alone a guess at an erased
  // person's data cannot be confirmed against this digest.
  PutBE32(&s, uint32_t(e.personal.size()));
  for (size_t i = 0; i < e.personal.size(); ++i) {
    AppendField(&s, e.personal[i].subject);
    AppendField(&s, i < section_macs.size() ? section_macs[i] : std::string());
  }
  if (!e.documents.empty()) {
    PutBE32(&s, uint32_t(e.documents.size()));
    for (size_t i = 0; i < e.documents.size(); ++i) {
      AppendField(&s, e.documents[i].subject);
      AppendField(&s, i < document_macs.size() ? document_macs[i] : std::string());
    }
  }
  std::string d = crypto::KeyedHash(digest_key, s);
  sodium_memzero(s.data(), s.size());
  return d;
}

Result<std::string> EncodeRecord(const EncodeInput& in, const SectionSealer& seal) {
  const NewEvent& e = *in.event;
  // The message's first segment is this thread's, reused: the builder
  // zeroes what it used when it is destroyed, as a first segment must be
  // zero. An encode inside another (none today) allocates its own.
  thread_local struct FirstSegment {
    std::unique_ptr<uint64_t[]> words{new uint64_t[kFirstSegmentWords]()};  // zeroed
    bool busy = false;
  } first;
  struct Lease {  // declared before the builder: released after it has zeroed the segment
    bool* busy = nullptr;
    ~Lease() {
      if (busy != nullptr) *busy = false;
    }
  } lease;
  std::optional<capnp::MallocMessageBuilder> builder;
  if (!first.busy) {
    first.busy = true;
    lease.busy = &first.busy;
    builder.emplace(kj::arrayPtr(reinterpret_cast<capnp::word*>(first.words.get()), kFirstSegmentWords));
  } else {
    builder.emplace(kFirstSegmentWords);
  }
  capnp::MallocMessageBuilder& message = *builder;
  auto r = message.initRoot<schema::StoredRecord>();
  r.setPosition(in.position);
  r.setStream(capnp::Text::Reader(in.stream.data(), in.stream.size()));
  r.setStreamVersion(in.stream_version);
  r.setEventId(AsData(e.id));
  r.setType(e.type);
  r.setSchemaVersion(e.schema_version);
  r.setRecordedAt(in.recorded_at);
  r.setOccurredAt(e.occurred_at == 0 ? in.recorded_at : e.occurred_at);
  auto actor = r.initActor();
  actor.setUser(e.actor.user);
  actor.setRole(e.actor.role);
  actor.setPlugin(e.actor.plugin);
  r.setCorrelationId(AsData(e.correlation_id));
  r.setCausationId(AsData(e.causation_id));
  auto subjects = r.initSubjects(unsigned(e.subjects.size()));
  for (size_t i = 0; i < e.subjects.size(); ++i) {
    subjects[unsigned(i)].setId(e.subjects[i].id);
    subjects[unsigned(i)].setRole(static_cast<schema::SubjectRole>(e.subjects[i].role));
  }
  std::string sealed;
  std::string aad;  // reused for the facts and every section
  if (in.store_key != nullptr) {
    EnvelopeFields f{in.position, in.stream, in.stream_version, &e.id, e.type, e.schema_version,
                     in.recorded_at, e.occurred_at == 0 ? in.recorded_at : e.occurred_at,
                     &e.actor, &e.correlation_id, &e.causation_id, &e.subjects, {}, in.digest};
    f.personal_subjects.reserve(e.personal.size());
    for (const auto& p : e.personal) f.personal_subjects.push_back(p.subject);
    FactsAad(f, &aad);
    crypto::Seal(*in.store_key, aad, e.facts, &sealed);
    r.setFacts(AsData(sealed));
  } else {
    r.setFacts(AsData(e.facts));
  }
  auto personal = r.initPersonal(unsigned(e.personal.size()));
  for (size_t i = 0; i < e.personal.size(); ++i) {
    const auto& p = e.personal[i];
    sealed.clear();
    PersonalSectionAad(&aad, in.position, in.stream, e.type, e.schema_version, p.subject);
    Status st = seal(p.subject, aad, p.data, &sealed);
    if (!st.ok()) return st;
    personal[unsigned(i)].setSubject(p.subject);
    personal[unsigned(i)].setSealed(AsData(sealed));
  }
  r.setDigest(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(in.digest.data()), in.digest.size()));
  // Written straight into the string that is returned: one copy of the record.
  std::string out(capnp::computeSerializedSizeInWords(message) * sizeof(capnp::word), '\0');
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, message);
  return out;
}

Status DecodeEnvelope(std::string_view bytes, uint64_t position, EnvelopeView* out) {
  try {
    RecordWords words(bytes);
    capnp::FlatArrayMessageReader reader(words.words(), RecordReaderOptions(words.size()));
    auto r = reader.getRoot<schema::StoredRecord>();
    Status head = ReadHead(r, position, out);
    if (!head.ok()) return head;
    out->digest.assign(View(r.getDigest()));
    return Status::OK();
  } catch (const kj::Exception& ex) {
    return Bad(position, "cannot be parsed: " + std::string(ex.getDescription().cStr()));
  }
}

Status DecodeRecord(std::string_view bytes, uint64_t position, const crypto::SecretKey* store_key,
                    const SectionOpener& open_personal, RecordedEvent* out) {
  try {
    RecordWords words(bytes);
    capnp::FlatArrayMessageReader reader(words.words(), RecordReaderOptions(words.size()));
    auto r = reader.getRoot<schema::StoredRecord>();
    Status head = ReadHead(r, position, out);
    if (!head.ok()) return head;
    AssignText(&out->type, r.getType());
    out->schema_version = r.getSchemaVersion();
    out->recorded_at = r.getRecordedAt();
    out->occurred_at = r.getOccurredAt();
    auto actor = r.getActor();
    AssignText(&out->actor.user, actor.getUser());
    AssignText(&out->actor.role, actor.getRole());
    AssignText(&out->actor.plugin, actor.getPlugin());
    if (!ToId(r.getCorrelationId(), &out->correlation_id) ||
        !ToId(r.getCausationId(), &out->causation_id)) {
      return Bad(position, "correlation or causation id is not 16 bytes");
    }
    auto subjects = r.getSubjects();
    out->subjects.resize(subjects.size());
    for (unsigned i = 0; i < subjects.size(); ++i) {
      AssignText(&out->subjects[i].id, subjects[i].getId());
      out->subjects[i].role = static_cast<SubjectRole>(subjects[i].getRole());
    }
    // Every field is read on every path, so a record that reads as genuine
    // here also reads for the verifier and the indexes (DecodeEnvelope).
    std::string_view digest = View(r.getDigest());
    if (store_key != nullptr) {
      auto personal = r.getPersonal();
      // Reused by every record this thread decodes.
      thread_local std::vector<std::string_view> personal_subjects;
      thread_local std::string aad;
      EnvelopeFields f{position, out->stream, out->stream_version, &out->id, out->type,
                       out->schema_version, out->recorded_at, out->occurred_at, &out->actor,
                       &out->correlation_id, &out->causation_id, &out->subjects, {}, digest};
      f.personal_subjects.swap(personal_subjects);
      f.personal_subjects.clear();
      for (auto p : personal) {
        auto subject = p.getSubject();
        f.personal_subjects.emplace_back(subject.cStr(), subject.size());
      }
      FactsAad(f, &aad);
      f.personal_subjects.swap(personal_subjects);
      if (!crypto::Open(*store_key, aad, View(r.getFacts()), &out->facts)) {
        return Bad(position, "envelope or facts section fails authentication (altered or moved)");
      }
    } else {
      out->facts.assign(View(r.getFacts()));
    }
    if (!open_personal) {  // facts only (projections)
      out->personal.clear();
      return Status::OK();
    }
    // Into the sections already there, reusing their buffers. The section's
    // associated data is this call's own: an opener may decode another
    // record before it reads it.
    auto personal = r.getPersonal();
    out->personal.resize(personal.size());
    std::string aad;
    for (unsigned i = 0; i < personal.size(); ++i) {
      PersonalSection& section = out->personal[i];
      AssignText(&section.subject, personal[i].getSubject());
      section.identifiers.clear();
      section.erased = false;
      PersonalSectionAad(&aad, position, out->stream, out->type, out->schema_version, section.subject);
      Status st = open_personal(section.subject, aad, View(personal[i].getSealed()), &section.data,
                                &section.erased);
      // A read that may not wait for the disk (hearth/read_tier.h) stops
      // as Busy: the record is not damaged.
      if (st.code() == Status::Code::kBusy) return st;
      if (!st.ok()) {
        return Bad(position, "personal section of subject " + section.subject + ": " + st.message());
      }
    }
    return Status::OK();
  } catch (const kj::Exception& ex) {
    return Bad(position, "cannot be parsed: " + std::string(ex.getDescription().cStr()));
  }
}

}  // namespace hearth::log
