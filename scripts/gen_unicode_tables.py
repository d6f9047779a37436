#!/usr/bin/python3
"""Unicode tables for package tokenizer's WordPiece normalizer, from Python's own Unicode data.

Hugging Face's Python BertTokenizer lower-cases with str.lower() and strips accents with
unicodedata.normalize("NFD", ...) followed by dropping category Mn, so the tables come from the
same place: the system interpreter's unicodedata (its version is recorded in the output).

Writes:
  tokenizer/unicode_tables.go            the tables (lower-case mappings, the two properties of
                                         str.lower's final-sigma rule, full canonical
                                         decompositions, canonical combining classes, Mn)
  tokenizer/testdata/unicode/golden.txt  str.lower / NFD / accent stripping of a broad sample

Run from the repository root: /usr/bin/python3 scripts/gen_unicode_tables.py
Reruns with the same Python build are byte-identical.
"""

import os
import random
import sys
import unicodedata

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
GEN = "scripts/gen_unicode_tables.py"
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3
SIGMA = "\u03a3"


def code_points():
    """Every code point a Go string can hold (no surrogates), minus the Hangul syllables, which
    are decomposed algorithmically."""
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        yield cp


def lower_map():
    """cp -> str.lower() of chr(cp), for every cp it changes."""
    return {cp: chr(cp).lower() for cp in code_points() if chr(cp).lower() != chr(cp)}


def sigma_classes():
    """The two properties str.lower's final-sigma rule looks at, probed on str.lower itself:
    Case_Ignorable (skipped) and Cased for characters that are not case-ignorable (the rule
    never asks whether a case-ignorable character is cased)."""
    ignorable, cased = [], []
    for cp in code_points():
        c = chr(cp)
        alone = (c + SIGMA).lower()[-1] == "\u03c2"  # final: c cased and not ignorable
        after_cased = ("A" + c + SIGMA).lower()[-1] == "\u03c2"
        if alone:
            cased.append(cp)
        elif after_cased:
            ignorable.append(cp)
    return ignorable, cased


def decompositions():
    """cp -> full canonical decomposition (NFD of the lone character), for every cp NFD changes,
    Hangul syllables excepted."""
    out = {}
    for cp in code_points():
        if HANGUL_FIRST <= cp <= HANGUL_LAST:
            continue
        d = unicodedata.normalize("NFD", chr(cp))
        if d != chr(cp):
            out[cp] = d
    return out


def ranges(cps):
    """Sorted code points -> [lo, hi] runs."""
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def range_table(name, doc, cps):
    """A unicode.RangeTable literal (stride-1 ranges)."""
    r16 = [r for r in ranges(cps) if r[1] <= 0xFFFF]
    r32 = [r for r in ranges(cps) if r[0] > 0xFFFF]
    split = [r for r in ranges(cps) if r[0] <= 0xFFFF < r[1]]
    for lo, hi in split:
        r16.append([lo, 0xFFFF])
        r32.insert(0, [0x10000, hi])
    r16.sort()
    latin = sum(1 for r in r16 if r[1] <= 0xFF)
    lines = [f"// {doc}", f"var {name} = &unicode.RangeTable{{", "\tR16: []unicode.Range16{"]
    lines += [f"\t\t{{0x{lo:04x}, 0x{hi:04x}, 1}}," for lo, hi in r16]
    lines.append("\t},")
    if r32:
        lines.append("\tR32: []unicode.Range32{")
        lines += [f"\t\t{{0x{lo:05x}, 0x{hi:05x}, 1}}," for lo, hi in r32]
        lines.append("\t},")
    if latin:
        lines.append(f"\tLatinOffset: {latin},")
    lines.append("}")
    return "\n".join(lines)


def lower_runs(lm):
    """Single-character mappings as runs {lo, hi, stride, delta}: every stride-th code point of
    [lo, hi] maps to itself + delta, the ones between are unchanged."""
    runs = []
    for cp in sorted(c for c, s in lm.items() if len(s) == 1):
        delta = ord(lm[cp]) - cp
        if runs:
            lo, hi, stride, d = runs[-1]
            if d == delta and ((stride == 0 and cp - hi in (1, 2)) or (stride and cp - hi == stride)):
                runs[-1] = [lo, cp, cp - hi, d]
                continue
        runs.append([cp, cp, 0, delta])
    return [[lo, hi, stride or 1, d] for lo, hi, stride, d in runs]


def ccc_runs():
    runs = []
    for cp in code_points():
        c = unicodedata.combining(chr(cp))
        if not c:
            continue
        if runs and runs[-1][1] == cp - 1 and runs[-1][2] == c:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp, c])
    return runs


def go_string(s):
    """A Go string literal of s (\\u/\\U escapes for everything outside printable ASCII)."""
    out = []
    for ch in s:
        o = ord(ch)
        if 0x20 <= o < 0x7F and ch not in '"\\':
            out.append(ch)
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    return '"' + "".join(out) + '"'


def write_tables(lm, ignorable, cased, dec, ccc, mn):
    multi = sorted((cp, s) for cp, s in lm.items() if len(s) > 1)
    runs = lower_runs(lm)
    keys = sorted(dec)
    pool, offs = [], [0]
    for cp in keys:
        pool.append(dec[cp])
        offs.append(offs[-1] + len(dec[cp].encode("utf-8")))
    assert offs[-1] < 1 << 16
    src = [
        f"// Code generated by {GEN}; DO NOT EDIT.",
        "",
        "package tokenizer",
        "",
        'import "unicode"',
        "",
        "// unidataVersion is the Unicode version of the Python unicodedata (Python "
        + sys.version.split()[0] + ") the tables come from.",
        f'const unidataVersion = "{unicodedata.unidata_version}"',
        "",
        "// lowerRuns: every stride-th code point of [lo, hi] lower-cases to itself + delta",
        "// (str.lower's one-character mappings; U+03A3 is settled by the final-sigma rule).",
        "var lowerRuns = [...]lowerRun{",
    ]
    src += [f"\t{{0x{lo:04x}, 0x{hi:04x}, {st}, {d}}}," for lo, hi, st, d in runs]
    src += ["}", "", "// lowerMulti: str.lower's mappings to more than one character.", "var lowerMulti = [...]struct {",
            "\tr rune", "\ts string", "}{"]
    src += [f"\t{{0x{cp:04x}, {go_string(s)}}}," for cp, s in multi]
    src += ["}", ""]
    src.append(range_table("caseIgnorable", "caseIgnorable: Case_Ignorable, skipped by the final-sigma rule.", ignorable))
    src.append("")
    src.append(range_table("casedNotIgnorable", "casedNotIgnorable: Cased characters that are not Case_Ignorable.", cased))
    src.append("")
    src.append(range_table("nonspacingMark", "nonspacingMark: general category Mn, dropped by accent stripping.", mn))
    src += [
        "",
        "// decompKeys are the code points with a canonical decomposition (Hangul syllables aside);",
        "// the full decomposition of decompKeys[i], canonically ordered, is",
        "// decompPool[decompOffs[i]:decompOffs[i+1]].",
        "var decompKeys = [...]uint32{",
    ]
    for i in range(0, len(keys), 8):
        src.append("\t" + " ".join(f"0x{cp:04x}," for cp in keys[i:i + 8]))
    src += ["}", "", "var decompOffs = [...]uint16{"]
    for i in range(0, len(offs), 12):
        src.append("\t" + " ".join(f"{o}," for o in offs[i:i + 12]))
    src += ["}", "", "const decompPool = \"\" +"]
    for i in range(0, len(pool), 8):
        tail = " +" if i + 8 < len(pool) else ""
        src.append("\t" + go_string("".join(pool[i:i + 8])) + tail)
    src += ["", "// cccRuns: the code points of [lo, hi] have canonical combining class ccc (0 elsewhere).",
            "var cccRuns = [...]cccRun{"]
    src += [f"\t{{0x{lo:04x}, 0x{hi:04x}, {c}}}," for lo, hi, c in ccc]
    src += ["}", ""]
    with open(os.path.join(ROOT, "tokenizer", "unicode_tables.go"), "w") as f:
        f.write("\n".join(src))
    return len(runs), len(multi), len(keys), len(ccc)


def strip(s):
    return "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")


def hexs(s):
    return " ".join(f"{ord(c):04X}" for c in s) or "-"


def samples(lm, ignorable, cased, dec, ccc):
    rng = random.Random(20260)
    marks = [chr(cp) for lo, hi, _ in ccc for cp in range(lo, hi + 1)]
    singles = [chr(cp) for cp in sorted(dec)]  # every decomposition
    singles += [chr(cp) for cp in sorted(lm)]  # every lower-case mapping
    singles += [chr(cp) for cp in range(HANGUL_FIRST, HANGUL_LAST + 1, 37)]  # Hangul, LV and LVT
    singles += ["a" + m for m in marks]  # every non-starter after a base
    out = ["".join(singles[i:i + 4]) for i in range(0, len(singles), 4)]
    out += ["\ud7a3", "\uac00\u11a8", "\u1100\u1161\u11a8", "\uac00\u0301\u0323"]
    starters_with_marks = [chr(cp) for cp in sorted(dec) if len(dec[cp]) > 1][:400]
    mn0 = [chr(cp) for cp in range(0x300, 0x20000) if unicodedata.category(chr(cp)) == "Mn"
           and not unicodedata.combining(chr(cp))]
    for _ in range(600):  # canonical reordering: bases, decomposable characters, marks of mixed classes
        s = rng.choice("aAeE\u00c5\u01d5\u1e69" + "".join(rng.sample(starters_with_marks, 3)))
        for _ in range(rng.randrange(1, 7)):
            s += rng.choice(marks) if rng.random() < 0.8 else rng.choice(mn0 + starters_with_marks)
        out.append(s)
    sig = [SIGMA, SIGMA, "A", "a", "1", "'", ".", "\u0345", "\u02b0", "\u00ad", "\u0301", "\u0130",
           "\u1f88", "\u00df", "\u2160", "\u24b6", "\u0387", "\u1fbc", "\u03a3\u0301"]
    sig += [chr(cp) for cp in rng.sample(ignorable, 20) + rng.sample(cased, 20)]
    for _ in range(400):  # final sigma in every context
        out.append("".join(rng.choice(sig) for _ in range(rng.randrange(1, 7))))
    pool = [cp for cp in code_points() if cp > 0x7F and cp not in lm and cp not in dec] + sorted(dec) + sorted(lm)
    for _ in range(300):  # random text over all planes
        out.append("".join(chr(rng.choice(pool)) for _ in range(rng.randrange(1, 6))))
    return out


def write_golden(ss):
    path = os.path.join(ROOT, "tokenizer", "testdata", "unicode", "golden.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# {GEN}: Python {sys.version.split()[0]}, unicodedata {unicodedata.unidata_version}\n")
        f.write("# input | str.lower() | NFD | NFD without Mn | NFD of lower() without Mn (hex code points; = is the input)\n")
        for s in ss:
            cols = [s, s.lower(), unicodedata.normalize("NFD", s), strip(s), strip(s.lower())]
            f.write(" | ".join("=" if i and x == s else hexs(x) for i, x in enumerate(cols)) + "\n")


def main():
    lm = lower_map()
    ignorable, cased = sigma_classes()
    dec = decompositions()
    ccc = ccc_runs()
    mn = [cp for cp in code_points() if unicodedata.category(chr(cp)) == "Mn"]
    n = write_tables(lm, ignorable, cased, dec, ccc, mn)
    ss = samples(lm, ignorable, cased, dec, ccc)
    write_golden(ss)
    print(f"lower runs {n[0]}, multi {n[1]}, decompositions {n[2]}, ccc runs {n[3]}, golden lines {len(ss)}")


if __name__ == "__main__":
    main()
