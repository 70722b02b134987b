from __future__ import annotations

from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """An empty form: its CSRF token is the confirmation."""
