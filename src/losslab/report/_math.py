r"""The loss declarations' LaTeX as plain HTML: Unicode symbols, ``<sup>``/``<sub>``, no network.

The page must read without a math renderer from a CDN, so the subset of LaTeX the declarations
use is translated: Greek letters and operators to Unicode, ``\hat y`` to ``ŷ``, ``\frac{a}{b}`` to
``(a)/(b)``, ``^{...}``/``_{...}`` to superscripts and subscripts, ``\begin{cases}`` to a small
inline table, ``\text{...}``/``\operatorname{...}`` to upright text. An unknown command keeps its
name without the backslash, so nothing is lost.

>>> latex_to_html(r"\ell = \tfrac12 r^2,\ |r| \le \delta")
'ℓ = ½ r<sup>2</sup>, |r| ≤ δ'
>>> latex_to_html(r"\partial\ell/\partial\hat y = \sigma(z) - y")
'∂ℓ/∂ŷ = σ(z) − y'
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["latex_to_html"]

SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "kappa": "κ", "lambda": "λ",
    "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
    "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
    "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ",
    "Omega": "Ω", "ell": "ℓ", "partial": "∂", "nabla": "∇", "infty": "∞", "sum": "Σ",
    "prod": "Π", "int": "∫", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠",
    "neq": "≠", "approx": "≈", "equiv": "≡", "sim": "∼", "cdot": "·", "times": "×",
    "odot": "⊙", "otimes": "⊗", "circ": "∘", "pm": "±", "mp": "∓", "to": "→",
    "rightarrow": "→", "leftarrow": "←", "mapsto": "↦", "in": "∈", "notin": "∉",
    "subset": "⊂", "cup": "∪", "cap": "∩", "forall": "∀", "exists": "∃", "vert": "|",
    "lvert": "|", "rvert": "|", "Vert": "‖", "lVert": "‖", "rVert": "‖", "mid": "|",
    "langle": "⟨", "rangle": "⟩", "lfloor": "⌊", "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉",
    "ldots": "…", "cdots": "⋯", "dots": "…", "star": "⋆", "ast": "∗", "top": "ᵀ",
    "log": "log", "ln": "ln", "exp": "exp", "max": "max", "min": "min", "sup": "sup",
    "inf": "inf", "arg": "arg", "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh",
    "cosh": "cosh", "sinh": "sinh", "det": "det", "lim": "lim",
}  # fmt: skip
#: Commands that only size or space: dropped or turned into a space.
SPACES = {",": " ", ";": " ", ":": " ", "!": "", " ": " ", "quad": "  ", "qquad": "   "}
SIZING = {"big", "Big", "bigg", "Bigg", "left", "right", "bigl", "bigr", "Bigl", "Bigr", "displaystyle"}
#: ``\cmd{arg}`` rendered as the argument itself (upright or bold).
WRAPPERS = {"text": "", "mathrm": "", "operatorname": "", "textrm": "", "mathit": "i", "mathbf": "b",
            "boldsymbol": "b", "mathcal": "", "mathbb": "", "textbf": "b", "textit": "i"}  # fmt: skip
ACCENTS = {"hat": "\u0302", "tilde": "\u0303", "bar": "\u0304", "dot": "\u0307", "vec": "\u20d7"}
HALVES = {"12": "½", "13": "⅓", "14": "¼", "23": "⅔", "34": "¾"}


def latex_to_html(tex: str) -> str:
    """HTML (escaped, with ``<sup>``, ``<sub>``, ``<b>``, ``<i>``, ``<span class="cases">``) for ``tex``."""
    return _Parser(tex).parse()


class _Parser:
    def __init__(self, tex: str) -> None:
        self.s = tex
        self.i = 0

    def parse(self, stop: str | None = None) -> str:
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if stop is not None and ch == stop:
                self.i += 1
                return "".join(out)
            if ch == "\\":
                word = self._command()
                if word.isascii() and word.isalpha() and out and out[-1][-1:].isalnum():
                    word = " " + word  # y\log y: "y log y"
                out.append(word)
            elif ch == "{":
                self.i += 1
                out.append(self.parse("}"))
            elif ch in "^_":
                self.i += 1
                arg = self._argument()
                if ch == "^" and arg in ("\\top", "ᵀ", "T"):
                    out.append("ᵀ")
                else:
                    tag = "sup" if ch == "^" else "sub"
                    out.append(f"<{tag}>{arg}</{tag}>")
            elif ch == "-" and stop != "text":
                out.append("−")
                self.i += 1
            elif ch == "&":
                out.append("\x00")  # a cases column break, resolved by _cases
                self.i += 1
            else:
                out.append(html.escape(ch, quote=False))
                self.i += 1
        return "".join(out)

    def _argument(self) -> str:
        """One argument: a braced group, a command, or one character."""
        if self.i >= len(self.s):
            return ""
        ch = self.s[self.i]
        if ch == "{":
            self.i += 1
            return self.parse("}")
        if ch == "\\":
            return self._command()
        self.i += 1
        return "−" if ch == "-" else html.escape(ch, quote=False)

    def _raw_group(self) -> str:
        """The raw text of a braced group (for ``\\text``), braces balanced."""
        if self.i >= len(self.s) or self.s[self.i] != "{":
            return self._argument()
        depth, start = 0, self.i
        while self.i < len(self.s):
            c = self.s[self.i]
            depth += c == "{"
            depth -= c == "}"
            self.i += 1
            if depth == 0:
                break
        inner = self.s[start + 1 : self.i - 1]
        return html.escape(inner.replace("\\_", "_").replace("\\,", " "), quote=False)

    def _command(self) -> str:
        self.i += 1  # the backslash
        if self.i >= len(self.s):
            return ""
        ch = self.s[self.i]
        if not ch.isalpha():
            self.i += 1
            if ch == "\\":
                return "\x01"  # a cases row break
            if ch in SPACES:
                return SPACES[ch]
            return html.escape(ch, quote=False)
        m = re.match(r"[A-Za-z]+", self.s[self.i :])
        assert m is not None
        name = m.group(0)
        self.i += len(name)
        if name in SIZING:
            return ""
        if name in SPACES:
            return SPACES[name]
        if name in SYMBOLS:
            return SYMBOLS[name]
        if name in ("text", "textrm", "mathrm", "operatorname"):
            self._skip_spaces()
            return self._raw_group() if name == "text" else self._argument()
        if name in WRAPPERS:
            self._skip_spaces()
            inner = self._argument()
            tag = WRAPPERS[name]
            return f"<{tag}>{inner}</{tag}>" if tag else inner
        if name in ACCENTS:
            self._skip_spaces()
            inner = self._argument()
            return unicodedata.normalize("NFC", inner + ACCENTS[name])  # ŷ precomposed where it exists
        if name in ("frac", "tfrac", "dfrac"):
            self._skip_spaces()
            start = self.i
            num = self._argument()
            den = self._argument()
            raw = self.s[start : self.i]
            if raw in HALVES:
                return HALVES[raw]
            if f"{num}{den}" in HALVES and len(num) == len(den) == 1:
                return HALVES[f"{num}{den}"]
            return f"{_wrap(num)}/{_wrap(den)}"
        if name == "sqrt":
            self._skip_spaces()
            return f"√{_wrap(self._argument())}"
        if name == "begin":
            env = self._raw_group()
            body = self.parse_until(f"\\end{{{env}}}")
            return _cases(body) if env == "cases" else body
        return name

    def parse_until(self, marker: str) -> str:
        end = self.s.find(marker, self.i)
        end = len(self.s) if end < 0 else end
        inner = _Parser(self.s[self.i : end]).parse()
        self.i = end + len(marker)
        return inner

    def _skip_spaces(self) -> None:
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1


def _wrap(x: str) -> str:
    plain = re.sub(r"<[^>]+>", "", x)
    return x if len(plain) <= 1 or plain.isdigit() else f"({x})"


def _cases(body: str) -> str:
    rows = []
    for row in body.split("\x01"):
        if not row.strip():
            continue
        value, _, condition = row.partition("\x00")
        cond = condition.replace("\x00", " ").strip()
        cond = cond if cond.startswith(("if", "otherwise")) else (f"if {cond}" if cond else "")
        rows.append(f'<span class="case">{value.strip()}<span class="cond">{cond}</span></span>')
    return '<span class="cases">{' + "".join(rows) + "</span>"
