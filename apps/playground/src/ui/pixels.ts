/** Pixels as tasks produce them (gray, RGB or RGBA bytes) to the canvas's RGBA, and a WAV for playback. */
import type { tasks } from '@multihead/core';

/** RGBA bytes from gray (1), RGB (3) or RGBA (4) rows. */
export function toRgba(
  data: Uint8Array,
  channels: 1 | 3 | 4,
  pixels: number,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(pixels * 4);
  for (let p = 0; p < pixels; p++) {
    const src = p * channels;
    if (channels === 1) out.fill(data[src]!, p * 4, p * 4 + 3);
    else for (let c = 0; c < 3; c++) out[p * 4 + c] = data[src + c]!;
    out[p * 4 + 3] = channels === 4 ? data[src + 3]! : 255;
  }
  return out;
}

export function pixelsToImageData(image: tasks.Pixels): ImageData {
  return new ImageData(
    toRgba(image.data, image.channels, image.width * image.height),
    image.width,
    image.height,
  );
}

/** A canvas showing `image`, scaled up by whole pixels (crisp) to about `target` pixels wide. */
export function imageCanvas(image: tasks.Pixels, label: string, target = 256): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  canvas.getContext('2d')!.putImageData(pixelsToImageData(image), 0, 0);
  const scale = Math.max(1, Math.floor(target / image.width));
  canvas.style.width = `${image.width * scale}px`;
  canvas.style.imageRendering = 'pixelated';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', label);
  return canvas;
}

/** 16-bit PCM mono WAV (RIFF), for an `<audio>` element to play a task's samples. */
export function wavBytes(samples: Float32Array, sampleRate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const text = (offset: number, s: string) => {
    for (let i = 0; i < s.length; i++) bytes[offset + i] = s.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    view.setInt16(44 + i * 2, Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), true);
  }
  return bytes;
}
