"""Reading and writing images: the only module that touches image files.

A `Picture` holds colour as float32 (H,W,C) in [0,1] with C = 1 (gray) or 3 (RGB), alpha as
float32 (H,W) or None, and the bit depth (8 or 16) to write back. PNG, JPEG, WebP, TIFF, BMP;
grayscale, palette, RGBA/LA, 16-bit; EXIF orientation applied on reading.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 64_000_000
# What a folder of inputs is searched for.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
            ".bmp": "BMP"}


class ImageError(ValueError):
    """A file that cannot be read or written as an image; the message is one line naming the file."""


@dataclass(frozen=True)
class Picture:
    pixels: np.ndarray  # (H,W,C) float32 in [0,1], C in {1, 3}
    alpha: np.ndarray | None = None  # (H,W) float32 in [0,1]
    bit_depth: int = 8
    icc_profile: bytes | None = None
    jpeg_quality: int | None = None  # JPEG files: the quality their quantisation table matches

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[0], self.pixels.shape[1]

    def with_pixels(self, pixels: np.ndarray, alpha: np.ndarray | None) -> "Picture":
        return replace(self, pixels=pixels, alpha=alpha)


def _over_limit(w: int, h: int, max_pixels: int) -> str:
    return f"{w}x{h} pixels is over the limit of {max_pixels} (raise it with --max-pixels)"


def _png_bit_depth(head: bytes) -> int | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 26:
        return head[24]
    return None


def _png_size(head: bytes) -> tuple[int, int]:
    w, h = struct.unpack(">II", head[16:24])
    return h, w


def _from_integer(arr: np.ndarray, bit_depth: int) -> np.ndarray:
    return arr.astype(np.float32) / float(2**bit_depth - 1)


def _split(arr: np.ndarray, bit_depth: int, has_alpha: bool, icc=None) -> Picture:
    a = _from_integer(arr, bit_depth) if arr.dtype.kind in "ui" else np.clip(arr.astype(np.float32), 0, 1)
    if a.ndim == 2:
        a = a[..., None]
    alpha = None
    if has_alpha:
        alpha, a = a[..., -1], a[..., :-1]
    if a.shape[-1] not in (1, 3):
        raise ValueError(f"unsupported channel count {a.shape[-1]}")
    return Picture(np.ascontiguousarray(a), None if alpha is None else np.ascontiguousarray(alpha), bit_depth, icc)


def _read_png16(path: Path) -> Picture:
    import png  # pypng: Pillow reads 16-bit colour PNGs as 8-bit

    with open(path, "rb") as f:  # pypng's Reader(filename=...) leaves its file open
        w, h, rows, info = png.Reader(file=f).asDirect()
        planes = info["planes"]
        arr = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(h, w, planes)
    return _split(arr, 16, info["alpha"])


def _read_tiff(path: Path) -> Picture | None:
    import tifffile

    try:
        arr = tifffile.imread(str(path))
    except Exception:  # noqa: BLE001 - compressed TIFFs tifffile can't decode go to Pillow
        return None
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim not in (2, 3):
        raise ValueError(f"unsupported TIFF layout {arr.shape}")
    channels = 1 if arr.ndim == 2 else arr.shape[-1]
    if arr.dtype == np.uint8:
        depth = 8
    elif arr.dtype == np.uint16:
        depth = 16
    elif arr.dtype.kind == "f":
        depth = 16
    else:
        raise ValueError(f"unsupported TIFF sample type {arr.dtype}")
    return _split(arr, depth, channels in (2, 4))


# The JPEG standard's example luminance quantisation table (ITU-T T.81 Annex K), natural order, which
# the IJG encoder (and so most software) scales by quality.
_JPEG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.float64)


def jpeg_quality_from_table(table) -> int:
    """The IJG quality (1-100) whose scaled standard table is nearest a file's luminance table."""
    t = np.asarray(list(table), dtype=np.float64)
    best, err = 75, np.inf
    for q in range(1, 101):
        scale = 5000 / q if q < 50 else 200 - 2 * q
        cand = np.clip(np.floor((_JPEG_LUMA * scale + 50) / 100), 1, 255)
        e = float(np.abs(cand - t).mean())
        if e < err:
            best, err = q, e
    return best


def _read_pillow(path: Path, max_pixels: int) -> Picture:
    with Image.open(path) as opened:
        im: Image.Image = opened
        if im.width * im.height > max_pixels:
            raise ValueError(_over_limit(im.width, im.height, max_pixels))
        icc = im.info.get("icc_profile")
        frames = getattr(im, "n_frames", 1)
        if frames > 1:
            warnings.warn(f"an animated or multi-frame image: only the first of its {frames} frames is used",
                          stacklevel=3)
        quality = None
        tables = getattr(im, "quantization", None)
        if im.format == "JPEG" and tables:
            quality = jpeg_quality_from_table(tables[min(tables)])
        im.load()
        im = ImageOps.exif_transpose(im)
        mode = im.mode
        if mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif mode == "PA":
            im = im.convert("RGBA")
        elif mode == "1":
            im = im.convert("L")
        elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            im = im.convert("RGB")
        mode = im.mode
        if mode in ("L", "RGB", "LA", "RGBA"):
            return replace(_split(np.asarray(im), 8, mode.endswith("A"), icc), jpeg_quality=quality)
        if mode.startswith("I;16") or mode == "I":
            arr = np.asarray(im).astype(np.int64)
            if arr.min() < 0 or arr.max() > 65535:
                raise ValueError(f"unsupported 32-bit integer image (values {arr.min()}..{arr.max()})")
            return _split(arr.astype(np.uint16), 16, False, icc)
        if mode == "F":
            return _split(np.asarray(im, dtype=np.float32), 16, False, icc)
        raise ValueError(f"unsupported image mode {mode}")


def read_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Picture:
    """Read an image file. Raises ImageError (one line, naming the file) for anything unreadable.

    The pixel count is checked from the header before decoding (`max_pixels`).
    """
    path = Path(path)
    # solosr checks the pixel count itself (`max_pixels`); Pillow's own bomb limit, which a larger
    # --max-pixels could not lift, is set to the same number while this file is read.
    pillow_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        return _read_checked(path, max_pixels)
    finally:
        Image.MAX_IMAGE_PIXELS = pillow_limit


def _read_checked(path: Path, max_pixels: int) -> Picture:
    try:
        if not path.exists():
            raise ValueError("no such file")
        if path.is_dir():
            raise ValueError("is a directory")
        if path.stat().st_size == 0:
            raise ValueError("empty file")
        with open(path, "rb") as f:
            head = f.read(32)
        pic = None
        if _png_bit_depth(head) == 16:
            h, w = _png_size(head)
            if h * w > max_pixels:
                raise ValueError(_over_limit(w, h, max_pixels))
            pic = _read_png16(path)
        elif head[:4] in (b"II*\x00", b"MM\x00*"):
            with Image.open(path) as im:  # header only, to refuse bombs before decoding
                if im.width * im.height > max_pixels:
                    raise ValueError(_over_limit(im.width, im.height, max_pixels))
            pic = _read_tiff(path)
        if pic is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # over max_pixels: refused below
                pic = _read_pillow(path, max_pixels)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image file (or a format solosr cannot read)") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{path}: over the limit of {max_pixels} pixels (raise it with --max-pixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as e:
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        if "truncated" in msg.lower() or isinstance(e, (EOFError, struct.error)):
            msg = f"truncated or corrupt image ({msg})"
        raise ImageError(f"{path}: {msg}") from None
    except Exception as e:  # noqa: BLE001 - decoders raise anything on corrupt data; keep it one line
        raise ImageError(f"{path}: corrupt image ({e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    h, w = pic.size
    if h < 1 or w < 1:
        raise ImageError(f"{path}: image has zero size")
    return pic


def _to_integer(a: np.ndarray, bit_depth: int) -> np.ndarray:
    top = 2**bit_depth - 1
    return np.round(np.clip(a, 0, 1) * top).astype(np.uint16 if bit_depth == 16 else np.uint8)


def _merge(pic: Picture, bit_depth: int, keep_alpha: bool) -> np.ndarray:
    a = pic.pixels
    if keep_alpha and pic.alpha is not None:
        a = np.concatenate([a, pic.alpha[..., None]], axis=-1)
    a = _to_integer(a, bit_depth)
    return a[..., 0] if a.shape[-1] == 1 else a


def _write_any(tmp: str, fmt: str, pic: Picture, quality: int) -> None:
    if fmt in ("JPEG", "BMP") and pic.alpha is not None:
        warnings.warn(f"{fmt} cannot store alpha; it is dropped (write PNG, WebP or TIFF to keep it)", stacklevel=3)
    if fmt == "PNG" and pic.bit_depth == 16:
        import png

        arr = _merge(pic, 16, True)
        planes = 1 if arr.ndim == 2 else arr.shape[-1]
        writer = png.Writer(width=arr.shape[1], height=arr.shape[0], bitdepth=16,
                            greyscale=planes in (1, 2), alpha=planes in (2, 4), compression=6)
        with open(tmp, "wb") as f:
            writer.write(f, arr.reshape(arr.shape[0], -1))
        return
    if fmt == "TIFF":
        import tifffile

        arr = _merge(pic, pic.bit_depth, True)
        extra = "unassalpha" if pic.alpha is not None else None
        tifffile.imwrite(tmp, arr, photometric="minisblack" if arr.ndim == 2 or arr.shape[-1] == 2 else "rgb",
                         extrasamples=[extra] if extra else None, compression="zlib")
        return
    if pic.bit_depth == 16:
        warnings.warn(f"{fmt} stores 8 bits per channel; the 16-bit image is written as 8-bit", stacklevel=3)
    keep_alpha = fmt not in ("JPEG", "BMP")
    arr = _merge(pic, 8, keep_alpha)
    im = Image.fromarray(arr)
    kwargs: dict[str, object] = {}
    if pic.icc_profile and fmt in ("PNG", "JPEG", "WEBP"):
        kwargs["icc_profile"] = pic.icc_profile
    if fmt in ("JPEG", "WEBP"):
        kwargs["quality"] = quality
    im.save(tmp, format=fmt, **kwargs)


def write_image(path: str | os.PathLike, pic: Picture, *, quality: int = 95) -> None:
    """Write atomically (a temporary file in the same folder, then rename). Format from the suffix.

    16-bit is kept for PNG and TIFF; alpha for PNG, WebP and TIFF. Raises ImageError.
    """
    path = Path(path)
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: unknown output format {path.suffix!r} (use {', '.join(sorted(SUFFIXES))})")
    _write_atomically(path, lambda tmp: _write_any(tmp, fmt, pic, quality))


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write a file that was encoded elsewhere (a Ray worker's output), atomically. Raises ImageError."""
    _write_atomically(Path(path), lambda tmp: Path(tmp).write_bytes(data))


def _write_atomically(path: Path, fill) -> None:
    """fill(tmp) writes a temporary file in the same folder, which then replaces `path` in one step."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise ImageError(f"{path}: cannot write here ({e.strerror or e})") from None
    os.close(fd)
    try:
        fill(tmp)
        # mkstemp makes the file private (0600); an output gets what a plain open() would give it.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise ImageError(f"{path}: cannot write ({e.strerror or e})") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def picture_from_array(image) -> tuple[Picture, str]:
    """Wrap a numpy array (H,W), (H,W,C) or a PIL image as a Picture; also returns the input's kind.

    uint8 -> 8-bit, uint16 -> 16-bit, float -> values taken as [0,1]. C in {1,2,3,4}
    (2 and 4 carry alpha last).
    """
    if isinstance(image, Image.Image):
        im = ImageOps.exif_transpose(image)
        if im.mode in ("P", "PA", "1", "CMYK", "YCbCr"):
            im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
        arr = np.asarray(im)
        if im.mode.startswith("I;16") or im.mode == "I":
            arr = arr.astype(np.uint16)
        kind = "pil"
    else:
        arr = np.asarray(image)
        kind = "numpy"
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"expected an image array (H,W) or (H,W,C) with C in 1..4, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        depth = 8
    elif arr.dtype == np.uint16:
        depth = 16
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError("image array has NaN or infinite values")
        depth = 16
        kind += "-float"
    else:
        raise ValueError(f"unsupported image dtype {arr.dtype}")
    return _split(arr, depth, arr.shape[-1] in (2, 4)), kind


def picture_to_array(pic: Picture, kind: str):
    """Inverse of `picture_from_array` for the given kind: same dtype convention, alpha last."""
    if kind.endswith("-float"):
        a = pic.pixels if pic.alpha is None else np.concatenate([pic.pixels, pic.alpha[..., None]], -1)
        a = np.clip(a, 0, 1).astype(np.float32)
        out = a[..., 0] if a.shape[-1] == 1 else a
    else:
        out = _merge(pic, pic.bit_depth, True)
    if kind == "pil":
        return Image.fromarray(out)
    return out
