# stand-in for urlgrabber (see ../fakerpm.py)
