// Replication of a store on NATS JetStream (docs/operations.md, "Replication").
//
// The publisher tails the store by position and publishes each committed
// append's stored records (sealed and hashed as on disk: the cluster sees no
// plaintext), the signed checkpoints, the store's identity and the wrapped
// data keys to one JetStream stream replicated over the cluster (R3). A
// follower rebuilds a read-only replica from the stream, importing records
// only once a signed checkpoint covers them; a restore rebuilds the whole
// store after the machine is lost. Both refuse a stream that does not extend
// the checkpoints they are given.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hearth/options.h"
#include "hearth/status.h"
#include "hearth/store.h"

namespace hearth::replication {

// Where the stream lives: comma-separated NATS URLs (any node of the
// cluster) and the stream's name (A-Z a-z 0-9 - _, at most 64). The stream
// takes the subjects NAME.meta, NAME.log, NAME.cp and NAME.key.*.
struct StreamTarget {
  std::string urls;
  std::string stream;
};
Status ValidateTarget(const StreamTarget& target);

// What an acknowledged append means with replication on.
enum class AckMode {
  // Default: on disk here (WAL synced) AND stored by a quorum of the
  // JetStream cluster (its publish acknowledgement). Losing this machine
  // loses nothing acknowledged.
  kCluster,
  // On disk here only; the cluster follows behind by at most
  // max_lag_events (appends wait, then are refused with Busy, past it).
  kLocal,
};

struct PublisherOptions {
  StreamTarget target;
  AckMode ack = AckMode::kCluster;
  int replicas = 3;                  // the stream's replication factor when created
  uint64_t max_lag_events = 10000;   // kLocal: the bound on the lag
  int ack_timeout_ms = 10000;        // how long an append waits for the cluster
  size_t max_message_bytes = 256 << 10;  // a log message holds whole appends up to this
};

struct ReplicationStatus {
  uint64_t committed = 0;    // the local log's end
  uint64_t replicated = 0;   // acknowledged by the cluster
  uint64_t lag() const { return committed > replicated ? committed - replicated : 0; }
  uint64_t max_lag_seen = 0; // the largest lag observed since the store was opened
  std::string last_error;    // the last publish failure (empty: none yet)
};

// A store whose commits are replicated. Every Store call goes to the store
// underneath; Append and EraseSubject also wait as the AckMode says.
class ReplicatedStore : public Store {
 public:
  // Opens the store at `path` (an encrypted store), connects to the stream
  // (creating it when missing) and starts publishing from where the stream
  // ends. Refuses a stream that holds another store's log or more of it.
  static Result<std::unique_ptr<ReplicatedStore>> Open(const Options& options,
                                                       const std::string& path,
                                                       const PublisherOptions& replication);
  virtual ReplicationStatus Replication() const = 0;
  // Waits until the cluster has acknowledged the log up to `position`
  // (0: the current end). Busy after `timeout_ms`.
  virtual Status WaitReplicated(uint64_t position, int timeout_ms) = 0;
};

struct FollowOptions {
  StreamTarget target;
  std::string data;  // the replica's (or the restored store's) directory
  KeySource key;     // the store's root key
  // The checkpoint public key the auditor holds: the stream's must be it.
  std::array<uint8_t, 32> public_key{};
  // Checkpoints the auditor holds: the stream must extend each of them.
  std::vector<SignedCheckpoint> held;
  // follow: stop once the stream has been read to its end.
  bool until_caught_up = false;
  // Polled between messages; true stops the follower.
  std::function<bool()> stop;
  // Progress lines (no personal data).
  std::function<void(const std::string&)> on_line;
};

struct FollowReport {
  uint64_t imported = 0;       // the replica's log ends here (verified by a checkpoint)
  uint64_t pending = 0;        // read from the stream, awaiting a checkpoint
  uint64_t checkpoints = 0;    // checkpoints verified
  uint64_t keys = 0;           // wrapped data keys taken
};

// `hearth follow`: creates the replica at options.data (or continues it)
// and keeps it up to date; records are imported only when a signed
// checkpoint with the auditor's key covers them and their Merkle tree
// extends the replica's. Corruption (naming the position or checkpoint) for
// a stream that does not; nothing is imported then.
Result<FollowReport> Follow(const FollowOptions& options);

// `hearth restore --from-stream`: rebuilds the store at options.data (which
// must not exist or be empty) from the whole stream, in a directory beside
// it that replaces it only once the stream extends every held checkpoint
// and the verifier passes. A refused stream leaves nothing behind.
Result<FollowReport> RestoreFromStream(const FollowOptions& options);

}  // namespace hearth::replication
