// A throwaway test PKI made with the openssl CLI (tests/support/fakes/make_test_ca.sh) in a fresh
// temporary directory: a CA, a server certificate for 127.0.0.1, localhost and 10.0.2.2 (the host
// as seen from a QEMU user-net guest) and a client certificate (CN admin, O system:masters) for
// the fake Kubernetes API's mTLS. Test support code: failures throw std::runtime_error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace binder::test {

class TestPki {
 public:
  // Creates the PKI in a new directory under $TMPDIR (or /tmp). `extra_sans` are added to the
  // server certificate in openssl syntax ("DNS:registry.x.test", "IP:192.0.2.1").
  static TestPki create(const std::vector<std::string>& extra_sans = {});
  TestPki(TestPki&&) noexcept;
  TestPki& operator=(TestPki&&) = delete;
  TestPki(const TestPki&) = delete;
  ~TestPki();  // removes the directory

  const std::filesystem::path& dir() const { return m_dir; }
  std::filesystem::path ca_cert() const { return m_dir / "ca.crt"; }
  std::filesystem::path ca_key() const { return m_dir / "ca.key"; }
  std::filesystem::path server_cert() const { return m_dir / "server.crt"; }
  std::filesystem::path server_key() const { return m_dir / "server.key"; }
  std::filesystem::path client_cert() const { return m_dir / "client.crt"; }
  std::filesystem::path client_key() const { return m_dir / "client.key"; }

 private:
  explicit TestPki(std::filesystem::path dir) : m_dir(std::move(dir)) {}
  std::filesystem::path m_dir;
};

// Runs argv (no shell), returns its exit status and captured stdout (stderr is captured into
// `err` when non-null). Throws if the program cannot be started.
int run_capture(const std::vector<std::string>& argv, std::string* out, std::string* err = nullptr,
                const std::string& stdin_data = {});

}  // namespace binder::test
