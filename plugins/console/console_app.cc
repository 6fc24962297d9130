// The console's request handling (console.h, docs/console.md): accounts,
// sessions, CSRF, throttling, security headers, static pages, JSON endpoints.
#include <sodium.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>
#include <iostream>
#include <mutex>

#include "accounts.h"
#include "console.h"
#include "hearth/exports.h"
#include "hearth/references.h"
#include "hearth/rights.h"
#include "hearth/scoped_reader.h"
#include "hearth/session.h"
#include "www_files.h"

namespace hearth::console {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Headers on every answer. The pages load only their own scripts and styles
// (no inline script, no other origin), cannot be framed, and are not sniffed
// into another type.
const std::pair<const char*, const char*> kSecurityHeaders[] = {
    {"Strict-Transport-Security", "max-age=31536000; includeSubDomains"},
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
};

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

std::string RandomToken() {
  uint8_t b[32];
  randombytes_buf(b, sizeof b);
  return Hex(b, sizeof b);
}

bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Percent-decoding of one query component ('+' is a space). False for a bad
// escape.
bool Unescape(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      *out += ' ';
    } else if (c == '%') {
      auto hexv = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 >= in.size()) return false;
      int hi = hexv(in[i + 1]), lo = hexv(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += char(hi * 16 + lo);
      i += 2;
    } else {
      *out += c;
    }
  }
  return true;
}

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
  bool ok = true;
};

Target ParseTarget(const std::string& target) {
  Target t;
  size_t q = target.find('?');
  t.path = target.substr(0, q);
  if (q == std::string::npos) return t;
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key, value;
    if (!Unescape(pair.substr(0, eq), &key) ||
        !Unescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), &value)) {
      t.ok = false;
      return t;
    }
    t.query[key] = value;
  }
  return t;
}

std::string CookieValue(const HttpRequest& req, const std::string& name) {
  auto it = req.headers.find("cookie");
  if (it == req.headers.end()) return {};
  std::string_view rest = it->second;
  while (!rest.empty()) {
    size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return {};
}

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return 200;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kConflict: return 409;
    case Status::Code::kPermissionDenied: return 403;
    case Status::Code::kTooLarge: return 413;
    case Status::Code::kBusy: return 503;
    case Status::Code::kErased: return 410;
    default: return 500;
  }
}

HttpResponse JsonResponse(int status, const Json& body) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body.dump();
  return r;
}

HttpResponse JsonText(std::string body) {
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, const std::string& message) {
  return JsonResponse(status, Json{{"error", message}});
}

HttpResponse ErrorOf(const Status& s) { return Error(HttpStatusOf(s), s.message()); }

// The partner's returns in the console come from the `kpi` read model, which
// the release ledger does not coordinate across returns (docs/console.md):
// under `ons` (1-9 hidden, every value and the county rounded to 5) the
// independent cross-return attacker recovers no small count from a year and
// its quarters, or from two positions (tests/exports/cross_return_attack_test.cc),
// where under `nhs` it does.
constexpr const char* kConsoleKpiPolicy = "ons";

// One logged-in browser.
struct WebSession {
  std::string token;
  std::string csrf;
  Account account;
  std::shared_ptr<Session> session;
  Clock::time_point created;
  Clock::time_point last_used;
};

// A pack generated for a request, held until downloaded or replaced.
struct HeldPack {
  std::string subject;
  std::string json;
  std::string html;
  uint32_t events = 0;
};

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  std::string want = Lower(name);
  for (const auto& [k, v] : headers) {
    if (Lower(k) == want) return v;
  }
  return {};
}

struct ConsoleApp::Impl {
  ConsoleContext ctx;
  server::ConsoleConfig config;
  std::string dummy_hash;  // verified against for unknown accounts (same cost)

  std::mutex mu;
  std::map<std::string, std::shared_ptr<WebSession>> sessions;  // by token
  std::map<std::string, std::deque<Clock::time_point>> failures;  // "a:" account / "ip:" peer
  std::map<std::string, HeldPack> packs;                          // by request ref

  Clock::time_point Now() const { return ctx.now ? ctx.now() : Clock::now(); }
  void Log(const std::string& line) const {
    if (ctx.log) {
      ctx.log(line);
    } else {
      std::cerr << "hearth console: " << line << "\n";
    }
  }

  // Past this many sessions or throttled names, the expired ones are dropped
  // (so that made-up account names cannot grow the server's memory).
  static constexpr size_t kMaxTracked = 10000;
  bool Expired(const WebSession& web, Clock::time_point now) const {
    return now - web.last_used >= std::chrono::milliseconds(config.session_idle_ms) ||
           now - web.created >= std::chrono::milliseconds(config.session_max_ms);
  }
  // REQUIRES: mu held.
  void Sweep(Clock::time_point now) {
    for (auto it = sessions.begin(); it != sessions.end();) {
      it = Expired(*it->second, now) ? sessions.erase(it) : std::next(it);
    }
    for (auto it = failures.begin(); it != failures.end();) {
      RecentFailures(it->first, now);
      it = it->second.empty() ? failures.erase(it) : std::next(it);
    }
  }

  // --- throttling ---
  // Failures still inside the window for `key`, dropping older ones.
  size_t RecentFailures(const std::string& key, Clock::time_point now) {
    auto it = failures.find(key);
    if (it == failures.end()) return 0;
    auto window = std::chrono::milliseconds(config.lockout_ms);
    while (!it->second.empty() && now - it->second.front() >= window) it->second.pop_front();
    return it->second.size();
  }

  HttpResponse Login(const HttpRequest& req) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("account") ||
        !body.contains("password") || !body["account"].is_string() || !body["password"].is_string()) {
      return Error(400, "login needs a JSON object {\"account\": ..., \"password\": ...}");
    }
    std::string name = body["account"].get<std::string>();
    std::string password = body["password"].get<std::string>();
    body["password"] = "";
    if (!IsReference(name)) return Error(400, "account must be an account name");
    Clock::time_point now = Now();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (RecentFailures("a:" + name, now) >= config.login_failures ||
          RecentFailures("ip:" + req.peer, now) >= config.login_failures) {
        Log("login refused (throttled) for account " + name + " from " + req.peer);
        HttpResponse r = Error(429, "too many failed logins: try again later");
        r.headers.emplace_back("Retry-After", std::to_string(config.lockout_ms / 1000));
        sodium_memzero(password.data(), password.size());
        return r;
      }
    }
    auto book = AccountBook::Read(*ctx.store);
    if (!book.ok()) {
      sodium_memzero(password.data(), password.size());
      return ErrorOf(book.status());
    }
    const Account* account = book->Find(name);
    bool ok = VerifyPassword(account != nullptr ? account->password_hash : dummy_hash, password);
    sodium_memzero(password.data(), password.size());
    ok = ok && account != nullptr && !account->disabled;
    // The second factor: a client certificate naming the account.
    if (ok && config.client_certificate && req.client_cn != name) {
      ok = false;
      Log("login refused for account " + name + ": no client certificate naming it");
    }
    if (!ok) {
      std::lock_guard<std::mutex> lock(mu);
      if (failures.size() > kMaxTracked) Sweep(now);
      failures["a:" + name].push_back(now);
      failures["ip:" + req.peer].push_back(now);
      Log("login failed for account " + name + " from " + req.peer);
      return Error(401, "wrong account or password");
    }
    auto web = std::make_shared<WebSession>();
    web->token = RandomToken();
    web->csrf = RandomToken();
    web->account = *account;
    web->account.password_hash.clear();
    web->created = web->last_used = now;
    web->session = std::make_shared<Session>(
        ctx.store, Principal{"console", account->name, account->role}, RoleScopes(*account),
        [this](const std::string& line) { Log(line); });
    {
      std::lock_guard<std::mutex> lock(mu);
      failures.erase("a:" + name);
      if (sessions.size() > kMaxTracked) Sweep(now);
      sessions[web->token] = web;
    }
    AccessRecord a;
    a.subject = "account:" + name;
    a.action = "login";
    a.purpose = "console";
    if (Status s = web->session->LogAccess({a}); !s.ok()) return ErrorOf(s);
    Log("login of account " + name + " (" + account->role + ") from " + req.peer);
    HttpResponse r = JsonResponse(200, Me(*web));
    r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + web->token +
                                             "; Path=/; Secure; HttpOnly; SameSite=Strict");
    return r;
  }

  static Json Me(const WebSession& web) {
    return Json{{"account", web.account.name},
                {"role", web.account.role},
                {"districts", web.account.districts},
                {"csrf", web.csrf}};
  }

  // The session of the request's cookie, or the refusal (401).
  std::shared_ptr<WebSession> Authenticate(const HttpRequest& req, HttpResponse* refusal) {
    std::string token = CookieValue(req, kSessionCookie);
    if (token.empty()) {
      *refusal = Error(401, "not logged in");
      return nullptr;
    }
    Clock::time_point now = Now();
    std::lock_guard<std::mutex> lock(mu);
    auto it = sessions.find(token);
    if (it == sessions.end()) {
      *refusal = Error(401, "not logged in (or the session has ended)");
      return nullptr;
    }
    std::shared_ptr<WebSession> web = it->second;
    if (Expired(*web, now)) {
      sessions.erase(it);
      Log("session of account " + web->account.name + " expired");
      *refusal = Error(401, "the session has expired: log in again");
      return nullptr;
    }
    web->last_used = now;
    return web;
  }

  // Every console action reaches the access log with the account.
  Status LogAction(WebSession& web, const std::string& what) {
    AccessRecord a;
    a.subject = "account:" + web.account.name;
    a.action = "console";
    a.purpose = what;
    return web.session->LogAccess({a});
  }

  HttpResponse Query(WebSession& web, const std::string& model, const Json& params) {
    auto out = ctx.models->Query(*web.session, model, params.dump());
    if (!out.ok()) return ErrorOf(out.status());
    return JsonText(std::move(*out));
  }

  // --- the controller's rights requests ---

  Json RequestJson(const rights::RequestState& q, domain::Date today) {
    Json j{{"request", q.ref}, {"subject", q.subject}, {"kind", q.kind}, {"status", q.status},
           {"identityNeeded", q.identity_needed}, {"paused", q.paused()}};
    if (q.received_on) j["receivedOn"] = domain::FormatDate(*q.received_on);
    if (q.identity_verified_on) j["identityVerifiedOn"] = domain::FormatDate(*q.identity_verified_on);
    if (q.closed_on) j["closedOn"] = domain::FormatDate(*q.closed_on);
    if (!q.outcome.empty()) j["outcome"] = q.outcome;
    if (!q.closed()) {
      auto due = rights::ComputeDueDate(q, *ctx.calendar, today);
      if (due.ok()) {
        j["due"] = domain::FormatDate(due->due);
        j["daysLeft"] = int((due->due - today).count());
      }
    }
    return j;
  }

  // GET /api/requests (docs/console.md): every open request (up to
  // rights::kMaxRequestsPage; `openNext` when there are more, continued with
  // ?open=1&after=) and the closed ones among the newest `limit` requests
  // (default kConsoleRequestsPage); `next` continues with ?after=, which
  // answers the closed ones among the next `limit` (the open ones were all on
  // the first answer). Each answer reads O(open + limit) requests, never all.
  static constexpr size_t kConsoleRequestsPage = 50;

  HttpResponse Requests(WebSession& web, rights::Rights& r, const std::string& after,
                        const std::string& limit_text, bool open_only) {
    (void)web;
    size_t limit = kConsoleRequestsPage;
    if (!limit_text.empty()) {
      size_t n = 0;
      auto [end, ec] = std::from_chars(limit_text.data(), limit_text.data() + limit_text.size(), n);
      if (ec != std::errc() || end != limit_text.data() + limit_text.size()) {
        return Error(400, "limit must be a number 1.." + std::to_string(rights::kMaxRequestsPage));
      }
      limit = n;
    }
    domain::Date today = r.Today();
    Json list = Json::array();
    Json doc{{"today", domain::FormatDate(today)}};
    uint64_t read = 0;
    if (open_only || after.empty()) {
      rights::RequestPageOptions open;
      open.open_only = true;
      open.limit = open_only ? limit : rights::kMaxRequestsPage;
      open.after = open_only ? after : std::string();
      auto page = r.RequestsPage(open);
      if (!page.ok()) return ErrorOf(page.status());
      for (const auto& q : page->requests) list.push_back(RequestJson(q, today));
      if (!page->next.empty()) doc["openNext"] = page->next;
      read += page->requests_read;
    }
    if (!open_only) {
      rights::RequestPageOptions all;
      all.open_only = false;
      all.limit = limit;
      all.after = after;
      auto page = r.RequestsPage(all);
      if (!page.ok()) return ErrorOf(page.status());
      for (const auto& q : page->requests) {
        if (q.closed()) list.push_back(RequestJson(q, today));
      }
      if (!page->next.empty()) doc["next"] = page->next;
      read += page->requests_read;
    }
    // Overdue first: open requests by days left, then the closed ones, newest first.
    std::stable_sort(list.begin(), list.end(), [](const Json& a, const Json& b) {
      bool ao = a.contains("daysLeft"), bo = b.contains("daysLeft");
      if (ao != bo) return ao;
      if (ao) return a["daysLeft"].get<int>() < b["daysLeft"].get<int>();
      return false;
    });
    doc["requests"] = std::move(list);
    doc["requestsRead"] = read;
    return JsonResponse(200, doc);
  }

  Result<NewEvent> RightsEvent(const std::string& type, const Json& facts, const WebSession& web,
                               const Json& subjects = Json(), const Json& personal = Json()) {
    Json e{{"type", type},
           {"actor", {{"user", web.account.name}, {"role", web.account.role}, {"plugin", "console"}}},
           {"facts", facts}};
    if (!subjects.is_null()) e["subjects"] = subjects;
    if (!personal.is_null()) e["personal"] = personal;
    NewEvent ev;
    if (Status s = ctx.codec->FromJson(e.dump(), &ev); !s.ok()) return s;
    return ev;
  }

  // Records a reviewer's decision on request `ref`; the pack generated before
  // it is dropped (generate it again); answers the request as it now stands.
  HttpResponse RecordDecision(rights::Rights& r, const std::string& ref, Result<NewEvent> ev,
                              domain::Date today) {
    if (!ev.ok()) return ErrorOf(ev.status());
    auto res = r.Record(ref, {*ev});
    if (!res.ok()) return ErrorOf(res.status());
    {
      std::lock_guard<std::mutex> lock(mu);
      packs.erase(ref);
    }
    auto after = r.LoadRequest(ref);
    if (!after.ok()) return ErrorOf(after.status());
    return JsonResponse(200, RequestJson(*after, today));
  }

  static Status DateField(const Json& body, const char* key, domain::Date today, std::string* out) {
    if (!body.contains(key)) {
      *out = domain::FormatDate(today);
      return Status::OK();
    }
    domain::Date d;
    if (!body[key].is_string() || !domain::ParseDate(body[key].get<std::string>(), &d)) {
      return Status::InvalidArgument(std::string(key) + " must be a date YYYY-MM-DD");
    }
    *out = domain::FormatDate(d);
    return Status::OK();
  }

  HttpResponse Rights(WebSession& web, const HttpRequest& req, const std::vector<std::string>& parts,
                      const Json& body, const std::map<std::string, std::string>& query) {
    // The controller's workflows reach the store only with the controller
    // scope (ScopedReader::ControllerStore): the session decides, not the page.
    ScopedReader reader(*web.session, Reach::kScoped, "rights");
    auto store = reader.ControllerStore();
    if (!store.ok()) return ErrorOf(store.status());
    rights::Rights r(*store, ctx.codec, rights::RightsOptions{});
    domain::Date today = r.Today();
    if (parts.size() == 1) {
      if (req.method == "GET") {
        auto param = [&](const char* key) {
          auto it = query.find(key);
          return it == query.end() ? std::string() : it->second;
        };
        return Requests(web, r, param("after"), param("limit"), param("open") == "1");
      }
      // Receipt of a new request.
      std::string subject = body.value("subject", std::string());
      std::string kind = body.value("kind", std::string());
      if (!IsReference(subject)) return Error(400, "subject must be a subject reference");
      std::string received;
      if (Status s = DateField(body, "receivedOn", today, &received); !s.ok()) return ErrorOf(s);
      auto known = (*store)->ReadSubject(subject, 1, 1);
      if (!known.ok() || known->empty()) return Error(404, "no data subject " + subject);
      auto ref = r.NextRequestRef();
      if (!ref.ok()) return ErrorOf(ref.status());
      Json f{{"kind", kind},
             {"channel", body.value("channel", std::string("unspecified"))},
             {"identityNeeded", body.value("identityNeeded", false)},
             {"requestRef", *ref},
             {"authority", "none"},
             {"requestedBy", "self"},
             {"receivedOn", received}};
      auto ev = RightsEvent("RightsRequestReceived", f, web,
                            Json::array({Json{{"id", subject}, {"role", "client"}}}));
      if (!ev.ok()) return ErrorOf(ev.status());
      auto res = r.Record(*ref, {*ev});
      if (!res.ok()) return ErrorOf(res.status());
      auto st = r.LoadRequest(*ref);
      if (!st.ok()) return ErrorOf(st.status());
      return JsonResponse(201, RequestJson(*st, today));
    }
    const std::string& ref = parts[1];
    if (Status s = rights::ValidRequestRef(ref); !s.ok()) return ErrorOf(s);
    auto st = r.LoadRequest(ref);
    if (!st.ok()) return ErrorOf(st.status());
    if (parts.size() == 2 && req.method == "GET") return JsonResponse(200, RequestJson(*st, today));
    if (parts.size() != 3) return Error(404, "no such endpoint");
    const std::string& action = parts[2];
    if (req.method == "GET" && (action == "pack.json" || action == "pack.html")) {
      HeldPack pack;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto it = packs.find(ref);
        if (it == packs.end()) return Error(404, "no pack generated for " + ref + ": generate it first");
        pack = it->second;
      }
      AccessRecord a;
      a.subject = pack.subject;
      a.action = "export";
      a.purpose = "subject access " + ref;
      a.events = pack.events;
      if (Status s = web.session->LogAccess({a}); !s.ok()) return ErrorOf(s);
      bool json = action == "pack.json";
      HttpResponse out;
      out.headers.emplace_back("Content-Type", json ? "application/json" : "text/html; charset=utf-8");
      out.headers.emplace_back("Content-Disposition",
                               "attachment; filename=\"sar-" + ref + (json ? ".json\"" : ".html\""));
      out.body = json ? pack.json : pack.html;
      return out;
    }
    if (req.method != "POST") return Error(405, "use POST");
    if (action == "pack") {
      if (Status s = reader.CheckReadPersonal(); !s.ok()) return ErrorOf(s);
      // As `hearth sar`: built without recording, then the disclosure logged
      // as it does, so the bytes equal its sar.json and sar.html.
      rights::PackOptions po;
      po.user = web.account.name;
      po.requester_role = web.account.role;
      po.plugin = "console";
      po.request_ref = ref;
      po.record_disclosure = false;
      auto pack = r.BuildPack(st->subject, po);
      if (!pack.ok()) return ErrorOf(pack.status());
      AccessRecord a;
      a.subject = st->subject;
      a.action = "sar";
      a.purpose = "subject access " + ref;
      a.recipient = "dataSubject";
      a.events = pack->events;
      if (Status s = web.session->LogAccess({a}); !s.ok()) return ErrorOf(s);
      {
        std::lock_guard<std::mutex> lock(mu);
        packs[ref] = HeldPack{st->subject, pack->json, pack->html, pack->events};
      }
      // For the reviewer (never in the pack): the other people named with
      // the person, whose sections a decision may release or withhold.
      std::map<std::string, std::string> others;
      for (uint64_t from = 1;;) {
        auto page = (*store)->ReadSubject(st->subject, from, 1024);
        if (!page.ok() || page->empty()) break;
        for (const auto& e : *page) {
          for (const auto& sr : e.subjects) {
            if (sr.id != st->subject && sr.role != SubjectRole::kStaff) others[sr.id] = SubjectRoleName(sr.role);
          }
          from = e.position + 1;
        }
        if (page->size() < 1024) break;
      }
      Json third = Json::array();
      for (const auto& [id, role] : others) third.push_back(Json{{"subject", id}, {"role", role}});
      // For the reviewer (never in the pack): each note held for review with
      // its text, to release, redact or withhold (docs/rights.md).
      Json held_notes = Json::array();
      Json packed = Json::parse(pack->json, nullptr, false);
      if (packed.is_object() && packed.contains("heldForReview")) {
        for (const auto& h : packed["heldForReview"]) {
          uint64_t position = h.value("position", uint64_t{0});
          auto note = (*store)->ReadSubject(st->subject, position, 1);
          if (!note.ok()) return ErrorOf(note.status());
          if (note->empty() || note->front().position != position) continue;
          auto text = ctx.codec->ToJson(note->front());
          if (!text.ok()) return ErrorOf(text.status());
          Json ev = Json::parse(*text, nullptr, false);
          std::string words;
          for (const auto& p : ev.value("personal", Json::array())) {
            if (p.value("subject", std::string()) == st->subject && p.contains("details")) {
              words = p["details"].value("freeText", std::string());
            }
          }
          held_notes.push_back(Json{{"position", position}, {"date", h.value("date", std::string())},
                                    {"text", words}});
        }
      }
      return JsonResponse(200, Json{{"request", ref}, {"subject", st->subject}, {"events", pack->events},
                                    {"withheldSections", pack->withheld_sections},
                                    {"heldForReview", pack->held_for_review}, {"erased", pack->erased},
                                    {"thirdParties", third}, {"heldNotes", held_notes}});
    }
    if (action == "erase") {
      // Two steps, as `hearth rights erase`: without "confirm": true the
      // answer says what would happen and nothing is done.
      std::string would = st->erasure_pending()
                              ? "complete erasure request " + ref + " about " + st->subject +
                                    ": decided on " + domain::FormatDate(*st->erasure_decided_on) +
                                    " but not carried out (erasing their personal data and closing the request)"
                              : "decide erasure request " + ref + " about " + st->subject +
                                    ": unless a retention rule holds the record, their personal data is "
                                    "crypto-shredded for good (nobody, the agency included, can read it again; "
                                    "facts, counts and hashes stay) and the request is closed";
      if (!body.value("confirm", false)) {
        return JsonResponse(200, Json{{"confirmNeeded", true}, {"wouldDo", would}});
      }
      auto res = r.DecideErasure(ref, Actor{web.account.name, web.account.role, "console"});
      if (!res.ok()) return ErrorOf(res.status());
      auto after = r.LoadRequest(ref);
      if (!after.ok()) return ErrorOf(after.status());
      return JsonResponse(200, RequestJson(*after, today));
    }
    std::string type;
    Json facts;
    std::string date;
    if (action == "identity") {
      if (Status s = DateField(body, "verifiedOn", today, &date); !s.ok()) return ErrorOf(s);
      type = "RightsIdentityVerified";
      facts = {{"verifiedOn", date},
               {"method", body.value("method", std::string("documentSeen"))},
               {"verifiedBy", web.account.name}};
    } else if (action == "pause") {
      if (Status s = DateField(body, "pausedOn", today, &date); !s.ok()) return ErrorOf(s);
      type = "RightsClockPaused";
      facts = {{"pausedOn", date}, {"reason", body.value("reason", std::string())}};
    } else if (action == "resume") {
      if (Status s = DateField(body, "resumedOn", today, &date); !s.ok()) return ErrorOf(s);
      type = "RightsClockResumed";
      facts = {{"resumedOn", date}};
    } else if (action == "third-party") {
      // A reviewer's decision about another person's sections in the pack.
      std::string other = body.value("thirdParty", std::string());
      std::string role = body.value("role", std::string("other"));
      SubjectRole parsed;
      if (!IsReference(other)) return Error(400, "thirdParty must be a subject reference");
      if (!ParseSubjectRole(role, &parsed)) return Error(400, "role must be a subject role such as carer");
      if (Status s = DateField(body, "decidedOn", today, &date); !s.ok()) return ErrorOf(s);
      auto ev = RightsEvent("ThirdPartyDisclosureDecided",
                            Json{{"decidedOn", date}, {"thirdParty", other},
                                 {"basis", body.value("basis", std::string())},
                                 {"reasonCode", body.value("reasonCode", std::string())},
                                 {"reviewerRef", web.account.name}},
                            web,
                            Json::array({Json{{"id", st->subject}, {"role", "client"}},
                                         Json{{"id", other}, {"role", role}}}));
      return RecordDecision(r, ref, ev, today);
    } else if (action == "held-note") {
      // A reviewer's decision about a note held for review: sent whole,
      // redacted (the reviewer's text, the person's own data) or withheld.
      if (!body.contains("notePosition") || !body["notePosition"].is_number_unsigned() ||
          body["notePosition"].get<uint64_t>() == 0) {
        return Error(400, "notePosition must be the position of a note held for review");
      }
      if (!body.value("redactedText", Json()).is_null() && !body["redactedText"].is_string()) {
        return Error(400, "redactedText must be text");
      }
      std::string basis = body.value("basis", std::string());
      if (Status s = DateField(body, "decidedOn", today, &date); !s.ok()) return ErrorOf(s);
      std::string redacted = body.value("redactedText", std::string());
      Json personal;
      if (basis == "releaseRedacted") {
        personal = Json::array({Json{{"subject", st->subject}, {"role", "client"},
                                     {"details", Json{{"freeText", redacted}}}}});
      } else if (!redacted.empty()) {
        return Error(400, "redactedText goes with basis releaseRedacted only");
      }
      auto ev = RightsEvent("ThirdPartyDisclosureDecided",
                            Json{{"decidedOn", date}, {"notePosition", body["notePosition"]}, {"basis", basis},
                                 {"reasonCode", body.value("reasonCode", std::string())},
                                 {"reviewerRef", web.account.name}},
                            web, Json::array({Json{{"id", st->subject}, {"role", "client"}}}), personal);
      return RecordDecision(r, ref, ev, today);
    } else if (action == "fulfil") {
      if (Status s = DateField(body, "fulfilledOn", today, &date); !s.ok()) return ErrorOf(s);
      type = "RightsRequestFulfilled";
      facts = {{"fulfilledOn", date}, {"actionCode", body.value("actionCode", std::string("packSent"))}};
    } else {
      return Error(404, "no such endpoint");
    }
    auto ev = RightsEvent(type, facts, web);
    if (!ev.ok()) return ErrorOf(ev.status());
    auto res = r.Record(ref, {*ev});
    if (!res.ok()) return ErrorOf(res.status());
    auto after = r.LoadRequest(ref);
    if (!after.ok()) return ErrorOf(after.status());
    return JsonResponse(200, RequestJson(*after, today));
  }

  // A person, for the controller: their disclosures, restriction and lift
  // (each a second step: without "confirm": true, what would happen).
  // Ends every session of `account` (its password changed, or it was
  // disabled): the next request of each gets 401.
  void EndSessionsOf(const std::string& account) {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = sessions.begin(); it != sessions.end();) {
      it = it->second->account.name == account ? sessions.erase(it) : std::next(it);
    }
  }

  // Accounts managed while the server runs (docs/console.md), by a
  // controller: list, add, set a password, disable. The writes are the same
  // as `hearth users` (accounts.h); a new password or a disabled account
  // ends the account's sessions. Passwords are never logged or returned.
  HttpResponse Accounts(WebSession& web, const HttpRequest& req, const std::vector<std::string>& parts,
                        Json& body) {
    if (web.account.role != kController) return Error(403, "only a controller manages accounts");
    const Actor actor{web.account.name, web.account.role, "console"};
    if (parts.size() == 1 && req.method == "GET") {
      auto book = AccountBook::Read(*ctx.store);
      if (!book.ok()) return ErrorOf(book.status());
      Json list = Json::array();
      for (const auto& [name, a] : book->all()) {
        list.push_back(Json{{"account", name}, {"role", a.role}, {"districts", a.districts},
                            {"disabled", a.disabled},
                            {"addedOn", domain::FormatDate(domain::UkDate(a.added_at))},
                            {"passwordSetOn", domain::FormatDate(domain::UkDate(a.password_set_at))}});
      }
      return JsonResponse(200, Json{{"accounts", list}});
    }
    if (req.method != "POST") return Error(405, "use POST");
    if (body.contains("password") && !body["password"].is_string()) return Error(400, "password must be text");
    std::string password = body.value("password", std::string());
    body["password"] = "";
    struct Wipe {
      std::string& p;
      ~Wipe() { sodium_memzero(p.data(), p.size()); }
    } wipe{password};
    if (parts.size() == 1) {
      Account a;
      if (!body.value("account", Json()).is_string() || !body.value("role", Json()).is_string()) {
        return Error(400, "account and role must be text");
      }
      a.name = body["account"].get<std::string>();
      a.role = body["role"].get<std::string>();
      if (body.contains("districts")) {
        if (!body["districts"].is_array()) return Error(400, "districts must be a list of district codes");
        for (const auto& d : body["districts"]) {
          if (!d.is_string()) return Error(400, "districts must be a list of district codes");
          a.districts.push_back(d.get<std::string>());
        }
      }
      if (Status s = AddAccount(*ctx.store, a, password, actor); !s.ok()) return ErrorOf(s);
      Log("account " + a.name + " (" + a.role + ") added by " + web.account.name);
      return JsonResponse(201, Json{{"account", a.name}, {"role", a.role}, {"districts", a.districts}});
    }
    if (parts.size() == 3 && parts[2] == "password") {
      if (Status s = SetPassword(*ctx.store, parts[1], password, actor); !s.ok()) return ErrorOf(s);
      EndSessionsOf(parts[1]);
      Log("password of account " + parts[1] + " set by " + web.account.name + "; its sessions ended");
      return JsonResponse(200, Json{{"account", parts[1]}, {"passwordSet", true}});
    }
    if (parts.size() == 3 && parts[2] == "disable") {
      if (!body.value("confirm", false)) {
        return JsonResponse(200, Json{{"confirmNeeded", true},
                                      {"wouldDo", "disable account " + parts[1] +
                                                      " for good: it can never log in again (add a new "
                                                      "account instead) and its sessions end now"}});
      }
      if (Status s = DisableAccount(*ctx.store, parts[1], actor); !s.ok()) return ErrorOf(s);
      EndSessionsOf(parts[1]);
      Log("account " + parts[1] + " disabled by " + web.account.name + "; its sessions ended");
      return JsonResponse(200, Json{{"account", parts[1]}, {"disabled", true}});
    }
    return Error(404, "no such endpoint");
  }

  HttpResponse Subjects(WebSession& web, const HttpRequest& req, const std::vector<std::string>& parts,
                        const Json& body) {
    if (parts.size() != 3) return Error(404, "no such endpoint");
    const std::string& subject = parts[1];
    const std::string& action = parts[2];
    if (!IsReference(subject)) return Error(400, "a subject must be a subject reference");
    if (req.method == "GET" && action == "disclosures") {
      return Query(web, "disclosures", Json{{"subject", subject}});
    }
    if (req.method != "POST" || (action != "restrict" && action != "lift")) {
      return Error(404, "no such endpoint");
    }
    ScopedReader reader(*web.session, Reach::kScoped, "rights");
    auto store = reader.ControllerStore();
    if (!store.ok()) return ErrorOf(store.status());
    rights::Rights r(*store, ctx.codec, rights::RightsOptions{});
    auto known = (*store)->ReadSubject(subject, 1, 100000);
    if (!known.ok() || known->empty()) return Error(404, "no data subject " + subject);
    std::string reason = body.value("reason", std::string());
    if (!IsReference(reason)) return Error(400, "reason must be a reason code (e.g. accuracyContested)");
    bool lift = action == "lift";
    if (!body.value("confirm", false)) {
      std::string n = std::to_string(known->size());
      return JsonResponse(
          200, Json{{"confirmNeeded", true},
                    {"wouldDo", lift ? "lift the restriction of " + subject + " (named by " + n +
                                           " events): they return to worklists, extracts and exports, "
                                           "and events about them may be recorded again"
                                     : "restrict processing of " + subject + " (named by " + n +
                                           " events): they leave every worklist, extract and "
                                           "identifiable export, and only the controller may record "
                                           "events about them until it is lifted"}});
    }
    Actor actor{web.account.name, web.account.role, "console"};
    Status s = lift ? r.LiftRestriction(subject, reason, actor)
                    : r.Restrict(subject, body.value("request", std::string()), reason, actor);
    if (!s.ok()) return ErrorOf(s);
    return JsonResponse(200, Json{{"subject", subject}, {"restricted", !lift}});
  }

  // The retention review (docs/rights.md): every case with its rule and end
  // date; those past it first. The controller's only.
  HttpResponse Retention(WebSession& web, const std::string& as_of_text) {
    ScopedReader reader(*web.session, Reach::kScoped, "retention");
    auto store = reader.ControllerStore();
    if (!store.ok()) return ErrorOf(store.status());
    rights::Rights r(*store, ctx.codec, rights::RightsOptions{});
    domain::Date as_of = r.Today();
    if (!as_of_text.empty() && !domain::ParseDate(as_of_text, &as_of)) {
      return Error(400, "asOf must be a date YYYY-MM-DD");
    }
    auto items = r.RetentionReview(as_of);
    if (!items.ok()) return ErrorOf(items.status());
    Json due = Json::array(), kept = Json::array();
    for (const auto& i : *items) {
      Json j{{"case", i.case_id}, {"subject", i.subject}, {"recordClass", i.record_class},
             {"rule", i.rule}, {"keepUntil", domain::FormatDate(i.keep_until)}, {"action", i.action},
             {"legalHold", i.legal_hold}, {"explanation", i.explanation}};
      (i.action == "erase" ? due : kept).push_back(std::move(j));
    }
    for (auto& j : kept) due.push_back(std::move(j));
    return JsonResponse(200, Json{{"asOf", domain::FormatDate(as_of)}, {"cases", items->size()}, {"items", due}});
  }

  // The proofs of a case as one file for an auditor to keep: the timeline
  // with every inclusion proof, the signed checkpoints and the public key.
  HttpResponse Bundle(WebSession& web, const std::string& case_id, const std::string& as_of) {
    Json p{{"case", case_id}, {"proofs", true}};
    if (!as_of.empty()) p["asOf"] = as_of;
    auto tl = ctx.models->Query(*web.session, "timeline", p.dump());
    if (!tl.ok()) return ErrorOf(tl.status());
    HttpResponse cps = Checkpoints(web);
    if (cps.status != 200) return cps;
    Json out{{"format", "hearth-proof-bundle/1"},
             {"timeline", Json::parse(*tl)},
             {"checkpoints", Json::parse(cps.body)}};
    HttpResponse r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.headers.emplace_back("Content-Disposition", "attachment; filename=\"proofs.json\"");
    r.body = out.dump(2);
    return r;
  }

  HttpResponse Checkpoints(WebSession& web) {
    // The auditor's: those who may read timelines.
    if (Status s = web.session->CheckModel("timeline"); !s.ok()) return ErrorOf(s);
    ScopedReader reader(*web.session, Reach::kScoped, "checkpoints");
    auto cps = reader.Checkpoints();
    if (!cps.ok()) return ErrorOf(cps.status());
    auto key = ctx.store->CheckpointPublicKey();
    if (!key.ok()) return ErrorOf(key.status());
    Json list = Json::array();
    for (const auto& cp : *cps) {
      list.push_back(Json{{"size", cp.size},
                          {"root", Hex(cp.root.data(), cp.root.size())},
                          {"timeMicros", cp.time},
                          {"signature", Hex(cp.signature.data(), cp.signature.size())}});
    }
    return JsonResponse(200, Json{{"publicKey", Hex(key->data(), key->size())}, {"checkpoints", list}});
  }

  HttpResponse KpiCsv(WebSession& web, const Target& t) {
    if (Status s = web.session->CheckModel("kpi"); !s.ok()) return ErrorOf(s);
    auto period = exports::ParsePeriod(t.query.count("period") ? t.query.at("period") : "");
    if (!period.ok()) return ErrorOf(period.status());
    auto policy = exports::ParsePolicy(kConsoleKpiPolicy);
    if (!policy.ok()) return ErrorOf(policy.status());
    // The same reader the `kpi` model gets: facts of every case, no personal
    // section, disclosure control applied before anything leaves.
    ScopedReader reader(*web.session, Reach::kReturn, "kpi");
    auto kpi = exports::BuildKpiReturn(reader, *ctx.codec, *ctx.calendar, *period, *policy, {});
    if (!kpi.ok()) return ErrorOf(kpi.status());
    HttpResponse out;
    out.headers.emplace_back("Content-Type", "text/csv; charset=utf-8");
    out.headers.emplace_back("Content-Disposition", "attachment; filename=\"kpi.csv\"");
    out.body = exports::KpiToCsv(*kpi);
    return out;
  }

  HttpResponse Api(const HttpRequest& req, const Target& t) {
    if (t.path == "/api/login") {
      if (req.method != "POST") return Error(405, "use POST");
      return Login(req);
    }
    HttpResponse refusal;
    std::shared_ptr<WebSession> web = Authenticate(req, &refusal);
    if (!web) return refusal;
    if (req.method == "POST") {
      // A page of this console sends the token it was given at login; a form
      // or script of another site cannot read it.
      auto it = req.headers.find(kCsrfHeader);
      if (it == req.headers.end() || !SameSecret(it->second, web->csrf)) {
        Log("request refused for account " + web->account.name + ": missing or wrong CSRF token");
        return Error(403, "missing or wrong CSRF token");
      }
    } else if (req.method != "GET") {
      return Error(405, "use GET or POST");
    }
    Json body = Json::object();
    if (req.method == "POST" && !req.body.empty()) {
      body = Json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) return Error(400, "the body must be a JSON object");
    }
    std::vector<std::string> parts;
    {
      std::string_view rest = std::string_view(t.path).substr(5);  // after "/api/"
      while (!rest.empty()) {
        size_t slash = rest.find('/');
        parts.emplace_back(rest.substr(0, slash));
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      }
    }
    if (parts.empty()) return Error(404, "no such endpoint");
    if (Status s = LogAction(*web, req.method + " /api/" + parts[0]); !s.ok()) return ErrorOf(s);
    const std::string& what = parts[0];
    auto param = [&](const char* key) -> std::string {
      auto it = t.query.find(key);
      return it == t.query.end() ? std::string() : it->second;
    };
    if (what == "logout" && req.method == "POST") {
      std::lock_guard<std::mutex> lock(mu);
      sessions.erase(web->token);
      HttpResponse r = JsonResponse(200, Json{{"loggedOut", true}});
      r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) +
                                               "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
      return r;
    }
    if (what == "me" && req.method == "GET") return JsonResponse(200, Me(*web));
    if (what == "worklist" && req.method == "GET") {
      Json p = Json::object();
      if (!param("district").empty()) p["district"] = param("district");
      if (!param("asOf").empty()) p["asOf"] = param("asOf");
      if (!param("after").empty()) p["after"] = param("after");  // the next page (the model's `next`)
      return Query(*web, "worklist", p);
    }
    if (what == "timeline" && req.method == "GET") {
      Json p{{"case", param("case")}, {"proofs", true}};
      if (!param("asOf").empty()) p["asOf"] = param("asOf");
      return Query(*web, "timeline", p);
    }
    if (what == "checkpoints" && req.method == "GET") return Checkpoints(*web);
    if (what == "kpi" && req.method == "GET") {
      return Query(*web, "kpi", Json{{"period", param("period")}, {"policy", kConsoleKpiPolicy}});
    }
    if (what == "kpi.csv" && req.method == "GET") return KpiCsv(*web, t);
    if (what == "disclosures" && req.method == "GET") {
      return Query(*web, "disclosures", Json{{"subject", param("subject")}});
    }
    if (what == "requests") return Rights(*web, req, parts, body, t.query);
    if (what == "subjects") return Subjects(*web, req, parts, body);
    if (what == "accounts") return Accounts(*web, req, parts, body);
    if (what == "retention" && req.method == "GET") return Retention(*web, param("asOf"));
    if (what == "proofs" && req.method == "GET") return Bundle(*web, param("case"), param("asOf"));
    return Error(404, "no such endpoint");
  }

  HttpResponse Static(const HttpRequest& req, const Target& t) {
    if (req.method != "GET" && req.method != "HEAD") return Error(405, "use GET");
    std::string name;
    if (t.path == "/") {
      name = "index.html";
    } else if (t.path.rfind("/static/", 0) == 0) {
      name = t.path.substr(8);
    } else {
      return Error(404, "not found");
    }
    // Only the files built into the program (www_files.h): a name is looked
    // up, never joined to a directory, so no path reaches the file system.
    const EmbeddedFile* f = FindEmbeddedFile(name);
    if (f == nullptr) return Error(404, "not found");
    HttpResponse r;
    r.headers.emplace_back("Content-Type", f->content_type);
    r.body.assign(reinterpret_cast<const char*>(f->data), f->size);
    return r;
  }

  HttpResponse Route(const HttpRequest& req) {
    Target t = ParseTarget(req.target);
    if (!t.ok) return Error(400, "malformed query string");
    if (req.body.size() > config.max_body_bytes) {
      return Error(413, "the body is larger than " + std::to_string(config.max_body_bytes) + " bytes");
    }
    if (t.path.rfind("/api/", 0) == 0) {
      if (req.method == "POST") {
        auto it = req.headers.find("content-type");
        if (it == req.headers.end() || it->second.rfind("application/json", 0) != 0) {
          return Error(415, "a POST body must be application/json");
        }
      }
      return Api(req, t);
    }
    return Static(req, t);
  }
};

ConsoleApp::ConsoleApp(ConsoleContext context, server::ConsoleConfig config)
    : impl_(std::make_unique<Impl>()) {
  impl_->ctx = std::move(context);
  impl_->config = config;
  // A password nobody knows, so that an unknown account costs a login as
  // much as a known one (no account enumeration by timing).
  auto dummy = HashPassword(RandomToken());
  if (dummy.ok()) impl_->dummy_hash = *dummy;
}

ConsoleApp::~ConsoleApp() = default;

const server::ConsoleConfig& ConsoleApp::config() const { return impl_->config; }

HttpResponse ConsoleApp::Handle(const HttpRequest& request) {
  HttpResponse r;
  try {
    r = impl_->Route(request);
  } catch (const std::exception& e) {
    impl_->Log(std::string("internal error: ") + e.what());
    r = Error(500, "internal error");
  }
  for (const auto& [k, v] : kSecurityHeaders) r.headers.emplace_back(k, v);
  if (request.target.rfind("/api/", 0) == 0) r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace hearth::console
