"""Documents the portal hands out: the PDF receipt of an application and printable application forms.

The builders (`receipt`, `printable_form`) turn data the views pass in into plain structures in one language; the
renderers (`pdf`, and the templates in pages/documents/) lay those out. Nothing here calls the registry.
"""
