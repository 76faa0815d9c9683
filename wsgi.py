"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""
from photoservice import create_app

app = create_app()
