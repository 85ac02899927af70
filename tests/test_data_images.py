"""MNIST and digits: found in every layout, checked byte for byte, downloaded, or stood in for."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from ladder.data import DATASETS, load
from ladder.data import images, mnist_files
from ladder.errors import LadderError

REPO = Path(__file__).resolve().parents[1]
# Read before any test clears the environment; the Makefile exports it, ../shared/data otherwise.
REAL_DATA_DIR = os.environ.get("LADDER_DATA_DIR") or str(REPO.parent / "shared" / "data")
REAL_FILES = dict(mnist_files.FILES)


# -- tiny MNIST: five training images, three test images ----------------------------------------
def idx_bytes(values: np.ndarray) -> bytes:
    """An IDX file holding uint8 `values`: magic number, one uint32 per dimension, then the data."""
    header = bytes([0, 0, 0x08, values.ndim]) + np.array(values.shape, ">u4").tobytes()
    return header + values.astype(np.uint8).tobytes()


def make_tiny():
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.array([0, 1, 2, 3, 4], np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.array([7, 8, 9], np.uint8),
    }
    return arrays, {name: idx_bytes(values) for name, values in arrays.items()}


TINY_ARRAYS, TINY = make_tiny()


def write_mnist(folder: Path, gz: bool = True, contents: dict | None = None) -> Path:
    """Write the four tiny files (or `contents`) into `folder`, gzip-compressed or raw."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in (contents or TINY).items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return folder


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, so connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real data, no real cache, no network: tiny files' hashes, a dead mirror, a temp cache."""
    monkeypatch.delenv("LADDER_DATA_DIR", raising=False)
    monkeypatch.delenv("LADDER_MNIST_MIRRORS", raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(mnist_files, "FILES", {
        name: {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        for name, content in TINY.items()})
    monkeypatch.setattr(mnist_files, "MIRRORS", [f"http://127.0.0.1:{free_port()}/mnist/"])
    cache = tmp_path / "cache"
    monkeypatch.setattr(mnist_files, "cache_dir", lambda: cache)
    return cache


def assert_tiny(arrays):
    X_train, y_train, X_test, y_test = arrays
    np.testing.assert_array_equal(X_train, TINY_ARRAYS["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(X_test, TINY_ARRAYS["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_train, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(y_test, [7, 8, 9])
    assert X_train.dtype == np.uint8 and X_train.shape == (5, 28, 28)
    assert y_train.dtype == np.int64


# -- finding and reading ----------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["mnist", ".", "MNIST/raw"])
@pytest.mark.parametrize("gz", [True, False], ids=["gzip", "raw"])
def test_mnist_is_found_in_every_layout(tmp_path, layout, gz):
    write_mnist(tmp_path / "data" / layout, gz=gz)
    assert_tiny(images.load_mnist(tmp_path / "data", download=False))


def test_ladder_data_dir_is_searched(tmp_path, monkeypatch):
    write_mnist(tmp_path / "shared" / "MNIST" / "raw")
    monkeypatch.setenv("LADDER_DATA_DIR", str(tmp_path / "shared"))
    assert_tiny(images.load_mnist(download=False))


def test_explicit_data_dir_comes_before_the_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path / "mine" / "mnist")
    monkeypatch.setenv("LADDER_DATA_DIR", str(tmp_path / "shared"))
    write_mnist(tmp_path / "shared" / "mnist")
    assert images.find_mnist(tmp_path / "mine") == tmp_path / "mine" / "mnist"


def test_loaded_images_are_writable(tmp_path):
    write_mnist(tmp_path / "mnist")
    X_train, *_ = images.load_mnist(tmp_path, download=False)
    X_train[0, 0, 0] = 1  # would raise if the array were a read-only view of the file's bytes


def test_mnist_dataset_is_the_canonical_split(tmp_path):
    write_mnist(tmp_path / "mnist")
    data = load("mnist", data_dir=str(tmp_path))
    assert data.name == "mnist" and data.task == "classification"
    assert (len(data.X_train), len(data.X_test)) == (5, 3)
    assert data.fallback_for is None and data.note is None
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3, 4])  # file order, not shuffled


# -- damaged files ------------------------------------------------------------------------------
def damaged(name: str, content: bytes, tmp_path: Path) -> Path:
    """Write the tiny MNIST with `name` replaced by `content`; return the damaged file's path."""
    folder = write_mnist(tmp_path / "data" / "mnist", contents={**TINY, name: content})
    return folder / f"{name}.gz"


def test_truncated_file_names_the_file_and_the_fix(tmp_path):
    path = damaged("train-images-idx3-ubyte", TINY["train-images-idx3-ubyte"][:-100], tmp_path)
    with pytest.raises(images.MNISTError) as error:
        images.load_mnist(tmp_path / "data", download=False)
    message = str(error.value)
    assert str(path) in message and "truncated" in message
    assert "ladder data fetch mnist" in message and "LADDER_DATA_DIR" in message
    assert "\n" not in message
    assert path.exists()  # a user's own file is never deleted


def test_truncated_gzip_stream_is_reported(tmp_path):
    path = write_mnist(tmp_path / "mnist") / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(LadderError, match="could not be read"):
        images.load_mnist(tmp_path, download=False)


def test_wrong_magic_number_is_reported(tmp_path):
    labels_as_images = b"\x00\x00\x08\x01" + TINY["train-images-idx3-ubyte"][4:]
    path = damaged("train-images-idx3-ubyte", labels_as_images, tmp_path)
    with pytest.raises(images.MNISTError, match="magic number 2049, expected 2051") as error:
        images.load_mnist(tmp_path / "data", download=False)
    assert str(path) in str(error.value)


def test_extra_bytes_after_the_payload_are_reported(tmp_path):
    damaged("t10k-labels-idx1-ubyte", TINY["t10k-labels-idx1-ubyte"] + b"\x00", tmp_path)
    with pytest.raises(images.MNISTError, match="has bytes after"):
        images.load_mnist(tmp_path / "data", download=False)


def altered(content: bytes) -> bytes:
    """The same length and header, one pixel changed: only the hash can tell."""
    return content[:-1] + bytes([(content[-1] + 1) % 256])


def test_hash_mismatch_names_the_file(tmp_path):
    path = damaged("t10k-images-idx3-ubyte", altered(TINY["t10k-images-idx3-ubyte"]), tmp_path)
    with pytest.raises(images.MNISTError, match="SHA-256") as error:
        images.load_mnist(tmp_path / "data", download=False)
    assert str(path) in str(error.value)
    assert path.exists()


def test_damaged_file_in_the_cache_is_deleted(isolated):
    bad = {**TINY, "train-labels-idx1-ubyte": altered(TINY["train-labels-idx1-ubyte"])}
    folder = write_mnist(isolated / "mnist", contents=bad)
    with pytest.raises(images.MNISTError, match="has been deleted") as error:
        images.load_mnist(download=False)
    path = folder / "train-labels-idx1-ubyte.gz"
    assert str(path) in str(error.value)
    assert not path.exists()


# -- nothing to be had: the digits stand in -----------------------------------------------------
def test_missing_mnist_offline_falls_back_to_digits():
    data = images.mnist()  # the only mirror refuses the connection
    assert data.name == "digits" and data.fallback_for == "mnist"
    assert "ladder data fetch mnist" in data.note and "LADDER_DATA_DIR" in data.note
    assert "\n" not in data.note
    assert data.describe()["fallback_for"] == "mnist"
    assert data.X_train.dtype == np.uint8 and data.X_train.shape[1:] == (8, 8)


def test_missing_mnist_without_fallback_raises():
    with pytest.raises(LadderError, match="could not be downloaded .*ladder data fetch mnist"):
        images.mnist(fallback=False)


def test_download_false_does_not_touch_the_network(isolated):
    with pytest.raises(images.MNISTUnavailable, match="download=False"):
        images.load_mnist(download=False)
    assert not isolated.exists()


# -- downloads from a local server -----------------------------------------------------------------
class Server:
    """An HTTP server on 127.0.0.1 serving `files` ({url path: bytes}) and counting requests."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.requests = files, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(contents: dict[str, bytes]) -> Server:
        servers.append(Server({f"/mnist/{n}.gz": gzip.compress(c) for n, c in contents.items()}))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_download_tries_the_next_mirror_and_is_reused(isolated, serve, monkeypatch):
    server = serve(TINY)
    dead = mnist_files.MIRRORS[0]
    monkeypatch.setattr(mnist_files, "MIRRORS", [dead, server.url])
    bars = []

    class Bar:  # the caller's progress hook: what the CLI draws with rich
        total, done = None, 0
        def update(self, n): self.done += n
        def reset(self): self.done = 0
        def close(self): bars.append(self)

    folder = images.fetch_mnist(progress=lambda name: Bar())
    assert [bar.done for bar in bars if bar.total] == [bar.total for bar in bars if bar.total]
    assert folder == isolated / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in TINY)
    assert len(server.requests) == 4
    server.close()  # from here on, only the cache can answer
    assert_tiny(images.load_mnist())
    data = images.mnist()
    assert data.name == "mnist" and data.fallback_for is None


def test_load_downloads_when_nothing_is_found(isolated, serve, monkeypatch):
    server = serve(TINY)
    monkeypatch.setenv("LADDER_MNIST_MIRRORS", server.url)  # the environment replaces MIRRORS
    assert_tiny(images.load_mnist())
    assert_tiny(images.load_mnist())
    assert len(server.requests) == 4


def test_corrupt_download_is_deleted_and_reported(isolated, serve, monkeypatch):
    server = serve({**TINY, "train-labels-idx1-ubyte": altered(TINY["train-labels-idx1-ubyte"])})
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.url])
    with pytest.raises(images.MNISTUnavailable, match="train-labels-idx1-ubyte.gz: .*SHA-256"):
        images.fetch_mnist()
    # Only the file that passed its check is kept: no bad file, no partial download.
    assert [p.name for p in (isolated / "mnist").iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_fetch_into_a_data_dir_replaces_a_damaged_file(tmp_path, serve, monkeypatch):
    bad = {**TINY, "t10k-labels-idx1-ubyte": altered(TINY["t10k-labels-idx1-ubyte"])}
    folder = write_mnist(tmp_path / "data" / "mnist", contents=bad)
    server = serve(TINY)
    monkeypatch.setattr(mnist_files, "MIRRORS", [server.url])
    assert images.fetch_mnist(tmp_path / "data") == folder
    assert server.requests == ["/mnist/t10k-labels-idx1-ubyte.gz"]
    assert_tiny(images.load_mnist(tmp_path / "data", download=False))


# -- digits and the registry --------------------------------------------------------------------
def test_digits_are_8x8_uint8_images_split_by_class():
    data = images.digits(seed=1)
    assert data.name == "digits" and data.task == "classification"
    assert data.X_train.shape[1:] == (8, 8) and data.X_train.dtype == np.uint8
    assert data.X_train.max() == 255
    assert len(data.X_train) + len(data.X_test) == 1797
    assert set(np.unique(data.y_test)) == set(range(10))


def test_image_datasets_are_registered_with_their_task():
    for name in ("mnist", "digits"):
        assert DATASETS[name].task == "classification"
        assert DATASETS[name].__doc__.splitlines()[0].endswith(".")


# -- the real thing -------------------------------------------------------------------------------
def test_real_mnist_loads_from_ladder_data_dir(monkeypatch):
    """Fails (never skips) when the course copy is missing: CI must have it."""
    monkeypatch.setattr(mnist_files, "FILES", REAL_FILES)
    X_train, y_train, X_test, y_test = images.load_mnist(REAL_DATA_DIR, download=False)
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert X_train.dtype == X_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842,
                                             5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
