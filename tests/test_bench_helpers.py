"""The benchmarks' shared pieces: `make bench` has nobody watching it, so what would silently stop a benchmark
(an entry point the runner cannot call, a sign-in held at the privacy notice) is tested here."""
import importlib
import inspect

import pytest

from bench import __main__ as runner
from bench.common import sign_in
from tests.helpers import PASSWORD


@pytest.mark.parametrize("name, module", sorted(runner.available().items()))
def test_every_benchmark_takes_the_runners_arguments(name, module):
    """python -m bench calls main(argv) with the arguments left after the benchmark's name."""
    (argv,) = inspect.signature(importlib.import_module(module).main).parameters.values()
    assert argv.default is None and str(argv.annotation) in ("Sequence[str] | None", "list[str] | None"), name


@pytest.mark.parametrize("role", ["trainer", "governance", "admin"])
def test_sign_in_accepts_the_privacy_notice_of_an_account_made_in_bulk(client, make_user, role):
    user = make_user(role, accepted_notice=False)
    sign_in(client, user.email, PASSWORD)
    start = client.get("/")
    assert start.status_code == 302
    landed = client.get(start.headers["Location"])
    assert landed.status_code == 200, landed.headers.get("Location")
