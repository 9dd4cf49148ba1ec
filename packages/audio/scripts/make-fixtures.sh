#!/usr/bin/env bash
# Regenerates the small WAV fixtures under test/fixtures/wav (committed; tests need none of these tools).
# Each format fixture is 20 ms of sox-synthesized noise plus a tone, with sox's own float32 decoding of it
# beside it (<name>.f32, raw little-endian float32, interleaved): the oracle decodeWav is checked against.
# The speech clips come from espeak-ng and flite (Debian packages espeak-ng, flite, sox).
set -euo pipefail
cd "$(dirname "$0")/../test/fixtures/wav"

synth() { # <name> <sox output options...>
  local name=$1; shift
  sox -R -n "$@" "$name.wav" synth 0.02 whitenoise sine 440 vol 0.9
  sox "$name.wav" -t f32 "$name.f32"
}
synth pcm8-mono-11025 -e unsigned-integer -b 8 -c 1 -r 11025
synth pcm16-stereo-22050 -e signed-integer -b 16 -c 2 -r 22050
synth pcm24-stereo-44100 -e signed-integer -b 24 -c 2 -r 44100
synth pcm32-mono-48000 -e signed-integer -b 32 -c 1 -r 48000
synth float32-stereo-16000 -e floating-point -b 32 -c 2 -r 16000
synth float64-mono-8000 -e floating-point -b 64 -c 1 -r 8000
synth alaw-mono-8000 -e a-law -c 1 -r 8000
synth mulaw-stereo-8000 -e u-law -c 2 -r 8000
synth pcm16-3ch-8000 -e signed-integer -b 16 -c 3 -r 8000
synth rifx-pcm16-mono-8000 -B -e signed-integer -b 16 -c 1 -r 8000

# speech: "seven" from espeak-ng (22050 Hz) and "three" from flite's kal voice (8 kHz), 16-bit mono
espeak-ng -v en-us -s 200 -w seven-espeak-en-us.wav "seven"
flite -voice kal -t "three" -o three-flite-kal.wav

# MIDI: a short tune written for these tests (test/fixtures/midi/tune.abc), converted by abcmidi's abc2midi
cd ../midi
abc2midi tune.abc -o tune.mid -silent
