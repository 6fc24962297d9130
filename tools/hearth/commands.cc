#include "commands.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

namespace hearth::cli {

int ExitCode(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk:
      return kExitOk;
    case Status::Code::kConflict:
    case Status::Code::kLocked:
    case Status::Code::kBusy:
      return kExitConflict;
    case Status::Code::kCorruption:
      return kExitCorruption;
    case Status::Code::kIOError:
      return kExitIOError;
    case Status::Code::kNotFound:
    case Status::Code::kInvalidArgument:
    case Status::Code::kWrongKey:
    case Status::Code::kErased:
    case Status::Code::kNotSupported:
    case Status::Code::kPermissionDenied:
    case Status::Code::kTooLarge:
      return kExitBadInput;
  }
  return kExitBadInput;
}

CLI::App* CommandSet::Add(CLI::App* parent, const std::string& name,
                          const std::string& description, RunFn run) {
  CLI::App* cmd = (parent ? parent : root_)->add_subcommand(name, description);
  cmd->callback([this, run = std::move(run)] { chosen_ = run; });
  return cmd;
}

CLI::App* CommandSet::AddGroup(const std::string& name, const std::string& description) {
  CLI::App* group = root_->add_subcommand(name, description);
  group->require_subcommand(1);
  return group;
}

void AddDataOption(CLI::App* cmd, std::string* data) {
  cmd->add_option("--data", *data, "store directory")
      ->envname("HEARTH_DATA")
      ->required()
      ->type_name("DIR");
}

void AddKeyOptions(CLI::App* cmd, KeyOptions* opts) {
  cmd->add_option("--key-file", opts->key_file,
                  "root key file (32 random bytes, mode 0600); without it the passphrase "
                  "in $HEARTH_PASSPHRASE is used")
      ->type_name("FILE");
}

Result<KeySource> ResolveKey(const std::string& key_file, const char* env, const char* flag) {
  if (!key_file.empty()) return KeySource::File(key_file);
  const char* pass = std::getenv(env);
  if (pass != nullptr && *pass != '\0') {
    KeySource key = KeySource::Passphrase(pass);
    // Only the guarded copy stays: wipe the environment's (which would
    // otherwise live as long as the process, e.g. `hearth serve`).
    sodium_memzero(const_cast<char*>(pass), std::strlen(pass));
    ::unsetenv(env);
    return key;
  }
  return Status::InvalidArgument(std::string("no root key: give ") + flag + " FILE or set " + env +
                                 " (a passphrase is never taken on the command line)");
}

Status CreateKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IOError("cannot create key file " + path + ": " + std::strerror(errno));
  }
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, key, sizeof key) == ssize_t(sizeof key) &&
            ::fsync(fd) == 0;
  int err = errno;
  sodium_memzero(key, sizeof key);
  ok = (::close(fd) == 0) && ok;
  if (!ok) {
    ::unlink(path.c_str());
    return Status::IOError("cannot write key file " + path + ": " + std::strerror(err));
  }
  return Status::OK();
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& data, const KeySource& key,
                                         std::vector<std::shared_ptr<Projection>> projections) {
  Options options;
  options.key = key;
  options.projections = std::move(projections);
  return Store::Open(options, data);
}

Status CatchUp(Store& store, const std::string& name) {
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    Status s = store.WaitForProjection(name, 0, 2000);
    if (s.code() != Status::Code::kBusy) return s;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << "hearth: " << s.message() << " (" << int(secs) << " s)\n";
  }
}

std::string Hex(const uint8_t* bytes, size_t len) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

std::string Fingerprint(const std::array<uint8_t, 32>& public_key) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, public_key.data(), public_key.size());
  std::string hex = Hex(digest, 8);
  return hex.substr(0, 4) + ":" + hex.substr(4, 4) + ":" + hex.substr(8, 4) + ":" +
         hex.substr(12, 4);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("file " + path + " does not exist");
    return Status::IOError("cannot read " + path + ": " + std::strerror(err));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read " + path);
  return ss.str();
}

Status WriteFile(const std::string& path, const std::string& bytes, int mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::IOError("cannot create " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot write " + path + ": " + std::strerror(err));
    }
    done += size_t(n);
  }
  bool ok = ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  return Status::OK();
}

Result<std::array<uint8_t, 32>> ReadPublicKey(const std::string& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  std::array<uint8_t, 32> key{};
  if (bytes->size() == key.size()) {
    std::memcpy(key.data(), bytes->data(), key.size());
    return key;
  }
  std::string text = *bytes;
  auto blank = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && blank(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && blank(text[start])) ++start;
  text = text.substr(start);
  size_t len = 0;
  if (text.size() != 2 * key.size() ||
      sodium_hex2bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, nullptr) !=
          0 ||
      len != key.size()) {
    return Status::InvalidArgument("public key file " + path +
                                   " must hold 64 hex digits (as `hearth keys export-public` "
                                   "writes) or 32 raw bytes");
  }
  return key;
}

Status Print(const std::string& text) {
  std::cout << text;
  std::cout.flush();
  if (!std::cout) return Status::IOError("cannot write to standard output");
  return Status::OK();
}

}  // namespace hearth::cli
