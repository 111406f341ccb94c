"""Secrets through the installed script: a real ``-v -v`` import against ``sandbox serve``,
its resume and a refused token leave the token nowhere (outputs, journal, report, the
server's log). The in-process checks are in tests/test_secrets.py."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.e2e.conftest import API_ID, API_TOKEN, Serve
from tests.test_secrets import assert_no_secret, secret_forms


def test_verbose_import_leaks_the_token_nowhere(serve: Serve, tmp_path: Path) -> None:
    server = serve("--rate-limit", "off", holdings={i: f"{100 + i}" for i in range(1, 7)})
    forms = secret_forms(API_ID, API_TOKEN)
    csv_file = tmp_path / "rotate.csv"
    # A rotation (one parking write) and a swap: every kind of write.
    csv_file.write_text("user_id,extension\n1,102\n2,103\n3,101\n4,105\n5,104\n")
    journal, report = tmp_path / "journal.jsonl", tmp_path / "report.csv"
    done = server.cli(
        "-v", "-v", "import", str(csv_file), "--yes", "--journal", str(journal),
        "--report", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "authorization: <redacted>" in done.stderr.lower()  # -vv really logged headers
    assert done.stderr.count("PUT /v2/users/") == 7
    again = server.cli("-v", "-v", "-o", "json", "import", "--resume", str(journal))
    assert again.returncode == 0, again.stderr
    wrong = "wrong-" + API_TOKEN
    refused = server.cli(
        "-v", "-v", "import", str(csv_file), "--yes", "--journal", str(tmp_path / "j2.jsonl"),
        env=server.env(AIRCALL_API_TOKEN=wrong),
    )  # fmt: skip
    assert refused.returncode == 3
    [error] = [line for line in refused.stderr.splitlines() if "error:" in line]
    assert "403" in error  # a wrong ID/token pair is 403, as live
    assert server.stop() == 0
    texts = {
        "stdout": done.stdout + again.stdout + refused.stdout,
        "stderr": done.stderr + again.stderr + refused.stderr,
        "journal": journal.read_text(),
        "report": report.read_text(),
        "server log": "\n".join(server.log),
    }
    for where, text in texts.items():
        assert_no_secret(text, forms, where)
        assert_no_secret(text, secret_forms(API_ID, wrong), where)
    assert API_ID not in texts["journal"]  # only a fingerprint of it
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
