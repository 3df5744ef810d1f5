"""Optimizer and schedule cards: built from the real signatures, shown by help() and `losslab show`."""

from __future__ import annotations

import inspect
import json
import pydoc

import pytest
from typer.testing import CliRunner

import losslab as ll
from losslab.cli import app
from losslab.optim import cards

runner = CliRunner()
NAMES = cards.names()


def test_every_registered_optimizer_and_schedule_is_declared():
    assert set(ll.optim.names()) <= set(cards.OPTIMIZERS)
    schedules = {n for n in ll.optim.schedules.__all__ if n != "Schedule"}
    assert schedules == set(cards.SCHEDULES)
    forms = set(ll.landscape.rates.RACE_FORMS)  # race-only momentum forms have cards too
    assert sorted({*ll.optim.names(), *schedules, *forms}) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_card_hyperparameters_are_the_signature(name):
    c = cards.card(name)
    fn = cards._factory(name)
    sig = inspect.signature(fn)
    assert [h[0] for h in c.hyperparameters] == list(sig.parameters)
    for key, default, meaning in c.hyperparameters:
        expected = sig.parameters[key].default
        assert default == ("(required)" if expected is inspect.Parameter.empty else expected)
        assert meaning != "-", f"{name}: no meaning declared for {key}"
    assert c.formula and c.summary
    assert c.torch.startswith("torch") or c.torch.startswith(("SequentialLR", "no scheduler"))
    assert c.optax.startswith("optax")
    assert c.keras.startswith("keras") or c.kind == "schedule"


@pytest.mark.parametrize("name", NAMES)
def test_help_ends_with_the_card(name):
    fn = cards._factory(name)
    text = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    c = cards.card(name)
    assert f"Card (``losslab show {name}``)" in text
    for snippet in (c.formula, c.torch, c.optax, c.keras):
        assert snippet in text
    for key, default, _ in c.hyperparameters:
        assert (f"``{key}={default!r}``" if default != "(required)" else f"``{key}`` (required)") in text


@pytest.mark.parametrize("name", NAMES)
def test_show_prints_the_card(name):
    result = runner.invoke(app, ["show", name])
    assert result.exit_code == 0, result.output
    c = cards.card(name)
    for snippet in ("Hyperparameters", "PyTorch", "Optax", "Keras", c.hyperparameters[0][0]):
        assert snippet in result.stdout


def test_show_json_for_an_optimizer():
    data = json.loads(runner.invoke(app, ["show", "adam", "--json"]).stdout)
    assert data["name"] == "adam" and data["kind"] == "optimizer"
    assert data["hyperparameters"][0] == ["lr", 0.001, "learning rate (a float or a schedule step -> lr)"]
    assert data["torch"] == "torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)"


def test_show_unknown_name_suggests_across_kinds():
    result = runner.invoke(app, ["show", "adm"])
    assert result.exit_code == 2
    assert "unknown loss, optimizer or schedule 'adm'. Did you mean adam" in result.stderr


def test_card_errors_and_markdown():
    with pytest.raises(ValueError, match="unknown optimizer or schedule 'lbfgs'"):
        cards.card("lbfgs")
    md = cards.card("sgd")._repr_markdown_()
    assert md.startswith("### `sgd` (optimizer)") and "| `momentum` | `0.0` |" in md
