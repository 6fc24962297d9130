// Small value types of the public API: Status, Id128, roles, expected versions.
#include <sodium.h>

#include <cctype>

#include "hearth/event.h"
#include "hearth/status.h"

namespace hearth {

std::string_view Status::CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kConflict: return "Conflict";
    case Code::kCorruption: return "Corruption";
    case Code::kIOError: return "IOError";
    case Code::kLocked: return "Locked";
    case Code::kWrongKey: return "WrongKey";
    case Code::kErased: return "Erased";
    case Code::kNotSupported: return "NotSupported";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kTooLarge: return "TooLarge";
    case Code::kBusy: return "Busy";
  }
  return "Unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

bool Id128::empty() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

Id128 Id128::Random() {
  Id128 id;
  randombytes_buf(id.bytes.data(), id.bytes.size());
  id.bytes[6] = uint8_t((id.bytes[6] & 0x0f) | 0x40);
  id.bytes[8] = uint8_t((id.bytes[8] & 0x3f) | 0x80);
  return id;
}

bool Id128::Parse(const std::string& text, Id128* out) {
  std::string hex;
  for (char c : text) {
    if (c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    hex.push_back(c);
  }
  if (hex.size() != 32) return false;
  size_t len = 0;
  return sodium_hex2bin(out->bytes.data(), 16, hex.data(), hex.size(), nullptr, &len, nullptr) ==
             0 &&
         len == 16;
}

std::string Id128::ToString() const {
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, bytes.data(), bytes.size());
  std::string s(hex);
  return s.substr(0, 8) + "-" + s.substr(8, 4) + "-" + s.substr(12, 4) + "-" + s.substr(16, 4) +
         "-" + s.substr(20);
}

const char* SubjectRoleName(SubjectRole role) {
  switch (role) {
    case SubjectRole::kClient: return "client";
    case SubjectRole::kCarer: return "carer";
    case SubjectRole::kRelative: return "relative";
    case SubjectRole::kReferrer: return "referrer";
    case SubjectRole::kStaff: return "staff";
    case SubjectRole::kOther: return "other";
  }
  return "other";
}

bool ParseSubjectRole(const std::string& name, SubjectRole* out) {
  for (int i = 0; i <= int(SubjectRole::kOther); ++i) {
    auto role = static_cast<SubjectRole>(i);
    if (name == SubjectRoleName(role)) {
      *out = role;
      return true;
    }
  }
  return false;
}

std::string ExpectedVersion::ToString() const {
  switch (kind) {
    case Kind::kAny: return "any";
    case Kind::kNoStream: return "no-stream";
    case Kind::kExact: return std::to_string(version);
  }
  return "?";
}

}  // namespace hearth
