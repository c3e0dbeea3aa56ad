"""Each loss against torch in float64: the value and the gradient with respect to every input."""

import pytest
import torch
import torch.nn.functional as F

from micrograd.engine import Value
from micrograd.losses import binary_cross_entropy, cross_entropy, hinge, l2, logsumexp, mse


def t64(xs, grad=True):
    return torch.tensor(xs, dtype=torch.float64, requires_grad=grad)


def check(loss, nodes, torch_loss, torch_input):
    """loss and d loss / d node equal torch's to 1e-12."""
    loss.backward()
    torch_loss.backward()
    assert loss.data == pytest.approx(torch_loss.item(), rel=1e-12, abs=1e-12)
    flat = torch_input.grad.flatten().tolist()
    assert [v.grad for v in nodes] == pytest.approx(flat, rel=1e-12, abs=1e-12)


PREDS = [0.3, -1.7, 2.2, 0.05]
TARGETS = [1.0, -1.0, 0.5, 0.0]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_equals_torch(reduction):
    ys = [Value(v) for v in PREDS]
    yt = t64(PREDS)
    check(
        mse(ys, TARGETS, reduction=reduction),
        ys,
        F.mse_loss(yt, t64(TARGETS, False), reduction=reduction),
        yt,
    )


def test_mse_half_sum_is_the_seeds_error_whose_gradient_is_y_minus_t():
    ys = [Value(v) for v in PREDS]
    loss = mse(ys, TARGETS, reduction="half_sum")
    yt = t64(PREDS)
    check(loss, ys, 0.5 * ((t64(TARGETS, False) - yt) ** 2).sum(), yt)
    assert [v.grad for v in ys] == pytest.approx([y - t for y, t in zip(PREDS, TARGETS)], abs=1e-15)


def test_mse_takes_a_single_value_and_rows_of_outputs():
    y = Value(2.0)
    assert mse(y, 0.5).data == 2.25
    rows = [[Value(1.0), Value(0.0)], [Value(0.0), Value(3.0)]]
    assert mse(rows, [[0.0, 0.0], [0.0, 1.0]]).data == pytest.approx((1 + 0 + 0 + 4) / 4)


def test_hinge_equals_the_torch_max_margin_formula():
    scores = [0.3, -1.7, 2.2, 0.05, -0.4]
    labels = [1, -1, -1, 1, 1]
    ss = [Value(v) for v in scores]
    st = t64(scores)
    oracle = torch.relu(1 - t64(labels, False) * st).mean()
    check(hinge(ss, labels), ss, oracle, st)


def test_binary_cross_entropy_equals_torch_including_huge_and_zero_logits():
    logits = [0.0, 3.0, -2.5, 800.0, -800.0, 35.0, -40.0]
    targets = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.3]
    zs = [Value(v) for v in logits]
    zt = t64(logits)
    check(
        binary_cross_entropy(zs, targets), zs, F.binary_cross_entropy_with_logits(zt, t64(targets, False)), zt
    )


def test_cross_entropy_equals_torch_including_huge_logits():
    rows = [[1.0, 2.0, 0.5], [-3.0, 0.0, 3.0], [1000.0, -1000.0, 999.0], [0.0, 0.0, 0.0]]
    labels = [1, 0, 2, 2]
    nodes = [[Value(v) for v in row] for row in rows]
    zt = t64(rows)
    oracle = F.cross_entropy(zt, torch.tensor(labels))
    check(cross_entropy(nodes, labels), [v for row in nodes for v in row], oracle, zt)


def test_logsumexp_equals_torch():
    xs = [Value(v) for v in [710.0, 709.0, -5.0]]
    xt = t64([710.0, 709.0, -5.0])
    check(logsumexp(xs), xs, torch.logsumexp(xt, 0), xt)


def test_l2_is_alpha_times_the_sum_of_squares():
    ps = [Value(v) for v in [0.5, -2.0, 3.0]]
    pt = t64([0.5, -2.0, 3.0])
    check(l2(ps, 1e-4), ps, 1e-4 * (pt**2).sum(), pt)
    assert l2([], 0.1).data == 0.0


def test_sum_reduction_and_one_sum_node():
    zs = [Value(v) for v in [0.5, -1.0]]
    loss = hinge(zs, [1, 1], reduction="sum")
    assert loss.data == 0.5 + 2.0
    assert loss._op == "sum"  # many terms, one node


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: mse([Value(1.0)], [1.0, 2.0]), ValueError, "1 predictions but 2 targets"),
        (lambda: mse([], []), ValueError, "empty"),
        (lambda: mse([Value(1.0)], [1.0], reduction="max"), ValueError, "unknown reduction 'max'"),
        (lambda: mse(["a"], [1.0]), TypeError, r"predictions\[0\] is str"),
        (lambda: mse([Value(1.0)], [None]), TypeError, r"targets\[0\] is NoneType"),
        (lambda: hinge([Value(1.0)], [0]), ValueError, r"must be -1 or \+1"),
        (lambda: binary_cross_entropy([Value(1.0)], [2.0]), ValueError, r"must be in \[0, 1\]"),
        (lambda: cross_entropy([[Value(1.0), Value(2.0)]], [2]), ValueError, r"class index in 0\.\.1"),
        (lambda: cross_entropy([[Value(1.0)]], [True]), ValueError, "class index"),
        (lambda: cross_entropy([], []), ValueError, "empty"),
        (lambda: cross_entropy([[Value(1.0)]], [0, 0]), ValueError, "1 logit rows but 2 labels"),
        (lambda: l2([Value(1.0)], -1.0), ValueError, "alpha must be"),
        (lambda: logsumexp([]), ValueError, "empty"),
    ],
)
def test_bad_loss_inputs_say_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
