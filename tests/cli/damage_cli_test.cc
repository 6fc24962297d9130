// Damage and rewrites, through the command line as a user meets them: each
// test changes a store's files with RocksDB directly, below hearth (the keys
// and values follow docs/format.md, and the Merkle hashes are recomputed
// here from RFC 6962 with libsodium's SHA-256, not with hearth's code), then
// runs the built `hearth` binary. Everyone in here is synthetic.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Hash = std::array<uint8_t, 32>;

struct Output {
  int code = -1;
  std::string out;
  std::string err;
  long max_rss_kb = 0;  // the child's peak resident set
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

// A failure is exactly one line on stderr, "hearth: <Code>: <message>".
::testing::AssertionResult FailsWith(const Output& o, int code, const std::string& needle) {
  if (o.code != code) {
    return ::testing::AssertionFailure() << "exit " << o.code << ", wanted " << code
                                         << "; stderr: " << o.err << "; stdout: " << o.out;
  }
  if (o.err.rfind("hearth: ", 0) != 0 || std::count(o.err.begin(), o.err.end(), '\n') != 1) {
    return ::testing::AssertionFailure() << "stderr is not one 'hearth: ...' line: " << o.err;
  }
  if (o.err.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "stderr lacks '" << needle << "': " << o.err;
  }
  return ::testing::AssertionSuccess();
}

// ---- docs/format.md, written out here ----

void PutBE64(std::string* s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s->push_back(char((v >> (8 * i)) & 0xff));
}
std::string LogKey(uint64_t position) {
  std::string k;
  PutBE64(&k, position);
  return k;
}
std::string MerkleKey(uint8_t level, uint64_t index) {
  std::string k(1, char(level));
  PutBE64(&k, index);
  return k;
}

// RFC 6962: leaf = SHA-256(0x00 || record), node = SHA-256(0x01 || l || r).
Hash Sha(const std::string& bytes) {
  Hash h;
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return h;
}
Hash LeafHash(const std::string& record) { return Sha(std::string(1, '\0') + record); }
Hash NodeHash(const Hash& l, const Hash& r) {
  std::string b(1, '\1');
  b.append(reinterpret_cast<const char*>(l.data()), 32);
  b.append(reinterpret_cast<const char*>(r.data()), 32);
  return Sha(b);
}
std::string Bytes(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), 32); }

// The store's RocksDB files opened for writing, below hearth.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    rocksdb::Options options;
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, dir, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(options, dir, cfs, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    names_ = names;
  }
  ~RawDb() {
    if (db_ == nullptr) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  bool ok() const { return db_ != nullptr; }

  std::string Get(const std::string& cf, const std::string& key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Cf(cf), key, &v);
    EXPECT_TRUE(s.ok()) << cf << ": " << s.ToString();
    return v;
  }
  void Put(const std::string& cf, const std::string& key, const std::string& value) {
    EXPECT_TRUE(db_->Put(rocksdb::WriteOptions(), Cf(cf), key, value).ok());
  }
  void Delete(const std::string& cf, const std::string& key) {
    EXPECT_TRUE(db_->Delete(rocksdb::WriteOptions(), Cf(cf), key).ok());
  }
  // Every key of `cf` that starts with `prefix`.
  std::vector<std::string> Keys(const std::string& cf, const std::string& prefix) {
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Cf(cf)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      keys.push_back(it->key().ToString());
    }
    return keys;
  }
  std::vector<std::string> Values(const std::string& cf) {
    std::vector<std::string> values;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Cf(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) values.push_back(it->value().ToString());
    return values;
  }

 private:
  rocksdb::ColumnFamilyHandle* Cf(const std::string& name) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return handles_[i];
    }
    ADD_FAILURE() << "no column family " << name;
    return handles_[0];
  }
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::vector<std::string> names_;
};

// Rewrites the log to its first `keep` records as someone with the files but
// no key could: drops the later records, every checkpoint, and the stored
// Merkle nodes, then writes the nodes and the head (its counters kept, its
// frontier recomputed) that a store of `keep` records would hold.
void RewriteToPrefix(const std::string& dir, uint64_t keep) {
  RawDb db(dir);
  ASSERT_TRUE(db.ok());
  for (const std::string& k : db.Keys("default", "cp")) db.Delete("default", k);
  std::vector<std::string> records = db.Values("log");
  ASSERT_GT(records.size(), keep);
  for (uint64_t p = keep + 1; p <= records.size(); ++p) db.Delete("log", LogKey(p));
  for (const std::string& k : db.Keys("merkle", "")) db.Delete("merkle", k);
  records.resize(keep);
  // The frontier, as binary addition: stack[level] holds a complete subtree.
  std::vector<std::pair<uint8_t, Hash>> stack;
  for (uint64_t i = 0; i < keep; ++i) {
    std::pair<uint8_t, Hash> node{0, LeafHash(records[i])};
    while (!stack.empty() && stack.back().first == node.first) {
      Hash joined = NodeHash(stack.back().second, node.second);
      stack.pop_back();
      node = {uint8_t(node.first + 1), joined};
      if (node.first >= 8) db.Put("merkle", MerkleKey(node.first, i >> node.first), Bytes(joined));
    }
    stack.push_back(node);
  }
  // head := next_position || streams || subjects || erased || clock ||
  //         last_checkpoint || frontier(size || hashes, highest first)
  std::string old = db.Get("default", "head");
  ASSERT_GE(old.size(), 48u);
  std::string head;
  PutBE64(&head, keep + 1);
  head.append(old, 8, 32);  // streams, subjects, erased, clock
  PutBE64(&head, 0);        // no checkpoint any more
  PutBE64(&head, keep);
  for (const auto& [level, hash] : stack) head += Bytes(hash);
  db.Put("default", "head", head);
}

class DamageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GE(sodium_init(), 0);
    std::random_device rd;
    dir_ = fs::temp_directory_path() /
           ("hearth-damage-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    data_ = (dir_ / "data").string();
    key_ = (dir_ / "root.key").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Starts the binary with `args`; stdout and stderr go to files named after
  // `tag`. The environment loses every HEARTH_* variable.
  pid_t Spawn(const std::vector<std::string>& args, const std::string& input,
              const std::string& tag) {
    fs::path in = dir_ / (tag + ".in"), out = dir_ / (tag + ".out"), err = dir_ / (tag + ".err");
    Spit(in, input);
    std::vector<std::string> argv_s = {HEARTH_CLI};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    // Under AddressSanitizer, freed memory is held in a quarantine of up to
    // 256 MiB before reuse, which would grow any process's RSS with the bytes
    // it has read; the memory test measures hearth's own, with a small one.
    std::string asan;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string var(*e);
      if (var.rfind("HEARTH_", 0) == 0) continue;
      if (var.rfind("ASAN_OPTIONS=", 0) == 0) {
        asan = var;
        continue;
      }
      env_s.push_back(var);
    }
    if (small_quarantine_) {
      asan = (asan.empty() ? "ASAN_OPTIONS=" : asan + ":") + "quarantine_size_mb=1";
    }
    if (!asan.empty()) env_s.push_back(asan);
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
    return rc == 0 ? pid : -1;
  }

  Output Wait(pid_t pid, const std::string& tag) {
    Output o;
    if (pid < 0) {
      o.err = "posix_spawn failed";
      return o;
    }
    int status = 0;
    struct rusage usage {};
    wait4(pid, &status, 0, &usage);
    o.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.max_rss_kb = usage.ru_maxrss;
    o.out = Slurp(dir_ / (tag + ".out"));
    o.err = Slurp(dir_ / (tag + ".err"));
    return o;
  }

  Output Run(const std::vector<std::string>& args, const std::string& input = "") {
    return Wait(Spawn(args, input, "run"), "run");
  }
  // With --data and --key-file of this test's store.
  Output Hearth(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.end(), {"--data", data_, "--key-file", key_});
    return Run(args, input);
  }
  // The auditor's command: no key.
  Output Verify(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", "--data", data_, "--public-key", Path("pub.hex")};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  // A store of `n` events after init's one, split over a few streams, and
  // the auditor's public key.
  void Build(int n) {
    ASSERT_EQ(Hearth({"init"}).code, 0);
    for (int s = 0, done = 0; done < n; ++s) {
      int count = std::min(n - done, std::max(1, n / 3));
      std::string lines;
      for (int i = 0; i < count; ++i) {
        lines += R"({"type":"NoteAdded","facts":{"n":)" + std::to_string(done + i) + "}}\n";
      }
      Output o = Hearth({"append", "--stream", "case-" + std::to_string(s)}, lines);
      ASSERT_EQ(o.code, 0) << o.err;
      done += count;
    }
    ASSERT_EQ(Hearth({"keys", "export-public", "--out", Path("pub.hex")}).code, 0);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  std::string data_;
  std::string key_;
  bool small_quarantine_ = false;
};

// ------------------------------------------------- the auditor's checkpoint --

// Someone with the files but no key deletes every checkpoint, drops the last
// records, and rewrites `merkle` and `head` to match: the store is internally
// consistent again, and even signs a fresh checkpoint for the operator. Only
// the checkpoint the auditor filed before tells: `verify --checkpoint` fails
// and says that the store does not extend it and which records went.
TEST_F(DamageCliTest, VerifyWithTheAuditorsCheckpointCatchesARewrittenShorterLog) {
  Build(599);  // 600 records: two complete 256-blocks and a tail
  Output cp = Hearth({"checkpoint"});
  ASSERT_EQ(cp.code, 0) << cp.err;
  Spit(Path("auditor.json"), cp.out);
  ASSERT_EQ(Json::parse(cp.out)["size"], 600);
  Output o = Verify({"--checkpoint", Path("auditor.json")});
  ASSERT_EQ(o.code, 0) << o.err << o.out;
  EXPECT_NE(o.out.find("the store extends all 1 checkpoint(s) you hold"), std::string::npos) << o.out;

  RewriteToPrefix(data_, 520);

  // Internally consistent: the store opens, and its own tree agrees.
  Output info = Hearth({"info", "--json"});
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_EQ(Json::parse(info.out)["events"], 520);
  // Without a signed checkpoint, verify fails and says so.
  EXPECT_TRUE(FailsWith(Verify(), 3, "no signed checkpoint"));

  // The operator signs the rewritten log: the store's own checks now pass...
  ASSERT_EQ(Hearth({"checkpoint"}).code, 0);
  o = Verify();
  EXPECT_EQ(o.code, 0) << o.err << o.out;
  // ...but not against the checkpoint the auditor holds.
  o = Verify({"--checkpoint", Path("auditor.json")});
  EXPECT_TRUE(FailsWith(o, 3, "the store does not extend your checkpoint"));
  EXPECT_NE(o.err.find("records 521..600 were removed"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("(position 521)"), std::string::npos) << o.err;
  EXPECT_EQ(o.out.find("OK:"), std::string::npos) << o.out;
}

// The same size, other records: the held checkpoint's root is not the root
// of the rewritten log's first records.
TEST_F(DamageCliTest, VerifyWithTheAuditorsCheckpointCatchesARewrittenRecord) {
  Build(40);
  Output cp = Hearth({"checkpoint"});
  ASSERT_EQ(cp.code, 0) << cp.err;
  Spit(Path("auditor.json"), cp.out);
  ASSERT_EQ(Hearth({"append", "--stream", "case-9"}, R"({"type":"NoteAdded","facts":{}})" "\n").code, 0);
  {
    // Position 7 becomes a copy of position 8 (a record the store wrote):
    // no record is missing, yet the first 41 no longer hash to the root.
    RawDb db(data_);
    ASSERT_TRUE(db.ok());
    db.Put("log", LogKey(7), db.Get("log", LogKey(8)));
  }
  Output o = Verify({"--checkpoint", Path("auditor.json")});
  EXPECT_TRUE(FailsWith(o, 3, "verification failed"));
  EXPECT_NE(o.out.find("the store does not extend your checkpoint " + Path("auditor.json") +
                       " (size 41"),
            std::string::npos)
      << o.out;
}

TEST_F(DamageCliTest, VerifyRefusesAHeldCheckpointThatIsNotSignedWithTheKey) {
  Build(5);
  Output cp = Hearth({"checkpoint"});
  ASSERT_EQ(cp.code, 0) << cp.err;
  Json forged = Json::parse(cp.out);
  std::string sig = forged["signature"];
  sig[0] = sig[0] == '0' ? '1' : '0';
  forged["signature"] = sig;
  Spit(Path("forged.json"), forged.dump());
  EXPECT_TRUE(FailsWith(Verify({"--checkpoint", Path("forged.json")}), 3,
                        "signature does not verify"));
  Spit(Path("junk.json"), "{\"size\": 1}");
  EXPECT_TRUE(FailsWith(Verify({"--checkpoint", Path("junk.json")}), 1, "junk.json"));
}

// A store whose checkpoints are all gone has nothing signed to show: exit 3
// (it used to print a note and exit 0).
TEST_F(DamageCliTest, VerifyFailsWhenTheStoreHoldsNoSignedCheckpoint) {
  Build(5);
  ASSERT_EQ(Verify().code, 0);  // init's first commit signed one
  {
    RawDb db(data_);
    ASSERT_TRUE(db.ok());
    std::vector<std::string> cps = db.Keys("default", "cp");
    ASSERT_FALSE(cps.empty());
    for (const std::string& k : cps) db.Delete("default", k);
  }
  Output o = Verify();
  EXPECT_TRUE(FailsWith(o, 3, "the store holds no signed checkpoint"));
}

// `hearth serve` signs the tree when it stops, so the tail the server wrote
// is covered before anyone else touches the files.
TEST_F(DamageCliTest, ServeSignsACheckpointWhenItStops) {
  Build(7);
  ASSERT_EQ(Run({"ca", "init", "--dir", Path("ca")}).code, 0);
  ASSERT_EQ(Run({"ca", "issue", "--dir", Path("ca"), "--name", "localhost", "--server"}).code, 0);
  Spit(Path("server.json"), R"({"listen": {"address": "127.0.0.1", "port": 0},
    "tls": {"ca": "ca/ca.pem", "cert": "ca/localhost.pem", "key": "ca/localhost.key"},
    "plugins": {"probe": {"scopes": {"read_models": ["info"]}}}})");
  // Checkpoints so far: init's first commit (size 1) only.
  Output before = Hearth({"checkpoints"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_EQ(before.out.find("\"size\":8"), std::string::npos) << before.out;

  pid_t pid = Spawn({"serve", "--data", data_, "--key-file", key_, "--config", Path("server.json")},
                    "", "serve");
  ASSERT_GT(pid, 0);
  bool serving = false;
  for (int i = 0; i < 600 && !serving; ++i) {  // up to a minute under sanitizers
    serving = Slurp(dir_ / "serve.out").find("serving") != std::string::npos;
    if (!serving) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  Output served = Wait(pid, "serve");
  ASSERT_TRUE(serving) << served.err;
  ASSERT_EQ(served.code, 0) << served.err;
  EXPECT_NE(served.err.find("signed a checkpoint of the 8 records on stopping"), std::string::npos)
      << served.err;
  Output after = Hearth({"checkpoints"});
  ASSERT_EQ(after.code, 0) << after.err;
  EXPECT_NE(after.out.find("\"size\":8"), std::string::npos) << after.out;
  EXPECT_EQ(Verify().code, 0);
}

// ------------------------------------------------------- damaged files -----

// Each kind of damage: `info`, `read` and `verify` exit 3 naming the position
// and the cause, and nothing is printed as an event.
class DamagedStoreTest : public DamageCliTest {
 protected:
  void ExpectRefusedEverywhere(const std::string& open_needle, const std::string& verify_needle) {
    Output info = Hearth({"info"});
    EXPECT_TRUE(FailsWith(info, 3, open_needle)) << "info";
    EXPECT_EQ(info.out, "");
    for (const char* stream : {"case-0", "case-1", "case-2"}) {
      Output read = Hearth({"read", "--stream", stream});
      EXPECT_TRUE(FailsWith(read, 3, open_needle)) << "read " << stream;
      EXPECT_EQ(read.out, "") << "read " << stream;
    }
    Output verify = Verify();
    EXPECT_TRUE(FailsWith(verify, 3, verify_needle)) << "verify";
    EXPECT_EQ(verify.out.find("OK:"), std::string::npos);
  }
};

TEST_F(DamagedStoreTest, ATruncatedTailIsRefusedByInfoReadAndVerify) {
  Build(30);  // positions 1..31
  {
    RawDb db(data_);
    ASSERT_TRUE(db.ok());
    for (uint64_t p = 29; p <= 31; ++p) db.Delete("log", LogKey(p));
  }
  ExpectRefusedEverywhere("the log ends at position 28 but the store head says 31",
                          "truncated: the store's head says the log holds 31 records, but it "
                          "ends after 28 (position 29)");
}

TEST_F(DamagedStoreTest, ADeletedMiddleRecordIsRefusedByInfoReadAndVerify) {
  Build(30);
  {
    RawDb db(data_);
    ASSERT_TRUE(db.ok());
    db.Delete("log", LogKey(12));
  }
  ExpectRefusedEverywhere("position 12 is missing", "position 12 is missing (position 12)");
}

TEST_F(DamagedStoreTest, OneChangedByteIsRefusedByInfoReadAndVerify) {
  Build(30);
  {
    RawDb db(data_);
    ASSERT_TRUE(db.ok());
    std::string v = db.Get("log", LogKey(12));
    v[v.size() - 20] ^= 0x01;  // in the digest, the last field, which the facts seal covers
    db.Put("log", LogKey(12), v);
  }
  // Keyless, verify narrows it to the records the head's unsigned tree
  // covers after the last complete block; the key names it exactly.
  ExpectRefusedEverywhere("position 12",
                          "the store's head (its Merkle frontier) differs from the tree "
                          "recomputed from the log; a record in 1..31 was changed");
}

// Beyond the tail that opening checks, a changed record is refused by the
// read that reaches it and by verify, never served.
TEST_F(DamagedStoreTest, AChangedRecordBeforeTheTailIsRefusedByReadAndVerify) {
  Build(300);  // case-0 holds positions 2..101
  {
    RawDb db(data_);
    ASSERT_TRUE(db.ok());
    std::string v = db.Get("log", LogKey(50));
    v[v.size() - 20] ^= 0x01;
    db.Put("log", LogKey(50), v);
  }
  Output read = Hearth({"read", "--stream", "case-0"});
  EXPECT_TRUE(FailsWith(read, 3, "position 50"));
  EXPECT_EQ(read.out.find("\"position\":50"), std::string::npos);
  EXPECT_TRUE(FailsWith(Verify(), 3, "positions 1..256"));
}

// ---------------------------------------------------- verify's memory -----

// verify keeps the Merkle frontier and one checkpoint at a time: its peak
// resident memory must not grow with the log (it grew by about 470 bytes an
// event when it mapped the table files).
TEST_F(DamageCliTest, VerifyMemoryDoesNotGrowWithTheStore) {
  auto build = [&](const std::string& data, int records) {
    ASSERT_EQ(Run({"init", "--data", data, "--key-file", key_}).code, 0);
    std::string big(900, 'x');
    for (int done = 0; done < records; done += 2000) {
      std::string lines;
      for (int i = 0; i < 2000; ++i) {
        lines += R"({"type":"NoteAdded","facts":{"n":)" + std::to_string(done + i) + R"(,"t":")" +
                 big + "\"}}\n";
      }
      Output o = Run({"append", "--stream", "case-" + std::to_string(done), "--data", data,
                      "--key-file", key_},
                     lines);
      ASSERT_EQ(o.code, 0) << o.err;
    }
    ASSERT_EQ(Run({"checkpoint", "--data", data, "--key-file", key_}).code, 0);
  };
  ASSERT_NO_FATAL_FAILURE(build(Path("small"), 10000));
  ASSERT_NO_FATAL_FAILURE(build(Path("large"), 40000));
  ASSERT_EQ(Run({"keys", "export-public", "--data", Path("small"), "--key-file", key_, "--out",
                 Path("small.hex")})
                .code,
            0);
  ASSERT_EQ(Run({"keys", "export-public", "--data", Path("large"), "--key-file", key_, "--out",
                 Path("large.hex")})
                .code,
            0);
  small_quarantine_ = true;
  Output small = Run({"verify", "--data", Path("small"), "--public-key", Path("small.hex")});
  ASSERT_EQ(small.code, 0) << small.err;
  Output large = Run({"verify", "--data", Path("large"), "--public-key", Path("large.hex")});
  ASSERT_EQ(large.code, 0) << large.err;
  // An absolute bound on the growth: 30,000 more records (about 30 MB more
  // log) may add at most 8 MiB of peak memory, under 280 bytes a record: the
  // mapping bug added about 470 (14 MB here).
  long growth_kb = long(large.max_rss_kb) - long(small.max_rss_kb);
  EXPECT_LT(growth_kb, 8 * 1024) << "peak RSS " << small.max_rss_kb << " kB at 10,000 records, "
                                 << large.max_rss_kb << " kB at 40,000";
}

}  // namespace
