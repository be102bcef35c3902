// Disk image writers (qcow2, raw and compressed raw, VMDK, VHD): qemu-img through H3's adapter,
// whole-file compressors as programs (xz and zstd multi-threaded), then a verification of each
// result. Reproducibility notes: qemu-img's qcow2 and raw output depend only on the input (writes
// happen in order without -W); VMDK CIDs and VHD footers carry random/clock values that we pin;
// xz is always run multi-threaded (-T2 or more) because its single- and multi-threaded encoders
// emit different bytes, while every thread count >= 2 gives the same blocks.
#include "export/formats.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/archive_error.hpp"
#include "common/exec.hpp"
#include "common/hash.hpp"
#include "common/log.hpp"
#include "export/qcow2_zstd.hpp"
#include "export/vhd.hpp"
#include "image/qemu_img.hpp"

namespace binder::exporter::detail {
namespace {

using common::Errc;
using common::fail;
namespace exec = common::exec;
namespace log = common::log;

std::string threads_arg() {
  unsigned n = std::max(2u, std::thread::hardware_concurrency());
  return "-T" + std::to_string(n);
}

// Checks what qemu-img reports about a written image.
Result<nlohmann::json> check_image(const Path& path, const std::string& format, std::uint64_t virtual_size) {
  TRY_ASSIGN(image::ImageInfo info, image::info(path, format));
  if (info.virtual_size != virtual_size) {
    return fail(Errc::corrupt_state, "'{}' has virtual size {}, expected {}", path.string(),
                info.virtual_size, virtual_size);
  }
  if (info.backing_filename) {
    return fail(Errc::corrupt_state, "'{}' still has a backing file '{}'", path.string(),
                *info.backing_filename);
  }
  TRY(image::check(path, format));
  auto j = nlohmann::json::parse(info.json, nullptr, false);
  if (j.is_discarded()) {
    return fail(Errc::external_tool, "qemu-img info '{}': unparsable output", path.string());
  }
  return j.value("format-specific", nlohmann::json::object()).value("data", nlohmann::json::object());
}

std::string deterministic_hex(const std::string& seed, std::size_t digits) {
  return common::hash::sha256_hex(seed).substr(0, digits);
}

}  // namespace

Result<Path> write_qcow2(const Source& src, const std::string& compression, const Path& dir,
                         const std::string& file_name) {
  Path out = dir / file_name;
  bool native = false;
  if (compression == "zstd" && src.native_qcow2) {
    Qcow2ZstdOptions zo;
    zo.threads = src.compress_threads;
    if (src.qcow2_cache) {
      zo.cache = *src.qcow2_cache / file_name;  // one per output name (profile)
    }
    Result<Qcow2ZstdStats> r = write_qcow2_zstd(src.top, src.virtual_size, out, zo);
    if (r) {
      native = true;
      log::info("{}: {} clusters: {} compressed, {} reused from the last export, {} stored whole", file_name,
                r->clusters, r->compressed, r->reused, r->uncompressed);
    } else if (r.error().code == Errc::precondition) {
      log::info("{}: {}; compressing with qemu-img instead", file_name, r.error().message);
      std::error_code ec;
      std::filesystem::remove(out, ec);
    } else {
      return std::unexpected(r.error());
    }
  }
  if (!native) {
    image::ConvertOptions co;
    co.output_format = "qcow2";
    co.compression = compression == "zstd"   ? image::Compression::zstd
                     : compression == "zlib" ? image::Compression::zlib
                                             : image::Compression::none;
    TRY(image::convert(src.top, out, co));
  }
  TRY_ASSIGN(nlohmann::json data, check_image(out, "qcow2", src.virtual_size));
  if (compression != "none") {
    std::string type = data.value("compression-type", "zlib");
    if (type != compression) {
      return fail(Errc::corrupt_state, "'{}' has compression type '{}', expected '{}'", out.string(), type,
                  compression);
    }
  }
  if (native && src.qcow2_cache) {
    if (auto r = remember_qcow2_zstd(out, *src.qcow2_cache / file_name); !r) {
      log::warn("keeping '{}' for the next export: {}, ignoring", file_name, r.error().to_string());
    }
  }
  return out;
}

Result<Path> write_raw(const Source& src, const std::string& compression, const Path& dir,
                       const std::string& file_name) {
  Path out = dir / file_name;
  if (compression == "none") {
    std::error_code ec;
    if (src.raw.empty() || (std::filesystem::create_hard_link(src.raw, out, ec), ec)) {
      image::ConvertOptions co;
      co.output_format = "raw";
      TRY(image::convert(src.top, out, co));
    }
    std::uint64_t size = std::filesystem::file_size(out, ec);
    if (ec || size != src.virtual_size) {
      return fail(Errc::corrupt_state, "'{}' has {} bytes, expected {}", out.string(), size,
                  src.virtual_size);
    }
    return out;
  }
  BINDER_ASSERT(!src.raw.empty());
  // The compressors name their output after their input: link the raw as <file_name minus ext>.
  Path input = out;
  input.replace_extension();  // x.raw.xz -> x.raw
  std::error_code ec;
  std::filesystem::create_hard_link(src.raw, input, ec);
  if (ec) {
    return fail(Errc::io, "linking '{}' to '{}': {}", src.raw.string(), input.string(), ec.message());
  }
  std::vector<std::string> argv;
  if (compression == "xz") {
    argv = {"xz", "-z", "-k", "-f", "-q", threads_arg(), "--", input.string()};
  } else if (compression == "zstd") {
    argv = {"zstd", "-q", "-f", threads_arg(), "-o", out.string(), "--", input.string()};
  } else {
    argv = {"gzip", "-k", "-n", "-f", "-q", "--", input.string()};
  }
  TRY_CTX(exec::run_checked(argv), "compressing '{}' with {}", file_name, compression);
  std::filesystem::remove(input, ec);
  TRY_ASSIGN(std::uint64_t size, decompressed_size(out));
  if (size != src.virtual_size) {
    return fail(Errc::corrupt_state, "'{}' decompresses to {} bytes, expected {}", out.string(), size,
                src.virtual_size);
  }
  return out;
}

Result<Path> write_vmdk(const Source& src, const Path& dir, const std::string& file_name) {
  Path out = dir / file_name;
  image::ConvertOptions co;
  co.output_format = "vmdk";
  co.options = {"subformat=streamOptimized", "adapter_type=lsilogic"};
  TRY(image::convert(src.top, out, co));
  if (src.epoch) {
    std::string seed = fmt::format("binder-image vmdk {} {} {}", file_name, *src.epoch, src.virtual_size);
    TRY(pin_vmdk_cid(out, deterministic_hex(seed, 8)));
  }
  TRY_ASSIGN(nlohmann::json data, check_image(out, "vmdk", src.virtual_size));
  if (data.value("create-type", "") != "streamOptimized") {
    return fail(Errc::corrupt_state, "'{}' has create type '{}', expected streamOptimized", out.string(),
                data.value("create-type", ""));
  }
  return out;
}

Result<Path> write_vhd(const Source& src, const Path& dir, const std::string& file_name) {
  Path out = dir / file_name;
  image::ConvertOptions co;
  co.output_format = "vpc";
  co.options = {"subformat=fixed", "force_size=on"};
  TRY(image::convert(src.top, out, co));
  if (src.epoch) {
    std::string seed = fmt::format("binder-image vhd {} {} {}", file_name, *src.epoch, src.virtual_size);
    TRY(vhd::pin_footer(out, *src.epoch, seed));
  }
  TRY(vhd::verify_fixed(out, src.virtual_size));
  TRY_ASSIGN(image::ImageInfo info, image::info(out, "vpc"));
  if (info.format != "vpc") {
    return fail(Errc::corrupt_state, "qemu-img does not read '{}' as a VHD", out.string());
  }
  return out;
}

Result<std::uint64_t> decompressed_size(const Path& path) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* e = nullptr;
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
    return fail(Errc::corrupt_state, "'{}' can't be decompressed: {}", path.string(),
                common::archive_why(a.get()));
  }
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  la_ssize_t n;
  while ((n = archive_read_data(a.get(), buf.data(), buf.size())) > 0) {
    total += static_cast<std::uint64_t>(n);
  }
  if (n < 0) {
    return fail(Errc::corrupt_state, "'{}' is corrupt: {}", path.string(),
                common::archive_why(a.get()));
  }
  return total;
}

// qemu prints the CID with "%x", not "%08x": one random CID in 16 has fewer than 8 digits, so
// the descriptor text after it is moved to make room (within the descriptor's sectors, whose
// tail is zero padding). Overwriting 8 bytes in place ate the newline in that case.
Result<void> pin_vmdk_cid(const Path& vmdk, const std::string& cid) {
  BINDER_ASSERT(cid.size() == 8);
  int fd = ::open(vmdk.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return fail(Errc::io, "opening '{}': {}", vmdk.string(), std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  auto bad = [&](std::string_view why) {
    return fail(Errc::corrupt_state, "'{}': can't pin the VMDK descriptor CID: {}", vmdk.string(), why);
  };
  // Sparse extent header: magic "KDMV", descriptorOffset (u64 LE at 28), descriptorSize (u64 at 36),
  // both in sectors.
  unsigned char header[44];
  if (::pread(fd, header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
      std::memcmp(header, "KDMV", 4) != 0) {
    return bad("no sparse extent header");
  }
  auto u64 = [&](int at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) {
      v = (v << 8) | header[at + i];
    }
    return v;
  };
  std::uint64_t offset = u64(28) * 512, size = u64(36) * 512;
  if (offset == 0 || size == 0 || size > (1u << 20)) {
    return bad("no embedded descriptor");
  }
  std::string desc(size, '\0');
  if (::pread(fd, desc.data(), desc.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(size)) {
    return bad("short read of the descriptor");
  }
  std::size_t text_end = desc.find('\0');
  std::string text = desc.substr(0, text_end);
  std::size_t at = text.find("\nCID=");
  std::size_t eol = at == std::string::npos ? at : text.find('\n', at + 1);
  if (eol == std::string::npos) {
    return bad("no CID line");
  }
  text = text.substr(0, at + 5) + cid + text.substr(eol);
  if (text.size() >= size) {
    return bad("descriptor full");
  }
  std::string out = text + std::string(size - text.size(), '\0');
  if (::pwrite(fd, out.data(), out.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(out.size()) ||
      ::fsync(fd) != 0) {
    return fail(Errc::io, "writing the descriptor of '{}': {}", vmdk.string(), std::strerror(errno));
  }
  return {};
}

}  // namespace binder::exporter::detail
