"""Code written in the style of the classic micrograd's teaching successor runs unchanged on this Value.

That project's training script keeps its own Module/Neuron/Layer/MLP classes built from Value, an
AdamW optimizer that stores its moments as attributes of each parameter (``p.m``, ``p.v``), a
visual helper that sets ``_vis_color`` on leaves, cross-entropy written from ``exp`` and ``log``,
a xorshift random generator and yin-yang data. The loop below is written in that style (not
copied); it runs on ``micrograd.Value`` and, with the parameters made torch tensors instead, on
torch in float64: the losses agree to 1e-9 at every step.
"""

import math

import torch

from micrograd import Value

torch.set_default_dtype(torch.float64)


class RNG:
    """xorshift*: deterministic, and the same in any language."""

    def __init__(self, seed):
        self.state = seed

    def random_u32(self):
        self.state ^= (self.state >> 12) & 0xFFFFFFFFFFFFFFFF
        self.state ^= (self.state << 25) & 0xFFFFFFFFFFFFFFFF
        self.state ^= (self.state >> 27) & 0xFFFFFFFFFFFFFFFF
        return ((self.state * 0x2545F4914F6CDD1D) >> 32) & 0xFFFFFFFF

    def random(self):
        return (self.random_u32() >> 8) / 16777216.0

    def uniform(self, a=0.0, b=1.0):
        return a + (b - a) * self.random()


def yinyang(rng, n=60, r_small=0.1, r_big=0.5):
    """Points of a yin-yang disc in three classes (yin, yang, the two dots), scaled to [-2, 2]."""

    def which(x, y):
        d_right = math.hypot(x - 1.5 * r_big, y - r_big)
        d_left = math.hypot(x - 0.5 * r_big, y - r_big)
        if d_right < r_small or d_left < r_small:
            return 2
        yin = d_right <= r_small or r_small < d_left <= 0.5 * r_big or (y > r_big and d_right > 0.5 * r_big)
        return 0 if yin else 1

    points = []
    for i in range(n):
        while True:
            x, y = rng.uniform(0, 2 * r_big), rng.uniform(0, 2 * r_big)
            if math.hypot(x - r_big, y - r_big) <= r_big and which(x, y) == i % 3:
                points.append(([(x / r_big - 1) * 2, (y / r_big - 1) * 2], i % 3))
                break
    return points


def vis_color(nodes, color):
    for n in nodes:
        n._vis_color = color


def build(make_param, rng):
    """The successor's model classes, over any scalar type made by ``make_param``."""

    class Module:
        def zero_grad(self):
            for p in self.parameters():
                p.grad = 0

        def parameters(self):
            return []

    class Neuron(Module):
        def __init__(self, nin, nonlin=True):
            self.w = [make_param(rng.uniform(-1, 1) * nin**-0.5) for _ in range(nin)]
            self.b = make_param(0)
            self.nonlin = nonlin
            vis_color([self.b, *self.w], "lightgreen")

        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.tanh() if self.nonlin else act

        def parameters(self):
            return [*self.w, self.b]

    class Layer(Module):
        def __init__(self, nin, nout, **kwargs):
            self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

        def __call__(self, x):
            return [n(x) for n in self.neurons]

        def parameters(self):
            return [p for n in self.neurons for p in n.parameters()]

    class MLP(Module):
        def __init__(self, nin, nouts):
            sizes = [nin, *nouts]
            last = len(nouts) - 1
            self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for layer in self.layers for p in layer.parameters()]

    return MLP


def cross_entropy(logits, target):
    ex = [x.exp() for x in logits]
    denom = sum(ex)
    probs = [x / denom for x in ex]
    return -probs[target].log()


class AdamW:
    def __init__(self, parameters, lr=1e-1, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0):
        self.parameters = parameters
        self.lr, (self.beta1, self.beta2), self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.t = 0
        for p in self.parameters:
            p.m = 0
            p.v = 0

    def step(self):
        self.t += 1
        for p in self.parameters:
            if p.grad is None:
                continue
            p.m = self.beta1 * p.m + (1 - self.beta1) * p.grad
            p.v = self.beta2 * p.v + (1 - self.beta2) * (p.grad**2)
            m_hat = p.m / (1 - self.beta1**self.t)
            v_hat = p.v / (1 - self.beta2**self.t)
            p.data -= self.lr * (m_hat / (v_hat**0.5 + 1e-8) + self.weight_decay * p.data)

    def zero_grad(self):
        for p in self.parameters:
            p.grad = 0


def train(make_param, zero, steps, optimizer_class=AdamW):
    rng = RNG(42)
    data = yinyang(rng)
    model = build(make_param, rng)(2, [8, 3])
    optimizer = optimizer_class(model.parameters(), lr=1e-1, weight_decay=1e-4)

    def loss_fun(split):
        total_loss = zero()
        for x, y in split:
            total_loss = total_loss + cross_entropy(model(x), y)
        return total_loss * (1.0 / len(split))

    losses = []
    for _ in range(steps):
        loss = loss_fun(data)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.data))
    origin = [make_param(0.0), make_param(0.0)]
    vis_color(origin, "lightblue")
    return losses, model, origin


def test_the_successor_style_loop_runs_unchanged_and_its_losses_equal_torch():
    ours, model, origin = train(Value, lambda: Value(0.0), steps=25)

    def torch_param(x):
        return torch.tensor(float(x), requires_grad=True)

    class TorchAdamW(AdamW):
        def zero_grad(self):  # torch keeps grads as tensors: None clears one
            for p in self.parameters:
                p.grad = None

    theirs, _, _ = train(torch_param, lambda: torch.tensor(0.0), steps=25, optimizer_class=TorchAdamW)
    assert len(ours) == len(theirs) == 25
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (k, a, b)
    assert ours[-1] < 0.6 * ours[0]  # it learned
    # the attributes the successor sets live on our Values
    p = model.parameters()[0]
    assert isinstance(p.m, float) and p._vis_color == "lightgreen" and origin[0]._vis_color == "lightblue"
