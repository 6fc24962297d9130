// hearth web console: local accounts (docs/console.md).
//
// An account is a person who logs in to the console: a name (a staff
// reference, never a person's name), a role (caseworker, controller, auditor,
// partner), for a caseworker the districts she works in, and a password kept
// only as an Argon2id hash (libsodium crypto_pwhash_str). Accounts are events
// in the store's stream `config/accounts`, so every change is in the log, its
// Merkle tree and its history:
//
//   ConsoleAccountAdded        {account, role, districts, passwordHash}
//   ConsoleAccountPasswordSet  {account, passwordHash}
//   ConsoleAccountDisabled     {account}
//
// The plaintext password is never stored, logged or returned: it is hashed
// here and the buffer holding it is wiped by the caller (the command line
// reads it from a terminal or stdin).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hearth/event.h"
#include "hearth/log_reader.h"
#include "hearth/session.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::console {

inline constexpr const char* kAccountsStream = "config/accounts";

// The roles an account may have.
inline constexpr const char* kCaseworker = "caseworker";
inline constexpr const char* kController = "controller";
inline constexpr const char* kAuditor = "auditor";
inline constexpr const char* kPartner = "partner";

// Shortest and longest password accepted (bytes).
inline constexpr size_t kMinPasswordBytes = 12;
inline constexpr size_t kMaxPasswordBytes = 1024;

struct Account {
  std::string name;
  std::string role;
  std::vector<std::string> districts;  // a caseworker's; empty for the other roles
  std::string password_hash;           // Argon2id, crypto_pwhash_str's encoding
  bool disabled = false;
  Timestamp added_at = 0;
  Timestamp password_set_at = 0;
};

// InvalidArgument naming the problem: an account name is a reference
// (1-64 of A-Z a-z 0-9 . _ : @ -); a role one of the four above.
Status CheckAccountName(const std::string& name);
Status CheckRole(const std::string& role);
// InvalidArgument for a password shorter than kMinPasswordBytes or longer
// than kMaxPasswordBytes (the password itself is never in the message).
Status CheckPassword(const std::string& password);

// Argon2id hash (crypto_pwhash_str, interactive limits). IOError when
// libsodium cannot allocate its memory.
Result<std::string> HashPassword(const std::string& password);
// Whether `password` matches `hash` (constant time in the password).
bool VerifyPassword(const std::string& hash, const std::string& password);

// What the scopes of a role are: the console's principals act through a
// hearth::Session with these, so the store (not the browser) enforces them.
//   caseworker  her districts' cases (read_districts), with personal
//               sections; read models worklist, timeline, info
//   controller  every stream and district, personal sections, the controller
//               scope; read models sar, disclosures, timeline, worklist, info
//   auditor     every stream and district, facts only (no personal
//               sections); read models timeline, info
//   partner     read model kpi only (counts under disclosure control)
Scopes RoleScopes(const Account& account);

// Every account, folded from kAccountsStream.
class AccountBook {
 public:
  // Reads the stream. Corruption for an event that does not decode.
  static Result<AccountBook> Read(LogReader& store);

  // Null when there is no such account.
  const Account* Find(const std::string& name) const;
  const std::map<std::string, Account>& all() const { return accounts_; }
  uint64_t version() const { return version_; }

 private:
  std::map<std::string, Account> accounts_;
  uint64_t version_ = 0;
};

// The writes. Each checks its input, reads the book and appends one event
// with the stream's version expected (Conflict when someone wrote between).
// `actor` is who did it (recorded in the event's envelope).
//   AddAccount: InvalidArgument (name, role, password, districts: a
//     caseworker needs at least one, the others none), Conflict "account
//     exists".
//   SetPassword / DisableAccount: NotFound for an unknown account;
//     InvalidArgument for a disabled one (disabled is final: add a new one).
Status AddAccount(Store& store, const Account& account, const std::string& password,
                  const Actor& actor);
Status SetPassword(Store& store, const std::string& name, const std::string& password,
                   const Actor& actor);
Status DisableAccount(Store& store, const std::string& name, const Actor& actor);

}  // namespace hearth::console
