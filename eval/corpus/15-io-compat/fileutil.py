# -*- coding: utf-8 -*-
from __future__ import print_function, unicode_literals
import io
import os
import socket
import errno

try:
    text_type = unicode
except NameError:
    text_type = str


def read_text(path, encoding="utf-8"):
    f = io.open(path, "r", encoding=encoding)
    data = f.read()
    f.close()
    return data


def read_lines(path):
    f = open(path, "r")
    try:
        return [line.rstrip("\n") for line in f.readlines()]
    finally:
        f.close()


def write_text(path, text):
    f = open(path, "w")
    f.write(text_type(text))
    f.close()
    return len(text)


def ensure_dir(path):
    try:
        os.makedirs(path)
    except EnvironmentError as e:
        if e.errno != errno.EEXIST:
            raise
        return False
    return True


def file_size(path):
    try:
        return os.path.getsize(path)
    except (IOError, os.error):
        return -1


def is_port_open(host, port, timeout=0.2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except (socket.error, socket.timeout):
        return False
    finally:
        s.close()
    return True


def label(name):
    return u"file: " + text_type(name)


def empty_string():
    return str("")


def append_line(path, line):
    f = open(path, "a")
    f.write(line + u"\n")
    f.close()
    return read_lines(path)[-1]
