// init, append, read, info, backup, erase: the log itself (docs/cli.md).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "hearth/domain.h"
#include "hearth/event_json.h"
#include "json_text.h"
#include "progress.h"

namespace hearth::cli {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// `v` with `digits` decimals.
std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Reads are printed a page at a time so that a read of the whole log never
// holds more than this many events in memory.
constexpr size_t kPageEvents = 1000;

// ------------------------------------------------------------------ init --

struct InitOptions {
  std::string data;
  KeyOptions key;
};

Status RunInit(const InitOptions& o) {
  std::error_code ec;
  fs::path data(o.data);
  if (fs::exists(data, ec)) {
    if (!fs::is_directory(data, ec)) {
      return Status::InvalidArgument(o.data + " exists and is not a directory");
    }
    if (fs::exists(data / "CURRENT", ec)) {
      return Status::InvalidArgument("there is already a store at " + o.data +
                                     "; init never touches an existing store");
    }
    if (!fs::is_empty(data, ec)) {
      return Status::InvalidArgument(o.data + " is not empty; init needs a new or empty directory");
    }
  }
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();

  bool made_key = false;
  if (!o.key.key_file.empty() && !fs::exists(o.key.key_file, ec)) {
    Status s = CreateKeyFile(o.key.key_file);
    if (!s.ok()) return s;
    made_key = true;
  }
  if (data.has_parent_path() && !fs::exists(data.parent_path(), ec)) {
    fs::create_directories(data.parent_path(), ec);
  }
  Options options;
  options.create_if_missing = true;
  options.key = *key;
  auto store = Store::Open(options, o.data);
  if (!store.ok()) {
    // Store::Open leaves no half-made store; leave no orphan key either.
    if (made_key) ::unlink(o.key.key_file.c_str());
    return store.status();
  }
  auto pk = (*store)->CheckpointPublicKey();
  if (!pk.ok()) return pk.status();
  // The shipped record of processing and retention rules (docs/rights.md),
  // so that subject access, erasure and retention work from the start.
  auto processing = LoadDefaultProcessing(store->get());
  if (!processing.ok()) {
    std::string msg = "the store was created at " + o.data +
                      " but its default record of processing could not be set (" +
                      processing.status().ToString() + "); set it with `hearth processing set --defaults`";
    return processing.status().IsCorruption() ? Status::Corruption(msg) : Status::IOError(msg);
  }
  auto info = (*store)->Info();
  if (!info.ok()) return info.status();
  uint64_t processing_position = info->last_position;
  store->reset();  // closed, and synced, before we say it exists

  std::string out = "created a hearth store (format " + std::to_string(Store::kFormatVersion) +
                    ", encrypted)\n";
  out += "  data:            " + fs::absolute(data, ec).lexically_normal().string() + "\n";
  if (!o.key.key_file.empty()) {
    out += "  root key:        " + fs::absolute(o.key.key_file, ec).lexically_normal().string() +
           (made_key ? " (created now: 32 random bytes, mode 0600)\n" : " (existing key file)\n");
  } else {
    out += std::string("  root key:        the passphrase in $") + kPassphraseEnv +
           " (stretched with Argon2id; never stored)\n";
  }
  out += "  checkpoint key:  " + Hex(pk->data(), pk->size()) + "\n";
  out += "  fingerprint:     " + Fingerprint(*pk) + "\n";
  out += "  processing:      the default record of processing and retention rules, effective today "
         "(stream config/processing, position " + std::to_string(processing_position) +
         "; see `hearth processing show`, change with `hearth processing set --file F`)\n";
  out += "Keep the root key apart from the data and backed up: without it nobody can read "
         "the store.\n";
  return Print(out);
}

// ---------------------------------------------------------------- append --

struct AppendOptions {
  std::string data;
  KeyOptions key;
  std::string stream;
  std::string expect = "any";
};

Status ParseExpected(const std::string& text, ExpectedVersion* out) {
  if (text == "any") {
    *out = ExpectedVersion::Any();
  } else if (text == "no-stream") {
    *out = ExpectedVersion::NoStream();
  } else {
    uint64_t v = 0;
    bool ok = !text.empty() && text.size() <= 19;
    for (char c : text) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) v = v * 10 + uint64_t(c - '0');
    }
    if (!ok || v == 0) {
      return Status::InvalidArgument("--expect must be any, no-stream or a stream version >= 1, not '" +
                                     text + "'");
    }
    *out = ExpectedVersion::Exact(v);
  }
  return Status::OK();
}

Status RunAppend(const AppendOptions& o) {
  ExpectedVersion expected;
  Status s = ParseExpected(o.expect, &expected);
  if (!s.ok()) return s;
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto codec = event_json::BuiltinCodec();
  if (!codec.ok()) return codec.status();

  // Every line is checked before the store is touched: one bad line and
  // nothing is written. Events of domain types are read by the domain codec
  // (facts checked against the schema), as on every front end.
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) return Status::IOError("cannot read standard input");
  std::vector<NewEvent> events;
  s = event_json::ParseLines(input, *codec, &events);
  if (!s.ok()) {
    if (s.message().rfind("no events", 0) == 0) {
      return Status::InvalidArgument("no events on standard input (one JSON object per line)");
    }
    return s;
  }

  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto result = [&]() -> Result<AppendResult> {
    if (o.stream.compare(0, 5, "case/") == 0) {
      // A case takes only what the case's rules allow, through the recorder
      // the server's sessions use (docs/domain.md): a refusal writes nothing.
      domain::CaseRecorder recorder(store->get(), *codec, {});
      return recorder.Record(o.stream, expected, events);
    }
    if (domain::HasOwnRules(o.stream)) {
      // Allocations, contractors, complaints with no case, breaches: their
      // own rules (docs/domain.md), as on every front end.
      return domain::RecordOnOwnStream(**store, **codec, o.stream, expected, events, domain::UkDate(domain::Now()));
    }
    return (*store)->Append(o.stream, expected, events);
  }();
  if (!result.ok()) return result.status();
  store->reset();

  Json out = Json::parse(event_json::FormatAppendResult(*result));
  out["events"] = events.size();
  Json ids = Json::array();
  for (const NewEvent& e : events) ids.push_back(e.id.ToString());
  out["ids"] = std::move(ids);
  return Print(Dump(out) + "\n");
}

// ------------------------------------------------------------------ read --

struct ReadOptions {
  std::string data;
  KeyOptions key;
  std::string stream;
  std::string subject;
  uint64_t from = 0;
  bool backward = false;
  uint64_t limit = 0;  // 0: no limit
};

Status PrintPage(const std::vector<RecordedEvent>& events) {
  auto codec = event_json::BuiltinCodec();
  if (!codec.ok()) return codec.status();
  std::string out;
  for (const RecordedEvent& e : events) {
    out += event_json::Format(e, *codec);
    out += '\n';
  }
  return Print(out);
}

Status RunRead(const ReadOptions& o) {
  if (!o.stream.empty() && !o.subject.empty()) {
    return Status::InvalidArgument("give --stream or --subject, not both");
  }
  if (o.backward && o.stream.empty()) {
    return Status::InvalidArgument("--backward reads one stream: give --stream");
  }
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto opened = OpenStore(o.data, *key);
  if (!opened.ok()) return opened.status();
  Store& store = **opened;

  uint64_t left = o.limit == 0 ? UINT64_MAX : o.limit;
  // `next` is the stream version or position of the next page; stream
  // versions and positions are dense, so each page starts after the last.
  uint64_t next = o.from;
  if (next == 0 && !o.backward) next = 1;
  while (left > 0) {
    size_t page = size_t(std::min<uint64_t>(left, kPageEvents));
    auto fetch = [&]() -> Result<std::vector<RecordedEvent>> {
      if (!o.stream.empty()) {
        return store.ReadStream(o.stream, next,
                                o.backward ? Direction::kBackward : Direction::kForward, page);
      }
      if (!o.subject.empty()) return store.ReadSubject(o.subject, next, page);
      return store.ReadAll(next, page);
    };
    Result<std::vector<RecordedEvent>> events = fetch();
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    Status s = PrintPage(*events);
    if (!s.ok()) return s;
    left -= events->size();
    const RecordedEvent& last = events->back();
    if (!o.stream.empty() && o.backward) {
      if (last.stream_version <= 1) break;
      next = last.stream_version - 1;
    } else if (!o.stream.empty()) {
      next = last.stream_version + 1;
    } else {
      next = last.position + 1;
    }
  }
  return Status::OK();
}

// ------------------------------------------------------------------ info --

struct InfoOptions {
  std::string data;
  KeyOptions key;
  bool json = false;
};

struct BackupOptions {
  std::string data;
  KeyOptions key;
  std::string out;
  bool quiet = false;
};

// The bytes of the regular files under `dir` (a hard-linked file counts: it
// is one of the backup's files); 0 for a directory not there yet.
uint64_t BytesUnder(const std::string& dir) {
  std::error_code ec;
  uint64_t n = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fe;
    if (it->is_regular_file(fe)) {
      uint64_t size = it->file_size(fe);
      if (!fe) n += size;
    }
  }
  return n;
}

// A consistent copy taken while the store could be serving others
// (docs/operations.md): the copy ends exactly at a commit.
Status RunBackup(const BackupOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  // The bytes in the backup directory of the store's (a terminal only): hard
  // links on the store's own file system appear at once, copies as they go.
  Result<uint64_t> position = Status::IOError("the backup was not taken");
  {
    ProgressLine progress("backup", "bytes", o.quiet);
    uint64_t total = progress.shown() ? BytesUnder(o.data) : 0;
    std::atomic<bool> done{false};
    std::thread watcher;
    if (progress.shown()) {
      watcher = std::thread([&] {
        while (!done.load()) {
          progress.Update(std::min(BytesUnder(o.out), total), total);
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
      });
    }
    position = (*store)->Backup(o.out);
    done = true;
    if (watcher.joinable()) watcher.join();
    if (position.ok() && progress.shown()) progress.Update(total, total);
  }
  if (!position.ok()) return position.status();
  store->reset();
  return Print("backup written to " + o.out + ": the log up to position " +
               std::to_string(*position) +
               ".\nIt is as encrypted as the store and opens with the same root key: keep the key "
               "apart from the backup.\n");
}

Status RunInfo(const InfoOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto info = (*store)->Info();
  if (!info.ok()) return info.status();
  auto checkpoints = (*store)->Checkpoints();
  if (!checkpoints.ok()) return checkpoints.status();
  auto pk = (*store)->CheckpointPublicKey();
  if (!pk.ok()) return pk.status();
  store->reset();

  std::string root = Hex(info->tree.root.data(), info->tree.root.size());
  if (o.json) {
    Json j;
    j["path"] = info->path;
    j["formatVersion"] = info->format_version;
    j["encrypted"] = info->encrypted;
    j["events"] = info->last_position;
    j["lastPosition"] = info->last_position;
    j["streams"] = info->streams;
    j["subjects"] = info->subjects;
    j["erasedSubjects"] = info->erased_subjects;
    j["diskBytes"] = info->disk_bytes;
    j["tableRecords"] = info->table_records;
    j["tableRecordBytes"] = info->table_record_bytes;
    Json families = Json::object();
    for (const auto& [name, bytes] : info->column_family_bytes) families[name] = bytes;
    j["columnFamilyBytes"] = families;
    j["tree"] = Json{{"size", info->tree.size}, {"root", root}};
    j["checkpoints"] = checkpoints->size();
    if (!checkpoints->empty()) j["lastCheckpointSize"] = checkpoints->back().size;
    j["checkpointKeyFingerprint"] = Fingerprint(*pk);
    Json projections = Json::array();
    for (const auto& p : info->projections) {
      Json one{{"name", p.name}, {"version", p.version}, {"position", p.position},
               {"lag", info->last_position - std::min(p.position, info->last_position)}};
      if (p.stopped) {
        one["stopped"] = true;
        one["failedPosition"] = p.failed_position;
        one["error"] = p.error;
      }
      projections.push_back(one);
    }
    j["projections"] = projections;
    return Print(Dump(j) + "\n");
  }
  std::string out;
  out += "store:           " + info->path + "\n";
  out += "format version:  " + std::to_string(info->format_version) +
         (info->encrypted ? " (encrypted)\n" : " (NOT encrypted)\n");
  out += "events:          " + std::to_string(info->last_position) + " (last position " +
         std::to_string(info->last_position) + ")\n";
  out += "streams:         " + std::to_string(info->streams) + "\n";
  out += "subjects:        " + std::to_string(info->subjects) + " (" +
         std::to_string(info->erased_subjects) + " erased)\n";
  const double per_event =
      info->last_position > 0 ? double(info->disk_bytes) / double(info->last_position) : 0;
  out += "disk:            " + std::to_string(info->disk_bytes) + " bytes";
  if (info->last_position > 0) out += ", " + Fixed(per_event, 1) + " an event";
  out += "\n";
  // What a record is as stored, and what the store keeps beside it.
  if (info->table_records > 0) {
    double record = double(info->table_record_bytes) / double(info->table_records);
    out += "records:         " + std::to_string(info->table_records) + " in table files, " +
           Fixed(record, 1) + " bytes each as stored";
    if (info->last_position > 0) out += "; disk per event " + Fixed(per_event / record, 2) + "x a record";
    out += "\n";
  }
  out += "column families:";
  for (const auto& [name, bytes] : info->column_family_bytes) {
    out += " " + name + " " + std::to_string(bytes);
  }
  out += " (bytes in table files)\n";
  out += "tree:            size " + std::to_string(info->tree.size) + ", root " + root + "\n";
  out += "checkpoints:     " + std::to_string(checkpoints->size());
  if (!checkpoints->empty()) {
    out += " (newest at size " + std::to_string(checkpoints->back().size) + ", " +
           event_json::FormatTime(checkpoints->back().time) + ")";
  }
  out += "\n";
  out += "checkpoint key:  fingerprint " + Fingerprint(*pk) + "\n";
  // Each projection's folded position and how far it is behind the log
  // (a read model catches up when next opened with it, e.g. by hearth serve).
  for (const auto& p : info->projections) {
    uint64_t lag = info->last_position - std::min(p.position, info->last_position);
    out += "projection:      " + p.name + " v" + std::to_string(p.version) + " at " +
           std::to_string(p.position) + (lag == 0 ? " (current)" : " (" + std::to_string(lag) + " behind)");
    if (p.stopped) {
      out += ", STOPPED at position " + std::to_string(p.failed_position) + ": " + p.error +
             " (hearth rebuild " + p.name + ")";
    }
    out += "\n";
  }
  return Print(out);
}

// ----------------------------------------------------------------- erase --

struct EraseOptions {
  std::string data;
  KeyOptions key;
  std::string subject;
  std::string reason;
  std::string actor;
  std::string role = "controller";
};

Status RunErase(const EraseOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  Actor actor{o.actor, o.role, "hearth-cli"};
  auto result = (*store)->EraseSubject(o.subject, actor, o.reason);
  if (!result.ok()) return result.status();
  store->reset();
  std::string position = std::to_string(result->first_position);
  if (result->duplicate) {
    return Print("subject " + o.subject + " was already erased (erasure event at position " +
                 position + "); nothing changed\n");
  }
  return Print("erased subject " + o.subject + ": its data key is destroyed; erasure event at position " +
               position + "\n");
}

}  // namespace

void AddLogCommands(CommandSet& set) {
  {
    auto o = std::make_shared<InitOptions>();
    CLI::App* cmd = set.Add(nullptr, "init",
                            "create a new store (and the key file, if it does not exist)",
                            [o] { return RunInit(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
  }
  {
    auto o = std::make_shared<AppendOptions>();
    CLI::App* cmd = set.Add(nullptr, "append",
                            "append the JSON lines on stdin (one event each) as one atomic batch",
                            [o] { return RunAppend(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--stream", o->stream, "stream id, e.g. case-17")->required()->type_name("S");
    cmd->add_option("--expect", o->expect, "expected stream version: any, no-stream or N")
        ->type_name("V")
        ->capture_default_str();
  }
  {
    auto o = std::make_shared<ReadOptions>();
    CLI::App* cmd = set.Add(nullptr, "read",
                            "print events as JSON lines: one stream, one subject, or the whole log",
                            [o] { return RunRead(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--stream", o->stream, "read one stream")->type_name("S");
    cmd->add_option("--subject", o->subject, "read every event naming this data subject")
        ->type_name("ID");
    cmd->add_option("--from", o->from,
                    "first stream version (with --stream) or global position (default: the "
                    "start; with --backward: the end)")
        ->type_name("N");
    cmd->add_flag("--backward", o->backward, "with --stream: newest first");
    cmd->add_option("--limit", o->limit, "print at most N events (default: all)")->type_name("N");
  }
  {
    auto o = std::make_shared<InfoOptions>();
    CLI::App* cmd = set.Add(nullptr, "info", "counts, size, last position, Merkle tree",
                            [o] { return RunInfo(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_flag("--json", o->json, "print one JSON object");
  }
  {
    auto o = std::make_shared<BackupOptions>();
    CLI::App* cmd = set.Add(nullptr, "backup", "write a consistent, openable copy of the store",
                            [o] { return RunBackup(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--out", o->out, "the backup directory (must not exist)")
        ->required()
        ->type_name("DIR");
    cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
  }
  {
    auto o = std::make_shared<EraseOptions>();
    CLI::App* cmd = set.Add(nullptr, "erase",
                            "crypto-shred a data subject: destroy their data key for good",
                            [o] { return RunErase(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--subject", o->subject, "the data subject's reference")
        ->required()
        ->type_name("ID");
    cmd->add_option("--reason", o->reason, "reason code, e.g. art17-request (a code, not free text)")
        ->required()
        ->type_name("CODE");
    cmd->add_option("--actor", o->actor, "staff reference of whoever asked for the erasure")
        ->type_name("USER");
    cmd->add_option("--role", o->role, "the role they act in")
        ->type_name("ROLE")
        ->capture_default_str();
  }
}

}  // namespace hearth::cli
