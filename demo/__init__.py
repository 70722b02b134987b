"""The demo programme `make run` serves: seeded through the same operations as the app."""
