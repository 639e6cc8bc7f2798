"""Make the demo library in this folder: speech spoken by espeak-ng and sounds synthesised with numpy.

    python examples/make_examples.py          # needs espeak-ng (apt-get install espeak-ng)

Every file here is made by this script (nothing recorded, nothing downloaded), so the folder can be shared under
the project's licence. Each sound has a NAME.txt description, which the text channel indexes.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

SR = 48000
HERE = Path(__file__).resolve().parent
SPEECH = {
    "voice-memo-harvest": "We brought in the harvest from the fields in October. The barns are full of wheat.",
    "voicemail-garage": "Hello, this is the garage. Your car is ready, you can pick it up tomorrow morning.",
    "meeting-budget": "The meeting is about the new budget. We will spend less on travel next year.",
}


def speak(text: str) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-s", "120", "-w", str(wav), text], check=True)
        x, sr = sf.read(wav, dtype="float32")
    return soxr.resample(x, sr, SR).astype(np.float32)


def pink(n: int, rng) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    x = np.fft.irfft(spectrum, n)
    return x / np.abs(x).max()


def sounds(rng) -> dict[str, tuple[np.ndarray, str]]:
    t = np.arange(8 * SR) / SR
    bell = sum(
        np.sin(2 * np.pi * f * t) * np.exp(-t * d) / (i + 1)
        for i, (f, d) in enumerate([(523, 0.6), (1046, 1.0), (1569, 1.6), (2093, 2.2)])
    )
    waves = pink(len(t), rng) * (0.55 + 0.45 * np.sin(2 * np.pi * t / 4.0))  # surf rising and falling
    rain = np.zeros(len(t))
    for at in rng.uniform(0, len(t) - 400, 1500).astype(int):  # drops: short bright clicks
        rain[at : at + 400] += rng.standard_normal(400) * np.exp(-np.arange(400) / 40) * rng.uniform(0.1, 0.5)
    rain += 0.1 * pink(len(t), rng)
    steps = np.zeros(len(t))
    for at in np.arange(0.3, 7.8, 0.55):  # footsteps: low thumps, a little over a step per second
        i = int(at * SR)
        n = int(0.08 * SR)
        steps[i : i + n] += np.sin(2 * np.pi * 90 * np.arange(n) / SR) * np.exp(-np.arange(n) / (0.02 * SR))
    beeps = np.zeros(len(t))
    for k in range(6):  # an alarm clock: 1 kHz beeps
        i = int((0.5 + 1.2 * k) * SR)
        beeps[i : i + int(0.4 * SR)] = np.sin(2 * np.pi * 1000 * np.arange(int(0.4 * SR)) / SR)
    return {
        "bell": (bell, "A church bell ringing once and fading away."),
        "ocean-waves": (waves, "Ocean waves washing on a beach, rising and falling."),
        "rain-on-roof": (rain, "Heavy rain drumming on a tin roof."),
        "footsteps": (steps, "Footsteps walking slowly across a wooden floor."),
        "alarm-clock": (beeps, "An alarm clock beeping in the morning."),
    }


def main():
    rng = np.random.default_rng(0)
    for name, text in SPEECH.items():
        x = np.concatenate([np.zeros(SR // 2, np.float32), speak(text), np.zeros(SR // 2, np.float32)])
        sf.write(HERE / "speech" / f"{name}.flac", 0.9 * x / np.abs(x).max(), SR, subtype="PCM_16")
    for name, (x, description) in sounds(rng).items():
        sf.write(HERE / "sounds" / f"{name}.flac", (0.8 * x / np.abs(x).max()).astype(np.float32), SR, subtype="PCM_16")
        (HERE / "sounds" / f"{name}.txt").write_text(description + "\n")


if __name__ == "__main__":
    (HERE / "speech").mkdir(exist_ok=True)
    (HERE / "sounds").mkdir(exist_ok=True)
    main()
