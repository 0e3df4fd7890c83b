"""The app's pages, listed once: `app.py` builds its navigation from this, links use the paths, and the tests
visit every page from it."""

from __future__ import annotations

from dataclasses import dataclass


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
