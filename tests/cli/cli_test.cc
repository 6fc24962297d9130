// End-to-end tests of the `hearth` command line: each test runs the built
// binary (HEARTH_CLI) as a child process, feeds it stdin and checks its exit
// code, stdout and stderr. Everyone in here is synthetic.
#include <fcntl.h>
#include <pty.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// `init` appends one event, the default record of processing (stream
// config/processing, position 1): the operator's events follow it.
constexpr int kInit = 1;

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> out;
  for (const std::string& line : Lines(text)) out.push_back(Json::parse(line));
  return out;
}

// A failure is exactly one line on stderr, "hearth: <Code>: <message>".
::testing::AssertionResult FailsWith(const Output& o, int code, const std::string& needle) {
  if (o.code != code) {
    return ::testing::AssertionFailure()
           << "exit " << o.code << ", wanted " << code << "; stderr: " << o.err;
  }
  if (o.err.rfind("hearth: ", 0) != 0 || std::count(o.err.begin(), o.err.end(), '\n') != 1 ||
      o.err.back() != '\n') {
    return ::testing::AssertionFailure() << "stderr is not one 'hearth: ...' line: " << o.err;
  }
  if (o.err.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "stderr lacks '" << needle << "': " << o.err;
  }
  return ::testing::AssertionSuccess();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("hearth-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    data_ = (dir_ / "data").string();
    key_ = (dir_ / "root.key").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs the binary with `args`, `input` on stdin, and an environment with
  // every HEARTH_* variable removed and `env` added.
  Output Run(const std::vector<std::string>& args, const std::string& input = "",
             const std::map<std::string, std::string>& env = {}) {
    fs::path in = dir_ / "stdin", out = dir_ / "stdout", err = dir_ / "stderr";
    Spit(in, input);
    std::vector<std::string> argv_s = {HEARTH_CLI};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string(*e).rfind("HEARTH_", 0) != 0) env_s.push_back(*e);
    }
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    Output o;
    if (rc != 0) {
      o.err = "posix_spawn failed";
      return o;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = Slurp(out);
    o.err = Slurp(err);
    return o;
  }

  // The same, with --data and --key-file of this test's store.
  Output Hearth(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.end(), {"--data", data_, "--key-file", key_});
    return Run(args, input);
  }

  void Init() {
    Output o = Hearth({"init"});
    ASSERT_EQ(o.code, 0) << o.err;
  }

  Json Info() {
    Output o = Hearth({"info", "--json"});
    EXPECT_EQ(o.code, 0) << o.err;
    return Json::parse(o.out);
  }

  // n small events, one JSON line each.
  static std::string SmallEvents(int n, const std::string& type = "NoteAdded") {
    std::string lines;
    for (int i = 0; i < n; ++i) {
      lines += R"({"type":")" + type + R"(","facts":{"n":)" + std::to_string(i) + "}}\n";
    }
    return lines;
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::string data_;
  std::string key_;
};

// Three events for case-1: two named people (synthetic), a carer, an event
// without an id, times in both forms.
const char* kCaseEvents[] = {
    R"({"id":"0f8fad5b-d9cb-469f-a165-70867728950e","type":"ContactLogged","schemaVersion":2,)"
    R"("occurredAt":"2026-03-01T09:30:00Z","actor":{"user":"S-001","role":"caseworker","plugin":"cli-test"},)"
    R"("correlationId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","subjects":[{"id":"P-0001","role":"client"}],)"
    R"("facts":{"district":"D1","channel":"phone"},)"
    R"("personal":[{"subject":"P-0001","data":{"name":"Testy McTestface","phone":"01632 960000"},)"
    R"("identifiers":[{"kind":"nhs","value":"9990000018"}]}]})",
    R"({"id":"1b4e28ba-2fa1-41d2-883f-0016d3cca427","type":"ReferralLogged",)"
    R"("occurredAt":1772357400000000,"causationId":"0f8fad5b-d9cb-469f-a165-70867728950e",)"
    R"("subjects":[{"id":"P-0001"},{"id":"P-0002","role":"carer"}],"facts":{"element":5,"urgent":true},)"
    R"("personal":[{"subject":"P-0002","data":"Carey McCarerface"}]})",
    R"({"type":"NoteAdded","occurredAt":"2026-03-02T10:00:00.5+01:00","facts":[1,2,3]})",
};

std::string CaseInput(size_t n = 3) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += std::string(kCaseEvents[i]) + "\n";
  return s;
}

TEST_F(CliTest, InitCreatesKeyFileAndStore) {
  Output o = Hearth({"init"});
  ASSERT_EQ(o.code, 0) << o.err;
  struct stat st {};
  ASSERT_EQ(::stat(key_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  EXPECT_NE(o.out.find(fs::absolute(data_).lexically_normal().string()), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(fs::absolute(key_).lexically_normal().string()), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("fingerprint:"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("default record of processing"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("position 1"), std::string::npos) << o.out;
  Json info = Info();
  EXPECT_EQ(info["events"], kInit);
  // The record of processing, at position 1, is the only event.
  Output read = Hearth({"read", "--from", "1"});
  ASSERT_EQ(read.code, 0) << read.err;
  std::vector<Json> events = JsonLines(read.out);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["position"], 1);
  EXPECT_EQ(events[0]["stream"], "config/processing");
  EXPECT_EQ(events[0]["type"], "ProcessingRecordSet");
  EXPECT_TRUE(events[0]["subjects"].empty() || events[0]["subjects"].is_null()) << events[0].dump();
  EXPECT_EQ(info["encrypted"], true);
  // The fingerprint init printed is the one info reports.
  EXPECT_NE(o.out.find(info["checkpointKeyFingerprint"].get<std::string>()), std::string::npos);
}

TEST_F(CliTest, InitRefusesAnExistingStoreAndChangesNothing) {
  Init();
  std::string key_before = Slurp(key_);
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, SmallEvents(1)).code, 0);
  EXPECT_TRUE(FailsWith(Hearth({"init"}), 1, "already a store"));
  EXPECT_EQ(Slurp(key_), key_before);
  EXPECT_EQ(Info()["events"], kInit + 1);
  // A directory holding other files is refused as well, and no key is made.
  fs::create_directories(Path("other"));
  Spit(Path("other/notes.txt"), "not a store");
  EXPECT_TRUE(FailsWith(Run({"init", "--data", Path("other"), "--key-file", Path("k2")}), 1,
                        "not empty"));
  EXPECT_FALSE(fs::exists(Path("k2")));
}

TEST_F(CliTest, InitRefusesAKeyFileOpenToOthers) {
  Spit(key_, std::string(32, 'k'));
  ::chmod(key_.c_str(), 0644);
  EXPECT_TRUE(FailsWith(Hearth({"init"}), 1, "chmod 600"));
  EXPECT_FALSE(fs::exists(fs::path(data_) / "CURRENT"));
}

TEST_F(CliTest, AppendReadInfoRoundTrip) {
  Init();
  Output o = Hearth({"append", "--stream", "case-1", "--expect", "no-stream"}, CaseInput());
  ASSERT_EQ(o.code, 0) << o.err;
  Json result = Json::parse(o.out);
  EXPECT_EQ(result["firstPosition"], kInit + 1);
  EXPECT_EQ(result["lastPosition"], kInit + 3);
  EXPECT_EQ(result["firstVersion"], 1);
  EXPECT_EQ(result["lastVersion"], 3);
  EXPECT_EQ(result["duplicate"], false);
  EXPECT_EQ(result["events"], 3);
  ASSERT_EQ(result["ids"].size(), 3u);
  EXPECT_EQ(result["ids"][0], "0f8fad5b-d9cb-469f-a165-70867728950e");
  std::string generated = result["ids"][2];
  EXPECT_EQ(generated.size(), 36u);

  o = Hearth({"read", "--stream", "case-1"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> events = JsonLines(o.out);
  ASSERT_EQ(events.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    Json in = Json::parse(kCaseEvents[i]);
    const Json& e = events[i];
    EXPECT_EQ(e["position"], kInit + i + 1);
    EXPECT_EQ(e["stream"], "case-1");
    EXPECT_EQ(e["streamVersion"], i + 1);
    EXPECT_EQ(e["type"], in["type"]);
    EXPECT_EQ(e["facts"], in["facts"]) << e.dump();
    EXPECT_EQ(e["id"], result["ids"][i]);
  }
  // Event 1: every field back as given; times in RFC 3339 UTC.
  Json first = Json::parse(kCaseEvents[0]);
  EXPECT_EQ(events[0]["schemaVersion"], 2);
  EXPECT_EQ(events[0]["occurredAt"], "2026-03-01T09:30:00.000000Z");
  EXPECT_EQ(events[0]["actor"], first["actor"]);
  EXPECT_EQ(events[0]["correlationId"], first["correlationId"]);
  EXPECT_EQ(events[0]["subjects"], first["subjects"]);
  ASSERT_EQ(events[0]["personal"].size(), 1u);
  EXPECT_EQ(events[0]["personal"][0]["subject"], "P-0001");
  EXPECT_EQ(events[0]["personal"][0]["data"], first["personal"][0]["data"]);
  // Event 2: µs integer time, default role, default schema version.
  EXPECT_EQ(events[1]["occurredAt"], "2026-03-01T09:30:00.000000Z");
  EXPECT_EQ(events[1]["schemaVersion"], 1);
  EXPECT_EQ(events[1]["causationId"], "0f8fad5b-d9cb-469f-a165-70867728950e");
  EXPECT_EQ(events[1]["subjects"][0]["role"], "client");
  EXPECT_EQ(events[1]["subjects"][1]["role"], "carer");
  EXPECT_EQ(events[1]["personal"][0]["data"], "Carey McCarerface");
  // Event 3: a numeric offset is converted to UTC; fractions kept.
  EXPECT_EQ(events[2]["occurredAt"], "2026-03-02T09:00:00.500000Z");
  EXPECT_FALSE(events[2].contains("correlationId"));

  // Whole log from a position; one subject; backwards with a limit.
  o = Hearth({"read", "--from", std::to_string(kInit + 2)});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> tail = JsonLines(o.out);
  ASSERT_EQ(tail.size(), 2u);
  EXPECT_EQ(tail[0], events[1]);
  EXPECT_EQ(tail[1], events[2]);
  o = Hearth({"read", "--subject", "P-0002"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> carer = JsonLines(o.out);
  ASSERT_EQ(carer.size(), 1u);
  EXPECT_EQ(carer[0], events[1]);
  o = Hearth({"read", "--stream", "case-1", "--backward", "--limit", "2"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> back = JsonLines(o.out);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], events[2]);
  EXPECT_EQ(back[1], events[1]);

  Json info = Info();
  EXPECT_EQ(info["events"], kInit + 3);
  EXPECT_EQ(info["lastPosition"], kInit + 3);
  EXPECT_EQ(info["streams"], 2);  // case-1 and config/processing
  EXPECT_EQ(info["subjects"], 2);
  EXPECT_EQ(info["erasedSubjects"], 0);
  EXPECT_EQ(info["tree"]["size"], kInit + 3);
  EXPECT_EQ(info["tree"]["root"].get<std::string>().size(), 64u);
  EXPECT_GT(info["diskBytes"], 0);
  EXPECT_EQ(info["formatVersion"], 1);
  // Each command's writes are in table files once the next one has opened
  // the store (its log is flushed on recovery): every record is counted,
  // each with at least its 8-byte position key, and the log's family holds
  // them within the store's disk bytes.
  EXPECT_EQ(info["tableRecords"], kInit + 3);
  EXPECT_GT(info["tableRecordBytes"].get<uint64_t>(), (kInit + 3) * 8u);
  ASSERT_TRUE(info["columnFamilyBytes"].contains("log")) << info.dump();
  uint64_t families = 0;
  for (const auto& [name, bytes] : info["columnFamilyBytes"].items()) families += bytes.get<uint64_t>();
  EXPECT_GE(info["columnFamilyBytes"]["log"].get<uint64_t>(), info["tableRecordBytes"].get<uint64_t>() / 2);
  EXPECT_LE(families, info["diskBytes"].get<uint64_t>());

  Output text = Hearth({"info"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("events:          " + std::to_string(kInit + 3)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("records:         " + std::to_string(kInit + 3) + " in table files"), std::string::npos)
      << text.out;
}

TEST_F(CliTest, RetryWithTheSameIdsIsADuplicate) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, CaseInput(2)).code, 0);
  Output o = Hearth({"append", "--stream", "case-1"}, CaseInput(2));
  ASSERT_EQ(o.code, 0) << o.err;
  Json result = Json::parse(o.out);
  EXPECT_EQ(result["duplicate"], true);
  EXPECT_EQ(result["firstPosition"], kInit + 1);
  EXPECT_EQ(Info()["events"], kInit + 2);
}

TEST_F(CliTest, MalformedLineWritesNothing) {
  Init();
  std::string lines = SmallEvents(1) + R"({"type":"NoteAdded","facts":)" + "\n" + SmallEvents(1);
  Output o = Hearth({"append", "--stream", "case-1"}, lines);
  EXPECT_TRUE(FailsWith(o, 1, "line 2: malformed JSON"));
  EXPECT_EQ(Info()["events"], kInit);

  struct Case {
    std::string line;
    std::string needle;
  };
  std::vector<Case> cases = {
      {R"({"type":"NoteAdded","factz":{}})", "line 3: unknown field 'factz'"},
      {R"({"facts":{}})", "line 3: field 'type' is missing"},
      {R"({"type":"NoteAdded","id":"not-a-uuid"})", "field 'id' is not a UUID"},
      {R"({"type":"NoteAdded","subjects":[{"id":"P-1","role":"boss"}]})",
       "field 'subjects[0].role' is 'boss'"},
      {R"({"type":"NoteAdded","occurredAt":"yesterday"})", "field 'occurredAt' must be an RFC 3339"},
      {R"({"type":"NoteAdded","occurredAt":"2026-02-30T00:00:00Z"})", "field 'occurredAt'"},
      {R"({"type":"NoteAdded","schemaVersion":0})", "field 'schemaVersion'"},
      {R"({"type":"NoteAdded","personal":[{"data":"x"}]})", "field 'personal[0].subject' is missing"},
      {R"([1,2])", "line 3: an event must be a JSON object"},
  };
  for (const Case& c : cases) {
    o = Hearth({"append", "--stream", "case-1"}, SmallEvents(2) + c.line + "\n");
    EXPECT_TRUE(FailsWith(o, 1, c.needle)) << c.line;
  }
  // Refused by the store (a personal section for a subject the event does
  // not name): still nothing written.
  o = Hearth({"append", "--stream", "case-1"},
             SmallEvents(1) + R"({"type":"NoteAdded","personal":[{"subject":"P-9","data":"x"}]})" + "\n");
  EXPECT_TRUE(FailsWith(o, 1, "InvalidArgument"));
  EXPECT_TRUE(FailsWith(Hearth({"append", "--stream", "case-1"}, ""), 1, "no events"));
  EXPECT_EQ(Info()["events"], kInit);
}

TEST_F(CliTest, WrongExpectedVersionIsAConflict) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1", "--expect", "no-stream"}, SmallEvents(2)).code, 0);
  EXPECT_TRUE(FailsWith(Hearth({"append", "--stream", "case-1", "--expect", "no-stream"},
                               SmallEvents(1)),
                        2, "Conflict"));
  EXPECT_TRUE(FailsWith(Hearth({"append", "--stream", "case-1", "--expect", "1"}, SmallEvents(1)),
                        2, "Conflict"));
  EXPECT_TRUE(FailsWith(Hearth({"append", "--stream", "case-1", "--expect", "soon"}, SmallEvents(1)),
                        1, "--expect"));
  EXPECT_EQ(Info()["events"], kInit + 2);
  Output o = Hearth({"append", "--stream", "case-1", "--expect", "2"}, SmallEvents(1));
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(Json::parse(o.out)["lastVersion"], 3);
}

TEST_F(CliTest, UnknownStreamOrSubjectIsNotFound) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, SmallEvents(1)).code, 0);
  EXPECT_TRUE(FailsWith(Hearth({"read", "--stream", "case-404"}), 1, "NotFound"));
  EXPECT_TRUE(FailsWith(Hearth({"read", "--subject", "P-404"}), 1, "NotFound"));
  // Past the end of the log is simply empty.
  Output o = Hearth({"read", "--from", "50"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST_F(CliTest, APathThatIsNotAStore) {
  fs::create_directories(Path("other"));
  Spit(Path("other/notes.txt"), "not a store");
  Spit(key_, std::string(32, 'k'));
  ::chmod(key_.c_str(), 0600);
  EXPECT_TRUE(FailsWith(Run({"read", "--data", Path("other"), "--key-file", key_}), 1,
                        "not a hearth store"));
  EXPECT_TRUE(FailsWith(Run({"info", "--data", Path("missing"), "--key-file", key_}), 1,
                        "no hearth store"));
  EXPECT_FALSE(fs::exists(Path("missing")));
  EXPECT_EQ(Slurp(Path("other/notes.txt")), "not a store");
}

TEST_F(CliTest, KeyFileOpenToOthersIsRefused) {
  Init();
  ::chmod(key_.c_str(), 0644);
  EXPECT_TRUE(FailsWith(Hearth({"append", "--stream", "case-1"}, SmallEvents(1)), 1, "chmod 600"));
  ::chmod(key_.c_str(), 0600);
  EXPECT_EQ(Info()["events"], kInit);
}

TEST_F(CliTest, WrongKeyIsRefused) {
  Init();
  ASSERT_EQ(Run({"init", "--data", Path("second"), "--key-file", Path("other.key")}).code, 0);
  EXPECT_TRUE(FailsWith(Run({"append", "--data", data_, "--key-file", Path("other.key"),
                             "--stream", "case-1"},
                            SmallEvents(1)),
                        1, "WrongKey"));
  EXPECT_TRUE(FailsWith(Run({"read", "--data", data_}), 1, "no root key"));
  EXPECT_EQ(Info()["events"], kInit);
}

TEST_F(CliTest, EraseThenReadShowsErased) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, CaseInput()).code, 0);
  Output o = Hearth({"erase", "--subject", "P-0002", "--reason", "art17-request", "--actor", "S-009"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("erased subject P-0002"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("position " + std::to_string(kInit + 4)), std::string::npos) << o.out;

  o = Hearth({"read", "--stream", "case-1"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> events = JsonLines(o.out);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["personal"], Json::parse(R"([{"subject":"P-0002","erased":true}])"));
  EXPECT_EQ(events[1]["facts"], Json::parse(R"({"element":5,"urgent":true})"));
  EXPECT_EQ(events[0]["personal"][0]["data"]["name"], "Testy McTestface");
  EXPECT_EQ(o.out.find("Carey McCarerface"), std::string::npos);

  o = Hearth({"erase", "--subject", "P-0002", "--reason", "art17-request"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("already erased"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("position " + std::to_string(kInit + 4)), std::string::npos) << o.out;
  EXPECT_TRUE(FailsWith(Hearth({"erase", "--subject", "P-404", "--reason", "art17-request"}), 1,
                        "NotFound"));
  EXPECT_TRUE(FailsWith(Hearth({"erase", "--subject", "P-0001", "--reason", "because they asked"}),
                        1, "reason"));
  Json info = Info();
  EXPECT_EQ(info["erasedSubjects"], 1);
  EXPECT_EQ(info["events"], kInit + 4);
  // Personal data for an erased subject is refused.
  o = Hearth({"append", "--stream", "case-1"},
             R"({"type":"NoteAdded","subjects":[{"id":"P-0002"}],"personal":[{"subject":"P-0002","data":"x"}]})"
             "\n");
  EXPECT_TRUE(FailsWith(o, 1, "Erased"));
}

TEST_F(CliTest, ReadStreamsInPagesAndHoldsTheStoreLocked) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, SmallEvents(2500)).code, 0);
  ASSERT_EQ(Hearth({"append", "--stream", "case-2"}, SmallEvents(3)).code, 0);
  Output o = Hearth({"read", "--from", "1"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> all = JsonLines(o.out);
  ASSERT_EQ(all.size(), kInit + 2503u);
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i]["position"], i + 1);
  EXPECT_EQ(all[0]["stream"], "config/processing");
  o = Hearth({"read", "--stream", "case-1", "--from", "500", "--limit", "1200"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> part = JsonLines(o.out);
  ASSERT_EQ(part.size(), 1200u);
  EXPECT_EQ(part.front()["streamVersion"], 500);
  EXPECT_EQ(part.back()["streamVersion"], 1699);
  o = Hearth({"read", "--stream", "case-1", "--backward"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> back = JsonLines(o.out);
  ASSERT_EQ(back.size(), 2500u);
  for (size_t i = 0; i < back.size(); ++i) ASSERT_EQ(back[i]["streamVersion"], 2500 - i);

  // A read whose output nobody drains holds the store open (its first page
  // is far larger than a pipe): meanwhile another command gets Locked.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string bin = HEARTH_CLI, cmd = "read", d = "--data", k = "--key-file";
  char* argv[] = {bin.data(), cmd.data(), d.data(), data_.data(), k.data(), key_.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t reader = -1;
  ASSERT_EQ(posix_spawn(&reader, argv[0], &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  char first = 0;
  ASSERT_EQ(::read(fds[0], &first, 1), 1);  // it has opened the store and is printing
  EXPECT_TRUE(FailsWith(Hearth({"info"}), 2, "Locked"));
  ::close(fds[0]);  // the reader dies of SIGPIPE
  int status = 0;
  ::waitpid(reader, &status, 0);
  EXPECT_EQ(Info()["events"], kInit + 2503);
}

// Everything the program writes when both its stdout and stderr are a
// terminal (a pseudo-terminal made here), as a person at a shell sees it.
std::string RunOnTerminal(const std::vector<std::string>& args, int* code) {
  std::vector<std::string> argv_s = {HEARTH_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) {
    *code = -1;
    return "forkpty failed";
  }
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::string seen;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(master, buf, sizeof buf);
    if (r > 0) {
      seen.append(buf, size_t(r));
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    break;  // EOF, or EIO once the child has gone
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return seen;
}

// docs/cli.md, "Progress": long commands show progress on a terminal, say
// nothing of it with --quiet, and never write it into a pipe or a file.
TEST_F(CliTest, ProgressIsShownOnATerminalOnlyAndNeverInAPipe) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, SmallEvents(40)).code, 0);
  ASSERT_EQ(Hearth({"checkpoint"}).code, 0);
  ASSERT_EQ(Hearth({"keys", "export-public", "--out", Path("pub.hex")}).code, 0);
  std::vector<std::string> verify = {"verify", "--data", data_, "--public-key", Path("pub.hex")};
  std::vector<std::string> rebuild = {"rebuild", "cases", "--data", data_, "--key-file", key_};
  std::string total = std::to_string(kInit + 40);

  int code = -1;
  std::string seen = RunOnTerminal(verify, &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_NE(seen.find("verify: " + total + " of " + total + " records hashed (100%)"),
            std::string::npos) << seen;
  seen = RunOnTerminal(rebuild, &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_NE(seen.find("rebuild cases: " + total + " of " + total + " events (100%)"),
            std::string::npos) << seen;

  // --quiet: the same commands, the same answers, no progress.
  auto quiet = [](std::vector<std::string> a) {
    a.push_back("--quiet");
    return a;
  };
  seen = RunOnTerminal(quiet(verify), &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_NE(seen.find("OK: " + total + " records hashed"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("(100%)"), std::string::npos) << seen;
  seen = RunOnTerminal(quiet(rebuild), &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_EQ(seen.find("(100%)"), std::string::npos) << seen;

  // Into files (as into a pipe): stdout carries the answer only, stderr nothing.
  for (const auto& args : {verify, rebuild}) {
    Output o = Run(args);
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(o.err, "") << o.err;
    EXPECT_EQ(o.out.find('\r'), std::string::npos) << o.out;
    EXPECT_EQ(o.out.find("(100%)"), std::string::npos) << o.out;
  }
}

// `hearth demo` shows the cases it has recorded of the county's, `hearth
// export` the log it has read and `hearth backup` the bytes it has written,
// on a terminal (at county scale each runs for minutes), never into a pipe;
// the demo leaves every projection current.
TEST_F(CliTest, DemoExportAndBackupShowProgressOnATerminalOnly) {
  std::vector<std::string> demo = {"demo", "--data", Path("demo"), "--key-file", Path("demo.key"),
                                   "--cases-per-district", "4", "--threads", "1"};
  // Into files (as into a pipe): the answer on stdout, nothing on stderr.
  Output o = Run(demo);
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err, "") << o.err;
  EXPECT_EQ(o.out.find('\r'), std::string::npos);
  int cases = Json::parse(o.out)["cases"].get<int>();
  EXPECT_GT(Json::parse(o.out)["projections"]["cases"].get<uint64_t>(), 0u) << o.out;
  EXPECT_GE(cases, 24);  // four in each of the six districts
  // On a terminal, the same county shows its cases recorded of the total.
  demo[2] = Path("demo2");
  demo[4] = Path("demo2.key");
  int code = -1;
  std::string seen = RunOnTerminal(demo, &code);
  EXPECT_EQ(code, 0) << seen;
  std::string n = std::to_string(cases);
  EXPECT_NE(seen.find("demo: " + n + " of " + n + " cases (100%)"), std::string::npos) << seen;
  demo.push_back("--quiet");
  demo[2] = Path("demo3");
  demo[4] = Path("demo3.key");
  seen = RunOnTerminal(demo, &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_EQ(seen.find("(100%)"), std::string::npos) << seen;

  // The demo leaves every read model's projection current (issue 22.4):
  // the first worklist after it folds nothing.
  o = Run({"info", "--data", Path("demo2"), "--key-file", Path("demo2.key"), "--json"});
  ASSERT_EQ(o.code, 0) << o.err;
  Json info = Json::parse(o.out);
  ASSERT_FALSE(info["projections"].empty()) << o.out;
  for (const auto& p : info["projections"]) {
    EXPECT_EQ(p["lag"], 0) << p.dump();
    EXPECT_EQ(p["position"], info["lastPosition"]) << p.dump();
  }
  // The export reads the whole log up to its position.
  std::string last = std::to_string(info["lastPosition"].get<uint64_t>());
  for (size_t i = last.size(); i > 3; i -= 3) last.insert(i - 3, ",");  // as docs/cli.md prints counts
  std::vector<std::string> kpi = {"export", "kpi", "--data", Path("demo2"), "--key-file", Path("demo2.key"),
                                  "--year", "2018/19", "--policy", "none", "--out", Path("kpi-term")};
  seen = RunOnTerminal(kpi, &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_NE(seen.find("export kpi: " + last + " of " + last + " events (100%)"), std::string::npos) << seen;
  kpi.back() = Path("kpi-pipe");
  o = Run(kpi);
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err.find("(100%)"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find('\r'), std::string::npos) << o.err;

  // The backup: the bytes in its directory of the store's.
  std::vector<std::string> backup = {"backup", "--data", Path("demo2"), "--key-file", Path("demo2.key"),
                                     "--out", Path("backup-term")};
  seen = RunOnTerminal(backup, &code);
  EXPECT_EQ(code, 0) << seen;
  EXPECT_NE(seen.find("backup: "), std::string::npos) << seen;
  EXPECT_NE(seen.find(" bytes (100%)"), std::string::npos) << seen;
  backup.back() = Path("backup-pipe");
  o = Run(backup);
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err, "") << o.err;
}

TEST_F(CliTest, CheckpointProveVerifyProofRoundTrip) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, SmallEvents(5)).code, 0);
  Output o = Hearth({"checkpoint"});
  ASSERT_EQ(o.code, 0) << o.err;
  Spit(Path("cp5.json"), o.out);  // (named by the operator's events: the tree also holds init's)
  EXPECT_EQ(Json::parse(o.out)["size"], kInit + 5);
  ASSERT_EQ(Hearth({"append", "--stream", "case-2"}, SmallEvents(3)).code, 0);
  o = Hearth({"checkpoint"});
  ASSERT_EQ(o.code, 0) << o.err;
  Spit(Path("cp8.json"), o.out);
  o = Hearth({"checkpoints"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> cps = JsonLines(o.out);
  ASSERT_EQ(cps.size(), 3u);  // init's first commit is signed by the hourly cadence
  EXPECT_EQ(cps[0]["size"], kInit);
  EXPECT_EQ(cps[1]["size"], kInit + 5);
  EXPECT_EQ(cps[2]["size"], kInit + 8);

  o = Hearth({"keys", "export-public", "--out", Path("pub.hex")});
  ASSERT_EQ(o.code, 0) << o.err;
  o = Hearth({"keys", "export-public"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, Slurp(Path("pub.hex")));
  EXPECT_EQ(o.out.size(), 65u);

  // Inclusion of position 3 in the tree of cp5.json.
  o = Hearth({"prove", "--position", "3", "--size", std::to_string(kInit + 5)});
  ASSERT_EQ(o.code, 0) << o.err;
  Json proof = Json::parse(o.out);
  EXPECT_EQ(proof["type"], "inclusion");
  EXPECT_EQ(proof["position"], 3);
  EXPECT_EQ(proof["treeSize"], kInit + 5);
  Spit(Path("incl.json"), o.out);
  auto verify_incl = [&](const std::string& cp) {
    return Run({"verify-proof", "--proof", Path("incl.json"), "--checkpoint", Path(cp),
                "--public-key", Path("pub.hex")});
  };
  o = verify_incl("cp5.json");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.rfind("OK: ", 0), 0u) << o.out;
  EXPECT_TRUE(FailsWith(verify_incl("cp8.json"), 1, "size"));

  // A changed byte in the record, or in the path: detected.
  Json bad = proof;
  std::string record = bad["record"];
  record[4] = record[4] == 'A' ? 'B' : 'A';
  bad["record"] = record;
  Spit(Path("incl.json"), bad.dump());
  EXPECT_TRUE(FailsWith(verify_incl("cp5.json"), 3, "Corruption"));
  bad = proof;
  std::string step = bad["path"][0];
  step[0] = step[0] == '0' ? '1' : '0';
  bad["path"][0] = step;
  Spit(Path("incl.json"), bad.dump());
  EXPECT_TRUE(FailsWith(verify_incl("cp5.json"), 3, "Corruption"));

  // A checkpoint with a forged root fails its signature.
  Json forged = Json::parse(Slurp(Path("cp5.json")));
  std::string root = forged["root"];
  root[0] = root[0] == 'a' ? 'b' : 'a';
  forged["root"] = root;
  Spit(Path("forged.json"), forged.dump());
  Spit(Path("incl.json"), proof.dump());
  EXPECT_TRUE(FailsWith(verify_incl("forged.json"), 3, "signature"));

  // Another store's key does not verify these checkpoints.
  ASSERT_EQ(Run({"init", "--data", Path("second"), "--key-file", Path("other.key")}).code, 0);
  ASSERT_EQ(Run({"keys", "export-public", "--data", Path("second"), "--key-file",
                 Path("other.key"), "--out", Path("other.hex")})
                .code,
            0);
  EXPECT_TRUE(FailsWith(Run({"verify-proof", "--proof", Path("incl.json"), "--checkpoint",
                             Path("cp5.json"), "--public-key", Path("other.hex")}),
                        3, "signature"));

  // Consistency from cp5.json's tree to cp8.json's, checkpoints in either order.
  o = Hearth({"prove", "--from", std::to_string(kInit + 5), "--to", std::to_string(kInit + 8)});
  ASSERT_EQ(o.code, 0) << o.err;
  Json cons = Json::parse(o.out);
  EXPECT_EQ(cons["type"], "consistency");
  Spit(Path("cons.json"), o.out);
  auto verify_cons = [&](const std::string& a, const std::string& b) {
    return Run({"verify-proof", "--proof", Path("cons.json"), "--checkpoint", Path(a),
                "--checkpoint2", Path(b), "--public-key", Path("pub.hex")});
  };
  o = verify_cons("cp5.json", "cp8.json");
  EXPECT_EQ(o.code, 0) << o.err;
  o = verify_cons("cp8.json", "cp5.json");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_TRUE(FailsWith(Run({"verify-proof", "--proof", Path("cons.json"), "--checkpoint",
                             Path("cp5.json"), "--public-key", Path("pub.hex")}),
                        1, "--checkpoint2"));
  bad = cons;
  ASSERT_FALSE(bad["path"].empty());
  step = bad["path"][0];
  step[0] = step[0] == '0' ? '1' : '0';
  bad["path"][0] = step;
  Spit(Path("cons.json"), bad.dump());
  EXPECT_TRUE(FailsWith(verify_cons("cp5.json", "cp8.json"), 3, "Corruption"));

  // Beyond the tree: a clear error.
  EXPECT_TRUE(FailsWith(Hearth({"prove", "--position", std::to_string(kInit + 9)}), 1, "not in the tree"));
  EXPECT_TRUE(FailsWith(Hearth({"prove", "--from", "5", "--to", "99"}), 1, "InvalidArgument"));
  EXPECT_TRUE(FailsWith(Hearth({"prove"}), 1, "--position"));
}

TEST_F(CliTest, VerifyNeedsNoKeyAndPassesOnAnUntouchedStore) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, CaseInput()).code, 0);
  ASSERT_EQ(Hearth({"checkpoint"}).code, 0);
  ASSERT_EQ(Hearth({"append", "--stream", "case-2"}, SmallEvents(4)).code, 0);
  ASSERT_EQ(Hearth({"erase", "--subject", "P-0001", "--reason", "art17-request"}).code, 0);
  ASSERT_EQ(Hearth({"checkpoint"}).code, 0);
  ASSERT_EQ(Hearth({"keys", "export-public", "--out", Path("pub.hex")}).code, 0);

  // No --key-file and no HEARTH_PASSPHRASE: verify must not need them.
  Output o = Run({"verify", "--data", data_, "--public-key", Path("pub.hex")});
  ASSERT_EQ(o.code, 0) << o.err << o.out;
  EXPECT_NE(o.out.find("OK: " + std::to_string(kInit + 8) + " records hashed, 3 checkpoints"), std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("checked: "), std::string::npos) << o.out;

  // The wrong public key fails every checkpoint.
  ASSERT_EQ(Run({"init", "--data", Path("second"), "--key-file", Path("other.key")}).code, 0);
  ASSERT_EQ(Run({"keys", "export-public", "--data", Path("second"), "--key-file",
                 Path("other.key"), "--out", Path("other.hex")})
                .code,
            0);
  o = Run({"verify", "--data", data_, "--public-key", Path("other.hex")});
  EXPECT_TRUE(FailsWith(o, 3, "verification failed"));
  Spit(Path("junk.hex"), "not a key");
  EXPECT_TRUE(FailsWith(Run({"verify", "--data", data_, "--public-key", Path("junk.hex")}), 1,
                        "64 hex digits"));
}

TEST_F(CliTest, BackupOpensWithTheSameKeyAndVerifies) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, CaseInput()).code, 0);
  ASSERT_EQ(Hearth({"checkpoint"}).code, 0);
  std::string backup = Path("backup");
  Output o = Hearth({"backup", "--out", backup});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("up to position " + std::to_string(kInit + 3)), std::string::npos) << o.out;
  // Writes after the backup stay out of it.
  ASSERT_EQ(Hearth({"append", "--stream", "case-2"}, SmallEvents(2)).code, 0);
  o = Run({"info", "--json", "--data", backup, "--key-file", key_});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(Json::parse(o.out)["events"], kInit + 3);
  o = Run({"read", "--data", backup, "--key-file", key_, "--stream", "case-1"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Carey McCarerface"), std::string::npos) << o.out;
  ASSERT_EQ(Hearth({"keys", "export-public", "--out", Path("pub.hex")}).code, 0);
  o = Run({"verify", "--data", backup, "--public-key", Path("pub.hex")});
  EXPECT_EQ(o.code, 0) << o.err << o.out;
  // Another key does not open it; an existing directory is refused.
  ASSERT_EQ(Run({"init", "--data", Path("other"), "--key-file", Path("other.key")}).code, 0);
  EXPECT_TRUE(FailsWith(Run({"info", "--data", backup, "--key-file", Path("other.key")}), 1,
                        "wrong key"));
  EXPECT_TRUE(FailsWith(Hearth({"backup", "--out", backup}), 1, "already exists"));
}

TEST_F(CliTest, KeysRotate) {
  Init();
  ASSERT_EQ(Hearth({"append", "--stream", "case-1"}, CaseInput()).code, 0);
  std::string new_key = Path("new.key");
  // A wrong current key changes nothing, not even the new key file.
  ASSERT_EQ(Run({"init", "--data", Path("second"), "--key-file", Path("other.key")}).code, 0);
  EXPECT_TRUE(FailsWith(Run({"keys", "rotate", "--data", data_, "--key-file", Path("other.key"),
                             "--new-key-file", new_key}),
                        1, "WrongKey"));
  EXPECT_FALSE(fs::exists(new_key));

  Output o = Hearth({"keys", "rotate", "--new-key-file", new_key});
  ASSERT_EQ(o.code, 0) << o.err;
  struct stat st {};
  ASSERT_EQ(::stat(new_key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(FailsWith(Hearth({"read", "--stream", "case-1"}), 1, "WrongKey"));
  o = Run({"read", "--stream", "case-1", "--data", data_, "--key-file", new_key});
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> events = JsonLines(o.out);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["personal"][0]["data"]["name"], "Testy McTestface");
  EXPECT_TRUE(FailsWith(Run({"keys", "rotate", "--data", data_, "--key-file", new_key}), 1,
                        "HEARTH_NEW_PASSPHRASE"));
}

TEST_F(CliTest, PassphraseFromTheEnvironment) {
  std::map<std::string, std::string> env = {{"HEARTH_PASSPHRASE", "correct horse battery staple"}};
  EXPECT_TRUE(FailsWith(Run({"init", "--data", data_}), 1, "HEARTH_PASSPHRASE"));
  Output o = Run({"init", "--data", data_}, "", env);
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("$HEARTH_PASSPHRASE"), std::string::npos) << o.out;
  // Reopened with the same passphrase (each opening costs an Argon2id
  // derivation, about a second, so this is the only other one).
  o = Run({"append", "--data", data_, "--stream", "case-1"}, CaseInput(1), env);
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(Json::parse(o.out)["lastPosition"], kInit + 1);
}

TEST_F(CliTest, UsageErrorsAndHelp) {
  EXPECT_TRUE(FailsWith(Run({}), 1, "InvalidArgument"));
  EXPECT_TRUE(FailsWith(Run({"frobnicate"}), 1, "InvalidArgument"));
  EXPECT_TRUE(FailsWith(Run({"read"}), 1, "--data"));
  EXPECT_TRUE(FailsWith(Run({"keys"}), 1, "InvalidArgument"));
  EXPECT_TRUE(FailsWith(Run({"read", "--data", data_, "--stream", "a", "--subject", "b"}), 1,
                        "not both"));
  EXPECT_TRUE(FailsWith(Run({"read", "--data", data_, "--backward"}), 1, "--stream"));
  EXPECT_TRUE(FailsWith(Run({"help", "nonsense"}), 1, "no command"));
  Output o = Run({"--version"});
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(o.out.rfind("hearth ", 0), 0u) << o.out;
  o = Run({"help"});
  EXPECT_EQ(o.code, 0);
  for (const char* cmd : {"init", "append", "read", "info", "erase", "keys", "checkpoint",
                          "checkpoints", "prove", "verify", "verify-proof"}) {
    EXPECT_NE(o.out.find(cmd), std::string::npos) << cmd;
  }
  o = Run({"help", "keys", "rotate"});
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("--new-key-file"), std::string::npos) << o.out;
  o = Run({"append", "--help"});
  EXPECT_EQ(o.code, 0);
  EXPECT_NE(o.out.find("--expect"), std::string::npos) << o.out;
  // The data directory may come from $HEARTH_DATA.
  o = Run({"info", "--key-file", key_}, "", {{"HEARTH_DATA", Path("missing")}});
  EXPECT_TRUE(FailsWith(o, 1, "no hearth store"));
}

// The enquiry that opens case/D1/000001 (synthetic person), in the domain
// form every front end speaks.
const char* kEnquiry =
    R"({"type":"ContactRecorded","occurredAt":"2018-04-03","actor":{"user":"S-001","role":"caseworker"},)"
    R"("facts":{"contactedOn":"2018-04-03","district":"D1","channel":"phone","referrerType":"self",)"
    R"("purpose":"enquiry"},"personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina",)"
    R"("familyName":"Quillfeather","postcode":"ZZ3 1AB","nhsNumber":"999 000 0018"}}]})";

// `hearth append` to a case goes through the recorder the server uses: facts
// are checked against the schema by name, the case's rules apply, and a
// refusal writes nothing. Before, free-text facts were stored as JSON text
// where every case event holds a packed Facts message, and `timeline` and
// `rebuild` stopped for good with "not a packed Facts message".
TEST_F(CliTest, CaseAppendsGoThroughTheRecorderAndRefuseFreeTextFacts) {
  Init();
  const std::string kCase = "case/D1/000001";
  Output o = Hearth({"append", "--stream", kCase, "--expect", "no-stream"},
                    std::string(kEnquiry) + "\n");
  ASSERT_EQ(o.code, 0) << o.err;
  const int events = kInit + 1;

  // An unknown key holding free text: refused, the field named.
  o = Hearth({"append", "--stream", kCase},
             R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-05-01","note":"Mrs Example rang about her hip"}})"
             "\n");
  EXPECT_TRUE(FailsWith(o, 1, "facts.note")) << o.err;
  // The same free text smuggled as bytes, or under a type the domain does not
  // define, or breaking a rule: refused too.
  o = Hearth({"append", "--stream", kCase},
             R"({"type":"ContactRecorded","factsBase64":"eyJub3RlIjoiaGlwIn0="})" "\n");
  EXPECT_TRUE(FailsWith(o, 1, "factsBase64")) << o.err;
  o = Hearth({"append", "--stream", kCase}, R"({"type":"FreeNote","facts":{"note":"hip"}})" "\n");
  EXPECT_TRUE(FailsWith(o, 1, "rule unknown-event-type")) << o.err;
  o = Hearth({"append", "--stream", kCase}, std::string(kEnquiry) + "\n");
  EXPECT_TRUE(FailsWith(o, 1, "rule enquiry-on-open-case")) << o.err;
  // A code where free text was put: refused with the field named.
  o = Hearth({"append", "--stream", kCase},
             R"({"type":"ContactRecorded","facts":{"contactedOn":"2018-05-01","channel":"rang from hospital"}})"
             "\n");
  EXPECT_TRUE(FailsWith(o, 1, "facts.channel")) << o.err;
  EXPECT_EQ(Info()["events"], events);

  // The projections still run, and `read` prints the facts as JSON.
  Output timeline = Hearth({"timeline", "--case", "D1/000001"});
  EXPECT_EQ(timeline.code, 0) << timeline.err;
  Output rebuild = Hearth({"rebuild"});
  EXPECT_EQ(rebuild.code, 0) << rebuild.err;
  Output read = Hearth({"read", "--stream", kCase});
  ASSERT_EQ(read.code, 0) << read.err;
  std::vector<Json> lines = JsonLines(read.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["facts"]["contactedOn"], "2018-04-03") << lines[0].dump();
  EXPECT_EQ(lines[0]["facts"]["channel"], "phone");
  EXPECT_FALSE(lines[0].contains("factsBase64")) << lines[0].dump();
  EXPECT_EQ(lines[0]["personal"][0]["details"]["familyName"], "Quillfeather");
}

// docs/domain.md, "Equality codes": `hearth append` refuses an equality code
// outside its list (an unknown name, or a number) naming the field, and
// writes nothing; a code of the list, declined included, is recorded and
// read back by name.
TEST_F(CliTest, AppendRefusesAnEqualityCodeOutsideItsListNamingTheField) {
  Init();
  const std::string kCase = "case/D1/000001";
  ASSERT_EQ(Hearth({"append", "--stream", kCase, "--expect", "no-stream"}, std::string(kEnquiry) + "\n").code, 0);
  const int events = kInit + 1;
  auto registered = [](const std::string& codes) {
    return R"({"type":"PersonRegistered","actor":{"user":"S-001","role":"adminOfficer"},)"
           R"("facts":{"registeredOn":"2018-04-03","ageBand":"75-84",)" + codes +
           R"(},"personal":[{"subject":"P-1","role":"client","details":{"givenName":"Testina"}}]})" "\n";
  };
  for (const char* codes : {R"("ethnicity":"martian")", R"("ethnicity":7)", R"("disability":"yes")",
                            R"("learningDisability":"maybe")", R"("mainLanguage":"klingon")"}) {
    Output o = Hearth({"append", "--stream", kCase}, registered(codes));
    std::string field = std::string(codes).substr(1, std::string(codes).find('"', 1) - 1);
    EXPECT_TRUE(FailsWith(o, 1, "facts." + field)) << codes << ": " << o.err;
  }
  EXPECT_EQ(Info()["events"], events);
  Output ok = Hearth({"append", "--stream", kCase},
                     registered(R"("ethnicity":"whiteIrish","disability":"preferNotToSay","interpreterNeeded":"no")"));
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(Info()["events"], events + 1);
  Output read = Hearth({"read", "--stream", kCase});
  ASSERT_EQ(read.code, 0) << read.err;
  std::vector<Json> lines = JsonLines(read.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["facts"]["ethnicity"], "whiteIrish") << lines[1].dump();
  EXPECT_EQ(lines[1]["facts"]["disability"], "preferNotToSay") << lines[1].dump();
}

// docs/operations.md, "Upgrading": an inline projection the store has no
// checkpoint of at its version is folded from nothing by the open that
// registers it; `hearth rebuild` reports that fold as its rebuild and does
// not fold the log into it a second time. Once it has its checkpoint, the
// next rebuild folds it again, as every other.
TEST_F(CliTest, RebuildDoesNotFoldTwiceWhatItsOpenFoldedFromNothing) {
  Init();  // `hearth init` registers no projection: none has a checkpoint
  const std::string kCase = "case/D1/000001";
  ASSERT_EQ(Hearth({"append", "--stream", kCase, "--expect", "no-stream"}, std::string(kEnquiry) + "\n").code, 0);
  const std::string events = std::to_string(kInit + 1) + " events";
  Output first = Hearth({"rebuild"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("rights_requests: folded from " + events + " as the store opened"), std::string::npos)
      << first.out;
  EXPECT_EQ(first.out.find("rights_requests: rebuilt"), std::string::npos) << first.out;
  EXPECT_NE(first.err.find("rights_requests: new to this store"), std::string::npos) << first.err;
  EXPECT_NE(first.out.find("cases: rebuilt from " + events), std::string::npos) << first.out;
  Output second = Hearth({"rebuild", "rights_requests"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("rights_requests: rebuilt from " + events), std::string::npos) << second.out;
  EXPECT_EQ(second.out.find("as the store opened"), std::string::npos) << second.out;
  EXPECT_EQ(second.err.find("new to this store"), std::string::npos) << second.err;
  // Both have their checkpoints now: a rebuild of all folds them together.
  Output third = Hearth({"rebuild"});
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_NE(third.out.find("cases, rights_requests: rebuilt from " + events), std::string::npos) << third.out;
  EXPECT_NE(third.out.find("one pass over the log"), std::string::npos) << third.out;
}

// docs/cli.md (info): `hearth info` shows each projection's folded position
// and its lag behind the log, without opening (or catching up) the
// projections itself; a read-model command brings it current.
TEST_F(CliTest, InfoShowsEachProjectionsPositionAndLag) {
  Init();
  const std::string kCase = "case/D1/000001";
  ASSERT_EQ(Hearth({"append", "--stream", kCase, "--expect", "no-stream"}, std::string(kEnquiry) + "\n").code, 0);
  ASSERT_EQ(Hearth({"rebuild", "cases"}).code, 0);
  auto cases_of = [&](const Json& info) {
    for (const auto& p : info["projections"]) {
      if (p["name"] == "cases") return p;
    }
    return Json();
  };
  Json current = cases_of(Info());
  ASSERT_FALSE(current.is_null()) << Info().dump();
  EXPECT_EQ(current["lag"], 0) << current.dump();
  EXPECT_EQ(current["position"], Info()["lastPosition"]);
  // Appended by a command that does not run the projections: it is behind
  // by exactly those events, and `info` does not fold them.
  const char* note =
      R"({"type":"CaseNoteAdded","actor":{"user":"S-001","role":"caseworker"},)"
      R"("facts":{"writtenOn":"2018-04-04","authorRef":"S-001","category":"general"},)"
      R"("personal":[{"subject":"P-1","role":"client","details":{"freeText":"Rang back."}}]})";
  ASSERT_EQ(Hearth({"append", "--stream", kCase}, std::string(note) + "\n" + note + "\n").code, 0);
  Json behind = cases_of(Info());
  EXPECT_EQ(behind["lag"], 2) << behind.dump();
  EXPECT_EQ(cases_of(Info())["lag"], 2) << "info folded the projection";
  Output text = Hearth({"info"});
  EXPECT_NE(text.out.find("projection:      cases"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(2 behind)"), std::string::npos) << text.out;
  // A read model of the projection catches it up.
  Output worklist = Hearth({"worklist", "--district", "D1", "--as-of", "2018-06-01"});
  ASSERT_EQ(worklist.code, 0) << worklist.err;
  EXPECT_EQ(cases_of(Info())["lag"], 0);
}

// Who acted is stored in plaintext in the log and its Merkle leaves, where no
// erasure reaches it: `hearth append` takes references only. A full name with
// an NHS-like number as actor.user (or free text as the role or plugin) is
// refused naming the field, without repeating the value, and nothing is written.
TEST_F(CliTest, AppendRefusesAnActorThatIsNotAReference) {
  Init();
  const std::string kName = "Jane Example 943 476 5919";
  const std::string lines[] = {
      R"({"type":"NoteAdded","actor":{"user":")" + kName + R"(","role":"caseworker"},"facts":{"n":1}})",
      R"({"type":"NoteAdded","actor":{"user":"S-001","role":"the caseworker on duty"}})",
      R"({"type":"NoteAdded","actor":{"plugin":")" + std::string(65, 'p') + R"("}})",
  };
  const char* fields[] = {"actor.user", "actor.role", "actor.plugin"};
  for (size_t i = 0; i < 3; ++i) {
    Output o = Hearth({"append", "--stream", "intake-1"}, SmallEvents(1) + lines[i] + "\n");
    EXPECT_TRUE(FailsWith(o, 1, std::string("line 2: ") + fields[i])) << o.err;
    EXPECT_EQ(o.err.find("Example"), std::string::npos) << o.err;
  }
  // On a case, in the domain form, the same.
  std::string enquiry = kEnquiry;
  enquiry.replace(enquiry.find("S-001"), 5, kName);
  Output o = Hearth({"append", "--stream", "case/D1/000002"}, enquiry + "\n");
  EXPECT_TRUE(FailsWith(o, 1, "actor.user")) << o.err;
  EXPECT_EQ(Info()["events"], kInit);
  // References are recorded as given.
  o = Hearth({"append", "--stream", "intake-1"},
             R"({"type":"NoteAdded","actor":{"user":"S-001","role":"caseworker","plugin":"cli:ops@d1"}})" "\n");
  ASSERT_EQ(o.code, 0) << o.err;
  std::vector<Json> read = JsonLines(Hearth({"read", "--stream", "intake-1"}).out);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0]["actor"]["plugin"], "cli:ops@d1");
}

}  // namespace
