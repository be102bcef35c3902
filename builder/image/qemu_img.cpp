// See qemu_img.hpp.
#include "image/qemu_img.hpp"

#include <nlohmann/json.hpp>

#include "common/exec.hpp"

namespace binder::image {
namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;

Result<exec::Output> qemu_img(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"qemu-img"};
  argv.insert(argv.end(), args.begin(), args.end());
  return exec::run_checked(argv);
}

}  // namespace

Result<void> create_overlay(const std::filesystem::path& overlay, const std::filesystem::path& parent,
                            std::optional<std::uint64_t> size) {
  // qemu-img resolves a relative backing name against the overlay's directory.
  std::error_code ec;
  std::filesystem::path dir = overlay.parent_path().empty() ? "." : overlay.parent_path();
  std::filesystem::path rel = std::filesystem::relative(parent, dir, ec);
  if (ec || rel.empty()) {
    rel = std::filesystem::absolute(parent, ec);
  }
  std::vector<std::string> args{"create",     "-q", "-f",    "qcow2",         "-b",
                                rel.string(), "-F", "qcow2", overlay.string()};
  if (size) {
    args.push_back(std::to_string(*size));
  }
  TRY_CTX(qemu_img(args), "creating overlay '{}'", overlay.string());
  return {};
}

Result<void> convert(const std::filesystem::path& src, const std::filesystem::path& dst,
                     const ConvertOptions& options) {
  std::vector<std::string> args{"convert", "-f", options.input_format, "-O", options.output_format};
  std::vector<std::string> opts = options.options;
  if (options.compression != Compression::none) {
    if (options.output_format != "qcow2") {
      return fail(Errc::precondition, "qemu-img compression needs qcow2 output, not '{}'",
                  options.output_format);
    }
    args.push_back("-c");
    opts.push_back(options.compression == Compression::zstd ? "compression_type=zstd"
                                                            : "compression_type=zlib");
  }
  std::string joined;
  for (const auto& o : opts) {
    joined += (joined.empty() ? "" : ",") + o;
  }
  if (!joined.empty()) {
    args.push_back("-o");
    args.push_back(joined);
  }
  args.push_back(src.string());
  args.push_back(dst.string());
  TRY_CTX(qemu_img(args), "converting '{}' to {}", src.string(), options.output_format);
  return {};
}

Result<ImageInfo> info(const std::filesystem::path& path, std::optional<std::string> format) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail(Errc::not_found, "image '{}' does not exist", path.string());
  }
  std::vector<std::string> args{"info", "--output=json"};
  if (format) {
    args.push_back("-f");
    args.push_back(*format);
  }
  args.push_back(path.string());
  auto out = qemu_img(args);
  if (!out) {
    auto e = out.error();
    e.message = fmt::format("'{}' is not a readable disk image: {}", path.string(), e.message);
    return std::unexpected(e);
  }
  ImageInfo result;
  result.json = out->out;
  auto j = nlohmann::json::parse(out->out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return fail(Errc::external_tool, "qemu-img info '{}': unparsable output", path.string());
  }
  result.format = j.value("format", "");
  result.virtual_size = j.value("virtual-size", std::uint64_t{0});
  result.actual_size = j.value("actual-size", std::uint64_t{0});
  if (j.contains("backing-filename")) {
    result.backing_filename = j["backing-filename"].get<std::string>();
  }
  if (j.contains("backing-filename-format")) {
    result.backing_format = j["backing-filename-format"].get<std::string>();
  }
  return result;
}

Result<void> check(const std::filesystem::path& path, const std::string& format) {
  if (format == "raw") {
    return {};
  }
  TRY_ASSIGN(exec::Output out, exec::run({"qemu-img", "check", "-q", "-f", format, path.string()}));
  // 0 clean, 3 leaked clusters only (harmless), 63 check unsupported for the format.
  if (out.exit_code == 0 || out.exit_code == 3 || out.exit_code == 63) {
    return {};
  }
  std::string why = !out.err.empty() ? out.err : out.out;
  while (!why.empty() && why.back() == '\n') {
    why.pop_back();
  }
  return fail(out.exit_code == 2 ? Errc::corrupt_state : Errc::external_tool,
              "'{}' failed qemu-img check (exit {}): {}", path.string(), out.exit_code, why);
}

Result<void> resize(const std::filesystem::path& path, const std::string& format, std::uint64_t size) {
  TRY_CTX(qemu_img({"resize", "-q", "-f", format, path.string(), std::to_string(size)}), "resizing '{}'",
          path.string());
  return {};
}

}  // namespace binder::image
