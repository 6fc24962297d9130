// Event JSON (api/include/hearth/event_json.h): the one codec between events
// and their JSON form, for the command line, the plugin host and tools.
#include "hearth/event_json.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string_view>

#include "hearth/references.h"
#include "domain/time_value.h"

namespace hearth::event_json {

using Json = nlohmann::ordered_json;

namespace {

Status FieldError(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("field '" + path + "' " + what);
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// Refuses fields outside `allowed`; a typo must not silently drop data.
Status CheckFields(const Json& j, const std::string& path,
                   std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (known) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return Status::InvalidArgument("unknown field '" + Join(path, it.key()) + "' (expected: " +
                                   list + ")");
  }
  return Status::OK();
}

// An optional string field: absent or null leaves *out unchanged.
Status GetString(const Json& obj, const std::string& path, const char* key, std::string* out,
                 bool required = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    return required ? FieldError(Join(path, key), "is missing") : Status::OK();
  }
  if (!it->is_string()) return FieldError(Join(path, key), "must be a string");
  *out = it->get<std::string>();
  return Status::OK();
}

Status GetId(const Json& obj, const char* key, Id128* out, bool* present) {
  std::string text;
  if (Status s = GetString(obj, "", key, &text); !s.ok()) return s;
  *present = !text.empty();
  if (!text.empty() && !Id128::Parse(text, out)) {
    return FieldError(key, "is not a UUID (e.g. 0f8fad5b-d9cb-469f-a165-70867728950e)");
  }
  return Status::OK();
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// Facts or personal data: any JSON value (stored as its compact text), or
// base64 bytes under `<key>Base64`.
Status GetPayload(const Json& obj, const std::string& path, const std::string& key,
                  std::string* out) {
  std::string b64_key = key + "Base64";
  auto it = obj.find(key);
  auto b64 = obj.find(b64_key);
  bool has_json = it != obj.end() && !it->is_null();
  bool has_b64 = b64 != obj.end() && !b64->is_null();
  if (has_json && has_b64) {
    return Status::InvalidArgument("fields '" + Join(path, key) + "' and '" +
                                   Join(path, b64_key) + "' exclude each other");
  }
  if (has_json) *out = Dump(*it);
  if (has_b64 && (!b64->is_string() || !FromBase64(b64->get<std::string>(), out))) {
    return FieldError(Join(path, b64_key), "must be a base64 string");
  }
  return Status::OK();
}

void PutPayload(Json* j, const std::string& key, const std::string& bytes) {
  if (bytes.empty()) return;
  Json parsed = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    (*j)[key + "Base64"] = ToBase64(bytes);
  } else {
    (*j)[key] = std::move(parsed);
  }
}

Status GenericFromJson(const Json& j, NewEvent* out, bool* generated_id) {
  Status s = CheckFields(j, "",
                         {"id", "type", "schemaVersion", "occurredAt", "actor", "correlationId",
                          "causationId", "subjects", "facts", "factsBase64", "personal"});
  if (!s.ok()) return s;

  bool present = false;
  if (!(s = GetId(j, "id", &out->id, &present)).ok()) return s;
  if (!present) {
    out->id = Id128::Random();
    *generated_id = true;
  }
  if (!(s = GetString(j, "", "type", &out->type, /*required=*/true)).ok()) return s;
  if (auto it = j.find("schemaVersion"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() < 1 ||
        it->get<uint64_t>() > UINT32_MAX) {
      return FieldError("schemaVersion", "must be an integer from 1 to 4294967295");
    }
    out->schema_version = uint32_t(it->get<uint64_t>());
  }
  if (auto it = j.find("occurredAt"); it != j.end()) {
    if (!(s = TimeFromJsonValue(*it, "occurredAt", &out->occurred_at)).ok()) return s;
  }
  if (auto it = j.find("actor"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return FieldError("actor", "must be an object {user, role, plugin}");
    if (!(s = CheckFields(*it, "actor", {"user", "role", "plugin"})).ok()) return s;
    if (!(s = GetString(*it, "actor", "user", &out->actor.user)).ok()) return s;
    if (!(s = GetString(*it, "actor", "role", &out->actor.role)).ok()) return s;
    if (!(s = GetString(*it, "actor", "plugin", &out->actor.plugin)).ok()) return s;
  }
  if (!(s = GetId(j, "correlationId", &out->correlation_id, &present)).ok()) return s;
  if (!(s = GetId(j, "causationId", &out->causation_id, &present)).ok()) return s;

  if (auto it = j.find("subjects"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return FieldError("subjects", "must be an array of {id, role}");
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& sj = (*it)[i];
      std::string path = "subjects[" + std::to_string(i) + "]";
      if (!sj.is_object()) return FieldError(path, "must be an object {id, role}");
      if (!(s = CheckFields(sj, path, {"id", "role"})).ok()) return s;
      SubjectRef ref;
      if (!(s = GetString(sj, path, "id", &ref.id, /*required=*/true)).ok()) return s;
      std::string role = "client";
      if (!(s = GetString(sj, path, "role", &role)).ok()) return s;
      if (!ParseSubjectRole(role, &ref.role)) {
        return FieldError(path + ".role", "is '" + role +
                                              "'; expected client, carer, relative, referrer, "
                                              "staff or other");
      }
      out->subjects.push_back(std::move(ref));
    }
  }

  if (!(s = GetPayload(j, "", "facts", &out->facts)).ok()) return s;

  if (auto it = j.find("personal"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) {
      return FieldError("personal", "must be an array of {subject, data, identifiers}");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& pj = (*it)[i];
      std::string path = "personal[" + std::to_string(i) + "]";
      if (!pj.is_object()) return FieldError(path, "must be an object {subject, data, identifiers}");
      if (!(s = CheckFields(pj, path, {"subject", "data", "dataBase64", "identifiers"})).ok()) {
        return s;
      }
      PersonalSection section;
      if (!(s = GetString(pj, path, "subject", &section.subject, true)).ok()) return s;
      if (!(s = GetPayload(pj, path, "data", &section.data)).ok()) return s;
      if (auto ids = pj.find("identifiers"); ids != pj.end() && !ids->is_null()) {
        if (!ids->is_array()) {
          return FieldError(path + ".identifiers", "must be an array of {kind, value}");
        }
        for (size_t k = 0; k < ids->size(); ++k) {
          const Json& ij = (*ids)[k];
          std::string ipath = path + ".identifiers[" + std::to_string(k) + "]";
          if (!ij.is_object()) return FieldError(ipath, "must be an object {kind, value}");
          if (!(s = CheckFields(ij, ipath, {"kind", "value"})).ok()) return s;
          Identifier id;
          if (!(s = GetString(ij, ipath, "kind", &id.kind, true)).ok()) return s;
          if (!(s = GetString(ij, ipath, "value", &id.value, true)).ok()) return s;
          section.identifiers.push_back(std::move(id));
        }
      }
      out->personal.push_back(std::move(section));
    }
  }
  return Status::OK();
}

Json GenericToJson(const RecordedEvent& e) {
  Json j;
  j["position"] = e.position;
  j["stream"] = e.stream;
  j["streamVersion"] = e.stream_version;
  j["id"] = e.id.ToString();
  j["type"] = e.type;
  j["schemaVersion"] = e.schema_version;
  j["recordedAt"] = FormatTime(e.recorded_at);
  j["occurredAt"] = FormatTime(e.occurred_at);
  j["actor"] = Json{{"user", e.actor.user}, {"role", e.actor.role}, {"plugin", e.actor.plugin}};
  if (!e.correlation_id.empty()) j["correlationId"] = e.correlation_id.ToString();
  if (!e.causation_id.empty()) j["causationId"] = e.causation_id.ToString();
  Json subjects = Json::array();
  for (const SubjectRef& ref : e.subjects) {
    subjects.push_back(Json{{"id", ref.id}, {"role", SubjectRoleName(ref.role)}});
  }
  j["subjects"] = std::move(subjects);
  PutPayload(&j, "facts", e.facts);
  Json personal = Json::array();
  for (const PersonalSection& p : e.personal) {
    Json pj;
    pj["subject"] = p.subject;
    if (p.erased) {
      pj["erased"] = true;
    } else {
      PutPayload(&pj, "data", p.data);
    }
    personal.push_back(std::move(pj));
  }
  j["personal"] = std::move(personal);
  return j;
}

const domain::Codec* CodecOr(const domain::Codec* codec) {
  if (codec != nullptr) return codec;
  auto builtin = BuiltinCodec();
  return builtin.ok() ? *builtin : nullptr;
}

}  // namespace

Result<const domain::Codec*> BuiltinCodec() {
  static const Result<const domain::Codec*> codec = []() -> Result<const domain::Codec*> {
    static auto* upcasters = new domain::UpcasterRegistry;
    domain::AddBuiltinUpcasters(upcasters);
    auto made = domain::Codec::Create(upcasters);
    if (!made.ok()) return made.status();
    return static_cast<const domain::Codec*>(made.value().release());
  }();
  return codec;
}

namespace {

// nlohmann's message without its exception tag and its "line 1" (a line is
// parsed alone; the caller names the line).
std::string ParseErrorText(const Json::exception& e) {
  std::string what = e.what();
  if (size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
  const std::string line1 = "parse error at line 1, ";
  if (what.rfind(line1, 0) == 0) what = what.substr(line1.size());
  return what;
}

// "documents": [{"subject", "bodyBase64"}], in either form: the bodies kept
// beside the event (NewEvent::documents; docs/domain.md "Documents").
Status DocumentsFromJson(const Json& docs, std::vector<DocumentBody>* out) {
  if (!docs.is_array()) return FieldError("documents", "must be an array of {subject, bodyBase64}");
  for (size_t i = 0; i < docs.size(); ++i) {
    const Json& dj = docs[i];
    std::string path = "documents[" + std::to_string(i) + "]";
    if (!dj.is_object()) return FieldError(path, "must be an object {subject, bodyBase64}");
    Status s = CheckFields(dj, path, {"subject", "bodyBase64"});
    if (!s.ok()) return s;
    DocumentBody d;
    if (!(s = GetString(dj, path, "subject", &d.subject, /*required=*/true)).ok()) return s;
    auto b64 = dj.find("bodyBase64");
    if (b64 == dj.end() || !b64->is_string() || !FromBase64(b64->get<std::string>(), &d.bytes)) {
      return FieldError(path + ".bodyBase64", "must be a base64 string");
    }
    out->push_back(std::move(d));
  }
  return Status::OK();
}

Status ParseValue(Json j, const domain::Codec* codec, NewEvent* out, bool* generated_id) {
  *out = NewEvent();
  bool generated = false;
  if (!j.is_object()) return Status::InvalidArgument("an event must be a JSON object");
  std::vector<DocumentBody> documents;
  if (auto d = j.find("documents"); d != j.end()) {
    if (!d->is_null()) {
      if (Status s = DocumentsFromJson(*d, &documents); !s.ok()) return s;
    }
    j.erase("documents");
  }
  codec = CodecOr(codec);
  auto type = j.find("type");
  Status s;
  if (codec != nullptr && type != j.end() && type->is_string() &&
      codec->FindType(type->get<std::string>()) != nullptr) {
    // A domain type: the domain codec reads it (facts checked against the
    // schema, encoded as a packed Facts message).
    generated = !j.contains("id") || j["id"].is_null();
    if (generated && j.contains("id")) j.erase("id");
    s = codec->FromJson(Dump(j), out);
  } else {
    s = GenericFromJson(j, out, &generated);
  }
  // Who acted is stored in plaintext: references only, never free text.
  if (s.ok()) s = CheckActor(out->actor);
  if (!s.ok()) {
    *out = NewEvent();
    return s;
  }
  out->documents = std::move(documents);
  if (generated_id != nullptr) *generated_id = generated;
  return Status::OK();
}

}  // namespace

Status Parse(std::string_view text, const domain::Codec* codec, NewEvent* out,
             bool* generated_id) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    // A syntax error, or a number too large for any field (out_of_range).
    *out = NewEvent();
    return Status::InvalidArgument("malformed JSON: " + ParseErrorText(e));
  }
  return ParseValue(std::move(j), codec, out, generated_id);
}

Status ParseLines(std::string_view text, const domain::Codec* codec, std::vector<NewEvent>* out) {
  out->clear();
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    NewEvent e;
    if (Status s = Parse(line, codec, &e); !s.ok()) {
      out->clear();
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + s.message());
    }
    out->push_back(std::move(e));
  }
  if (out->empty()) {
    return Status::InvalidArgument("no events (expected one JSON object per line)");
  }
  return Status::OK();
}

std::string Format(const RecordedEvent& e, const domain::Codec* codec) {
  codec = CodecOr(codec);
  if (codec != nullptr && codec->FindType(e.type) != nullptr) {
    auto text = codec->ToJson(e);
    if (text.ok()) return std::move(*text);
    Json j = GenericToJson(e);
    j["factsError"] = text.status().ToString();
    return Dump(j);
  }
  return Dump(GenericToJson(e));
}

std::string FormatList(const std::vector<RecordedEvent>& events, const domain::Codec* codec) {
  std::string out = "[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) out += ',';
    out += Format(events[i], codec);
  }
  out += ']';
  return out;
}

std::string FormatAppendResult(const AppendResult& r) {
  Json j;
  j["firstPosition"] = r.first_position;
  j["lastPosition"] = r.last_position;
  j["firstVersion"] = r.first_version;
  j["lastVersion"] = r.last_version;
  j["duplicate"] = r.duplicate;
  return Dump(j);
}

std::string ToBase64(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool FromBase64(std::string_view text, std::string* out) {
  std::string bin(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size()) {
    return false;
  }
  bin.resize(len);
  *out = std::move(bin);
  return true;
}

}  // namespace hearth::event_json
