"""What ``ukws run`` prints for a Xen image: the ``xl`` configuration to boot it, and for a Xenstore
domain how Xen's ``init-xenstore-domain`` starts it (ukws does not drive a Xen host).

A Xenstore domain cannot be made with ``xl create``: xl needs a running Xenstore. Xen's
``init-xenstore-domain`` (in Xen's libexec ``bin`` folder) creates it at boot with the Xenstore
privilege (``XEN_DOMCTL_CDF_xs_domain``), one vCPU, the memory of ``--memory`` (MiB), and the
command line ``--event N [--param ...]``, N being dom0's Xenstore event channel; Xen's init scripts
run it when ``/etc/default/xencommons`` says ``XENSTORETYPE=domain``.
"""

from __future__ import annotations

from pathlib import Path

from ukws.build.targets import BuildTarget

#: MiB for an ordinary Xen guest, and for a Xenstore domain (Xen's scripts default to 8 MiB, sized
#: for Mini-OS; Unikraft's allocator and xenstored's tables get more room).
MEMORY = 64
XENSTORE_MEMORY = 16
#: Where Xen installs init-xenstore-domain (``$(LIBEXEC_BIN)``; ``/usr/libexec/xen/bin`` on some systems).
INIT_XENSTORE_DOMAIN = "/usr/lib/xen/bin/init-xenstore-domain"


def is_xenstore(target: BuildTarget, image: Path) -> bool:
    """xenstored built as a unikernel: the application folder, project or image says so."""
    names = (target.app_dir.name, target.app, image.name)
    return any(n.lower().startswith("xenstore") for n in names)


def xl_config(target: BuildTarget, image: Path, memory: int | None = None) -> str:
    """The ``xl`` configuration for ``image`` (``memory`` MiB; default per kind of domain)."""
    config = target.config.read_text(encoding="utf-8", errors="replace") if target.config.is_file() else ""
    kind = "pvh" if "CONFIG_XEN_HVMLITE=y" in config else "pv"
    how = f"Unikraft's Xen platform boots it as {kind.upper()}"
    if not is_xenstore(target, image):
        name = image.name.split("_", 1)[0]
        return "\n".join([
            f"# xl create this file to boot {target.key} ({how})",
            f'name = "{name}"',
            f'type = "{kind}"',
            f'kernel = "{image}"',
            f"memory = {memory or MEMORY}",
        ]) + "\n"
    mib = memory or XENSTORE_MEMORY
    return "\n".join([
        f"# {target.key}: a Xenstore domain ({how}).",
        "# Xen's init-xenstore-domain creates it at boot, before anything uses Xenstore (xl cannot:",
        "# xl needs a running Xenstore), with the Xenstore privilege, and passes dom0's Xenstore",
        "# event channel N on its command line as --event N:",
        f"#   {INIT_XENSTORE_DOMAIN} --kernel {image} --memory {mib} --name Xenstore",
        "# or, through Xen's init scripts, in /etc/default/xencommons:",
        "#   XENSTORETYPE=domain",
        f"#   XENSTORE_DOMAIN_KERNEL={image}",
        f"#   XENSTORE_DOMAIN_SIZE={mib}",
        "# (options for xenstored: --param 'OPTIONS', in the scripts XENSTORE_DOMAIN_ARGS=\"--param ...\";",
        "# with FLASK also --flask and the domain's label, e.g. system_u:system_r:xenstore_t).",
        "# The domain it makes, as an xl configuration; booted with xl create, it is an ordinary guest,",
        "# which shows the boot but not a working Xenstore (no --event N, no Xenstore privilege):",
        'name = "Xenstore"',
        f'type = "{kind}"',
        f'kernel = "{image}"',
        f"memory = {mib}",
        "vcpus = 1",
        '# cmdline = "--event N"',
    ]) + "\n"
