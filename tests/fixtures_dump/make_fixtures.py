"""Regenerates the small numpy fixtures for tests/dump_*_test.ts (needs numpy >= 2).

Run from the repository root: python3 tests/fixtures_dump/make_fixtures.py
The expected values the tests hard-code are printed at the end.
"""
import os
import numpy as np
import numpy.lib.format as fmt

OUT = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(OUT, name)


rng = np.random.default_rng(0)
m = 8

# One array per supported dtype, values 0..23 (negated where signed) in a 2x3x4 shape.
base = np.arange(24).reshape(2, 3, 4)
np.save(path("f4.npy"), (base * 0.5 - 3).astype("<f4"))
np.save(path("f8.npy"), (base * 0.25 - 1).astype("<f8"))
np.save(path("i4.npy"), (base - 12).astype("<i4"))
np.save(path("i8.npy"), (base * 1000000000000 - 7).astype("<i8"))
np.save(path("u1.npy"), (base * 10).astype("|u1"))
np.save(path("f8_be.npy"), (base * 0.25 - 1).astype(">f8"))
np.save(path("i4_be.npy"), (base - 12).astype(">i4"))
np.save(path("scalar.npy"), np.array(3.5, dtype="<f8"))
np.save(path("empty.npy"), np.zeros((0, 5), dtype="<f4"))
with open(path("f4_v2.npy"), "wb") as f:
    fmt.write_array(f, (base * 0.5 - 3).astype("<f4"), version=(2, 0))
with open(path("f4_v3.npy"), "wb") as f:
    fmt.write_array(f, (base * 0.5 - 3).astype("<f4"), version=(3, 0))
np.save(path("fortran.npy"), np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
np.save(path("f2.npy"), np.arange(6, dtype="<f2"))
np.save(path("c8.npy"), np.arange(6, dtype="<c8"))

# Dumps. Values are small so the archives stay tiny.
x = rng.standard_normal((m, 3, 2)).astype(np.float32)
y = (np.arange(m) % 3).astype(np.int64)
fc1 = rng.standard_normal((m, 5)).astype(np.float32)
fc2 = rng.standard_normal((m, 4)).astype(np.float64)
np.savez(path("savez.npz"), x=x, y=y, fc1=fc1, fc2=fc2)
np.savez_compressed(path("savez_compressed.npz"), x=x, y=y, fc1=fc1, fc2=fc2)

# Several checkpoints, stored out of step order.
cp = {}
for step in (100, 0, 20):
    cp[f"{step}/fc1"] = (fc1 + step).astype(np.float32)
    cp[f"{step}/fc2"] = (fc2 * (step + 1)).astype(np.float32)
np.savez_compressed(path("checkpoints.npz"), x=x, y=y, **cp)

# Everything float64, one-hot float labels.
onehot = np.eye(3)[np.arange(m) % 3]
np.savez(path("float64.npz"), x=x.astype(np.float64), y=onehot, fc1=fc1.astype(np.float64))

# Big-endian arrays.
np.savez(path("bigendian.npz"), x=x.astype(">f4"), y=y.astype(">i4"), fc1=fc1.astype(">f8"))

print("x.sum", repr(float(x.astype(np.float64).sum())))
print("fc1.sum", repr(float(fc1.astype(np.float64).sum())))
print("fc2.sum", repr(float(fc2.sum())))
print("x[0]", x[0].ravel().tolist())
print("fc1[7]", fc1[7].tolist())
for step in (0, 20, 100):
    print(step, "fc2.sum", repr(float(cp[f"{step}/fc2"].astype(np.float64).sum())))
for n in sorted(os.listdir(OUT)):
    print(n, os.path.getsize(path(n)))

# Force zip64 records everywhere (central directory extras and the zip64 end record), as
# numpy would write for arrays over 4 GiB, by lowering zipfile's threshold while saving.
import zipfile  # noqa: E402

saved = zipfile.ZIP64_LIMIT
zipfile.ZIP64_LIMIT = 1
try:
    np.savez_compressed(path("zip64.npz"), x=x, y=y, fc1=fc1)
finally:
    zipfile.ZIP64_LIMIT = saved
with zipfile.ZipFile(path("zip64.npz")) as z:
    assert [i.filename for i in z.infolist()] == ["x.npy", "y.npy", "fc1.npy"]
raw = open(path("zip64.npz"), "rb").read()
assert b"PK\x06\x06" in raw and b"PK\x06\x07" in raw, "zip64 end records present"
print("zip64.npz", len(raw))
