# stand-in for yum.Errors of yum 3.4.3 (see ../fakerpm.py): the same classes, and the same
# __str__ (utf-8 bytes under Python 2) and __unicode__.
import sys

PY2 = sys.version_info[0] == 2


def to_utf8(obj):
    if PY2 and isinstance(obj, unicode):  # noqa: F821
        return obj.encode("utf-8", "replace")
    return obj


def to_unicode(obj):
    if PY2 and isinstance(obj, str):
        return obj.decode("utf-8", "replace")
    return obj


class YumBaseError(Exception):
    def __init__(self, value=None):
        Exception.__init__(self)
        self.value = value

    def __str__(self):
        return "%s" % to_utf8(self.value)

    def __unicode__(self):
        return u"%s" % to_unicode(self.value)


class RepoError(YumBaseError):
    def __init__(self, value=None, repo=None):
        YumBaseError.__init__(self, value)
        self.repo = repo


class InstallError(YumBaseError):
    pass


class DepError(YumBaseError):
    pass


class YumDownloadError(YumBaseError):
    pass
