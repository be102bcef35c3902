// Launching serve.py and talking to its plain-HTTP control port with a minimal HTTP/1.0 client
// (no TLS library needed: the control port only listens on the bind address and carries test
// data, never secrets of a real system).
#include "support/fake_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "binder_paths.h"

namespace binder::test {

namespace fs = std::filesystem;

const char* to_string(FakeKind kind) {
  switch (kind) {
    case FakeKind::cloudflare:
      return "cloudflare";
    case FakeKind::harbor:
      return "harbor";
    case FakeKind::kube:
      return "kube";
    case FakeKind::charts:
      return "charts";
    case FakeKind::status:
      return "status";
    case FakeKind::web:
      return "web";
  }
  return "?";
}

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// Reads one '\n'-terminated line from fd within the deadline; throws on EOF/timeout.
std::string read_line(int fd, std::chrono::steady_clock::time_point deadline, const std::string& what) {
  std::string line;
  char c;
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      throw std::runtime_error("timed out waiting for " + what);
    }
    if (read(fd, &c, 1) != 1) {
      throw std::runtime_error("fake exited before printing " + what);
    }
    if (c == '\n')
      return line;
    line += c;
  }
}

int parse_port(const std::string& line, const std::string& key) {
  if (line.rfind(key + " ", 0) != 0) {
    throw std::runtime_error("unexpected first output of the fake: '" + line + "'");
  }
  return std::stoi(line.substr(key.size() + 1));
}

}  // namespace

FakeServer::FakeServer(FakeKind kind, const TestPki& pki, FakeOptions options)
    : m_kind(kind), m_pki_dir(pki.dir()), m_state_dir(options.state_dir), m_bind(options.bind) {
  if (m_state_dir.empty()) {
    std::string templ =
        (fs::temp_directory_path() / (std::string("binder-fake-") + to_string(kind) + "-XXXXXX")).string();
    if (mkdtemp(templ.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    m_state_dir = templ;
    m_own_state_dir = true;
  }
  fs::create_directories(m_state_dir);
  std::vector<std::string> argv = {BINDER_PYTHON, std::string(BINDER_TESTS_DIR) + "/support/fakes/serve.py",
                                   "--kind",      to_string(kind),
                                   "--port",      std::to_string(options.port),
                                   "--bind",      options.bind,
                                   "--tls-cert",  pki.server_cert().string(),
                                   "--tls-key",   pki.server_key().string(),
                                   "--state-dir", m_state_dir.string(),
                                   "--ref-dir",   std::string(BINDER_SHARED_DIR) + "/reference"};
  if (kind == FakeKind::kube) {
    argv.insert(argv.end(), {"--client-ca", pki.ca_cert().string()});
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  m_pid = fork();
  if (m_pid < 0)
    throw std::runtime_error("fork failed");
  if (m_pid == 0) {
    dup2(out[1], 1);
    int err = open((m_state_dir / "stderr.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0)
      dup2(err, 2);
    setpgid(0, 0);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  try {
    m_port = parse_port(read_line(out[0], deadline, "PORT"), "PORT");
    m_control_port = parse_port(read_line(out[0], deadline, "CONTROL"), "CONTROL");
  } catch (const std::exception& e) {
    close(out[0]);
    kill(m_pid, SIGKILL);
    waitpid(m_pid, nullptr, 0);
    throw std::runtime_error(std::string(to_string(kind)) + " fake did not start: " + e.what() +
                             "; stderr: " + read_text(m_state_dir / "stderr.log"));
  }
  close(out[0]);  // the fake prints nothing more
}

FakeServer::~FakeServer() {
  if (m_pid > 0) {
    kill(m_pid, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
        m_pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (m_pid > 0) {
      kill(m_pid, SIGKILL);
      waitpid(m_pid, nullptr, 0);
    }
  }
  if (m_own_state_dir && std::getenv("BINDER_KEEP_FAKES") == nullptr) {
    std::error_code ec;
    fs::remove_all(m_state_dir, ec);
  }
}

std::string FakeServer::url() const {
  std::string host = m_bind == "0.0.0.0" ? "127.0.0.1" : m_bind;
  return "https://" + host + ":" + std::to_string(m_port);
}

std::string FakeServer::api_base() const {
  switch (m_kind) {
    case FakeKind::cloudflare:
      return url() + "/client/v4";
    case FakeKind::harbor:
      return url() + "/api/v2.0";
    case FakeKind::kube:
    case FakeKind::charts:
    case FakeKind::web:
      return url();
    case FakeKind::status:
      return url() + "/members/example/status";
  }
  return url();
}

nlohmann::json FakeServer::control(const std::string& method, const std::string& path,
                                   const std::string& body) const {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(m_control_port));
  inet_pton(AF_INET, m_bind == "0.0.0.0" ? "127.0.0.1" : m_bind.c_str(), &addr.sin_addr);
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(s);
    throw std::runtime_error("cannot connect to the fake's control port");
  }
  std::string req = method + " /__fake__/" + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" +
                    "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\n\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    ssize_t n = write(s, req.data() + off, req.size() - off);
    if (n <= 0)
      break;
    off += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[65536];
  ssize_t n;
  while ((n = read(s, buf, sizeof buf)) > 0)
    resp.append(buf, static_cast<size_t>(n));
  close(s);
  auto sp = resp.find(' ');
  auto hdr_end = resp.find("\r\n\r\n");
  if (sp == std::string::npos || hdr_end == std::string::npos) {
    throw std::runtime_error("bad control response: " + resp.substr(0, 200));
  }
  int status = std::atoi(resp.c_str() + sp + 1);
  std::string payload = resp.substr(hdr_end + 4);
  if (status < 200 || status > 299) {
    throw std::runtime_error("control " + method + " " + path + " -> " + std::to_string(status) + ": " +
                             payload);
  }
  return payload.empty() ? nlohmann::json() : nlohmann::json::parse(payload);
}

nlohmann::json FakeServer::state() const { return control("GET", "state"); }
nlohmann::json FakeServer::violations() const { return control("GET", "violations"); }
nlohmann::json FakeServer::requests() const { return control("GET", "requests"); }
void FakeServer::inject_fault(const nlohmann::json& fault) const { control("POST", "faults", fault.dump()); }
void FakeServer::clear_faults() const { control("DELETE", "faults"); }
void FakeServer::reset() const { control("POST", "reset"); }
void FakeServer::configure(const nlohmann::json& settings) const {
  control("POST", "config", settings.dump());
}

fs::path FakeServer::write_kubeconfig() const {
  if (m_kind != FakeKind::kube)
    throw std::runtime_error("write_kubeconfig: not the kube fake");
  std::string yaml =
      "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: " +
      base64(read_text(m_pki_dir / "ca.crt")) + "\n    server: " + url() +
      "\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n"
      "  name: default\ncurrent-context: default\npreferences: {}\nusers:\n- name: default\n  user:\n"
      "    client-certificate-data: " +
      base64(read_text(m_pki_dir / "client.crt")) +
      "\n    client-key-data: " + base64(read_text(m_pki_dir / "client.key")) + "\n";
  auto path = m_state_dir / "kubeconfig.yaml";
  std::ofstream(path) << yaml;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return path;
}

}  // namespace binder::test
