# What the stand-in `yum` and `dnf` modules beside this file share: the repositories a test describes
# (a scenario, JSON), rpm's version order and dependency matching, and a record of the calls the
# helper (images/helpers/yumda_rpm.py) made. They stand in for the real APIs where no Amazon Linux
# can run (Debian has no yum and no Python 2): the same names, signatures and types as yum 3.4.3
# and dnf 4, and only as much behaviour as the helper relies on.
#
# Environment: YUMDA_FAKE_SCENARIO (the scenario file), YUMDA_FAKE_RECORD (JSON lines appended, one
# per call), YUMDA_FAKE_LOCK (the lock file; each record says whether some process holds it).
#
# Scenario: {"repos": {REPOID: [PACKAGE...]}, "raise": {CALL: {"class", "args"}},
#            "downloadErrors": {NAME: MESSAGE}, "librepoLog": [LINE...]}
# PACKAGE: {"name", "epoch", "version", "release", "arch", "provides": [DEP], "requires": [DEP],
#           "obsoletes": [DEP], "files": [PATH], "dirs": [PATH]}; DEP: "name [op evr]".
from __future__ import print_function

import errno
import fcntl
import json
import os
import re
import sys

PY2 = sys.version_info[0] == 2


def u(s):
    """Strings as the real modules hand them out: yum's come from sqlite, unicode under Python 2."""
    if PY2 and isinstance(s, str):
        return s.decode("utf-8")
    return s


_scenario = None


def scenario():
    global _scenario
    if _scenario is None:
        with open(os.environ["YUMDA_FAKE_SCENARIO"]) as f:
            _scenario = json.load(f)
    return _scenario


def lock_held():
    """Whether some process holds the lock file (flock(2) locks belong to an open file: a second
    open of it, in this process too, cannot take a held lock)."""
    path = os.environ.get("YUMDA_FAKE_LOCK")
    if not path:
        return None
    f = open(path, "a")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (IOError, OSError) as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return True
        raise
    finally:
        f.close()
    return False


def record(call, **data):
    data["call"] = call
    data["locked"] = lock_held()
    path = os.environ.get("YUMDA_FAKE_RECORD")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(data, sort_keys=True) + "\n")


def maybe_raise(call, classes):
    """Raises what the scenario says `call` raises: {"class": name in `classes`, "args": [...]}."""
    spec = scenario().get("raise", {}).get(call)
    if spec:
        args = [u(a) if isinstance(a, str) else a for a in spec.get("args", [])]
        raise classes[spec["class"]](*args)


# rpm's version order (rpmvercmp), without ~ and ^, which the scenarios do not use


def vercmp(a, b):
    if a == b:
        return 0
    sa, sb = re.findall(r"[0-9]+|[a-zA-Z]+", a or ""), re.findall(r"[0-9]+|[a-zA-Z]+", b or "")
    for x, y in zip(sa, sb):
        if x.isdigit() and y.isdigit():
            c = (int(x) > int(y)) - (int(x) < int(y))
        elif x.isdigit():
            return 1
        elif y.isdigit():
            return -1
        else:
            c = (x > y) - (x < y)
        if c:
            return c
    return (len(sa) > len(sb)) - (len(sa) < len(sb))


def evrcmp(a, b):
    """(epoch, version, release); a missing release (None) matches any."""
    ea, eb = int(a[0] or 0), int(b[0] or 0)
    if ea != eb:
        return (ea > eb) - (ea < eb)
    c = vercmp(a[1], b[1])
    if c or a[2] is None or b[2] is None:
        return c
    return vercmp(a[2], b[2])


OPS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def parse_evr(s):
    e, rest = (s.split(":", 1) if ":" in s else (None, s))
    v, r = (rest.rsplit("-", 1) if "-" in rest else (rest, None))
    return (e, v, r)


def parse_dep(s):
    """"name op evr" as yum's prco tuple: (name, flag, (epoch, version, release))."""
    parts = s.split()
    if len(parts) == 3 and parts[1] in OPS:
        return (u(parts[0]), u(OPS[parts[1]]), tuple(u(x) if x is not None else None for x in parse_evr(parts[2])))
    return (u(s), None, (None, None, None))


def satisfies(provide, req):
    """Whether a provide (or obsoletes) tuple and a requirement tuple overlap: yum's
    rpmUtils.miscutils.rangeCompare(req, provide), in its symbolic flags."""
    (reqn, reqf, (reqe, reqv, reqr)) = req
    (n, f, (e, v, r)) = provide
    if reqn != n:
        return False
    if not f or not reqf:
        return True
    if reqr is None:
        r = None
    if reqe is None:
        e = None
    if reqv is None:
        v = None
    if r is None:
        reqr = None
    rc = evrcmp((e, v, r), (reqe, reqv, reqr))
    if rc >= 1:
        if reqf in ("GT", "GE"):
            return True
        if reqf in ("EQ", "LE", "LT") and f in ("LE", "LT"):
            return True
    if rc == 0:
        ok = {"GT": ("GT", "GE"), "GE": ("GT", "GE", "EQ", "LE"), "EQ": ("EQ", "GE", "LE"), "LE": ("EQ", "LE", "LT", "GE"), "LT": ("LE", "LT")}
        if f in ok[reqf]:
            return True
    if rc <= -1:
        if reqf in ("GT", "GE", "EQ") and f in ("GT", "GE"):
            return True
        if reqf in ("LE", "LT"):
            return True
    return False


def dep_str(t):
    name, flag, (e, v, r) = t
    if not flag:
        return name
    op = dict((b, a) for a, b in OPS.items())[flag]
    return "%s %s %s" % (name, op, (("%s:" % e) if e and e != "0" else "") + v + (("-%s" % r) if r else ""))


# yum's split between the primary metadata (files under /etc and */bin/*) and the file lists


def primary_filename(fn):
    return "bin/" in fn or fn.startswith("/etc/") or fn == "/usr/lib/sendmail"


def primary_dirname(fn):
    return "bin/" in fn or fn.startswith("/etc/")


MULTILIB = {"x86_64": ["x86_64", "noarch", "i686", "i586", "i386"], "aarch64": ["aarch64", "noarch"]}


def compatible_arches(arch):
    return MULTILIB.get(arch, [arch, "noarch"])


def write_package(path, name):
    d = os.path.dirname(path)
    if not os.path.isdir(d):
        os.makedirs(d)
    with open(path, "w") as f:
        f.write("fake rpm %s\n" % name)
