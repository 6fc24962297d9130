// Online backup through the running server (docs/operations.md, "Backing
// up"; docs/protocol.md, `backup`): taken while another client appends, it
// ends exactly at a commit, holds every event acknowledged before it, and
// `hearth restore --from` makes it a store that `hearth verify` passes. A
// client without the scope backup is refused and nothing is written.
#include <sys/wait.h>

#include <atomic>

#include "log/erasure_ledger.h"
#include "server_util.h"

namespace hearth::testing {
namespace {

const char* kBackupConfig = R"({
  "listen": {"address": "127.0.0.1", "port": 0},
  "tls": {"ca": "CA", "cert": "CERT", "key": "KEY"},
  "workers": 8,
  "backup_dir": "BACKUPS",
  "plugins": {
    "portal": {
      "scopes": {"append_types": ["Contact*"], "read_districts": ["north"], "read_personal": true}
    },
    "auditor": {
      "scopes": {"read_streams": ["*"], "read_districts": ["*"], "backup": true},
      "roles": {"operator": {}, "viewer": {"backup": false}}
    }
  }
})";

// Runs the hearth command line; its exit status (output in `*out`).
int Hearth(const std::string& args, std::string* out) {
  const std::string cmd = std::string(HEARTH_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Acked {
  uint64_t position;
  EventId id;
};

class OnlineBackupTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    if (HasFatalFailure()) return;
    std::string json = kBackupConfig;
    json.replace(json.find("\"BACKUPS\""), 9, "\"" + backups() + "\"");
    Start(Config(json));
  }
  std::string backups() { return dir_.sub("backups"); }
  size_t BackupEntries() {
    std::error_code ec;
    if (!std::filesystem::exists(backups(), ec)) return 0;
    return size_t(std::distance(std::filesystem::directory_iterator(backups()),
                                std::filesystem::directory_iterator()));
  }
};

TEST_F(OnlineBackupTest, BackupDuringAppendsHoldsEveryAcknowledgedEventAndRestoresAndVerifies) {
  // Another client appends throughout.
  std::mutex mu;
  std::vector<Acked> acked;
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::thread appender([&] {
    auto client = sdk::Client::Connect(ClientFor("portal", "u-0001", "caseworker"));
    if (!client.ok()) {
      failed = true;
      return;
    }
    for (int i = 0; !stop; ++i) {
      NewEvent e = Enquiry("P-" + std::to_string(10000 + i));
      EventId id = e.id;
      auto r = (*client)->Append("case/north/C-" + std::to_string(100000 + i), ExpectedVersion::NoStream(),
                                 {e});
      if (!r.ok()) {
        failed = true;
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      acked.push_back({r->last_position, id});
    }
  });
  auto count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acked.size();
  };
  ASSERT_TRUE(Eventually([&] { return count() >= 20 || failed; }));
  std::vector<Acked> before;
  {
    std::lock_guard<std::mutex> lock(mu);
    before = acked;
  }
  auto op = Connect("auditor", "S-0007", "operator");
  ASSERT_TRUE(op);
  auto backup = op->Backup();
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  const size_t at_backup = count();
  EXPECT_TRUE(Eventually([&] { return count() >= at_backup + 20 || failed; }));
  stop = true;
  appender.join();
  ASSERT_FALSE(failed) << "the appender failed";

  // Named by time and position, under the configured directory.
  const uint64_t position = backup->position;
  // 20261205T061500.123Z-p<position>
  const std::string& name = backup->directory;
  const std::string suffix = "Z-p" + std::to_string(position);
  ASSERT_EQ(name.size(), 19 + suffix.size()) << name;
  EXPECT_EQ(name.substr(19), suffix) << name;
  EXPECT_EQ(name.substr(0, 8).find_first_not_of("0123456789"), std::string::npos) << name;
  EXPECT_EQ(name[8], 'T') << name;
  EXPECT_EQ(name.substr(9, 6).find_first_not_of("0123456789"), std::string::npos) << name;
  EXPECT_EQ(name[15], '.') << name;
  EXPECT_EQ(name.substr(16, 3).find_first_not_of("0123456789"), std::string::npos) << name;
  EXPECT_EQ(BackupEntries(), 1u);
  for (const Acked& a : before) EXPECT_LE(a.position, position) << "acknowledged before the backup";
  EXPECT_GE(position, before.size());
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_GT(acked.back().position, position) << "the appends went on past the backup";
  }

  // Restore into a fresh directory with the command line, then verify.
  server_->Stop();
  server_.reset();
  store_.reset();
  const std::string from = backups() + "/" + backup->directory;
  const std::string restored = dir_.sub("restored");
  std::string out;
  ASSERT_EQ(Hearth("restore --from " + from + " --data " + restored + " --key-file " + dir_.sub("root.key") +
                       " --ledger " + log::DefaultErasureLedgerPath(dir_.sub("store")) + " --quiet",
                   &out),
            0)
      << out;
  // The auditor's checkpoint key is the original store's.
  ASSERT_EQ(Hearth("keys export-public --data " + dir_.sub("store") + " --key-file " + dir_.sub("root.key") +
                       " --out " + dir_.sub("checkpoint.pub"),
                   &out),
            0)
      << out;
  ASSERT_EQ(Hearth("verify --data " + restored + " --public-key " + dir_.sub("checkpoint.pub"), &out), 0)
      << out;

  auto store = Store::Open(TestOptions(dir_.sub("root.key")), restored);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto info = (*store)->Info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_position, position) << "the backup ends exactly at its position";
  std::map<uint64_t, EventId> ids;
  for (uint64_t next = 1; next <= position;) {
    auto page = (*store)->ReadAll(next, 1000);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_FALSE(page->empty());
    for (const auto& e : *page) ids[e.position] = e.id;
    next = page->back().position + 1;
  }
  std::lock_guard<std::mutex> lock(mu);
  size_t covered = 0;
  for (const Acked& a : acked) {
    if (a.position > position) continue;
    ++covered;
    ASSERT_EQ(ids.count(a.position), 1u) << a.position;
    EXPECT_EQ(ids[a.position], a.id) << "position " << a.position;
  }
  EXPECT_GE(covered, before.size());
}

TEST_F(OnlineBackupTest, ClientWithoutTheBackupScopeIsRefusedAndNothingIsWritten) {
  auto portal = Connect("portal", "u-0001", "caseworker");
  ASSERT_TRUE(portal);
  auto r = portal->Backup();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("scope backup"), std::string::npos) << r.status().ToString();
  // A role that narrows the scope away is refused too.
  auto viewer = Connect("auditor", "S-0008", "viewer");
  ASSERT_TRUE(viewer);
  auto v = viewer->Backup();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(BackupEntries(), 0u) << "a refused backup wrote something";
  EXPECT_TRUE(LogContains("refused backup")) << Log();
}

TEST_F(OnlineBackupTest, BackupDirIsTheServersNotTheClients) {
  // The request carries no path at all; two backups go to two new
  // subdirectories of backup_dir, each named by its own position.
  ASSERT_TRUE(store_->Append("case/north/C-000001", ExpectedVersion::NoStream(), {Enquiry("P-1")}).ok());
  auto op = Connect("auditor", "S-0007", "operator");
  ASSERT_TRUE(op);
  auto first = op->Backup();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(store_->Append("case/north/C-000002", ExpectedVersion::NoStream(), {Enquiry("P-2")}).ok());
  auto second = op->Backup();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(first->position, 1u);
  EXPECT_EQ(second->position, 2u);
  EXPECT_NE(first->directory, second->directory);
  EXPECT_TRUE(std::filesystem::exists(backups() + "/" + first->directory + "/CURRENT"));
  EXPECT_TRUE(std::filesystem::exists(backups() + "/" + second->directory + "/CURRENT"));
  EXPECT_EQ(BackupEntries(), 2u);
}

}  // namespace
}  // namespace hearth::testing
