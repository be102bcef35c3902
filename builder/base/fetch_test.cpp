#include "base/fetch.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <catch2/catch.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "common/hash.hpp"

using namespace binder;
using namespace binder::base;
namespace cfs = binder::common::fs;
namespace stdfs = std::filesystem;

extern char** environ;

namespace {

// A static-file HTTP server on 127.0.0.1 that honours "Range: bytes=N-" and logs each request's
// path and Range header, one line each.
constexpr const char* k_server_py = R"PY(
import http.server, os, sys
root, portfile, logfile = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(logfile, 'a') as f:
            f.write('%s %s\n' % (self.path, self.headers.get('Range', '-')))
        path = os.path.join(root, self.path.lstrip('/'))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, 'rb').read()
        rng = self.headers.get('Range')
        if rng and rng.startswith('bytes=') and rng.endswith('-'):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header('Content-Range', 'bytes */%d' % len(data))
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
            self.send_response(206)
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, len(data) - 1, len(data)))
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
open(portfile + '.tmp', 'w').write(str(s.server_address[1]))
os.rename(portfile + '.tmp', portfile)
s.serve_forever()
)PY";

class RangeServer {
 public:
  explicit RangeServer(const stdfs::path& dir) : m_dir(dir) {
    REQUIRE(cfs::write_file_atomic(dir / "server.py", k_server_py));
    std::vector<std::string> args{BINDER_PYTHON, (dir / "server.py").string(), (dir / "www").string(),
                                  (dir / "port").string(), (dir / "requests.log").string()};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(cfs::make_directories(dir / "www"));
    REQUIRE(::posix_spawn(&m_pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    for (int i = 0; i < 200 && !stdfs::exists(dir / "port"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    m_port = std::stoi(cfs::read_file(dir / "port").value());
  }
  ~RangeServer() {
    ::kill(m_pid, SIGTERM);
    ::waitpid(m_pid, nullptr, 0);
  }
  std::string url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + "/" + name;
  }
  void serve(const std::string& name, const std::string& data) const {
    REQUIRE(cfs::write_file_atomic(m_dir / "www" / name, data));
  }
  std::string log() const { return cfs::read_file_if_exists(m_dir / "requests.log").value().value_or(""); }

 private:
  stdfs::path m_dir;
  pid_t m_pid = -1;
  int m_port = 0;
};

std::string payload(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i)
    s += std::to_string(i) + ",";
  s.resize(n);
  return s;
}

struct Env {
  cfs::TempDir tmp = cfs::TempDir::create("binder-fetch-test").value();
  CacheDir cache{tmp.path() / "cache"};
  stdfs::path src(const std::string& name, const std::string& data) {
    auto p = tmp.path() / "src" / name;
    REQUIRE(cfs::write_file_atomic(p, data));
    return p;
  }
};

}  // namespace

TEST_CASE("fetch: a verified download becomes a cache entry served next time", "[fetch]") {
  Env env;
  auto data = payload(100'000);
  auto sha = common::hash::sha256_hex(data);
  auto file = env.src("disk.img", data);
  ArtifactSource s{.url = "file://" + file.string(), .sha256 = sha};
  auto first = fetch_artifact(s, env.cache);
  REQUIRE(first);
  CHECK(first->path == env.cache.downloads() / sha / "disk.img");
  CHECK_FALSE(first->cached);
  CHECK(cfs::read_file(first->path).value() == data);
  CHECK_FALSE(stdfs::exists(env.cache.downloads() / sha / "disk.img.partial"));
  stdfs::remove(file);  // the source is gone: only the cache can answer now
  auto second = fetch_artifact(s, env.cache);
  REQUIRE(second);
  CHECK(second->cached);
}

TEST_CASE("fetch: a checksum mismatch names URL, expected and actual and leaves no cache entry", "[fetch]") {
  Env env;
  auto file = env.src("disk.img", "not the image you are looking for");
  std::string expected(64, '0');
  ArtifactSource s{.url = "file://" + file.string(), .sha256 = expected};
  auto r = fetch_artifact(s, env.cache);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == common::Errc::checksum);
  auto actual = common::hash::sha256_hex("not the image you are looking for");
  CHECK(r.error().message == "checksum mismatch for 'file://" + file.string() + "': expected sha256 " +
                                 expected + ", got " + actual);
  CHECK_FALSE(stdfs::exists(env.cache.downloads() / expected));
  CHECK_FALSE(stdfs::exists(env.cache.downloads() / actual));
}

TEST_CASE("fetch: the checksum is looked up in a SHA256SUMS list by file name", "[fetch]") {
  Env env;
  auto file = env.src("noble-server-cloudimg-amd64.img", "qcow2 bytes");
  auto sha = common::hash::sha256_hex("qcow2 bytes");
  auto sums = env.src("SHA256SUMS",
                      std::string(64, 'c') + " *other.img\n" + sha + " *noble-server-cloudimg-amd64.img\n");
  ArtifactSource s{.url = "file://" + file.string(), .sha256sums = sums.string()};
  auto r = fetch_artifact(s, env.cache);
  REQUIRE(r);
  CHECK(r->sha256 == sha);
  s.name = "missing.img";
  auto missing = fetch_artifact(s, env.cache);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "'missing.img' is not listed in '" + sums.string() + "' (2 entries)");
}

TEST_CASE("fetch: local files are verified in place, a checksum is required", "[fetch]") {
  Env env;
  auto file = env.src("k3s", "#!/bin/sh\n");
  auto sha = common::hash::sha256_hex("#!/bin/sh\n");
  auto ok = fetch_artifact({.file = file, .sha256 = sha}, env.cache);
  REQUIRE(ok);
  CHECK(ok->path == file);
  auto bad = fetch_artifact({.file = file, .sha256 = std::string(64, 'f')}, env.cache);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.starts_with("checksum mismatch for '" + file.string() + "'"));
  auto none = fetch_artifact({.file = file}, env.cache);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == common::Errc::invalid_config);
  CHECK(none.error().message == "no sha256 or sha256sums given for '" + file.string() + "'");
  CHECK(fetch_artifact({.file = file, .require_checksum = false}, env.cache));
  auto gone = fetch_artifact({.file = env.tmp.path() / "nope", .sha256 = sha}, env.cache);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == common::Errc::not_found);
}

TEST_CASE("fetch: an interrupted HTTP download resumes from its partial file", "[fetch][http]") {
  Env env;
  RangeServer server(env.tmp.path() / "server");
  auto data = payload(300'000);
  auto sha = common::hash::sha256_hex(data);
  server.serve("big.img", data);
  auto dir = env.cache.downloads() / sha;
  REQUIRE(cfs::write_file_atomic(dir / "big.img.partial", data.substr(0, 120'000)));
  std::int64_t last = 0;
  FetchOptions options;
  options.progress = [&](std::int64_t done, std::int64_t) { last = done; };
  auto r = fetch_artifact({.url = server.url("big.img"), .sha256 = sha}, env.cache, options);
  REQUIRE(r);
  CHECK(cfs::read_file(r->path).value() == data);
  CHECK(server.log() == "/big.img bytes=120000-\n");
  CHECK(last == 300'000);
  CHECK_FALSE(stdfs::exists(dir / "big.img.partial"));
}

TEST_CASE("fetch: an HTTP download failing its SHA256SUMS check leaves nothing behind", "[fetch][http]") {
  Env env;
  RangeServer server(env.tmp.path() / "server");
  server.serve("k3s", "tampered");
  auto listed = common::hash::sha256_hex("original");
  server.serve("sha256sum-amd64.txt", listed + "  k3s\n");
  auto r =
      fetch_artifact({.url = server.url("k3s"), .sha256sums = server.url("sha256sum-amd64.txt")}, env.cache);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == common::Errc::checksum);
  CHECK(r.error().message.find(server.url("k3s")) != std::string::npos);
  CHECK(r.error().message.find("expected sha256 " + listed) != std::string::npos);
  CHECK_FALSE(stdfs::exists(env.cache.downloads() / listed));
}

TEST_CASE("fetch: a missing HTTP file is an error naming the URL", "[fetch][http]") {
  Env env;
  RangeServer server(env.tmp.path() / "server");
  FetchOptions options;
  options.http.max_attempts = 1;
  auto r =
      fetch_artifact({.url = server.url("nope.img"), .sha256 = std::string(64, 'a')}, env.cache, options);
  REQUIRE_FALSE(r);
  INFO(r.error().to_string());
  CHECK(r.error().to_string().find(server.url("nope.img")) != std::string::npos);
  CHECK(r.error().to_string().find("404") != std::string::npos);
}
