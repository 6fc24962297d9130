#include "log/keyring.h"

#include <sodium.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>

#include "log/format.h"
#include "log/rocks_status.h"

namespace hearth::log {

namespace {

// Meta keys of the key hierarchy (docs/format.md, "meta").
constexpr char kEncrypted[] = "encrypted";
constexpr char kKdf[] = "kdf";
constexpr char kRootFp[] = "root-fp";
constexpr char kRootFpPrev[] = "root-fp-prev";
constexpr char kCheckpointPk[] = "checkpoint-pk";
// Keys of the `keys` family besides the data keys and erasure markers.
constexpr char kStoreKey[] = "s";
constexpr char kCheckpointKey[] = "c";

std::string Normalise(const Identifier& identifier) {
  std::string out;
  bool strip_all = identifier.kind == "nhs" || identifier.kind == "postcode" ||
                   identifier.kind == "phone";
  bool pending_space = false;
  for (char c : identifier.value) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space && !strip_all) out.push_back(' ');
    pending_space = false;
    out.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string SubjectLabel(std::string_view subject) { return "subject:" + std::string(subject); }

}  // namespace

Keyring::Keyring(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, rocksdb::ColumnFamilyHandle* keys,
                 rocksdb::ColumnFamilyHandle* lookup,
                 const std::vector<rocksdb::ColumnFamilyHandle*>* all, std::string path)
    : db_(db),
      meta_(meta),
      keys_(keys),
      lookup_(lookup),
      all_(all),
      path_(std::move(path)),
      key_cache_(kCacheCapacity),
      group_new_keys_(kGroupNewKeyCapacity) {}

Status Keyring::FromRocks(const rocksdb::Status& s, const std::string& what) const {
  return FromRocksStatus(s, what);
}

// ------------------------------------------------------------ creation ----

Status Keyring::WriteNew(bool encrypt, const KeySource& key, rocksdb::ColumnFamilyHandle* meta,
                         rocksdb::ColumnFamilyHandle* keys, rocksdb::WriteBatch* batch) {
  batch->Put(meta, kEncrypted, encrypt ? "1" : "0");
  // The checkpoint signing key (Ed25519). Its seed is wrapped under the root
  // key; in an unencrypted store (benchmarks only) it is kept as is.
  crypto::SecretKey seed = crypto::SecretKey::Random();
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  sodium_memzero(sk.data(), sk.size());
  batch->Put(meta, kCheckpointPk, std::string(reinterpret_cast<const char*>(pk.data()), pk.size()));
  if (!encrypt) {
    batch->Put(keys, kCheckpointKey, std::string(reinterpret_cast<const char*>(seed.data()), crypto::kKeyBytes));
    return Status::OK();
  }
  auto params = crypto::NewKdfParams(key);
  if (!params.ok()) return params.status();
  auto root = crypto::DeriveRootKey(key, *params);
  if (!root.ok()) return root.status();
  auto store_key = crypto::SecretKey::Random();
  batch->Put(meta, kKdf, params->Encode());
  batch->Put(meta, kRootFp, crypto::RootFingerprint(*root));
  batch->Put(keys, kStoreKey, crypto::Wrap(*root, "store", store_key.data(), crypto::kKeyBytes));
  batch->Put(keys, kCheckpointKey, crypto::Wrap(*root, "checkpoint", seed.data(), crypto::kKeyBytes));
  return Status::OK();
}

Status Keyring::Load(const KeySource& key) {
  std::string enc;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kEncrypted, &enc);
  if (!s.ok()) return FromRocks(s, "reading the store's encryption flag");
  encrypted_ = enc == "1";
  std::string wrapped_seed;
  s = db_->Get(rocksdb::ReadOptions(), keys_, kCheckpointKey, &wrapped_seed);
  if (!s.ok()) return FromRocks(s, "reading the checkpoint key");
  std::string pk;
  s = db_->Get(rocksdb::ReadOptions(), meta_, kCheckpointPk, &pk);
  if (!s.ok() || pk.size() != 32) return Status::Corruption("checkpoint public key is missing");
  std::copy(pk.begin(), pk.end(), reinterpret_cast<char*>(signing_pk_.data()));

  if (!encrypted_) {
    if (wrapped_seed.size() != crypto::kKeyBytes) return Status::Corruption("checkpoint key damaged");
    signing_seed_ = crypto::SecretKey::FromBytes(reinterpret_cast<const uint8_t*>(wrapped_seed.data()));
    return Status::OK();
  }
  std::string kdf;
  s = db_->Get(rocksdb::ReadOptions(), meta_, kKdf, &kdf);
  if (!s.ok() || !crypto::KdfParams::Decode(kdf, &kdf_)) {
    return Status::Corruption("key derivation parameters are missing or damaged");
  }
  auto root = crypto::DeriveRootKey(key, kdf_);
  if (!root.ok()) return root.status();
  std::string wrapped, secret;
  s = db_->Get(rocksdb::ReadOptions(), keys_, kStoreKey, &wrapped);
  if (!s.ok()) return FromRocks(s, "reading the wrapped store key");
  if (!crypto::Unwrap(*root, "store", wrapped, &secret) || secret.size() != crypto::kKeyBytes) {
    // Is it the key from before the last rotation? Derive it with the
    // parameters it had then (its own salt) and compare fingerprints.
    std::string prev;
    crypto::KdfParams prev_params;
    if (db_->Get(rocksdb::ReadOptions(), meta_, kRootFpPrev, &prev).ok() && prev.size() > 8 + 32 &&
        crypto::KdfParams::Decode(prev.substr(40), &prev_params)) {
      auto old_root = crypto::DeriveRootKey(key, prev_params);
      if (old_root.ok() && prev.substr(8, 32) == crypto::RootFingerprint(*old_root)) {
        return Status::WrongKey(
            "wrong key: this is the root key the store had before a rotation; "
            "open it with the new key");
      }
    }
    return Status::WrongKey("wrong key: the passphrase or key file does not open store " + path_);
  }
  store_key_ = crypto::SecretKey::FromBytes(reinterpret_cast<const uint8_t*>(secret.data()));
  sodium_memzero(secret.data(), secret.size());
  if (!crypto::Unwrap(*root, "checkpoint", wrapped_seed, &secret) ||
      secret.size() != crypto::kKeyBytes) {
    return Status::Corruption("the wrapped checkpoint signing key fails authentication");
  }
  signing_seed_ = crypto::SecretKey::FromBytes(reinterpret_cast<const uint8_t*>(secret.data()));
  sodium_memzero(secret.data(), secret.size());
  root_ = std::move(*root);
  digest_key_ = crypto::DeriveSubkey(store_key_, 1, "hdigest_");
  lookup_key_ = crypto::DeriveSubkey(store_key_, 2, "hlookup_");

  // The erased subjects: a small set, kept in memory so that no cached key
  // of an erased subject is ever used again.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  for (it->Seek("x"); it->Valid() && it->key().starts_with("x"); it->Next()) {
    erased_.insert(it->key().ToString().substr(1));
  }
  return FromRocks(it->status(), "reading the erased subjects");
}

void Keyring::Sign(std::string_view message, std::array<uint8_t, 64>* signature) const {
  std::array<uint8_t, 32> pk{};
  std::array<uint8_t, 64> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), signing_seed_.data());
  crypto_sign_detached(signature->data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk.data());
  sodium_memzero(sk.data(), sk.size());
}

std::string Keyring::RecipientKey(std::string_view recipient) const {
  crypto::SecretKey base = crypto::DeriveSubkey(store_key_, 3, "hexport_");
  return crypto::KeyedHash(base, recipient);
}

std::string Keyring::LookupHash(const Identifier& identifier) const {
  std::string material = identifier.kind;
  material.push_back('\0');
  material += Normalise(identifier);
  std::string h = crypto::KeyedHash(lookup_key_, material);
  sodium_memzero(material.data(), material.size());
  return h;
}

// --------------------------------------------------------------- group ----

void Keyring::BeginGroup() {
  group_new_keys_.Clear();
  group_lookups_.clear();
  new_keys_ = 0;
}

Status Keyring::ReadDataKey(const std::string& subject, std::string* secret) const {
  std::string wrapped;
  std::shared_lock<std::shared_mutex> lock(keys_mu_);
  rocksdb::Status s = db_->Get(LogReadOptions(), keys_, SubjectKeyKey(subject), &wrapped);
  if (s.IsNotFound()) return Status::NotFound("no data key for subject " + subject);
  if (!s.ok()) return FromRocks(s, "reading the data key of subject " + subject);
  if (!crypto::Unwrap(root_, SubjectLabel(subject), wrapped, secret) ||
      secret->size() != crypto::kKeyBytes) {
    return Status::Corruption("the data key of subject " + subject + " fails authentication");
  }
  return Status::OK();
}

Status Keyring::DataKeyOf(const std::string& subject, rocksdb::WriteBatch* batch, uint8_t* out) {
  if (const uint8_t* k = group_new_keys_.Get(subject)) {
    std::memcpy(out, k, crypto::kKeyBytes);
    return Status::OK();
  }
  {
    std::shared_lock<std::shared_mutex> lock(keys_mu_);
    if (const uint8_t* k = key_cache_.Get(subject)) {
      std::memcpy(out, k, crypto::kKeyBytes);
      return Status::OK();
    }
  }
  std::string secret;
  Status st = ReadDataKey(subject, &secret);
  if (st.ok()) {
    std::memcpy(out, secret.data(), crypto::kKeyBytes);
    std::unique_lock<std::shared_mutex> lock(keys_mu_);
    if (erased_.count(subject) == 0) key_cache_.Put(subject, reinterpret_cast<const uint8_t*>(secret.data()));
    sodium_memzero(secret.data(), secret.size());
    return Status::OK();
  }
  sodium_memzero(secret.data(), secret.size());
  if (!st.IsNotFound() || batch == nullptr) return st;
  // A new data subject: a fresh data key, wrapped under the root key. It is
  // drawn straight into `out` (the caller's buffer, wiped after use) and kept
  // in the group's slab: a SecretKey of its own would be a guarded
  // sodium_malloc, whose mmap, mprotect and munmap (each a TLB shootdown
  // across the cores) cost more than the rest of the append of a new
  // subject's event (profile of `hearth demo`, 2026-12-06).
  randombytes_buf(out, crypto::kKeyBytes);
  batch->Put(keys_, SubjectKeyKey(subject), crypto::Wrap(root_, SubjectLabel(subject), out, crypto::kKeyBytes));
  group_new_keys_.Put(subject, out);
  ++new_keys_;
  return Status::OK();
}

Status Keyring::Seal(const std::string& subject, std::string_view aad, std::string_view plain,
                     std::string* out, rocksdb::WriteBatch* batch) {
  uint8_t key[crypto::kKeyBytes];
  Status s = DataKeyOf(subject, batch, key);
  if (s.ok()) crypto::Seal(key, aad, plain, out);
  sodium_memzero(key, sizeof key);
  return s;
}

void Keyring::IndexIdentifiers(const std::string& subject, const std::vector<Identifier>& identifiers,
                               rocksdb::WriteBatch* batch) {
  for (const auto& id : identifiers) {
    std::string hash = LookupHash(id);
    batch->Put(lookup_, LookupKey(hash, subject), rocksdb::Slice());
    batch->Put(lookup_, LookupReverseKey(subject, hash), rocksdb::Slice());
    group_lookups_[subject].push_back(std::move(hash));
  }
}

// ------------------------------------------------------------- erasure ----

Result<uint64_t> Keyring::ErasedAt(const std::string& subject) const {
  std::string marker;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), keys_, ErasedKey(subject), &marker);
  if (s.IsNotFound()) return Status::NotFound("subject " + subject + " is not erased");
  if (!s.ok()) return FromRocks(s, "reading the erasure marker of subject " + subject);
  if (marker.size() < 8) return Status::Corruption("the erasure marker of subject " + subject + " is damaged");
  return GetBE64(marker.data());
}

Result<bool> Keyring::HasKey(const std::string& subject) const {
  if (group_new_keys_.Get(subject) != nullptr) return true;
  return HasStoredKey(subject);
}

Result<bool> Keyring::HasStoredKey(const std::string& subject) const {
  std::string wrapped;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), keys_, SubjectKeyKey(subject), &wrapped);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return FromRocks(s, "reading the data key of subject " + subject);
  return true;
}

Status Keyring::Erase(const std::string& subject, uint64_t position, Timestamp time,
                      rocksdb::WriteBatch* batch) {
  batch->Delete(keys_, SubjectKeyKey(subject));
  // The keyed hashes of the subject's identifiers go too, so nobody can test
  // an NHS number or a name against the store afterwards.
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), lookup_));
  std::string reverse = LookupReverseKey(subject, "");
  for (it->Seek(reverse); it->Valid() && it->key().starts_with(reverse); it->Next()) {
    std::string hash = it->key().ToString().substr(reverse.size());
    batch->Delete(lookup_, LookupKey(hash, subject));
    batch->Delete(lookup_, it->key());
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the lookup index of subject " + subject);
  // ...and those of appends earlier in this group, which the iterator above
  // cannot see: they are only in this batch.
  auto pending = group_lookups_.find(subject);
  if (pending != group_lookups_.end()) {
    for (const auto& hash : pending->second) {
      batch->Delete(lookup_, LookupKey(hash, subject));
      batch->Delete(lookup_, LookupReverseKey(subject, hash));
    }
    group_lookups_.erase(pending);
  }
  std::string value;
  PutBE64(&value, position);
  PutBE64(&value, uint64_t(time));
  batch->Put(keys_, ErasedKey(subject), value);
  batch->Put(meta_, kCompactPending, "erasure");
  group_new_keys_.Erase(subject);
  return Status::OK();
}

void Keyring::MarkErased(const std::string& subject) {
  std::unique_lock<std::shared_mutex> lock(keys_mu_);
  erased_.insert(subject);
  key_cache_.Erase(subject);
}

bool Keyring::IsErased(const std::string& subject) const {
  std::shared_lock<std::shared_mutex> lock(keys_mu_);
  return erased_.count(subject) != 0;
}

Status Keyring::RefuseErased(const std::vector<NewEvent>& events) const {
  std::shared_lock<std::shared_mutex> lock(keys_mu_);
  if (erased_.empty()) return Status::OK();
  for (const auto& e : events) {
    for (const auto& p : e.personal) {
      if (erased_.count(p.subject) != 0) {
        return Status::Erased("subject " + p.subject + " was erased; personal data about them is refused");
      }
    }
    for (const auto& d : e.documents) {
      if (erased_.count(d.subject) != 0) {
        return Status::Erased("subject " + d.subject + " was erased; documents about them are refused");
      }
    }
  }
  return Status::OK();
}

Result<std::vector<std::pair<uint64_t, std::string>>> Keyring::Erasures() const {
  std::vector<std::pair<uint64_t, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  for (it->Seek("x"); it->Valid() && it->key().starts_with("x"); it->Next()) {
    if (it->value().size() < 8) {
      return Status::Corruption("the erasure marker of subject " + it->key().ToString().substr(1) +
                                " is damaged");
    }
    out.emplace_back(GetBE64(it->value().data()), it->key().ToString().substr(1));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the erased subjects");
  return out;
}

Status Keyring::CompactKeyFiles(const std::string& after) {
  // Force the old key bytes out of RocksDB's files: flush every memtable (the
  // WAL that held them becomes obsolete and is deleted), then compact the
  // keys and lookup families whole down to the bottom level so no SST keeps
  // an old value (they are small).
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, *all_);
  if (!s.ok()) return FromRocks(s, "flushing after " + after);
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (auto* cf : {keys_, lookup_}) {
    s = db_->CompactRange(co, cf, nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, "compacting after " + after);
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Delete(wo, meta_, kCompactPending), "clearing the compaction marker");
}

Status Keyring::ResumeKeyCompaction() {
  std::string pending;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kCompactPending, &pending);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return FromRocks(s, "reading the compaction marker");
  // An erasure or rotation was committed but the process stopped before its
  // flush and compaction completed: finish them before anything else.
  return CompactKeyFiles("the interrupted " + pending);
}

// ------------------------------------------------------------- readers ----

Status Keyring::Open(const std::string& subject, std::string_view aad, std::string_view sealed,
                     std::string* out, bool* erased) {
  *erased = false;
  {
    std::shared_lock<std::shared_mutex> lock(keys_mu_);
    if (erased_.count(subject) != 0) {
      *erased = true;
      return Status::OK();
    }
    if (const uint8_t* k = key_cache_.Get(subject)) {
      if (!crypto::Open(k, aad, sealed, out)) return Status::Corruption("fails authentication");
      return Status::OK();
    }
  }
  std::string secret;
  Status st = ReadDataKey(subject, &secret);
  if (st.IsNotFound()) {
    if (IsErased(subject)) {
      *erased = true;
      return Status::OK();
    }
    return Status::Corruption("no data key for subject " + subject);
  }
  if (!st.ok()) return st;
  bool ok = crypto::Open(reinterpret_cast<const uint8_t*>(secret.data()), aad, sealed, out);
  {
    std::unique_lock<std::shared_mutex> lock(keys_mu_);
    if (erased_.count(subject) == 0) {
      key_cache_.Put(subject, reinterpret_cast<const uint8_t*>(secret.data()));
    } else {
      *erased = true;
      out->clear();
      ok = true;
    }
  }
  sodium_memzero(secret.data(), secret.size());
  if (!ok) return Status::Corruption("fails authentication");
  return Status::OK();
}

Result<std::vector<std::string>> Keyring::FindSubjects(const Identifier& identifier) const {
  std::string prefix = LookupKey(LookupHash(identifier), "");
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), lookup_));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    std::string subject = it->key().ToString().substr(prefix.size());
    if (!IsErased(subject)) out.push_back(std::move(subject));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the lookup index");
  return out;
}

// ------------------------------------------------------------ rotation ----

Result<Keyring::RootKey> Keyring::DeriveNewRoot(const KeySource& key) {
  auto params = crypto::NewKdfParams(key);
  if (!params.ok()) return params.status();
  auto root = crypto::DeriveRootKey(key, *params);
  if (!root.ok()) return root.status();
  return RootKey{std::move(*params), std::move(*root)};
}

Status Keyring::Rotate(RootKey new_root) {
  // Readers unwrap under the shared lock: none sees a key rewrapped under
  // the new root while holding the old one, or the reverse.
  std::unique_lock<std::shared_mutex> lock(keys_mu_);
  rocksdb::WriteBatch batch;
  std::string secret;
  auto rewrap = [&](const std::string& key, const std::string& label, const std::string& wrapped) {
    if (!crypto::Unwrap(root_, label, wrapped, &secret) || secret.size() != crypto::kKeyBytes) {
      return Status::Corruption("wrapped key " + label + " fails authentication");
    }
    batch.Put(keys_, key,
              crypto::Wrap(new_root.key, label, reinterpret_cast<const uint8_t*>(secret.data()), secret.size()));
    sodium_memzero(secret.data(), secret.size());
    return Status::OK();
  };
  Status result;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), keys_));
  for (it->SeekToFirst(); it->Valid() && result.ok(); it->Next()) {
    std::string key = it->key().ToString();
    if (key == kStoreKey) {
      result = rewrap(key, "store", it->value().ToString());
    } else if (key == kCheckpointKey) {
      result = rewrap(key, "checkpoint", it->value().ToString());
    } else if (key[0] == 'k') {
      result = rewrap(key, SubjectLabel(key.substr(1)), it->value().ToString());
    }
  }
  if (!result.ok()) return result;
  if (!it->status().ok()) return FromRocks(it->status(), "reading the keys");
  std::string prev;
  PutBE64(&prev, uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count()));
  prev += crypto::RootFingerprint(root_);
  prev += kdf_.Encode();  // the old derivation, to recognise the old key later
  batch.Put(meta_, kRootFpPrev, prev);
  batch.Put(meta_, kRootFp, crypto::RootFingerprint(new_root.key));
  batch.Put(meta_, kKdf, new_root.params.Encode());
  batch.Put(meta_, kCompactPending, "rotation");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  result = FromRocks(db_->Write(wo, &batch), "writing the rewrapped keys");
  if (!result.ok()) return result;
  root_ = std::move(new_root.key);
  kdf_ = std::move(new_root.params);
  return Status::OK();
}

// --------------------------------------------------------- replication ----

Result<std::string> Keyring::Wrapped(const std::string& subject) const {
  std::string wrapped;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), keys_, SubjectKeyKey(subject), &wrapped);
  if (s.IsNotFound()) return Status::NotFound("no data key for subject " + subject);
  if (!s.ok()) return FromRocks(s, "reading the data key of subject " + subject);
  return wrapped;
}

Status Keyring::ReadIdentityKeys(ReplicaIdentity* identity) const {
  rocksdb::ReadOptions ro;
  rocksdb::Status s = db_->Get(ro, meta_, kKdf, &identity->kdf);
  if (s.ok()) s = db_->Get(ro, meta_, kRootFp, &identity->root_fingerprint);
  if (s.ok()) s = db_->Get(ro, meta_, kCheckpointPk, &identity->checkpoint_public_key);
  if (s.ok()) s = db_->Get(ro, keys_, kStoreKey, &identity->wrapped_store_key);
  if (s.ok()) s = db_->Get(ro, keys_, kCheckpointKey, &identity->wrapped_signing_key);
  return FromRocks(s, "reading the store's identity");
}

void Keyring::PutIdentityKeys(const ReplicaIdentity& identity, rocksdb::WriteBatch* batch) const {
  batch->Put(meta_, kKdf, identity.kdf);
  batch->Put(meta_, kRootFp, identity.root_fingerprint);
  batch->Put(meta_, kCheckpointPk, identity.checkpoint_public_key);
  batch->Put(keys_, kStoreKey, identity.wrapped_store_key);
  batch->Put(keys_, kCheckpointKey, identity.wrapped_signing_key);
}

Status Keyring::ImportWrapped(const std::string& subject, const std::string& wrapped,
                              rocksdb::WriteBatch* batch, bool* added) const {
  *added = false;
  if (IsErased(subject)) return Status::OK();
  std::string secret;
  bool opens;
  {
    std::shared_lock<std::shared_mutex> lock(keys_mu_);
    opens = crypto::Unwrap(root_, SubjectLabel(subject), wrapped, &secret) &&
            secret.size() == crypto::kKeyBytes;
  }
  sodium_memzero(secret.data(), secret.size());
  if (!opens) {
    return Status::Corruption("the replicated data key of subject " + subject +
                              " does not open under this store's root key");
  }
  auto has = HasStoredKey(subject);
  if (!has.ok()) return has.status();
  if (*has) return Status::OK();
  batch->Put(keys_, SubjectKeyKey(subject), wrapped);
  *added = true;
  return Status::OK();
}

}  // namespace hearth::log
