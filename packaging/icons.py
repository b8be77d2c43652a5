"""Make every app icon from the one source, assets/icon.svg:

    python packaging/icons.py  # writes assets/icon-<N>.png, assets/icon.ico, assets/icon.icns

PNGs at 16-1024 px (Linux, and the pieces of the others), icon.ico (Windows: PNG-compressed
entries 16-256 px, which Windows reads since Vista) and icon.icns (macOS: PNG entries 16-1024 px,
1x and 2x). Rendered with Qt's own SVG renderer (PySide6.QtSvg, in PySide6-Essentials); the two
containers are written here, so nothing beyond the app's dependencies is needed. Commit the
output: the build uses the files, it does not make them.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SOURCE = ASSETS / "icon.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# (type, pixels): Apple's PNG-carrying icon types; the @2x ones share pixel sizes with 1x ones.
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic13", 256),
    (b"ic14", 512),  # 16@2x, 32@2x, 128@2x, 256@2x
)


def png_path(size: int) -> Path:
    return ASSETS / f"icon-{size}.png"


def render(svg: Path, size: int) -> bytes:
    """The SVG drawn into a size x size transparent square, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"icons.py: {svg} is not an SVG Qt can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG", 0)  # 0: smallest file
    buffer.close()
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """An .ico whose entries are PNG images."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, images = b"", b""
    for size, png in sorted(pngs.items()):
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset + len(images))
        images += png
    return header + entries + images


def icns(pngs: dict[int, bytes]) -> bytes:
    """An .icns of PNG entries: 'icns', total length, then (type, length, data) per entry."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs one
    sizes = sorted({*PNG_SIZES, *ICO_SIZES, *(size for _, size in ICNS_TYPES)})
    pngs = {size: render(SOURCE, size) for size in sizes}
    written = []
    for size in PNG_SIZES:
        png_path(size).write_bytes(pngs[size])
        written.append(png_path(size))
    (ASSETS / "icon.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (ASSETS / "icon.icns").write_bytes(icns(pngs))
    written += [ASSETS / "icon.ico", ASSETS / "icon.icns"]
    for path in written:
        print(f"{path.relative_to(ASSETS.parent)}  {path.stat().st_size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
