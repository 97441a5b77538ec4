#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the seed corpora of fuzz_ixfr and fuzz_resolver (run by hand from
tests/fuzz; the files are committed). Each seed is one mode byte, then DNS
messages as chunks of [u16 length][message] (see fuzz_net.h); IDs are set by
the harness."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'verify'))
from inject import name_wire  # noqa: E402
from resign import rdata_wire, type_code  # noqa: E402

KEY = ('256 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iU'
       'zy1L53eKGQ==')
KSK = ('257 3 13 G/wm7zRf2RA8eVGC8kH4abdM6QiBQ/e7HwtWqnI42zeQoicCpkHGIGB3EsFSP5/kpc/uXr+C6t/R'
       'aQBWYr0SgA==')


def rr(owner, rtype, rdata, ttl=300):
    rd = rdata_wire(rtype, rdata)
    return name_wire(owner) + struct.pack('!HHIH', type_code(rtype), 1, ttl, len(rd)) + rd


def msg(qname, qtype, answer=(), authority=(), flags=0x8400, rcode=0):
    hdr = struct.pack('!HHHHHH', 0, flags | rcode, 1, len(answer), len(authority), 0)
    q = name_wire(qname) + struct.pack('!HH', qtype, 1)
    return hdr + q + b''.join(answer) + b''.join(authority)


def chunks(mode, *msgs):
    return bytes([mode]) + b''.join(struct.pack('!H', len(m)) + m for m in msgs)


def soa(serial):
    return rr('test.', 'SOA', f'ns.test. hm.test. {serial} 3600 900 604800 300')


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def ixfr(d):
    IX, AX = 251, 252
    www1 = rr('www.test.', 'A', '192.0.2.2')
    www9 = rr('www.test.', 'A', '192.0.2.9')
    new = rr('new.test.', 'TXT', '"added"')
    delta = [soa(2), soa(1), www1, soa(2), www9, new, soa(2)]
    write(d, 'ixfr-delta', chunks(0, msg('test.', IX, delta)))
    write(d, 'ixfr-delta-split', chunks(0, msg('test.', IX, delta[:3]), msg('test.', IX, delta[3:])))
    write(d, 'ixfr-two-deltas', chunks(0, msg('test.', IX, [
        soa(3), soa(1), www1, soa(2), www9, soa(2), new, soa(3), soa(3)])))
    write(d, 'ixfr-uptodate', chunks(0, msg('test.', IX, [soa(1)])))
    body = [rr('test.', 'NS', 'ns.test.'), rr('ns.test.', 'A', '192.0.2.1'),
            rr('sub.test.', 'NS', 'ns.sub.test.'), rr('ns.sub.test.', 'A', '192.0.2.3'), www9]
    write(d, 'ixfr-axfr-style', chunks(0, msg('test.', IX, [soa(2)] + body + [soa(2)])))
    write(d, 'axfr', chunks(1, msg('test.', AX, [soa(2)] + body[:2]), msg('test.', AX, body[2:] + [soa(2)])))
    write(d, 'ixfr-tsig-unsigned', chunks(2, msg('test.', IX, delta)))
    write(d, 'ixfr-refused', chunks(0, msg('test.', IX, rcode=5)))
    write(d, 'ixfr-wrong-start', chunks(0, msg('test.', IX, [soa(3), soa(2), www1, soa(3), soa(3)])))


def resolver(d):
    zone = 'test.sub.'
    A, AAAA, NS, DS, DNSKEY, CDS, CDNSKEY = 1, 28, 2, 43, 48, 59, 60
    ds = '4242 13 2 0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0'
    child = [msg(zone, DNSKEY, [rr(zone, 'DNSKEY', KEY), rr(zone, 'DNSKEY', KSK)]),
             msg(zone, CDS, [rr(zone, 'CDS', ds)]),
             msg(zone, CDNSKEY, [rr(zone, 'CDNSKEY', KSK)])]
    parent = [msg(zone, DS, [rr(zone, 'DS', ds)]),
              msg('sub.', DNSKEY, [rr('sub.', 'DNSKEY', KSK)])]
    disc = [msg(zone, NS, [rr(zone, 'NS', 'ns1.example.'), rr(zone, 'NS', 'ns2.example.')]),
            msg('ns1.example.', A, [rr('ns1.example.', 'A', '192.0.2.53')]),
            msg('ns1.example.', AAAA, [rr('ns1.example.', 'AAAA', '2001:db8::53')]),
            msg('ns2.example.', A, [rr('ns2.example.', 'A', '192.0.2.54')]),
            msg('ns2.example.', AAAA, [])]
    write(d, 'views-discover', chunks(0, *child, *parent, *disc))
    write(d, 'views-rd', chunks(1, *[m[:2] + struct.pack('!H', 0x8180) + m[4:] for m in child + parent]))
    tc = msg(zone, DNSKEY, flags=0x8600)
    write(d, 'truncated-then-tcp', chunks(0, tc, child[0], *child[1:], *parent))
    write(d, 'nxdomain', chunks(0, msg(zone, DNSKEY, rcode=3), msg(zone, CDS, rcode=3),
                                 msg(zone, CDNSKEY, rcode=3)))
    write(d, 'servfail', chunks(2, msg(zone, DNSKEY, rcode=2)))
    write(d, 'not-authoritative', chunks(0, msg(zone, DNSKEY, [rr(zone, 'DNSKEY', KEY)], flags=0x8000)))


if __name__ == '__main__':
    here = os.path.dirname(os.path.abspath(__file__))
    ixfr(os.path.join(here, 'corpus', 'ixfr'))
    resolver(os.path.join(here, 'corpus', 'resolver'))
