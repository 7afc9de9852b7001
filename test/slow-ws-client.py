#!/usr/bin/env python3
"""A WebSocket client that reads nothing until told to, with a tiny receive buffer, so the
kernel cannot absorb a flood on its behalf (Node cannot shrink SO_RCVBUF; Python can).

usage: slow-ws-client.py HOST PORT TOKEN SESSION_ID
Prints "attached" once the attach reply is read, waits for a line on stdin, then reads for up to 10 s and prints "resync" once
a resync message arrives (or "no resync")."""
import json
import socket
import sys
import time

host, port, token, session = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, port))
s.sendall(
    (
        f"GET /rpc HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
)
head = b""
while b"\r\n\r\n" not in head:
    head += s.recv(1)
assert head.startswith(b"HTTP/1.1 101"), head
payload = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "method": "session.attach", "params": {"id": session}}
).encode()
mask = bytes([1, 2, 3, 4])
masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
# read the attach reply (it ends with the screen size), then nothing more until told to
reply = b""
while b'"rows":' not in reply:
    reply = (reply + s.recv(65536))[-65536:]
print("attached", flush=True)
sys.stdin.readline()
s.settimeout(0.5)
seen = b""
total = 0
deadline = time.time() + 10
while time.time() < deadline:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        continue
    if not chunk:
        break
    total += len(chunk)
    seen = (seen + chunk)[-65536:]
    if b'"resync":true' in seen:
        print("resync", flush=True)
        sys.exit(0)
print(f"no resync after {total} bytes; last: {seen[-300:]!r}", flush=True)
