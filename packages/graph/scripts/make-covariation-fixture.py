"""Oracle for src/models/covariation.ts: mutual information of alignment columns with pseudo-counts
(f = (1 - l) * observed + l / q, f_ab = (1 - l) * observed + l / q^2, l = 1 / (N + 1), q = 21), summed
over all q^2 state pairs (no closed form), then the average product correction (Dunn et al. 2008) and a
standardization over the off-diagonal pairs, in float64 with numpy.
Writes test/fixtures/covariation.json.   /usr/bin/python3 scripts/make-covariation-fixture.py
"""
import json
import numpy as np

ROWS = [
    "AC-DEKLm.",
    "AC-DERLv.",
    "GW-DEKIi.",
    "GWYDQRLvk",
    "AC-NEKLa.",
    "GW-DQRIi.",
    "ACYDEKLm.",
]
STATES = "ACDEFGHIKLMNPQRSTVWY"
q = 21
codes = np.array([[STATES.index(c.upper()) if c.upper() in STATES else 20 for c in r] for r in ROWS])
N, C = codes.shape
lam = 1 / (N + 1)
f = np.zeros((C, q))
for c in range(C):
    for r in range(N):
        f[c, codes[r, c]] += 1
f = (1 - lam) * f / N + lam / q
mi = np.zeros((C, C))
for i in range(C):
    for j in range(i + 1, C):
        joint = np.zeros((q, q))
        for r in range(N):
            joint[codes[r, i], codes[r, j]] += 1
        fab = (1 - lam) * joint / N + lam / q**2
        value = np.sum(fab * np.log(fab / np.outer(f[i], f[j])))
        mi[i, j] = mi[j, i] = value
off = ~np.eye(C, dtype=bool)
row_mean = mi.sum(1) / (C - 1)
overall = mi[off].mean()
apc = np.where(off, mi - np.outer(row_mean, row_mean) / overall, 0)
z = np.where(off, (apc - apc[off].mean()) / apc[off].std(), 0)
json.dump({"rows": ROWS, "mi": mi.tolist(), "standardized": z.tolist()}, open("test/fixtures/covariation.json", "w"), indent=1)
print(np.round(z, 3))
