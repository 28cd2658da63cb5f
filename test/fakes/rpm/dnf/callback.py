# stand-in for dnf.callback: the download progress API, as dnf 4.14 has it. download_packages
# calls end(payload, status, msg) as each package is in; str(payload) is the file's basename.
STATUS_OK = None
STATUS_FAILED = 1
STATUS_ALREADY_EXISTS = 2
STATUS_MIRROR = 3
STATUS_DRPM = 4


class DownloadProgress(object):
    def end(self, payload, status, msg):
        pass

    def message(self, msg):
        pass

    def progress(self, payload, done):
        pass

    def start(self, total_files, total_size, total_drpms=0):
        pass
