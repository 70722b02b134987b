import pytest
import sqlalchemy as sa
from sqlalchemy import text

from common.extensions import db


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_checks_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_readyz_says_unavailable_when_the_database_is_unreachable(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/x.db"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


@pytest.mark.parametrize("then_query", [False, True], ids=["view-done", "view-queries-again"])
def test_a_connection_cut_in_the_middle_of_a_request_gets_an_answer_not_a_crash(database_url, new_app, then_query):
    """PostgreSQL restarted or failed over while a request holds its connection: the session's ROLLBACK at
    teardown meets a dead connection. The request still gets the app's answer (its page, or the 503 when
    the view needed the database again), never the server's bare 500; the next request reconnects."""
    if not database_url.startswith("postgresql"):
        pytest.skip("terminating a connection from outside is PostgreSQL's")
    app = new_app({"DATABASE_URL": database_url})

    @app.get("/test/cut-connection")
    def cut_connection():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))  # a transaction is open on this connection
        other = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
        with other.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        if then_query:
            db.session.execute(text("SELECT 1"))
        return {"status": "done"}

    client = app.test_client()
    response = client.get("/test/cut-connection", headers={"Accept": "application/json"})
    assert response.status_code == (503 if then_query else 200), response.get_data(as_text=True)
    if then_query:
        assert response.content_type == "application/problem+json"
    else:
        assert response.json == {"status": "done"}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
