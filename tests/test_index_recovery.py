"""The index survives damage, killed builds and builds racing each other.

- Corruptions of a built index (truncated, emptied or altered files, a manifest from a newer
  version, a dangling `current` link…) are refused on load with a clear message, then rebuilt,
  or refused with --no-rebuild, through the API and the CLI.
- `cqvet-qa build --force` processes are SIGKILLed at several points of a build; the index
  left behind must load and answer (the old one, or the new one once swapped in), and the
  next build must run (the dead process's lock is gone) and tidy up after it.
- Two builds of one index at once: readers polling meanwhile never see half an index, the
  builds take turns (the FileLock in build_index), and the index ends loadable and current;
  and a load that a build's swap (and clean-up) overtakes still returns one whole build.

Everything works on a tiny report (a few hundred characters), so a build takes a second or
two. The build processes are forked from one launcher that has imported torch and loaded the
model (see LAUNCHER), and they start when the module does, overlapping the in-process tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import cqvet_qa.assistant as assistant_module
from mini_report import NAME, SIZE_AND_CAPACITY
import cqvet_qa.embedding.model as model_module
from cqvet_qa.assistant import Assistant
from cqvet_qa.cli import main
from cqvet_qa import index_store
from cqvet_qa.index_store import CURRENT, FORMAT_VERSION, IndexUnusable, Manifest, build_index, load_index
from cqvet_qa.passages import SplitSettings

V1 = SIZE_AND_CAPACITY
V2 = V1 + [
    " 2人才培养",
    "2.1 就业质量",
    "2024 年，重庆市高等职业学校毕业生毕业去向落实率为 90.76%，中等职业学校毕业",
    "生毕业去向落实率为 98.65%。",
]
OLD_FACT = ("重庆市建成了多少个市级公共实训基地？", "57个")
NEW_FACT = ("2024年高等职业学校毕业生毕业去向落实率是多少？", "90.76%")

# Where a build is held and killed, in the order a build reaches them.
KILL_POINTS = {
    "encode": "embedding the passages: nothing written yet, the lock held",
    "write": "writing the new build: passages and BM25 in the temp folder, no FAISS yet",
    "swap": "the new build complete and its link made, `current` not yet swapped",
    "cleanup": "`current` swapped to the new build, the old one not yet removed",
}
SWAPPED = {"cleanup"}  # kill points after which the new index is live

# The launcher: one Python process imports cqvet-qa, torch and the model once, then forks one
# process per job, each running `cqvet_qa.cli.main(["build", "--force", …])` exactly as the
# `cqvet-qa` script does, with stdout/stderr to files. A child is a real process: SIGKILL ends
# it with no cleanup of any kind. Forking spares each build the ~15 s of importing torch and
# sentence-transformers, so six builds cost seconds instead of minutes on two cores.
# In a child, CQVET_TEST_PAUSE_AT holds the build at a point (after writing a marker file) until
# it is killed, and CQVET_TEST_TRACE logs when each step starts and ends.
LAUNCHER = r"""
import json, os, select, sys, time
from pathlib import Path

import jieba
import cqvet_qa.assistant as assistant_module
import cqvet_qa.cli as cli
from cqvet_qa import index_store
from cqvet_qa.embedding import model

embedder = model.Embedder()
jieba.initialize()
assistant_module.Embedder = lambda setting=None: embedder
print("ready", flush=True)


def install_hooks(point, trace, marker):
    def event(name):
        if trace:
            with open(trace, "a") as f:
                f.write(f"{os.getpid()} {name} {time.time()}\n")
        if name == point:
            Path(marker).write_text(str(os.getpid()))
            time.sleep(600)

    def wrap(owner, attr, name, when=lambda args: True):
        original = getattr(owner, attr, None)
        if original is None:
            return

        def wrapper(*args, **kwargs):
            if not when(args):
                return original(*args, **kwargs)
            event(name)
            try:
                return original(*args, **kwargs)
            finally:
                event(name + "-done")

        setattr(owner, attr, wrapper)

    wrap(model.Embedder, "encode_passages", "encode")
    wrap(index_store.DenseIndex, "save", "write")
    wrap(index_store.os, "replace", "swap", when=lambda args: len(args) > 1 and Path(args[1]).name == index_store.CURRENT)
    wrap(index_store, "_remove_old_builds", "cleanup")


def launch(job):
    pid = os.fork()
    if pid == 0:
        for fd, name in ((1, job["out"]), (2, job["err"])):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        install_hooks(job.get("pause"), job.get("trace"), job["marker"])
        sys.argv = ["cqvet-qa", *job["argv"]]
        try:
            code = cli.main(job["argv"])
        except BaseException as exc:  # the CLI's own behaviour is under test: report, do not hide
            print(f"launcher: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 99
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    children[pid] = job["name"]
    print(f"started {job['name']} {pid}", flush=True)


children, buffer, open_input = {}, b"", True
while open_input or children:  # one thread only: fork() and threads do not mix
    if open_input and select.select([0], [], [], 0.05)[0]:
        chunk = os.read(0, 65536)
        open_input = bool(chunk)
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.strip():
                launch(json.loads(line))
    elif not open_input:
        time.sleep(0.05)
    while children:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            break
        print(f"ended {children.pop(pid)} {os.waitstatus_to_exitcode(status)}", flush=True)
"""


def extract(lines: list[str]) -> str:
    return "\n\n".join(lines) + "\n"


def write_corpus(folder: Path, lines: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / NAME).write_text(extract(lines), encoding="utf-8")
    return folder


def live_build(index: Path) -> Path:
    return index / os.readlink(index / CURRENT)


def leftovers(index: Path) -> list[str]:
    """What a finished build should have tidied away: anything but the lock, `current` and its build."""
    live = os.readlink(index / CURRENT)
    return sorted(p.name for p in index.iterdir() if p.name not in {".lock", CURRENT, live})


def answer_of(assistant: Assistant, fact: tuple[str, str]) -> str:
    return assistant.search(fact[0], k=1)[0].text


@pytest.fixture(scope="module")
def embedder(assistant):
    return assistant.embedder


@pytest.fixture
def shared_model(monkeypatch, embedder):
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: embedder)
    monkeypatch.setattr(model_module, "Embedder", lambda model=None: embedder)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, embedder) -> Path:
    """One in-process build of the V1 corpus; tests copy it (the manifest holds no paths)."""
    root = tmp_path_factory.mktemp("pristine")
    corpus = write_corpus(root / "corpus", V1)
    build_index(corpus, root / "index", embedder, SplitSettings(max_tokens=embedder.info.max_seq_length))
    return root / "index"


def copy_index(pristine: Path, target: Path) -> Path:
    shutil.copytree(pristine, target, symlinks=True)
    return target


# ------------------------------------------------------------------ the build processes


@dataclass
class Run:
    """One forked `cqvet-qa build --force` process."""

    name: str
    corpus: Path  # the V2 corpus it builds
    old_corpus: Path  # the V1 corpus its starting index was built from
    index: Path
    marker: Path
    err: Path
    launcher: "Launcher"

    @property
    def pid(self) -> int:
        return self.launcher.wait_until(lambda: self.launcher.pids.get(self.name), f"{self.name} to start")

    def exit_code(self, timeout: float = 240) -> int:
        return self.launcher.wait_until(lambda: self.launcher.codes.get(self.name), f"{self.name} to end", timeout)

    def wait_for_pause(self, timeout: float = 240) -> None:
        def paused():
            if self.name in self.launcher.codes:
                raise AssertionError(f"{self.name} ended ({self.launcher.codes[self.name]}) before its pause: {self.stderr()}")
            return self.marker.exists() or None

        self.launcher.wait_until(paused, f"{self.name} to reach its pause", timeout)

    def stderr(self) -> str:
        return self.err.read_text(errors="replace")[-2000:] if self.err.exists() else ""


class Launcher:
    """The forking launcher process and what it reports: each job's pid, then its exit code."""

    def __init__(self, env: dict, log: Path) -> None:
        self.log = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=err, env=env, text=True,
            )
        self.pids: dict[str, int] = {}
        self.codes: dict[str, int] = {}
        self.ready = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            word, *rest = line.split()
            if word == "ready":
                self.ready = True
            elif word == "started":
                self.pids[rest[0]] = int(rest[1])
            elif word == "ended":
                self.codes[rest[0]] = int(rest[1])

    def start(self, jobs: list[dict]) -> None:
        self.proc.stdin.write("".join(json.dumps(job) + "\n" for job in jobs))
        self.proc.stdin.flush()

    def wait_until(self, check, what: str, timeout: float = 240):
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            if self.proc.poll() is not None and not self.reader.is_alive() and check() is None:
                tail = self.log.read_text(errors="replace")[-1500:]
                raise AssertionError(f"the launcher ended ({self.proc.returncode}) while waiting for {what}: {tail}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.stdin.close()
        for name, pid in self.pids.items():
            if name not in self.codes:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _job(root: Path, name: str, pristine: Path, index: Path | None = None, **extra) -> tuple[dict, dict]:
    work = root / name
    work.mkdir()
    old_corpus = write_corpus(work / "corpus-v1", V1)
    corpus = write_corpus(work / "corpus-v2", V2)
    index = index or copy_index(pristine, work / "index")
    job = {
        "name": name, "argv": ["build", "--force", "--json", "--corpus", str(corpus), "--index", str(index)],
        "out": str(work / "out"), "err": str(work / "err"), "marker": str(work / "paused"), **extra,
    }
    run = {"name": name, "corpus": corpus, "old_corpus": old_corpus, "index": index, "marker": work / "paused", "err": work / "err"}
    return job, run


@pytest.fixture(scope="module", autouse=True)
def builds(request, tmp_path_factory, pristine):
    """Start every build at once (when a selected test needs them); kill what is left at the end."""
    wanted = any("builds" in item.fixturenames and item.module is request.module for item in request.session.items)
    if not wanted:
        yield {}
        return
    root = tmp_path_factory.mktemp("builds")
    launcher = Launcher(dict(os.environ, HF_HUB_OFFLINE="1"), root / "launcher.err")
    jobs, runs = [], {}
    for point in KILL_POINTS:
        job, run = _job(root, point, pristine, pause=point)
        jobs.append(job)
        runs[point] = Run(**run, launcher=launcher)
    launcher.start(jobs)
    shared = copy_index(pristine, root / "shared-index")
    race = []
    for name in ("race-a", "race-b"):
        job, run = _job(root, name, pristine, index=shared, trace=str(root / "race.trace"))
        race.append(job)
        runs[name] = Run(**run, launcher=launcher)
    runs["race"] = race  # started by the race test itself, so that it can read while they run
    try:
        yield runs
    finally:
        launcher.stop()


# ------------------------------------------------------------------ corruptions


def truncate_faiss(build: Path) -> None:
    data = (build / "dense.faiss").read_bytes()
    (build / "dense.faiss").write_bytes(data[: len(data) // 2])


def empty_faiss(build: Path) -> None:
    (build / "dense.faiss").write_bytes(b"")


def flip_faiss_vectors(build: Path) -> None:
    """Same size, valid header, different vectors: what a bad disk block or a stray write leaves."""
    data = bytearray((build / "dense.faiss").read_bytes())
    for i in range(len(data) - 1024, len(data) - 24):
        data[i] ^= 0x5A
    (build / "dense.faiss").write_bytes(bytes(data))


def break_passages(build: Path) -> None:
    (build / "passages.jsonl").write_text("this is not an index\n{{{\n", encoding="utf-8")


def alter_a_figure(build: Path) -> None:
    """Valid JSON, same length, a different figure: the index would answer 75个 instead of 57个."""
    text = (build / "passages.jsonl").read_text(encoding="utf-8")
    assert "57个" in text
    (build / "passages.jsonl").write_text(text.replace("57个", "75个"), encoding="utf-8")


def truncate_bm25(build: Path) -> None:
    target = sorted((build / "bm25").glob("*.npy"))[0]
    target.write_bytes(target.read_bytes()[:40])


def lose_terms(build: Path) -> None:
    (build / "terms.txt").unlink()


def newer_manifest(build: Path) -> None:
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(format_version=FORMAT_VERSION + 1, package_version="99.0.0", shards=["a", "b"])
    (build / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def garbage_manifest(build: Path) -> None:
    (build / "manifest.json").write_bytes(b"\x00\x00\x00")


def dangling_current(build: Path) -> None:
    shutil.rmtree(build)


CORRUPTIONS = {
    "truncated-faiss": (truncate_faiss, r"damaged"),
    "empty-faiss": (empty_faiss, r"damaged"),
    "faiss-bytes-flipped": (flip_faiss_vectors, r"damaged|checksum|does not match"),
    "broken-passages": (break_passages, r"passages in .* are unreadable"),
    "altered-passage": (alter_a_figure, r"damaged|checksum|does not match"),
    "truncated-bm25": (truncate_bm25, r"damaged"),
    "missing-terms": (lose_terms, r"unreadable|damaged"),
    "newer-manifest": (newer_manifest, rf"index format {FORMAT_VERSION + 1} is not {FORMAT_VERSION} \(built by cqvet-qa 99\.0\.0\)"),
    "garbage-manifest": (garbage_manifest, r"manifest .* is unreadable"),
    "dangling-current": (dangling_current, r"unreadable|no index|not found"),
}


REBUILT = {"faiss-bytes-flipped", "newer-manifest", "dangling-current"}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupt_index_is_refused_then_rebuilt(name, pristine, tmp_path, shared_model):
    damage, message = CORRUPTIONS[name]
    corpus = write_corpus(tmp_path / "corpus", V1)
    index = copy_index(pristine, tmp_path / "index")
    damage(live_build(index))

    with pytest.raises(IndexUnusable, match=message):
        load_index(index)
    with pytest.raises(IndexUnusable, match=message) as refused:
        Assistant.load(corpus=corpus, index=index, rebuild=False)
    assert str(index) in str(refused.value) and "--no-rebuild" in str(refused.value)

    if name in REBUILT:  # the rebuild path is one for every damage: a few of them walk it
        assistant = Assistant.load(corpus=corpus, index=index)
        assert OLD_FACT[1] in answer_of(assistant, OLD_FACT)
        assert Manifest.read(live_build(index) / "manifest.json").format_version == FORMAT_VERSION
        assert leftovers(index) == []


@pytest.mark.parametrize("name", ["truncated-faiss", "broken-passages", "newer-manifest"])
def test_cli_refuses_a_corrupt_index_with_no_rebuild_and_rebuilds_without(name, pristine, tmp_path, shared_model, capsys):
    damage, message = CORRUPTIONS[name]
    corpus = write_corpus(tmp_path / "corpus", V1)
    index = copy_index(pristine, tmp_path / "index")
    damage(live_build(index))
    common = ["--corpus", str(corpus), "--index", str(index)]

    assert main(["search", OLD_FACT[0], "--json", "--no-rebuild", *common]) == 2
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert out == "" and len(lines) == 1, err
    assert lines[0].startswith("cqvet-qa: error: the index at") and "--no-rebuild" in lines[0]

    if name == "truncated-faiss":
        assert main(["ask", OLD_FACT[0], "--json", *common]) == 0  # rebuilds, then answers
        out, err = capsys.readouterr()
        assert OLD_FACT[1] in json.loads(out)["text"] and "Traceback" not in err


def test_changed_corpus_or_model_is_rebuilt_before_answering(pristine, tmp_path, embedder, monkeypatch):
    corpus = write_corpus(tmp_path / "corpus", V1)
    index = copy_index(pristine, tmp_path / "index")
    first = os.readlink(index / CURRENT)
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: embedder)

    (corpus / NAME).write_text(extract(V2), encoding="utf-8")
    assert NEW_FACT[1] in answer_of(Assistant.load(corpus=corpus, index=index), NEW_FACT)
    second = os.readlink(index / CURRENT)
    assert second != first

    class OtherModel:
        """The same weights under another fingerprint: as if the model setting changed."""

        def __init__(self, inner):
            self._inner = inner
            self.info = type(inner.info)(**{**inner.info.to_dict(), "name": "other-model", "fingerprint": "f" * 64})

        def __getattr__(self, name):
            return getattr(self._inner, name)

    other = OtherModel(embedder)
    monkeypatch.setattr(assistant_module, "Embedder", lambda model=None: other)
    with pytest.raises(IndexUnusable, match="embedding model changed"):
        Assistant.load(corpus=corpus, index=index, rebuild=False)
    assert NEW_FACT[1] in answer_of(Assistant.load(corpus=corpus, index=index), NEW_FACT)
    assert os.readlink(index / CURRENT) != second
    assert load_index(index).manifest.model["fingerprint"] == "f" * 64


def test_a_load_racing_a_swap_reads_one_whole_build(pristine, tmp_path, embedder, monkeypatch):
    """A server starting while `cqvet-qa build` finishes: the build swaps `current` and removes the
    old build half-way through the load. The load must return one whole build (here the new
    one), not refuse the index or mix the old passages with the new vectors."""
    corpus = write_corpus(tmp_path / "corpus", V2)
    index = copy_index(pristine, tmp_path / "index")
    real_load = index_store.DenseIndex.load

    def build_meanwhile(path):
        monkeypatch.setattr(index_store.DenseIndex, "load", real_load)  # once
        build_index(corpus, index, embedder, SplitSettings(max_tokens=embedder.info.max_seq_length))
        return real_load(path)

    monkeypatch.setattr(index_store.DenseIndex, "load", build_meanwhile)
    loaded = load_index(index)
    assert loaded.dense.size == len(loaded.passages) == loaded.manifest.passages
    assert any(NEW_FACT[1] in p.text for p in loaded.passages)


# ------------------------------------------------------------------ SIGKILL during a real build


@pytest.mark.timeout(420)
@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_build_killed_at_any_point_leaves_a_working_index(point, builds, shared_model):
    run = builds[point]
    run.wait_for_pause()
    os.kill(run.pid, signal.SIGKILL)
    assert run.exit_code() == -signal.SIGKILL

    # The index left behind loads (every check of load_index) and answers: the old one, or the
    # new one once it was swapped in.
    swapped = point in SWAPPED
    assistant = Assistant.load(corpus=run.corpus if swapped else run.old_corpus, index=run.index, rebuild=False)
    assert any(NEW_FACT[1] in p.text for p in assistant.searcher.passages) == swapped
    assert OLD_FACT[1] in answer_of(assistant, OLD_FACT)
    if swapped:
        assert NEW_FACT[1] in answer_of(assistant, NEW_FACT)

    # The dead process's lock is gone: the next build runs, and tidies up after it.
    assert main(["build", "--force", "--json", "--corpus", str(run.corpus), "--index", str(run.index)]) == 0
    assert NEW_FACT[1] in answer_of(Assistant.load(corpus=run.corpus, index=run.index, rebuild=False), NEW_FACT)
    assert leftovers(run.index) == [], f"killed at {point}: {KILL_POINTS[point]}"


@pytest.mark.timeout(420)
def test_two_builds_at_once_take_turns_and_leave_one_good_index(builds, shared_model):
    a, b = builds["race-a"], builds["race-b"]
    index = a.index
    reads = 0
    launcher = a.launcher
    launcher.start(builds["race"])
    launcher.wait_until(lambda: (a.name in launcher.pids and b.name in launcher.pids) or None, "the builds to start")
    deadline = time.monotonic() + 240
    while a.name not in launcher.codes or b.name not in launcher.codes:  # readers never see half an index
        passages = load_index(index, tokenizer=False).passages  # raises if they could
        assert any(OLD_FACT[1] in p.text for p in passages)
        reads += 1
        assert time.monotonic() < deadline, "the builds did not finish"
        time.sleep(0.1)
    assert a.exit_code() == 0, a.stderr()
    assert b.exit_code() == 0, b.stderr()
    assert reads > 0

    events: dict[int, dict[str, float]] = {}
    for line in (index.parent / "race.trace").read_text().splitlines():
        pid, name, at = line.split()
        events.setdefault(int(pid), {}).setdefault(name, float(at))
    assert len(events) == 2, events
    spans = sorted((e["encode"], e["cleanup-done"]) for e in events.values())
    assert spans[0][1] <= spans[1][0], f"the two builds overlapped inside the lock: {spans}"

    assistant = Assistant.load(corpus=a.corpus, index=index, rebuild=False)
    assert NEW_FACT[1] in answer_of(assistant, NEW_FACT)
    assert leftovers(index) == []


HOLD_LOCK = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_build_waits_for_a_hung_one_then_gives_up_with_a_clear_line(pristine, tmp_path, shared_model, monkeypatch, capsys, caplog):
    corpus = write_corpus(tmp_path / "corpus", V2)
    index = copy_index(pristine, tmp_path / "index")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(index / ".lock")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"  # another process is "building" and hangs
        monkeypatch.setattr(index_store, "BUILD_LOCK_WAIT", 1)
        started = time.monotonic()
        code = main(["build", "--corpus", str(corpus), "--index", str(index)])
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and 1 <= waited < 30
    assert err.count("\n") == 1 and err.startswith("cqvet-qa: error: another build of ") and "try again" in err
    assert any("waiting for it to finish" in r.getMessage() for r in caplog.records)
    old = Assistant.load(corpus=write_corpus(tmp_path / "v1", V1), index=index, rebuild=False)
    assert OLD_FACT[1] in answer_of(old, OLD_FACT)  # the index it found is untouched
    # The hung build is gone (its lock died with it): the next build runs.
    assert main(["build", "--corpus", str(corpus), "--index", str(index)]) == 0
