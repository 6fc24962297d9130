// Shared fixture for the read-model suite: a store opened with the `cases`
// projection, the codec, a recorder, events written as JSON, and dumps of a
// projection's key space. Synthetic people only.
#pragma once

#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hearth/domain.h"
#include "hearth/readmodels.h"
#include "test_util.h"

namespace hearth::readmodels::testing {

using domain::Date;

inline Date D(const char* text) {
  Date d;
  EXPECT_TRUE(domain::ParseDate(text, &d)) << text;
  return d;
}

// A 0600 key file of 64 hex digits (a raw key could end in a blank byte,
// which the store's key-file reader trims).
inline std::string MakeHexKeyFile(const std::string& path) {
  if (sodium_init() < 0) abort();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  std::ofstream(path) << hex;
  ::chmod(path.c_str(), 0600);
  return path;
}

// Every key and value of a projection, in key order.
inline std::map<std::string, std::string> DumpProjection(Store& store, const std::string& name) {
  std::map<std::string, std::string> out;
  Status s = store.ScanProjection(name, "", [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class ReadModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    domain::AddBuiltinUpcasters(&upcasters_);
    auto codec = domain::Codec::Create(&upcasters_);
    ASSERT_TRUE(codec.ok()) << codec.status().ToString();
    codec_ = std::move(*codec);
    key_ = MakeHexKeyFile(dir_.sub("key"));
  }

  void TearDown() override {
    recorder_.reset();
    store_.reset();
  }

  Options StoreOptions(std::vector<std::shared_ptr<Projection>> projections) {
    Options o = hearth::testing::TestOptions(key_);
    o.sync = false;
    o.projections = std::move(projections);
    return o;
  }

  // (Re)opens the store with `projections` (default: an async cases projection).
  void Open(std::vector<std::shared_ptr<Projection>> projections) {
    recorder_.reset();
    store_.reset();
    auto store = Store::Open(StoreOptions(std::move(projections)), dir_.sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    domain::RecorderOptions ro;
    ro.today = [] { return D("2019-12-31"); };
    recorder_ = std::make_unique<domain::CaseRecorder>(store_.get(), codec_.get(), ro);
  }
  void Open() { Open({MakeCasesProjection(codec_.get())}); }

  NewEvent E(const std::string& json) {
    NewEvent e;
    Status s = codec_->FromJson(json, &e);
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << json;
    return e;
  }

  NewEvent Enquiry(const std::string& on, const std::string& client, const std::string& district) {
    return E(R"({"type":"ContactRecorded","actor":{"user":"S-1","role":"adminOfficer","plugin":"test"},)"
             R"("facts":{"contactedOn":")" + on + R"(","district":")" + district +
             R"(","channel":"phone","referrerType":"occupationalTherapist","purpose":"enquiry"},)"
             R"("personal":[{"subject":")" + client +
             R"(","role":"client","details":{"givenName":"Testina","familyName":"Quillfeather",)"
             R"("postcode":"ZZ3 1AB"}}]})");
  }

  // An event of `type` with `facts` (a JSON object's inside).
  NewEvent Ev(const std::string& type, const std::string& facts) {
    return E(R"({"type":")" + type + R"(","actor":{"user":"S-2","role":"caseworker","plugin":"test"},)"
             R"("facts":{)" + facts + "}}");
  }

  void Record(const std::string& case_id, std::vector<NewEvent> events) {
    auto r = recorder_->Record(case_id, std::move(events));
    ASSERT_TRUE(r.ok()) << case_id << ": " << r.status().ToString();
  }

  void CatchUp() {
    Status s = store_->WaitForProjection(kCasesProjection, 0, 60000);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  hearth::testing::TempDir dir_;
  std::string key_;
  domain::UpcasterRegistry upcasters_;
  std::unique_ptr<domain::Codec> codec_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<domain::CaseRecorder> recorder_;
};

}  // namespace hearth::readmodels::testing
