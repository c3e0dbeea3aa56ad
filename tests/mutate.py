"""Plant realistic bugs one at a time in a scratch copy of the repository, and report which survive.

Each mutant is one change to one source file (an exact text replaced, or a function of the file's
source) and the test files that should catch it. The repository is copied once to a temporary
folder; for each mutant the file is changed there, ``pytest -x -q`` runs the mutant's test files in
the copy, and the file is restored. A mutant is killed when a test fails, and survives when they all
pass. A mutant whose target text is no longer in the source (the code moved on) is reported as not
applicable, with what to update, and counted apart.

    python tests/mutate.py              # every mutant (make mutate); a few minutes
    python tests/mutate.py adam hinge   # the mutants whose name contains one of these words
    python tests/mutate.py --list       # the list, without running anything

The unmutated copy first runs every test file the chosen mutants name, so a failure is the mutant's.
Exit status: 0 when every applicable mutant is killed; 1 when one survives, a mutant is not valid
Python, or the unmutated copy fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 600  # seconds per pytest run; a mutant that hangs the tests counts as killed
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "out", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"
)

Change = tuple[str, str] | Callable[[str], "str | None"]  # (old, new), or source -> mutated source


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository
    change: Change  # (old, new): ``old`` must occur exactly once; or source -> mutated source / None
    tests: tuple[str, ...]

    def apply(self, source: str) -> tuple[str | None, str]:
        """The mutated source, or None and why the mutant does not apply to this source."""
        if callable(self.change):
            mutated = self.change(source)
            return mutated, "" if mutated is not None else f"its target is not in {self.path}"
        old, new = self.change
        count = source.count(old)
        if count != 1:
            where = "is not in" if count == 0 else f"occurs {count} times in"
            return None, f"the text {old.splitlines()[0].strip()!r} {where} {self.path}"
        return source.replace(old, new), ""


def final_grads_on_every_page_step(source: str) -> str | None:
    """explain's HTML page: each step shows a node's FINAL gradient (its .grad after the whole pass)
    instead of the gradient after that step. Written against render_html's ``_data`` reading
    ``t.grad_after``; None once the page is built differently (update this function then)."""
    start = source.find("def _data(")
    if start < 0:
        return None
    end = source.find("\n    def ", start + 1)
    end = len(source) if end < 0 else end
    body = source[start:end]
    mutated = re.sub(r"\bt\.grad_after\b", "t.operand.grad", body)
    if mutated == body:
        return None
    return source[:start] + mutated + source[end:]


Rewrite = Callable[[str], "str | None"]


def mutant(name: str, module: str, old: str | Rewrite, new: str | None, *tests: str) -> Mutant:
    """A mutant of micrograd/<module>.py: ``old`` replaced by ``new`` (or ``old`` a function of the
    source, ``new`` None), to be caught by tests/test_<name>.py for each name in ``tests``."""
    if isinstance(old, str):
        if new is None:
            raise ValueError(f"mutant {name!r}: a text to replace needs its replacement")
        change: Change = (old, new)
    else:
        change = old
    return Mutant(name, f"micrograd/{module}.py", change, tuple(f"tests/test_{t}.py" for t in tests))


TANH, SIGMOID = "lambda a, out: (1.0 - out**2,)", "lambda a, out: (out * (1.0 - out),)"

MUTANTS = [
    # -- the six bugs issue 16 found that the suite let through ---------------------------------------
    mutant("plots: the loss curve is drawn reversed", "plots",
           "ax.plot(steps, history.loss,", "ax.plot(steps, history.loss[::-1],", "plots"),
    mutant("data: the noise is scaled by 1.3", "data",
           "c + rng.gauss(0.0, noise) for c in p", "c + rng.gauss(0.0, noise * 1.3) for c in p", "data"),
    mutant("data: train_val_split does not shuffle", "data",
           "    make_rng(seed).shuffle(order)\n    val, train", "    val, train", "data"),
    mutant("cli: the held-out accuracy is computed on the training set", "cli",
           "accuracy(model, X_val, y_val)", "accuracy(model, X, y)", "cli"),
    mutant("explain: the HTML page shows the final gradients at every step", "explain/render_html",
           final_grads_on_every_page_step, None, "explain", "explain_browser"),
    mutant("cli: --batch-size is ignored", "cli", "batch_size=args.batch_size,", "batch_size=None,", "cli"),
    # -- engine: the rule table and the backward pass ------------------------------------------------
    mutant("engine: tanh' = 1 - out (compile's torch oracle alone)", "engine",
           TANH, "lambda a, out: (1.0 - out,)", "compile_oracle"),
    mutant("engine: sigmoid' = out * (1 + out) (compile's torch oracle alone)", "engine",
           SIGMOID, "lambda a, out: (out * (1.0 + out),)", "compile_oracle"),
    mutant("engine: tanh' = 1 - out", "engine", TANH, "lambda a, out: (1.0 - out,)", "engine"),
    mutant("engine: sigmoid' = out * (1 + out)", "engine",
           SIGMOID, "lambda a, out: (out * (1.0 + out),)", "engine"),
    mutant("engine: d(a - b)/db = +1", "engine",
           "lambda a, b, out: (1.0, -1.0)", "lambda a, b, out: (1.0, 1.0)", "engine", "compile_oracle"),
    mutant("engine: d(a / b)/db = +a / b**2", "engine",
           "(1.0 / b, -out / b)", "(1.0 / b, out / b)", "engine"),
    mutant("engine: d(a ** b)/db = log(a), without out", "engine",
           "out * log(a)), 2,", "log(a)), 2,", "engine"),
    mutant("engine: d(a ** n)/da = n * a**n", "engine",
           "lambda a, n, out: (n * a ** (n - 1), None)", "lambda a, n, out: (n * a**n, None)", "engine"),
    mutant("engine: exp' = a", "engine",
           '"exp", math.exp, lambda a, out: (out,)', '"exp", math.exp, lambda a, out: (a,)', "engine"),
    mutant("engine: relu' = 1 at 0", "engine",
           "return (1.0 if out > 0 else 0.0,)", "return (1.0 if out >= 0 else 0.0,)", "engine"),
    mutant("engine: backward walks the graph in forward order", "engine",
           "self.grad + 1.0\n        for node in reversed(order):",
           "self.grad + 1.0\n        for node in order:", "engine"),
    mutant("engine: intermediate gradients carry over from the last pass", "engine",
           "live_only=True, reset_intermediate=True)", "live_only=True, reset_intermediate=False)",
           "engine", "semantics"),
    mutant("engine: no_grad switches recording off in every thread", "engine",
           "    if _threads_not_recording and _thread_id() in _threads_not_recording:\n        out._rule",
           "    if _threads_not_recording:\n        out._rule", "semantics"),
    mutant("engine: backward hands back an infinite gradient", "engine",
           "                if upstream - upstream != 0.0:  # inf or NaN\n                    raise",
           "                if False:  # inf or NaN\n                    raise", "semantics", "engine"),
    mutant("engine: a zero upstream is skipped even where it underflowed", "engine",
           "    if why is not None and not _provably_zero(",
           "    if why is not None and False and not _provably_zero(", "semantics"),
    mutant("engine: gradcheck's finite differences run under no_grad", "engine",
           "    numeric = []\n    for i in range(len(xs)):",
           "    numeric = []\n    with no_grad():\n     for i in range(len(xs)):", "semantics"),
    mutant("engine: defop registers a derivative without checking it", "engine",
           "    if check:\n        _check_op(op, points)", "    if False:\n        _check_op(op, points)",
           "defop"),
    mutant("engine: tanh's formula for explain disagrees with its derivative", "engine",
           '1, ("1 - out**2",),\n               _ufunc(np.tanh',
           '1, ("1 - out",),\n               _ufunc(np.tanh', "defop"),
    # -- nn --------------------------------------------------------------------------------------------
    mutant("nn: an unfused neuron drops its bias", "nn",
           "for wi, xi in zip(self.w, x)), self.b)", "for wi, xi in zip(self.w, x)), 0.0)", "nn"),
    mutant("nn: a fused neuron skips its activation", "nn",
           "return self._act(net) if self._act else net", "return net", "nn"),
    mutant("nn: kaiming init scaled by fan_out", "nn",
           '"kaiming": lambda fan_in, fan_out: math.sqrt(6.0 / fan_in)',
           '"kaiming": lambda fan_in, fan_out: math.sqrt(6.0 / fan_out)', "nn"),
    # -- optim -----------------------------------------------------------------------------------------
    mutant("optim: Adam's bias correction of m dropped", "optim",
           "step_size = self.lr / (1.0 - beta1**t)", "step_size = self.lr", "optim"),
    mutant("optim: Adam's bias correction of v dropped", "optim",
           "root_correction = math.sqrt(1.0 - beta2**t)", "root_correction = 1.0", "optim"),
    mutant("optim: SGD's momentum buffer subtracts the gradient", "optim",
           "[m * v + g for v, g in", "[m * v - g for v, g in", "optim"),
    mutant("optim: SGD's weight decay pushes away from 0", "optim",
           "p.grad + self.weight_decay * p.data", "p.grad - self.weight_decay * p.data", "optim"),
    mutant("optim: AdamW's decay ignores the learning rate", "optim",
           "data *= 1.0 - self.lr * self.weight_decay", "data *= 1.0 - self.weight_decay", "optim"),
    # -- losses ----------------------------------------------------------------------------------------
    mutant("losses: hinge's margin is 2, not 1", "losses",
           "relu(1.0 - y * s)", "relu(2.0 - y * s)", "losses"),
    mutant("losses: logsumexp forgets to add its shift back", "losses",
           "return m + log(total(exp(x - m)", "return log(total(exp(x - m)", "losses"),
    mutant("losses: mse's half_sum is the whole sum", "losses", "return 0.5 * loss", "return loss", "losses"),
    mutant("losses: l2 ignores alpha", "losses",
           "return alpha * linear(params, params)", "return linear(params, params)", "losses"),
    # -- viz escaping, the parser, files ---------------------------------------------------------------
    mutant("viz: '<' is not escaped in a label", "viz/dot", 'return "&lt;"', 'return "<"', "viz"),
    mutant("viz: '&' is not escaped in a label", "viz/dot", 'return "&amp;"', 'return "&"', "viz"),
    mutant("viz: ']' is not escaped in a label", "viz/dot", 'return "&#93;"', 'return "]"', "viz"),
    mutant("network: inputs numbered from 0 (x0, x1)", "network",
           'name = f"x{i + 1}{suffix}"', 'name = f"x{i}{suffix}"', "viz_network", "explain"),
    mutant("network: a neuron's output not named after it", "network",
           "self.names.setdefault(app.output, app.name)", "pass", "viz_network", "explain"),
    mutant("parser: '-' builds a '+' node", "parser",
           'ast.Sub: ("-", "-", operator.sub)', 'ast.Sub: ("-", "+", operator.add)', "parser"),
    mutant("parser: unary ~ and not are accepted", "parser",
           "(ast.USub, ast.UAdd))", "(ast.USub, ast.UAdd, ast.Invert, ast.Not))", "parser"),
    mutant("files: a failed write leaves its temporary file", "files",
           "        if os.path.lexists(tmp):\n            os.unlink(tmp)\n", "", "files"),
    # -- training, data, plots, cli --------------------------------------------------------------------
    mutant("training: fit never zeroes the gradients", "training",
           "            model.zero_grad()\n            opt.zero_grad()", "            pass", "training"),
    mutant("training: k outputs predict the smallest logit", "training",
           "return max(range(len(out)), key=lambda j: out[j].data)",
           "return min(range(len(out)), key=lambda j: out[j].data)", "training"),
    mutant("training: every epoch's minibatches come in the same order", "training",
           "seed=seed + epoch)", "seed=seed)", "training"),
    mutant("data: the lower moon is not lifted by 0.5", "data", "0.5 - math.sin(t)", "-math.sin(t)", "data"),
    mutant("plots: the two classes' fills are swapped", "plots",
           "ListedColormap(REGION_COLORS[:2])", "ListedColormap(REGION_COLORS[1::-1])", "plots"),
    mutant("cli: --lr is ignored", "cli", "            lr=args.lr,\n            steps=args.steps,",
           "            lr=None,\n            steps=args.steps,", "cli"),
    mutant("cli: --seed does not reach the data", "cli",
           "n_samples=samples, seed=seed)", "n_samples=samples, seed=1)", "cli"),
]  # fmt: skip


def pytest_run(copy: Path, tests: tuple[str, ...]) -> tuple[str, str, float]:
    """Run ``tests`` in ``copy``: ("passed" | "failed" | "timeout" | "error", what failed, seconds)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1", "CI": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    started = time.perf_counter()
    try:
        result = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return "timeout", f"no result after {TIMEOUT} s", time.perf_counter() - started
    seconds = time.perf_counter() - started
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    first = failed[0].split(" - ")[0] if failed else (result.stdout + result.stderr).strip()[-300:]
    outcome = {0: "passed", 1: "failed"}.get(result.returncode, "error")
    return outcome, first, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("words", nargs="*", help="run only the mutants whose name contains one of these")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.words or any(w.lower() in m.name.lower() for w in args.words)]
    if args.list or not chosen:
        for m in chosen:
            print(f"{m.name:70} {' '.join(m.tests)}")
        return 0 if chosen else 1

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="micrograd-mutate-") as scratch:
        copy = Path(scratch) / "repo"
        shutil.copytree(REPO, copy, ignore=COPY_IGNORE)
        check = [sys.executable, "-c", "import micrograd; print(micrograd.__file__)"]
        env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
        where = subprocess.run(check, cwd=copy, env=env, capture_output=True, text=True).stdout.strip()
        if not where.startswith(str(copy)):
            print(f"the scratch copy imports micrograd from {where!r}, not from {copy}: cannot mutate it")
            return 1
        files = tuple(sorted({t for m in chosen for t in m.tests}))
        print(f"{len(chosen)} mutants; the unmutated copy runs {len(files)} test files first ...", flush=True)
        outcome, first, seconds = pytest_run(copy, files)
        if outcome != "passed":
            print(f"the unmutated copy does not pass ({outcome}, {seconds:.0f} s): {first}")
            return 1
        print(f"baseline: {len(files)} test files pass unmutated ({seconds:.0f} s)\n", flush=True)

        killed, survived, not_applicable, invalid = [], [], [], []
        for m in chosen:
            target = copy / m.path
            original = target.read_text() if target.is_file() else None
            mutated, why = m.apply(original) if original is not None else (None, f"{m.path} does not exist")
            if mutated is None:
                not_applicable.append(m)
                print(f"  n/a              {m.name}\n{'':19}({why}: update this mutant)", flush=True)
                continue
            try:
                compile(mutated, m.path, "exec")
            except SyntaxError as exc:
                invalid.append(m)
                print(f"  INVALID          {m.name}: the mutated file is not Python ({exc})", flush=True)
                continue
            target.write_text(mutated)
            try:
                outcome, first, seconds = pytest_run(copy, m.tests)
            finally:
                target.write_text(original)  # type: ignore[arg-type]
            if outcome in ("failed", "timeout"):
                killed.append(m)
                print(f"  killed   {seconds:5.1f} s  {m.name}\n{'':19}by {first}", flush=True)
            elif outcome == "passed":
                survived.append(m)
                print(f"  SURVIVED {seconds:5.1f} s  {m.name}  ({' '.join(m.tests)} all pass)", flush=True)
            else:
                invalid.append(m)
                print(f"  INVALID  {seconds:5.1f} s  {m.name}: pytest could not run: {first}", flush=True)

    applicable = len(killed) + len(survived)
    rate = f"{100 * len(killed) / applicable:.0f}%" if applicable else "-"
    print(
        f"\nkilled {len(killed)} of {applicable} applicable mutants ({rate}); {len(survived)} survived, "
        f"{len(not_applicable)} not applicable, {len(invalid)} invalid; {time.perf_counter() - started:.0f} s"
    )
    for m in survived:
        print(f"  survived: {m.name}")
    return 1 if survived or invalid else 0


if __name__ == "__main__":
    sys.exit(main())
