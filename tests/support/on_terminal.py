"""Runs a command on a pseudo-terminal of a given width and prints everything it drew.

usage: on_terminal.py COLUMNS COMMAND [ARG...]   (exits with the command's status)

Used by the tests to see cfdeploy's live progress as a terminal shows it.
"""
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

columns = int(sys.argv[1])
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 200, columns, 0, 0))
child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
drawn = bytearray()
while True:
    try:
        data = os.read(master, 65536)
    except OSError:  # the child closed the terminal
        break
    if not data:
        break
    drawn += data
sys.stdout.buffer.write(bytes(drawn))
sys.exit(child.wait())
