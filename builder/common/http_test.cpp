// Tests of the HTTP client against http_test_server.py on 127.0.0.1 (plain, TLS from a test CA
// made with the openssl CLI, and mutual TLS): framing, verification, timeouts, retries with
// Retry-After, and resumable downloads.
#include "common/http.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "binder_paths.h"
#include "common/fs.hpp"
#include "support/test_ca.hpp"

using namespace binder::common;
using namespace std::chrono_literals;
namespace http = binder::common::http;

namespace {

// http_test_server.py as a child process; killed on destruction.
class TestServer {
 public:
  explicit TestServer(std::vector<std::string> args = {}) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    m_pid = fork();
    REQUIRE(m_pid >= 0);
    if (m_pid == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      std::vector<std::string> argv{
          BINDER_PYTHON, std::string(BINDER_SOURCE_DIR) + "/tests/support/fakes/http_test_server.py"};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> cargv;
      for (auto& a : argv)
        cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(fds[1]);
    FILE* f = fdopen(fds[0], "r");
    char line[32] = {};
    REQUIRE(fgets(line, sizeof line, f) != nullptr);
    fclose(f);
    m_port = std::atoi(line);
    REQUIRE(m_port > 0);
  }
  ~TestServer() {
    kill(m_pid, SIGTERM);
    waitpid(m_pid, nullptr, 0);
  }
  std::string url(const std::string& path, const std::string& scheme = "http",
                  const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(m_port) + path;
  }

 private:
  pid_t m_pid = -1;
  int m_port = 0;
};

http::Options fast_options() {
  http::Options o;
  o.connect_timeout = 2s;
  o.request_timeout = 5s;
  o.max_attempts = 3;
  o.backoff_base = 10ms;
  o.backoff_max = 50ms;
  return o;
}

http::Request get(std::string url) { return http::Request{"GET", std::move(url), {}, ""}; }

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string slurp(const std::filesystem::path& p) { return fs::read_file(p).value(); }

}  // namespace

TEST_CASE("http: parse_url splits scheme, host, port and target") {
  auto u = http::parse_url("https://api.cloudflare.com/client/v4/zones?name=x#frag").value();
  CHECK(u.scheme == "https");
  CHECK(u.host == "api.cloudflare.com");
  CHECK(u.port == 443);
  CHECK(u.target == "/client/v4/zones?name=x");
  auto v6 = http::parse_url("http://[::1]:8080").value();
  CHECK(v6.host == "::1");
  CHECK(v6.port == 8080);
  CHECK(v6.target == "/");
  CHECK(http::host_header(v6) == "[::1]:8080");
  CHECK(http::host_header(u) == "api.cloudflare.com");
  CHECK_FALSE(http::parse_url("ftp://x/"));
  CHECK_FALSE(http::parse_url("https://x:99999/"));
  CHECK_FALSE(http::parse_url("no-scheme"));
  CHECK(http::parse_url("https://h:1x/").error().message.find("bad port") != std::string::npos);
}

TEST_CASE("http: percent_encode keeps unreserved characters only") {
  CHECK(http::percent_encode("*.x.mybinder.org") == "%2A.x.mybinder.org");
  CHECK(http::percent_encode("a b/c~") == "a%20b%2Fc~");
  CHECK(http::percent_encode("a b/c", true) == "a%20b/c");
}

TEST_CASE("http: require_secure allows plain http only to loopback") {
  CHECK(http::require_secure("https://example.org/"));
  CHECK(http::require_secure("http://127.0.0.1:5/"));
  CHECK(http::require_secure("http://localhost/"));
  CHECK(http::require_secure("http://example.org/").error().code == Errc::precondition);
}

TEST_CASE("http: plain responses framed by length, chunks and end of connection") {
  TestServer server;
  http::Client client(fast_options());
  auto hello = client.send(get(server.url("/hello"))).value();
  CHECK(hello.status == 200);
  CHECK(hello.body == "hello");
  CHECK(hello.header("content-type") == "text/plain");
  CHECK(client.send(get(server.url("/chunked"))).value().body == "chunk-one|chunk-two");
  CHECK(client.send(get(server.url("/eof"))).value().body == "until the end");
  auto head = client.send({"HEAD", server.url("/hello"), {}, ""}).value();
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(client.send(get(server.url("/status/404"))).value().status == 404);
}

TEST_CASE("http: request headers and body reach the server") {
  TestServer server;
  http::Client client(fast_options());
  http::Request req{"POST", server.url("/echo?q=1"), {{"X-Test", "yes"}}, "{\"a\":1}"};
  auto resp = client.send(req).value();
  auto j = nlohmann::json::parse(resp.body);
  CHECK(j["method"] == "POST");
  CHECK(j["path"] == "/echo?q=1");
  CHECK(j["headers"]["x-test"] == "yes");
  CHECK(j["headers"]["content-length"] == "7");
  CHECK(j["headers"]["connection"] == "close");
  CHECK(j["body"] == "{\"a\":1}");
}

TEST_CASE("http: TLS with the test CA is verified, for IP and DNS names") {
  auto pki = binder::test::TestPki::create();
  TestServer server({"--cert", pki.server_cert(), "--key", pki.server_key()});
  auto o = fast_options();
  o.ca_file = pki.ca_cert();
  http::Client client(o);
  CHECK(client.send(get(server.url("/hello", "https"))).value().body == "hello");
  CHECK(client.send(get(server.url("/chunked", "https", "localhost"))).value().body == "chunk-one|chunk-two");
  // The CA given in memory works the same.
  auto o2 = fast_options();
  o2.ca_pem = slurp(pki.ca_cert());
  http::Client client2(o2);
  CHECK(client2.send(get(server.url("/hello", "https"))).value().status == 200);
}

TEST_CASE("http: a server certificate from another CA is refused at once with a clear error") {
  auto pki = binder::test::TestPki::create();
  auto other = binder::test::TestPki::create();
  TestServer server({"--cert", pki.server_cert(), "--key", pki.server_key()});
  auto o = fast_options();
  o.ca_file = other.ca_cert();
  o.backoff_base = 1s;  // a retry would show in the elapsed time
  o.backoff_max = 1s;
  http::Client client(o);
  auto start = std::chrono::steady_clock::now();
  auto r = client.send(get(server.url("/hello", "https")));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::network);
  CHECK_THAT(r.error().to_string(), Catch::Contains("TLS certificate verification failed for '127.0.0.1'"));
  CHECK(seconds_since(start) < 0.9);
  // No CA given at all: the system store does not know the test CA either.
  http::Client system_client(fast_options());
  auto r2 = system_client.send(get(server.url("/hello", "https")));
  REQUIRE_FALSE(r2);
  CHECK_THAT(r2.error().message, Catch::StartsWith("TLS certificate verification failed"));
}

TEST_CASE("http: mutual TLS presents the client certificate from files or PEM") {
  auto pki = binder::test::TestPki::create();
  TestServer server({"--cert", pki.server_cert(), "--key", pki.server_key(), "--client-ca", pki.ca_cert()});
  auto o = fast_options();
  o.ca_file = pki.ca_cert();
  o.max_attempts = 1;
  CHECK_FALSE(http::Client(o).send(get(server.url("/hello", "https"))));
  auto with_files = o;
  with_files.client_cert_file = pki.client_cert();
  with_files.client_key_file = pki.client_key();
  CHECK(http::Client(with_files).send(get(server.url("/hello", "https"))).value().status == 200);
  auto with_pem = o;
  with_pem.client_cert_pem = slurp(pki.client_cert());
  with_pem.client_key_pem = slurp(pki.client_key());
  CHECK(http::Client(with_pem).send(get(server.url("/hello", "https"))).value().status == 200);
}

TEST_CASE("http: a slow server hits the request timeout") {
  TestServer server;
  auto o = fast_options();
  o.request_timeout = 300ms;
  o.max_attempts = 2;
  http::Client client(o);
  auto start = std::chrono::steady_clock::now();
  auto r = client.send(get(server.url("/slow/3000")));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::temporary);
  CHECK_THAT(r.error().to_string(), Catch::Contains("timed out"));
  CHECK_THAT(r.error().to_string(), Catch::Contains("gave up after 2 attempts"));
  CHECK(seconds_since(start) < 2.0);
}

TEST_CASE("http: 5xx and dropped connections are retried until success") {
  TestServer server;
  http::Client client(fast_options());
  CHECK(client.send(get(server.url("/flaky/a/2"))).value().body == "finally");
  CHECK(client.send(get(server.url("/drop/b/2"))).value().body == "ok");
}

TEST_CASE("http: after the last attempt the last response or a temporary error is returned") {
  TestServer server;
  auto o = fast_options();
  o.max_attempts = 2;
  http::Client client(o);
  CHECK(client.send(get(server.url("/flaky/c/5"))).value().status == 503);
  auto dropped = client.send(get(server.url("/drop/d/5")));
  REQUIRE_FALSE(dropped);
  CHECK(dropped.error().code == Errc::temporary);
  CHECK(exit_code_for(dropped.error()) == 75);
  // Nothing listening: connection refused, also temporary.
  auto refused = client.send(get("http://127.0.0.1:1/x"));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::temporary);
  CHECK_THAT(refused.error().to_string(), Catch::Contains("refused"));
  // 4xx is an answer, not a failure: no retry.
  CHECK(client.send(get(server.url("/status/409"))).value().status == 409);
}

TEST_CASE("http: Retry-After is honoured, in seconds or as a date, capped by backoff_max") {
  TestServer server;
  auto o = fast_options();
  o.backoff_max = 5s;
  http::Client client(o);
  auto start = std::chrono::steady_clock::now();
  CHECK(client.send(get(server.url("/flaky/e/1/1"))).value().status == 200);
  CHECK(seconds_since(start) >= 0.95);
  start = std::chrono::steady_clock::now();
  CHECK(client.send(get(server.url("/flaky/f/1/date"))).value().status == 200);
  CHECK(seconds_since(start) >= 0.0);  // the date has a 1 s resolution: only check it parses
  auto capped = fast_options();
  capped.backoff_max = 100ms;
  http::Client capped_client(capped);
  start = std::chrono::steady_clock::now();
  CHECK(capped_client.send(get(server.url("/flaky/g/1/30"))).value().status == 200);
  CHECK(seconds_since(start) < 1.0);
}

TEST_CASE("http: download writes the body and reports progress") {
  TestServer server;
  auto dir = fs::TempDir::create("http-test").value();
  auto path = dir.path() / "file";
  http::Client client(fast_options());
  std::int64_t last = 0;
  std::int64_t total = 0;
  REQUIRE(client.download(server.url("/file"), path, [&](std::int64_t n, std::int64_t t) {
    last = n;
    total = t;
  }));
  CHECK(fs::size_of(path).value() == 256 * 1024);
  CHECK(last == 256 * 1024);
  CHECK(total == 256 * 1024);
  // Complete already: the server answers 416 for the range, which is success.
  REQUIRE(client.download(server.url("/file"), path));
  CHECK(fs::size_of(path).value() == 256 * 1024);
  // Through a redirect.
  auto redirected = dir.path() / "redirected";
  REQUIRE(client.download(server.url("/redirect"), redirected));
  CHECK(slurp(redirected) == slurp(path));
}

TEST_CASE("http: a download cut off mid-body resumes with a Range request") {
  TestServer server;
  auto dir = fs::TempDir::create("http-test").value();
  http::Client client(fast_options());
  auto reference = dir.path() / "reference";
  REQUIRE(client.download(server.url("/file"), reference));
  auto path = dir.path() / "cut";
  REQUIRE(client.download(server.url("/file-cut/k/1"), path));
  CHECK(slurp(path) == slurp(reference));
  // A server that ignores Range restarts the file from the beginning.
  auto partial = dir.path() / "partial";
  REQUIRE(fs::write_file_atomic(partial, "garbage that is not the start"));
  REQUIRE(client.download(server.url("/noresume"), partial));
  CHECK(slurp(partial) == slurp(reference));
  // A persistent 404 is an error naming the status.
  auto missing = client.download(server.url("/status/404"), dir.path() / "missing");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("HTTP 404"));
}
