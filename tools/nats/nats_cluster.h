// A real 3-node nats-server JetStream cluster on loopback ports chosen at
// run time, in a temporary directory; started and stopped by the test or the
// benchmark that made it (the destructor kills every node still running, so
// a failed run leaves none). Used by tests/replication and `hearth-bench
// replication`.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace hearth::testing {

inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) abort();
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string NatsServerBinary() {
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "nats-server";
}

class NatsCluster {
 public:
  static constexpr int kNodes = 3;

  explicit NatsCluster(const std::string& dir) : dir_(dir) {
    for (int i = 0; i < kNodes; ++i) {
      client_.push_back(FreePort());
      route_.push_back(FreePort());
    }
    for (int i = 0; i < kNodes; ++i) {
      std::string conf = dir_ + "/n" + std::to_string(i) + ".conf";
      std::ofstream out(conf);
      out << "server_name: n" << i << "\n"
          << "listen: 127.0.0.1:" << client_[i] << "\n"
          << "jetstream { store_dir: \"" << dir_ << "/js" << i << "\" }\n"
          << "cluster {\n  name: hearth-test\n  listen: 127.0.0.1:" << route_[i] << "\n  routes: [\n";
      for (int j = 0; j < kNodes; ++j) {
        if (j != i) out << "    nats-route://127.0.0.1:" << route_[j] << "\n";
      }
      out << "  ]\n}\n";
    }
    pids_.assign(kNodes, 0);
    for (int i = 0; i < kNodes; ++i) Start(i);
  }

  ~NatsCluster() {
    for (int i = 0; i < kNodes; ++i) Kill(i);
  }

  void Start(int i) {
    pid_t pid = ::fork();
    if (pid == 0) {
      std::string conf = dir_ + "/n" + std::to_string(i) + ".conf";
      std::string log = dir_ + "/n" + std::to_string(i) + ".log";
      std::string bin = NatsServerBinary();
      ::execl(bin.c_str(), bin.c_str(), "-c", conf.c_str(), "-l", log.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pids_[i] = pid;
  }

  // SIGKILL: the node stops at once, as when its machine is lost.
  void Kill(int i) {
    if (pids_[i] <= 0) return;
    ::kill(pids_[i], SIGKILL);
    ::waitpid(pids_[i], nullptr, 0);
    pids_[i] = 0;
  }

  std::string Url(int i) const { return "nats://127.0.0.1:" + std::to_string(client_[i]); }
  std::string Urls() const {
    std::string s;
    for (int i = 0; i < kNodes; ++i) s += (i ? "," : "") + Url(i);
    return s;
  }
  // The JetStream store directories (what the cluster keeps on disk).
  std::string StoreDir(int i) const { return dir_ + "/js" + std::to_string(i); }

 private:
  std::string dir_;
  std::vector<int> client_, route_;
  std::vector<pid_t> pids_;
};

}  // namespace hearth::testing
