// Log lines cannot be forged: a session's refusal line escapes the control
// characters of stream names and other client-supplied text, with the one
// function the server's log uses too (hearth/escape.h, docs/operations.md).
#include <gtest/gtest.h>

#include "hearth/escape.h"
#include "hearth/session.h"
#include "integration_util.h"

namespace hearth::testing {
namespace {

TEST(EscapeLogText, ControlCharactersAreEscapedAndTheRestKept) {
  EXPECT_EQ(EscapeLogText("case/north/C-1"), "case/north/C-1");
  EXPECT_EQ(EscapeLogText("a\nb\rc\td\x1b[31m\x7f"), "a\\x0ab\\x0dc\\x09d\\x1b[31m\\x7f");
  EXPECT_EQ(EscapeLogText("csi \xc2\x9b" "2J"), "csi \\u009b2J");
  EXPECT_EQ(EscapeLogText("caf\xc3\xa9"), "caf\xc3\xa9");  // ordinary UTF-8 stays
  std::string once = EscapeLogText("x\ny");
  EXPECT_EQ(EscapeLogText(once), once) << "escaping is idempotent";
}

TEST(SessionRefusalLog, StreamNamesCannotForgeRefusalLines) {
  TempDir dir;
  auto store = Store::Open(TestOptions(HexKeyFile(dir.sub("root.key"))), dir.sub("store"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::string> lines;
  Scopes scopes;
  scopes.read_districts = {"north"};
  Session session(store->get(), Principal{"portal", "u-1", "caseworker"}, scopes,
                  [&](const std::string& line) { lines.push_back(line); });
  EXPECT_FALSE(session.CheckReadStream("case/south/C-1\nrefused: plugin=x forged\r").ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find_first_of("\n\r"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("C-1\\x0arefused: plugin=x forged\\x0d"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace hearth::testing
