"""Reading and writing images: the only module that touches image files.

A `Picture` holds colour as float32 (H,W,C) in [0,1] with C = 1 (gray) or 3 (RGB), alpha as
float32 (H,W) or None, and the bit depth (8 or 16) to write back. PNG, JPEG, WebP, TIFF, BMP;
grayscale, palette, RGBA/LA, 16-bit; EXIF orientation applied on reading.

What photographers and archives keep beside the pixels travels with the picture (`Metadata`): the ICC
profile, EXIF (orientation applied once, pixel dimensions updated on writing), the resolution (dpi,
scaled with the image) and a GeoTIFF's georeferencing (the pixel size divided by the scale), so an
upscaled output lands where its input did.
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


# GeoTIFF's tags (OGC GeoTIFF 1.1): pixel scale, tie points, transformation matrix, the key directory
# and its double and text parameters.
GEO_PIXEL_SCALE, GEO_TIEPOINT, GEO_TRANSFORM = 33550, 33922, 34264
GEO_KEYS, GEO_DOUBLES, GEO_ASCII = 34735, 34736, 34737
_GEO_TAGS = (GEO_PIXEL_SCALE, GEO_TIEPOINT, GEO_TRANSFORM, GEO_KEYS, GEO_DOUBLES, GEO_ASCII)
_RASTER_TYPE_KEY, _PIXEL_IS_POINT = 1025, 2
_EXIF_IFD, _ORIENTATION, _X_RES, _Y_RES = 0x8769, 0x0112, 0x011A, 0x011B
_EXIF_WIDTH, _EXIF_HEIGHT = 0xA002, 0xA003


@dataclass(frozen=True)
class Metadata:
    """What an image file carries beside its pixels that solosr keeps (besides the ICC profile)."""

    exif: bytes | None = None  # "Exif\0\0" + TIFF-structured EXIF, orientation already applied (set to 1)
    dpi: tuple[float, float] | None = None  # (x, y) pixels per inch
    geo: tuple[tuple[int, tuple], ...] = ()  # GeoTIFF tags (code, values), in the input's pixel grid
    geo_point: bool = False  # the georeferencing names pixel centres (RasterPixelIsPoint), not corners

    def scaled(self, fx: float, fy: float) -> "Metadata":
        """The metadata of the same scene with fx times the columns and fy times the rows."""
        if (fx, fy) == (1, 1):
            return self
        dpi = None if self.dpi is None else (self.dpi[0] * fx, self.dpi[1] * fy)
        return replace(self, dpi=dpi, exif=_scale_exif_resolution(self.exif, fx, fy),
                       geo=tuple((code, _scale_geo(code, values, fx, fy, self.geo_point)) for code, values in self.geo))


def _scale_geo(code: int, values: tuple, fx: float, fy: float, point: bool) -> tuple:
    """A GeoTIFF tag for the raster upscaled (fx, fy) over the same extent. Pixel corners stay put
    (PixelIsArea), or pixel centres sit where the resampling put them (PixelIsPoint)."""
    # Old raster coordinate = a * new + b, per axis.
    ax, ay = 1 / fx, 1 / fy
    bx, by = ((0.5 / fx - 0.5), (0.5 / fy - 0.5)) if point else (0.0, 0.0)
    v = list(values)
    if code == GEO_PIXEL_SCALE:
        v[0], v[1] = v[0] / fx, v[1] / fy
    elif code == GEO_TIEPOINT:  # (i, j, k, x, y, z) per point: raster positions move, model ones do not
        for t in range(0, len(v) - 5, 6):
            v[t], v[t + 1] = (v[t] - bx) / ax, (v[t + 1] - by) / ay
    elif code == GEO_TRANSFORM:  # 4x4 row-major: model = M @ (i, j, k, 1); i_old = a i_new + b
        m = np.array(v, dtype=np.float64).reshape(4, 4)
        raster = np.array([[ax, 0, 0, bx], [0, ay, 0, by], [0, 0, 1, 0], [0, 0, 0, 1]])
        v = list((m @ raster).reshape(-1))
    return tuple(v)


def _load_exif(data: bytes):
    exif = Image.Exif()
    exif.load(data[6:] if data.startswith(b"Exif\x00\x00") else data)
    return exif


def _scale_exif_resolution(data: bytes | None, fx: float, fy: float) -> bytes | None:
    if not data:
        return data
    try:
        exif = _load_exif(data)
        for tag, f in ((_X_RES, fx), (_Y_RES, fy)):
            if tag in exif:
                exif[tag] = float(exif[tag]) * f
        return exif.tobytes()
    except Exception:  # noqa: BLE001 - an EXIF block Pillow cannot rewrite is kept as it was
        return data


def _exif_for(meta: Metadata, width: int, height: int) -> bytes | None:
    """The EXIF to write: orientation 1 (the pixels are upright) and the image's own dimensions."""
    if not meta.exif:
        return None
    try:
        exif = _load_exif(meta.exif)
        if _ORIENTATION in exif:
            exif[_ORIENTATION] = 1
        sub = exif.get_ifd(_EXIF_IFD)
        if sub:
            for tag, value in ((_EXIF_WIDTH, width), (_EXIF_HEIGHT, height)):
                if tag in sub:
                    sub[tag] = value
        return exif.tobytes()
    except Exception:  # noqa: BLE001
        warnings.warn("the input's EXIF could not be rewritten for the output and is left out", stacklevel=4)
        return None


def _orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8) a viewer would apply; 1 where there is none or it cannot be read."""
    try:
        value = int(im.getexif().get(_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block: the pixels as stored
        return 1
    return value if 1 <= value <= 8 else 1


# Pillow's exif_transpose for (H,W[,C]) arrays, by EXIF orientation: what the readers that are not
# Pillow's (pypng, tifffile) need so every format comes out upright.
_ORIENT = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.swapaxes(0, 1), 6: lambda a: np.rot90(a, -1), 7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
           8: lambda a: np.rot90(a, 1)}


def _upright(pic: "Picture", orientation: int) -> "Picture":
    turn = _ORIENT.get(orientation)
    if turn is None:
        return pic
    alpha = None if pic.alpha is None else np.ascontiguousarray(turn(pic.alpha))
    return replace(pic, pixels=np.ascontiguousarray(turn(pic.pixels)), alpha=alpha)


def _read_metadata(im: Image.Image) -> Metadata:
    """EXIF, dpi and GeoTIFF tags from an opened (not necessarily decoded) Pillow image."""
    exif_bytes = None
    try:  # a TIFF's "EXIF" in Pillow is its own first directory (structure, not camera data): not kept
        found = im.getexif() if im.format != "TIFF" else Image.Exif()  # the image's own: exif_transpose still reads its orientation
        if len(found) or found.get_ifd(_EXIF_IFD):
            exif = _load_exif(found.tobytes())
            if _ORIENTATION in exif:
                exif[_ORIENTATION] = 1
            exif_bytes = exif.tobytes()
    except Exception:  # noqa: BLE001 - a broken EXIF block costs the EXIF, not the image
        exif_bytes = None
    dpi = im.info.get("dpi")
    if dpi is not None:
        try:
            dpi = (float(dpi[0]), float(dpi[1]))
            dpi = None if min(dpi) <= 0 else (dpi[::-1] if _orientation(im) in (5, 6, 7, 8) else dpi)
        except (TypeError, ValueError, IndexError):
            dpi = None
    geo: list[tuple[int, tuple]] = []
    point = False
    tags = getattr(im, "tag_v2", None)
    if tags is not None:
        for code in _GEO_TAGS:
            if code in tags:
                value = tags[code]
                geo.append((code, tuple(value) if isinstance(value, tuple) else (value,)))
        keys = dict(geo).get(GEO_KEYS, ())
        for i in range(4, len(keys) - 3, 4):  # header of 4, then (key, location, count, value)
            if keys[i] == _RASTER_TYPE_KEY and keys[i + 1] == 0:
                point = keys[i + 3] == _PIXEL_IS_POINT
    return Metadata(exif_bytes, dpi, tuple(geo), point)


def _open_header(path: Path, max_pixels: int) -> tuple[Metadata, bytes | None, int]:
    """For a file whose pixels another reader decodes (16-bit PNG, TIFF): refuse it over `max_pixels` from
    its header, before decoding; its metadata, ICC profile and EXIF orientation."""
    with Image.open(path) as im:
        if im.width * im.height > max_pixels:
            raise ValueError(_over_limit(im.width, im.height, max_pixels))
        try:
            return _read_metadata(im), im.info.get("icc_profile"), _orientation(im)
        except Exception:  # noqa: BLE001 - metadata is kept where Pillow can read it; pixels never depend on it
            return Metadata(), None, _orientation(im)


class ImageError(ValueError):
    """A file that cannot be read or written as an image; the message is one line naming the file."""


@dataclass(frozen=True)
class Picture:
    pixels: np.ndarray  # (H,W,C) float32 in [0,1], C in {1, 3}
    alpha: np.ndarray | None = None  # (H,W) float32 in [0,1]
    bit_depth: int = 8
    icc_profile: bytes | None = None
    jpeg_quality: int | None = None  # JPEG files: the quality their quantisation table matches
    meta: Metadata = Metadata()

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[0], self.pixels.shape[1]

    def with_pixels(self, pixels: np.ndarray, alpha: np.ndarray | None) -> "Picture":
        """The same picture with new pixels; a new size scales its resolution and georeferencing."""
        (h0, w0), (h1, w1) = self.size, pixels.shape[:2]
        return replace(self, pixels=pixels, alpha=alpha, meta=self.meta.scaled(w1 / w0, h1 / h0))


def _over_limit(w: int, h: int, max_pixels: int) -> str:
    return f"{w}x{h} pixels is over the limit of {max_pixels} (raise it with --max-pixels)"


def _png_bit_depth(head: bytes) -> int | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 26:
        return head[24]
    return None


def _from_integer(arr: np.ndarray, bit_depth: int) -> np.ndarray:
    a = arr.astype(np.float32)
    a /= 2**bit_depth - 1  # in place: one float copy of a large photo, not two
    return a


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
        meta = _read_metadata(im)
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
            return replace(_split(np.asarray(im), 8, mode.endswith("A"), icc), jpeg_quality=quality, meta=meta)
        if mode.startswith("I;16") or mode == "I":
            arr = np.asarray(im).astype(np.int64)
            if arr.min() < 0 or arr.max() > 65535:
                raise ValueError(f"unsupported 32-bit integer image (values {arr.min()}..{arr.max()})")
            return replace(_split(arr.astype(np.uint16), 16, False, icc), meta=meta)
        if mode == "F":
            return replace(_split(np.asarray(im, dtype=np.float32), 16, False, icc), meta=meta)
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


def _decode(path: Path, max_pixels: int) -> Picture:
    """The file's pixels and metadata, by format; raises whatever its reader raises."""
    if not path.exists():
        raise ValueError("no such file")
    if path.is_dir():
        raise ValueError("is a directory")
    if path.stat().st_size == 0:
        raise ValueError("empty file")
    with open(path, "rb") as f:
        head = f.read(32)
    pic = None
    png16, tiff = _png_bit_depth(head) == 16, head[:4] in (b"II*\x00", b"MM\x00*")
    if png16 or tiff:
        meta, icc, orientation = _open_header(path, max_pixels)
        pic = _read_png16(path) if png16 else _read_tiff(path)
        if pic is not None:
            pic = replace(_upright(pic, orientation), meta=meta, icc_profile=icc)
    if pic is None:  # and TIFFs tifffile cannot decode
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # over max_pixels: refused below
            pic = _read_pillow(path, max_pixels)
    return pic


def _read_checked(path: Path, max_pixels: int) -> Picture:
    try:
        pic = _decode(path, max_pixels)
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
    """[0,1] floats to 8 or 16 bits, in blocks of rows: a float copy of a block, not of a large output."""
    out = np.empty(a.shape, np.uint16 if bit_depth == 16 else np.uint8)
    rows = max(1, (1 << 22) // max(1, a[0].size))
    for r in range(0, a.shape[0], rows):
        t = np.clip(a[r:r + rows], 0, 1)
        t *= 2**bit_depth - 1
        out[r:r + rows] = np.round(t, out=t)
    return out


def _merge(pic: Picture, bit_depth: int, keep_alpha: bool) -> np.ndarray:
    a = _to_integer(pic.pixels, bit_depth)
    if keep_alpha and pic.alpha is not None:  # joined as integers: no float copy of the whole output
        a = np.concatenate([a, _to_integer(pic.alpha[..., None], bit_depth)], axis=-1)
    return a[..., 0] if a.shape[-1] == 1 else a


def _write_any(tmp: str, fmt: str, pic: Picture, quality: int) -> None:
    if fmt in ("JPEG", "BMP") and pic.alpha is not None:
        warnings.warn(f"{fmt} cannot store alpha; it is dropped (write PNG, WebP or TIFF to keep it)", stacklevel=3)
    h, w = pic.size
    meta, exif = pic.meta, _exif_for(pic.meta, w, h)
    if fmt == "PNG" and pic.bit_depth == 16:
        _write_png16(tmp, pic, exif)
        return
    if fmt == "TIFF":
        import tifffile

        arr = _merge(pic, pic.bit_depth, True)
        extra = "unassalpha" if pic.alpha is not None else None
        geo = [(code, *_tiff_tag(code, values)) for code, values in meta.geo]
        tifffile.imwrite(tmp, arr, photometric="minisblack" if arr.ndim == 2 or arr.shape[-1] == 2 else "rgb",
                         extrasamples=[extra] if extra else None, compression="zlib",
                         resolution=meta.dpi, resolutionunit="INCH" if meta.dpi else None,
                         iccprofile=pic.icc_profile, extratags=[(c, t, n, v, True) for c, t, n, v in geo])
        return
    if pic.bit_depth == 16:
        warnings.warn(f"{fmt} stores 8 bits per channel; the 16-bit image is written as 8-bit", stacklevel=3)
    keep_alpha = fmt not in ("JPEG", "BMP")
    arr = _merge(pic, 8, keep_alpha)
    im = Image.fromarray(arr)
    kwargs: dict[str, object] = {}
    if pic.icc_profile and fmt in ("PNG", "JPEG", "WEBP"):
        kwargs["icc_profile"] = pic.icc_profile
    if exif and fmt in ("PNG", "JPEG", "WEBP"):
        kwargs["exif"] = exif
    if meta.dpi and fmt in ("PNG", "JPEG", "BMP"):
        kwargs["dpi"] = tuple(round(d) if fmt == "JPEG" else d for d in meta.dpi)
    if fmt in ("JPEG", "WEBP"):
        kwargs["quality"] = quality
    im.save(tmp, format=fmt, **kwargs)


def _tiff_tag(code: int, values: tuple) -> tuple[int, int, object]:
    """(TIFF type, count, value) for a GeoTIFF tag: keys are SHORTs, text ASCII, the rest DOUBLEs."""
    if code == GEO_KEYS:
        return 3, len(values), tuple(int(v) for v in values)
    if code == GEO_ASCII:
        text = values[0] if len(values) == 1 else "".join(map(str, values))
        return 2, 0, str(text)
    return 12, len(values), tuple(float(v) for v in values)


def _write_png16(tmp: str, pic: Picture, exif: bytes | None) -> None:
    """16-bit PNG with pypng (Pillow writes 16-bit colour as 8-bit), then its ICC, EXIF and dpi chunks."""
    import io
    import zlib

    import png

    arr = _merge(pic, 16, True)
    planes = 1 if arr.ndim == 2 else arr.shape[-1]
    dpi = pic.meta.dpi
    ppm = {} if dpi is None else {"x_pixels_per_unit": round(dpi[0] / 0.0254),  # pHYs counts per metre
                                  "y_pixels_per_unit": round(dpi[1] / 0.0254), "unit_is_meter": True}
    writer = png.Writer(width=arr.shape[1], height=arr.shape[0], bitdepth=16, greyscale=planes in (1, 2),
                        alpha=planes in (2, 4), compression=6, **ppm)
    buf = io.BytesIO()
    writer.write(buf, arr.reshape(arr.shape[0], -1))
    chunks = list(png.Reader(bytes=buf.getvalue()).chunks())
    extra = []
    if pic.icc_profile:
        extra.append((b"iCCP", b"ICC profile\x00\x00" + zlib.compress(pic.icc_profile)))
    if exif:
        extra.append((b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif))
    with open(tmp, "wb") as f:  # iCCP must come before the image data; eXIf may
        png.write_chunks(f, chunks[:1] + extra + chunks[1:])


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
