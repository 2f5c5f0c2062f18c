"""``ukws run``: boot a built image.

- linuxu: the image runs directly, under a pseudo-terminal when ukws's output is not a terminal;
- kvm: ``qemu-system-<arch> -nographic -no-reboot -kernel IMG -m M``, with KVM when ``/dev/kvm``
  works and TCG otherwise (also when QEMU stops with ``KVM internal error`` or cannot open KVM);
- xen: the ``xl`` configuration to boot it, for a Xenstore domain also how ``init-xenstore-domain``
  starts it (:mod:`ukws.build.xl`; ukws does not drive a Xen host).

The guest's shutdown ends the run; ``timeout`` stops it (exit status 124, as timeout(1)).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ukws.build.make import find_images
from ukws.build.targets import BuildTarget
from ukws.build.xl import xl_config
from ukws.errors import WorkspaceError

TIMED_OUT = 124
QEMU_ARCH = {"x86_64": "x86_64", "arm64": "aarch64", "arm": "arm"}
QEMU_MACHINE = {"arm64": ["-machine", "virt", "-cpu", "cortex-a57"], "arm": ["-machine", "virt"]}
#: What QEMU prints when KVM exists but does not work; ukws then boots with TCG.
KVM_FAILURES = (b"KVM internal error", b"failed to initialize kvm", b"Could not access KVM kernel module",
                b"failed to initialize KVM", b"failed to set MSR", b"kvm_buf_set_msrs")


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    image: Path
    returncode: int
    how: str
    """``linuxu``, ``kvm``, ``tcg`` or ``xen``."""
    note: str = ""
    """Why KVM was not used, when it was not."""
    timed_out: bool = False
    xl_config: str = ""
    """For a Xen image: the configuration to boot it with ``xl create``."""


def image_of(target: BuildTarget) -> Path:
    images = find_images(target.build_dir, target.arch)
    if not images:
        raise WorkspaceError(f"{target.key}: no image in {target.build_dir}; run 'ukws build'")
    return images[0]


def kvm_usable() -> tuple[bool, str]:
    """Whether QEMU may try KVM: ``/dev/kvm`` exists and can be opened."""
    if not os.path.exists("/dev/kvm"):
        return False, "no /dev/kvm"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
    except OSError as e:
        return False, f"/dev/kvm: {e.strerror}"
    os.close(fd)
    return True, ""


def _pump(proc: subprocess.Popen[bytes], fd: int, out: BinaryIO, deadline: float | None,
          watch: Callable[[bytes], bool] | None = None, translate: bool = False) -> tuple[bool, bool]:
    """Copy ``fd`` to ``out`` until EOF; returns (timed out, watch matched)."""
    seen = b""
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return True, False
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # a pty reports EIO once the child has closed it
            chunk = b""
        if not chunk:
            return False, False
        if watch is not None:
            seen = (seen + chunk)[-4096:]
            if watch(seen):
                out.write(chunk)
                out.flush()
                return False, True
        out.write(chunk.replace(b"\r\n", b"\n") if translate else chunk)
        out.flush()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _run(argv: Sequence[str], *, timeout: float | None, pty: bool, out: BinaryIO,
         watch: Callable[[bytes], bool] | None = None) -> tuple[int, bool, bool]:
    """Run ``argv`` with its output copied to ``out`` (through a pty when asked): (status, timed out, matched)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    if pty:
        master, slave = os.openpty()
        proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        read_fd = master
    else:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        assert proc.stdout is not None
        read_fd = proc.stdout.fileno()
    try:
        timed_out, matched = _pump(proc, read_fd, out, deadline, watch, translate=pty)
        if timed_out or matched:
            _stop(proc)
            return TIMED_OUT if timed_out else 1, timed_out, matched
        remaining = None if deadline is None else max(0.1, deadline - time.monotonic())
        try:
            return proc.wait(timeout=remaining), False, False
        except subprocess.TimeoutExpired:
            _stop(proc)
            return TIMED_OUT, True, False
    finally:
        if pty:
            os.close(master)
        elif proc.stdout is not None:
            proc.stdout.close()


def run_image(
    target: BuildTarget,
    *,
    args: Sequence[str] = (),
    memory: int | None = None,
    timeout: float | None = None,
    accel: str = "auto",
    out: BinaryIO | None = None,
    say: Callable[[str], None] | None = None,
) -> RunResult:
    """Boot the target's newest image; ``accel`` is ``auto``, ``kvm`` or ``tcg`` (kvm images); ``memory``
    in MiB (default: 64, and 16 for a Xenstore domain)."""
    out = out if out is not None else sys.stdout.buffer
    image = image_of(target)
    if target.plat == "xen":
        return RunResult(image=image, returncode=0, how="xen", xl_config=xl_config(target, image, memory))
    if target.plat == "linuxu":
        pty = not os.isatty(out.fileno()) if hasattr(out, "fileno") else True
        if not pty:
            try:
                out.flush()
                rc = subprocess.run([str(image), *args], stdout=out, check=False, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                return RunResult(image=image, returncode=TIMED_OUT, how="linuxu", timed_out=True)
            return RunResult(image=image, returncode=rc, how="linuxu")
        rc, timed_out, _ = _run([str(image), *args], timeout=timeout, pty=True, out=out)
        return RunResult(image=image, returncode=rc, how="linuxu", timed_out=timed_out)
    if target.plat != "kvm":
        raise WorkspaceError(f"{target.key}: ukws runs linuxu, kvm and xen images, not {target.plat}")
    qemu = shutil.which(f"qemu-system-{QEMU_ARCH.get(target.arch, target.arch)}")
    if qemu is None:
        raise WorkspaceError(
            f"qemu-system-{QEMU_ARCH.get(target.arch, target.arch)} is not installed (Debian: apt-get install "
            "qemu-system-x86 or qemu-system-arm)"
        )
    base = [qemu, "-nographic", "-no-reboot", *QEMU_MACHINE.get(target.arch, []), "-kernel", str(image),
            "-m", str(memory or 64)]
    if args:
        base += ["-append", " ".join(args)]
    usable, note = kvm_usable() if accel != "tcg" else (False, "TCG asked for")
    if accel == "kvm" and not usable:
        raise WorkspaceError(f"--accel kvm: KVM cannot be used ({note})")
    if usable:
        if say is not None:
            say(f"booting {image.name} with KVM")
        rc, timed_out, failed = _run([*base, "-enable-kvm", "-cpu", "host"], timeout=timeout, pty=False, out=out,
                                     watch=lambda seen: any(f in seen for f in KVM_FAILURES))
        if not failed:
            return RunResult(image=image, returncode=rc, how="kvm", timed_out=timed_out)
        out.write(b"\n")  # QEMU's KVM error may end without one; the TCG attempt starts on a line of its own
        out.flush()
        if accel == "kvm":
            raise WorkspaceError("QEMU could not use KVM (see above)")
        note = "QEMU could not use KVM"
    if say is not None:
        say(f"booting {image.name} with TCG (no KVM: {note})")
    rc, timed_out, _ = _run([*base, "-accel", "tcg"], timeout=timeout, pty=False, out=out)
    return RunResult(image=image, returncode=rc, how="tcg", note=note, timed_out=timed_out)
