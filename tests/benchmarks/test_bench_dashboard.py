"""The dashboard pages bench runs (quick: 500 couples, 10 journeys) and reports each
page's p95."""

from __future__ import annotations

import pytest

from bench.dashboard import PAGES, pages_sqlite


@pytest.mark.slow
def test_a_quick_dashboard_pages_run_measures_every_page() -> None:
    result = pages_sqlite(True)
    assert result.name == "dashboard.pages"
    assert result.n == 10 * len(PAGES)
    for page in PAGES:
        assert f"{page} " in result.note, result.note
