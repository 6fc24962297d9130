// restore: a backup made into a store again, with every erasure in the
// erasure ledger re-applied before anyone can open it (docs/operations.md).
//
// The restore is staged in `<DIR>.restoring` (its ledger a copy of the one
// given, `<DIR>.restoring.erasures`): the backup is copied there, opened,
// the ledger's erasures re-applied, a checkpoint signed, the store
// closed and verified, and only then renamed to DIR. A failure at any step
// removes the staging copies and leaves DIR, the backup and the ledger as they
// were; a crash leaves only staging copies, which the next restore removes.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "progress.h"
#include "log/erasure_ledger.h"
#include "audit/verifier.h"

namespace hearth::cli {

namespace fs = std::filesystem;

namespace {

struct RestoreOptions {
  // The source of the restore. `--from BACKUP` is the one made here; another
  // source (a replicated stream) adds its own option and branch in RunRestore.
  std::string from;
  std::string data;
  KeyOptions key;
  std::string ledger;
  std::string public_key;
  // `--from-stream`: rebuild from the store's JetStream stream (cmd_replication.cc).
  bool from_stream = false;
  std::string nats, stream;
  std::vector<std::string> checkpoints;
  bool quiet = false;
};

Status SyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening " + dir.string() + " to sync it");
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError("syncing " + dir.string());
  return Status::OK();
}

// Removes the staging copy and its ledger when the restore does not complete.
struct Staging {
  fs::path path;
  fs::path ledger;
  bool keep = false;
  ~Staging() {
    std::error_code ec;
    if (keep) return;
    if (!path.empty()) fs::remove_all(path, ec);
    if (!ledger.empty()) fs::remove(ledger, ec);
  }
};

struct ReplayCounts {
  size_t entries = 0;
  size_t after_backup = 0;  // ledger positions past the backup's last position
  size_t reapplied = 0;
  size_t already = 0;  // already erased in the backup
  size_t absent = 0;   // the subject is not in the backup (created after it)
};

Status RunRestoreFromBackup(const RestoreOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  std::error_code ec;
  // Check everything that needs no store before copying anything.
  if (!fs::is_directory(o.from, ec) || !fs::exists(fs::path(o.from) / "CURRENT", ec)) {
    return Status::InvalidArgument("--from " + o.from +
                                   " is not a backup (a directory `hearth backup` wrote)");
  }
  fs::path target = fs::path(o.data).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec))) {
    return Status::InvalidArgument(
        "--data " + o.data +
        " exists and is not empty: move the damaged store aside first (nothing was changed)");
  }
  fs::path parent = fs::absolute(target, ec).parent_path();
  if (!fs::is_directory(parent, ec)) {
    return Status::InvalidArgument("the directory " + parent.string() + " for --data does not exist");
  }
  std::string ledger_path = o.ledger.empty() ? log::DefaultErasureLedgerPath(target.string())
                                             : o.ledger;
  if (!fs::exists(ledger_path, ec)) {
    return Status::NotFound("no erasure ledger at " + ledger_path +
                            ": give --ledger FILE (the store's ledger, or a copy of it kept off "
                            "the machine); without it erased people would come back");
  }
  std::array<uint8_t, 32> auditor_pk{};
  if (!o.public_key.empty()) {
    auto pk = ReadPublicKey(o.public_key);
    if (!pk.ok()) return pk.status();
    auditor_pk = *pk;
  }

  // The staging store's ledger is a copy of the one given, beside it (where
  // the store keeps its ledger); both become DIR and DIR.erasures at the end.
  Staging staging;
  staging.path = fs::path(target.string() + ".restoring");
  staging.ledger = log::DefaultErasureLedgerPath(staging.path.string());
  fs::remove_all(staging.path, ec);  // left by an interrupted restore
  if (!ec) fs::remove(staging.ledger, ec);
  if (ec) return Status::IOError("removing the old " + staging.path.string() + ": " + ec.message());
  fs::copy_file(ledger_path, staging.ledger, ec);
  if (ec) return Status::IOError("copying " + ledger_path + ": " + ec.message());
  fs::copy(o.from, staging.path, fs::copy_options::recursive, ec);
  if (ec) {
    return Status::IOError("copying " + o.from + " to " + staging.path.string() + ": " +
                           ec.message());
  }

  std::array<uint8_t, 32> pk{};
  ReplayCounts counts;
  uint64_t backup_position = 0;
  uint64_t final_size = 0;
  {
    Options options;
    options.key = *key;
    // Opening checks the root key (WrongKey for another store's or an old
    // key) and the ledger: its header and every signature must be this
    // store's (Corruption naming the line otherwise).
    auto store = Store::Open(options, staging.path.string());
    if (!store.ok()) return store.status();
    auto store_pk = (*store)->CheckpointPublicKey();
    if (!store_pk.ok()) return store_pk.status();
    pk = *store_pk;
    if (!o.public_key.empty() && pk != auditor_pk) {
      return Status::InvalidArgument("the backup's checkpoint key (" + Fingerprint(pk) +
                                     ") is not the one in " + o.public_key + " (" +
                                     Fingerprint(auditor_pk) + "): it is another store's backup");
    }
    auto info = (*store)->Info();
    if (!info.ok()) return info.status();
    backup_position = info->tree.size;
    auto ledger = log::ReadErasureLedger(staging.ledger.string(), pk);
    if (!ledger.ok()) return ledger.status();
    counts.entries = ledger->entries.size();
    const Actor actor{"", "controller", "hearth-restore"};
    for (const log::LedgerEntry& e : ledger->entries) {
      if (e.position > backup_position) counts.after_backup++;
      auto erased = (*store)->EraseSubject(e.subject, actor, "ledger-replay");
      if (erased.ok()) {
        (erased->duplicate ? counts.already : counts.reapplied)++;
      } else if (erased.status().code() == Status::Code::kNotFound) {
        counts.absent++;
      } else {
        return erased.status();
      }
    }
    auto cp = (*store)->WriteCheckpoint();
    if (!cp.ok()) return cp.status();
    final_size = cp->size;
  }  // closed: the verifier reads the files

  merkle::VerifyOptions verify_options;
  ProgressLine progress("restore: verify", "records hashed", o.quiet);
  if (progress.shown()) {
    verify_options.on_progress = [&progress](uint64_t hashed, uint64_t total) {
      progress.Update(hashed, total);
    };
  }
  auto report = merkle::VerifyStoreFiles(staging.path.string(), pk, verify_options);
  progress.Finish();
  if (!report.ok()) return report.status();
  if (!report->ok) {
    return Status::Corruption("the restored store fails verification: " + report->failure +
                              (report->failure_position != 0
                                   ? " (position " + std::to_string(report->failure_position) + ")"
                                   : std::string()));
  }
  if (fs::exists(target, ec)) fs::remove(target, ec);  // empty, checked above
  // The ledger first: a crash between the two renames leaves the extended
  // ledger and no store, and the restore can be run again.
  fs::rename(staging.ledger, log::DefaultErasureLedgerPath(target.string()), ec);
  if (!ec) fs::rename(staging.path, target, ec);
  if (ec) {
    return Status::IOError("renaming " + staging.path.string() + " to " + target.string() + ": " +
                           ec.message());
  }
  staging.keep = true;
  Status s = SyncDir(parent);
  if (!s.ok()) return s;
  return Print("restored " + o.from + " to " + target.string() + ": the backup held the log up to " +
               "position " + std::to_string(backup_position) + ".\n" +
               "  erasure ledger " + ledger_path + ": " + std::to_string(counts.entries) +
               " erasure(s), " + std::to_string(counts.after_backup) +
               " after the backup; re-applied " + std::to_string(counts.reapplied) +
               ", already erased in the backup " + std::to_string(counts.already) +
               ", not in the backup " + std::to_string(counts.absent) + "\n" +
               "  verified: " + std::to_string(report->leaves) + " records, " +
               std::to_string(report->checkpoints) + " checkpoints with key " + Fingerprint(pk) +
               "; newest checkpoint at " + std::to_string(final_size) + "\n" +
               "Events appended after the backup are not in it. Auditors' checkpoints newer than "
               "position " + std::to_string(backup_position) +
               " are not extended by this store: record the restore in the audit trail.\n");
}

Status RunRestore(const RestoreOptions& o) {
  if (o.from_stream) {
    if (!o.from.empty()) return Status::InvalidArgument("give --from BACKUP or --from-stream, not both");
    return RestoreFromStreamCommand(o.data, o.key, o.nats, o.stream, o.public_key, o.checkpoints, o.quiet);
  }
  if (o.from.empty()) {
    return Status::InvalidArgument(
        "give --from BACKUP (a directory `hearth backup` wrote) or --from-stream --nats URLS --stream NAME");
  }
  return RunRestoreFromBackup(o);
}

}  // namespace

void AddRestoreCommands(CommandSet& set) {
  auto o = std::make_shared<RestoreOptions>();
  CLI::App* cmd = set.Add(nullptr, "restore",
                          "make a backup into a store at --data, re-applying every erasure in the "
                          "erasure ledger, then verify it; or rebuild a lost store from its JetStream "
                          "stream (--from-stream); nothing is overwritten",
                          [o] { return RunRestore(*o); });
  cmd->add_option("--from", o->from, "the backup directory (`hearth backup --out`)")
      ->type_name("BACKUP");
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--ledger", o->ledger,
                  "the erasure ledger to re-apply (default: DIR.erasures, beside --data)")
      ->type_name("FILE");
  cmd->add_option("--public-key", o->public_key,
                  "the checkpoint public key auditors hold: the backup must be signed with it")
      ->type_name("FILE");
  cmd->add_flag("--from-stream", o->from_stream, "rebuild from the store's JetStream stream");
  cmd->add_option("--nats", o->nats, "with --from-stream: the JetStream cluster, NATS URLs comma-separated")
      ->type_name("URLS");
  cmd->add_option("--stream", o->stream, "with --from-stream: the store's stream")->type_name("NAME");
  cmd->add_option("--checkpoint", o->checkpoints,
                  "with --from-stream: the auditor's checkpoint JSON, which the stream must extend "
                  "(repeatable)")
      ->type_name("FILE");
  cmd->add_flag("--quiet", o->quiet, "no progress on standard error");
}

}  // namespace hearth::cli
