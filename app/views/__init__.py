"""Route modules by feature; blueprints only for technical boundaries (public pages, status)."""
