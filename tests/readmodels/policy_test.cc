// The session's district scopes follow a case's current district (after
// CaseTransferred), not its stream name: reads, appends, reads by subject,
// the timeline and worklist models; with the cases projection inline,
// asynchronous, or absent (hearth/session.h; docs/plugins.md, section 4).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "hearth/read_model.h"
#include "hearth/session.h"
#include "readmodels_test_util.h"

namespace hearth::readmodels::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kCase = "case/D1/000123";

enum class CasesProjection { kInline, kAsync, kNone };

class DistrictPolicyTest : public ReadModelTest, public ::testing::WithParamInterface<CasesProjection> {
 protected:
  void SetUp() override {
    ReadModelTest::SetUp();
    if (GetParam() == CasesProjection::kNone) {
      Open(std::vector<std::shared_ptr<Projection>>{});
    } else {
      CasesProjectionOptions o;
      o.mode = GetParam() == CasesProjection::kAsync ? ProjectionMode::kAsync : ProjectionMode::kInline;
      Open({MakeCasesProjection(codec_.get(), o)});
    }
    ASSERT_TRUE(models_.Add(MakeTimelineModel(codec_.get())).ok());
    Record(kCase, {Enquiry("2018-04-02", "P-1", "D1")});
  }

  std::unique_ptr<Session> For(std::vector<std::string> districts, std::vector<std::string> streams = {}) {
    Scopes s;
    s.read_districts = std::move(districts);
    s.read_streams = std::move(streams);
    s.append_types = {"*"};
    s.read_models = {"*"};
    s.read_personal = true;
    return std::make_unique<Session>(store_.get(), Principal{"web", "S-1", "caseworker"}, s,
                                     [](const std::string&) {});
  }

  void Transfer(const std::string& to) {
    Record(kCase, {Ev("CaseTransferred", R"("transferredOn":"2018-05-01","toTeam":"T2","toDistrict":")" + to +
                                             R"(","reasonCode":"moved")")});
  }

  NewEvent Note() {
    return Ev("CaseNoteAdded", R"("writtenOn":"2018-05-02","authorRef":"S-2","category":"general")");
  }

  uint64_t LastPosition() { return store_->Info()->last_position; }

  ReadModels models_;
};

void ExpectDistrictRefusal(const Status& s) {
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("read_districts"), std::string::npos) << s.ToString();
}

TEST_P(DistrictPolicyTest, ACaseTransferredOutLeavesTheOldDistrictsScope) {
  auto d1 = For({"D1"});
  auto d2 = For({"D2"});
  ASSERT_TRUE(d1->CheckReadStream(kCase).ok());
  ExpectDistrictRefusal(d2->CheckReadStream(kCase));
  Transfer("D2");
  // Whether or not the projection has caught up: the session reads the tail.
  auto now = d1->CurrentDistrict(kCase);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  EXPECT_EQ(*now, "D2");

  uint64_t before = LastPosition();
  ExpectDistrictRefusal(d1->ReadStream(kCase, 1, Direction::kForward, 10, "casework").status());
  ExpectDistrictRefusal(d1->Append(kCase, ExpectedVersion::Any(), {Note()}).status());
  ExpectDistrictRefusal(d1->CheckAppend(kCase, {Note()}));
  EXPECT_FALSE(d1->CanReadStream(kCase));
  EXPECT_EQ(LastPosition(), before);
  // Nor through the subject's events, nor the timeline model.
  EXPECT_TRUE(d1->ReadSubject("P-1", 1, 10, "casework").status().IsNotFound());
  EXPECT_EQ(models_.Query(*d1, "timeline", Json{{"case", kCase}}.dump()).status().code(),
            Status::Code::kPermissionDenied);

  // The new district reads and writes it, under its old name.
  auto read = d2->ReadStream(kCase, 1, Direction::kForward, 10, "casework");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size(), 2u);
  auto appended = d2->Append(kCase, ExpectedVersion::Exact(2), {Note()});
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  auto subject = d2->ReadSubject("P-1", 1, 10, "casework");
  ASSERT_TRUE(subject.ok()) << subject.status().ToString();
  EXPECT_EQ(subject->size(), 3u);
  auto timeline = models_.Query(*d2, "timeline", Json{{"case", kCase}}.dump());
  ASSERT_TRUE(timeline.ok()) << timeline.status().ToString();

  // And a transfer back returns it.
  Transfer("D1");
  EXPECT_TRUE(d1->CheckReadStream(kCase).ok());
  ExpectDistrictRefusal(d2->CheckReadStream(kCase));
}

// A read_streams pattern covers a case where it is now; an exact name covers
// that stream wherever its case goes.
TEST_P(DistrictPolicyTest, StreamPatternsFollowTheCaseAndExactNamesStay) {
  auto pattern = For({}, {"case/D1/*"});
  auto exact = For({}, {kCase});
  auto everything = For({}, {"*"});
  ASSERT_TRUE(pattern->CheckReadStream(kCase).ok());
  Transfer("D2");
  EXPECT_FALSE(pattern->CanReadStream(kCase));
  EXPECT_EQ(pattern->CheckReadStream(kCase).code(), Status::Code::kPermissionDenied);
  EXPECT_TRUE(exact->CheckReadStream(kCase).ok());
  EXPECT_TRUE(everything->CheckReadStream(kCase).ok());
  auto d2_pattern = For({}, {"case/D2/*"});
  EXPECT_TRUE(d2_pattern->CheckReadStream(kCase).ok());
}

// A new case is written where its enquiry opens it, whatever its name says.
TEST_P(DistrictPolicyTest, ANewCaseIsAuthorisedByTheDistrictItOpensIn) {
  auto d1 = For({"D1"});
  uint64_t before = LastPosition();
  ExpectDistrictRefusal(
      d1->Append("case/D1/000777", ExpectedVersion::NoStream(), {Enquiry("2018-04-02", "P-7", "D2")}).status());
  EXPECT_EQ(LastPosition(), before);
  EXPECT_TRUE(store_->StreamVersion("case/D1/000777").status().IsNotFound());
  auto ok = d1->Append("case/D1/000778", ExpectedVersion::NoStream(), {Enquiry("2018-04-02", "P-8", "D1")});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Projections, DistrictPolicyTest,
                         ::testing::Values(CasesProjection::kInline, CasesProjection::kAsync,
                                           CasesProjection::kNone),
                         [](const ::testing::TestParamInfo<CasesProjection>& info) {
                           switch (info.param) {
                             case CasesProjection::kInline: return std::string("Inline");
                             case CasesProjection::kAsync: return std::string("Async");
                             case CasesProjection::kNone: return std::string("WithoutProjection");
                           }
                           return std::string("Unknown");
                         });

}  // namespace
}  // namespace hearth::readmodels::testing
