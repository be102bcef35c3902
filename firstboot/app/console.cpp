// The console status block. See console.hpp.
#include "firstboot/app/console.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "firstboot/app/timeline.hpp"
#include "firstboot/journal.hpp"
#include "firstboot/render/charts.hpp"

namespace binder::firstboot::app {

using nlohmann::json;
namespace fs = common::fs;

namespace {

// Fits `text` into `width` columns, cutting with "..." (bytes: the block is ASCII but for
// what an error quotes; a cut never splits a UTF-8 sequence).
std::string fit(std::string text, std::size_t width) {
  if (text.size() <= width)
    return text;
  std::size_t cut = width - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut) + "...";
}

// `text` wrapped at spaces into at most `max_lines` lines of `width`.
std::vector<std::string> wrap(const std::string& text, std::size_t width, std::size_t max_lines) {
  std::vector<std::string> out;
  std::string rest = text;
  while (!rest.empty() && out.size() < max_lines) {
    if (rest.size() <= width || out.size() + 1 == max_lines) {
      out.push_back(fit(rest, width));
      break;
    }
    std::size_t cut = rest.rfind(' ', width);
    if (cut == std::string::npos || cut < width / 2)
      cut = width;
    out.push_back(rest.substr(0, cut));
    rest = rest.substr(cut);
    while (!rest.empty() && rest.front() == ' ')
      rest.erase(0, 1);
  }
  return out;
}

}  // namespace

std::string without_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < 4)
      continue;
    for (std::size_t pos = 0; (pos = text.find(s, pos)) != std::string::npos;) {
      text.replace(pos, s.size(), "<redacted>");
      pos += 10;
    }
  }
  text = common::log::redact(text);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  }
  return text;
}

std::vector<std::string> known_secrets(const Member* member, const Journal& journal) {
  std::vector<std::string> out;
  if (member != nullptr) {
    for (const auto& [key, value] : member->secrets())
      out.push_back(value);
  }
  for (const auto& r : journal.records()) {
    for (const auto& [key, value] : r.outputs) {
      if (key.starts_with("secrets."))
        out.push_back(value);
    }
  }
  return out;
}

ConsoleView console_view(const json& status, const Member* member, const std::vector<std::string>& secrets,
                         std::chrono::system_clock::time_point now) {
  ConsoleView v;
  if (member != nullptr && !member->name.empty()) {
    v.fqdn = member->fqdn();
    v.mode = to_string(member->mode);
    v.urls.emplace_back("binder", "https://" + render::binder_host(*member));
    v.urls.emplace_back("hub", "https://" + render::hub_host(*member));
    if (std::string reg = member->registry_host(); !reg.empty()) {
      v.urls.emplace_back("registry", "https://" + reg);
    }
  } else if (status.contains("member") && status["member"].is_object()) {
    v.fqdn = status["member"].value("fqdn", "");
    v.mode = status["member"].value("mode", "");
    if (!v.fqdn.empty())
      v.urls.emplace_back("binder", "https://" + v.fqdn);
  }
  for (const auto& e : status.value("steps", json::array())) {
    ++v.total;
    std::string st = e.value("state", "");
    if (st == "done" || st == "adopted")
      ++v.done;
  }
  bool complete = status.value("complete", false);
  const json& err = status.contains("last_error") ? status["last_error"] : json();
  if (complete) {
    v.state = "complete";
  } else if (err.is_object()) {
    v.state = "failed";
    v.step = err.value("step", "");
    v.cause = without_secrets(err.value("message", ""), secrets);
    v.hint = without_secrets(err.value("hint", ""), secrets);
    // The runner's context repeats the step: "step 'dns:records': Cloudflare ..." -> "Cloudflare ...".
    std::string prefix = "step '" + v.step + "': ";
    if (v.cause.starts_with(prefix))
      v.cause.erase(0, prefix.size());
  } else if (status.contains("current_step") && status["current_step"].is_string()) {
    v.state = "running";
    v.step = status["current_step"].get<std::string>();
    for (const auto& e : status.value("steps", json::array())) {
      if (e.value("id", "") != v.step)
        continue;
      if (auto t = parse_utc(e.value("time", ""))) {
        v.elapsed_s = std::chrono::duration<double>(now - *t).count();
        if (*v.elapsed_s < 0)
          v.elapsed_s = 0.0;
      }
    }
  } else {
    v.state = "starting";
  }
  return v;
}

std::vector<std::string> render_console_block(const ConsoleView& v) {
  const std::size_t w = k_console_width - k_console_marker.size();
  std::vector<std::string> body;
  body.push_back(fit(
      v.fqdn.empty() ? std::string("== BinderHub member (metadata not loaded yet) ==")
                     : "== BinderHub member " + v.fqdn + (v.mode.empty() ? "" : " (" + v.mode + ")") + " ==",
      w));
  for (const auto& [label, url] : v.urls) {
    body.push_back(fit(fmt::format("{:<8} {}", label, url), w));
  }
  std::string progress = v.total > 0 ? fmt::format(", {}/{} steps done", v.done, v.total) : "";
  if (v.state == "complete") {
    body.push_back(fit(fmt::format("{:<8} complete{}", "state", progress), w));
  } else if (v.state == "running") {
    body.push_back(fit(fmt::format("{:<8} running {}{}{}", "state", v.step,
                                   v.elapsed_s ? " for " + format_seconds(*v.elapsed_s) : "", progress),
                       w));
  } else if (v.state == "failed") {
    body.push_back(fit(fmt::format("{:<8} failed at {}{}", "state", v.step, progress), w));
    // Cause and hint, labelled on their first line: the hint up to two lines, the cause what is
    // left of the block (at least two, at most four lines).
    auto labelled = [&](std::string_view label, const std::vector<std::string>& lines) {
      for (std::size_t i = 0; i < lines.size(); ++i) {
        body.push_back(fmt::format("{:<8} {}", i == 0 ? label : "", lines[i]));
      }
    };
    auto hint = v.hint.empty() ? std::vector<std::string>{} : wrap(v.hint, w - 9, 2);
    std::size_t left = k_console_max_lines - body.size() - 1 - hint.size();  // 1: the details line
    labelled("cause", wrap(v.cause, w - 9, std::clamp<std::size_t>(left, 2, 4)));
    labelled("to fix", hint);
  } else {
    body.push_back(fit(fmt::format("{:<8} starting{}", "state", progress), w));
  }
  body.push_back(
      fit(fmt::format("{:<8} binder-firstboot status; journalctl -u binder-firstboot", "details"), w));
  std::vector<std::string> out;
  for (auto& l : body) {
    if (out.size() == k_console_max_lines)
      break;
    while (!l.empty() && l.back() == ' ')
      l.pop_back();
    out.push_back(std::string(k_console_marker) + l);
  }
  return out;
}

common::Result<void> write_console_block(const std::vector<std::string>& lines, const ConsoleTargets& t) {
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  std::optional<common::Error> first;
  auto note = [&](common::Result<void> r) {
    if (!r && !first)
      first = r.error();
  };
  for (const auto& term : t.terminals) {
    if (!std::filesystem::exists(term))
      continue;
    // Non-blocking: a serial line nobody reads must not stall the agent.
    int fd = ::open(term.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | O_APPEND);
    if (fd < 0) {
      note(common::fail(common::Errc::io, "opening '{}': {}", term.string(), std::strerror(errno)));
      continue;
    }
    // A full tty buffer answers EAGAIN: wait for it briefly (a serial line drains at ~11 KB/s),
    // then give up on this block rather than stall the agent.
    std::string out = "\n" + text;
    std::size_t off = 0;
    for (int waits = 0; off < out.size() && waits < 200;) {
      ssize_t n = ::write(fd, out.data() + off, out.size() - off);
      if (n > 0) {
        off += static_cast<std::size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        ::usleep(10'000);
        ++waits;
      } else {
        note(common::fail(common::Errc::io, "writing '{}': {}", term.string(), std::strerror(errno)));
        break;
      }
    }
    ::close(fd);
  }
  // agetty expands backslash escapes in issue files: keep ours literal.
  std::string issue_text;
  for (char c : text) {
    if (c == '\\')
      issue_text += '\\';
    issue_text += c;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(t.issue_dir, ec)) {
    note(fs::write_file_atomic(t.issue_dir / t.dropin_name, issue_text, 0644));
  } else {
    // The marked lines of /etc/issue, replaced where the first of them was (else appended).
    auto cur = fs::read_file_if_exists(t.issue);
    if (!cur) {
      note(std::unexpected(cur.error()));
    } else {
      std::string kept;
      std::optional<std::size_t> at;
      std::string old = cur->value_or("");
      for (std::size_t pos = 0; pos < old.size();) {
        std::size_t nl = old.find('\n', pos);
        std::size_t end = nl == std::string::npos ? old.size() : nl + 1;
        std::string_view line(old.data() + pos, end - pos);
        if (line.starts_with(k_console_marker)) {
          if (!at)
            at = kept.size();
        } else {
          kept += line;
        }
        pos = end;
      }
      if (!kept.empty() && !kept.ends_with('\n'))
        kept += '\n';
      std::size_t where = at.value_or(kept.size());
      note(fs::write_file_atomic(t.issue, kept.substr(0, where) + issue_text + kept.substr(where), 0644));
    }
  }
  if (first)
    return std::unexpected(*first);
  return {};
}

}  // namespace binder::firstboot::app
