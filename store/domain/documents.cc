// Documents kept on a case (003 8.3; docs/domain.md "Documents"): listing a
// case's DocumentAttached events and reading a body back, checked against the
// SHA-256 its event records (the event's Merkle leaf covers that hash).
#include <sodium.h>

#include "domain/tables.h"
#include "hearth/domain.h"
#include "hearth/store.h"

namespace hearth::domain {

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char c : digest) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

Result<CaseDocument> DocumentOf(const Codec& codec, const RecordedEvent& e) {
  if (e.type != "DocumentAttached") {
    return Status::InvalidArgument("event " + std::to_string(e.position) + " is a " + e.type +
                                   ", not a DocumentAttached");
  }
  FactsDecoder decoder(&codec.tables());
  cs::Facts::Reader facts;
  const TypeEntry* type = nullptr;
  Status s = decoder.Decode(e, &facts, &type);
  if (!s.ok()) return s;
  auto d = facts.getDocumentAttached();
  CaseDocument doc;
  doc.position = e.position;
  ParseDate(d.getAttachedOn().cStr(), &doc.attached_on);
  doc.kind = std::string(EnumName(d.getKind()));
  doc.media_type = std::string(EnumName(d.getMediaType()));
  doc.size_bytes = d.getSizeBytes();
  doc.subject = d.getSubjectRef().cStr();
  PackedDecoder personal_decoder;
  for (const PersonalSection& p : e.personal) {
    if (p.subject != doc.subject) continue;
    if (p.erased) {
      doc.erased = true;
      continue;
    }
    cs::Personal::Reader personal;
    s = personal_decoder.Decode<cs::Personal>(p.data, &personal);
    if (!s.ok()) return s;
    doc.sha256 = personal.getDocumentSha256().cStr();
    doc.file_name = personal.getDocumentFileName().cStr();
  }
  return doc;
}

Result<std::vector<CaseDocument>> ListDocuments(LogReader& store, const Codec& codec,
                                                const std::string& case_id) {
  std::vector<CaseDocument> out;
  constexpr size_t kPage = 256;
  bool any = false;
  for (uint64_t from = 1;;) {
    auto page = store.ReadStream(case_id, from, Direction::kForward, kPage);
    if (!page.ok()) {
      if (page.status().IsNotFound() && any) break;
      return page.status();
    }
    for (const RecordedEvent& e : *page) {
      any = true;
      if (e.type != "DocumentAttached") continue;
      auto doc = DocumentOf(codec, e);
      if (!doc.ok()) return doc.status();
      out.push_back(std::move(*doc));
    }
    if (page->size() < kPage) break;
    from = page->back().stream_version + 1;
  }
  return out;
}

Result<std::string> ReadDocumentBody(Store& store, const CaseDocument& doc) {
  if (doc.erased) return CheckDocumentBody(doc, Status::NotFound(""));
  return CheckDocumentBody(doc, store.ReadDocument(doc.position, 0));
}

Result<std::string> CheckDocumentBody(const CaseDocument& doc, Result<DocumentBody> body) {
  std::string where = "the document at position " + std::to_string(doc.position);
  if (doc.erased) {
    return Status::Erased(where + " belongs to subject " + doc.subject +
                          ", who was erased: it can no longer be read");
  }
  if (!body.ok()) return body.status();
  if (body->subject != doc.subject) {
    return Status::Corruption(where + " is sealed for subject " + body->subject +
                              ", but its event names " + doc.subject);
  }
  // The event's hash is what the Merkle tree covers: a body that does not
  // match it is never returned.
  std::string actual = Sha256Hex(body->bytes);
  if (actual != doc.sha256) {
    sodium_memzero(body->bytes.data(), body->bytes.size());
    return Status::Corruption(where + " does not match its event: the event records SHA-256 " +
                              doc.sha256 + ", the stored body has " + actual);
  }
  return std::move(body->bytes);
}

}  // namespace hearth::domain
