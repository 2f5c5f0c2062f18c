"""Check that Google repo reads ukws's lock and snapshot as ukws does: ``repo init`` and
``repo sync`` on them check out the pinned commits, and ``repo manifest -r`` agrees with ukws.

Run: ``.venv/bin/python bench/repo_compat.py GIT_REPO [--work DIR] [--keep]``

- ``GIT_REPO``: a checkout of Google repo's source (https://gerrit.googlesource.com/git-repo, a
  release tag checked out); repo is run from it as ``python3 GIT_REPO/repo``, installed into each
  client from that checkout (``--repo-url file://GIT_REPO --no-repo-verify``), so no network is
  used.
- ``--work DIR``: where everything is made (default: a temporary folder, removed unless --keep).

What it does, all offline, with a scratch ``HOME`` and a scratch global git config:

1. makes a small world of bare repositories served by ``file://``: a core with release tags
   (annotated and lightweight), libraries (one followed on a branch, one pinned by a bare tag name,
   one on a tag it shares with another release), an application with ``copyfile``/``linkfile``, a
   shallow (``clone-depth``) project, and a manifest repository using repo's features
   (``include``, ``extend-project``, ``remove-project``, ``annotation``, ``dest-branch``,
   ``sync-c``, ``sync-tags``, groups with a ``notdefault`` project) and a local manifest;
2. ``ukws init -u`` (remote URLs rewritten to the served folder), ``sync``, ``resolve``, ``sync``,
   ``snapshot -o snapshot.xml``;
3. for the snapshot and for ``.ukws/lock.xml``: a manifest repository holding it as
   ``default.xml``; ``repo init -u`` on it (for the snapshot without ``-g``: it must select every
   project; for the lock with the workspace's groups; the remotes' https URLs reach the served
   folder through ``url.<base>.insteadOf`` in the scratch git config); ``repo sync``; then, for every
   project, repo's checkout (``HEAD``) against the file's ``revision``, and the projects of
   ``repo manifest -r`` (name, path, remote, revision, upstream, dest-branch, groups,
   clone-depth) against ``ukws manifest -m FILE --json``.

Prints repo's output and one line per project; exits 1 on any difference, 0 when repo agrees.
Not run by the test suite (CI has no repo); the XML properties it found wanting are pinned by
tests/test_repo_compat.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pygit2
from lxml import etree

SIG = pygit2.Signature("repo compat", "compat@ukws.invalid", 1_704_067_200, 0)
BASE = "https://example.org/uk/"


def run(cmd: list[str], cwd: Path, env: dict[str, str], *, show: bool = True) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    out = done.stdout + done.stderr
    if show:
        print(f"$ {' '.join(cmd)}\n" + "".join(f"  | {line}\n" for line in out.splitlines() if line.strip()), end="")
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}")
    return done.stdout


def commit(repo: pygit2.Repository, ref: str, files: dict[str, str], message: str, when: int) -> str:
    parents: list[pygit2.Oid] = []
    index = pygit2.Index()
    if ref in repo.references:
        parent = repo[repo.references[ref].target]
        assert isinstance(parent, pygit2.Commit)
        parents.append(parent.id)
        index.read_tree(parent.tree)
    for name, text in files.items():
        index.add(pygit2.IndexEntry(name, repo.create_blob(text.encode()), pygit2.enums.FileMode.BLOB))
    sig = pygit2.Signature(SIG.name, SIG.email, when, 0)
    oid = repo.create_commit(None, sig, sig, message, index.write_tree(repo), parents)
    repo.references.create(ref, oid, force=True)
    return str(oid)


def world(served: Path) -> None:
    """Bare repositories under ``served`` (what ``BASE`` points at)."""
    t = 1_704_067_200
    core = pygit2.init_repository(str(served / "unikraft"), bare=True, initial_head="staging")
    c1 = commit(core, "refs/heads/staging", {"Config.uk": "# core\n", "Makefile": "all:\n"}, "core 0.1", t)
    core.create_tag("RELEASE-0.1.0", pygit2.Oid(hex=c1), pygit2.enums.ObjectType.COMMIT, SIG, "0.1.0")
    c2 = commit(core, "refs/heads/staging", {"lib/ukboot/boot.c": "int boot;\n"}, "core 0.2", t + 60)
    core.references.create("refs/tags/RELEASE-0.2.0", pygit2.Oid(hex=c2))  # lightweight
    commit(core, "refs/heads/staging", {"lib/ukboot/boot.c": "int boot2;\n"}, "core next", t + 120)
    core.references.create("refs/heads/stable", pygit2.Oid(hex=c2))
    for name, symbol in (("lib-newlib", "LIBNEWLIBC"), ("lib-pthread-embedded", "LIBPTHREAD_EMBEDDED"),
                         ("lib-lwip", "LIBLWIP"), ("lib-musl", "LIBMUSL")):  # fmt: skip
        lib = pygit2.init_repository(str(served / name), bare=True, initial_head="staging")
        files = {"Config.uk": f"menuconfig {symbol}\n\tbool \"{name}\"\n", "Makefile.uk": f"# {name}\n"}
        l1 = commit(lib, "refs/heads/staging", files, f"{name} 0.1", t + 10)
        lib.references.create("refs/tags/RELEASE-0.1.0", pygit2.Oid(hex=l1))
        lib.references.create("refs/tags/RELEASE-0.2.0", pygit2.Oid(hex=l1))  # two releases, one commit
        commit(lib, "refs/heads/staging", {"README.md": f"{name}\n"}, f"{name} next", t + 200)
    app = pygit2.init_repository(str(served / "app-helloworld"), bare=True, initial_head="staging")
    a1 = commit(app, "refs/heads/staging", {"Makefile": "all:\n", "README.md": "hello\n", "main.c": "int main;\n"},
                "app", t + 30)  # fmt: skip
    app.references.create("refs/tags/RELEASE-0.2.0", pygit2.Oid(hex=a1))
    commit(app, "refs/heads/staging", {"main.c": "int main(void);\n"}, "app next", t + 300)
    m = pygit2.init_repository(str(served / "manifest"), bare=False, initial_head="main")
    (Path(m.workdir) / "default.xml").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest>
  <notice>repo compatibility world</notice>
  <remote name="uk" fetch="{BASE}" revision="staging"/>
  <default remote="uk" revision="refs/tags/RELEASE-0.2.0" dest-branch="staging"/>
  <include name="libs.xml"/>
  <project name="unikraft" path="unikraft" x-role="core" groups="core"/>
  <project name="app-helloworld" path="apps/helloworld" revision="RELEASE-0.2.0" clone-depth="1"
           x-role="application">
    <copyfile src="README.md" dest="HELLO.md"/>
    <linkfile src="Makefile" dest="hello.mk"/>
    <annotation name="purpose" value="the application"/>
    <x-app><x-target plat="kvm" arch="x86_64"/></x-app>
  </project>
  <extend-project name="unikraft" groups="kernel"/>
  <remove-project name="lib-musl"/>
</manifest>
""")
    (Path(m.workdir) / "libs.xml").write_text("""<?xml version="1.0" encoding="UTF-8"?>
<manifest>
  <project name="lib-newlib" path="libs/newlib" revision="RELEASE-0.1.0" x-role="library"/>
  <project name="lib-pthread-embedded" path="libs/pthread-embedded" x-role="library"/>
  <project name="lib-lwip" path="libs/lwip" revision="staging" groups="notdefault,net" x-role="library"/>
  <project name="lib-musl" path="libs/musl" x-role="library"/>
</manifest>
""")
    m.index.add_all()
    m.index.write()
    m.create_commit("refs/heads/main", SIG, SIG, "manifests", m.index.write_tree(), [])


def manifest_repo(at: Path, xml: Path) -> Path:
    repo = pygit2.init_repository(str(at), initial_head="main")
    shutil.copyfile(xml, at / "default.xml")
    repo.index.add("default.xml")
    repo.index.write()
    repo.create_commit("refs/heads/main", SIG, SIG, "pinned", repo.index.write_tree(), [])
    return at


def projects_of(xml: str) -> dict[str, dict[str, str]]:
    """repo's projects by path: the attributes repo acts on (nested projects are not used here)."""
    keys = ("name", "remote", "revision", "upstream", "dest-branch", "groups", "clone-depth")
    root = etree.fromstring(xml.encode())
    default = root.find("default")
    default_remote = default.get("remote", "") if default is not None else ""
    found = {}
    for el in root.iter("project"):
        attrs = {k: el.get(k) or "" for k in keys}
        attrs["remote"] = attrs["remote"] or default_remote  # repo leaves out the default's remote
        attrs["groups"] = ",".join(sorted(attrs["groups"].replace(",", " ").split()))
        found[el.get("path") or el.get("name") or ""] = attrs
    return found


def check(label: str, pinned: Path, work: Path, git_repo: Path, env: dict[str, str], ukws: list[str],
          groups: list[str]) -> int:
    print(f"\n== {label}: {pinned}")
    mrepo = manifest_repo(work / f"{label}-manifest", pinned)
    client = work / f"{label}-client"
    client.mkdir()
    repo = [sys.executable, str(git_repo / "repo")]
    tag = subprocess.run(["git", "-C", str(git_repo), "describe", "--tags"], capture_output=True, text=True,
                         check=True).stdout.strip()  # fmt: skip
    run([*repo, "init", f"--repo-url=file://{git_repo}", f"--repo-rev={tag}", "--no-repo-verify",
         "-u", f"file://{mrepo}", *groups], client, env)  # fmt: skip
    run([*repo, "sync", "-j4", "--no-clone-bundle"], client, env)
    ours = json.loads(run([*ukws, "manifest", "-m", str(pinned), "--json"], work, env, show=False))
    theirs = projects_of(run([*repo, "manifest", "-r"], client, env, show=False))
    bad = 0
    for p in ours["projects"]:
        head = subprocess.run(["git", "-C", str(client / p["path"]), "rev-parse", "HEAD"], capture_output=True,
                              text=True, env=env).stdout.strip()  # fmt: skip
        got = theirs.get(p["path"])
        want = {"name": p["name"], "remote": p["remote"], "revision": p["revision"], "upstream": p["upstream"] or "",
                "dest-branch": p["dest_branch"] or "", "groups": ",".join(sorted(p["groups"])),
                "clone-depth": str(p["clone_depth"] or "")}  # fmt: skip
        problems = []
        if head != p["revision"]:
            problems.append(f"HEAD {head or '(none)'} != pinned {p['revision']}")
        if got is None:
            problems.append("not in repo manifest -r")
        else:
            problems += [f"{k}: repo {got[k]!r}, ukws {v!r}" for k, v in want.items() if got[k] != v]
        print(f"{'ok' if not problems else 'DIFFERS'}  {p['path']}  {head[:12]}  " + "; ".join(problems))
        bad += bool(problems)
    for path in sorted(set(theirs) - {p["path"] for p in ours["projects"]}):
        print(f"DIFFERS  {path}: repo has it, ukws does not")
        bad += 1
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("git_repo", type=Path, help="a checkout of Google repo's source")
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary working folder")
    args = ap.parse_args()
    git_repo = args.git_repo.resolve()
    if not (git_repo / "repo").is_file():
        ap.error(f"{git_repo}: not a checkout of git-repo (no 'repo' script)")
    work = (args.work or Path(tempfile.mkdtemp(prefix="ukws-repo-compat-"))).resolve()
    if args.work:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    served, home = work / "served", work / "home"
    home.mkdir()
    gitconfig = work / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = repo compat\n\temail = compat@ukws.invalid\n[color]\n\tui = false\n"
        f'[url "file://{served}/"]\n\tinsteadOf = {BASE}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "REPO_"))}
    env.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(gitconfig), GIT_CONFIG_NOSYSTEM="1", TZ="UTC")
    ukws = [sys.executable, "-m", "ukws"]
    try:
        world(served)
        ws = work / "ws"
        run([*ukws, "init", "-u", f"file://{served}/manifest", "-g", "default,net",
             "--rewrite", f"{BASE}=file://{served}/", str(ws)], work, env)  # fmt: skip
        local = ws / ".ukws" / "local_manifests"
        local.mkdir(parents=True, exist_ok=True)
        (local / "extra.xml").write_text(
            '<manifest>\n  <project name="lib-musl" path="libs/musl" revision="refs/heads/staging"'
            ' sync-c="true" sync-tags="false"/>\n</manifest>\n'
        )
        for step in (["sync"], ["resolve"], ["sync"], ["snapshot", "-o", str(work / "snapshot.xml")]):
            run([*ukws, *step], ws, env)
        # the snapshot holds the workspace's selection: repo's default groups must get all of it;
        # the lock keeps the manifest's groups: repo init takes the workspace's -g
        bad = check("snapshot", work / "snapshot.xml", work, git_repo, env, ukws, [])
        bad += check("lock", ws / ".ukws" / "lock.xml", work, git_repo, env, ukws, ["-g", "default,net"])
    finally:
        if not args.work and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'repo agrees with ukws' if not bad else f'{bad} difference(s)'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
