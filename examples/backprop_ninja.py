"""makemore part 4 ("becoming a backprop ninja"): the backward pass symgrad writes, checked.

The MLP of ``backprop_ninja.sg`` (embedding, linear, batch norm, tanh, linear,
cross-entropy; 27 characters, block size 3, embedding 10, hidden 64, batches of
32) on ``names.txt``: 400 synthetic names, generated once from syllables for
this example.  The generated backward is checked against central finite
differences (every parameter) and, when torch is installed, against PyTorch's
autograd in float64; then the model trains with SGD and the loss falls.

    python examples/backprop_ninja.py [--steps 300] [--code]
"""

import argparse
import random
import string
import sys
from pathlib import Path

import numpy as np

import symgrad

HERE = Path(__file__).parent
PROGRAM = (HERE / "backprop_ninja.sg").read_text()
BLOCK, EMBED, HIDDEN, BATCH = 3, 10, 64, 32
CHARS = "." + string.ascii_lowercase  # '.' (index 0) starts and ends every name
PARAMS = ("C", "W1", "b1", "bngain", "bnbias", "W2", "b2")


def load_words(path=HERE / "names.txt"):
    return Path(path).read_text().split()


def build_dataset(words):
    """Every (three previous characters, next character) pair of ``words``, as the lecture
    builds them: contexts start as '...' and each name ends with '.'."""
    X, Y = [], []
    for word in words:
        context = [0] * BLOCK
        for ch in word + ".":
            ix = CHARS.index(ch)
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return np.array(X, dtype=np.int64), np.array(Y, dtype=np.int64)


def splits(words, seed=42):
    """Train, dev and test sets (80%, 10%, 10% of the names, shuffled)."""
    words = list(words)
    random.Random(seed).shuffle(words)
    a, b = int(0.8 * len(words)), int(0.9 * len(words))
    return build_dataset(words[:a]), build_dataset(words[a:b]), build_dataset(words[b:])


def init_params(seed=2147483647):
    """The lecture's initialisation: small but non-zero everywhere, so no gradient hides."""
    rng = np.random.default_rng(seed)
    vocab, fan_in = len(CHARS), EMBED * BLOCK
    return {
        "C": rng.normal(size=(vocab, EMBED)),
        "W1": rng.normal(size=(fan_in, HIDDEN)) * (5 / 3) / fan_in**0.5,
        "b1": rng.normal(size=HIDDEN) * 0.1,
        "bngain": rng.normal(size=HIDDEN) * 0.1 + 1.0,
        "bnbias": rng.normal(size=HIDDEN) * 0.1,
        "W2": rng.normal(size=(HIDDEN, vocab)) * 0.1,
        "b2": rng.normal(size=vocab) * 0.1,
    }


def finite_differences(f, params, Xb, Yb, h=1e-6):
    """The largest difference between f's gradients and central differences, relative to
    1 + the gradient's size, over every element of every parameter."""
    _, grads = f.value_and_grad(Xb=Xb, Yb=Yb, **params)
    worst = 0.0
    for name in PARAMS:
        value = params[name]
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + h
            up = f(Xb=Xb, Yb=Yb, **params)
            value[index] = saved - h
            down = f(Xb=Xb, Yb=Yb, **params)
            value[index] = saved
            estimate = (up - down) / (2 * h)
            worst = max(worst, abs(estimate - grads[name][index]) / (1 + abs(estimate)))
    return worst


def torch_loss_and_grads(params, Xb, Yb):
    """The same forward pass in PyTorch, float64; (loss, {name: autograd's gradient})."""
    import torch

    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    X, Y, n = torch.tensor(Xb), torch.tensor(Yb), Xb.shape[0]
    hprebn = p["C"][X].view(n, -1) @ p["W1"] + p["b1"]
    bndiff = hprebn - hprebn.mean(0, keepdim=True)
    bnvar = (bndiff**2).sum(0, keepdim=True) / (n - 1)
    h = torch.tanh(p["bngain"] * bndiff * (bnvar + 1e-5)**-0.5 + p["bnbias"])
    logits = h @ p["W2"] + p["b2"]
    norm_logits = logits - logits.max(1, keepdim=True).values
    counts = norm_logits.exp()
    probs = counts * counts.sum(1, keepdim=True)**-1
    loss = -probs.log()[torch.arange(n), Y].mean()
    loss.backward()
    return loss.item(), {k: t.grad.numpy() for k, t in p.items()}


def torch_difference(f, params, Xb, Yb):
    """The largest difference from PyTorch (value and every gradient), or None without torch."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None
    value, grads = f.value_and_grad(Xb=Xb, Yb=Yb, **params)
    expected_value, expected = torch_loss_and_grads(params, Xb, Yb)
    worst = abs(value - expected_value)
    for name in PARAMS:
        worst = max(worst, float(np.max(np.abs(grads[name] - expected[name]))))
    return worst


def train(f, params, X, Y, steps, learning_rate=0.1, seed=0, report=None):
    """SGD on minibatches of BATCH rows; the loss of each step, in order."""
    rng = np.random.default_rng(seed)
    losses = []
    for step in range(steps):
        rows = rng.integers(0, X.shape[0], size=BATCH)
        loss, grads = f.value_and_grad(Xb=X[rows], Yb=Y[rows], **params)
        for name in PARAMS:
            params[name] -= learning_rate * grads[name]
        losses.append(loss)
        if report and (step % report == 0 or step == steps - 1):
            print(f"step {step:5d}  loss {loss:.4f}")
    return losses


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="SGD steps (default 300)")
    parser.add_argument("--code", action="store_true", help="print the generated NumPy")
    args = parser.parse_args(argv)

    f = symgrad.compile(PROGRAM)
    if args.code:
        print(f.source)
    backward = [target for target, *_ in f.backward_lines()]
    print(f"the backward pass: {len(backward)} lines, {backward[0]} ... {backward[-1]}")

    (Xtr, Ytr), (Xdev, Ydev), _ = splits(load_words())
    print(f"{Xtr.shape[0]} training examples, {Xdev.shape[0]} dev examples")
    params = init_params()
    Xb, Yb = Xtr[:BATCH], Ytr[:BATCH]
    worst = finite_differences(f, params, Xb, Yb)
    print(f"finite differences: largest difference {worst:.1e} over "
          f"{sum(v.size for v in params.values())} parameters")
    if worst > 1e-6:
        sys.exit("finite differences disagree")
    torch_worst = torch_difference(f, params, Xb, Yb)
    if torch_worst is None:
        print("PyTorch: skipped (torch is not installed: pip install 'symgrad[torch]')")
    else:
        print(f"PyTorch autograd (float64): largest difference {torch_worst:.1e}")
        if torch_worst > 1e-12:
            sys.exit("PyTorch disagrees")

    before = f(Xb=Xtr, Yb=Ytr, **params), f(Xb=Xdev, Yb=Ydev, **params)
    train(f, params, Xtr, Ytr, args.steps, report=max(1, args.steps // 10))
    after = f(Xb=Xtr, Yb=Ytr, **params), f(Xb=Xdev, Yb=Ydev, **params)
    print(f"train loss {before[0]:.4f} -> {after[0]:.4f}, dev loss {before[1]:.4f} -> "
          f"{after[1]:.4f} (batch norm over each whole split)")


if __name__ == "__main__":
    main()
