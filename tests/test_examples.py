"""The examples run end to end with small settings (the full runs are documented in docs/how-to/train.md)."""

import subprocess
import sys
from pathlib import Path

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
