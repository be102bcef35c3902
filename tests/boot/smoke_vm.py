"""QEMU side of the smoke boot (ci/smoke-boot): the accelerator choice and one VM run.

Accelerator: the same rule as the builder (builder/base/accel.cpp): `auto` never trusts /dev/kvm
alone, it boots a 512-byte probe guest under KVM that writes to isa-debug-exit, with a hard
deadline, and falls back to TCG with one reason line.

A Vm boots the image through a qcow2 overlay (the built image stays pristine and a second boot
after a power cut sees the first one's writes), the NoCloud seed as a read-only virtio drive (the
cloud kernel has no AHCI, so never -cdrom), an empty sparse extra disk, user networking (the
guest reaches host 127.0.0.1 as 10.0.2.2) and the serial port in a log file that the host
follows line by line.

What the serial log says about firstboot (read after the boot):
  status_blocks(logs)    the console status blocks binder-firstboot wrote (lines starting with
                         `binder-firstboot: `, a block opening with `== BinderHub member`)
  check_status_block(logs, url)  a problem (str) unless a block shows the member's URL and the
                         last one says complete; None when all is well
  timeline_from_serial(logs)     the `binder-firstboot status --timeline --json` document the
                         verdict unit prints as one `BINDER-TIMELINE: {...}` line (None if absent)
"""
import glob
import os
import re
import signal
import subprocess
import tempfile
import time

import json

PROBE_EXIT = (0x2A << 1) | 1  # isa-debug-exit: (value << 1) | 1
CONSOLE_MARKER = "binder-firstboot: "
TIMELINE = re.compile(r"BINDER-TIMELINE: (\{.*\})\s*$")


def probe_sector():
    code = bytes([0xB0, 0x2A, 0xE6, 0xF4, 0xFA, 0xF4, 0xEB, 0xFE, 0x90])
    return code + bytes(510 - len(code)) + b"\x55\xaa"


def kvm_runs(deadline=8.0):
    """(ran, detail): does a probe guest run under KVM within `deadline` seconds?"""
    if not os.path.exists("/dev/kvm"):
        return False, "/dev/kvm does not exist"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm cannot be opened read-write"
    with tempfile.NamedTemporaryFile(suffix=".img") as img:
        img.write(probe_sector())
        img.flush()
        argv = ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "16", "-nodefaults",
                "-display", "none", "-no-reboot", "-serial", "none", "-monitor", "none",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                "-drive", f"file={img.name},format=raw,if=ide"]
        start = time.monotonic()
        try:
            p = subprocess.run(argv, capture_output=True, timeout=deadline, start_new_session=True)
        except subprocess.TimeoutExpired:
            return False, f"the probe guest did not finish within {deadline:g}s"
        if p.returncode == PROBE_EXIT:
            return kernel_runs(deadline)
        tail = p.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
        return False, f"qemu exited with status {p.returncode}: {tail[0]}"


def kernel_runs(deadline):
    """Second stage, as in builder/base/accel.cpp: a boot sector can run under KVM on hosts where
    a Linux kernel hangs, so the host kernel must boot to its no-root-fs panic in time."""
    kernels = sorted(k for k in glob.glob("/boot/vmlinuz-*") if os.access(k, os.R_OK))
    if not kernels:
        return True, "guest ran (no host kernel to probe further)"
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-M", "pc", "-m", "256", "-nodefaults",
            "-display", "none", "-no-reboot", "-monitor", "none", "-serial", "stdio",
            "-kernel", kernels[-1], "-append", "console=ttyS0 panic=-1 root=/dev/binder-probe-none"]
    start = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, timeout=deadline, start_new_session=True)
    except subprocess.TimeoutExpired:
        return False, f"a probe kernel did not finish booting within {deadline:g}s"
    if b"Kernel panic" in p.stdout:
        return True, f"guest and kernel ran in {time.monotonic() - start:.1f}s"
    return False, f"a probe kernel stopped early (exit status {p.returncode})"


def choose_accel(mode):
    """'kvm' or 'tcg' plus a reason line. mode: auto | kvm | tcg."""
    if mode == "tcg":
        return "tcg", "using TCG: requested"
    ran, detail = kvm_runs()
    if ran:
        return "kvm", f"using KVM: probe guest ran ({detail})"
    if mode == "kvm":
        raise SystemExit(f"smoke-boot: KVM requested but a probe guest does not run under it ({detail})")
    return "tcg", f"using TCG: {detail}"


def make_overlay(image, overlay):
    fmt = "raw" if image.endswith(".raw") or image.endswith(".img") else "qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b",
                    os.path.abspath(image), overlay], check=True)


def make_sparse(path, size_bytes):
    with open(path, "wb") as f:
        f.truncate(size_bytes)


class Vm:
    def __init__(self, accel, overlay, seed, extra_disk, serial_log, memory=2048, cpus=2,
                 firmware=None, kernel=None):
        self.serial_log = serial_log
        self.argv = ["qemu-system-x86_64", "-accel", accel, "-M", "pc" if not firmware else "q35",
                     "-m", str(memory), "-smp", str(cpus), "-nodefaults", "-display", "none",
                     "-no-reboot", "-monitor", "none", "-serial", f"file:{serial_log}",
                     "-drive", f"file={overlay},format=qcow2,if=virtio",
                     "-drive", f"file={extra_disk},format=raw,if=virtio",
                     "-drive", f"file={seed},format=raw,if=virtio,readonly=on",
                     "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
                     "-device", "virtio-rng-pci"]
        if accel == "kvm":
            self.argv += ["-cpu", "host"]
        if firmware:
            self.argv += ["-bios", firmware]
        if kernel:  # (vmlinuz, initrd, cmdline): direct kernel boot, ~10 s faster than GRUB
            self.argv += ["-kernel", kernel[0], "-initrd", kernel[1], "-append", kernel[2]]
        self.proc = None
        self.started = None
        self._pos = 0
        self._partial = ""

    def start(self):
        open(self.serial_log, "w").close()
        self._pos = 0
        self._partial = ""
        self.qemu_log = open(self.serial_log + ".qemu", "a")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def elapsed(self):
        return time.monotonic() - self.started

    def new_lines(self):
        """Complete serial lines written since the last call (ANSI colour stripped)."""
        try:
            with open(self.serial_log, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except OSError:
            return []
        self._pos += len(data)
        text = self._partial + data.decode(errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        return [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", ln).rstrip("\r") for ln in lines]

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_for(self, patterns, timeout, on_line=None):
        """Follows the serial log until a line matches one of `patterns` (compiled regexes),
        QEMU exits, or `timeout` seconds pass. Returns (index, match) or (None, reason)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.new_lines():
                if on_line:
                    on_line(line)
                for i, p in enumerate(patterns):
                    m = p.search(line)
                    if m:
                        return i, m
            if not self.running():
                for line in self.new_lines() + ([self._partial] if self._partial else []):
                    for i, p in enumerate(patterns):
                        m = p.search(line)
                        if m:
                            return i, m
                return None, f"qemu exited with status {self.proc.returncode} before the verdict"
            if time.monotonic() > deadline:
                return None, f"no verdict within {timeout:g}s"
            time.sleep(0.5)

    def kill(self):
        """Power cut: SIGKILL the whole QEMU process group, no shutdown."""
        if self.running():
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


def _serial_lines(logs):
    for p in logs:
        try:
            with open(p, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            continue
        for line in text.split("\n"):
            yield re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line).rstrip("\r")


def status_blocks(logs):
    """The console status blocks in the serial logs, oldest first, each a list of lines without
    the marker. Other console output may interleave; only marker lines are kept."""
    blocks = []
    for line in _serial_lines(logs):
        i = line.find(CONSOLE_MARKER)
        if i < 0:
            continue
        body = line[i + len(CONSOLE_MARKER):]
        if body.startswith("== BinderHub member"):
            blocks.append([body])
        elif blocks:
            blocks[-1].append(body)
    return blocks


def check_status_block(logs, url, want_state="complete"):
    """None when the serial log shows a status block with `url` (e.g. https://smoke.example.test)
    and the last block's state starts with `want_state` ("complete", or "failed at STEP" for a
    fault that stays); else the problem, one line."""
    blocks = status_blocks(logs)
    if not blocks:
        return "no binder-firstboot status block on the serial console"
    if not any(re.search(r"^binder +" + re.escape(url) + r"$", ln) for b in blocks for ln in b):
        return f"no status block shows the member's URL {url}"
    last = blocks[-1]
    too_wide = [ln for b in blocks for ln in b if len(CONSOLE_MARKER + ln) > 80]
    if too_wide:
        return f"status block line wider than 80 columns: {too_wide[0]!r}"
    if not any(ln.startswith("state    " + want_state) for ln in last):
        state = next((ln for ln in last if ln.startswith("state")), "no state line")
        return f"the last status block is not '{want_state}': {state}"
    return None


def timeline_from_serial(logs):
    """The timeline document the verdict unit printed (the last one), or None."""
    found = None
    for line in _serial_lines(logs):
        m = TIMELINE.search(line)
        if m:
            try:
                found = json.loads(m.group(1))
            except ValueError:
                pass
    return found
