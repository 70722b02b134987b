"""Which request headers chose this answer (its language, JSON or a page), so that the answer says so in
Vary and a cache in front never hands one visitor's language or format to another. The code that reads such
a header says it did (negotiated_on); the answer lists them all."""
from __future__ import annotations

from flask import Flask, Response, request

_HEADERS_READ = "kafaa.negotiated_on"  # in the request's environ: its own, whatever outlives it


def negotiated_on(header: str) -> None:
    """The answer to this request depends on the request's `header`."""
    request.environ.setdefault(_HEADERS_READ, set()).add(header)


def declare_negotiation(response: Response) -> Response:
    headers = request.environ.get(_HEADERS_READ)
    if headers:
        response.vary.update(sorted(headers))
    return response


def init_app(app: Flask) -> None:
    app.after_request(declare_negotiation)
