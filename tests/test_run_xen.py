"""What ``ukws run`` prints for Xen images: an xl configuration, and for a Xenstore domain how Xen's
init-xenstore-domain starts it (no Xen host is needed: nothing is booted)."""

from __future__ import annotations

from pathlib import Path

from ukws.build.run import run_image
from ukws.build.targets import BuildTarget, fragment_for


def _target(tmp_path: Path, app: str, subdir: str, image: str, config: str = "") -> BuildTarget:
    build = tmp_path / "build" / app / "xen-x86_64"
    build.mkdir(parents=True)
    (build / image).write_bytes(b"\x7fELF")
    if config:
        (build / ".config").write_text(config)
    return BuildTarget(app=app, name="xen-x86_64", plat="xen", arch="x86_64", core=tmp_path / "unikraft",
                       app_dir=tmp_path / "apps" / app / subdir, libraries=(), build_dir=build,
                       fragment=fragment_for("xen", "x86_64", None))


def test_a_xenstore_domain_gets_init_xenstore_domain_and_its_xl_shape(tmp_path: Path) -> None:
    target = _target(tmp_path, "xen.git", "tools/xenstored", "xenstored_xen-x86_64", "CONFIG_PLAT_XEN=y\n")
    image = target.build_dir / "xenstored_xen-x86_64"
    result = run_image(target)
    assert result.returncode == 0 and result.how == "xen"
    lines = result.xl_config.splitlines()
    assert f"#   /usr/lib/xen/bin/init-xenstore-domain --kernel {image} --memory 16 --name Xenstore" in lines
    assert "#   XENSTORETYPE=domain" in lines and f"#   XENSTORE_DOMAIN_KERNEL={image}" in lines
    settings = [line for line in lines if not line.startswith("#")]
    assert settings == ['name = "Xenstore"', 'type = "pv"', f'kernel = "{image}"', "memory = 16", "vcpus = 1"]
    assert '# cmdline = "--event N"' in lines, "the event channel is init-xenstore-domain's to give"
    bigger = run_image(target, memory=32).xl_config
    assert "--memory 32 --name Xenstore" in bigger and "\nmemory = 32\n" in bigger


def test_an_ordinary_xen_image_gets_a_plain_xl_configuration(tmp_path: Path) -> None:
    target = _target(tmp_path, "app-hello", "", "hello_xen-x86_64", "CONFIG_PLAT_XEN=y\nCONFIG_XEN_HVMLITE=y\n")
    config = run_image(target).xl_config
    image = target.build_dir / "hello_xen-x86_64"
    assert config.splitlines()[1:] == ['name = "hello"', 'type = "pvh"', f'kernel = "{image}"', "memory = 64"]
    assert "init-xenstore-domain" not in config
