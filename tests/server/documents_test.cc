// Documents over the protocol (issue 17.9; docs/protocol.md "readDocument"):
// a DocumentAttached appended with its body over TLS is read back
// byte-identical; the read takes the scopes of reading its event
// (read_personal, the case's district), is in the access log with the
// caller's purpose, and fails clearly once the subject is erased, for a
// position or index that holds no document, and for a body larger than a
// message. Synthetic references and bodies only.
#include "server_util.h"

namespace hearth::testing {
namespace {

constexpr const char* kNorth = "case/north/C-000901";

// Plugins for the suite: `portal` appends and reads personal data in north
// (role `viewer` without read_personal), `southern` reads personal data in
// south only.
const char* kDocumentsConfig = R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "CA", "cert": "CERT", "key": "KEY"},
  "threads": 2,
  "workers": 4,
  "plugins": {
    "portal": {
      "scopes": {"append_types": ["ContactRecorded", "DocumentAttached"], "read_districts": ["north"],
                 "read_personal": true},
      "roles": {"caseworker": {}, "viewer": {"append_types": [], "read_personal": false}}
    },
    "intake": {
      "scopes": {"read_districts": ["south"], "read_personal": true}
    }
  }
})";

// A body with every byte value, NULs included: bytes, not text.
std::string BinaryBody(size_t size) {
  std::string body(size, '\0');
  for (size_t i = 0; i < size; ++i) body[i] = char((i * 131 + 7) & 0xff);
  return body;
}

// A DocumentAttached about `subject` carrying `body`, its personal section
// giving the body's SHA-256 (docs/domain.md "Documents").
NewEvent Attached(const std::string& subject, const std::string& body) {
  NewEvent e = DomainEvent(
      R"({"type":"DocumentAttached","facts":{"attachedOn":"2018-04-05","kind":"letter","sizeBytes":)" +
      std::to_string(body.size()) + R"(,"mediaType":"pdf","subjectRef":")" + subject +
      R"("},"personal":[{"subject":")" + subject +
      R"(","role":"client","details":{"documentSha256":")" + domain::Sha256Hex(body) +
      R"(","documentFileName":"scan-0001.pdf"}}]})");
  e.documents.push_back(DocumentBody{subject, body});
  return e;
}

class ServerDocumentsTest : public ServerFixture {
 protected:
  void StartWith(uint32_t max_message_bytes) {
    auto config = Config(kDocumentsConfig);
    config.limits.max_message_bytes = max_message_bytes;
    Start(std::move(config));
  }
  // Opens the case and attaches `body` over TLS: the DocumentAttached's position.
  uint64_t AttachOverTls(sdk::Client& client, const std::string& body) {
    auto r = client.Append(kNorth, ExpectedVersion::NoStream(),
                           {Enquiry("P-901", "north"), Attached("P-901", body)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->last_position : 0;
  }
  std::vector<AccessRecord> LogOf(const std::string& subject) {
    auto log = store_->AccessLog(subject);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? *log : std::vector<AccessRecord>{};
  }
};

TEST_F(ServerDocumentsTest, BodyAppendedOverTlsIsReadBackByteIdenticalAndLoggedWithThePurpose) {
  StartWith(1u << 20);
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  const std::string body = BinaryBody(200000);
  uint64_t position = AttachOverTls(*client, body);
  ASSERT_NE(position, 0u);
  ASSERT_TRUE(LogOf("P-901").empty());

  auto doc = client->ReadDocument(position, 0, "grant-check");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->position, position);
  EXPECT_EQ(doc->index, 0u);
  EXPECT_EQ(doc->subject, "P-901");
  EXPECT_EQ(doc->sha256, domain::Sha256Hex(body));
  ASSERT_EQ(doc->bytes.size(), body.size());
  EXPECT_TRUE(doc->bytes == body) << "the body read back differs from the one appended";

  auto log = LogOf("P-901");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].action, "read");
  EXPECT_EQ(log[0].purpose, "grant-check");
  EXPECT_EQ(log[0].plugin, "portal");
  EXPECT_EQ(log[0].user, "u-0042");
  EXPECT_EQ(log[0].role, "caseworker");
  EXPECT_EQ(log[0].first_position, position);
  EXPECT_EQ(log[0].last_position, position);

  // No purpose is logged as unstated, as for every read.
  ASSERT_TRUE(client->ReadDocument(position, 0, "").ok());
  log = LogOf("P-901");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].purpose, "unstated");
}

TEST_F(ServerDocumentsTest, ACallerWithoutReadPersonalOrTheStreamIsRefusedAsReadingTheEventWouldBe) {
  StartWith(1u << 20);
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  uint64_t position = AttachOverTls(*client, BinaryBody(5000));
  ASSERT_NE(position, 0u);

  // The same plugin in a role without read_personal.
  auto viewer = Connect("portal", "u-0043", "viewer");
  ASSERT_TRUE(viewer);
  auto refused = viewer->ReadDocument(position, 0, "grant-check");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("read_personal"), std::string::npos)
      << refused.status().ToString();

  // A plugin that may read personal data, but not this case's district:
  // the error reading the event gives.
  auto southern = Connect("intake", "u-0044", "caseworker");
  ASSERT_TRUE(southern);
  auto event = southern->ReadStream(kNorth, position - 1, Direction::kForward, 1, "grant-check");
  ASSERT_FALSE(event.ok());
  refused = southern->ReadDocument(position, 0, "grant-check");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), event.status().code()) << refused.status().ToString();
  EXPECT_EQ(refused.status().message(), event.status().message());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied);

  EXPECT_TRUE(LogOf("P-901").empty()) << "a refused read is in the access log";
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(ServerDocumentsTest, NoDocumentThereAndAMalformedPurposeAreClearErrors) {
  StartWith(1u << 20);
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  uint64_t position = AttachOverTls(*client, BinaryBody(5000));
  ASSERT_NE(position, 0u);

  auto none = client->ReadDocument(position - 1, 0, "grant-check");  // the enquiry has none
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound) << none.status().ToString();
  none = client->ReadDocument(position, 1, "grant-check");  // a DocumentAttached has one
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound) << none.status().ToString();
  none = client->ReadDocument(position + 5, 0, "grant-check");
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound) << none.status().ToString();
  EXPECT_NE(none.status().message().find(std::to_string(position + 5)), std::string::npos)
      << none.status().ToString();
  none = client->ReadDocument(0, 0, "grant-check");
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound) << none.status().ToString();

  auto bad = client->ReadDocument(position, 0, "because I said so");
  EXPECT_EQ(bad.status().code(), Status::Code::kInvalidArgument) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("purpose"), std::string::npos) << bad.status().ToString();

  EXPECT_TRUE(LogOf("P-901").empty()) << "a failed read is in the access log";
}

TEST_F(ServerDocumentsTest, AfterErasureTheReadFailsAsErased) {
  StartWith(1u << 20);
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  uint64_t position = AttachOverTls(*client, BinaryBody(5000));
  ASSERT_NE(position, 0u);
  ASSERT_TRUE(client->ReadDocument(position, 0, "grant-check").ok());

  ASSERT_TRUE(store_->EraseSubject("P-901", Actor{"S-1", "controller", "test"}, "art17").ok());
  auto gone = client->ReadDocument(position, 0, "grant-check");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), Status::Code::kErased) << gone.status().ToString();
  EXPECT_NE(gone.status().message().find("P-901"), std::string::npos) << gone.status().ToString();
  EXPECT_NE(gone.status().message().find("erased"), std::string::npos) << gone.status().ToString();
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(ServerDocumentsTest, ABodyLargerThanAMessageIsRefusedNamingTheLimitAndNotLogged) {
  StartWith(64 * 1024);
  // Attached in-process (an append over this server would not fit either).
  Scopes scopes;
  scopes.append_types = {"ContactRecorded", "DocumentAttached"};
  scopes.read_districts = {"north"};
  scopes.read_personal = true;
  Session local(store_.get(), Principal{"local", "u-0001", "caseworker"}, scopes);
  const std::string body = BinaryBody(70000);
  auto r = local.Append(kNorth, ExpectedVersion::NoStream(), {Enquiry("P-901", "north"), Attached("P-901", body)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();

  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  auto big = client->ReadDocument(r->last_position, 0, "grant-check");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Status::Code::kTooLarge) << big.status().ToString();
  EXPECT_NE(big.status().message().find("limits.max_message_bytes"), std::string::npos)
      << big.status().ToString();
  EXPECT_NE(big.status().message().find("70000 bytes"), std::string::npos) << big.status().ToString();
  EXPECT_TRUE(LogOf("P-901").empty()) << "a body that was not sent is in the access log";
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(ServerDocumentsTest, TheLargestDocumentFitsAServerConfiguredForIt) {
  // 16 MiB (rule document-size) and its answer: docs/protocol.md asks for
  // limits.max_message_bytes of 17 MiB to carry it both ways.
  StartWith(17u << 20);
  auto client = Connect("portal", "u-0042", "caseworker");
  ASSERT_TRUE(client);
  const std::string body = BinaryBody(domain::kMaxDocumentBytes);
  uint64_t position = AttachOverTls(*client, body);
  ASSERT_NE(position, 0u);
  auto doc = client->ReadDocument(position, 0, "grant-check");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_TRUE(doc->bytes == body);
}

}  // namespace
}  // namespace hearth::testing
