/**
 * Microphone capture in a browser: `getUserMedia` (or any MediaStream) -> an AudioWorklet that hands
 * each 128-frame render quantum to the main thread -> mono Float32Array chunks of a fixed size, read
 * with `for await`. Where AudioWorklet is missing (older browsers, insecure origins) a
 * ScriptProcessorNode does the same job. Chunks are the mean of the input channels, as `toMono`, at the
 * context's rate (`capture.sampleRate`), so `prepareAudio({ sampleRate, channels: [chunk] })` takes them.
 */
import { describeType, invalidArgument, unsupported } from './errors.js';

export type CaptureMethod = 'audio-worklet' | 'script-processor';

export interface MicrophoneOptions {
  /** A stream to capture; default: `getUserMedia` with echo cancellation, noise suppression and AGC off. */
  stream?: MediaStream;
  /** The context to run in (its rate is the capture rate); default: a new AudioContext, closed by stop(). */
  context?: AudioContext;
  /** Samples per chunk (default 4096; the last chunk after stop() may be shorter). */
  chunkSize?: number;
  /** Default: 'audio-worklet' where the context has one, else 'script-processor'. */
  method?: CaptureMethod;
}

export interface MicrophoneCapture {
  readonly sampleRate: number;
  readonly method: CaptureMethod;
  /** Mono chunks in capture order; ends after stop(). Read it once. */
  chunks(): AsyncIterableIterator<Float32Array>;
  /** Stops capturing; releases the stream and context this helper opened itself. */
  stop(): Promise<void>;
}

const PROCESSOR_NAME = 'multihead-capture';
// runs on the audio thread: posts the mean of the input channels of each render quantum
const PROCESSOR_SOURCE = `
class MultiheadCapture extends AudioWorkletProcessor {
  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const mono = new Float32Array(input[0].length);
      for (const channel of input) for (let i = 0; i < mono.length; i++) mono[i] += channel[i];
      if (input.length > 1) for (let i = 0; i < mono.length; i++) mono[i] /= input.length;
      this.port.postMessage(mono, [mono.buffer]);
    }
    return true;
  }
}
registerProcessor('${PROCESSOR_NAME}', MultiheadCapture);
`;

/** Collects samples into fixed-size chunks and serves them to one async reader. */
class ChunkQueue {
  private readonly ready: Float32Array[] = [];
  private waiting: ((result: IteratorResult<Float32Array>) => void) | undefined;
  private current: Float32Array;
  private filled = 0;
  private ended = false;

  constructor(private readonly chunkSize: number) {
    this.current = new Float32Array(chunkSize);
  }

  push(samples: Float32Array): void {
    if (this.ended) return;
    for (let offset = 0; offset < samples.length; ) {
      const take = Math.min(samples.length - offset, this.chunkSize - this.filled);
      this.current.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.chunkSize) {
        this.deliver(this.current);
        this.current = new Float32Array(this.chunkSize);
        this.filled = 0;
      }
    }
  }

  end(): void {
    if (this.ended) return;
    if (this.filled > 0) this.deliver(this.current.slice(0, this.filled));
    this.ended = true;
    if (this.ready.length === 0) this.waiting?.({ done: true, value: undefined });
  }

  private deliver(chunk: Float32Array): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting !== undefined) waiting({ done: false, value: chunk });
    else this.ready.push(chunk);
  }

  next(): Promise<IteratorResult<Float32Array>> {
    const chunk = this.ready.shift();
    if (chunk !== undefined) return Promise.resolve({ done: false, value: chunk });
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}

/** Starts capturing; asks for the microphone unless `options.stream` is given. Browser only. */
export async function captureMicrophone(options: MicrophoneOptions = {}): Promise<MicrophoneCapture> {
  const chunkSize = options.chunkSize ?? 4096;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    invalidArgument(`captureMicrophone: chunkSize must be a positive integer, got ${String(chunkSize)}`);
  }
  if (
    options.method !== undefined &&
    options.method !== 'audio-worklet' &&
    options.method !== 'script-processor'
  ) {
    invalidArgument(
      `captureMicrophone: method must be 'audio-worklet' or 'script-processor', got ${describeType(options.method)} ${String(options.method)}`,
    );
  }
  const AudioContextClass = (globalThis as { AudioContext?: typeof AudioContext }).AudioContext;
  if (options.context === undefined && AudioContextClass === undefined) {
    unsupported('captureMicrophone: needs Web Audio (AudioContext, in a browser)');
  }
  const ownStream = options.stream === undefined;
  let stream = options.stream;
  if (stream === undefined) {
    const media = (globalThis as { navigator?: Navigator }).navigator?.mediaDevices;
    if (media?.getUserMedia === undefined) {
      unsupported(
        'captureMicrophone: navigator.mediaDevices.getUserMedia is missing (a browser on https or localhost)',
      );
    }
    stream = await media!.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  }
  const ownContext = options.context === undefined;
  const context = options.context ?? new AudioContextClass!();
  const method: CaptureMethod =
    options.method ?? (context.audioWorklet !== undefined ? 'audio-worklet' : 'script-processor');
  const queue = new ChunkQueue(chunkSize);
  const source = context.createMediaStreamSource(stream);
  // a silent path to the destination, so the graph pulls our node on every render quantum
  const sink = context.createGain();
  sink.gain.value = 0;
  sink.connect(context.destination);
  let node: AudioNode;
  let worklet: AudioWorkletNode | undefined;
  if (method === 'audio-worklet') {
    if (context.audioWorklet === undefined)
      unsupported('captureMicrophone: this context has no audioWorklet');
    const url = URL.createObjectURL(new Blob([PROCESSOR_SOURCE], { type: 'text/javascript' }));
    try {
      await context.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    worklet = new AudioWorkletNode(context, PROCESSOR_NAME);
    worklet.port.onmessage = (event: MessageEvent<Float32Array>) => queue.push(event.data);
    node = worklet;
  } else {
    const channels = Math.max(1, source.channelCount);
    // deprecated but everywhere; 4096 frames per callback (a power of two, as the API requires)
    const processor = context.createScriptProcessor(4096, channels, 1);
    processor.onaudioprocess = (event: AudioProcessingEvent) => {
      const input = event.inputBuffer;
      const mono = input.getChannelData(0).slice();
      for (let c = 1; c < input.numberOfChannels; c++) {
        const channel = input.getChannelData(c);
        for (let i = 0; i < mono.length; i++) mono[i]! += channel[i]!;
      }
      if (input.numberOfChannels > 1)
        for (let i = 0; i < mono.length; i++) mono[i]! /= input.numberOfChannels;
      queue.push(mono);
    };
    node = processor;
  }
  source.connect(node);
  node.connect(sink);
  // contexts made without a user gesture start suspended (autoplay policy)
  if (context.state === 'suspended') await context.resume();

  let stopped = false;
  return {
    sampleRate: context.sampleRate,
    method,
    chunks: () => ({
      next: () => queue.next(),
      [Symbol.asyncIterator]() {
        return this;
      },
    }),
    async stop() {
      if (stopped) return;
      stopped = true;
      source.disconnect();
      node.disconnect();
      sink.disconnect();
      if (worklet !== undefined) worklet.port.onmessage = null;
      queue.end();
      if (ownStream) for (const track of stream!.getTracks()) track.stop();
      if (ownContext) await context.close();
    },
  };
}
