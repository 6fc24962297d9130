// Sealing's nonces: XChaCha20-Poly1305 is only as safe as its nonces are
// unique under a key. Seal draws them from a per-thread pool of the system's
// random bytes (store/crypto/secret.cc); these tests hold the pool to never
// handing one out twice: not across threads, and not to a forked child and
// its parent (a pool copied by fork() would repeat its remaining nonces in
// both processes).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sodium.h>

#include "crypto/secret.h"

namespace hearth::crypto {
namespace {

class NonceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GE(sodium_init(), 0); }
};

std::string NonceOf(const SecretKey& key, std::string_view plain) {
  std::string sealed;
  Seal(key.data(), "aad", plain, &sealed);
  EXPECT_EQ(sealed.size(), plain.size() + kSealOverhead);
  return sealed.substr(0, kNonceBytes);
}

TEST_F(NonceTest, SealsNeverRepeatANonceWithinOrAcrossThreads) {
  SecretKey key = SecretKey::Random();
  constexpr int kThreads = 8, kSeals = 1000;  // several pool refills per thread
  std::vector<std::vector<std::string>> drawn(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSeals; ++i) drawn[t].push_back(NonceOf(key, "x"));
    });
  }
  for (auto& th : threads) th.join();
  std::set<std::string> all;
  for (const auto& d : drawn) all.insert(d.begin(), d.end());
  EXPECT_EQ(all.size(), size_t(kThreads) * kSeals);
  // And each sealed value still opens.
  std::string sealed, opened;
  Seal(key.data(), "aad", "section", &sealed);
  ASSERT_TRUE(Open(key.data(), "aad", sealed, &opened));
  EXPECT_EQ(opened, "section");
}

TEST_F(NonceTest, AForkedChildAndItsParentNeverDrawTheSameNonce) {
  SecretKey key = SecretKey::Random();
  NonceOf(key, "x");  // this thread's pool is filled, with nonces left in it
  constexpr int kSeals = 50;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    for (int i = 0; i < kSeals; ++i) {
      std::string n = NonceOf(key, "x");
      if (write(fds[1], n.data(), n.size()) != ssize_t(n.size())) _exit(2);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::set<std::string> parent;
  for (int i = 0; i < kSeals; ++i) parent.insert(NonceOf(key, "x"));
  std::vector<std::string> from_child;
  char buf[kNonceBytes];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fds[0], buf + got, sizeof buf - got);
    if (r <= 0) break;
    got += size_t(r);
    if (got == sizeof buf) {
      from_child.emplace_back(buf, sizeof buf);
      got = 0;
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(from_child.size(), size_t(kSeals));
  for (const auto& n : from_child) EXPECT_EQ(parent.count(n), 0u) << "a nonce drawn by both";
}

}  // namespace
}  // namespace hearth::crypto
