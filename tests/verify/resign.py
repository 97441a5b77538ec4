#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Re-sign RRsets of a signed zone after a fault was injected, and make keys.

The rule tests (tests/func/verify-rfc.sh) change a zone signed by BIND or
ldns so that exactly one RFC rule is broken; the RRsets the change touched
are signed again here with the signer's own keys, so that the rule under
test is the only thing wrong (or, for zones that must pass, nothing is).

The zone is one RR per line with absolute owners, as ldns-read-zone writes
it. Keys are BIND private-key files (ldns-keygen and dnssec-keygen write
them): ECDSAP256SHA256 (13), RSASHA1 (5), RSASHA1-NSEC3-SHA1 (7), RSASHA256
(8). Rdata is encoded for SOA, NS, A, AAAA, TXT, DS, NSEC3, NSEC3PARAM and
DNSKEY, the types the tests re-sign.

  resign.py sign IN OUT KEY[,KEY...] OWNER TYPE [OWNER TYPE ...]
      replace the RRSIGs over each OWNER/TYPE with new ones by each KEY (the
      key file name without .key/.private); validity period, TTL and labels
      as in an RRSIG the zone has by the same key (else any RRSIG of the zone)
  resign.py sign-type IN OUT KEY[,KEY...] TYPE
      the same for every RRset of TYPE in the zone
  resign.py unlink-nsec3 IN OUT NAME
      remove the NSEC3 of NAME (and its RRSIGs) and point its predecessor's
      next hash past it; prints the predecessor's owner, to be signed again
  resign.py collide-dnskeys TAG N
      prints the rdata of N new ECDSAP256SHA256 zone keys (flags 256) whose
      key tag is TAG (about 65,536 keys are made for each; a few seconds)
"""
import base64
import os
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateNumbers, RSAPublicNumbers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inject import (RR, apex, fqdn, keytag, load, name_wire, nsec3_hash, nsec3param, save,  # noqa: E402
                    strip_comment)

TYPES = {'A': 1, 'NS': 2, 'SOA': 6, 'TXT': 16, 'AAAA': 28, 'DS': 43, 'RRSIG': 46,
         'DNSKEY': 48, 'NSEC3': 50, 'NSEC3PARAM': 51, 'NSEC': 47, 'MX': 15, 'CNAME': 5,
         'DNAME': 39, 'CDS': 59, 'CDNSKEY': 60, 'ZONEMD': 63}
B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV'
B32STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'


def type_code(name):
    name = name.upper()
    if name.startswith('TYPE'):
        return int(name[4:])
    return TYPES[name]


def bitmap(types):
    codes = sorted({type_code(t) for t in types})
    out, win = b'', {}
    for c in codes:
        win.setdefault(c >> 8, []).append(c & 0xff)
    for w in sorted(win):
        bits = bytearray(max(win[w]) // 8 + 1)
        for b in win[w]:
            bits[b // 8] |= 0x80 >> (b % 8)
        out += bytes([w, len(bits)]) + bytes(bits)
    return out


def txt_strings(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == '"':
            j, buf = i + 1, bytearray()
            while s[j] != '"':
                if s[j] == '\\':
                    if s[j + 1].isdigit():
                        buf.append(int(s[j + 1:j + 4]))
                        j += 4
                        continue
                    j += 1
                buf += s[j].encode()
                j += 1
            out.append(bytes(buf))
            i = j + 1
        else:
            i += 1
    return b''.join(bytes([len(x)]) + x for x in out)


def rdata_wire(rtype, rdata):
    f = rdata.split()
    if rtype == 'A':
        return bytes(int(x) for x in f[0].split('.'))
    if rtype == 'AAAA':
        import ipaddress
        return ipaddress.IPv6Address(f[0]).packed
    if rtype in ('NS', 'CNAME', 'DNAME'):
        return name_wire(f[0])
    if rtype == 'MX':
        return struct.pack('!H', int(f[0])) + name_wire(f[1])
    if rtype == 'SOA':
        return name_wire(f[0]) + name_wire(f[1]) + struct.pack('!5I', *(int(x) for x in f[2:7]))
    if rtype == 'TXT':
        return txt_strings(rdata)
    if rtype in ('DS', 'CDS'):
        return struct.pack('!HBB', int(f[0]), int(f[1]), int(f[2])) + bytes.fromhex(''.join(f[3:]))
    if rtype in ('DNSKEY', 'CDNSKEY'):
        return (struct.pack('!HBB', int(f[0]), int(f[1]), int(f[2])) +
                base64.b64decode(''.join(f[3:])))
    if rtype == 'NSEC3PARAM':
        salt = b'' if f[3] == '-' else bytes.fromhex(f[3])
        return struct.pack('!BBHB', int(f[0]), int(f[1]), int(f[2]), len(salt)) + salt
    if rtype == 'NSEC3':
        salt = b'' if f[3] == '-' else bytes.fromhex(f[3])
        nxt = base64.b32decode(f[4].upper().translate(str.maketrans(B32HEX, B32STD)))
        return (struct.pack('!BBHB', int(f[0]), int(f[1]), int(f[2]), len(salt)) + salt +
                bytes([len(nxt)]) + nxt + bitmap(f[5:]))
    raise SystemExit(f"resign.py: cannot encode {rtype} rdata")


def read_key(base):
    """(DNSKEY rdata presentation, flags, algorithm, tag, private key object)."""
    with open(base + '.key') as fk:
        # ldns-keygen ends the line with a comment (";{id = 5451 (zsk), ...}"):
        # Python 3.13's base64 no longer ignores it after the padding.
        line = [s for s in map(strip_comment, fk) if s][0]
    f = line.split()
    i = f.index('DNSKEY')
    dnskey = ' '.join(f[i + 1:])
    flags, alg = int(f[i + 1]), int(f[i + 3])
    fields = {}
    with open(base + '.private') as fp:
        for ln in fp:
            if ':' in ln:
                k, v = ln.split(':', 1)
                fields[k.strip()] = v.strip()
    if alg == 13:
        d = int.from_bytes(base64.b64decode(fields['PrivateKey']), 'big')
        key = ec.derive_private_key(d, ec.SECP256R1())
    elif alg in (5, 7, 8):
        num = {k: int.from_bytes(base64.b64decode(fields[k]), 'big') for k in
               ('Modulus', 'PublicExponent', 'PrivateExponent', 'Prime1', 'Prime2',
                'Exponent1', 'Exponent2', 'Coefficient')}
        key = RSAPrivateNumbers(num['Prime1'], num['Prime2'], num['PrivateExponent'],
                                num['Exponent1'], num['Exponent2'], num['Coefficient'],
                                RSAPublicNumbers(num['PublicExponent'], num['Modulus'])).private_key()
    else:
        raise SystemExit(f"resign.py: algorithm {alg} not supported")
    return dnskey, flags, alg, keytag(dnskey), key


def labels(owner):
    parts = [p for p in fqdn(owner).rstrip('.').split('.') if p]
    return len(parts) - (1 if parts and parts[0] == '*' else 0)


def sign_rrset(zone_apex, owner, rtype, rrs, key, template):
    dnskey, flags, alg, tag, priv = key
    ttl = int(rrs[0].ttl)
    t = template.rdata.split()
    exp, inc = t[4], t[5]

    def ts(v):
        import calendar
        import time
        return calendar.timegm(time.strptime(v, '%Y%m%d%H%M%S')) if len(v) == 14 else int(v)

    head = (struct.pack('!HBBIIIH', type_code(rtype), alg, labels(owner), ttl, ts(exp), ts(inc), tag)
            + name_wire(zone_apex))
    owner_w = name_wire(owner)
    wires = sorted({rdata_wire(rtype, rr.rdata) for rr in rrs})
    data = head + b''.join(owner_w + struct.pack('!HHIH', type_code(rtype), 1, ttl, len(w)) + w
                           for w in wires)
    if alg == 13:
        r, s = utils.decode_dss_signature(priv.sign(data, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, 'big') + s.to_bytes(32, 'big')
    else:
        h = hashes.SHA256() if alg == 8 else hashes.SHA1()
        sig = priv.sign(data, padding.PKCS1v15(), h)
    rdata = (f"{rtype} {alg} {labels(owner)} {ttl} {exp} {inc} {tag} {fqdn(zone_apex)} "
             f"{base64.b64encode(sig).decode()}")
    return RR(f"{owner}\t{ttl}\tIN\tRRSIG\t{rdata}")


def resign(rrs, keys, targets):
    apex = next(rr.owner for rr in rrs if rr.type == 'SOA')
    for owner, rtype in targets:
        owner, rtype = fqdn(owner), rtype.upper()
        rrset = [rr for rr in rrs if rr.owner == owner and rr.type == rtype]
        if not rrset:
            raise SystemExit(f"resign.py: no {owner} {rtype}")
        old = [rr for rr in rrs if rr.type == 'RRSIG' and rr.owner == owner and rr.covered() == rtype]
        sigs = [rr for rr in rrs if rr.type == 'RRSIG']
        new = []
        for k in keys:
            tmpl = next((s for s in sigs if s.rrsig_keytag() == k[3]), sigs[0])
            new.append(sign_rrset(apex, owner, rtype, rrset, k, tmpl))
        at = rrs.index(old[0]) if old else rrs.index(rrset[-1]) + 1
        rrs = [rr for rr in rrs if rr not in old]
        rrs[at:at] = new
    return rrs


def unlink_nsec3(rrs, name):
    iters, salt = nsec3param(rrs)
    h = nsec3_hash(name, salt, iters)
    owner = h + '.' + apex(rrs)
    mine = [rr for rr in rrs if rr.owner == owner and rr.type == 'NSEC3']
    if not mine:
        raise SystemExit(f"resign.py: no NSEC3 for {name} ({owner})")
    nxt = mine[0].rdata.split()[4]
    pred = [rr for rr in rrs if rr.type == 'NSEC3' and rr.rdata.split()[4].lower() == h]
    f = pred[0].rdata.split()
    f[4] = nxt
    pred[0].rdata = ' '.join(f)
    pred[0].line = f"{pred[0].owner}\t{pred[0].ttl}\tIN\tNSEC3\t{pred[0].rdata}"
    out = [rr for rr in rrs if rr.owner != owner]
    print(pred[0].owner)
    return out


def collide_dnskeys(tag, n):
    """N new ECDSAP256SHA256 zone keys (flags 256) with key tag TAG."""
    found = 0
    while found < n:
        priv = ec.generate_private_key(ec.SECP256R1())
        pub = priv.public_key().public_numbers()
        raw = pub.x.to_bytes(32, 'big') + pub.y.to_bytes(32, 'big')
        dnskey = f"256 3 13 {base64.b64encode(raw).decode()}"
        if keytag(dnskey) == tag:
            print(dnskey)
            found += 1


def main(argv):
    if len(argv) >= 5 and argv[1] == 'sign' and len(argv) % 2 == 1:
        rrs = load(argv[2])
        keys = [read_key(k) for k in argv[4].split(',')]
        save(resign(rrs, keys, list(zip(argv[5::2], argv[6::2]))), argv[3])
    elif len(argv) == 6 and argv[1] == 'sign-type':
        rrs = load(argv[2])
        keys = [read_key(k) for k in argv[4].split(',')]
        owners = []
        for rr in rrs:
            if rr.type == argv[5].upper() and rr.owner not in owners:
                owners.append(rr.owner)
        save(resign(rrs, keys, [(o, argv[5]) for o in owners]), argv[3])
    elif len(argv) == 5 and argv[1] == 'unlink-nsec3':
        save(unlink_nsec3(load(argv[2]), argv[4]), argv[3])
    elif len(argv) == 4 and argv[1] == 'collide-dnskeys':
        collide_dnskeys(int(argv[2]), int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
