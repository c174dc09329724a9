"""A contactless card for the vsmartcard-vpcd virtual reader that answers only GET UID.

Run it to insert the card into the virtual reader, kill it to remove the card. It connects to
pcscd's vpcd slot (TCP 35963 is "Virtual PCD 00 00", 35964 is "00 01") and speaks the vpcd
protocol: each message is a 2-byte big-endian length and a payload; a 1-byte payload is a control
code, anything longer is an APDU. It exits when pcscd closes the socket (pcscd stopped or
restarted). Standard library only, so tests can start it with any interpreter.
"""

import argparse
import socket
import struct
import sys

GET_ATR = 4
# PC/SC part 3 ATR for a contactless MIFARE Classic 1K card, as a PC/SC-2 reader reports it.
ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
GET_UID = bytes.fromhex("FFCA0000")


def read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def answer(payload: bytes, uid: bytes) -> bytes | None:
    if len(payload) == 1:
        # Power off, power on and reset need no answer; only "send ATR" does.
        return ATR if payload[0] == GET_ATR else None
    if payload[:4] == GET_UID:
        print("answered GET UID", flush=True)
        return uid + b"\x90\x00"
    return b"\x6d\x00"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uid", required=True, help="hex UID, e.g. 04A1B2C3D4E5F6")
    parser.add_argument("--port", type=int, default=35963)
    args = parser.parse_args()
    uid = bytes.fromhex(args.uid)
    with socket.create_connection(("127.0.0.1", args.port)) as sock:
        print("inserted", flush=True)
        while (header := read_exactly(sock, 2)) is not None:
            payload = read_exactly(sock, struct.unpack(">H", header)[0])
            if payload is None:
                break
            reply = answer(payload, uid)
            if reply is not None:
                sock.sendall(struct.pack(">H", len(reply)) + reply)
    print("removed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
