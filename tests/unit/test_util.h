// Shared helpers for the suites: temporary store directories, synthetic events.
#pragma once

#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "hearth/store.h"

namespace hearth::testing {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("hearth-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a fresh 0600 key file with 32 random bytes.
inline std::string MakeKeyFile(const std::string& path) {
  unsigned char key[32];
  if (sodium_init() < 0) abort();
  randombytes_buf(key, sizeof key);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(key), sizeof key);
  }
  ::chmod(path.c_str(), 0600);
  return path;
}

// Writes a fresh 0600 key file of 64 hex digits. The suites use hex keys:
// a raw 32-byte key file whose last byte is a newline, carriage return or
// space is refused by the store (see KeyFileTest.RawKeyEndingInWhitespace),
// which would make 1 test run in 85 fail at random.
inline std::string HexKeyFile(const std::string& path) {
  unsigned char key[32];
  if (sodium_init() < 0) abort();
  randombytes_buf(key, sizeof key);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, key, sizeof key);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << hex << "\n";
  }
  ::chmod(path.c_str(), 0600);
  return path;
}

inline Options TestOptions(const std::string& key_file) {
  Options o;
  o.create_if_missing = true;
  o.key = KeySource::File(key_file);
  return o;
}

// A synthetic event (no real person): facts as JSON text, optional personal
// section for `subject`.
inline NewEvent MakeEvent(const std::string& type, const std::string& subject = "",
                          const std::string& personal = "") {
  NewEvent e;
  e.id = EventId::Random();
  e.type = type;
  e.actor = Actor{"u-1", "caseworker", "test"};
  e.facts = "{\"district\":\"D1\"}";
  if (!subject.empty()) {
    e.subjects.push_back(SubjectRef{subject, SubjectRole::kClient});
    if (!personal.empty()) e.personal.push_back(PersonalSection{subject, personal, {}, false});
  }
  return e;
}

}  // namespace hearth::testing
