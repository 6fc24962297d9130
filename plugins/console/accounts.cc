// Local accounts of the web console (accounts.h, docs/console.md).
#include "accounts.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "hearth/references.h"

namespace hearth::console {
namespace {

using Json = nlohmann::json;

constexpr const char* kAdded = "ConsoleAccountAdded";
constexpr const char* kPasswordSet = "ConsoleAccountPasswordSet";
constexpr const char* kDisabled = "ConsoleAccountDisabled";

Status Append(Store& store, uint64_t version, const std::string& type, const Json& facts,
              const Actor& actor) {
  NewEvent e;
  e.id = Id128::Random();
  e.type = type;
  e.actor = actor;
  e.facts = facts.dump();
  auto r = store.Append(kAccountsStream,
                        version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(version),
                        {e});
  if (!r.ok()) {
    if (r.status().code() == Status::Code::kConflict) {
      return Status::Conflict("the accounts changed while this change was made: try again");
    }
    return r.status();
  }
  return Status::OK();
}

}  // namespace

Status CheckAccountName(const std::string& name) {
  if (!IsReference(name)) {
    return Status::InvalidArgument(
        "an account name must be a staff reference (1-64 of A-Z a-z 0-9 . _ : @ -), not a name");
  }
  return Status::OK();
}

Status CheckRole(const std::string& role) {
  if (role == kCaseworker || role == kController || role == kAuditor || role == kPartner) {
    return Status::OK();
  }
  return Status::InvalidArgument("role must be caseworker, controller, auditor or partner, not '" +
                                 role.substr(0, 64) + "'");
}

Status CheckPassword(const std::string& password) {
  if (password.size() < kMinPasswordBytes) {
    return Status::InvalidArgument("the password is shorter than " +
                                   std::to_string(kMinPasswordBytes) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument("the password is longer than " +
                                   std::to_string(kMaxPasswordBytes) + " bytes");
  }
  return Status::OK();
}

Result<std::string> HashPassword(const std::string& password) {
  if (sodium_init() < 0) return Status::IOError("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::IOError("Argon2id could not allocate its memory");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (sodium_init() < 0) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Scopes RoleScopes(const Account& account) {
  Scopes s;
  if (account.disabled) return s;
  if (account.role == kCaseworker) {
    s.read_districts = account.districts;
    s.read_models = {"info", "timeline", "worklist"};
    s.read_personal = true;
  } else if (account.role == kController) {
    s.read_streams = {"*"};
    s.read_districts = {"*"};
    s.read_models = {"disclosures", "info", "sar", "timeline", "worklist"};
    s.append_types = {"Rights*"};
    s.read_personal = true;
    s.controller = true;
  } else if (account.role == kAuditor) {
    s.read_streams = {"*"};
    s.read_districts = {"*"};
    s.read_models = {"info", "timeline"};
  } else if (account.role == kPartner) {
    s.read_models = {"kpi"};
  }
  return s;
}

Result<AccountBook> AccountBook::Read(LogReader& store) {
  AccountBook book;
  for (uint64_t from = 1;;) {
    auto events = store.ReadStream(kAccountsStream, from, Direction::kForward, 256);
    if (!events.ok()) {
      if (events.status().IsNotFound()) return book;
      return events.status();
    }
    if (events->empty()) break;
    for (const RecordedEvent& e : *events) {
      from = e.stream_version + 1;
      book.version_ = e.stream_version;
      Json f = Json::parse(e.facts, nullptr, false);
      if (f.is_discarded() || !f.is_object() || !f.contains("account") ||
          !f["account"].is_string()) {
        return Status::Corruption(std::string(kAccountsStream) + " event " +
                                  std::to_string(e.stream_version) + " does not decode");
      }
      std::string name = f["account"].get<std::string>();
      try {
        if (e.type == kAdded) {
          Account a;
          a.name = name;
          a.role = f.at("role").get<std::string>();
          a.districts = f.at("districts").get<std::vector<std::string>>();
          a.password_hash = f.at("passwordHash").get<std::string>();
          a.added_at = a.password_set_at = e.recorded_at;
          book.accounts_[name] = std::move(a);
        } else if (e.type == kPasswordSet) {
          auto it = book.accounts_.find(name);
          if (it == book.accounts_.end()) continue;
          it->second.password_hash = f.at("passwordHash").get<std::string>();
          it->second.password_set_at = e.recorded_at;
        } else if (e.type == kDisabled) {
          auto it = book.accounts_.find(name);
          if (it != book.accounts_.end()) it->second.disabled = true;
        }
      } catch (const Json::exception&) {
        return Status::Corruption(std::string(kAccountsStream) + " event " +
                                  std::to_string(e.stream_version) + " does not decode");
      }
    }
  }
  return book;
}

const Account* AccountBook::Find(const std::string& name) const {
  auto it = accounts_.find(name);
  return it == accounts_.end() ? nullptr : &it->second;
}

Status AddAccount(Store& store, const Account& account, const std::string& password,
                  const Actor& actor) {
  if (Status s = CheckAccountName(account.name); !s.ok()) return s;
  if (Status s = CheckRole(account.role); !s.ok()) return s;
  if (account.role == kCaseworker && account.districts.empty()) {
    return Status::InvalidArgument("a caseworker needs at least one district (--district)");
  }
  if (account.role != kCaseworker && !account.districts.empty()) {
    return Status::InvalidArgument("only a caseworker has districts; a " + account.role +
                                   " reads as the role allows");
  }
  for (const std::string& d : account.districts) {
    if (!IsReference(d) || d.find('*') != std::string::npos) {
      return Status::InvalidArgument("a district must be a district code such as D1");
    }
  }
  if (Status s = CheckPassword(password); !s.ok()) return s;
  auto book = AccountBook::Read(store);
  if (!book.ok()) return book.status();
  if (book->Find(account.name) != nullptr) {
    return Status::Conflict("account " + account.name + " exists (passwd changes its password)");
  }
  auto hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  Json facts{{"account", account.name},
             {"role", account.role},
             {"districts", account.districts},
             {"passwordHash", *hash}};
  return Append(store, book->version(), kAdded, facts, actor);
}

Status SetPassword(Store& store, const std::string& name, const std::string& password,
                   const Actor& actor) {
  if (Status s = CheckAccountName(name); !s.ok()) return s;
  if (Status s = CheckPassword(password); !s.ok()) return s;
  auto book = AccountBook::Read(store);
  if (!book.ok()) return book.status();
  const Account* a = book->Find(name);
  if (a == nullptr) return Status::NotFound("no account " + name);
  if (a->disabled) return Status::InvalidArgument("account " + name + " is disabled");
  auto hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  return Append(store, book->version(), kPasswordSet,
                Json{{"account", name}, {"passwordHash", *hash}}, actor);
}

Status DisableAccount(Store& store, const std::string& name, const Actor& actor) {
  if (Status s = CheckAccountName(name); !s.ok()) return s;
  auto book = AccountBook::Read(store);
  if (!book.ok()) return book.status();
  const Account* a = book->Find(name);
  if (a == nullptr) return Status::NotFound("no account " + name);
  if (a->disabled) return Status::InvalidArgument("account " + name + " is already disabled");
  return Append(store, book->version(), kDisabled, Json{{"account", name}}, actor);
}

}  // namespace hearth::console
