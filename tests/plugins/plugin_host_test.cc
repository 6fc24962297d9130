// The in-process plugin ABI: loading, version negotiation, lifecycle, and the
// host table acting through the plugin's Session (scopes enforced in the store).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "hearth/domain.h"
#include "hearth/event_json.h"
#include "hearth/plugin_abi.h"
#include "hearth/read_model.h"
#include "hearth/session.h"
#include "plugin_host.h"
#include "test_util.h"

namespace hearth {
namespace {

using hearth::plugins::LoadedPlugin;
using hearth::plugins::LoadOptions;
using nlohmann::json;
using testing::MakeEvent;
using testing::MakeKeyFile;
using testing::TempDir;
using testing::TestOptions;

enum { kEntry, kInit, kStart, kStop, kDestroy };

// The probe plugin (probe_plugin.c), opened by the test as well, so that its
// counters and the host table it was given can be read.
class Probe {
 public:
  explicit Probe(const char* path) : dl_(dlopen(path, RTLD_NOW | RTLD_LOCAL)) {
    if (dl_ != nullptr) Fn<void (*)()>("probe_reset")();
  }
  ~Probe() {
    if (dl_ != nullptr) dlclose(dl_);
  }
  bool ok() const { return dl_ != nullptr; }
  void Reset() { Fn<void (*)()>("probe_reset")(); }
  int calls(int which) { return Fn<int (*)(int)>("probe_calls")(which); }
  const hearth_host_api* api() { return Fn<const hearth_host_api* (*)()>("probe_host_api")(); }
  hearth_host* host() { return Fn<hearth_host* (*)()>("probe_host")(); }
  std::string config() { return Fn<const char* (*)()>("probe_config")(); }
  int has_query() { return Fn<int (*)()>("probe_host_has_query")(); }

 private:
  template <typename F>
  F Fn(const char* name) {
    return reinterpret_cast<F>(dlsym(dl_, name));
  }
  void* dl_;
};

// One host call's outcome, its buffers copied and given back to the host.
struct Call {
  hearth_code code = HEARTH_OK;
  std::string out;
  std::string error;
};

Call Take(const hearth_host_api* api, hearth_code code, hearth_buffer* out, hearth_buffer* error) {
  Call c;
  c.code = code;
  if (out != nullptr && out->data != nullptr) c.out.assign(out->data, out->size);
  if (error != nullptr && error->data != nullptr) c.error.assign(error->data, error->size);
  api->buffer_free(out);
  api->buffer_free(error);
  return c;
}

hearth_str S(const std::string& s) { return hearth_str{s.data(), s.size()}; }

class PluginHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = MakeKeyFile(dir_.sub("root.key"));
    auto s = Store::Open(TestOptions(key_), dir_.sub("store"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  std::unique_ptr<Session> MakeSession(Scopes scopes) {
    return std::make_unique<Session>(store_.get(), Principal{"probe", "staff-7", "reporter"},
                                     std::move(scopes), [this](const std::string& line) {
                                       std::lock_guard<std::mutex> lock(mu_);
                                       refusals_.push_back(line);
                                     });
  }

  Call Append(Probe& p, const std::string& stream, int32_t kind, uint64_t version,
              const std::string& lines) {
    hearth_buffer out{}, error{};
    hearth_code code = p.api()->append(p.host(), S(stream), kind, version, S(lines), &out, &error);
    return Take(p.api(), code, &out, &error);
  }
  Call ReadStream(Probe& p, const std::string& stream) {
    hearth_buffer out{}, error{};
    hearth_code code = p.api()->read_stream(p.host(), S(stream), 1, HEARTH_FORWARD, 100,
                                            S("test"), &out, &error);
    return Take(p.api(), code, &out, &error);
  }

  TempDir dir_;
  std::string key_;
  std::unique_ptr<Store> store_;
  std::mutex mu_;
  std::vector<std::string> refusals_;
};

// A stream that is not a case (so not validated by the domain rules).
constexpr const char* kIntake = "intake/D1/0001";

Scopes CaseWorkerScopes() {
  Scopes s;
  s.append_types = {"ContactRecorded", "CaseNoteAdded"};
  s.read_districts = {"D1"};
  s.read_streams = {"intake/*"};
  s.read_models = {"info", "timeline"};
  return s;
}

TEST_F(PluginHostTest, LoadsNegotiatesAndRunsTheLifecycle) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  ASSERT_TRUE(probe.ok()) << dlerror();
  // Inspect names the plugin without initialising it (for picking its scopes).
  auto info = LoadedPlugin::Inspect(HEARTH_PROBE_PLUGIN);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, "probe");
  EXPECT_EQ(info->abi_version, HEARTH_PLUGIN_ABI_VERSION);
  EXPECT_EQ(probe.calls(kEntry), 1);
  EXPECT_EQ(probe.calls(kInit), 0);
  probe.Reset();

  auto session = MakeSession(CaseWorkerScopes());
  {
    auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, R"({"answer": 42})");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    EXPECT_EQ((*plugin)->name(), "probe");
    EXPECT_EQ((*plugin)->version(), "0.0.1");
    EXPECT_EQ((*plugin)->abi_version(), HEARTH_PLUGIN_ABI_VERSION);
    EXPECT_EQ(probe.calls(kEntry), 1);
    EXPECT_EQ(probe.calls(kInit), 1);
    EXPECT_EQ(probe.calls(kStart), 0);
    EXPECT_EQ(probe.config(), R"({"answer": 42})");
    ASSERT_NE(probe.api(), nullptr);
    EXPECT_EQ(probe.api()->abi_version, HEARTH_PLUGIN_ABI_VERSION);
    EXPECT_EQ(probe.api()->struct_size, sizeof(hearth_host_api));
    EXPECT_TRUE(probe.has_query());

    ASSERT_TRUE((*plugin)->Start().ok());
    EXPECT_TRUE((*plugin)->started());
    EXPECT_TRUE((*plugin)->Start().IsInvalidArgument());  // already started
    (*plugin)->Stop();
    (*plugin)->Stop();  // idempotent
    EXPECT_EQ(probe.calls(kStop), 1);
    EXPECT_EQ(probe.calls(kDestroy), 0);
  }
  EXPECT_EQ(probe.calls(kStart), 1);
  EXPECT_EQ(probe.calls(kDestroy), 1);
  EXPECT_EQ(probe.api(), nullptr);  // destroy ran
}

TEST_F(PluginHostTest, RefusesAPluginAskingForANewerAbi) {
  Probe probe(HEARTH_PROBE_NEWER_PLUGIN);
  ASSERT_TRUE(probe.ok()) << dlerror();
  auto session = MakeSession(CaseWorkerScopes());
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_NEWER_PLUGIN, *session, "{}");
  ASSERT_FALSE(plugin.ok());
  EXPECT_EQ(plugin.status().code(), Status::Code::kNotSupported);
  const std::string& m = plugin.status().message();
  EXPECT_NE(m.find("needs plugin ABI version " + std::to_string(HEARTH_PLUGIN_ABI_VERSION + 1)),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("up to version " + std::to_string(HEARTH_PLUGIN_ABI_VERSION)),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("probe"), std::string::npos) << m;
  // The entry was asked for its table; nothing else was called.
  EXPECT_EQ(probe.calls(kEntry), 1);
  EXPECT_EQ(probe.calls(kInit), 0);
  EXPECT_EQ(LoadedPlugin::Inspect(HEARTH_PROBE_NEWER_PLUGIN).status().code(),
            Status::Code::kNotSupported);
}

TEST_F(PluginHostTest, RefusesASharedObjectWithoutTheEntrySymbol) {
  auto session = MakeSession(CaseWorkerScopes());
  auto plugin = LoadedPlugin::Load(HEARTH_NOT_A_PLUGIN, *session, "{}");
  ASSERT_FALSE(plugin.ok());
  EXPECT_TRUE(plugin.status().IsInvalidArgument());
  EXPECT_NE(plugin.status().message().find("not a hearth plugin"), std::string::npos);
  EXPECT_NE(plugin.status().message().find("hearth_plugin_entry"), std::string::npos);
}

TEST_F(PluginHostTest, RefusesMissingFilesNonLibrariesAndBadConfig) {
  auto session = MakeSession(CaseWorkerScopes());
  auto missing = LoadedPlugin::Load(dir_.sub("nope.so"), *session, "{}");
  EXPECT_TRUE(missing.status().IsNotFound()) << missing.status().ToString();

  std::string text_file = dir_.sub("plugin.so");
  { std::ofstream(text_file) << "not an ELF file"; }
  auto garbage = LoadedPlugin::Load(text_file, *session, "{}");
  EXPECT_TRUE(garbage.status().IsInvalidArgument()) << garbage.status().ToString();
  EXPECT_NE(garbage.status().message().find("cannot load plugin"), std::string::npos);

  Probe probe(HEARTH_PROBE_PLUGIN);
  auto bad_config = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "[1, 2]");
  EXPECT_TRUE(bad_config.status().IsInvalidArgument()) << bad_config.status().ToString();
  EXPECT_EQ(probe.calls(kInit), 0);
}

// A path without a slash names the file in the working directory, never a
// library of the same name found through the search path: here "libc.so.6",
// which dlopen would otherwise answer with the C library already loaded.
TEST_F(PluginHostTest, PluginPathIsLoadedExactlyAsGivenNeverThroughTheSearchPath) {
  std::string copy = dir_.sub("libc.so.6");
  std::filesystem::copy_file(HEARTH_PROBE_PLUGIN, copy);
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  ASSERT_FALSE(ec);
  std::filesystem::current_path(dir_.path(), ec);
  ASSERT_FALSE(ec);
  auto info = LoadedPlugin::Inspect("libc.so.6");
  std::filesystem::current_path(cwd, ec);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  auto expected = LoadedPlugin::Inspect(HEARTH_PROBE_PLUGIN);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  EXPECT_EQ(info->name, expected->name);
}

TEST_F(PluginHostTest, PluginErrorsComeBackAsCodeAndMessage) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  auto session = MakeSession(CaseWorkerScopes());
  auto init_fails = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, R"({"failInit": true})");
  ASSERT_FALSE(init_fails.ok());
  EXPECT_TRUE(init_fails.status().IsInvalidArgument());
  EXPECT_EQ(init_fails.status().message(), "plugin probe: asked to fail in init");
  EXPECT_EQ(probe.calls(kDestroy), 0);  // init failed: nothing to destroy

  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, R"({"failStart": true})");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  Status s = (*plugin)->Start();
  EXPECT_EQ(s.code(), Status::Code::kBusy);
  EXPECT_EQ(s.message(), "plugin probe: asked to fail in start");
  EXPECT_FALSE((*plugin)->started());
  plugin = Status::NotFound("unloaded");
  EXPECT_EQ(probe.calls(kStop), 0);  // start failed: no stop
  EXPECT_EQ(probe.calls(kDestroy), 1);
}

TEST_F(PluginHostTest, AppendsAndReadsThroughTheSession) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  auto session = MakeSession(CaseWorkerScopes());
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();

  // Domain events in the domain codec's JSON form (the builtin codec when
  // LoadOptions gives none), on a stream that is not a case (case appends are
  // validated by the domain rules; see CaseAppendsAreValidatedByTheDomainRules).
  std::string lines =
      R"({"type":"ContactRecorded","occurredAt":"2026-03-02T10:00:00Z","actor":{"user":"someone-else"},)"
      R"("subjects":[{"id":"P-1","role":"client"}],"facts":{"district":"D1","purpose":"enquiry"},)"
      R"("personal":[{"subject":"P-1","role":"client","details":{"freeText":"synthetic"}}]})"
      "\n\n"
      R"({"type":"CaseNoteAdded","facts":{"category":"general"}})"
      "\n";
  Call appended = Append(probe, kIntake, HEARTH_EXPECT_NO_STREAM, 0, lines);
  ASSERT_EQ(appended.code, HEARTH_OK) << appended.error;
  json r = json::parse(appended.out);
  EXPECT_EQ(r["firstPosition"], 1);
  EXPECT_EQ(r["lastPosition"], 2);
  EXPECT_EQ(r["lastVersion"], 2);
  EXPECT_EQ(r["duplicate"], false);

  // The store holds what the plugin sent, with the actor from the principal.
  auto stored = store_->ReadStream(kIntake, 1, Direction::kForward, 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].actor, (Actor{"staff-7", "reporter", "probe"}));
  // Facts and personal details stored as the domain codec encodes them.
  json stored_json = json::parse(event_json::Format((*stored)[0], nullptr));
  EXPECT_EQ(stored_json["facts"]["district"], "D1");
  EXPECT_EQ(stored_json["facts"]["purpose"], "enquiry");
  EXPECT_EQ(stored_json["personal"].at(0)["details"]["freeText"], "synthetic");

  // Read back as JSON, personal sections removed (no read_personal scope).
  Call read = ReadStream(probe, kIntake);
  ASSERT_EQ(read.code, HEARTH_OK) << read.error;
  json events = json::parse(read.out);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "ContactRecorded");
  EXPECT_EQ(events[0]["stream"], kIntake);
  EXPECT_EQ(events[0]["streamVersion"], 1);
  EXPECT_EQ(events[0]["occurredAt"], "2026-03-02T10:00:00.000000Z");
  EXPECT_EQ(events[0]["facts"]["district"], "D1");
  EXPECT_EQ(events[0]["actor"]["plugin"], "probe");
  EXPECT_EQ(events[0]["subjects"][0]["id"], "P-1");
  EXPECT_TRUE(events[0]["personal"].empty());
  EXPECT_EQ(events[1]["facts"]["category"], "general");

  // Wrong expected version: a conflict, nothing written.
  Call conflict = Append(probe, kIntake, HEARTH_EXPECT_EXACT, 1,
                         R"({"type":"CaseNoteAdded"})");
  EXPECT_EQ(conflict.code, HEARTH_CONFLICT) << conflict.error;
  EXPECT_NE(conflict.error.find("expected version 1"), std::string::npos) << conflict.error;
  // Malformed input names the line and the field.
  Call bad = Append(probe, kIntake, HEARTH_EXPECT_ANY, 0,
                    "{\"type\":\"CaseNoteAdded\"}\n{\"type\":\"CaseNoteAdded\",\"colour\":1}");
  EXPECT_EQ(bad.code, HEARTH_INVALID_ARGUMENT);
  EXPECT_NE(bad.error.find("line 2"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("colour"), std::string::npos) << bad.error;
  Call not_json = Append(probe, kIntake, HEARTH_EXPECT_ANY, 0, "{type:");
  EXPECT_EQ(not_json.code, HEARTH_INVALID_ARGUMENT);
  Call bad_kind = Append(probe, kIntake, 7, 0, R"({"type":"CaseNoteAdded"})");
  EXPECT_EQ(bad_kind.code, HEARTH_INVALID_ARGUMENT);
  EXPECT_EQ(store_->Info()->last_position, 2u);

  // By subject: the same events, as the scopes allow.
  hearth_buffer out{}, error{};
  Call by_subject = Take(probe.api(),
                         probe.api()->read_subject(probe.host(), S("P-1"), 1, 10, S("test"), &out,
                                                   &error),
                         &out, &error);
  ASSERT_EQ(by_subject.code, HEARTH_OK) << by_subject.error;
  EXPECT_EQ(json::parse(by_subject.out).size(), 1u);

  Call missing = ReadStream(probe, "case/D1/0404");
  EXPECT_EQ(missing.code, HEARTH_NOT_FOUND);

  Call who = Take(probe.api(), probe.api()->principal(probe.host(), &out, &error), &out, &error);
  ASSERT_EQ(who.code, HEARTH_OK);
  json principal = json::parse(who.out);
  EXPECT_EQ(principal["plugin"], "probe");
  EXPECT_EQ(principal["user"], "staff-7");
  EXPECT_EQ(principal["scopes"]["readDistricts"][0], "D1");
  EXPECT_EQ(principal["scopes"]["readLog"], false);
  EXPECT_EQ(principal["abiVersion"], HEARTH_PLUGIN_ABI_VERSION);
}

TEST_F(PluginHostTest, TheHostTableEnforcesTheScopes) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  auto session = MakeSession(CaseWorkerScopes());
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_TRUE(store_->Append("case/D2/0001", ExpectedVersion::NoStream(),
                             {MakeEvent("ContactRecorded")})
                  .ok());

  // An event type outside append_types: refused, naming the scope; nothing written.
  Call grant = Append(probe, "case/D1/0001", HEARTH_EXPECT_ANY, 0,
                      R"({"type":"ContactRecorded"})"
                      "\n"
                      R"({"type":"GrantApproved","facts":{"amountPence":100}})");
  EXPECT_EQ(grant.code, HEARTH_PERMISSION_DENIED);
  EXPECT_NE(grant.error.find("append_types"), std::string::npos) << grant.error;
  EXPECT_NE(grant.error.find("GrantApproved"), std::string::npos) << grant.error;
  EXPECT_EQ(store_->Info()->last_position, 1u);

  // A district outside read_districts, for appends and reads.
  Call other_district = Append(probe, "case/D2/0001", HEARTH_EXPECT_ANY, 0,
                               R"({"type":"ContactRecorded"})");
  EXPECT_EQ(other_district.code, HEARTH_PERMISSION_DENIED);
  EXPECT_NE(other_district.error.find("read_districts"), std::string::npos);
  Call read_other = ReadStream(probe, "case/D2/0001");
  EXPECT_EQ(read_other.code, HEARTH_PERMISSION_DENIED);
  EXPECT_TRUE(read_other.out.empty());

  // The whole log needs read_log.
  hearth_buffer out{}, error{};
  Call all = Take(probe.api(),
                  probe.api()->read_all(probe.host(), 1, 10, S("test"), &out, &error), &out,
                  &error);
  EXPECT_EQ(all.code, HEARTH_PERMISSION_DENIED);
  EXPECT_NE(all.error.find("read_log"), std::string::npos);
  hearth_subscription* sub = nullptr;
  hearth_code code = probe.api()->subscribe(
      probe.host(), 1, S("test"), [](void*, hearth_str) -> int32_t { return 1; }, nullptr,
      nullptr, &sub, &error);
  Call subscribed = Take(probe.api(), code, nullptr, &error);
  EXPECT_EQ(subscribed.code, HEARTH_PERMISSION_DENIED);
  EXPECT_EQ(sub, nullptr);

  // Read models outside read_models.
  Call query = Take(probe.api(),
                    probe.api()->query(probe.host(), S("worklist"), S("{}"), &out, &error), &out,
                    &error);
  EXPECT_EQ(query.code, HEARTH_PERMISSION_DENIED);
  EXPECT_NE(query.error.find("read_models"), std::string::npos);

  // Every refusal was reported to the session's log.
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_GE(refusals_.size(), 6u);
}

TEST_F(PluginHostTest, QueriesReadModelsThroughTheSession) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  auto session = MakeSession(CaseWorkerScopes());
  ReadModels models;
  ASSERT_TRUE(models.Add(MakeInfoModel()).ok());
  LoadOptions options;
  options.read_models = &models;
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}", options);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_TRUE(store_->Append("case/D1/0001", ExpectedVersion::NoStream(),
                             {MakeEvent("ContactRecorded")})
                  .ok());

  hearth_buffer out{}, error{};
  Call info = Take(probe.api(), probe.api()->query(probe.host(), S("info"), S("{}"), &out, &error),
                   &out, &error);
  ASSERT_EQ(info.code, HEARTH_OK) << info.error;
  EXPECT_NE(info.out.find("\"probe\""), std::string::npos) << info.out;
  json doc = json::parse(info.out);
  EXPECT_EQ(doc.dump().find("\"D1\"") != std::string::npos, true) << info.out;
  Call none = Take(probe.api(),
                   probe.api()->query(probe.host(), S("timeline"), S("{}"), &out, &error),
                   &out, &error);
  EXPECT_EQ(none.code, HEARTH_NOT_FOUND) << none.error;
  Call bad_params = Take(probe.api(),
                         probe.api()->query(probe.host(), S("info"), S("[1]"), &out, &error),
                         &out, &error);
  EXPECT_EQ(bad_params.code, HEARTH_INVALID_ARGUMENT);
}

// Collects what a subscription delivers.
struct Collector {
  std::mutex mu;
  std::vector<json> events;
  std::atomic<int> ended{0};
  hearth_code end_code = -1;
  const hearth_host_api* api = nullptr;
  hearth_host* host = nullptr;
  hearth_subscription* self = nullptr;
  hearth_code self_unsubscribe = -1;
  size_t stop_after = 1000;

  static int32_t OnEvent(void* context, hearth_str event) {
    auto* c = static_cast<Collector*>(context);
    std::lock_guard<std::mutex> lock(c->mu);
    c->events.push_back(json::parse(std::string(event.data, event.size)));
    if (c->self != nullptr && c->self_unsubscribe == -1) {
      c->self_unsubscribe = c->api->unsubscribe(c->host, c->self);
    }
    return c->events.size() < c->stop_after ? 1 : 0;
  }
  static void OnEnd(void* context, hearth_code code, hearth_str) {
    auto* c = static_cast<Collector*>(context);
    c->end_code = code;
    c->ended++;
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
};

bool WaitFor(const std::function<bool()>& done) {
  // Generous: only a hung subscription fails this; no timing is asserted.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST_F(PluginHostTest, SubscriptionsDeliverAndAreEndedWithThePlugin) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  Scopes scopes = CaseWorkerScopes();
  scopes.read_log = true;
  auto session = MakeSession(scopes);
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_TRUE((*plugin)->Start().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_->Append("case/D1/000" + std::to_string(i), ExpectedVersion::Any(),
                               {MakeEvent("ContactRecorded", "P-" + std::to_string(i), "{}")})
                    .ok());
  }

  Collector first, second;
  first.api = second.api = probe.api();
  first.host = second.host = probe.host();
  hearth_subscription* a = nullptr;
  hearth_subscription* b = nullptr;
  hearth_buffer error{};
  ASSERT_EQ(probe.api()->subscribe(probe.host(), 2, S("test"), Collector::OnEvent,
                                   Collector::OnEnd, &first, &a, &error),
            HEARTH_OK);
  ASSERT_EQ(probe.api()->subscribe(probe.host(), 1, S("test"), Collector::OnEvent,
                                   Collector::OnEnd, &second, &b, &error),
            HEARTH_OK);
  EXPECT_EQ((*plugin)->open_subscriptions(), 2u);
  ASSERT_TRUE(WaitFor([&] { return first.count() == 2 && second.count() == 3; }));
  // Live appends follow the history.
  ASSERT_TRUE(store_->Append("case/D1/0009", ExpectedVersion::Any(), {MakeEvent("CaseNoteAdded")})
                  .ok());
  ASSERT_TRUE(WaitFor([&] { return first.count() == 3 && second.count() == 4; }));
  {
    std::lock_guard<std::mutex> lock(first.mu);
    EXPECT_EQ(first.events[0]["position"], 2);
    EXPECT_EQ(first.events[2]["type"], "CaseNoteAdded");
    EXPECT_TRUE(first.events[0]["personal"].empty());  // no read_personal
  }

  // Unsubscribe returns after the end function ran; the handle is gone after.
  EXPECT_EQ(probe.api()->unsubscribe(probe.host(), a), HEARTH_OK);
  EXPECT_EQ(first.ended.load(), 1);
  EXPECT_EQ(first.end_code, HEARTH_OK);
  EXPECT_EQ(probe.api()->unsubscribe(probe.host(), a), HEARTH_INVALID_ARGUMENT);
  EXPECT_EQ((*plugin)->open_subscriptions(), 1u);

  // Stopping the plugin ends what it left open.
  (*plugin)->Stop();
  EXPECT_EQ(second.ended.load(), 1);
  EXPECT_EQ((*plugin)->open_subscriptions(), 0u);
  // A stopped plugin cannot subscribe.
  hearth_subscription* c = nullptr;
  hearth_code refused = probe.api()->subscribe(probe.host(), 1, S("test"), Collector::OnEvent,
                                               nullptr, &second, &c, &error);
  EXPECT_EQ(Take(probe.api(), refused, nullptr, &error).code, HEARTH_BUSY);
}

TEST_F(PluginHostTest, UnsubscribingFromItsOwnCallbackIsRefused) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  Scopes scopes = CaseWorkerScopes();
  scopes.read_log = true;
  auto session = MakeSession(scopes);
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  ASSERT_TRUE(store_->Append("case/D1/0001", ExpectedVersion::Any(),
                             {MakeEvent("A"), MakeEvent("B"), MakeEvent("C")})
                  .ok());
  Collector c;
  c.api = probe.api();
  c.host = probe.host();
  c.stop_after = 2;  // then the event function returns 0: the way to end from inside
  hearth_subscription* sub = nullptr;
  {
    // Hold the collector's lock so the handle is set before the first event.
    std::lock_guard<std::mutex> lock(c.mu);
    ASSERT_EQ(probe.api()->subscribe(probe.host(), 1, S("test"), Collector::OnEvent,
                                     Collector::OnEnd, &c, &sub, nullptr),
              HEARTH_OK);
    c.self = sub;
  }
  ASSERT_TRUE(WaitFor([&] { return c.ended.load() == 1; }));
  EXPECT_EQ(c.self_unsubscribe, HEARTH_INVALID_ARGUMENT);
  EXPECT_EQ(c.count(), 2u);
  EXPECT_EQ(c.end_code, HEARTH_OK);
  // Ended, but the handle stays valid until unsubscribed.
  EXPECT_EQ(probe.api()->unsubscribe(probe.host(), sub), HEARTH_OK);
}

TEST_F(PluginHostTest, WithTheDomainCodecFactsTravelAsJson) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  Probe probe(HEARTH_PROBE_PLUGIN);
  auto session = MakeSession(CaseWorkerScopes());
  LoadOptions options;
  options.codec = codec->get();
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}", options);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();

  Call appended = Append(
      probe, "case/D1/0001", HEARTH_EXPECT_NO_STREAM, 0,
      R"({"type":"ContactRecorded","subjects":[{"id":"P-1","role":"client"}],)"
      R"("facts":{"contactedOn":"2026-02-02","district":"D1","channel":"phone","purpose":"enquiry"}})");
  ASSERT_EQ(appended.code, HEARTH_OK) << appended.error;
  auto stored = store_->ReadStream("case/D1/0001", 1, Direction::kForward, 1);
  ASSERT_TRUE(stored.ok());
  // Stored as the domain's packed Cap'n Proto, not as JSON text.
  EXPECT_TRUE(json::parse((*stored)[0].facts, nullptr, false).is_discarded());

  Call read = ReadStream(probe, "case/D1/0001");
  ASSERT_EQ(read.code, HEARTH_OK) << read.error;
  json e = json::parse(read.out).at(0);
  EXPECT_EQ(e["facts"]["contactedOn"], "2026-02-02");
  EXPECT_EQ(e["facts"]["purpose"], "enquiry");
  EXPECT_EQ(e["facts"]["channel"], "phone");

  // An unknown value of a domain field is refused by the codec, naming it.
  Call bad = Append(probe, "case/D1/0001", HEARTH_EXPECT_ANY, 0,
                    R"({"type":"ContactRecorded","facts":{"channel":"fax"}})");
  EXPECT_EQ(bad.code, HEARTH_INVALID_ARGUMENT);
  EXPECT_NE(bad.error.find("fax"), std::string::npos) << bad.error;
}

// Appends to case streams through the ABI are validated against the case's
// history (docs/domain.md), with the plugin's expected version.
TEST_F(PluginHostTest, CaseAppendsAreValidatedByTheDomainRules) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  Probe probe(HEARTH_PROBE_PLUGIN);
  Scopes scopes = CaseWorkerScopes();
  scopes.append_types = {"*"};
  auto session = MakeSession(scopes);
  LoadOptions options;
  options.codec = codec->get();
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}", options);
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  const std::string kCase = "case/D1/0002";
  auto version = [&](const std::string& stream) -> uint64_t {
    auto v = store_->StreamVersion(stream);
    return v.ok() ? *v : 0;
  };
  const std::string note =
      R"({"type":"CaseNoteAdded","facts":{"writtenOn":"2026-02-03","category":"general"}})";

  // A case opens with an enquiry: a note first is refused, nothing written.
  Call first = Append(probe, kCase, HEARTH_EXPECT_ANY, 0, note);
  EXPECT_EQ(first.code, HEARTH_INVALID_ARGUMENT) << first.error;
  EXPECT_EQ(first.error.rfind("rule case-opens-with-enquiry:", 0), 0u) << first.error;
  EXPECT_EQ(version(kCase), 0u);

  Call opened = Append(
      probe, kCase, HEARTH_EXPECT_NO_STREAM, 0,
      R"({"type":"ContactRecorded","subjects":[{"id":"P-2","role":"client"}],)"
      R"("facts":{"contactedOn":"2026-02-02","district":"D1","channel":"phone","purpose":"enquiry"}})");
  ASSERT_EQ(opened.code, HEARTH_OK) << opened.error;

  // A referral without a consent basis.
  Call referral = Append(
      probe, kCase, HEARTH_EXPECT_EXACT, 1,
      R"({"type":"ReferralMade","facts":{"referredOn":"2026-02-03","referrerType":"self",)"
      R"("service":"minorAdaptation"}})");
  EXPECT_EQ(referral.code, HEARTH_INVALID_ARGUMENT) << referral.error;
  EXPECT_EQ(referral.error.rfind("rule referral-consent-basis:", 0), 0u) << referral.error;
  EXPECT_EQ(version(kCase), 1u);

  // An exact expected version with a valid event: recorded, naming the client.
  Call noted = Append(probe, kCase, HEARTH_EXPECT_EXACT, 1, note);
  ASSERT_EQ(noted.code, HEARTH_OK) << noted.error;
  EXPECT_EQ(json::parse(noted.out)["lastVersion"], 2);
  auto stored = store_->ReadStream(kCase, 2, Direction::kForward, 1);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ((*stored)[0].subjects.at(0), (SubjectRef{"P-2", SubjectRole::kClient}));

  // A stale expected version: Conflict, nothing written.
  uint64_t last = store_->Info()->last_position;
  Call stale = Append(probe, kCase, HEARTH_EXPECT_EXACT, 1, note);
  EXPECT_EQ(stale.code, HEARTH_CONFLICT) << stale.error;
  EXPECT_NE(stale.error.find("stream " + kCase + ": expected version 1, actual 2"),
            std::string::npos)
      << stale.error;
  EXPECT_EQ(version(kCase), 2u);
  EXPECT_EQ(store_->Info()->last_position, last);

  // Closed, the case takes nothing but a reopening.
  Call closed = Append(probe, kCase, HEARTH_EXPECT_EXACT, 2,
                       R"({"type":"CaseClosed","facts":{"closedOn":"2026-02-04","reason":"adviceOnly"}})");
  ASSERT_EQ(closed.code, HEARTH_OK) << closed.error;
  last = store_->Info()->last_position;
  Call after = Append(probe, kCase, HEARTH_EXPECT_ANY, 0, note);
  EXPECT_EQ(after.code, HEARTH_INVALID_ARGUMENT) << after.error;
  EXPECT_EQ(after.error.rfind("rule case-closed:", 0), 0u) << after.error;

  EXPECT_EQ(version(kCase), 3u);
  EXPECT_EQ(store_->Info()->last_position, last);
}

// read_document (ABI version 2): a document's body through the plugin's
// session, under the scopes of reading its event, in the access log with
// the plugin's purpose, and refused as erased once its subject is.
TEST_F(PluginHostTest, ReadDocumentGivesTheBodyUnderTheScopesOfItsEvent) {
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  ASSERT_TRUE(codec.ok()) << codec.status().ToString();
  auto event = [&](const std::string& text) {
    NewEvent e;
    Status s = (*codec)->FromJson(text, &e);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return e;
  };
  // Every byte value, NULs included: a body is bytes, not text.
  std::string body(3000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = char((i * 131 + 7) & 0xff);
  NewEvent attached = event(
      R"({"type":"DocumentAttached","facts":{"attachedOn":"2026-02-03","kind":"letter","sizeBytes":3000,)"
      R"("mediaType":"pdf","subjectRef":"P-5"},"personal":[{"subject":"P-5","role":"client",)"
      R"("details":{"documentSha256":")" + domain::Sha256Hex(body) + R"(","documentFileName":"scan.pdf"}}]})");
  attached.documents.push_back(DocumentBody{"P-5", body});
  Scopes writer = CaseWorkerScopes();
  writer.append_types = {"ContactRecorded", "DocumentAttached"};
  const std::string kCase = "case/D1/0005";
  auto r = MakeSession(writer)->Append(
      kCase, ExpectedVersion::NoStream(),
      {event(R"({"type":"ContactRecorded","subjects":[{"id":"P-5","role":"client"}],)"
             R"("facts":{"contactedOn":"2026-02-02","district":"D1","channel":"phone","purpose":"enquiry"}})"),
       attached});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const uint64_t position = r->last_position;

  Probe probe(HEARTH_PROBE_PLUGIN);
  ASSERT_TRUE(probe.ok()) << dlerror();
  auto read = [&](uint64_t at, uint32_t index, const std::string& purpose, std::string* got) {
    hearth_buffer bytes{}, out{}, error{};
    hearth_code code = probe.api()->read_document(probe.host(), at, index, S(purpose), &bytes, &out, &error);
    EXPECT_TRUE(code == HEARTH_OK || (bytes.data == nullptr && out.data == nullptr))
        << "a failed read left a buffer filled";
    if (got != nullptr && bytes.data != nullptr) got->assign(bytes.data, bytes.size);
    probe.api()->buffer_free(&bytes);
    return Take(probe.api(), code, &out, &error);
  };
  auto access_records = [&] {
    auto log = store_->AccessLog("P-5");
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? *log : std::vector<AccessRecord>{};
  };
  Scopes personal = CaseWorkerScopes();
  personal.read_personal = true;
  {
    auto session = MakeSession(personal);
    auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    ASSERT_TRUE(HEARTH_ABI_HAS(probe.api(), hearth_host_api, read_document));
    std::string got;
    Call ok = read(position, 0, "grant-check", &got);
    ASSERT_EQ(ok.code, HEARTH_OK) << ok.error;
    EXPECT_TRUE(got == body) << "the body read differs from the one attached";
    json meta = json::parse(ok.out);
    EXPECT_EQ(meta["position"], position);
    EXPECT_EQ(meta["index"], 0);
    EXPECT_EQ(meta["subject"], "P-5");
    EXPECT_EQ(meta["sizeBytes"], body.size());
    EXPECT_EQ(meta["sha256"], domain::Sha256Hex(body));
    auto log = access_records();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].action, "read");
    EXPECT_EQ(log[0].purpose, "grant-check");
    EXPECT_EQ(log[0].plugin, "probe");
    EXPECT_EQ(log[0].user, "staff-7");
    EXPECT_EQ(log[0].first_position, position);

    Call none = read(position - 1, 0, "grant-check", nullptr);  // the enquiry has none
    EXPECT_EQ(none.code, HEARTH_NOT_FOUND) << none.error;
    none = read(position, 1, "grant-check", nullptr);
    EXPECT_EQ(none.code, HEARTH_NOT_FOUND) << none.error;
    Call bad = read(position, 0, "not a code!", nullptr);
    EXPECT_EQ(bad.code, HEARTH_INVALID_ARGUMENT) << bad.error;
    EXPECT_NE(bad.error.find("purpose"), std::string::npos) << bad.error;
    hearth_buffer error{};
    EXPECT_EQ(probe.api()->read_document(probe.host(), position, 0, S("x"), nullptr, nullptr, &error),
              HEARTH_INVALID_ARGUMENT);
    probe.api()->buffer_free(&error);
  }
  {
    // Without read_personal.
    auto session = MakeSession(CaseWorkerScopes());
    auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    Call denied = read(position, 0, "grant-check", nullptr);
    EXPECT_EQ(denied.code, HEARTH_PERMISSION_DENIED) << denied.error;
    EXPECT_NE(denied.error.find("read_personal"), std::string::npos) << denied.error;
  }
  {
    // Without the case's district: the refusal reading the event gives.
    Scopes elsewhere = personal;
    elsewhere.read_districts = {"D2"};
    auto session = MakeSession(elsewhere);
    auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    Call event_read = ReadStream(probe, kCase);
    ASSERT_EQ(event_read.code, HEARTH_PERMISSION_DENIED) << event_read.error;
    Call denied = read(position, 0, "grant-check", nullptr);
    EXPECT_EQ(denied.code, HEARTH_PERMISSION_DENIED) << denied.error;
    EXPECT_EQ(denied.error, event_read.error);
  }
  EXPECT_EQ(access_records().size(), 1u) << "a refused read is in the access log";

  ASSERT_TRUE(store_->EraseSubject("P-5", Actor{"S-1", "controller", "test"}, "art17").ok());
  {
    auto session = MakeSession(personal);
    auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    Call gone = read(position, 0, "grant-check", nullptr);
    EXPECT_EQ(gone.code, HEARTH_ERASED) << gone.error;
    EXPECT_NE(gone.error.find("erased"), std::string::npos) << gone.error;
  }
}

// Without a codec in LoadOptions the builtin one reads domain events, so
// free text in facts is refused naming the field (before, it was stored as
// JSON text); on a case stream a type the case fold does not know is refused
// too (it would make the case unreadable to the read models).
TEST_F(PluginHostTest, CaseAppendsWithoutTheCodecAreValidatedToo) {
  Probe probe(HEARTH_PROBE_PLUGIN);
  Scopes scopes = CaseWorkerScopes();
  scopes.append_types = {"*"};
  auto session = MakeSession(scopes);
  auto plugin = LoadedPlugin::Load(HEARTH_PROBE_PLUGIN, *session, "{}");
  ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
  Call unknown = Append(probe, "case/D1/0003", HEARTH_EXPECT_ANY, 0,
                        R"({"type":"NoteAdded","subjects":[{"id":"P-3","role":"client"}],"facts":{"x":1}})");
  EXPECT_EQ(unknown.code, HEARTH_INVALID_ARGUMENT) << unknown.error;
  EXPECT_EQ(unknown.error.rfind("rule unknown-event-type:", 0), 0u) << unknown.error;
  Call text = Append(probe, "case/D1/0003", HEARTH_EXPECT_NO_STREAM, 0,
                     R"({"type":"ContactRecorded","schemaVersion":2,"subjects":[{"id":"P-3","role":"client"}],)"
                     R"("facts":{"district":"D1","purpose":"enquiry","note":"rang about her hip"}})");
  EXPECT_EQ(text.code, HEARTH_INVALID_ARGUMENT) << text.error;
  EXPECT_NE(text.error.find("facts.note"), std::string::npos) << text.error;
  EXPECT_FALSE(store_->StreamVersion("case/D1/0003").ok());
  EXPECT_EQ(store_->Info()->last_position, 0u);
  // The same plugin may still write streams that are not cases.
  Call intake = Append(probe, kIntake, HEARTH_EXPECT_NO_STREAM, 0,
                       R"({"type":"NoteAdded","facts":{"x":1}})");
  EXPECT_EQ(intake.code, HEARTH_OK) << intake.error;
}

}  // namespace
}  // namespace hearth
