// `hearth`: the command line (docs/cli.md).
//
// main() builds the parser and the CommandSet; each command group registers
// itself from its own file (commands.h). After parsing, the chosen command
// runs and its Status becomes the exit code; a failure is one line on stderr,
// "hearth: <Status::ToString()>".
#include <sodium.h>

#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"

namespace hearth::cli {
namespace {

// `hearth help [COMMAND...]`: the parser's own help for the root or a command.
void AddHelpCommand(CommandSet& set, std::shared_ptr<std::vector<std::string>> topic) {
  CLI::App* cmd = set.Add(nullptr, "help", "show the commands, or one command's options",
                          [&set, topic]() -> Status {
                            const CLI::App* app = set.root();
                            std::string path = "hearth";
                            for (const std::string& name : *topic) {
                              try {
                                app = app->get_subcommand(name);
                              } catch (const CLI::Error&) {
                                return Status::InvalidArgument("no command '" + name +
                                                               "' (see hearth help)");
                              }
                              path += " " + name;
                            }
                            // The formatter, not App::help(): that would
                            // describe the selected subcommand, `help` itself.
                            return Print(app->get_formatter()->make_help(
                                app, path, CLI::AppFormatMode::Normal));
                          });
  cmd->add_option("command", *topic, "the command to explain, e.g. `keys rotate`");
}

int Main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "hearth: " << Status::IOError("libsodium failed to initialise").ToString() << "\n";
    return kExitIOError;
  }
  CLI::App app{
      "hearth: an embedded, append-only, encrypted event store for council case records.\n"
      "The root key comes from --key-file FILE or the passphrase in $HEARTH_PASSPHRASE.",
      "hearth"};
  app.set_version_flag("--version", std::string("hearth ") + HEARTH_VERSION + " (store format " +
                                        std::to_string(Store::kFormatVersion) + ")");
  app.require_subcommand(1);

  CommandSet set(&app);
  AddLogCommands(set);
  AddKeyCommands(set);
  AddProofCommands(set);
  AddDemoCommands(set);
  AddReadModelCommands(set);
  AddServeCommands(set);
  AddRightsCommands(set);
  AddUsersCommands(set);
  AddExportCommands(set);
  AddAllocationCommands(set);
  AddBreachCommands(set);
  AddComplaintCommands(set);
  AddDocumentCommands(set);
  AddContractorCommands(set);
  AddRestoreCommands(set);
  AddReplicationCommands(set);
  AddHelpCommand(set, std::make_shared<std::vector<std::string>>());

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "hearth: " << Status::InvalidArgument(e.what()).ToString()
              << " (see hearth help)\n";
    return kExitBadInput;
  }
  if (!set.chosen()) {
    std::cerr << "hearth: " << Status::InvalidArgument("no command given (see hearth help)").ToString()
              << "\n";
    return kExitBadInput;
  }
  Status status;
  try {
    status = set.chosen()();
  } catch (const std::exception& e) {
    status = Status::IOError(std::string("unexpected failure: ") + e.what());
  }
  if (status.ok()) return kExitOk;
  std::cerr << "hearth: " << status.ToString() << "\n";
  return ExitCode(status);
}

}  // namespace
}  // namespace hearth::cli

int main(int argc, char** argv) { return hearth::cli::Main(argc, argv); }
