// The case timeline: at every position of a case its state equals the fold
// of the stream's prefix (and, at the end, the cases projection's state);
// every event carries an inclusion proof that leads to the tree head or the
// signed checkpoint; cuts by date; personal sections only for callers who
// may see them, erased ones marked; clear errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "county.h"
#include "merkle/hash.h"
#include "audit/verifier.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

class TimelineTest : public ReadModelTest {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    Open();
  }
  void GenerateCounty(uint32_t cases_per_district) {
    demo::CountyOptions o;
    o.seed = 11;
    o.limit_cases = cases_per_district;
    auto cal = domain::Calendar::EnglandAndWales();
    auto report = demo::GenerateCounty(recorder_.get(), cal, o);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
  }
  // The `n` case streams with the most events.
  std::vector<std::string> LongestCases(size_t n) {
    std::map<std::string, uint64_t> sizes;
    for (uint64_t from = 1;;) {
      auto page = store_->ReadAll(from, 1000);
      if (!page.ok() || page->empty()) break;
      for (const auto& e : *page) {
        if (e.stream.starts_with("case/")) sizes[e.stream] = e.stream_version;
      }
      from = page->back().position + 1;
    }
    std::vector<std::pair<uint64_t, std::string>> v;
    for (auto& [k, s] : sizes) v.emplace_back(s, k);
    std::sort(v.rbegin(), v.rend());
    std::vector<std::string> out;
    for (size_t i = 0; i < n && i < v.size(); ++i) out.push_back(v[i].second);
    return out;
  }
  Session RootSession(bool personal) {
    Scopes scopes;
    scopes.read_streams = {"*"};
    scopes.read_personal = personal;
    return Session(store_.get(), Principal{"test", "S-9", "auditor"}, scopes, [](const std::string&) {});
  }
};

TEST_F(TimelineTest, StateAtEveryPositionIsTheFoldOfThePrefix) {
  GenerateCounty(6);
  auto cases = LongestCases(3);
  ASSERT_EQ(cases.size(), 3u);
  ASSERT_TRUE(store_->WriteCheckpoint().ok());  // the later proofs may use it
  for (const std::string& id : cases) {
    auto events = store_->ReadStream(id, 1, Direction::kForward, 100000);
    ASSERT_TRUE(events.ok());
    ASSERT_GT(events->size(), 10u) << id;
    for (const RecordedEvent& e : *events) {
      TimelineRequest req;
      req.case_id = id;
      req.at_position = e.position;
      auto tl = ReadTimeline(*store_, *codec_, req);
      ASSERT_TRUE(tl.ok()) << tl.status().ToString();
      ASSERT_EQ(tl->entries.size(), e.stream_version) << id;
      EXPECT_EQ(tl->entries.back().event.position, e.position);
      auto prefix = recorder_->Load(id, e.stream_version);
      ASSERT_TRUE(prefix.ok());
      EXPECT_EQ(EncodeCaseState(tl->state), EncodeCaseState(*prefix)) << id << " @" << e.position;
      // Each proof leads from the stored record to the root it names.
      merkle::Hasher hasher;
      for (const TimelineEntry& entry : tl->entries) {
        auto raw = store_->RawRecord(entry.event.position);
        ASSERT_TRUE(raw.ok());
        EXPECT_EQ(hasher.Leaf(*raw), entry.leaf_hash);
        EXPECT_TRUE(merkle::VerifyInclusion(entry.event.position - 1, tl->tree_size, entry.leaf_hash,
                                            entry.proof, tl->root))
            << "position " << entry.event.position;
        // The same proof as the store's own, hash for hash.
        auto own = store_->InclusionProof(entry.event.position, tl->tree_size);
        ASSERT_TRUE(own.ok());
        EXPECT_EQ(entry.proof, *own) << "position " << entry.event.position;
      }
    }
  }
}

TEST_F(TimelineTest, NowEqualsTheProjectionAndProofsUseTheSignedCheckpoint) {
  GenerateCounty(3);
  auto id = LongestCases(1)[0];
  CatchUp();
  TimelineRequest req;
  req.case_id = id;
  auto tl = ReadTimeline(*store_, *codec_, req);
  ASSERT_TRUE(tl.ok()) << tl.status().ToString();
  auto projected = GetCase(*store_, id);
  ASSERT_TRUE(projected.ok());
  EXPECT_EQ(EncodeCaseState(tl->state), EncodeCaseState(*projected));
  EXPECT_EQ(tl->cut, "now");
  EXPECT_EQ(tl->entries.size(), tl->stream_events);
  // No checkpoint covers the log yet: the current tree head, unsigned.
  EXPECT_FALSE(tl->checkpoint.has_value());
  auto head = store_->CurrentTree();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(tl->tree_size, head->size);
  EXPECT_EQ(tl->root, head->root);

  auto cp = store_->WriteCheckpoint();
  ASSERT_TRUE(cp.ok());
  auto signed_tl = ReadTimeline(*store_, *codec_, req);
  ASSERT_TRUE(signed_tl.ok());
  ASSERT_TRUE(signed_tl->checkpoint.has_value());
  EXPECT_EQ(signed_tl->tree_size, cp->size);
  auto pk = store_->CheckpointPublicKey();
  ASSERT_TRUE(pk.ok());
  EXPECT_TRUE(merkle::VerifyCheckpointSignature(*signed_tl->checkpoint, *pk));
  for (const auto& entry : signed_tl->entries) {
    EXPECT_TRUE(merkle::VerifyInclusion(entry.event.position - 1, cp->size, entry.leaf_hash, entry.proof, cp->root));
  }
  // Tampering with one hash of a proof breaks it.
  auto bad = signed_tl->entries[0].proof;
  ASSERT_FALSE(bad.empty());
  bad[0][0] ^= 1;
  EXPECT_FALSE(merkle::VerifyInclusion(signed_tl->entries[0].event.position - 1, cp->size,
                                       signed_tl->entries[0].leaf_hash, bad, cp->root));

  // The JSON form carries the same proofs and parses; the text says each verifies.
  auto j = nlohmann::json::parse(TimelineToJson(*signed_tl));
  EXPECT_EQ(j["case"], id);
  EXPECT_TRUE(j["tree"]["signed"].get<bool>());
  ASSERT_EQ(j["events"].size(), signed_tl->entries.size());
  EXPECT_EQ(j["events"][0]["proof"]["treeSize"], cp->size);
  EXPECT_EQ(j["events"][0]["proof"]["path"].size(), signed_tl->entries[0].proof.size());
  EXPECT_EQ(j["state"]["case"], id);
  std::string text = TimelineToText(*signed_tl);
  EXPECT_NE(text.find("signed checkpoint"), std::string::npos);
  EXPECT_EQ(text.find("DOES NOT"), std::string::npos);
}

TEST_F(TimelineTest, CutsByRecordedDateAndByBusinessDate) {
  const std::string id = "case/D2/C-1";
  Record(id, {Enquiry("2018-06-01", "P-1", "D2")});
  Record(id, {Ev("FirstVisitCompleted", R"("completedOn":"2018-06-20","mode":"home","visitorRole":"technicalOfficer")"),
              Ev("AssessmentRecorded", R"("assessedOn":"2018-06-20","healthAndWellbeing":"high")")});
  // Recorded late, dated early: a back-dated case note.
  Record(id, {Ev("CaseNoteAdded", R"("writtenOn":"2018-06-05","authorRef":"S-2","category":"phoneCall")")});

  TimelineRequest req;
  req.case_id = id;
  req.occurred_by = D("2018-06-10");
  auto by_date = ReadTimeline(*store_, *codec_, req);
  ASSERT_TRUE(by_date.ok()) << by_date.status().ToString();
  ASSERT_EQ(by_date->entries.size(), 2u);  // the enquiry and the back-dated note
  EXPECT_EQ(by_date->entries[1].event.type, "CaseNoteAdded");
  EXPECT_EQ(by_date->entries[1].business_date, D("2018-06-05"));
  EXPECT_FALSE(by_date->state.first_visit_on.has_value());
  EXPECT_EQ(by_date->state.notes, 1u);

  // Everything was recorded today (store clock): as of yesterday there was nothing.
  domain::Date today = domain::UkDate(domain::Now());
  req.occurred_by.reset();
  req.as_of = today - std::chrono::days(1);
  auto before = ReadTimeline(*store_, *codec_, req);
  ASSERT_FALSE(before.ok());
  EXPECT_TRUE(before.status().IsInvalidArgument());
  EXPECT_NE(before.status().message().find("has no events"), std::string::npos) << before.status().message();
  req.as_of = today;
  auto now = ReadTimeline(*store_, *codec_, req);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->entries.size(), 4u);

  // One cut at a time.
  req.at_position = 1;
  auto two = ReadTimeline(*store_, *codec_, req);
  ASSERT_FALSE(two.ok());
  EXPECT_TRUE(two.status().IsInvalidArgument());
}

TEST_F(TimelineTest, UnknownAndMalformedCasesAreClearErrors) {
  Record("case/D2/C-1", {Enquiry("2018-06-01", "P-1", "D2")});
  TimelineRequest req;
  req.case_id = "case/D2/C-404";
  auto missing = ReadTimeline(*store_, *codec_, req);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().IsNotFound());
  EXPECT_NE(missing.status().message().find("no case case/D2/C-404"), std::string::npos)
      << missing.status().message();
  req.case_id = "D2/C-1";  // the short form means the same case
  EXPECT_TRUE(ReadTimeline(*store_, *codec_, req).ok());
  req.case_id = "case/bad id with spaces";
  auto bad = ReadTimeline(*store_, *codec_, req);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsInvalidArgument()) << bad.status().ToString();
  req.case_id = "case/D2/C-1";
  req.at_position = 0;
  req.occurred_by = D("2018-05-01");  // before the enquiry
  auto early = ReadTimeline(*store_, *codec_, req);
  ASSERT_FALSE(early.ok());
  EXPECT_TRUE(early.status().IsInvalidArgument());
}

TEST_F(TimelineTest, PersonalSectionsOnlyForCallersWhoMayAndErasedOnesMarked) {
  const std::string id = "case/D2/C-1";
  Record(id, {Enquiry("2018-06-01", "P-1", "D2")});
  Record(id, {E(R"({"type":"PersonRegistered","subjects":[{"id":"P-2","role":"carer"}],)"
                R"("facts":{"registeredOn":"2018-06-02","ageBand":"55-64"},)"
                R"("personal":[{"subject":"P-2","role":"carer","details":{"givenName":"Carera","familyName":"Placeholm"}}]})")});
  {
    Session nosy = RootSession(false);
    TimelineRequest req;
    req.case_id = id;
    auto tl = ReadTimeline(nosy, *codec_, req);
    ASSERT_TRUE(tl.ok()) << tl.status().ToString();
    EXPECT_FALSE(tl->personal_shown);
    for (const auto& e : tl->entries) EXPECT_TRUE(e.personal_json.empty());
    EXPECT_EQ(TimelineToJson(*tl).find("Quillfeather"), std::string::npos);
  }
  {
    Session auditor = RootSession(true);
    TimelineRequest req;
    req.case_id = id;
    auto tl = ReadTimeline(auditor, *codec_, req);
    ASSERT_TRUE(tl.ok());
    EXPECT_NE(TimelineToJson(*tl).find("Quillfeather"), std::string::npos);
    EXPECT_NE(TimelineToText(*tl).find("Carera"), std::string::npos);
    // The read was written to the access log of each person shown.
    auto log = store_->AccessLog("P-2");
    ASSERT_TRUE(log.ok());
    ASSERT_FALSE(log->empty());
    EXPECT_EQ(log->back().purpose, "timeline");
  }
  ASSERT_TRUE(store_->EraseSubject("P-2", Actor{"S-1", "controller", "test"}, "art17").ok());
  Session auditor = RootSession(true);
  TimelineRequest req;
  req.case_id = id;
  auto tl = ReadTimeline(auditor, *codec_, req);
  ASSERT_TRUE(tl.ok()) << tl.status().ToString();
  std::string text = TimelineToText(*tl);
  EXPECT_EQ(text.find("Carera"), std::string::npos);
  EXPECT_NE(text.find("P-2 (carer): erased"), std::string::npos) << text;
  EXPECT_NE(text.find("Quillfeather"), std::string::npos);  // the client is untouched
}

TEST_F(TimelineTest, ASessionThatMayNotReadTheDistrictIsRefused) {
  Record("case/D2/C-1", {Enquiry("2018-06-01", "P-1", "D2")});
  Scopes scopes;
  scopes.read_districts = {"D1"};
  Session other(store_.get(), Principal{"test", "S-3", "caseworker"}, scopes, [](const std::string&) {});
  TimelineRequest req;
  req.case_id = "case/D2/C-1";
  auto tl = ReadTimeline(other, *codec_, req);
  ASSERT_FALSE(tl.ok());
  EXPECT_EQ(tl.status().code(), Status::Code::kPermissionDenied);
  // The same answer for a case that does not exist: no probing across districts.
  req.case_id = "case/D2/C-404";
  EXPECT_EQ(ReadTimeline(other, *codec_, req).status().code(), Status::Code::kPermissionDenied);
}

TEST_F(TimelineTest, EveryEventTypeOfTheDemoHasItsOwnPlainEnglishLine) {
  GenerateCounty(6);
  std::set<std::string> seen;
  for (uint64_t from = 1;;) {
    auto page = store_->ReadAll(from, 1000);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (const auto& e : *page) {
      if (!e.stream.starts_with("case/") || seen.count(e.type)) continue;
      seen.insert(e.type);
      auto facts = codec_->FactsToJson(e);
      ASSERT_TRUE(facts.ok());
      std::string line = DescribeEvent(e.type, *facts);
      EXPECT_NE(line, e.type) << "no description for " << e.type;
      EXPECT_FALSE(line.empty());
    }
    from = page->back().position + 1;
  }
  EXPECT_GT(seen.size(), 20u);
  EXPECT_EQ(DescribeEvent("ContactRecorded",
                          R"({"contactedOn":"2018-04-03","district":"D3","channel":"phone",)"
                          R"("referrerType":"occupationalTherapist","purpose":"enquiry"})"),
            "Enquiry by phone from an occupational therapist, district D3");
  EXPECT_EQ(DescribeEvent("GrantApproved",
                          R"({"approvedOn":"2018-07-01","line":1,"grantType":"mandatoryDfg",)"
                          R"("amountPence":3200000,"discretionaryTopUpPence":200000})"),
            "Line 1: mandatory DFG approved, \xC2\xA3" "32,000.00 (of which discretionary top-up \xC2\xA3"
            "2,000.00)");
  EXPECT_EQ(DescribeEvent("LandChargeRegistered",
                          R"({"registeredOn":"2018-09-10","line":1,"amountPence":400000,"registerRef":"LLC-D1-000001"})"),
            "Line 1: local land charge registered for \xC2\xA3" "4,000.00 (LLC-D1-000001)");
  EXPECT_EQ(DescribeEvent("LandChargeReleased", R"({"releasedOn":"2019-01-07","line":1,"reasonCode":"repaid"})"),
            "Line 1: local land charge released (repaid)");
  // Issue 17.7.
  EXPECT_EQ(DescribeEvent("CaseAllocated", R"({"allocatedOn":"2018-04-04","workerRef":"S-D3-07","teamCode":"T-D3",)"
                                           R"("roleCode":"caseworker","reasonCode":"newCase"})"),
            "Case allocated to S-D3-07 (caseworker), team T-D3; reason: new case");
  EXPECT_EQ(DescribeEvent("CaseDeallocated", R"({"deallocatedOn":"2018-05-01","workerRef":"S-D3-07","reasonCode":"workerLeft"})"),
            "Case taken off S-D3-07 (worker left); awaiting allocation");
  EXPECT_EQ(DescribeEvent("FirstVisitCompleted", R"({"completedOn":"2018-04-20","mode":"hospital","visitorRole":"ot"})"),
            "First visit made (in hospital) by an OT");
  EXPECT_EQ(DescribeEvent("ConsultationHeld", R"({"heldOn":"2018-04-03","channel":"phone","followUpOn":"2018-04-17"})"),
            "Consultation by phone; follow up by 2018-04-17");
}

}  // namespace
}  // namespace hearth::readmodels::testing
