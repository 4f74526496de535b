#!/usr/bin/env python3
"""Talks to an edgecam server exactly the way the seed article's Python client does.

Same socket calls and the same byte sequences, sent back to back so they arrive glued:
'0' then '1' (single frame and its ack), '3' then '0' (start streaming), 'q' (stop),
'2' twice (goodbye). Frames are read as the seed reads them: recv(4) for the big-endian
length, then recv() in a loop until that many bytes. OpenCV is left out (the display and
the XVID writer are not part of the protocol); each JPEG is checked for SOI and EOI instead.
Prints one JSON line with what it received; exits non-zero on any failure.

usage: seed_client.py HOST PORT STREAM_FRAMES
"""
import json
import socket
import sys


def recv_exact(conn, n):
    data = b''
    while len(data) < n:
        packet = conn.recv(min(1024, n - len(data)))
        if not packet:
            raise ConnectionError('server closed the connection mid-frame')
        data += packet
    return data


def receive_image(conn, timeout=5):
    conn.settimeout(timeout)
    length = int.from_bytes(recv_exact(conn, 4), byteorder='big')
    jpeg = recv_exact(conn, length)
    if not (jpeg.startswith(b'\xff\xd8') and jpeg.rstrip(b'\x00').endswith(b'\xff\xd9')):
        raise ValueError('received bytes are not a whole JPEG')
    return jpeg


def main():
    host, port, stream_frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result = {}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect((host, port))
        # Single frame: the command, then the ack, glued.
        s.sendall(b'0')
        s.sendall(b'1')
        result['single_bytes'] = len(receive_image(s))
        # Stream mode: '3' then the seed's extra '0', glued; read the first frame, then more.
        s.sendall(b'3')
        s.sendall(b'0')
        sizes = [len(receive_image(s))]
        while len(sizes) < stream_frames:
            sizes.append(len(receive_image(s, timeout=1)))
        result['stream_frames'] = len(sizes)
        s.sendall(b'q')
        # Frames already on the wire when 'q' arrived are drained, as the seed's loop would.
        s.settimeout(1)
        drained = 0
        try:
            while True:
                receive_image(s, timeout=1)
                drained += 1
        except socket.timeout:
            pass
        result['drained_after_q'] = drained
        # Goodbye: the seed sends the typed '2' and then b'2' again.
        s.sendall(b'2')
        s.sendall(b'2')
        s.settimeout(5)
        result['closed_by_server'] = s.recv(1) == b''
    print(json.dumps(result))


if __name__ == '__main__':
    main()
