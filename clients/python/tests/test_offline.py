"""Tests of the infoplane package that need no service: the dump format, multipart encoding,
polling against a scripted fake server, and (with torch) the Recorder.

Run: python3 -m unittest discover -s clients/python/tests -v   (with clients/python on PYTHONPATH)
"""

from __future__ import annotations

import collections
import email.parser
import email.policy
import io
import json
import os
import sys
import tempfile
import threading
import time
import unittest
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import infoplane  # noqa: E402
from infoplane._client import _multipart, retry_after  # noqa: E402

try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_TORCH = False


class FakeArray:
    """Stands for a jax.Array / tf.Tensor: numpy-convertible through __array__."""

    def __init__(self, a):
        self._a = np.asarray(a)

    def __array__(self, dtype=None):
        return self._a if dtype is None else self._a.astype(dtype)


class DumpTest(unittest.TestCase):
    def test_import_does_not_import_torch(self):
        import subprocess

        code = "import sys, infoplane; print('torch' in sys.modules)"
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(infoplane.__file__)))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "False")

    def test_dump_arrays_checkpoints(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(8, 2, 3))
        y = np.arange(8) % 3
        a = infoplane.dump_arrays(
            x,
            y,
            {0: {"dense": FakeArray(rng.normal(size=(8, 4))), "out": rng.normal(size=(8, 3))},
             50: {"dense": rng.normal(size=(8, 4)), "out": rng.normal(size=(8, 3))}},
        )
        self.assertEqual(list(a), ["x", "y", "0/dense", "0/out", "50/dense", "50/out"])
        self.assertEqual(a["x"].shape, (8, 2, 3))
        self.assertIsInstance(a["0/dense"], np.ndarray)

    def test_dump_arrays_single_checkpoint(self):
        a = infoplane.dump_arrays(np.zeros((5, 2)), [0, 1, 0, 1, 0], {"h": np.ones((5, 3))})
        self.assertEqual(list(a), ["x", "y", "h"])

    def test_dump_arrays_rejects(self):
        x, y = np.zeros((5, 2)), np.zeros(5, dtype=int)
        cases = [
            ({"h": np.ones((4, 3))}, "4 rows but x has 5"),
            ({0: {"a": np.ones((5, 1))}, 1: {"b": np.ones((5, 1))}}, "same layers"),
            ({-1: {"a": np.ones((5, 1))}}, "non-negative"),
            ({0: {"a": np.ones((5, 1))}, "b": np.ones((5, 1))}, "mixes"),
            ({"x": np.ones((5, 1))}, 'may not be called "x"'),
            ({}, "no layer"),
        ]
        for layers, message in cases:
            with self.assertRaises(ValueError) as ctx:
                infoplane.dump_arrays(x, y, layers)
            self.assertIn(message, str(ctx.exception))
        with self.assertRaises(ValueError):
            infoplane.dump_arrays(x, np.zeros(4), {"a": np.ones((5, 1))})
        with self.assertRaises(TypeError):
            infoplane.dump_arrays(x, y, {"a": np.array([["s"]] * 5)})

    def test_dtypes(self):
        self.assertEqual(infoplane.as_numpy(np.ones(3, np.float16)).dtype, np.float32)
        self.assertEqual(infoplane.as_numpy(np.ones(3, bool)).dtype, np.uint8)
        self.assertEqual(infoplane.as_numpy(np.ones(3, np.int8)).dtype, np.int32)
        self.assertEqual(infoplane.as_numpy(np.ones(3, np.uint16)).dtype, np.int32)
        self.assertEqual(infoplane.as_numpy(np.ones(3, np.uint64)).dtype, np.int64)
        self.assertEqual(infoplane.as_numpy(np.ones(3, np.uint8)).dtype, np.uint8)
        self.assertEqual(infoplane.as_numpy(np.ones(3, np.float64)).dtype, np.float64)
        self.assertEqual(infoplane.as_numpy([[1, 2]]).dtype.kind, "i")

    def test_npz_round_trip(self):
        rng = np.random.default_rng(1)
        arrays = {
            "x": rng.normal(size=(6, 3)).astype(np.float32),
            "y": np.arange(6),
            "0/file": rng.normal(size=(6, 2)),  # "file" would collide with np.savez's argument
            "7/file": rng.normal(size=(6, 2)),
        }
        for compress in (False, True):
            data = infoplane.to_npz(arrays, compress=compress)
            with np.load(io.BytesIO(data)) as z:
                self.assertEqual(list(z.keys()), list(arrays))
                for k, v in arrays.items():
                    np.testing.assert_array_equal(z[k], v)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "dump.npz")
            infoplane.save_npz(path, arrays)
            with np.load(path) as z:
                self.assertEqual(list(z.keys()), list(arrays))

    def test_multipart(self):
        payload = bytes(range(256)) * 3 + b"\r\n--not-a-boundary\r\n"
        chunks, ctype, length = _multipart(
            [
                ("dump", "dump.npz", payload, "application/octet-stream"),
                ("estimator", None, b'{"batch_size": 128}', "application/json"),
                ("label", None, json.dumps('run "1"').encode(), "application/json"),
            ]
        )
        body = b"".join(chunks)
        self.assertEqual(len(body), length)
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + body
        )
        parts = {p.get_param("name", header="content-disposition"): p for p in msg.iter_parts()}
        self.assertEqual(list(parts), ["dump", "estimator", "label"])
        self.assertEqual(parts["dump"].get_content(), payload)
        self.assertEqual(parts["dump"].get_filename(), "dump.npz")
        self.assertEqual(json.loads(parts["estimator"].get_content()), {"batch_size": 128})
        self.assertEqual(json.loads(parts["label"].get_content()), 'run "1"')

    def test_retry_after(self):
        self.assertEqual(retry_after("3"), 3.0)
        self.assertEqual(retry_after(" 0.5 "), 0.5)
        self.assertIsNone(retry_after(None))
        self.assertIsNone(retry_after("soon"))
        self.assertAlmostEqual(retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0), 10.0)
        self.assertEqual(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0.0)


# -- polling against a scripted server ------------------------------------------------------------


class FakeService:
    """A tiny HTTP server that answers a script of (status, headers, body) per request."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []  # (method, path, headers, time)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                request = (self.command, self.path, dict(self.headers), time.monotonic())
                outer.requests.append(request)
                status, headers, body = outer.script.pop(0) if outer.script else (500, {}, {})
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def gaps(self):
        times = [r[3] for r in self.requests]
        return [b - a for a, b in zip(times, times[1:])]


def accepted(path, retry=None):
    """A 202 answer with Location (and Retry-After when given) for the job at `path`."""
    headers = {"Location": path}
    if retry is not None:
        headers["Retry-After"] = retry
    return (202, headers, {"id": path.rsplit("/", 1)[1], "status": "queued"})


def tiny_dump():
    rng = np.random.default_rng(2)
    return {"x": rng.normal(size=(6, 2)), "y": np.arange(6) % 2, "h": rng.normal(size=(6, 2))}


class PollingTest(unittest.TestCase):
    def run_script(self, script, **kwargs):
        svc = FakeService(script)
        self.addCleanup(svc.close)
        client = infoplane.Client(svc.url, api_key="k1", timeout=kwargs.pop("timeout", 10))
        return svc, client

    def test_follows_location_and_retry_after(self):
        svc, client = self.run_script(
            [
                accepted("/v1/analyses/a1", "0.3"),
                (200, {"Retry-After": "0.2"}, {"id": "a1", "status": "running"}),
                (200, {}, {"id": "a1", "status": "done", "checkpoints": []}),
            ]
        )
        seen = []
        out = client.analyse(tiny_dump(), estimator={"batch_size": 4}, progress=seen.append)
        self.assertEqual(out["status"], "done")
        self.assertEqual([r["status"] for r in seen], ["running", "done"])
        methods = [(r[0], r[1]) for r in svc.requests]
        self.assertEqual(
            methods,
            [("POST", "/v1/analyses"), ("GET", "/v1/analyses/a1"), ("GET", "/v1/analyses/a1")],
        )
        self.assertTrue(all(r[2].get("Authorization") == "Bearer k1" for r in svc.requests))
        gaps = svc.gaps()
        self.assertGreaterEqual(gaps[0], 0.29)
        self.assertGreaterEqual(gaps[1], 0.19)
        self.assertLess(gaps[1], 0.45)  # the hint, not the 0.75 s backoff step

    def test_backs_off_without_retry_after_and_uses_links_self(self):
        svc, client = self.run_script(
            [
                (202, {}, {"id": "b2", "status": "queued", "links": {"self": "/v1/analyses/b2"}}),
                (200, {}, {"id": "b2", "status": "queued"}),
                (200, {}, {"id": "b2", "status": "running"}),
                (200, {}, {"id": "b2", "status": "done"}),
            ]
        )
        self.assertEqual(client.analyse(tiny_dump(), queue=True)["status"], "done")
        self.assertEqual(svc.requests[0][1], "/v1/analyses?async=true")
        self.assertEqual(svc.requests[1][1], "/v1/analyses/b2")
        gaps = svc.gaps()
        self.assertGreaterEqual(gaps[0], 0.49)
        self.assertGreaterEqual(gaps[1], 0.74)
        self.assertGreaterEqual(gaps[2], 1.1)

    def test_transient_errors_are_polled_through(self):
        svc, client = self.run_script(
            [
                accepted("/v1/analyses/c3", "0"),
                (503, {"Retry-After": "0"}, {"status": 503, "title": "Unavailable"}),
                (200, {}, {"id": "c3", "status": "done"}),
            ]
        )
        self.assertEqual(client.analyse(tiny_dump())["status"], "done")

    def test_failed_raises_job_failed(self):
        failure = {"message": 'layer "fc2" is constant', "problem": "x", "field": "fc2"}
        svc, client = self.run_script(
            [
                accepted("/v1/analyses/d4", "0"),
                (200, {}, {"id": "d4", "status": "failed", "error": failure}),
            ]
        )
        with self.assertRaises(infoplane.JobFailed) as ctx:
            client.analyse(tiny_dump())
        self.assertEqual(ctx.exception.field, "fc2")
        self.assertIn("constant", str(ctx.exception))

    def test_problem_raises_api_error(self):
        svc, client = self.run_script(
            [(422, {}, {"type": "/docs#problem-shape-mismatch", "title": "Shape mismatch",
                        "status": 422, "detail": "fc2 has 5 rows", "field": "fc2"})]
        )
        with self.assertRaises(infoplane.ApiError) as ctx:
            client.analyse(tiny_dump())
        e = ctx.exception
        self.assertEqual((e.status, e.title, e.field), (422, "Shape mismatch", "fc2"))
        self.assertEqual(e.detail, "fc2 has 5 rows")

    def test_non_json_error(self):
        svc, client = self.run_script([(502, {}, b"<html>bad gateway</html>")])
        with self.assertRaises(infoplane.ApiError) as ctx:
            client.get("x")
        self.assertEqual(ctx.exception.status, 502)
        self.assertIsNone(ctx.exception.field)

    def test_timeout(self):
        svc, client = self.run_script(
            [accepted("/v1/analyses/e5", "0.2")]
            + [(200, {"Retry-After": "0.2"}, {"id": "e5", "status": "running"})] * 20,
            timeout=0.7,
        )
        t0 = time.monotonic()
        with self.assertRaises(infoplane.WaitTimeout) as ctx:
            client.analyse(tiny_dump())
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(ctx.exception.record["status"], "running")

    def test_train_posts_json_and_waits(self):
        svc, client = self.run_script(
            [
                accepted("/v1/trainings/t1", "0"),
                (200, {}, {"id": "t1", "status": "running"}),
                (200, {}, {"id": "t1", "status": "done", "result": {"methods": []}}),
            ]
        )
        out = client.train({"model": {"preset": "mlp"}})
        self.assertEqual(out["result"], {"methods": []})
        self.assertEqual(svc.requests[0][2].get("Content-Type"), "application/json")
        self.assertEqual([r[1] for r in svc.requests], ["/v1/trainings"] + ["/v1/trainings/t1"] * 2)

    def test_train_cancelled(self):
        svc, client = self.run_script(
            [
                accepted("/v1/trainings/t2", "0"),
                (200, {}, {"id": "t2", "status": "cancelled", "error": None}),
            ]
        )
        with self.assertRaises(infoplane.JobFailed):
            client.train({"model": {"preset": "mlp"}})


# -- the PyTorch recorder -------------------------------------------------------------------------


@unittest.skipUnless(HAVE_TORCH, "torch is not installed: Recorder tests skipped")
class RecorderTest(unittest.TestCase):
    def setUp(self):
        import torch
        from torch import nn

        torch.manual_seed(0)
        self.torch, self.nn = torch, nn
        self.x = torch.randn(20, 6)
        self.y = torch.arange(20) % 3

    def seq(self, inplace=False):
        nn = self.nn
        return nn.Sequential(
            collections.OrderedDict(
                [("fc1", nn.Linear(6, 5)), ("act1", nn.ReLU(inplace=inplace)),
                 ("fc2", nn.Linear(5, 4)), ("act2", nn.Tanh()), ("out", nn.Linear(4, 3))]
            )
        )

    def test_post_activation_in_sequential(self):
        torch = self.torch
        model = self.seq()
        rec = infoplane.torch.Recorder(model, ["fc1", "fc2", "out"])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "out" is last: no warning
            rec.capture(self.x, self.y, step=3)
        a = rec.arrays()
        self.assertEqual(list(a), ["x", "y", "3/fc1", "3/fc2", "3/out"])
        with torch.no_grad():
            h1 = torch.relu(model.fc1(self.x))
            h2 = torch.tanh(model.fc2(h1))
            out = model.out(h2)
        np.testing.assert_allclose(a["3/fc1"], h1.numpy(), rtol=1e-6)
        np.testing.assert_allclose(a["3/fc2"], h2.numpy(), rtol=1e-6)
        np.testing.assert_allclose(a["3/out"], out.numpy(), rtol=1e-6)
        self.assertIn("ReLU 'act1'", rec.sources["fc1"])
        self.assertIn("no activation applied", rec.sources["out"])
        self.assertEqual(a["x"].dtype, np.float32)
        self.assertEqual(a["y"].tolist(), self.y.tolist())

    def test_inplace_relu_and_hooks_removed(self):
        torch = self.torch
        model = self.seq(inplace=True)
        with torch.no_grad():
            expected_out = model(self.x).numpy()
            pre = model.fc1(self.x)
        rec = infoplane.torch.Recorder(model, ["fc1"], activation=False)
        rec.capture(self.x, self.y)
        np.testing.assert_allclose(rec.arrays()["0/fc1"], pre.numpy(), rtol=1e-6)  # raw, copied
        rec2 = infoplane.torch.Recorder(model, ["fc1"])
        rec2.capture(self.x, self.y)
        np.testing.assert_allclose(rec2.arrays()["0/fc1"], torch.relu(pre).numpy(), rtol=1e-6)
        with torch.no_grad():
            np.testing.assert_allclose(model(self.x).numpy(), expected_out, rtol=1e-6)
        for m in model.modules():
            self.assertEqual(len(m._forward_hooks), 0)

    def test_shared_and_functional_activations(self):
        torch, nn = self.torch, self.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2, self.fc3 = nn.Linear(6, 5), nn.Linear(5, 4), nn.Linear(4, 3)
                self.relu = nn.ReLU()  # one module shared by every layer, registered last

            def forward(self, x):
                return self.fc3(self.relu(self.fc2(self.relu(self.fc1(x)))))

        class Functional(Net):
            def forward(self, x):
                return self.fc3(nn.functional.relu(self.fc2(nn.functional.relu(self.fc1(x)))))

        net = Net()
        rec = infoplane.torch.Recorder(net, ["fc1", "fc2", "fc3"])
        rec.capture(self.x, self.y)
        with torch.no_grad():
            h1 = torch.relu(net.fc1(self.x))
            h2 = torch.relu(net.fc2(h1))
            out = net.fc3(h2)
        a = rec.arrays()
        np.testing.assert_allclose(a["0/fc1"], h1.numpy(), rtol=1e-6)
        np.testing.assert_allclose(a["0/fc2"], h2.numpy(), rtol=1e-6)
        np.testing.assert_allclose(a["0/fc3"], out.numpy(), rtol=1e-6)  # not relu(logits)

        fn = Functional()
        fn.load_state_dict(net.state_dict())
        rec = infoplane.torch.Recorder(fn, ["fc1", "fc2", "fc3"])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rec.capture(self.x, self.y)
        self.assertEqual(len(caught), 1)
        self.assertIn("['fc1', 'fc2']", str(caught[0].message))
        self.assertTrue((rec.arrays()["0/fc1"] < 0).any())  # raw, as the warning says
        chosen = {"fc1": "relu", "fc2": "relu", "fc3": False}
        rec = infoplane.torch.Recorder(fn, ["fc1", "fc2", "fc3"], activation=chosen)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            rec.capture(self.x, self.y)
        np.testing.assert_allclose(rec.arrays()["0/fc2"], h2.numpy(), rtol=1e-6)
        self.assertIn("relu of fc2 (Linear), applied by the recorder", rec.sources["fc2"])

    def test_checkpoints_batches_modes_and_probe_checks(self):
        torch, nn = self.torch, self.nn
        model = nn.Sequential(
            nn.Conv2d(1, 2, 3, padding=1),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Flatten(),
            nn.Linear(2 * 16, 3),
        )
        x = torch.randn(10, 1, 4, 4, requires_grad=True)
        y = torch.arange(10) % 3
        model.train()
        rec = infoplane.torch.Recorder(model)  # every Linear and Conv
        self.assertEqual(rec.layers, ["0", "4"])
        rec.capture(x, y, step=0)
        rec.capture(step=10, batch_size=3)  # the same probe inputs, in batches
        self.assertTrue(model.training)  # mode restored
        a = rec.arrays()
        self.assertEqual(list(a), ["x", "y", "0/0", "0/4", "10/0", "10/4"])
        self.assertEqual(a["x"].shape, (10, 16))
        self.assertEqual(a["0/0"].shape, (10, 2 * 16))  # flattened per sample
        np.testing.assert_allclose(a["0/0"], a["10/0"], rtol=1e-5, atol=1e-6)  # eval: no dropout
        self.assertTrue((a["0/0"] >= 0).all())
        with self.assertRaises(ValueError):
            rec.capture(torch.randn(10, 1, 4, 4), y, step=20)
        with self.assertRaises(ValueError):
            rec.capture(step=10)  # already recorded
        self.assertEqual(rec.steps, [0, 10])
        with tempfile.TemporaryDirectory() as d:
            rec.save(os.path.join(d, "r.npz"))
            with np.load(os.path.join(d, "r.npz")) as z:
                self.assertEqual(list(z.keys()), list(a))

    def test_recording_context_manager(self):
        torch = self.torch
        model = self.seq()
        rec = infoplane.torch.Recorder(model, {"hidden": "fc1", "logits": "out"})
        for step in (0, 1):
            with torch.no_grad(), rec.recording(step=step, x=self.x, y=self.y):
                for i in range(0, 20, 8):
                    model(self.x[i : i + 8])
        a = rec.arrays()
        self.assertEqual(list(a), ["x", "y", "0/hidden", "0/logits", "1/hidden", "1/logits"])
        self.assertEqual(a["1/hidden"].shape, (20, 5))
        with self.assertRaises(ValueError):
            with rec.recording(step=2):
                model(self.x[:7])  # 7 rows for 20 probe inputs

    def test_bad_names(self):
        with self.assertRaises(KeyError):
            infoplane.torch.Recorder(self.seq(), ["fc9"])
        with self.assertRaises(ValueError):
            infoplane.torch.Recorder(self.seq(), ["fc1"], activation="swishy")


if __name__ == "__main__":
    unittest.main(verbosity=2)
