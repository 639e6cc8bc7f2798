"""The models and how they are loaded: one ``load_*`` factory per model, heavy imports inside it.

``load_clap`` and ``load_text_encoder`` (:mod:`.load`) pick the backend (torch, or an export run by ONNX Runtime or
OpenVINO: :mod:`.backends`, :mod:`.exported`); ``load_asr`` (:mod:`.asr`) loads Whisper behind a speech gate.
:mod:`.hub` says where a model comes from and :mod:`.devices` which torch device runs it.
"""
