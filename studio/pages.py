"""The app's pages, listed once: `app.py` builds its navigation from this, links use the paths, and the tests
visit every page from it.

The page scripts live in `app_pages/`; the repository has no top-level `pages/` folder, not even one holding only
a README: when that folder exists, Streamlit runs a fresh server's first script run as an old-style multipage app
(the folder's scripts plus app.py, before `st.navigation` is called), so a first visit to a deep link such as
`/compare` shows a "Page not found" dialog. tests/test_pages_demo.py keeps the folder away."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Page:
    key: str
    path: str  # relative to the repository root, as `st.Page` and `AppTest.switch_page` take it
    title: str  # the navigation label
    icon: str


PAGES: tuple[Page, ...] = (
    Page("home", "app_pages/home.py", "Start", ":material/home:"),
    Page("data", "app_pages/data.py", "Data", ":material/table_view:"),
    Page("scenario", "app_pages/scenario.py", "Scenario", ":material/tune:"),
    Page("training", "app_pages/training.py", "Training", ":material/model_training:"),
    Page("silver", "app_pages/silver.py", "Silver labels", ":material/label:"),
    Page("compare", "app_pages/compare.py", "Compare", ":material/leaderboard:"),
)
PATHS: dict[str, str] = {page.key: page.path for page in PAGES}
DEFAULT = PAGES[0].key
#: The browser tab's icon: a file served by the app itself (a `:material/...:` page icon is fetched from Google's
#: font CDN by the browser, and the app makes no request off this machine).
ICON = str(Path(__file__).with_name("icon.png"))
