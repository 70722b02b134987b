"""Background jobs with visible progress: RQ on Redis when REDIS_URL is set, a thread otherwise."""
