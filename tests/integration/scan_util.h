// What the plaintext scans share (plaintext_scan_test.cc, restore_test.cc):
// synthetic people, the encodings their details could take in a file, a scan
// of every file under a directory, a subject's data key read straight from
// the files, and a process killed right after an erasure's commit.
#pragma once

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sodium.h>

#include "crypto/keyring.h"
#include "integration_util.h"

namespace hearth::testing::scan {

namespace fs = std::filesystem;

inline std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
inline std::string Upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
inline std::string NoSpaces(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}
inline std::string Utf16(const std::string& s, bool little_endian) {
  std::string out;
  for (char c : s) {  // the needles are ASCII
    if (little_endian) {
      out.push_back(c);
      out.push_back('\0');
    } else {
      out.push_back('\0');
      out.push_back(c);
    }
  }
  return out;
}
inline std::string Hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}
inline std::string Base64(const std::string& s) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(table[(v >> (6 * k)) & 63]);
  }
  return out;  // whole groups only: the callers take the stable middle
}

// One string to look for: `bytes` exactly, or folded to lower case.
struct Needle {
  std::string what;
  std::string bytes;
  bool fold_case;
};

// The encodings a person's details could take in a file: UTF-8 and UTF-16
// (any letter case, with or without spaces), hex, and base64 at each of the
// three alignments a string can have inside a longer base64 text.
inline std::vector<Needle> Encodings(const std::string& label, const std::string& text) {
  std::vector<Needle> out;
  std::vector<std::string> forms = {text};
  if (NoSpaces(text) != text) forms.push_back(NoSpaces(text));
  for (const std::string& f : forms) {
    std::string l = Lower(f);
    out.push_back({label + " utf-8 '" + f + "'", l, true});
    out.push_back({label + " utf-16le '" + f + "'", Utf16(l, true), true});
    out.push_back({label + " utf-16be '" + f + "'", Utf16(l, false), true});
    for (const std::string& cased : {f, Lower(f), Upper(f)}) {
      out.push_back({label + " hex '" + cased + "'", Hex(cased), true});
      if (cased.size() < 9) continue;  // shorter base64 runs match noise
      for (size_t shift = 0; shift < 3; ++shift) {
        std::string padded = std::string(shift, '\0') + cased + std::string(3, '\0');
        std::string b64 = Base64(padded);
        size_t first_group = (shift + 2) / 3, end_group = (shift + cased.size()) / 3;
        out.push_back({label + " base64 '" + cased + "' shift " + std::to_string(shift),
                       b64.substr(4 * first_group, 4 * (end_group - first_group)), false});
      }
    }
  }
  return out;
}

struct FileBytes {
  std::string name;
  std::string bytes;
  std::string folded;
};

inline std::vector<FileBytes> ReadEveryFile(const std::string& dir) {
  std::vector<FileBytes> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    FileBytes f;
    f.name = entry.path().filename().string();
    f.bytes.assign(std::istreambuf_iterator<char>(in), {});
    f.folded = Lower(f.bytes);
    files.push_back(std::move(f));
  }
  return files;
}

// Files (by name) that contain the needle.
inline std::vector<std::string> Hits(const std::vector<FileBytes>& files, const Needle& n) {
  std::vector<std::string> hits;
  for (const auto& f : files) {
    const std::string& hay = n.fold_case ? f.folded : f.bytes;
    if (hay.find(n.bytes) != std::string::npos) hits.push_back(f.name);
  }
  return hits;
}

inline bool AnyHitEndsWith(const std::vector<std::string>& hits, const std::string& suffix) {
  return std::any_of(hits.begin(), hits.end(), [&](const std::string& h) {
    return h.size() >= suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0;
  });
}

// Every key and value of every column family, as one text to search: the
// files' compressed blocks could hide a string from the byte scan.
inline FileBytes LogicalContents(const std::string& path) {
  FileBytes f;
  f.name = "(rocksdb keys and values)";
  auto raw = RawDb::Open(path);
  if (!raw) return f;
  for (const auto& [cf, kv] : raw->Dump()) {
    for (const auto& [k, v] : kv) {
      f.bytes += k;
      f.bytes.push_back('\n');
      f.bytes += v;
      f.bytes.push_back('\n');
    }
  }
  f.folded = Lower(f.bytes);
  return f;
}

struct Person {
  std::string subject;
  std::vector<std::pair<std::string, std::string>> details;  // label, text
};

// Obviously synthetic people; the NHS numbers are in the range reserved for
// testing, the postcodes do not exist, the phone number is Ofcom's drama range.
inline const Person kZebedee{"P-101",
                      {{"name", "Zebedee Quortlewaite"},
                       {"nhs", "943 476 5919"},
                       {"postcode", "ZX9 4QW"},
                       {"address", "17 Plumtree Yard, Nowhereton"},
                       {"phone", "07700 900461"},
                       {"email", "zebedee.quortlewaite@example.org"},
                       {"note", "Quortlewaite reports dizzy spells on the stairs"}}};
inline const Person kPhilomena{"P-102",
                        {{"name", "Philomena Gristlethorpe"},
                         {"nhs", "943 476 5870"},
                         {"postcode", "ZQ4 7XK"},
                         {"address", "3 Marrowbone Close, Fictionbury"},
                         {"phone", "07700 900813"},
                         {"email", "p.gristlethorpe@example.org"},
                         {"note", "Gristlethorpe asked for a ramp at the back door"}}};

inline std::string PersonalJson(const Person& p) {
  std::string s = "{";
  for (const auto& [label, text] : p.details) s += "\"" + label + "\":\"" + text + "\",";
  s.back() = '}';
  return s;
}

inline NewEvent EventAbout(const Person& p, const std::string& type) {
  std::vector<Identifier> ids;
  for (const auto& [label, text] : p.details) {
    if (label == "nhs" || label == "postcode" || label == "name" || label == "phone" || label == "email") {
      ids.push_back({label, text});
    }
  }
  return PersonEvent(type, p.subject, PersonalJson(p), ids);
}

inline std::vector<Needle> NeedlesFor(const Person& p) {
  std::vector<Needle> out;
  for (const auto& [label, text] : p.details) {
    auto e = Encodings(p.subject + " " + label, text);
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}


// Reads the wrapped data key of `subject` and unwraps it with the root key,
// straight from the files. REQUIRES: the store is closed.
struct SubjectKeyBytes {
  std::string wrapped;
  std::string plain;
};
inline SubjectKeyBytes ReadSubjectKey(const std::string& path, const std::string& key_file,
                               const std::string& subject) {
  SubjectKeyBytes out;
  auto raw = RawDb::Open(path);
  if (!raw) return out;
  out.wrapped = raw->Get("keys", "k" + subject);
  crypto::KdfParams params;
  if (!crypto::KdfParams::Decode(raw->Get("default", "kdf"), &params)) {
    ADD_FAILURE() << "cannot decode the kdf parameters";
    return out;
  }
  auto root = crypto::DeriveRootKey(KeySource::File(key_file), params);
  if (!root.ok() || !crypto::Unwrap(*root, "subject:" + subject, out.wrapped, &out.plain)) {
    ADD_FAILURE() << "cannot unwrap the data key of " << subject;
  }
  return out;
}

// Runs hearth_key_crash, which commits an erasure or rotation and is killed
// before the flush and compaction after it. True when it died by SIGKILL.
inline bool CrashAfterKeyCommit(const std::string& path, const std::string& key, const std::string& what,
                         const std::string& arg) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDOUT_FILENO);
    ::execl(HEARTH_KEY_CRASH, HEARTH_KEY_CRASH, path.c_str(), key.c_str(), what.c_str(),
            arg.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return false;
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

}  // namespace hearth::testing::scan
