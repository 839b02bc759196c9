"""Fixtures for 16-bit float arrays and named checkpoints (tests/dump_half_test.ts).

Run from the repository root with a numpy that has ml_dtypes available if possible:
    /usr/bin/python3 tests/fixtures_dump/make_half_fixtures.py
bfloat16 is what ml_dtypes (and so JAX) gives numpy: np.save writes its descr as '<V2'. Without
ml_dtypes the same bytes are written by hand (the top 16 bits of each float32, rounded to
nearest even), with the header np.save would write; the script says which it did.
"""
import io
import json
import os
import zipfile

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
try:
    import ml_dtypes  # noqa: F401
    HAVE_ML_DTYPES = True
except ImportError:
    HAVE_ML_DTYPES = False


def path(name):
    return os.path.join(OUT, name)


def bf16_bits(a):
    """float32 -> bfloat16 bit patterns, round to nearest even (what ml_dtypes does)."""
    u = np.asarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype("<u2")


def bf16_npy(a):
    """The bytes of np.save(bfloat16 array): descr '<V2', bits as little-endian uint16."""
    a = np.asarray(a, dtype=np.float32)
    if HAVE_ML_DTYPES:
        buf = io.BytesIO()
        np.save(buf, a.astype(ml_dtypes.bfloat16))
        return buf.getvalue()
    bits = bf16_bits(a)
    buf = io.BytesIO()
    header = {"descr": "<V2", "fortran_order": False, "shape": a.shape}
    np.lib.format._write_array_header(buf, header, (1, 0))
    buf.write(bits.tobytes())
    return buf.getvalue()


def bf16_values(a):
    """The float32 values a bfloat16 array holds."""
    return (bf16_bits(a).astype("<u4") << 16).view("<f4")


# Values with every float16 case: zero, negatives, subnormals, the largest finite, fractions.
f16 = np.array([0.0, -0.0, 1.0, -2.5, 6.1e-5, 5.96e-8, 65504.0, 0.1, 1 / 3, -1e-3, 300.7, 7.0],
               dtype="<f2").reshape(3, 4)
np.save(path("f2_values.npy"), f16)
np.save(path("f2_be.npy"), f16.astype(">f2"))
src = np.array([[0.0, 1.0, -2.0, 3.14159], [1e-3, -1e30, 65504.0, 0.1], [1 / 3, 2 / 3, -7.5, 1e-20]],
               dtype=np.float32)
with open(path("bf16_values.npy"), "wb") as f:
    f.write(bf16_npy(src))

# A dump: float16 x, bfloat16 and float16 layers under named checkpoints, in file order
# epoch2 before epoch10 (names are not sorted).
rng = np.random.default_rng(3)
m = 12
x = rng.standard_normal((m, 5)).astype(np.float32)
y = (np.arange(m) % 3).astype(np.int64)
entries = {"x.npy": None, "y.npy": None}
arrays = {}
buf = io.BytesIO()
np.save(buf, x.astype("<f2"))
arrays["x"] = buf.getvalue()
buf = io.BytesIO()
np.save(buf, y)
arrays["y"] = buf.getvalue()
layers = {}
for ckpt, scale in (("epoch2", 1.0), ("epoch10", 2.0), ("final", 3.0)):
    fc1 = (rng.standard_normal((m, 4)) * scale).astype(np.float32)
    fc2 = (rng.standard_normal((m, 3)) * scale).astype(np.float32)
    arrays[f"{ckpt}/fc1"] = bf16_npy(fc1)
    buf = io.BytesIO()
    np.save(buf, fc2.astype("<f2"))
    arrays[f"{ckpt}/fc2"] = buf.getvalue()
    layers[ckpt] = {"fc1": bf16_values(fc1).tolist(), "fc2": fc2.astype("<f2").astype(np.float64).tolist()}
with zipfile.ZipFile(path("named_half.npz"), "w") as z:
    for k, v in arrays.items():
        z.writestr(k + ".npy", v)

expected = {
    "ml_dtypes": HAVE_ML_DTYPES,
    "f2_values": f16.astype(np.float64).ravel().tolist(),
    "bf16_values": bf16_values(src).astype(np.float64).ravel().tolist(),
    "named_half": {"x": x.astype("<f2").astype(np.float64).tolist(), "checkpoints": layers},
}
with open(path("half_expected.json"), "w") as f:
    json.dump(expected, f, indent=2)
    f.write("\n")  # the layout deno fmt keeps
print("bfloat16 written by", "ml_dtypes" if HAVE_ML_DTYPES else "hand (ml_dtypes not installed)")
