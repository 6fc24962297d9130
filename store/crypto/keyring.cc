#include "crypto/keyring.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

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

Status ReadKeyFile(const std::string& path, std::string* key) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::InvalidArgument("key file " + path + " cannot be read: " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::InvalidArgument("key file " + path +
                                   " is readable or writable by group or others; run chmod 600 " +
                                   path);
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string raw = ss.str();
  // Exactly 32 bytes is a raw key, whatever its last byte; only the hex form
  // may end in a line break or spaces.
  if (raw.size() != kKeyBytes) {
    while (!raw.empty() && (raw.back() == '\n' || raw.back() == '\r' || raw.back() == ' ')) {
      raw.pop_back();
    }
  }
  if (raw.size() == kKeyBytes) {
    *key = raw;
  } else if (raw.size() == 2 * kKeyBytes) {
    key->assign(kKeyBytes, '\0');
    size_t bin_len = 0;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(key->data()), kKeyBytes, raw.data(),
                       raw.size(), nullptr, &bin_len, nullptr) != 0 ||
        bin_len != kKeyBytes) {
      return Status::InvalidArgument("key file " + path + " is not 64 hex digits");
    }
  } else {
    return Status::InvalidArgument("key file " + path +
                                   " must hold 32 random bytes or 64 hex digits");
  }
  sodium_memzero(raw.data(), raw.size());
  return Status::OK();
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
  std::string file_key;
  Status s = ReadKeyFile(source.key_file, &file_key);
  if (!s.ok()) return s;
  crypto_generichash(root.data(), kKeyBytes, reinterpret_cast<const unsigned char*>(params.salt.data()),
                     params.salt.size(), reinterpret_cast<const unsigned char*>(file_key.data()),
                     file_key.size());
  sodium_memzero(file_key.data(), file_key.size());
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
