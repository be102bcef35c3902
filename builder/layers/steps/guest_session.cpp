// See guest_session.hpp.
#include "layers/steps/guest_session.hpp"

#include "common/fs.hpp"
#include "image/qemu_img.hpp"

namespace binder::layers::steps {

Result<void> with_guest_layer(const stdfs::path& parent, const stdfs::path& out, const BuildEnv& env,
                              GrowRoot grow, const std::function<Result<void>(image::Guest&)>& work) {
  TRY(image::create_overlay(out, parent));
  image::GuestOptions options;
  if (env.guest_options) {
    TRY_ASSIGN(options, env.guest_options());
  }
  TRY_ASSIGN(image::Guest guest,
             image::Guest::launch({image::Drive{out, "qcow2", image::Access::read_write}}, options));
  if (grow == GrowRoot::yes) {
    TRY_CTX(guest.grow_root_to_disk(), "growing the root filesystem");
  }
  TRY(guest.mount_root(image::Access::read_write));
  TRY(work(guest));
  TRY(guest.shutdown());
  return {};
}

Result<void> upload_tree(image::Guest& guest, const image::TarBuilder& tar, const BuildEnv& env,
                         std::string_view name, std::int64_t mtime) {
  if (tar.empty()) {
    return {};
  }
  stdfs::path file = env.work_dir / fmt::format("{}.tar", name);
  TRY(tar.write(file, mtime));
  auto r = guest.tar_in(file, "/");
  std::error_code ec;
  stdfs::remove(file, ec);
  return r;
}

}  // namespace binder::layers::steps
