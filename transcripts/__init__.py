"""Transcripts: every module a trainee passed or had recognised, their certificates and total hours; issued
as a signed PDF whose content is frozen and verifiable on a public page."""
