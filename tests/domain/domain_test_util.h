// Shared fixture for the domain suite: a store, the codec and a recorder
// whose "today" is fixed, and events written as JSON.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hearth/domain.h"
#include "test_util.h"

namespace hearth::domain::testing {

class DomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddBuiltinUpcasters(&upcasters_);
    auto codec = Codec::Create(&upcasters_);
    ASSERT_TRUE(codec.ok()) << codec.status().ToString();
    codec_ = std::move(*codec);
    // A hex key file: a raw one whose last byte happens to be a blank is
    // refused by the store (see the domain report).
    std::string key = dir_.sub("key");
    {
      unsigned char raw[32];
      randombytes_buf(raw, sizeof raw);
      char hex[65];
      sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
      std::ofstream(key) << hex;
      ::chmod(key.c_str(), 0600);
    }
    Options options = hearth::testing::TestOptions(key);
    options.sync = false;
    auto store = Store::Open(options, dir_.sub("store"));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    RecorderOptions ro;
    ro.today = [this] { return today_; };
    recorder_ = std::make_unique<CaseRecorder>(store_.get(), codec_.get(), ro);
  }

  static Date D(const char* text) {
    Date d;
    EXPECT_TRUE(ParseDate(text, &d)) << text;
    return d;
  }

  // One event from JSON; fails the test when it does not parse.
  NewEvent E(const std::string& json) {
    NewEvent e;
    Status s = codec_->FromJson(json, &e);
    EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << json;
    return e;
  }

  // The enquiry that opens a case for client `client` in `district`.
  NewEvent Enquiry(const std::string& on = "2018-04-03", const std::string& client = "P-1",
                   const std::string& district = "D3") {
    return E(R"({"type":"ContactRecorded","facts":{"contactedOn":")" + on +
             R"(","district":")" + district +
             R"(","channel":"phone","referrerType":"self","purpose":"enquiry"},)"
             R"("personal":[{"subject":")" + client +
             R"(","role":"client","details":{"givenName":"Testina","familyName":"Quillfeather",)"
             R"("postcode":"ZZ3 1AB","nhsNumber":"999 000 0018"}}]})");
  }

  Status Record(const std::string& case_id, std::vector<NewEvent> events) {
    auto r = recorder_->Record(case_id, std::move(events));
    return r.ok() ? Status::OK() : r.status();
  }

  uint64_t Version(const std::string& stream) {
    auto v = store_->StreamVersion(stream);
    return v.ok() ? *v : 0;
  }

  hearth::testing::TempDir dir_;
  UpcasterRegistry upcasters_;
  std::unique_ptr<Codec> codec_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CaseRecorder> recorder_;
  Date today_ = D("2019-03-31");
};

// The rule a refusal names ("rule case-closed: ..." -> "case-closed").
inline std::string RuleOf(const Status& s) {
  const std::string& m = s.message();
  if (!s.IsInvalidArgument() || m.compare(0, 5, "rule ") != 0) return "(not a rule: " + s.ToString() + ")";
  return m.substr(5, m.find(':') - 5);
}

}  // namespace hearth::domain::testing
