// A connection to a NATS JetStream cluster (libnats), owned: the parts of
// the C client that replication uses, with errors as Status.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>

#include "hearth/status.h"

namespace hearth::replication {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

class NatsLink {
 public:
  NatsLink() = default;
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  // Connects to any of `urls` (comma-separated); reconnects forever after.
  Status Connect(const std::string& urls);
  jsCtx* js() const { return js_; }

  // InvalidArgument/IOError text for a failed call.
  static Status Error(const std::string& what, natsStatus s, jsErrCode code = jsErrCode(0));

  // The stream's last message on `subject` (nullptr when none).
  Result<MsgPtr> LastMsg(const std::string& stream, const std::string& subject);
  // Publishes with a message id (the cluster drops a repeat within its
  // duplicate window). OK once a quorum has stored it.
  Status Publish(const std::string& subject, const std::string& data, const std::string& msg_id,
                 int timeout_ms);

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace hearth::replication
