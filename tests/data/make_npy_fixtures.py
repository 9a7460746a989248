#!/usr/bin/python3
"""Regenerates the NumPy fixtures in tests/data/npy/ read by tests/nn/test_npy.cpp.

Run with Debian's interpreter (apt-get install python3-numpy): /usr/bin/python3 make_npy_fixtures.py
The committed files were written by numpy 1.24; the tests compare our writer's output with
f4_c.npy byte for byte, so regenerate with a numpy that pads headers the same way
(1.24 adds room for the first axis to grow before aligning the data to 64 bytes).
"""

import io
import os
import struct
import zipfile
import zlib

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def path(name):
    return os.path.join(OUT, name)


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


class Unseekable(io.RawIOBase):
    def __init__(self):
        super().__init__()
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.data += b
        return len(b)


def zip64_archive(member_name, member_data, comment):
    """A stored single-member zip whose central directory uses ZIP64 for every size and offset.

    Python's zipfile only does this past 4 GiB, so the records are assembled by hand: local header
    and central entry carry 0xFFFFFFFF sizes (and offset) with the real values in a ZIP64 extra
    field, and the end of central directory points to a ZIP64 end record through its locator.
    """
    name = member_name.encode()
    crc = zlib.crc32(member_data)
    size = len(member_data)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), 20)
    local += name + struct.pack("<HHQQ", 1, 16, size, size) + member_data
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 45, 45, 0, 0, 0, 0x21, crc,
                          0xFFFFFFFF, 0xFFFFFFFF, len(name), 28, 0, 0, 0, 0, 0xFFFFFFFF)
    central += name + struct.pack("<HHQQQ", 1, 24, size, size, 0)
    cd_offset = len(local)
    zip64_end_offset = cd_offset + len(central)
    zip64_end = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(central), cd_offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, zip64_end_offset, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, len(comment))
    return local + central + zip64_end + locator + end + comment


def main():
    os.makedirs(OUT, exist_ok=True)

    f4_c = (np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1).astype(np.float32)
    np.save(path("f4_c.npy"), f4_c)
    np.save(path("f8_fortran.npy"), np.asfortranarray(np.array([[1.5, -2.25, 3.0], [4.0, 5.5, -6.125]])))
    np.save(path("i8_c.npy"), np.array([[1, -2], [3, 2**40], [-(2**62), 7]], dtype=np.int64))
    np.save(path("i2_fortran_3d.npy"), np.asfortranarray(np.arange(12, dtype=np.int16).reshape(2, 3, 2)))
    np.save(path("f4_1d.npy"), np.array([0.25, -1.5, 0.1, 3e38], dtype=np.float32))
    np.save(path("f8_0d.npy"), np.array(np.pi))
    np.save(path("u1_c.npy"), np.array([[0, 255], [7, 128]], dtype=np.uint8))
    np.save(path("b1_1d.npy"), np.array([True, False, True]))
    # An empty 12-d array whose header is already aligned: numpy then pads a full 64 bytes.
    np.save(path("u1_empty_12d.npy"), np.zeros((0,) + (10,) * 8 + (1,) * 3, dtype=np.uint8))
    np.save(path("big_endian.npy"), np.array([1.0, 2.0], dtype=">f8"))
    write("truncated.npy", npy_bytes(f4_c)[:-3])

    np.savez(path("two_members.npz"), weights=np.array([[0.5, -0.25], [2.0, 8.0]], dtype=np.float32),
             steps=np.array([10, 20, 30], dtype=np.int64))
    np.savez_compressed(path("compressed.npz"), x=np.arange(50) * 0.25, flags=np.array([1, 0, 1], dtype=np.uint8))

    # A raw (non-.npy) member beside an array, added the way a user of zipfile would.
    np.savez(path("with_meta.npz"), a=np.array([1.0, 2.0], dtype=np.float32))
    with zipfile.ZipFile(path("with_meta.npz"), "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("meta.json", '{"epochs": 3}')

    # Written to a stream that cannot seek back, zipfile puts CRC and sizes in data descriptors
    # after each member and leaves them zero in the local headers (flag bit 3).
    stream = Unseekable()
    np.savez(stream, d=np.array([[1, 2]], dtype=np.int32))
    write("streamed.npz", bytes(stream.data))

    # A one-member archive with one byte of the array data flipped.
    buffer = io.BytesIO()
    np.savez(buffer, v=np.array([1.0, 2.0, 3.0]))
    corrupt = bytearray(buffer.getvalue())
    npy_start = corrupt.index(b"\x93NUMPY")
    header_length = struct.unpack("<H", corrupt[npy_start + 8:npy_start + 10])[0]
    corrupt[npy_start + 10 + header_length] ^= 0x40
    write("bad_crc.npz", bytes(corrupt))

    write("zip64.npz", zip64_archive("v.npy", npy_bytes(np.array([1.0, -2.0, 0.5])), b"zip64 fixture"))

    # Every fixture but the deliberately broken ones must load in numpy itself.
    for name in sorted(os.listdir(OUT)):
        if name in ("big_endian.npy", "truncated.npy", "bad_crc.npz"):
            continue
        loaded = np.load(path(name))
        if name.endswith(".npz"):
            for key in loaded.files:
                loaded[key]
    assert np.load(path("zip64.npz"))["v"].tolist() == [1.0, -2.0, 0.5]
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} fixtures, {total} bytes, numpy {np.__version__}")


if __name__ == "__main__":
    main()
