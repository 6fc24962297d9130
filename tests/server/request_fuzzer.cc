// libFuzzer target: the server's request decoder on outside bytes, exactly as
// a connection reads them (plugins/server/server.cc): the segment table
// against the size limit, Frame::Parse (every pointer walked under the
// traversal and nesting limits), then DecodeRequest. Built with clang when
// it is present; ctest runs it briefly from the seeds in fuzz_seeds/.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kMaxMessageBytes = 1u << 20;  // the server's default limit
  if (size < hearth::wire::kFrameHeaderBytes) return 0;
  auto table = hearth::wire::TableBytes(data);
  if (!table.ok() || *table > size) return 0;
  auto body = hearth::wire::BodyBytes(data, *table, kMaxMessageBytes);
  if (!body.ok() || *table + *body > size) return 0;
  auto words = kj::heapArray<capnp::word>((*table + *body) / sizeof(capnp::word));
  std::memcpy(words.begin(), data, *table + *body);
  auto frame = hearth::wire::Frame::Parse(kj::mv(words));
  if (!frame.ok()) return 0;
  hearth::wire::Request request;
  (void)hearth::wire::DecodeRequest(**frame, &request);
  return 0;
}
