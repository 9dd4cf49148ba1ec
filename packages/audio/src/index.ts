/**
 * @multihead/audio: WAV io (wavefile), resampling, browser audio, spectrogram features, MIDI event tokens,
 * offline datasets, a spectrogram transformer and a music decoder, and the audio tasks (`AUDIO_TASKS`).
 */

export {
  type LabelledVectors,
  type LogisticOptions,
  LogisticRegression,
  NearestCentroid,
  poolFrames,
} from './baselines/clip-classifiers.js';
export {
  EventBigram,
  EventUnigram,
  fitEventNgrams,
  STRENGTH_GRID,
} from './baselines/event-ngrams.js';
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
  MusicTransformer,
  type MusicTransformerConfig,
  type ResolvedMusicConfig,
} from './models/music-transformer.js';
export {
  type SpectrogramForwardDetailed,
  SpectrogramTransformer,
  type SpectrogramTransformerConfig,
} from './models/spectrogram-transformer.js';
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
export {
  type AugmentDraw,
  augmentClip,
  changeSpeed,
  checkWaveAugmentation,
  type Equalizer,
  equalizerGains,
  type Range,
  type SpecAugment,
  specAugmentMask,
  type WaveAugmentation,
} from './preprocess/augment.js';
export {
  type ClipFeatureConfig,
  type ClipSpan,
  clipFeatures,
  frameWidth,
  loudestStart,
  placeInWindow,
  prepareClip,
  spanFrames,
  tokenTimes,
  windowFrames,
} from './preprocess/clip-features.js';
export { inputAudio } from './tasks/audio-input.js';
export {
  type ClipClassifierTraining,
  centeredWindows,
  classifyClips,
  type LabelledClip,
  pooledFeatures,
  trainClipClassifier,
  trainingBatch,
} from './tasks/clip-classifier.js';
export {
  createDigitsTask,
  DIGIT_LABELS,
  DIGITS_FEATURES,
  DIGITS_MODEL,
  DIGITS_TASK_ID,
  DIGITS_TRAINING,
  type DigitSets,
  type DigitsOptions,
  digitsTask,
} from './tasks/digits.js';
export { AUDIO_TASKS } from './tasks/index.js';
export {
  createMusicTask,
  MUSIC_MODEL,
  MUSIC_TASK_ID,
  MUSIC_TRAINING,
  type MusicData,
  type MusicOptions,
  musicTask,
} from './tasks/music.js';
export {
  fitMusicBaselines,
  type MusicTraining,
  musicBatch,
  musicNll,
  ngramNll,
  pieceTokens,
  trainMusic,
  transposeEvents,
} from './tasks/music-lm.js';
export {
  type GenerationStats,
  generationStats,
  ngramIndex,
  VERBATIM_ORDERS,
  verbatimShare,
} from './tasks/music-stats.js';
export { meanPoolRollout, spectrogramImage } from './tasks/spectrogram-maps.js';
