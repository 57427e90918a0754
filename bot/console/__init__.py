"""The agent console: accounts, sessions, the JSON API, the live websocket and the page."""
