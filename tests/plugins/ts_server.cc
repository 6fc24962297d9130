// A plugin server for the TypeScript client test: opens (creating) a store,
// serves it with hearth::server::Server under the given configuration, writes
// the bound port to PORT_FILE and runs until SIGTERM or SIGINT.
//
//   hearth_test_ts_server STORE_DIR CONFIG_JSON PORT_FILE
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "hearth/read_model.h"
#include "hearth/store.h"
#include "server.h"
#include "test_util.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: hearth_test_ts_server STORE_DIR CONFIG_JSON PORT_FILE\n";
    return 2;
  }
  // Block the signals before any thread starts, then wait for one below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  std::string dir = argv[1];
  std::string key = hearth::testing::MakeKeyFile(dir + ".key");
  auto store = hearth::Store::Open(hearth::testing::TestOptions(key), dir);
  if (!store.ok()) {
    std::cerr << "store: " << store.status().ToString() << "\n";
    return 1;
  }
  hearth::ReadModels models;
  if (hearth::Status s = models.Add(hearth::MakeInfoModel()); !s.ok()) {
    std::cerr << s.ToString() << "\n";
    return 1;
  }
  auto config = hearth::server::ServerConfig::Load(argv[2]);
  if (!config.ok()) {
    std::cerr << "config: " << config.status().ToString() << "\n";
    return 1;
  }
  auto server = hearth::server::Server::Start(store->get(), &models, *config,
                                              [](const std::string& line) {
                                                std::cerr << "server: " << line << "\n";
                                              });
  if (!server.ok()) {
    std::cerr << "server: " << server.status().ToString() << "\n";
    return 1;
  }
  {
    std::string tmp = std::string(argv[3]) + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), argv[3]);
  }
  int sig = 0;
  sigwait(&stop, &sig);
  (*server)->Stop();
  return 0;
}
