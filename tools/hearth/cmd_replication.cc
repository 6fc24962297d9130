// follow, restore --from-stream, replicate, and the replication options of
// `serve`: replication on NATS JetStream (docs/operations.md, "Replication";
// docs/cli.md).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "merkle/proof_json.h"
#include "replication/replication.h"

namespace hearth::cli {

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

// SIGINT / SIGTERM end `follow` and `replicate` between messages.
void CatchStopSignals() {
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

Result<SignedCheckpoint> ReadHeldCheckpoint(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  try {
    auto cp = merkle::CheckpointFromJson(nlohmann::json::parse(*text));
    if (!cp.ok()) return Status::InvalidArgument("checkpoint file " + path + ": " + cp.status().message());
    return cp;
  } catch (const nlohmann::json::parse_error& e) {
    return Status::InvalidArgument("checkpoint file " + path + " is not JSON: " + e.what());
  }
}

struct StreamFlags {
  std::string data;
  KeyOptions key;
  std::string urls;
  std::string stream;
  std::string public_key;
  std::vector<std::string> checkpoints;
  bool until_caught_up = false;
  bool from_stream = false;
  bool quiet = false;
};

void AddStreamOptions(CLI::App* cmd, StreamFlags* o) {
  cmd->add_option("--nats", o->urls, "the JetStream cluster: NATS URLs, comma-separated")
      ->required()
      ->type_name("URLS");
  cmd->add_option("--stream", o->stream, "the store's stream")->required()->type_name("NAME");
}

Result<replication::FollowOptions> ToFollowOptions(const StreamFlags& o) {
  replication::FollowOptions f;
  f.target = {o.urls, o.stream};
  Status st = replication::ValidateTarget(f.target);
  if (!st.ok()) return st;
  f.data = o.data;
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  f.key = *key;
  auto pk = ReadPublicKey(o.public_key);
  if (!pk.ok()) return pk.status();
  f.public_key = *pk;
  for (const auto& path : o.checkpoints) {
    auto cp = ReadHeldCheckpoint(path);
    if (!cp.ok()) return cp.status();
    f.held.push_back(*cp);
  }
  f.until_caught_up = o.until_caught_up;
  f.stop = [] { return g_stop.load(); };
  bool progress = !o.quiet && ::isatty(STDERR_FILENO);
  if (progress) f.on_line = [](const std::string& line) { std::cerr << "\r" << line << std::flush; };
  return f;
}

std::string Describe(const replication::FollowReport& r) {
  return std::to_string(r.imported) + " events verified by " + std::to_string(r.checkpoints) +
         " signed checkpoint(s), " + std::to_string(r.keys) + " data key(s)" +
         (r.pending ? ", " + std::to_string(r.pending) + " more awaiting a checkpoint" : "");
}

Status RunFollow(const StreamFlags& o) {
  auto f = ToFollowOptions(o);
  if (!f.ok()) return f.status();
  CatchStopSignals();
  auto report = replication::Follow(*f);
  if (f->on_line) std::cerr << "\n";
  if (!report.ok()) return report.status();
  return Print("replica " + o.data + ": " + Describe(*report) + "\n");
}

// `restore --from-stream`: rebuilds a lost store from its stream.
Status RestoreFromStream(const StreamFlags& o) {
  auto f = ToFollowOptions(o);
  if (!f.ok()) return f.status();
  auto report = replication::RestoreFromStream(*f);
  if (f->on_line) std::cerr << "\n";
  if (!report.ok()) return report.status();
  return Print("restored " + o.data + " from stream " + o.stream + ": " + Describe(*report) +
               "; the verifier passes" +
               (o.checkpoints.empty() ? "" : " and the store extends the checkpoint(s) you hold") +
               "\n");
}

}  // namespace

Status RestoreFromStreamCommand(const std::string& data, const KeyOptions& key, const std::string& urls,
                                const std::string& stream, const std::string& public_key,
                                const std::vector<std::string>& checkpoints, bool quiet) {
  StreamFlags o;
  o.data = data;
  o.key = key;
  o.urls = urls;
  o.stream = stream;
  o.public_key = public_key;
  o.checkpoints = checkpoints;
  o.from_stream = true;
  o.quiet = quiet;
  if (o.urls.empty() || o.stream.empty()) {
    return Status::InvalidArgument("restore --from-stream needs --nats URLS and --stream NAME");
  }
  return RestoreFromStream(o);
}

// ----------------------------------------------------- serve --replicate --

void AddReplicationOptions(CLI::App* cmd, ReplicationFlags* o) {
  cmd->add_option("--replicate-nats", o->urls,
                  "replicate every commit to this JetStream cluster (NATS URLs, comma-separated)")
      ->type_name("URLS");
  cmd->add_option("--replicate-stream", o->stream, "the store's stream (with --replicate-nats)")
      ->type_name("NAME");
  cmd->add_option("--replication-ack", o->ack,
                  "what an acknowledged append means: cluster (synced here and stored by the "
                  "cluster, the default) or local (synced here; the cluster follows within "
                  "--replication-max-lag events)")
      ->check(CLI::IsMember({"cluster", "local"}));
  cmd->add_option("--replication-max-lag", o->max_lag,
                  "with --replication-ack local: appends wait past this many unreplicated events")
      ->check(CLI::Range(uint64_t(1), uint64_t(1) << 40));
}

Result<std::unique_ptr<Store>> OpenMaybeReplicated(const Options& options, const std::string& data,
                                                   const ReplicationFlags& o) {
  if (o.urls.empty() && o.stream.empty()) return Store::Open(options, data);
  if (o.urls.empty() || o.stream.empty()) {
    return Status::InvalidArgument("replication needs both --replicate-nats and --replicate-stream");
  }
  replication::PublisherOptions p;
  p.target = {o.urls, o.stream};
  p.ack = o.ack == "local" ? replication::AckMode::kLocal : replication::AckMode::kCluster;
  p.max_lag_events = o.max_lag;
  auto store = replication::ReplicatedStore::Open(options, data, p);
  if (!store.ok()) return store.status();
  return std::unique_ptr<Store>(std::move(*store));
}

namespace {

// `replicate`: publishes a store's log to its stream until the stream holds
// all of it (a store that ran without replication, or a new stream).
Status RunReplicate(const StreamFlags& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  Options options;
  options.key = *key;
  replication::PublisherOptions p;
  p.target = {o.urls, o.stream};
  auto store = replication::ReplicatedStore::Open(options, o.data, p);
  if (!store.ok()) return store.status();
  // The log first (every stored checkpoint goes with it), then a checkpoint
  // of the tail past the last one.
  Status st = (*store)->WaitReplicated(0, 3600 * 1000);
  if (!st.ok()) return st;
  auto cp = (*store)->WriteCheckpoint();
  if (!cp.ok()) return cp.status();
  auto status = (*store)->Replication();
  return Print("stream " + o.stream + " holds the log of " + o.data + " up to position " +
               std::to_string(status.replicated) + " and its checkpoint of size " +
               std::to_string(cp->size) + "\n");
}

}  // namespace

void AddReplicationCommands(CommandSet& set) {
  {
    auto o = std::make_shared<StreamFlags>();
    CLI::App* cmd = set.Add(nullptr, "follow",
                            "keep a read-only replica of a store from its JetStream stream; "
                            "records are taken only once a signed checkpoint covers them",
                            [o] { return RunFollow(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    AddStreamOptions(cmd, o.get());
    cmd->add_option("--public-key", o->public_key, "the store's checkpoint public key (hex) you hold")
        ->required()
        ->type_name("FILE");
    cmd->add_option("--checkpoint", o->checkpoints,
                    "a checkpoint JSON you hold: the stream must extend it (repeatable)")
        ->type_name("FILE");
    cmd->add_flag("--until-caught-up", o->until_caught_up,
                  "stop at the stream's end instead of following it");
    cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
  }
  {
    auto o = std::make_shared<StreamFlags>();
    CLI::App* cmd = set.Add(nullptr, "replicate",
                            "publish a store's log and checkpoints to its JetStream stream until "
                            "the stream holds all of it (`serve --replicate-nats` keeps it so)",
                            [o] { return RunReplicate(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    AddStreamOptions(cmd, o.get());
  }
}

}  // namespace hearth::cli
