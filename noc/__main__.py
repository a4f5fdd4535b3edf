"""``python -m noc`` runs the ``noc`` command."""

from noc.cli import app

app(prog_name="noc")
