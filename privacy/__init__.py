"""Privacy under Morocco's law 09-08: the notice and its acceptance, a person's data as JSON, and
correction requests that admins approve or reject."""
