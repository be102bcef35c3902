// The render verb: parse flags, load the metadata file through the regular loader, render.
#include "firstboot/render/render_cli.hpp"

#include <cmath>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "firstboot/address_class.hpp"
#include "firstboot/image_defaults.hpp"
#include "firstboot/metadata/load.hpp"
#include "firstboot/render/artifacts.hpp"
#include "firstboot/sizing.hpp"

namespace binder::firstboot::render {

namespace {

struct Options {
  std::string artifact;
  std::optional<std::string> metadata;
  double ram_gib = 4;
  int cpus = 2;
  std::string public_ip;
  bool extra_disk = false;
  std::optional<double> extra_disk_gib;
  bool markdown_table = false;
  std::optional<std::string> k3s_kubeconfig;
  std::optional<std::string> image_root;
  bool list = false;
};

constexpr const char* k_usage =
    "usage: binder-firstboot render ARTIFACT --metadata FILE [--ram-gib N] [--cpus N] [--public-ip IP]\n"
    "                               [--extra-disk | --extra-disk-gib N] [--k3s-kubeconfig FILE]\n"
    "                               [--image-root DIR]\n"
    "       --extra-disk-gib N: an extra disk of N GiB (sizes the buildkit cache); --extra-disk: one\n"
    "       of unknown size\n"
    "       --image-root DIR: the federation charts from DIR/etc/binder-image/charts.json (\"/\" on the\n"
    "       VM; sha256 checked) and the image's kubelet defaults from DIR/etc/binder-image/build.json;\n"
    "       without it the versions the image pins and the built-in kubelet defaults\n"
    "       binder-firstboot render sizing --markdown-table   (the README's sizing table)\n"
    "       binder-firstboot render --list\n";

common::Result<Options> parse(const std::vector<std::string>& args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* flag) -> common::Result<std::string> {
      if (i + 1 >= args.size())
        return common::fail(common::Errc::usage, "{} needs a value", flag);
      return args[++i];
    };
    try {
      if (a == "--metadata") {
        TRY_ASSIGN(o.metadata, value("--metadata"));
      } else if (a == "--ram-gib") {
        TRY_ASSIGN(auto v, value("--ram-gib"));
        o.ram_gib = std::stod(v);
      } else if (a == "--cpus") {
        TRY_ASSIGN(auto v, value("--cpus"));
        o.cpus = std::stoi(v);
      } else if (a == "--public-ip") {
        TRY_ASSIGN(o.public_ip, value("--public-ip"));
      } else if (a == "--extra-disk") {
        o.extra_disk = true;
      } else if (a == "--extra-disk-gib") {
        TRY_ASSIGN(auto v, value("--extra-disk-gib"));
        size_t used = 0;
        double gib = std::stod(v, &used);
        if (used != v.size() || !std::isfinite(gib) || gib <= 0 || gib > 1024.0 * 1024.0) {
          return common::fail(common::Errc::usage,
                              "--extra-disk-gib needs a size in GiB above 0 (at most 1048576), got '{}'", v);
        }
        o.extra_disk_gib = gib;
      } else if (a == "--markdown-table") {
        o.markdown_table = true;
      } else if (a == "--k3s-kubeconfig") {
        TRY_ASSIGN(o.k3s_kubeconfig, value("--k3s-kubeconfig"));
      } else if (a == "--image-root") {
        TRY_ASSIGN(o.image_root, value("--image-root"));
      } else if (a == "--list") {
        o.list = true;
      } else if (a == "-h" || a == "--help") {
        return common::fail(common::Errc::usage, "help requested");
      } else if (!a.empty() && a[0] == '-') {
        return common::fail(common::Errc::usage, "unknown option '{}'", a);
      } else if (o.artifact.empty()) {
        o.artifact = a;
      } else {
        return common::fail(common::Errc::usage, "unexpected argument '{}'", a);
      }
    } catch (const std::exception&) {
      return common::fail(common::Errc::usage, "'{}' needs a number", a);
    }
  }
  if (o.markdown_table) {
    if (o.artifact != "sizing" || o.metadata) {
      return common::fail(common::Errc::usage, "--markdown-table goes with 'sizing' alone (no --metadata)");
    }
    return o;
  }
  if (!o.list && (o.artifact.empty() || !o.metadata)) {
    return common::fail(common::Errc::usage, "render needs ARTIFACT and --metadata FILE");
  }
  if (o.ram_gib <= 0 || o.cpus <= 0) {
    return common::fail(common::Errc::usage, "--ram-gib and --cpus must be positive");
  }
  return o;
}

}  // namespace

int render_main(const std::vector<std::string>& args) {
  auto opts = parse(args);
  if (!opts) {
    fmt::print(stderr, "binder-firstboot render: {}\n{}", opts.error().to_string(), k_usage);
    return 2;
  }
  if (opts->markdown_table) {
    fmt::print("{}", sizing_markdown_table(readme_sizing_machines()));
    return 0;
  }
  if (opts->list) {
    for (const auto& n : artifact_names())
      fmt::print("{}\n", n);
    fmt::print("all\n");
    return 0;
  }
  SystemCommandRunner runner;
  LoadOptions load;
  load.metadata_file = *opts->metadata;
  auto loaded = load_member(load, runner);
  if (!loaded) {
    fmt::print(stderr, "binder-firstboot render: {}\n", loaded.error().to_string());
    return common::exit_code_for(loaded.error());
  }
  // --public-ip is a machine fact, as if detected: refused like the agent refuses a detected
  // private/CGNAT/link-local/loopback address (public_ip_private_ok covers only the metadata's).
  if (!opts->public_ip.empty()) {
    if (auto ok = check_publishable(opts->public_ip, "--public-ip (a machine fact, as if detected)"); !ok) {
      fmt::print(stderr, "binder-firstboot render: {}\n", ok.error().to_string());
      return common::exit_code_for(ok.error());
    }
  }
  MachineFacts facts;
  facts.ram_bytes = static_cast<std::uint64_t>(opts->ram_gib * 1024.0 * 1024.0 * 1024.0);
  facts.cpus = opts->cpus;
  facts.public_ip = opts->public_ip;
  facts.extra_disk = opts->extra_disk || opts->extra_disk_gib ? "/dev/extra-disk" : "";
  if (opts->extra_disk_gib) {
    facts.extra_disk_bytes = static_cast<std::uint64_t>(*opts->extra_disk_gib * 1024.0 * 1024.0 * 1024.0);
  }
  RenderExtras extras;
  if (opts->k3s_kubeconfig) {
    auto text = common::fs::read_file(*opts->k3s_kubeconfig);
    if (!text) {
      fmt::print(stderr, "binder-firstboot render: {}\n", text.error().to_string());
      return 1;
    }
    extras.k3s_kubeconfig = *text;
  }
  if (opts->image_root) {
    auto charts = load_image_charts(*opts->image_root);
    if (!charts) {
      fmt::print(stderr, "binder-firstboot render: {}\n", charts.error().to_string());
      return common::exit_code_for(charts.error());
    }
    extras.charts = std::move(*charts);
  }
  if (opts->image_root) {
    auto kubelet = read_image_kubelet(*opts->image_root);
    if (!kubelet) {
      fmt::print(stderr, "binder-firstboot render: {}\n", kubelet.error().to_string());
      return common::exit_code_for(kubelet.error());
    }
    facts.kubelet = *kubelet;
  }
  // An empty view on purpose: review output never shows a secret.
  auto out = render_artifact(opts->artifact, loaded->member, facts, SecretsView{}, extras);
  if (!out) {
    fmt::print(stderr, "binder-firstboot render: {}\n", out.error().to_string());
    return common::exit_code_for(out.error());
  }
  fmt::print("{}", *out);
  return 0;
}

}  // namespace binder::firstboot::render
