"""The report's CJK TrueType font: glyph metrics for layout, and subsets of it to embed.

reportlab parses the font file (TTC sub-font, cmap, metrics); the subset font programs are built
here, the way reportlab's own `makeSubset` builds them (simple TrueType fonts of at most 256 glyphs,
a format 6 cmap from one-byte codes), but from per-glyph caches: a subset of 60 glyphs costs ~0.3 ms
instead of ~3 ms. Each subset becomes four PDF objects: the font, its descriptor, the compressed
program and a ToUnicode map (so that text can be searched and copied).
"""

from __future__ import annotations

import hashlib
import mmap
import struct
import threading
import unicodedata
import zlib
from collections.abc import Sequence

from reportlab.pdfbase.ttfonts import TTFontFile, calcChecksum

__all__ = ["CODES_PER_FONT", "FontChain", "FontFace", "SubsetFont"]

CODES_PER_FONT = 255  # one-byte codes 1..255; code 0 is the .notdef glyph
# Composite glyph flags (OpenType glyf table).
_MORE_COMPONENTS = 0x20
_ARGS_ARE_WORDS = 0x01
_HAS_SCALE = 0x08
_HAS_XY_SCALE = 0x40
_HAS_2X2 = 0x80
_COPIED_TABLES = ("name", "OS/2", "cvt ", "fpgm", "prep")
_SUBSET_CACHE_SIZE = 256
_NEVER_DRAWN = frozenset({"Co", "Cs", "Cc"})  # private use, lone surrogates, controls


def _num(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _padded_checksum(data: bytes) -> int:
    return int(calcChecksum(data + b"\0" * (-len(data) % 4)))


class FontFace:
    """One TrueType face (a TTC sub-font), parsed once per process."""

    def __init__(self, path: str) -> None:
        ttf = TTFontFile(path, validate=0, subfontIndex=0)
        self.path = path
        self.ps_name = (ttf.name + ttf.subfontNameX).decode("latin-1")
        self.char_to_glyph: dict[int, int] = ttf.charToGlyph
        self._widths: dict[int, float] = ttf.charWidths  # per 1000 em
        self.default_width = float(ttf.defaultWidth)
        self._em: dict[str, float] = {}
        # reportlab fills the metrics of glyphs past numberOfHMetrics with the last advance
        # already scaled to 1000 units; the font program needs it in font units
        n_metrics = struct.unpack_from(">H", ttf.get_table("hhea"), 34)[0]
        last_advance = ttf.hmetrics[n_metrics - 1][0]
        self._hmetrics: list[tuple[int, int]] = [
            (int(aw) if i < n_metrics else last_advance, lsb)
            for i, (aw, lsb) in enumerate(ttf.hmetrics)
        ]
        self._glyph_pos: list[int] = ttf.glyphPos
        # glyph outlines are read from a memory map of the file, not copied: a fallback font
        # for rare characters holds tens of megabytes of them and a report uses a handful
        glyf = ttf.table["glyf"]
        with open(path, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self._glyf = memoryview(mapped)[glyf["offset"] : glyf["offset"] + glyf["length"]]
        self._tables = {t: ttf.get_table(t) for t in _COPIED_TABLES if t in ttf.table}
        self._post = b"\x00\x03\x00\x00" + ttf.get_table("post")[4:16] + b"\x00" * 16
        self._hhea = ttf.get_table("hhea")
        self._maxp = ttf.get_table("maxp")
        head = ttf.get_table("head")
        self._head = head[:8] + b"\0\0\0\0" + head[12:]  # checksumAdjustment, set per program
        self._sums = {t: _padded_checksum(d) for t, d in self._tables.items()}
        self._sums["post"] = _padded_checksum(self._post)
        self._glyphs: dict[int, tuple[bytes, tuple[int, ...], tuple[int, ...]]] = {}
        flags = (ttf.flags & ~(1 << 5)) | (1 << 2)  # symbolic: the font's own cmap decides
        self.descriptor = (
            f"/Ascent {_num(ttf.ascent)} /CapHeight {_num(ttf.capHeight)} "
            f"/Descent {_num(ttf.descent)} /Flags {flags} "
            f"/FontBBox [{' '.join(_num(v) for v in ttf.bbox)}] /ItalicAngle "
            f"{_num(ttf.italicAngle)} /MissingWidth {_num(self.default_width)} "
            f"/StemV {_num(ttf.stemV)} /Type /FontDescriptor"
        )
        self._subsets: dict[tuple[str, ...], SubsetFont] = {}
        self._lock = threading.Lock()

    # ---- metrics for layout --------------------------------------------------------------
    def em(self, ch: str) -> float:
        w = self._em.get(ch)
        if w is None:
            w = self._em[ch] = self.char_width(ch) / 1000.0
        return w

    def width(self, text: str, size: float) -> float:
        return sum(map(self.em, text)) * size

    def char_width(self, ch: str) -> float:
        return self._widths.get(ord(ch), self.default_width)

    def has(self, ch: str) -> bool:
        return ord(ch) in self.char_to_glyph

    # ---- subsets ---------------------------------------------------------------------------
    def subset(self, chars: Sequence[str], level: int = 6) -> SubsetFont:
        """The font for codes 1..len(chars) = chars (at most 255 of them), cached by chars;
        level is the zlib level of a subset made now (9 for those that are reused)."""
        key = tuple(chars)
        with self._lock:
            found = self._subsets.pop(key, None)
            if found is not None:
                self._subsets[key] = found  # least recently used goes first
                return found
        found = SubsetFont(self, key, level)  # outside the lock: ~1 ms, or more at level 9
        with self._lock:
            if len(self._subsets) >= _SUBSET_CACHE_SIZE:
                self._subsets.pop(next(iter(self._subsets)))
            self._subsets[key] = found
        return found

    def _glyph(self, gid: int) -> tuple[bytes, tuple[int, ...], tuple[int, ...]]:
        """A glyph's bytes, its component glyph ids and where they sit in the bytes."""
        found = self._glyphs.get(gid)
        if found is not None:
            return found
        start, end = self._glyph_pos[gid], self._glyph_pos[gid + 1]
        data = bytes(self._glyf[start:end])
        parts, where = [], []
        if len(data) > 2 and struct.unpack_from(">h", data)[0] < 0:  # a composite glyph
            pos, flags = 10, _MORE_COMPONENTS
            while flags & _MORE_COMPONENTS:
                flags, component = struct.unpack_from(">HH", data, pos)
                parts.append(component)
                where.append(pos + 2)
                pos += 4 + (4 if flags & _ARGS_ARE_WORDS else 2)
                if flags & _HAS_SCALE:
                    pos += 2
                elif flags & _HAS_XY_SCALE:
                    pos += 4
                elif flags & _HAS_2X2:
                    pos += 8
        found = self._glyphs[gid] = (data, tuple(parts), tuple(where))
        return found

    def program(self, chars: Sequence[str]) -> bytes:
        """A TrueType font whose cmap (format 6, Macintosh Roman) maps code i+1 to chars[i]."""
        glyph_map = [0]  # new glyph id -> original glyph id
        new_id = {0: 0}
        codes = [0]
        for ch in chars:
            gid = self.char_to_glyph.get(ord(ch), 0)
            if gid not in new_id:
                new_id[gid] = len(glyph_map)
                glyph_map.append(gid)
            codes.append(new_id[gid])
        n = 0
        while n < len(glyph_map):  # add the parts of composite glyphs
            for part in self._glyph(glyph_map[n])[1]:
                if part not in new_id:
                    new_id[part] = len(glyph_map)
                    glyph_map.append(part)
            n += 1
        num_glyphs = len(glyph_map)

        hmtx = [v for gid in glyph_map for v in self._hmetrics[gid]]
        k = len(hmtx) - 2  # a trailing run of equal advances is stored once
        while k and hmtx[k] == hmtx[k - 2]:
            k -= 2
        k += 2
        hmtx = hmtx[:k] + hmtx[k + 1 :: 2]

        glyf, offsets, pos = [], [], 0
        for gid in glyph_map:
            data, parts, where = self._glyph(gid)
            if parts:
                buf = bytearray(data)
                for part, at in zip(parts, where, strict=True):
                    struct.pack_into(">H", buf, at, new_id[part])
                data = bytes(buf)
            offsets.append(pos)
            glyf.append(data + b"\0" * (-len(data) % 4))
            pos += len(data) + (-len(data) % 4)
        offsets.append(pos)
        if pos >> 1 > 0xFFFF:
            loc_format, loca = 1, struct.pack(f">{len(offsets)}L", *offsets)
        else:
            loc_format, loca = 0, struct.pack(f">{len(offsets)}H", *(o >> 1 for o in offsets))
        cmap = struct.pack(
            f">{11 + len(codes)}H", 0, 1, 1, 0, 0, 12, 6, 10 + 2 * len(codes), 0, 0, len(codes),
            *codes,
        )  # fmt: skip
        tables = dict(self._tables)
        tables["post"] = self._post
        tables["hmtx"] = struct.pack(f">{len(hmtx)}H", *hmtx)
        tables["hhea"] = self._hhea[:34] + struct.pack(">H", k >> 1) + self._hhea[36:]
        tables["maxp"] = self._maxp[:4] + struct.pack(">H", num_glyphs) + self._maxp[6:]
        tables["cmap"] = cmap
        tables["glyf"] = b"".join(glyf)
        tables["loca"] = loca
        tables["head"] = self._head[:50] + struct.pack(">H", loc_format) + self._head[52:]
        return _font_file(tables, self._sums)


def _font_file(tables: dict[str, bytes], known_sums: dict[str, int]) -> bytes:
    """The sfnt container: directory sorted by tag, tables 4-byte aligned, head's adjustment."""
    count = len(tables)
    search = 1 << (count.bit_length() - 1)
    header = struct.pack(">LHHHH", 0x00010000, count, search * 16, search.bit_length() - 1,
                         count * 16 - search * 16)  # fmt: skip
    directory, body, total = [], [], 0
    offset = 12 + 16 * count
    head_at = 0
    for tag in sorted(tables):
        data = tables[tag]
        checksum = known_sums.get(tag)
        if checksum is None:
            checksum = _padded_checksum(data)
        total += checksum
        if tag == "head":
            head_at = offset
        directory.append(struct.pack(">4sLLL", tag.encode("latin-1"), checksum, offset, len(data)))
        pad = -len(data) % 4
        body.append(data + b"\0" * pad)
        offset += len(data) + pad
    prefix = header + b"".join(directory)
    total = (total + int(calcChecksum(prefix))) & 0xFFFFFFFF
    out = bytearray(prefix + b"".join(body))
    struct.pack_into(">L", out, head_at + 8, (0xB1B0AFBA - total) & 0xFFFFFFFF)
    return bytes(out)


def _tounicode(name: str, chars: Sequence[str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        f"/CMapName /{name}-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<00> <FF>",
        "endcodespacerange",
    ]
    pairs = [f"<{i:02X}> <{ch.encode('utf-16-be').hex().upper()}>" for i, ch in enumerate(chars, 1)]
    for start in range(0, len(pairs), 100):  # at most 100 entries per block (PDF spec)
        chunk = pairs[start : start + 100]
        lines += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


class SubsetFont:
    """One embedded subset: its PDF objects, serialised once for given object numbers."""

    def __init__(self, face: FontFace, chars: tuple[str, ...], level: int) -> None:
        if len(chars) > CODES_PER_FONT:
            raise ValueError("a simple font holds at most 255 characters")
        self.chars = chars
        digest = hashlib.sha256((face.ps_name + "".join(chars)).encode()).digest()
        tag = "".join(chr(65 + b % 26) for b in digest[:6])  # the PDF subset tag: six capitals
        self.name = f"{tag}+{face.ps_name}"
        program = face.program(chars)
        self._length1 = len(program)
        self._program = zlib.compress(program, level)
        self._cmap = zlib.compress(_tounicode(self.name, chars), level)
        widths = [face.default_width] + [face.char_width(ch) for ch in chars]
        self._widths = " ".join(_num(w) for w in widths)
        self._descriptor = face.descriptor
        self._objects: dict[int, tuple[bytes, tuple[int, ...]]] = {}

    def objects(self, first: int) -> tuple[bytes, tuple[int, ...]]:
        """Objects first..first+3 (font, descriptor, program, ToUnicode) and their offsets."""
        found = self._objects.get(first)
        if found is None:
            font, desc, prog, cmap = first, first + 1, first + 2, first + 3
            parts = [
                f"{font} 0 obj\n<< /BaseFont /{self.name} /FirstChar 0 /FontDescriptor {desc} 0 R "
                f"/LastChar {len(self.chars)} /Subtype /TrueType /ToUnicode {cmap} 0 R "
                f"/Type /Font /Widths [{self._widths}] >>\nendobj\n".encode("ascii"),
                f"{desc} 0 obj\n<< {self._descriptor} /FontFile2 {prog} 0 R /FontName "
                f"/{self.name} >>\nendobj\n".encode("ascii"),
                f"{prog} 0 obj\n<< /Filter /FlateDecode /Length {len(self._program)} /Length1 "
                f"{self._length1} >>\nstream\n".encode("ascii")
                + self._program
                + b"\nendstream\nendobj\n",
                f"{cmap} 0 obj\n<< /Filter /FlateDecode /Length {len(self._cmap)} >>\nstream\n"
                .encode("ascii")
                + self._cmap
                + b"\nendstream\nendobj\n",
            ]  # fmt: skip
            offsets, pos = [], 0
            for p in parts:
                offsets.append(pos)
                pos += len(p)
            found = self._objects[first] = (b"".join(parts), tuple(offsets))
        return found


class FontChain:
    """The report's faces in order of preference: the first face that has a character draws it.
    The primary face is parsed at once; the fallbacks (large fonts for rare characters) only
    when a character needs them."""

    def __init__(self, paths: Sequence[str], primary: FontFace | None = None) -> None:
        if not paths:
            raise ValueError("a font chain needs at least one font")
        self.paths = tuple(paths)
        self.path = "|".join(self.paths)  # keys the layout caches
        self.primary = primary or FontFace(self.paths[0])
        self._faces: list[FontFace | None] = [self.primary] + [None] * (len(self.paths) - 1)
        self._index: dict[str, int] = {}  # character -> position of its face, -1 for none
        self._lock = threading.Lock()
        self._em: dict[str, float] = {}

    def _face(self, i: int) -> FontFace:
        face = self._faces[i]
        if face is None:
            with self._lock:  # a fallback takes ~0.1-0.5 s to parse: once per process
                face = self._faces[i]
                if face is None:
                    face = self._faces[i] = FontFace(self.paths[i])
        return face

    def index_of(self, ch: str) -> int:
        found = self._index.get(ch)
        if found is None:
            found = next(
                (i for i in range(len(self.paths)) if self._face(i).has(ch)),
                -1,
            )
            self._index[ch] = found
        return found

    def face_for(self, ch: str) -> FontFace | None:
        i = self.index_of(ch)
        return None if i < 0 else self._face(i)

    def has(self, ch: str) -> bool:
        return self.index_of(ch) >= 0

    def missing(self, text: str) -> list[str]:
        """The characters of text that no face of the chain can draw, in order of first use.
        Private-use code points count as missing whatever a font holds there: their meaning is
        a vendor's, and printing some font's glyph would print the wrong character."""
        return [
            ch
            for ch in dict.fromkeys(text)
            if unicodedata.category(ch) in _NEVER_DRAWN or not self.has(ch)
        ]

    def em(self, ch: str) -> float:
        w = self._em.get(ch)
        if w is None:
            w = self._em[ch] = (self.face_for(ch) or self.primary).em(ch)
        return w

    def width(self, text: str, size: float) -> float:
        return sum(map(self.em, text)) * size
