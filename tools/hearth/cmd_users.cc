// hearth users add|passwd|disable|list: the web console's local accounts
// (plugins/console/accounts.h, docs/console.md, docs/cli.md).
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "accounts.h"
#include "commands.h"

namespace hearth::cli {

namespace {

using Json = nlohmann::json;

struct UsersOptions {
  std::string data;
  KeyOptions key;
  std::string name;
  std::string role;
  std::vector<std::string> districts;
  std::string by;  // staff reference of who manages the account
  bool password_stdin = false;
  bool random_password = false;
  bool json = false;
};

void AddCommon(CLI::App* cmd, UsersOptions* o) {
  AddDataOption(cmd, &o->data);
  AddKeyOptions(cmd, &o->key);
  cmd->add_option("--by", o->by, "staff reference of who makes the change (recorded as the actor)")
      ->type_name("REF");
}

void AddPasswordOptions(CLI::App* cmd, UsersOptions* o) {
  cmd->add_flag("--password-stdin", o->password_stdin,
                "read the password from the first line of standard input");
  cmd->add_flag("--random-password", o->random_password,
                "make a random password and print it once (nowhere else keeps it)");
}

// 20 characters from an alphabet without look-alikes: about 100 bits.
std::string RandomPassword() {
  static const char kAlphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string out;
  for (int i = 0; i < 20; ++i) out += kAlphabet[randombytes_uniform(sizeof kAlphabet - 1)];
  return out;
}

// A line from the terminal without echo.
Result<std::string> Prompt(const std::string& text) {
  std::cerr << text << std::flush;
  termios old{};
  bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  bool got = bool(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  }
  if (!got) return Status::InvalidArgument("no password given");
  return line;
}

// The new password, and whether it was generated (then printed once).
Result<std::string> NewPassword(const UsersOptions& o, bool* generated) {
  *generated = false;
  if (o.password_stdin && o.random_password) {
    return Status::InvalidArgument("give one of --password-stdin and --random-password");
  }
  if (o.random_password) {
    *generated = true;
    return RandomPassword();
  }
  if (o.password_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) return Status::InvalidArgument("no password on standard input");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(
        "standard input is not a terminal: give --password-stdin or --random-password");
  }
  auto first = Prompt("new password: ");
  if (!first.ok()) return first;
  auto second = Prompt("again: ");
  if (!second.ok()) return second;
  bool same = *first == *second;
  sodium_memzero(second->data(), second->size());
  if (!same) return Status::InvalidArgument("the two passwords differ: nothing changed");
  return first;
}

Actor ActorOf(const UsersOptions& o) { return Actor{o.by, "controller", "hearth-cli"}; }

Status RunAddOrPasswd(const UsersOptions& o, bool add) {
  if (add) {
    if (Status s = console::CheckAccountName(o.name); !s.ok()) return s;
    if (Status s = console::CheckRole(o.role); !s.ok()) return s;
  }
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  bool generated = false;
  auto password = NewPassword(o, &generated);
  if (!password.ok()) return password.status();
  Status s;
  if (add) {
    console::Account a;
    a.name = o.name;
    a.role = o.role;
    a.districts = o.districts;
    s = console::AddAccount(**store, a, *password, ActorOf(o));
  } else {
    s = console::SetPassword(**store, o.name, *password, ActorOf(o));
  }
  if (s.ok()) {
    std::string text = (add ? "added account " + o.name + " (" + o.role + ")"
                            : "set the password of account " + o.name) +
                       "\n";
    if (generated) text += "password (shown once, not stored anywhere): " + *password + "\n";
    s = Print(text);
  }
  sodium_memzero(password->data(), password->size());
  return s;
}

Status RunDisable(const UsersOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  if (Status s = console::DisableAccount(**store, o.name, ActorOf(o)); !s.ok()) return s;
  return Print("disabled account " + o.name + "\n");
}

Status RunList(const UsersOptions& o) {
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();
  auto store = OpenStore(o.data, *key);
  if (!store.ok()) return store.status();
  auto book = console::AccountBook::Read(**store);
  if (!book.ok()) return book.status();
  Json out = Json::array();
  std::string text;
  for (const auto& [name, a] : book->all()) {
    // Never the hash: it is of no use to anyone reading the list.
    out.push_back(Json{{"account", name}, {"role", a.role}, {"districts", a.districts},
                       {"disabled", a.disabled}});
    text += name + "  " + a.role;
    for (const auto& d : a.districts) text += " " + d;
    if (a.disabled) text += "  (disabled)";
    text += "\n";
  }
  if (o.json) return Print(out.dump(2) + "\n");
  return Print(text.empty() ? "no accounts\n" : text);
}

}  // namespace

void AddUsersCommands(CommandSet& set) {
  CLI::App* group = set.AddGroup("users", "the web console's accounts (docs/console.md)");
  {
    auto o = std::make_shared<UsersOptions>();
    CLI::App* cmd = set.Add(group, "add", "add an account with a role (password kept as an Argon2id hash)",
                            [o] { return RunAddOrPasswd(*o, true); });
    AddCommon(cmd, o.get());
    cmd->add_option("--name", o->name, "the account name: a staff reference, not a person's name")
        ->required();
    cmd->add_option("--role", o->role, "caseworker, controller, auditor or partner")->required();
    cmd->add_option("--district", o->districts, "a caseworker's district (repeatable)");
    AddPasswordOptions(cmd, o.get());
  }
  {
    auto o = std::make_shared<UsersOptions>();
    CLI::App* cmd = set.Add(group, "passwd", "set an account's password",
                            [o] { return RunAddOrPasswd(*o, false); });
    AddCommon(cmd, o.get());
    cmd->add_option("--name", o->name, "the account")->required();
    AddPasswordOptions(cmd, o.get());
  }
  {
    auto o = std::make_shared<UsersOptions>();
    CLI::App* cmd = set.Add(group, "disable", "disable an account for good (it can no longer log in)",
                            [o] { return RunDisable(*o); });
    AddCommon(cmd, o.get());
    cmd->add_option("--name", o->name, "the account")->required();
  }
  {
    auto o = std::make_shared<UsersOptions>();
    CLI::App* cmd = set.Add(group, "list", "every account with its role and districts (never a hash)",
                            [o] { return RunList(*o); });
    AddCommon(cmd, o.get());
    cmd->add_flag("--json", o->json, "JSON instead of text");
  }
}

}  // namespace hearth::cli
