// Bad input and limits: malformed, truncated, oversized, deeply nested
// messages, request rate; each answered with an error or a clean close, and
// the server keeps serving everyone else (docs/protocol.md).
#include "server_util.h"

namespace hearth::testing {
namespace {

constexpr const char* kStream = "case/north/C-000200";

std::string Le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = char((v >> (8 * i)) & 0xff);
  return s;
}
std::string Le64(uint64_t v) { return Le32(uint32_t(v)) + Le32(uint32_t(v >> 32)); }

class LimitsTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    auto config = Config();
    config.limits.max_message_bytes = 64 * 1024;
    Start(config);
    if (HasFatalFailure()) return;
    bystander_ = Connect("portal", "u-0500", "caseworker");
    ASSERT_TRUE(bystander_);
  }

  std::unique_ptr<RawClient> RawPortal() {
    auto raw = std::make_unique<RawClient>();
    std::string cert = pki_->cert("portal"), key = pki_->key("portal");
    EXPECT_FALSE(raw->Connect(server_->port(), pki_->ca(), &cert, &key));
    EXPECT_FALSE(raw->Write(HelloMessage(1, "u-0501", "caseworker")));
    auto frame = raw->Read();
    EXPECT_TRUE(frame.ok());
    return raw;
  }

  // Reads the goodbye the server sends before closing, and the close.
  Status Goodbye(RawClient& raw) {
    for (;;) {
      auto f = raw.Read();
      if (!f.ok()) return Status::IOError("no goodbye: " + f.status().ToString());
      auto m = (*f)->Root<protocol::ServerMessage>();
      if (m.which() == protocol::ServerMessage::GOODBYE) {
        Status s = wire::FromWire(m.getGoodbye());
        EXPECT_TRUE(raw.ReadsToClose()) << "the server should close after its goodbye";
        return s;
      }
    }
  }

  // Everyone else is still served, and nothing was written.
  void ExpectOthersServedAndNothingWritten() {
    EXPECT_TRUE(bystander_->Ping().ok());
    auto r = bystander_->Append("case/north/C-" + std::to_string(900 + ++bystander_cases_),
                                ExpectedVersion::NoStream(), {Enquiry()});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(store_->StreamVersion(kStream).ok());
    EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 1; }));
  }

  std::unique_ptr<sdk::Client> bystander_;
  int bystander_cases_ = 0;
};

TEST_F(LimitsTest, OversizedMessageIsRefusedBeforeItIsRead) {
  auto raw = RawPortal();
  // One segment of 1 MiB declared; nothing more is sent.
  ASSERT_FALSE(raw->Write(Le32(0) + Le32((1u << 20) / 8)));
  Status bye = Goodbye(*raw);
  EXPECT_EQ(bye.code(), Status::Code::kTooLarge) << bye.ToString();
  EXPECT_TRUE(LogContains("limits.max_message_bytes")) << Log();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, AnAppendOverTheLimitFromTheSdkIsRefused) {
  auto client = Connect("portal", "u-0502", "caseworker");
  ASSERT_TRUE(client);
  // A valid enquiry: only its size can have it refused.
  NewEvent big = Enquiry("P-1", "north", "", std::string(100 * 1024, 'x'));
  auto r = client->Append(kStream, ExpectedVersion::Any(), {big});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(client->goodbye().code(), Status::Code::kTooLarge) << client->goodbye().ToString();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, TooManySegmentsIsRefused) {
  auto raw = RawPortal();
  ASSERT_FALSE(raw->Write(Le32(100000) + Le32(1)));
  Status bye = Goodbye(*raw);
  EXPECT_EQ(bye.code(), Status::Code::kInvalidArgument) << bye.ToString();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, MalformedPointersAreRefused) {
  auto raw = RawPortal();
  // A root struct pointer far outside its 2-word segment.
  uint64_t bad_pointer = (uint64_t(1) << 48) | (uint64_t(1) << 32) | (uint64_t(0x100000) << 2);
  ASSERT_FALSE(raw->Write(Le32(0) + Le32(2) + Le64(bad_pointer) + Le64(0)));
  Status bye = Goodbye(*raw);
  EXPECT_EQ(bye.code(), Status::Code::kInvalidArgument) << bye.ToString();
  EXPECT_TRUE(LogContains("refused message")) << Log();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, EmptySegmentsAreRefused) {
  auto raw = RawPortal();
  ASSERT_FALSE(raw->Write(Le32(0) + Le32(0)));
  Status bye = Goodbye(*raw);
  EXPECT_EQ(bye.code(), Status::Code::kInvalidArgument) << bye.ToString();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, DeeplyNestedMessageIsRefused) {
  auto raw = RawPortal();
  // A chain of 200 structs, each holding one pointer to the next.
  const int depth = 200;
  std::string words;
  for (int i = 0; i < depth; ++i) words += Le64(uint64_t(1) << 48);  // struct, 0 data, 1 pointer, offset 0
  words += Le64(0);
  ASSERT_FALSE(raw->Write(Le32(0) + Le32(depth + 1) + words));
  Status bye = Goodbye(*raw);
  EXPECT_EQ(bye.code(), Status::Code::kInvalidArgument) << bye.ToString();
  EXPECT_NE(bye.message().find("nest"), std::string::npos) << bye.ToString();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, PointerLoopIsRefused) {
  auto raw = RawPortal();
  // A root struct whose one pointer points back at the root pointer's target
  // (offset -1 from its own end): an endless walk.
  uint64_t root = uint64_t(1) << 48;                          // struct at word 1, 1 pointer
  uint64_t loop = (uint64_t(1) << 48) | (uint64_t(0x3fffffff) << 2);  // offset -1: itself
  ASSERT_FALSE(raw->Write(Le32(0) + Le32(2) + Le64(root) + Le64(loop)));
  Status bye = Goodbye(*raw);
  EXPECT_EQ(bye.code(), Status::Code::kInvalidArgument) << bye.ToString();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, TruncatedMessageThenDisconnectLeavesNothing) {
  auto raw = RawPortal();
  std::string append = Message(5, [](protocol::ClientMessage::Builder m) {
    auto a = m.initAppend();
    a.setStream(kStream);
    a.initExpected().setAny();
    auto events = a.initEvents(1);
    wire::ToWire(Enquiry(), events[0]);
  });
  ASSERT_FALSE(raw->Write(append.substr(0, append.size() / 2)));
  raw->Close();
  EXPECT_TRUE(Eventually([&] { return LogContains("closed by the client"); })) << Log();
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, UnknownRequestKindGetsAnErrorAndTheConnectionStays) {
  auto raw = RawPortal();
  std::string msg = Message(9, [](protocol::ClientMessage::Builder m) { m.setPing(); });
  // The union discriminant sits in the data section's bytes 8..9 (after
  // requestId); set it to a member this server does not know.
  // Layout: table (8 bytes), root pointer (8), data words.
  msg[8 + 8 + 8] = char(99);
  ASSERT_FALSE(raw->Write(msg));
  auto f = raw->Read();
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto m = (*f)->Root<protocol::ServerMessage>();
  EXPECT_EQ(m.getRequestId(), 9u);
  ASSERT_EQ(m.which(), protocol::ServerMessage::ERROR);
  EXPECT_EQ(m.getError().getCode(), protocol::ErrorCode::INVALID_ARGUMENT);
  ASSERT_FALSE(raw->Write(Message(10, [](protocol::ClientMessage::Builder m) { m.setPing(); })));
  f = raw->Read();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Root<protocol::ServerMessage>().which(), protocol::ServerMessage::PONG);
}

TEST_F(LimitsTest, BadEventIdIsRefusedAndNothingWritten) {
  auto raw = RawPortal();
  ASSERT_FALSE(raw->Write(Message(5, [](protocol::ClientMessage::Builder m) {
    auto a = m.initAppend();
    a.setStream(kStream);
    a.initExpected().setAny();
    auto events = a.initEvents(1);
    wire::ToWire(Enquiry(), events[0]);
    events[0].setId(kj::heapArray<kj::byte>(3));
  })));
  auto f = raw->Read();
  ASSERT_TRUE(f.ok());
  auto m = (*f)->Root<protocol::ServerMessage>();
  ASSERT_EQ(m.which(), protocol::ServerMessage::ERROR);
  EXPECT_EQ(m.getError().getCode(), protocol::ErrorCode::INVALID_ARGUMENT);
  EXPECT_NE(wire::ToString(m.getError().getMessage()).find("event id"), std::string::npos);
  raw->Close();  // the connection itself stayed open: a bad request is not a bad frame
  ExpectOthersServedAndNothingWritten();
}

TEST_F(LimitsTest, TextWithoutTerminatorIsAnErrorNotACrash) {
  auto raw = RawPortal();
  std::string msg = Message(6, [](protocol::ClientMessage::Builder m) {
    auto r = m.initReadStream();
    r.setStream("abcdefg");  // 8 bytes with its NUL: exactly one word
    r.setPurpose("x");
  });
  // Overwrite the stream text's NUL terminator.
  size_t at = msg.find(std::string("abcdefg\0", 8));
  ASSERT_NE(at, std::string::npos);
  msg[at + 7] = 'h';
  ASSERT_FALSE(raw->Write(msg));
  auto f = raw->Read();
  ASSERT_TRUE(f.ok());
  auto m = (*f)->Root<protocol::ServerMessage>();
  ASSERT_EQ(m.which(), protocol::ServerMessage::ERROR);
  EXPECT_EQ(m.getError().getCode(), protocol::ErrorCode::INVALID_ARGUMENT);
  EXPECT_TRUE(bystander_->Ping().ok());
}

TEST_F(LimitsTest, RequestRateIsLimitedPerPlugin) {
  auto limited = Connect("limited", "u-0600", "any");
  ASSERT_TRUE(limited);
  // Burst 3 at 1 request/s: hello took one; some of the next ten are refused.
  int busy = 0, ok = 0;
  Status last;
  for (int i = 0; i < 10; ++i) {
    Status s = limited->Ping();
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), Status::Code::kBusy) << s.ToString();
      last = s;
      ++busy;
    }
  }
  EXPECT_GE(busy, 1);
  EXPECT_LE(ok, 9);
  EXPECT_NE(last.message().find("rate limit"), std::string::npos);
  EXPECT_TRUE(limited->connected()) << "a rate-limited client keeps its connection";
  EXPECT_TRUE(LogContains("limits.requests_per_second")) << Log();
  // Other plugins have their own buckets.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(bystander_->Ping().ok());
}

}  // namespace
}  // namespace hearth::testing
