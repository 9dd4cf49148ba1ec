/** @multihead/audio: WAV io (wavefile), resampling, browser audio, MIDI event tokens, offline datasets. */

export {
  type BuildOptions,
  DIGIT_WORDS,
  type DigitSource,
  type DigitWord,
  digitLabel,
  prepareDigitClip,
  SPOKEN_DIGITS_RATE,
  type SpokenDigit,
  type SpokenDigitMeta,
} from './data/digit-clips.js';
export {
  type EspeakClipSpec,
  type EspeakDigits,
  type EspeakDigitsOptions,
  type EspeakPlan,
  type EspeakPlanOptions,
  type EspeakVoices,
  listEspeakVoices,
  loadEspeakDigits,
  planEspeakDigits,
} from './data/espeak-digits.js';
export {
  loadMidiCorpus,
  loadMidiPieces,
  MIDI_SOURCES,
  type MidiCorpus,
  type MidiCorpusCounts,
  type MidiCorpusOptions,
  type MidiPiece,
  type MidiSource,
} from './data/midi-corpus.js';
export {
  FLITE_STRETCHES,
  FLITE_VOICES,
  loadAsteriskDigits,
  loadFliteDigits,
  loadSpokenDigits,
  type SpokenDigits,
  type SpokenDigitsOptions,
} from './data/spoken-digits.js';
export {
  type LogMelKernel,
  type LogMelPlan,
  logMelSpectrogram,
  whisperLogMel,
} from './features/log-mel.js';
export { hzToMel, type MelFilterBankOptions, melFilterBank, melToHz } from './features/mel.js';
export type { SpectrogramLayout, StftOptions } from './features/plan.js';
export {
  type LogMelOptions,
  logMelSpectrogramReference,
  powerSpectrogramReference,
  type ReferenceSpectrogram,
  type ReferenceSpectrum,
  type SpectrogramOptions,
  stftReference,
  WHISPER,
  type WhisperOptions,
  whisperLogMelReference,
} from './features/reference.js';
export { powerSpectrogram, stft } from './features/stft.js';
export { hannWindow } from './features/window.js';
export {
  type AudioBufferLike,
  audioBufferToClip,
  type DecodeAudioOptions,
  decodeAudio,
} from './io/browser.js';
export {
  type AudioClip,
  checkAudioClip,
  type MonoAudio,
  type PrepareAudioOptions,
  prepareAudio,
  type TrimSilenceOptions,
  toMono,
  trimSilence,
} from './io/clip.js';
export {
  type CaptureMethod,
  captureMicrophone,
  type MicrophoneCapture,
  type MicrophoneOptions,
} from './io/microphone.js';
export { resample } from './io/resample.js';
export {
  type InspectWavOptions,
  inspectWav,
  type WavContainer,
  type WavEncoding,
  type WavInfo,
} from './io/riff.js';
export {
  type DecodedWav,
  type DecodeWavOptions,
  decodeWav,
  type EncodeWavOptions,
  encodeWav,
  readWavFile,
} from './io/wav.js';
export {
  BOS,
  binToVelocity,
  decodeEvents,
  describeEvent,
  type EncodeMidiOptions,
  EOS,
  EVENT_VOCAB_SIZE,
  encodeMidi,
  eventsToNotes,
  MAX_SHIFT_STEPS,
  NOTE_OFF,
  NOTE_ON,
  notesToEvents,
  PAD,
  STEP_SECONDS,
  TIME_SHIFT,
  VELOCITY,
  VELOCITY_BINS,
  velocityToBin,
} from './music/events.js';
export {
  DRUM_CHANNEL,
  Midi,
  type MidiNotesOptions,
  midiNotes,
  type Note,
  notesToMidi,
  readMidi,
  WRITE_TICKS_PER_SECOND,
  writeMidi,
} from './music/midi.js';
export {
  midiToFrequency,
  renderEvents,
  renderMidi,
  renderMidiToWav,
  renderNotes,
  type SynthOptions,
} from './music/synth.js';
