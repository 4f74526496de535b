#!/usr/bin/env python3
"""A stand-in for the seed's camera server (../shared/seed/README.md), behaving as it does where
a client can tell, with threads as it has them:

- One set of flags (single frame asked, ack, streaming, shutdown) shared by every connection: one
  client's `3` streams to all of them, one client's `q` stops all of them, `2` stops the server.
- Per connection a reader thread and a sender thread. The reader takes recv(1024), decodes it as
  UTF-8 and strips whitespace: the whole chunk is one command, so glued commands (`3q`) are
  unknown, and unknown input gets the raw text `Unknown command` written into the frame stream.
- The sender sends a frame while a single frame is asked or streaming is on, each as two sends
  (the 4-byte big-endian length, then the JPEG); after a single frame it waits for the ack.
  It never ends before shutdown: for a connection that has gone it keeps reading the camera and
  failing to send, as the seed's thread does.
- One camera for everyone, read at FPS; its frames are the JPEG files of a folder, in turn.

Differences, none visible on the wire: the sender waits on a condition instead of spinning, and the
listening socket has SO_REUSEADDR so a test can start it again on the same port at once.

Every line it prints is flushed: the test reads them as the server's log. It prints
`listening on PORT` once ready, each command it reads, and `Unknown command: ...` each time it
writes that text.

usage: fake_seed_server.py PORT JPEG_DIR FPS < pipe   (PORT 0: any free port; it exits when the pipe ends)
"""
import os
import socket
import sys
import threading
import time


def log(text):
    print(text, flush=True)


class Camera:
    """cap.read(): the next picture at the camera's rate, whoever asks."""

    def __init__(self, frames, fps):
        self.frames = frames
        self.period = 1.0 / fps
        self.index = 0
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def read(self):
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + self.period
            if at > now:
                time.sleep(at - now)
            frame = self.frames[self.index % len(self.frames)]
            self.index += 1
            return frame


class Flags:
    """The server's one set of flags, and a condition the senders wait on."""

    def __init__(self):
        self.single = False
        self.ack = False
        self.streaming = False
        self.shutdown = False
        self.changed = threading.Condition()

    def update(self, **values):
        with self.changed:
            for name, value in values.items():
                setattr(self, name, value)
            self.changed.notify_all()


def sender(conn, camera, flags):
    sent = 0
    since = time.monotonic()
    while not flags.shutdown:
        with flags.changed:
            flags.changed.wait_for(lambda: flags.shutdown or flags.single or flags.streaming, timeout=0.5)
        if flags.shutdown or not (flags.single or flags.streaming):
            continue
        jpeg = camera.read()
        try:
            conn.sendall(len(jpeg).to_bytes(4, byteorder='big'))
            conn.sendall(jpeg)
            sent += 1
        except OSError as err:
            log(f'send failed: {err}')
        if not flags.streaming:
            with flags.changed:
                flags.changed.wait_for(lambda: flags.ack or flags.shutdown)
            flags.update(ack=False, single=False)
        if time.monotonic() - since >= 1:
            log(f'FPS: {sent / (time.monotonic() - since):.1f}')
            sent = 0
            since = time.monotonic()


def reader(conn, addr, flags):
    log(f'connected by {addr[0]}:{addr[1]}')
    try:
        while not flags.shutdown:
            try:
                data = conn.recv(1024)
            except OSError:
                log('connection reset')
                break
            if not data:
                log('connection closed')
                break
            command = data.decode().strip()
            log(f'received command: {command!r}')
            if command == '0':
                if not flags.streaming:
                    flags.update(single=True)
            elif command == '1':
                flags.update(ack=True)
            elif command == '2':
                flags.update(shutdown=True)
                break
            elif command == '3':
                flags.update(streaming=True)
            elif command == 'q':
                flags.update(streaming=False)
            else:
                log(f'Unknown command: {command!r}')
                conn.sendall(b'Unknown command')
    finally:
        conn.close()


def exit_with_parent():
    """Standard input is a pipe from the test: when it ends, the test has gone, and so does this server."""
    sys.stdin.read()
    os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    port = int(sys.argv[1])
    folder = sys.argv[2]
    fps = float(sys.argv[3])
    frames = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), 'rb') as f:
            frames.append(f.read())
    camera = Camera(frames, fps)
    flags = Flags()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(('127.0.0.1', port))
    server.listen()
    log(f'listening on {server.getsockname()[1]}')
    while not flags.shutdown:
        conn, addr = server.accept()
        threading.Thread(target=sender, args=(conn, camera, flags), daemon=True).start()
        threading.Thread(target=reader, args=(conn, addr, flags), daemon=True).start()
    log('server stopped')


if __name__ == '__main__':
    main()
