// Listing rights requests by the page (docs/rights.md, "Listing requests"):
// a page of every request, newest first, covers each once with its
// continuation; the open ones are exactly those not closed, through pauses,
// extensions, closures and a rebuild of the `rights_requests` index; a page
// reads its own requests, not every request ever made; the bound is refused
// by name. Synthetic people only (P-T<n>).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "readmodels_test_util.h"

namespace hearth::rights {
namespace {

using readmodels::testing::D;

class RequestPagesTest : public readmodels::testing::ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open({readmodels::MakeRightsRequestsProjection()});
    RightsOptions o;
    Date d = D("2019-12-31");
    o.today = [d] { return d; };
    rights_ = std::make_unique<Rights>(store_.get(), codec_.get(), o);
  }
  // Opens the store again with `projections`, and the workflow over it.
  void Reopen(std::vector<std::shared_ptr<Projection>> projections) {
    rights_.reset();
    Open(std::move(projections));
    RightsOptions o;
    o.today = [] { return D("2019-12-31"); };
    rights_ = std::make_unique<Rights>(store_.get(), codec_.get(), o);
  }
  void TearDown() override {
    rights_.reset();
    ReadModelTest::TearDown();
  }

  NewEvent Req(const std::string& type, const std::string& facts, const std::string& subject = "") {
    std::string subjects = subject.empty() ? "" : R"(,"subjects":[{"id":")" + subject + R"(","role":"client"}])";
    return E(R"({"type":")" + type + R"(","actor":{"user":"S-9","role":"controller","plugin":"test"},)"
             R"("facts":{)" + facts + "}" + subjects + "}");
  }

  // Request R-<n> about P-T<n>, received on 2 December (a person known to
  // the store first: the rule rights-subject).
  std::string Receive(int n) {
    std::string person = "P-T" + std::to_string(n);
    Record("case/T/" + std::to_string(n), {Enquiry("2019-03-01", person, "D1")});
    auto ref = rights_->NextRequestRef();
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    EXPECT_EQ(*ref, "R-" + std::to_string(n));
    auto r = rights_->Record(*ref, {Req("RightsRequestReceived",
                                        R"("receivedOn":"2019-12-02","kind":"access","requestRef":")" + *ref + "\"",
                                        person)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *ref;
  }
  void Do(const std::string& ref, const std::string& type, const std::string& facts) {
    auto r = rights_->Record(ref, {Req(type, facts)});
    ASSERT_TRUE(r.ok()) << ref << " " << type << ": " << r.status().ToString();
  }
  void Fulfil(const std::string& ref) { Do(ref, "RightsRequestFulfilled", R"("fulfilledOn":"2019-12-20","actionCode":"packSent")"); }
  void Refuse(const std::string& ref) {
    Do(ref, "RightsRequestRefused", R"("refusedOn":"2019-12-20","reasonCode":"manifestlyUnfounded","exemption":"none")");
  }
  void Pause(const std::string& ref) { Do(ref, "RightsClockPaused", R"("pausedOn":"2019-12-03","reason":"clarification")"); }
  void Resume(const std::string& ref) { Do(ref, "RightsClockResumed", R"("resumedOn":"2019-12-09")"); }

  // Every page, following `next`, with the page size and the reads of each.
  std::vector<std::string> Walk(bool open_only, size_t limit, std::vector<uint64_t>* reads = nullptr) {
    std::vector<std::string> refs;
    RequestPageOptions o;
    o.open_only = open_only;
    o.limit = limit;
    for (int pages = 0; pages < 1000; ++pages) {
      auto page = rights_->RequestsPage(o);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->requests.size(), limit);
      if (reads) reads->push_back(page->requests_read);
      for (const auto& q : page->requests) refs.push_back(q.ref);
      if (page->next.empty()) break;
      o.after = page->next;
    }
    return refs;
  }

  // The index's every key and value, to compare before and after a rebuild.
  std::map<std::string, std::string> IndexState() {
    std::map<std::string, std::string> out;
    Status s = store_->ScanProjection(readmodels::kRightsRequestsProjection, "",
                                      [&](std::string_view k, std::string_view v) {
                                        out.emplace(std::string(k), std::string(v));
                                        return true;
                                      });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  std::unique_ptr<Rights> rights_;
};

std::vector<std::string> Refs(std::initializer_list<int> ns) {
  std::vector<std::string> out;
  for (int n : ns) out.push_back("R-" + std::to_string(n));
  return out;
}

TEST_F(RequestPagesTest, PagesOfEveryRequestCoverEachOnceNewestFirst) {
  for (int n = 1; n <= 23; ++n) Receive(n);
  Fulfil("R-4");
  Refuse("R-9");
  Pause("R-17");
  for (size_t limit : {1, 5, 7, 23, 100}) {
    std::vector<uint64_t> reads;
    std::vector<std::string> refs = Walk(false, limit, &reads);
    std::vector<std::string> expected;
    for (int n = 23; n >= 1; --n) expected.push_back("R-" + std::to_string(n));
    EXPECT_EQ(refs, expected) << "limit " << limit;
    EXPECT_EQ(reads.size(), (23 + limit - 1) / limit) << "limit " << limit << ": the last page says it is the last";
    for (uint64_t r : reads) EXPECT_LE(r, limit) << "a page reads its own requests";
  }
  // A continuation from the middle goes on below it.
  RequestPageOptions o;
  o.open_only = false;
  o.limit = 3;
  o.after = "R-10";
  auto page = rights_->RequestsPage(o);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->requests.size(), 3u);
  EXPECT_EQ(page->requests[0].ref, "R-9");
  EXPECT_EQ(page->requests[0].status, "refused");
  EXPECT_EQ(page->requests[2].ref, "R-7");
  EXPECT_EQ(page->next, "R-7");
}

TEST_F(RequestPagesTest, TheOpenOnesAreExactlyThoseNotClosedThroughPausesClosuresAndARebuild) {
  for (int n = 1; n <= 8; ++n) Receive(n);
  Pause("R-2");                                        // paused: still open
  Pause("R-4");
  Resume("R-4");                                       // paused, then running again
  Do("R-6", "RightsRequestExtended",                   // extended: still open
     R"("extendedOn":"2019-12-10","months":1,"reasonCode":"complex","personToldOn":"2019-12-10")");
  Fulfil("R-3");
  Refuse("R-5");
  Pause("R-7");
  auto while_paused = rights_->Record("R-7", {Req("RightsRequestFulfilled",
                                                  R"("fulfilledOn":"2019-12-20","actionCode":"packSent")")});
  EXPECT_NE(while_paused.status().message().find("rule rights-clock-paused"), std::string::npos)
      << while_paused.status().ToString();
  EXPECT_EQ(Walk(true, 100), Refs({1, 2, 4, 6, 7, 8}));
  EXPECT_EQ(Walk(true, 2), Refs({1, 2, 4, 6, 7, 8})) << "oldest first, page by page";

  // A closed request stays closed: anything more is refused and changes nothing.
  auto again = rights_->Record("R-3", {Req("RightsClockPaused", R"("pausedOn":"2019-12-21","reason":"clarification")")});
  EXPECT_NE(again.status().message().find("rule rights-request-closed"), std::string::npos) << again.status().ToString();
  Resume("R-7");
  Fulfil("R-7");
  Fulfil("R-1");
  EXPECT_EQ(Walk(true, 100), Refs({2, 4, 6, 8}));

  // Appended around the workflow, as a front end with the controller scope
  // may (the server's protocol, the C ABI): indexed all the same.
  Record("case/T/9", {Enquiry("2019-03-01", "P-T9", "D1")});
  ASSERT_TRUE(store_->Append("rights/R-9", ExpectedVersion::NoStream(),
                             {Req("RightsRequestReceived", R"("receivedOn":"2019-12-02","kind":"erasure")", "P-T9")})
                  .ok());
  EXPECT_EQ(Walk(true, 100), Refs({2, 4, 6, 8, 9}));
  auto next = rights_->NextRequestRef();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "R-10");

  auto counts = rights_->CountRequests();
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->received, 9u);
  EXPECT_EQ(counts->fulfilled, 3u);
  EXPECT_EQ(counts->refused, 1u);
  EXPECT_EQ(counts->open(), 5u);

  // Rebuilt from the log: the same keys, byte for byte, and the same answers.
  auto before = IndexState();
  ASSERT_FALSE(before.empty());
  ASSERT_TRUE(store_->RebuildProjection(readmodels::kRightsRequestsProjection).ok());
  EXPECT_EQ(IndexState(), before);
  EXPECT_EQ(Walk(true, 100), Refs({2, 4, 6, 8, 9}));
  // And after the store is opened again, with the index behind the log
  // (appends by a process that did not register it), it catches up.
  Reopen({});
  auto without = rights_->RequestsPage({});
  EXPECT_EQ(without.status().code(), Status::Code::kNotSupported) << without.status().ToString();
  EXPECT_NE(without.status().message().find(readmodels::kRightsRequestsProjection), std::string::npos);
  Fulfil("R-4");
  Reopen({readmodels::MakeRightsRequestsProjection()});
  EXPECT_EQ(Walk(true, 100), Refs({2, 6, 8, 9}));
}

// The test that fails when a list reads every request ever made: 40
// requests, 37 of them closed; the open page reads the 3 open ones, and a
// page of 5 of every request reads 5.
TEST_F(RequestPagesTest, APageReadsItsOwnRequestsNotEveryRequest) {
  for (int n = 1; n <= 40; ++n) Receive(n);
  for (int n = 1; n <= 40; ++n) {
    if (n != 3 && n != 20 && n != 38) Fulfil("R-" + std::to_string(n));
  }
  auto open = rights_->RequestsPage({});
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  std::vector<std::string> refs;
  for (const auto& q : open->requests) refs.push_back(q.ref);
  EXPECT_EQ(refs, Refs({3, 20, 38}));
  EXPECT_EQ(open->requests_read, 3u) << "the open requests cost one read each, the closed ones none";
  EXPECT_TRUE(open->next.empty());

  RequestPageOptions o;
  o.open_only = false;
  o.limit = 5;
  auto page = rights_->RequestsPage(o);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->requests.size(), 5u);
  EXPECT_EQ(page->requests_read, 5u);
  EXPECT_EQ(page->next, "R-36");
}

TEST_F(RequestPagesTest, APageLargerThanTheBoundIsRefusedNamingIt) {
  Receive(1);
  for (size_t limit : {size_t{0}, kMaxRequestsPage + 1, size_t{1} << 40}) {
    for (bool open_only : {true, false}) {
      RequestPageOptions o;
      o.open_only = open_only;
      o.limit = limit;
      auto page = rights_->RequestsPage(o);
      ASSERT_FALSE(page.ok()) << limit;
      EXPECT_TRUE(page.status().IsInvalidArgument()) << page.status().ToString();
      EXPECT_NE(page.status().message().find(std::to_string(kMaxRequestsPage)), std::string::npos)
          << page.status().ToString();
    }
  }
  RequestPageOptions o;
  o.limit = kMaxRequestsPage;
  EXPECT_TRUE(rights_->RequestsPage(o).ok()) << "the bound itself is allowed";
  o.after = "R-99";
  auto unknown = rights_->RequestsPage(o);
  EXPECT_TRUE(unknown.status().IsInvalidArgument()) << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("R-99"), std::string::npos);
}

TEST_F(RequestPagesTest, NextRequestRefIsOnePastTheLastAcrossPowersOfTwo) {
  auto first = rights_->NextRequestRef();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "R-1");
  // Receive checks NextRequestRef gives R-n before each receipt, through
  // 1, 2, 3, 4, 5, 8, 9, 16, 17 ...
  for (int n = 1; n <= 34; ++n) Receive(n);
  auto next = rights_->NextRequestRef();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "R-35");
}

// Doubling then halving, not a walk from R-1: a hole made by hand (R-5 never
// recorded, R-6..R-8 given with `rights receive --ref`) is not visited, and
// the answer, R-9, is free all the same. A walk would stop at R-5.
TEST_F(RequestPagesTest, NextRequestRefDoesNotWalkFromTheFirst) {
  for (int n = 1; n <= 4; ++n) Receive(n);
  for (int n = 6; n <= 8; ++n) {
    std::string person = "P-T" + std::to_string(n);
    Record("case/T/" + std::to_string(n), {Enquiry("2019-03-01", person, "D1")});
    auto r = rights_->Record("R-" + std::to_string(n),
                             {Req("RightsRequestReceived", R"("receivedOn":"2019-12-02","kind":"access")", person)});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto next = rights_->NextRequestRef();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "R-9");
  // Every one is listed all the same: the index numbers what was received.
  EXPECT_EQ(Walk(false, 100), Refs({8, 7, 6, 4, 3, 2, 1}));
}

TEST_F(RequestPagesTest, AStoreWithNoRequestsHasEmptyPages) {
  for (bool open_only : {true, false}) {
    RequestPageOptions o;
    o.open_only = open_only;
    auto page = rights_->RequestsPage(o);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_TRUE(page->requests.empty());
    EXPECT_TRUE(page->next.empty());
    EXPECT_EQ(page->requests_read, 0u);
  }
}

}  // namespace
}  // namespace hearth::rights
