"""The tour page: sections, tables, figures, appendices, atomic writing, failures on the page; the
``losslab tour`` and ``losslab experiment`` commands."""

import html
import json
import os
import re
import stat

import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab._core import progress as progress_module
from losslab.cli import app
from losslab.experiments import Claim, Criterion, Experiment, VerdictRule, _framework
from losslab.report import _page, latex_to_html, markdown_to_html

runner = CliRunner()
FEW = ["loss-zoo", "ce-vs-mse"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "report"
    path = ll.report.write_tour(out, FEW, seed=0, quick=True)
    return path, path.read_text(encoding="utf-8")


def _ids(text):
    return set(re.findall(r'id="([^"]+)"', text))


def test_page_has_every_part(page):
    path, text = page
    assert path.name == "index.html" and (path.parent / "results.json").is_file()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    ids = _ids(text)
    assert {"contents", "summary", "errata", "loss-catalog", "exp-loss-zoo", "exp-ce-vs-mse"} <= ids
    # every contents link resolves to an id on the page
    links = re.findall(r'href="#([^"]+)"', text)
    assert links and set(links) <= ids
    for name in FEW:
        exp = ll.experiments.get(name)
        section = text.split(f'id="exp-{name}"')[1].split("<section")[0]
        assert html.escape(exp.claim.quote) in section and exp.claim.citation in section
        assert "<strong>Setup.</strong>" in section and 'class="badge ' in section
        result = ll.experiments.run(name, quick=True)
        for table in result.tables:
            assert html.escape(table.title) in section
        assert "could not be drawn" not in section
        assert section.count("<img ") == len(result.figures) > 0
        for title in result.figures:
            assert f"<figcaption>{html.escape(title)}</figcaption>" in section
    # the summary table shows one row per experiment, with its verdict badge
    summary = text.split('id="summary"')[1].split("</section>")[0]
    assert summary.count("<tr>") == 1 + len(FEW) and summary.count('class="badge ') >= len(FEW)


def test_page_is_self_contained(page):
    _, text = page
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "<style>" in text and "<link" not in text
    for src in re.findall(r'<img src="([^"]+)"', text):
        assert src.startswith("data:image/png;base64,")


def test_appendices_show_errata_and_every_loss(page):
    _, text = page
    errata = text.split('id="errata"')[1].split("</section>")[0]
    assert "0.1050" in errata and "<table>" in errata  # the corrected MSE of seed 002
    catalog = text.split('id="loss-catalog"')[1].split("</section>")[0]
    for name in ll.losses.names():
        assert f"<code>{name}</code>" in catalog
    assert "\\" not in catalog  # every formula rendered, no raw LaTeX
    assert "ℓ = (ŷ − y)<sup>2</sup>" in catalog


def test_footer_has_versions_seed_and_time(page):
    _, text = page
    footer = text.split('<footer class="page">')[1]
    assert f"losslab {ll.__version__}" in footer and "NumPy" in footer and "matplotlib" in footer
    assert "Seed 0" in footer and "quick mode" in footer and re.search(r"run time \d+\.\d s", footer)


def test_results_json_matches_the_runs(page):
    path, _ = page
    data = json.loads((path.parent / "results.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in data["experiments"]] == FEW
    for e in data["experiments"]:
        assert e["verdict"] == ll.experiments.run(e["name"], quick=True).verdict
    assert sum(data["counts"].values()) == len(FEW)


def _broken():
    def compute(params, seed):
        raise RuntimeError("the experiment broke on purpose")

    return Experiment(
        name="broken-toy",
        title="A broken experiment",
        claim=Claim("a quoted claim long enough", "002_21da411b06e8b2bb.txt", "Section 1"),
        setup="nothing",
        defaults={"x": 1},
        compute=compute,
        rule=VerdictRule(criteria=(Criterion("x", ">", 0.0),)),
        counterfactual={"x": 0},
    )


def _run_with_broken_toy(name, seed, quick, draw):
    """The worker's job in a worker process that also knows the broken experiment."""
    from losslab.report import tour as tour_module

    _framework._REGISTRY._items["broken-toy"] = _broken()
    return tour_module._run_in_worker(name, seed, quick, draw)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_experiment_is_reported_on_the_page(tmp_path, monkeypatch, workers):
    from losslab.report import tour as tour_module

    monkeypatch.setitem(_framework._REGISTRY._items, "broken-toy", _broken())
    monkeypatch.setattr(tour_module, "_worker_job", _run_with_broken_toy)
    path = ll.report.write_tour(tmp_path / "r", ["broken-toy", "loss-zoo"], quick=True, workers=workers)
    text = path.read_text(encoding="utf-8")
    section = text.split('id="exp-broken-toy"')[1].split("</section>")[0]
    assert "badge error" in section and "RuntimeError: the experiment broke on purpose" in section
    assert 'id="exp-loss-zoo"' in text  # the others still run
    data = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    assert data["counts"]["error"] == 1 and data["experiments"][0]["verdict"] is None


def test_an_interrupted_run_leaves_the_previous_report(tmp_path, monkeypatch):
    out = tmp_path / "r"
    ll.report.write_tour(out, ["loss-zoo"], quick=True)
    before = (out / "index.html").read_text(encoding="utf-8")

    def interrupted(tour):
        raise KeyboardInterrupt

    monkeypatch.setattr(_page, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ll.report.write_tour(out, ["ce-vs-mse"], quick=True)
    assert (out / "index.html").read_text(encoding="utf-8") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]  # no temporary directory left


def test_a_place_that_cannot_be_written_fails_before_the_run(tmp_path, monkeypatch):
    from losslab.report import tour as tour_module

    ran = []
    monkeypatch.setattr(tour_module, "run_tour", lambda *a, **k: ran.append(a))
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError):
        ll.report.write_tour(tmp_path / "file" / "r", ["loss-zoo"], quick=True)
    assert ran == []


def test_the_report_has_the_usual_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        ll.report.write_tour(tmp_path / "r", ["loss-zoo"], quick=True, workers=1)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o750  # not mkdtemp's private 0700


def test_write_tour_replaces_an_existing_report_and_refuses_a_file(tmp_path):
    out = tmp_path / "r"
    ll.report.write_tour(out, ["loss-zoo"], quick=True)
    ll.report.write_tour(out, ["ce-vs-mse"], quick=True)
    text = (out / "index.html").read_text(encoding="utf-8")
    assert 'id="exp-ce-vs-mse"' in text and 'id="exp-loss-zoo"' not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="tour: out must be a directory, got the file"):
        ll.report.write_tour(tmp_path / "file", ["loss-zoo"], quick=True)
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        ll.report.write_tour(tmp_path / "x", ["nope"])


def test_progress_bar_on_a_terminal_only(monkeypatch, capsys):
    ll.report.run_tour(["loss-zoo"], quick=True, progress=True)
    assert capsys.readouterr().out == ""  # not a terminal: silent
    monkeypatch.setattr(progress_module, "is_tty", lambda: True)
    ll.report.run_tour(["loss-zoo", "ce-vs-mse"], quick=True, progress=True)
    out = capsys.readouterr().out
    assert "tour" in out and "2/2" in out and "ce-vs-mse: holds" in out


def test_latex_to_html_renders_the_declarations():
    assert latex_to_html(
        r"\ell = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ 0 & \text{else} \end{cases}"
    ) == (
        'ℓ = <span class="cases">{<span class="case">½ r<sup>2</sup><span class="cond">if |r| ≤ δ</span>'
        '</span><span class="case">0<span class="cond">if else</span></span></span>'
    )
    assert latex_to_html(r"\frac{a+b}{2\beta} < x_{i}") == "(a+b)/(2β) &lt; x<sub>i</sub>"
    assert latex_to_html(r"y\log p") == "y log p"
    assert latex_to_html(r"(\textstyle\sum_k a_{ik})") == "(Σ<sub>k</sub> a<sub>ik</sub>)"


def test_markdown_escapes_and_marks_up():
    out = markdown_to_html("# T\n\n- a <b> **x**\n- `c<d>`\n\ntext *em* [link](https://x.y)")
    assert out == (
        "<h3>T</h3>\n<ul><li>a &lt;b&gt; <strong>x</strong></li><li><code>c&lt;d&gt;</code></li></ul>\n"
        "<p>text <em>em</em> link</p>"
    )


# --------------------------------------------------------------------------- command line


def test_cli_tour_writes_the_page_and_prints_verdicts(tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(app, ["tour", "--out", str(out), "--quick", "--only", "loss-zoo,ce-vs-mse"])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file() and "loss-zoo" in result.output and "holds" in result.output
    result = runner.invoke(app, ["tour", "--out", str(out), "--quick", "--only", "ce-vs-mse", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["page"] == str(out / "index.html") and data["experiments"][0]["name"] == "ce-vs-mse"


def test_cli_tour_bad_inputs(tmp_path):
    result = runner.invoke(app, ["tour", "--out", str(tmp_path / "r"), "--only", "robust-regresion"])
    assert result.exit_code == 2
    assert "Error: unknown experiment 'robust-regresion'. Did you mean robust-regression?" in result.output
    (tmp_path / "f").write_text("x")
    result = runner.invoke(app, ["tour", "--out", str(tmp_path / "f"), "--quick"])
    assert result.exit_code == 2 and "--out must be a directory" in result.output


def test_cli_experiment_list_and_run(tmp_path):
    result = runner.invoke(app, ["experiment", "list", "--json"])
    assert result.exit_code == 0
    assert [row["name"] for row in json.loads(result.output)] == ll.experiments.names()
    result = runner.invoke(app, ["experiment", "run", "ce-vs-mse", "--quick", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["verdict"] == "holds" and data["metrics"]["grad_ratio"] > 10
    result = runner.invoke(app, ["experiment", "run", "loss-zoo", "--out", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert "verdict: holds" in result.output and (tmp_path / "one" / "index.html").is_file()
    result = runner.invoke(app, ["experiment", "run", "nope"])
    assert result.exit_code == 2 and "Error: unknown experiment 'nope'" in result.output


def test_cli_errors_are_one_line_and_write_nothing(tmp_path, monkeypatch):
    missing = tmp_path / "no" / "report"
    for args in (["tour", "--out", str(missing)], ["experiment", "run", "loss-zoo", "--out", str(missing)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().splitlines() == [
            f"Error: --out: the directory {str(missing.parent)!r} does not exist"
        ]
    result = runner.invoke(app, ["tour", "--out", str(tmp_path / "r"), "--only", " , "])
    assert result.exit_code == 2 and "--only needs at least one experiment name" in result.stderr
    assert not list(tmp_path.iterdir())


def test_cli_experiment_run_reports_a_failure(tmp_path, monkeypatch):
    monkeypatch.setitem(_framework._REGISTRY._items, "broken-toy", _broken())
    result = runner.invoke(app, ["experiment", "run", "broken-toy", "--out", str(tmp_path / "one")])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "broken-toy failed" in line
    assert "RuntimeError: the experiment broke on purpose" in line
    assert (tmp_path / "one" / "index.html").is_file()  # the page shows the traceback


_CLOCK_FIELDS = {"elapsed_s", "generated"}  # run times and the wall-clock minute of the run


def _strip_times(d):
    if isinstance(d, dict):
        return {k: _strip_times(v) for k, v in d.items() if k not in _CLOCK_FIELDS}
    if isinstance(d, list):
        return [_strip_times(v) for v in d]
    return d


def test_worker_processes_give_the_tour_one_process_gives():
    names = [*FEW, "robust-regression"]
    alone = ll.report.run_tour(names, quick=True, workers=1)
    pooled = ll.report.run_tour(names, quick=True, workers=2)
    assert [e.name for e in pooled.entries] == names  # in tour order, whatever finished first
    assert _strip_times(pooled.to_dict()) == _strip_times(alone.to_dict())
    for a, p in zip(alone.entries, pooled.entries):
        assert sorted(p.figures) == sorted(a.figures) and all(
            uri.startswith("data:image/png") for uri in p.figures.values()
        )
        assert (
            p.result is not None and p.result.data == {} and p.result.figures == {}
        )  # data stays in the worker
    assert alone.entries[2].result is not None and alone.entries[2].result.data  # complete in one process
    with pytest.raises(ValueError, match="workers must be >= 1"):
        ll.report.run_tour(names, quick=True, workers=0)


def _killed_worker(name, seed, quick, draw):
    import os

    os._exit(3)  # a worker that dies (out of memory, killed): the pool breaks


def test_a_broken_worker_pool_leaves_the_rest_to_this_process(monkeypatch):
    from losslab.report import tour as tour_module

    monkeypatch.setattr(tour_module, "_worker_job", _killed_worker)
    t = ll.report.run_tour(FEW, quick=True, workers=2)
    assert [e.name for e in t.entries] == FEW and all(
        e.result is not None and e.result.data for e in t.entries
    )


def _slow_worker(name, seed, quick, draw):
    import time

    time.sleep(60)


def test_ctrl_c_stops_the_worker_processes_at_once(monkeypatch):
    import multiprocessing
    import os
    import signal
    import threading
    import time

    from losslab.report import tour as tour_module

    monkeypatch.setattr(tour_module, "_worker_job", _slow_worker)
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C in this process only
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        ll.report.run_tour(FEW * 3, quick=True, workers=2)
    assert time.perf_counter() - start < 20  # not the minutes of the queued experiments
    deadline = time.perf_counter() + 10
    while multiprocessing.active_children() and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
