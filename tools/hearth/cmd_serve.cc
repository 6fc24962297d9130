// hearth serve; hearth ca init|issue|revoke (docs/plugins.md, docs/protocol.md).
#include <malloc.h>
#include <signal.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "ca.h"
#include "client.h"
#include "console.h"
#include "commands.h"
#include "hearth/domain.h"
#include "hearth/exports.h"
#include "hearth/read_model.h"
#include "hearth/readmodels.h"
#include "hearth/rights.h"
#include "hearth/session.h"
#include "metrics.h"
#include "plugin_host.h"
#include "replication/replication.h"
#include "server.h"

namespace hearth::cli {

namespace fs = std::filesystem;

namespace {

struct ServeOptions {
  std::string data;
  KeyOptions key;
  std::string config;
  std::vector<std::string> plugins;
  uint16_t port = 0;
  bool port_set = false;
  ReplicationFlags replication;
};

Status RunServe(const ServeOptions& o) {
  auto config = server::ServerConfig::Load(o.config);
  if (!config.ok()) return config.status();
  if (o.port_set) config->port = o.port;
  auto key = ResolveKey(o.key.key_file, kPassphraseEnv, "--key-file");
  if (!key.ok()) return key.status();

  // SIGINT and SIGTERM are taken by sigwait below: block them before any
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // glibc's allocator keeps what a thread frees for that thread's arena
  // (up to eight a core), and a large block freed below the top of an arena
  // stays resident. Under the soak's mixed load at 10 M events (hearth-bench
  // soak, docs/benchmarks.md) 64 workers held 1.0 GB resident after five
  // minutes with 127 MB in use. So: four arenas at most, blocks of 1 MiB and
  // more mapped on their own (given back when freed; the threshold no
  // longer rises with the first large free), and every ten seconds the
  // free pages given back (malloc_trim, below).
  mallopt(M_ARENA_MAX, 4);
  mallopt(M_MMAP_THRESHOLD, 1 << 20);

  // The domain codec: the read models' projections fold with it, and
  // in-process plugins see facts of domain events as JSON through it.
  domain::UpcasterRegistry upcasters;
  domain::AddBuiltinUpcasters(&upcasters);
  auto codec = domain::Codec::Create(&upcasters);
  if (!codec.ok()) return codec.status();
  const domain::Calendar calendar = domain::Calendar::EnglandAndWales();

  // The store keeps the read models' projections up to date while serving.
  Options options;
  options.key = *key;
  options.projections = readmodels::MakeProjections(codec->get());
  auto store = OpenMaybeReplicated(options, o.data, o.replication);
  if (!store.ok()) return store.status();

  // The read models this process answers (query, read_models scopes).
  ReadModels models;
  std::vector<std::unique_ptr<ReadModel>> made;
  made.push_back(MakeInfoModel());
  made.push_back(readmodels::MakeTimelineModel(codec->get()));
  made.push_back(readmodels::MakeWorklistModel(&calendar, codec->get()));
  made.push_back(rights::MakeSarModel(codec->get()));
  made.push_back(rights::MakeDisclosuresModel(codec->get()));
  made.push_back(rights::MakeDocumentModel(codec->get()));
  made.push_back(exports::MakeKpiModel(codec->get()));
  made.push_back(exports::MakeCasesModel(codec->get()));
  for (auto& model : made) {
    if (Status s = models.Add(std::move(model)); !s.ok()) return s;
  }

  // In-process plugins: each acts through a session with the scopes the
  // configuration gives its name (docs/plugin-abi.md).
  std::vector<std::unique_ptr<Session>> sessions;
  std::vector<std::unique_ptr<plugins::LoadedPlugin>> loaded;
  for (const std::string& path : o.plugins) {
    // The name the plugin gives in its table (checked without initialising it).
    auto info = plugins::LoadedPlugin::Inspect(path);
    if (!info.ok()) return info.status();
    const std::string name = info->name;
    auto it = config->plugins.find(name);
    if (it == config->plugins.end()) {
      return Status::InvalidArgument("plugin " + path + ": no entry '" + name +
                                     "' in the server configuration's plugins");
    }
    std::string role = it->second.in_process_role.empty() ? "plugin" : it->second.in_process_role;
    auto scopes = server::EffectiveScopes(it->second, role);
    if (!scopes.ok()) return Status::InvalidArgument("plugin " + name + ": " + scopes.status().message());
    sessions.push_back(std::make_unique<Session>(store->get(), Principal{name, name, role}, *scopes));
    plugins::LoadOptions load;
    load.read_models = &models;
    load.codec = codec->get();
    auto plugin = plugins::LoadedPlugin::Load(path, *sessions.back(), it->second.in_process_config, load);
    if (!plugin.ok()) return plugin.status();
    if (Status s = (*plugin)->Start(); !s.ok()) return s;
    std::cerr << "hearth: loaded in-process plugin " << name << " (" << (*plugin)->name() << " "
              << (*plugin)->version() << ", ABI " << (*plugin)->abi_version() << ")\n";
    loaded.push_back(std::move(plugin.value()));
  }

  auto server = server::Server::Start(store->get(), &models, *config);
  if (!server.ok()) return server.status();
  // /metrics: the rights requests and the replication (docs/operations.md).
  (*server)->AddMetricsSource(server::RightsMetrics(store->get(), codec->get(), &calendar));
  auto* replicated = dynamic_cast<replication::ReplicatedStore*>(store->get());
  (*server)->AddMetricsSource([replicated](server::Exposition* out) {
    out->Gauge("hearth_replication_enabled", "1 when the store is replicated to NATS JetStream.",
               replicated ? 1 : 0);
    replication::ReplicationStatus r;
    if (replicated) r = replicated->Replication();
    out->Gauge("hearth_replication_lag_events",
               "Committed events the cluster has not acknowledged yet (0 when replication is off).",
               double(r.lag()));
    out->Gauge("hearth_replication_max_lag_events", "The largest lag seen since the store was opened.",
               double(r.max_lag_seen));
  });
  if ((*server)->metrics_port() != 0) {
    if (Status s = Print("hearth: metrics on http://" + config->metrics.listen_address + ":" +
                         std::to_string((*server)->metrics_port()) + "/metrics\n");
        !s.ok()) {
      return s;
    }
  }
  if (Status s = Print("hearth: serving " + o.data + " on " + config->listen_address + ":" +
                       std::to_string((*server)->port()) + " (TLS 1.3, client certificates from " +
                       config->ca_file + ")\n");
      !s.ok()) {
    return s;
  }
  // The web console, on its own HTTPS port (docs/console.md).
  std::unique_ptr<console::ConsoleServer> web;
  if (config->console.enabled) {
    console::ConsoleContext ctx;
    ctx.store = store->get();
    ctx.models = &models;
    ctx.codec = codec->get();
    ctx.calendar = &calendar;
    auto started = console::ConsoleServer::Start(ctx, *config);
    if (!started.ok()) return started.status();
    web = std::move(*started);
    if (Status s = Print("hearth: web console on https://" +
                         (config->console.listen_address == "127.0.0.1"
                              ? std::string("localhost")
                              : config->console.listen_address) +
                         ":" + std::to_string(web->port()) + "/\n");
        !s.ok()) {
      return s;
    }
  }
  std::cout.flush();

  int signal = 0;
  for (;;) {
    const timespec every{10, 0};
    signal = sigtimedwait(&signals, nullptr, &every);
    if (signal > 0) break;
    malloc_trim(0);  // a timeout (EAGAIN) or an interruption: give the free pages back
  }
  std::cerr << "hearth: " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << ": stopping\n";
  if (web) web->Stop();
  web.reset();
  (*server)->Stop();
  server->reset();
  loaded.clear();    // stops and unloads the plugins before their sessions go
  sessions.clear();
  // Sign the tree as it stands, so no unsigned tail outlives the server
  // (docs/tamper-evidence.md).
  auto cp = (*store)->WriteCheckpoint();
  if (!cp.ok()) return cp.status();
  std::cerr << "hearth: signed a checkpoint of the " << cp->size << " records on stopping\n";
  return Status::OK();
}

// `hearth backup-online`: asks a running `hearth serve` for a backup into its
// own backup_dir (docs/operations.md, "Backing up").
struct OnlineBackupOptions {
  std::string server = "127.0.0.1:7443";
  std::string ca, cert, key;
  std::string user = "operator";
  std::string role = "operator";
  int timeout_s = 3600;
};

Status RunOnlineBackup(const OnlineBackupOptions& o) {
  sdk::ClientOptions c;
  size_t colon = o.server.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == o.server.size() ||
      o.server.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
      o.server.size() - colon - 1 > 5 || std::stoul(o.server.substr(colon + 1)) > 65535) {
    return Status::InvalidArgument("--server must be HOST:PORT, not '" + o.server + "'");
  }
  c.host = o.server.substr(0, colon);
  if (c.host.size() >= 2 && c.host.front() == '[' && c.host.back() == ']') c.host = c.host.substr(1, c.host.size() - 2);
  c.port = uint16_t(std::stoul(o.server.substr(colon + 1)));
  c.ca_file = o.ca;
  c.cert_file = o.cert;
  c.key_file = o.key;
  c.user = o.user;
  c.role = o.role;
  c.client_name = std::string("hearth backup-online ") + HEARTH_VERSION;
  c.request_timeout_ms = o.timeout_s * 1000;
  auto client = sdk::Client::Connect(c);
  if (!client.ok()) return client.status();
  auto done = (*client)->Backup();
  if (!done.ok()) return done.status();
  return Print("backup " + done->directory + " written in the server's backup_dir: the log up to position " +
               std::to_string(done->position) +
               " exactly.\nRestore it with hearth restore --from <backup_dir>/" + done->directory +
               "; it opens with the store's root key: keep the key apart from it.\n");
}

struct CaInitOptions {
  std::string dir;
  std::string name = "hearth local CA";
  int days = 3650;
};

struct CaIssueOptions {
  std::string dir;
  std::string name;
  bool server = false;
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  int days = 365;
  std::string out;
};

Status RunCaInit(const CaInitOptions& o) {
  if (Status s = server::CreateCa(o.dir, o.name, o.days); !s.ok()) return s;
  return Print("created the CA '" + o.name + "' in " + o.dir + ": ca.pem (give it to the server's " +
               "tls.ca and to clients), ca.key (mode 0600: keep it private, never commit it)\n");
}

Status RunCaIssue(const CaIssueOptions& o) {
  server::CertRequest req;
  req.common_name = o.name;
  req.server = o.server;
  req.dns_names = o.dns;
  req.ip_addresses = o.ips;
  if (o.server && o.dns.empty() && o.ips.empty()) {
    req.dns_names = {"localhost"};
    req.ip_addresses = {"127.0.0.1"};
  }
  req.not_after_s = int64_t(o.days) * 86400;
  std::string prefix = o.out.empty() ? (fs::path(o.dir) / o.name).string() : o.out;
  if (Status s = server::IssueCertificate(o.dir, req, prefix + ".pem", prefix + ".key"); !s.ok()) {
    return s;
  }
  return Print("issued " + std::string(o.server ? "server" : "plugin") + " certificate CN=" + o.name +
               ": " + prefix + ".pem, key " + prefix + ".key (mode 0600)\n");
}

struct CaRevokeOptions {
  std::string dir;
  std::string cert;
  int days = 30;
};

Status RunCaRevoke(const CaRevokeOptions& o) {
  if (Status s = server::RevokeCertificate(o.dir, o.cert, o.days); !s.ok()) return s;
  return Print((o.cert.empty() ? "renewed " : "revoked " + o.cert + "; wrote ") + o.dir +
               "/crl.pem, valid for " + std::to_string(o.days) +
               " days (tls.crl; restart the server to load it)\n");
}

}  // namespace

void AddServeCommands(CommandSet& set) {
  {
    auto o = std::make_shared<ServeOptions>();
    CLI::App* cmd = set.Add(nullptr, "serve",
                            "serve the store to network plugins over TLS 1.3 with client "
                            "certificates (docs/plugins.md)",
                            [o] { return RunServe(*o); });
    AddDataOption(cmd, &o->data);
    AddKeyOptions(cmd, &o->key);
    cmd->add_option("--config", o->config, "the server configuration (JSON, docs/plugins.md)")
        ->required()
        ->type_name("FILE");
    cmd->add_option("--plugin", o->plugins,
                    "load an in-process plugin (shared object, repeatable); the name it gives "
                    "itself (e.g. worklist-file) names its entry in the configuration")
        ->type_name("PATH");
    cmd->add_option_function<uint16_t>(
           "--port", [o](const uint16_t& p) { o->port = p; o->port_set = true; },
           "listen on this port instead of the configuration's (0: any free port)")
        ->type_name("PORT");
    AddReplicationOptions(cmd, &o->replication);
  }
  {
    auto o = std::make_shared<OnlineBackupOptions>();
    CLI::App* cmd = set.Add(nullptr, "backup-online",
                            "back up a running hearth serve into its configured backup_dir, "
                            "consistent at a commit (needs the scope backup)",
                            [o] { return RunOnlineBackup(*o); });
    cmd->add_option("--server", o->server, "the server's HOST:PORT")->capture_default_str();
    cmd->add_option("--ca", o->ca, "the CA that signed the server's certificate (PEM)")
        ->required()
        ->type_name("FILE");
    cmd->add_option("--cert", o->cert, "the certificate of a plugin with the scope backup (PEM)")
        ->required()
        ->type_name("FILE");
    cmd->add_option("--key", o->key, "its private key (PEM)")->required()->type_name("FILE");
    cmd->add_option("--user", o->user, "the operator's staff reference (for the server's log)")
        ->capture_default_str();
    cmd->add_option("--role", o->role, "the role asserted in hello")->capture_default_str();
    cmd->add_option("--timeout", o->timeout_s, "seconds to wait for the backup")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
  }
  CLI::App* ca = set.AddGroup("ca", "a local CA for plugin and server certificates");
  {
    auto o = std::make_shared<CaInitOptions>();
    CLI::App* cmd = set.Add(ca, "init", "create a CA: DIR/ca.pem and DIR/ca.key",
                            [o] { return RunCaInit(*o); });
    cmd->add_option("--dir", o->dir, "where the CA lives")->required()->type_name("DIR");
    cmd->add_option("--name", o->name, "the CA's name (subject CN)");
    cmd->add_option("--days", o->days, "validity in days")->check(CLI::Range(1, 36500));
  }
  {
    auto o = std::make_shared<CaIssueOptions>();
    CLI::App* cmd = set.Add(ca, "issue",
                            "issue a plugin certificate (CN = the plugin's name) or, with "
                            "--server, the server's",
                            [o] { return RunCaIssue(*o); });
    cmd->add_option("--dir", o->dir, "the CA's directory (ca.pem, ca.key)")->required()->type_name("DIR");
    cmd->add_option("--name", o->name, "subject CN: the plugin's name, or the server's host name")
        ->required();
    cmd->add_flag("--server", o->server, "a server certificate (default names: localhost, 127.0.0.1)");
    cmd->add_option("--dns", o->dns,
                    "a DNS name (subject alternative name; a server answers to it, a plugin may be "
                    "pinned to it) (repeatable)");
    cmd->add_option("--ip", o->ips, "server: an IP address it answers on (repeatable)");
    cmd->add_option("--days", o->days, "validity in days")->check(CLI::Range(1, 3650));
    cmd->add_option("--out", o->out, "file prefix (default DIR/NAME): writes PREFIX.pem and PREFIX.key")
        ->type_name("PREFIX");
  }
  {
    auto o = std::make_shared<CaRevokeOptions>();
    CLI::App* cmd = set.Add(ca, "revoke",
                            "revoke a certificate and write DIR/crl.pem (without --cert: renew the CRL)",
                            [o] { return RunCaRevoke(*o); });
    cmd->add_option("--dir", o->dir, "the CA's directory (ca.pem, ca.key)")->required()->type_name("DIR");
    cmd->add_option("--cert", o->cert, "the certificate to revoke (PEM)")->type_name("FILE");
    cmd->add_option("--days", o->days, "the CRL's validity in days")->check(CLI::Range(1, 3650));
  }
}

}  // namespace hearth::cli
