# stand-in for dnf 4's Base (see ../fakerpm.py). What it models, as upstream does it:
# - conf.best defaults to False: when the newest candidate of a request cannot be installed, the
#   solver takes an older one without a word; with best=True it fails ("cannot install the best
#   candidate for the job");
# - install(spec) adds the matching packages' obsoleters to the job (conf.obsoletes, default on),
#   and the solver prefers an obsoleter;
# - queries leave out what sack.add_excludes() excluded;
# - librepo's log (logdir/dnf.librepo.log) is appended to, never truncated: what fill_sack and
#   download_packages write there (the scenario's librepoLog) follows other runs' lines.
import functools
import os

import fakerpm
import hawkey
from dnf import callback, exceptions

CLASSES = {"RepoError": exceptions.RepoError, "DownloadError": exceptions.DownloadError, "Error": exceptions.Error, "OSError": OSError}


class _Payload(object):
    def __init__(self, pkg):
        self.pkg = pkg

    def __str__(self):
        return os.path.basename(self.pkg.location)


class _Conf(object):
    def __init__(self):
        self.installroot = "/"
        self.cachedir = "/var/cache/dnf"
        self.persistdir = "/var/lib/dnf"
        self.logdir = "/var/log"
        self.reposdir = ["/etc/yum.repos.d"]
        self.releasever = None
        self.arch = None
        self.install_weak_deps = True
        self.metadata_expire = 172800
        self.skip_if_unavailable = False
        self.gpgcheck = False
        self.assumeyes = False
        self.best = False
        self.obsoletes = True
        self.multilib_policy = "best"


class Repo(object):
    def __init__(self, repoid, conf, baseurl=(), mirrorlist=None, **kwargs):
        self.id = repoid
        self.baseurl = list(baseurl)
        self.mirrorlist = mirrorlist
        self.gpgcheck = conf.gpgcheck
        self.metadata_expire = conf.metadata_expire
        self.enabled = False

    def enable(self):
        self.enabled = True


class _RepoDict(dict):
    def add_new_repo(self, repoid, conf, baseurl=(), **kwargs):
        repo = Repo(repoid, conf, baseurl, **kwargs)
        self[repoid] = repo
        return repo

    def iter_enabled(self):
        return (r for r in self.values() if r.enabled)


class Package(object):
    def __init__(self, data, repoid, cachedir):
        self.name = data["name"]
        self.epoch = int(data.get("epoch", 0))
        self.version = data["version"]
        self.release = data["release"]
        self.arch = data["arch"]
        self.reponame = repoid
        self.downloadsize = int(data.get("size", 1000))
        self.installsize = int(data.get("installedSize", 3000))
        self.location = "Packages/%s-%s-%s.%s.rpm" % (self.name, self.version, self.release, self.arch)
        self.sourcerpm = "%s-%s-%s.src.rpm" % (self.name, self.version, self.release)
        self.license = data.get("license", "MIT")
        self.chksum = (hawkey.CHKSUM_SHA256, bytes(bytearray(range(32))))
        own = "%s = %s%s-%s" % (self.name, ("%d:" % self.epoch) if self.epoch else "", self.version, self.release)
        self.provides = [hawkey.Reldep(None, d) for d in [own] + data.get("provides", [])]
        self.requires = [hawkey.Reldep(None, d) for d in data.get("requires", [])]
        self.obsoletes = [hawkey.Reldep(None, d) for d in data.get("obsoletes", [])]
        self.files = data.get("files", []) + data.get("dirs", [])
        self._cachedir = cachedir

    def evr(self):
        return (self.epoch, self.version, self.release)

    def __str__(self):
        return "%s-%s%s-%s.%s" % (self.name, ("%d:" % self.epoch) if self.epoch else "", self.version, self.release, self.arch)

    def __repr__(self):
        return "<Package %s>" % self

    def localPkg(self):
        return os.path.join(self._cachedir, "%s-0123456789abcdef" % self.reponame, "packages", os.path.basename(self.location))

    def _obsoletes(self, other):
        return any(fakerpm.satisfies((other.name, "EQ", tuple(str(x) for x in other.evr())), o.tup) for o in self.obsoletes)

    def _provides(self, req):
        return any(fakerpm.satisfies(p.tup, req) for p in self.provides)


def _newest_first(pkgs):
    return sorted(pkgs, key=functools.cmp_to_key(lambda a, b: fakerpm.evrcmp(tuple(map(str, b.evr())), tuple(map(str, a.evr())))))


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple, set, Query)) else [v]


class Query(object):
    def __init__(self, sack, pkgs):
        self._sack = sack
        self._pkgs = [p for p in pkgs if p not in sack.excluded]

    def __iter__(self):
        return iter(self._pkgs)

    def __len__(self):
        return len(self._pkgs)

    def __bool__(self):
        return bool(self._pkgs)

    __nonzero__ = __bool__

    def available(self):
        return Query(self._sack, self._pkgs)

    def _match(self, p, key, want):
        if key == "empty":
            return not want
        if key in ("name", "version", "release", "arch", "reponame"):
            return getattr(p, key) in _as_list(want)
        if key == "epoch":
            return p.epoch in [int(x) for x in _as_list(want)]
        if key == "pkg":
            return any(p is x for x in _as_list(want))
        if key == "provides":
            return any(p._provides(r.tup if isinstance(r, hawkey.Reldep) else fakerpm.parse_dep(r)) for r in _as_list(want))
        if key == "file":
            return any(f in p.files for f in _as_list(want))
        if key == "obsoletes":
            return any(p._obsoletes(o) for o in _as_list(want))
        raise ValueError("filter %s is not modelled" % key)

    def filter(self, **kwargs):
        if "reponame" in kwargs:
            fakerpm.record("query", reponame=kwargs["reponame"])
        return Query(self._sack, [p for p in self._pkgs if all(self._match(p, k, v) for k, v in kwargs.items())])

    def filterm(self, **kwargs):
        self._pkgs = self.filter(**kwargs)._pkgs
        return self

    def union(self, other):
        return Query(self._sack, self._pkgs + [p for p in other if p not in self._pkgs])

    def difference(self, other):
        return Query(self._sack, [p for p in self._pkgs if p not in list(other)])


class Sack(object):
    def __init__(self, pkgs):
        self.pkgs = pkgs
        self.excluded = []

    def query(self):
        return Query(self, self.pkgs)

    def add_excludes(self, query):
        fakerpm.record("add_excludes", pkgs=sorted(str(p) for p in query))
        self.excluded.extend(query)


class _Transaction(object):
    def __init__(self, pkgs):
        self.install_set = set(pkgs)


class _Unsatisfied(Exception):
    pass


class Base(object):
    def __init__(self):
        self.conf = _Conf()
        self.repos = _RepoDict()
        self.sack = None
        self.transaction = None
        self._jobs = []

    def _librepo_log(self, lines):
        path = os.path.join(self.conf.logdir, "dnf.librepo.log")
        with open(path, "a") as f:
            for line in lines:
                f.write("2026-11-29T12:00:00+0000 INFO %s\n" % line)

    def setup_loggers(self):
        if not os.path.isdir(self.conf.logdir):
            os.makedirs(self.conf.logdir)
        self._librepo_log(["--- logging initialized ---"])

    def fill_sack(self, load_system_repo=True, load_available_repos=True):
        repos = sorted(r.id for r in self.repos.iter_enabled())
        fakerpm.record("fill_sack", repos=repos, best=self.conf.best, arch=self.conf.arch)
        self._librepo_log(fakerpm.scenario().get("librepoLog", []))
        fakerpm.maybe_raise("fill_sack", CLASSES)
        arches = fakerpm.compatible_arches(self.conf.arch)
        self.sack = Sack([Package(d, r, self.conf.cachedir) for r in repos for d in fakerpm.scenario()["repos"].get(r, []) if d["arch"] in arches])
        return self.sack

    def install(self, pkg_spec, reponame=None, strict=True, forms=None):
        fakerpm.record("install", spec=pkg_spec)
        q = [p for p in self.sack.query() if pkg_spec in (p.name, "%s-%s" % (p.name, p.version), "%s-%s-%s" % (p.name, p.version, p.release), str(p))]
        if not q:
            q = [p for p in self.sack.query() if p._provides(fakerpm.parse_dep(pkg_spec))]
        if not q:
            raise exceptions.MarkingError("No match for argument", pkg_spec)
        obsoleters = [o for o in self.sack.query() if any(o._obsoletes(p) for p in q)] if self.conf.obsoletes else []
        self._jobs.append((pkg_spec, _newest_first(obsoleters) + _newest_first(q)))
        return 1

    def _closure(self, root, chosen):
        todo = [root]
        chosen = list(chosen) + [root]
        while todo:
            p = todo.pop()
            for r in p.requires:
                if r.tup[0].startswith("rpmlib("):
                    continue
                if any(c._provides(r.tup) or r.tup[0] in c.files for c in chosen):
                    continue
                providers = [c for c in self.sack.query() if c._provides(r.tup) or r.tup[0] in c.files]
                if not providers:
                    raise _Unsatisfied("nothing provides %s needed by %s" % (r, p))
                best = _newest_first([c for c in providers if c.arch in (p.arch, "noarch")] or providers)[0]
                chosen.append(best)
                todo.append(best)
        return chosen

    def resolve(self, allow_erasing=False):
        chosen = []
        for spec, candidates in self._jobs:
            tries = candidates[:1] if self.conf.best else candidates
            problem = None
            for c in tries:
                try:
                    chosen = self._closure(c, chosen)
                    problem = None
                    break
                except _Unsatisfied as e:
                    problem = str(e)
            if problem:
                head = "cannot install the best candidate for the job" if self.conf.best else "conflicting requests"
                raise exceptions.DepsolveError("Problem: %s\n  - %s" % (head, problem))
        self.transaction = _Transaction(chosen)
        return True

    def download_packages(self, pkglist, progress=None, callback_total=None):
        fakerpm.record("download_packages", pkgs=[str(p) for p in pkglist])
        self._librepo_log(fakerpm.scenario().get("downloadLog", []))
        fakerpm.maybe_raise("download_packages", CLASSES)
        failing = fakerpm.scenario().get("downloadErrors", {})
        errors = dict((str(p), [failing[p.name]]) for p in pkglist if p.name in failing)
        if errors:
            raise exceptions.DownloadError(errors)
        if progress is not None:
            progress.start(len(pkglist), sum(p.downloadsize for p in pkglist))
        for p in pkglist:
            fakerpm.write_package(p.localPkg(), p.name)
            if progress is not None:
                progress.end(_Payload(p), callback.STATUS_OK, None)
