#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A hostile primary for the transfer-limit tests (TCP only, no dependencies).

    hostile-xfr.py PORT ZONE MODE LOG

Answers SOA queries, and AXFR/IXFR requests according to MODE:
  endless-axfr  AXFR: the SOA, then A records without end (never the closing SOA);
  ixfr-loop     AXFR: a small zone with serial 100; afterwards SOA queries
                answer 102 and IXFR from 100 answers "102" followed by the
                deltas 100 -> 101 -> 100 -> 101 ... without end;
  soa-ahead     AXFR: a small zone with serial 100; afterwards SOA queries
                answer 101 and IXFR from 100 answers "up to date" (the
                single SOA 100): a serial announced and never served.
Every request is appended to LOG as one line "QTYPE SERIAL" (serial of the
IXFR request, 0 otherwise). Streams stop when the client closes the
connection; the process runs until it is killed.
"""
import socket
import struct
import sys
import threading

PORT, ZONE, MODE, LOG = int(sys.argv[1]), sys.argv[2].rstrip('.') + '.', sys.argv[3], sys.argv[4]
T_A, T_NS, T_SOA, T_IXFR, T_AXFR = 1, 2, 6, 251, 252
state = {'axfr_done': False}
lock = threading.Lock()


def name(n):
    out = b''
    for label in n.rstrip('.').split('.'):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def rr(owner, rtype, ttl, rdata):
    return name(owner) + struct.pack('!HHIH', rtype, 1, ttl, len(rdata)) + rdata


def soa(serial):
    rdata = name('ns.' + ZONE) + name('h.' + ZONE) + struct.pack('!IIIII', serial, 3600, 900, 86400, 300)
    return rr(ZONE, T_SOA, 3600, rdata)


def a(i):
    return rr('h%d.%s' % (i, ZONE), T_A, 3600, bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255]))


def message(qid, question, records):
    hdr = struct.pack('!HHHHHH', qid, 0x8400, 1, len(records), 0, 0)
    return hdr + question + b''.join(records)


def send(conn, msg):
    conn.sendall(struct.pack('!H', len(msg)) + msg)


def recv_exact(conn, n):
    buf = b''
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise ConnectionError
        buf += chunk
    return buf


def parse_query(msg):
    qid, _flags, qd, _an, ns, _ar = struct.unpack('!HHHHHH', msg[:12])
    pos = 12
    while msg[pos] != 0:
        pos += 1 + msg[pos]
    pos += 1
    qtype = struct.unpack('!H', msg[pos:pos + 2])[0]
    question = msg[12:pos + 4]
    pos += 4
    serial = 0
    if qtype == T_IXFR and ns > 0:
        # Authority SOA (compressed or not): the serial is 20 bytes from the end of the rdata.
        if msg[pos] & 0xC0 == 0xC0:
            pos += 2
        else:
            while msg[pos] != 0:
                pos += 1 + msg[pos]
            pos += 1
        rdlen = struct.unpack('!H', msg[pos + 8:pos + 10])[0]
        rdata = msg[pos + 10:pos + 10 + rdlen]
        serial = struct.unpack('!I', rdata[-20:-16])[0]
    return qid, qtype, question, serial


def serve(conn):
    try:
        while True:
            ln = struct.unpack('!H', recv_exact(conn, 2))[0]
            qid, qtype, question, serial = parse_query(recv_exact(conn, ln))
            with open(LOG, 'a') as f:
                f.write('%d %d\n' % (qtype, serial))
            if qtype == T_SOA:
                with lock:
                    cur = 100
                    if state['axfr_done']:
                        cur = {'ixfr-loop': 102, 'soa-ahead': 101}.get(MODE, 100)
                send(conn, message(qid, question, [soa(cur)]))
            elif qtype == T_AXFR and MODE == 'endless-axfr':
                send(conn, message(qid, question, [soa(100)]))
                i = 0
                while True:
                    send(conn, message(qid, question, [a(i + k) for k in range(200)]))
                    i += 200
            elif qtype == T_AXFR:
                records = [soa(100), rr(ZONE, T_NS, 3600, name('ns.' + ZONE)),
                           rr('ns.' + ZONE, T_A, 3600, bytes([192, 0, 2, 1])), soa(100)]
                send(conn, message(qid, question, records))
                with lock:
                    state['axfr_done'] = True
            elif qtype == T_IXFR and MODE == 'soa-ahead':
                send(conn, message(qid, question, [soa(100)]))
            elif qtype == T_IXFR:
                send(conn, message(qid, question, [soa(102)]))
                frm, to, i = 100, 101, 0
                while True:
                    # One delta frm -> to (100 -> 101 -> 100 ..., never reaching
                    # 102, which would end the answer): remove one A, add another.
                    send(conn, message(qid, question, [soa(frm), a(i), soa(to), a(i + 1)]))
                    frm, to, i = to, frm, i + 1
            else:
                hdr = struct.pack('!HHHHHH', qid, 0x8405, 1, 0, 0, 0)  # REFUSED
                send(conn, hdr + question)
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', PORT))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
