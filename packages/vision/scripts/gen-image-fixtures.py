#!/usr/bin/python3
"""Reference data for @multihead/vision's image code (Debian python3-torch 1.13, python3-pil, python3-numpy).

Run: /usr/bin/python3 packages/vision/scripts/gen-image-fixtures.py
Writes, under packages/vision/test/fixtures/:
  images/sample.{png,gif,webp,jpg}, images/sample-gray.png, images/sample-exif6.jpg: one 37 x 29 picture
    (gradients, a disc, noise) saved by PIL: PNG (RGB, no color chunks), GIF (2 frames, the first is the
    picture), lossless WebP, JPEG (quality 92), 8-bit gray PNG, JPEG with EXIF orientation 6 (rotate 90 CW).
  image-oracle.safetensors:
    decoded.<file> U8 [H, W, 4]: PIL's decode (RGBA; EXIF orientation applied by ImageOps.exif_transpose).
    resize.<case>.x F32 [C, H, W], resize.<case>.out F32 [C, h, w]:
      bilinear: torch.nn.functional.interpolate(mode='bilinear', align_corners=False, antialias=True);
      area: exact-overlap averaging written as two matrices in float64 (for whole-number ratios also
      checked here against F.adaptive_avg_pool2d).
    pipeline.<case>.out F32 [C, h, w]: sample.png -> (gray: BT.601 luma) -> resize -> center crop with
      floor offsets (Hugging Face center_crop) -> (x - mean) / std, in float64 torch.
    colormap.<name> U8 [9, 4]: matplotlib's Colormap(value, bytes=True) at COLORMAP_VALUES (viridis, inferno).
  __metadata__.cases: JSON {resize: [{name, resample, C, H, W, h, w}], pipeline: [{name, options}]}.
References are computed in float64 from the float32 inputs and stored rounded to float32.
"""
import json
import os
import struct

import matplotlib.cm as cm
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'test', 'fixtures')
IMAGES = os.path.join(FIXTURES, 'images')
rng = np.random.default_rng(7)


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dtype = {np.dtype('float32'): 'F32', np.dtype('uint8'): 'U8'}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': dtype, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header, separators=(',', ':')).encode('utf-8')
    js += b' ' * (-len(js) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)) + js + b''.join(blobs))


# ---- the picture ---------------------------------------------------------------------------------------
H, W = 29, 37
y, x = np.mgrid[0:H, 0:W]
picture = np.stack([x * 255.0 / (W - 1), y * 255.0 / (H - 1), 128 + 0 * x], axis=-1)
picture[(y - 14) ** 2 + (x - 20) ** 2 < 64] = [250, 30, 60]
picture += rng.normal(0, 12, picture.shape)
picture = np.clip(np.round(picture), 0, 255).astype(np.uint8)
image = Image.fromarray(picture, 'RGB')
os.makedirs(IMAGES, exist_ok=True)
image.save(os.path.join(IMAGES, 'sample.png'), optimize=True)
image.convert('L').save(os.path.join(IMAGES, 'sample-gray.png'))
second = Image.fromarray(255 - picture, 'RGB')
image.save(os.path.join(IMAGES, 'sample.gif'), save_all=True, append_images=[second], duration=100, loop=0)
image.save(os.path.join(IMAGES, 'sample.webp'), lossless=True)
image.save(os.path.join(IMAGES, 'sample.jpg'), quality=92)
exif = Image.Exif()
exif[0x0112] = 6
image.save(os.path.join(IMAGES, 'sample-exif6.jpg'), quality=92, exif=exif)

tensors = {}
for name in ['sample.png', 'sample-gray.png', 'sample.gif', 'sample.webp', 'sample.jpg', 'sample-exif6.jpg']:
    with Image.open(os.path.join(IMAGES, name)) as im:
        im.seek(0)
        tensors['decoded.' + name] = np.asarray(ImageOps.exif_transpose(im.convert('RGBA')))
assert (tensors['decoded.sample.png'][..., :3] == picture).all()
exif_decoded = tensors['decoded.sample-exif6.jpg']
assert exif_decoded.shape == (W, H, 4), exif_decoded.shape


# ---- resize ------------------------------------------------------------------------------------------
def area_matrix(n_in, n_out):
    """M[o, i] = |[o s, (o + 1) s) ∩ [i, i + 1)| / s with s = n_in / n_out (each row sums to 1)."""
    s = n_in / n_out
    m = np.zeros((n_out, n_in))
    for o in range(n_out):
        lo, hi = o * s, (o + 1) * s
        for i in range(n_in):
            m[o, i] = max(0.0, min(i + 1, hi) - max(i, lo)) / s
    return m


def area_resize(x, h, w):
    return np.einsum('oi,cij,pj->cop', area_matrix(x.shape[1], h), x, area_matrix(x.shape[2], w))


RESIZE = [
    ('bilinear_down_3x', 'bilinear', 2, 18, 24, 6, 8),
    ('bilinear_down_odd', 'bilinear', 3, 29, 37, 11, 13),
    ('bilinear_up', 'bilinear', 1, 5, 7, 12, 17),
    ('bilinear_mixed', 'bilinear', 3, 9, 20, 16, 7),
    ('bilinear_one_pixel', 'bilinear', 1, 6, 6, 1, 1),
    ('area_down_2x', 'area', 2, 12, 16, 6, 8),
    ('area_down_odd', 'area', 3, 29, 37, 11, 13),
    ('area_up', 'area', 1, 5, 7, 12, 17),
]
resize_cases = []
for name, resample, c, h_in, w_in, h, w in RESIZE:
    x32 = rng.random((c, h_in, w_in), dtype=np.float32)
    x = torch.from_numpy(x32.astype(np.float64))
    if resample == 'bilinear':
        out = F.interpolate(x[None], size=(h, w), mode='bilinear', align_corners=False, antialias=True)[0].numpy()
    else:
        out = area_resize(x.numpy(), h, w)
        if h_in % h == 0 and w_in % w == 0:
            pooled = F.adaptive_avg_pool2d(x[None], (h, w))[0].numpy()
            assert np.abs(pooled - out).max() < 1e-12, name
    tensors[f'resize.{name}.x'] = x32
    tensors[f'resize.{name}.out'] = out.astype(np.float32)
    resize_cases.append(dict(name=name, resample=resample, C=c, H=h_in, W=w_in, h=h, w=w))


# ---- the whole pipeline on sample.png ------------------------------------------------------------------
def pipeline(options):
    x = torch.from_numpy(picture.astype(np.float64)).permute(2, 0, 1) / 255  # [3, H, W]
    if options.get('channels') == 'grayscale':
        x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]
    size = options.get('resize')
    if size is not None:
        if isinstance(size, int):  # torchvision Resize(int): the shorter side
            short, long = min(H, W), max(H, W)
            other = int(size * long / short)
            size = {'height': size, 'width': other} if H <= W else {'height': other, 'width': size}
        if options.get('resample', 'bilinear') == 'bilinear':
            x = F.interpolate(x[None], size=(size['height'], size['width']), mode='bilinear', align_corners=False,
                              antialias=True)[0]
        else:
            x = torch.from_numpy(area_resize(x.numpy(), size['height'], size['width']))
    crop = options.get('crop')
    if crop is not None:
        ch, cw = (crop, crop) if isinstance(crop, int) else (crop['height'], crop['width'])
        top, left = (x.shape[1] - ch) // 2, (x.shape[2] - cw) // 2
        x = x[:, top:top + ch, left:left + cw]
    if 'mean' in options:
        mean = torch.tensor(options['mean'], dtype=torch.float64)[:, None, None]
        std = torch.tensor(options['std'], dtype=torch.float64)[:, None, None]
        x = (x - mean) / std
    return x.numpy().astype(np.float32)


PIPELINE = [
    ('plain', {}),
    ('imagenet', {'resize': 24, 'crop': 20, 'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225]}),
    ('gray_area', {'channels': 'grayscale', 'resize': {'width': 12, 'height': 9}, 'resample': 'area',
                   'crop': {'width': 9, 'height': 7}, 'mean': [0.5], 'std': [0.25]}),
    ('upscale_odd_crop', {'resize': 45, 'crop': {'width': 40, 'height': 44}}),
]
for name, options in PIPELINE:
    tensors[f'pipeline.{name}.out'] = pipeline(options)

COLORMAP_VALUES = [0, 0.1, 1 / 3, 0.5, 0.62, 0.999, 1, -0.5, 1.5]
for name in ['viridis', 'inferno']:
    tensors['colormap.' + name] = np.asarray(cm.get_cmap(name)(np.array(COLORMAP_VALUES), bytes=True), dtype=np.uint8)

write_safetensors(os.path.join(FIXTURES, 'image-oracle.safetensors'), tensors,
                  {'cases': json.dumps({'resize': resize_cases,
                                        'pipeline': [dict(name=n, options=o) for n, o in PIPELINE],
                                        'colormapValues': COLORMAP_VALUES})})
print('wrote', sorted(os.listdir(IMAGES)), 'and image-oracle.safetensors',
      os.path.getsize(os.path.join(FIXTURES, 'image-oracle.safetensors')), 'bytes')
