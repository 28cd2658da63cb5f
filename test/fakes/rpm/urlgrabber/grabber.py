# stand-in for urlgrabber.grabber (see ../fakerpm.py): URLGrabError is an IOError, as upstream's,
# raised with (errno, message), e.g. URLGrabError(14, 'curl#6 - "Could not resolve host"').


class URLGrabError(IOError):
    pass
