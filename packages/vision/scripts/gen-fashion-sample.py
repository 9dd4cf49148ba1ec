#!/usr/bin/python3
"""The committed Fashion-MNIST sample: the first 30 train and 20 test images of Debian's dataset-fashion-mnist.

Run: /usr/bin/python3 packages/vision/scripts/gen-fashion-sample.py   (needs apt-get install dataset-fashion-mnist)
Writes packages/vision/test/fixtures/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (gzip with
mtime 0, so the bytes repeat) and oracle.json: per split the labels and each image's pixel sum and first row
with ink, read here with Python's gzip and struct (independent of the TypeScript reader).
"""
import gzip
import json
import os
import struct

SOURCE = '/usr/share/datasets/fashion-mnist'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'fashion-mnist')
COUNTS = {'train': 30, 't10k': 20}


def read(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    rank = data[3]
    dims = struct.unpack('>%dI' % rank, data[4:4 + 4 * rank])
    return magic, dims, data[4 + 4 * rank:]


def write(path, magic, dims, body):
    header = struct.pack('>I', magic) + struct.pack('>%dI' % len(dims), *dims)
    with open(path, 'wb') as f:
        with gzip.GzipFile(fileobj=f, mode='wb', mtime=0, filename='') as g:
            g.write(header + body)


os.makedirs(OUT, exist_ok=True)
oracle = {}
for prefix, n in COUNTS.items():
    magic, dims, pixels = read(os.path.join(SOURCE, prefix + '-images-idx3-ubyte.gz'))
    assert magic == 0x803 and dims[1:] == (28, 28), (magic, dims)
    lmagic, ldims, labels = read(os.path.join(SOURCE, prefix + '-labels-idx1-ubyte.gz'))
    assert lmagic == 0x801 and ldims[0] == dims[0]
    size = 28 * 28
    write(os.path.join(OUT, prefix + '-images-idx3-ubyte.gz'), 0x803, (n, 28, 28), pixels[:n * size])
    write(os.path.join(OUT, prefix + '-labels-idx1-ubyte.gz'), 0x801, (n,), labels[:n])
    images = [pixels[i * size:(i + 1) * size] for i in range(n)]
    oracle['train' if prefix == 'train' else 'test'] = {
        'count': n,
        'fullCount': dims[0],
        'labels': list(labels[:n]),
        'pixelSums': [sum(image) for image in images],
        'firstInkRow': [next(r for r in range(28) if any(image[r * 28:(r + 1) * 28])) for image in images],
    }
with open(os.path.join(OUT, 'oracle.json'), 'w') as f:
    json.dump(oracle, f, indent=1)
    f.write('\n')
print('wrote', sorted(os.listdir(OUT)))
