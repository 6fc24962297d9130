#include "replication/nats_link.h"

#include <sstream>
#include <vector>

namespace hearth::replication {

NatsLink::~NatsLink() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

Status NatsLink::Error(const std::string& what, natsStatus s, jsErrCode code) {
  std::string text = what + ": " + natsStatus_GetText(s);
  if (code != 0) text += " (JetStream error " + std::to_string(int(code)) + ")";
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == s) text += ": " + std::string(detail);
  if (s == NATS_NO_SERVER || s == NATS_TIMEOUT || s == NATS_CONNECTION_CLOSED ||
      s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED) {
    return Status::Busy(text);
  }
  return Status::IOError(text);
}

Status NatsLink::Connect(const std::string& urls) {
  std::vector<std::string> list;
  std::stringstream in(urls);
  for (std::string url; std::getline(in, url, ',');) {
    if (!url.empty()) list.push_back(url);
  }
  if (list.empty()) return Status::InvalidArgument("no NATS URL given (--nats nats://HOST:PORT,...)");
  std::vector<const char*> servers;
  for (const auto& u : list) servers.push_back(u.c_str());
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, servers.data(), int(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK) s = natsConnection_Connect(&nc_, opts);
  if (opts != nullptr) natsOptions_Destroy(opts);
  if (s != NATS_OK) return Error("connecting to NATS at " + urls, s);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&js_, nc_, &jo);
  if (s != NATS_OK) return Error("opening JetStream at " + urls, s);
  return Status::OK();
}

Result<MsgPtr> NatsLink::LastMsg(const std::string& stream, const std::string& subject) {
  natsMsg* msg = nullptr;
  jsErrCode code = jsErrCode(0);
  natsStatus s = js_GetLastMsg(&msg, js_, stream.c_str(), subject.c_str(), nullptr, &code);
  if (s == NATS_NOT_FOUND) return MsgPtr();
  if (s != NATS_OK) return Error("reading the last " + subject + " of stream " + stream, s, code);
  return MsgPtr(msg);
}

Status NatsLink::Publish(const std::string& subject, const std::string& data,
                         const std::string& msg_id, int timeout_ms) {
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, data.data(), int(data.size()));
  if (s != NATS_OK) return Error("building a message for " + subject, s);
  MsgPtr msg(raw);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = msg_id.c_str();
  po.MaxWait = timeout_ms;
  jsPubAck* ack = nullptr;
  jsErrCode code = jsErrCode(0);
  s = js_PublishMsg(&ack, js_, msg.get(), &po, &code);
  if (ack != nullptr) jsPubAck_Destroy(ack);
  if (s != NATS_OK) return Error("publishing to " + subject, s, code);
  return Status::OK();
}

}  // namespace hearth::replication
