// Tar-packaged outputs: the VMware OVA (ustar: .ovf first, then the .vmdk, then the .mf, as OVF
// 1.0 section 5.3 requires for streaming import) and the GCP image tarball (GNU/oldgnu tar.gz
// holding exactly disk.raw, as `gcloud compute images create --source-uri` requires). Both are
// read back with libarchive after writing and checked member by member.
#include <archive.h>

#include <sstream>

#include "common/fs.hpp"
#include "common/hash.hpp"
#include "export/formats.hpp"
#include "export/ovf.hpp"
#include "export/tar_io.hpp"

namespace binder::exporter::detail {
namespace {

using common::Errc;
using common::fail;

constexpr std::uint64_t k_gib = 1024ull * 1024 * 1024;
const std::string k_ustar_magic(
    "ustar\0"
    "00",
    8);
const std::string k_gnu_magic("ustar  \0", 8);

std::string stem_of(const std::string& file_name, const std::string& ext) {
  return file_name.substr(0, file_name.size() - ext.size());
}

}  // namespace

Result<Path> write_ova(const Source& src, const ExportOptions& options, const Path& dir,
                       const std::string& file_name) {
  const std::string stem = stem_of(file_name, ".ova");
  const std::string vmdk_name = stem + ".vmdk", ovf_name = stem + ".ovf", mf_name = stem + ".mf";
  // The members are made in a private directory: a standalone '<stem>.vmdk' output may be
  // written into `dir` at the same time by another export job (same name, same bytes wanted).
  const Path work = dir / (".ova-" + stem);
  TRY(common::fs::remove_tree(work));
  TRY(common::fs::make_directories(work, 0700));
  struct Cleanup {
    Path p;
    ~Cleanup() { (void)common::fs::remove_tree(p); }
  } cleanup{work};
  TRY_ASSIGN(Path vmdk, write_vmdk(src, work, vmdk_name));
  TRY_ASSIGN(std::uint64_t vmdk_size, common::fs::size_of(vmdk));
  ovf::Params p;
  p.name = stem;
  p.product = options.ovf_product;
  p.vmdk_file = vmdk_name;
  p.vmdk_size = vmdk_size;
  p.capacity = src.virtual_size;
  p.cpus = options.ovf_cpus;
  p.memory_mib = options.ovf_memory_mib;
  std::string descriptor = ovf::descriptor(p);
  TRY(common::fs::write_file_atomic(work / ovf_name, descriptor));
  TRY_ASSIGN(std::string vmdk_sha, common::hash::sha256_file(vmdk));
  std::string mf = ovf::manifest({{ovf_name, common::hash::sha256_hex(descriptor)}, {vmdk_name, vmdk_sha}});
  TRY(common::fs::write_file_atomic(work / mf_name, mf));

  Path out = dir / file_name;
  tar::WriteOptions wo;
  wo.format = tar::Format::ustar;
  wo.mtime = src.epoch.value_or(0);
  TRY(tar::write(out, {{ovf_name, work / ovf_name}, {vmdk_name, vmdk}, {mf_name, work / mf_name}}, wo));
  TRY(verify_ova(out, stem, src.virtual_size));
  return out;
}

Result<void> verify_ova(const Path& ova, const std::string& stem, std::uint64_t virtual_size) {
  TRY_ASSIGN(tar::Listing l, tar::read(ova, true, 1 << 20));
  auto bad = [&](const std::string& what) {
    return fail(Errc::corrupt_state, "'{}' is not a valid OVA: {}", ova.string(), what);
  };
  const std::vector<std::string> want{stem + ".ovf", stem + ".vmdk", stem + ".mf"};
  std::vector<std::string> got;
  for (const auto& m : l.members) {
    got.push_back(m.name);
  }
  if (got != want) {
    return bad(fmt::format("members are [{}], expected [{}] in this order", fmt::join(got, ", "),
                           fmt::join(want, ", ")));
  }
  if (l.format_code != ARCHIVE_FORMAT_TAR_USTAR || l.magic != k_ustar_magic) {
    return bad(fmt::format("the tar format is '{}', expected POSIX ustar", l.format_name));
  }
  if (!l.filters.empty()) {
    return bad("the tar is compressed; an OVA is a plain tar");
  }
  for (const auto& m : l.members) {
    if (!m.regular) {
      return bad(fmt::format("member '{}' is not a regular file", m.name));
    }
  }
  // The manifest must list the descriptor and the disk with their real digests.
  std::string expected_mf = ovf::manifest({{want[0], l.members[0].sha256}, {want[1], l.members[1].sha256}});
  if (l.members[2].data != expected_mf) {
    return bad(
        fmt::format("the manifest does not match the members' SHA-256 digests:\n{}", l.members[2].data));
  }
  const std::string& desc = l.members[0].data;
  for (const std::string& needle :
       {fmt::format("ovf:capacity=\"{}\"", virtual_size), fmt::format("ovf:href=\"{}\"", want[1]),
        fmt::format("ovf:size=\"{}\"", l.members[1].size), std::string("<VirtualHardwareSection>"),
        std::string("http://schemas.dmtf.org/ovf/envelope/1")}) {
    if (desc.find(needle) == std::string::npos) {
      return bad(fmt::format("the descriptor lacks '{}'", needle));
    }
  }
  return {};
}

Result<Path> write_gcp_tar(const Source& src, const Path& dir, const std::string& file_name) {
  BINDER_ASSERT(!src.raw.empty());
  Path out = dir / file_name;
  tar::WriteOptions wo;
  wo.format = tar::Format::oldgnu;
  wo.gzip = true;
  wo.mtime = src.epoch.value_or(0);
  TRY(tar::write(out, {{"disk.raw", src.raw}}, wo));
  TRY(verify_gcp_tar(out, src.virtual_size));
  return out;
}

Result<void> verify_gcp_tar(const Path& tar_gz, std::uint64_t virtual_size) {
  TRY_ASSIGN(tar::Listing l, tar::read(tar_gz, false));
  auto bad = [&](const std::string& what) {
    return fail(Errc::corrupt_state, "'{}' is not a valid GCP image tarball: {}", tar_gz.string(), what);
  };
  if (l.members.size() != 1 || l.members[0].name != "disk.raw" || !l.members[0].regular) {
    std::vector<std::string> names;
    for (const auto& m : l.members) {
      names.push_back(m.name);
    }
    return bad(fmt::format("members are [{}], expected exactly [disk.raw]", fmt::join(names, ", ")));
  }
  if (l.filters != std::vector<std::string>{"gzip"}) {
    return bad(fmt::format("compression is [{}], expected gzip", fmt::join(l.filters, ", ")));
  }
  if (l.format_code != ARCHIVE_FORMAT_TAR_GNUTAR || l.magic != k_gnu_magic) {
    return bad(fmt::format("the tar format is '{}', expected GNU tar (oldgnu)", l.format_name));
  }
  if (l.members[0].size != virtual_size || virtual_size % k_gib != 0) {
    return bad(
        fmt::format("disk.raw has {} bytes, expected {} (a whole GiB)", l.members[0].size, virtual_size));
  }
  return {};
}

}  // namespace binder::exporter::detail
