"""Writes test/fixtures/needleman-wunsch.json: pairs of sequences with Biopython's optimal global
alignment score (PairwiseAligner, match 2, mismatch -1, linear gap -2, as SIMPLE_SCORES) and the lowest
and highest identity (identical / aligned residue pairs) over its optimal alignments: our score must
equal Biopython's, and our identity must fall in the range where all optimal alignments were
enumerated (`complete`: at most 5000 of them). Run with Debian's /usr/bin/python3
and python3-biopython 1.80.
"""
import json
import os
import random

from Bio import Align

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
aligner = Align.PairwiseAligner()
aligner.mode = 'global'
aligner.match_score = 2
aligner.mismatch_score = -1
aligner.gap_score = -2


def read_fasta(path):
    records, name = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith('>'):
            name = line[1:].split()[0]
            records[name] = ''
        elif line:
            records[name] += line.upper()
    return list(records.values())


def identities(a, b):
    alignments = aligner.align(a, b)
    values = []
    for count, alignment in enumerate(alignments):
        if count == 5000:
            break
        pairs = same = 0
        for (s0, e0), (s1, e1) in zip(*alignment.aligned):
            for i, j in zip(range(s0, e0), range(s1, e1)):
                pairs += 1
                same += a[i] == b[j]
        values.append(same / pairs if pairs else 0.0)
    try:
        optimal = len(alignments)
    except OverflowError:
        optimal = float('inf')
    return alignments.score, min(values), max(values), optimal <= 5000


rng = random.Random(3)
alphabet = 'ACDEFGHIKLMNPQRSTVWY'
globins = read_fasta(os.path.join(here, 'globins-sample.fa'))
pairs = [(globins[i], globins[j]) for i in range(len(globins)) for j in range(i + 1, len(globins))]
for _ in range(25):
    a = ''.join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
    b = list(a)
    for _ in range(rng.randint(0, 12)):
        op = rng.random()
        k = rng.randrange(len(b) + 1)
        if op < 0.4 and b:
            b[min(k, len(b) - 1)] = rng.choice(alphabet)
        elif op < 0.7:
            b.insert(k, rng.choice(alphabet))
        elif b:
            del b[min(k, len(b) - 1)]
    pairs.append((a, ''.join(b) or 'W'))
cases = []
for a, b in pairs:
    score, low, high, complete = identities(a, b)
    cases.append({'a': a, 'b': b, 'score': score, 'minIdentity': low, 'maxIdentity': high, 'complete': complete})
with open(os.path.join(here, 'needleman-wunsch.json'), 'w') as f:
    json.dump({'biopython': '1.80', 'scores': {'match': 2, 'mismatch': -1, 'gap': -2}, 'cases': cases}, f, indent=0)
print(len(cases), 'cases')
