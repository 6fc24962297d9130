// Test helper: opens a store in its own process and holds it until its
// standard input closes, so a test can check what a second process sees.
//   hearth_hold_store STORE_DIR KEY_FILE
// Prints "ready" once the store is open, or "error <status>" and exits 1.
#include <unistd.h>

#include <cstdio>

#include "hearth/store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: hearth_hold_store STORE_DIR KEY_FILE\n");
    return 2;
  }
  hearth::Options options;
  options.key = hearth::KeySource::File(argv[2]);
  auto store = hearth::Store::Open(options, argv[1]);
  if (!store.ok()) {
    std::printf("error %s\n", store.status().ToString().c_str());
    std::fflush(stdout);
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  char buf[64];
  while (::read(STDIN_FILENO, buf, sizeof buf) > 0) {
  }
  return 0;
}
