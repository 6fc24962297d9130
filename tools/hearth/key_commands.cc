// keys rotate, keys export-public (docs/cli.md, docs/keys.md).
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "commands.h"

namespace hearth::cli {

namespace fs = std::filesystem;

namespace {

struct RotateOptions {
  std::string data;
  KeyOptions key;
  std::string new_key_file;
};

Status RunRotate(const RotateOptions& o) {
  auto old_key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!old_key.ok()) return old_key.status();
  auto new_key = ResolveKey(o.new_key_file, kNewPassphraseEnv, "--new-key-file");
  if (!new_key.ok()) return new_key.status();
  std::error_code ec;
  if (!o.key.key_file.empty() && !o.new_key_file.empty() &&
      fs::weakly_canonical(o.key.key_file, ec) == fs::weakly_canonical(o.new_key_file, ec)) {
    return Status::InvalidArgument("--new-key-file names the current key file");
  }
  // Open with the current key first: a wrong key changes nothing, not even
  // the new key file.
  auto store = OpenStore(o.data, *old_key);
  if (!store.ok()) return store.status();
  bool made_key = false;
  if (!o.new_key_file.empty() && !fs::exists(o.new_key_file, ec)) {
    Status s = CreateKeyFile(o.new_key_file);
    if (!s.ok()) return s;
    made_key = true;
  }
  Status s = (*store)->RotateRootKey(*new_key);
  if (!s.ok()) {
    // Only an I/O error can leave it unknown whether the rewrapped keys were
    // written; then the new key file must stay, as it may be the only key.
    if (made_key && s.code() != Status::Code::kIOError) ::unlink(o.new_key_file.c_str());
    return s;
  }
  store->reset();
  std::string out = "rotated the root key of " + o.data + ": only the new key opens it now\n";
  if (!o.new_key_file.empty()) {
    out += "  new root key: " + fs::absolute(o.new_key_file, ec).lexically_normal().string() +
           (made_key ? " (created now: 32 random bytes, mode 0600)\n" : "\n");
  } else {
    out += std::string("  new root key: the passphrase in $") + kNewPassphraseEnv + "\n";
  }
  out += "The old key no longer opens this store; backups taken before now still need it.\n";
  return Print(out);
}

struct ExportOptions {
  std::string data;
  KeyOptions key;
  std::string out;
};

Status RunExportPublic(const ExportOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto pk = (*store)->CheckpointPublicKey();
  if (!pk.ok()) return pk.status();
  store->reset();
  std::string hex = Hex(pk->data(), pk->size()) + "\n";
  if (o.out.empty()) return Print(hex);
  Status s = WriteFile(o.out, hex, 0644);
  if (!s.ok()) return s;
  return Print("wrote the checkpoint public key to " + o.out + " (fingerprint " +
               Fingerprint(*pk) + ")\n");
}

}  // namespace

void AddKeyCommands(CommandSet& set) {
  CLI::App* keys = set.AddGroup("keys", "root key rotation and the checkpoint public key");
  {
    auto o = std::make_shared<RotateOptions>();
    CLI::App* cmd = set.Add(keys, "rotate",
                            "rewrap every key under a new root key (atomic; data is not rewritten)",
                            [o] { return RunRotate(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--new-key-file", o->new_key_file,
                    "the new root key file (created if missing); without it the passphrase in "
                    "$HEARTH_NEW_PASSPHRASE is used")
        ->type_name("FILE");
  }
  {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* cmd = set.Add(keys, "export-public",
                            "print the Ed25519 checkpoint public key (hex) for auditors",
                            [o] { return RunExportPublic(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--out", o->out, "write it to this file instead of stdout")->type_name("FILE");
  }
}

}  // namespace hearth::cli
