# yumda's helper inside an rpm build container: asks the distribution's own package manager (dnf's
# Python API on AL2023, yum's on AL2) to read repositories, resolve a closure into an empty root and
# download exact packages, and answers in JSON on stdout. yumda puts this file into the container
# with the job description, so any image with dnf or yum works as a build image (--build-image).
#
# Python 2.7 (yum on AL2) and 3 (dnf) compatible. Usage:
#   yumda_rpm.py refresh  JOB
#   yumda_rpm.py resolve  JOB SPEC...      SPEC: name or name-version (dnf/yum package specs)
#   yumda_rpm.py versions JOB NAME         the versions of NAME the repositories offer
#   yumda_rpm.py download JOB DESTDIR NEVRA...
#   yumda_rpm.py provides JOB NAME          the packages that provide NAME (a name or capability)
#   yumda_rpm.py search   JOB WORD...       the newest package of each name whose name or summary
#                                           holds every WORD (case-insensitive), for `yumda search`
#   yumda_rpm.py names    JOB               every package name of the repositories (for suggestions)
# JOB is a JSON file: {"manager", "installroot", "cachedir", "releasever", "arch", "repos": [{"id",
# "url", "mirrorlist"} or {"id", "release"}], "runtime": [{"name", "epoch", "version", "release"}],
# "pins": [{"name", "epoch", "version", "release", "arch"}]}. Pins (a lock file's versions) apply to
# `resolve` only. A repository given by "release" is configured as its vendor documents it: the
# release package (SPAL's spal-release) is taken from the other repositories and unpacked into the
# cache, and the enabled repositories of the .repo files it ships are added, their signing keys
# read from where it put them. Answers then carry "releases": {id: {"package", "repos", "gpgcheck",
# "keys"}}.
# Errors: {"error": {"kind": "repo" | "not-found" | "unsatisfiable" | "download" | "internal",
# "message", ...}} and exit status 3, whatever went wrong (a catch-all reports any exception);
# "not-found" names every spec nothing matched ("specs") and the first ("spec").
from __future__ import print_function

import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

PY2 = sys.version_info[0] == 2
TEXT = unicode if PY2 else str  # noqa: F821 (Python 2's text type)


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


def fail(kind, message, **extra):
    err = {"kind": kind, "message": message}
    err.update(extra)
    emit({"error": err})
    sys.exit(3)


def not_found(specs):
    """Every spec nothing matches, in one answer: a list of 10,000 unknown names is one error."""
    if specs:
        shown = ", ".join(specs[:5]) + (" and %d more" % (len(specs) - 5) if len(specs) > 5 else "")
        fail("not-found", "no package matches %s" % shown, spec=specs[0], specs=specs)


def text(x):
    """A message as text. yum's messages are unicode under Python 2 (gettext's ugettext, sqlite's
    strings), some of its exceptions carry utf-8 bytes instead, dnf's are str: decoding unicode
    (what `.decode` on it does under Python 2) first encodes it as ASCII and fails on any other
    character, so each kind is converted the way that works for it."""
    if isinstance(x, TEXT):
        return x
    if isinstance(x, bytes):
        return x.decode("utf-8", "replace")
    if PY2:
        try:
            return unicode(x)  # noqa: F821 (an exception's __unicode__, as yum's errors have)
        except UnicodeError:
            return str(x).decode("utf-8", "replace")
    return str(x)


NEVER_EXPIRE = str(10 * 365 * 24 * 3600)


def stamp_age(stamp):
    """Seconds since the metadata was last fetched into this cache, or None if it never was."""
    try:
        return max(0, int(time.time() - os.stat(stamp).st_mtime))
    except OSError:
        return None


def take_lock(cachedir):
    """Builds share the cache volume, and every command writes it (metadata and its solver caches,
    the package manager's logs, downloaded packages): one helper at a time works there. flock(2),
    as `flock` on the same file, so helpers of earlier yumda versions wait too. Held until exit."""
    try:
        os.makedirs(cachedir)
    except OSError as e:
        if e.errno != errno.EEXIST:
            raise
    f = open(os.path.join(cachedir, ".yumda-lock"), "a")
    fcntl.flock(f.fileno(), fcntl.LOCK_EX)
    return f


def log_position(path):
    """Where this run's lines will start in an append-only log: its inode and size now."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size)


def appended_since(path, start):
    """The lines a log gained since `start` (log_position): a log rotated meanwhile (another
    inode) is all new."""
    try:
        with open(path, "rb") as f:
            if start is not None and os.fstat(f.fileno()).st_ino == start[0]:
                f.seek(start[1])
            data = f.read()
    except (IOError, OSError):
        return []
    return [text(line) for line in data.splitlines()]


class DnfManager(object):
    """dnf 4 (AL2023, Fedora, Debian's dnf): the Python API of the dnf command."""

    def __init__(self, job):
        import dnf
        import dnf.callback
        import dnf.exceptions
        import hawkey

        self.dnf = dnf
        self.hawkey = hawkey
        base = dnf.Base()
        conf = base.conf
        conf.installroot = job["installroot"]
        conf.cachedir = job["cachedir"]
        conf.persistdir = os.path.join(job["cachedir"], "persist")
        conf.logdir = os.path.join(job["cachedir"], "log")
        conf.reposdir = []
        conf.releasever = job["releasever"]
        conf.arch = job["arch"]
        conf.install_weak_deps = False
        # the newest version of what is asked for, or an error naming why not: with best=False
        # (dnf's default) the solver silently falls back to an older version of a requested package
        # when the newest cannot be installed, so a layer could ship an old release nobody chose.
        # yum (AL2) installs the newest or fails too. Pins exclude other versions, so best never
        # overrides a lock.
        conf.best = True
        # how long fetched metadata in the cache volume is reused (yumda passes its freshness)
        expire = os.environ.get("YUMDA_METADATA_EXPIRE")
        if expire:
            conf.metadata_expire = int(expire)
        conf.skip_if_unavailable = False
        # dnf checks every download against the checksum in the repository metadata; signatures
        # are checked by yumda with rpmkeys after the download (the packages are never installed)
        conf.gpgcheck = False
        conf.assumeyes = True
        self.expire = expire
        self.release_repos = [r for r in job["repos"] if r.get("release")]
        self.releases = {}
        for r in job["repos"]:
            if r.get("release"):
                continue
            opts = {"mirrorlist": r["url"]} if r.get("mirrorlist") else {"baseurl": [r["url"]]}
            repo = base.repos.add_new_repo(r["id"], conf, **opts)
            repo.gpgcheck = False
            if expire:
                repo.metadata_expire = int(expire)
            repo.enable()
        # dnf's exceptions summarise ("all mirrors were already tried"); librepo's log says why. The
        # log is in the shared volume and keeps other runs' lines: only this run's count.
        self.librepo_log = os.path.join(conf.logdir, "dnf.librepo.log")
        self.log_start = log_position(self.librepo_log)
        base.setup_loggers()
        self.base = base
        self.arch = job["arch"]

    def why(self):
        lines = [line.split(" INFO ", 1)[-1].strip() for line in appended_since(self.librepo_log, self.log_start) if "Error during transfer" in line or "Curl error" in line]
        return (": " + lines[-1]) if lines else ""

    def load(self):
        try:
            self.base.fill_sack(load_system_repo=False, load_available_repos=True)
        except self.dnf.exceptions.RepoError as e:
            fail("repo", text(e) + self.why())
        if not self.release_repos:
            return
        for r in self.release_repos:
            self.add_release(r)
        try:
            self.base.fill_sack(load_system_repo=False, load_available_repos=True)
        except self.dnf.exceptions.RepoError as e:
            fail("repo", text(e) + self.why())

    def add_release(self, r):
        """Installs a release package as `dnf install spal-release` would, into the cache rather
        than the build container's root (its files are all this needs): the newest one the
        repositories have, unpacked once per version, and the enabled repositories of its .repo
        files added with the variables dnf fills in ($releasever, $basearch, /etc/dnf/vars)."""
        import dnf.conf.read

        name = r["release"]
        found = self.base.sack.query().available().filter(name=name, arch=[self.arch, "noarch"]).latest()
        if not found:
            fail("release", "%s, which configures repository %s, is not in the repositories" % (name, r["id"]), release=name)
        pkg = found[0]
        root = os.path.join(self.base.conf.cachedir, "release", str(pkg))
        if not os.path.isdir(root):
            # without the progress lines: they count the packages of the layer
            try:
                self.base.download_packages([pkg])
            except self.dnf.exceptions.DownloadError as e:
                fail("download", text(e) + self.why())
            unpack_rpm(pkg.localPkg(), root)
        conf = self.base.conf
        # the build container's own dnf variables ($awsregion, $awsdomain on AL2023), as `dnf` there reads them
        conf.substitutions.update_from_etc("/", varsdir=conf.varsdir)
        saved = conf.reposdir
        conf.reposdir = [os.path.join(root, "etc", "yum.repos.d")]
        added, keys, gpgcheck = [], [], False
        try:
            for repo in dnf.conf.read.RepoReader(conf, {}):
                if not repo.enabled:
                    continue
                gpgcheck = gpgcheck or bool(repo.gpgcheck)
                for key in repo.gpgkey:
                    # file:///etc/pki/rpm-gpg/KEY: the key the release package put there
                    if key.startswith("file://"):
                        keys.append(os.path.join(root, key[len("file://") :].lstrip("/")))
                repo.gpgcheck = False
                if self.expire:
                    repo.metadata_expire = int(self.expire)
                self.base.repos.add(repo)
                added.append(repo.id)
        finally:
            conf.reposdir = saved
        if not added:
            fail("release", "%s configures no enabled repository" % str(pkg), release=name)
        self.releases[r["id"]] = {"package": str(pkg), "repos": added, "gpgcheck": gpgcheck, "keys": sorted(set(keys))}

    def counts(self):
        return dict((r.id, len(self.base.sack.query().available().filter(reponame=r.id))) for r in self.base.repos.iter_enabled())

    def names(self):
        return sorted(set(p.name for p in self.base.sack.query().available().filter(arch=[self.arch, "noarch"])))

    def provides(self, name):
        q = self.base.sack.query().available().filter(provides=name, arch=[self.arch, "noarch"]).latest()
        return [{"name": p.name, "evr": p.evr, "arch": p.arch, "repo": p.reponame} for p in q]

    def resolve(self, specs):
        missing = []
        for spec in specs:
            try:
                self.base.install(spec, strict=True)
            except self.dnf.exceptions.MarkingError:
                missing.append(spec)
        not_found(missing)
        try:
            self.base.resolve(allow_erasing=False)
        except self.dnf.exceptions.DepsolveError as e:
            fail("unsatisfiable", text(e))
        pkgs = sorted(self.base.transaction.install_set, key=lambda p: (p.name, p.arch))
        closure = self.base.sack.query().filterm(pkg=pkgs)
        out = []
        for p in pkgs:
            reqs = []
            for dep in p.requires:
                d = str(dep)
                providers = set(x.name for x in closure.filter(provides=dep))
                if d.startswith("/"):
                    providers.update(x.name for x in closure.filter(file=d))
                reqs.append({"dep": d, "providers": sorted(providers)})
            chk = p.chksum
            out.append(
                {
                    "name": p.name,
                    "epoch": p.epoch,
                    "version": p.version,
                    "release": p.release,
                    "arch": p.arch,
                    "downloadSize": p.downloadsize,
                    "installedSize": p.installsize,
                    "repo": p.reponame,
                    "location": p.location,
                    "checksum": {"type": self.hawkey.chksum_name(chk[0]), "value": chk[1].hex() if hasattr(chk[1], "hex") else chk[1].encode("hex")} if chk else None,
                    "sourcerpm": p.sourcerpm,
                    "license": p.license,
                    "provides": [str(x) for x in p.provides],
                    "requires": reqs,
                }
            )
        return out

    def find(self, name, epoch, version, release, arches):
        q = self.base.sack.query().available().filter(name=name, version=version, release=release, arch=arches)
        if epoch is not None:
            q = q.filter(epoch=int(epoch))
        return list(q)

    def pin(self, pins):
        """Makes each pinned package the only candidate of its name, as dnf's versionlock plugin
        does: the name's other versions, and whatever obsoletes the pinned ones, are excluded from
        the sack, so the solver takes the pinned version whenever something needs the name and
        nothing asks for a package that is not needed. Excludes act on the solver's pool, unlike a
        request: a pin never adds a package. A pin whose package the repositories no longer have
        is left out (excluding the name then would make it uninstallable): the caller compares
        the plan with its pins and reports the difference."""
        available = self.base.sack.query().available()
        locked = available.filter(empty=True)
        names, applied, missing = [], [], []
        for p in pins:
            found = available.filter(name=p["name"], epoch=int(p["epoch"]), version=p["version"], release=p["release"], arch=p["arch"])
            if found:
                locked = locked.union(found)
                names.append(p["name"])
                applied.append(p["name"])
            else:
                missing.append(p["name"])
        if names:
            others = available.filter(name=names).difference(locked)
            obsoleters = available.filter(obsoletes=locked).difference(locked)
            excluded = others.union(obsoleters)
            if excluded:
                self.base.sack.add_excludes(excluded)
        return {"applied": applied, "missing": missing}

    def search(self, words):
        q = self.base.sack.query().available().filter(arch=[self.arch, "noarch"]).latest()
        return matching(({"name": p.name, "evr": p.evr, "arch": p.arch, "summary": text(p.summary or ""), "repo": p.reponame} for p in q), words)

    def versions(self, name):
        q = self.base.sack.query().available().filter(name=name, arch=[self.arch, "noarch"])
        return [{"epoch": p.epoch, "version": p.version, "release": p.release, "arch": p.arch} for p in q]

    def provides_of(self, pkg):
        return [str(x) for x in pkg.provides]

    def download(self, pkgs):
        try:
            self.base.download_packages(pkgs, progress=download_lines(self.dnf.callback))
        except self.dnf.exceptions.DownloadError as e:
            fail("download", text(e) + self.why())
        return [p.localPkg() for p in pkgs]


def download_lines(callback):
    """A `downloaded FILE` line on stderr as each package is in (yumda's progress counts them), not
    all at once when dnf returns: a 200 MB download otherwise shows nothing until its end."""
    done = (callback.STATUS_OK, callback.STATUS_ALREADY_EXISTS, callback.STATUS_DRPM)

    class DownloadLines(callback.DownloadProgress):
        def end(self, payload, status, msg):
            if status in done:
                sys.stderr.write("downloaded %s\n" % payload)
                sys.stderr.flush()

    return DownloadLines()


class YumManager(object):
    """yum 3 (AL2): the Python 2 API of the yum command."""

    FLAGS = {"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}

    def __init__(self, job):
        import yum
        import yum.Errors

        self.yum = yum
        yb = yum.YumBase()
        yb.preconf.init_plugins = False
        yb.preconf.debuglevel = 0
        yb.preconf.errorlevel = 0
        yb.preconf.root = job["installroot"]
        yb.preconf.releasever = job["releasever"]
        yb.preconf.arch = job["arch"]
        yb.conf.cachedir = job["cachedir"]
        expire = os.environ.get("YUMDA_METADATA_EXPIRE")
        if expire:
            yb.conf.metadata_expire = int(expire)
        yb.conf.reposdir = []
        yb.conf.skip_broken = False
        yb.conf.assumeyes = True
        # upstream yum's default is `all`: a request for a name installs every architecture the
        # repositories have (i686 beside x86_64); `best` takes the machine's own, as dnf does
        yb.conf.multilib_policy = "best"
        for r in yb.repos.listEnabled():
            r.disable()
        self.releases = {}
        for r in job["repos"]:
            if r.get("release"):
                fail("release", "repository %s is configured by a release package (%s): only dnf targets have such repositories" % (r["id"], r["release"]), release=r["release"])
            if r.get("mirrorlist"):
                repo = yb.add_enable_repo(r["id"], mirrorlist=r["url"])
            else:
                repo = yb.add_enable_repo(r["id"], baseurls=[r["url"]])
            repo.gpgcheck = False
            if expire:
                repo.metadata_expire = int(expire)
        self.yb = yb
        self.arch = job["arch"]

    def dep(self, t):
        name, flag, evr = t
        if not flag:
            return name
        e, v, r = evr
        s = ("%s:" % e if e and e != "0" else "") + (v or "") + ("-%s" % r if r else "")
        return "%s %s %s" % (name, self.FLAGS.get(flag, flag), s)

    def load(self):
        try:
            self.yb.pkgSack
        except self.yum.Errors.RepoError as e:
            fail("repo", text(e))

    def counts(self):
        counts = {}
        for po in self.yb.pkgSack.returnPackages():
            counts[po.repoid] = counts.get(po.repoid, 0) + 1
        return counts

    def resolve(self, specs):
        missing = []
        for spec in specs:
            try:
                if not self.yb.install(pattern=spec):
                    missing.append(spec)
            except self.yum.Errors.InstallError:
                missing.append(spec)
        not_found(missing)
        code, msgs = self.yb.resolveDeps()
        if code == 1:
            fail("unsatisfiable", "\n".join(text(m) for m in msgs))
        pkgs = sorted((t.po for t in self.yb.tsInfo.getMembers()), key=lambda p: (p.name, p.arch))
        out = []
        for p in pkgs:
            reqs = []
            for t in p.returnPrco("requires"):
                d = self.dep(t)
                # provides, and for a file its full file lists (primary metadata lists only
                # /etc and */bin/* files): what yum's depsolver itself asks
                providers = set(m.name for m in pkgs if m.provides_for(t))
                reqs.append({"dep": d, "providers": sorted(providers)})
            idsum = p.returnIdSum()
            out.append(
                {
                    "name": p.name,
                    "epoch": int(p.epoch or 0),
                    "version": p.version,
                    "release": p.release,
                    "arch": p.arch,
                    "downloadSize": int(p.size),
                    "installedSize": int(p.installedsize),
                    "repo": p.repoid,
                    "location": p.relativepath,
                    "checksum": {"type": idsum[0], "value": idsum[1]} if idsum else None,
                    "sourcerpm": p.sourcerpm,
                    "license": p.license,
                    "provides": [self.dep(t) for t in p.returnPrco("provides")],
                    "requires": reqs,
                }
            )
        return out

    def find(self, name, epoch, version, release, arches):
        found = self.yb.pkgSack.searchNevra(name=name, ver=version, rel=release)
        return [p for p in found if p.arch in arches and (epoch is None or int(p.epoch or 0) == int(epoch))]

    def pin(self, pins):
        """As DnfManager.pin, the way yum's exclude plugins (versionlock, priorities) remove
        packages: the pinned name's other versions, and whatever obsoletes a pinned package, are
        deleted from the package sack. yum's install() (for a request and for each dependency)
        installs a package's obsoleter in its place, even into an empty root: left in the sack, an
        obsoleter would silently replace the pinned package."""
        applied, missing, locked = [], [], []
        for p in pins:
            found = self.find(p["name"], p["epoch"], p["version"], p["release"], [p["arch"]])
            if not found:
                missing.append(p["name"])
                continue
            locked.extend(found)
            applied.append(p["name"])
        keep = set(x.pkgtup for x in locked)
        sack = self.yb.pkgSack
        excluded = {}
        for name in set(x.name for x in locked):
            for po in sack.searchNevra(name=name):
                if po.pkgtup not in keep:
                    excluded[po.pkgtup] = po
        for po in locked:
            for obs in sack.searchObsoletes(po.name):
                if obs.pkgtup not in keep and po.obsoletedBy([obs]):
                    excluded[obs.pkgtup] = obs
        for po in excluded.values():
            sack.delPackage(po)
        return {"applied": applied, "missing": missing}

    def versions(self, name):
        return [
            {"epoch": int(p.epoch or 0), "version": p.version, "release": p.release, "arch": p.arch}
            for p in self.yb.pkgSack.searchNevra(name=name)
            if p.arch in (self.arch, "noarch")
        ]

    def provides_of(self, pkg):
        return [self.dep(t) for t in pkg.returnPrco("provides")]

    def provides(self, name):
        return [{"name": p.name, "evr": "%s-%s" % (p.version, p.release), "arch": p.arch, "repo": p.repoid} for p in self.yb.pkgSack.searchProvides(name)]

    def search(self, words):
        pkgs = [p for p in self.yb.pkgSack.returnNewestByNameArch() if p.arch in (self.arch, "noarch")]
        evr = lambda p: ("%s:" % p.epoch if p.epoch and p.epoch != "0" else "") + "%s-%s" % (p.version, p.release)  # noqa: E731
        return matching(({"name": p.name, "evr": evr(p), "arch": p.arch, "summary": text(p.summary or ""), "repo": p.repoid} for p in pkgs), words)

    def names(self):
        return sorted(set(p.name for p in self.yb.pkgSack.returnPackages() if p.arch in (self.arch, "noarch")))

    def download(self, pkgs):
        errors = self.yb.downloadPkgs(pkgs)
        if errors:
            fail("download", u"; ".join(u"%s: %s" % (text(p), u" ".join(text(m) for m in msgs)) for p, msgs in errors.items()))
        return [p.localPkg() for p in pkgs]


def matching(pkgs, words):
    """The packages whose name or summary holds every word, case-insensitively; yumda ranks them."""
    words = [w.lower() for w in words]
    return [p for p in pkgs if all(w in p["name"].lower() or w in p["summary"].lower() for w in words)]


def unpack_rpm(rpm, root):
    """An rpm's files, without its scriptlets, into `root` (whole or not at all: a killed run
    leaves no half tree a later one would take for done)."""
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    cpio = subprocess.Popen(["cpio", "-idm", "--quiet", "--no-absolute-filenames"], cwd=tmp, stdin=subprocess.PIPE)
    rc = subprocess.call(["rpm2cpio", rpm], stdout=cpio.stdin)
    cpio.stdin.close()
    if cpio.wait() != 0 or rc != 0:
        fail("release", "unpacking %s failed" % os.path.basename(rpm))
    os.rename(tmp, root)


def with_releases(answer, mgr):
    """The answer, with what the release packages configured when there are any."""
    if mgr.releases:
        answer["releases"] = mgr.releases
    return answer


def parse_nevra(s):
    """name-[epoch:]version-release.arch"""
    rest, arch = s.rsplit(".", 1)
    rest, release = rest.rsplit("-", 1)
    name, ev = rest.rsplit("-", 1)
    epoch = None
    if ":" in ev:
        epoch, ev = ev.split(":", 1)
    return name, epoch, ev, release, arch


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: yumda_rpm.py refresh|resolve|versions|provides|names|download JOB ...\n")
        return 2
    cmd, job_file = argv[1], argv[2]
    if cmd not in ("refresh", "resolve", "versions", "download", "provides", "search", "names"):
        sys.stderr.write("unknown command %s\n" % cmd)
        return 2
    with open(job_file) as f:
        job = json.load(f)
    lock = take_lock(job["cachedir"])  # noqa: F841 (held until exit)
    stamp = os.path.join(job["cachedir"], ".yumda-updated")
    if cmd == "refresh":
        # the volume's metadata is reused while younger than YUMDA_METADATA_MAX_AGE seconds, all
        # of it or none (as apt's is), so the answer can say whether it came from the cache
        age = stamp_age(stamp)
        cached = age is not None and age < int(os.environ.get("YUMDA_METADATA_MAX_AGE", "0"))
        os.environ["YUMDA_METADATA_EXPIRE"] = NEVER_EXPIRE if cached else "0"
    mgr = DnfManager(job) if job["manager"] == "dnf" else YumManager(job)
    mgr.load()
    if cmd == "refresh":
        if not cached:
            with open(stamp, "a"):
                os.utime(stamp, None)
        emit(with_releases({"repos": mgr.counts(), "cachedAgeSeconds": age if cached else None}, mgr))
    elif cmd == "resolve":
        # the runtime's packages at the runtime's versions, when the repositories still have them:
        # their real provides decide whether the runtime satisfies a requirement (version skew).
        # Read before the pins exclude anything: a pinned name may be a runtime package too.
        runtime = {}
        for r in job.get("runtime", []):
            found = mgr.find(r["name"], r.get("epoch"), r["version"], r["release"], [mgr.arch, "noarch"])
            if found:
                runtime[r["name"]] = mgr.provides_of(found[0])
        pins = mgr.pin(job.get("pins", []))
        packages = mgr.resolve(argv[3:])
        emit(with_releases({"packages": packages, "runtimeProvides": runtime, "pins": pins}, mgr))
    elif cmd == "versions":
        emit({"versions": mgr.versions(argv[3])})
    elif cmd == "provides":
        emit({"packages": mgr.provides(argv[3])})
    elif cmd == "search":
        emit(with_releases({"packages": mgr.search(argv[3:])}, mgr))
    elif cmd == "names":
        emit({"names": mgr.names()})
    elif cmd == "download":
        dest = argv[3]
        pkgs = []
        for s in argv[4:]:
            name, epoch, version, release, arch = parse_nevra(s)
            found = mgr.find(name, epoch, version, release, [arch])
            if not found:
                fail("not-found", "%s is no longer in the repositories" % s, spec=s)
            pkgs.append(found[0])
        files = []
        for local in mgr.download(pkgs):
            target = os.path.join(dest, os.path.basename(local))
            shutil.copyfile(local, target)
            files.append(target)
        emit(with_releases({"files": files}, mgr))
    return 0


# modules whose exceptions are the package manager's own: failures reading repositories or
# fetching packages (yum raises urlgrabber's URLGrabError, an IOError, from deep inside)
MANAGER_MODULES = ("yum", "urlgrabber", "dnf", "librepo", "libdnf", "hawkey", "rpm")


def failure_kind(e, cmd):
    """What an exception nothing else caught means: a repository or download failure when it
    comes from the package manager or the system (network, disk), a bug of this helper
    otherwise."""
    module = (type(e).__module__ or "").split(".")[0]
    if isinstance(e, EnvironmentError) or module in MANAGER_MODULES:
        return "download" if cmd == "download" else "repo"
    return "internal"


def run(argv):
    """main, with every failure answered in the protocol's JSON: without an answer yumda can only
    guess (it would blame the build image)."""
    try:
        return main(argv)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as e:
        traceback.print_exc()
        cmd = argv[1] if len(argv) > 1 else ""
        fail(failure_kind(e, cmd), text(e) or type(e).__name__, exception=type(e).__name__)


if __name__ == "__main__":
    sys.exit(run(sys.argv))
