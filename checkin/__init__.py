"""Self check-in: a rotating code shown on the projector, scanned or typed by trainees."""
