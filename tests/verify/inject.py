#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inject exactly one DNSSEC fault into a signed zone.

The input must be one RR per line with absolute owner names, as written by
`ldns-read-zone` (owner TTL CLASS TYPE RDATA). The faulty zone is written to
OUT; the owner and type the fault concerns are printed on stdout as
"OWNER TYPE" (for NSEC3 zones the hashed owner follows as a third field when
the fault is about a denial record), so the test can check that the validator
names them.

  inject.py corrupt-sig      IN OUT OWNER TYPE    alter one RRSIG's signature bytes
  inject.py drop-rrsig       IN OUT OWNER TYPE [ALG]
                                 remove the RRSIG(s) over OWNER/TYPE (only those of
                                 algorithm ALG if given)
  inject.py drop-denial      IN OUT OWNER         remove the NSEC/NSEC3 of OWNER + its RRSIG
  inject.py splice-signed    IN OUT OWNER TYPE FROM
                                 add OWNER/TYPE and its RRSIG from zone FROM (signed
                                 with the same keys); the denial record of IN stays,
                                 so its bitmap lacks TYPE
  inject.py splice-unsigned  IN OUT OWNER TYPE FROM
                                 add OWNER/TYPE from FROM without its RRSIG, and take
                                 the denial record of OWNER (and its RRSIG) from FROM,
                                 so only the RRSIG is missing
  inject.py drop-ksk-sig     IN OUT              remove the SEP keys' RRSIGs over DNSKEY
  inject.py info             IN                  print denial form, key tags, flags
"""
import base64
import hashlib
import sys


def strip_comment(line):
    out, quoted, esc = [], False, False
    for c in line:
        if esc:
            esc = False
        elif c == '\\':
            esc = True
        elif c == '"':
            quoted = not quoted
        elif c == ';' and not quoted:
            break
        out.append(c)
    return ''.join(out).strip()


class RR:
    __slots__ = ('owner', 'ttl', 'cls', 'type', 'rdata', 'line')

    def __init__(self, line):
        f = strip_comment(line).split(None, 4)
        if len(f) < 4:
            raise ValueError(f"not an RR line: {line!r}")
        self.owner, self.ttl, self.cls, self.type = f[0].lower(), f[1], f[2], f[3].upper()
        self.rdata = f[4] if len(f) > 4 else ''
        self.line = line.rstrip('\n')

    def covered(self):
        return self.rdata.split()[0].upper() if self.type == 'RRSIG' else None

    def rrsig_keytag(self):
        return int(self.rdata.split()[6])


def load(path):
    rrs = []
    with open(path) as f:
        for line in f:
            s = strip_comment(line)
            if not s or s.startswith('$'):
                continue
            rrs.append(RR(line))
    return rrs


def save(rrs, path):
    with open(path, 'w') as f:
        for rr in rrs:
            f.write(rr.line + '\n')


def fqdn(name):
    name = name.lower()
    return name if name.endswith('.') else name + '.'


def apex(rrs):
    for rr in rrs:
        if rr.type == 'SOA':
            return rr.owner
    raise SystemExit("no SOA in zone")


def name_wire(name):
    wire = b''
    for label in fqdn(name).rstrip('.').split('.'):
        if label:
            wire += bytes([len(label)]) + label.encode()
    return wire + b'\0'


B32STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
B32HEX = '0123456789abcdefghijklmnopqrstuv'


def nsec3_hash(name, salt_hex, iterations):
    salt = b'' if salt_hex == '-' else bytes.fromhex(salt_hex)
    h = hashlib.sha1(name_wire(name) + salt).digest()
    for _ in range(iterations):
        h = hashlib.sha1(h + salt).digest()
    return base64.b32encode(h).decode().translate(str.maketrans(B32STD, B32HEX.upper())).lower()


def nsec3param(rrs):
    for rr in rrs:
        if rr.type == 'NSEC3PARAM':
            f = rr.rdata.split()
            return int(f[2]), f[3]
    return None


def denial_owner(rrs, owner):
    """(owner of the denial record for OWNER, its type)."""
    p = nsec3param(rrs)
    if p is None:
        return fqdn(owner), 'NSEC'
    return nsec3_hash(owner, p[1], p[0]) + '.' + apex(rrs), 'NSEC3'


def is_sig_over(rr, owner, rtype):
    return rr.type == 'RRSIG' and rr.owner == owner and rr.covered() == rtype


def keytag(rdata):
    f = rdata.split(None, 3)
    wire = (int(f[0]).to_bytes(2, 'big') + bytes([int(f[1]), int(f[2])]) +
            base64.b64decode(''.join(f[3].split())))
    acc = 0
    for i, b in enumerate(wire):
        acc += b if i & 1 else b << 8
    acc += (acc >> 16) & 0xFFFF
    return acc & 0xFFFF


def corrupt_sig(rrs, owner, rtype):
    for rr in rrs:
        if is_sig_over(rr, owner, rtype):
            head = rr.rdata.split()[:8]
            sig = bytearray(base64.b64decode(''.join(rr.rdata.split()[8:])))
            # Flip bits in the middle: same length, still well-formed base64,
            # a different signature.
            sig[len(sig) // 2] ^= 0x5A
            sig[len(sig) // 2 - 3] ^= 0x21
            rdata = ' '.join(head) + ' ' + base64.b64encode(bytes(sig)).decode()
            rr.line = f"{rr.owner}\t{rr.ttl}\t{rr.cls}\tRRSIG\t{rdata}"
            return rrs
    raise SystemExit(f"no RRSIG over {owner} {rtype}")


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    op, src = sys.argv[1], sys.argv[2]
    rrs = load(src)
    if op == 'info':
        p = nsec3param(rrs)
        print('denial', 'NSEC3' if p else 'NSEC')
        for rr in rrs:
            if rr.type == 'DNSKEY':
                print('dnskey', rr.rdata.split()[0], keytag(rr.rdata))
        return
    dst = sys.argv[3]
    args = sys.argv[4:]
    if op == 'corrupt-sig':
        owner, rtype = fqdn(args[0]), args[1].upper()
        out = corrupt_sig(rrs, owner, rtype)
        print(owner, rtype)
    elif op == 'drop-rrsig':
        owner, rtype = fqdn(args[0]), args[1].upper()
        alg = args[2] if len(args) > 2 else None
        out = [rr for rr in rrs if not (is_sig_over(rr, owner, rtype) and
                                        (alg is None or rr.rdata.split()[1] == alg))]
        if len(out) == len(rrs):
            raise SystemExit(f"no RRSIG over {owner} {rtype}")
        print(owner, rtype)
    elif op == 'drop-denial':
        owner = fqdn(args[0])
        downer, dtype = denial_owner(rrs, owner)
        out = [rr for rr in rrs
               if not (rr.owner == downer and rr.type == dtype) and
               not is_sig_over(rr, downer, dtype)]
        if len(rrs) - len(out) < 2:
            raise SystemExit(f"no {dtype} with RRSIG at {downer}")
        print(owner, dtype, downer)
    elif op in ('splice-signed', 'splice-unsigned'):
        owner, rtype = fqdn(args[0]), args[1].upper()
        other = load(args[2])
        if any(rr.owner == owner and rr.type == rtype for rr in rrs):
            raise SystemExit(f"{owner} {rtype} already in {src}")
        add = [rr for rr in other if rr.owner == owner and rr.type == rtype]
        sigs = [rr for rr in other if is_sig_over(rr, owner, rtype)]
        if not add or not sigs:
            raise SystemExit(f"no signed {owner} {rtype} in {args[2]}")
        if op == 'splice-signed':
            out = rrs + add + sigs
            print(owner, denial_owner(rrs, owner)[1], denial_owner(rrs, owner)[0])
        else:
            downer, dtype = denial_owner(rrs, owner)
            keep = [rr for rr in rrs
                    if not (rr.owner == downer and rr.type == dtype) and
                    not is_sig_over(rr, downer, dtype)]
            new = [rr for rr in other
                   if (rr.owner == downer and rr.type == dtype) or is_sig_over(rr, downer, dtype)]
            if len(rrs) - len(keep) < 2 or len(new) < 2:
                raise SystemExit(f"no signed {dtype} at {downer}")
            out = keep + new + add
            print(owner, rtype)
    elif op == 'drop-ksk-sig':
        a = apex(rrs)
        ksk = {keytag(rr.rdata) for rr in rrs
               if rr.type == 'DNSKEY' and int(rr.rdata.split()[0]) & 1}
        out = [rr for rr in rrs
               if not (is_sig_over(rr, a, 'DNSKEY') and rr.rrsig_keytag() in ksk)]
        if len(out) == len(rrs):
            raise SystemExit("no RRSIG DNSKEY by a SEP key")
        left = sum(1 for rr in out if is_sig_over(rr, a, 'DNSKEY'))
        print(a, 'DNSKEY', f"remaining-dnskey-sigs={left}")
    else:
        raise SystemExit(f"unknown operation {op}")
    save(out, dst)


if __name__ == '__main__':
    main()
