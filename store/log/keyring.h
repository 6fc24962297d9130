// The store's keys (docs/keys.md): the root key's derivation, the wrapped
// store and checkpoint keys, every data subject's data key, the erased
// subjects, and the keyed hashes of identifiers that let a caseworker find a
// person. Owns the `keys` and `lookup` column families and the meta entries
// that describe the key hierarchy ("encrypted", "kdf", "root-fp",
// "root-fp-prev", "checkpoint-pk").
//
// The engine calls it from three places:
//   - the commit leader, one group at a time (BeginGroup, DataKeyOf with a
//     batch, Seal, IndexIdentifiers, Erase): new data keys and lookup entries
//     go into the group's write batch and are visible to the group at once;
//   - readers, any number at a time (Open, FindSubjects, IsErased);
//   - the key operations, each holding the commit queue's leadership (Rotate,
//     ImportWrapped) or after the commit that needs them (CompactKeyFiles).
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "hearth/options.h"
#include "hearth/status.h"
#include "hearth/store.h"
#include "log/replica_types.h"

namespace hearth::log {

class Keyring {
 public:
  // Data keys cached in memory (a bounded slab), and data keys a group may
  // create (a group that would make more is cut; one append that names more
  // subjects is refused).
  static constexpr size_t kCacheCapacity = 65536;
  static constexpr size_t kGroupNewKeyCapacity = 16384;

  // `all` is every column family of the store, flushed by CompactKeyFiles.
  // `path` names the store in errors.
  Keyring(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, rocksdb::ColumnFamilyHandle* keys,
          rocksdb::ColumnFamilyHandle* lookup, const std::vector<rocksdb::ColumnFamilyHandle*>* all,
          std::string path);
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  // A new store's key hierarchy, into `batch`: a fresh checkpoint key and,
  // when `encrypt`, the root key's derivation parameters and fingerprint, a
  // fresh store key and both keys wrapped under the root key.
  static Status WriteNew(bool encrypt, const KeySource& key, rocksdb::ColumnFamilyHandle* meta,
                         rocksdb::ColumnFamilyHandle* keys, rocksdb::WriteBatch* batch);
  // Derives the root key from `key` and unwraps the store and checkpoint
  // keys; reads the erased subjects. WrongKey names the store, and says so
  // when `key` is the root key from before the last rotation.
  Status Load(const KeySource& key);

  bool encrypted() const { return encrypted_; }
  // The store key (seals facts and access records), nullptr when unencrypted.
  const crypto::SecretKey* facts_key() const { return encrypted_ ? &store_key_ : nullptr; }
  // The idempotency digests' key (a sub-key of the store key).
  const crypto::SecretKey& digest_key() const { return digest_key_; }
  const crypto::SecretKey& signing_seed() const { return signing_seed_; }
  const std::array<uint8_t, 32>& signing_public_key() const { return signing_pk_; }
  // Signs `message` with the checkpoint key (Ed25519).
  void Sign(std::string_view message, std::array<uint8_t, 64>* signature) const;
  // A keyed hash of an export recipient's name, under a sub-key of the store key.
  std::string RecipientKey(std::string_view recipient) const;
  // The keyed hash of an identifier, normalised (case, spaces; all spaces
  // for NHS numbers, postcodes and phone numbers).
  std::string LookupHash(const Identifier& identifier) const;

  // ---- the commit leader's group ----
  // Forgets the previous group's new keys and lookup entries.
  void BeginGroup();
  // Room for `subjects` more new data keys in this group.
  bool GroupHasRoom(size_t subjects) const {
    return group_new_keys_.size() + subjects <= group_new_keys_.capacity();
  }
  bool GroupIsEmpty() const { return group_new_keys_.size() == 0; }
  // New data keys made since BeginGroup (they count as the store's subjects).
  uint64_t TakeNewKeyCount() { return std::exchange(new_keys_, 0); }

  // The subject's data key into out[crypto::kKeyBytes]. With a batch, a new
  // subject gets a fresh key, wrapped under the root key into `batch`;
  // without one it is NotFound.
  Status DataKeyOf(const std::string& subject, rocksdb::WriteBatch* batch, uint8_t* out);
  // Seals `plain` under the subject's data key (made in `batch` when new).
  Status Seal(const std::string& subject, std::string_view aad, std::string_view plain,
              std::string* out, rocksdb::WriteBatch* batch);
  // The lookup entries of one subject's identifiers (both directions).
  void IndexIdentifiers(const std::string& subject, const std::vector<Identifier>& identifiers,
                        rocksdb::WriteBatch* batch);

  // ---- erasure ----
  // The position of the subject's erasure event; NotFound when not erased.
  Result<uint64_t> ErasedAt(const std::string& subject) const;
  // Whether the subject has a data key, stored or made in this group.
  Result<bool> HasKey(const std::string& subject) const;
  // Into `batch`: the data key and every lookup entry of the subject go
  // (those of this group's earlier appends too); a marker stays (position of
  // the erasure event and the time), and the meta "compact-pending" marker
  // is set. The subject's key leaves the group and the cache.
  Status Erase(const std::string& subject, uint64_t position, Timestamp time,
               rocksdb::WriteBatch* batch);
  // In memory: the subject is erased; no key of theirs is used again.
  void MarkErased(const std::string& subject);
  bool IsErased(const std::string& subject) const;
  // The appends' personal data and documents of erased subjects are refused:
  // Erased naming the first such subject, checked under one lock.
  Status RefuseErased(const std::vector<NewEvent>& events) const;
  // Every erasure marker: (position, subject), unordered.
  Result<std::vector<std::pair<uint64_t, std::string>>> Erasures() const;
  // Flushes every memtable and compacts `keys` and `lookup` to the bottom
  // level, so no file keeps a deleted or old wrapped key, then clears the
  // "compact-pending" marker. `after` names the operation in errors.
  Status CompactKeyFiles(const std::string& after);
  // Runs CompactKeyFiles when the marker is set (an interrupted erasure or
  // rotation).
  Status ResumeKeyCompaction();

  // ---- readers ----
  // Opens a personal section of `subject`. An erased subject's: *erased,
  // `out` empty, OK. Corruption when the key or the section fails.
  Status Open(const std::string& subject, std::string_view aad, std::string_view sealed,
              std::string* out, bool* erased);
  // The subjects an identifier was recorded for (erased ones left out).
  Result<std::vector<std::string>> FindSubjects(const Identifier& identifier) const;

  // ---- rotation ----
  // A new root key: fresh derivation parameters for `key` and the key they
  // give (slow for a passphrase: done before the commit queue is held).
  struct RootKey {
    crypto::KdfParams params;
    crypto::SecretKey key;
  };
  static Result<RootKey> DeriveNewRoot(const KeySource& key);
  // Rewraps every wrapped key under `new_root`, keeps the old root's fingerprint and parameters to
  // recognise it later, and writes it all in one synced batch with the
  // compaction marker. The caller holds the commit queue (no key is made
  // meanwhile) and runs CompactKeyFiles afterwards.
  Status Rotate(RootKey new_root);

  // ---- replication ----
  // The wrapped data key as stored. NotFound: none or erased.
  Result<std::string> Wrapped(const std::string& subject) const;
  // Whether a data key is stored (not in the group).
  Result<bool> HasStoredKey(const std::string& subject) const;
  // The store's identity's key part: the wrapped store and checkpoint keys.
  Status ReadIdentityKeys(ReplicaIdentity* identity) const;
  void PutIdentityKeys(const ReplicaIdentity& identity, rocksdb::WriteBatch* batch) const;
  // A replicated wrapped data key, checked to open under this root key, into
  // `batch`; *added false (nothing written) when the subject is erased or
  // already has a key. Corruption when it does not open.
  Status ImportWrapped(const std::string& subject, const std::string& wrapped,
                       rocksdb::WriteBatch* batch, bool* added) const;

 private:
  Status FromRocks(const rocksdb::Status& s, const std::string& what) const;
  // Unwraps the stored data key of `subject` into `secret` under keys_mu_
  // (shared), so that a rotation cannot swap the root key between the read
  // and the unwrap. NotFound when none is stored.
  Status ReadDataKey(const std::string& subject, std::string* secret) const;

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* meta_;
  rocksdb::ColumnFamilyHandle* keys_;
  rocksdb::ColumnFamilyHandle* lookup_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* all_;
  std::string path_;

  bool encrypted_ = true;
  crypto::KdfParams kdf_;
  // root_ wraps everything; store_key_ seals facts; digest_key_ and
  // lookup_key_ are derived from it. root_ changes only in Rotate, under
  // keys_mu_ held exclusively.
  crypto::SecretKey root_;
  crypto::SecretKey store_key_;
  crypto::SecretKey digest_key_;
  crypto::SecretKey lookup_key_;
  crypto::SecretKey signing_seed_;  // Ed25519 seed of the checkpoint key
  std::array<uint8_t, 32> signing_pk_{};

  // Guards key_cache_, erased_ and root_.
  mutable std::shared_mutex keys_mu_;
  crypto::KeyCache key_cache_;
  std::unordered_set<std::string> erased_;

  // The commit leader's: keys made in this group, and the identifier hashes
  // this group indexed per subject (an erasure later in the group deletes
  // them too: they are in no file yet).
  crypto::KeyCache group_new_keys_;
  std::unordered_map<std::string, std::vector<std::string>> group_lookups_;
  uint64_t new_keys_ = 0;
};

}  // namespace hearth::log
