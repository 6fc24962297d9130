// The worklist-file plugin: keeps one first-visit worklist file per team
// (docs/plugin-abi.md, "Example: worklist-file").
//
// It subscribes to the log from the start (needs the readLog scope, nothing
// else: it reads facts only), folds the events into FirstVisitWorklist, and
// every `intervalMs` rewrites the files whose content changed, and all of them
// when the date changes. Each file is written to a temporary name in the same
// directory, synced and renamed over the old one, so a reader never sees half
// a file.
//
// Configuration (JSON object):
//   dir            REQUIRED: the directory for the files (created if missing)
//   format         "json" (default) or "csv"
//   targetDays     days from enquiry to the first visit's due date (default 28)
//   dueWithinDays  also list cases due within this many days (default 7)
//   today          "YYYY-MM-DD": a fixed date (re-runs, tests); default: the
//                  date in the UK, which moves on at midnight
//   intervalMs     how often files are brought up to date (default 1000)
// Files: <dir>/first-visits-<team>.json (or .csv).
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "hearth/plugin_abi.h"
#include "worklist.h"

namespace hearth::worklist {
namespace {

void FillError(hearth_buffer* error, const std::string& message) {
  if (error == nullptr) return;
  char* p = static_cast<char*>(std::malloc(message.size() + 1));
  if (p == nullptr) return;
  std::memcpy(p, message.data(), message.size());
  p[message.size()] = '\0';
  error->data = p;
  error->size = message.size();
}

void PluginBufferFree(hearth_buffer* buffer) {
  if (buffer == nullptr) return;
  std::free(buffer->data);
  buffer->data = nullptr;
  buffer->size = 0;
}

hearth_str S(const std::string& s) { return hearth_str{s.data(), s.size()}; }

// A team code as a file name part: anything outside [A-Za-z0-9._-] becomes '_'.
std::string FileSafe(const std::string& team) {
  std::string out = team.empty() ? "_" : team;
  for (char& c : out) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || (c == '.' && &c != &out[0]);
    if (!ok) c = '_';
  }
  return out;
}

// Writes `content` to `path` atomically: temp file, fsync, rename, fsync dir.
bool WriteAtomically(const std::filesystem::path& path, const std::string& content,
                     std::string* why) {
  std::string tmp = path.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    *why = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *why = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    *why = "cannot sync " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    *why = "cannot rename " + tmp + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

}  // namespace
}  // namespace hearth::worklist

using namespace hearth::worklist;

// The plugin's state behind the opaque handle.
struct hearth_plugin {
  const hearth_host_api* api = nullptr;
  hearth_host* host = nullptr;

  std::filesystem::path dir;
  bool csv = false;
  std::optional<Date> fixed_today;
  int interval_ms = 1000;

  std::mutex mu;
  std::condition_variable wake;
  FirstVisitWorklist worklist{Settings{}};
  bool dirty = true;
  bool stopping = false;
  std::map<std::string, std::string> written;  // team -> content last written
  std::set<std::string> warned;                // types already warned about

  hearth_subscription* subscription = nullptr;
  std::thread writer;

  void Log(int32_t level, const std::string& line) { api->log(host, level, S(line)); }
  Date Today() const { return fixed_today ? *fixed_today : UkToday(); }

  // Writes every team's file whose content changed. REQUIRES: mu held.
  void WriteFiles() {
    Date today = Today();
    for (const std::string& team : worklist.Teams()) {
      std::vector<Row> rows = worklist.Rows(team, today);
      std::string content = csv ? RenderCsv(rows)
                                : RenderJson(team, today, worklist.position(),
                                             worklist.settings(), rows);
      // CSV has no date inside: keep the date in the comparison key anyway.
      std::string key = FormatDate(today) + "\n" + content;
      auto it = written.find(team);
      if (it != written.end() && it->second == key) continue;
      std::filesystem::path path =
          dir / ("first-visits-" + FileSafe(team) + (csv ? ".csv" : ".json"));
      std::string why;
      if (WriteAtomically(path, content, &why)) {
        written[team] = std::move(key);
      } else {
        Log(HEARTH_LOG_ERROR, why);
      }
    }
    dirty = false;
  }

  void WriterLoop() {
    std::unique_lock<std::mutex> lock(mu);
    Date last_day = Today();
    while (!stopping) {
      wake.wait_for(lock, std::chrono::milliseconds(interval_ms));
      if (stopping) break;
      Date today = Today();
      if (dirty || today != last_day) WriteFiles();
      last_day = today;
    }
  }
};

namespace {

int32_t OnEvent(void* context, hearth_str event_json) {
  auto* p = static_cast<hearth_plugin*>(context);
  try {
    Json event = Json::parse(event_json.data, event_json.data + event_json.size);
    std::lock_guard<std::mutex> lock(p->mu);
    std::string why;
    if (!p->worklist.Apply(event, &why)) {
      std::string type = event.value("type", "");
      if (p->warned.insert(type).second) p->Log(HEARTH_LOG_WARNING, "skipped: " + why);
    }
    p->dirty = true;
    return 1;
  } catch (const std::exception& e) {
    p->Log(HEARTH_LOG_ERROR, std::string("cannot read an event: ") + e.what());
    return 0;
  }
}

void OnEnd(void* context, hearth_code code, hearth_str message) {
  auto* p = static_cast<hearth_plugin*>(context);
  if (code != HEARTH_OK) {
    p->Log(HEARTH_LOG_ERROR, "subscription ended: " + std::string(message.data, message.size));
  }
}

hearth_code Init(const hearth_host_api* api, hearth_host* host, hearth_str config_json,
                 hearth_plugin** out, hearth_buffer* error) {
  try {
    auto p = std::make_unique<hearth_plugin>();
    p->api = api;
    p->host = host;
    Json config = Json::parse(config_json.data, config_json.data + config_json.size);
    Settings settings;
    for (auto it = config.begin(); it != config.end(); ++it) {
      const std::string& key = it.key();
      const Json& v = it.value();
      if (key == "dir" && v.is_string() && !v.get<std::string>().empty()) {
        p->dir = v.get<std::string>();
      } else if (key == "format" && v.is_string() &&
                 (v.get<std::string>() == "json" || v.get<std::string>() == "csv")) {
        p->csv = v.get<std::string>() == "csv";
      } else if (key == "targetDays" && v.is_number_integer() && v.get<int>() >= 0 &&
                 v.get<int>() <= 3650) {
        settings.target_days = v.get<int>();
      } else if (key == "dueWithinDays" && v.is_number_integer() && v.get<int>() >= 0 &&
                 v.get<int>() <= 3650) {
        settings.due_within_days = v.get<int>();
      } else if (key == "today" && v.is_string()) {
        Date d;
        if (!ParseDate(v.get<std::string>(), &d)) {
          FillError(error, "config today: expected YYYY-MM-DD");
          return HEARTH_INVALID_ARGUMENT;
        }
        p->fixed_today = d;
      } else if (key == "intervalMs" && v.is_number_integer() && v.get<int>() >= 10 &&
                 v.get<int>() <= 3600000) {
        p->interval_ms = v.get<int>();
      } else {
        FillError(error, "config " + key +
                             ": unknown or invalid (dir: path, format: json|csv, targetDays, "
                             "dueWithinDays: 0..3650, today: YYYY-MM-DD, intervalMs: 10..3600000)");
        return HEARTH_INVALID_ARGUMENT;
      }
    }
    if (p->dir.empty()) {
      FillError(error, "config dir: required (the directory for the worklist files)");
      return HEARTH_INVALID_ARGUMENT;
    }
    std::error_code ec;
    std::filesystem::create_directories(p->dir, ec);
    if (ec) {
      FillError(error, "cannot create " + p->dir.string() + ": " + ec.message());
      return HEARTH_IO_ERROR;
    }
    p->worklist = FirstVisitWorklist(settings);
    *out = p.release();
    return HEARTH_OK;
  } catch (const std::exception& e) {
    FillError(error, std::string("init: ") + e.what());
    return HEARTH_INVALID_ARGUMENT;
  }
}

hearth_code Start(hearth_plugin* p, hearth_buffer* error) {
  try {
    {
      std::lock_guard<std::mutex> lock(p->mu);
      p->stopping = false;
    }
    hearth_buffer host_error{nullptr, 0};
    const std::string purpose = "worklist";
    hearth_code code = p->api->subscribe(p->host, 1, S(purpose), OnEvent, OnEnd, p,
                                         &p->subscription, &host_error);
    if (code != HEARTH_OK) {
      FillError(error, "cannot subscribe to the log: " +
                           std::string(host_error.data ? host_error.data : "", host_error.size));
      p->api->buffer_free(&host_error);
      return code;
    }
    p->writer = std::thread([p] { p->WriterLoop(); });
    p->Log(HEARTH_LOG_INFO, "writing first-visit worklists to " + p->dir.string());
    return HEARTH_OK;
  } catch (const std::exception& e) {
    FillError(error, std::string("start: ") + e.what());
    return HEARTH_IO_ERROR;
  }
}

void Stop(hearth_plugin* p) {
  try {
    if (p->subscription != nullptr) {
      p->api->unsubscribe(p->host, p->subscription);
      p->subscription = nullptr;
    }
    {
      std::lock_guard<std::mutex> lock(p->mu);
      p->stopping = true;
    }
    p->wake.notify_all();
    if (p->writer.joinable()) p->writer.join();
    std::lock_guard<std::mutex> lock(p->mu);
    p->WriteFiles();  // what was folded last
  } catch (...) {
    // stop must not fail; the files keep their last good content.
  }
}

void Destroy(hearth_plugin* p) { delete p; }

const hearth_plugin_api kPluginApi = {
    sizeof(hearth_plugin_api),
    HEARTH_PLUGIN_ABI_VERSION,
    "worklist-file",
    "1.0.0",
    Init,
    Start,
    Stop,
    Destroy,
    PluginBufferFree,
};

}  // namespace

extern "C" HEARTH_PLUGIN_EXPORT const hearth_plugin_api* hearth_plugin_entry(
    uint32_t host_abi_version) {
  // Version 1 is all this plugin uses; every host implements it.
  (void)host_abi_version;
  return &kPluginApi;
}
