"""`cnncalc serve net.yaml`: the HTML report of one file on a loopback server, rebuilt when the file is saved.

May import analysis and render (and spec, errors); never exam, pytorch or cli. Only the standard library's
http.server: it binds 127.0.0.1 and answers three fixed addresses, never a file.
"""
