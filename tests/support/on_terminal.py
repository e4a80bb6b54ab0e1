"""Runs a command on a pseudo-terminal of a given width and prints everything it drew.

usage: on_terminal.py COLUMNS[xROWS] COMMAND [ARG...]   (exits with the command's status;
       200 rows unless ROWS is given)

Used by the tests to see cfdeploy's live progress as a terminal shows it.
"""
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

size = sys.argv[1].split("x")
columns = int(size[0])
rows = int(size[1]) if len(size) > 1 else 200
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
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
