// Many clients appending to the same streams with expected versions: exactly
// one winner per version (docs/protocol.md, "append").
#include <atomic>
#include <map>
#include <set>

#include "server_util.h"

namespace hearth::testing {
namespace {

class ConcurrencyTest : public ServerFixture {};

TEST_F(ConcurrencyTest, ExactlyOneWinnerPerVersion) {
  auto config = Config();
  // This test is about expected versions, not the request rate.
  config.plugins["portal"].requests_per_second = 1000000;
  config.plugins["portal"].burst = 1000000;
  Start(config);
  constexpr int kClients = 12;
  constexpr int kStreams = 3;
  constexpr int kAppendsPerClient = 25;
  sdk::ClientContext context(2);
  std::vector<std::unique_ptr<sdk::Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    auto o = ClientFor("portal", "u-" + std::to_string(1000 + i), "caseworker");
    auto c = sdk::Client::Connect(o, &context);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    clients.push_back(std::move(c.value()));
  }
  // Every success: (stream, version) -> who won it.
  std::mutex mu;
  std::map<std::pair<int, uint64_t>, int> winners;
  std::atomic<int> conflicts{0}, duplicates_of_a_version{0}, other_errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      sdk::Client& c = *clients[i];
      for (int n = 0; n < kAppendsPerClient; ++n) {
        int s = (i + n) % kStreams;
        std::string stream = "case/north/C-" + std::to_string(500 + s);
        // Read the version, then append on it; on a conflict, read again.
        for (;;) {
          auto page = c.ReadStream(stream, 0, Direction::kBackward, 1, "version-check");
          uint64_t version = 0;
          if (page.ok() && !page->events.empty()) {
            version = page->events[0].stream_version;
          } else if (!page.ok() && !page.status().IsNotFound()) {
            ++other_errors;
            return;
          }
          ExpectedVersion expected =
              version == 0 ? ExpectedVersion::NoStream() : ExpectedVersion::Exact(version);
          // The enquiry opens the case; notes follow it.
          auto r = c.Append(stream, expected,
                            {version == 0 ? Enquiry("P-" + std::to_string(500 + s)) : CaseNote()});
          if (r.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            if (!winners.emplace(std::make_pair(s, r->last_version), i).second) ++duplicates_of_a_version;
            EXPECT_EQ(r->last_version, version + 1);
            break;
          }
          if (r.status().IsConflict()) {
            ++conflicts;
            continue;
          }
          ++other_errors;
          ADD_FAILURE() << r.status().ToString();
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_EQ(duplicates_of_a_version.load(), 0);
  EXPECT_EQ(winners.size(), size_t(kClients * kAppendsPerClient));
  // Every stream's versions are dense, each won once, and match the store.
  for (int s = 0; s < kStreams; ++s) {
    std::string stream = "case/north/C-" + std::to_string(500 + s);
    auto version = store_->StreamVersion(stream);
    ASSERT_TRUE(version.ok());
    for (uint64_t v = 1; v <= *version; ++v) {
      EXPECT_EQ(winners.count({s, v}), 1u) << stream << " version " << v;
    }
    uint64_t won = 0;
    for (const auto& [key, who] : winners) won += key.first == s ? 1 : 0;
    EXPECT_EQ(won, *version);
  }
  clients.clear();
}

}  // namespace
}  // namespace hearth::testing
