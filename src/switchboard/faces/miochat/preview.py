"""The share preview: a PNG card of a conversation's title and first lines, drawn with Pillow.

Chinese, Japanese and Korean text needs a CJK font: the first one found among the usual system
fonts (WenQuanYi, Noto CJK, Source Han, Droid Fallback) is used; without one, Pillow's own font
draws what it can. The PNG says which in its text chunks: `font` (the file, or "pillow-default")
and `cjk` ("yes"/"no"). Drawing is CPU work: callers run `render_card` in a thread."""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
CJK_FONT_NAMES = (
    "wqy-microhei.ttc", "wqy-zenhei.ttc", "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf",
    "NotoSerifCJK-Regular.ttc", "SourceHanSansSC-Regular.otf", "DroidSansFallbackFull.ttf", "DroidSansFallback.ttf",
)
WIDTH, PADDING, MAX_LINES = 800, 32, 8
BACKGROUND, CARD, INK, MUTED = (238, 241, 246), (255, 255, 255), (28, 32, 40), (110, 118, 130)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class CardLine:
    who: str  # "user" | "assistant"
    text: str


@functools.cache
def cjk_font_path() -> Path | None:
    for base in FONT_DIRS:
        if not base.is_dir():
            continue
        for name in CJK_FONT_NAMES:
            found = next(iter(sorted(base.rglob(name))), None)
            if found is not None:
                return found
    return None


def _font(size: int) -> tuple[Font, str]:
    path = cjk_font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size), path.name
    return ImageFont.load_default(size), "pillow-default"


def _wrap(text: str, font: Font, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    """Character-wise wrapping: CJK text has no spaces to break at."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for char in paragraph:
            if draw.textlength(current + char, font=font) > width and current:
                lines.append(current)
                current = char.lstrip() if char.isspace() else char
            else:
                current += char
        lines.append(current)
    return lines


def _drawable(text: str, font_name: str) -> str:
    # Pillow's own font may be a bitmap font that cannot encode beyond Latin-1
    return text if font_name != "pillow-default" else "".join(c if ord(c) < 256 else "?" for c in text)


def render_card(title: str, lines: Sequence[CardLine], bot_name: str = "Switchboard") -> bytes:
    body_font, font_name = _font(22)
    title_font, _ = _font(30)
    small_font, _ = _font(18)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_width = WIDTH - 4 * PADDING
    rows: list[tuple[str, Font, tuple[int, int, int]]] = []
    for line in lines:
        label = _drawable("我" if line.who == "user" else bot_name, font_name)
        rows.append((label, small_font, MUTED))
        text = _drawable(" ".join(line.text.split()), font_name)
        rows.extend((chunk, body_font, INK) for chunk in _wrap(text, body_font, text_width, probe)[:3])
        if len(rows) >= MAX_LINES * 2:
            break
    height = 2 * PADDING + 60 + sum(34 if font is body_font else 28 for _, font, _ in rows) + PADDING
    image = Image.new("RGB", (WIDTH, max(height, 200)), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((PADDING, PADDING, WIDTH - PADDING, image.height - PADDING), radius=18, fill=CARD)
    y = PADDING * 2
    heading = _wrap(_drawable(title, font_name), title_font, text_width, probe)[0]
    draw.text((PADDING * 2, y), heading, font=title_font, fill=INK)
    y += 60
    for text, font, color in rows:
        draw.text((PADDING * 2, y), text, font=font, fill=color)
        y += 34 if font is body_font else 28
    info = PngInfo()
    info.add_text("font", font_name)
    info.add_text("cjk", "yes" if font_name != "pillow-default" else "no")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()
