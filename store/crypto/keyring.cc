#include "crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace hearth::crypto {

namespace {
void PutU64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// Reads the key file into `key`. The bytes read pass only through a stack
// buffer that is wiped on every path (no stream or string buffers).
Status ReadKeyFile(const std::string& path, SecretKey* key) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::InvalidArgument("key file " + path + " cannot be read: " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return Status::InvalidArgument("key file " + path +
                                   " is readable or writable by group or others; run chmod 600 " +
                                   path);
  }
  // Room for 64 hex digits and a few line-end bytes, plus one to see more.
  unsigned char raw[2 * kKeyBytes + 8];
  size_t size = 0;
  bool too_long = false;
  for (;;) {
    if (size == sizeof raw) {
      unsigned char extra;
      ssize_t n = ::read(fd, &extra, 1);
      too_long = n > 0;
      sodium_memzero(&extra, 1);
      break;
    }
    ssize_t n = ::read(fd, raw + size, sizeof raw - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      sodium_memzero(raw, sizeof raw);
      return Status::InvalidArgument("key file " + path + " cannot be read: " + std::strerror(err));
    }
    if (n == 0) break;
    size += size_t(n);
  }
  ::close(fd);
  // Exactly 32 bytes is a raw key, whatever its last byte; only the hex form
  // may end in a line break or spaces.
  if (!too_long && size != kKeyBytes) {
    while (size > 0 && (raw[size - 1] == '\n' || raw[size - 1] == '\r' || raw[size - 1] == ' ')) {
      --size;
    }
  }
  Status result;
  if (too_long) {
    result = Status::InvalidArgument("key file " + path + " must hold 32 random bytes or 64 hex digits");
  } else if (size == kKeyBytes) {
    std::memcpy(key->data(), raw, kKeyBytes);
  } else if (size == 2 * kKeyBytes) {
    size_t bin_len = 0;
    if (sodium_hex2bin(key->data(), kKeyBytes, reinterpret_cast<const char*>(raw), size, nullptr,
                       &bin_len, nullptr) != 0 ||
        bin_len != kKeyBytes) {
      result = Status::InvalidArgument("key file " + path + " is not 64 hex digits");
    }
  } else {
    result = Status::InvalidArgument("key file " + path +
                                     " must hold 32 random bytes or 64 hex digits");
  }
  sodium_memzero(raw, sizeof raw);
  return result;
}
}  // namespace

std::string KdfParams::Encode() const {
  std::string s;
  s.push_back(char(kind));
  PutU64(&s, opslimit);
  PutU64(&s, memlimit);
  s += salt;
  return s;
}

bool KdfParams::Decode(std::string_view b, KdfParams* out) {
  if (b.size() != 1 + 8 + 8 + crypto_pwhash_SALTBYTES) return false;
  out->kind = uint8_t(b[0]);
  if (out->kind != kPassphrase && out->kind != kKeyFile) return false;
  out->opslimit = GetU64(b.data() + 1);
  out->memlimit = GetU64(b.data() + 9);
  out->salt.assign(b.data() + 17, crypto_pwhash_SALTBYTES);
  return true;
}

Result<KdfParams> NewKdfParams(const KeySource& source) {
  KdfParams p;
  if (!source.passphrase.empty() && !source.key_file.empty()) {
    return Status::InvalidArgument("give either a passphrase or a key file, not both");
  }
  if (!source.passphrase.empty()) {
    if (source.passphrase.size() < kMinPassphraseChars) {
      return Status::InvalidArgument("the passphrase is too short: a new passphrase needs at least " +
                                     std::to_string(kMinPassphraseChars) +
                                     " characters (docs/keys.md); prefer a key file");
    }
    p.kind = KdfParams::kPassphrase;
    p.opslimit = source.argon2_opslimit;
    p.memlimit = source.argon2_memlimit;
    if (p.opslimit < crypto_pwhash_OPSLIMIT_MIN || p.memlimit < crypto_pwhash_MEMLIMIT_MIN) {
      return Status::InvalidArgument("Argon2id parameters below libsodium's minimum");
    }
  } else if (!source.key_file.empty()) {
    p.kind = KdfParams::kKeyFile;
  } else {
    return Status::InvalidArgument("no root key given: set a passphrase or a key file");
  }
  p.salt.assign(crypto_pwhash_SALTBYTES, '\0');
  randombytes_buf(p.salt.data(), p.salt.size());
  return p;
}

Result<SecretKey> DeriveRootKey(const KeySource& source, const KdfParams& params) {
  SecretKey root;
  if (params.kind == KdfParams::kPassphrase) {
    if (source.passphrase.empty()) {
      return Status::WrongKey("wrong key: this store is opened with a passphrase, not a key file");
    }
    if (crypto_pwhash(root.data(), kKeyBytes, source.passphrase.data(), source.passphrase.size(),
                      reinterpret_cast<const unsigned char*>(params.salt.data()), params.opslimit,
                      size_t(params.memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return Status::IOError("Argon2id ran out of memory deriving the root key");
    }
    return root;
  }
  if (source.key_file.empty()) {
    return Status::WrongKey("wrong key: this store is opened with a key file, not a passphrase");
  }
  SecretKey file_key;
  Status s = ReadKeyFile(source.key_file, &file_key);
  if (!s.ok()) return s;
  crypto_generichash(root.data(), kKeyBytes, reinterpret_cast<const unsigned char*>(params.salt.data()),
                     params.salt.size(), file_key.data(), kKeyBytes);
  return root;
}

std::string Wrap(const SecretKey& wrapping, std::string_view label, const uint8_t* secret,
                 size_t len) {
  std::string aad = "hearth.wrap.v1:";
  aad += label;
  std::string out;
  Seal(wrapping, aad, std::string_view(reinterpret_cast<const char*>(secret), len), &out);
  return out;
}

bool Unwrap(const SecretKey& wrapping, std::string_view label, std::string_view wrapped,
            std::string* secret) {
  std::string aad = "hearth.wrap.v1:";
  aad += label;
  return Open(wrapping, aad, wrapped, secret);
}

std::string RootFingerprint(const SecretKey& root) {
  return KeyedHash(root, "hearth.root-fingerprint.v1");
}

}  // namespace hearth::crypto
