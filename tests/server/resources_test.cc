// Bounded server resources (docs/plugins.md section 7, docs/protocol.md
// section 6): a client that pipelines requests and never reads its answers,
// connections per peer address, TLS handshakes in progress, and read pages
// cut while they are built.
//
// The server runs inside the test process, so memory is measured as the
// growth of this process's resident set (/proc/self/status): the peak
// (VmHWM, reset through /proc/self/clear_refs once the fixture is set up)
// minus the resident set at that moment. The raw client's own share is a
// few kilobytes (one request at a time). The suite runs under
// AddressSanitizer, whose quarantine keeps freed memory resident; this
// executable sets it to 16 MiB (below), and the bounds include it.
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "raw_tls.h"
#include "server_util.h"

#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __asan_default_options() { return "quarantine_size_mb=16"; }
#endif

namespace hearth::testing {
namespace {

constexpr size_t kMiB = 1u << 20;

// VmRSS or VmHWM of this process, in bytes.
size_t ProcStatus(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field) + 1)) * 1024;
  }
  return 0;
}

// Starts a fresh peak: VmHWM becomes the current resident set.
void ResetPeak() { std::ofstream("/proc/self/clear_refs") << "5"; }

class ResourcesTest : public ServerFixture {
 protected:
  // `count` events of about `bytes` each in stream `stream` (not a case:
  // written straight to the store).
  void WriteBigEvents(const std::string& stream, int count, size_t bytes) {
    for (int i = 0; i < count; ++i) {
      NewEvent e = MakeEvent("NoteAdded");
      e.facts = std::string(bytes, char('a' + i % 26));
      auto r = store_->Append(stream, ExpectedVersion::Any(), {e});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }

  // A raw connection as the auditor (reads every stream), past hello.
  std::unique_ptr<raw::Connection> Auditor() {
    auto c = std::make_unique<raw::Connection>();
    std::string err = c->Connect(server_->port(), pki_->ca(), pki_->cert("auditor"), pki_->key("auditor"));
    EXPECT_EQ(err, "");
    EXPECT_TRUE(c->Write(raw::Hello(1, "u-0700", "auditor")));
    auto f = c->ReadAnswer();
    EXPECT_TRUE(f && f->Root().isHelloResult());
    return c;
  }
};

std::string ReadStreamRequest(uint64_t id, const std::string& stream) {
  return raw::Request(id, [&](protocol::ClientMessage::Builder m) {
    auto r = m.initReadStream();
    r.setStream(stream);
    r.setFrom(1);
    r.setPurpose("audit");
  });
}

// The bound docs/plugins.md states for this test: the server's memory grows
// by at most 64 MiB (limits of the test: 1 MiB messages, 2 MiB queue).
constexpr size_t kPipelineRssBound = 64 * kMiB;

TEST_F(ResourcesTest, APipeliningClientThatNeverReadsStaysBoundedAndIsDisconnected) {
  auto config = Config();
  config.limits.max_queued_bytes = 2 * kMiB;
  config.limits.write_timeout_ms = 2000;
  config.limits.requests_per_second = 1000000;
  config.limits.burst = 1000000;
  config.plugins["auditor"].requests_per_second = 1000000;
  config.plugins["auditor"].burst = 1000000;
  const server::Limits limits = config.limits;
  Start(config);
  // Every answer is a page of about 1 MiB (48 events of 20 KiB, cut to the
  // message): 100,000 of them would be 100 GB.
  WriteBigEvents("notes/big", 48, 20 * 1024);
  auto client = Auditor();
  ASSERT_TRUE(client);

  const size_t baseline = ProcStatus("VmRSS:");
  ResetPeak();
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 100000 && !stop; ++i) {
      if (!client->Write(ReadStreamRequest(uint64_t(i) + 2, "notes/big"))) return;
      written = i + 1;
    }
  });
  // Watch the growth; past the bound, cut the connection so that a broken
  // server cannot take the machine's memory.
  size_t peak_seen = 0;
  bool over = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && server_->stats().connections > 0) {
    size_t rss = ProcStatus("VmRSS:");
    peak_seen = std::max(peak_seen, rss > baseline ? rss - baseline : 0);
    if (peak_seen > kPipelineRssBound) {
      over = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool disconnected = server_->stats().connections == 0;
  stop = true;
  ::shutdown(client->fd(), SHUT_RDWR);  // unblocks the writer in every case
  writer.join();
  const size_t hwm = ProcStatus("VmHWM:");
  const size_t growth = hwm > baseline ? hwm - baseline : 0;

  EXPECT_FALSE(over) << "server memory grew past " << kPipelineRssBound / kMiB << " MiB";
  EXPECT_LE(growth, kPipelineRssBound) << "peak growth " << growth / kMiB << " MiB";
  // Disconnected by the server's write timeout, not by the client.
  EXPECT_TRUE(disconnected) << "the connection was still open after 120 s";
  EXPECT_TRUE(LogContains("limits.write_timeout_ms")) << Log();
  // The queue never held more than its budget and the one answer that
  // crossed it, and the server stopped reading requests.
  EXPECT_LE(server_->stats().max_queued_bytes, limits.max_queued_bytes + limits.max_message_bytes);
  EXPECT_LT(server_->stats().requests, 1000u) << "the server kept reading requests";
  std::printf("wrote %d requests, %llu executed; server memory grew by at most %zu MiB; queue "
              "peak %llu bytes\n",
              written.load(), static_cast<unsigned long long>(server_->stats().requests),
              growth / kMiB, static_cast<unsigned long long>(server_->stats().max_queued_bytes));
}

TEST_F(ResourcesTest, ConnectionsFromOnePeerAddressAreCapped) {
  auto config = Config();
  config.limits.max_connections_per_peer = 3;
  Start(config);
  std::vector<std::unique_ptr<raw::Connection>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<raw::Connection>());
    ASSERT_EQ(open.back()->Connect(server_->port(), pki_->ca(), pki_->cert("portal"), pki_->key("portal")),
              "");
  }
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections == 3; }));
  raw::Connection fourth;
  std::string err = fourth.Connect(server_->port(), pki_->ca(), pki_->cert("portal"), pki_->key("portal"));
  EXPECT_NE(err, "") << "a fourth connection from 127.0.0.1 was accepted";
  EXPECT_TRUE(Eventually([&] { return LogContains("limits.max_connections_per_peer"); })) << Log();
  EXPECT_EQ(server_->stats().connections, 3u);

  // A place frees up when one closes.
  open.pop_back();
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections == 2; }));
  raw::Connection again;
  EXPECT_EQ(again.Connect(server_->port(), pki_->ca(), pki_->cert("portal"), pki_->key("portal")), "");
}

TEST_F(ResourcesTest, ConcurrentTlsHandshakesAreCapped) {
  auto config = Config();
  config.limits.max_handshakes = 2;
  Start(config);
  // Two peers that connect and never send a ClientHello hold two handshakes.
  auto silent = [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    return fd;
  };
  int a = silent(), b = silent();
  ASSERT_TRUE(Eventually([&] { return server_->stats().handshakes == 2; }));
  raw::Connection third;
  EXPECT_NE(third.Connect(server_->port(), pki_->ca(), pki_->cert("portal"), pki_->key("portal")), "");
  EXPECT_TRUE(Eventually([&] { return LogContains("limits.max_handshakes"); })) << Log();

  ::close(a);
  ::close(b);
  ASSERT_TRUE(Eventually([&] { return server_->stats().handshakes == 0; }));
  raw::Connection fourth;
  EXPECT_EQ(fourth.Connect(server_->port(), pki_->ca(), pki_->cert("portal"), pki_->key("portal")), "");
  EXPECT_TRUE(Eventually([&] { return server_->stats().handshakes == 0; }));
}

// The bound docs/plugins.md states for this test: one readAll over 300
// events of 200 KiB (60 MB) grows the server's memory by at most 32 MiB.
constexpr size_t kPageRssBound = 32 * kMiB;

TEST_F(ResourcesTest, AReadPageIsCutWhileItIsBuiltNotAfter) {
  Start();
  WriteBigEvents("notes/huge", 300, 200 * 1024);
  auto client = Auditor();
  ASSERT_TRUE(client);
  const size_t baseline = ProcStatus("VmRSS:");
  ResetPeak();
  ASSERT_TRUE(client->Write(raw::Request(2, [](protocol::ClientMessage::Builder m) {
    auto r = m.initReadAll();
    r.setFrom(1);
    r.setPurpose("audit");
  })));
  auto f = client->ReadAnswer();
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->Root().isEvents());
  auto events = f->Root().getEvents();
  // Cut to the message (1 MiB: 4 or 5 events), with more to come.
  EXPECT_GE(events.getEvents().size(), 1u);
  EXPECT_LT(events.getEvents().size(), 6u);
  EXPECT_TRUE(events.getMore());
  const size_t hwm = ProcStatus("VmHWM:");
  const size_t growth = hwm > baseline ? hwm - baseline : 0;
  EXPECT_LE(growth, kPageRssBound) << "reading one page grew memory by " << growth / kMiB << " MiB";
  std::printf("one page of %u events; server memory grew by at most %zu MiB\n",
              events.getEvents().size(), growth / kMiB);
}

}  // namespace
}  // namespace hearth::testing
