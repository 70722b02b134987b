"""Certificates: signed tokens, QR codes and PDF rendering (pure library code, no Flask)."""
