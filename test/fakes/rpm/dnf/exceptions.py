# stand-in for dnf.exceptions of dnf 4 (see ../fakerpm.py): the classes the helper catches.


class Error(Exception):
    def __init__(self, value=None):
        super(Error, self).__init__()
        self.value = value

    def __str__(self):
        return "{}".format(self.value)


class RepoError(Error):
    pass


class DepsolveError(Error):
    pass


class MarkingError(Error):
    def __init__(self, value=None, pkg_spec=None):
        super(MarkingError, self).__init__(value)
        self.pkg_spec = pkg_spec

    def __str__(self):
        s = super(MarkingError, self).__str__()
        return s + ": " + self.pkg_spec if self.pkg_spec else s


class DownloadError(Error):
    def __init__(self, errmap):
        super(DownloadError, self).__init__()
        self.errmap = errmap

    def __str__(self):
        return "\n".join("%s: %s" % (k, e) if k else "%s" % e for k in self.errmap for e in self.errmap[k])
