"""What the registry tells the packages above it, as blinker signals. Skills knows no subscriber: app.py
connects them (`register_reactions`), so a package above reacts without skills importing it.

trainees_written
    Sent by `operations.write_trainees` once its bulk INSERT and UPDATE statements have run. They bypass
    the ORM's unit of work, so no session event sees them: a copy kept elsewhere follows through this.
    sender: the SQLAlchemy Connection the rows were written on (the session's, inside its transaction);
    created_ids: the new trainees' ids; updated_ids: the ids of the trainees whose fields were updated.

recognitions_changed
    Sent by `operations.recognise_module` and `operations.withdraw_recognition` once the change is flushed:
    a recognition changes what a trainee is eligible for. sender: the session's Connection; trainee_ids:
    the people concerned.
"""
from __future__ import annotations

from blinker import Namespace

signals = Namespace()

trainees_written = signals.signal("trainees-written")
recognitions_changed = signals.signal("recognitions-changed")
