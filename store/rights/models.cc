// The `sar` and `disclosures` read models (api/include/hearth/rights.h): the
// data controller's subject-access pack and disclosure log, for front ends
// that act in a role with the controller scope.
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "hearth/read_model.h"
#include "hearth/rights.h"
#include "readmodels/params.h"

namespace hearth::rights {

namespace {

using Json = nlohmann::json;
namespace prm = hearth::readmodels::params;

// Subject references are opaque, but never empty or absurdly long, and never
// carry control characters into an error message or the access log.
Status CheckSubject(const std::string& model, const std::string& subject) {
  if (subject.size() > 128) return Status::InvalidArgument(model + ": subject is longer than 128 bytes");
  for (unsigned char c : subject) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument(model + ": subject holds a control character");
  }
  return Status::OK();
}

std::string Base64(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

class SarModel final : public ReadModel {
 public:
  SarModel(const domain::Codec* codec, RightsOptions options)
      : codec_(codec), options_(std::move(options)) {}
  std::string name() const override { return "sar"; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("sar", params_json, {"subject", "request", "html", "documents"});
    if (!params.ok()) return params.status();
    std::string subject, request;
    bool html = false, documents = false;
    Status s = prm::RequireString("sar", *params, "subject", &subject);
    if (s.ok()) s = CheckSubject("sar", subject);
    if (s.ok()) s = prm::GetString("sar", *params, "request", &request);
    if (s.ok() && !request.empty()) s = ValidRequestRef(request);
    if (s.ok()) s = prm::GetBool("sar", *params, "html", &html);
    if (s.ok()) s = prm::GetBool("sar", *params, "documents", &documents);
    if (!s.ok()) return s;
    // A pack holds the person's whole record: only the controller, and only
    // in a role that sees personal sections, generates one.
    auto store = reader.ControllerStore();
    if (!store.ok()) return store.status();
    if (s = reader.CheckReadPersonal(); !s.ok()) return s;
    Rights rights(*store, codec_, options_);
    if (!request.empty()) {
      auto req = rights.LoadRequest(request);
      if (!req.ok()) return req.status();
      if (req->subject != subject) {
        return Status::InvalidArgument("sar: request " + request + " is about another subject, not " + subject);
      }
    }
    PackOptions po;
    po.plugin = reader.principal().plugin;
    po.user = reader.principal().user;
    po.requester_role = reader.principal().role;
    po.request_ref = request;
    // The pack's generation is a disclosure to the data subject: BuildPack
    // writes it to the access log before the pack leaves the store.
    po.record_disclosure = true;
    auto pack = rights.BuildPack(subject, po);
    if (!pack.ok()) return pack.status();
    Json out = Json::object();
    out["subject"] = subject;
    out["events"] = pack->events;
    out["withheldSections"] = pack->withheld_sections;
    out["heldForReview"] = pack->held_for_review;
    out["erased"] = pack->erased;
    out["pack"] = Json::parse(pack->json);
    if (html) out["html"] = pack->html;
    if (documents) {  // the documents' bodies, as the files `hearth sar` writes
      Json files = Json::array();
      for (const auto& f : pack->files) files.push_back(Json{{"file", f.path}, {"body", Base64(f.bytes)}});
      out["files"] = files;
    }
    return out.dump();
  }

 private:
  const domain::Codec* codec_;
  RightsOptions options_;
};

class DisclosuresModel final : public ReadModel {
 public:
  DisclosuresModel(const domain::Codec* codec, RightsOptions options)
      : codec_(codec), options_(std::move(options)) {}
  std::string name() const override { return "disclosures"; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("disclosures", params_json, {"subject"});
    if (!params.ok()) return params.status();
    std::string subject;
    Status s = prm::RequireString("disclosures", *params, "subject", &subject);
    if (s.ok()) s = CheckSubject("disclosures", subject);
    if (!s.ok()) return s;
    auto store = reader.ControllerStore();
    if (!store.ok()) return store.status();
    Rights rights(*store, codec_, options_);
    auto text = rights.DisclosuresJson(subject);
    if (!text.ok()) return text.status();
    return *text;
  }

 private:
  const domain::Codec* codec_;
  RightsOptions options_;
};

// `document`: one document of a case, its body checked against the SHA-256
// its event records (docs/domain.md "Documents").
class DocumentModel final : public ReadModel {
 public:
  explicit DocumentModel(const domain::Codec* codec) : codec_(codec) {}
  std::string name() const override { return "document"; }

  Result<std::string> Query(ScopedReader& reader, const std::string& params_json) override {
    auto params = prm::Parse("document", params_json, {"case", "event"});
    if (!params.ok()) return params.status();
    std::string case_id;
    uint64_t event = 0;
    Status s = prm::RequireString("document", *params, "case", &case_id);
    if (s.ok()) s = prm::GetPosition("document", *params, "event", &event);
    if (s.ok() && event == 0) s = Status::InvalidArgument("document: event (the case's event number) is required");
    if (!s.ok()) return s;
    // A document is personal data: only a role that sees personal sections
    // reads one, and only on a case its districts reach (ReadStream).
    if (s = reader.CheckReadPersonal(); !s.ok()) return s;
    auto events = reader.ReadStream(case_id, event, Direction::kForward, 1);
    if (!events.ok()) return events.status();
    if (events->empty() || events->front().stream_version != event) {
      return Status::NotFound("document: " + case_id + " has no event " + std::to_string(event));
    }
    auto doc = domain::DocumentOf(*codec_, events->front());
    if (!doc.ok()) return Status::NotFound("document: " + doc.status().message());
    auto body = domain::CheckDocumentBody(
        *doc, doc->erased ? Result<DocumentBody>(Status::NotFound("")) : reader.ReadDocument(doc->position, 0));
    if (!body.ok()) return body.status();
    Json out = Json::object();
    out["case"] = case_id;
    out["event"] = event;
    out["position"] = doc->position;
    out["attachedOn"] = domain::FormatDate(doc->attached_on);
    out["kind"] = doc->kind;
    out["mediaType"] = doc->media_type;
    out["sizeBytes"] = doc->size_bytes;
    out["subject"] = doc->subject;
    out["sha256"] = doc->sha256;
    out["fileName"] = doc->file_name;
    out["body"] = Base64(*body);
    return out.dump();
  }

 private:
  const domain::Codec* codec_;
};

}  // namespace

std::unique_ptr<ReadModel> MakeDocumentModel(const domain::Codec* codec) {
  return std::make_unique<DocumentModel>(codec);
}

std::unique_ptr<ReadModel> MakeSarModel(const domain::Codec* codec, RightsOptions options) {
  return std::make_unique<SarModel>(codec, std::move(options));
}

std::unique_ptr<ReadModel> MakeDisclosuresModel(const domain::Codec* codec, RightsOptions options) {
  return std::make_unique<DisclosuresModel>(codec, std::move(options));
}

}  // namespace hearth::rights
