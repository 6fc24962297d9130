// Who may connect: client certificates, the plugin configuration, hello,
// timeouts (docs/plugins.md).
#include <cstdio>

#include "server_util.h"

namespace hearth::testing {
namespace {

class HandshakeTest : public ServerFixture {};

TEST_F(HandshakeTest, ValidCertificateConnectsAndHelloGivesEffectiveScopes) {
  Start();
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  sdk::HelloInfo hello = client->hello();
  EXPECT_EQ(hello.plugin, "portal");
  EXPECT_EQ(hello.user, "u-0042");
  EXPECT_EQ(hello.role, "caseworker");
  EXPECT_EQ(hello.protocol_version, 1u);
  EXPECT_EQ(hello.scopes.read_districts, std::vector<std::string>{"north"});
  EXPECT_TRUE(hello.scopes.read_personal);
  EXPECT_EQ(hello.limits.max_message_bytes, 1u << 20);

  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->format_version, Store::kFormatVersion);
  EXPECT_EQ(info->read_models, std::vector<std::string>{"info"});
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(HandshakeTest, RoleNarrowsThePluginsScopes) {
  Start();
  auto client = Connect("portal", "u-0042", "viewer");
  ASSERT_TRUE(client);
  sdk::HelloInfo hello = client->hello();
  EXPECT_TRUE(hello.scopes.append_types.empty());
  EXPECT_FALSE(hello.scopes.read_personal);
  EXPECT_EQ(hello.scopes.read_districts, std::vector<std::string>{"north"});
}

TEST_F(HandshakeTest, RoleNotConfiguredIsRefusedAtHello) {
  Start();
  auto c = sdk::Client::Connect(ClientFor("portal", "u-0042", "controller"));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kPermissionDenied) << c.status().ToString();
  EXPECT_NE(c.status().message().find("controller"), std::string::npos);
}

TEST_F(HandshakeTest, UnknownPluginIsRefused) {
  Start();
  auto c = sdk::Client::Connect(ClientFor("stranger"));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Eventually([&] { return LogContains("unknown plugin 'stranger'"); })) << Log();
  EXPECT_TRUE(Eventually([&] { return server_->stats().refused >= 1; }));
}

TEST_F(HandshakeTest, CertificateFromAnotherCaIsRefused) {
  Start();
  auto c = sdk::Client::Connect(ClientFor("portal-other-ca"));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Eventually([&] { return LogContains("refused certificate"); })) << Log();
}

TEST_F(HandshakeTest, ExpiredCertificateIsRefused) {
  Start();
  auto c = sdk::Client::Connect(ClientFor("portal-expired"));
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(Eventually([&] { return LogContains("certificate has expired"); })) << Log();
}

TEST_F(HandshakeTest, NoCertificateIsRefused) {
  Start();
  RawClient raw;
  auto ec = raw.Connect(server_->port(), pki_->ca(), nullptr, nullptr);
  // TLS 1.3: the client may finish its side before the server refuses; then
  // the refusal arrives as an alert on the first read.
  if (!ec) {
    (void)raw.Write(HelloMessage(1, "u-1", "caseworker"));
    auto frame = raw.Read(20000);
    EXPECT_FALSE(frame.ok());
  }
  EXPECT_TRUE(Eventually([&] { return LogContains("TLS handshake failed"); })) << Log();
  EXPECT_TRUE(Eventually([&] { return server_->stats().refused >= 1; }));
  // Nobody got a session: a valid client still works.
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(HandshakeTest, OpensslSClientWithoutCertificateIsRefused) {
  Start();
  std::string cmd = "printf 'hello' | timeout 20 openssl s_client -connect 127.0.0.1:" +
                    std::to_string(server_->port()) + " -tls1_3 -CAfile " + pki_->ca() +
                    " -verify_return_error -ign_eof 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  // The server's alert: "certificate required" (TLS 1.3, alert 116).
  EXPECT_NE(out.find("certificate required"), std::string::npos) << out;
  EXPECT_TRUE(Eventually([&] { return LogContains("TLS handshake failed"); })) << Log();
}

TEST_F(HandshakeTest, RequestBeforeHelloIsAnsweredWithAnError) {
  Start();
  RawClient raw;
  std::string cert = pki_->cert("portal"), key = pki_->key("portal");
  ASSERT_FALSE(raw.Connect(server_->port(), pki_->ca(), &cert, &key));
  ASSERT_FALSE(raw.Write(Message(7, [](protocol::ClientMessage::Builder m) { m.setPing(); })));
  auto frame = raw.Read();
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  auto msg = (*frame)->Root<protocol::ServerMessage>();
  EXPECT_EQ(msg.getRequestId(), 7u);
  ASSERT_EQ(msg.which(), protocol::ServerMessage::ERROR);
  EXPECT_NE(wire::ToString(msg.getError().getMessage()).find("hello"), std::string::npos);
  // The connection stays usable.
  ASSERT_FALSE(raw.Write(HelloMessage(8, "u-1", "caseworker")));
  frame = raw.Read();
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ((*frame)->Root<protocol::ServerMessage>().which(), protocol::ServerMessage::HELLO_RESULT);
}

TEST_F(HandshakeTest, NewerProtocolVersionIsRefused) {
  Start();
  RawClient raw;
  std::string cert = pki_->cert("portal"), key = pki_->key("portal");
  ASSERT_FALSE(raw.Connect(server_->port(), pki_->ca(), &cert, &key));
  ASSERT_FALSE(raw.Write(Message(1, [](protocol::ClientMessage::Builder m) {
    auto h = m.initHello();
    h.setProtocolVersion(protocol::PROTOCOL_VERSION + 1);
    h.setUser("u-1");
    h.setRole("caseworker");
  })));
  auto frame = raw.Read();
  ASSERT_TRUE(frame.ok());
  auto msg = (*frame)->Root<protocol::ServerMessage>();
  ASSERT_EQ(msg.which(), protocol::ServerMessage::ERROR);
  EXPECT_EQ(msg.getError().getCode(), protocol::ErrorCode::NOT_SUPPORTED);
}

TEST_F(HandshakeTest, HandshakeTimeoutClosesASilentConnection) {
  auto config = Config();
  config.limits.handshake_timeout_ms = 200;
  Start(config);
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
  // Say nothing: the server closes the socket; the read ends with EOF.
  char c;
  boost::system::error_code ec;
  socket.read_some(boost::asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec) << "the server should have closed the connection";
  EXPECT_TRUE(Eventually([&] { return LogContains("limits.handshake_timeout_ms"); })) << Log();
  EXPECT_TRUE(Eventually([&] { return server_->stats().connections == 0; }));
}

TEST_F(HandshakeTest, IdleTimeoutSaysGoodbye) {
  auto config = Config();
  config.limits.idle_timeout_ms = 200;
  Start(config);
  auto client = Connect("portal");
  ASSERT_TRUE(client);
  EXPECT_TRUE(Eventually([&] { return !client->connected(); }));
  EXPECT_EQ(client->goodbye().code(), Status::Code::kBusy) << client->goodbye().ToString();
  EXPECT_NE(client->goodbye().message().find("idle"), std::string::npos);
  EXPECT_TRUE(LogContains("limits.idle_timeout_ms")) << Log();
  // A call on the closed connection fails cleanly.
  EXPECT_FALSE(client->Ping().ok());
}

TEST_F(HandshakeTest, MaxConnectionsRefusesTheNextAndRecovers) {
  auto config = Config();
  config.limits.max_connections = 2;
  Start(config);
  auto a = Connect("portal");
  auto b = Connect("intake", "u-2", "any");
  ASSERT_TRUE(a && b);
  auto c = sdk::Client::Connect(ClientFor("auditor", "u-3", "auditor"));
  EXPECT_FALSE(c.ok());
  EXPECT_TRUE(Eventually([&] { return LogContains("limits.max_connections"); })) << Log();
  EXPECT_TRUE(a->Ping().ok());
  b.reset();
  ASSERT_TRUE(Eventually([&] { return server_->stats().connections == 1; }));
  auto d = Connect("auditor", "u-3", "auditor");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->Ping().ok());
}

TEST_F(HandshakeTest, ConfigurationErrorsNameTheKey) {
  auto bad = server::ServerConfig::FromJson(R"({"tls": {"ca": "a", "cert": "b", "key": "c"},
      "plugins": {"p": {"scopes": {"read_district": ["x"]}}}})", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("read_district"), std::string::npos) << bad.status().ToString();
  auto no_tls = server::ServerConfig::FromJson(R"({"plugins": {}})", "");
  EXPECT_FALSE(no_tls.ok());
  auto limits = server::ServerConfig::FromJson(R"({"tls": {"ca": "a", "cert": "b", "key": "c"},
      "limits": {"max_message_bytes": 10}, "plugins": {}})", "/etc/hearth");
  ASSERT_FALSE(limits.ok());
  EXPECT_NE(limits.status().message().find("max_message_bytes"), std::string::npos);
  auto ok = server::ServerConfig::FromJson(R"({"tls": {"ca": "ca.pem", "cert": "/x/s.pem", "key": "k"},
      "plugins": {}})", "/etc/hearth");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->ca_file, "/etc/hearth/ca.pem");
  EXPECT_EQ(ok->cert_file, "/x/s.pem");
  EXPECT_TRUE(ok->reads_on_network_threads) << "the documented default is on";
  // reads_on_network_threads is a JSON boolean: a string or a number is
  // refused, naming the key, not read as true.
  for (const char* value : {R"("no")", "0", R"("false")", "null"}) {
    auto wrong = server::ServerConfig::FromJson(std::string(R"({"tls": {"ca": "a", "cert": "b", "key": "c"},
        "reads_on_network_threads": )") + value + R"(, "plugins": {}})", "");
    ASSERT_FALSE(wrong.ok()) << value;
    EXPECT_NE(wrong.status().message().find("reads_on_network_threads"), std::string::npos)
        << value << ": " << wrong.status().ToString();
  }
  auto off = server::ServerConfig::FromJson(R"({"tls": {"ca": "a", "cert": "b", "key": "c"},
      "reads_on_network_threads": false, "plugins": {}})", "");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->reads_on_network_threads);
}

TEST(ScopeIntersection, PatternsIntersectExactly) {
  using server::IntersectPatterns;
  using V = std::vector<std::string>;
  EXPECT_EQ(IntersectPatterns({"*"}, {"Contact*"}), V{"Contact*"});
  EXPECT_EQ(IntersectPatterns({"Contact*"}, {"ContactRecorded", "NoteAdded"}), V{"ContactRecorded"});
  EXPECT_EQ(IntersectPatterns({"Contact*"}, {"Cont*"}), V{"Contact*"});
  EXPECT_EQ(IntersectPatterns({"Contact*"}, {"Note*"}), V{});
  EXPECT_EQ(IntersectPatterns({"north", "south"}, {"south"}), V{"south"});
  EXPECT_EQ(IntersectPatterns({}, {"*"}), V{});
  Scopes a, b;
  a.read_personal = true;
  a.read_log = true;
  b.read_personal = true;
  Scopes c = server::IntersectScopes(a, b);
  EXPECT_TRUE(c.read_personal);
  EXPECT_FALSE(c.read_log);
}

}  // namespace
}  // namespace hearth::testing
