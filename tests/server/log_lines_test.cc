// Log lines cannot be forged: stream names, user ids and other text a client
// sends reach the server's log and the sessions' refusal log with their
// control characters escaped (hearth/escape.h, docs/operations.md).
#include "server_util.h"

namespace hearth::testing {
namespace {

class LogLinesTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    Start();
  }
  // No captured line holds a control character.
  void ExpectNoControlCharacters() {
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const auto& line : log_) {
      for (char c : line) {
        ASSERT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << "log line: " << line;
      }
    }
  }
};

TEST_F(LogLinesTest, ClientTextCannotForgeServerLogLines) {
  auto options = ClientFor("portal", "u-0042", "caseworker");
  options.client_name = "portal 2.3\n2026-01-01T00:00:00Z hearth-server: conn 9 forged line";
  auto client = sdk::Client::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  // A refused read of a stream whose name carries a line break: the session's
  // refusal goes to the server's log.
  auto page = (*client)->ReadStream("case/south/C-1\nrefused: plugin=auditor forged", 1,
                                    Direction::kForward, 0, "triage");
  EXPECT_FALSE(page.ok());
  ASSERT_TRUE(Eventually([&] { return LogContains("forged line"); })) << Log();
  ASSERT_TRUE(Eventually([&] { return LogContains("plugin=auditor forged"); })) << Log();
  EXPECT_TRUE(LogContains("portal 2.3\\x0a2026-01-01")) << Log();
  ExpectNoControlCharacters();
}

}  // namespace
}  // namespace hearth::testing
