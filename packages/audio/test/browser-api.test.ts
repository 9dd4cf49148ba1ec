/** The browser entry points in Node: AudioBuffer-likes convert; the Web Audio ones say they need a browser. */
import { MultiheadError } from '@multihead/core';
import { describe, expect, it } from 'vitest';
import { audioBufferToClip, captureMicrophone, decodeAudio, prepareAudio } from '../src/index.js';

describe('browser entry points in Node', () => {
  it('audioBufferToClip copies every channel of an AudioBuffer-like object', () => {
    const data = [new Float32Array([0.5, -0.5, 0.25]), new Float32Array([0.1, 0.2, 0.3])];
    const buffer = {
      sampleRate: 22050,
      numberOfChannels: 2,
      length: 3,
      getChannelData: (c: number) => data[c]!,
    };
    const clip = audioBufferToClip(buffer);
    expect(clip).toEqual({ sampleRate: 22050, channels: data });
    expect(clip.channels[0]).not.toBe(data[0]);
    expect(Array.from(prepareAudio(clip).samples)).toEqual([0.3, -0.15, 0.275].map(Math.fround));
    expect(() => audioBufferToClip({} as never)).toThrow(/buffer must be an AudioBuffer, got object/);
  });

  it('decodeAudio and captureMicrophone need Web Audio', async () => {
    await expect(decodeAudio(new Uint8Array(8))).rejects.toThrow(MultiheadError);
    await expect(decodeAudio(new Uint8Array(8))).rejects.toThrow(/needs Web Audio .* in Node use decodeWav/);
    await expect(captureMicrophone()).rejects.toThrow(/needs Web Audio \(AudioContext, in a browser\)/);
    await expect(captureMicrophone({ chunkSize: 0 })).rejects.toThrow(
      /chunkSize must be a positive integer, got 0/,
    );
  });
});
