# stand-in for hawkey (see fakerpm.py): Reldep and chksum_name, as dnf's packages use them.
import fakerpm

CHKSUM_SHA256 = 3
_NAMES = {1: "md5", 2: "sha1", 3: "sha256", 4: "sha384", 5: "sha512"}


def chksum_name(t):
    return _NAMES[t]


class Reldep(object):
    def __init__(self, sack, s):
        self.tup = fakerpm.parse_dep(s)

    def __str__(self):
        return fakerpm.dep_str(self.tup)

    def __repr__(self):
        return "<Reldep %s>" % self
