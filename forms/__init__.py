"""Forms as data: definitions, conditions, answers, validators, JSON Schema and WTForms (docs/forms.md)."""
