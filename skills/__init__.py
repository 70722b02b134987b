"""The registry: modules, tracks, cohorts, trainees, sessions, attendance and results."""
