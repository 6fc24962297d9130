// `hearth users add|passwd|disable|list` as a child process (docs/cli.md):
// passwords from stdin or made up and printed once, only hashes stored, bad
// input refused with nothing written.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "accounts.h"
#include "hearth/store.h"
#include "test_util.h"

extern char** environ;

namespace hearth::testing {
namespace {

using Json = nlohmann::json;

struct Output {
  int code = -1;
  std::string out, err;
};

class UsersCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = HexKeyFile(dir_.sub("root.key"));
    ASSERT_EQ(Run({"init", "--data", Data(), "--key-file", key_}).code, 0);
  }
  std::string Data() const { return dir_.sub("store"); }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  Output Run(std::vector<std::string> args, const std::string& input = "") {
    std::string in = dir_.sub("stdin"), out = dir_.sub("stdout"), err = dir_.sub("stderr");
    std::ofstream(in) << input;
    args.insert(args.begin(), HEARTH_CLI);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    Output o;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return o;
    int status = 0;
    waitpid(pid, &status, 0);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    o.out = Slurp(out);
    o.err = Slurp(err);
    return o;
  }

  std::vector<std::string> Common() { return {"--data", Data(), "--key-file", key_}; }
  Output Users(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), "users");
    for (const auto& c : Common()) args.push_back(c);
    return Run(args, input);
  }

  TempDir dir_;
  std::string key_;
};

TEST_F(UsersCliTest, AddListPasswdDisableKeepOnlyHashes) {
  Output added = Users({"add", "--name", "S-0042", "--role", "caseworker", "--district", "D1",
                        "--district", "D2", "--password-stdin", "--by", "S-1"},
                       "first-password-1\n");
  ASSERT_EQ(added.code, 0) << added.err;
  Output random = Users({"add", "--name", "admin", "--role", "controller", "--random-password"});
  ASSERT_EQ(random.code, 0) << random.err;
  size_t at = random.out.find("password (shown once, not stored anywhere): ");
  ASSERT_NE(at, std::string::npos) << random.out;
  std::string generated = random.out.substr(at + 44, 20);
  Output list = Users({"list", "--json"});
  ASSERT_EQ(list.code, 0) << list.err;
  Json accounts = Json::parse(list.out);
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(list.out.find("argon2"), std::string::npos) << "list shows a hash";
  EXPECT_EQ(accounts[0]["account"], "S-0042");
  EXPECT_EQ(accounts[0]["districts"], Json::array({"D1", "D2"}));
  ASSERT_EQ(Users({"passwd", "--name", "S-0042", "--password-stdin"}, "second-password-2\n").code, 0);
  ASSERT_EQ(Users({"disable", "--name", "admin"}).code, 0);

  Options o;
  o.key = KeySource::File(key_);
  auto store = Store::Open(o, Data());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto book = console::AccountBook::Read(**store);
  ASSERT_TRUE(book.ok());
  const console::Account* cw = book->Find("S-0042");
  ASSERT_NE(cw, nullptr);
  EXPECT_TRUE(console::VerifyPassword(cw->password_hash, "second-password-2"));
  EXPECT_FALSE(console::VerifyPassword(cw->password_hash, "first-password-1"));
  EXPECT_TRUE(console::VerifyPassword(book->Find("admin")->password_hash, generated));
  EXPECT_TRUE(book->Find("admin")->disabled);
  auto events = (*store)->ReadStream(console::kAccountsStream, 1, Direction::kForward, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[0].actor.user, "S-1");
  for (const auto& e : *events) {
    for (const std::string& p : {std::string("first-password-1"), std::string("second-password-2"), generated}) {
      EXPECT_EQ(e.facts.find(p), std::string::npos) << "a plaintext password in " << e.type;
    }
  }
}

TEST_F(UsersCliTest, BadInputIsRefusedAndWritesNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string input;
    std::string says;
  };
  const Case cases[] = {
      {{"add", "--name", "Jane Smith", "--role", "auditor", "--password-stdin"}, "long-enough-pw\n", "staff reference"},
      {{"add", "--name", "aud", "--role", "admin", "--password-stdin"}, "long-enough-pw\n", "role"},
      {{"add", "--name", "aud", "--role", "auditor", "--password-stdin"}, "short\n", "shorter"},
      {{"add", "--name", "cw", "--role", "caseworker", "--password-stdin"}, "long-enough-pw\n", "district"},
      {{"add", "--name", "aud", "--role", "auditor", "--district", "D1", "--password-stdin"}, "long-enough-pw\n",
       "only a caseworker"},
      {{"add", "--name", "aud", "--role", "auditor"}, "", "not a terminal"},
      {{"passwd", "--name", "nobody", "--password-stdin"}, "long-enough-pw\n", "no account"},
      {{"disable", "--name", "nobody"}, "", "no account"},
  };
  for (const Case& c : cases) {
    Output o = Users(c.args, c.input);
    EXPECT_NE(o.code, 0) << c.args[2];
    EXPECT_NE(o.err.find(c.says), std::string::npos) << o.err;
    EXPECT_EQ(o.err.find("long-enough-pw"), std::string::npos) << "the password in an error";
  }
  Output list = Users({"list", "--json"});
  EXPECT_EQ(Json::parse(list.out).size(), 0u);
}

}  // namespace
}  // namespace hearth::testing
