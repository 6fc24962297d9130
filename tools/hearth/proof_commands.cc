// checkpoint, checkpoints, prove, verify, verify-proof: tamper evidence
// (docs/cli.md, docs/tamper-evidence.md).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "commands.h"
#include "progress.h"
#include "json_text.h"
#include "merkle/hash.h"
#include "merkle/proof_json.h"
#include "audit/verifier.h"

namespace hearth::cli {

namespace {

std::string HashHex(const Hash& h) { return Hex(h.data(), h.size()); }

Result<nlohmann::json> ReadJsonFile(const std::string& path, const char* what) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception& e) {  // syntax, or a number out of range
    return Status::InvalidArgument(std::string(what) + " " + path + " is not JSON: " + e.what());
  }
}

// A checkpoint file (its signature is checked where it is used).
Result<SignedCheckpoint> ReadCheckpoint(const std::string& path) {
  auto j = ReadJsonFile(path, "checkpoint file");
  if (!j.ok()) return j.status();
  auto cp = merkle::CheckpointFromJson(*j);
  if (!cp.ok()) {
    return Status::InvalidArgument("checkpoint file " + path + ": " + cp.status().message());
  }
  return cp;
}

// ------------------------------------------------------------ checkpoint --

struct StoreOptions {
  std::string data;
  KeyOptions key;
};

Status RunCheckpoint(const StoreOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto cp = (*store)->WriteCheckpoint();
  if (!cp.ok()) return cp.status();
  store->reset();
  return Print(Dump(merkle::CheckpointToJson(*cp)) + "\n");
}

Status RunCheckpoints(const StoreOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto cps = (*store)->Checkpoints();
  if (!cps.ok()) return cps.status();
  store->reset();
  std::string out;
  for (const SignedCheckpoint& cp : *cps) out += Dump(merkle::CheckpointToJson(cp)) + "\n";
  return Print(out);
}

// ----------------------------------------------------------------- prove --

struct ProveOptions {
  std::string data;
  KeyOptions key;
  uint64_t position = 0;
  uint64_t size = 0;
  uint64_t from = 0;
  uint64_t to = 0;
  // Owned by the parser; tell "given" from "left at its default".
  CLI::Option* position_opt = nullptr;
  CLI::Option* size_opt = nullptr;
  CLI::Option* from_opt = nullptr;
  CLI::Option* to_opt = nullptr;
};

Status RunProve(const ProveOptions& o) {
  bool inclusion = o.position_opt->count() > 0;
  bool consistency = o.from_opt->count() > 0 || o.to_opt->count() > 0;
  if (inclusion == consistency) {
    return Status::InvalidArgument(
        "give --position P [--size N] (inclusion) or --from N1 --to N2 (consistency)");
  }
  if (consistency && (o.from_opt->count() == 0 || o.to_opt->count() == 0)) {
    return Status::InvalidArgument("a consistency proof needs both --from and --to");
  }
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();

  nlohmann::json out;
  if (inclusion) {
    uint64_t size = o.size;
    if (o.size_opt->count() == 0) {
      auto tree = (*store)->CurrentTree();
      if (!tree.ok()) return tree.status();
      size = tree->size;
    }
    if (o.position == 0 || o.position > size) {
      return Status::InvalidArgument("position " + std::to_string(o.position) +
                                     " is not in the tree of size " + std::to_string(size) +
                                     " (positions run from 1 to the tree size)");
    }
    auto path = (*store)->InclusionProof(o.position, size);
    if (!path.ok()) return path.status();
    auto record = (*store)->RawRecord(o.position);
    if (!record.ok()) return record.status();
    merkle::InclusionProofDoc doc;
    doc.position = o.position;
    doc.tree_size = size;
    doc.record = std::move(*record);
    merkle::Hasher hasher;
    doc.leaf_hash = hasher.Leaf(doc.record);
    doc.path = std::move(*path);
    out = merkle::InclusionToJson(doc);
  } else {
    if (o.from > o.to) {
      return Status::InvalidArgument("--from " + std::to_string(o.from) + " is after --to " +
                                     std::to_string(o.to));
    }
    auto path = (*store)->ConsistencyProof(o.from, o.to);
    if (!path.ok()) return path.status();
    merkle::ConsistencyProofDoc doc;
    doc.from = o.from;
    doc.to = o.to;
    doc.path = std::move(*path);
    out = merkle::ConsistencyToJson(doc);
  }
  store->reset();
  return Print(Dump(out, 2) + "\n");
}

// ---------------------------------------------------------------- verify --

struct VerifyOptions {
  std::string data;
  std::string public_key;
  std::vector<std::string> checkpoints;  // held by the auditor
  bool quiet = false;
};

Status RunVerify(const VerifyOptions& o) {
  auto pk = ReadPublicKey(o.public_key);
  if (!pk.ok()) return pk.status();
  merkle::VerifyOptions options;
  for (const std::string& path : o.checkpoints) {
    auto cp = ReadCheckpoint(path);
    if (!cp.ok()) return cp.status();
    options.held.push_back({path, *cp});
  }
  // Each line is printed as it is found: nothing is kept per checkpoint.
  Status printed;
  options.on_line = [&printed](const std::string& line) {
    if (printed.ok()) printed = Print("checked: " + line + "\n");
  };
  ProgressLine progress("verify", "records hashed", o.quiet);
  if (progress.shown()) {
    options.on_progress = [&progress](uint64_t hashed, uint64_t total) { progress.Update(hashed, total); };
  }
  auto report = merkle::VerifyStoreFiles(o.data, *pk, options);
  progress.Finish();
  if (!report.ok()) return report.status();
  if (!printed.ok()) return printed;
  if (report->ok) {
    std::string held;
    if (!o.checkpoints.empty()) {
      held = ", the store extends all " + std::to_string(report->held_extended) +
             " checkpoint(s) you hold";
    }
    return Print("OK: " + std::to_string(report->leaves) + " records hashed, " +
                 std::to_string(report->checkpoints) + " checkpoints verified with key " +
                 Fingerprint(*pk) + held + "\n");
  }
  std::string failure = "verification failed: " + report->failure;
  if (report->failure_position != 0) {
    failure += " (position " + std::to_string(report->failure_position) + ")";
  }
  if (report->expected != report->found) {
    failure += ": expected " + HashHex(report->expected) + ", found " + HashHex(report->found);
  }
  return Status::Corruption(failure);
}

// ---------------------------------------------------------- verify-proof --

struct VerifyProofOptions {
  std::string proof;
  std::string checkpoint;
  std::string checkpoint2;
  std::string public_key;
};

Status RunVerifyProof(const VerifyProofOptions& o) {
  auto pk = ReadPublicKey(o.public_key);
  if (!pk.ok()) return pk.status();
  auto proof = ReadJsonFile(o.proof, "proof file");
  if (!proof.ok()) return proof.status();
  std::string type;
  if (proof->is_object() && proof->contains("type") && (*proof)["type"].is_string()) {
    type = (*proof)["type"].get<std::string>();
  }
  if (type != "inclusion" && type != "consistency") {
    return Status::InvalidArgument("proof file " + o.proof +
                                   " has no \"type\" of \"inclusion\" or \"consistency\"");
  }
  if (type == "inclusion" && !o.checkpoint2.empty()) {
    return Status::InvalidArgument("--checkpoint2 is for consistency proofs only");
  }
  if (type == "consistency" && o.checkpoint2.empty()) {
    return Status::InvalidArgument(
        "a consistency proof is checked against two checkpoints: give --checkpoint2");
  }
  auto cp = ReadCheckpoint(o.checkpoint);
  if (!cp.ok()) return cp.status();

  std::string what;
  if (type == "inclusion") {
    auto doc = merkle::InclusionFromJson(*proof);
    if (!doc.ok()) {
      return Status::InvalidArgument("proof file " + o.proof + ": " + doc.status().message());
    }
    Status s = merkle::VerifyInclusionDoc(*doc, *cp, *pk, &what);
    if (!s.ok()) return s;
    if (doc->record.empty()) what += " (the proof carries no record: its leaf hash was taken as given)";
    return Print("OK: " + what + "\n");
  }
  auto cp2 = ReadCheckpoint(o.checkpoint2);
  if (!cp2.ok()) return cp2.status();
  auto doc = merkle::ConsistencyFromJson(*proof);
  if (!doc.ok()) {
    return Status::InvalidArgument("proof file " + o.proof + ": " + doc.status().message());
  }
  // The two checkpoints may be given in either order.
  const SignedCheckpoint* older = &*cp;
  const SignedCheckpoint* newer = &*cp2;
  if (older->size > newer->size) std::swap(older, newer);
  Status s = merkle::VerifyConsistencyDoc(*doc, *older, *newer, *pk, &what);
  if (!s.ok()) return s;
  return Print("OK: " + what + "\n");
}

}  // namespace

void AddProofCommands(CommandSet& set) {
  {
    auto o = std::make_shared<StoreOptions>();
    CLI::App* cmd = set.Add(nullptr, "checkpoint",
                            "sign and keep a checkpoint of the current tree; print it as JSON",
                            [o] { return RunCheckpoint(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
  }
  {
    auto o = std::make_shared<StoreOptions>();
    CLI::App* cmd = set.Add(nullptr, "checkpoints", "list the kept checkpoints, one JSON per line",
                            [o] { return RunCheckpoints(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
  }
  {
    auto o = std::make_shared<ProveOptions>();
    CLI::App* cmd = set.Add(nullptr, "prove",
                            "print an inclusion proof (--position) or a consistency proof "
                            "(--from, --to) as JSON",
                            [o] { return RunProve(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    o->position_opt = cmd->add_option("--position", o->position, "the event's global position")
                          ->type_name("P");
    o->size_opt = cmd->add_option("--size", o->size,
                                  "tree size to prove against (default: the current tree)")
                      ->type_name("N");
    o->from_opt = cmd->add_option("--from", o->from, "older tree size")->type_name("N1");
    o->to_opt = cmd->add_option("--to", o->to, "newer tree size")->type_name("N2");
    o->position_opt->excludes(o->from_opt)->excludes(o->to_opt);
    o->size_opt->needs(o->position_opt);
  }
  {
    auto o = std::make_shared<VerifyOptions>();
    CLI::App* cmd = set.Add(nullptr, "verify",
                            "recompute the Merkle tree from the files and check every checkpoint "
                            "(needs no root key)",
                            [o] { return RunVerify(*o); });
    AddDataOption(cmd, &o->data);
    cmd->add_option("--public-key", o->public_key, "the checkpoint public key file (hex)")
        ->required()
        ->type_name("FILE");
    cmd->add_option("--checkpoint", o->checkpoints,
                    "a checkpoint JSON file you hold (repeatable, or several files after one "
                    "flag): verification fails unless the store extends every one")
        ->type_name("FILE");
    cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
  }
  {
    auto o = std::make_shared<VerifyProofOptions>();
    CLI::App* cmd = set.Add(nullptr, "verify-proof",
                            "check a proof against signed checkpoints, offline (no store needed)",
                            [o] { return RunVerifyProof(*o); });
    cmd->add_option("--proof", o->proof, "proof JSON from `hearth prove`")
        ->required()
        ->type_name("FILE");
    cmd->add_option("--checkpoint", o->checkpoint, "checkpoint JSON")->required()->type_name("FILE");
    cmd->add_option("--checkpoint2", o->checkpoint2,
                    "the second checkpoint JSON (consistency proofs)")
        ->type_name("FILE");
    cmd->add_option("--public-key", o->public_key, "the checkpoint public key file (hex)")
        ->required()
        ->type_name("FILE");
  }
}

}  // namespace hearth::cli
