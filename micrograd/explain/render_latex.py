"""The lesson in LaTeX (``Explanation.to_latex``): names as math (``x_{1}``, ``E_{\\mathrm{total}}``),
gradients of the output as ``\\frac{\\mathrm{d}L}{\\mathrm{d}n}``, local derivatives as
``\\frac{\\partial n}{\\partial a}``.

``document=True`` gives a whole document for pdflatex (the engine it declares in its first
line) with only amsmath: Greek letters in names become ``\\alpha``..., accented Latin letters go
through inputenc, and any other character is written as its code point, so every name compiles.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from micrograd.explain.notation import constant, factor, is_literal, substituted, summed, word
from micrograd.explain.render_text import title
from micrograd.explain.steps import forward_formula
from micrograd.fmt import number

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_GREEK = {
    **{
        chr(0x3B1 + i): "\\" + name
        for i, name in enumerate(
            "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi o pi rho varsigma "
            "sigma tau upsilon phi chi psi omega".split()
        )
    },
    "\u0393": r"\Gamma",
    "\u0394": r"\Delta",
    "\u0398": r"\Theta",
    "\u039b": r"\Lambda",
    "\u039e": r"\Xi",
    "\u03a0": r"\Pi",
    "\u03a3": r"\Sigma",
    "\u03a6": r"\Phi",
    "\u03a8": r"\Psi",
    "\u03a9": r"\Omega",
}
_GREEK["\u03bf"] = "o"  # omicron is written o
_SUPERSCRIPTS = {"\u00b9": "1", "\u00b2": "2", "\u00b3": "3", "\u2070": "0"}


def _text_char(ch: str) -> str:
    """One character inside \\text{}: LaTeX's specials escaped, what pdflatex cannot set spelled out."""
    if ch in _SPECIALS:
        return _SPECIALS[ch]
    if ord(ch) < 128:
        return ch if ch.isprintable() else f"[U+{ord(ch):04X}]"
    if ch in _GREEK:
        return f"${_GREEK[ch]}$"
    if ch in _SUPERSCRIPTS:
        return rf"\textsuperscript{{{_SUPERSCRIPTS[ch]}}}"
    base = unicodedata.normalize("NFD", ch)
    if 0xC0 <= ord(ch) <= 0x17F and base[0].isascii() and unicodedata.category(ch).startswith("L"):
        return ch  # é, ü, ł ...: inputenc's utf8 sets them
    return f"[U+{ord(ch):04X}]"


def text(content: str) -> str:
    """Any string as LaTeX text (outside math)."""
    return "".join(_text_char(ch) for ch in content)


def _part(part: str) -> str:
    """One word of a name as math: x1 -> x_{1}, E_total -> E_{\\mathrm{total}}, net -> \\mathrm{net}."""
    if part in _GREEK:
        return _GREEK[part]
    match = re.fullmatch(r"([A-Za-z]+|.)_?(\d+)", part) or re.fullmatch(r"([A-Za-z]+|.)_(\w+)", part)
    if match is not None and (match.group(1).isascii() or match.group(1) in _GREEK):
        base, sub = match.groups()
        return f"{_part(base)}_{{{_part(sub) if not sub.isdigit() else sub}}}"
    if part.isascii() and part.isalpha():
        return part if len(part) == 1 else rf"\mathrm{{{part}}}"
    if part.isascii() and part.isdigit():
        return part
    return rf"\text{{{text(part)}}}"


def name(label: str) -> str:
    """A node's name as math: the last word after a dot is the variable (``\\mathrm{L0.N1.}w_{0}``),
    a sample's ``#2`` a superscript."""
    sample = re.fullmatch(r"(.+)#(\d+)", label)
    if sample is not None:
        return f"{{{name(sample.group(1))}}}^{{[{sample.group(2)}]}}"
    head, dot, last = label.rpartition(".")
    if not dot or not head or not last:
        return _part(label)
    if re.fullmatch(r"[A-Za-z]_?\d*", last) and not re.fullmatch(r"L\d+\.N\d+", label):  # L0.N1.w0
        return rf"\text{{{text(head + dot)}}}" + _part(last)
    return rf"\text{{{text(label)}}}"  # L0.N1, L0.N1.net: one upright name


def operand(label: str) -> str:
    """A name after \\mathrm{d} or \\partial: parenthesised when it is not one word (x1*w1 + x2*w2)."""
    return name(label) if word(label) == label else rf"\left({name(label)}\right)"


def tex_number(x: float | None, digits: int) -> str:
    if x is None:
        return r"\text{undefined}"
    written = number(x, digits)
    if "e" in written:
        mantissa, exponent = written.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return written


def total(out: str, x: str) -> str:
    return rf"\frac{{\mathrm{{d}}{operand(out)}}}{{\mathrm{{d}}{operand(x)}}}"


def local(n: str, x: str) -> str:
    return rf"\frac{{\partial {operand(n)}}}{{\partial {operand(x)}}}"


def _forward(ex: Any, step: Any) -> str:
    num = _numbers(ex)
    written = forward_formula(step.rule, step.operands)
    value = num(step.value)
    if written is None:
        args = ", ".join(name(n) for n in step.operand_names)
        return rf"{name(step.name)} &= \operatorname{{{text(step.op)}}}({args}) = {value}"
    with_names, with_numbers = substituted(*written, step, num, name, tex=True)
    return rf"{name(step.name)} &= {_chain(with_names, with_numbers, value)}"


def _formula_names(ex: Any, step: Any) -> str:
    written = forward_formula(step.rule, step.operands)
    if written is None:
        return rf"\operatorname{{{text(step.op)}}}({', '.join(name(n) for n in step.operand_names)})"
    return substituted(*written, step, _numbers(ex), name, tex=True)[0]


def _numbers(ex: Any) -> Any:
    return lambda x: tex_number(x, ex.digits)


def _chain(*parts: str) -> str:
    kept: list[str] = []
    for part in parts:
        if not kept or part != kept[-1]:
            kept.append(part)
    return " = ".join(kept)


def _step(ex: Any, step: Any) -> list[str]:
    out, node, num = ex.output, step.name, _numbers(ex)
    where = f" (neuron {text(step.neuron)})" if step.neuron else ""
    lines = [
        rf"\intertext{{Step {step.number}/{len(ex)}{where}: ${name(node)} = {_formula_names(ex, step)}$, "
        rf"upstream ${total(out, node)} = {num(step.upstream)}$}}"
    ]
    if step.skipped:
        lines.append(rf"{total(out, node)} &= 0 \quad \text{{(backward skips it)}} \\")
        return lines
    for term in step.terms:
        if term.is_constant:
            continue
        x = term.name
        contribution = num(term.contribution)
        if step.classic:
            lines.append(
                rf"{total(out, x)} &\mathrel{{+}}= {contribution} \quad "
                rf"\text{{(the \_backward closure; no formula)}} \\"
            )
        else:
            local_value = num(term.local_grad)
            if term.formula:
                with_names, with_numbers = substituted(term.formula, term.symbols, step, num, name, tex=True)
                parts = [with_names] if is_literal(with_names) else [with_names, with_numbers, local_value]
            else:
                parts = [local_value]
            lines.append(rf"{local(node, x)} &= {_chain(*parts)} \\")
            lines.append(
                rf"{total(out, x)} &\mathrel{{+}}= {total(out, node)} \, {local(node, x)} = "
                rf"{factor(num(step.upstream))} \cdot {factor(local_value)} = {contribution} \\"
            )
        if term.adds_to_earlier:
            shown, shown_total = summed(term.contributions, term.grad_after, ex.digits)
            terms = " + ".join([_tex_plain(shown[0]), *(factor(_tex_plain(s)) for s in shown[1:])])
            lines.append(rf"{total(out, x)} &= {terms} = {_tex_plain(shown_total)} \\")
    return lines


def _tex_plain(written: str) -> str:
    if "e" in written:
        mantissa, exponent = written.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return written


def render(ex: Any, document: bool = False) -> str:
    out = ex.output
    num = _numbers(ex)
    lines = [f"% {title(ex)}", r"\begin{align*}", r"\intertext{Forward pass}"]
    lines += [_forward(ex, step) + r" \\" for step in ex.forward]
    lines.append(rf"\intertext{{Backward pass: ${total(out, out)} = 1$ starts it}}")
    if not ex.steps:
        lines.append(rf"\intertext{{${name(out)}$ is a leaf: there is nothing to backpropagate.}}")
    for step in ex.steps:
        lines += _step(ex, step)
    if ex.updates:
        if ex.lr is not None:
            lines.append(
                rf"\intertext{{Update (SGD, against the gradient): "
                rf"$w \leftarrow w - \eta \, {total(out, 'w')}$ "
                rf"with $\eta = {constant(ex.lr, tex=True)}$}}"
            )
        else:
            lines.append(rf"\intertext{{Update: {text(str(ex.optimizer))}'s step}}")
        for update in ex.updates:
            p = name(update.name)
            if update.lr is not None:
                lines.append(
                    rf"{p} &\leftarrow {p} - {constant(update.lr, tex=True)} \, {total(out, update.name)} = "
                    rf"{num(update.old)} - {constant(update.lr, tex=True)} \cdot "
                    rf"{factor(num(update.grad))} = "
                    rf"{num(update.new)} \\"
                )
            else:
                lines.append(
                    rf"{p} &\leftarrow {num(update.new)} \quad "
                    rf"\text{{(was {number(update.old, ex.digits)})}} \\"
                )
    # the last row of an align* must not end in \\ (an empty row would follow)
    if lines[-1].endswith(r" \\"):
        lines[-1] = lines[-1][:-3]
    lines.append(r"\end{align*}")
    body = "\n".join(lines) + "\n"
    if not document:
        return body
    return (
        "% !TEX program = pdflatex\n"
        "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath}\n"
        "\\allowdisplaybreaks\n"
        f"\\begin{{document}}\n{body}\\end{{document}}\n"
    )
