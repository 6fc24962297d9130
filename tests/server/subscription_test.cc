// Subscriptions over the network: catch-up then live, credits, a slow client
// cannot make the server buffer without bound (docs/protocol.md).
#include <atomic>
#include <condition_variable>

#include "server_util.h"

namespace hearth::testing {
namespace {

constexpr const char* kStream = "case/north/C-000100";
constexpr const char* kCase = "case/north/C-000101";  // written through the server

class SubscriptionTest : public ServerFixture {
 protected:
  void AppendN(int n, size_t fact_bytes = 32, const std::string& stream = kStream) {
    std::vector<NewEvent> batch;
    for (int i = 0; i < n; ++i) {
      NewEvent e = MakeEvent("NoteAdded");
      e.facts = std::string(fact_bytes, 'f');
      batch.push_back(std::move(e));
      if (batch.size() == 100 || i == n - 1) {
        auto r = store_->Append(stream, ExpectedVersion::Any(), batch);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        batch.clear();
      }
    }
  }

  // A raw client, past hello as the auditor.
  std::unique_ptr<RawClient> RawAuditor() {
    auto raw = std::make_unique<RawClient>();
    std::string cert = pki_->cert("auditor"), key = pki_->key("auditor");
    EXPECT_FALSE(raw->Connect(server_->port(), pki_->ca(), &cert, &key));
    EXPECT_FALSE(raw->Write(HelloMessage(1, "u-0099", "auditor")));
    auto frame = raw->Read();
    EXPECT_TRUE(frame.ok());
    return raw;
  }
};

// Collects delivered events for a test to wait on.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<RecordedEvent> events;
  Status end;
  bool ended = false;

  bool Add(const RecordedEvent& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    cv.notify_all();
    return true;
  }
  void End(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    end = s;
    ended = true;
    cv.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return events.size() >= n; });
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
};

TEST_F(SubscriptionTest, CatchUpThenLiveInOrderWithoutGaps) {
  Start();
  AppendN(50);
  auto client = Connect("auditor", "u-0099", "auditor");
  ASSERT_TRUE(client);
  Collector c;
  auto sub = client->Subscribe(
      1, "audit", [&](const RecordedEvent& e) { return c.Add(e); },
      [&](const Status& s) { c.End(s); }, /*window=*/8);
  ASSERT_TRUE(sub.ok()) << sub.status().ToString();
  ASSERT_TRUE(c.WaitFor(50));
  // Live: appended through another plugin while subscribed.
  auto writer = Connect("portal");
  ASSERT_TRUE(writer);
  // (Casework on a case of its own: the enquiry, then notes.)
  for (int i = 0; i < 10; ++i) {
    auto r = writer->Append(kCase, ExpectedVersion::Any(), {i == 0 ? Enquiry() : CaseNote()});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  AppendN(15);  // and directly in the store
  ASSERT_TRUE(c.WaitFor(75));
  {
    std::lock_guard<std::mutex> lock(c.mu);
    ASSERT_EQ(c.events.size(), 75u);
    for (size_t i = 0; i < c.events.size(); ++i) EXPECT_EQ(c.events[i].position, i + 1);
  }
  EXPECT_TRUE((*sub)->Unsubscribe().ok());
  EXPECT_TRUE(Eventually([&] { return c.ended; }));
  EXPECT_TRUE(c.end.ok()) << c.end.ToString();
  EXPECT_TRUE(Eventually([&] { return server_->stats().subscriptions == 0; }));
}

TEST_F(SubscriptionTest, TheServerNeverSendsMoreThanTheCredits) {
  Start();
  AppendN(100);
  auto raw = RawAuditor();
  ASSERT_FALSE(raw->Write(Message(10, [](protocol::ClientMessage::Builder m) {
    auto s = m.initSubscribe();
    s.setFrom(1);
    s.setCredits(5);
    s.setPurpose("audit");
  })));
  uint64_t received = 0, last = 0;
  uint64_t pings = 0, pongs = 0;
  // Reads until `want` events came, then checks with pings (answered in
  // order, after the server has seen the credit state) that no more arrive.
  auto drain = [&](uint64_t want) {
    while (received < want) {
      auto f = raw->Read();
      ASSERT_TRUE(f.ok()) << f.status().ToString();
      auto m = (*f)->Root<protocol::ServerMessage>();
      if (m.which() == protocol::ServerMessage::SUBSCRIPTION_EVENTS) {
        EXPECT_EQ(m.getRequestId(), 10u);
        for (auto e : m.getSubscriptionEvents().getEvents()) {
          EXPECT_EQ(e.getPosition(), last + 1);
          last = e.getPosition();
          ++received;
        }
      }
    }
    for (int i = 0; i < 5; ++i) {
      ASSERT_FALSE(raw->Write(Message(100 + pings++, [](protocol::ClientMessage::Builder m) { m.setPing(); })));
    }
    while (pongs < pings) {
      auto f = raw->Read();
      ASSERT_TRUE(f.ok());
      auto m = (*f)->Root<protocol::ServerMessage>();
      if (m.which() == protocol::ServerMessage::PONG) {
        ++pongs;
      } else if (m.which() == protocol::ServerMessage::SUBSCRIPTION_EVENTS) {
        received += m.getSubscriptionEvents().getEvents().size();
      }
    }
    EXPECT_EQ(received, want) << "the server pushed beyond the client's credits";
  };
  drain(5);
  ASSERT_FALSE(raw->Write(Message(0, [](protocol::ClientMessage::Builder m) {
    auto c = m.initCredit();
    c.setSubscription(10);
    c.setEvents(20);
  })));
  drain(25);
  // Unsubscribe: answered, and nothing follows for it.
  ASSERT_FALSE(raw->Write(Message(11, [](protocol::ClientMessage::Builder m) {
    m.initUnsubscribe().setSubscription(10);
  })));
  ASSERT_FALSE(raw->Write(Message(0, [](protocol::ClientMessage::Builder m) {
    auto c = m.initCredit();
    c.setSubscription(10);
    c.setEvents(1000);
  })));
  for (;;) {
    auto f = raw->Read();
    ASSERT_TRUE(f.ok());
    auto m = (*f)->Root<protocol::ServerMessage>();
    if (m.which() == protocol::ServerMessage::UNSUBSCRIBED) break;
  }
  ASSERT_FALSE(raw->Write(Message(12, [](protocol::ClientMessage::Builder m) { m.setPing(); })));
  auto f = raw->Read();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->Root<protocol::ServerMessage>().which(), protocol::ServerMessage::PONG);
}

TEST_F(SubscriptionTest, ASlowClientHoldsAtMostTheBufferLimitInTheServer) {
  auto config = Config();
  config.limits.subscription_buffer_events = 16;
  Start(config);
  // Enough bytes to fill the kernel's socket buffers many times over.
  AppendN(3000, 4096);
  auto raw = RawAuditor();
  // Credits for everything, then never read again.
  ASSERT_FALSE(raw->Write(Message(10, [](protocol::ClientMessage::Builder m) {
    auto s = m.initSubscribe();
    s.setFrom(1);
    s.setCredits(1000000);
    s.setPurpose("audit");
  })));
  // The server ends up holding events it cannot write: the socket is full.
  ASSERT_TRUE(Eventually([&] {
    auto s = server_->stats();
    return s.buffered_events > 0 && s.subscriptions == 1;
  }));
  // Give it every chance to read on; it must not.
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_LE(server_->stats().buffered_events, 16u);
  }
  auto stats = server_->stats();
  EXPECT_LE(stats.max_buffered_events, 16u);
  EXPECT_GE(stats.max_buffered_events, 1u);
  // Everyone else is served meanwhile.
  auto other = Connect("portal");
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->Append(kCase, ExpectedVersion::Any(), {Enquiry()}).ok());
  EXPECT_TRUE(other->ReadStream(kStream, 1, Direction::kForward, 10, "x").ok());
  // The slow client goes away mid-subscription: the server lets go of it.
  raw->Close();
  EXPECT_TRUE(Eventually([&] {
    auto s = server_->stats();
    return s.subscriptions == 0 && s.buffered_events == 0 && s.connections == 1;
  })) << "subscriptions " << server_->stats().subscriptions << " buffered "
      << server_->stats().buffered_events;
}

TEST_F(SubscriptionTest, ASlowCallbackSlowsTheServerDownThroughCredits) {
  auto config = Config();
  config.limits.subscription_buffer_events = 8;
  Start(config);
  AppendN(200);
  auto client = Connect("auditor", "u-0099", "auditor");
  ASSERT_TRUE(client);
  Collector c;
  auto sub = client->Subscribe(
      1, "audit",
      [&](const RecordedEvent& e) {
        if (e.position % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return c.Add(e);
      },
      nullptr, /*window=*/4);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(c.WaitFor(200));
  EXPECT_LE(server_->stats().max_buffered_events, 4u);  // never beyond the window
}

TEST_F(SubscriptionTest, CallbackReturningFalseEndsTheSubscription) {
  Start();
  AppendN(30);
  auto client = Connect("auditor", "u-0099", "auditor");
  ASSERT_TRUE(client);
  Collector c;
  auto sub = client->Subscribe(
      1, "audit", [&](const RecordedEvent& e) { c.Add(e); return e.position < 10; },
      [&](const Status& s) { c.End(s); }, 4);
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(Eventually([&] { return c.ended; }));
  EXPECT_TRUE(c.end.ok());
  EXPECT_EQ(c.size(), 10u);
  EXPECT_TRUE(Eventually([&] { return server_->stats().subscriptions == 0; }));
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(SubscriptionTest, PersonalDataDeliveredBySubscriptionIsLogged) {
  Start();
  ASSERT_TRUE(store_->Append(kStream, ExpectedVersion::Any(),
                             {MakeEvent("ContactRecorded", "P-61", "Dee Placeholder")})
                  .ok());
  auto client = Connect("auditor", "u-0099", "auditor");
  ASSERT_TRUE(client);
  Collector c;
  auto sub = client->Subscribe(1, "audit-feed", [&](const RecordedEvent& e) { return c.Add(e); });
  ASSERT_TRUE(sub.ok());
  ASSERT_TRUE(c.WaitFor(1));
  EXPECT_EQ(c.events[0].personal.size(), 1u);
  auto log = store_->AccessLog("P-61");
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].plugin, "auditor");
  EXPECT_EQ((*log)[0].user, "u-0099");
  EXPECT_EQ((*log)[0].purpose, "audit-feed");
}

TEST_F(SubscriptionTest, SubscriptionLimitPerConnection) {
  auto config = Config();
  config.limits.max_subscriptions = 2;
  Start(config);
  auto client = Connect("auditor", "u-0099", "auditor");
  ASSERT_TRUE(client);
  auto noop = [](const RecordedEvent&) { return true; };
  auto a = client->Subscribe(1, "x", noop);
  auto b = client->Subscribe(1, "x", noop);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = client->Subscribe(1, "x", noop);
  EXPECT_EQ(c.status().code(), Status::Code::kBusy) << c.status().ToString();
  EXPECT_TRUE(LogContains("limits.max_subscriptions"));
}

}  // namespace
}  // namespace hearth::testing
