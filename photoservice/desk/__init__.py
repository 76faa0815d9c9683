"""The photo desk (`/app/`): a page for office staff, a browser client of the public API.

Plain HTML, CSS and JavaScript in `static/`, no build step and nothing fetched from
elsewhere; it holds no privilege of its own (it sends the API key the user pastes).
"""
