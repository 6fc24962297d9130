// The asynchronous cases projection after a crash: a child process records
// cases with the projection running and is killed with SIGKILL at a random
// moment; the store is reopened, the projection catches up from its
// checkpoint, and its state must equal a rebuild from zero byte for byte.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

Child StartWriter(const std::string& dir, const std::string& key, int first) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  Child c;
  c.pid = ::fork();
  if (c.pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::string n = std::to_string(first);
    const char* argv[] = {HEARTH_READMODELS_WRITER, dir.c_str(), key.c_str(), n.c_str(), nullptr};
    ::execv(HEARTH_READMODELS_WRITER, const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[1]);
  c.out = ::fdopen(fds[0], "r");
  return c;
}

class CrashCatchUpTest : public ReadModelTest {};

TEST_F(CrashCatchUpTest, AsyncProjectionCatchesUpAfterAKillAndEqualsARebuild) {
  std::mt19937 rng(std::random_device{}());
  std::string dir = dir_.sub("store");
  int next_case = 1;
  for (int round = 0; round < 3; ++round) {
    Child c = StartWriter(dir, key_, next_case);
    ASSERT_GT(c.pid, 0);
    // Let it acknowledge some appends, then kill it at a random moment.
    int wanted = 40 + int(rng() % 120);
    int acked = 0;
    char line[256];
    while (acked < wanted && std::fgets(line, sizeof line, c.out) != nullptr) ++acked;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    ::kill(c.pid, SIGKILL);
    while (std::fgets(line, sizeof line, c.out) != nullptr) ++acked;
    std::fclose(c.out);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself: " << status << " after " << acked;
    ASSERT_GE(acked, wanted) << "the writer stopped early";
    next_case += acked;  // each line is one append; case numbers only need to be new

    Open();  // the projection resumes from its checkpoint
    auto statuses = store_->Projections();
    ASSERT_TRUE(statuses.ok());
    uint64_t resumed_at = (*statuses)[0].position;
    auto info = store_->Info();
    ASSERT_TRUE(info.ok());
    EXPECT_LE(resumed_at, info->last_position);
    std::printf("round %d: killed after %d appends; the projection resumes at position %llu of %llu\n",
                round, acked, static_cast<unsigned long long>(resumed_at),
                static_cast<unsigned long long>(info->last_position));
    CatchUp();
    auto caught_up = DumpProjection(*store_, kCasesProjection);
    ASSERT_TRUE(store_->RebuildProjection(kCasesProjection).ok());
    auto rebuilt = DumpProjection(*store_, kCasesProjection);
    ASSERT_FALSE(rebuilt.empty());
    EXPECT_TRUE(caught_up == rebuilt) << "round " << round << ": resumed at " << resumed_at << " of "
                                      << info->last_position;
    // Every case the writer was told is recorded is in the projection.
    size_t states = 0;
    for (const auto& [k, v] : rebuilt) states += k[0] == 'c';
    EXPECT_GE(states, size_t(acked / 2));
    store_.reset();
    recorder_.reset();
  }
}

}  // namespace
}  // namespace hearth::readmodels::testing
