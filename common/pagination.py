"""Pagination of selects that return rows of several columns (Flask-SQLAlchemy's paginate returns only
the first column of each row)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from common.extensions import db


@dataclass
class RowPage:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def paginate_rows(query: sa.Select, page: int, per_page: int) -> RowPage:
    """A page of rows; a page number past the last gives the last page, below 1 the first."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    page = max(1, min(page, math.ceil(total / per_page) or 1))
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return RowPage(items=items, page=page, per_page=per_page, total=total)
