// Test helper: commits an erasure or a root-key rotation and is killed
// (SIGKILL) right after the commit, before the flush and compaction that take
// the old key bytes out of the files — the state a power cut leaves.
//   hearth_key_crash STORE_DIR KEY_FILE erase SUBJECT
//   hearth_key_crash STORE_DIR KEY_FILE rotate NEW_KEY_FILE
// Exits 1 (printing the status) when the operation fails before its commit.
#include <csignal>
#include <cstdio>
#include <cstring>

#include "hearth/store.h"
#include "log/store_impl.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: hearth_key_crash STORE_DIR KEY_FILE erase SUBJECT|rotate NEW_KEY\n");
    return 2;
  }
  hearth::Options options;
  options.key = hearth::KeySource::File(argv[2]);
  auto store = hearth::Store::Open(options, argv[1]);
  if (!store.ok()) {
    std::printf("error %s\n", store.status().ToString().c_str());
    return 1;
  }
  hearth::log::StoreImpl::after_key_commit_for_test = [] { std::raise(SIGKILL); };
  hearth::Status st;
  if (std::strcmp(argv[3], "erase") == 0) {
    st = (*store)->EraseSubject(argv[4], hearth::Actor{"u-9", "controller", "test"}, "art17").status();
  } else {
    st = (*store)->RotateRootKey(hearth::KeySource::File(argv[4]));
  }
  std::printf("error %s\n", st.ToString().c_str());
  return 1;
}
