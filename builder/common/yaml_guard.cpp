// See yaml_guard.hpp. Pass 1 scans the bytes; pass 2 replays the first document through
// yaml-cpp's event parser (no tree) with a handler that counts expanded nodes and depth.
#include "common/yaml_guard.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

namespace binder::common {
namespace {

struct Position {
  int line = 1;
  int col = 1;
};

Position position_of(std::string_view text, std::size_t offset) {
  Position p;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.col = 1;
    } else {
      ++p.col;
    }
  }
  return p;
}

// Length of the UTF-8 sequence at text[i], or 0 when it is not valid UTF-8.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    lo = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    lo = c == 0xF0 ? 0x90 : 0x80;
    hi = c == 0xF4 ? 0x8F : 0xBF;
  } else {
    return 0;
  }
  if (i + n > text.size() || byte(i + 1) < lo || byte(i + 1) > hi) {
    return 0;
  }
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) {
      return 0;
    }
  }
  return n;
}

std::optional<YamlProblem> check_bytes(std::string_view text, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    Position p = position_of(text, limits.max_bytes);
    return YamlProblem{
        fmt::format("the document is {} bytes, over the limit of {} bytes", text.size(), limits.max_bytes),
        p.line, p.col};
  }
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        Position p = position_of(text, i);
        return YamlProblem{fmt::format("byte 0x{:02x} is not allowed in YAML text (binary input?)", c),
                           p.line, p.col, false};
      }
      ++i;
      continue;
    }
    std::size_t n = utf8_length(text, i);
    if (n == 0) {
      Position p = position_of(text, i);
      return YamlProblem{fmt::format("invalid UTF-8 (byte 0x{:02x}); YAML text must be UTF-8", c), p.line,
                         p.col, false};
    }
    i += n;
  }
  return std::nullopt;
}

struct Stop {
  YamlProblem problem;
};

// Counts nodes and depth as a converter that expands aliases would meet them.
class Counter : public YAML::EventHandler {
 public:
  explicit Counter(const YamlLimits& limits) : m_limits(limits) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (anchor >= m_anchors.size() || !m_anchors[anchor].complete) {
      stop(mark, "an alias refers to the node that contains it (a cycle)");
    }
    add(mark, m_anchors[anchor].nodes, m_anchors[anchor].height);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Size {
    std::size_t nodes = 0;  // expanded nodes in the subtree, itself included (saturating)
    int height = 0;         // nesting levels in the subtree, itself included
    bool complete = false;
  };
  struct Frame {
    YAML::anchor_t anchor;
    Size size;
  };

  [[noreturn]] static void stop(const YAML::Mark& mark, std::string message) {
    throw Stop{YamlProblem{std::move(message), mark.line + 1, mark.column + 1}};
  }

  std::size_t capped(std::size_t a, std::size_t b) const {
    return std::min(a + b, m_limits.max_nodes + 1);  // a, b <= max_nodes + 1: no overflow
  }

  void record(YAML::anchor_t anchor, Size size) {
    if (anchor == YAML::NullAnchor) {
      return;
    }
    if (m_anchors.size() <= anchor) {
      m_anchors.resize(anchor + 1);
    }
    size.complete = true;
    m_anchors[anchor] = size;
  }

  void add(const YAML::Mark& mark, std::size_t nodes, int height) {
    m_total = capped(m_total, nodes);
    if (m_total > m_limits.max_nodes) {
      stop(mark, fmt::format("YAML alias expansion exceeds the limit of {} nodes (each use of "
                             "an alias counts every node it stands for)",
                             m_limits.max_nodes));
    }
    if (static_cast<int>(m_stack.size()) + height > m_limits.max_depth) {
      stop(mark, fmt::format("YAML nesting exceeds the limit of {} levels", m_limits.max_depth));
    }
    if (!m_stack.empty()) {
      Size& s = m_stack.back().size;
      s.nodes = capped(s.nodes, nodes);
      s.height = std::max(s.height, height + 1);
    }
  }

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1, 0);
    record(anchor, Size{1, 0, true});
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    add(mark, 1, 1);
    if (anchor != YAML::NullAnchor && m_anchors.size() <= anchor) {
      m_anchors.resize(anchor + 1);  // known but incomplete: an alias to it now is a cycle
    }
    m_stack.push_back(Frame{anchor, Size{1, 1, false}});
  }

  void close() {
    Frame f = m_stack.back();
    m_stack.pop_back();
    record(f.anchor, f.size);
    if (!m_stack.empty()) {  // the node itself was counted by open(); pass up the rest
      Size& s = m_stack.back().size;
      s.nodes = capped(s.nodes, f.size.nodes - 1);
      s.height = std::max(s.height, f.size.height + 1);
    }
  }

  const YamlLimits& m_limits;
  std::vector<Size> m_anchors;  // by anchor id
  std::vector<Frame> m_stack;
  std::size_t m_total = 0;
};

// Whether line `line` (1-based) of `text` is short enough to quote under a message.
bool quotable(std::string_view text, int line) {
  std::size_t pos = 0;
  for (int l = 1; l < line && pos != std::string_view::npos; ++l) {
    pos = text.find('\n', pos);
    pos = pos == std::string_view::npos ? pos : pos + 1;
  }
  if (pos == std::string_view::npos) {
    return false;
  }
  std::size_t end = text.find('\n', pos);
  return (end == std::string_view::npos ? text.size() : end) - pos <= 400;
}

std::optional<YamlProblem> check_events(std::string_view text, const YamlLimits& limits) {
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    Counter counter(limits);
    parser.HandleNextDocument(counter);
  } catch (const Stop& s) {
    return s.problem;
  } catch (const YAML::Exception&) {
    return std::nullopt;  // a syntax error: the parser that follows reports it
  }
  return std::nullopt;
}

}  // namespace

std::optional<YamlProblem> check_yaml_text(std::string_view text, const YamlLimits& limits) {
  auto p = check_bytes(text, limits);
  if (!p) {
    p = check_events(text, limits);
  }
  if (p && p->quote) {
    p->quote = quotable(text, p->line);
  }
  return p;
}

Result<std::optional<std::string>> read_yaml_file(const std::filesystem::path& path,
                                                  const YamlLimits& limits) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return std::optional<std::string>{};
    }
    return fail(Errc::io, "reading '{}': {}", path.string(), std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(Errc::invalid_config, "'{}' is not a regular file", path.string());
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return fail(Errc::io, "reading '{}': {}", path.string(), std::strerror(err));
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limits.max_bytes) {
      ::close(fd);
      return fail(Errc::invalid_config, "'{}' is larger than the limit of {} bytes for YAML documents",
                  path.string(), limits.max_bytes);
    }
  }
  ::close(fd);
  return std::optional<std::string>{std::move(out)};
}

}  // namespace binder::common
