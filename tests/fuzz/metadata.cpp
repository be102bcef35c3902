// The member metadata parser. The first byte picks the entry point:
//   0 a member file (YAML, `binder_member:` wrapper optional) through parse + validation;
//   1 the same bytes as cloud-init user-data (`#cloud-config` wrapper) read by load_member;
//   2 the same bytes as cloud-init's combined-cloud-config.json.
#include "firstboot/metadata/load.hpp"
#include "firstboot/metadata/source_doc.hpp"
#include "firstboot/metadata/validate.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "tests/support/firstboot/test_seams.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace binder::firstboot;
  if (size == 0) {
    return 0;
  }
  auto text = binder::fuzz::as_text(data + 1, size - 1);
  static testing::FakeRunner runner;
  static const auto root = binder::fuzz::scratch_dir() / "root";
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  switch (data[0] % 3) {
    case 0: {
      auto doc = parse_yaml_doc(text, "member.yaml");
      if (doc) {
        auto sub = sub_document(*doc, "binder_member");
        auto m = member_from_doc(sub ? *sub : *doc);
        if (m) {
          (void)m->to_json().dump();
        }
      }
      break;
    }
    case 1:
      binder::fuzz::put_file("root/var/lib/cloud/instance/user-data.txt",
                             std::string("#cloud-config\n") + std::string(text));
      (void)load_member(LoadOptions{root, std::nullopt, false}, runner);
      break;
    default:
      binder::fuzz::put_file("root/run/cloud-init/combined-cloud-config.json", text);
      (void)load_member(LoadOptions{root, std::nullopt, false}, runner);
      break;
  }
  return 0;
}
