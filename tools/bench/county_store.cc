// The large demo county for the sar and exports suites (suites.h).
#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "suites.h"

namespace hearth::bench {

namespace fs = std::filesystem;

namespace {

Status WriteKey(const std::string& path) {
  if (sodium_init() < 0) return Status::IOError("libsodium failed to initialise");
  unsigned char key[32];
  randombytes_buf(key, sizeof key);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(key), sizeof key);
    if (!out) return Status::IOError("cannot write " + path);
  }
  sodium_memzero(key, sizeof key);
  if (::chmod(path.c_str(), 0600) != 0) return Status::IOError("cannot chmod 0600 " + path);
  return Status::OK();
}

}  // namespace

Result<CountyStore> LargeCounty(const SuiteOptions& options, const RunDir& dir, const std::string& name,
                                const demo::CountyOptions& county) {
  CountyStore out;
  if (options.county_dir.empty()) {
    out.path = dir.Sub(name);
    out.key_file = dir.key_file();
    Progress(options, name + ": generating the demo county at scale " + std::to_string(county.scale));
    auto gen = demo::GenerateCountyStore(out.path, KeySource::File(out.key_file), county);
    if (!gen.ok()) return gen.status();
    return out;
  }
  // Kept between runs: one store per seed, scale and case limit, and a
  // marker written only once its generation finished.
  std::error_code ec;
  fs::create_directories(options.county_dir, ec);
  if (ec) return Status::IOError("cannot create " + options.county_dir + ": " + ec.message());
  out.key_file = (fs::path(options.county_dir) / "county.key").string();
  if (!fs::exists(out.key_file)) {
    Status s = WriteKey(out.key_file);
    if (!s.ok()) return s;
  }
  const std::string tag = "county-seed" + std::to_string(county.seed) + "-scale" + std::to_string(county.scale) +
                          (county.limit_cases ? "-limit" + std::to_string(county.limit_cases) : "");
  out.path = (fs::path(options.county_dir) / tag).string();
  const std::string done = out.path + ".complete";
  if (fs::exists(done)) {
    Progress(options, name + ": reusing " + out.path);
    return out;
  }
  fs::remove_all(out.path, ec);
  Progress(options, name + ": generating the demo county at scale " + std::to_string(county.scale) +
                        " into " + out.path + " (kept for later runs)");
  auto gen = demo::GenerateCountyStore(out.path, KeySource::File(out.key_file), county);
  if (!gen.ok()) return gen.status();
  std::ofstream(done) << gen->events << " events\n";
  return out;
}

}  // namespace hearth::bench
