#!/usr/bin/env python3
"""Hostile-input campaign: generates corrupt and hostile inputs for every reader and command, runs
the command line on each (30 s timeout, peak RSS from /usr/bin/time -v) and tabulates outcomes.

Usage: scripts/hostile-inputs.sh [WORKDIR]   (python3 standard library only)

A case passes when it ends as
  * a refusal: exit 1, exactly one line "restore-rwkv CMD: ..." on stderr naming the input or output
    path as given, no stack trace, no output and no temporary file left; or
  * a success (exit 0) where the case allows one: a mutation that leaves a valid file (a flipped
    voxel bit). Where the container has a checksum (gzip, zip), a success must reproduce the clean
    file's output byte for byte.
and in every case: within 30 s, under 1.5 GB resident, input unchanged, injected code never run.
"""
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "restore-rwkv")
RES = os.path.join(ROOT, "core", "src", "test", "resources")
TIMEOUT_S = 30
RSS_LIMIT_KB = 1536 * 1024


# ---------------------------------------------------------------- valid base files

def nifti1(dims, datatype, data, slope=0.0, inter=0.0, endian="<"):
    bitpix = {2: 8, 4: 16, 8: 32, 16: 32, 64: 64, 512: 16}[datatype]
    h = bytearray(348)
    struct.pack_into(endian + "i", h, 0, 348)
    d = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into(endian + "8h", h, 40, *d)
    struct.pack_into(endian + "hh", h, 70, datatype, bitpix)
    struct.pack_into(endian + "8f", h, 76, 1, 1, 1, 1, 1, 1, 1, 1)
    struct.pack_into(endian + "f", h, 108, 352)
    struct.pack_into(endian + "ff", h, 112, slope, inter)
    struct.pack_into(endian + "h", h, 254, 0)
    h[344:348] = b"n+1\0"
    return bytes(h) + b"\0\0\0\0" + data


def values(n, seed=0, lo=-1000, hi=2000):
    r = random.Random(seed)
    return [r.randint(lo, hi) for _ in range(n)]


def pack(fmt, vals, endian="<"):
    return struct.pack(endian + str(len(vals)) + fmt, *vals)


def npy(shape, descr, data, fortran=False):
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        descr, "True" if fortran else "False", ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    total = 10 + len(d) + 1
    pad = (64 - total % 64) % 64
    hdr = d + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode("latin1") + data


def npz(members, deflate=True):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return b.getvalue()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(w, h, bitdepth=16, raw=None, idat=None):
    if raw is None and idat is None:
        row = b"".join(struct.pack(">H", (x * 997) & 0xffff) for x in range(w)) if bitdepth == 16 else bytes(range(w))
        raw = b"".join(b"\0" + row for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, bitdepth, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", idat if idat is not None else zlib.compress(raw)) + png_chunk(b"IEND", b""))


def tiff(pages, w, h, compression=1, next_override=None, strip_count_override=None, pixels=None):
    """Little-endian multi-page 16-bit grey TIFF; next_override(i, offsets) may rewrite page i's next-IFD offset."""
    out = bytearray(b"II*\0\0\0\0\0")
    ifd_offsets = []
    entries_pos = []
    for p in range(pages):
        data = pixels if pixels is not None else b"".join(struct.pack("<H", (p * 100 + i) & 0xffff) for i in range(w * h))
        data_off = len(out)
        out += data
        if len(out) % 2:
            out += b"\0"
        tags = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 16), (259, 3, 1, compression), (262, 3, 1, 1),
                (273, 4, 1, data_off), (277, 3, 1, 1), (278, 4, 1, h),
                (279, 4, 1, strip_count_override if strip_count_override is not None else len(data))]
        ifd_off = len(out)
        ifd_offsets.append(ifd_off)
        out += struct.pack("<H", len(tags))
        for tag, typ, cnt, val in tags:
            if typ == 3:
                out += struct.pack("<HHIHH", tag, typ, cnt, val, 0)
            else:
                out += struct.pack("<HHII", tag, typ, cnt, val)
        entries_pos.append(len(out))
        out += b"\0\0\0\0"
    struct.pack_into("<I", out, 4, ifd_offsets[0])
    for p in range(pages):
        nxt = ifd_offsets[p + 1] if p + 1 < pages else 0
        if next_override is not None:
            nxt = next_override(p, ifd_offsets, nxt)
        struct.pack_into("<I", out, entries_pos[p], nxt)
    return bytes(out)


PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>matrix</key><dict><key>dtype</key><string>%s</string><key>filename</key><string>matrix.dat</string>
<key>shape</key><array><integer>%d</integer><integer>%d</integer><integer>%d</integer></array></dict>
<key>spacing</key><array><real>1.0</real><real>1.0</real><real>2.0</real></array>
<key>modality</key><string>CT</string>%s
</dict></plist>
"""


def inv3(shape=(2, 8, 8), dtype="int16", matrix=None, plist=None, extra_members=(), mtime=0):
    if matrix is None:
        matrix = pack("h", values(shape[0] * shape[1] * shape[2], 3))
    if plist is None:
        plist = (PLIST % (dtype, shape[0], shape[1], shape[2], "")).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in [("proj/main.plist", plist), ("proj/matrix.dat", matrix)] + list(extra_members):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = mtime
            t.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def safetensors(tensors, metadata=None, header_override=None):
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    off = 0
    blob = b""
    for name, (shape, data) in tensors.items():
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + len(data)]}
        off += len(data)
        blob += data
    text = header_override if header_override is not None else json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blob


def pickle_pth(pickle_bytes, extra=()):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")
        for n, d in extra:
            z.writestr(n, d)
    return b.getvalue()


# ---------------------------------------------------------------- cases

class Case:
    def __init__(self, name, args, expect, inputs=(), outputs=(), names=(), clean_output=None, marker=None, user=None):
        self.name = name
        self.args = args  # command line after the launcher
        self.expect = expect  # "refuse" | "either" | "either-same" | "ok" | "folder"
        self.inputs = list(inputs)  # files that must not change
        self.outputs = list(outputs)  # paths that must not exist after a refusal
        self.names = list(names)  # one of these must appear in a refusal's line
        self.clean_output = clean_output  # bytes a success must reproduce (either-same)
        self.marker = marker  # file an injected payload would create
        self.user = user  # run as this user (permission cases)


def main():
    work = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join("/tmp", "restore-rwkv-hostile"))
    only = sys.argv[2] if len(sys.argv) > 2 else None
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    os.chmod(work, 0o755)
    cases = []
    counter = [0]

    def new_dir():
        counter[0] += 1
        d = os.path.join(work, "c%04d" % counter[0])
        os.makedirs(d)
        os.chmod(d, 0o777)
        return d

    def put(d, name, data):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        os.chmod(p, 0o644)
        return p

    def convert(name, fname, data, expect, out_name="out.nii", extra=(), clean=None):
        d = new_dir()
        src = put(d, fname, data)
        out = os.path.join(d, "o", out_name)
        cases.append(Case(name, ["convert", "--input", src, "--output", out] + list(extra), expect, [src], [out],
                          [src, out], clean))

    def restore(name, fname, data, expect, modality="ct", out_name="out.nii", extra=()):
        d = new_dir()
        src = put(d, fname, data)
        out = os.path.join(d, "o", out_name)
        cases.append(Case(name, ["restore", "--input", src, "--output", out, "--modality", modality, "--quiet",
                                 "--threads", "1"] + list(extra), expect, [src], [out], [src, out]))

    # valid bases: (file name, bytes, whether a checksum covers the content)
    n = 4 * 16 * 16
    bases = {
        "nii_int16": ("s.nii", nifti1((16, 16, 4), 4, pack("h", values(n))), False),
        "nii_float32_be": ("s.nii", nifti1((16, 16, 4), 16, pack("f", [v / 3 for v in values(n)], ">"), endian=">"), False),
        "nii_float64": ("s.nii", nifti1((16, 16, 4), 64, pack("d", [v / 7 for v in values(n)])), False),
        "niigz_int16": ("s.nii.gz", gzip.compress(nifti1((16, 16, 4), 4, pack("h", values(n))), mtime=0), True),
        "niigz_uint8": ("s.nii.gz", gzip.compress(nifti1((16, 16, 4), 2, bytes(values(n, 1, 0, 255))), mtime=0), True),
        "npy_f4": ("s.npy", npy((4, 16, 16), "<f4", pack("f", [v / 3 for v in values(n)])), False),
        "npy_i2_fortran": ("s.npy", npy((4, 16, 16), "<i2", pack("h", values(n)), True), False),
        "npz_deflated": ("s.npz", npz([("volume.npy", npy((4, 16, 16), "<f4", pack("f", values(n))))]), True),
        "npz_stored": ("s.npz", npz([("volume.npy", npy((4, 16, 16), "<i2", pack("h", values(n))))], False), True),
        "png16": ("s.png", png(16, 16), False),
        "png8": ("s.png", png(16, 16, 8), False),
        "tiff3": ("s.tif", tiff(3, 16, 16), False),
        "inv3": ("s.inv3", inv3(), True),
        "dcm_ct": ("s.dcm", open(os.path.join(RES, "io", "CT_small.dcm"), "rb").read(), False),
        "dcm_mr": ("s.dcm", open(os.path.join(RES, "io", "MR_small.dcm"), "rb").read(), False),
    }

    # clean outputs, for either-same checks (computed by running the converter once per base)
    clean = {}
    cdir = os.path.join(work, "clean")
    os.makedirs(cdir)
    for key, (fname, data, checked) in bases.items():
        if checked:
            src = put(cdir, key + "_" + fname, data)
            out = os.path.join(cdir, key + ".nii")
            r = subprocess.run([LAUNCHER, "convert", "--input", src, "--output", out], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("clean base %s does not convert: %s" % (key, r.stderr))
            clean[key] = open(out, "rb").read()

    rnd = random.Random(20240616)
    # 1. controls: every clean base converts
    for key, (fname, data, checked) in bases.items():
        convert("control/" + key, fname, data, "ok")
    # 2. truncations
    for key, (fname, data, checked) in bases.items():
        cuts = sorted({0, 1, 8, 100, 200, len(data) // 4, len(data) // 2, 3 * len(data) // 4, len(data) - 1})
        for c in cuts:
            if c < len(data):
                # the last byte of a PNG's IEND or a DICOM's padding may go unread: either outcome is right
                convert("truncate/%s@%d" % (key, c), fname, data[:c],
                        "either" if c == len(data) - 1 and key.startswith(("png", "dcm")) else "refuse")
    # 3. bit flips (a success must give the clean output where a checksum covers the content)
    for key, (fname, data, checked) in bases.items():
        for i in range(22):
            pos = rnd.randrange(len(data))
            b = bytearray(data)
            b[pos] ^= 1 << rnd.randrange(8)
            convert("bitflip/%s@%d" % (key, pos), fname, bytes(b), "either-same" if checked else "either",
                    clean=clean.get(key))
    # 4. byte runs overwritten with 0xff / random; header-region bias
    for key, (fname, data, checked) in bases.items():
        for i in range(8):
            pos = rnd.randrange(min(len(data), 600)) if i < 5 else rnd.randrange(len(data))
            ln = rnd.choice([2, 4, 8, 16])
            b = bytearray(data)
            fill = b"\xff" * ln if i % 2 == 0 else bytes(rnd.randrange(256) for _ in range(ln))
            b[pos:pos + ln] = fill[:max(0, min(ln, len(b) - pos))]
            convert("overwrite/%s@%d+%d" % (key, pos, ln), fname, bytes(b), "either-same" if checked else "either",
                    clean=clean.get(key))
    # 5. appended garbage
    for key, (fname, data, checked) in bases.items():
        convert("append/%s" % key, fname, data + os.urandom(0) + bytes(rnd.randrange(256) for _ in range(777)),
                "either")

    # 6. NIfTI header fields
    raw = nifti1((16, 16, 4), 4, pack("h", values(n)))
    def nset(fmt, off, val, base=raw):
        b = bytearray(base)
        struct.pack_into("<" + fmt, b, off, val)
        return bytes(b)
    for i, v in enumerate([0, -1, -32768, 32767, 8]):
        convert("nifti/dim0=%d" % v, "s.nii", nset("h", 40, v), "refuse")
    for i, v in enumerate([0, -5, 32767]):
        convert("nifti/dim1=%d" % v, "s.nii", nset("h", 42, v), "refuse")
    convert("nifti/dim0=4,dim4=2", "s.nii", nset("h", 48, 2, nset("h", 40, 4)), "refuse")  # a 4-D volume
    for v in [0, 1, 3, 32, 128, 1024, 1536, 2304, 9999, -1]:
        convert("nifti/datatype=%d" % v, "s.nii", nset("h", 70, v), "refuse")
    for v in [0, 100, 347, 1e9, -352, float("nan"), float("inf")]:
        convert("nifti/vox_offset=%s" % v, "s.nii", nset("f", 108, v), "refuse")
    convert("nifti/sizeof_hdr=0", "s.nii", nset("i", 0, 0), "refuse")
    convert("nifti/magic", "s.nii", raw[:344] + b"xx1\0" + raw[348:], "refuse")
    convert("nifti/ni1-pair", "s.nii", raw[:344] + b"ni1\0" + raw[348:], "refuse")
    for s in [1e38, 3e38, -1e38]:
        convert("nifti/scl_slope=%g-overflow" % s, "s.nii", nset("f", 112, s), "refuse")
        convert("nifti/scl_slope=%g-overflow.gz" % s, "s.nii.gz", gzip.compress(nset("f", 112, s)), "refuse")
    for s in [float("nan"), float("inf"), 0.0, 2.5]:
        convert("nifti/scl_slope=%s" % s, "s.nii", nset("f", 112, s), "ok")
    big = nifti1((4, 4, 1), 64, pack("d", [1e39, -1e300, 1.0] + [2.0] * 13))
    convert("nifti/float64-beyond-float32", "s.nii", big, "refuse")
    nanvol = nifti1((4, 4, 1), 16, pack("f", [float("nan"), float("inf")] + [1.0] * 14))
    convert("nifti/nan-inf-data", "s.nii", nanvol, "refuse")
    convert("nifti/nan-inf-data-allowed", "s.nii", nanvol, "ok", extra=["--allow-nonfinite"])
    # huge declared sizes (header checks before allocating)
    for dims in [(32767, 32767, 32767), (30000, 30000, 1), (2048, 2048, 512), (512, 512, 513)]:
        h = nifti1(dims, 4, b"")
        convert("nifti/declares-%dx%dx%d" % dims, "s.nii", h, "refuse")
        convert("nifti/declares-%dx%dx%d.gz" % dims, "s.nii.gz", gzip.compress(h), "refuse")
    # compression bombs: a valid header for 2048x2048x300 int16 (2.5 GB) of zeros; 1 GB of zeros after a small image
    bomb_hdr = nifti1((2048, 2048, 300), 4, b"")
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [z.compress(bomb_hdr)]
    chunk = bytes(1 << 20)
    for _ in range(600):  # 600 MB of the 2.5 GB it declares: enough to be a bomb, quicker to make
        parts.append(z.compress(chunk))
    parts.append(z.flush())
    convert("bomb/nii.gz-2.5GB-declared", "s.nii.gz", b"".join(parts), "refuse")
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [z.compress(nifti1((16, 16, 1), 4, pack("h", values(256))))]
    for _ in range(1100):
        parts.append(z.compress(chunk))
    parts.append(z.flush())
    convert("bomb/nii.gz-trailing-1.1GB", "s.nii.gz", b"".join(parts), "refuse")
    gz = bytearray(bases["niigz_int16"][1])
    gz[-8] ^= 0xff
    convert("gzip/crc-mismatch", "s.nii.gz", bytes(gz), "refuse")
    gz = bytearray(bases["niigz_int16"][1])
    gz[-1] ^= 0x01
    convert("gzip/isize-mismatch", "s.nii.gz", bytes(gz), "refuse")
    convert("gzip/not-gzip-inside", "s.nii.gz", gzip.compress(b"hello world" * 100), "refuse")

    # 7. NPY / NPZ
    good = npy((4, 16, 16), "<f4", pack("f", values(n)))
    for descr in ["<c8", "<U4", "|O", "<f16", "<m8", ">i8", "<u8", "|b1", "<f2", "xyz"]:
        expect = "ok" if descr in (">i8", "|b1", "<f2") else "refuse"
        width = {">i8": 8, "|b1": 1, "<f2": 2}.get(descr, 4)
        convert("npy/descr=%s" % descr, "s.npy", npy((4, 16, 16), descr, bytes(n * width)), expect)
    for shape in [(), (0,), (-1, 16), (2 ** 31, 2 ** 31), (100000, 100000, 100), (4, 16, 16, 2), (65536, 65536)]:
        convert("npy/shape=%s" % (shape,), "s.npy", npy(shape, "<f4", bytes(64)), "refuse")
    convert("npy/header-garbage", "s.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': <f4}  \n" + bytes(64), "refuse")
    convert("npy/v2-huge-header-len", "s.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\x7f", "refuse")
    convert("npy/v9", "s.npy", b"\x93NUMPY\x09\x00" + good[8:], "refuse")
    convert("npy/float64-beyond-float32", "s.npy", npy((4, 4), "<f8", pack("d", [1e300] + [1.0] * 15)), "refuse")
    convert("npy/nan", "s.npy", npy((4, 4), "<f4", pack("f", [float("nan")] + [1.0] * 15)), "refuse")
    nz = bytearray(npz([("volume.npy", good)], False))
    idx = nz.find(good) + len(good) - 5
    nz[idx] ^= 0x40
    convert("npz/crc-mismatch-stored", "s.npz", bytes(nz), "refuse")
    nz = bytearray(npz([("volume.npy", good)], True))
    i0 = nz.find(b"volume.npy") + len("volume.npy")  # first local header name end: data follows
    nz[i0 + 40] ^= 0x01
    convert("npz/deflated-data-flip", "s.npz", bytes(nz), "either-same", clean=clean["npz_deflated"])
    convert("npz/two-arrays", "s.npz", npz([("a.npy", good), ("b.npy", good)]), "refuse")
    convert("npz/empty", "s.npz", npz([]), "refuse")
    convert("npz/not-npy-member", "s.npz", npz([("volume.npy", b"hello")]), "refuse")
    # a member declaring a 6.4 GB array, deflated: a few MB on disk
    hdr = npy((40000, 40000), "<f4", b"")
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("volume.npy", "w", force_zip64=True) as f:
            f.write(hdr)
            for _ in range(1100):
                f.write(chunk)
    convert("bomb/npz-1.1GB-member", "s.npz", zb.getvalue(), "refuse")
    # directory size lies (says 1000 bytes, member inflates to 64 MB)
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("volume.npy", npy((4096, 4096), "<f4", bytes(4096 * 4096 * 4)))
    b = bytearray(zb.getvalue())
    cd = b.rfind(b"PK\x01\x02")
    struct.pack_into("<I", b, cd + 24, 1000)  # uncompressed size in the central directory
    convert("npz/size-lies", "s.npz", bytes(b), "refuse")
    for i in range(20):
        d = bytearray(npz([("volume.npy", good)], True))
        pos = rnd.randrange(len(d) - 22, len(d))  # end-of-central-directory record
        d[pos] ^= 1 << rnd.randrange(8)
        convert("npz/eocd-flip-%d" % i, "s.npz", bytes(d), "either-same", clean=clean["npz_deflated"])

    # 8. PNG / TIFF
    for w, h in [(30000, 30000), (46000, 46000), (65535, 1), (1, 2 ** 31 - 1), (0, 16), (2 ** 31, 2 ** 31)]:
        z = zlib.compressobj(9)
        row = b"\0" + bytes(2 * min(w, 65535))
        body = z.compress(row * min(h, 50)) + z.flush()
        convert("bomb/png-%dx%d" % (w, h), "s.png", png(w, h, 16, idat=body), "either" if w * h < 1 << 20 else "refuse")
    convert("png/bad-crc", "s.png", png(16, 16)[:-5] + b"\0" + png(16, 16)[-4:], "either")
    convert("png/colour-type-2", "s.png", png(16, 16)[:25] + b"\x02" + png(16, 16)[26:], "either")
    convert("png/no-idat", "s.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 16, 0, 0, 0, 0))
            + png_chunk(b"IEND", b""), "refuse")
    convert("png/rgb-colour", "s.png", png(4, 4, 8, raw=b"".join(b"\0" + bytes([x, 0, 0] * 4)[:4] for x in range(4))), "either")
    convert("tiff/self-loop", "s.tif", tiff(1, 8, 8, next_override=lambda p, offs, nxt: offs[p]), "refuse")
    convert("tiff/last-to-first", "s.tif", tiff(3, 8, 8, next_override=lambda p, offs, nxt: offs[0] if p == 2 else nxt), "refuse")
    convert("tiff/two-cycle", "s.tif", tiff(4, 8, 8, next_override=lambda p, offs, nxt: offs[2] if p == 3 else nxt), "refuse")
    convert("tiff/mid-loop", "s.tif", tiff(5, 8, 8, next_override=lambda p, offs, nxt: offs[1] if p == 4 else nxt), "refuse")
    convert("tiff/loop-to-second", "s.tif", tiff(2, 8, 8, next_override=lambda p, offs, nxt: offs[1]), "refuse")
    convert("tiff/next-outside", "s.tif", tiff(2, 8, 8, next_override=lambda p, offs, nxt: 10 ** 9 if p == 1 else nxt), "refuse")
    convert("tiff/lzw-tag-raw-data", "s.tif", tiff(1, 16, 16, compression=5), "refuse")
    convert("tiff/deflate-tag-raw-data", "s.tif", tiff(1, 16, 16, compression=8), "refuse")
    convert("tiff/strip-count-4GB", "s.tif", tiff(1, 16, 16, strip_count_override=0xfffffff0), "refuse")
    convert("tiff/huge-dims", "s.tif", tiff(1, 16, 16)[:0] + tiff(1, 16, 16).replace(
        struct.pack("<HHII", 256, 4, 1, 16), struct.pack("<HHII", 256, 4, 1, 100000)).replace(
        struct.pack("<HHII", 257, 4, 1, 16), struct.pack("<HHII", 257, 4, 1, 100000)), "refuse")
    convert("tiff/bigtiff", "s.tif", b"II+\0\x08\0\0\0" + bytes(64), "refuse")
    convert("tiff/70000-pages", "s.tif", tiff(70000, 1, 1), "refuse")

    # 9. InVesalius
    for dtype in ["complex64", "object", "int64", ""]:
        convert("inv3/dtype=%s" % (dtype or "empty"), "s.inv3", inv3(dtype=dtype), "refuse")
    convert("inv3/shape-mismatch", "s.inv3", inv3(matrix=bytes(10)), "refuse")
    convert("inv3/no-plist", "s.inv3", gzip.compress(inv3()[:0] + tar_only([("proj/matrix.dat", bytes(256))])), "refuse")
    convert("inv3/huge-shape", "s.inv3", inv3(plist=(PLIST % ("int16", 100000, 100000, 100000, "")).encode()), "refuse")
    convert("inv3/negative-shape", "s.inv3", inv3(plist=(PLIST % ("int16", -2, 8, 8, "")).encode()), "refuse")
    deep = "<array>" * 100000 + "</array>" * 100000
    convert("inv3/deep-array-100000", "s.inv3", inv3(plist=(PLIST % ("int16", 2, 8, 8, "<key>x</key>" + deep)).encode()), "refuse")
    deep = "<dict><key>a</key>" * 20000 + "<true/>" + "</dict>" * 20000
    convert("inv3/deep-dict-20000", "s.inv3", inv3(plist=(PLIST % ("int16", 2, 8, 8, "<key>x</key>" + deep)).encode()), "refuse")
    deep = "<string>" + "<b>" * 50000 + "</b>" * 50000 + "</string>"
    convert("inv3/deep-in-string", "s.inv3", inv3(plist=(PLIST % ("int16", 2, 8, 8, "<key>x</key>" + deep)).encode()), "refuse")
    laughs = ('<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "aaaaaaaaaa">' + "".join(
        '<!ENTITY %s "%s">' % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10) for i in range(9)) + ']><plist version="1.0">'
        '<dict><key>x</key><string>&j;</string></dict></plist>')
    convert("inv3/billion-laughs", "s.inv3", inv3(plist=laughs.encode()), "refuse")
    xxe = ('<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY x SYSTEM "file:///etc/passwd">]><plist version="1.0">'
           '<dict><key>matrix</key><string>&x;</string></dict></plist>')
    convert("inv3/external-entity", "s.inv3", inv3(plist=xxe.encode()), "refuse")
    convert("inv3/not-xml", "s.inv3", inv3(plist=b"bplist00\x00\x01garbage"), "refuse")
    # bomb: a 1.2 GB member of zeros that is skipped on the way to main.plist
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as t:
        pass
    zobj = zlib.compressobj(9, zlib.DEFLATED, 31)
    hdr = tarfile.TarInfo("proj/zeros.dat")
    hdr.size = 1100 << 20
    parts = [zobj.compress(hdr.tobuf(format=tarfile.GNU_FORMAT))]
    for _ in range(1100):
        parts.append(zobj.compress(chunk))
    tail = io.BytesIO()
    with tarfile.open(fileobj=tail, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in [("proj/main.plist", (PLIST % ("int16", 2, 8, 8, "")).encode()), ("proj/matrix.dat", bytes(256))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    parts.append(zobj.compress(tail.getvalue()))
    parts.append(zobj.flush())
    convert("bomb/inv3-1.1GB-member", "s.inv3", b"".join(parts), "refuse")
    # the matrix itself declared 2048x2048x300 int16 with a matching 2.5 GB member of zeros
    zobj = zlib.compressobj(9, zlib.DEFLATED, 31)
    pl = (PLIST % ("int16", 300, 2048, 2048, "")).encode()
    info = tarfile.TarInfo("proj/main.plist")
    info.size = len(pl)
    parts = [zobj.compress(info.tobuf(format=tarfile.GNU_FORMAT) + pl + bytes((512 - len(pl) % 512) % 512))]
    info = tarfile.TarInfo("proj/matrix.dat")
    info.size = 300 * 2048 * 2048 * 2
    parts.append(zobj.compress(info.tobuf(format=tarfile.GNU_FORMAT)))
    for _ in range(100):
        parts.append(zobj.compress(chunk))
    parts.append(zobj.flush())
    convert("bomb/inv3-matrix-2.5GB-declared", "s.inv3", b"".join(parts), "refuse")

    # 10. weights: safetensors and .pth (convert reads them; restore loads them)
    st_path = os.path.join(ROOT, "core", "src", "main", "resources", "org", "restorerwkv", "models", "all-in-one-light.safetensors")
    st = open(st_path, "rb").read()
    def wconvert(name, data, expect, fname="w.safetensors", out="w.pth"):
        convert(name, fname, data, expect, out_name=out)
    tiny = {"a": ([2, 2], pack("f", [1, 2, 3, 4]))}
    wconvert("safetensors/control", st, "ok")
    wconvert("safetensors/deep-json", struct.pack("<Q", 200016) + b"[" * 100000 + b"]" * 100000 + b"{}" + b" " * 14, "refuse")
    wconvert("safetensors/deep-json-in-metadata", safetensors(tiny, header_override=b'{"__metadata__":' + b'{"a":' * 5000 + b'"x"' + b"}" * 5000 + b"}"), "refuse")
    wconvert("safetensors/header-len-huge", struct.pack("<Q", 2 ** 63) + b"{}", "refuse")
    wconvert("safetensors/header-len-beyond", struct.pack("<Q", 1000) + b"{}", "refuse")
    wconvert("safetensors/offsets-out-of-range", safetensors(tiny, header_override=b'{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,1600]}}'), "refuse")
    wconvert("safetensors/negative-shape", safetensors(tiny, header_override=b'{"a":{"dtype":"F32","shape":[-2,-8],"data_offsets":[0,16]}}'), "refuse")
    wconvert("safetensors/overlap", safetensors({"a": ([2], pack("f", [1, 2])), "b": ([2], pack("f", [3, 4]))},
                                                   header_override=b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}'), "refuse")
    wconvert("safetensors/dtype-c64", safetensors(tiny, header_override=b'{"a":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}}'), "refuse")
    wconvert("safetensors/not-json", safetensors(tiny, header_override=b"{not json"), "refuse")
    for i in range(25):
        b = bytearray(st)
        pos = rnd.randrange(8, min(len(b), 8 + struct.unpack("<Q", st[:8])[0]))
        b[pos] ^= 1 << rnd.randrange(8)
        wconvert("safetensors/header-flip-%d" % i, bytes(b), "either")
    for c in [0, 7, 8, 100, len(st) // 2, len(st) - 1]:
        wconvert("safetensors/truncate@%d" % c, st[:c], "refuse")
    # the bundled model as a .pth (a stored zip): a flip that is not refused must change nothing
    pth_path = os.path.join(cdir, "light.pth")
    subprocess.run([LAUNCHER, "convert", "--input", st_path, "--output", pth_path], check=True, capture_output=True)
    subprocess.run([LAUNCHER, "convert", "--input", pth_path, "--output", os.path.join(cdir, "light.safetensors")],
                   check=True, capture_output=True)
    pth = open(pth_path, "rb").read()
    clean_st = open(os.path.join(cdir, "light.safetensors"), "rb").read()
    wconvert("pth/control", pth, "ok", fname="w.pth", out="w.safetensors")
    for i in range(25):
        b = bytearray(pth)
        pos = rnd.randrange(len(b))
        b[pos] ^= 1 << rnd.randrange(8)
        convert("pth/bitflip-%d@%d" % (i, pos), "w.pth", bytes(b), "either-same", out_name="w.safetensors", clean=clean_st)
    for c in [0, 10, 100, len(pth) // 2, len(pth) - 1]:
        wconvert("pth/truncate@%d" % c, pth[:c], "refuse", fname="w.pth", out="w.safetensors")
    # malicious pickles: code must never run
    for k, payload in enumerate([b"cos\nsystem\n", b"cbuiltins\nexec\n", b"csubprocess\ncall\n", b"cposix\nsystem\n"]):
        d = new_dir()
        marker = os.path.join(d, "pwned")
        cmd = ("touch " + marker).encode()
        pk = b"\x80\x02" + payload + b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."
        src = put(d, "w.pth", pickle_pth(pk))
        out = os.path.join(d, "o", "w.safetensors")
        cases.append(Case("pickle/inject-%d" % k, ["convert", "--input", src, "--output", out], "refuse", [src], [out],
                          [src, out], marker=marker))
        d = new_dir()
        marker = os.path.join(d, "pwned")
        cmd = ("touch " + marker).encode()
        src = put(d, "w.pth", pickle_pth(b"\x80\x02" + payload + b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."))
        out = os.path.join(d, "o", "out.nii")
        img = put(d, "in.npy", good)
        cases.append(Case("pickle/inject-restore-%d" % k, ["restore", "--weights", src, "--input", img, "--output", out,
                                                            "--modality", "ct", "--quiet"], "refuse", [src, img], [out],
                          [src, out], marker=marker))
    # weights that are finite in the file but refused: NaN weights
    hlen = struct.unpack("<Q", st[:8])[0]
    first = next(v for k, v in json.loads(st[8:8 + hlen]).items() if k != "__metadata__")
    nanst = bytearray(st)
    struct.pack_into("<f", nanst, 8 + hlen + first["data_offsets"][0], float("nan"))
    nanst = bytes(nanst)
    d = new_dir()
    src = put(d, "w.safetensors", nanst)
    img = put(d, "in.npy", good)
    out = os.path.join(d, "o", "out.nii")
    cases.append(Case("weights/nan-restore", ["restore", "--weights", src, "--input", img, "--output", out, "--modality",
                                              "ct", "--quiet"], "refuse", [src, img], [out], [src, out]))

    # 11. restore: inputs through the model command (read before the model loads)
    for key in ["nii_int16", "niigz_int16", "npy_f4", "npz_deflated", "png16", "tiff3", "inv3", "dcm_ct"]:
        fname, data, checked = bases[key]
        for c in [0, 100, len(data) // 2]:
            restore("restore-truncate/%s@%d" % (key, c), fname, data[:c], "refuse")
        for i in range(3):
            b = bytearray(data)
            pos = rnd.randrange(min(len(b), 400))
            b[pos] ^= 0xff
            restore("restore-flip/%s@%d" % (key, pos), fname, bytes(b), "either")
    restore("restore/tiff-loop", "s.tif", tiff(3, 8, 8, next_override=lambda p, offs, nxt: offs[0] if p == 2 else nxt), "refuse")
    restore("restore/nan-input", "s.npy", npy((1, 16, 16), "<f4", pack("f", [float("nan")] + [1.0] * 255)), "refuse")
    restore("restore/inf-input", "s.npy", npy((1, 16, 16), "<f4", pack("f", [float("inf")] + [1.0] * 255)), "refuse")
    restore("restore/bomb-png", "s.png", png(30000, 30000, 16, idat=zlib.compress(b"\0" * 60001 * 100)), "refuse")
    restore("restore/ok", "s.npy", npy((1, 32, 32), "<f4", pack("f", values(1024))), "ok", out_name="out.npy")
    restore("restore/bad-modality", "s.npy", good, "refuse", modality="xray")
    cases[-1].names.append("unknown modality 'xray'")  # a bad argument names the argument
    restore("restore/auto-modality-npy", "s.npy", good, "refuse", modality="auto")

    # 12. eval
    for nm, vals in [("nan", [float("nan")]), ("inf", [float("inf")]), ("-inf", [float("-inf")])]:
        for side in ["pred", "target"]:
            d = new_dir()
            bad = put(d, "bad.npy", npy((1, 8, 8), "<f4", pack("f", vals + [1.0] * 63)))
            ok = put(d, "ok.npy", npy((1, 8, 8), "<f4", pack("f", [1.0] * 64)))
            p, t = (bad, ok) if side == "pred" else (ok, bad)
            cases.append(Case("eval/%s-in-%s" % (nm, side), ["eval", "--pred", p, "--target", t, "--modality", "ct"],
                              "refuse", [bad, ok], [], [bad]))
    d = new_dir()
    a = put(d, "a.npy", npy((1, 8, 8), "<f4", pack("f", [1.0] * 64)))
    b2 = put(d, "b.npy", npy((2, 8, 8), "<f4", pack("f", [1.0] * 128)))
    cases.append(Case("eval/shape-mismatch", ["eval", "--pred", a, "--target", b2, "--modality", "ct"], "refuse", [a, b2], [], [a, b2]))
    for key in ["nii_int16", "npz_deflated", "tiff3", "inv3"]:
        fname, data, checked = bases[key]
        for c in [10, len(data) // 2]:
            d = new_dir()
            p = put(d, "p_" + fname, data[:c])
            t = put(d, "t_" + fname, data)
            cases.append(Case("eval/truncated-%s@%d" % (key, c), ["eval", "--pred", p, "--target", t, "--modality", "ct"],
                              "refuse", [p, t], [], [p]))

    # 13. simulate
    for key in ["nii_int16", "npy_f4", "tiff3", "inv3", "niigz_int16"]:
        fname, data, checked = bases[key]
        for c in [50, len(data) // 2]:
            d = new_dir()
            src = put(d, fname, data[:c])
            out = os.path.join(d, "o", "out.nii")
            cases.append(Case("simulate/truncated-%s@%d" % (key, c), ["simulate", "--task", "pet-lowcount", "--fraction", "0.25", "--input", src,
                                                                     "--output", out], "refuse", [src], [out], [src, out]))

    # 14. paths and permissions
    good_nii = bases["nii_int16"][1]
    d = new_dir()
    src = put(d, "s.nii", good_nii)
    put(d, "afile", b"x")
    for nm, out in [("under-a-file", os.path.join(d, "afile", "o.nii")), ("deep-under-a-file", os.path.join(d, "afile", "x", "y", "o.nii")),
                    ("unknown-extension", os.path.join(d, "o.xyz")), ("same-as-input", src)]:
        for cmd in ["convert", "restore", "simulate"]:
            args = {"convert": ["convert", "--input", src, "--output", out],
                    "restore": ["restore", "--input", src, "--output", out, "--modality", "ct", "--quiet"],
                    "simulate": ["simulate", "--task", "pet-lowcount", "--fraction", "0.25", "--input", src, "--output", out]}[cmd]
            cases.append(Case("paths/%s-%s" % (cmd, nm), args, "refuse", [src], [out] if out != src else [], [src, out]))
    os.makedirs(os.path.join(d, "isdir.nii"))
    for cmd in ["convert", "restore"]:
        out = os.path.join(d, "isdir.nii")
        args = ["convert", "--input", src, "--output", out] if cmd == "convert" else [
            "restore", "--input", src, "--output", out, "--modality", "ct", "--quiet"]
        cases.append(Case("paths/%s-output-is-a-directory" % cmd, args, "refuse", [src], [], [out]))
    for cmd in ["convert", "restore", "simulate"]:
        missing = os.path.join(d, "missing.nii")
        args = {"convert": ["convert", "--input", missing, "--output", os.path.join(d, "m.nii")],
                "restore": ["restore", "--input", missing, "--output", os.path.join(d, "m.nii"), "--modality", "ct"],
                "simulate": ["simulate", "--task", "pet-lowcount", "--fraction", "0.25", "--input", missing, "--output", os.path.join(d, "m.nii")]}[cmd]
        cases.append(Case("paths/%s-missing-input" % cmd, args, "refuse", [], [os.path.join(d, "m.nii")], [missing]))
    # as an unprivileged user: unreadable input, read-only output folder
    d = new_dir()
    src = put(d, "s.nii", good_nii)
    locked = put(d, "locked.nii", good_nii)
    os.chmod(locked, 0o000)
    ro = os.path.join(d, "ro")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    for cmd in ["convert", "restore", "simulate"]:
        def args_for(i, o):
            return {"convert": ["convert", "--input", i, "--output", o],
                    "restore": ["restore", "--input", i, "--output", o, "--modality", "ct", "--quiet"],
                    "simulate": ["simulate", "--task", "pet-lowcount", "--fraction", "0.25", "--input", i, "--output", o]}[cmd]
        cases.append(Case("perm/%s-unreadable-input" % cmd, args_for(locked, os.path.join(d, cmd + "-u.nii")), "refuse", [],
                          [os.path.join(d, cmd + "-u.nii")], [locked], user="nobody"))
        cases.append(Case("perm/%s-read-only-folder" % cmd, args_for(src, os.path.join(ro, "o.nii")), "refuse", [src],
                          [os.path.join(ro, "o.nii")], [os.path.join(ro, "o.nii")], user="nobody"))
        cases.append(Case("perm/%s-read-only-folder-series" % cmd, args_for(src, os.path.join(ro, "series")), "refuse", [src],
                          [os.path.join(ro, "series")], [os.path.join(ro, "series")], user="nobody"))
    # folder restore with one bad scan: per scan all or nothing
    d = new_dir()
    fin = os.path.join(d, "in")
    os.makedirs(fin)
    put(fin, "a.npy", npy((1, 16, 16), "<f4", pack("f", values(256))))
    put(fin, "b.npy", npy((1, 16, 16), "<f4", pack("f", values(256)))[:100])
    put(fin, "c.npy", npy((1, 16, 16), "<f4", pack("f", values(256))))
    fout = os.path.join(d, "out")
    cases.append(Case("folder/one-bad-scan", ["restore", "--input", fin, "--output", fout, "--modality", "ct", "--quiet"],
                      "folder", [os.path.join(fin, x) for x in ("a.npy", "b.npy", "c.npy")], [os.path.join(fout, "b.npy")],
                      [os.path.join(fin, "b.npy")]))

    if only:
        cases = [c for c in cases if re.search(only, c.name)]
    print("%d cases generated" % len(cases), flush=True)
    run_all(work, cases)


def tar_only(members):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def digest(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.isfile(p) else None


def leftovers(paths):
    """Temporary files (".NAME.*.tmp", ".NAME.*" folders) next to the outputs."""
    found = []
    for p in paths:
        parent = os.path.dirname(p)
        if os.path.isdir(parent):
            for f in os.listdir(parent):
                if f.startswith(".") and (f.endswith(".tmp") or f.startswith("." + os.path.basename(p) + ".")):
                    found.append(os.path.join(parent, f))
    return found


def run_all(work, cases):
    results = []
    retried = [0]
    t_start = time.time()
    for i, c in enumerate(cases):
        before = {p: digest(p) for p in c.inputs}
        tfile = os.path.join(work, "time.txt")
        run_as = ["setpriv", "--reuid=" + c.user, "--regid=nogroup", "--clear-groups"] if c.user else []
        cmd = ["/usr/bin/time", "-v", "-o", tfile] + run_as + ["timeout", "-s", "KILL", str(TIMEOUT_S), LAUNCHER] + c.args
        # a case killed at the timeout is run again (twice at most) before it counts as a hang: on a
        # machine shared with other jobs a JVM can be starved for 30 s before it reads a byte
        for attempt in range(3):
            t0 = time.time()
            r = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
            wall = time.time() - t0
            rss, cpu = 0, 0.0
            try:
                tv = open(tfile).read()
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tv)
                rss = int(m.group(1)) if m else 0
                cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", tv))
            except OSError:
                pass
            if r.returncode not in (124, 137):
                break
            retried[0] += 1
        verdict, why = judge(c, r, before)
        if wall > TIMEOUT_S or r.returncode in (124, 137):
            verdict, why = "FAIL", "hang (killed at %d s)" % TIMEOUT_S
        elif rss > RSS_LIMIT_KB:
            verdict, why = "FAIL", "resident %d MB" % (rss // 1024)
        results.append((c, verdict, why, r.returncode, rss, wall, r.stderr, cpu))
        print("%4d %-4s rc=%-3d %6.1fs %6.1fs cpu %5dMB %-50s %s" % (i + 1, verdict, r.returncode, wall, cpu, rss // 1024,
                                                                    c.name, why), flush=True)
    print("runs repeated after a timeout: %d" % retried[0])
    table(results, time.time() - t_start, work)


ERR_LINE = re.compile(r"^restore-rwkv [a-z-]+: ")


def judge(c, r, before):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if ERR_LINE.match(l)]
    trace = any(re.match(r"^\s+at [\w.$]+\(", l) or re.match(r"^(Exception|Caused by)", l) for l in lines)
    changed = [p for p, h in before.items() if digest(p) != h]
    if changed:
        return "FAIL", "input modified: " + ", ".join(changed)
    if c.marker and os.path.exists(c.marker):
        return "FAIL", "injected code ran"
    left = leftovers(c.outputs)
    if left:
        return "FAIL", "temporary files left: " + ", ".join(left)
    if trace:
        return "FAIL", "stack trace printed"
    if c.expect == "folder":
        ok = (r.returncode == 1 and not os.path.exists(c.outputs[0])
              and all(os.path.isfile(os.path.join(os.path.dirname(c.outputs[0]), n)) for n in ("a.npy", "c.npy")))
        return ("PASS", "per-scan: bad scan refused, others written") if ok else ("FAIL", "folder outcome: rc %d" % r.returncode)
    if r.returncode == 0:
        if c.expect == "refuse":
            return "FAIL", "wrong success (exit 0)"
        if c.expect == "either-same" and c.clean_output is not None and c.outputs:
            out = c.outputs[0]
            if os.path.isfile(out) and open(out, "rb").read() != c.clean_output:
                return "FAIL", "success with output different from the clean file's"
        return "PASS", "output written"
    if r.returncode == 1:
        if c.expect == "ok":
            return "FAIL", "refused a valid input: " + (errors[0] if errors else r.stderr.strip()[-200:])
        if len(errors) != 1:
            return "FAIL", "%d error lines: %s" % (len(errors), r.stderr.strip()[-300:])
        if not any(n in errors[0] for n in c.names):
            return "FAIL", "error does not name the path: " + errors[0]
        if any(os.path.exists(o) for o in c.outputs):
            return "FAIL", "output left after a refusal"
        if "internal error" in errors[0]:
            return "FAIL", errors[0]
        return "PASS", errors[0][:150]
    return "FAIL", "exit %d: %s" % (r.returncode, r.stderr.strip()[-300:])


def table(results, seconds, work):
    groups = {}
    for c, verdict, why, rc, rss, wall, err, cpu in results:
        g = c.name.split("/")[0]
        groups.setdefault(g, [0, 0, 0, 0.0, 0.0])
        groups[g][0] += 1
        groups[g][1] += verdict == "PASS"
        groups[g][2] = max(groups[g][2], rss)
        groups[g][3] = max(groups[g][3], wall)
        groups[g][4] = max(groups[g][4], cpu)
    total = len(results)
    passed = sum(1 for r in results if r[1] == "PASS")
    print()
    print("| group | cases | held | max RSS (MB) | max wall (s) | max CPU (s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for g, (n, ok, rss, wall, cpu) in sorted(groups.items()):
        print("| %s | %d | %d | %d | %.1f | %.1f |" % (g, n, ok, rss // 1024, wall, cpu))
    print("| **all** | **%d** | **%d (%.1f%%)** | %d | %.1f | %.1f |" % (
        total, passed, 100.0 * passed / max(1, total), max(r[4] for r in results) // 1024,
        max(r[5] for r in results), max(r[7] for r in results)))
    outcomes = {"refused in one line": 0, "output written": 0, "failed": 0}
    for c, verdict, why, rc, rss, wall, err, cpu in results:
        if verdict != "PASS":
            outcomes["failed"] += 1
        elif rc == 0:
            outcomes["output written"] += 1
        else:
            outcomes["refused in one line"] += 1
    print()
    print("outcomes: " + ", ".join("%s %d" % kv for kv in outcomes.items()) + "; %.0f s in all" % seconds)
    fails = [r for r in results if r[1] != "PASS"]
    if fails:
        print()
        print("failures:")
        for c, verdict, why, rc, rss, wall, err, cpu in fails:
            print("  %s: %s" % (c.name, why))
    with open(os.path.join(work, "results.tsv"), "w") as f:
        for c, verdict, why, rc, rss, wall, err, cpu in results:
            f.write("%s\t%s\t%d\t%d\t%.2f\t%.2f\t%s\n" % (c.name, verdict, rc, rss, wall, cpu, why.replace("\t", " ")))
    sys.exit(0 if passed >= 0.995 * total else 1)


if __name__ == "__main__":
    main()
