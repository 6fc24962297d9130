// Running the built command line from a test: `hearth ARGS` through the
// shell (so that ARGS may quote and redirect), stdout and stderr together.
// The test target defines HEARTH_CLI as the binary's path.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace hearth::testing {

struct CliRun {
  int code = -1;    // the exit code; -1 when it did not exit normally
  std::string out;  // stdout and stderr
};

inline CliRun RunCli(const std::string& binary, const std::string& args) {
  CliRun r;
  std::string cmd = binary + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#ifdef HEARTH_CLI
inline CliRun Hearth(const std::string& args) { return RunCli(HEARTH_CLI, args); }
#endif

}  // namespace hearth::testing
