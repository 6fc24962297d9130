#include "merkle/proof_json.h"

#include <sodium.h>

#include <chrono>
#include <cstdio>

namespace hearth::merkle {

namespace {

using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status Bad(const char* what, const std::string& field, const std::string& problem) {
  return Status::InvalidArgument(std::string(what) + ": field \"" + field + "\" " + problem);
}

// Looks up a required member; InvalidArgument naming it when absent.
Status Member(const json& j, const char* what, const char* field, const json** out) {
  if (!j.is_object()) return Status::InvalidArgument(std::string(what) + ": not a JSON object");
  auto it = j.find(field);
  if (it == j.end()) return Bad(what, field, "is missing");
  *out = &*it;
  return Status::OK();
}

Status GetU64(const json& j, const char* what, const char* field, uint64_t* out) {
  const json* v = nullptr;
  Status st = Member(j, what, field, &v);
  if (!st.ok()) return st;
  if (v->is_number_unsigned()) {
    *out = v->get<uint64_t>();
    return Status::OK();
  }
  if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    *out = uint64_t(v->get<int64_t>());
    return Status::OK();
  }
  return Bad(what, field, "must be a non-negative integer");
}

Status GetString(const json& j, const char* what, const char* field, std::string* out) {
  const json* v = nullptr;
  Status st = Member(j, what, field, &v);
  if (!st.ok()) return st;
  if (!v->is_string()) return Bad(what, field, "must be a string");
  *out = v->get<std::string>();
  return Status::OK();
}

Status GetHash(const json& j, const char* what, const char* field, Hash* out) {
  std::string hex;
  Status st = GetString(j, what, field, &hex);
  if (!st.ok()) return st;
  if (!FromHex(hex, out->data(), out->size())) return Bad(what, field, "must be 64 hex digits");
  return Status::OK();
}

Status GetPath(const json& j, const char* what, std::vector<Hash>* out) {
  const json* v = nullptr;
  Status st = Member(j, what, "path", &v);
  if (!st.ok()) return st;
  if (!v->is_array()) return Bad(what, "path", "must be an array of hashes");
  out->clear();
  out->reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    Hash h;
    if (!e.is_string() || !FromHex(e.get<std::string>(), h.data(), h.size())) {
      return Bad(what, "path", "element " + std::to_string(i) + " must be 64 hex digits");
    }
    out->push_back(h);
  }
  return Status::OK();
}

Status CheckType(const json& j, const char* what, const char* type) {
  std::string t;
  Status st = GetString(j, what, "type", &t);
  if (!st.ok()) return st;
  if (t != type) return Bad(what, "type", "is \"" + t + "\", expected \"" + type + "\"");
  return Status::OK();
}

json PathToJson(const std::vector<Hash>& path) {
  json a = json::array();
  for (const Hash& h : path) a.push_back(ToHex(h.data(), h.size()));
  return a;
}

// RFC 3339 UTC with exactly six fractional digits: 2026-11-23T10:00:00.000000Z.
std::string FormatTime(Timestamp micros) {
  using namespace std::chrono;
  sys_time<microseconds> tp{microseconds(micros)};
  sys_days day = floor<days>(tp);
  year_month_day ymd{day};
  auto in_day = duration_cast<microseconds>(tp - day).count();
  int64_t secs = in_day / 1000000, frac = in_day % 1000000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(secs / 3600), int(secs / 60 % 60),
                int(secs % 60), int(frac));
  return buf;
}

// Accepts YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z (UTC only: the signature covers µs).
bool ParseTime(const std::string& s, Timestamp* out) {
  auto digits = [&](size_t pos, size_t n, int* v) {
    if (pos + n > s.size()) return false;
    int r = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    *v = r;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (s.size() < 20 || !digits(0, 4, &y) || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, &h) || s[13] != ':' ||
      !digits(14, 2, &mi) || s[16] != ':' || !digits(17, 2, &se)) {
    return false;
  }
  size_t pos = 19;
  int64_t frac = 0;
  if (s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && n < 6) {
      frac = frac * 10 + (s[pos] - '0');
      ++pos;
      ++n;
    }
    if (n == 0) return false;
    for (; n < 6; ++n) frac *= 10;
  }
  if (pos + 1 != s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return false;
  if (h > 23 || mi > 59 || se > 59) return false;
  using namespace std::chrono;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok()) return false;
  int64_t day_count = sys_days(ymd).time_since_epoch().count();
  *out = ((day_count * 24 + h) * 60 + mi) * 60 * 1000000 + int64_t(se) * 1000000 + frac;
  return true;
}

}  // namespace

std::string ToHex(const uint8_t* bytes, size_t len) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(len * 2, '\0');
  for (size_t i = 0; i < len; ++i) {
    s[2 * i] = kDigits[bytes[i] >> 4];
    s[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return s;
}

bool FromHex(const std::string& hex, uint8_t* out, size_t len) {
  if (hex.size() != 2 * len) return false;
  for (size_t i = 0; i < len; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = uint8_t(hi << 4 | lo);
  }
  return true;
}

json CheckpointToJson(const SignedCheckpoint& cp) {
  return json{{"size", cp.size},
              {"root", ToHex(cp.root.data(), cp.root.size())},
              {"time", FormatTime(cp.time)},
              {"signature", ToHex(cp.signature.data(), cp.signature.size())}};
}

Result<SignedCheckpoint> CheckpointFromJson(const json& j) {
  const char* what = "checkpoint";
  SignedCheckpoint cp;
  Status st = GetU64(j, what, "size", &cp.size);
  if (st.ok()) st = GetHash(j, what, "root", &cp.root);
  std::string time;
  if (st.ok()) st = GetString(j, what, "time", &time);
  if (st.ok() && !ParseTime(time, &cp.time)) {
    st = Bad(what, "time", "must be RFC 3339 UTC, e.g. 2026-11-23T10:00:00.000000Z");
  }
  std::string sig;
  if (st.ok()) st = GetString(j, what, "signature", &sig);
  if (st.ok() && !FromHex(sig, cp.signature.data(), cp.signature.size())) {
    st = Bad(what, "signature", "must be 128 hex digits");
  }
  if (!st.ok()) return st;
  return cp;
}

json InclusionToJson(const InclusionProofDoc& proof) {
  std::string record;
  if (!proof.record.empty()) {
    record.resize(sodium_base64_encoded_len(proof.record.size(), sodium_base64_VARIANT_ORIGINAL));
    sodium_bin2base64(record.data(), record.size(),
                      reinterpret_cast<const unsigned char*>(proof.record.data()),
                      proof.record.size(), sodium_base64_VARIANT_ORIGINAL);
    record.resize(record.size() - 1);  // the terminating NUL
  }
  return json{{"type", "inclusion"},
              {"position", proof.position},
              {"leafIndex", proof.position == 0 ? 0 : proof.position - 1},
              {"treeSize", proof.tree_size},
              {"leafHash", ToHex(proof.leaf_hash.data(), proof.leaf_hash.size())},
              {"record", record},
              {"path", PathToJson(proof.path)}};
}

Result<InclusionProofDoc> InclusionFromJson(const json& j) {
  const char* what = "inclusion proof";
  InclusionProofDoc p;
  Status st = CheckType(j, what, "inclusion");
  if (st.ok()) st = GetU64(j, what, "position", &p.position);
  if (st.ok() && p.position == 0) st = Bad(what, "position", "must be at least 1");
  if (st.ok() && j.contains("leafIndex")) {
    uint64_t leaf_index = 0;
    st = GetU64(j, what, "leafIndex", &leaf_index);
    if (st.ok() && leaf_index + 1 != p.position) {
      st = Bad(what, "leafIndex", "must be position - 1 (" + std::to_string(p.position - 1) + ")");
    }
  }
  if (st.ok()) st = GetU64(j, what, "treeSize", &p.tree_size);
  if (st.ok() && p.tree_size < p.position) {
    st = Bad(what, "treeSize", "is smaller than the position " + std::to_string(p.position));
  }
  if (st.ok()) st = GetHash(j, what, "leafHash", &p.leaf_hash);
  if (st.ok() && j.contains("record")) {
    std::string b64;
    st = GetString(j, what, "record", &b64);
    if (st.ok() && !b64.empty()) {
      p.record.resize(b64.size() / 4 * 3 + 3);
      size_t len = 0;
      const char* end = nullptr;
      if (sodium_base642bin(reinterpret_cast<unsigned char*>(p.record.data()), p.record.size(),
                            b64.data(), b64.size(), nullptr, &len, &end,
                            sodium_base64_VARIANT_ORIGINAL) != 0 ||
          end != b64.data() + b64.size()) {
        st = Bad(what, "record", "must be base64 (RFC 4648, with padding)");
      }
      p.record.resize(len);
    }
  }
  if (st.ok()) st = GetPath(j, what, &p.path);
  if (!st.ok()) return st;
  return p;
}

json ConsistencyToJson(const ConsistencyProofDoc& proof) {
  return json{{"type", "consistency"},
              {"from", proof.from},
              {"to", proof.to},
              {"path", PathToJson(proof.path)}};
}

Result<ConsistencyProofDoc> ConsistencyFromJson(const json& j) {
  const char* what = "consistency proof";
  ConsistencyProofDoc p;
  Status st = CheckType(j, what, "consistency");
  if (st.ok()) st = GetU64(j, what, "from", &p.from);
  if (st.ok()) st = GetU64(j, what, "to", &p.to);
  if (st.ok() && p.from > p.to) st = Bad(what, "from", "is larger than \"to\"");
  if (st.ok()) st = GetPath(j, what, &p.path);
  if (!st.ok()) return st;
  return p;
}

}  // namespace hearth::merkle
