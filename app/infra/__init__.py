"""Infrastructure shared by every domain: database and Redis connections, logging, time."""
