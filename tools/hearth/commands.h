// The `hearth` command line: what every command group shares.
//
// main() builds the parser and a CommandSet, and calls each group's Add*
// function (one file per group). A command registers the work it does as a
// function returning Status; main() runs the chosen one after parsing and
// turns its Status into one line on stderr and an exit code (docs/cli.md).
// Nothing here is global: the set lives on main()'s stack.
#pragma once

#include <CLI/CLI.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hearth/options.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::cli {

// Exit codes (docs/cli.md).
constexpr int kExitOk = 0;
constexpr int kExitBadInput = 1;    // usage, bad input, unknown store/stream, wrong key
constexpr int kExitConflict = 2;    // wrong expected version, store locked, busy: retry
constexpr int kExitCorruption = 3;  // stored bytes or a proof fail a check
constexpr int kExitIOError = 4;     // the file system failed

int ExitCode(const Status& status);

using RunFn = std::function<Status()>;

// The registry of subcommands for one run of the program. Owns nothing but
// the choice: the parser (CLI::App) owns the subcommands.
class CommandSet {
 public:
  explicit CommandSet(CLI::App* root) : root_(root) {}
  CommandSet(const CommandSet&) = delete;
  CommandSet& operator=(const CommandSet&) = delete;

  CLI::App* root() const { return root_; }

  // Adds subcommand `name` under `parent` (the root when null); `run` is
  // called after a successful parse when it is the command chosen.
  CLI::App* Add(CLI::App* parent, const std::string& name, const std::string& description,
                RunFn run);
  // A group of subcommands (e.g. `keys`): requires one of them.
  CLI::App* AddGroup(const std::string& name, const std::string& description);

  // The chosen command's work; empty when parsing chose none.
  const RunFn& chosen() const { return chosen_; }

 private:
  CLI::App* root_;
  RunFn chosen_;
};

// --- the command groups (one file each) ---
void AddLogCommands(CommandSet& set);    // init, append, read, info, backup, erase
void AddKeyCommands(CommandSet& set);    // keys rotate, keys export-public
void AddProofCommands(CommandSet& set);  // checkpoint(s), prove, verify, verify-proof
void AddDemoCommands(CommandSet& set);   // demo (cmd_demo.cc, tools/demo)
void AddReadModelCommands(CommandSet& set);  // rebuild, timeline, worklist

// Brings every read model's projection of the store at `data` up to the
// log's end, each from where the store has it (one that stopped on an error
// is rebuilt), with progress on a terminal unless `quiet`; each projection's
// name and position. For `hearth demo`, so that the first worklist after it
// does not catch up for minutes.
Result<std::vector<std::pair<std::string, uint64_t>>> BringProjectionsCurrent(const std::string& data,
                                                                             const KeySource& key, bool quiet);
void AddServeCommands(CommandSet& set);  // serve, ca init, ca issue (cmd_serve.cc)
void AddRightsCommands(CommandSet& set);  // rights, sar, processing, disclosures, retention (cmd_rights.cc)
void AddUsersCommands(CommandSet& set);   // users add|passwd|disable|list (cmd_users.cc)

// Sets the documented default record of processing (store/rights,
// effective today) on a store that has none; `init` and `demo` call it. True
// when it appended one, false when one was already set.
Result<bool> LoadDefaultProcessing(Store* store);
// The same on the store at `data` (opened, then closed). OK when one is
// already set.
Status LoadDefaultProcessing(const std::string& data, const KeySource& key);
void AddExportCommands(CommandSet& set);  // export kpi | cases | identifiable (cmd_export.cc)
void AddAllocationCommands(CommandSet& set);  // allocation set | list (cmd_allocation.cc)
void AddBreachCommands(CommandSet& set);  // breach record | assess | notify | inform | list (cmd_breach.cc)
void AddComplaintCommands(CommandSet& set);  // complaint record | escalate | resolve | list (cmd_complaint.cc)
void AddDocumentCommands(CommandSet& set);  // attach, document list | get (cmd_document.cc)
void AddContractorCommands(CommandSet& set);  // contractor vet | remove | list (cmd_contractor.cc)
void AddRestoreCommands(CommandSet& set);  // restore --from BACKUP (cmd_restore.cc)
void AddReplicationCommands(CommandSet& set);  // follow, replicate (cmd_replication.cc)

// `serve --replicate-nats URLS --replicate-stream NAME [--replication-ack cluster|local]`
// (cmd_replication.cc): the store opened with replication when they are given.
struct ReplicationFlags {
  std::string urls;
  std::string stream;
  std::string ack = "cluster";
  uint64_t max_lag = 10000;
};
void AddReplicationOptions(CLI::App* cmd, ReplicationFlags* flags);
Result<std::unique_ptr<Store>> OpenMaybeReplicated(const Options& options, const std::string& data,
                                                   const ReplicationFlags& flags);

// --- helpers shared by the groups ---

// `--data DIR` (also from $HEARTH_DATA), required.
void AddDataOption(CLI::App* cmd, std::string* data);

// The root key: `--key-file F`, else the passphrase in $HEARTH_PASSPHRASE.
struct KeyOptions {
  std::string key_file;
};

// `restore --from-stream` (cmd_replication.cc), reached from `restore` (cmd_restore.cc).
Status RestoreFromStreamCommand(const std::string& data, const KeyOptions& key, const std::string& urls,
                                const std::string& stream, const std::string& public_key,
                                const std::vector<std::string>& checkpoints, bool quiet);
void AddKeyOptions(CLI::App* cmd, KeyOptions* opts);

constexpr const char* kPassphraseEnv = "HEARTH_PASSPHRASE";
constexpr const char* kNewPassphraseEnv = "HEARTH_NEW_PASSPHRASE";

// The key source from a key file path, else from the environment variable
// `env`. InvalidArgument when neither is given.
Result<KeySource> ResolveKey(const std::string& key_file, const char* env, const char* flag);

// Creates `path` with 32 random bytes, mode 0600, failing if it exists.
Status CreateKeyFile(const std::string& path);

// Opens an existing store; `projections` are run while it is open (none:
// the read models' projections are neither folded nor readable).
Result<std::unique_ptr<Store>> OpenStore(const std::string& data, const KeySource& key,
                                         std::vector<std::shared_ptr<Projection>> projections = {});

// Waits until the projection has caught up with the log, saying so on
// stderr when it takes a while.
Status CatchUp(Store& store, const std::string& name);

// Lowercase hex.
std::string Hex(const uint8_t* bytes, size_t len);
// The checkpoint key's fingerprint people compare by eye: the first 8 bytes
// of SHA-256(public key), as four groups of four hex digits.
std::string Fingerprint(const std::array<uint8_t, 32>& public_key);

// Reads a whole file. NotFound / IOError naming the file.
Result<std::string> ReadFile(const std::string& path);
// Writes a whole file (created or truncated) and syncs it.
Status WriteFile(const std::string& path, const std::string& bytes, int mode);

// A public key file: 64 hex digits (what `keys export-public` writes, blanks
// around it ignored) or 32 raw bytes.
Result<std::array<uint8_t, 32>> ReadPublicKey(const std::string& path);

// Writes to stdout and reports a failed write (full disk, closed pipe) as IOError.
Status Print(const std::string& text);

}  // namespace hearth::cli
