"""CPSV-AP 3.2 (EU Core Public Service Vocabulary Application Profile): JSON-LD export and import."""
