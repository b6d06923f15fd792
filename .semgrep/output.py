# Tests of the rules in output.yml: `semgrep --test .semgrep/` (make security).
import flask
import jinja2
from flask import render_template_string
from markupsafe import Markup

# ruleid: markup-outside-the-sanitiser
html = Markup("<b>" + "registry text" + "</b>")
# ruleid: markup-outside-the-sanitiser
flask.Markup("<i>x</i>")
# ok: markup-outside-the-sanitiser
escaped = str("registry text")

# ruleid: text-rendered-as-a-template
render_template_string("Hello {{ name }}", name="x")
environment = jinja2.Environment(autoescape=True)
# ruleid: text-rendered-as-a-template
environment.from_string("{{ 7 * 7 }}")
# ruleid: text-rendered-as-a-template
jinja2.Template("{{ x }}")
# ok: text-rendered-as-a-template
flask.render_template("pages/home.html", name="x")

app = flask.Flask(__name__)
# ruleid: autoescape-turned-off
app.jinja_env.autoescape = False
# ok: autoescape-turned-off
app.jinja_env.autoescape = True
# ruleid: autoescape-turned-off
jinja2.Environment(loader=None)
# ruleid: autoescape-turned-off
jinja2.Environment(autoescape=False)
# ok: autoescape-turned-off
jinja2.Environment(autoescape=jinja2.select_autoescape())
