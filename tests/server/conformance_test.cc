// docs/protocol.md, rule by rule, from raw bytes: a client written from the
// document alone (raw_tls.h: OpenSSL, Cap'n Proto's serialisation of single
// messages, the framing by hand) checks what the server sends. One test per
// rule, named after it; the section of the document is in each comment. The
// fixture only starts the server: nothing here speaks through the SDK.
#include <fstream>
#include <set>
#include <thread>

#include "raw_tls.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

using raw::Le32;
using raw::Le64;

// TLS AlertDescription values (RFC 8446 section 6).
constexpr int kAlertBadCertificate = 42;
constexpr int kAlertCertificateExpired = 45;
constexpr int kAlertUnknownCa = 48;
constexpr int kAlertCertificateRequired = 116;

// ErrorCode numbers of section 5.
constexpr int kNotFound = 1, kInvalidArgument = 2, kNotSupported = 9, kPermissionDenied = 10,
              kTooLarge = 11, kBusy = 12;

int Code(protocol::Error::Reader e) { return int(static_cast<uint16_t>(e.getCode())); }

class ConformanceTest : public ServerFixture {
 protected:
  // A connection with `cert`'s certificate, past hello when `user` is not
  // empty.
  std::unique_ptr<raw::Connection> Open(const std::string& cert = "portal",
                                        const std::string& user = "u-0042",
                                        const std::string& role = "caseworker") {
    auto c = std::make_unique<raw::Connection>();
    std::string err = c->Connect(server_->port(), pki_->ca(), pki_->cert(cert), pki_->key(cert));
    EXPECT_EQ(err, "");
    if (!err.empty()) return nullptr;
    if (!user.empty()) {
      EXPECT_TRUE(c->Write(raw::Hello(1, user, role)));
      auto f = c->ReadAnswer();
      EXPECT_TRUE(f && f->Root().isHelloResult());
      if (!f || !f->Root().isHelloResult()) return nullptr;
    }
    return c;
  }

  // The goodbye the server sends before it closes, and the close: its error
  // code, or -1 when none came.
  int GoodbyeAndClose(raw::Connection& c) {
    for (;;) {
      auto f = c.ReadFrame();
      if (!f) return -1;
      if (f->Root().isGoodbye()) {
        int code = Code(f->Root().getGoodbye());
        EXPECT_TRUE(c.ReadsToClose()) << "no close after the goodbye";
        return code;
      }
    }
  }

  // The alert a client sees after the handshake with `cert` (TLS 1.3 sends
  // the server's verdict on the client's certificate after the client's
  // Finished, so it arrives on the first read).
  int AlertFor(const std::string& cert) {
    raw::Connection c;
    std::string err = c.Connect(server_->port(), pki_->ca(), cert.empty() ? "" : pki_->cert(cert),
                                cert.empty() ? "" : pki_->key(cert));
    if (err.empty()) {
      c.Write(raw::Hello(1, "u-0042", "caseworker"));
      EXPECT_FALSE(c.ReadFrame(5000).has_value()) << "the server answered " << cert;
    }
    return c.alert();
  }

  void WriteNotes(const std::string& stream, int count, size_t bytes) {
    for (int i = 0; i < count; ++i) {
      NewEvent e = MakeEvent("NoteAdded");
      e.facts = std::string(bytes, char('a' + i % 26));
      auto r = store_->Append(stream, ExpectedVersion::Any(), {e});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
    }
  }
};

std::string ReadStream(uint64_t id, const std::string& stream, uint32_t max_count = 0) {
  return raw::Request(id, [&](protocol::ClientMessage::Builder m) {
    auto r = m.initReadStream();
    r.setStream(stream);
    r.setFrom(1);
    r.setMaxCount(max_count);
    r.setPurpose("conformance");
  });
}

// --- 1. Connecting -----------------------------------------------------------

// §1.2: TLS 1.3 only.
TEST_F(ConformanceTest, Tls12IsRefused) {
  Start();
  raw::Connection c;
  EXPECT_NE(c.Connect(server_->port(), pki_->ca(), pki_->cert("portal"), pki_->key("portal"),
                      TLS1_2_VERSION),
            "");
}

// §1.2: no session resumption: the server issues no session ticket.
TEST_F(ConformanceTest, NoSessionIsOfferedForResumption) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  SSL_SESSION* session = SSL_get_session(c->ssl());
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(SSL_SESSION_is_resumable(session), 0);
}

// §1.3: no certificate: alert `certificate required`.
TEST_F(ConformanceTest, NoCertificateGetsTheAlertCertificateRequired) {
  Start();
  EXPECT_EQ(AlertFor(""), kAlertCertificateRequired);
}

// §1.3: a certificate signed by another CA: alert `unknown ca`.
TEST_F(ConformanceTest, AnotherCasCertificateGetsTheAlertUnknownCa) {
  Start();
  EXPECT_EQ(AlertFor("portal-other-ca"), kAlertUnknownCa);
}

// §1.3: an expired certificate: alert `certificate expired`.
TEST_F(ConformanceTest, AnExpiredCertificateGetsTheAlertCertificateExpired) {
  Start();
  EXPECT_EQ(AlertFor("portal-expired"), kAlertCertificateExpired);
}

// §1.3: a plugin the configuration does not name: alert `bad certificate`
// (not `internal error`).
TEST_F(ConformanceTest, AnUnknownPluginGetsTheAlertBadCertificate) {
  Start();
  EXPECT_EQ(AlertFor("stranger"), kAlertBadCertificate);
}

// §1.4: hello within limits.handshake_timeout_ms, or a goodbye `busy` and a
// close.
TEST_F(ConformanceTest, NoHelloInTimeGetsGoodbyeBusyAndAClose) {
  auto config = Config();
  config.limits.handshake_timeout_ms = 300;
  Start(config);
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  EXPECT_EQ(GoodbyeAndClose(*c), kBusy);
}

// --- 2. Framing --------------------------------------------------------------

// §2: the document's example bytes are a hello the server accepts, and
// Cap'n Proto's serialisation of that hello gives the same bytes.
TEST_F(ConformanceTest, TheDocumentsHelloBytesAreAccepted) {
  Start();
  const uint8_t doc[] = {
      0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00,
      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x09, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x5a, 0x00, 0x00, 0x00,
      0x0d, 0x00, 0x00, 0x00, 0x62, 0x00, 0x00, 0x00, 0x75, 0x2d, 0x30, 0x30, 0x34, 0x32, 0x00, 0x00,
      0x63, 0x61, 0x73, 0x65, 0x77, 0x6f, 0x72, 0x6b, 0x65, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x20, 0x31, 0x2e, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::string bytes(reinterpret_cast<const char*>(doc), sizeof doc);
  std::string built = raw::Request(1, [](protocol::ClientMessage::Builder m) {
    auto h = m.initHello();
    h.setProtocolVersion(1);
    h.setUser("u-0042");
    h.setRole("caseworker");
    h.setClient("example 1.0");
  });
  EXPECT_EQ(built, bytes);
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(bytes));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->Root().isHelloResult());
  EXPECT_EQ(f->Root().getRequestId(), 1u);
  EXPECT_EQ(std::string(f->Root().getHelloResult().getUser().cStr()), "u-0042");
}

// §2: "The server writes every message as one segment", large answers and
// pushes included.
TEST_F(ConformanceTest, TheServerWritesEveryMessageAsOneSegment) {
  Start();
  WriteNotes("notes/one-segment", 40, 3000);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  uint64_t id = 2;
  ASSERT_TRUE(c->Write(ReadStream(id++, "notes/one-segment")));
  ASSERT_TRUE(c->Write(ReadStream(id++, "notes/one-segment", 1)));
  ASSERT_TRUE(c->Write(raw::Request(id++, [](protocol::ClientMessage::Builder m) { m.setServerInfo(); })));
  ASSERT_TRUE(c->Write(ReadStream(id++, "notes/no-such-stream")));
  const uint64_t sub = id++;
  ASSERT_TRUE(c->Write(raw::Request(sub, [](protocol::ClientMessage::Builder m) {
    auto s = m.initSubscribe();
    s.setFrom(1);
    s.setCredits(40);
    s.setPurpose("conformance");
  })));
  int messages = 0, pushed = 0;
  while (messages < 5 || pushed < 40) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f) << "after " << messages << " answers and " << pushed << " pushed events";
    EXPECT_EQ(f->segment_words.size(), 1u) << "a message of " << f->bytes << " bytes in "
                                           << f->segment_words.size() << " segments";
    if (f->Root().isSubscriptionEvents()) {
      pushed += int(f->Root().getSubscriptionEvents().getEvents().size());
    } else {
      ++messages;
    }
  }
}

// §2: clients may send messages of several segments.
TEST_F(ConformanceTest, AClientMessageOfSeveralSegmentsIsAccepted) {
  Start();
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  // First segments of 2 words: the hello's texts land in further segments.
  std::string hello = raw::Request(
      1,
      [](protocol::ClientMessage::Builder m) {
        auto h = m.initHello();
        h.setProtocolVersion(protocol::PROTOCOL_VERSION);
        h.setUser("u-0042");
        h.setRole("caseworker");
        h.setClient("a client whose messages have many segments");
      },
      2);
  ASSERT_GT(raw::Le32At(reinterpret_cast<const uint8_t*>(hello.data())), 0u) << "one segment only";
  ASSERT_TRUE(c->Write(hello));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->Root().isHelloResult());
}

// §2: at most 64 segments, refused from the table, before the body.
TEST_F(ConformanceTest, MoreThan64SegmentsGetsGoodbyeInvalidArgumentBeforeTheBody) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  std::string table = Le32(64);  // 65 segments
  for (int i = 0; i < 65; ++i) table += Le32(1);
  ASSERT_TRUE(c->Write(table));  // and no body
  EXPECT_EQ(GoodbyeAndClose(*c), kInvalidArgument);
}

// §2: at most limits.maxMessageBytes per frame including the table, refused
// before the body.
TEST_F(ConformanceTest, AFrameOverMaxMessageBytesGetsGoodbyeTooLargeBeforeTheBody) {
  auto config = Config();
  config.limits.max_message_bytes = 64 * 1024;
  Start(config);
  auto c = Open();
  ASSERT_TRUE(c);
  // Table (8 bytes) plus exactly the limit in segment words: 8 bytes over.
  ASSERT_TRUE(c->Write(Le32(0) + Le32(64 * 1024 / 8)));
  EXPECT_EQ(GoodbyeAndClose(*c), kTooLarge);
}

// §2: a frame with no content is refused.
TEST_F(ConformanceTest, AnEmptyFrameGetsGoodbyeInvalidArgument) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(Le32(0) + Le32(0)));
  EXPECT_EQ(GoodbyeAndClose(*c), kInvalidArgument);
}

// §2: out-of-bounds pointers are refused before any field is used.
TEST_F(ConformanceTest, AnOutOfBoundsPointerGetsGoodbyeInvalidArgument) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  uint64_t bad = (uint64_t(1) << 48) | (uint64_t(1) << 32) | (uint64_t(0x100000) << 2);
  ASSERT_TRUE(c->Write(Le32(0) + Le32(2) + Le64(bad) + Le64(0)));
  EXPECT_EQ(GoodbyeAndClose(*c), kInvalidArgument);
}

// §2: nesting deeper than 32 levels is refused.
TEST_F(ConformanceTest, NestingDeeperThan32GetsGoodbyeInvalidArgument) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  const int depth = 40;
  std::string words;
  for (int i = 0; i < depth; ++i) words += Le64(uint64_t(1) << 48);
  words += Le64(0);
  ASSERT_TRUE(c->Write(Le32(0) + Le32(depth + 1) + words));
  EXPECT_EQ(GoodbyeAndClose(*c), kInvalidArgument);
}

// §2: traversal limit four times the frame: many pointers to one large
// list (an amplification) are refused.
TEST_F(ConformanceTest, ATraversalOverFourTimesTheFrameGetsGoodbyeInvalidArgument) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  // Root: a struct of 0 data words and 16 pointers, each to the same list of
  // 64 words. Frame: 1 + 16 + 64 words; a walk: 16 x 64.
  const int pointers = 16, list_words = 64;
  std::string words = Le64(uint64_t(pointers) << 48);  // root pointer: struct at +0
  for (int i = 0; i < pointers; ++i) {
    // A list pointer (type 1) of element size 5 (8 bytes) and 64 elements,
    // at the offset that reaches the list right after the pointers.
    int64_t offset = pointers - i - 1;
    words += Le64(1 | (uint64_t(offset) << 2) | (uint64_t(5) << 32) | (uint64_t(list_words) << 35));
  }
  words += std::string(size_t(list_words) * 8, '\0');
  ASSERT_TRUE(c->Write(Le32(0) + Le32(uint32_t(words.size() / 8)) + words));
  EXPECT_EQ(GoodbyeAndClose(*c), kInvalidArgument);
}

// --- 3. Requests, answers and pushes -----------------------------------------

// §3: every answer carries its request's id; requests are answered in the
// order received.
TEST_F(ConformanceTest, AnswersCarryTheRequestIdsInTheOrderOfTheRequests) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  const std::vector<uint64_t> ids = {1000, 5, 77, ~uint64_t(0), 6};
  std::string batch;
  for (uint64_t id : ids) batch += raw::Ping(id);
  ASSERT_TRUE(c->Write(batch));
  for (uint64_t id : ids) {
    auto f = c->ReadAnswer();
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->Root().isPong());
    EXPECT_EQ(f->Root().getRequestId(), id);
  }
}

// §3: `credit` is never answered.
TEST_F(ConformanceTest, CreditIsNeverAnswered) {
  Start();
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  std::string credit = raw::Request(0, [](protocol::ClientMessage::Builder m) {
    auto k = m.initCredit();
    k.setSubscription(12345);
    k.setEvents(10);
  });
  ASSERT_TRUE(c->Write(credit + raw::Ping(2)));
  auto f = c->ReadFrame();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->Root().isPong());
  EXPECT_EQ(f->Root().getRequestId(), 2u);
}

// §3: a requestId may not repeat one that is not yet answered: two answers
// with one id could not be told apart. The server says goodbye instead of
// answering twice.
TEST_F(ConformanceTest, ARequestIdStillUnansweredIsNotAcceptedAgain) {
  Start();
  WriteNotes("notes/slow", 64, 16 * 1024);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  // A read that takes a while, then a ping with the same id, in one write.
  ASSERT_TRUE(c->Write(ReadStream(7, "notes/slow") + raw::Ping(7)));
  int answers_with_7 = 0, goodbye = -1;
  for (;;) {
    auto f = c->ReadFrame();
    if (!f) break;
    if (f->Root().isGoodbye()) {
      goodbye = Code(f->Root().getGoodbye());
      break;
    }
    if (f->Root().getRequestId() == 7) ++answers_with_7;
  }
  EXPECT_LE(answers_with_7, 1);
  EXPECT_EQ(goodbye, kInvalidArgument);
  EXPECT_TRUE(c->ReadsToClose());
}

// §3 and §6: a client that does not read its answers is read no further
// once limits.max_queued_bytes of answers wait for it (beyond what the
// kernel's socket buffers hold); the server does not read ahead without end.
TEST_F(ConformanceTest, AClientThatDoesNotReadIsReadNoFurther) {
  auto config = Config();
  config.limits.max_message_bytes = 64 * 1024;
  config.limits.max_queued_bytes = 64 * 1024;
  config.limits.requests_per_second = 1000000;
  config.limits.burst = 1000000;
  config.plugins["auditor"].requests_per_second = 1000000;
  config.plugins["auditor"].burst = 1000000;
  const server::Limits limits = config.limits;
  Start(config);
  WriteNotes("notes/pages", 12, 20 * 1024);  // every answer: 2 or 3 events, over 40 KiB
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  const int sent = 3000;  // 3,000 x 40 KiB = 120 MB of answers
  std::string batch;
  for (int i = 0; i < sent; ++i) batch += ReadStream(uint64_t(i) + 2, "notes/pages");
  c->SetTimeouts(3000);
  c->Write(batch);  // may block once the server stops reading; it fails after 3 s then
  // Wait until the server has stopped executing.
  uint64_t seen = 0;
  for (int stable = 0; stable < 100;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    uint64_t now = server_->stats().requests;
    stable = now == seen ? stable + 1 : 0;
    seen = now;
  }
  // What the socket buffers can hold, at most, plus the queue, the one answer
  // that crossed it, and the requests read ahead.
  auto max_of = [](const char* file) {
    std::ifstream in(file);
    uint64_t lo = 0, def = 0, hi = 0;
    in >> lo >> def >> hi;
    return hi;
  };
  const uint64_t kernel = max_of("/proc/sys/net/ipv4/tcp_wmem") + max_of("/proc/sys/net/ipv4/tcp_rmem");
  const uint64_t answer = 40 * 1024;
  const uint64_t bound =
      1 + kernel / answer + limits.max_queued_bytes / answer + 1 + limits.max_pipelined + 1;
  EXPECT_LE(seen, bound) << "executed " << seen << " of " << sent << " requests";
  EXPECT_LE(server_->stats().max_queued_bytes, limits.max_queued_bytes + limits.max_message_bytes);
}

// --- 4. Operations -----------------------------------------------------------

// §4.1: protocolVersion 1 is the first version; 0 (unset) is refused.
TEST_F(ConformanceTest, HelloWithProtocolVersionZeroIsInvalidArgument) {
  Start();
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Hello(1, "u-0042", "caseworker", 0)));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->Root().isError());
  EXPECT_EQ(Code(f->Root().getError()), kInvalidArgument);
  // And nothing acts: a request after it is refused as before hello.
  ASSERT_TRUE(c->Write(raw::Ping(2)));
  auto g = c->ReadAnswer();
  ASSERT_TRUE(g && g->Root().isError());
  EXPECT_EQ(Code(g->Root().getError()), kInvalidArgument);
}

// §4.1: a newer version than the server's is notSupported.
TEST_F(ConformanceTest, HelloWithANewerProtocolVersionIsNotSupported) {
  Start();
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Hello(1, "u-0042", "caseworker", protocol::PROTOCOL_VERSION + 1)));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(Code(f->Root().getError()), kNotSupported);
}

// §4.1: user is 1 to 64 of [A-Za-z0-9._:@-].
TEST_F(ConformanceTest, HelloUserMustBeAReferenceOf1To64Characters) {
  Start();
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  uint64_t id = 1;
  for (const std::string& user : {std::string(), std::string(65, 'u'), std::string("Jane Smith"),
                                  std::string("u-0042\n")}) {
    ASSERT_TRUE(c->Write(raw::Hello(id, user, "caseworker")));
    auto f = c->ReadAnswer();
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->Root().isError()) << "user '" << user << "' was accepted";
    EXPECT_EQ(Code(f->Root().getError()), kInvalidArgument);
    ++id;
  }
  ASSERT_TRUE(c->Write(raw::Hello(id, std::string(64, 'u'), "caseworker")));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->Root().isHelloResult());
}

// §4.1: a role the configuration does not give the plugin is
// permissionDenied.
TEST_F(ConformanceTest, HelloWithARoleNotConfiguredIsPermissionDenied) {
  Start();
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Hello(1, "u-0042", "controller")));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(Code(f->Root().getError()), kPermissionDenied);
}

// §4.1: every other request before a successful hello is invalidArgument.
TEST_F(ConformanceTest, ARequestBeforeHelloIsInvalidArgument) {
  Start();
  auto c = Open("portal", "");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Ping(3)));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(f->Root().getRequestId(), 3u);
  EXPECT_EQ(Code(f->Root().getError()), kInvalidArgument);
}

// §4.3: maxCount 0 means the page size; larger values are capped to it;
// `more` says the page was cut.
TEST_F(ConformanceTest, MaxCountZeroIsThePageSizeAndLargerIsCapped) {
  auto config = Config();
  config.limits.page_size = 5;
  Start(config);
  WriteNotes("notes/paged", 12, 100);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  for (uint32_t max_count : {0u, 100u}) {
    ASSERT_TRUE(c->Write(ReadStream(2 + max_count, "notes/paged", max_count)));
    auto f = c->ReadAnswer();
    ASSERT_TRUE(f && f->Root().isEvents());
    EXPECT_EQ(f->Root().getEvents().getEvents().size(), 5u);
    EXPECT_TRUE(f->Root().getEvents().getMore());
  }
}

// §4.3: an unknown stream is notFound.
TEST_F(ConformanceTest, AnUnknownStreamIsNotFound) {
  Start();
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(ReadStream(2, "notes/none")));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(Code(f->Root().getError()), kNotFound);
}

// §4.3: an event too large for one message is tooLarge, naming its position.
TEST_F(ConformanceTest, AnEventLargerThanAMessageIsTooLargeNamingItsPosition) {
  auto config = Config();
  config.limits.max_message_bytes = 16 * 1024;
  Start(config);
  WriteNotes("notes/large", 1, 32 * 1024);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(ReadStream(2, "notes/large")));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(Code(f->Root().getError()), kTooLarge);
  EXPECT_NE(std::string(f->Root().getError().getMessage().cStr()).find("position 1"), std::string::npos);
}

// §4.4: the server pushes no more events than credited.
TEST_F(ConformanceTest, ASubscriptionPushesNoMoreEventsThanCredited) {
  Start();
  WriteNotes("notes/feed", 10, 100);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Request(2, [](protocol::ClientMessage::Builder m) {
    auto s = m.initSubscribe();
    s.setFrom(1);
    s.setCredits(3);
    s.setPurpose("conformance");
  })));
  uint32_t pushed = 0;
  bool subscribed = false;
  // Until a ping sent after a pause comes back, count what was pushed.
  while (!subscribed || pushed < 3) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f);
    if (f->Root().isSubscribed()) subscribed = true;
    if (f->Root().isSubscriptionEvents()) pushed += f->Root().getSubscriptionEvents().getEvents().size();
  }
  ASSERT_TRUE(c->Write(raw::Ping(3)));
  for (;;) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f);
    if (f->Root().isPong()) break;
    if (f->Root().isSubscriptionEvents()) pushed += f->Root().getSubscriptionEvents().getEvents().size();
  }
  EXPECT_EQ(pushed, 3u);
  ASSERT_TRUE(c->Write(raw::Request(0, [](protocol::ClientMessage::Builder m) {
    auto k = m.initCredit();
    k.setSubscription(2);
    k.setEvents(4);
  })));
  while (pushed < 7) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f);
    if (f->Root().isSubscriptionEvents()) pushed += f->Root().getSubscriptionEvents().getEvents().size();
  }
  ASSERT_TRUE(c->Write(raw::Ping(4)));
  for (;;) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f);
    if (f->Root().isPong()) break;
    if (f->Root().isSubscriptionEvents()) pushed += f->Root().getSubscriptionEvents().getEvents().size();
  }
  EXPECT_EQ(pushed, 7u);
}

// §4.4: unsubscribe is answered after any push for it; none follows.
TEST_F(ConformanceTest, NoPushFollowsTheAnswerToUnsubscribe) {
  Start();
  WriteNotes("notes/unsub", 50, 100);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Request(2, [](protocol::ClientMessage::Builder m) {
    auto s = m.initSubscribe();
    s.setFrom(1);
    s.setCredits(1000);
    s.setPurpose("conformance");
  })));
  ASSERT_TRUE(c->Write(raw::Request(3, [](protocol::ClientMessage::Builder m) {
    m.initUnsubscribe().setSubscription(2);
  })));
  ASSERT_TRUE(c->Write(raw::Ping(4)));
  bool unsubscribed = false;
  for (;;) {
    auto f = c->ReadFrame();
    ASSERT_TRUE(f);
    if (f->Root().isUnsubscribed()) unsubscribed = true;
    if (f->Root().isSubscriptionEvents()) {
      EXPECT_FALSE(unsubscribed) << "a push after unsubscribed";
    }
    if (f->Root().isPong()) break;
  }
  EXPECT_TRUE(unsubscribed);
}

// §4.4: at most limits.maxSubscriptions per connection; more is busy.
TEST_F(ConformanceTest, MoreSubscriptionsThanTheLimitIsBusy) {
  auto config = Config();
  config.limits.max_subscriptions = 1;
  Start(config);
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  for (uint64_t id : {2, 3}) {
    ASSERT_TRUE(c->Write(raw::Request(id, [](protocol::ClientMessage::Builder m) {
      auto s = m.initSubscribe();
      s.setFrom(1);
      s.setCredits(10);
      s.setPurpose("conformance");
    })));
  }
  auto first = c->ReadAnswer();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->Root().isSubscribed());
  auto second = c->ReadAnswer();
  ASSERT_TRUE(second && second->Root().isError());
  EXPECT_EQ(Code(second->Root().getError()), kBusy);
}

// §4.6: serverInfo needs no scope; ping answers pong.
TEST_F(ConformanceTest, ServerInfoAndPingAnswer) {
  Start();
  auto c = Open("limited", "u-0042", "anyone");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Request(2, [](protocol::ClientMessage::Builder m) { m.setServerInfo(); }) +
                       raw::Ping(3)));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isServerInfo());
  EXPECT_EQ(f->Root().getServerInfo().getProtocolVersion(), protocol::PROTOCOL_VERSION);
  EXPECT_EQ(std::string(f->Root().getServerInfo().getPlugin().cStr()), "limited");
  auto g = c->ReadAnswer();
  ASSERT_TRUE(g && g->Root().isPong());
}

// --- 5. Errors ---------------------------------------------------------------

// §5 and §7: a well-framed request of a kind the server does not know is
// answered invalidArgument, and the connection stays.
TEST_F(ConformanceTest, AnUnknownRequestKindIsInvalidArgumentAndTheConnectionStays) {
  Start();
  auto c = Open();
  ASSERT_TRUE(c);
  std::string ping = raw::Ping(9);
  // The union discriminant: the first 16 bits of the root's second data word
  // (section 2's example), after the 8-byte table and the root pointer.
  ASSERT_EQ(ping.size() % 8, 0u);
  ping[8 + 8 + 8] = char(0xff);
  ping[8 + 8 + 8 + 1] = char(0x7f);
  ASSERT_TRUE(c->Write(ping + raw::Ping(10)));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(f->Root().getRequestId(), 9u);
  EXPECT_EQ(Code(f->Root().getError()), kInvalidArgument);
  auto g = c->ReadAnswer();
  ASSERT_TRUE(g);
  EXPECT_TRUE(g->Root().isPong());
}

// §5: an error changes nothing: an append with an id that is not 16 bytes
// creates no stream.
TEST_F(ConformanceTest, AnErrorAnswerChangesNothing) {
  Start();
  auto c = Open("auditor", "u-0042", "auditor");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Write(raw::Request(2, [](protocol::ClientMessage::Builder m) {
    auto a = m.initAppend();
    a.setStream("notes/nothing");
    a.initExpected().setAny();
    auto e = a.initEvents(2);
    uint8_t id[16] = {1};
    e[0].setId(kj::arrayPtr(id, 16));
    e[0].setType("NoteAdded");
    e[0].setFacts(kj::arrayPtr(id, 4));
    e[1].setId(kj::arrayPtr(id, 5));
    e[1].setType("NoteAdded");
  })));
  auto f = c->ReadAnswer();
  ASSERT_TRUE(f && f->Root().isError());
  EXPECT_EQ(Code(f->Root().getError()), kInvalidArgument);
  EXPECT_FALSE(store_->StreamVersion("notes/nothing").ok());
}

// --- 6. Limits ---------------------------------------------------------------

// §6: idle for limits.idle_timeout_ms: goodbye `busy`, then TLS close_notify
// and a close.
TEST_F(ConformanceTest, AnIdleConnectionGetsGoodbyeBusyThenCloseNotify) {
  auto config = Config();
  config.limits.idle_timeout_ms = 300;
  Start(config);
  auto c = Open();
  ASSERT_TRUE(c);
  auto f = c->ReadFrame();
  ASSERT_TRUE(f && f->Root().isGoodbye());
  EXPECT_EQ(f->Root().getRequestId(), 0u);
  EXPECT_EQ(Code(f->Root().getGoodbye()), kBusy);
  uint8_t byte;
  EXPECT_FALSE(c->ReadExactly(&byte, 1, 5000));
  EXPECT_EQ(SSL_get_shutdown(c->ssl()) & SSL_RECEIVED_SHUTDOWN, SSL_RECEIVED_SHUTDOWN)
      << "no close_notify";
}

}  // namespace
}  // namespace hearth::testing
