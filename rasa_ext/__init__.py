"""Rasa-side extensions: run inside Rasa (.venv-rasa), never imported by the gateway (bot/)."""
