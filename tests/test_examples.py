"""The examples run end to end with small settings (the full runs are documented in docs/how-to/train.md)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def _run(*args, cwd):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_moons_trains_and_reports_accuracy(tmp_path):
    png = tmp_path / "moons.png"
    result = _run(EXAMPLES / "moons.py", "--steps", "5", "--plot", png, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "compiled the loss of 337 parameters" in result.stdout
    assert "5 steps in" in result.stdout and "training accuracy" in result.stdout
    assert png.exists() or "matplotlib is not installed" in result.stdout


def test_lecture_engine_and_compiled_loss_give_the_same_numbers(tmp_path):
    result = _run(EXAMPLES / "lecture.py", "--steps", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "L = -8.0; dL/da = 6.0, dL/db = -4.0" in result.stdout
    assert "grad_n = grad_o * (1 - o**2)" in result.stdout
    for line in result.stdout.splitlines():
        if line.startswith("step "):
            engine, compiled = line.split("loss ")[1:]
            assert engine.split(",")[0] == compiled


def _ninja():
    import importlib.util

    spec = importlib.util.spec_from_file_location("backprop_ninja", EXAMPLES / "backprop_ninja.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The lecture's exercise, one gradient a step ("+" adds the next contribution).  The
# lecture takes counts_sum_inv before counts; symgrad goes left to right in probs'
# line (probs = counts * reshape(counts_sum_inv, [n, 1])).
LECTURE_STEPS = [
    "logprobs", "probs", "counts", "counts_sum_inv", "counts_sum", "counts+", "norm_logits",
    "logits", "logit_maxes", "logits+", "h", "W2", "b2", "hpreact", "bngain", "bnraw",
    "bnbias", "bndiff", "bnvar_inv", "bnvar", "bndiff2", "bndiff+", "hprebn", "bnmeani",
    "hprebn+", "embcat", "W1", "b1", "emb", "C"]


def test_backprop_ninja_backward_has_one_line_per_lecture_step_in_order():
    import symgrad

    f = symgrad.compile(_ninja().PROGRAM)
    steps = []
    for target, text, _, _ in f.backward_lines():
        name = target[len("grad_"):]
        if not name.startswith("t") or not name[1:].isdigit():  # t1, t2...: the language's
            steps.append(name + ("+" if text.startswith(target + " + ") else ""))
    assert steps == LECTURE_STEPS
    assert "    n = Xb.shape[0]\n" in f.source and " = float(n) - 1.0  # ()\n" in f.source


def test_backprop_ninja_backward_equals_pytorch_autograd_in_float64():
    pytest.importorskip("torch", reason="torch is not installed (pip install 'symgrad[torch]')")
    import symgrad

    ninja = _ninja()
    f = symgrad.compile(ninja.PROGRAM)
    (X, Y), _, _ = ninja.splits(ninja.load_words())
    params = ninja.init_params(seed=5)
    value, grads = f.value_and_grad(Xb=X[:32], Yb=Y[:32], **params)
    expected_value, expected = ninja.torch_loss_and_grads(params, X[:32], Y[:32])
    assert abs(value - expected_value) <= 1e-12
    for name in ninja.PARAMS:
        np.testing.assert_allclose(grads[name], expected[name], rtol=0, atol=1e-12,
                                   err_msg=name)


def test_backprop_ninja_checks_its_gradients_and_its_loss_falls(tmp_path):
    result = _run(EXAMPLES / "backprop_ninja.py", "--steps", "60", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "the backward pass: 35 lines, grad_t10 ... grad_C" in out
    assert "finite differences: largest difference" in out and "over 4137 parameters" in out
    assert "PyTorch autograd (float64)" in out or "PyTorch: skipped" in out
    line = next(line for line in out.splitlines() if line.startswith("train loss"))
    before, after = (float(word.rstrip(",")) for word in line.split()[2:5:2])
    assert after < before - 0.2


def test_the_tutorial_chapter_shows_the_example_s_program():
    page = (EXAMPLES.parent / "docs" / "tutorial-arrays.md").read_text()
    shown = [line[4:] for line in page.splitlines() if line.startswith("... ")]
    program = [line.split("#")[0].strip() for line in _ninja().PROGRAM.splitlines()]
    program = [line for line in program if line]
    start = shown.index(program[0])
    assert shown[start:start + len(program)] == program
