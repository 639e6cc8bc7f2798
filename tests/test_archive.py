"""Zip uploads: only audio and its descriptions come out, inside the upload folder, within the limits."""

import stat
import zipfile

import pytest

from audioret.archive import extract_audio

from .conftest import tone, write


@pytest.fixture
def wav_bytes(tmp_path):
    return write(tmp_path / "t.wav", tone(0.5)).read_bytes()


def make_zip(path, entries):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b"/etc/passwd")
            else:
                zf.writestr(name, data)
    return path


def test_extracts_audio_and_sidecars_and_reports_the_rest(tmp_path, wav_bytes):
    link = zipfile.ZipInfo("link.wav")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = make_zip(
        tmp_path / "in.zip",
        [
            ("field/rain.wav", wav_bytes),
            ("field/rain.txt", b"rain on a tin roof"),
            ("readme.txt", b"hello"),
            ("../../escape.wav", wav_bytes),
            ("/abs/evil.wav", wav_bytes),
            ("C:/win/evil.wav", wav_bytes),
            ("sub/../../up.wav", wav_bytes),
            ("link.wav", link),
            ("notes.pdf", b"%PDF"),
        ],
    )
    dest = tmp_path / "uploads" / "in"
    out = extract_audio(archive, dest)
    assert out.files == [str(dest / "field" / "rain.wav")]
    assert (dest / "field" / "rain.txt").read_text() == "rain on a tin roof"
    reasons = dict(s.split(": ", 1) for s in out.skipped)
    assert reasons["readme.txt"] == reasons["notes.pdf"] == "not an audio file type audioret indexes"
    for bad in ("../../escape.wav", "/abs/evil.wav", "C:/win/evil.wav", "sub/../../up.wav"):
        assert reasons[bad].startswith("an unsafe path")
    assert reasons["link.wav"] == "a symbolic link, not extracted"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["in.zip", "t.wav", "uploads/in/field/rain.txt", "uploads/in/field/rain.wav"]


def test_limits_refuse_the_archive_and_keep_nothing(tmp_path, wav_bytes):
    archive = make_zip(tmp_path / "many.zip", [(f"a{i}.wav", wav_bytes) for i in range(5)])
    with pytest.raises(ValueError, match=r"many.zip: 5 files to extract, more than the limit of 4"):
        extract_audio(archive, tmp_path / "out", max_files=4)
    with pytest.raises(ValueError, match=r"many.zip: .* GB to extract, more than the limit"):
        extract_audio(archive, tmp_path / "out", max_bytes=len(wav_bytes) * 4)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_zip_bomb_stops_at_the_limit(tmp_path):
    """Sizes in the zip directory can lie; the bytes actually inflated are counted too."""
    bomb = make_zip(tmp_path / "bomb.zip", [("huge.wav", b"\0" * 50_000_000)])
    assert bomb.stat().st_size < 100_000
    with zipfile.ZipFile(bomb) as zf:
        declared = zf.getinfo("huge.wav").file_size
    with pytest.raises(ValueError, match="bomb.zip: .*more than the limit"):
        extract_audio(bomb, tmp_path / "out", max_bytes=declared // 2)
    assert not (tmp_path / "out" / "huge.wav").exists()


def test_not_a_zip(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_text("just text")
    with pytest.raises(ValueError, match="fake.zip: not a readable zip archive"):
        extract_audio(fake, tmp_path / "out")


def test_a_zip_of_many_entries_is_counted_without_reading_each(tmp_path):
    """300,000 empty entries took 20 s to measure entry by entry (a public page refused it, after that): more entries
    than an archive may extract count as files at once, which the visitor's limit then refuses."""
    from audioret.archive import MAX_ARCHIVE_FILES, measure

    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(MAX_ARCHIVE_FILES + 1000):
            zf.writestr(f"d/{i:06d}.wav", b"")
    count, size, said = measure([str(archive)])  # "entries": counted whole, no entry's name read
    assert count == MAX_ARCHIVE_FILES + 1000 and said == ["many.zip: 6,000 entries"]


def test_a_path_too_deep_is_not_extracted_nor_resolved(tmp_path, wav_bytes):
    """100 entries 16,000 folders deep took 36 s to check folder by folder: a path over 1,024 characters or 64
    folders is skipped at once, and named in a line of readable length."""
    archive = tmp_path / "deep.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a/" * 16000 + "i.wav", wav_bytes)
        zf.writestr("ok.wav", wav_bytes)
    out = extract_audio(archive, tmp_path / "out")
    assert [p.rsplit("/", 1)[-1] for p in out.files] == ["ok.wav"]
    assert len(out.skipped) == 1 and out.skipped[0].endswith("a path too long or too deep, not extracted")
    assert len(out.skipped[0]) < 200
