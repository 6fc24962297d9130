// The erasure ledger (erasure_ledger.h), and the store's side of it.
#include "log/erasure_ledger.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "log/format.h"
#include "log/store_impl.h"

namespace hearth::log {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeaderTag = "hearth-erasure-ledger v1 ";
constexpr const char* kSignContext = "hearth erasure ledger v1\n";

std::string HexOf(const uint8_t* bytes, size_t n) {
  std::string out(n * 2, '0');
  sodium_bin2hex(out.data(), out.size() + 1, bytes, n);
  return out;
}

bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != n * 2) return false;
  size_t len = 0;
  return sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &len, nullptr) == 0 && len == n;
}

std::string SignedMessage(const std::array<uint8_t, 32>& pk, uint64_t seq, uint64_t position,
                          const std::string& subject, const std::array<uint8_t, 64>& prev) {
  std::string m = kSignContext;
  m.append(reinterpret_cast<const char*>(pk.data()), pk.size());
  PutBE64(&m, seq);
  PutBE64(&m, position);
  m += subject;
  m += '\n';
  m.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  return m;
}

bool ParseU64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || !std::all_of(s.begin(), s.end(), ::isdigit)) return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

Status SyncDirOf(const std::string& path) {
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("opening " + dir.string() + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("syncing " + dir.string() + ": " + std::strerror(err));
  return Status::OK();
}

// Writes `bytes` at `offset` of `path` (cutting the file there first) and syncs.
Status WriteAt(const std::string& path, uint64_t offset, const std::string& bytes, bool create) {
  int flags = O_WRONLY | O_CLOEXEC | (create ? (O_CREAT | O_EXCL) : 0);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    return Status::IOError("opening the erasure ledger " + path + ": " + std::strerror(errno));
  }
  auto fail = [&](const char* what) {
    Status s = Status::IOError(std::string(what) + " the erasure ledger " + path + ": " +
                               std::strerror(errno));
    ::close(fd);
    return s;
  };
  if (::ftruncate(fd, off_t(offset)) != 0) return fail("truncating");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, off_t(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("writing");
    done += size_t(n);
  }
  if (::fdatasync(fd) != 0) return fail("syncing");
  if (::close(fd) != 0) {
    return Status::IOError("closing the erasure ledger " + path + ": " + std::strerror(errno));
  }
  return create ? SyncDirOf(path) : Status::OK();
}

}  // namespace

std::string DefaultErasureLedgerPath(const std::string& store_path) {
  fs::path p = fs::path(store_path).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "store/" names "store"
  return p.string() + ".erasures";
}

Result<LedgerContents> ReadErasureLedger(const std::string& path,
                                         const std::array<uint8_t, 32>& public_key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return Status::NotFound("no erasure ledger at " + path);
    return Status::IOError("cannot read the erasure ledger " + path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  auto bad = [&](size_t line, const std::string& why) {
    return Status::Corruption("erasure ledger " + path + " line " + std::to_string(line) + ": " +
                              why);
  };
  LedgerContents out;
  size_t start = 0, line = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.torn = true;  // an append that never finished
      break;
    }
    ++line;
    std::string l = text.substr(start, nl - start);
    if (line == 1) {
      std::string tag = kHeaderTag;
      std::array<uint8_t, 32> pk{};
      if (l.compare(0, tag.size(), tag) != 0 || !FromHex(l.substr(tag.size()), pk.data(), 32)) {
        return bad(line, "not an erasure ledger header");
      }
      if (pk != public_key) {
        return bad(line, "it belongs to another store (its checkpoint key is not this store's)");
      }
    } else {
      std::istringstream fields(l);
      std::string seq_s, pos_s, subject, sig_s, extra;
      fields >> seq_s >> pos_s >> subject >> sig_s;
      LedgerEntry e;
      std::array<uint8_t, 64> sig{};
      if (sig_s.empty() || (fields >> extra) || !ParseU64(seq_s, &e.seq) ||
          !ParseU64(pos_s, &e.position) || !FromHex(sig_s, sig.data(), sig.size())) {
        return bad(line, "malformed entry");
      }
      if (e.seq != out.entries.size() + 1) {
        return bad(line, "entry " + seq_s + " where entry " +
                             std::to_string(out.entries.size() + 1) + " belongs");
      }
      e.subject = subject;
      std::string m = SignedMessage(public_key, e.seq, e.position, e.subject, out.last_signature);
      if (crypto_sign_verify_detached(sig.data(), reinterpret_cast<const uint8_t*>(m.data()),
                                      m.size(), public_key.data()) != 0) {
        return bad(line, "the signature fails (the entry, or one before it, was changed)");
      }
      out.last_signature = sig;
      out.entries.push_back(std::move(e));
    }
    start = nl + 1;
    out.good_bytes = start;
  }
  if (line == 0) return bad(1, "no header (the file is empty)");
  return out;
}

Result<std::unique_ptr<ErasureLedger>> ErasureLedger::Open(
    const std::string& path, const std::array<uint8_t, 32>& public_key) {
  std::unique_ptr<ErasureLedger> ledger(new ErasureLedger);
  ledger->path_ = path;
  ledger->public_key_ = public_key;
  auto contents = ReadErasureLedger(path, public_key);
  if (contents.status().code() == Status::Code::kNotFound) {
    std::string header = kHeaderTag + HexOf(public_key.data(), 32) + "\n";
    Status s = WriteAt(path, 0, header, /*create=*/true);
    if (!s.ok()) return s;
    ledger->size_ = header.size();
    return ledger;
  }
  if (!contents.ok()) return contents.status();
  for (const auto& e : contents->entries) ledger->subjects_.insert(e.subject);
  ledger->seq_ = contents->entries.size();
  ledger->last_signature_ = contents->last_signature;
  ledger->size_ = contents->good_bytes;
  return ledger;
}

Status ErasureLedger::Append(uint64_t position, const std::string& subject,
                             const crypto::SecretKey& seed) {
  uint64_t seq = seq_ + 1;
  std::string m = SignedMessage(public_key_, seq, position, subject, last_signature_);
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  std::array<uint8_t, 64> sig{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const uint8_t*>(m.data()), m.size(),
                       sk.data());
  sodium_memzero(sk.data(), sk.size());
  if (pk != public_key_) {
    return Status::InvalidArgument("the erasure ledger " + path_ + " was made for another key");
  }
  std::string line = std::to_string(seq) + " " + std::to_string(position) + " " + subject + " " +
                     HexOf(sig.data(), sig.size()) + "\n";
  Status s = WriteAt(path_, size_, line, /*create=*/false);
  if (!s.ok()) return s;
  size_ += line.size();
  seq_ = seq;
  last_signature_ = sig;
  subjects_.insert(subject);
  return Status::OK();
}

// ------------------------------------------------------ the store's side --

Status StoreImpl::OpenErasureLedger() {
  if (!keyring_->encrypted()) return Status::OK();  // an unencrypted store cannot erase
  auto ledger = ErasureLedger::Open(DefaultErasureLedgerPath(path_), keyring_->signing_public_key());
  if (!ledger.ok()) return ledger.status();
  ledger_ = std::move(*ledger);
  return SyncErasureLedger();
}

Status StoreImpl::SyncErasureLedger() {
  if (!ledger_) return Status::OK();
  // Every erasure marker (keys family, "x" + subject: BE64 position first)
  // whose subject the ledger does not name yet, in log order.
  auto erasures = keyring_->Erasures();
  if (!erasures.ok()) return erasures.status();
  std::vector<std::pair<uint64_t, std::string>> missing;
  for (auto& erasure : *erasures) {
    if (!ledger_->Contains(erasure.second)) missing.push_back(std::move(erasure));
  }
  Status st;
  std::sort(missing.begin(), missing.end());
  for (const auto& [position, subject] : missing) {
    st = ledger_->Append(position, subject, keyring_->signing_seed());
    if (!st.ok()) return st;
  }
  return Status::OK();
}

}  // namespace hearth::log
