// hearth attach | document list | document get: documents kept on a case
// (003 8.3; docs/domain.md "Documents", docs/cli.md). The body is sealed under
// the data key of the person it concerns, in the same batch as its
// DocumentAttached event; reading it back checks it against the SHA-256 the
// event records.
#include <sys/stat.h>

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec_store.h"
#include "commands.h"
#include "hearth/domain.h"

namespace hearth::cli {

namespace {

using OJson = nlohmann::ordered_json;

struct DocumentOptions {
  std::string data;
  KeyOptions key;
  std::string case_id;
  std::string subject;
  std::string file;
  std::string kind;
  std::string media_type;
  std::string name;
  std::string on;
  std::string user = "hearth-cli";
  std::string role = "caseworker";
  uint64_t event = 0;
  std::string sha256;
  std::string out;
};

// The MediaType code for a file name's extension (other when unknown).
std::string MediaTypeOf(const std::string& file) {
  auto dot = file.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : file.substr(dot + 1);
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "pdf") return "pdf";
  if (ext == "png") return "png";
  if (ext == "jpg" || ext == "jpeg") return "jpeg";
  if (ext == "tif" || ext == "tiff") return "tiff";
  if (ext == "txt") return "plainText";
  if (ext == "html" || ext == "htm") return "html";
  if (ext == "docx") return "wordDocument";
  return "other";
}

std::string BaseName(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status RunAttach(const DocumentOptions& o) {
  // The size first, from the file system: an over-size file is refused
  // before anything is read or opened, so nothing is written.
  struct stat st {};
  if (::stat(o.file.c_str(), &st) != 0) return Status::NotFound("cannot read " + o.file);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(o.file + " is not a regular file");
  if (uint64_t(st.st_size) > domain::kMaxDocumentBytes) {
    return Status::TooLarge("document " + o.file + " is " + std::to_string(st.st_size) +
                            " bytes; the limit is " + std::to_string(domain::kMaxDocumentBytes) +
                            " bytes (16 MiB): nothing was written");
  }
  auto body = ReadFile(o.file);
  if (!body.ok()) return body.status();
  if (body->size() > domain::kMaxDocumentBytes) {  // grew since the stat
    return Status::TooLarge("document " + o.file + " is over the limit of " +
                            std::to_string(domain::kMaxDocumentBytes) + " bytes: nothing was written");
  }
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  Store& store = *(*opened)->store;
  const domain::Codec& codec = *(*opened)->codec;
  domain::CaseRecorder recorder(&store, &codec, {});
  // The subject's role on the case, for the event's subject list (the
  // recorder refuses a subject who is not on the case).
  std::string role = "other";
  auto state = recorder.Load(o.case_id);
  if (!state.ok()) {
    if (state.status().IsNotFound()) return Status::NotFound("no case " + o.case_id);
    return state.status();
  }
  for (const auto& p : state->people) {
    if (p.subject == o.subject) role = p.role;
  }
  std::string sha = domain::Sha256Hex(*body);
  std::string name = o.name.empty() ? BaseName(o.file) : o.name;
  nlohmann::json e;
  e["type"] = "DocumentAttached";
  e["facts"] = {{"attachedOn", o.on.empty() ? domain::FormatDate(domain::UkDate(domain::Now())) : o.on},
                {"kind", o.kind},
                {"sizeBytes", body->size()},
                {"mediaType", o.media_type.empty() ? MediaTypeOf(o.file) : o.media_type},
                {"subjectRef", o.subject}};
  e["actor"] = {{"user", o.user}, {"role", o.role}, {"plugin", "hearth-cli"}};
  e["personal"] = nlohmann::json::array(
      {{{"subject", o.subject}, {"role", role}, {"details", {{"documentSha256", sha}, {"documentFileName", name}}}}});
  NewEvent event;
  Status s = codec.FromJson(e.dump(), &event);
  if (!s.ok()) return s;
  event.documents.push_back(DocumentBody{o.subject, std::move(*body)});
  auto r = recorder.Record(o.case_id, {std::move(event)});
  if (!r.ok()) return r.status();
  OJson j;
  j["case"] = o.case_id;
  j["event"] = r->first_version;
  j["position"] = r->first_position;
  j["subject"] = o.subject;
  j["kind"] = o.kind;
  j["sizeBytes"] = st.st_size;
  j["sha256"] = sha;
  return Print(j.dump() + "\n");
}

OJson DocumentJson(const domain::CaseDocument& d, uint64_t event) {
  OJson j;
  j["event"] = event;
  j["position"] = d.position;
  j["attachedOn"] = domain::FormatDate(d.attached_on);
  j["kind"] = d.kind;
  j["mediaType"] = d.media_type;
  j["sizeBytes"] = d.size_bytes;
  j["subject"] = d.subject;
  if (d.erased) {
    j["erased"] = true;
  } else {
    j["sha256"] = d.sha256;
    j["fileName"] = d.file_name;
  }
  return j;
}

// The case's documents with their event numbers (stream versions).
Result<std::vector<std::pair<uint64_t, domain::CaseDocument>>> Documents(Store& store, const domain::Codec& codec,
                                                                         const std::string& case_id) {
  auto docs = domain::ListDocuments(store, codec, case_id);
  if (!docs.ok()) {
    if (docs.status().IsNotFound()) return Status::NotFound("no case " + case_id);
    return docs.status();
  }
  std::vector<std::pair<uint64_t, domain::CaseDocument>> out;
  for (auto& d : *docs) {
    auto events = store.ReadAll(d.position, 1);
    if (!events.ok()) return events.status();
    if (events->empty()) return Status::Corruption("no event at position " + std::to_string(d.position));
    out.emplace_back(events->front().stream_version, std::move(d));
  }
  return out;
}

Status RunList(const DocumentOptions& o) {
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  auto docs = Documents(*(*opened)->store, *(*opened)->codec, o.case_id);
  if (!docs.ok()) return docs.status();
  OJson j = OJson::array();
  for (const auto& [event, d] : *docs) j.push_back(DocumentJson(d, event));
  return Print(j.dump(2) + "\n");
}

Status RunGet(const DocumentOptions& o) {
  if ((o.event == 0) == o.sha256.empty()) {
    return Status::InvalidArgument("give exactly one of --event N (the case's event number) or --sha256 HASH");
  }
  auto opened = OpenCodecStore(o.data, o.key);
  if (!opened.ok()) return opened.status();
  Store& store = *(*opened)->store;
  auto docs = Documents(store, *(*opened)->codec, o.case_id);
  if (!docs.ok()) return docs.status();
  const domain::CaseDocument* found = nullptr;
  uint64_t found_event = 0;
  for (const auto& [event, d] : *docs) {
    if ((o.event != 0 && event == o.event) || (!o.sha256.empty() && d.sha256 == o.sha256)) {
      found = &d;
      found_event = event;
    }
  }
  if (found == nullptr) {
    return Status::NotFound(o.event != 0 ? "event " + std::to_string(o.event) + " of " + o.case_id +
                                               " is not a DocumentAttached (see hearth document list)"
                                         : "no document of " + o.case_id + " has SHA-256 " + o.sha256 +
                                               " (an erased person's documents cannot be found by hash)");
  }
  auto body = domain::ReadDocumentBody(store, *found);
  if (!body.ok()) return body.status();
  AccessRecord a;
  a.subject = found->subject;
  a.plugin = "hearth-cli";
  a.user = o.user;
  a.role = o.role;
  a.action = "read";
  a.purpose = "document";
  a.first_position = a.last_position = found->position;
  a.events = 1;
  Status s = store.LogAccess({a});
  if (!s.ok()) return s;
  s = WriteFile(o.out, *body, 0600);
  if (!s.ok()) return s;
  return Print(DocumentJson(*found, found_event).dump() + "\n");
}

void Common(CLI::App* cmd, DocumentOptions* o) {
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--case", o->case_id, "the case, e.g. case/D3/000123")->type_name("CASE")->required();
}

}  // namespace

void AddDocumentCommands(CommandSet& set) {
  {
    auto o = std::make_shared<DocumentOptions>();
    CLI::App* cmd = set.Add(nullptr, "attach",
                            "keep a document (letter, form, quote, certificate) on a case, sealed under the "
                            "data key of the person it concerns",
                            [o] { return RunAttach(*o); });
    Common(cmd, o.get());
    cmd->add_option("--subject", o->subject, "the person the document concerns (on the case)")
        ->type_name("REF")
        ->required();
    cmd->add_option("--file", o->file, "the document (at most 16 MiB)")->type_name("FILE")->required();
    cmd->add_option("--kind", o->kind, "letter, applicationForm, quote, certificate, decisionLetter, photo, other")
        ->type_name("KIND")
        ->required();
    cmd->add_option("--media-type", o->media_type,
                    "pdf, png, jpeg, tiff, plainText, html, wordDocument, other (default: from the extension)")
        ->type_name("TYPE");
    cmd->add_option("--name", o->name, "the file name to record (default: the file's own; personal)")
        ->type_name("NAME");
    cmd->add_option("--on", o->on, "the day it was kept (default today)")->type_name("YYYY-MM-DD");
    cmd->add_option("--user", o->user, "staff reference of who attaches it")->type_name("REF");
  }
  CLI::App* group = set.AddGroup("document", "the documents kept on a case");
  {
    auto o = std::make_shared<DocumentOptions>();
    CLI::App* cmd = set.Add(group, "list", "list a case's documents (JSON; no body is opened)",
                            [o] { return RunList(*o); });
    Common(cmd, o.get());
  }
  {
    auto o = std::make_shared<DocumentOptions>();
    CLI::App* cmd = set.Add(group, "get",
                            "write a document's body to a file, checked against the SHA-256 its event "
                            "records (the read is logged in the access log)",
                            [o] { return RunGet(*o); });
    Common(cmd, o.get());
    cmd->add_option("--event", o->event, "the DocumentAttached event's number in the case")->type_name("N");
    cmd->add_option("--sha256", o->sha256, "the document's SHA-256")->type_name("HASH");
    cmd->add_option("--out", o->out, "where to write the body (created mode 0600)")->type_name("FILE")->required();
    cmd->add_option("--user", o->user, "staff reference of who reads it")->type_name("REF");
  }
}

}  // namespace hearth::cli
