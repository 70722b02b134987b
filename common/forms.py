"""Bridging domain errors and WTForms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice

from common.errors import DomainError


def choices(pairs, blank=None) -> list[SelectChoice]:
    """Select options from a vocabulary dict or (value, label) pairs, optionally headed by a blank one."""
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    return ([SelectChoice("", blank)] if blank is not None else []) + [SelectChoice(v, l) for v, l in items]


def apply_errors(form: FlaskForm, error: DomainError) -> None:
    """Show an operation's field errors beside the fields; the rest at the top of the form."""
    for name, messages in error.fields.items():
        # Nested API names map onto flat form fields: title.fr -> title_fr.
        attr = "title_" + name.split(".", 1)[1] if name.startswith("title.") else name
        field = getattr(form, attr, None)
        texts = [str(m) for m in messages]
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + texts
        else:
            form.form_errors.append(f"{name}: {' '.join(texts)}")
    if not error.fields:
        form.form_errors.append(str(error.message))
