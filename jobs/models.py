from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from common.extensions import db
from common.types import UTCDateTime, utcnow

# job.error when the process running it stopped (killed, crashed, restarted) before it finished.
WORKER_STOPPED = "worker_stopped"


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60))
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(10), default="queued")  # queued, running, done, failed
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    summary: Mapped[Optional[dict[str, Any]]] = mapped_column(sa.JSON)
    result_path: Mapped[Optional[str]] = mapped_column(sa.String(500))
    error: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # While running: the process running it ("host:pid") and when it last said it was alive (each progress
    # report, and every JOB_HEARTBEAT_SECONDS). A job silent for JOB_STALE_SECONDS, or whose process is gone,
    # is marked failed with WORKER_STOPPED (jobs.runner.check_alive).
    worker: Mapped[Optional[str]] = mapped_column(sa.String(120))
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        return 100 if self.status == "done" else (100 * self.done // self.total if self.total else 0)
