"""The front door stays a front door: README fits a first sitting, every relative link
in README and docs/ lands on a file (and a heading, when it names one), and every
setting the app reads is a row of docs/settings.md."""
import re
from pathlib import Path

from photoservice.settings import from_environ

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED = re.compile(r"^```.*?^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def prose(path):
    """The page without its code blocks (a `](` in code is not a link)."""
    return FENCED.sub("", path.read_text())


def anchor(heading):
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


class Recorder(dict):
    """An empty environment that notes every name read from it."""

    def __init__(self):
        super().__init__()
        self.read = set()

    def get(self, name, default=None):
        self.read.add(name)
        return default

    def __contains__(self, name):
        self.read.add(name)
        return False

    def __getitem__(self, name):
        self.read.add(name)
        raise KeyError(name)


def test_readme_fits_a_first_sitting_and_links_every_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    assert "make dev" in readme and "make test" in readme
    linked = set(LINK.findall(prose(ROOT / "README.md")))
    assert {f"docs/{page.name}" for page in PAGES[1:]} <= linked


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in LINK.findall(prose(page)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, fragment = target.partition("#")
            landing = (page.parent / path).resolve() if path else page
            if not landing.is_file():
                broken.append(f"{page.name}: {target}")
            elif fragment and fragment not in {
                    anchor(h) for h in re.findall(r"^#+ (.*)$", prose(landing), re.M)}:
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_every_setting_is_a_row_of_the_settings_page():
    environ = Recorder()
    from_environ(environ)
    rows = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (ROOT / "docs" / "settings.md").read_text(), re.M))
    assert len(environ.read) > 30  # the recorder saw the settings being read
    assert sorted(environ.read - rows) == []
