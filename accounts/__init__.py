"""Accounts: people who sign in, their roles, API tokens, invitations and outgoing mail."""
