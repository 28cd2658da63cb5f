# stand-in for yum 3.4.3's YumBase (see ../fakerpm.py). What it models, as upstream does it:
# - preconf is read once, when conf is first used, and then gone (None);
# - conf.multilib_policy defaults to "all": on x86_64 a request installs each architecture's newest;
# - install() puts a package's obsoleter in its place (conf.obsoletes, default on), for a request
#   and for each dependency (depsolve calls install(po, provides_for=req));
# - packages' strings are unicode (sqlite) and resolveDeps' messages are unicode (ugettext);
# - returnFileEntries(primary_only=True) lists only primary files (/etc, */bin/*), the full lists
#   come from filelists metadata, loaded on first use (it can fail there: raise.filelists);
# - downloadPkgs returns {po: [message]} for what failed.
import fnmatch
import os

import fakerpm
from fakerpm import u
from urlgrabber.grabber import URLGrabError
from yum import Errors

CLASSES = {"RepoError": Errors.RepoError, "URLGrabError": URLGrabError, "YumBaseError": Errors.YumBaseError}


class _Preconf(object):
    def __init__(self):
        self.init_plugins = True
        self.debuglevel = 2
        self.errorlevel = 2
        self.root = "/"
        self.releasever = None
        self.arch = None


class _Conf(object):
    def __init__(self, preconf):
        self.installroot = preconf.root
        self.cachedir = "/var/cache/yum"
        self.metadata_expire = 21600
        self.reposdir = ["/etc/yum.repos.d"]
        self.skip_broken = False
        self.assumeyes = False
        self.multilib_policy = "all"
        self.obsoletes = True
        self.gpgcheck = False
        self.yumvar = {"releasever": preconf.releasever, "basearch": preconf.arch}


class YumRepository(object):
    def __init__(self, repoid):
        self.id = repoid
        self.baseurl = []
        self.mirrorlist = None
        self.gpgcheck = False
        self.metadata_expire = 0
        self.enabled = True
        self.basecachedir = None

    def enable(self):
        self.enabled = True

    def disable(self):
        self.enabled = False


class _Repos(object):
    def __init__(self):
        self.repos = {}

    def add(self, repo):
        self.repos[repo.id] = repo

    def listEnabled(self):
        return [r for r in self.repos.values() if r.enabled]


class YumAvailablePackage(object):
    def __init__(self, data, repo):
        self.name = u(data["name"])
        self.epoch = u(str(data.get("epoch", 0)))
        self.version = self.ver = u(data["version"])
        self.release = self.rel = u(data["release"])
        self.arch = u(data["arch"])
        self.repo = repo
        self.repoid = repo.id
        self.size = int(data.get("size", 1000))
        self.installedsize = int(data.get("installedSize", 3000))
        self.relativepath = u("Packages/%s-%s-%s.%s.rpm" % (self.name, self.version, self.release, self.arch))
        self.sourcerpm = u("%s-%s-%s.src.rpm" % (self.name, self.version, self.release))
        self.license = u(data.get("license", "MIT"))
        self.pkgtup = (self.name, self.arch, self.epoch, self.version, self.release)
        own = (self.name, u"EQ", (self.epoch, self.version, self.release))
        self.prco = {
            "provides": [own] + [fakerpm.parse_dep(d) for d in data.get("provides", [])],
            "requires": [fakerpm.parse_dep(d) for d in data.get("requires", [])],
            "obsoletes": [fakerpm.parse_dep(d) for d in data.get("obsoletes", [])],
        }
        self._files = {"file": [u(f) for f in data.get("files", [])], "dir": [u(f) for f in data.get("dirs", [])]}
        self._loadedfiles = False

    def __str__(self):
        return "%s-%s-%s.%s" % (self.name, self.version, self.release, self.arch)

    def __repr__(self):
        return "<YumAvailablePackage %s>" % self

    def returnIdSum(self):
        return (u"sha256", u"%064x" % (abs(hash(self.pkgtup)) % (1 << 64)))

    def returnPrco(self, prcotype, printable=False):
        prcos = self.prco.get(prcotype, [])
        return [fakerpm.dep_str(p) for p in prcos] if printable else prcos

    def checkPrco(self, prcotype, prcotuple):
        return 1 if any(fakerpm.satisfies(p, prcotuple) for p in self.prco.get(prcotype, [])) else 0

    def inPrcoRange(self, prcotype, reqtuple):
        return bool(self.checkPrco(prcotype, reqtuple))

    def returnFileEntries(self, ftype="file", primary_only=False):
        match = fakerpm.primary_dirname if ftype == "dir" else fakerpm.primary_filename
        if primary_only:
            # upstream: the primary metadata's files table, or the loaded lists filtered the same way
            return [f for f in self._files.get(ftype, []) if match(f)]
        if not self._loadedfiles:
            # upstream: self.sack.populate(self.repo, mdtype='filelists'), a download on first use
            fakerpm.record("filelists", repo=self.repoid)
            fakerpm.maybe_raise("filelists", CLASSES)
            self._loadedfiles = True
        return self._files.get(ftype, [])

    def provides_for(self, reqtuple):
        if self.checkPrco("provides", reqtuple):
            return True
        if reqtuple[0].startswith("/"):
            pri_only = fakerpm.primary_filename(reqtuple[0])
            for ftype in ("file", "dir", "ghost"):
                if reqtuple[0] in self.returnFileEntries(ftype, pri_only):
                    return True
        return False

    def obsoletedBy(self, obsoleters, limit=0):
        provtup = (self.name, "EQ", (self.epoch, self.version, self.release))
        return [o for o in obsoleters if o.inPrcoRange("obsoletes", provtup)]

    def localPkg(self):
        return os.path.join(self.repo.basecachedir, self.repoid, "packages", os.path.basename(self.relativepath))

    def verGT(self, other):
        return fakerpm.evrcmp(self.pkgtup[2:], other.pkgtup[2:]) > 0


def _newest_first(pkgs):
    import functools

    return sorted(pkgs, key=functools.cmp_to_key(lambda a, b: fakerpm.evrcmp(b.pkgtup[2:], a.pkgtup[2:])))


class _MetaSack(object):
    def __init__(self, pkgs):
        self.pkgs = pkgs

    def __len__(self):
        return len(self.pkgs)

    def returnPackages(self, repoid=None, patterns=None, ignore_case=False):
        if not patterns:
            # every package object of the repositories: slow on a real repository (tens of thousands)
            fakerpm.record("returnPackages", repoid=repoid)
        out = [p for p in self.pkgs if repoid is None or p.repoid == repoid]
        if patterns:
            out = [p for p in out if any(fnmatch.fnmatchcase(n, pat) for pat in patterns for n in _names(p))]
        return out

    def searchNevra(self, name=None, epoch=None, ver=None, rel=None, arch=None):
        return [p for p in self.pkgs if all(want is None or want == have for want, have in ((name, p.name), (epoch, p.epoch), (ver, p.version), (rel, p.release), (arch, p.arch)))]

    def searchProvides(self, name):
        return [p for p in self.pkgs if any(x[0] == name for x in p.prco["provides"])]

    def searchObsoletes(self, name):
        return [p for p in self.pkgs if any(x[0] == name for x in p.prco["obsoletes"])]

    def delPackage(self, obj):
        fakerpm.record("delPackage", pkg=str(obj))
        self.pkgs = [p for p in self.pkgs if p is not obj]


def _names(p):
    n, a, e, v, r = p.pkgtup
    return [n, "%s.%s" % (n, a), "%s-%s" % (n, v), "%s-%s-%s" % (n, v, r), "%s-%s-%s.%s" % (n, v, r, a), "%s:%s-%s-%s.%s" % (e, n, v, r, a), "%s-%s:%s-%s.%s" % (n, e, v, r, a)]


class _TxMember(object):
    def __init__(self, po):
        self.po = po


class _TsInfo(object):
    def __init__(self):
        self.members = []

    def __len__(self):
        return len(self.members)

    def exists(self, pkgtup):
        return any(m.po.pkgtup == pkgtup for m in self.members)

    def addInstall(self, po):
        m = _TxMember(po)
        self.members.append(m)
        return m

    def getMembers(self, pkgtup=None):
        return [m for m in self.members if pkgtup is None or m.po.pkgtup == pkgtup]


class YumBase(object):
    def __init__(self):
        self.preconf = _Preconf()
        self._conf = None
        self._repos = None
        self._pkgSack = None
        self.tsInfo = _TsInfo()

    @property
    def conf(self):
        if self._conf is None:
            self._conf = _Conf(self.preconf)
            self._arch = self.preconf.arch
            fakerpm.record("conf", root=self.preconf.root, arch=self.preconf.arch, plugins=self.preconf.init_plugins)
            self.preconf = None
        return self._conf

    @property
    def repos(self):
        if self._repos is None:
            self.conf
            self._repos = _Repos()
        return self._repos

    def add_enable_repo(self, repoid, baseurls=[], mirrorlist=None, **kwargs):
        repo = YumRepository(repoid)
        repo.baseurl = list(baseurls)
        repo.mirrorlist = mirrorlist
        repo.basecachedir = self.conf.cachedir
        repo.metadata_expire = 0
        repo.gpgcheck = self.conf.gpgcheck
        self.repos.add(repo)
        return repo

    @property
    def pkgSack(self):
        if self._pkgSack is None:
            fakerpm.record("pkgSack", repos=sorted(r.id for r in self.repos.listEnabled()))
            fakerpm.maybe_raise("pkgSack", CLASSES)
            arches = fakerpm.compatible_arches(self._arch)
            pkgs = []
            for repo in self.repos.listEnabled():
                for data in fakerpm.scenario()["repos"].get(repo.id, []):
                    if data["arch"] in arches:
                        pkgs.append(YumAvailablePackage(data, repo))
            self._pkgSack = _MetaSack(pkgs)
        return self._pkgSack

    def _multilib(self):
        return self._arch == "x86_64"

    def _obsoleter(self, po):
        if not self.conf.obsoletes:
            return None
        found = _newest_first(po.obsoletedBy(self.pkgSack.pkgs))
        return found[0] if found else None

    def install(self, po=None, **kwargs):
        if po is not None:
            pkgs = [po]
        else:
            pattern = kwargs["pattern"]
            fakerpm.record("install", pattern=pattern)
            pkgs = self.pkgSack.returnPackages(patterns=[pattern])
            if not pkgs:
                pkgs = _newest_first(self.pkgSack.searchProvides(pattern))[:1]
            if pkgs:
                best = [fakerpm.compatible_arches(self._arch)[0], "noarch"]
                if self._multilib() and self.conf.multilib_policy == "best":
                    named = set(p.name for p in pkgs if p.arch in best)
                    pkgs = [p for p in pkgs if p.arch in best or p.name not in named]
                # the newest of each name and architecture (bestPackagesFromList is multilib aware)
                newest = {}
                for p in _newest_first(pkgs):
                    newest.setdefault((p.name, p.arch), p)
                pkgs = list(newest.values())
        if not pkgs:
            raise Errors.InstallError(u"No package(s) available to install")
        out = []
        for p in pkgs:
            if self.tsInfo.exists(p.pkgtup):
                out.extend(self.tsInfo.getMembers(p.pkgtup))
                continue
            obs = self._obsoleter(p)
            if obs is not None:
                if "provides_for" in kwargs and not obs.provides_for(kwargs["provides_for"]):
                    continue
                fakerpm.record("obsoleted", pkg=str(p), by=str(obs))
                out.extend(self.install(po=obs))
                continue
            out.append(self.tsInfo.addInstall(p))
        return out

    def resolveDeps(self, full_check=True, skipping_broken=False):
        if not len(self.tsInfo):
            return (0, [u"Success - empty transaction"])
        errors = []
        done = 0
        while done < len(self.tsInfo.members):
            po = self.tsInfo.members[done].po
            done += 1
            for req in po.returnPrco("requires"):
                if req[0].startswith("rpmlib("):
                    continue
                if any(m.po.provides_for(req) for m in self.tsInfo.members):
                    continue
                providers = [p for p in self.pkgSack.pkgs if p.provides_for(req)]
                own = [p for p in providers if p.arch in (po.arch, "noarch")] or providers
                if not own:
                    errors.append(u"%s requires %s" % (u(str(po)), fakerpm.dep_str(req)))
                    continue
                self.install(po=_newest_first(own)[0], provides_for=req)
        if errors:
            return (1, errors)
        return (2, [u"Success - deps resolved"])

    def downloadPkgs(self, pkglist, callback=None, callback_total=None):
        fakerpm.record("downloadPkgs", pkgs=[str(p) for p in pkglist])
        fakerpm.maybe_raise("downloadPkgs", CLASSES)
        errors = {}
        failing = fakerpm.scenario().get("downloadErrors", {})
        for po in pkglist:
            if po.name in failing:
                errors.setdefault(po, []).append(u(failing[po.name]))
            else:
                fakerpm.write_package(po.localPkg(), po.name)
        return errors
