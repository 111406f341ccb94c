"""The tiers: tests/e2e/ is the end-to-end tier and nothing else is. The collection hook in
tests/conftest.py marks every test of that folder ``e2e`` and stops a run that finds the
marker anywhere else; here it runs on a small suite laid out like ours."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = "from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n"
INI = "[pytest]\nmarkers =\n    e2e: end-to-end\naddopts = --strict-markers -p no:cacheprovider\n"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    (pytester.path / "tests" / "e2e").mkdir(parents=True)
    (pytester.path / "tests" / "cli").mkdir()
    (pytester.path / "tests" / "e2e" / "test_server_e2e.py").write_text(
        "def test_a_real_process():\n    pass\n"
    )
    (pytester.path / "tests" / "cli" / "test_fast.py").write_text(
        "def test_in_process():\n    pass\n"
    )
    return pytester


def test_the_fast_lane_leaves_out_the_e2e_folder_unmarked_and_only_it(
    suite: pytest.Pytester,
) -> None:
    fast = suite.runpytest("-m", "not e2e", "-v")
    fast.assert_outcomes(passed=1, deselected=1)
    fast.stdout.fnmatch_lines(["*tests/cli/test_fast.py::test_in_process PASSED*"])
    slow = suite.runpytest("-m", "e2e", "-v")
    slow.assert_outcomes(passed=1, deselected=1)
    slow.stdout.fnmatch_lines(["*tests/e2e/test_server_e2e.py::test_a_real_process PASSED*"])


def test_a_test_marked_e2e_outside_the_folder_stops_the_run(suite: pytest.Pytester) -> None:
    (suite.path / "tests" / "cli" / "test_stray.py").write_text(
        "import pytest\n\n\n@pytest.mark.e2e\ndef test_a_server():\n    pass\n"
    )
    result = suite.runpytest("-m", "not e2e")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*marked e2e outside tests/e2e/: tests/cli/test_stray.py::test_a_server*"]
    )
