"""Storage of the catalogue: tables and the queries the API needs."""
