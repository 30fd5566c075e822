#!/usr/bin/python3
"""Serial-line devices played over a pseudo-terminal, for drivers/serial tests.

usage: peer.py ROLE PATH [babble]
  scale       streams "ST,GS,+  12.50 kg\r\n" every 20 ms, weight +0.01 kg each frame;
              with "babble" it first sends 5000 bytes without a delimiter and some binary junk
  instrument  answers "MEAS?\r\n" with "+1.2340E+01,+2.5000E-01,<n>\r\n" (n counts requests),
              anything else with "ERR\r\n"; SIGUSR1 toggles a mute state (no answers at all)
  gps         streams GGA and RMC sentences with XOR checksums every 20 ms; every third GGA
              is corrupted (its checksum no longer matches)
Prints "ready" on stdout once the port is open. Exits when the pty goes away.
"""
import os
import signal
import sys
import time

role, path = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
print("ready", flush=True)


def send(data: bytes) -> None:
    try:
        os.write(fd, data)
    except OSError:
        sys.exit(0)


def nmea(body: str) -> bytes:
    x = 0
    for ch in body.encode():
        x ^= ch
    return f"${body}*{x:02X}\r\n".encode()


if role == "scale":
    if "babble" in extra:
        send(b"#" * 5000)
        send(b"\r\n\x00\xff\x07junk\r\n")
    w = 12.50
    while True:
        send(f"ST,GS,+{w:7.2f} kg\r\n".encode())
        w += 0.01
        time.sleep(0.02)

elif role == "instrument":
    muted = False

    def toggle(*_):
        global muted
        muted = not muted

    signal.signal(signal.SIGUSR1, toggle)
    n = 0
    buf = b""
    while True:
        try:
            chunk = os.read(fd, 256)
        except InterruptedError:
            continue
        except OSError:
            sys.exit(0)
        if not chunk:
            sys.exit(0)
        buf += chunk
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if muted:
                continue
            if line == b"MEAS?":
                n += 1
                send(f"+1.2340E+01,+2.5000E-01,{n}\r\n".encode())
            else:
                send(b"ERR\r\n")

elif role == "gps":
    i = 0
    while True:
        i += 1
        gga = nmea(f"GPGGA,1235{i % 60:02d},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
        if i % 3 == 0:
            gga = gga.replace(b"545.4", b"545.7")  # one digit changed: the XOR no longer matches
        send(gga)
        send(nmea(f"GPRMC,1235{i % 60:02d},A,4807.038,N,01131.000,E,{i % 100}.5,084.4,230394,003.1,W"))
        time.sleep(0.02)

else:
    sys.exit(f"unknown role {role}")
