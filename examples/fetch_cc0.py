"""Download a larger demo set: 40 CC0 recordings from Sonic Pi's sample library (originally from freesound.org).

    python examples/fetch_cc0.py            # into examples/cc0/, which the app indexes with the rest of examples/
    python examples/fetch_cc0.py --to DIR   # anywhere else; then: python app.py --library examples DIR

Each file gets a NAME.txt description (what it is, and where it came from) for the text channel. The files are
public domain (CC0 1.0, see https://github.com/sonic-pi-net/sonic-pi/blob/dev/etc/samples/README.md); they are
not committed to this repository, which only holds audio it makes itself. Files already there are kept, so the
command can be run again after an interrupted download.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

BASE_URL = "https://raw.githubusercontent.com/sonic-pi-net/sonic-pi/dev/etc/samples/"
TIMEOUT_S = 30
FREESOUND = "https://freesound.org/people/"

# sample name -> (description, freesound source path)
SAMPLES = {
    "ambi_choir": ("an ambient choir, voices holding a chord", "Exsomniel/sounds/207809/"),
    "ambi_drone": ("a low ambient drone", "Autistic%20Lucario/sounds/195341/"),
    "ambi_glass_hum": ("the hum of a rubbed wine glass", "kaligari/sounds/35391/"),
    "ambi_haunted_hum": ("an eerie, haunted humming drone", "kaligari/sounds/35392/"),
    "ambi_lunar_land": ("a spacey ambient texture, a lunar landing", "maqsim/sounds/172157/"),
    "ambi_piano": ("a soft ambient piano phrase", "RutgerMuller/sounds/51245/"),
    "ambi_swoosh": ("an airy swoosh", "Halgrimm/sounds/169867/"),
    "bass_drop_c": ("a synth bass drop", "ani_music/sounds/165320/"),
    "bd_808": ("an 808 bass drum kick", "EKVelika/sounds/208447/"),
    "bd_boom": ("a booming bass drum", "Snapper4298/sounds/157245/"),
    "drum_cowbell": ("a cowbell hit", "Neotone/sounds/75338/"),
    "drum_cymbal_open": ("an open cymbal crash ringing out", "menegass/sounds/100055/"),
    "drum_roll": ("a snare drum roll", "Heigh-hoo/sounds/19433/"),
    "drum_snare_hard": ("a hard snare drum hit", "menegass/sounds/100058/"),
    "drum_tom_lo_hard": ("a low tom drum hit", "menegass/sounds/100064/"),
    "elec_bell": ("an electronic bell", "looppool/sounds/13116/"),
    "elec_chime": ("an electronic chime", "looppool/sounds/13138/"),
    "elec_triangle": ("an electronic triangle ding", "looppool/sounds/13147/"),
    "glitch_robot1": ("glitchy robot noises", "hullum/sounds/415557/"),
    "guit_e_slide": ("an electric guitar slide", "Suva/sounds/2410/"),
    "guit_harmonics": ("guitar harmonics, bell-like plucked notes", "BStateham/sounds/141524/"),
    "loop_3d_printer": ("a 3D printer working, mechanical whirring and stepping", "hullum/sounds/415571/"),
    "loop_amen": ("the amen break, a classic funk drum loop", "Dolfeus/sounds/43389/"),
    "loop_compus": ("an electronic drum loop", "godspine/sounds/212288/"),
    "loop_industrial": ("an industrial, metallic drum loop", "godspine/sounds/222072/"),
    "loop_safari": ("a percussion loop with a safari feel", "nemaavla/sounds/318759/"),
    "loop_tabla": ("a tabla drum loop, Indian hand drums", "lezaarth/sounds/242591/"),
    "mehackit_phone1": ("an old telephone sound", "hullum/sounds/415577/"),
    "mehackit_robot1": ("a small robot beeping and whirring", "hullum/sounds/415560/"),
    "misc_burp": ("someone burping", "anas76/sounds/222022/"),
    "misc_cineboom": ("a deep cinematic boom, like a movie trailer hit", "Northern_Monkey/sounds/177242/"),
    "misc_crow": ("a crow cawing", "davidworksonline/sounds/54973/"),
    "perc_bell": ("a struck bell ringing", "AlaskaRobotics/sounds/221515/"),
    "perc_door": ("a door used as a percussion instrument, a knock", "hullum/sounds/415579/"),
    "perc_snap": ("a finger snap", "SoundCollectah/sounds/109400/"),
    "perc_swoosh": ("a swoosh, something moving fast through the air", "hullum/sounds/415580/"),
    "perc_till": ("a cash register till ringing open", "Zott820/sounds/209578/"),
    "tabla_na": ("a single tabla stroke", "dio_333/sounds/130421/"),
    "vinyl_hiss": ("the hiss and crackle of a vinyl record", "veezay/sounds/130393/"),
    "vinyl_scratch": ("a DJ scratching a vinyl record", "hello_flowers/sounds/28681/"),
}


def fetch(dest: Path, base_url: str = BASE_URL) -> tuple[list[str], list[str]]:
    """Downloads the samples missing from ``dest``; returns (files now there, "name: reason" failures)."""
    import soundfile as sf

    dest.mkdir(parents=True, exist_ok=True)
    done, failed = [], []
    for name, (description, source) in SAMPLES.items():
        path = dest / f"{name}.flac"
        if not path.exists():
            tmp = path.with_suffix(".part")
            try:
                with urllib.request.urlopen(base_url + path.name, timeout=TIMEOUT_S) as r, open(tmp, "wb") as f:
                    f.write(r.read())
                if sf.info(tmp).frames == 0:  # a FLAC file with audio in it, not an error page
                    raise OSError("no audio in the download")
                os.replace(tmp, path)
            except (urllib.error.URLError, OSError, sf.LibsndfileError) as e:
                tmp.unlink(missing_ok=True)
                failed.append(f"{path.name}: {getattr(e, 'reason', e)}")
                continue
        sidecar, text = (
            path.with_suffix(".txt"),
            f"{description}. Sonic Pi sample {name}, CC0 1.0, from {FREESOUND}{source}\n",
        )
        if not sidecar.exists() or sidecar.read_text(encoding="utf-8") != text:
            sidecar.write_text(text, encoding="utf-8")
        done.append(str(path))
    return done, failed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--to", type=Path, default=Path(__file__).resolve().parent / "cc0", help="folder to fill")
    p.add_argument("--base-url", default=BASE_URL, help="where the .flac files are (a mirror, for example)")
    args = p.parse_args(argv)
    done, failed = fetch(args.to, args.base_url)
    for f in failed:
        print(f"failed: {f}", file=sys.stderr)
    print(f"{len(done)} of {len(SAMPLES)} recordings in {args.to}")
    if failed:
        print("Run the command again to retry the failed ones.", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
