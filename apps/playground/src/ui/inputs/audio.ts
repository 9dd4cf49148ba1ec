/**
 * The audio input: a WAV file (passed as bytes, `{ bytes, name, type }`: the task decodes it, as in
 * Node) or a recording from the microphone (MediaRecorder, decoded here with `decodeAudioData` into the
 * protocol's samples, `{ sampleRate, channels }`). Both can be played back before running.
 */
import type { InputValue, tasks } from '@multihead/core';
import { field, h } from '../dom.js';
import { type InputWidget, MissingInput } from './text.js';

/** A recording stops by itself after this long. */
const MAX_RECORD_SECONDS = 10;

export function audioInput(spec: tasks.InputSpec): InputWidget {
  let value: InputValue | undefined;
  const player = h('audio', { controls: true, 'aria-label': 'The chosen audio' });
  const status = h(
    'small',
    { class: 'hint', 'aria-live': 'polite', 'data-testid': 'audio-status' },
    'No audio yet.',
  );
  let playerUrl: string | null = null;
  const preview = (blob: Blob) => {
    if (playerUrl) URL.revokeObjectURL(playerUrl);
    playerUrl = URL.createObjectURL(blob);
    player.src = playerUrl;
  };

  const file = h('input', {
    type: 'file',
    accept: (spec.accept ?? ['.wav', 'audio/wav']).join(','),
    'data-testid': 'audio-file',
    onchange: async () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      value = { bytes: new Uint8Array(await chosen.arrayBuffer()), name: chosen.name, type: chosen.type };
      preview(chosen);
      status.textContent = `${chosen.name}: ${chosen.size.toLocaleString('en-US')} bytes.`;
    },
  });

  let recorder: MediaRecorder | null = null;
  const record = h(
    'button',
    { type: 'button', 'aria-pressed': 'false', 'data-testid': 'record' },
    'Record from the microphone',
  );
  const canRecord = typeof MediaRecorder === 'function' && !!navigator.mediaDevices?.getUserMedia;
  if (!canRecord) {
    record.disabled = true;
    record.title = 'This browser cannot record audio here (it needs MediaRecorder and a secure context).';
  }
  record.addEventListener('click', async () => {
    if (recorder) {
      recorder.stop();
      return;
    }
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      status.textContent = `No microphone: ${(e as Error).message}`;
      return;
    }
    const chunks: Blob[] = [];
    const active = new MediaRecorder(stream);
    recorder = active;
    active.ondataavailable = (e) => chunks.push(e.data);
    active.onstop = async () => {
      for (const track of stream.getTracks()) track.stop();
      recorder = null;
      record.textContent = 'Record from the microphone';
      record.setAttribute('aria-pressed', 'false');
      const blob = new Blob(chunks, { type: active.mimeType });
      preview(blob);
      const context = new AudioContext();
      try {
        const audio = await context.decodeAudioData(await blob.arrayBuffer());
        const channels = Array.from({ length: audio.numberOfChannels }, (_, c) =>
          audio.getChannelData(c).slice(),
        );
        value = { sampleRate: audio.sampleRate, channels };
        status.textContent = `Recorded ${audio.duration.toFixed(1)} s at ${audio.sampleRate} Hz.`;
      } catch (e) {
        status.textContent = `Cannot decode the recording: ${(e as Error).message}`;
      } finally {
        void context.close();
      }
    };
    active.start();
    record.textContent = 'Stop recording';
    record.setAttribute('aria-pressed', 'true');
    status.textContent = `Recording (at most ${MAX_RECORD_SECONDS} s)...`;
    setTimeout(() => {
      if (recorder === active) active.stop();
    }, MAX_RECORD_SECONDS * 1000);
  });

  const element = h(
    'div',
    { class: 'input-audio' },
    h('p', { class: 'hint' }, spec.description),
    field('WAV file', file),
    record,
    player,
    status,
  );
  return {
    element,
    async read() {
      if (value === undefined && spec.required !== false) {
        throw new MissingInput('Choose a WAV file or record from the microphone first.');
      }
      return value;
    },
  };
}
