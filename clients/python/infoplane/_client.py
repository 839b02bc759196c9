"""HTTP client for the infoplane service: standard library only (urllib), plus numpy for dumps."""

from __future__ import annotations

import email.utils
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import __version__
from ._dump import as_numpy, to_npz, write_npz

PENDING = frozenset({"queued", "running", "pending", "started"})
FAILED = frozenset({"failed", "cancelled", "canceled", "error"})
DONE = "done"

#: First and largest pause between polls when the service sends no Retry-After (seconds).
POLL_FIRST = 0.5
POLL_MAX = 5.0
POLL_FACTOR = 1.5

# Answers worth polling again (the service restarting, a proxy in between, rate limits).
_TRANSIENT_STATUS = frozenset({429, 502, 503, 504})


class InfoplaneError(Exception):
    """Base class of every error this package raises on purpose."""


class ApiError(InfoplaneError):
    """The service answered with an error (``application/problem+json``, RFC 9457).

    ``status`` is the HTTP status, ``title`` / ``detail`` / ``field`` / ``type`` come from the
    problem body (``field`` names the form field, array or setting at fault, e.g. ``"fc2"`` or
    ``"estimator.sigma"``; None when the service named none), ``errors`` is its list of
    ``{"field", "message"}`` when it sent one, and ``body`` the whole parsed body (or its text).
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        field: Optional[str] = None,
        type: Optional[str] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
        body: Any = None,
        url: Optional[str] = None,
    ):
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.type = type
        self.errors = errors or []
        self.body = body
        self.url = url
        where = f" (field {field!r})" if field else ""
        super().__init__(f"{status} {title}: {detail}{where}" if detail else f"{status} {title}")


class JobFailed(InfoplaneError):
    """An analysis or training was accepted but ended ``failed`` (or ``cancelled``).

    ``message``, ``problem`` and ``field`` come from the record's ``error`` object; ``record``
    is the last record the service returned.
    """

    def __init__(self, record: Mapping[str, Any]):
        self.record = dict(record)
        self.id = record.get("id")
        self.status = record.get("status")
        err = record.get("error") or {}
        if not isinstance(err, Mapping):
            err = {"message": str(err)}
        self.message = str(err.get("message") or "no error message")
        self.problem = err.get("problem")
        self.field = err.get("field")
        where = f" (field {self.field!r})" if self.field else ""
        super().__init__(f"{self.id} {self.status}: {self.message}{where}")


class WaitTimeout(InfoplaneError, TimeoutError):
    """The job did not finish within the client's timeout; ``record`` is its last state (poll
    again with ``Client.wait(record)``)."""

    def __init__(self, message: str, record: Optional[Mapping[str, Any]] = None):
        self.record = dict(record) if record else None
        super().__init__(message)


class _Reply:
    __slots__ = ("status", "headers", "body", "url")

    def __init__(self, status: int, headers: Any, body: bytes, url: str):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


Dump = Union[Mapping[str, Any], str, "os.PathLike[str]", bytes, Any]


def retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Client:
    """A client of one infoplane service.

    ``url`` defaults to ``$INFOPLANE_URL`` or ``http://localhost:8000``; ``api_key`` to
    ``$INFOPLANE_API_KEY`` (sent as ``Authorization: Bearer <key>``). ``timeout`` (seconds) is how
    long :meth:`analyse`, :meth:`train` and :meth:`wait` wait for a job to finish, uploads and
    polls included (None: no limit); each method takes a ``timeout`` of its own too.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: Optional[float] = 600.0,
    ):
        url = url or os.environ.get("INFOPLANE_URL") or "http://localhost:8000"
        if "://" not in url:
            url = "http://" + url
        self.url = url.rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("INFOPLANE_API_KEY")
        self.timeout = timeout
        self.user_agent = f"infoplane-python/{__version__}"

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # -- analyses ------------------------------------------------------------------------------

    def analyse(
        self,
        dump: Dump,
        estimator: Union[Mapping[str, Any], str, None] = None,
        *,
        queue: bool = False,
        wait: bool = True,
        timeout: Optional[float] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        compress: bool = False,
        **fields: Any,
    ) -> Dict[str, Any]:
        """Posts a dump to ``/v1/analyses`` and returns the finished analysis (a dict).

        ``dump``: a dict of arrays (keys ``x``, ``y``, ``<step>/<layer>``; see
        :func:`infoplane.dump_arrays`), a path to an ``.npz`` file, the bytes of one, or an
        :class:`infoplane.torch.Recorder`. ``estimator``: estimator settings (a dict, sent as
        JSON text, or that text). Other keyword arguments (``measures=``, ``similarity=``,
        ``sweep=``, ``label=``...) are sent as multipart text fields holding their JSON; None
        values are left out.

        A 200 answer is returned as is. A 202 (large dumps, or ``queue=True``, which asks for
        ``?async=true``) is polled at its ``Location`` until the status is ``done`` (returned)
        or ``failed`` (:class:`JobFailed`), honouring ``Retry-After`` and otherwise backing off
        from 0.5 s to 5 s; ``progress(record)`` is called after each poll. ``wait=False`` returns
        the first answer (200 or 202) without polling. Errors answered by the service raise
        :class:`ApiError`; running out of ``timeout`` raises :class:`WaitTimeout`.
        """
        deadline = self._deadline(timeout)
        npz = self._npz_bytes(dump, compress)
        parts: List[Tuple[str, Optional[str], bytes, str]] = [
            ("dump", "dump.npz", npz, "application/octet-stream")
        ]
        if isinstance(estimator, (str, bytes)):  # already JSON text
            text = estimator.encode("utf-8") if isinstance(estimator, str) else estimator
            parts.append(("estimator", None, text, _JSON_TEXT))
        elif estimator is not None:
            parts.append(("estimator", None, _json_text(estimator, "estimator"), _JSON_TEXT))
        for name, value in fields.items():
            if value is not None:
                parts.append((name, None, _json_text(value, name), _JSON_TEXT))
        chunks, content_type, length = _multipart(parts)
        path = "/v1/analyses?async=true" if queue else "/v1/analyses"
        reply = self._request(
            "POST",
            path,
            data=chunks,
            headers={"Content-Type": content_type, "Content-Length": str(length)},
            deadline=deadline,
        )
        return self._settle(reply, wait, deadline, progress, "/v1/analyses/")

    def get(self, id: str) -> Dict[str, Any]:
        """``GET /v1/analyses/{id}``: the analysis as it is now (any status)."""
        return self._request("GET", f"/v1/analyses/{_quote(id)}").json()

    def csv(self, id: str) -> str:
        """``GET /v1/analyses/{id}.csv``: one row per checkpoint and layer (a finished analysis)."""
        return self._request("GET", f"/v1/analyses/{_quote(id)}.csv").body.decode("utf-8")

    # -- trainings -----------------------------------------------------------------------------

    def train(
        self,
        request: Mapping[str, Any],
        dataset: Optional[Dump] = None,
        *,
        wait: bool = True,
        timeout: Optional[float] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> Dict[str, Any]:
        """Posts a training job to ``/v1/trainings`` and waits until it is done (returns the
        finished job), ``failed`` or ``cancelled`` (:class:`JobFailed`).

        ``request`` is the JSON request (model, dataset, methods, optimizer...). ``dataset``, an
        ``.npz`` (dict of arrays, path or bytes), is sent with it as multipart (the request's
        ``dataset.name`` is then ``"upload"``). Trainings always answer 202; polling works as in
        :meth:`analyse`.
        """
        deadline = self._deadline(timeout)
        if dataset is None:
            body = json.dumps(request).encode("utf-8")
            reply = self._request(
                "POST",
                "/v1/trainings",
                data=[body],
                headers={"Content-Type": "application/json", "Content-Length": str(len(body))},
                deadline=deadline,
            )
        else:
            npz = self._npz_bytes(dataset, False, need_layers=False)
            chunks, content_type, length = _multipart(
                [
                    ("request", None, _json_text(request, "request"), _JSON_TEXT),
                    ("dataset", "dataset.npz", npz, "application/octet-stream"),
                ]
            )
            reply = self._request(
                "POST",
                "/v1/trainings",
                data=chunks,
                headers={"Content-Type": content_type, "Content-Length": str(length)},
                deadline=deadline,
            )
        return self._settle(reply, wait, deadline, progress, "/v1/trainings/")

    def get_training(self, id: str) -> Dict[str, Any]:
        """``GET /v1/trainings/{id}``: the training job as it is now."""
        return self._request("GET", f"/v1/trainings/{_quote(id)}").json()

    # -- waiting -------------------------------------------------------------------------------

    def wait(
        self,
        job: Union[str, Mapping[str, Any]],
        *,
        timeout: Optional[float] = None,
        progress: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> Dict[str, Any]:
        """Polls an analysis or training until it finishes; ``job`` is a record returned with
        ``wait=False`` (its ``links.self`` is followed), a URL or path, or an analysis id."""
        deadline = self._deadline(timeout)
        if isinstance(job, str):
            url = job if ("/" in job) else f"/v1/analyses/{_quote(job)}"
            record: Dict[str, Any] = {"id": job}
        else:
            record = dict(job)
            url = _self_link(record) or f"/v1/analyses/{_quote(str(record.get('id')))}"
        return self._poll(self._absolute(url), record, None, deadline, progress)

    # -- internals -----------------------------------------------------------------------------

    def _deadline(self, timeout: Optional[float]) -> Optional[float]:
        t = self.timeout if timeout is None else timeout
        return None if t is None else time.monotonic() + t

    def _npz_bytes(self, dump: Dump, compress: bool, need_layers: bool = True) -> bytes:
        if isinstance(dump, (bytes, bytearray, memoryview)):
            return bytes(dump)
        if isinstance(dump, (str, os.PathLike)):
            with open(dump, "rb") as f:
                return f.read()
        arrays = getattr(dump, "arrays", None)
        if callable(arrays):  # a Recorder
            dump = arrays()
        if isinstance(dump, Mapping):
            if need_layers:
                return to_npz(dump, compress=compress)
            return write_npz({str(k): as_numpy(v, str(k)) for k, v in dump.items()}, compress)
        raise TypeError(
            "dump must be a dict of arrays, a path to an .npz file, its bytes, or a Recorder; "
            f"got {type(dump).__name__}"
        )

    def _absolute(self, url: str) -> str:
        if "://" in url:
            return url
        if url.startswith("/"):
            return self.url + url
        return self.url + "/" + url

    def _headers(self, extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
        h = {"User-Agent": self.user_agent, "Accept": "application/json, */*"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        if extra:
            h.update(extra)
        return h

    def _request(
        self,
        method: str,
        path: str,
        data: Optional[Iterable[bytes]] = None,
        headers: Optional[Mapping[str, str]] = None,
        deadline: Optional[float] = None,
    ) -> _Reply:
        url = self._absolute(path)
        req = urllib.request.Request(url, data=data, method=method, headers=self._headers(headers))
        # The socket timeout: a synchronous analysis answers only when it is computed, so a
        # request may take as long as the whole call is allowed to.
        sock_timeout = 300.0 if deadline is None else max(1.0, deadline - time.monotonic())
        try:
            with urllib.request.urlopen(req, timeout=sock_timeout) as res:
                return _Reply(res.status, res.headers, res.read(), res.geturl())
        except urllib.error.HTTPError as e:
            body = e.read() if e.fp is not None else b""
            raise _api_error(e.code, e.reason, e.headers, body, url) from None
        except (urllib.error.URLError, socket.timeout, ConnectionError) as e:
            reason = getattr(e, "reason", e)
            raise InfoplaneError(f"{method} {url}: {reason}") from e

    def _settle(
        self,
        reply: _Reply,
        wait: bool,
        deadline: Optional[float],
        progress: Optional[Callable[[Dict[str, Any]], None]],
        collection: str,
    ) -> Dict[str, Any]:
        record = reply.json()
        status = record.get("status") if isinstance(record, Mapping) else None
        if reply.status == 200 and status in (DONE, None):
            return record
        if status in FAILED:
            raise JobFailed(record)
        if not wait:
            return record
        location = reply.headers.get("Location") or _self_link(record)
        if not location and record.get("id"):
            location = collection + _quote(str(record["id"]))
        if not location:
            raise InfoplaneError(f"answer {reply.status} has no Location, links.self or id")
        url = urllib.parse.urljoin(reply.url, location)
        first = retry_after(reply.headers.get("Retry-After"))
        return self._poll(url, record, first, deadline, progress)

    def _poll(
        self,
        url: str,
        record: Dict[str, Any],
        delay: Optional[float],
        deadline: Optional[float],
        progress: Optional[Callable[[Dict[str, Any]], None]],
    ) -> Dict[str, Any]:
        backoff = POLL_FIRST
        if delay is None:
            if "status" in record:  # just submitted: give it the first backoff step
                delay, backoff = backoff, min(POLL_MAX, backoff * POLL_FACTOR)
            else:  # wait() on a bare id: look at once
                delay = 0.0
        while True:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise WaitTimeout(
                        f"{record.get('id', url)} still {record.get('status', 'pending')} after "
                        "the timeout",
                        record,
                    )
                delay = min(delay, left)
            if delay > 0:
                time.sleep(delay)
            hint: Optional[float] = None
            try:
                reply = self._request("GET", url, deadline=deadline)
                record = reply.json()
                hint = retry_after(reply.headers.get("Retry-After"))
            except ApiError as e:
                if e.status not in _TRANSIENT_STATUS:
                    raise
                hint = retry_after(_header(e, "Retry-After"))
            except InfoplaneError as e:
                # The service restarting or a dropped connection: poll again until the deadline.
                if e.__cause__ is None:
                    raise
            else:
                if progress is not None:
                    progress(record)
                status = record.get("status")
                if status == DONE:
                    return record
                if status in FAILED:
                    raise JobFailed(record)
                if status not in PENDING:
                    raise InfoplaneError(f"{url}: unexpected status {status!r}")
            if hint is not None:
                delay = hint
            else:
                delay = backoff
                backoff = min(POLL_MAX, backoff * POLL_FACTOR)


_JSON_TEXT = "application/json"


def _json_text(value: Any, name: str) -> bytes:
    try:
        return json.dumps(value, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise TypeError(f"field {name!r} cannot be sent as JSON: {e}") from None


def _self_link(record: Mapping[str, Any]) -> Optional[str]:
    links = record.get("links")
    if isinstance(links, Mapping) and isinstance(links.get("self"), str):
        return links["self"]
    return None


def _quote(id: str) -> str:
    return urllib.parse.quote(str(id), safe="")


def _header(e: ApiError, name: str) -> Optional[str]:
    headers = getattr(e, "_headers", None)
    return headers.get(name) if headers is not None else None


def _api_error(status: int, reason: Any, headers: Any, body: bytes, url: str) -> ApiError:
    text = body.decode("utf-8", "replace")
    parsed: Any = text
    try:
        parsed = json.loads(text)
    except ValueError:
        pass
    if isinstance(parsed, Mapping):
        err = ApiError(
            status=int(parsed.get("status") or status),
            title=str(parsed.get("title") or reason or "error"),
            detail=str(parsed.get("detail") or ""),
            field=parsed.get("field"),
            type=parsed.get("type"),
            errors=parsed.get("errors") if isinstance(parsed.get("errors"), list) else None,
            body=parsed,
            url=url,
        )
    else:
        err = ApiError(status, str(reason or "error"), text.strip()[:500], body=text, url=url)
    err._headers = headers  # type: ignore[attr-defined]
    return err


def _multipart(
    parts: List[Tuple[str, Optional[str], bytes, str]],
) -> Tuple[List[bytes], str, int]:
    """Encodes multipart/form-data: (name, filename or None, content, content type) parts.
    Returns the body as chunks (the file contents are not copied), its type and length."""
    boundary = "infoplane-" + uuid.uuid4().hex
    chunks: List[bytes] = []
    for name, filename, content, ctype in parts:
        disposition = f'form-data; name="{_escape(name)}"'
        if filename is not None:
            disposition += f'; filename="{_escape(filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if filename is not None:
            head += f"Content-Type: {ctype}\r\n"
        chunks += [(head + "\r\n").encode("utf-8"), content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return chunks, f"multipart/form-data; boundary={boundary}", sum(len(c) for c in chunks)


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


__all__ = [
    "ApiError",
    "Client",
    "InfoplaneError",
    "JobFailed",
    "WaitTimeout",
]
